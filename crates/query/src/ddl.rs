//! DDL and management statements: databases, retention policies, users and
//! privileges, continuous queries, subscriptions, DROP SHARD/MEASUREMENT/
//! SERIES, DELETE and KILL QUERY. Metadata changes go through
//! `meta::MetaStore::execute`; data removal through the storage trait.
//!
//! Owns: mapping statements to meta commands and shard maintenance. Must
//! not: implement meta rules (the meta state machine does).

use crate::error::{Error, Result};
use crate::executor::{ExecutionContext, QueryExecutor};
use crate::result::StatementResult;
use crate::select::cond;
use crate::storage::TagFilter;
use influxql::{Expr, Source, Statement};
use meta::{Command, Privilege, RetentionPolicySpec, RetentionPolicyUpdate};
use models::TimeRange;

fn privilege(p: influxql::Privilege) -> Privilege {
    match p {
        influxql::Privilege::NoPrivileges => Privilege::NoPrivileges,
        influxql::Privilege::Read => Privilege::Read,
        influxql::Privilege::Write => Privilege::Write,
        influxql::Privilege::All => Privilege::All,
    }
}

fn bits(p: Privilege) -> u8 {
    match p {
        Privilege::NoPrivileges => 0,
        Privilege::Read => 1,
        Privilege::Write => 2,
        Privilege::All => 3,
    }
}

fn from_bits(b: u8) -> Privilege {
    match b & 3 {
        1 => Privilege::Read,
        2 => Privilege::Write,
        3 => Privilege::All,
        _ => Privilege::NoPrivileges,
    }
}

fn ok() -> Result<StatementResult> {
    Ok(StatementResult::default())
}

