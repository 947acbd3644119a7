//! The metadata state machine: `apply(&mut Data, Command) -> Result<Response>`.
//!
//! Pure and deterministic — no clock, no randomness, no I/O — so that the
//! standalone server's embedded store and every Raft replica reach identical
//! state from the same command sequence. A failed command leaves `Data`
//! untouched (every check happens before the first mutation), and every
//! successful command bumps `Data::index`.

use crate::command::{Command, Response, RetentionPolicySpec, RetentionPolicyUpdate};
use crate::data::*;
use crate::error::{Error, Result};

/// Applies `cmd` to `data`. On error `data` is unchanged.
pub fn apply(data: &mut Data, cmd: Command) -> Result<Response> {
    let resp = match cmd {
        Command::CreateDatabase {
            name,
            rp,
            retention_autocreate,
        } => create_database(data, name, rp, retention_autocreate)?,
        Command::DropDatabase { name } => {
            data.databases.retain(|d| d.name != name);
            for u in &mut data.users {
                u.privileges.remove(&name);
            }
            Response::None
        }
        Command::CreateRetentionPolicy {
            database,
            rp,
            make_default,
        } => create_retention_policy(data, &database, rp, make_default)?,
        Command::UpdateRetentionPolicy {
            database,
            name,
            update,
            make_default,
        } => update_retention_policy(data, &database, &name, update, make_default)?,
        Command::DropRetentionPolicy { database, name } => {
            let db = db_mut(data, &database)?;
            db.retention_policies.retain(|r| r.name != name);
            Response::None
        }
        Command::CreateShardGroup {
            database,
            policy,
            timestamp,
        } => create_shard_group(data, &database, &policy, timestamp)?,
        Command::DeleteShardGroup {
            database,
            policy,
            id,
            now,
        } => {
            let rp = rp_mut(data, &database, &policy)?;
            let g = rp
                .shard_groups
                .iter_mut()
                .find(|g| g.id == id)
                .ok_or(Error::ShardGroupNotFound)?;
            g.deleted_at = now.max(1);
            Response::None
        }
        Command::TruncateShardGroups { timestamp } => {
            for db in &mut data.databases {
                for rp in &mut db.retention_policies {
                    for g in &mut rp.shard_groups {
                        if g.deleted_at == 0
                            && g.start_time < timestamp
                            && g.effective_end() > timestamp
                        {
                            g.truncated_at = timestamp;
                        }
                    }
                }
            }
            Response::None
        }
        Command::DropShard { id } => {
            let mut found = false;
            for db in &mut data.databases {
                for rp in &mut db.retention_policies {
                    for g in &mut rp.shard_groups {
                        let before = g.shards.len();
                        g.shards.retain(|s| s.id != id);
                        found |= g.shards.len() != before;
                    }
                    // A group with no shards left is gone (InfluxDB marks it deleted).
                    for g in &mut rp.shard_groups {
                        if g.shards.is_empty() && g.deleted_at == 0 {
                            g.deleted_at = g.start_time.max(1);
                        }
                    }
                }
            }
            if !found {
                return Err(Error::ShardNotFound);
            }
            Response::None
        }
        Command::RemoveShardOwner { shard_id, node_id } => {
            let s = shard_mut(data, shard_id)?;
            s.owners.retain(|&o| o != node_id);
            Response::None
        }
        Command::AddShardOwner { shard_id, node_id } => {
            if data.data_node(node_id).is_none() {
                return Err(Error::NodeNotFound);
            }
            let s = shard_mut(data, shard_id)?;
            if !s.owners.contains(&node_id) {
                s.owners.push(node_id);
            }
            Response::None
        }
        Command::PruneExpired { now } => {
            let forget_before = now.saturating_sub(SHARD_GROUP_DELETED_EXPIRATION_NANOS);
            for db in &mut data.databases {
                for rp in &mut db.retention_policies {
                    // Groups deleted more than a day ago are forgotten, as
                    // InfluxDB prunes them, so metadata does not grow forever.
                    rp.shard_groups
                        .retain(|g| g.deleted_at == 0 || g.deleted_at >= forget_before);
                    if rp.duration == 0 {
                        continue;
                    }
                    for g in &mut rp.shard_groups {
                        if g.deleted_at == 0 && g.effective_end() < now.saturating_sub(rp.duration)
                        {
                            g.deleted_at = now.max(1);
                        }
                    }
                }
            }
            Response::None
        }
        Command::CreateUser { name, hash, admin } => {
            if !is_valid_name(&name) {
                return Err(Error::InvalidName);
            }
            if let Some(u) = data.user(&name) {
                // InfluxDB: re-creating with the same password is a no-op.
                if u.hash == hash && u.admin == admin {
                    return finish(data, Response::None);
                }
                return Err(Error::UserExists);
            }
            data.users.push(UserInfo {
                name,
                hash,
                admin,
                privileges: Default::default(),
            });
            Response::None
        }
        Command::DropUser { name } => {
            let before = data.users.len();
            data.users.retain(|u| u.name != name);
            if data.users.len() == before {
                return Err(Error::UserNotFound);
            }
            Response::None
        }
        Command::UpdateUser { name, hash } => {
            user_mut(data, &name)?.hash = hash;
            Response::None
        }
        Command::SetPrivilege {
            user,
            database,
            privilege,
        } => {
            if data.database(&database).is_none() {
                return Err(Error::DatabaseNotFound(database));
            }
            user_mut(data, &user)?
                .privileges
                .insert(database, privilege);
            Response::None
        }
        Command::SetAdminPrivilege { user, admin } => {
            user_mut(data, &user)?.admin = admin;
            Response::None
        }
        Command::CreateContinuousQuery {
            database,
            name,
            query,
        } => {
            let db = db_mut(data, &database)?;
            if let Some(cq) = db.continuous_queries.iter().find(|c| c.name == name) {
                if cq.query == query {
                    return finish(data, Response::None);
                }
                return Err(Error::ContinuousQueryExists);
            }
            db.continuous_queries
                .push(ContinuousQueryInfo { name, query });
            Response::None
        }
        Command::DropContinuousQuery { database, name } => {
            let db = db_mut(data, &database)?;
            let before = db.continuous_queries.len();
            db.continuous_queries.retain(|c| c.name != name);
            if db.continuous_queries.len() == before {
                return Err(Error::ContinuousQueryNotFound);
            }
            Response::None
        }
        Command::CreateSubscription {
            database,
            policy,
            name,
            mode,
            destinations,
        } => {
            let rp = rp_mut(data, &database, &policy)?;
            if rp.subscriptions.iter().any(|s| s.name == name) {
                return Err(Error::SubscriptionExists);
            }
            rp.subscriptions.push(SubscriptionInfo {
                name,
                mode,
                destinations,
            });
            Response::None
        }
        Command::DropSubscription {
            database,
            policy,
            name,
        } => {
            let rp = rp_mut(data, &database, &policy)?;
            let before = rp.subscriptions.len();
            rp.subscriptions.retain(|s| s.name != name);
            if rp.subscriptions.len() == before {
                return Err(Error::SubscriptionNotFound);
            }
            Response::None
        }
        Command::CreateDataNode {
            host,
            tcp_host,
            passive,
        } => {
            if let Some(n) = data.data_nodes.iter().find(|n| n.tcp_host == tcp_host) {
                // Registering again (a restart) returns the existing node.
                let node = n.clone();
                return finish(data, Response::Node { node });
            }
            data.max_node_id += 1;
            let node = NodeInfo {
                id: data.max_node_id,
                host,
                tcp_host,
                passive,
            };
            data.data_nodes.push(node.clone());
            Response::Node { node }
        }
        Command::UpdateDataNode { id, host, tcp_host } => {
            let n = data
                .data_nodes
                .iter_mut()
                .find(|n| n.id == id)
                .ok_or(Error::NodeNotFound)?;
            n.host = host;
            n.tcp_host = tcp_host;
            Response::None
        }
        Command::DeleteDataNode { id } => {
            if data.data_node(id).is_none() {
                return Err(Error::NodeNotFound);
            }
            data.data_nodes.retain(|n| n.id != id);
            for db in &mut data.databases {
                for rp in &mut db.retention_policies {
                    for g in &mut rp.shard_groups {
                        for s in &mut g.shards {
                            s.owners.retain(|&o| o != id);
                        }
                    }
                }
            }
            Response::None
        }
        Command::CreateMetaNode { host, tcp_host } => {
            if let Some(n) = data.meta_nodes.iter().find(|n| n.tcp_host == tcp_host) {
                let node = n.clone();
                return finish(data, Response::Node { node });
            }
            data.max_node_id += 1;
            let node = NodeInfo {
                id: data.max_node_id,
                host,
                tcp_host,
                passive: false,
            };
            data.meta_nodes.push(node.clone());
            Response::Node { node }
        }
        Command::DeleteMetaNode { id } => {
            let before = data.meta_nodes.len();
            data.meta_nodes.retain(|n| n.id != id);
            if data.meta_nodes.len() == before {
                return Err(Error::NodeNotFound);
            }
            Response::None
        }
        Command::AcquireLease {
            name,
            node_id,
            now,
            duration,
        } => {
            if let Some(l) = data.leases.get(&name) {
                if l.owner != node_id && l.expiration > now {
                    return Err(Error::LeaseConflict {
                        owner: l.owner,
                        expiration: l.expiration,
                    });
                }
            }
            let lease = Lease {
                name: name.clone(),
                owner: node_id,
                expiration: now.saturating_add(duration),
            };
            data.leases.insert(name.clone(), lease.clone());
            Response::Lease {
                name,
                owner: lease.owner,
                expiration: lease.expiration,
            }
        }
        Command::ReleaseLease { name, node_id } => {
            match data.leases.get(&name) {
                Some(l) if l.owner == node_id => {
                    data.leases.remove(&name);
                }
                Some(_) | None => return Err(Error::LeaseNotFound),
            }
            Response::None
        }
        Command::Once { key, command } => {
            if key.is_empty() || key.len() > MAX_KEY_BYTES {
                return Err(Error::InvalidRequestKey);
            }
            if let Some(prev) = data.applied_keys.iter().find(|a| a.key == key) {
                let resp = prev.response.clone();
                return finish(data, resp);
            }
            // Applies (and bumps the index) or fails leaving `data` as it was.
            let response = apply(data, *command)?;
            if data.applied_keys.len() >= MAX_APPLIED_KEYS {
                data.applied_keys.pop_front();
            }
            data.applied_keys.push_back(AppliedKey {
                key,
                response: response.clone(),
            });
            return Ok(response);
        }
        Command::SetClusterId { id } => {
            if data.cluster_id == 0 {
                data.cluster_id = id;
            }
            Response::None
        }
    };
    finish(data, resp)
}

