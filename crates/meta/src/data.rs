//! The metadata model: everything the meta service keeps consistent —
//! nodes, databases, retention policies, shard groups and their owners,
//! users and privileges, continuous queries, subscriptions and leases.
//!
//! Plain serialisable data with read-only lookups. Mutation happens only in
//! [`crate::state_machine`], so that a Raft log replayed on any node yields
//! byte-identical state. No I/O here.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Nanoseconds in an hour, a day and a week.
pub const HOUR: i64 = 3_600_000_000_000;
pub const DAY: i64 = 24 * HOUR;
pub const WEEK: i64 = 7 * DAY;

/// Name of the retention policy `CREATE DATABASE` makes when none is given.
pub const DEFAULT_RETENTION_POLICY_NAME: &str = "autogen";
/// How long a deleted shard group stays in the metadata (so that data nodes
/// see the deletion and remove their shards) before `PruneExpired` forgets
/// it: InfluxDB's `ShardGroupDeletedExpiration`, 24 hours.
pub const SHARD_GROUP_DELETED_EXPIRATION_NANOS: i64 = DAY;
/// The minimum finite retention duration InfluxDB accepts.
pub const MIN_RETENTION_DURATION: i64 = HOUR;

/// The whole metadata state, versioned by `index` (bumped on every change;
/// clients long-poll on it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Data {
    pub index: u64,
    pub cluster_id: u64,
    pub meta_nodes: Vec<NodeInfo>,
    pub data_nodes: Vec<NodeInfo>,
    pub databases: Vec<DatabaseInfo>,
    pub users: Vec<UserInfo>,
    pub max_node_id: u64,
    pub max_shard_group_id: u64,
    pub max_shard_id: u64,
    pub leases: BTreeMap<String, Lease>,
    /// Keys of the latest [`crate::Command::Once`] commands applied, oldest
    /// first, with what they answered: part of the replicated state so that
    /// every replica (and a snapshot) deduplicates alike.
    #[serde(default)]
    pub applied_keys: VecDeque<AppliedKey>,
}

/// How many idempotency keys the state remembers. A duplicate arrives
/// within a client's retry window (seconds) or as a late commit of the same
/// Raft entry, so the latest 1,000 changes cover it while keeping `/data`
/// and snapshots small (~80 bytes a key).
pub const MAX_APPLIED_KEYS: usize = 1000;
/// Longest idempotency key accepted.
pub const MAX_KEY_BYTES: usize = 64;

