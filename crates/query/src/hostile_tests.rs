//! Hostile input through the executor (issue 10, audit findings H3, M5, H5,
//! M2): every statement runs on a thread with a 2 MiB stack — tokio's
//! worker size — against a real meta store and tsdb, and must answer (an
//! error or the right rows), never abort.

use crate::result::{StatementResult, Value};
use crate::tests::{env, Env};
use crate::{ExecutionContext, ExecutorConfig};

/// tokio's default worker stack.
const SMALL_STACK_BYTES: usize = 2 << 20;

const NOW: i64 = 1_000_000_000_000_000_000;

/// Parses and executes `text` on a 2 MiB thread; a parse error comes back
/// as Err with InfluxDB's text.
fn run_small(e: &Env, db: &str, text: &str) -> Result<Vec<StatementResult>, String> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(SMALL_STACK_BYTES)
            .spawn_scoped(s, || {
                let q =
                    influxql::parse_query(text).map_err(|e| format!("error parsing query: {e}"))?;
                let ctx = ExecutionContext {
                    database: db.into(),
                    now: NOW,
                    ..Default::default()
                };
                Ok(e.ex.execute(&q, &ctx))
            })
            .unwrap()
            .join()
            .unwrap()
    })
}

fn one(e: &Env, db: &str, text: &str) -> StatementResult {
    let mut r = run_small(e, db, text).unwrap();
    assert_eq!(r.len(), 1);
    r.remove(0)
}

fn setup() -> Env {
    let e = env(ExecutorConfig::default());
    e.q("", "CREATE DATABASE db");
    let lines: String = (0..20)
        .map(|i| format!("m,host=h{} v={i} {}\n", i % 5, 946_684_800 + i * 60))
        .collect();
    e.write("db", &lines);
    e
}

fn nest(levels: usize, inner: &str) -> String {
    let mut q = inner.to_string();
    for _ in 0..levels {
        q = format!("SELECT v FROM ({q})");
    }
    q
}

#[test]
fn h3_deepest_subqueries_execute_on_a_small_stack() {
    let e = setup();
    // 32 levels: the parser's limit; the answer is every point.
    let q = nest(32, "SELECT v FROM m");
    let r = one(&e, "db", &q);
    assert_eq!(r.error, None);
    assert_eq!(r.series[0].values.len(), 20);
    // With aggregates, conditions and windows at every level.
    let mut q = "SELECT max(v) AS v FROM m WHERE host != 'h9' GROUP BY time(1m), host fill(none)"
        .to_string();
    for _ in 0..31 {
        q = format!(
            "SELECT max(v) AS v FROM ({q}) WHERE v >= 0 GROUP BY time(1m), host fill(none)"
        );
    }
    let q = q.replacen(
        "WHERE v >= 0",
        "WHERE v >= 0 AND time >= 946684800s AND time < 946686000s",
        1,
    );
    let r = one(&e, "db", &q);
    assert_eq!(r.error, None, "{q}");
    assert_eq!(r.series.len(), 5);
    assert_eq!(r.series.iter().map(|s| s.values.len()).sum::<usize>(), 20);
    // One more level, and the audit's 3,000: refused by the parser.
    let err = run_small(&e, "db", &nest(33, "SELECT v FROM m")).unwrap_err();
    assert!(
        err.starts_with("error parsing query: subqueries nested too deeply (limit 32)"),
        "{err}"
    );
    let err = run_small(&e, "db", &nest(3_000, "SELECT v FROM m")).unwrap_err();
    assert!(err.contains("subqueries nested too deeply"), "{err}");
}