fn finish(data: &mut Data, resp: Response) -> Result<Response> {
    data.index += 1;
    Ok(resp)
}

/// The named database, or `database not found: <name>`.
fn db_mut<'a>(data: &'a mut Data, name: &str) -> Result<&'a mut DatabaseInfo> {
    data.database_mut(name)
        .ok_or_else(|| Error::DatabaseNotFound(name.to_string()))
}

fn rp_mut<'a>(data: &'a mut Data, db: &str, rp: &str) -> Result<&'a mut RetentionPolicyInfo> {
    let d = db_mut(data, db)?;
    let name = if rp.is_empty() {
        d.default_retention_policy.clone()
    } else {
        rp.to_string()
    };
    d.retention_policies
        .iter_mut()
        .find(|r| r.name == name)
        .ok_or(Error::RetentionPolicyNotFound(name))
}

fn user_mut<'a>(data: &'a mut Data, name: &str) -> Result<&'a mut UserInfo> {
    data.users
        .iter_mut()
        .find(|u| u.name == name)
        .ok_or(Error::UserNotFound)
}

fn shard_mut(data: &mut Data, id: u64) -> Result<&mut ShardInfo> {
    data.databases
        .iter_mut()
        .flat_map(|d| d.retention_policies.iter_mut())
        .flat_map(|r| r.shard_groups.iter_mut())
        .flat_map(|g| g.shards.iter_mut())
        .find(|s| s.id == id)
        .ok_or(Error::ShardNotFound)
}

