//! SELECT execution. Planning ([`plan`]) turns the statement into leaves and
//! per-column expression trees; the shard-local part ([`scan`]) reduces each
//! shard to raw rows or mergeable partial states ([`partial`]); the merge
//! part ([`merge`]) combines shard outputs, fills windows, applies
//! transformations ([`transform`]) and math ([`eval`]) and shapes series.
//!
//! Owns: orchestration of one SELECT over local shards. Must not: parse or
//! format JSON.

pub mod cond;
pub mod eval;
mod holt_winters;
pub mod merge;
mod momentum;
pub mod partial;
pub mod plan;
pub mod rowexpr;
pub mod scan;
mod transform;
pub mod typecheck;
pub mod tz;

#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::result::Series;
use crate::storage::{ShardReader, Storage};
use influxql::{Expr, SelectStatement, Source};
use models::TimeRange;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Limits and identity of the running statement.
pub struct Env<'a> {
    pub data: &'a meta::Data,
    pub storage: &'a dyn Storage,
    pub database: &'a str,
    pub retention_policy: &'a str,
    pub now: i64,
    pub max_select_point: u64,
    pub max_select_series: u64,
    pub max_select_buckets: u64,
    pub cancel: &'a (dyn Fn() -> Result<()> + Sync),
    /// Where a large statement runs (see [`crate::offload`]).
    pub offload: &'a dyn crate::offload::Offload,
}

/// A resolved measurement with the shards holding it.
pub struct Resolved {
    pub name: String,
    pub shards: Vec<Arc<dyn ShardReader>>,
    /// A subquery's result: every inner row is a row of the outer query,
    /// even when only tags are selected from it.
    pub subquery: bool,
}

/// A shard with the time span of its shard group.
struct Bounded {
    inner: Arc<dyn ShardReader>,
    bounds: TimeRange,
}

impl ShardReader for Bounded {
    fn id(&self) -> u64 {
        self.inner.id()
    }
    fn measurements(&self) -> Vec<String> {
        self.inner.measurements()
    }
    fn series(&self, m: &str, f: &crate::storage::TagFilter) -> Vec<crate::storage::SeriesRef> {
        self.inner.series(m, f)
    }
    fn tag_keys(&self, m: &str) -> Vec<String> {
        self.inner.tag_keys(m)
    }
    fn tag_values(&self, m: &str, k: &str) -> Vec<String> {
        self.inner.tag_values(m, k)
    }
    fn fields(&self, m: &str) -> Vec<(String, models::FieldType)> {
        self.inner.fields(m)
    }
    fn read(&self, sid: u64, f: &str, r: TimeRange) -> Result<crate::storage::BlockIter<'_>> {
        self.inner.read(sid, f, r)
    }
    fn estimate_values(&self, sid: u64, f: &str, r: TimeRange) -> u64 {
        self.inner.estimate_values(sid, f, r)
    }
    fn read_stats(&self, sid: u64, f: &str, r: TimeRange) -> crate::storage::ReadStats {
        self.inner.read_stats(sid, f, r)
    }
    fn delete(&self, ids: &[u64], r: TimeRange) -> Result<()> {
        self.inner.delete(ids, r)
    }
    fn drop_measurement(&self, m: &str) -> Result<()> {
        self.inner.drop_measurement(m)
    }
    fn series_count(&self) -> u64 {
        self.inner.series_count()
    }
    fn time_bounds(&self) -> Option<TimeRange> {
        Some(self.bounds)
    }
}

/// Shards of `db.rp` overlapping `[min, max]`.
pub fn shards_for(
    env: &Env<'_>,
    db: &str,
    rp: &str,
    min: i64,
    max: i64,
) -> Result<Vec<Arc<dyn ShardReader>>> {
    let dbi = env
        .data
        .database(db)
        .ok_or_else(|| Error::DatabaseNotFound(db.to_string()))?;
    let rp = if rp.is_empty() {
        dbi.default_retention_policy.as_str()
    } else {
        rp
    };
    if !dbi.retention_policies.iter().any(|r| r.name == rp) {
        return Err(Error::msg(format!("retention policy not found: {rp}")));
    }
    let mut out = Vec::new();
    for g in env.data.shard_groups_by_time_range(db, rp, min, max) {
        for s in &g.shards {
            if let Some(sh) = env.storage.shard(s.id)? {
                let bounds = TimeRange::new(g.start_time, g.effective_end().saturating_sub(1));
                out.push(Arc::new(Bounded { inner: sh, bounds }) as Arc<dyn ShardReader>);
            }
        }
    }
    Ok(out)
}

