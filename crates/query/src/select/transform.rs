//! Transformations over a time-ordered sequence of values: derivative,
//! difference, moving average, cumulative sum, elapsed and the
//! exponential-smoothing family. They run on the merge side, after
//! aggregation (or on raw rows), per output series.
//!
//! Owns: sequence-to-sequence functions. Must not: aggregate or fill.

use super::eval::as_f64;
use crate::result::Value;
use influxql::Expr;

/// A transformation with its constant arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    Derivative { unit: i64, non_negative: bool },
    Difference { non_negative: bool },
    MovingAverage(usize),
    CumulativeSum,
    Elapsed(i64),
    ExponentialMovingAverage(usize),
}

impl Transform {
    /// Builds a transform from a call; `raw` selects the default unit rules.
    pub fn from_call(name: &str, args: &[Expr], interval: i64) -> Option<Transform> {
        let dur = |i: usize| match args.get(i).map(|e| e.unparen()) {
            Some(Expr::Duration(d)) => Some(*d),
            _ => None,
        };
        let int = |i: usize| match args.get(i).map(|e| e.unparen()) {
            Some(Expr::Integer(n)) => Some(*n),
            _ => None,
        };
        // Over GROUP BY time aggregates the default unit is the interval.
        let default_unit = if interval > 0 {
            interval
        } else {
            1_000_000_000
        };
        Some(match name {
            "derivative" => Transform::Derivative {
                unit: dur(1).unwrap_or(default_unit),
                non_negative: false,
            },
            "non_negative_derivative" => Transform::Derivative {
                unit: dur(1).unwrap_or(default_unit),
                non_negative: true,
            },
            "difference" => Transform::Difference {
                non_negative: false,
            },
            "non_negative_difference" => Transform::Difference { non_negative: true },
            "moving_average" => Transform::MovingAverage(int(1)?.max(1) as usize),
            "cumulative_sum" => Transform::CumulativeSum,
            "elapsed" => Transform::Elapsed(dur(1).unwrap_or(1)),
            "exponential_moving_average" => {
                Transform::ExponentialMovingAverage(int(1)?.max(1) as usize)
            }
            _ => return None,
        })
    }
}

impl Transform {
    /// The function's name.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Derivative {
                non_negative: false,
                ..
            } => "derivative",
            Transform::Derivative { .. } => "non_negative_derivative",
            Transform::Difference {
                non_negative: false,
            } => "difference",
            Transform::Difference { .. } => "non_negative_difference",
            Transform::MovingAverage(_) => "moving_average",
            Transform::CumulativeSum => "cumulative_sum",
            Transform::Elapsed(_) => "elapsed",
            Transform::ExponentialMovingAverage(_) => "exponential_moving_average",
        }
    }

    /// How many GROUP BY intervals before the query start the input must
    /// reach back so the first output window has a value.
    pub fn lookback(&self) -> i64 {
        match self {
            Transform::Derivative { .. } | Transform::Difference { .. } | Transform::Elapsed(_) => {
                1
            }
            Transform::MovingAverage(n) | Transform::ExponentialMovingAverage(n) => *n as i64 - 1,
            Transform::CumulativeSum => 0,
        }
    }
}

/// Names of transformation functions.
pub fn is_transform(name: &str) -> bool {
    matches!(
        name,
        "derivative"
            | "non_negative_derivative"
            | "difference"
            | "non_negative_difference"
            | "moving_average"
            | "cumulative_sum"
            | "elapsed"
            | "exponential_moving_average"
    )
}

fn sub(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Value::Integer(x.wrapping_sub(*y)),
        (Value::Unsigned(x), Value::Unsigned(y)) => Value::Unsigned(x.wrapping_sub(*y)),
        _ => match (as_f64(a), as_f64(b)) {
            (Some(x), Some(y)) => Value::Float(x - y),
            _ => Value::Null,
        },
    }
}

fn is_negative(v: &Value) -> bool {
    match v {
        Value::Integer(i) => *i < 0,
        Value::Float(f) => *f < 0.0,
        _ => false,
    }
}

