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
    Derivative {
        unit: i64,
        non_negative: bool,
    },
    Difference {
        non_negative: bool,
    },
    MovingAverage(usize),
    CumulativeSum,
    Elapsed(i64),
    /// Exponential moving average of order 1, 2 or 3 (EMA, DEMA, TEMA).
    ExponentialMovingAverage(usize),
    DoubleExponentialMovingAverage(usize),
    TripleExponentialMovingAverage(usize),
    ChandeMomentumOscillator(usize),
    KaufmansEfficiencyRatio(usize),
    /// `relative_strength_index`, `triple_exponential_derivative`,
    /// `kaufmans_adaptive_moving_average` with (period, hold, warm-up).
    Momentum {
        kind: MomentumKind,
        period: usize,
        hold: Option<usize>,
        warmup: super::momentum::Warmup,
    },
    /// `holt_winters[_with_fit](agg, h, m)` over GROUP BY `interval`.
    HoltWinters {
        h: usize,
        m: usize,
        with_fit: bool,
        interval: i64,
    },
}

/// Which momentum indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MomentumKind {
    Rsi,
    Trix,
    Kama,
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
            "double_exponential_moving_average" => {
                Transform::DoubleExponentialMovingAverage(int(1)?.max(1) as usize)
            }
            "triple_exponential_moving_average" => {
                Transform::TripleExponentialMovingAverage(int(1)?.max(1) as usize)
            }
            "chande_momentum_oscillator" => {
                Transform::ChandeMomentumOscillator(int(1)?.max(1) as usize)
            }
            "kaufmans_efficiency_ratio" => {
                Transform::KaufmansEfficiencyRatio(int(1)?.max(1) as usize)
            }
            "relative_strength_index"
            | "triple_exponential_derivative"
            | "kaufmans_adaptive_moving_average" => {
                let kind = match name {
                    "relative_strength_index" => MomentumKind::Rsi,
                    "triple_exponential_derivative" => MomentumKind::Trix,
                    _ => MomentumKind::Kama,
                };
                let period = usize::try_from(int(1)?).ok().filter(|&p| p >= 1)?;
                let hold = match args.get(2).map(|e| e.unparen()) {
                    None => None,
                    Some(Expr::Integer(-1)) => None,
                    Some(Expr::Integer(h)) => Some(usize::try_from(*h).ok()?),
                    Some(_) => return None,
                };
                let warmup = match args.get(3).map(|e| e.unparen()) {
                    None => super::momentum::Warmup::Exponential,
                    Some(Expr::String(w)) => super::momentum::Warmup::parse(w)?,
                    Some(_) => return None,
                };
                Transform::Momentum {
                    kind,
                    period,
                    hold,
                    warmup,
                }
            }
            "holt_winters" | "holt_winters_with_fit" => Transform::HoltWinters {
                h: usize::try_from(int(1)?).ok()?,
                m: usize::try_from(int(2)?).ok()?,
                with_fit: name == "holt_winters_with_fit",
                interval: (interval > 0).then_some(interval)?,
            },
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
            Transform::DoubleExponentialMovingAverage(_) => "double_exponential_moving_average",
            Transform::TripleExponentialMovingAverage(_) => "triple_exponential_moving_average",
            Transform::ChandeMomentumOscillator(_) => "chande_momentum_oscillator",
            Transform::KaufmansEfficiencyRatio(_) => "kaufmans_efficiency_ratio",
            Transform::Momentum { kind, .. } => match kind {
                MomentumKind::Rsi => "relative_strength_index",
                MomentumKind::Trix => "triple_exponential_derivative",
                MomentumKind::Kama => "kaufmans_adaptive_moving_average",
            },
            Transform::HoltWinters {
                with_fit: false, ..
            } => "holt_winters",
            Transform::HoltWinters { .. } => "holt_winters_with_fit",
        }
    }

    /// How many GROUP BY intervals before the query start the input must
    /// reach back so the first output window has a value.
    pub fn lookback(&self) -> i64 {
        match self {
            Transform::Derivative { .. } | Transform::Difference { .. } | Transform::Elapsed(_) => {
                1
            }
            Transform::MovingAverage(n) => *n as i64 - 1,
            _ => 0,
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
            | "double_exponential_moving_average"
            | "triple_exponential_moving_average"
            | "chande_momentum_oscillator"
            | "kaufmans_efficiency_ratio"
            | "holt_winters"
            | "holt_winters_with_fit"
            | "relative_strength_index"
            | "triple_exponential_derivative"
            | "kaufmans_adaptive_moving_average"
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

/// An exponential moving average whose smoothing factor ramps up as
/// 2/(k+1) over the first `n` values (InfluxDB's exponential warm-up).
struct Ema {
    n: usize,
    count: usize,
    value: f64,
}

impl Ema {
    fn new(n: usize) -> Ema {
        Ema {
            n,
            count: 0,
            value: 0.0,
        }
    }

    fn next(&mut self, x: f64) -> f64 {
        self.count += 1;
        if self.count == 1 {
            self.value = x;
        } else {
            let k = self.count.min(self.n) as f64;
            let alpha = 2.0 / (k + 1.0);
            self.value += alpha * (x - self.value);
        }
        self.value
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
        Transform::Momentum {
            kind,
            period,
            hold,
            warmup,
        } => {
            use super::momentum::{run, Indicator};
            let series: Vec<(i64, f64)> = pts
                .iter()
                .filter_map(|(t, v)| as_f64(v).map(|x| (*t, x)))
                .collect();
            let ind = match kind {
                MomentumKind::Rsi => Indicator::rsi(*period, *warmup),
                MomentumKind::Trix => Indicator::trix(*period, *warmup),
                MomentumKind::Kama => Indicator::kama(*period),
            };
            out.extend(
                run(ind, *hold, &series)
                    .into_iter()
                    .map(|(t, v)| (t, Value::Float(v))),
            );
        }
        Transform::HoltWinters {
            h,
            m,
            with_fit,
            interval,
        } => {
            let series: Vec<(i64, f64)> = pts
                .iter()
                .filter_map(|(t, v)| as_f64(v).map(|x| (*t, x)))
                .collect();
            out.extend(
                super::holt_winters::forecast(&series, *h, *m, *with_fit, *interval)
                    .into_iter()
                    .map(|(t, v)| (t, Value::Float(v))),
            );
        }
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
                // The elapsed time counts positive in either direction:
                // under ORDER BY time DESC the points arrive newest first.
                let d = (b - a) / ((t1 - t0).unsigned_abs() as f64 / *unit as f64);
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
            // A running sum, as InfluxDB keeps it: the value leaving the
            // window is subtracted before the new one is added (the order
            // decides the last bits).
            let xs: Vec<(i64, f64)> = pts
                .iter()
                .filter_map(|p| as_f64(&p.1).map(|x| (p.0, x)))
                .collect();
            let mut sum = 0.0;
            for (i, (t, x)) in xs.iter().enumerate() {
                if i >= *n {
                    sum -= xs[i - n].1;
                }
                sum += x;
                if i + 1 >= *n {
                    out.push((*t, Value::Float(sum / *n as f64)));
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
        Transform::ExponentialMovingAverage(n)
        | Transform::DoubleExponentialMovingAverage(n)
        | Transform::TripleExponentialMovingAverage(n) => {
            let order = match t {
                Transform::ExponentialMovingAverage(_) => 1,
                Transform::DoubleExponentialMovingAverage(_) => 2,
                _ => 3,
            };
            let mut emas = [Ema::new(*n), Ema::new(*n), Ema::new(*n)];
            for p in pts {
                let Some(x) = as_f64(&p.1) else { continue };
                let e1 = emas[0].next(x);
                let e2 = if order > 1 { emas[1].next(e1) } else { 0.0 };
                let e3 = if order > 2 { emas[2].next(e2) } else { 0.0 };
                if emas[0].count < *n {
                    continue;
                }
                let v = match order {
                    1 => e1,
                    2 => 2.0 * e1 - e2,
                    _ => 3.0 * e1 - 3.0 * e2 + e3,
                };
                out.push((p.0, Value::Float(v)));
            }
        }
        Transform::ChandeMomentumOscillator(n) => {
            let xs: Vec<(i64, f64)> = pts
                .iter()
                .filter_map(|p| as_f64(&p.1).map(|x| (p.0, x)))
                .collect();
            for k in 1..xs.len() {
                if k + 1 < *n {
                    continue;
                }
                let from = (k + 1).saturating_sub(*n + 1);
                let (mut up, mut down) = (0.0, 0.0);
                for w in xs[from..=k].windows(2) {
                    let d = w[1].1 - w[0].1;
                    if d > 0.0 {
                        up += d;
                    } else {
                        down -= d;
                    }
                }
                let v = if up + down == 0.0 {
                    0.0
                } else {
                    (up - down) / (up + down) * 100.0
                };
                out.push((xs[k].0, Value::Float(v)));
            }
        }
        Transform::KaufmansEfficiencyRatio(n) => {
            let xs: Vec<(i64, f64)> = pts
                .iter()
                .filter_map(|p| as_f64(&p.1).map(|x| (p.0, x)))
                .collect();
            for k in *n..xs.len() {
                let change = (xs[k].1 - xs[k - n].1).abs();
                let vol: f64 = xs[k - n..=k]
                    .windows(2)
                    .map(|w| (w[1].1 - w[0].1).abs())
                    .sum();
                let v = if vol == 0.0 { 0.0 } else { change / vol };
                out.push((xs[k].0, Value::Float(v)));
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

    fn floats(t: &Transform, xs: &[f64]) -> Vec<f64> {
        let s: Vec<(i64, Value)> = xs
            .iter()
            .enumerate()
            .map(|(i, x)| (i as i64, Value::Float(*x)))
            .collect();
        apply(t, &s)
            .into_iter()
            .filter_map(|(_, v)| as_f64(&v))
            .collect()
    }

    #[test]
    fn exponential_family_matches_influxdb() {
        // Values and answers observed on InfluxDB 1.6.7.
        let xs = [1.0, 3.0, 2.0, 5.0, 4.0, 7.0, 6.0, 9.0];
        let ema = floats(&Transform::ExponentialMovingAverage(3), &xs);
        assert_eq!(ema[0], 2.1666666666666665);
        assert_eq!(ema[1], 3.583333333333333);
        let dema = floats(&Transform::DoubleExponentialMovingAverage(2), &xs);
        assert!((dema[0] - 2.7777777777777777).abs() < 1e-12);
        let tema = floats(&Transform::TripleExponentialMovingAverage(3), &xs);
        assert!((tema[0] - 2.226851851851852).abs() < 1e-12);
        let cmo = floats(&Transform::ChandeMomentumOscillator(3), &xs);
        assert_eq!(cmo.len(), 6);
        assert!((cmo[1] - 66.66666666666666).abs() < 1e-9);
        let ker = floats(&Transform::KaufmansEfficiencyRatio(3), &xs);
        assert!((ker[0] - 0.6666666666666666).abs() < 1e-12);
    }
}