fn resolve_sources(env: &Env<'_>, sources: &[Source], min: i64, max: i64) -> Result<Vec<Resolved>> {
    let mut by_name: BTreeMap<String, Vec<Arc<dyn ShardReader>>> = BTreeMap::new();
    for s in sources {
        let Source::Measurement(m) = s else { continue };
        let db = if m.database.is_empty() {
            env.database
        } else {
            m.database.as_str()
        };
        if db.is_empty() {
            return Err(Error::msg("database name required"));
        }
        let rp = if m.retention_policy.is_empty() {
            env.retention_policy
        } else {
            m.retention_policy.as_str()
        };
        let shards = shards_for(env, db, rp, min, max)?;
        for sh in shards {
            let names: Vec<String> = match &m.regex {
                Some(re) => sh
                    .measurements()
                    .into_iter()
                    .filter(|n| re.0.is_match(n))
                    .collect(),
                None => {
                    if sh.measurements().contains(&m.name) {
                        vec![m.name.clone()]
                    } else {
                        vec![]
                    }
                }
            };
            for n in names {
                by_name.entry(n).or_default().push(sh.clone());
            }
        }
    }
    Ok(by_name
        .into_iter()
        .map(|(name, shards)| Resolved {
            name,
            shards,
            subquery: false,
        })
        .collect())
}

/// Whether a SELECT can stream in time slices with bounded memory
/// (`chunked=true`): raw fields of one measurement, one output series, no
/// LIMIT/OFFSET, ascending — every slice's rows follow the previous ones.
pub fn streamable(stmt: &SelectStatement) -> bool {
    fn has_call(e: &Expr) -> bool {
        match e {
            Expr::Call(_) | Expr::Distinct(_) => true,
            Expr::Binary(b) => has_call(&b.lhs) || has_call(&b.rhs),
            Expr::Paren(i) => has_call(i),
            _ => false,
        }
    }
    stmt.target.is_none()
        && matches!(stmt.sources.as_slice(), [Source::Measurement(m)] if m.regex.is_none())
        && stmt.dimensions.is_empty()
        && stmt.limit == 0
        && stmt.offset == 0
        && stmt.slimit == 0
        && stmt.soffset == 0
        && !stmt.time_descending()
        && !stmt.fields.iter().any(|f| has_call(&f.expr))
}

/// A [`streamable`] SELECT made ready for slicing: its projection expanded
/// (`*`, regexes) against every shard of its whole time range, so every
/// slice answers with the columns the whole query would have, and the span
/// that holds data. `None` when nothing can match.
pub fn prepare_stream(
    env: &Env<'_>,
    stmt: &SelectStatement,
) -> Result<Option<(SelectStatement, TimeRange)>> {
    let (_, bounds) = cond::split_time(stmt.condition.as_ref(), env.now)?;
    let min = bounds.min.unwrap_or(models::MIN_NANOS);
    let max = bounds.max.unwrap_or(models::MAX_NANOS);
    if min > max {
        return Ok(None);
    }
    let resolved = resolve_sources(env, &stmt.sources, min, max)?;
    let schema = schema_of(&resolved);
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for sh in resolved.iter().flat_map(|r| &r.shards) {
        let b = sh.time_bounds().unwrap_or(TimeRange::new(min, max));
        lo = lo.min(b.min);
        hi = hi.max(b.max);
    }
    if lo > hi {
        return Ok(None);
    }
    let mut expanded = stmt.clone();
    expanded.fields = plan::expand_fields(stmt, &schema, &[]);
    Ok(Some((expanded, TimeRange::new(min.max(lo), max.min(hi)))))
}

