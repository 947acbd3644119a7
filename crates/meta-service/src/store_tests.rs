//! openraft's storage conformance suite run against the redb log store and
//! the meta state machine, plus restart durability checks.

use crate::log_store::LogStore;
use crate::sm_store::StateMachine;
use crate::types::{StorageError, TypeConfig};
use openraft::testing::{StoreBuilder, Suite};
use std::sync::Arc;

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for Builder {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError> {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(redb::Database::create(dir.path().join("raft.db")).unwrap());
        let ls = LogStore::new(db.clone())?;
        let sm = StateMachine::open(db)?;
        Ok((dir, ls, sm))
    }
}

#[test]
fn openraft_storage_suite() {
    Suite::test_all(Builder).unwrap();
}

#[test]
fn log_vote_and_snapshot_survive_reopen() {
    use openraft::storage::{RaftLogStorage, RaftStateMachine};
    use openraft::{CommittedLeaderId, EntryPayload, LogId, RaftSnapshotBuilder, Vote};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raft.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        {
            let db = Arc::new(redb::Database::create(&path).unwrap());
            let mut ls = LogStore::new(db.clone()).unwrap();
            let mut sm = StateMachine::open(db).unwrap();
            ls.save_vote(&Vote::new(3, 1)).await.unwrap();
            let e = openraft::Entry::<TypeConfig> {
                log_id: LogId::new(CommittedLeaderId::new(3, 1), 1),
                payload: EntryPayload::Normal(meta::Command::CreateDatabase {
                    name: "db0".into(),
                    rp: None,
                    retention_autocreate: true,
                }),
            };
            let out = sm.apply([e]).await.unwrap();
            assert!(matches!(out[0], crate::types::ExecOutcome::Ok(_)));
            sm.build_snapshot().await.unwrap();
        }
        let db = Arc::new(redb::Database::create(&path).unwrap());
        let mut ls = LogStore::new(db.clone()).unwrap();
        let sm = StateMachine::open(db).unwrap();
        assert_eq!(ls.read_vote().await.unwrap(), Some(Vote::new(3, 1)));
        assert!(sm.data().database("db0").is_some());
    });
}