#[test]
fn m5_ten_thousand_or_terms_on_tags_and_fields() {
    let e = setup();
    // Tags: h3 and h4 among 10,000 alternatives → 8 points.
    let terms: Vec<String> = (3..10_003).map(|i| format!("host = 'h{i}'")).collect();
    let r = one(
        &e,
        "db",
        &format!("SELECT v FROM m WHERE {}", terms.join(" OR ")),
    );
    assert_eq!(r.error, None);
    assert_eq!(r.series[0].values.len(), 8);
    // Fields, evaluated per row: v in 10..20 → 10 points.
    let terms: Vec<String> = (10..10_010).map(|i| format!("v = {i}")).collect();
    let r = one(
        &e,
        "db",
        &format!("SELECT v FROM m WHERE {}", terms.join(" OR ")),
    );
    assert_eq!(r.error, None);
    assert_eq!(r.series[0].values.len(), 10);
    // Mixed, under an aggregate and GROUP BY, inside a subquery.
    // (4,000 × 3 + 3,999 operators, under the 20,000 cap.)
    let terms: Vec<String> = (0..4_000)
        .map(|i| format!("(host = 'h{}' AND v >= {i})", i % 5))
        .collect();
    let inner = format!("SELECT v FROM m WHERE {} AND time >= 0", terms.join(" OR "));
    let r = one(
        &e,
        "db",
        &format!("SELECT count(v) FROM ({inner}) GROUP BY host"),
    );
    assert_eq!(r.error, None);
    assert_eq!(r.series.len(), 5);
    // SHOW and DELETE evaluate the same conditions.
    let hosts: Vec<String> = (3..10_003).map(|i| format!("host = 'h{i}'")).collect();
    let hosts = hosts.join(" OR ");
    let r = one(&e, "db", &format!("SHOW SERIES WHERE {hosts}"));
    assert_eq!(r.error, None);
    assert_eq!(r.series[0].values.len(), 2);
    let r = one(
        &e,
        "db",
        &format!("SHOW TAG VALUES WITH KEY = host WHERE {hosts}"),
    );
    assert_eq!(r.error, None);
    assert_eq!(r.series[0].values.len(), 2);
    let r = one(&e, "db", &format!("SHOW MEASUREMENTS WHERE {hosts}"));
    assert_eq!(r.error, None);
    let r = one(&e, "db", &format!("EXPLAIN SELECT v FROM m WHERE {hosts}"));
    assert_eq!(r.error, None);
    // A long AND chain of field tests: all hold for v >= 15 only.
    let terms: Vec<String> = (0..10_000).map(|i| format!("v > {}", 14 - i)).collect();
    let r = one(
        &e,
        "db",
        &format!("SELECT count(v) FROM m WHERE {}", terms.join(" AND ")),
    );
    assert_eq!(r.error, None);
    assert_eq!(r.series[0].values[0][1], Value::Integer(5));
    // Deleting by a long tag condition (last: it removes h3 and h4).
    let r = one(&e, "db", &format!("DELETE FROM m WHERE {hosts}"));
    assert_eq!(r.error, None);
    let r = one(&e, "db", &format!("DROP SERIES FROM m WHERE {hosts}"));
    assert_eq!(r.error, None);
    let r = one(&e, "db", "SELECT count(v) FROM m");
    assert_eq!(r.series[0].values[0][1], Value::Integer(12));
}

#[test]
fn m5_deepest_expressions_evaluate_on_a_small_stack() {
    let e = setup();
    // 511 additions: a 512-level tree, the most the parser builds, in the
    // projection (per row); in the condition (per row) the comparison and
    // the AND are two of the 512 levels.
    let sum = vec!["v"; 512].join(" + ");
    let cond = vec!["v"; 510].join(" + ");
    let r = one(
        &e,
        "db",
        &format!("SELECT {sum} FROM m WHERE {cond} >= 0 AND host = 'h1'"),
    );
    assert_eq!(r.error, None);
    assert_eq!(r.series[0].values[0][1], Value::Float(512.0));
    // Inside an aggregate, and 250 parentheses deep.
    let r = one(
        &e,
        "db",
        &format!("SELECT sum({}v{}) FROM m", "(".repeat(250), ")".repeat(250)),
    );
    assert_eq!(r.error, None);
    assert_eq!(r.series[0].values[0][1], Value::Float(190.0));
    // SHOW and DELETE conditions at the same depth.
    for q in [
        format!("SHOW SERIES WHERE {cond} >= 0 AND host = 'h1'"),
        format!("SHOW TAG VALUES WITH KEY = host WHERE {cond} >= 0 AND host = 'h1'"),
        format!("SHOW MEASUREMENTS WHERE {cond} >= 0 AND host = 'h1'"),
        format!("SHOW TAG KEYS WHERE {cond} >= 0 AND host = 'h1'"),
    ] {
        let r = one(&e, "db", &q);
        assert_eq!(r.error, None, "{q}");
        assert_eq!(r.series[0].values.len(), 1, "{q}");
    }
    let r = one(&e, "db", &format!("DELETE FROM m WHERE {cond} >= 0"));
    assert_eq!(
        r.error.as_deref(),
        Some("shard 1: fields not supported in WHERE clause during deletion")
    );
    // The operator cap of arithmetic is refused, not executed.
    let err = run_small(
        &e,
        "db",
        &format!("SELECT {} FROM m", vec!["v"; 20_001].join(" - ")),
    )
    .unwrap_err();
    assert!(
        err.contains("expression nested too deeply (limit 512)"),
        "{err}"
    );
}

