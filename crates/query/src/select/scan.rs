//! The shard-local half of SELECT execution: finds the series of one shard,
//! groups them, and produces either raw rows or partial aggregate states per
//! (group, window). The output ([`ShardOutput`]) is serde-serialisable so a
//! remote node can ship it to the merging node.
//!
//! Owns: reading and reducing one shard. Must not: fill, transform, order
//! or format results (that is the merge side).

use super::partial::{col_value, push, push_block, AggKind, Partial};
use super::plan::Plan;
use crate::error::{Error, Result};
use crate::result::Value;
use crate::storage::{ShardReader, TagFilter};
use influxql::Expr;
use models::{Column, TimeRange};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

/// Values of the GROUP BY tags, in `Plan::group_tags` order.
pub type GroupKey = Vec<String>;

/// One raw row: time, the series key (tie-break), and the plan's variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawRow {
    pub time: i64,
    pub series: u32,
    pub vals: Vec<Value>,
}

/// Raw rows of one series, with its key (ties in time order by key).
pub type SeriesRows = (String, Vec<RawRow>);

/// Partial states by window start, one per aggregate leaf.
pub type Windows = BTreeMap<i64, Vec<Partial>>;

/// What one shard contributes to one measurement (lists, not maps, so the
/// group keys survive any serde format).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardOutput {
    pub raw: Vec<(GroupKey, Vec<SeriesRows>)>,
    pub aggs: Vec<(GroupKey, Windows)>,
}

/// Working state of a shard scan.
#[derive(Default)]
struct Acc {
    raw: HashMap<GroupKey, Vec<SeriesRows>>,
    aggs: HashMap<GroupKey, Windows>,
}

/// The per-measurement inputs of a scan.
pub struct ScanSpec<'a> {
    pub measurement: &'a str,
    pub plan: &'a Plan,
    pub filter: &'a TagFilter,
    pub residual: Option<&'a Expr>,
    pub range: TimeRange,
    /// Window of a time: start of its GROUP BY time bucket (or the fixed
    /// statement start when there is no interval).
    pub fixed_window: i64,
    pub cancel: &'a (dyn Fn() -> Result<()> + Sync),
    pub points: &'a AtomicU64,
    pub max_points: u64,
    pub series: &'a AtomicU64,
    pub max_series: u64,
    /// Read every field so each stored row is a row (subquery sources).
    pub all_fields: bool,
    /// Raw queries with LIMIT and no transformation: rows needed per series
    /// (limit + offset) and whether from the end (ORDER BY time DESC).
    pub raw_limit: Option<(usize, bool)>,
    /// The last edge time an edge probe found (series of a measurement
    /// usually end together): the next probe starts there.
    pub edge_hint: std::sync::atomic::AtomicI64,
}

impl ScanSpec<'_> {
    fn window(&self, t: i64) -> i64 {
        let p = self.plan;
        if p.interval <= 0 {
            return self.fixed_window;
        }
        p.window_start(t)
    }

    fn count_points(&self, n: usize) -> Result<()> {
        let total = self.points.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if self.max_points > 0 && total > self.max_points {
            return Err(Error::msg(format!(
                "max-select-point limit exceeed: ({}/{})",
                total, self.max_points
            )));
        }
        Ok(())
    }
}