/// Normalises a shard group duration as InfluxDB does: 0 picks the default
/// for the retention duration, anything below an hour becomes an hour.
fn normalised_shard_duration(sgd: Option<i64>, duration: i64) -> i64 {
    match sgd {
        None | Some(0) => default_shard_group_duration(duration),
        Some(d) if d < HOUR => HOUR,
        Some(d) => d,
    }
}

/// Validates a spec and builds the policy it describes.
fn build_policy(spec: &RetentionPolicySpec) -> Result<RetentionPolicyInfo> {
    if !is_valid_name(&spec.name) {
        return Err(Error::InvalidName);
    }
    let duration = spec.duration.unwrap_or(0);
    if duration != 0 && duration < MIN_RETENTION_DURATION {
        return Err(Error::RetentionPolicyDurationTooLow);
    }
    let replica_n = spec.replica_n.unwrap_or(1);
    if replica_n < 1 {
        return Err(Error::ReplicationFactorTooLow);
    }
    let sgd = normalised_shard_duration(spec.shard_group_duration, duration);
    if duration != 0 && duration < sgd {
        return Err(Error::IncompatibleDurations);
    }
    Ok(RetentionPolicyInfo {
        name: spec.name.clone(),
        replica_n,
        duration,
        shard_group_duration: sgd,
        shard_groups: Vec::new(),
        subscriptions: Vec::new(),
    })
}