/// Executes a DDL/management statement.
pub fn execute(
    ex: &QueryExecutor,
    stmt: &Statement,
    ctx: &ExecutionContext,
) -> Result<StatementResult> {
    let meta = &ex.meta;
    match stmt {
        Statement::CreateDatabase(s) => {
            let rp = if s.retention_policy_create {
                Some(RetentionPolicySpec {
                    name: s
                        .retention_policy_name
                        .clone()
                        .unwrap_or_else(|| meta::DEFAULT_RETENTION_POLICY_NAME.to_string()),
                    duration: s.retention_policy_duration,
                    replica_n: s.retention_policy_replication,
                    shard_group_duration: if s.retention_policy_shard_group_duration > 0 {
                        Some(s.retention_policy_shard_group_duration)
                    } else {
                        None
                    },
                })
            } else {
                None
            };
            meta.execute(Command::CreateDatabase {
                name: s.name.clone(),
                rp,
                retention_autocreate: true,
            })?;
            ok()
        }
        Statement::DropDatabase { name } => {
            // Sent even when the cached metadata lacks the database: a data
            // node's cache may be stale (M4); the meta store decides.
            meta.execute(Command::DropDatabase { name: name.clone() })?;
            // Only a valid name can have local files (never `..` or a path).
            if meta::is_valid_name(name) {
                ex.storage.delete_database(name)?;
            }
            ok()
        }
        Statement::CreateRetentionPolicy(s) => {
            meta.execute(Command::CreateRetentionPolicy {
                database: s.database.clone(),
                rp: RetentionPolicySpec {
                    name: s.name.clone(),
                    duration: Some(s.duration),
                    replica_n: Some(s.replication),
                    shard_group_duration: if s.shard_group_duration > 0 {
                        Some(s.shard_group_duration)
                    } else {
                        None
                    },
                },
                make_default: s.default,
            })?;
            ok()
        }
        Statement::AlterRetentionPolicy(s) => {
            meta.execute(Command::UpdateRetentionPolicy {
                database: s.database.clone(),
                name: s.name.clone(),
                update: RetentionPolicyUpdate {
                    duration: s.duration,
                    replica_n: s.replication,
                    shard_group_duration: s.shard_group_duration,
                },
                make_default: s.default,
            })?;
            ok()
        }
        Statement::DropRetentionPolicy { name, database } => {
            let data = meta.data();
            let shard_ids: Vec<u64> = data
                .database(database)
                .and_then(|d| d.retention_policies.iter().find(|r| r.name == *name))
                .map(|r| {
                    r.shard_groups
                        .iter()
                        .flat_map(|g| g.shards.iter().map(|s| s.id))
                        .collect()
                })
                .unwrap_or_default();
            if data.database(database).is_none() {
                return ok();
            }
            match meta.execute(Command::DropRetentionPolicy {
                database: database.clone(),
                name: name.clone(),
            }) {
                Ok(_) | Err(meta::Error::RetentionPolicyNotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
            for id in shard_ids {
                ex.storage.delete_shard(id)?;
            }
            ok()
        }
        Statement::CreateUser {
            name,
            password,
            admin,
        } => {
            if let Some(u) = meta.data().user(name) {
                // Re-creating with the same password and admin flag is a no-op.
                if u.admin == *admin && bcrypt_matches(&u.hash, password) {
                    return ok();
                }
                return Err(Error::msg("user already exists"));
            }
            let hash = meta::auth::hash_password(password)?;
            meta.execute(Command::CreateUser {
                name: name.clone(),
                hash,
                admin: *admin,
            })?;
            ok()
        }
        Statement::DropUser { name } => {
            meta.execute(Command::DropUser { name: name.clone() })?;
            ok()
        }
        Statement::SetPassword { name, password } => {
            if meta.data().user(name).is_none() {
                return Err(Error::msg("user not found"));
            }
            let hash = meta::auth::hash_password(password)?;
            meta.execute(Command::UpdateUser {
                name: name.clone(),
                hash,
            })?;
            ok()
        }
        Statement::Grant {
            privilege: p,
            database,
            user,
        } => {
            meta.execute(Command::SetPrivilege {
                user: user.clone(),
                database: database.clone(),
                privilege: privilege(*p),
            })?;
            ok()
        }
        Statement::GrantAdmin { user } => {
            meta.execute(Command::SetAdminPrivilege {
                user: user.clone(),
                admin: true,
            })?;
            ok()
        }
        Statement::Revoke {
            privilege: p,
            database,
            user,
        } => {
            let data = meta.data();
            let u = data.user(user).ok_or(meta::Error::UserNotFound)?;
            let cur = u
                .privileges
                .get(database)
                .copied()
                .unwrap_or(Privilege::NoPrivileges);
            let new = if *p == influxql::Privilege::All {
                Privilege::NoPrivileges
            } else {
                from_bits(bits(cur) & !bits(privilege(*p)))
            };
            meta.execute(Command::SetPrivilege {
                user: user.clone(),
                database: database.clone(),
                privilege: new,
            })?;
            ok()
        }
        Statement::RevokeAdmin { user } => {
            meta.execute(Command::SetAdminPrivilege {
                user: user.clone(),
                admin: false,
            })?;
            ok()
        }
        Statement::CreateContinuousQuery(s) => {
            // Stored fully qualified, as InfluxDB does.
            let mut cq = s.clone();
            let default_rp = meta
                .data()
                .database(&s.database)
                .map(|d| d.default_retention_policy.clone())
                .ok_or_else(|| Error::DatabaseNotFound(s.database.clone()))?;
            let src = &mut cq.source;
            for so in src.sources.iter_mut() {
                if let Source::Measurement(m) = so {
                    if m.database.is_empty() {
                        m.database = s.database.clone();
                    }
                    if m.retention_policy.is_empty() {
                        m.retention_policy = default_rp.clone();
                    }
                }
            }
            if let Some(t) = src.target.as_mut() {
                if t.measurement.database.is_empty() {
                    t.measurement.database = s.database.clone();
                }
            }
            meta.execute(Command::CreateContinuousQuery {
                database: s.database.clone(),
                name: s.name.clone(),
                query: Statement::CreateContinuousQuery(cq).to_string(),
            })?;
            ok()
        }
        Statement::DropContinuousQuery { name, database } => {
            meta.execute(Command::DropContinuousQuery {
                database: database.clone(),
                name: name.clone(),
            })?;
            ok()
        }
        Statement::CreateSubscription(s) => {
            meta.execute(Command::CreateSubscription {
                database: s.database.clone(),
                policy: s.retention_policy.clone(),
                name: s.name.clone(),
                mode: s.mode.clone(),
                destinations: s.destinations.clone(),
            })?;
            ok()
        }
        Statement::DropSubscription {
            name,
            database,
            retention_policy,
        } => {
            meta.execute(Command::DropSubscription {
                database: database.clone(),
                policy: retention_policy.clone(),
                name: name.clone(),
            })?;
            ok()
        }
        Statement::DropShard { id } => {
            match meta.execute(Command::DropShard { id: *id }) {
                Ok(_) | Err(meta::Error::ShardNotFound) => {}
                Err(e) => return Err(e.into()),
            }
            ex.storage.delete_shard(*id)?;
            ok()
        }
        Statement::DropMeasurement { name } => {
            let db = require_db(ctx)?;
            for sh in db_shards(ex, &db)? {
                sh.drop_measurement(name)?;
            }
            ok()
        }
        Statement::DropSeries(s) => {
            let db = require_db(ctx)?;
            delete_data(ex, &db, &s.sources, s.condition.as_ref(), ctx.now, false)?;
            ok()
        }
        Statement::Delete(s) => {
            let db = require_db(ctx)?;
            delete_data(ex, &db, &s.sources, s.condition.as_ref(), ctx.now, true)?;
            ok()
        }
        Statement::KillQuery { id, .. } => {
            ex.kill(*id)?;
            ok()
        }
        other => Err(Error::msg(format!("unsupported statement: {other}"))),
    }
}

fn bcrypt_matches(hash: &str, password: &str) -> bool {
    let cache = meta::auth::CredentialCache::default();
    let mut data = meta::Data::default();
    data.users.push(meta::UserInfo {
        name: "u".into(),
        hash: hash.to_string(),
        admin: false,
        privileges: Default::default(),
    });
    cache.authenticate(&data, "u", password).is_ok()
}

/// The request's database, or InfluxDB's error.
pub fn require_db(ctx: &ExecutionContext) -> Result<String> {
    if ctx.database.is_empty() {
        return Err(Error::msg("database name required"));
    }
    Ok(ctx.database.clone())
}

/// Every local shard of a database.
pub fn db_shards(
    ex: &QueryExecutor,
    db: &str,
) -> Result<Vec<std::sync::Arc<dyn crate::storage::ShardReader>>> {
    let data = ex.meta.data();
    let dbi = data
        .database(db)
        .ok_or_else(|| Error::DatabaseNotFound(db.to_string()))?;
    let mut out = Vec::new();
    for rp in &dbi.retention_policies {
        for g in rp.shard_groups.iter().filter(|g| g.deleted_at == 0) {
            for s in &g.shards {
                if let Some(sh) = ex.storage.shard(s.id)? {
                    out.push(sh);
                }
            }
        }
    }
    Ok(out)
}

/// Measurement names of `sources` present in `shard` (all when empty).
pub fn source_measurements(
    shard: &dyn crate::storage::ShardReader,
    sources: &[Source],
) -> Vec<String> {
    let all = shard.measurements();
    if sources.is_empty() {
        return all;
    }
    all.into_iter()
        .filter(|n| {
            sources.iter().any(|s| match s {
                Source::Measurement(m) => match &m.regex {
                    Some(re) => re.0.is_match(n),
                    None => m.name == *n,
                },
                Source::SubQuery(_) => false,
            })
        })
        .collect()
}

fn delete_data(
    ex: &QueryExecutor,
    db: &str,
    sources: &[Source],
    condition: Option<&Expr>,
    now: i64,
    allow_time: bool,
) -> Result<()> {
    let (rest, bounds) = cond::split_time(condition, now)?;
    if !allow_time && (bounds.min.is_some() || bounds.max.is_some()) {
        return Err(Error::msg(
            "DROP SERIES doesn't support time in WHERE clause",
        ));
    }
    let range = TimeRange::new(
        bounds.min.unwrap_or(models::MIN_NANOS),
        bounds.max.unwrap_or(models::MAX_NANOS),
    );
    for sh in db_shards(ex, db)? {
        for m in source_measurements(sh.as_ref(), sources) {
            let tags = sh.tag_keys(&m);
            let filter = match &rest {
                Some(e) => {
                    let (f, residual) = cond::split_tags(e, &|n| tags.iter().any(|t| t == n));
                    if residual.is_some() {
                        return Err(Error::msg(format!(
                            "shard {}: fields not supported in WHERE clause during deletion",
                            sh.id()
                        )));
                    }
                    f
                }
                None => TagFilter::True,
            };
            let ids: Vec<u64> = sh.series(&m, &filter).iter().map(|s| s.id).collect();
            if !ids.is_empty() {
                sh.delete(&ids, range)?;
                // A series left without data leaves the index too.
                let fields = sh.fields(&m);
                let empty: Vec<u64> = ids
                    .iter()
                    .copied()
                    .filter(|id| {
                        fields.iter().all(|(f, _)| {
                            sh.read(*id, f, TimeRange::new(models::MIN_NANOS, models::MAX_NANOS))
                                .map(|mut c| c.next().is_none())
                                .unwrap_or(false)
                        })
                    })
                    .collect();
                if !empty.is_empty() {
                    sh.delete(&empty, TimeRange::new(models::MIN_NANOS, models::MAX_NANOS))?;
                }
            }
        }
    }
    Ok(())
}
