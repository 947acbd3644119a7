//! Proof that the shard-local / merge split is exact: one data set spread
//! over 1, 2, 3 and 5 shards (points of the same series interleaved across
//! shards, the hardest case) answers every query identically.

use super::*;
use crate::result::Value;
use crate::storage::mem::{MemShard, MemStorage};
use models::{FieldValue, Point};

fn data_set() -> Vec<Point> {
    let mut pts = Vec::new();
    for i in 0..240i64 {
        let host = format!("h{}", i % 4);
        let region = format!("r{}", (i / 4) % 2);
        let t = 1_000_000_000_000 + i * 7_000_000_000;
        // Values exactly representable so float sums do not depend on order.
        let v = ((i * 37) % 23) as f64 * 0.5;
        let c = (i * 13) % 17;
        pts.push(Point::new(
            "cpu".into(),
            vec![("host".into(), host), ("region".into(), region)],
            vec![
                ("value".into(), FieldValue::Float(v)),
                ("count".into(), FieldValue::Integer(c)),
            ],
            t,
        ));
    }
    pts
}

fn meta_with_shards(ids: &[u64]) -> meta::Data {
    meta::Data {
        databases: vec![meta::DatabaseInfo {
            name: "db".into(),
            default_retention_policy: "autogen".into(),
            retention_policies: vec![meta::RetentionPolicyInfo {
                name: "autogen".into(),
                replica_n: 1,
                duration: 0,
                shard_group_duration: meta::WEEK,
                shard_groups: vec![meta::ShardGroupInfo {
                    id: 1,
                    start_time: models::MIN_NANOS,
                    end_time: models::MAX_NANOS,
                    deleted_at: 0,
                    truncated_at: 0,
                    shards: ids
                        .iter()
                        .map(|&id| meta::ShardInfo {
                            id,
                            owners: vec![1],
                        })
                        .collect(),
                }],
                subscriptions: vec![],
            }],
            continuous_queries: vec![],
        }],
        ..Default::default()
    }
}

fn run_spread(k: usize, q: &str) -> Result<Vec<Series>> {
    let storage = MemStorage::default();
    let ids: Vec<u64> = (1..=k as u64).collect();
    let shards: Vec<Arc<MemShard>> = ids
        .iter()
        .map(|&id| storage.shard_or_create("db", id))
        .collect();
    for (i, p) in data_set().into_iter().enumerate() {
        shards[i % k].write(&[p]);
    }
    let data = meta_with_shards(&ids);
    let cancel = || Ok(());
    let env = Env {
        data: &data,
        storage: &storage,
        database: "db",
        retention_policy: "",
        now: 2_000_000_000_000,
        max_select_point: 0,
        max_select_series: 0,
        max_select_buckets: 0,
        cancel: &cancel,
        offload: &crate::offload::InPlace,
    };
    let stmt = match influxql::parse_statement(q) {
        Ok(influxql::Statement::Select(s)) => s,
        other => panic!("not a select: {other:?}"),
    };
    run(&env, &stmt)
}

const QUERIES: &[&str] = &[
    "SELECT count(value), sum(value), mean(value), min(value), max(value), first(value), last(value) FROM cpu",
    "SELECT count(count), sum(count), mean(count), min(count), max(count), spread(count) FROM cpu GROUP BY host",
    "SELECT median(value), mode(value), stddev(value), spread(value) FROM cpu GROUP BY region",
    "SELECT percentile(value, 90), percentile(count, 10) FROM cpu GROUP BY *",
    "SELECT top(value, 3) FROM cpu",
    "SELECT bottom(count, 2) FROM cpu",
    "SELECT top(value, 5) FROM cpu",
    "SELECT bottom(value, host, 2) FROM cpu",
    "SELECT distinct(count) FROM cpu WHERE host = 'h1'",
    "SELECT count(distinct(count)) FROM cpu",
    "SELECT integral(value) FROM cpu GROUP BY host",
    "SELECT mean(value), max(count) FROM cpu WHERE time >= 1000000000000 AND time < 2500000000000 GROUP BY time(1m), host fill(none)",
    "SELECT mean(value) FROM cpu WHERE time >= 1000000000000 AND time < 2500000000000 GROUP BY time(2m) fill(previous)",
    "SELECT count(value) FROM cpu WHERE time >= 1000000000000 AND time < 2500000000000 GROUP BY time(90s, 15s) fill(0)",
    "SELECT derivative(mean(value), 1m), difference(max(count)) FROM cpu WHERE time >= 1000000000000 AND time < 2500000000000 GROUP BY time(1m)",
    "SELECT moving_average(sum(value), 3), cumulative_sum(count(value)) FROM cpu WHERE time >= 1000000000000 AND time < 2500000000000 GROUP BY time(1m)",
    "SELECT max(value), host FROM cpu",
    "SELECT mean(value) * 2 + sum(count) FROM cpu GROUP BY region",
    "SELECT value, count, host FROM cpu WHERE value > 5 AND region = 'r1'",
    "SELECT * FROM cpu WHERE host =~ /h[23]/ ORDER BY time DESC LIMIT 7 OFFSET 2",
    "SELECT value FROM cpu GROUP BY host SLIMIT 2 SOFFSET 1",
    "SELECT derivative(value, 1s) FROM cpu WHERE host = 'h0'",
    "SELECT mean(value) FROM cpu WHERE value > 3 OR count < 4 GROUP BY host",
    "SELECT sample(value, 1000) FROM cpu WHERE region = 'r0'",
    "SELECT last(*) FROM cpu GROUP BY *",
    "SELECT * FROM cpu GROUP BY host ORDER BY time DESC LIMIT 2",
    "SELECT value, host FROM cpu WHERE count > 10 GROUP BY region LIMIT 3 OFFSET 1",
    "SELECT first(value), first(count) FROM cpu GROUP BY host",
];