fn tag_of<'a>(tags: &'a [(String, String)], k: &str) -> &'a str {
    tags.iter()
        .find(|(t, _)| t == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The fields of one series as typed columns over a shared timeline.
struct Cols {
    times: Vec<i64>,
    /// Per requested variable: its column and, when its times differ from
    /// the timeline, the column index of every timeline row (u32::MAX: none).
    cols: Vec<Option<(Column, Option<Vec<u32>>)>>,
}

impl Cols {
    fn get(&self, slot: usize, row: usize) -> Value {
        match self.cols.get(slot) {
            Some(Some((c, None))) => col_value(c, row),
            Some(Some((c, Some(map)))) => match map[row] {
                u32::MAX => Value::Null,
                i => col_value(c, i as usize),
            },
            _ => Value::Null,
        }
    }
}

fn append(dst: &mut Option<Column>, src: Column) {
    match (dst.as_mut(), src) {
        (None, s) => *dst = Some(s),
        (Some(Column::Float(a)), Column::Float(b)) => a.extend(b),
        (Some(Column::Integer(a)), Column::Integer(b)) => a.extend(b),
        (Some(Column::Unsigned(a)), Column::Unsigned(b)) => a.extend(b),
        (Some(Column::Boolean(a)), Column::Boolean(b)) => a.extend(b),
        (Some(Column::String(a)), Column::String(b)) => a.extend(b),
        _ => {}
    }
}

/// Reads `fields` of a series as columns over the union of their times.
fn read_cols(
    shard: &dyn ShardReader,
    sid: u64,
    fields: &[Option<&str>],
    range: TimeRange,
    spec: &ScanSpec<'_>,
) -> Result<Cols> {
    let mut raw: Vec<Option<(Vec<i64>, Column)>> = Vec::with_capacity(fields.len());
    for f in fields {
        let Some(f) = f else {
            raw.push(None);
            continue;
        };
        let mut times = Vec::new();
        let mut col: Option<Column> = None;
        for b in shard.read(sid, f, range)? {
            (spec.cancel)()?;
            let b = b?;
            spec.count_points(b.times.len())?;
            times.extend_from_slice(&b.times);
            append(&mut col, b.values);
        }
        raw.push(col.map(|c| (times, c)));
    }
    let first = raw.iter().flatten().map(|(t, _)| t).next();
    let same = raw.iter().flatten().all(|(t, _)| Some(t) == first);
    if same {
        let times = first.cloned().unwrap_or_default();
        let cols = raw.into_iter().map(|r| r.map(|(_, c)| (c, None))).collect();
        return Ok(Cols { times, cols });
    }
    let mut all: Vec<i64> = raw
        .iter()
        .flatten()
        .flat_map(|(t, _)| t.iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    let cols = raw
        .into_iter()
        .map(|r| {
            r.map(|(t, c)| {
                let mut map = Vec::with_capacity(all.len());
                let mut j = 0;
                for &x in &all {
                    if j < t.len() && t[j] == x {
                        map.push(j as u32);
                        j += 1;
                    } else {
                        map.push(u32::MAX);
                    }
                }
                (c, Some(map))
            })
        })
        .collect();
    Ok(Cols { times: all, cols })
}

fn keep_row(cols: &Cols, cond: Option<&super::rowexpr::RowExpr>, row: usize, t: i64) -> bool {
    match cond {
        None => true,
        Some(c) => super::rowexpr::eval(c, t, &|slot| cols.get(slot, row)) == Value::Bool(true),
    }
}

/// Raw rows of one series' columns that pass the residual.
fn raw_rows(
    cols: &Cols,
    cond: Option<&super::rowexpr::RowExpr>,
    tag_vals: &[Option<Value>],
    nvars: usize,
) -> Vec<RawRow> {
    let mut out = Vec::new();
    for (row, &t) in cols.times.iter().enumerate() {
        if !keep_row(cols, cond, row, t) {
            continue;
        }
        let vals: Vec<Value> = (0..nvars)
            .map(|i| match &tag_vals[i] {
                Some(v) => v.clone(),
                None => cols.get(i, row),
            })
            .collect();
        out.push(RawRow {
            time: t,
            series: 0,
            vals,
        });
    }
    out
}

/// Time of the newest (`desc`) or oldest point of `field` in `[lo, hi]`,
/// found by reading growing slices from that end.
fn edge_time(
    shard: &dyn ShardReader,
    sid: u64,
    field: &str,
    spec: &ScanSpec<'_>,
    lo: i64,
    hi: i64,
    desc: bool,
) -> Result<Option<i64>> {
    let span = (hi as i128 - lo as i128) as u128;
    let mut w: u128 = (span / 4096).max(1);
    let hint = spec.edge_hint.load(Ordering::Relaxed);
    if hint != i64::MIN && (lo..=hi).contains(&hint) {
        let to_hint = if desc {
            (hi as i128 - hint as i128) as u128
        } else {
            (hint as i128 - lo as i128) as u128
        };
        w = w.max(to_hint.saturating_add(1));
    }
    let found = |t: i64| {
        spec.edge_hint.store(t, Ordering::Relaxed);
        Ok(Some(t))
    };
    loop {
        (spec.cancel)()?;
        let (a, b) = if desc {
            ((hi as i128 - w as i128).max(lo as i128) as i64, hi)
        } else {
            (lo, (lo as i128 + w as i128).min(hi as i128) as i64)
        };
        let mut edge = None;
        for blk in shard.read(sid, field, TimeRange::new(a, b))? {
            let blk = blk?;
            let t = if desc {
                blk.times.last()
            } else {
                blk.times.first()
            };
            if let Some(&t) = t {
                edge = Some(t);
                if !desc {
                    break;
                }
            }
        }
        if let Some(t) = edge {
            return found(t);
        }
        if (desc && a <= lo) || (!desc && b >= hi) {
            return Ok(None);
        }
        w = w.saturating_mul(4);
    }
}

/// ORDER BY time [DESC] with LIMIT: find the series' edge, then read
/// growing slices from it until `need` rows with a field value are found.
#[allow(clippy::too_many_arguments)]
fn probe_rows(
    shard: &dyn ShardReader,
    sid: u64,
    edge_fields: &[&str],
    spec: &ScanSpec<'_>,
    need: usize,
    desc: bool,
    rows_in: &dyn Fn(TimeRange) -> Result<Vec<RawRow>>,
    tag_vals: &[Option<Value>],
) -> Result<Vec<RawRow>> {
    let (mut lo, mut hi) = (spec.range.min, spec.range.max);
    if let Some(b) = shard.time_bounds() {
        lo = lo.max(b.min);
        hi = hi.min(b.max);
    }
    if lo > hi || edge_fields.is_empty() {
        return rows_in(spec.range);
    }
    // The newest/oldest point of one projected field is a hint of where
    // the data ends; rows are then read from there to the shard's end, so
    // other fields' later points are still seen.
    let Some(edge) = edge_time(shard, sid, edge_fields[0], spec, lo, hi, desc)? else {
        if edge_fields.len() == 1 {
            return Ok(vec![]);
        }
        return rows_in(TimeRange::new(lo, hi));
    };
    let start = edge;
    let counts = |r: &RawRow| {
        r.vals
            .iter()
            .zip(tag_vals)
            .any(|(v, t)| t.is_none() && !matches!(v, Value::Null))
    };
    let mut w: u128 = 0;
    loop {
        (spec.cancel)()?;
        let (a, b) = if desc {
            ((start as i128 - w as i128).max(lo as i128) as i64, hi)
        } else {
            (lo, (start as i128 + w as i128).min(hi as i128) as i64)
        };
        let mut rows = rows_in(TimeRange::new(a, b))?;
        let full = if desc { a <= lo } else { b >= hi };
        if full || rows.iter().filter(|r| counts(r)).count() >= need {
            // Keep the `need` counted rows nearest the edge (and any
            // uncounted rows between them).
            if desc {
                let mut n = 0;
                let mut cut = 0;
                for (i, r) in rows.iter().enumerate().rev() {
                    if counts(r) {
                        n += 1;
                        if n == need {
                            cut = i;
                            break;
                        }
                    }
                }
                rows.drain(..cut);
            } else {
                let mut n = 0;
                let mut cut = rows.len();
                for (i, r) in rows.iter().enumerate() {
                    if counts(r) {
                        n += 1;
                        if n == need {
                            cut = i + 1;
                            break;
                        }
                    }
                }
                rows.truncate(cut);
            }
            return Ok(rows);
        }
        w = if w == 0 {
            1_000_000_000
        } else {
            w.saturating_mul(8)
        };
    }
}

/// Runs the shard-local part of a SELECT on one shard.
pub fn scan_shard(shard: &dyn ShardReader, spec: &ScanSpec<'_>) -> Result<ShardOutput> {
    let plan = spec.plan;
    let field_types: HashMap<String, models::FieldType> =
        shard.fields(spec.measurement).into_iter().collect();
    let tag_keys = shard.tag_keys(spec.measurement);
    let is_field = |n: &str| field_types.contains_key(n);
    let mut out = Acc::default();
    let mut series = shard.series(spec.measurement, spec.filter);
    // Series in key order, the order InfluxDB feeds a group's reducers.
    series.sort_by(|a, b| a.key.cmp(&b.key));
    let total = spec
        .series
        .fetch_add(series.len() as u64, Ordering::Relaxed)
        + series.len() as u64;
    if spec.max_series > 0 && total > spec.max_series {
        return Err(Error::msg(format!(
            "max-select-series limit exceeded: ({}/{})",
            total, spec.max_series
        )));
    }
    // Variables every row needs: the plan's vars, aggregate fields, and the
    // residual condition's references.
    let mut vars: Vec<String> = plan.vars.clone();
    let agg_base = vars.len();
    for a in &plan.aggs {
        vars.push(a.field.clone());
    }
    let mut cond_refs = Vec::new();
    if let Some(r) = spec.residual {
        super::cond::var_refs(r, &mut cond_refs);
    }
    for c in cond_refs {
        if !vars.contains(&c) {
            vars.push(c);
        }
    }
    if spec.all_fields {
        // Subquery rows exist even when no selected field has a value.
        for f in field_types.keys() {
            if !vars.contains(f) {
                vars.push(f.clone());
            }
        }
    }
    let row_fields: Vec<Option<&str>> = vars
        .iter()
        .map(|v| if is_field(v) { Some(v.as_str()) } else { None })
        .collect();
    // Anything that is not a field reads as a tag (missing tag = "").
    let tag_name = |v: &str| -> String {
        v.strip_suffix(super::plan::TAG_SUFFIX)
            .unwrap_or(v)
            .to_string()
    };
    let fast = plan.aggregate
        && spec.residual.is_none()
        && plan.vars.is_empty()
        && plan.aggs.iter().all(|a| a.tag_args.is_empty());
    for s in series {
        (spec.cancel)()?;
        let key: GroupKey = plan
            .group_tags
            .iter()
            .map(|k| tag_of(&s.tags, k).to_string())
            .collect();
        // A subquery's rows feed one reducer per group in series order, as
        // InfluxDB reduces a subquery's output; stored series reduce one by
        // one and merge (mean as mean × count), as its engine does.
        let direct = spec.all_fields;
        if fast {
            if direct {
                scan_aggs_fast(shard, s.id, spec, out.aggs.entry(key).or_default())?;
            } else {
                let mut local = Windows::new();
                scan_aggs_fast(shard, s.id, spec, &mut local)?;
                fold_series(plan, out.aggs.entry(key).or_default(), local);
            }
            continue;
        }
        let cond = spec.residual.map(|r| {
            let slot = |n: &str| {
                vars.iter()
                    .position(|v| v == n)
                    .filter(|&i| row_fields[i].is_some())
            };
            let tag = |n: &str| tag_of(&s.tags, n).to_string();
            super::rowexpr::compile(r, &slot, &tag)
        });
        // Tag variables are constant for the series.
        let tag_vals: Vec<Option<Value>> = vars
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let t = tag_name(v);
                if row_fields[i].is_none() && tag_keys.contains(&t) {
                    Some(Value::String(tag_of(&s.tags, &t).to_string()))
                } else {
                    None
                }
            })
            .collect();
        if !plan.aggregate {
            let rows_in = |range: TimeRange| -> Result<Vec<RawRow>> {
                let cols = read_cols(shard, s.id, &row_fields, range, spec)?;
                Ok(raw_rows(&cols, cond.as_ref(), &tag_vals, plan.vars.len()))
            };
            let rows = match spec.raw_limit {
                None => rows_in(spec.range)?,
                Some((need, desc)) => {
                    let edge_fields: Vec<&str> = (0..plan.vars.len())
                        .filter(|&i| tag_vals[i].is_none())
                        .filter_map(|i| row_fields[i])
                        .collect();
                    probe_rows(
                        shard,
                        s.id,
                        &edge_fields,
                        spec,
                        need,
                        desc,
                        &rows_in,
                        &tag_vals,
                    )?
                }
            };
            if !rows.is_empty() {
                out.raw.entry(key).or_default().push((s.key.clone(), rows));
            }
            continue;
        }
        let cols = read_cols(shard, s.id, &row_fields, spec.range, spec)?;
        let var_value = |i: usize, row: usize| -> Value {
            match &tag_vals[i] {
                Some(v) => v.clone(),
                None => cols.get(i, row),
            }
        };
        let mut local = Windows::new();
        let windows = if direct {
            out.aggs.entry(key.clone()).or_default()
        } else {
            &mut local
        };
        for (row, &t) in cols.times.iter().enumerate() {
            if !keep_row(&cols, cond.as_ref(), row, t) {
                continue;
            }
            let w = spec.window(t);
            let states = windows
                .entry(w)
                .or_insert_with(|| vec![Partial::Empty; plan.aggs.len()]);
            let aux_base: Vec<Value> = (0..plan.vars.len()).map(|i| var_value(i, row)).collect();
            for (ai, a) in plan.aggs.iter().enumerate() {
                let v = cols.get(agg_base + ai, row);
                if a.tag_args.is_empty() {
                    push(&a.kind, &mut states[ai], t, v, &aux_base);
                } else {
                    let aux: Vec<Value> = a
                        .tag_args
                        .iter()
                        .map(|k| Value::String(tag_of(&s.tags, k).to_string()))
                        .chain(aux_base.iter().cloned())
                        .collect();
                    push(&a.kind, &mut states[ai], t, v, &aux);
                }
            }
        }
        if !direct {
            fold_series(plan, out.aggs.entry(key).or_default(), local);
        }
    }
    out.aggs.retain(|_, w| !w.is_empty());
    Ok(ShardOutput {
        raw: out.raw.into_iter().collect(),
        aggs: out.aggs.into_iter().collect(),
    })
}

