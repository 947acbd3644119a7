//! The clustered meta service: openraft replicating [`meta::Command`]s
//! through the pure [`meta::state_machine`], with the log, vote and
//! snapshots durable in redb; the meta node's HTTP API (8091) and Raft
//! transport (8089); and [`client::MetaClient`], the cached client data nodes
//! and `influxd-ctl` use.
//!
//! It must not depend on the data node (`server`) crate.

pub mod api;
pub mod base64;
pub mod client;
pub mod config;
pub mod duration;
pub mod error;
pub mod http_util;
pub mod jwt;
pub mod log_store;
pub mod network;
pub mod node;
pub mod raft_api;
pub mod server;
pub mod sm_store;
pub mod types;

pub use client::MetaClient;
pub use error::{Error, Result};

#[cfg(test)]
mod store_tests;
