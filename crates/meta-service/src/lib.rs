//! The clustered meta service: openraft replicating [`meta::Command`]s
//! through the pure [`meta::state_machine`], with the log, vote and
//! snapshots durable in redb; the meta node's HTTP API (8091) and Raft
//! transport (8089); and [`client::MetaClient`], the cached client data nodes
//! and `influxd-ctl` use.
//!
//! It must not depend on the data node (`server`) crate.

pub mod error;
pub mod log_store;
pub mod sm_store;
pub mod types;

pub use error::{Error, Result};

#[cfg(test)]
mod store_tests;