fn same_policy(a: &RetentionPolicyInfo, b: &RetentionPolicyInfo) -> bool {
    a.duration == b.duration
        && a.replica_n == b.replica_n
        && a.shard_group_duration == b.shard_group_duration
}

fn create_database(
    data: &mut Data,
    name: String,
    rp: Option<RetentionPolicySpec>,
    autocreate: bool,
) -> Result<Response> {
    if name.is_empty() {
        return Err(Error::DatabaseNameRequired);
    }
    if !is_valid_name(&name) {
        return Err(Error::InvalidName);
    }
    let policy = match (&rp, autocreate) {
        (Some(spec), _) => {
            let mut spec = spec.clone();
            if spec.name.is_empty() {
                spec.name = DEFAULT_RETENTION_POLICY_NAME.to_string();
            }
            Some(build_policy(&spec)?)
        }
        (None, true) => Some(build_policy(&RetentionPolicySpec {
            name: DEFAULT_RETENTION_POLICY_NAME.to_string(),
            ..Default::default()
        })?),
        (None, false) => None,
    };
    if let Some(existing) = data.database(&name) {
        // Re-creating is a no-op unless the requested policy conflicts.
        if rp.is_some() {
            if let Some(p) = &policy {
                match existing
                    .retention_policies
                    .iter()
                    .find(|r| r.name == p.name)
                {
                    Some(r) if same_policy(r, p) && existing.default_retention_policy == p.name => {
                    }
                    _ => return Err(Error::RetentionPolicyConflict),
                }
            }
        }
        return Ok(Response::None);
    }
    let default_rp = policy.as_ref().map(|p| p.name.clone()).unwrap_or_default();
    data.databases.push(DatabaseInfo {
        name,
        default_retention_policy: default_rp,
        retention_policies: policy.into_iter().collect(),
        continuous_queries: Vec::new(),
    });
    Ok(Response::None)
}

fn create_retention_policy(
    data: &mut Data,
    database: &str,
    spec: RetentionPolicySpec,
    make_default: bool,
) -> Result<Response> {
    let policy = build_policy(&spec)?;
    let db = db_mut(data, database)?;
    if let Some(existing) = db.retention_policies.iter().find(|r| r.name == policy.name) {
        let is_default = db.default_retention_policy == policy.name;
        if same_policy(existing, &policy) && (!make_default || is_default) {
            return Ok(Response::None);
        }
        return Err(Error::RetentionPolicyConflict);
    }
    if make_default || db.default_retention_policy.is_empty() {
        db.default_retention_policy = policy.name.clone();
    }
    db.retention_policies.push(policy);
    Ok(Response::None)
}

