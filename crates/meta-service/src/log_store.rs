//! The durable Raft log, vote and committed marker in redb (`raft.db`, the
//! role BoltDB plays in the original). Entries are JSON, keyed by index.
//!
//! Implements openraft's `RaftLogStorage`; knows nothing of the state
//! machine or of HTTP. Every write is one redb transaction, durable on
//! return (redb's default fsync durability), run on tokio's blocking pool
//! so that an fsync never holds an async worker (M8).

// openraft's storage traits return its (large) StorageError.
#![allow(clippy::result_large_err)]

use crate::types::{Entry, LogId, StorageError, TypeConfig, Vote};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{RaftLogReader, StorageIOError};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

pub(crate) const LOGS: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_logs");
pub(crate) const STORE: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_store");

const KEY_VOTE: &str = "vote";
const KEY_COMMITTED: &str = "committed";
const KEY_PURGED: &str = "last_purged";

/// Runs redb work that commits (and so fsyncs) on tokio's blocking pool:
/// the meta node's few async workers also carry Raft heartbeats and the
/// HTTP API, and a slow disk must not delay them into an election (M8).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(write_err(std::io::Error::other(format!(
            "storage task failed: {e}"
        )))),
    }
}

/// The log store; clones share the same database.
#[derive(Clone)]
pub struct LogStore {
    db: Arc<Database>,
}

fn read_err(e: impl std::error::Error + Send + Sync + 'static) -> StorageError {
    StorageIOError::read_logs(&e).into()
}

fn write_err(e: impl std::error::Error + Send + Sync + 'static) -> StorageError {
    StorageIOError::write_logs(&e).into()
}

impl LogStore {
    /// Wraps an open database, creating the tables when missing.
    pub fn new(db: Arc<Database>) -> Result<LogStore, StorageError> {
        let tx = db.begin_write().map_err(write_err)?;
        tx.open_table(LOGS).map_err(write_err)?;
        tx.open_table(STORE).map_err(write_err)?;
        tx.commit().map_err(write_err)?;
        Ok(LogStore { db })
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StorageError> {
        let tx = self.db.begin_read().map_err(read_err)?;
        let table = tx.open_table(STORE).map_err(read_err)?;
        match table.get(key).map_err(read_err)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value()).map_err(read_err)?)),
            None => Ok(None),
        }
    }

    /// Stores `value` under `key` in one durable transaction, on the
    /// blocking pool.
    async fn put_json<T: serde::Serialize>(
        &self,
        key: &'static str,
        value: &T,
    ) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(value).map_err(write_err)?;
        let db = self.db.clone();
        blocking(move || {
            let tx = db.begin_write().map_err(write_err)?;
            {
                let mut table = tx.open_table(STORE).map_err(write_err)?;
                table.insert(key, bytes.as_slice()).map_err(write_err)?;
            }
            tx.commit().map_err(write_err)
        })
        .await
    }

    /// Forgets the whole log, vote and committed marker (a node reset after
    /// it left the cluster).
    pub fn clear(&self) -> Result<(), StorageError> {
        let tx = self.db.begin_write().map_err(write_err)?;
        {
            let mut logs = tx.open_table(LOGS).map_err(write_err)?;
            logs.retain(|_, _| false).map_err(write_err)?;
            let mut store = tx.open_table(STORE).map_err(write_err)?;
            for k in [KEY_VOTE, KEY_COMMITTED, KEY_PURGED] {
                store.remove(k).map_err(write_err)?;
            }
        }
        tx.commit().map_err(write_err)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => Bound::Included(e),
            Bound::Excluded(&e) => Bound::Excluded(e),
            Bound::Unbounded => Bound::Unbounded,
        };
        let tx = self.db.begin_read().map_err(read_err)?;
        let table = tx.open_table(LOGS).map_err(read_err)?;
        let mut out = Vec::new();
        for item in table
            .range((Bound::Included(start), end))
            .map_err(read_err)?
        {
            let (_, v) = item.map_err(read_err)?;
            out.push(serde_json::from_slice(v.value()).map_err(read_err)?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged: Option<LogId> = self.get_json(KEY_PURGED)?;
        let last = {
            let tx = self.db.begin_read().map_err(read_err)?;
            let table = tx.open_table(LOGS).map_err(read_err)?;
            let last = table.last().map_err(read_err)?;
            match last {
                Some((_, v)) => {
                    let e: Entry = serde_json::from_slice(v.value()).map_err(read_err)?;
                    Some(e.log_id)
                }
                None => None,
            }
        };
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last.or(last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        self.put_json(KEY_VOTE, vote)
            .await
            .map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        self.get_json(KEY_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        self.put_json(KEY_COMMITTED, &committed).await
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.get_json::<Option<LogId>>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let db = self.db.clone();
        let res = blocking(move || {
            let tx = db.begin_write().map_err(write_err)?;
            {
                let mut table = tx.open_table(LOGS).map_err(write_err)?;
                for e in &entries {
                    let bytes = serde_json::to_vec(e).map_err(write_err)?;
                    table
                        .insert(e.log_id.index, bytes.as_slice())
                        .map_err(write_err)?;
                }
            }
            tx.commit().map_err(write_err)
        })
        .await;
        match res {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                Err(e)
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let db = self.db.clone();
        blocking(move || {
            let tx = db.begin_write().map_err(write_err)?;
            {
                let mut table = tx.open_table(LOGS).map_err(write_err)?;
                table
                    .retain_in(log_id.index.., |_, _| false)
                    .map_err(write_err)?;
            }
            tx.commit().map_err(write_err)
        })
        .await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(&log_id).map_err(write_err)?;
        let db = self.db.clone();
        blocking(move || {
            let tx = db.begin_write().map_err(write_err)?;
            {
                let mut store = tx.open_table(STORE).map_err(write_err)?;
                store
                    .insert(KEY_PURGED, bytes.as_slice())
                    .map_err(write_err)?;
                let mut table = tx.open_table(LOGS).map_err(write_err)?;
                table
                    .retain_in(..=log_id.index, |_, _| false)
                    .map_err(write_err)?;
            }
            tx.commit().map_err(write_err)
        })
        .await
    }
}
