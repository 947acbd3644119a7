//! Errors of the metadata layer. Display texts are InfluxDB 1.x's own, because
//! they reach users verbatim in `/query` results and `influxd-ctl` output.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Serialisable so that the clustered meta service can hand the very same
/// error back to a remote caller.
#[derive(Debug, Clone, Error, PartialEq, Eq, Serialize, Deserialize)]
pub enum Error {
    #[error("invalid name")]
    InvalidName,
    #[error("database name required")]
    DatabaseNameRequired,
    #[error("database not found: {0}")]
    DatabaseNotFound(String),
    #[error("retention policy not found: {0}")]
    RetentionPolicyNotFound(String),
    #[error("retention policy conflicts with an existing policy")]
    RetentionPolicyConflict,
    #[error("retention policy duration must be at least 1h0m0s")]
    RetentionPolicyDurationTooLow,
    #[error("retention policy duration must be greater than the shard duration")]
    IncompatibleDurations,
    #[error("replication factor must be greater than 0")]
    ReplicationFactorTooLow,
    #[error("shard group not found")]
    ShardGroupNotFound,
    #[error("shard not found")]
    ShardNotFound,
    #[error("user already exists")]
    UserExists,
    #[error("user not found")]
    UserNotFound,
    #[error("continuous query already exists")]
    ContinuousQueryExists,
    #[error("continuous query not found")]
    ContinuousQueryNotFound,
    #[error("subscription already exists")]
    SubscriptionExists,
    #[error("subscription not found")]
    SubscriptionNotFound,
    #[error("node not found")]
    NodeNotFound,
    #[error("node already exists")]
    NodeExists,
    #[error("no data nodes available")]
    NoDataNodes,
    #[error("another node has the lease")]
    LeaseConflict { owner: u64, expiration: i64 },
    #[error("lease not found")]
    LeaseNotFound,
    /// A shard group cannot contain this time (InfluxDB's text and range).
    #[error("time outside range -9223372036854775806 - 9223372036854775806")]
    TimeOutOfRange,
    /// Go's bcrypt text, as current InfluxDB 1.x builds answer.
    #[error("bcrypt: password length exceeds 72 bytes")]
    PasswordTooLong,
    #[error("invalid request key")]
    InvalidRequestKey,
    #[error("meta store: {0}")]
    Storage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
