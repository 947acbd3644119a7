//! `influx-bench compare A.json B.json`: two saved runs (`--json-out`) side
//! by side with ratios B/A — e.g. Tidemark against a real InfluxDB on the
//! same dataset. Also flags query types whose row counts differ (the two
//! servers disagree on the answer). Reads JSON only; never talks to servers.

use crate::error::Result;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 => format!("{:.2}x", b / a),
        _ => "-".into(),
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.decimals$}"))
}

fn label(r: &Value) -> String {
    format!(
        "{} ({})",
        r["url"].as_str().unwrap_or("?"),
        r["server_version"].as_str().unwrap_or("?")
    )
}

/// The comparison table of two reports.
pub fn compare(a: &Value, b: &Value) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "A: {}\nB: {}", label(a), label(b));
    if a["dataset"] != b["dataset"] {
        let _ = writeln!(
            o,
            "WARNING: the datasets differ:\n  A {}\n  B {}",
            a["dataset"], b["dataset"]
        );
    }
    let (la, lb) = (&a["load"], &b["load"]);
    if la.is_object() || lb.is_object() {
        let _ = writeln!(o, "\n  {:<22} {:>14} {:>14} {:>8}", "load", "A", "B", "B/A");
        for (name, key, dec) in [
            ("points/s", "points_per_s", 0),
            ("values/s", "values_per_s", 0),
            ("wall s", "wall_s", 2),
        ] {
            let (x, y) = (la[key].as_f64(), lb[key].as_f64());
            let _ = writeln!(
                o,
                "  {name:<22} {:>14} {:>14} {:>8}",
                num(x, dec),
                num(y, dec),
                ratio(x, y)
            );
        }
        for (name, key) in [("batch median ms", "median_ms"), ("batch p99 ms", "p99_ms")] {
            let (x, y) = (
                la["batch_latency"][key].as_f64(),
                lb["batch_latency"][key].as_f64(),
            );
            let _ = writeln!(
                o,
                "  {name:<22} {:>14} {:>14} {:>8}",
                num(x, 1),
                num(y, 1),
                ratio(x, y)
            );
        }
    }
    let qa = a["queries"].as_array().cloned().unwrap_or_default();
    let qb = b["queries"].as_array().cloned().unwrap_or_default();
    if !qa.is_empty() || !qb.is_empty() {
        let _ = writeln!(
            o,
            "\n  {:<22} {:>10} {:>10} {:>8} {:>10} {:>10} {:>8}  rows",
            "query (ms)", "A median", "B median", "B/A", "A p99", "B p99", "B/A"
        );
        for q in &qa {
            let name = q["query_type"].as_str().unwrap_or("?");
            let Some(other) = qb.iter().find(|x| x["query_type"] == q["query_type"]) else {
                let _ = writeln!(o, "  {name:<22} (only in A)");
                continue;
            };
            let (m1, m2) = (
                q["latency"]["median_ms"].as_f64(),
                other["latency"]["median_ms"].as_f64(),
            );
            let (p1, p2) = (
                q["latency"]["p99_ms"].as_f64(),
                other["latency"]["p99_ms"].as_f64(),
            );
            let rows = if q["rows"] == other["rows"] {
                "same".to_string()
            } else {
                format!("DIFFER ({} vs {})", q["rows"], other["rows"])
            };
            let _ = writeln!(
                o,
                "  {name:<22} {:>10} {:>10} {:>8} {:>10} {:>10} {:>8}  {rows}",
                num(m1, 2),
                num(m2, 2),
                ratio(m1, m2),
                num(p1, 2),
                num(p2, 2),
                ratio(p1, p2)
            );
        }
        for q in qb
            .iter()
            .filter(|x| !qa.iter().any(|y| y["query_type"] == x["query_type"]))
        {
            let _ = writeln!(
                o,
                "  {:<22} (only in B)",
                q["query_type"].as_str().unwrap_or("?")
            );
        }
    }
    o
}

/// Reads two report files and returns the comparison table.
pub fn compare_files(a: &Path, b: &Path) -> Result<String> {
    let read = |p: &Path| -> Result<Value> { Ok(serde_json::from_slice(&std::fs::read(p)?)?) };
    Ok(compare(&read(a)?, &read(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn side_by_side_with_ratios_and_row_check() {
        let a = json!({"url": "a", "server_version": "1.6.7", "dataset": {"scale": 1},
            "load": {"points_per_s": 100.0, "values_per_s": 1000.0, "wall_s": 2.0, "batch_latency": {"median_ms": 10.0, "p99_ms": 20.0}},
            "queries": [{"query_type": "lastpoint", "rows": 8, "latency": {"median_ms": 2.0, "p99_ms": 4.0}},
                        {"query_type": "high-cpu-1", "rows": 3, "latency": {"median_ms": 1.0, "p99_ms": 1.0}}]});
        let b = json!({"url": "b", "server_version": "tm", "dataset": {"scale": 1},
            "load": {"points_per_s": 200.0, "values_per_s": 2000.0, "wall_s": 1.0, "batch_latency": {"median_ms": 5.0, "p99_ms": 10.0}},
            "queries": [{"query_type": "lastpoint", "rows": 8, "latency": {"median_ms": 1.0, "p99_ms": 8.0}},
                        {"query_type": "high-cpu-1", "rows": 4, "latency": {"median_ms": 1.0, "p99_ms": 1.0}}]});
        let t = compare(&a, &b);
        assert!(t.contains("A: a (1.6.7)") && t.contains("B: b (tm)"), "{t}");
        assert!(
            t.lines()
                .any(|l| l.contains("points/s") && l.ends_with("2.00x")),
            "{t}"
        );
        assert!(
            t.lines()
                .any(|l| l.contains("lastpoint") && l.contains("0.50x") && l.ends_with("same")),
            "{t}"
        );
        assert!(t.contains("DIFFER (3 vs 4)"), "{t}");
        assert!(!t.contains("WARNING"));
        let mut c = b.clone();
        c["dataset"]["scale"] = json!(2);
        assert!(compare(&a, &c).contains("WARNING: the datasets differ"));
    }
}
