//! `holt_winters()` and `holt_winters_with_fit()`: Holt-Winters triple
//! exponential smoothing with a damped trend (multiplicative seasonality of
//! period `m`, none when `m < 2`), fitted by minimising the sum of squared
//! errors with the Nelder-Mead simplex method from a 2^4 grid of starting
//! parameters, then forecasting `h` intervals ahead.
//!
//! InfluxDB's answers depend on every detail of that procedure — the
//! simplex coefficients, the convergence test, the starting level, trend
//! and seasonal indices, and even that evaluating the error clamps and
//! updates the parameter vector it is given — so this module reproduces the
//! procedure exactly (verified against InfluxDB 1.6.7's output in the tests).
//!
//! Owns: the fit and forecast over one series of `(time, value)`. Must not:
//! know about windows, fills or output layout.

/// Weight of the first observations in the non-seasonal starting level/trend.
const START_WEIGHT: f64 = 0.5;
/// Convergence threshold of the simplex (standard deviation of the errors).
const EPSILON: f64 = 1.0e-4;
/// Grid of starting guesses for alpha, beta, gamma and phi.
const GUESS_LOWER: f64 = 0.3;
const GUESS_UPPER: f64 = 1.0;
const GUESS_STEP: f64 = 0.4;
/// Simplex iteration limit and coefficients (reflection, contraction,
/// expansion).
const MAX_ITERATIONS: usize = 1000;
const REFLECT: f64 = 1.0;
const CONTRACT: f64 = 0.5;
const EXPAND: f64 = 2.0;

/// Largest forecast count `h` (and season length `m`) a query may ask for:
/// every forecast is an output row, and an unbounded `h` let one query
/// request an allocation that aborts the process. InfluxDB has no limit.
pub const MAX_FORECAST: i64 = 100_000;
/// Longest regularised input (intervals from the first to the last point,
/// gaps included) a forecast is computed over; a series spanning more gets
/// no forecast rather than gigabytes of gap markers.
pub const MAX_INPUT_INTERVALS: usize = 1_000_000;

/// Parameter vector layout: alpha, beta, gamma, phi, level, trend, seasonals...
const ALPHA: usize = 0;
const BETA: usize = 1;
const GAMMA: usize = 2;
const PHI: usize = 3;
const LEVEL: usize = 4;
const TREND: usize = 5;
const SEASONALS: usize = 6;

/// Forecasts `h` intervals past the last point (`with_fit`: also the fitted
/// values from the first point on). `points` are `(time, value)` in time
/// order; `interval` is the GROUP BY interval in ns. Returns `(time, value)`,
/// NaN forecasts left out; empty when there are fewer than two points, fewer
/// than `m`, or all points fall in one interval.
pub fn forecast(
    points: &[(i64, f64)],
    h: usize,
    m: usize,
    with_fit: bool,
    interval: i64,
) -> Vec<(i64, f64)> {
    if points.len() < 2 || m > points.len() || interval <= 0 {
        return Vec::new();
    }
    let h = h.min(MAX_FORECAST as usize);
    let seasonal = m >= 2;
    let m = if seasonal { m } else { 0 };
    let span = round_time(points[points.len() - 1].0, interval)
        .saturating_sub(round_time(points[0].0, interval));
    if span / interval <= 0 || span / interval >= MAX_INPUT_INTERVALS as i64 {
        return Vec::new();
    }
    let y = regularise(points, interval);
    let params = fit(&y, m);
    let mut params = params;
    let mut values = run(&y, &mut params, m, h);
    for v in &mut values {
        if !v.is_finite() {
            *v = 0.0;
        }
    }
    let (start, values) = if with_fit {
        (points[0].0, values)
    } else {
        let skip = values.len().saturating_sub(h);
        (
            points[points.len() - 1].0.saturating_add(interval),
            values[skip..].to_vec(),
        )
    };
    // Forecasts past the end of representable time are left out.
    values
        .into_iter()
        .enumerate()
        .map_while(|(i, v)| {
            let t = (i as i64)
                .checked_mul(interval)
                .and_then(|d| start.checked_add(d))
                .filter(|&t| t <= models::MAX_NANOS)?;
            Some((t, v))
        })
        .collect()
}

