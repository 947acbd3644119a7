//! The run's results: a JSON document and a human-readable table. Owns
//! presentation only.

use crate::load::LoadResult;
use crate::query_run::QueryResult;
use crate::timefmt::format_rfc3339;
use crate::workload::Spec;
use serde::Serialize;
use std::fmt::Write as _;

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: String,
    pub url: String,
    pub server_version: Option<String>,
    pub db: String,
    pub dataset: Dataset,
    pub load: Option<LoadResult>,
    pub queries: Vec<QueryResult>,
    pub skipped_query_types: Vec<String>,
}

/// The dataset's parameters and size.
#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    pub workload: &'static str,
    pub scale: u64,
    pub duration_s: i64,
    pub start: String,
    pub interval_s: i64,
    pub seed: u64,
    pub points: u64,
    pub values: u64,
}

impl Dataset {
    pub fn of(spec: &Spec) -> Dataset {
        Dataset {
            workload: "tsbs devops cpu-only",
            scale: spec.scale,
            duration_s: spec.duration_s,
            start: format_rfc3339(spec.start_ns),
            interval_s: spec.interval_s,
            seed: spec.seed,
            points: spec.points(),
            values: spec.values(),
        }
    }
}

fn grouped(n: f64) -> String {
    let s = format!("{:.0}", n);
    let (sign, digits) = s.split_at(if s.starts_with('-') { 1 } else { 0 });
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

impl Report {
    /// The results table.
    pub fn table(&self) -> String {
        let mut o = String::new();
        let d = &self.dataset;
        let _ = writeln!(
            o,
            "influx-bench {} -> {} ({}), database {}",
            env!("CARGO_PKG_VERSION"),
            self.url,
            self.server_version.as_deref().unwrap_or("version unknown"),
            self.db
        );
        let _ = writeln!(
            o,
            "dataset: {}, {} hosts, {} s from {} every {} s, seed {}: {} points, {} values",
            d.workload,
            d.scale,
            d.duration_s,
            d.start,
            d.interval_s,
            d.seed,
            grouped(d.points as f64),
            grouped(d.values as f64)
        );
        if let Some(l) = &self.load {
            let _ = writeln!(
                o,
                "\nload: {} workers, batch {}, {}, consistency {}",
                l.workers,
                l.batch_size,
                if l.gzip { "gzip" } else { "no gzip" },
                l.consistency.as_deref().unwrap_or("(server default)")
            );
            let _ = writeln!(
                o,
                "  {:<22} {:>14} {:>14} {:>10}",
                "", "points/s", "values/s", "wall s"
            );
            let _ = writeln!(
                o,
                "  {:<22} {:>14} {:>14} {:>10.2}",
                format!("{} points", grouped(l.points as f64)),
                grouped(l.points_per_s),
                grouped(l.values_per_s),
                l.wall_s
            );
            let b = &l.batch_latency;
            let _ = writeln!(
                o,
                "  batch latency ms: median {:.1}  p95 {:.1}  p99 {:.1}  max {:.1}; {} batches, {} errors, {} retries",
                b.median_ms, b.p95_ms, b.p99_ms, b.max_ms, l.batches, l.errors, l.retries
            );
            if let Some(e) = &l.first_error {
                let _ = writeln!(o, "  first error: {e}");
            }
            match l.visible_points {
                Some(v) => {
                    let _ = writeln!(
                        o,
                        "  visible after load: {} points (count(usage_user))",
                        grouped(v as f64)
                    );
                }
                None => {
                    let _ = writeln!(o, "  visible after load: unknown (count query failed)");
                }
            }
        }
        if !self.queries.is_empty() {
            let _ = writeln!(o, "\nqueries:");
            let _ = writeln!(
                o,
                "  {:<22} {:>5} {:>11} {:>9} {:>9} {:>9} {:>9} {:>7}",
                "type", "n", "median ms", "p95 ms", "p99 ms", "mean ms", "rows", "errors"
            );
            for q in &self.queries {
                let l = &q.latency;
                let _ = writeln!(
                    o,
                    "  {:<22} {:>5} {:>11.2} {:>9.2} {:>9.2} {:>9.2} {:>9} {:>7}",
                    q.query_type,
                    q.queries,
                    l.median_ms,
                    l.p95_ms,
                    l.p99_ms,
                    l.mean_ms,
                    q.rows,
                    q.errors
                );
            }
            for q in self.queries.iter().filter(|q| q.first_error.is_some()) {
                let _ = writeln!(
                    o,
                    "  {} first error: {}",
                    q.query_type,
                    q.first_error.as_deref().unwrap_or_default()
                );
            }
        }
        if !self.skipped_query_types.is_empty() {
            let _ = writeln!(
                o,
                "  skipped (dataset too small): {}",
                self.skipped_query_types.join(", ")
            );
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(grouped(0.0), "0");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1000.0), "1,000");
        assert_eq!(grouped(8_640_000.4), "8,640,000");
        assert_eq!(grouped(-12345.0), "-12,345");
    }
}
