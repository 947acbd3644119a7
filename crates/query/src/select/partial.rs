//! Mergeable partial states of every aggregate and selector. A shard computes
//! one [`Partial`] per (group, window, call); the merge side combines states
//! from any number of shards/nodes with [`merge`] and turns the result into
//! output points with [`finalize`]. Merging is exact: the final answer does
//! not depend on how points were spread over shards.
//!
//! Owns: the per-function state, its update from columnar blocks, merge and
//! finalisation (including InfluxDB's tie rules). Must not: know windows,
//! groups or storage.

use super::eval::{as_f64, compare};
use crate::result::Value;
use models::Column;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// An aggregate or selector function with its constant arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AggKind {
    Count,
    CountDistinct,
    Sum,
    Mean,
    Median,
    Mode,
    Spread,
    Stddev,
    Distinct,
    /// Unit in nanoseconds.
    Integral(i64),
    Min,
    Max,
    First,
    Last,
    Percentile(f64),
    Sample(usize),
    Top(usize),
    Bottom(usize),
}

impl AggKind {
    /// Parses a function name and its non-field arguments.
    pub fn from_call(name: &str, args: &[influxql::Expr]) -> Option<AggKind> {
        use influxql::Expr;
        let int_arg = |i: usize| match args.get(i).map(|e| e.unparen()) {
            Some(Expr::Integer(n)) => Some(*n),
            _ => None,
        };
        Some(match name {
            "count" => AggKind::Count,
            "sum" => AggKind::Sum,
            "mean" => AggKind::Mean,
            "median" => AggKind::Median,
            "mode" => AggKind::Mode,
            "spread" => AggKind::Spread,
            "stddev" => AggKind::Stddev,
            "distinct" => AggKind::Distinct,
            "integral" => AggKind::Integral(match args.get(1).map(|e| e.unparen()) {
                Some(Expr::Duration(d)) => *d,
                _ => 1_000_000_000,
            }),
            "min" => AggKind::Min,
            "max" => AggKind::Max,
            "first" => AggKind::First,
            "last" => AggKind::Last,
            "percentile" => AggKind::Percentile(match args.get(1).map(|e| e.unparen()) {
                Some(Expr::Integer(n)) => *n as f64,
                Some(Expr::Number(f)) => *f,
                _ => return None,
            }),
            "sample" => AggKind::Sample(int_arg(1)?.max(0) as usize),
            "top" => AggKind::Top(int_arg(args.len().checked_sub(1)?)?.max(0) as usize),
            "bottom" => AggKind::Bottom(int_arg(args.len().checked_sub(1)?)?.max(0) as usize),
            _ => return None,
        })
    }

    /// Selectors keep the time of the point they select.
    pub fn is_selector(&self) -> bool {
        matches!(
            self,
            AggKind::Min
                | AggKind::Max
                | AggKind::First
                | AggKind::Last
                | AggKind::Percentile(_)
                | AggKind::Sample(_)
                | AggKind::Top(_)
                | AggKind::Bottom(_)
        )
    }
}

/// One point kept by a value-keeping state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pt {
    pub time: i64,
    pub value: Value,
    /// Auxiliary values (tags of top/bottom, selected extra fields).
    pub aux: Vec<Value>,
}

/// The partial state of one call in one window of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub enum Partial {
    #[default]
    Empty,
    Count(i64),
    /// Integer, Unsigned or Float running sum.
    Sum(Value),
    Mean {
        sum: f64,
        count: u64,
    },
    /// min/max/first/last: the currently selected point.
    Select(Pt),
    Spread {
        min: Value,
        max: Value,
    },
    /// Every point (median, mode, stddev, integral, percentile, sample, top, bottom, distinct).
    Points(Vec<Pt>),
}

/// Whether candidate `(t, v)` replaces the current selection for `kind`
/// (InfluxDB's tie rules).
fn better(kind: &AggKind, t: i64, v: &Value, cur: &Pt) -> bool {
    let ord = compare(v, &cur.value).unwrap_or(Ordering::Equal);
    match kind {
        AggKind::Min => ord == Ordering::Less || (ord == Ordering::Equal && t < cur.time),
        AggKind::Max => ord == Ordering::Greater || (ord == Ordering::Equal && t < cur.time),
        AggKind::First => t < cur.time || (t == cur.time && ord == Ordering::Greater),
        AggKind::Last => t > cur.time || (t == cur.time && ord == Ordering::Greater),
        _ => false,
    }
}

fn add_values(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Value::Integer(x.wrapping_add(*y)),
        (Value::Unsigned(x), Value::Unsigned(y)) => Value::Unsigned(x.wrapping_add(*y)),
        _ => Value::Float(as_f64(a).unwrap_or(0.0) + as_f64(b).unwrap_or(0.0)),
    }
}