/// What EXPLAIN knows of one iterator the statement builds: a function
/// call, or the raw fields together.
pub struct IteratorPlan {
    /// The call with typed references (`mean(usage::float)`), or None for
    /// raw fields.
    pub expr: Option<String>,
    /// References outside calls, typed and sorted.
    pub aux: Vec<String>,
    pub shards: Vec<ShardPlan>,
}

/// One shard an iterator reads.
pub struct ShardPlan {
    pub shard_id: u64,
    pub measurement: String,
    /// The tag condition, typed (`host::tag = 'a'`).
    pub cond: Option<String>,
    pub series: u64,
    /// Series × fields read for the call, for auxiliary fields, and for the
    /// row condition.
    pub cursors_ref: u64,
    pub cursors_aux: u64,
    pub cursors_cond: u64,
    /// Per field type: where the values live.
    pub stats: Vec<(models::FieldType, crate::storage::ReadStats)>,
    /// Time spent planning this shard's part.
    pub planning: std::time::Duration,
}

/// EXPLAIN's view of a SELECT: its iterators and where their data lives
/// (Tidemark's own files and blocks), and the statement as EXPLAIN ANALYZE
/// labels it (typed references, qualified sources).
pub fn explain(env: &Env<'_>, stmt: &SelectStatement) -> Result<(Vec<IteratorPlan>, String)> {
    let (residual, bounds) = cond::split_time(stmt.condition.as_ref(), env.now)?;
    let min = bounds.min.unwrap_or(models::MIN_NANOS);
    let max = bounds.max.unwrap_or(models::MAX_NANOS);
    let resolved = if min > max {
        vec![]
    } else {
        resolve_sources(env, &stmt.sources, min, max)?
    };
    let range = TimeRange::new(min, max);
    let schema = schema_of(&resolved);
    // Calls are iterators of their own; references outside calls ride along
    // as auxiliary fields.
    fn split<'e>(e: &'e Expr, calls: &mut Vec<&'e Expr>, aux: &mut Vec<&'e Expr>) {
        match e {
            // A transformation of an aggregate reads through the aggregate's
            // iterator.
            Expr::Call(c)
                if transform::is_transform(&c.name)
                    && c.args
                        .first()
                        .is_some_and(|a| matches!(a.unparen(), Expr::Call(_))) =>
            {
                if let Some(a) = c.args.first() {
                    split(a.unparen(), calls, aux);
                }
            }
            Expr::Call(_) | Expr::Distinct(_) => calls.push(e),
            Expr::VarRef(_) => aux.push(e),
            Expr::Binary(b) => {
                split(&b.lhs, calls, aux);
                split(&b.rhs, calls, aux);
            }
            Expr::Paren(i) => split(i, calls, aux),
            _ => {}
        }
    }
    fn names(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::VarRef(v) => out.push(v.name.clone()),
            Expr::Distinct(n) => out.push(n.clone()),
            Expr::Call(c) => c.args.iter().for_each(|a| names(a, out)),
            Expr::Binary(b) => {
                names(&b.lhs, out);
                names(&b.rhs, out);
            }
            Expr::Paren(i) => names(i, out),
            _ => {}
        }
    }
    let fields = plan::expand_fields(stmt, &schema, &[]);
    let mut shown = stmt.clone();
    shown.fields = fields
        .iter()
        .map(|f| influxql::Field {
            expr: typecheck::typed_expr(&f.expr, &schema),
            alias: f.alias.clone(),
        })
        .collect();
    shown.condition = stmt
        .condition
        .as_ref()
        .map(|c| typecheck::typed_expr(c, &schema));
    for src in &mut shown.sources {
        if let Source::Measurement(m) = src {
            if m.database.is_empty() {
                m.database = env.database.to_string();
            }
            if m.retention_policy.is_empty() {
                m.retention_policy = if env.retention_policy.is_empty() {
                    env.data
                        .database(&m.database)
                        .map(|d| d.default_retention_policy.clone())
                        .unwrap_or_default()
                } else {
                    env.retention_policy.to_string()
                };
            }
        }
    }
    let shown = shown.to_string();
    if resolved.iter().all(|r| r.shards.is_empty()) {
        return Ok((vec![], shown));
    }
    let (mut calls, mut aux) = (Vec::new(), Vec::new());
    for f in &fields {
        split(&f.expr, &mut calls, &mut aux);
    }
    let mut aux_text: Vec<String> = aux
        .iter()
        .map(|e| typecheck::typed_text(e, &schema))
        .collect();
    aux_text.sort();
    aux_text.dedup();
    let mut aux_names = Vec::new();
    aux.iter().for_each(|e| names(e, &mut aux_names));
    aux_names.sort();
    aux_names.dedup();
    let iterators: Vec<(Option<&Expr>, Vec<String>)> = if calls.is_empty() {
        vec![(None, Vec::new())]
    } else {
        calls
            .iter()
            .map(|c| {
                let mut read = Vec::new();
                names(c, &mut read);
                read.sort();
                read.dedup();
                (Some(*c), read)
            })
            .collect()
    };
    let mut cond_names = Vec::new();
    let mut out = Vec::new();
    for (call, read) in iterators {
        let mut shards = Vec::new();
        for r in &resolved {
            let fields: std::collections::HashSet<String> = r
                .shards
                .iter()
                .flat_map(|s| s.fields(&r.name).into_iter().map(|f| f.0))
                .collect();
            let (filter, rest) = match &residual {
                Some(e) => cond::split_tags(e, &|n| {
                    !fields.contains(n) && !n.eq_ignore_ascii_case("time")
                }),
                None => (crate::storage::TagFilter::True, None),
            };
            cond_names.clear();
            if let Some(rest) = &rest {
                cond::var_refs(rest, &mut cond_names);
            }
            let cond_text = residual.as_ref().map(|e| typecheck::typed_text(e, &schema));
            for sh in &r.shards {
                let started = std::time::Instant::now();
                let series = sh.series(&r.name, &filter);
                let mut plan = ShardPlan {
                    shard_id: sh.id(),
                    measurement: r.name.clone(),
                    cond: cond_text.clone(),
                    series: series.len() as u64,
                    cursors_ref: 0,
                    cursors_aux: 0,
                    cursors_cond: 0,
                    stats: Vec::new(),
                    planning: std::time::Duration::ZERO,
                };
                let per =
                    |list: &[String]| list.iter().filter(|f| fields.contains(*f)).count() as u64;
                plan.cursors_ref = plan.series * per(&read);
                plan.cursors_aux = plan.series * per(&aux_names);
                plan.cursors_cond = plan.series * per(&cond_names);
                // Every cursor reads on its own: a field both selected and
                // tested is counted twice, as InfluxDB counts it.
                let all: Vec<&String> = read.iter().chain(&aux_names).chain(&cond_names).collect();
                for s in &series {
                    for f in &all {
                        let Some(&t) = schema.fields.get(*f) else {
                            continue;
                        };
                        let st = sh.read_stats(s.id, f, range);
                        match plan.stats.iter_mut().find(|(k, _)| *k == t) {
                            Some((_, acc)) => {
                                acc.cached += st.cached;
                                acc.files += st.files;
                                acc.blocks += st.blocks;
                                acc.block_bytes += st.block_bytes;
                            }
                            None => plan.stats.push((t, st)),
                        }
                    }
                }
                plan.planning = started.elapsed();
                shards.push(plan);
            }
        }
        out.push(IteratorPlan {
            expr: call.map(|c| typecheck::typed_text(c, &schema)),
            aux: aux_text.clone(),
            shards,
        });
    }
    Ok((out, shown))
}