/// One applied [`crate::Command::Once`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedKey {
    pub key: String,
    pub response: crate::command::Response,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: u64,
    /// HTTP address (data nodes: 8086, meta nodes: 8091).
    pub host: String,
    /// TCP address (data nodes: 8088, meta nodes: Raft 8089).
    pub tcp_host: String,
    #[serde(default)]
    pub passive: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    pub name: String,
    pub default_retention_policy: String,
    pub retention_policies: Vec<RetentionPolicyInfo>,
    pub continuous_queries: Vec<ContinuousQueryInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionPolicyInfo {
    pub name: String,
    pub replica_n: u32,
    /// Nanoseconds; 0 means infinite.
    pub duration: i64,
    pub shard_group_duration: i64,
    pub shard_groups: Vec<ShardGroupInfo>,
    pub subscriptions: Vec<SubscriptionInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardGroupInfo {
    pub id: u64,
    pub start_time: i64,
    pub end_time: i64,
    /// 0 when not deleted.
    pub deleted_at: i64,
    /// 0 when not truncated.
    pub truncated_at: i64,
    pub shards: Vec<ShardInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub id: u64,
    pub owners: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionInfo {
    pub name: String,
    /// `ALL` or `ANY`.
    pub mode: String,
    pub destinations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinuousQueryInfo {
    pub name: String,
    pub query: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Privilege {
    NoPrivileges,
    Read,
    Write,
    All,
}

impl Privilege {
    /// The text InfluxDB shows in `SHOW GRANTS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Privilege::NoPrivileges => "NO PRIVILEGES",
            Privilege::Read => "READ",
            Privilege::Write => "WRITE",
            Privilege::All => "ALL PRIVILEGES",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    /// bcrypt hash; hashing happens before a command is proposed so that the
    /// state machine stays deterministic and cheap.
    pub hash: String,
    pub admin: bool,
    pub privileges: BTreeMap<String, Privilege>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    pub name: String,
    pub owner: u64,
    /// Nanoseconds since the epoch.
    pub expiration: i64,
}

impl Data {
    pub fn database(&self, name: &str) -> Option<&DatabaseInfo> {
        self.databases.iter().find(|d| d.name == name)
    }

    pub(crate) fn database_mut(&mut self, name: &str) -> Option<&mut DatabaseInfo> {
        self.databases.iter_mut().find(|d| d.name == name)
    }

    /// The named retention policy, or the database's default when `rp` is empty.
    pub fn retention_policy(&self, db: &str, rp: &str) -> Option<&RetentionPolicyInfo> {
        let d = self.database(db)?;
        let name = if rp.is_empty() {
            d.default_retention_policy.as_str()
        } else {
            rp
        };
        d.retention_policies.iter().find(|r| r.name == name)
    }

    pub fn user(&self, name: &str) -> Option<&UserInfo> {
        self.users.iter().find(|u| u.name == name)
    }

    pub fn data_node(&self, id: u64) -> Option<&NodeInfo> {
        self.data_nodes.iter().find(|n| n.id == id)
    }

    /// Active (non-deleted) shard groups of `db.rp` overlapping `[min, max]`,
    /// in ascending start time.
    pub fn shard_groups_by_time_range(
        &self,
        db: &str,
        rp: &str,
        min: i64,
        max: i64,
    ) -> Vec<&ShardGroupInfo> {
        let Some(rpi) = self.retention_policy(db, rp) else {
            return Vec::new();
        };
        let mut groups: Vec<&ShardGroupInfo> = rpi
            .shard_groups
            .iter()
            .filter(|g| g.deleted_at == 0 && g.overlaps(min, max))
            .collect();
        groups.sort_by_key(|g| g.start_time);
        groups
    }

    /// Every shard id owned (in part) by `node_id` — the shards a data node
    /// must have locally.
    pub fn shards_owned_by(&self, node_id: u64) -> Vec<(String, String, u64)> {
        let mut out = Vec::new();
        for d in &self.databases {
            for r in &d.retention_policies {
                for g in r.shard_groups.iter().filter(|g| g.deleted_at == 0) {
                    for s in &g.shards {
                        if s.owners.contains(&node_id) {
                            out.push((d.name.clone(), r.name.clone(), s.id));
                        }
                    }
                }
            }
        }
        out
    }

    /// Finds the shard with `id` and its database and retention policy.
    pub fn shard_location(
        &self,
        id: u64,
    ) -> Option<(
        &DatabaseInfo,
        &RetentionPolicyInfo,
        &ShardGroupInfo,
        &ShardInfo,
    )> {
        for d in &self.databases {
            for r in &d.retention_policies {
                for g in &r.shard_groups {
                    if let Some(s) = g.shards.iter().find(|s| s.id == id) {
                        return Some((d, r, g, s));
                    }
                }
            }
        }
        None
    }
}

impl RetentionPolicyInfo {
    /// The non-deleted shard group whose `[start, end)` contains `t`; a
    /// truncated group only accepts times before its truncation.
    pub fn shard_group_for(&self, t: i64) -> Option<&ShardGroupInfo> {
        self.shard_groups
            .iter()
            .find(|g| g.deleted_at == 0 && g.contains(t))
    }
}

impl ShardGroupInfo {
    /// Effective end: the truncation time when truncated.
    pub fn effective_end(&self) -> i64 {
        if self.truncated_at != 0 {
            self.truncated_at
        } else {
            self.end_time
        }
    }

    pub fn contains(&self, t: i64) -> bool {
        t >= self.start_time && t < self.effective_end()
    }

    /// Whether the group overlaps the closed interval `[min, max]`.
    pub fn overlaps(&self, min: i64, max: i64) -> bool {
        self.start_time <= max && self.effective_end() > min
    }

    /// The shard a series with this key belongs to: fnv64a(key) mod shard count.
    pub fn shard_for(&self, series_key: &[u8]) -> Option<&ShardInfo> {
        if self.shards.is_empty() {
            return None;
        }
        let i = (fnv64a(series_key) % self.shards.len() as u64) as usize;
        self.shards.get(i)
    }
}

/// FNV-1a 64-bit hash, the function InfluxDB uses to bucket series into the
/// shards of a group.
pub fn fnv64a(data: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// InfluxDB's default shard group duration for a retention duration:
/// < 2 days → 1 hour; < 6 months → 1 day; otherwise (and infinite) → 7 days.
pub fn default_shard_group_duration(retention: i64) -> i64 {
    if retention == 0 || retention >= 180 * DAY {
        WEEK
    } else if retention >= 2 * DAY {
        DAY
    } else {
        HOUR
    }
}

/// Valid database, retention policy and user names: not empty, not `.` or
/// `..`, no `/` or `\` (they would escape the data directory).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv64a_matches_reference_vectors() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv64a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv64a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv64a(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn default_shard_durations_follow_influxdb() {
        assert_eq!(default_shard_group_duration(0), WEEK);
        assert_eq!(default_shard_group_duration(HOUR), HOUR);
        assert_eq!(default_shard_group_duration(2 * DAY), DAY);
        assert_eq!(default_shard_group_duration(179 * DAY), DAY);
        assert_eq!(default_shard_group_duration(180 * DAY), WEEK);
    }

    #[test]
    fn names() {
        assert!(is_valid_name("db0"));
        assert!(!is_valid_name("."));
        assert!(!is_valid_name("a/b"));
        assert!(!is_valid_name(""));
    }
}
