//! The commands that change metadata. Every change — from an InfluxQL DDL
//! statement, `influxd-ctl`, a data node registering, a lease request — is one
//! of these, serialised into the Raft log (or applied directly by the
//! standalone server's embedded store). Commands carry every input the change
//! needs, including times and password hashes, so that applying them is
//! deterministic.

use crate::data::{NodeInfo, Privilege};
use serde::{Deserialize, Serialize};

/// A retention policy specification, as given by `CREATE RETENTION POLICY`
/// or `CREATE DATABASE ... WITH`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionPolicySpec {
    pub name: String,
    /// `None`: default (infinite for CREATE DATABASE).
    pub duration: Option<i64>,
    pub replica_n: Option<u32>,
    pub shard_group_duration: Option<i64>,
}

/// Partial update of a retention policy (`ALTER RETENTION POLICY`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionPolicyUpdate {
    pub duration: Option<i64>,
    pub replica_n: Option<u32>,
    pub shard_group_duration: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    CreateDatabase {
        name: String,
        /// The retention policy to create with it; `None` means the default
        /// `autogen` (when `retention_autocreate`).
        rp: Option<RetentionPolicySpec>,
        retention_autocreate: bool,
    },
    DropDatabase {
        name: String,
    },
    CreateRetentionPolicy {
        database: String,
        rp: RetentionPolicySpec,
        make_default: bool,
    },
    UpdateRetentionPolicy {
        database: String,
        name: String,
        update: RetentionPolicyUpdate,
        make_default: bool,
    },
    DropRetentionPolicy {
        database: String,
        name: String,
    },
    CreateShardGroup {
        database: String,
        policy: String,
        timestamp: i64,
    },
    DeleteShardGroup {
        database: String,
        policy: String,
        id: u64,
        now: i64,
    },
    /// Truncates every shard group that is still open at `timestamp`.
    TruncateShardGroups {
        timestamp: i64,
    },
    DropShard {
        id: u64,
    },
    /// Removes `node_id` from a shard's owners (influxd-ctl remove-shard).
    RemoveShardOwner {
        shard_id: u64,
        node_id: u64,
    },
    /// Adds `node_id` to a shard's owners (copy-shard finished).
    AddShardOwner {
        shard_id: u64,
        node_id: u64,
    },
    /// Marks shard groups past their retention as deleted.
    PruneExpired {
        now: i64,
    },
    CreateUser {
        name: String,
        hash: String,
        admin: bool,
    },
    DropUser {
        name: String,
    },
    UpdateUser {
        name: String,
        hash: String,
    },
    SetPrivilege {
        user: String,
        database: String,
        privilege: Privilege,
    },
    SetAdminPrivilege {
        user: String,
        admin: bool,
    },
    CreateContinuousQuery {
        database: String,
        name: String,
        query: String,
    },
    DropContinuousQuery {
        database: String,
        name: String,
    },
    CreateSubscription {
        database: String,
        policy: String,
        name: String,
        mode: String,
        destinations: Vec<String>,
    },
    DropSubscription {
        database: String,
        policy: String,
        name: String,
    },
    CreateDataNode {
        host: String,
        tcp_host: String,
        passive: bool,
    },
    UpdateDataNode {
        id: u64,
        host: String,
        tcp_host: String,
    },
    DeleteDataNode {
        id: u64,
    },
    CreateMetaNode {
        host: String,
        tcp_host: String,
    },
    DeleteMetaNode {
        id: u64,
    },
    AcquireLease {
        name: String,
        node_id: u64,
        now: i64,
        duration: i64,
    },
    ReleaseLease {
        name: String,
        node_id: u64,
    },
    SetClusterId {
        id: u64,
    },
    /// `command`, applied at most once per `key` (M3): a retried or late
    /// duplicate answers the first application's response without applying
    /// again, so a retried DROP DATABASE cannot drop a database created
    /// meanwhile. The client picks the key (128 random bits in hex) and
    /// reuses it for every retry of one change. Keys are remembered in
    /// [`crate::Data::applied_keys`] (the latest [`crate::MAX_APPLIED_KEYS`]).
    Once {
        key: String,
        command: Box<Command>,
    },
}

/// What applying a command produced, beyond "ok".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    None,
    /// Id of a created node, shard group, etc.
    Id {
        id: u64,
    },
    Node {
        node: NodeInfo,
    },
    Lease {
        name: String,
        owner: u64,
        expiration: i64,
    },
}