/// About how many values `stmt` reads in `range` by the block headers
/// (every series of its measurements, tag conditions ignored), counting no
/// further than just past `cap`.
pub fn estimate_values(
    env: &Env<'_>,
    stmt: &SelectStatement,
    range: TimeRange,
    cap: u64,
) -> Result<u64> {
    fn names(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::VarRef(v) => out.push(v.name.clone()),
            Expr::Binary(b) => {
                names(&b.lhs, out);
                names(&b.rhs, out);
            }
            Expr::Paren(i) => names(i, out),
            Expr::Call(c) => c.args.iter().for_each(|a| names(a, out)),
            _ => {}
        }
    }
    let mut fields = Vec::new();
    for f in &stmt.fields {
        names(&f.expr, &mut fields);
    }
    fields.sort();
    fields.dedup();
    let mut n: u64 = 0;
    for r in resolve_sources(env, &stmt.sources, range.min, range.max)? {
        for sh in &r.shards {
            for s in sh.series(&r.name, &crate::storage::TagFilter::True) {
                for f in &fields {
                    n = n.saturating_add(sh.estimate_values(s.id, f, range));
                    if n > cap {
                        return Ok(n);
                    }
                }
            }
        }
    }
    Ok(n)
}

/// `stmt` restricted to `[min, max]` (nanoseconds, inclusive).
pub fn with_time_range(stmt: &SelectStatement, min: i64, max: i64) -> SelectStatement {
    let mut s = stmt.clone();
    let tref = || Expr::VarRef(influxql::VarRef::new("time"));
    let range = Expr::binary(
        Expr::binary(tref(), influxql::BinaryOp::Gte, Expr::Time(min)),
        influxql::BinaryOp::And,
        Expr::binary(tref(), influxql::BinaryOp::Lte, Expr::Time(max)),
    );
    s.condition = Some(match s.condition.take() {
        Some(e) => Expr::binary(Expr::Paren(Box::new(e)), influxql::BinaryOp::And, range),
        None => range,
    });
    s
}

