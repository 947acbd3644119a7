//! The embedded, single-node metadata store of the standalone `influxd`:
//! the state machine plus durability in redb. Every command is applied to a
//! copy of the state, persisted in one redb transaction, then published; a
//! crash leaves either the old or the new state, never a mix.
//!
//! It must not know about HTTP or Raft; the clustered meta service replicates
//! the same [`Command`]s through openraft instead.

use crate::command::{Command, Response};
use crate::data::Data;
use crate::error::{Error, Result};
use crate::state_machine;
use crate::MetaStore;
use parking_lot::{Mutex, RwLock};
use redb::{Database, ReadableDatabase, TableDefinition};
use std::path::Path;
use std::sync::Arc;

const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
const STATE_KEY: &str = "data";

pub struct LocalMetaStore {
    db: Database,
    data: RwLock<Arc<Data>>,
    /// Serialises writers so that apply + persist + publish is atomic.
    write_lock: Mutex<()>,
}

fn storage(e: impl std::fmt::Display) -> Error {
    Error::Storage(e.to_string())
}

impl LocalMetaStore {
    /// Opens (or creates) the store in `dir/meta.db`.
    pub fn open(dir: &Path) -> Result<LocalMetaStore> {
        std::fs::create_dir_all(dir).map_err(storage)?;
        let db = Database::create(dir.join("meta.db")).map_err(storage)?;
        let data = {
            let tx = db.begin_read().map_err(storage)?;
            match tx.open_table(STATE) {
                Ok(table) => match table.get(STATE_KEY).map_err(storage)? {
                    Some(v) => serde_json::from_slice(v.value()).map_err(storage)?,
                    None => Data::default(),
                },
                Err(redb::TableError::TableDoesNotExist(_)) => Data::default(),
                Err(e) => return Err(storage(e)),
            }
        };
        Ok(LocalMetaStore {
            db,
            data: RwLock::new(Arc::new(data)),
            write_lock: Mutex::new(()),
        })
    }

    fn persist(&self, data: &Data) -> Result<()> {
        let bytes = serde_json::to_vec(data).map_err(storage)?;
        let tx = self.db.begin_write().map_err(storage)?;
        {
            let mut table = tx.open_table(STATE).map_err(storage)?;
            table.insert(STATE_KEY, bytes.as_slice()).map_err(storage)?;
        }
        tx.commit().map_err(storage)
    }
}

impl MetaStore for LocalMetaStore {
    fn data(&self) -> Arc<Data> {
        self.data.read().clone()
    }

    fn execute(&self, cmd: Command) -> Result<Response> {
        let _guard = self.write_lock.lock();
        let mut next = (**self.data.read()).clone();
        let resp = state_machine::apply(&mut next, cmd)?;
        self.persist(&next)?;
        *self.data.write() = Arc::new(next);
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = LocalMetaStore::open(dir.path()).unwrap();
            s.execute(Command::CreateDatabase {
                name: "db0".into(),
                rp: None,
                retention_autocreate: true,
            })
            .unwrap();
            assert!(s.data().database("db0").is_some());
        }
        let s = LocalMetaStore::open(dir.path()).unwrap();
        assert!(s.data().database("db0").is_some());
        assert_eq!(s.data().index, 1);
    }

    #[test]
    fn failed_command_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalMetaStore::open(dir.path()).unwrap();
        let before = s.data();
        assert!(s.execute(Command::DropUser { name: "x".into() }).is_err());
        assert_eq!(*before, *s.data());
    }
}