/// Equal, except that floats may differ in the last bits: a float sum
/// depends on addition order, which differs with the number of shards (as
/// in InfluxDB). Everything else — rows, times, types, integers — is exact.
fn same(a: &[Series], b: &[Series]) -> bool {
    let close = |x: &Value, y: &Value| match (x, y) {
        (Value::Float(p), Value::Float(q)) => {
            p == q || (p - q).abs() <= 1e-12 * p.abs().max(q.abs())
        }
        _ => x == y,
    };
    a.len() == b.len()
        && a.iter().zip(b).all(|(s, t)| {
            s.name == t.name
                && s.tags == t.tags
                && s.columns == t.columns
                && s.values.len() == t.values.len()
                && s.values
                    .iter()
                    .zip(&t.values)
                    .all(|(r, q)| r.len() == q.len() && r.iter().zip(q).all(|(x, y)| close(x, y)))
        })
}

#[test]
fn spreading_over_shards_does_not_change_answers() {
    for q in QUERIES {
        let one = run_spread(1, q).unwrap();
        assert!(!one.is_empty(), "{q} returned nothing");
        for k in [2, 3, 5] {
            let many = run_spread(k, q).unwrap();
            assert!(same(&one, &many), "{q} with {k} shards:\n{one:?}\n{many:?}");
        }
    }
}

#[test]
fn shard_outputs_are_serialisable() {
    let storage = MemStorage::default();
    let sh = storage.shard_or_create("db", 1);
    sh.write(&data_set());
    let q =
        "SELECT mean(value), max(count), percentile(value, 50) FROM cpu GROUP BY time(1m), host";
    let Ok(influxql::Statement::Select(stmt)) = influxql::parse_statement(q) else {
        panic!("parse");
    };
    let mut schema = plan::Schema::default();
    for (f, t) in sh.fields("cpu") {
        schema.fields.insert(f, t);
    }
    schema.tags = sh.tag_keys("cpu");
    let plan = plan::build(&stmt, &schema).unwrap();
    let points = AtomicU64::new(0);
    let series = AtomicU64::new(0);
    let cancel = || Ok(());
    let spec = scan::ScanSpec {
        measurement: "cpu",
        plan: &plan,
        filter: &crate::storage::TagFilter::True,
        residual: None,
        range: TimeRange::new(models::MIN_NANOS, models::MAX_NANOS),
        fixed_window: 0,
        cancel: &cancel,
        points: &points,
        max_points: 0,
        series: &series,
        max_series: 0,
        all_fields: false,
        raw_limit: None,
        edge_hint: std::sync::atomic::AtomicI64::new(i64::MIN),
    };
    let out = scan::scan_shard(sh.as_ref(), &spec).unwrap();
    let wire = serde_json::to_string(&out).unwrap();
    let back: scan::ShardOutput = serde_json::from_str(&wire).unwrap();
    assert_eq!(back.aggs, out.aggs);
    // Two fields (value, count) of 240 points each.
    assert_eq!(points.load(std::sync::atomic::Ordering::Relaxed), 480);
}

#[test]
fn limits_and_cancel_stop_queries() {
    let storage = MemStorage::default();
    storage.shard_or_create("db", 1).write(&data_set());
    let data = meta_with_shards(&[1]);
    let stmt = match influxql::parse_statement("SELECT value FROM cpu") {
        Ok(influxql::Statement::Select(s)) => s,
        _ => panic!("parse"),
    };
    let ok = || Ok(());
    let mut env = Env {
        data: &data,
        storage: &storage,
        database: "db",
        retention_policy: "",
        now: 0,
        max_select_point: 10,
        max_select_series: 0,
        max_select_buckets: 0,
        cancel: &ok,
        offload: &crate::offload::InPlace,
    };
    let e = run(&env, &stmt).unwrap_err().to_string();
    assert!(e.starts_with("max-select-point limit exceeed"), "{e}");
    env.max_select_point = 0;
    env.max_select_series = 2;
    let e = run(&env, &stmt).unwrap_err().to_string();
    assert_eq!(e, "max-select-series limit exceeded: (8/2)");
    env.max_select_series = 0;
    let killed = || Err(Error::Interrupted);
    env.cancel = &killed;
    assert_eq!(run(&env, &stmt).unwrap_err(), Error::Interrupted);
}