/// Executes a SELECT and returns its series (INTO is handled by the caller).
pub fn run(env: &Env<'_>, stmt: &SelectStatement) -> Result<Vec<Series>> {
    run_into(env, stmt).map(|r| r.0)
}

/// Like [`run`], also naming the columns SELECT INTO writes as tags.
pub fn run_into(env: &Env<'_>, stmt: &SelectStatement) -> Result<(Vec<Series>, Vec<String>)> {
    let (residual, bounds) = cond::split_time(stmt.condition.as_ref(), env.now)?;
    let has_interval = stmt
        .dimensions
        .iter()
        .any(|d| matches!(d.expr.unparen(), Expr::Call(c) if c.name == "time"));
    let min = bounds.min.unwrap_or(models::MIN_NANOS);
    let max = bounds.max.unwrap_or(if has_interval {
        env.now
    } else {
        models::MAX_NANOS
    });
    if min > max {
        return Ok((vec![], vec![]));
    }
    // Subqueries become in-memory shards holding the inner result.
    let mut resolved = Vec::new();
    for s in &stmt.sources {
        if let Source::SubQuery(inner) = s {
            // The outer time range restricts the inner query.
            let mut inner = inner.as_ref().clone();
            let tref = || Expr::VarRef(influxql::VarRef::new("time"));
            let mut conds = Vec::new();
            if let Some(m) = bounds.min {
                conds.push(Expr::binary(tref(), influxql::BinaryOp::Gte, Expr::Time(m)));
            }
            if let Some(m) = bounds.max {
                conds.push(Expr::binary(tref(), influxql::BinaryOp::Lte, Expr::Time(m)));
            }
            for c in conds {
                inner.condition = Some(match inner.condition.take() {
                    Some(e) => Expr::binary(Expr::Paren(Box::new(e)), influxql::BinaryOp::And, c),
                    None => c,
                });
            }
            // The outer GROUP BY tags group the inner query too, as in
            // InfluxDB: `SELECT min(x) FROM (SELECT top(v, 2) ...) GROUP BY
            // host` takes the top two of every host.
            for d in &stmt.dimensions {
                if let Expr::VarRef(v) = d.expr.unparen() {
                    let present = inner
                        .dimensions
                        .iter()
                        .any(|e| matches!(e.expr.unparen(), Expr::VarRef(w) if w.name == v.name));
                    if !present {
                        inner.dimensions.push(influxql::Dimension {
                            expr: Expr::VarRef(v.clone()),
                        });
                    }
                }
            }
            resolved.extend(merge::subquery_source(env, &inner)?);
        }
    }
    resolved.extend(resolve_sources(env, &stmt.sources, min, max)?);
    // Schema of all measurements (union).
    let schema = schema_of(&resolved);
    let plan = plan::build(stmt, &schema)?;
    // Transforms over windows read intervals before the start.
    let out_min = min;
    let min = if plan.lookback > 0 && bounds.min.is_some() {
        let start = plan.window_start(min);
        start.saturating_sub(plan.lookback.saturating_mul(plan.interval))
    } else {
        min
    };
    let bounds = cond::TimeBounds {
        min: bounds.min.map(|_| min),
        max: bounds.max,
    };
    let range = TimeRange::new(min, max);
    if plan.interval > 0 && env.max_select_buckets > 0 && bounds.min.is_some() {
        // i128: the span of the whole time range does not fit an i64.
        let buckets = (i128::from(max) - i128::from(min)) / i128::from(plan.interval) + 1;
        if buckets > i128::from(env.max_select_buckets) {
            return Err(Error::msg(format!(
                "max-select-buckets limit exceeded: ({}/{})",
                buckets, env.max_select_buckets
            )));
        }
    }
    // Per measurement: its plan (GROUP BY * names its tags) and the split of
    // the residual condition into a series filter and a row condition.
    let prepared: Vec<Prepared> = resolved
        .iter()
        .map(|r| prepare(r, &plan, residual.as_ref()))
        .collect();
    let points = AtomicU64::new(0);
    let series_n = AtomicU64::new(0);
    let scan_and_merge = || -> Result<Vec<Series>> {
        let mut out = Vec::new();
        for (r, p) in resolved.iter().zip(&prepared) {
            let plan_ref = p.plan.as_ref().unwrap_or(&plan);
            let spec = scan::ScanSpec {
                measurement: &r.name,
                plan: plan_ref,
                filter: &p.filter,
                residual: p.rest.as_ref(),
                range,
                fixed_window: if plan.interval > 0 {
                    0
                } else if bounds.min.is_some() {
                    min
                } else {
                    0
                },
                cancel: env.cancel,
                points: &points,
                max_points: env.max_select_point,
                series: &series_n,
                max_series: env.max_select_series,
                all_fields: r.subquery,
                edge_hint: std::sync::atomic::AtomicI64::new(i64::MIN),
                raw_limit: (!plan_ref.aggregate
                    && stmt.limit > 0
                    && !plan_ref.nodes.iter().any(merge::has_transform))
                .then(|| {
                    (
                        (stmt.limit.saturating_add(stmt.offset)).min(usize::MAX as u64) as usize,
                        stmt.time_descending(),
                    )
                }),
            };
            let outputs = scan_all(&r.shards, &spec)?;
            let merged = merge::combine(plan_ref, outputs);
            out.extend(merge::finish(
                plan_ref, stmt, &r.name, merged, bounds, max, out_min, r.subquery,
            )?);
        }
        Ok(out)
    };
    let mut out = if is_light(&resolved, &prepared, &plan, stmt.fill, range) {
        scan_and_merge()?
    } else {
        crate::offload::offloaded(env.offload, scan_and_merge)?
    };
    if stmt.time_descending() {
        out.reverse();
    }
    // SLIMIT / SOFFSET over the series list.
    let mut out: Vec<Series> = out.into_iter().skip(stmt.soffset as usize).collect();
    if stmt.slimit > 0 {
        out.truncate(stmt.slimit as usize);
    }
    Ok((out, plan.into_tags))
}

