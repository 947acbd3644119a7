//! The momentum indicators InfluxDB 1.x borrows from technical analysis:
//! `relative_strength_index`, `triple_exponential_derivative` (TRIX) and
//! `kaufmans_adaptive_moving_average` (KAMA), with their warm-up rules — an
//! exponential (scaled alpha) or simple-average warm-up, and a hold period
//! (default: the indicator's warm-up count) during which nothing is emitted.
//! The definitions follow the ones InfluxDB uses, quirks included (RSI's
//! first difference is taken against 0, KAMA starts from the previous raw
//! value), so the answers are identical.
//!
//! Owns: sequence state machines fed one value at a time. Must not: know
//! about windows, nulls or output layout.

/// How an exponential average behaves before it has seen `period` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warmup {
    /// Alpha scaled to 2/(k+1) for the k-th value.
    Exponential,
    /// A simple running average.
    Simple,
}

impl Warmup {
    pub fn parse(s: &str) -> Option<Warmup> {
        match s {
            "exponential" => Some(Warmup::Exponential),
            "simple" => Some(Warmup::Simple),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    alpha: f64,
    warmup: Warmup,
    count: usize,
    last: f64,
}

impl Ema {
    fn new(period: usize, warmup: Warmup) -> Ema {
        Ema {
            period,
            alpha: 2.0 / (period as f64 + 1.0),
            warmup,
            count: 0,
            last: 0.0,
        }
    }

    fn warm_count(&self) -> usize {
        self.period.saturating_sub(1)
    }

    fn warmed(&self) -> bool {
        self.count == self.period
    }

    fn add(&mut self, v: f64) -> f64 {
        let avg = if self.count == 0 {
            v
        } else if !self.warmed() {
            match self.warmup {
                Warmup::Simple => (self.last * self.count as f64 + v) / (self.count as f64 + 1.0),
                Warmup::Exponential => {
                    let a = 2.0 / (self.count as f64 + 2.0);
                    (v - self.last) * a + self.last
                }
            }
        } else {
            (v - self.last) * self.alpha + self.last
        };
        self.last = avg;
        if self.count < self.period {
            self.count += 1;
        }
        avg
    }
}

/// One of the indicators, fed value by value.
#[derive(Debug, Clone)]
pub enum Indicator {
    Rsi {
        up: Ema,
        down: Ema,
        last: f64,
    },
    Trix {
        emas: [Ema; 3],
        last: f64,
    },
    Kama {
        /// Ring of (price, |price - previous price|), newest at `idx`.
        ring: Vec<(f64, f64)>,
        idx: usize,
        noise: f64,
        count: usize,
        last: f64,
    },
}

impl Indicator {
    pub fn rsi(period: usize, warmup: Warmup) -> Indicator {
        let mut e = Ema::new(period + 1, warmup);
        e.alpha = 1.0 / period as f64;
        Indicator::Rsi {
            up: e.clone(),
            down: e,
            last: 0.0,
        }
    }

    pub fn trix(period: usize, warmup: Warmup) -> Indicator {
        let e = Ema::new(period, warmup);
        Indicator::Trix {
            emas: [e.clone(), e.clone(), e],
            last: 0.0,
        }
    }

    pub fn kama(period: usize) -> Indicator {
        Indicator::Kama {
            ring: vec![(0.0, 0.0); period.max(1)],
            idx: 0,
            noise: 0.0,
            count: 0,
            last: 0.0,
        }
    }

    /// Values held back before the first output when no hold period is given.
    pub fn warm_count(&self) -> usize {
        match self {
            Indicator::Rsi { up, .. } => up.warm_count(),
            Indicator::Trix { emas, .. } => match emas[0].warmup {
                Warmup::Exponential => emas[0].warm_count() + 1,
                Warmup::Simple => emas[0].warm_count() * 3 + 1,
            },
            Indicator::Kama { ring, .. } => ring.len(),
        }
    }

    pub fn add(&mut self, v: f64) -> f64 {
        match self {
            Indicator::Rsi { up, down, last } => {
                let (u, d) = if v > *last {
                    (v - *last, 0.0)
                } else if v < *last {
                    (0.0, *last - v)
                } else {
                    (0.0, 0.0)
                };
                up.add(u);
                down.add(d);
                *last = v;
                100.0 - (100.0 / (1.0 + up.last / down.last))
            }
            Indicator::Trix { emas, last } => {
                let mut cur = emas[0].add(v);
                if emas[0].warmed() || emas[0].warmup == Warmup::Exponential {
                    cur = emas[1].add(cur);
                    if emas[1].warmed() || emas[1].warmup == Warmup::Exponential {
                        cur = emas[2].add(cur);
                    }
                }
                let rate = ((cur / *last) - 1.0) * 100.0;
                *last = cur;
                rate
            }
            Indicator::Kama {
                ring,
                idx,
                noise,
                count,
                last,
            } => {
                let n = ring.len();
                if *count != n + 1 {
                    // Not warmed: restart from the previous raw value.
                    *last = ring[*idx].0;
                }
                let oldest = if *idx + 1 >= n { 0 } else { *idx + 1 };
                let signal = (v - ring[oldest].0).abs();
                let diff = (v - ring[*idx].0).abs();
                *noise -= ring[oldest].1;
                *noise += diff;
                *idx = oldest;
                ring[oldest] = (v, diff);
                if *count != n + 1 {
                    *count += 1;
                }
                let er = if signal == 0.0 || *noise == 0.0 {
                    0.0
                } else {
                    signal / *noise
                };
                // Smoothing constant between the fast (2-period) and slow
                // (30-period) EMA: (er * (2/3 - 2/31) + 2/31)^2. The
                // difference is rounded once from its exact value 56/93, as
                // InfluxDB's compile-time constant is.
                const FAST_MINUS_SLOW: f64 = 56.0 / 93.0;
                const SLOW: f64 = 2.0 / 31.0;
                let sc = (er * FAST_MINUS_SLOW + SLOW).powi(2);
                *last += sc * (v - *last);
                *last
            }
        }
    }
}

/// Runs `ind` over `xs`, emitting `(time, value)` once more than `hold`
/// values have been seen (`hold` None: the indicator's warm-up count).
pub fn run(mut ind: Indicator, hold: Option<usize>, xs: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let hold = hold.unwrap_or_else(|| ind.warm_count());
    let mut out = Vec::with_capacity(xs.len().saturating_sub(hold));
    for (i, &(t, v)) in xs.iter().enumerate() {
        let r = ind.add(v);
        if i + 1 > hold {
            out.push((t, r));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 15 values of the series the recorded answers were made
    /// from (see select/holt_winters.rs), at 7 s past each minute.
    fn series() -> Vec<(i64, f64)> {
        (0..15)
            .map(|i| {
                let x = i as f64;
                let v = 10.0
                    + 5.0 * (x * 2.0 * std::f64::consts::PI / 6.0).sin()
                    + 0.3 * x
                    + (i % 4) as f64 * 0.1;
                (i as i64 * 60 + 7, v)
            })
            .collect()
    }

    fn check(got: Vec<(i64, f64)>, first_time: i64, want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{got:?}");
        assert_eq!(got[0].0, first_time);
        for ((_, g), w) in got.iter().zip(want) {
            assert_eq!(g.to_bits(), w.to_bits(), "{g} != {w}");
        }
    }

    // Answers of InfluxDB 1.6.7 to `SELECT <f>(v, ...) FROM m WHERE time < 900s`.

    #[test]
    fn rsi_matches_influxdb() {
        check(
            run(Indicator::rsi(3, Warmup::Exponential), None, &series()),
            187,
            &[
                56.78895338522622,
                35.60185525732082,
                38.76734782451797,
                67.28868967964846,
                80.7430972559907,
                80.7430972559907,
                45.64533905127983,
                27.629907671477497,
                31.742746594037186,
                64.50138675852776,
                80.12834640732105,
                81.1792857521358,
            ],
        );
        let simple = run(Indicator::rsi(3, Warmup::Simple), Some(2), &series());
        assert_eq!(simple[0], (127, 100.0));
        assert_eq!(simple[1].1, 79.38051082048081);
    }

    #[test]
    fn trix_matches_influxdb() {
        let got = run(Indicator::trix(3, Warmup::Exponential), None, &series());
        assert_eq!(got[0], (187, 2.588058039868457));
        assert_eq!(got[1].1, -4.951447114222951);
        let got = run(Indicator::trix(3, Warmup::Simple), None, &series());
        assert_eq!(got[0], (427, 5.517199242124615));
        assert_eq!(got[7].1, 9.919925359555283);
    }

    #[test]
    fn kama_smoothing_constant_matches_influxdb_rounding() {
        let got = run(Indicator::kama(3), None, &series());
        assert_eq!(got[0], (187, 15.04832722422704));
        assert_eq!(got[1].1, 11.99471491763945);
        assert_eq!(got[2].1, 10.230587485337509);
    }

    #[test]
    fn kama_matches_influxdb() {
        let got = run(Indicator::kama(4), None, &series());
        assert_eq!(got[0], (247, 11.01753882554058));
        assert_eq!(got[1].1, 9.840886961708192);
        assert_eq!(got[10].1, 15.203829069895063);
        let got = run(Indicator::kama(4), Some(6), &series());
        assert_eq!(got[0], (367, 9.931866810344463));
    }
}