/// Rounds `t` to the nearest multiple of `interval` (halves round down).
fn round_time(t: i64, interval: i64) -> i64 {
    let rem = t % interval;
    let q = if rem > interval / 2 {
        t / interval + 1
    } else {
        t / interval
    };
    q.saturating_mul(interval)
}

/// One value per interval from the first point on: later points in an
/// already used interval are dropped, missing intervals become NaN.
fn regularise(points: &[(i64, f64)], interval: i64) -> Vec<f64> {
    let mut y = vec![points[0].1];
    let mut t = round_time(points[0].0, interval);
    for &(pt, v) in &points[1..] {
        let rounded = round_time(pt, interval);
        if rounded <= t {
            continue;
        }
        // `forecast` bounded the span, so this adds at most
        // MAX_INPUT_INTERVALS markers; `<` also ends on a saturated time.
        t = t.saturating_add(interval);
        while t < rounded {
            y.push(f64::NAN);
            t = t.saturating_add(interval);
        }
        y.push(v);
    }
    y
}

/// Clamps the smoothing parameters to [0, 1].
fn clamp_smoothing(p: &mut [f64]) {
    for x in &mut p[ALPHA..=PHI] {
        *x = x.clamp(0.0, 1.0);
    }
}

/// Runs the recurrences over `y` with `p` (clamping it and updating its
/// seasonal indices in place, as the reference procedure does), returning
/// `len(y) + h` one-step values.
fn run(y: &[f64], p: &mut [f64], m: usize, h: usize) -> Vec<f64> {
    clamp_smoothing(p);
    let (alpha, beta, gamma, phi) = (p[ALPHA], p[BETA], p[GAMMA], p[PHI]);
    let mut level = p[LEVEL];
    let mut trend = p[TREND];
    let mut damp = phi;
    let seasonal = m > 0;
    let mut shift = m.saturating_sub(1);
    let n = y.len() + h;
    let mut out = Vec::with_capacity(n);
    let mut yt = y[0];
    out.push(yt);
    for t in 1..n {
        let (s_prev, s_ahead) = if seasonal {
            let hm = t % m;
            (
                p[SEASONALS + (t + shift - m) % m],
                p[SEASONALS + (t + shift + hm - m) % m],
            )
        } else {
            (1.0, 1.0)
        };
        let new_level = alpha * (yt / s_prev) + (1.0 - alpha) * (level + phi * trend);
        let new_trend = beta * (new_level - level) + (1.0 - beta) * phi * trend;
        let new_season = gamma * (yt / (level + phi * trend)) + (1.0 - gamma) * s_prev;
        yt = (new_level + damp * new_trend) * s_ahead;
        level = new_level;
        trend = new_trend;
        damp += phi.powi(t as i32);
        if seasonal {
            p[SEASONALS + (t + shift) % m] = new_season;
            shift += 1;
        }
        out.push(yt);
    }
    out
}

/// Sum of squared errors of the fit over the known values; +inf when the
/// fit produces NaN where a value is known.
fn sse(y: &[f64], p: &mut [f64], m: usize) -> f64 {
    let fitted = run(y, p, m, 0);
    let mut total = 0.0;
    for (f, v) in fitted.iter().zip(y) {
        if v.is_nan() {
            continue;
        }
        if f.is_nan() {
            return f64::INFINITY;
        }
        let d = f - v;
        total += d * d;
    }
    total
}