/// The union of the fields (first type seen wins) and the sorted tag keys
/// of the resolved measurements (a subquery's row marker is no field).
fn schema_of(resolved: &[Resolved]) -> plan::Schema {
    let mut schema = plan::Schema::default();
    for r in resolved {
        for sh in &r.shards {
            for (f, t) in sh.fields(&r.name) {
                if f != merge::ROW_MARKER {
                    schema.fields.entry(f).or_insert(t);
                }
            }
            for t in sh.tag_keys(&r.name) {
                if !schema.tags.contains(&t) {
                    schema.tags.push(t);
                }
            }
        }
    }
    schema.tags.sort();
    schema
}

/// What one resolved measurement scans with.
struct Prepared {
    /// The statement's plan with GROUP BY * expanded, when it differs.
    plan: Option<plan::Plan>,
    filter: crate::storage::TagFilter,
    rest: Option<Expr>,
}

fn prepare(r: &Resolved, plan: &plan::Plan, residual: Option<&Expr>) -> Prepared {
    let plan = plan.group_all.then(|| {
        let mut tags: Vec<String> = r.shards.iter().flat_map(|s| s.tag_keys(&r.name)).collect();
        tags.sort();
        tags.dedup();
        let mut p = plan.clone();
        p.group_tags = tags;
        p
    });
    let fields: std::collections::HashSet<String> = r
        .shards
        .iter()
        .flat_map(|s| s.fields(&r.name).into_iter().map(|f| f.0))
        .collect();
    // Identifiers that are not fields compare as tags (missing tag = "").
    let (filter, rest) = match residual {
        Some(e) => cond::split_tags(e, &|n| {
            !fields.contains(n) && !n.eq_ignore_ascii_case("time")
        }),
        None => (crate::storage::TagFilter::True, None),
    };
    Prepared { plan, filter, rest }
}

