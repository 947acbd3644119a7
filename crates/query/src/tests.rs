//! End-to-end tests of the executor over a real meta store, tsdb store and
//! points writer in a temporary directory.

use crate::result::{StatementResult, Value};
use crate::{ExecutionContext, ExecutorConfig, QueryExecutor};
use std::sync::Arc;

pub(crate) struct Env {
    _dir: tempfile::TempDir,
    pub(crate) ex: QueryExecutor,
    writer: Arc<cluster::PointsWriter>,
}

pub(crate) fn env(cfg: ExecutorConfig) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let meta: Arc<dyn meta::MetaStore> =
        Arc::new(meta::local::LocalMetaStore::open(&dir.path().join("meta")).unwrap());
    meta.execute(meta::Command::CreateDataNode {
        host: "localhost:8086".into(),
        tcp_host: "localhost:8088".into(),
        passive: false,
    })
    .unwrap();
    let store = Arc::new(
        tsdb::Store::open(tsdb::EngineConfig {
            dir: dir.path().join("data"),
            wal_dir: dir.path().join("wal"),
            ..Default::default()
        })
        .unwrap(),
    );
    let writer = Arc::new(cluster::PointsWriter::new(meta.clone(), store.clone(), 1));
    let ex = QueryExecutor::new(meta, store, writer.clone(), cfg);
    Env {
        _dir: dir,
        ex,
        writer,
    }
}

impl Env {
    pub(crate) fn q(&self, db: &str, text: &str) -> Vec<StatementResult> {
        let q = influxql::parse_query(text).unwrap();
        let ctx = ExecutionContext {
            database: db.into(),
            now: 1_000_000_000_000_000_000,
            ..Default::default()
        };
        self.ex.execute(&q, &ctx)
    }

    pub(crate) fn write(&self, db: &str, lines: &str) {
        let pts = lineproto::parse_points(lines.as_bytes(), models::Precision::Second, 0);
        assert!(pts.errors.is_empty(), "{:?}", pts.errors);
        self.write_points(db, pts.points);
    }

    pub(crate) fn write_points(&self, db: &str, points: Vec<models::Point>) {
        self.writer
            .write(
                db,
                "",
                points,
                cluster::Consistency::One,
                1_000_000_000_000_000_000,
            )
            .unwrap();
    }
}

#[test]
fn ddl_show_select_into() {
    let e = env(ExecutorConfig::default());
    let r = e.q("", "CREATE DATABASE db0; SHOW DATABASES");
    assert_eq!(r[0].error, None);
    assert_eq!(
        r[1].series[0].values,
        vec![vec![Value::String("db0".into())]]
    );
    e.write(
        "db0",
        "cpu,host=a value=1 946684800\ncpu,host=b value=3 946684810\ncpu,host=a value=5 946771200",
    );
    let r = e.q("db0", "SHOW TAG VALUES WITH KEY = host; SHOW FIELD KEYS");
    assert_eq!(r[0].series[0].values.len(), 2);
    assert_eq!(
        r[1].series[0].values,
        vec![vec![
            Value::String("value".into()),
            Value::String("float".into())
        ]]
    );
    // Two series merged into one group.
    let r = e.q("db0", "SELECT mean(value), count(value) FROM cpu");
    assert_eq!(
        r[0].series[0].values[0],
        vec![Value::Time(0), Value::Float(3.0), Value::Integer(3)]
    );
    let r = e.q(
        "db0",
        "SELECT max(value) INTO cpu_max FROM cpu GROUP BY host",
    );
    assert_eq!(r[0].series[0].name, "result");
    assert_eq!(r[0].series[0].values[0][1], Value::Integer(2));
    let r = e.q("db0", "SELECT * FROM cpu_max GROUP BY *");
    assert_eq!(r[0].series.len(), 2);
    // A failing statement stops the rest.
    let r = e.q("db0", "SELECT nope(value) FROM cpu; SHOW DATABASES");
    assert_eq!(r[0].error.as_deref(), Some("undefined function nope()"));
    assert_eq!(r[1].error.as_deref(), Some("not executed"));
    let r = e.q("db0", "DROP MEASUREMENT cpu_max; SHOW MEASUREMENTS");
    assert_eq!(
        r[1].series[0].values,
        vec![vec![Value::String("cpu".into())]]
    );
}

