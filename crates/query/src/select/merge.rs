//! The merge half of SELECT execution: combines [`ShardOutput`]s from any
//! number of shards (or nodes), finalises partial states, fills windows,
//! evaluates the per-column expression trees (math, transformations), joins
//! columns by time and shapes InfluxDB series (ordering, LIMIT/OFFSET).
//! Also turns a subquery's result into an in-memory source.
//!
//! Owns: everything after the shard-local reduction. Must not: read shards.

use super::cond::TimeBounds;
use super::eval::{binary, math_call};
use super::partial::{finalize, merge, Partial, Pt};
use super::plan::{Node, Plan};
use super::scan::{GroupKey, RawRow, ShardOutput, Windows};
use super::transform;
use super::{Env, Resolved};
use crate::error::Result;
use crate::result::{Series, Value};
use crate::storage::mem::MemShard;
use crate::storage::ShardReader;
use influxql::{Fill, FillNumber, SelectStatement};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Merged output of all shards for one measurement.
#[derive(Default)]
pub struct Merged {
    pub raw: BTreeMap<GroupKey, Vec<(String, Vec<RawRow>)>>,
    pub aggs: BTreeMap<GroupKey, Windows>,
}

/// Combines shard outputs (exactly: partial states are merged).
pub fn combine(plan: &Plan, outputs: Vec<ShardOutput>) -> Merged {
    let mut m = Merged::default();
    for o in outputs {
        for (k, mut v) in o.raw {
            m.raw.entry(k).or_default().append(&mut v);
        }
        for (k, ws) in o.aggs {
            let dst = m.aggs.entry(k).or_default();
            if dst.is_empty() {
                *dst = ws;
                continue;
            }
            for (w, states) in ws {
                match dst.get_mut(&w) {
                    Some(cur) => {
                        for (i, st) in states.into_iter().enumerate() {
                            merge(&plan.aggs[i].kind, &mut cur[i], st);
                        }
                    }
                    None => {
                        dst.insert(w, states);
                    }
                }
            }
        }
    }
    m
}

type Seq = Vec<(i64, Value)>;

/// Safety cap on generated (filled) windows per series.
const MAX_WINDOWS: usize = 5_000_000;

/// Joins columns by time; equal times pair up by position.
fn join(cols: Vec<Seq>) -> Vec<(i64, Vec<Value>)> {
    let n = cols.len();
    if n == 1 {
        return cols
            .into_iter()
            .next()
            .unwrap_or_default()
            .into_iter()
            .map(|(t, v)| (t, vec![v]))
            .collect();
    }
    if cols.iter().all(|c| c.len() == cols[0].len())
        && cols
            .iter()
            .all(|c| c.iter().zip(cols[0].iter()).all(|(a, b)| a.0 == b.0))
    {
        let len = cols[0].len();
        let mut its: Vec<_> = cols.into_iter().map(|c| c.into_iter()).collect();
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            let mut t = 0;
            let mut row = Vec::with_capacity(n);
            for it in its.iter_mut() {
                if let Some((tt, v)) = it.next() {
                    t = tt;
                    row.push(v);
                }
            }
            out.push((t, row));
        }
        return out;
    }
    let mut idx = vec![0usize; n];
    let mut out = Vec::new();
    loop {
        let t = cols
            .iter()
            .zip(idx.iter())
            .filter_map(|(c, &i)| c.get(i).map(|p| p.0))
            .min();
        let Some(t) = t else { break };
        let mut row = Vec::with_capacity(n);
        for (c, i) in cols.iter().zip(idx.iter_mut()) {
            match c.get(*i) {
                Some((tt, v)) if *tt == t => {
                    row.push(v.clone());
                    *i += 1;
                }
                _ => row.push(Value::Null),
            }
        }
        out.push((t, row));
    }
    out
}

