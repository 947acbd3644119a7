//! InfluxQL execution with InfluxDB 1.x's answers.
//!
//! * [`executor`]: the public API (`QueryExecutor::execute`) and statement dispatch.
//! * [`ddl`] / [`show`]: metadata statements and SHOW.
//! * [`select`]: SELECT, split into a shard-local part (`select::scan`,
//!   producing serde-serialisable partial states) and a merge part
//!   (`select::merge`), so a cluster can run the first on data nodes.
//! * [`storage`]: the storage traits the executor reads through.
//! * [`registry`]: running queries, KILL QUERY and timeouts.
//! * [`result`]: the /query result model with InfluxDB's JSON shape.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod ddl;
pub mod error;
pub mod executor;
pub mod explain;
pub mod offload;
pub mod registry;
pub mod result;
pub mod select;
pub mod show;
pub mod storage;
pub mod system;
pub mod tsdb_storage;

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;

pub use error::{Error, Result};
pub use executor::{ExecutionContext, ExecutorConfig, Fragment, QueryExecutor};
pub use offload::{InPlace, Offload};
pub use registry::RunningQuery;
pub use system::{Statistic, SystemInfo};