#[test]
fn limits_come_from_config() {
    let e = env(ExecutorConfig {
        max_select_buckets: 10,
        ..Default::default()
    });
    e.q("", "CREATE DATABASE db0");
    e.write("db0", "cpu value=1 946684800");
    let r = e.q(
        "db0",
        "SELECT mean(value) FROM cpu WHERE time >= '2000-01-01T00:00:00Z' AND time < '2000-01-02T00:00:00Z' GROUP BY time(1m)",
    );
    assert_eq!(
        r[0].error.as_deref(),
        Some("max-select-buckets limit exceeded: (1440/10)")
    );
}

#[test]
fn holt_winters_through_the_executor_matches_influxdb() {
    let e = env(ExecutorConfig::default());
    e.q("", "CREATE DATABASE hw");
    // The series InfluxDB 1.6.7 answered for (see select/holt_winters.rs).
    let lines: String = (0..60)
        .map(|i| {
            let x = i as f64;
            let v = 10.0
                + 5.0 * (x * 2.0 * std::f64::consts::PI / 6.0).sin()
                + 0.3 * x
                + (i % 4) as f64 * 0.1;
            format!("m v={v:?} {}\n", i * 60 + 7)
        })
        .collect();
    e.write("hw", &lines);
    let r = e.q(
        "hw",
        "SELECT holt_winters(mean(v), 5, 6) FROM m WHERE time >= 0 AND time < 3600s GROUP BY time(1m)",
    );
    let s = &r[0].series[0];
    assert_eq!(s.columns, vec!["time", "holt_winters"]);
    assert_eq!(s.values.len(), 5);
    assert_eq!(s.values[0][0], Value::Time(3600 * 1_000_000_000));
    assert_eq!(s.values[0][1], Value::Float(26.912334354979897));
    assert_eq!(s.values[4][1], Value::Float(28.006782232235132));
    let r = e.q("hw", "SELECT holt_winters(v, 4, 0) FROM m");
    assert_eq!(
        r[0].error.as_deref(),
        Some("must use aggregate function with holt_winters")
    );
    let r = e.q(
        "hw",
        "SELECT holt_winters(mean(v), 0, 0) FROM m WHERE time < 3600s GROUP BY time(1m)",
    );
    assert_eq!(
        r[0].error.as_deref(),
        Some("second arg to holt_winters must be greater than 0, got 0")
    );
}

/// Counts the statements the executor sends through the offload.
struct CountingOffload(std::sync::atomic::AtomicUsize);

impl crate::Offload for CountingOffload {
    fn run(&self, work: &mut dyn FnMut()) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        work()
    }
}