/// Starting level, trend and seasonal indices, then the best Nelder-Mead
/// result over the grid of smoothing-parameter guesses.
fn fit(y: &[f64], m: usize) -> Vec<f64> {
    let seasonal = m > 0;
    let level = if seasonal {
        let mut l = 0.0;
        for v in y[..m].iter().filter(|v| !v.is_nan()) {
            l += (1.0 / m as f64) * v;
        }
        l
    } else {
        START_WEIGHT * y[0]
    };
    let trend = if seasonal {
        let mut b = 0.0;
        for i in 0..m {
            if m + i >= y.len() {
                break;
            }
            if !y[i].is_nan() && !y[m + i].is_nan() {
                b += 1.0 / (m * m) as f64 * (y[m + i] - y[i]);
            }
        }
        b
    } else if !y[1].is_nan() {
        START_WEIGHT * (y[1] - y[0])
    } else {
        0.0
    };
    let seasonals: Vec<f64> = (0..m)
        .map(|i| if y[i].is_nan() { 0.0 } else { y[i] / level })
        .collect();
    let guesses: Vec<f64> = {
        let mut g = Vec::new();
        let mut x = GUESS_LOWER;
        while x < GUESS_UPPER {
            g.push(x);
            x += GUESS_STEP;
        }
        g
    };
    let mut best: Option<(f64, Vec<f64>)> = None;
    for &alpha in &guesses {
        for &beta in &guesses {
            for &gamma in &guesses {
                for &phi in &guesses {
                    let mut start = vec![alpha, beta, gamma, phi, level, trend];
                    start.extend_from_slice(&seasonals);
                    let (err, params) = nelder_mead(|p| sse(y, p, m), &start);
                    if best.as_ref().is_none_or(|(b, _)| err < *b) {
                        best = Some((err, params));
                    }
                }
            }
        }
    }
    best.map(|(_, p)| p).unwrap_or_default()
}

