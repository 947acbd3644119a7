//! The openraft type configuration of the meta service: what a log entry
//! carries (a [`meta::Command`]), what applying it answers ([`ExecOutcome`]),
//! and what a Raft member is ([`MetaPeer`]: its Raft and HTTP addresses).
//! Types only; no I/O.

use serde::{Deserialize, Serialize};
use std::io::Cursor;

openraft::declare_raft_types!(
    /// Raft types of the meta service.
    pub TypeConfig:
        D = meta::Command,
        R = ExecOutcome,
        NodeId = u64,
        Node = MetaPeer,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// A member of the Raft group: the meta node's Raft (8089) and HTTP (8091)
/// addresses as the other members reach them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaPeer {
    pub raft_addr: String,
    pub http_addr: String,
}

/// The result of applying one command, replicated with the log so that the
/// node that proposed it can answer its caller. Errors carry the text of
/// [`meta::Error`] and the HTTP status it maps to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecOutcome {
    Ok(meta::Response),
    Err {
        message: String,
        status: u16,
        error: meta::Error,
    },
}

impl ExecOutcome {
    pub fn from_result(r: meta::Result<meta::Response>) -> ExecOutcome {
        match r {
            Ok(resp) => ExecOutcome::Ok(resp),
            Err(e) => ExecOutcome::Err {
                status: status_for(&e),
                message: e.to_string(),
                error: e,
            },
        }
    }
}

/// HTTP status of a metadata error: conflicts 409, an unknown node 404,
/// storage trouble 500, any other refusal 400.
pub fn status_for(e: &meta::Error) -> u16 {
    use meta::Error as E;
    match e {
        E::LeaseConflict { .. }
        | E::UserExists
        | E::NodeExists
        | E::ContinuousQueryExists
        | E::SubscriptionExists
        | E::RetentionPolicyConflict => 409,
        E::NodeNotFound => 404,
        E::Storage(_) => 500,
        _ => 400,
    }
}

pub type Raft = openraft::Raft<TypeConfig>;
pub type LogId = openraft::LogId<u64>;
pub type Vote = openraft::Vote<u64>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type StoredMembership = openraft::StoredMembership<u64, MetaPeer>;
pub type SnapshotMeta = openraft::SnapshotMeta<u64, MetaPeer>;
pub type Snapshot = openraft::Snapshot<TypeConfig>;
pub type StorageError = openraft::StorageError<u64>;