impl Env {
    /// Runs `text` and returns how many times it went through the offload.
    fn offloads(&self, db: &str, text: &str) -> usize {
        let q = influxql::parse_query(text).unwrap();
        let ctx = ExecutionContext {
            database: db.into(),
            now: 1_000_000_000_000_000_000,
            ..Default::default()
        };
        let off = CountingOffload(Default::default());
        let r = self.ex.execute_with(&q, &ctx, &off);
        assert!(r.iter().all(|r| r.error.is_none()), "{r:?}");
        off.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[test]
fn small_selects_run_in_place_and_everything_else_is_offloaded() {
    let e = env(ExecutorConfig::default());
    assert_eq!(e.offloads("", "CREATE DATABASE db0"), 1);
    // 60,000 points of host=big, 10 of host=small, from 2000-01-01.
    let mut lines = String::new();
    for i in 0..60_000 {
        lines.push_str(&format!("cpu,host=big v={i} {}\n", 946_684_800 + i));
    }
    for i in 0..10 {
        lines.push_str(&format!("cpu,host=small v={i} {}\n", 946_684_800 + i));
    }
    e.write("db0", &lines);
    let window = "time >= '2000-01-01T00:00:00Z' AND time < '2000-01-01T01:00:00Z'";
    let small =
        format!("SELECT max(v) FROM cpu WHERE host = 'small' AND {window} GROUP BY time(1m)");
    assert_eq!(e.offloads("db0", &small), 0);
    assert_eq!(
        e.offloads("db0", "SELECT v FROM cpu WHERE host = 'small'"),
        0
    );
    // Over the value limit (60,000 > 50,000 by the block headers).
    assert_eq!(
        e.offloads("db0", "SELECT max(v) FROM cpu WHERE host = 'big'"),
        1
    );
    // Few values but too many windows to fill: one per second for a day.
    let many_windows = "SELECT max(v) FROM cpu WHERE host = 'small' AND time >= '2000-01-01T00:00:00Z' AND time < '2000-01-02T00:00:00Z' GROUP BY time(1s)";
    assert_eq!(e.offloads("db0", many_windows), 1);
    // The same with fill(none) fills nothing.
    assert_eq!(e.offloads("db0", &format!("{many_windows} fill(none)")), 0);
    // SHOW, subqueries and SELECT INTO always leave.
    assert_eq!(e.offloads("db0", "SHOW MEASUREMENTS"), 1);
    // (the outer scan of the materialised subquery asks again: harmless,
    // an offloaded thread runs nested work in place)
    assert!(
        e.offloads(
            "db0",
            "SELECT max(v) FROM (SELECT v FROM cpu WHERE host = 'small')"
        ) >= 1
    );
    assert_eq!(
        e.offloads("db0", "SELECT v INTO copy FROM cpu WHERE host = 'small'"),
        1
    );
    // Several statements decide one by one.
    assert_eq!(
        e.offloads("db0", &format!("{small}; SHOW DATABASES; {small}")),
        1
    );
}

/// InfluxDB's subquery rules: the outer GROUP BY tags group the inner query
/// too, and the outer reducer sees the inner rows one by one (no per-series
/// partial sums), which decides the last bits of a float sum.
#[test]
fn subqueries_take_outer_tags_and_reduce_row_by_row() {
    let e = env(ExecutorConfig::default());
    e.q("", "CREATE DATABASE db0");
    e.write(
        "db0",
        "cpu,host=server01 usage_user=70i,usage_system=30i 946684800\n\
         cpu,host=server01 usage_user=45i,usage_system=55i 946684810\n\
         cpu,host=server01 usage_user=23i,usage_system=77i 946684820\n\
         cpu,host=server02 usage_user=11i,usage_system=89i 946684800\n\
         cpu,host=server02 usage_user=28i,usage_system=72i 946684810\n\
         cpu,host=server02 usage_user=12i,usage_system=53i 946684820",
    );
    let window = "time >= '2000-01-01T00:00:00Z' AND time < '2000-01-01T00:00:30Z'";
    // top(usage_user, 2) per host, because the outer query groups by host.
    let r = e.q(
        "db0",
        &format!("SELECT min(value) FROM (SELECT top(usage_user, 2), usage_user - usage_system AS value FROM cpu) WHERE {window} GROUP BY host"),
    );
    let got: Vec<(String, Vec<Vec<Value>>)> = r[0]
        .series
        .iter()
        .map(|s| (s.tags["host"].clone(), s.values.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "server01".to_string(),
                vec![vec![
                    Value::Time(946_684_810_000_000_000),
                    Value::Integer(-10)
                ]]
            ),
            (
                "server02".to_string(),
                vec![vec![
                    Value::Time(946_684_810_000_000_000),
                    Value::Integer(-44)
                ]]
            ),
        ]
    );
    // -2.5 + -2.2 + 1.7 + -1.6 in one reducer is -4.6; per-host partial sums
    // would give -4.6000000000000005.
    let r = e.q(
        "db0",
        &format!("SELECT sum(derivative) FROM (SELECT derivative(usage_user) FROM cpu GROUP BY host) WHERE {window}"),
    );
    assert_eq!(
        r[0].series[0].values,
        vec![vec![
            Value::Time(946_684_800_000_000_000),
            Value::Float(-4.6)
        ]]
    );
}

/// Every call is its own stream in InfluxDB: LIMIT counts each column's
/// points, ORDER BY time DESC feeds transformations newest first, and
/// transformations of raw values do not mix with plain fields.
#[test]
fn transformations_stream_per_column_like_influxdb() {
    let e = env(ExecutorConfig::default());
    e.q("", "CREATE DATABASE db0");
    e.write(
        "db0",
        "m v=1 946684800\nm v=4 946684810\nm v=9 946684820\nm v=16 946684830\nm v=25 946684840",
    );
    let t = |s: i64| Value::Time((946_684_800 + s) * 1_000_000_000);
    let r = e.q(
        "db0",
        "SELECT difference(v), moving_average(v, 3) FROM m LIMIT 2",
    );
    assert_eq!(
        r[0].series[0].values,
        vec![
            vec![t(10), Value::Float(3.0), Value::Null],
            vec![t(20), Value::Float(5.0), Value::Float(14.0 / 3.0)],
            vec![t(30), Value::Null, Value::Float(29.0 / 3.0)],
        ]
    );
    let r = e.q(
        "db0",
        "SELECT difference(v) FROM m ORDER BY time DESC LIMIT 2",
    );
    assert_eq!(
        r[0].series[0].values,
        vec![
            vec![t(30), Value::Float(-9.0)],
            vec![t(20), Value::Float(-7.0)]
        ]
    );
    let r = e.q(
        "db0",
        "SELECT derivative(v, 10s) FROM m ORDER BY time DESC LIMIT 1",
    );
    assert_eq!(r[0].series[0].values, vec![vec![t(30), Value::Float(-9.0)]]);
    let r = e.q("db0", "SELECT derivative(v), v FROM m");
    assert_eq!(
        r[0].error.as_deref(),
        Some("mixing aggregate and non-aggregate queries is not supported")
    );
    let r = e.q("db0", "SELECT top(v, 2), max(v) FROM m");
    assert_eq!(
        r[0].error.as_deref(),
        Some("selector function top() cannot be combined with other functions")
    );
}

/// A raw SELECT streams in time slices: the rows are the same as the whole
/// answer's, in order, and no slice holds much more than the target.
#[test]
fn raw_selects_stream_in_bounded_slices() {
    let e = env(ExecutorConfig {
        stream_slice_rows: 5_000,
        ..Default::default()
    });
    e.q("", "CREATE DATABASE db0");
    let mut lines = String::new();
    for i in 0..45_000 {
        lines.push_str(&format!("m,host=a v={i} {}\n", 946_684_800 + i));
        if i % 1000 == 0 {
            lines.push_str(&format!("m,host=b v={i} {}\n", 946_684_800 + i));
        }
    }
    e.write("db0", &lines);
    let text = "SELECT * FROM m WHERE v >= 10; SELECT count(v) FROM m; SELECT nosuch FROM m";
    let q = influxql::parse_query(text).unwrap();
    // A GET (read-only) request streams too.
    let ctx = ExecutionContext {
        database: "db0".into(),
        now: 1_000_000_000_000_000_000,
        read_only: true,
        ..Default::default()
    };
    let whole = e.ex.execute(&q, &ctx);
    let mut fragments = Vec::new();
    e.ex.execute_streaming(&q, &ctx, &mut |f| {
        fragments.push(f);
        true
    });
    // Statement 0 streamed: several pieces, each bounded, rows identical.
    let first: Vec<&crate::Fragment> = fragments
        .iter()
        .filter(|f| f.result.statement_id == 0)
        .collect();
    assert!(first.len() > 3, "{} pieces", first.len());
    assert!(first.last().is_some_and(|f| f.done));
    let mut rows = Vec::new();
    for f in &first {
        let n: usize = f.result.series.iter().map(|s| s.values.len()).sum();
        assert!(n <= 2 * 5_000, "{n} rows in one piece");
        for s in &f.result.series {
            assert_eq!(s.columns, whole[0].series[0].columns);
            rows.extend(s.values.iter().cloned());
        }
    }
    assert_eq!(rows.len(), 44_990 + 44);
    assert_eq!(rows, whole[0].series[0].values);
    // The others arrive whole, as `execute` answers them.
    let rest: Vec<StatementResult> = fragments
        .into_iter()
        .filter(|f| f.result.statement_id > 0)
        .map(|f| f.result)
        .collect();
    assert_eq!(rest, whole[1..].to_vec());
}

/// EXPLAIN answers in InfluxDB 1.6.7's lines; on data still in the write
/// cache its counts are the same as InfluxDB's (recorded from a live 1.6.7).
#[test]
fn explain_lists_iterators_like_influxdb() {
    let e = env(ExecutorConfig::default());
    e.q("", "CREATE DATABASE db0");
    let mut lines = String::new();
    for (h, off) in [("a", 0), ("b", 1), ("c", 0)] {
        for k in 0..40 {
            lines.push_str(&format!(
                "cpu,host={h} usage={k}.5,n={k}i {}\n",
                946_684_800 + k * 10 + off
            ));
        }
    }
    e.write("db0", &lines);
    let plan = |q: &str| -> Vec<String> {
        let r = e.q("db0", q);
        assert_eq!(r[0].error, None, "{q}");
        r[0].series[0]
            .values
            .iter()
            .map(|v| match &v[0] {
                Value::String(s) => s.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let block = |expr: &str, aux: Option<&str>, series: u64, cached: u64| {
        let mut v = vec![format!("EXPRESSION: {expr}")];
        if let Some(a) = aux {
            v.push(format!("AUXILIARY FIELDS: {a}"));
        }
        v.extend([
            "NUMBER OF SHARDS: 1".to_string(),
            format!("NUMBER OF SERIES: {series}"),
            format!("CACHED VALUES: {cached}"),
            "NUMBER OF FILES: 0".to_string(),
            "NUMBER OF BLOCKS: 0".to_string(),
            "SIZE OF BLOCKS: 0".to_string(),
        ]);
        v
    };
    assert_eq!(
        plan("EXPLAIN SELECT mean(usage) FROM cpu GROUP BY host"),
        block("mean(usage::float)", None, 3, 120)
    );
    assert_eq!(
        plan("EXPLAIN SELECT usage, host FROM cpu"),
        block("<nil>", Some("host::tag, usage::float"), 3, 120)
    );
    assert_eq!(
        plan("EXPLAIN SELECT usage FROM cpu WHERE usage > 50 AND host = 'a'"),
        block("<nil>", Some("usage::float"), 1, 80)
    );
    let mut two = block("mean(usage::float)", None, 3, 100);
    two.push(String::new());
    two.extend(block("max(n::integer)", None, 3, 100));
    assert_eq!(
        plan("EXPLAIN SELECT mean(usage), max(n) FROM cpu WHERE time > '2000-01-01T00:01:00Z'"),
        two
    );
    assert_eq!(
        plan("EXPLAIN SELECT usage FROM nosuch"),
        vec![String::new()]
    );
    let tree = plan("EXPLAIN ANALYZE SELECT usage, n FROM cpu WHERE host = 'a' AND usage > 1");
    assert_eq!(tree[1], "└── select");
    assert!(tree.iter().any(|l| l.ends_with(
        "statement: SELECT usage::float, n::integer FROM db0.autogen.cpu WHERE host::tag = 'a' AND usage::float > 1"
    )));
    assert!(tree
        .iter()
        .any(|l| l.ends_with("auxiliary_fields: n::integer, usage::float")));
    assert!(tree.iter().any(|l| l.ends_with("cursors_aux: 2")));
    assert!(tree.iter().any(|l| l.ends_with("cursors_cond: 1")));
}

/// A data node's meta cache that lags: reads answer an old snapshot,
/// changes go to the real store.
struct StaleCache {
    stale: Arc<meta::Data>,
    real: Arc<dyn meta::MetaStore>,
}

impl meta::MetaStore for StaleCache {
    fn data(&self) -> Arc<meta::Data> {
        self.stale.clone()
    }
    fn execute(&self, cmd: meta::Command) -> meta::Result<meta::Response> {
        self.real.execute(cmd)
    }
}

#[test]
fn m4_drop_database_reaches_the_meta_store_when_the_cache_lacks_it() {
    let dir = tempfile::tempdir().unwrap();
    let real: Arc<dyn meta::MetaStore> =
        Arc::new(meta::local::LocalMetaStore::open(&dir.path().join("meta")).unwrap());
    let stale = real.data();
    real.execute(meta::Command::CreateDatabase {
        name: "db".into(),
        rp: None,
        retention_autocreate: true,
    })
    .unwrap();
    let meta: Arc<dyn meta::MetaStore> = Arc::new(StaleCache {
        stale,
        real: real.clone(),
    });
    let data_dir = dir.path().join("data");
    let store = Arc::new(
        tsdb::Store::open(tsdb::EngineConfig {
            dir: data_dir.clone(),
            wal_dir: dir.path().join("wal"),
            ..Default::default()
        })
        .unwrap(),
    );
    let writer = Arc::new(cluster::PointsWriter::new(meta.clone(), store.clone(), 1));
    let ex = QueryExecutor::new(meta, store, writer, ExecutorConfig::default());
    let run = |text: &str| {
        let q = influxql::parse_query(text).unwrap();
        ex.execute(&q, &ExecutionContext::default())
    };
    let r = run("DROP DATABASE db");
    assert_eq!(r[0].error, None);
    assert!(
        real.data().database("db").is_none(),
        "DROP DATABASE was a no-op"
    );
    // A name no database can have never reaches the file system.
    let r = run("DROP DATABASE \"..\"");
    assert_eq!(r[0].error, None);
    assert!(data_dir.exists() && dir.path().join("meta").exists());
}

/// L12: a shard that failed to open at startup makes the queries that need
/// it fail with an error naming it, instead of answering from the other
/// shards as if it held no data.
#[test]
fn l12_query_needing_a_failed_shard_is_an_error_not_partial_data() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let meta: Arc<dyn meta::MetaStore> =
            Arc::new(meta::local::LocalMetaStore::open(&dir.path().join("meta")).unwrap());
        meta.execute(meta::Command::CreateDataNode {
            host: "localhost:8086".into(),
            tcp_host: "localhost:8088".into(),
            passive: false,
        })
        .unwrap();
        let store = Arc::new(
            tsdb::Store::open(tsdb::EngineConfig {
                dir: dir.path().join("data"),
                wal_dir: dir.path().join("wal"),
                ..Default::default()
            })
            .unwrap(),
        );
        let writer = Arc::new(cluster::PointsWriter::new(meta.clone(), store.clone(), 1));
        let ex = QueryExecutor::new(
            meta,
            store.clone(),
            writer.clone(),
            ExecutorConfig::default(),
        );
        (
            Env {
                _dir: tempfile::tempdir().unwrap(),
                ex,
                writer,
            },
            store,
        )
    };
    let (e, store) = open();
    assert_eq!(e.q("", "CREATE DATABASE db0")[0].error, None);
    // two shard groups, weeks apart
    e.write(
        "db0",
        "cpu,host=a value=1 946684800\ncpu,host=a value=2 950000000",
    );
    let shards: Vec<u64> = store.shards().iter().map(|s| s.id()).collect();
    assert_eq!(shards.len(), 2);
    drop(e);
    drop(store);
    // damage the series index of the later shard in the middle
    let log = dir
        .path()
        .join(format!("data/db0/autogen/{}/index.log", shards[1]));
    let mut data = std::fs::read(&log).unwrap();
    data[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&log, &data).unwrap();
    let (e, store) = open();
    assert_eq!(store.failed_shards().len(), 1);
    let r = e.q("db0", "SELECT value FROM cpu");
    let err = r[0].error.clone().expect("an error, not partial data");
    assert!(
        err.starts_with(&format!("shard {} is unavailable: corrupt file", shards[1])),
        "{err}"
    );
    // a query that needs only the healthy shard is answered
    let r = e.q(
        "db0",
        "SELECT value FROM cpu WHERE time < '2000-01-02T00:00:00Z'",
    );
    assert_eq!(r[0].error, None);
    assert_eq!(r[0].series[0].values.len(), 1);
    // a write into the failed shard is refused with the same error
    let pts = lineproto::parse_points(
        b"cpu,host=a value=3 950000001",
        models::Precision::Second,
        0,
    );
    let werr = e
        .writer
        .write(
            "db0",
            "",
            pts.points,
            cluster::Consistency::One,
            1_000_000_000_000_000_000,
        )
        .unwrap_err()
        .to_string();
    assert!(werr.contains("is unavailable"), "{werr}");
}

/// M2 end to end: points at the first and last representable times are
/// stored (each in a clipped shard group), and GROUP BY time and SHOW
/// SHARDS over them answer without overflowing.
#[test]
fn m2_points_at_the_time_extremes_write_and_query() {
    let e = env(ExecutorConfig::default());
    assert_eq!(e.q("", "CREATE DATABASE db")[0].error, None);
    let lines = format!("m v=1 {}\nm v=2 {}\n", models::MIN_NANOS, models::MAX_NANOS);
    let pts = lineproto::parse_points(lines.as_bytes(), models::Precision::Nanosecond, 0);
    assert!(pts.errors.is_empty(), "{:?}", pts.errors);
    e.writer
        .write(
            "db",
            "",
            pts.points,
            cluster::Consistency::One,
            1_000_000_000_000_000_000,
        )
        .unwrap();
    let hour = 3_600_000_000_000i64;
    let first = format!(
        "SELECT count(v) FROM m WHERE time >= {} AND time < {} GROUP BY time(1h)",
        models::MIN_NANOS,
        models::MIN_NANOS + 2 * hour
    );
    let last = format!(
        "SELECT count(v) FROM m WHERE time > {} AND time <= {} GROUP BY time(1h)",
        models::MAX_NANOS - 2 * hour,
        models::MAX_NANOS
    );
    for q in [
        first,
        last,
        "SHOW SHARDS".to_string(),
        "SHOW SHARD GROUPS".to_string(),
    ] {
        let r = e.q("db", &q);
        assert_eq!(r[0].error, None, "{q}");
        assert!(!r[0].series.is_empty(), "{q}");
    }
}