fn eval_node(node: &Node, leaves: &[Seq], aux: &[Seq], len_hint: &Seq, desc: bool) -> Seq {
    match node {
        Node::Leaf(i) => leaves.get(*i).cloned().unwrap_or_default(),
        Node::Aux(i) => aux.get(*i).cloned().unwrap_or_default(),
        Node::TagArg(..) => Vec::new(),
        Node::Lit(v) => len_hint.iter().map(|(t, _)| (*t, v.clone())).collect(),
        Node::Bin(op, l, r) if matches!(**l, Node::Lit(_)) || matches!(**r, Node::Lit(_)) => {
            match (&**l, &**r) {
                (Node::Lit(a), Node::Lit(b)) => len_hint
                    .iter()
                    .map(|(t, _)| (*t, binary(*op, a, b)))
                    .collect(),
                (Node::Lit(a), other) => eval_node(other, leaves, aux, len_hint, desc)
                    .into_iter()
                    .map(|(t, v)| (t, binary(*op, a, &v)))
                    .collect(),
                (other, Node::Lit(b)) => eval_node(other, leaves, aux, len_hint, desc)
                    .into_iter()
                    .map(|(t, v)| (t, binary(*op, &v, b)))
                    .collect(),
                _ => Vec::new(),
            }
        }
        Node::Bin(op, l, r) => {
            let l = eval_node(l, leaves, aux, len_hint, desc);
            let r = eval_node(r, leaves, aux, len_hint, desc);
            join(vec![l, r])
                .into_iter()
                .map(|(t, v)| (t, binary(*op, &v[0], &v[1])))
                .collect()
        }
        Node::Math(name, args) => {
            let cols: Vec<Seq> = args
                .iter()
                .map(|a| eval_node(a, leaves, aux, len_hint, desc))
                .collect();
            join(cols)
                .into_iter()
                .map(|(t, v)| (t, math_call(name, &v)))
                .collect()
        }
        Node::Tr(t, inner) => {
            let s = eval_node(inner, leaves, aux, len_hint, desc);
            if desc && !matches!(t, transform::Transform::HoltWinters { .. }) {
                // InfluxDB feeds the transformation newest first: run it
                // over the reversed sequence, keep the output ascending.
                let rev: Seq = s.into_iter().rev().collect();
                let mut out = transform::apply(t, &rev);
                out.reverse();
                out
            } else {
                transform::apply(t, &s)
            }
        }
    }
}

fn fill_value(f: &Fill) -> Value {
    match f {
        Fill::Number(FillNumber::Integer(i)) => Value::Integer(*i),
        Fill::Number(FillNumber::Float(x)) => Value::Float(*x),
        _ => Value::Null,
    }
}

/// Whether a column tree contains a transformation.
pub fn has_transform(n: &Node) -> bool {
    match n {
        Node::Tr(..) => true,
        Node::Bin(_, a, b) => has_transform(a) || has_transform(b),
        Node::Math(_, a) => a.iter().any(has_transform),
        _ => false,
    }
}

/// Builds the output series of one measurement.
#[allow(clippy::too_many_arguments)]
pub fn finish(
    plan: &Plan,
    stmt: &SelectStatement,
    name: &str,
    merged: Merged,
    bounds: TimeBounds,
    max: i64,
    out_min: i64,
    keep_tag_rows: bool,
) -> Result<Vec<Series>> {
    let mut out = Vec::new();
    let mut columns = vec!["time".to_string()];
    columns.extend(plan.columns.iter().cloned());
    let group_tags = |k: &GroupKey| -> BTreeMap<String, String> {
        plan.group_tags
            .iter()
            .cloned()
            .zip(k.iter().cloned())
            .collect()
    };
    if plan.aggregate {
        for (key, windows) in merged.aggs {
            let start =
                (plan.lookback > 0 && plan.interval > 0).then(|| plan.window_start(out_min));
            let rows = agg_rows(plan, stmt, windows, bounds, max, start);
            push_series(
                &mut out,
                name,
                group_tags(&key),
                &columns,
                rows,
                stmt,
                plan,
                true,
            );
        }
    } else {
        for (key, mut per_series) in merged.raw {
            per_series.sort_by(|a, b| a.0.cmp(&b.0));
            let mut rows: Vec<RawRow> = Vec::new();
            for (si, (_, rs)) in per_series.into_iter().enumerate() {
                rows.extend(rs.into_iter().map(|mut r| {
                    r.series = si as u32;
                    r
                }));
            }
            if keep_tag_rows {
                // A subquery's rows stream series by series.
                rows.sort_by_key(|r| (r.series, r.time));
            } else {
                rows.sort_by_key(|r| (r.time, r.series));
                // A row needs a value in at least one selected field (the
                // projection itself may still be null, e.g. math on nulls).
                let field_vars: Vec<usize> = (0..plan.vars.len())
                    .filter(|&i| is_field_var(plan, i))
                    .collect();
                rows.retain(|r| {
                    field_vars
                        .iter()
                        .any(|&i| !matches!(r.vals[i], Value::Null))
                });
            }
            let simple: Option<Vec<usize>> = plan
                .nodes
                .iter()
                .map(|n| match n {
                    Node::Leaf(i) => Some(*i),
                    _ => None,
                })
                .collect();
            let distinct = simple.as_ref().is_some_and(|idx| {
                let mut seen = std::collections::HashSet::new();
                idx.iter().all(|i| seen.insert(*i))
            });
            let mut per_column_limit = false;
            let joined: Vec<(i64, Vec<Value>)> = if let Some(idx) = simple.filter(|_| distinct) {
                // Plain projection: move values, no per-column sequences.
                rows.into_iter()
                    .map(|mut r| {
                        let vals = idx
                            .iter()
                            .map(|&i| std::mem::replace(&mut r.vals[i], Value::Null))
                            .collect();
                        (r.time, vals)
                    })
                    .collect()
            } else {
                let leaves: Vec<Seq> = (0..plan.vars.len())
                    .map(|i| rows.iter().map(|r| (r.time, r.vals[i].clone())).collect())
                    .collect();
                let hint: Seq = rows.iter().map(|r| (r.time, Value::Null)).collect();
                let cols: Vec<Seq> = plan
                    .nodes
                    .iter()
                    .map(|n| eval_node(n, &leaves, &[], &hint, plan.descending))
                    .collect();
                if plan.nodes.iter().any(has_transform) {
                    // Every transformation is its own stream in InfluxDB:
                    // LIMIT and OFFSET count its points, not joined rows.
                    per_column_limit = true;
                    join(cols.into_iter().map(|c| limit_column(c, stmt)).collect())
                } else {
                    // Same length as rows: zip directly.
                    let mut its: Vec<_> = cols.into_iter().map(|c| c.into_iter()).collect();
                    rows.iter()
                        .map(|r| {
                            let vals = its
                                .iter_mut()
                                .map(|it| it.next().map(|p| p.1).unwrap_or(Value::Null))
                                .collect();
                            (r.time, vals)
                        })
                        .collect()
                }
            };
            let rows = joined;
            push_series(
                &mut out,
                name,
                group_tags(&key),
                &columns,
                rows,
                stmt,
                plan,
                per_column_limit,
            );
        }
    }
    Ok(out)
}