/// Whether a statement is small enough to run on the thread that received
/// it (see [`crate::offload`]): one shard per measurement, at most
/// [`crate::offload::INLINE_MAX_VALUES`] values to read by the block
/// headers, at most [`crate::offload::INLINE_MAX_WINDOWS`] windows to fill.
fn is_light(
    resolved: &[Resolved],
    prepared: &[Prepared],
    plan: &plan::Plan,
    fill: influxql::Fill,
    range: TimeRange,
) -> bool {
    use crate::offload::{INLINE_MAX_VALUES, INLINE_MAX_WINDOWS};
    let fields: Vec<&str> = plan
        .aggs
        .iter()
        .map(|a| a.field.as_str())
        .chain(plan.vars.iter().map(String::as_str))
        .collect();
    let mut values: u64 = 0;
    let mut series_total: u64 = 0;
    for (r, p) in resolved.iter().zip(prepared) {
        if r.subquery || r.shards.len() > 1 {
            return false;
        }
        for sh in &r.shards {
            let series = sh.series(&r.name, &p.filter);
            series_total += series.len() as u64;
            for s in &series {
                for f in &fields {
                    values = values.saturating_add(sh.estimate_values(s.id, f, range));
                    if values > INLINE_MAX_VALUES {
                        return false;
                    }
                }
            }
        }
    }
    if plan.interval > 0 && fill != influxql::Fill::None {
        let span = range.max.saturating_sub(range.min);
        let windows = (span / plan.interval).saturating_add(1) as u64;
        if windows.saturating_mul(series_total.max(1)) > INLINE_MAX_WINDOWS {
            return false;
        }
    }
    true
}

/// Scans shards, in parallel when there are several.
fn scan_all(
    shards: &[Arc<dyn ShardReader>],
    spec: &scan::ScanSpec<'_>,
) -> Result<Vec<scan::ShardOutput>> {
    if shards.len() <= 1 {
        return shards
            .iter()
            .map(|s| scan::scan_shard(s.as_ref(), spec))
            .collect();
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(shards.len());
    let chunks: Vec<Vec<Arc<dyn ShardReader>>> = (0..threads)
        .map(|i| shards.iter().skip(i).step_by(threads).cloned().collect())
        .collect();
    std::thread::scope(|sc| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                sc.spawn(move || {
                    chunk
                        .iter()
                        .map(|s| scan::scan_shard(s.as_ref(), spec))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            match h.join() {
                Ok(r) => all.extend(r?),
                Err(_) => return Err(Error::msg("shard scan panicked")),
            }
        }
        Ok(all)
    })
}
