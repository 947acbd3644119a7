//! The Raft state machine: [`meta::Data`] advanced by
//! [`meta::state_machine::apply`], plus the last applied log id and
//! membership. Snapshots are the serde_json of `Data` (with their openraft
//! metadata beside it) kept in the same redb database as the log.
//!
//! The state itself is in memory: on restart the latest snapshot is loaded
//! and openraft re-applies the committed log after it. Every change is
//! published on a `watch` channel, which the HTTP API's long-poll waits on.
//! No HTTP, no networking here.

// openraft's storage traits return its (large) StorageError.
#![allow(clippy::result_large_err)]

use crate::types::{
    Entry, ExecOutcome, LogId, Snapshot, SnapshotMeta, StorageError, StoredMembership, TypeConfig,
};
use meta::Data;
use openraft::storage::RaftStateMachine;
use openraft::{EntryPayload, RaftSnapshotBuilder, StorageIOError};
use parking_lot::Mutex;
use redb::{Database, ReadableDatabase, TableDefinition};
use std::io::Cursor;
use std::sync::Arc;
use tokio::sync::watch;

const SNAPSHOT: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_snapshot");
const KEY_META: &str = "meta";
const KEY_DATA: &str = "data";

struct Inner {
    last_applied: Option<LogId>,
    membership: StoredMembership,
    data: Data,
    snapshot_seq: u64,
}

/// The state machine; clones share state (the snapshot builder is a clone).
#[derive(Clone)]
pub struct StateMachine {
    db: Arc<Database>,
    inner: Arc<Mutex<Inner>>,
    data_tx: Arc<watch::Sender<Arc<Data>>>,
}

fn sm_read(e: impl std::error::Error + Send + Sync + 'static) -> StorageError {
    StorageIOError::read_state_machine(&e).into()
}

fn snap_write(e: impl std::error::Error + Send + Sync + 'static) -> StorageError {
    StorageIOError::write_snapshot(None, &e).into()
}

impl StateMachine {
    /// Opens the state machine from the latest stored snapshot (or empty).
    pub fn open(db: Arc<Database>) -> Result<StateMachine, StorageError> {
        {
            let tx = db.begin_write().map_err(snap_write)?;
            tx.open_table(SNAPSHOT).map_err(snap_write)?;
            tx.commit().map_err(snap_write)?;
        }
        let mut inner = Inner {
            last_applied: None,
            membership: StoredMembership::default(),
            data: Data::default(),
            snapshot_seq: 0,
        };
        if let Some((meta, bytes)) = read_snapshot(&db)? {
            inner.data = serde_json::from_slice(&bytes).map_err(sm_read)?;
            inner.last_applied = meta.last_log_id;
            inner.membership = meta.last_membership;
        }
        let (tx, _) = watch::channel(Arc::new(inner.data.clone()));
        Ok(StateMachine {
            db,
            inner: Arc::new(Mutex::new(inner)),
            data_tx: Arc::new(tx),
        })
    }

    /// The current state, as of the last applied entry.
    pub fn data(&self) -> Arc<Data> {
        self.data_tx.borrow().clone()
    }

    /// A receiver that sees every newly applied state.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Data>> {
        self.data_tx.subscribe()
    }

    fn publish(&self, data: Data) {
        self.data_tx.send_replace(Arc::new(data));
    }

    /// Forgets everything (a node reset after it left the cluster).
    pub fn clear(&self) -> Result<(), StorageError> {
        let tx = self.db.begin_write().map_err(snap_write)?;
        {
            let mut t = tx.open_table(SNAPSHOT).map_err(snap_write)?;
            t.remove(KEY_META).map_err(snap_write)?;
            t.remove(KEY_DATA).map_err(snap_write)?;
        }
        tx.commit().map_err(snap_write)?;
        let mut inner = self.inner.lock();
        inner.last_applied = None;
        inner.membership = StoredMembership::default();
        inner.data = Data::default();
        self.publish(Data::default());
        Ok(())
    }
}

fn store_snapshot(db: &Database, meta: &SnapshotMeta, bytes: &[u8]) -> Result<(), StorageError> {
    let meta_bytes = serde_json::to_vec(meta).map_err(snap_write)?;
    let tx = db.begin_write().map_err(snap_write)?;
    {
        let mut t = tx.open_table(SNAPSHOT).map_err(snap_write)?;
        t.insert(KEY_META, meta_bytes.as_slice())
            .map_err(snap_write)?;
        t.insert(KEY_DATA, bytes).map_err(snap_write)?;
    }
    tx.commit().map_err(snap_write)
}

fn read_snapshot(db: &Database) -> Result<Option<(SnapshotMeta, Vec<u8>)>, StorageError> {
    let tx = db.begin_read().map_err(sm_read)?;
    let t = tx.open_table(SNAPSHOT).map_err(sm_read)?;
    let meta = t.get(KEY_META).map_err(sm_read)?;
    let data = t.get(KEY_DATA).map_err(sm_read)?;
    match (meta, data) {
        (Some(m), Some(d)) => {
            let meta: SnapshotMeta = serde_json::from_slice(m.value()).map_err(sm_read)?;
            Ok(Some((meta, d.value().to_vec())))
        }
        _ => Ok(None),
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot, StorageError> {
        // A copy taken under the lock matches `last_applied`; serialising
        // and storing it run on the blocking pool (M8).
        let (meta, data) = {
            let mut inner = self.inner.lock();
            inner.snapshot_seq += 1;
            let id = match &inner.last_applied {
                Some(l) => format!("{}-{}-{}", l.leader_id, l.index, inner.snapshot_seq),
                None => format!("--{}", inner.snapshot_seq),
            };
            let meta = SnapshotMeta {
                last_log_id: inner.last_applied,
                last_membership: inner.membership.clone(),
                snapshot_id: id,
            };
            (meta, inner.data.clone())
        };
        let db = self.db.clone();
        let m = meta.clone();
        let bytes = crate::log_store::blocking(move || {
            let bytes = serde_json::to_vec(&data).map_err(sm_read)?;
            store_snapshot(&db, &m, &bytes)?;
            Ok(bytes)
        })
        .await?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let inner = self.inner.lock();
        Ok((inner.last_applied, inner.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<ExecOutcome>, StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let mut out = Vec::new();
        let snapshot = {
            let mut inner = self.inner.lock();
            for e in entries {
                inner.last_applied = Some(e.log_id);
                let outcome = match e.payload {
                    EntryPayload::Blank => ExecOutcome::Ok(meta::Response::None),
                    EntryPayload::Normal(cmd) => {
                        ExecOutcome::from_result(meta::state_machine::apply(&mut inner.data, cmd))
                    }
                    EntryPayload::Membership(m) => {
                        inner.membership = StoredMembership::new(Some(e.log_id), m);
                        ExecOutcome::Ok(meta::Response::None)
                    }
                };
                out.push(outcome);
            }
            inner.data.clone()
        };
        self.publish(snapshot);
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let bytes = snapshot.into_inner();
        let db = self.db.clone();
        let m = meta.clone();
        let data = crate::log_store::blocking(move || {
            let data: Data = serde_json::from_slice(&bytes)
                .map_err(|e| StorageIOError::read_snapshot(Some(m.signature()), &e))?;
            store_snapshot(&db, &m, &bytes)?;
            Ok(data)
        })
        .await?;
        {
            let mut inner = self.inner.lock();
            inner.last_applied = meta.last_log_id;
            inner.membership = meta.last_membership.clone();
            inner.data = data.clone();
        }
        self.publish(data);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, StorageError> {
        Ok(read_snapshot(&self.db)?.map(|(meta, bytes)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        }))
    }
}