/// Adds one point to a state.
pub fn push(kind: &AggKind, st: &mut Partial, t: i64, v: Value, aux: &[Value]) {
    if matches!(v, Value::Null) {
        return;
    }
    match kind {
        AggKind::Count => match st {
            Partial::Count(c) => *c += 1,
            _ => *st = Partial::Count(1),
        },
        AggKind::Sum => match st {
            Partial::Sum(s) => *s = add_values(s, &v),
            _ => *st = Partial::Sum(v),
        },
        AggKind::Mean => {
            let x = as_f64(&v).unwrap_or(0.0);
            match st {
                Partial::Mean { sum, count } => {
                    *sum += x;
                    *count += 1;
                }
                _ => *st = Partial::Mean { sum: x, count: 1 },
            }
        }
        AggKind::Min | AggKind::Max | AggKind::First | AggKind::Last => match st {
            Partial::Select(cur) => {
                if better(kind, t, &v, cur) {
                    *cur = Pt {
                        time: t,
                        value: v,
                        aux: aux.to_vec(),
                    };
                }
            }
            _ => {
                *st = Partial::Select(Pt {
                    time: t,
                    value: v,
                    aux: aux.to_vec(),
                })
            }
        },
        AggKind::Spread => match st {
            Partial::Spread { min, max } => {
                if compare(&v, min) == Some(Ordering::Less) {
                    *min = v.clone();
                }
                if compare(&v, max) == Some(Ordering::Greater) {
                    *max = v;
                }
            }
            _ => {
                *st = Partial::Spread {
                    min: v.clone(),
                    max: v,
                }
            }
        },
        _ => {
            let p = Pt {
                time: t,
                value: v,
                aux: aux.to_vec(),
            };
            match st {
                Partial::Points(ps) => ps.push(p),
                _ => *st = Partial::Points(vec![p]),
            }
        }
    }
}

/// Adds `times[range]`/`col[range]` to a state with tight loops for the
/// common numeric aggregates.
pub fn push_block(
    kind: &AggKind,
    st: &mut Partial,
    times: &[i64],
    col: &Column,
    range: std::ops::Range<usize>,
) {
    if range.is_empty() {
        return;
    }
    match (kind, col) {
        (AggKind::Count, _) => {
            let n = range.len() as i64;
            match st {
                Partial::Count(c) => *c += n,
                _ => *st = Partial::Count(n),
            }
        }
        // Running sums continue across series in arrival order, as
        // InfluxDB's reducers add point by point.
        (AggKind::Mean, Column::Float(v)) => {
            let (mut s, n) = match st {
                Partial::Mean { sum, count } => (*sum, *count),
                _ => (0.0, 0),
            };
            for x in &v[range.clone()] {
                s += *x;
            }
            *st = Partial::Mean {
                sum: s,
                count: n + range.len() as u64,
            };
        }
        (AggKind::Mean, Column::Integer(v)) => {
            let (mut s, n) = match st {
                Partial::Mean { sum, count } => (*sum, *count),
                _ => (0.0, 0),
            };
            for x in &v[range.clone()] {
                s += *x as f64;
            }
            *st = Partial::Mean {
                sum: s,
                count: n + range.len() as u64,
            };
        }
        (AggKind::Sum, Column::Float(v)) => {
            let mut s = match st {
                Partial::Sum(Value::Float(f)) => *f,
                _ => 0.0,
            };
            for x in &v[range] {
                s += *x;
            }
            *st = Partial::Sum(Value::Float(s));
        }
        (AggKind::Sum, Column::Integer(v)) => {
            let s: i64 = v[range].iter().fold(0i64, |a, x| a.wrapping_add(*x));
            merge(kind, st, Partial::Sum(Value::Integer(s)));
        }
        (AggKind::Max | AggKind::Min, Column::Float(v)) => {
            let mut best = range.start;
            for i in range.clone() {
                let better = if *kind == AggKind::Max {
                    v[i] > v[best]
                } else {
                    v[i] < v[best]
                };
                if better {
                    best = i;
                }
            }
            push(kind, st, times[best], Value::Float(v[best]), &[]);
        }
        (AggKind::Max | AggKind::Min, Column::Integer(v)) => {
            let mut best = range.start;
            for i in range.clone() {
                let better = if *kind == AggKind::Max {
                    v[i] > v[best]
                } else {
                    v[i] < v[best]
                };
                if better {
                    best = i;
                }
            }
            push(kind, st, times[best], Value::Integer(v[best]), &[]);
        }
        (AggKind::First, _) => {
            // Within one series times are unique and ascending.
            push(
                kind,
                st,
                times[range.start],
                col_value(col, range.start),
                &[],
            );
        }
        (AggKind::Last, _) => {
            let i = range.end - 1;
            push(kind, st, times[i], col_value(col, i), &[]);
        }
        _ => {
            for i in range {
                push(kind, st, times[i], col_value(col, i), &[]);
            }
        }
    }
}