/// Whether raw variable `i` is a field (tags alone do not keep a row).
fn is_field_var(plan: &Plan, i: usize) -> bool {
    !plan.tag_vars.contains(&plan.vars[i])
}

/// LIMIT and OFFSET over one column's points (from the newest end under
/// ORDER BY time DESC); the sequence stays ascending.
fn limit_column(col: Seq, stmt: &SelectStatement) -> Seq {
    if stmt.limit == 0 && stmt.offset == 0 {
        return col;
    }
    let n = col.len();
    let skip = (stmt.offset as usize).min(n);
    let take = if stmt.limit > 0 {
        (stmt.limit as usize).min(n - skip)
    } else {
        n - skip
    };
    let (lo, hi) = if stmt.time_descending() {
        (n - skip - take, n - skip)
    } else {
        (skip, skip + take)
    };
    col.into_iter().skip(lo).take(hi - lo).collect()
}

/// `limited`: LIMIT and OFFSET were applied per column already.
#[allow(clippy::too_many_arguments)]
fn push_series(
    out: &mut Vec<Series>,
    name: &str,
    tags: BTreeMap<String, String>,
    columns: &[String],
    mut rows: Vec<(i64, Vec<Value>)>,
    stmt: &SelectStatement,
    plan: &Plan,
    limited: bool,
) {
    if stmt.time_descending() {
        rows.reverse();
    }
    let (skip, take) = if limited {
        (0, usize::MAX)
    } else {
        (
            stmt.offset as usize,
            if stmt.limit > 0 {
                stmt.limit as usize
            } else {
                usize::MAX
            },
        )
    };
    let rows: Vec<Vec<Value>> = rows
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|(t, vals)| {
            let mut r = Vec::with_capacity(vals.len() + 1);
            r.push(plan.time_value(t));
            r.extend(vals);
            r
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push(Series {
        name: name.to_string(),
        tags,
        columns: columns.to_vec(),
        values: rows,
        partial: false,
    });
}

/// `start`: the first window to output when transformations read earlier
/// ones (lookback). LIMIT and OFFSET apply to every column's points, as
/// InfluxDB runs each call as its own stream.
fn agg_rows(
    plan: &Plan,
    stmt: &SelectStatement,
    windows: Windows,
    bounds: TimeBounds,
    max: i64,
    start: Option<i64>,
) -> Vec<(i64, Vec<Value>)> {
    let n = plan.aggs.len();
    // Window list.
    let keys: Vec<i64> = if plan.interval > 0 && stmt.fill != Fill::None {
        let first = match bounds.min {
            Some(m) => plan.window_start(m),
            None => windows.keys().next().copied().unwrap_or(0),
        };
        let last = plan.window_start(max);
        let mut v = Vec::new();
        let mut w = first;
        while w <= last && v.len() < MAX_WINDOWS {
            v.push(w);
            let next = plan.window_end(w);
            if next <= w {
                break;
            }
            w = next;
        }
        v
    } else {
        windows.keys().copied().collect()
    };
    let single_selector = plan.interval == 0 && n == 1 && plan.aggs[0].kind.is_selector();
    // Keys ascend, like the map: walk both instead of a lookup per window.
    let mut windows = windows.into_iter().peekable();
    let mut leaves: Vec<Seq> = vec![Vec::new(); n];
    let mut aux: Vec<Seq> = vec![Vec::new(); plan.vars.len()];
    let mut tagcols: Vec<Vec<Seq>> = plan
        .aggs
        .iter()
        .map(|a| vec![Vec::new(); a.tag_args.len()])
        .collect();
    let fill = stmt.fill;
    for w in &keys {
        while windows.next_if(|(k, _)| k < w).is_some() {}
        let mut states = windows.next_if(|(k, _)| k == w).map(|(_, s)| s);
        for ai in 0..n {
            let spec = &plan.aggs[ai];
            let st = states
                .as_mut()
                .and_then(|s| s.get_mut(ai))
                .map(|st| std::mem::replace(st, Partial::Empty))
                .unwrap_or(Partial::Empty);
            let empty = matches!(st, Partial::Empty);
            let mut pts: Vec<Pt> = if empty {
                vec![]
            } else if !spec.tag_args.is_empty() {
                let all = match spec.kind {
                    super::partial::AggKind::Top(_) => super::partial::AggKind::Top(usize::MAX),
                    _ => super::partial::AggKind::Bottom(usize::MAX),
                };
                finalize(&all, st, *w)
            } else {
                finalize(&spec.kind, st, *w)
            };
            if !spec.tag_args.is_empty() {
                pts = top_with_tags(&spec.kind, pts, spec.tag_args.len());
            }
            let keep_time = single_selector
                || matches!(
                    spec.kind,
                    super::partial::AggKind::Top(_)
                        | super::partial::AggKind::Bottom(_)
                        | super::partial::AggKind::Sample(_)
                );
            if pts.is_empty() {
                if fill == Fill::None {
                    continue;
                }
                let v = match (&spec.kind, fill) {
                    (
                        super::partial::AggKind::Count | super::partial::AggKind::CountDistinct,
                        Fill::Null,
                    ) if plan.interval > 0 => Value::Integer(0),
                    _ => fill_value(&fill),
                };
                if plan.interval == 0 {
                    continue;
                }
                leaves[ai].push((*w, v));
                if ai == 0 {
                    for a in aux.iter_mut() {
                        a.push((*w, Value::Null));
                    }
                }
                continue;
            }
            for p in pts {
                let t = if keep_time { p.time } else { *w };
                if ai == 0 {
                    for (j, a) in aux.iter_mut().enumerate() {
                        let off = p.aux.len().saturating_sub(plan.vars.len());
                        a.push((t, p.aux.get(off + j).cloned().unwrap_or(Value::Null)));
                    }
                }
                for (j, tc) in tagcols[ai].iter_mut().enumerate() {
                    tc.push((t, p.aux.get(j).cloned().unwrap_or(Value::Null)));
                }
                leaves[ai].push((t, p.value));
            }
        }
    }
    if matches!(fill, Fill::Previous | Fill::Linear) {
        for l in leaves.iter_mut() {
            fill_seq(l, fill);
        }
    }
    let hint: Seq = keys.iter().map(|k| (*k, Value::Null)).collect();
    let cols: Vec<Seq> = plan
        .nodes
        .iter()
        .map(|nd| match nd {
            Node::TagArg(a, j) => tagcols[*a][*j].clone(),
            _ => eval_node(nd, &leaves, &aux, &hint, plan.descending),
        })
        .map(|mut c: Seq| {
            if let Some(start) = start {
                c.retain(|p| p.0 >= start);
            }
            limit_column(c, stmt)
        })
        .collect();
    let mut rows = join(cols);
    if top_bottom_sorted(plan) {
        rows.sort_by_key(|r| r.0);
    }
    rows
}

fn top_bottom_sorted(_plan: &Plan) -> bool {
    false
}

/// top()/bottom() with tag arguments: the best point of each tag
/// combination, then the best `n` of those, in time order.
fn top_with_tags(kind: &super::partial::AggKind, mut pts: Vec<Pt>, ntags: usize) -> Vec<Pt> {
    let (top, n) = match kind {
        super::partial::AggKind::Top(n) => (true, *n),
        super::partial::AggKind::Bottom(n) => (false, *n),
        _ => return pts,
    };
    super::partial::rank_sort(top, &mut pts);
    let mut seen: Vec<Vec<Value>> = Vec::new();
    let mut best = Vec::new();
    for p in pts {
        let key: Vec<Value> = p.aux.iter().take(ntags).cloned().collect();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        best.push(p);
    }
    best.truncate(n);
    best.sort_by_key(|p| p.time);
    best
}

fn fill_seq(s: &mut Seq, fill: Fill) {
    match fill {
        Fill::Previous => {
            let mut prev = Value::Null;
            for (_, v) in s.iter_mut() {
                if matches!(v, Value::Null) {
                    *v = prev.clone();
                } else {
                    prev = v.clone();
                }
            }
        }
        Fill::Linear => {
            let known: Vec<usize> = (0..s.len())
                .filter(|i| !matches!(s[*i].1, Value::Null))
                .collect();
            for w in known.windows(2) {
                let (a, b) = (w[0], w[1]);
                if b - a < 2 {
                    continue;
                }
                let (ta, tb) = (s[a].0, s[b].0);
                let (va, vb) = (s[a].1.clone(), s[b].1.clone());
                for cell in s.iter_mut().take(b).skip(a + 1) {
                    let t = cell.0;
                    cell.1 = match (&va, &vb) {
                        (Value::Integer(x), Value::Integer(y)) => {
                            Value::Integer(x + (y - x) * (t - ta) / (tb - ta))
                        }
                        _ => {
                            let (x, y) = (
                                super::eval::as_f64(&va).unwrap_or(0.0),
                                super::eval::as_f64(&vb).unwrap_or(0.0),
                            );
                            Value::Float(x + (y - x) * ((t - ta) as f64 / (tb - ta) as f64))
                        }
                    };
                }
            }
        }
        _ => {}
    }
}

/// Hidden field marking every row of a subquery's result.
pub const ROW_MARKER: &str = "\u{0}row";

/// Runs a subquery and exposes its result as an in-memory shard.
pub fn subquery_source(env: &Env<'_>, inner: &SelectStatement) -> Result<Vec<Resolved>> {
    let series = super::run(env, inner)?;
    let mut by_name: HashMap<String, Vec<models::Point>> = HashMap::new();
    let mut seen: HashMap<(String, i64), usize> = HashMap::new();
    for s in series {
        for row in &s.values {
            let mut time = 0;
            let mut fields = Vec::new();
            for (c, v) in s.columns.iter().zip(row.iter()) {
                let fv = match v {
                    Value::Time(t) | Value::TimeTz(t, _) => {
                        time = *t;
                        continue;
                    }
                    Value::Null => continue,
                    Value::Bool(b) => models::FieldValue::Boolean(*b),
                    Value::Integer(i) => models::FieldValue::Integer(*i),
                    Value::Unsigned(u) => models::FieldValue::Unsigned(*u),
                    Value::Float(f) => models::FieldValue::Float(*f),
                    Value::String(x) => models::FieldValue::String(x.clone()),
                };
                if c != "time" {
                    fields.push((c.clone(), fv));
                }
            }
            // Every inner row stays a row, even with only nulls.
            fields.push((ROW_MARKER.to_string(), models::FieldValue::Boolean(true)));
            let tags: Vec<(String, String)> =
                s.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let mut p = models::Point::new(s.name.clone(), tags, fields, time);
            // Rows of one series may share a time (inner rows from several
            // series): keep each as its own hidden series.
            let n = seen.entry((p.key.clone(), time)).or_insert(0usize);
            if *n > 0 {
                p.key = format!("{}\u{0}{}", p.key, n);
            }
            *n += 1;
            by_name.entry(s.name.clone()).or_default().push(p);
        }
    }
    let mut out: Vec<Resolved> = by_name
        .into_iter()
        .map(|(name, pts)| {
            let sh = MemShard::new(0);
            sh.write(&pts);
            Resolved {
                name,
                shards: vec![Arc::new(sh) as Arc<dyn ShardReader>],
                subquery: true,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