fn update_retention_policy(
    data: &mut Data,
    database: &str,
    name: &str,
    update: RetentionPolicyUpdate,
    make_default: bool,
) -> Result<Response> {
    let db = db_mut(data, database)?;
    let rp = db
        .retention_policies
        .iter_mut()
        .find(|r| r.name == name)
        .ok_or_else(|| Error::RetentionPolicyNotFound(name.to_string()))?;
    let duration = update.duration.unwrap_or(rp.duration);
    if duration != 0 && duration < MIN_RETENTION_DURATION {
        return Err(Error::RetentionPolicyDurationTooLow);
    }
    let sgd = match update.shard_group_duration {
        Some(s) => normalised_shard_duration(Some(s), duration),
        None => rp.shard_group_duration,
    };
    if duration != 0 && duration < sgd {
        return Err(Error::IncompatibleDurations);
    }
    let replica_n = update.replica_n.unwrap_or(rp.replica_n);
    if replica_n < 1 {
        return Err(Error::ReplicationFactorTooLow);
    }
    rp.duration = duration;
    rp.shard_group_duration = sgd;
    rp.replica_n = replica_n;
    if make_default {
        db.default_retention_policy = name.to_string();
    }
    Ok(Response::None)
}

/// The slot `[start, end)` of width `d` (> 0) containing `t`: `start` is `t`
/// floored to a multiple of `d`. Near the ends of the i64 range the slot is
/// clipped to `[i64::MIN, i64::MAX)` instead of overflowing, so it may be
/// narrower than `d`; `None` when no slot can contain `t` (only
/// `t == i64::MAX`, since `end` is exclusive).
pub fn group_slot(t: i64, d: i64) -> Option<(i64, i64)> {
    let d = d.max(1);
    let q = t.div_euclid(d);
    let start = q.checked_mul(d).unwrap_or(i64::MIN);
    let end = q
        .checked_add(1)
        .and_then(|n| n.checked_mul(d))
        .unwrap_or(i64::MAX);
    (start <= t && t < end).then_some((start, end))
}

fn create_shard_group(data: &mut Data, db: &str, policy: &str, timestamp: i64) -> Result<Response> {
    if !(models::MIN_NANOS..=models::MAX_NANOS).contains(&timestamp) {
        return Err(Error::TimeOutOfRange);
    }
    let owners_pool: Vec<u64> = data
        .data_nodes
        .iter()
        .filter(|n| !n.passive)
        .map(|n| n.id)
        .collect();
    if owners_pool.is_empty() {
        return Err(Error::NoDataNodes);
    }
    let next_group_id = data.max_shard_group_id + 1;
    let first_shard_id = data.max_shard_id + 1;
    let rp = rp_mut(data, db, policy)?;
    if let Some(g) = rp.shard_group_for(timestamp) {
        return Ok(Response::Id { id: g.id });
    }
    let Some((mut start, mut end)) = group_slot(timestamp, rp.shard_group_duration) else {
        return Err(Error::TimeOutOfRange);
    };
    // A truncated group may still cover part of the slot: start after it.
    for g in rp.shard_groups.iter().filter(|g| g.deleted_at == 0) {
        let g_end = g.effective_end();
        if g.start_time <= timestamp && g_end <= timestamp && g_end > start {
            start = g_end;
        }
        if g.start_time > timestamp && g.start_time < end {
            end = g.start_time;
        }
    }
    let n = owners_pool.len();
    let replica_n = (rp.replica_n as usize).clamp(1, n);
    let shard_count = (n / replica_n).max(1);
    let offset = (next_group_id as usize) % n;
    let shards = (0..shard_count)
        .map(|i| ShardInfo {
            id: first_shard_id + i as u64,
            owners: (0..replica_n)
                .map(|r| owners_pool[(offset + i * replica_n + r) % n])
                .collect(),
        })
        .collect();
    rp.shard_groups.push(ShardGroupInfo {
        id: next_group_id,
        start_time: start,
        end_time: end,
        deleted_at: 0,
        truncated_at: 0,
        shards,
    });
    rp.shard_groups.sort_by_key(|g| g.start_time);
    data.max_shard_group_id = next_group_id;
    data.max_shard_id = first_shard_id + shard_count as u64 - 1;
    Ok(Response::Id { id: next_group_id })
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