/// One cell of a column as a value.
pub fn col_value(col: &Column, i: usize) -> Value {
    match col {
        Column::Float(v) => Value::Float(v[i]),
        Column::Integer(v) => Value::Integer(v[i]),
        Column::Unsigned(v) => Value::Unsigned(v[i]),
        Column::Boolean(v) => Value::Bool(v[i]),
        Column::String(v) => Value::String(v[i].clone()),
    }
}

/// Merges `other` into `st`.
pub fn merge(kind: &AggKind, st: &mut Partial, other: Partial) {
    match (st as &mut Partial, other) {
        (_, Partial::Empty) => {}
        (Partial::Empty, o) => *st = o,
        (Partial::Count(a), Partial::Count(b)) => *a += b,
        (Partial::Sum(a), Partial::Sum(b)) => *a = add_values(a, &b),
        (Partial::Mean { sum, count }, Partial::Mean { sum: s, count: c }) => {
            *sum += s;
            *count += c;
        }
        (Partial::Select(cur), Partial::Select(p)) if better(kind, p.time, &p.value, cur) => {
            *cur = p;
        }
        (Partial::Spread { min, max }, Partial::Spread { min: m2, max: x2 }) => {
            if compare(&m2, min) == Some(Ordering::Less) {
                *min = m2;
            }
            if compare(&x2, max) == Some(Ordering::Greater) {
                *max = x2;
            }
        }
        (Partial::Points(a), Partial::Points(b)) => a.extend(b),
        _ => {}
    }
}

/// Output points of a finished state. `start` is the window start, used as
/// the time of aggregates (selectors carry their point's time; the caller
/// decides which time is shown).
pub fn finalize(kind: &AggKind, st: Partial, start: i64) -> Vec<Pt> {
    let one = |v: Value| {
        vec![Pt {
            time: start,
            value: v,
            aux: vec![],
        }]
    };
    match (kind, st) {
        (AggKind::Count | AggKind::CountDistinct, Partial::Empty) => one(Value::Integer(0)),
        (_, Partial::Empty) => vec![],
        (_, Partial::Count(c)) => one(Value::Integer(c)),
        (_, Partial::Sum(v)) => one(v),
        (_, Partial::Mean { sum, count }) => one(Value::Float(sum / count as f64)),
        (_, Partial::Select(p)) => vec![p],
        (_, Partial::Spread { min, max }) => one(match (&min, &max) {
            (Value::Integer(a), Value::Integer(b)) => Value::Integer(b - a),
            (Value::Unsigned(a), Value::Unsigned(b)) => Value::Unsigned(b - a),
            _ => Value::Float(as_f64(&max).unwrap_or(0.0) - as_f64(&min).unwrap_or(0.0)),
        }),
        (kind, Partial::Points(ps)) => finalize_points(kind, ps, start),
    }
}

fn sort_by_value(ps: &mut [Pt]) {
    ps.sort_by(|a, b| {
        compare(&a.value, &b.value)
            .unwrap_or(Ordering::Equal)
            .then(a.time.cmp(&b.time))
    });
}

/// A hashable identity of a value (floats by bit pattern).
fn value_key(v: &Value) -> (u8, u64, String) {
    match v {
        Value::Float(f) => (1, f.to_bits(), String::new()),
        Value::Integer(i) => (2, *i as u64, String::new()),
        Value::Unsigned(u) => (3, *u, String::new()),
        Value::Bool(b) => (4, *b as u64, String::new()),
        Value::String(s) => (5, 0, s.clone()),
        Value::Time(t) | Value::TimeTz(t, _) => (6, *t as u64, String::new()),
        Value::Null => (0, 0, String::new()),
    }
}

/// Orders points best-first for top (value descending) or bottom (value
/// ascending); ties go to the earlier point.
pub fn rank_sort(top: bool, ps: &mut [Pt]) {
    ps.sort_by(|a, b| {
        let o = compare(&a.value, &b.value).unwrap_or(Ordering::Equal);
        let o = if top { o.reverse() } else { o };
        o.then(a.time.cmp(&b.time))
    });
}

