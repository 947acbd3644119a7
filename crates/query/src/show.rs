//! SHOW statements (metadata from the meta snapshot, schema gathered from
//! every local shard of the database and merged sorted/deduplicated), and
//! EXPLAIN.
//!
//! Owns: the result shapes of SHOW. Must not: change metadata or data.

use crate::ddl::{db_shards, source_measurements};
use crate::error::{Error, Result};
use crate::executor::{ExecutionContext, QueryExecutor};
use crate::result::{Series, StatementResult, Value};
use crate::select::cond;
use crate::storage::{ShardReader, TagFilter};
use influxql::{CardinalityKind, Expr, Source, Statement, TagKeyFilter};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn series(name: &str, columns: &[&str], values: Vec<Vec<Value>>) -> Series {
    Series {
        name: name.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        values,
        ..Default::default()
    }
}

fn one(s: Series) -> StatementResult {
    StatementResult {
        series: vec![s],
        ..Default::default()
    }
}

fn many(s: Vec<Series>) -> StatementResult {
    StatementResult {
        series: s,
        ..Default::default()
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn page<T>(v: Vec<T>, offset: u64, limit: u64) -> Vec<T> {
    v.into_iter()
        .skip(offset as usize)
        .take(if limit > 0 {
            limit as usize
        } else {
            usize::MAX
        })
        .collect()
}

fn database(db: &Option<String>, ctx: &ExecutionContext) -> Result<String> {
    match db {
        Some(d) if !d.is_empty() => Ok(d.clone()),
        _ if !ctx.database.is_empty() => Ok(ctx.database.clone()),
        _ => Err(Error::msg("database name required")),
    }
}

/// Filter of a SHOW's WHERE clause; `what` names the statement for the
/// "doesn't support time" error (None: time is allowed and ignored).
fn where_filter(
    cond_expr: Option<&Expr>,
    tags: &[String],
    what: Option<&str>,
) -> Result<TagFilter> {
    let Some(e) = cond_expr else {
        return Ok(TagFilter::True);
    };
    let (rest, b) = cond::split_time(Some(e), 0)?;
    if let Some(w) = what {
        if b.min.is_some() || b.max.is_some() {
            return Err(Error::msg(format!(
                "{w} doesn't support time in WHERE clause"
            )));
        }
    }
    Ok(match rest {
        Some(r) => cond::split_tags(&r, &|n| tags.iter().any(|t| t == n)).0,
        None => TagFilter::True,
    })
}

fn has_time(e: Option<&Expr>) -> bool {
    let mut refs = Vec::new();
    if let Some(e) = e {
        cond::var_refs(e, &mut refs);
    }
    refs.iter().any(|r| r.eq_ignore_ascii_case("time"))
}

/// Measurement -> shards holding it, restricted to `sources`.
fn measurement_shards(
    shards: &[Arc<dyn ShardReader>],
    sources: &[Source],
) -> BTreeMap<String, Vec<Arc<dyn ShardReader>>> {
    let mut out: BTreeMap<String, Vec<Arc<dyn ShardReader>>> = BTreeMap::new();
    for sh in shards {
        for m in source_measurements(sh.as_ref(), sources) {
            out.entry(m).or_default().push(sh.clone());
        }
    }
    out
}

fn all_tags(shards: &[Arc<dyn ShardReader>], m: &str) -> Vec<String> {
    let mut t: Vec<String> = shards.iter().flat_map(|s| s.tag_keys(m)).collect();
    t.sort();
    t.dedup();
    t
}

/// Series keys (with tags) of `m` matching `cond_expr`.
fn matching_series(
    shards: &[Arc<dyn ShardReader>],
    m: &str,
    cond_expr: Option<&Expr>,
    what: Option<&str>,
) -> Result<BTreeMap<String, Vec<(String, String)>>> {
    let tags = all_tags(shards, m);
    let f = where_filter(cond_expr, &tags, what)?;
    let mut out = BTreeMap::new();
    for sh in shards {
        for s in sh.series(m, &f) {
            out.insert(s.key, s.tags);
        }
    }
    Ok(out)
}

fn key_matches(f: &TagKeyFilter, k: &str) -> bool {
    match f {
        TagKeyFilter::Eq(x) => x == k,
        TagKeyFilter::Neq(x) => x != k,
        TagKeyFilter::In(v) => v.iter().any(|x| x == k),
        TagKeyFilter::EqRegex(r) => r.0.is_match(k),
        TagKeyFilter::NeqRegex(r) => !r.0.is_match(k),
    }
}

/// Executes SHOW statements; `None` when `stmt` is not one.
pub fn execute(
    ex: &QueryExecutor,
    stmt: &Statement,
    ctx: &ExecutionContext,
) -> Result<Option<StatementResult>> {
    let data = ex.meta.data();
    Ok(Some(match stmt {
        Statement::ShowDatabases => {
            let user = ctx.user.as_ref().and_then(|u| data.user(u));
            let vals = data
                .databases
                .iter()
                .filter(|d| match user {
                    Some(u) if !u.admin => u
                        .privileges
                        .get(&d.name)
                        .is_some_and(|p| *p != meta::Privilege::NoPrivileges),
                    _ => true,
                })
                .map(|d| vec![s(&d.name)])
                .collect();
            one(series("databases", &["name"], vals))
        }
        Statement::ShowRetentionPolicies { database: db } => {
            let db = database(db, ctx)?;
            let d = data
                .database(&db)
                .ok_or_else(|| Error::DatabaseNotFound(db.clone()))?;
            let vals = d
                .retention_policies
                .iter()
                .map(|r| {
                    vec![
                        s(&r.name),
                        s(&influxql::format_go_duration(r.duration)),
                        s(&influxql::format_go_duration(r.shard_group_duration)),
                        Value::Integer(r.replica_n as i64),
                        Value::Bool(r.name == d.default_retention_policy),
                    ]
                })
                .collect();
            one(series(
                "",
                &[
                    "name",
                    "duration",
                    "shardGroupDuration",
                    "replicaN",
                    "default",
                ],
                vals,
            ))
        }
        Statement::ShowUsers => {
            let vals = data
                .users
                .iter()
                .map(|u| vec![s(&u.name), Value::Bool(u.admin)])
                .collect();
            one(series("", &["user", "admin"], vals))
        }
        Statement::ShowGrants { user } => {
            let u = data.user(user).ok_or(meta::Error::UserNotFound)?;
            let vals = u
                .privileges
                .iter()
                .map(|(d, p)| vec![s(d), s(p.as_str())])
                .collect();
            one(series("", &["database", "privilege"], vals))
        }
        Statement::ShowContinuousQueries => many(
            data.databases
                .iter()
                .map(|d| {
                    series(
                        &d.name,
                        &["name", "query"],
                        d.continuous_queries
                            .iter()
                            .map(|c| vec![s(&c.name), s(&c.query)])
                            .collect(),
                    )
                })
                .collect(),
        ),
        Statement::ShowSubscriptions => many(
            data.databases
                .iter()
                .filter_map(|d| {
                    let vals: Vec<Vec<Value>> = d
                        .retention_policies
                        .iter()
                        .flat_map(|r| {
                            r.subscriptions.iter().map(move |sub| {
                                vec![
                                    s(&r.name),
                                    s(&sub.name),
                                    s(&sub.mode),
                                    Value::String(format!("[{}]", sub.destinations.join(" "))),
                                ]
                            })
                        })
                        .collect();
                    (!vals.is_empty()).then(|| {
                        series(
                            &d.name,
                            &["retention_policy", "name", "mode", "destinations"],
                            vals,
                        )
                    })
                })
                .collect(),
        ),
        Statement::ShowShards => many(
            data.databases
                .iter()
                .map(|d| {
                    let mut vals = Vec::new();
                    for r in &d.retention_policies {
                        for g in r.shard_groups.iter().filter(|g| g.deleted_at == 0) {
                            for sh in &g.shards {
                                let expiry = if r.duration == 0 {
                                    g.end_time
                                } else {
                                    g.end_time.saturating_add(r.duration)
                                };
                                vals.push(vec![
                                    Value::Integer(sh.id as i64),
                                    s(&d.name),
                                    s(&r.name),
                                    Value::Integer(g.id as i64),
                                    s(&crate::result::format_rfc3339_nano(g.start_time)),
                                    s(&crate::result::format_rfc3339_nano(g.end_time)),
                                    s(&crate::result::format_rfc3339_nano(expiry)),
                                    s(&sh
                                        .owners
                                        .iter()
                                        .map(|o| o.to_string())
                                        .collect::<Vec<_>>()
                                        .join(",")),
                                ]);
                            }
                        }
                    }
                    series(
                        &d.name,
                        &[
                            "id",
                            "database",
                            "retention_policy",
                            "shard_group",
                            "start_time",
                            "end_time",
                            "expiry_time",
                            "owners",
                        ],
                        vals,
                    )
                })
                .collect(),
        ),
        Statement::ShowShardGroups => {
            let mut vals = Vec::new();
            for d in &data.databases {
                for r in &d.retention_policies {
                    for g in r.shard_groups.iter().filter(|g| g.deleted_at == 0) {
                        let expiry = if r.duration == 0 {
                            g.end_time
                        } else {
                            g.end_time.saturating_add(r.duration)
                        };
                        vals.push(vec![
                            Value::Integer(g.id as i64),
                            s(&d.name),
                            s(&r.name),
                            s(&crate::result::format_rfc3339_nano(g.start_time)),
                            s(&crate::result::format_rfc3339_nano(g.end_time)),
                            s(&crate::result::format_rfc3339_nano(expiry)),
                        ]);
                    }
                }
            }
            one(series(
                "shard groups",
                &[
                    "id",
                    "database",
                    "retention_policy",
                    "start_time",
                    "end_time",
                    "expiry_time",
                ],
                vals,
            ))
        }
        Statement::ShowQueries => {
            let vals = ex
                .queries()
                .into_iter()
                .map(|q| {
                    vec![
                        Value::Integer(q.id as i64),
                        s(&q.query),
                        s(&q.database),
                        s(&format_short_duration(q.duration)),
                        s(&q.status),
                    ]
                })
                .collect();
            one(series(
                "",
                &["qid", "query", "database", "duration", "status"],
                vals,
            ))
        }
        Statement::ShowStats { module } => {
            let mut stats = ex.system_info().map(|i| i.statistics()).unwrap_or_default();
            stats.push(crate::system::Statistic {
                name: "queryExecutor".into(),
                tags: Default::default(),
                values: vec![(
                    "queriesActive".into(),
                    Value::Integer(ex.queries().len() as i64),
                )],
            });
            many(crate::system::stats_series(stats, module.as_deref()))
        }
        Statement::ShowDiagnostics { module } => {
            let all = ex
                .system_info()
                .map(|i| i.diagnostics())
                .unwrap_or_default();
            many(crate::system::diagnostics_series(all, module.as_deref()))
        }
        Statement::ShowMeasurements(st) => {
            let db = database(&st.database, ctx)?;
            if has_time(st.condition.as_ref()) {
                return Err(Error::msg(
                    "SHOW MEASUREMENTS doesn't support time in WHERE clause",
                ));
            }
            let shards = db_shards(ex, &db)?;
            let mut names = BTreeSet::new();
            for (m, shs) in measurement_shards(&shards, &[]) {
                if let Some(src) = &st.source {
                    let ok = match &src.regex {
                        Some(re) => re.0.is_match(&m),
                        None => src.name == m,
                    };
                    if !ok {
                        continue;
                    }
                }
                if let Some(c) = &st.condition {
                    // A lone negative tag comparison works on the
                    // measurement's tag values: excluded when any matches.
                    if let Some(pos) = positive_of_negation(c) {
                        if !matching_series(&shs, &m, Some(&pos), None)?.is_empty() {
                            continue;
                        }
                    } else if matching_series(&shs, &m, Some(c), None)?.is_empty() {
                        continue;
                    }
                }
                names.insert(m);
            }
            let vals: Vec<Vec<Value>> = page(
                names.into_iter().map(|n| vec![Value::String(n)]).collect(),
                st.offset,
                st.limit,
            );
            if vals.is_empty() {
                return Ok(Some(StatementResult::default()));
            }
            one(series("measurements", &["name"], vals))
        }
        Statement::ShowSeries(st) => {
            let db = database(&st.database, ctx)?;
            let shards = db_shards(ex, &db)?;
            let mut keys = BTreeSet::new();
            for (m, shs) in measurement_shards(&shards, &st.sources) {
                keys.extend(matching_series(&shs, &m, st.condition.as_ref(), None)?.into_keys());
            }
            let vals: Vec<Vec<Value>> = page(
                keys.into_iter().map(|k| vec![Value::String(k)]).collect(),
                st.offset,
                st.limit,
            );
            if vals.is_empty() {
                return Ok(Some(StatementResult::default()));
            }
            one(series("", &["key"], vals))
        }
        Statement::ShowTagKeys(st) => {
            let db = database(&st.database, ctx)?;
            let shards = db_shards(ex, &db)?;
            let mut out = Vec::new();
            for (m, shs) in measurement_shards(&shards, &st.sources) {
                let keys: BTreeSet<String> = if st.condition.is_some() {
                    matching_series(&shs, &m, st.condition.as_ref(), None)?
                        .into_values()
                        .flat_map(|t| t.into_iter().map(|(k, _)| k))
                        .collect()
                } else {
                    all_tags(&shs, &m).into_iter().collect()
                };
                let keys: Vec<Vec<Value>> = keys
                    .into_iter()
                    .filter(|k| st.tag_key.as_ref().is_none_or(|f| key_matches(f, k)))
                    .map(|k| vec![Value::String(k)])
                    .collect();
                let keys = page(keys, st.offset, st.limit);
                if !keys.is_empty() {
                    out.push(series(&m, &["tagKey"], keys));
                }
            }
            many(page(out, st.soffset, st.slimit))
        }
        Statement::ShowTagValues(st) => {
            let db = database(&st.database, ctx)?;
            let shards = db_shards(ex, &db)?;
            let mut out = Vec::new();
            for (m, shs) in measurement_shards(&shards, &st.sources) {
                let mut pairs = BTreeSet::new();
                for tags in matching_series(&shs, &m, st.condition.as_ref(), None)?.into_values() {
                    for (k, v) in tags {
                        if key_matches(&st.tag_key, &k) {
                            pairs.insert((k, v));
                        }
                    }
                }
                let vals: Vec<Vec<Value>> = pairs
                    .into_iter()
                    .map(|(k, v)| vec![Value::String(k), Value::String(v)])
                    .collect();
                let vals = page(vals, st.offset, st.limit);
                if !vals.is_empty() {
                    out.push(series(&m, &["key", "value"], vals));
                }
            }
            many(out)
        }
        Statement::ShowFieldKeys(st) => {
            let db = database(&st.database, ctx)?;
            let shards = db_shards(ex, &db)?;
            let mut out = Vec::new();
            for (m, shs) in measurement_shards(&shards, &st.sources) {
                let mut fields: BTreeMap<String, models::FieldType> = BTreeMap::new();
                for sh in &shs {
                    for (f, t) in sh.fields(&m) {
                        fields.entry(f).or_insert(t);
                    }
                }
                let vals: Vec<Vec<Value>> = fields
                    .into_iter()
                    .map(|(f, t)| vec![Value::String(f), s(t.as_str())])
                    .collect();
                let vals = page(vals, st.offset, st.limit);
                if !vals.is_empty() {
                    out.push(series(&m, &["fieldKey", "fieldType"], vals));
                }
            }
            many(out)
        }
        Statement::ShowCardinality(st) => cardinality(ex, st, ctx)?,
        _ => return Ok(None),
    }))
}

fn cardinality(
    ex: &QueryExecutor,
    st: &influxql::ShowCardinalityStatement,
    ctx: &ExecutionContext,
) -> Result<StatementResult> {
    let db = database(&st.database, ctx)?;
    let shards = db_shards(ex, &db)?;
    let what = match &st.kind {
        CardinalityKind::Measurement => "SHOW MEASUREMENT EXACT CARDINALITY",
        CardinalityKind::Series => "SHOW SERIES EXACT CARDINALITY",
        CardinalityKind::TagKey => "SHOW TAG KEY EXACT CARDINALITY",
        CardinalityKind::TagValues(_) => "SHOW TAG VALUES EXACT CARDINALITY",
        CardinalityKind::FieldKey => "SHOW FIELD KEY EXACT CARDINALITY",
    };
    if has_time(st.condition.as_ref()) {
        return Err(Error::msg(format!(
            "{what} doesn't support time in WHERE clause"
        )));
    }
    let ms = measurement_shards(&shards, &st.sources);
    let count = |n: usize| vec![vec![Value::Integer(n as i64)]];
    // Plain SERIES/MEASUREMENT CARDINALITY: the database-wide estimate
    // (exact here).
    let plain =
        !st.exact && st.sources.is_empty() && st.condition.is_none() && st.dimensions.is_empty();
    if plain
        && matches!(
            st.kind,
            CardinalityKind::Series | CardinalityKind::Measurement
        )
    {
        let n = match st.kind {
            CardinalityKind::Series => {
                let mut keys = BTreeSet::new();
                for (m, shs) in &ms {
                    keys.extend(matching_series(shs, m, None, None)?.into_keys());
                }
                keys.len()
            }
            _ => ms.len(),
        };
        return Ok(one(series("", &["cardinality estimation"], count(n))));
    }
    match &st.kind {
        CardinalityKind::Measurement => {
            let mut n = 0;
            for (m, shs) in &ms {
                if st.condition.is_none()
                    || !matching_series(shs, m, st.condition.as_ref(), None)?.is_empty()
                {
                    n += 1;
                }
            }
            if n == 0 {
                return Ok(StatementResult::default());
            }
            Ok(one(series("", &["count"], count(n))))
        }
        kind => {
            let mut out = Vec::new();
            for (m, shs) in &ms {
                let mut sers = matching_series(shs, m, st.condition.as_ref(), None)?;
                if matches!(kind, CardinalityKind::TagValues(_)) {
                    // Negative comparisons only match series having the tag.
                    let mut neg = Vec::new();
                    if let Some(c) = &st.condition {
                        negated_tags(c, &mut neg);
                    }
                    sers.retain(|_, tags| neg.iter().all(|k| tags.iter().any(|(t, _)| t == k)));
                }
                let n = match kind {
                    CardinalityKind::Series => sers.len(),
                    CardinalityKind::TagKey => sers
                        .values()
                        .flat_map(|t| t.iter().map(|(k, _)| k.clone()))
                        .collect::<BTreeSet<_>>()
                        .len(),
                    CardinalityKind::TagValues(f) => sers
                        .values()
                        .flat_map(|t| t.iter().filter(|(k, _)| key_matches(f, k)).cloned())
                        .collect::<BTreeSet<_>>()
                        .len(),
                    _ => {
                        let mut f: BTreeSet<String> = BTreeSet::new();
                        for sh in shs {
                            f.extend(sh.fields(m).into_iter().map(|x| x.0));
                        }
                        f.len()
                    }
                };
                if n > 0 {
                    out.push(series(m, &["count"], count(n)));
                }
            }
            Ok(many(out))
        }
    }
}

/// `tag != v` / `tag !~ /re/` as its positive form, when that is the whole
/// condition.
fn positive_of_negation(e: &Expr) -> Option<Expr> {
    let Expr::Binary(b) = e.unparen() else {
        return None;
    };
    let op = match b.op {
        influxql::BinaryOp::Neq => influxql::BinaryOp::Eq,
        influxql::BinaryOp::NeqRegex => influxql::BinaryOp::EqRegex,
        _ => return None,
    };
    matches!(b.lhs.unparen(), Expr::VarRef(_))
        .then(|| Expr::binary(b.lhs.clone(), op, b.rhs.clone()))
}

/// Tag keys used in `!=` / `!~` comparisons.
fn negated_tags(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Paren(i) => negated_tags(i, out),
        Expr::Binary(b) => {
            if matches!(b.op, influxql::BinaryOp::Neq | influxql::BinaryOp::NeqRegex) {
                if let Expr::VarRef(v) = b.lhs.unparen() {
                    out.push(v.name.clone());
                }
            }
            negated_tags(&b.lhs, out);
            negated_tags(&b.rhs, out);
        }
        _ => {}
    }
}

/// Go-style short duration (`12ms`, `1.5s`, `150µs`).
fn format_short_duration(d: std::time::Duration) -> String {
    let ns = d.as_nanos() as i64;
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{}µs", ns / 1_000)
    } else if ns < 1_000_000_000 {
        format!("{}ms", ns / 1_000_000)
    } else {
        format!("{}s", ns / 1_000_000_000)
    }
}

/// EXPLAIN: a textual plan.
/// A `QUERY PLAN` answer, one line per row.
pub fn query_plan(column: &str, lines: Vec<String>) -> StatementResult {
    one(series(
        "",
        &[column],
        lines.into_iter().map(|l| vec![Value::String(l)]).collect(),
    ))
}