/// Adds one series' window states to its group's, the way InfluxDB's merge
/// reducers combine per-series results: a mean arrives as mean × count.
fn fold_series(plan: &Plan, dst: &mut Windows, mut src: Windows) {
    let as_merged = |st: Partial| match st {
        Partial::Mean { sum, count } => Partial::Mean {
            sum: sum / count as f64 * count as f64,
            count,
        },
        other => other,
    };
    if dst.is_empty() {
        // The group's first series (often its only one): keep its map.
        for states in src.values_mut() {
            for st in states.iter_mut() {
                if matches!(st, Partial::Mean { .. }) {
                    *st = as_merged(std::mem::replace(st, Partial::Empty));
                }
            }
        }
        *dst = src;
        return;
    }
    for (w, states) in src {
        match dst.get_mut(&w) {
            None => {
                dst.insert(w, states.into_iter().map(as_merged).collect());
            }
            Some(cur) => {
                for (i, st) in states.into_iter().enumerate() {
                    super::partial::merge(&plan.aggs[i].kind, &mut cur[i], as_merged(st));
                }
            }
        }
    }
}

/// first()/last() without GROUP BY time: read a small time slice at the
/// wanted end of the shard, widening it until a point is found, instead of
/// decoding the whole series.
fn probe_edge(
    shard: &dyn ShardReader,
    sid: u64,
    field: &str,
    spec: &ScanSpec<'_>,
    last: bool,
    users: &[usize],
    windows: &mut Windows,
) -> Result<()> {
    let n = spec.plan.aggs.len();
    let (mut lo, mut hi) = (spec.range.min, spec.range.max);
    if let Some(b) = shard.time_bounds() {
        lo = lo.max(b.min);
        hi = hi.min(b.max);
    }
    if lo > hi {
        return Ok(());
    }
    let span = (hi as i128 - lo as i128) as u128;
    let mut w: u128 = (span / 256).max(1);
    loop {
        (spec.cancel)()?;
        let (a, b) = if last {
            ((hi as i128 - w as i128).max(lo as i128) as i64, hi)
        } else {
            (lo, (lo as i128 + w as i128).min(hi as i128) as i64)
        };
        let mut found: Option<models::Block> = None;
        for blk in shard.read(sid, field, TimeRange::new(a, b))? {
            let blk = blk?;
            if blk.times.is_empty() {
                continue;
            }
            if !last {
                found = Some(blk);
                break;
            }
            found = Some(blk);
        }
        if let Some(blk) = found {
            spec.count_points(blk.times.len())?;
            let i = if last { blk.times.len() - 1 } else { 0 };
            let win = spec.window(blk.times[i]);
            let states = windows
                .entry(win)
                .or_insert_with(|| vec![Partial::Empty; n]);
            for &u in users {
                push_block(
                    &spec.plan.aggs[u].kind,
                    &mut states[u],
                    &blk.times,
                    &blk.values,
                    i..i + 1,
                );
            }
            return Ok(());
        }
        if (last && a <= lo) || (!last && b >= hi) {
            return Ok(());
        }
        w = w.saturating_mul(4);
    }
}