fn finalize_points(kind: &AggKind, mut ps: Vec<Pt>, start: i64) -> Vec<Pt> {
    // Points are in arrival order (series by key, then time), as InfluxDB
    // feeds its reducers; functions that need another order sort.
    let one = |v: Value| {
        vec![Pt {
            time: start,
            value: v,
            aux: vec![],
        }]
    };
    match kind {
        AggKind::Median => {
            let mut xs: Vec<f64> = ps.iter().filter_map(|p| as_f64(&p.value)).collect();
            if xs.is_empty() {
                return vec![];
            }
            xs.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
            let n = xs.len();
            let m = if n.is_multiple_of(2) {
                let lo = xs[n / 2 - 1];
                let hi = xs[n / 2];
                lo + (hi - lo) / 2.0
            } else {
                xs[n / 2]
            };
            if !n.is_multiple_of(2) {
                if let Some(p) = ps.iter().find(|p| as_f64(&p.value) == Some(m)) {
                    if matches!(p.value, Value::Integer(_) | Value::Unsigned(_)) {
                        return one(Value::Float(m));
                    }
                }
            }
            one(Value::Float(m))
        }
        AggKind::Mode => {
            sort_by_value(&mut ps);
            let mut best: Option<(usize, &Value)> = None;
            let mut i = 0;
            while i < ps.len() {
                let mut j = i + 1;
                while j < ps.len() && ps[j].value == ps[i].value {
                    j += 1;
                }
                if best.is_none_or(|(n, _)| j - i > n) {
                    best = Some((j - i, &ps[i].value));
                }
                i = j;
            }
            match best {
                Some((_, v)) => one(v.clone()),
                None => vec![],
            }
        }
        AggKind::Stddev => {
            let xs: Vec<f64> = ps.iter().filter_map(|p| as_f64(&p.value)).collect();
            if xs.len() < 2 {
                return one(Value::Null);
            }
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let var =
                xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (xs.len() - 1) as f64;
            one(Value::Float(var.sqrt()))
        }
        AggKind::Distinct => {
            // First occurrence in time order.
            ps.sort_by_key(|p| p.time);
            let mut seen = std::collections::HashSet::new();
            ps.retain(|p| seen.insert(value_key(&p.value)));
            ps.into_iter()
                .map(|p| Pt {
                    time: start,
                    value: p.value,
                    aux: vec![],
                })
                .collect()
        }
        AggKind::CountDistinct => {
            sort_by_value(&mut ps);
            ps.dedup_by(|a, b| a.value == b.value);
            one(Value::Integer(ps.len() as i64))
        }
        AggKind::Integral(unit) => {
            ps.sort_by_key(|p| p.time);
            let mut area = 0.0;
            for w in ps.windows(2) {
                let (Some(a), Some(b)) = (as_f64(&w[0].value), as_f64(&w[1].value)) else {
                    continue;
                };
                let dt = (w[1].time - w[0].time) as f64 / *unit as f64;
                area += (a + b) / 2.0 * dt;
            }
            one(Value::Float(area))
        }
        AggKind::Percentile(p) => {
            sort_by_value(&mut ps);
            let i = ((ps.len() as f64) * p / 100.0 + 0.5).floor() as i64 - 1;
            if i < 0 || i as usize >= ps.len() {
                return vec![];
            }
            vec![ps.swap_remove(i as usize)]
        }
        AggKind::Sample(n) => {
            ps.sort_by_key(|p| p.time);
            ps.truncate(*n);
            ps
        }
        AggKind::Top(n) | AggKind::Bottom(n) => {
            rank_sort(matches!(kind, AggKind::Top(_)), &mut ps);
            ps.truncate(*n);
            ps.sort_by_key(|p| p.time);
            ps
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: &AggKind, pts: &[(i64, f64)], split: usize) -> Vec<Pt> {
        let mut a = Partial::Empty;
        let mut b = Partial::Empty;
        for (i, (t, v)) in pts.iter().enumerate() {
            let st = if i % split == 0 { &mut a } else { &mut b };
            push(kind, st, *t, Value::Float(*v), &[]);
        }
        let wire = serde_json::to_string(&b).unwrap();
        merge(kind, &mut a, serde_json::from_str(&wire).unwrap());
        finalize(kind, a, 0)
    }

    #[test]
    fn merged_states_equal_single_state() {
        let pts: Vec<(i64, f64)> = (0..20).map(|i| (i * 10, ((i * 7) % 5) as f64)).collect();
        for kind in [
            AggKind::Count,
            AggKind::Sum,
            AggKind::Mean,
            AggKind::Median,
            AggKind::Mode,
            AggKind::Spread,
            AggKind::Stddev,
            AggKind::Min,
            AggKind::Max,
            AggKind::First,
            AggKind::Last,
            AggKind::Percentile(90.0),
            AggKind::Top(3),
            AggKind::Bottom(3),
            AggKind::Distinct,
            AggKind::Integral(1),
        ] {
            assert_eq!(run(&kind, &pts, 1), run(&kind, &pts, 2), "{kind:?}");
            assert_eq!(run(&kind, &pts, 1), run(&kind, &pts, 3), "{kind:?}");
        }
    }

    #[test]
    fn max_tie_keeps_earliest() {
        let r = run(&AggKind::Max, &[(5, 1.0), (1, 1.0), (3, 0.5)], 2);
        assert_eq!(r[0].time, 1);
    }
}