/// The Nelder-Mead downhill simplex (scale 1) from `start`. The objective
/// may modify the vertex it evaluates, and those modifications persist.
fn nelder_mead(mut f: impl FnMut(&mut [f64]) -> f64, start: &[f64]) -> (f64, Vec<f64>) {
    let n = start.len();
    let nf = n as f64;
    let p_off = ((nf + 1.0).sqrt() - 1.0 + nf) / (nf * std::f64::consts::SQRT_2);
    let q_off = ((nf + 1.0).sqrt() - 1.0) / (nf * std::f64::consts::SQRT_2);
    let mut v: Vec<Vec<f64>> = (0..=n)
        .map(|i| {
            (0..n)
                .map(|j| match i {
                    0 => start[j],
                    _ if i - 1 == j => start[j] + p_off,
                    _ => start[j] + q_off,
                })
                .collect()
        })
        .collect();
    let mut fv: Vec<f64> = v.iter_mut().map(|x| f(x)).collect();
    let mut centroid = vec![0.0; n];
    for _ in 0..MAX_ITERATIONS {
        let (mut worst, mut best) = (0, 0);
        for i in 0..=n {
            if fv[i] > fv[worst] {
                worst = i;
            }
            if fv[i] < fv[best] {
                best = i;
            }
        }
        let mut second = best;
        for i in 0..=n {
            if fv[i] > fv[second] && fv[i] < fv[worst] {
                second = i;
            }
        }
        for (j, c) in centroid.iter_mut().enumerate() {
            let sum: f64 = (0..=n).filter(|&k| k != worst).map(|k| v[k][j]).sum();
            *c = sum / nf;
        }
        let mut reflected: Vec<f64> = (0..n)
            .map(|j| centroid[j] + REFLECT * (centroid[j] - v[worst][j]))
            .collect();
        let fr = f(&mut reflected);
        if fr < fv[second] && fr >= fv[best] {
            v[worst].clone_from(&reflected);
            fv[worst] = fr;
        }
        if fr < fv[best] {
            let mut expanded: Vec<f64> = (0..n)
                .map(|j| centroid[j] + EXPAND * (reflected[j] - centroid[j]))
                .collect();
            let fe = f(&mut expanded);
            if fe < fr {
                v[worst] = expanded;
                fv[worst] = fe;
            } else {
                v[worst].clone_from(&reflected);
                fv[worst] = fr;
            }
        }
        if fr >= fv[second] {
            let mut contracted: Vec<f64> = if fr < fv[worst] && fr >= fv[second] {
                (0..n)
                    .map(|j| centroid[j] + CONTRACT * (reflected[j] - centroid[j]))
                    .collect()
            } else {
                (0..n)
                    .map(|j| centroid[j] - CONTRACT * (centroid[j] - v[worst][j]))
                    .collect()
            };
            let fc = f(&mut contracted);
            if fc < fv[worst] {
                v[worst] = contracted;
                fv[worst] = fc;
            } else {
                let anchor = v[best].clone();
                for (row, vertex) in v.iter_mut().enumerate() {
                    if row != best {
                        for (x, a) in vertex.iter_mut().zip(&anchor) {
                            *x = a + (*x - a) / 2.0;
                        }
                    }
                }
                fv[worst] = f(&mut v[worst]);
                fv[second] = f(&mut v[second]);
            }
        }
        let mean = fv.iter().sum::<f64>() / (nf + 1.0);
        let spread = fv
            .iter()
            .map(|x| (x - mean).powi(2) / nf)
            .sum::<f64>()
            .sqrt();
        if spread < EPSILON {
            break;
        }
    }
    let mut best = 0;
    for i in 0..=n {
        if fv[i] < fv[best] {
            best = i;
        }
    }
    let mut params = v[best].clone();
    let min = f(&mut params);
    (min, v[best].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    /// The series of the recorded answers: 60 one-minute points of a
    /// sine with period 6, a trend and a small sawtooth, at 7 s past the
    /// minute.
    fn series(n: usize) -> Vec<(i64, f64)> {
        (0..n)
            .map(|i| {
                let x = i as f64;
                let v = 10.0
                    + 5.0 * (x * 2.0 * std::f64::consts::PI / 6.0).sin()
                    + 0.3 * x
                    + (i % 4) as f64 * 0.1;
                (i as i64 * 60 * S, v)
            })
            .collect()
    }

    /// Bit-identical: the procedure is reproduced exactly.
    fn close(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits()
    }

    #[test]
    fn matches_influxdb_seasonal_forecast() {
        // SELECT holt_winters(mean(v), 5, 6) ... GROUP BY time(1m) on InfluxDB 1.6.7.
        let want = [
            26.912334354979897,
            27.503198372963244,
            27.455961714494293,
            27.641303700131978,
            28.006782232235132,
        ];
        let got = forecast(&series(60), 5, 6, false, 60 * S);
        assert_eq!(got.len(), 5);
        assert_eq!(got[0].0, 3600 * S);
        for ((_, g), w) in got.iter().zip(want) {
            assert!(close(*g, w), "{g} != {w}");
        }
    }

    #[test]
    fn matches_influxdb_non_seasonal_forecast() {
        let want = [
            27.583204345109145,
            27.851509148538476,
            28.119141016521663,
            28.386101636848522,
        ];
        let got = forecast(&series(60), 4, 0, false, 60 * S);
        for ((_, g), w) in got.iter().zip(want) {
            assert!(close(*g, w), "{g} != {w}");
        }
    }

    #[test]
    fn matches_influxdb_with_fit() {
        let want = [
            10.0,
            14.257409516248803,
            11.075629730229416,
            8.9921301396021,
            11.31783044096827,
            10.532476823363499,
            10.08780344986984,
            14.668660611682128,
            15.264594704213696,
            16.571829279486973,
            25.218061797318537,
            27.93308058777004,
            31.102828268825583,
        ];
        let got = forecast(&series(10), 3, 6, true, 60 * S);
        assert_eq!(got.len(), want.len());
        assert_eq!(got[0].0, 0);
        for ((_, g), w) in got.iter().zip(want) {
            assert!(close(*g, w), "{g} != {w}");
        }
    }

    #[test]
    fn too_few_points_give_nothing() {
        assert!(forecast(&series(1), 3, 0, false, 60 * S).is_empty());
        assert!(forecast(&series(4), 3, 6, false, 60 * S).is_empty());
    }
}