#[test]
fn h5_huge_holt_winters_forecasts_are_refused() {
    let e = setup();
    let q = |h: &str, m: &str| {
        format!(
            "SELECT holt_winters(mean(v), {h}, {m}) FROM m WHERE time >= 946684800s AND time < 946686000s GROUP BY time(1m)"
        )
    };
    let r = one(&e, "db", &q("100000000000", "0"));
    assert_eq!(
        r.error.as_deref(),
        Some("second arg to holt_winters must be at most 100000, got 100000000000")
    );
    let r = one(&e, "db", &q("10", "100000000000"));
    assert_eq!(
        r.error.as_deref(),
        Some("third arg to holt_winters must be at most 100000, got 100000000000")
    );
    let r = one(&e, "db", &q("9223372036854775807", "0"));
    assert!(r.error.is_some());
    // The largest allowed forecast answers.
    let r = one(&e, "db", &q("100000", "0"));
    assert_eq!(r.error, None);
    assert_eq!(r.series[0].values.len(), 100_000);
    // Forecasts stop at the end of representable time.
    let r = one(
        &e,
        "db",
        "SELECT holt_winters(mean(v), 100000, 0) FROM m WHERE time >= 946684800s AND time < 946686000s GROUP BY time(1000000h)",
    );
    assert_eq!(r.error, None);
}

#[test]
fn m2_group_by_windows_at_the_ends_of_time() {
    let e = env(ExecutorConfig {
        max_select_buckets: 1_000,
        ..Default::default()
    });
    e.q("", "CREATE DATABASE db");
    // Points near both ends of the representable range (a week in, so the
    // shard group still fits).
    let lo = models::MIN_NANOS + 8 * 86_400 * 1_000_000_000;
    let hi = models::MAX_NANOS - 8 * 86_400 * 1_000_000_000;
    let pts = lineproto::parse_points(
        format!("m v=1 {lo}\nm v=2 {hi}\n").as_bytes(),
        models::Precision::Nanosecond,
        0,
    );
    assert!(pts.errors.is_empty(), "{:?}", pts.errors);
    e.write_points("db", pts.points);
    let (min, max) = (models::MIN_NANOS, models::MAX_NANOS);
    // The bucket count of the whole range does not fit an i64.
    let r = one(
        &e,
        "db",
        &format!("SELECT count(v) FROM m WHERE time >= {min} AND time <= {max} GROUP BY time(1h)"),
    );
    assert!(
        r.error
            .as_deref()
            .is_some_and(|m| m.starts_with("max-select-buckets limit exceeded")),
        "{r:?}"
    );
    let e = env(ExecutorConfig::default());
    e.q("", "CREATE DATABASE db");
    let pts = lineproto::parse_points(
        format!("m v=1 {lo}\nm v=2 {hi}\n").as_bytes(),
        models::Precision::Nanosecond,
        0,
    );
    e.write_points("db", pts.points);
    // Windows with an offset, and in a time zone, at both ends.
    for range in [
        format!("time >= {min} AND time <= {}", lo + 1),
        format!("time >= {} AND time <= {max}", hi - 1),
    ] {
        for extra in ["", " tz('America/Los_Angeles')"] {
            for group in ["time(1d, 12h)", "time(7d)", "time(1000w, 3d)"] {
                let q = format!(
                    "SELECT count(v) FROM m WHERE {range} GROUP BY {group} fill(none){extra}"
                );
                let r = one(&e, "db", &q);
                assert_eq!(r.error, None, "{q}");
                assert_eq!(r.series[0].values.len(), 1, "{q}");
                assert_eq!(r.series[0].values[0][1], Value::Integer(1), "{q}");
                // Transformations read windows before the first.
                let q = format!(
                    "SELECT difference(count(v)) FROM m WHERE {range} GROUP BY {group} fill(none){extra}"
                );
                let r = one(&e, "db", &q);
                assert_eq!(r.error, None, "{q}");
            }
        }
    }
    // Shard expiry (end + retention) of a group near the end of time.
    e.q("", "CREATE DATABASE fin WITH DURATION 1000w");
    let pts = lineproto::parse_points(
        format!("m v=2 {hi}\n").as_bytes(),
        models::Precision::Nanosecond,
        0,
    );
    e.write_points("fin", pts.points);
    for q in ["SHOW SHARDS", "SHOW SHARD GROUPS"] {
        let r = one(&e, "fin", q);
        assert_eq!(r.error, None);
        assert!(!r.series.is_empty(), "{q}");
    }
}
