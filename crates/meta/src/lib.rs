//! Cluster metadata: the model ([`data`]), the commands that change it
//! ([`command`]), the pure state machine that applies them
//! ([`state_machine`]), and the durable single-node store the standalone
//! `influxd` embeds ([`local`]). The Raft-replicated meta service applies the
//! very same commands through the very same state machine.

pub mod auth;
pub mod command;
pub mod data;
pub mod error;
pub mod local;
pub mod state_machine;

pub use command::{Command, Response, RetentionPolicySpec, RetentionPolicyUpdate};
pub use data::*;
pub use error::{Error, Result};

use std::sync::Arc;

/// What a data node needs from the metadata service, whether embedded
/// (standalone) or remote (cluster): a consistent snapshot to read without a
/// round trip, and a way to submit a change. `execute` may block (disk, or
/// network to the meta leader): call it off the async runtime.
pub trait MetaStore: Send + Sync {
    fn data(&self) -> Arc<Data>;
    fn execute(&self, cmd: Command) -> Result<Response>;
    /// Brings the snapshot up to date with the authority (a remote store
    /// asks the meta nodes; an embedded one is always current). Blocking.
    fn refresh(&self) -> Result<Arc<Data>> {
        Ok(self.data())
    }
}
