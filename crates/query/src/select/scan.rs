//! The shard-local half of SELECT execution: finds the series of one shard,
//! groups them, and produces either raw rows or partial aggregate states per
//! (group, window). The output ([`ShardOutput`]) is serde-serialisable so a
//! remote node can ship it to the merging node.
//!
//! Owns: reading and reducing one shard. Must not: fill, transform, order
//! or format results (that is the merge side).

use super::eval::{eval, literal};
use super::partial::{col_value, push, push_block, Partial};
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
}

impl ScanSpec<'_> {
    fn window(&self, t: i64) -> i64 {
        let p = self.plan;
        if p.interval <= 0 {
            return self.fixed_window;
        }
        t - (t - p.offset).rem_euclid(p.interval)
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

/// Reads `fields` of a series and merges them into rows (union of times).
fn read_rows(
    shard: &dyn ShardReader,
    sid: u64,
    fields: &[Option<&str>],
    range: TimeRange,
    spec: &ScanSpec<'_>,
) -> Result<(Vec<i64>, Vec<Vec<Value>>)> {
    let mut cols: Vec<(Vec<i64>, Vec<Value>)> = Vec::with_capacity(fields.len());
    for f in fields {
        let mut times = Vec::new();
        let mut vals = Vec::new();
        if let Some(f) = f {
            for b in shard.read(sid, f, range)? {
                (spec.cancel)()?;
                let b = b?;
                spec.count_points(b.times.len())?;
                times.extend_from_slice(&b.times);
                for i in 0..b.times.len() {
                    vals.push(col_value(&b.values, i));
                }
            }
        }
        cols.push((times, vals));
    }
    let mut all: Vec<i64> = cols.iter().flat_map(|c| c.0.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    let mut idx = vec![0usize; cols.len()];
    let mut rows = Vec::with_capacity(all.len());
    for &t in &all {
        let mut r = Vec::with_capacity(cols.len());
        for (ci, c) in cols.iter().enumerate() {
            let i = idx[ci];
            if i < c.0.len() && c.0[i] == t {
                r.push(c.1[i].clone());
                idx[ci] += 1;
            } else {
                r.push(Value::Null);
            }
        }
        rows.push(r);
    }
    Ok((all, rows))
}

/// Runs the shard-local part of a SELECT on one shard.
pub fn scan_shard(shard: &dyn ShardReader, spec: &ScanSpec<'_>) -> Result<ShardOutput> {
    let plan = spec.plan;
    let field_types: HashMap<String, models::FieldType> =
        shard.fields(spec.measurement).into_iter().collect();
    let tag_keys = shard.tag_keys(spec.measurement);
    let is_field = |n: &str| field_types.contains_key(n);
    let mut out = Acc::default();
    let series = shard.series(spec.measurement, spec.filter);
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
        if fast {
            let windows = out.aggs.entry(key).or_default();
            scan_aggs_fast(shard, s.id, spec, windows)?;
            continue;
        }
        let (times, rows) = read_rows(shard, s.id, &row_fields, spec.range, spec)?;
        let var_index: HashMap<&str, usize> = vars
            .iter()
            .enumerate()
            .map(|(i, v)| (v.as_str(), i))
            .collect();
        let keep = |t: i64, row: &[Value]| -> bool {
            let Some(cond) = spec.residual else {
                return true;
            };
            let lookup = |e: &Expr| -> Option<Value> {
                let Expr::VarRef(v) = e else { return None };
                if v.name.eq_ignore_ascii_case("time") {
                    return Some(Value::Integer(t));
                }
                match var_index.get(v.name.as_str()) {
                    Some(&i) if row_fields[i].is_some() => Some(row[i].clone()),
                    _ => Some(Value::String(tag_of(&s.tags, &v.name).to_string())),
                }
            };
            let _ = literal;
            eval(cond, &lookup) == Value::Bool(true)
        };
        // Fill tag variables.
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
        if plan.aggregate {
            let windows = out.aggs.entry(key).or_default();
            for (t, row) in times.iter().zip(rows.iter()) {
                if !keep(*t, row) {
                    continue;
                }
                let w = spec.window(*t);
                let states = windows
                    .entry(w)
                    .or_insert_with(|| vec![Partial::Empty; plan.aggs.len()]);
                let aux_base: Vec<Value> = (0..plan.vars.len())
                    .map(|i| tag_vals[i].clone().unwrap_or_else(|| row[i].clone()))
                    .collect();
                for (ai, a) in plan.aggs.iter().enumerate() {
                    let v = row[agg_base + ai].clone();
                    if a.tag_args.is_empty() {
                        push(&a.kind, &mut states[ai], *t, v, &aux_base);
                    } else {
                        let aux: Vec<Value> = a
                            .tag_args
                            .iter()
                            .map(|k| Value::String(tag_of(&s.tags, k).to_string()))
                            .chain(aux_base.iter().cloned())
                            .collect();
                        push(&a.kind, &mut states[ai], *t, v, &aux);
                    }
                }
            }
        } else {
            let mut out_rows = Vec::new();
            for (t, row) in times.iter().zip(rows) {
                if !keep(*t, &row) {
                    continue;
                }
                let mut vals: Vec<Value> = row.into_iter().take(plan.vars.len()).collect();
                for (i, tv) in tag_vals.iter().enumerate().take(plan.vars.len()) {
                    if let Some(tv) = tv {
                        vals[i] = tv.clone();
                    }
                }
                out_rows.push(RawRow {
                    time: *t,
                    series: 0,
                    vals,
                });
            }
            if !out_rows.is_empty() {
                out.raw
                    .entry(key)
                    .or_default()
                    .push((s.key.clone(), out_rows));
            }
        }
    }
    out.aggs.retain(|_, w| !w.is_empty());
    Ok(ShardOutput {
        raw: out.raw.into_iter().collect(),
        aggs: out.aggs.into_iter().collect(),
    })
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
        for b in shard.read(sid, &a.field, spec.range)? {
            (spec.cancel)()?;
            let b = b?;
            spec.count_points(b.times.len())?;
            let times = &b.times;
            let mut i = 0;
            while i < times.len() {
                let w = spec.window(times[i]);
                let j = if plan.interval > 0 {
                    let end = w.saturating_add(plan.interval);
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