/// Columnar aggregation: per field, per block, per window run.
fn scan_aggs_fast(
    shard: &dyn ShardReader,
    sid: u64,
    spec: &ScanSpec<'_>,
    windows: &mut Windows,
) -> Result<()> {
    let plan = spec.plan;
    let n = plan.aggs.len();
    let mut done: Vec<&str> = Vec::new();
    for a in &plan.aggs {
        if done.contains(&a.field.as_str()) {
            continue;
        }
        done.push(&a.field);
        let users: Vec<usize> = plan
            .aggs
            .iter()
            .enumerate()
            .filter(|(_, b)| b.field == a.field)
            .map(|(i, _)| i)
            .collect();
        if plan.interval <= 0 {
            let all = |k: AggKind| users.iter().all(|&u| plan.aggs[u].kind == k);
            if all(AggKind::Last) || all(AggKind::First) {
                probe_edge(
                    shard,
                    sid,
                    &a.field,
                    spec,
                    all(AggKind::Last),
                    &users,
                    windows,
                )?;
                continue;
            }
        }
        for b in shard.read(sid, &a.field, spec.range)? {
            (spec.cancel)()?;
            let b = b?;
            spec.count_points(b.times.len())?;
            let times = &b.times;
            let mut i = 0;
            while i < times.len() {
                let w = spec.window(times[i]);
                let j = if plan.interval > 0 {
                    let end = plan.window_end(w);
                    i + times[i..].partition_point(|t| *t < end)
                } else {
                    times.len()
                };
                let states = windows.entry(w).or_insert_with(|| vec![Partial::Empty; n]);
                for &u in &users {
                    push_block(&plan.aggs[u].kind, &mut states[u], times, &b.values, i..j);
                }
                i = j;
            }
            let _ = Column::Float(vec![]);
        }
    }
    Ok(())
}
