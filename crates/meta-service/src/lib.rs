//! The clustered meta service: openraft replicating [`meta::Command`]s
//! through the pure [`meta::state_machine`], with the log, vote and
//! snapshots durable in redb; the meta node's HTTP API (8091) and Raft
//! transport (8089); and [`client::MetaClient`], the cached client data nodes
//! and `influxd-ctl` use.
//!
//! HTTP API (JSON; errors `{"error": "..."}`; leader-only requests are
//! forwarded by followers, 503 `no leader` without one):
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /ping` | 204 |
//! | `GET /status` | [`node::NodeStatus`] (`nodeType`, `leader`, `httpAddr`, `raftAddr`, `peers`, `id`, `state`, `index`) |
//! | `GET /peers` | Raft addresses of the voters |
//! | `GET /data[?index=N[&timeout=S]][&stale=true]` | the node's applied [`meta::Data`]; with `index`, waits (≤30 s) for a newer one. Any node; 503 `no leader` (with `term`, `index`) once it has had no leader for longer than an election timeout, unless `stale=true`. Headers `X-Tidemark-Leader`, `X-Tidemark-Term` |
//! | `POST /execute` (a [`meta::Command`], ≤ 1 MiB, usually `Once {key, command}`) | [`meta::Response`], or an error with `meta_error` (the typed [`meta::Error`]); 400/404/409; 413 when too large |
//! | `GET /lease?name=&nodeid=` | `{name, owner, expiration}`; 409 with `owner` when held by another node |
//! | `GET /show-cluster`, `GET /show-shards` | linearizable views for `influxd-ctl show` / `show-shards` |
//! | `POST /add-meta {"addr"}` | adds a meta node (bootstraps an unjoined node first) |
//! | `POST /remove-meta {"addr"}` | removes a meta node (HTTP or Raft address) and resets it |
//! | `POST /join {"addr"}` | asks the cluster at `addr` to add this node |
//! | `POST /leave`, `POST /force-leave [{"force":true}]` | this node leaves (and resets); a voter whose removal did not commit is not reset (409) unless forced |
//! | `POST /internal/reset [{"reason"\|"force"}]`, `POST /internal/assign-id` | node-to-node: need the internal secret (or, without one, a loopback peer) |
//! | `POST /add-data {"addr","httpAddr"?,"passive"?}` | `{"type":"node","node":..}`; without `httpAddr` the data node at `addr` (TCP) is asked to join over the cluster RPC (`JoinCluster`) and reports its HTTP address; its refusal is a 400 |
//! | `POST /remove-data {"addr"|"id"}` | `{"node", "orphanedShards"}` |
//! | `POST /update-data {"old","new","httpAddr"?}` | the updated node |
//! | `GET /debug/vars` | index, leader, Raft metrics; `/debug/pprof/profile` CPU and `/debug/pprof/heap` heap profiles (pprof) |
//!
//! With `[meta] auth-enabled`, requests need the `internal-shared-secret`
//! header, a JWT signed with `shared-secret`, or an admin user's Basic
//! credentials. The Raft port (8089) and `/internal/*` need the secret
//! whenever one is set, and accept only loopback peers when none is.
//!
//! It must not depend on the data node (`server`) crate.

pub mod api;
pub mod base64;
pub mod client;
pub mod config;
pub use models::go_duration as duration;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
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