/// Applies `t` to `input` (nulls are skipped). Output is time ordered as
/// the input; `desc` reverses the direction the deltas are taken in.
pub fn apply(t: &Transform, input: &[(i64, Value)]) -> Vec<(i64, Value)> {
    let pts: Vec<&(i64, Value)> = input
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Null))
        .collect();
    let mut out = Vec::with_capacity(pts.len());
    match t {
        Transform::Derivative { unit, non_negative } => {
            for w in pts.windows(2) {
                let (t0, v0) = (w[0].0, &w[0].1);
                let (t1, v1) = (w[1].0, &w[1].1);
                if t1 == t0 {
                    continue;
                }
                let (Some(a), Some(b)) = (as_f64(v0), as_f64(v1)) else {
                    continue;
                };
                let d = (b - a) / ((t1 - t0) as f64 / *unit as f64);
                if *non_negative && d < 0.0 {
                    continue;
                }
                out.push((t1, Value::Float(d)));
            }
        }
        Transform::Difference { non_negative } => {
            for w in pts.windows(2) {
                if w[1].0 == w[0].0 {
                    continue;
                }
                let d = sub(&w[1].1, &w[0].1);
                if *non_negative && is_negative(&d) {
                    continue;
                }
                out.push((w[1].0, d));
            }
        }
        Transform::MovingAverage(n) => {
            if pts.len() >= *n {
                for w in pts.windows(*n) {
                    let s: f64 = w.iter().filter_map(|p| as_f64(&p.1)).sum();
                    out.push((w[n - 1].0, Value::Float(s / *n as f64)));
                }
            }
        }
        Transform::CumulativeSum => {
            let mut acc: Option<Value> = None;
            for p in pts {
                let next = match &acc {
                    None => match &p.1 {
                        Value::Integer(_) | Value::Unsigned(_) | Value::Float(_) => p.1.clone(),
                        _ => continue,
                    },
                    Some(a) => match (a, &p.1) {
                        (Value::Integer(x), Value::Integer(y)) => {
                            Value::Integer(x.wrapping_add(*y))
                        }
                        (Value::Unsigned(x), Value::Unsigned(y)) => {
                            Value::Unsigned(x.wrapping_add(*y))
                        }
                        _ => Value::Float(as_f64(a).unwrap_or(0.0) + as_f64(&p.1).unwrap_or(0.0)),
                    },
                };
                out.push((p.0, next.clone()));
                acc = Some(next);
            }
        }
        Transform::Elapsed(unit) => {
            for w in pts.windows(2) {
                out.push((w[1].0, Value::Integer((w[1].0 - w[0].0) / unit.max(&1))));
            }
        }
        Transform::ExponentialMovingAverage(n) => {
            let alpha = 2.0 / (*n as f64 + 1.0);
            let mut ema: Option<f64> = None;
            let mut seen = 0usize;
            let mut warm = 0.0;
            for p in pts {
                let Some(x) = as_f64(&p.1) else { continue };
                seen += 1;
                match ema {
                    None if seen < *n => warm += x,
                    None => {
                        let e = (warm + x) / *n as f64;
                        ema = Some(e);
                        out.push((p.0, Value::Float(e)));
                    }
                    Some(e) => {
                        let e = alpha * x + (1.0 - alpha) * e;
                        ema = Some(e);
                        out.push((p.0, Value::Float(e)));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_and_difference() {
        let s = vec![
            (0, Value::Integer(10)),
            (1_000_000_000, Value::Integer(15)),
            (2_000_000_000, Value::Null),
            (3_000_000_000, Value::Integer(11)),
        ];
        let d = apply(
            &Transform::Derivative {
                unit: 1_000_000_000,
                non_negative: false,
            },
            &s,
        );
        assert_eq!(
            d,
            vec![
                (1_000_000_000, Value::Float(5.0)),
                (3_000_000_000, Value::Float(-2.0))
            ]
        );
        let d = apply(&Transform::Difference { non_negative: true }, &s);
        assert_eq!(d, vec![(1_000_000_000, Value::Integer(5))]);
        let c = apply(&Transform::CumulativeSum, &s);
        assert_eq!(c.last().unwrap().1, Value::Integer(36));
    }
}
