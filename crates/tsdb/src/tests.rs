//! Engine-level tests: write/read through cache, snapshots and compaction,
//! deletes, schema conflicts, persistence, crash recovery and concurrency.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use models::{Column, FieldType, FieldValue, Point, TimeRange};

use crate::{EngineConfig, Error, Shard, Store, TagPredicate};

mod power_loss;

fn cfg(dir: &Path) -> EngineConfig {
    EngineConfig {
        dir: dir.join("data"),
        wal_dir: dir.join("wal"),
        cache_snapshot_write_cold_duration: Duration::from_secs(3600),
        compact_full_write_cold_duration: Duration::from_secs(3600),
        max_concurrent_compactions: 1,
        ..EngineConfig::default()
    }
}

fn pt(host: &str, fields: Vec<(&str, FieldValue)>, t: i64) -> Point {
    Point::new(
        "cpu".into(),
        vec![("host".into(), host.into())],
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        t,
    )
}

fn fpt(host: &str, v: f64, t: i64) -> Point {
    pt(host, vec![("value", FieldValue::Float(v))], t)
}

fn series_id(s: &Shard, host: &str) -> u64 {
    let v = s.series("cpu", &TagPredicate::Eq("host".into(), host.into()));
    assert_eq!(v.len(), 1, "series for {host}");
    v[0].id
}

fn read_all(s: &Shard, host: &str, field: &str, range: TimeRange) -> (Vec<i64>, Column) {
    let id = series_id(s, host);
    let mut times = Vec::new();
    let mut col: Option<Column> = None;
    for b in s.read(id, field, range).unwrap() {
        let b = b.unwrap();
        assert!(b.times.len() <= 1000 && !b.times.is_empty());
        times.extend_from_slice(&b.times);
        match (&mut col, b.values) {
            (None, v) => col = Some(v),
            (Some(Column::Float(a)), Column::Float(b)) => a.extend(b),
            (Some(Column::Integer(a)), Column::Integer(b)) => a.extend(b),
            _ => panic!("mixed types"),
        }
    }
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "ascending and unique"
    );
    (times, col.unwrap_or(Column::Float(vec![])))
}

#[test]
fn write_read_through_cache_snapshot_and_files() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    let pts: Vec<Point> = (0..2500).map(|i| fpt("a", i as f64, i * 10)).collect();
    s.write_points(&pts).unwrap();
    assert_eq!(read_all(&s, "a", "value", TimeRange::ALL).0.len(), 2500);
    s.flush().unwrap();
    // overwrite some values in the cache: newest wins over the file
    s.write_points(&[fpt("a", -1.0, 100), fpt("a", -2.0, 30_000)])
        .unwrap();
    let (t, v) = read_all(&s, "a", "value", TimeRange::ALL);
    assert_eq!(t.len(), 2501);
    let Column::Float(v) = v else { panic!() };
    assert_eq!(v[10], -1.0);
    assert_eq!(*v.last().unwrap(), -2.0);
    let (t, _) = read_all(&s, "a", "value", TimeRange::new(95, 205));
    assert_eq!(t, (10..=20).map(|i| i * 10).collect::<Vec<_>>());
    assert_eq!(s.measurements(), vec!["cpu"]);
    assert_eq!(
        s.fields("cpu"),
        vec![("value".to_string(), FieldType::Float)]
    );
    assert_eq!(s.tag_keys("cpu"), vec!["host"]);
    assert_eq!(s.tag_values("cpu", "host"), vec!["a"]);
    assert!(s
        .read(series_id(&s, "a"), "nope", TimeRange::ALL)
        .unwrap()
        .next()
        .is_none());
    let st = &store.statistics()[0];
    assert_eq!(st.points_written, 2502);
    assert_eq!(st.snapshots, 1);
    assert!(st.disk_bytes > 0);
}

#[test]
fn field_type_conflict_is_partial_write() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    s.write_points(&[pt("a", vec![("value", FieldValue::Integer(1))], 1)])
        .unwrap();
    let err = s
        .write_points(&[
            fpt("a", 1.5, 2),
            pt("b", vec![("value", FieldValue::Integer(2))], 2),
            pt("c", vec![("other", FieldValue::String("x".into()))], 3),
            pt("c", vec![("other", FieldValue::Boolean(true))], 4),
        ])
        .unwrap_err();
    match err {
        Error::PartialWrite { reason, dropped } => {
            assert_eq!(
                reason,
                "field type conflict: input field \"value\" on measurement \"cpu\" is type float, already exists as type integer"
            );
            assert_eq!(dropped, 2);
        }
        e => panic!("unexpected {e}"),
    }
    assert_eq!(
        read_all(&s, "b", "value", TimeRange::ALL).1,
        Column::Integer(vec![2])
    );
    let c = series_id(&s, "c");
    let blocks: Vec<_> = s
        .read(c, "other", TimeRange::ALL)
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    assert_eq!(blocks[0].values, Column::String(vec!["x".into()]));
    assert_eq!(
        s.fields("cpu"),
        vec![
            ("other".to_string(), FieldType::String),
            ("value".to_string(), FieldType::Integer)
        ]
    );
}

#[test]
fn index_and_data_persist_across_reopen() {
    let d = tempfile::tempdir().unwrap();
    {
        let store = Store::open(cfg(d.path())).unwrap();
        let s = store.create_shard("db", "rp", 7).unwrap();
        s.write_points(&[fpt("a", 1.0, 1), fpt("b", 2.0, 2)])
            .unwrap();
        s.flush().unwrap();
        s.write_points(&[fpt("c", 3.0, 3)]).unwrap();
        store.close().unwrap();
    }
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.shard(7).unwrap();
    assert_eq!((s.database(), s.retention_policy()), ("db", "rp"));
    assert_eq!(s.series_count(), 3);
    let keys: Vec<String> = s
        .series("cpu", &TagPredicate::True)
        .iter()
        .map(|x| x.key.to_string())
        .collect();
    assert_eq!(keys, vec!["cpu,host=a", "cpu,host=b", "cpu,host=c"]);
    assert_eq!(
        read_all(&s, "c", "value", TimeRange::ALL).1,
        Column::Float(vec![3.0])
    );
    // ids are stable: a new series gets a fresh id
    s.write_points(&[fpt("d", 4.0, 4)]).unwrap();
    assert_eq!(series_id(&s, "d"), 4);
    assert!(store.create_shard("db", "other", 7).is_err());
    assert!(Arc::ptr_eq(&store.create_shard("db", "rp", 7).unwrap(), &s));
}

#[test]
fn crash_keeps_every_acknowledged_point() {
    let d = tempfile::tempdir().unwrap();
    let n_batches = 20;
    {
        let store = Store::open(cfg(d.path())).unwrap();
        let s = store.create_shard("db", "rp", 1).unwrap();
        for b in 0..n_batches {
            let pts: Vec<Point> = (0..100)
                .map(|i| {
                    fpt(
                        &format!("h{}", i % 10),
                        (b * 100 + i) as f64,
                        (b * 100 + i) as i64,
                    )
                })
                .collect();
            s.write_points(&pts).unwrap();
            if b == 5 {
                s.flush().unwrap(); // part of the data in a file, the rest only in the WAL
            }
        }
        store.crash();
    }
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.shard(1).unwrap();
    assert_eq!(s.series_count(), 10);
    let total: usize = (0..10)
        .map(|h| {
            read_all(&s, &format!("h{h}"), "value", TimeRange::ALL)
                .0
                .len()
        })
        .sum();
    assert_eq!(total, n_batches * 100);
}

#[test]
fn concurrent_writers() {
    let d = tempfile::tempdir().unwrap();
    let mut c = cfg(d.path());
    c.cache_snapshot_memory_size = 64 * 1024; // snapshots run while writers write
    let store = Store::open(c).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for b in 0..50 {
                    let pts: Vec<Point> = (0..50)
                        .map(|i| fpt(&format!("t{t}"), i as f64, (b * 50 + i) as i64))
                        .collect();
                    s.write_points(&pts).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for t in 0..4 {
        assert_eq!(
            read_all(&s, &format!("t{t}"), "value", TimeRange::ALL)
                .0
                .len(),
            2500
        );
    }
    drop(store);
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.shard(1).unwrap();
    for t in 0..4 {
        assert_eq!(
            read_all(&s, &format!("t{t}"), "value", TimeRange::ALL)
                .0
                .len(),
            2500
        );
    }
}

#[test]
fn compaction_merges_with_dedup_and_tombstones() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    for f in 0..4 {
        // overlapping files: each rewrites t=0..100 with value f
        let pts: Vec<Point> = (0..100).map(|i| fpt("a", f as f64, i)).collect();
        s.write_points(&pts).unwrap();
        s.write_points(&[fpt("b", f as f64, 1000 + f)]).unwrap();
        s.flush().unwrap();
    }
    let b = series_id(&s, "a");
    s.delete(&[b], TimeRange::new(10, 19)).unwrap();
    assert_eq!(s.statistics().compactions, 0);
    assert!(s.compact(false).unwrap());
    assert_eq!(s.state.read().files.len(), 1);
    assert_eq!(s.state.read().files[0].level, 2);
    let (t, v) = read_all(&s, "a", "value", TimeRange::ALL);
    assert_eq!(t.len(), 90);
    assert!(!t.contains(&15));
    assert_eq!(v, Column::Float(vec![3.0; 90]));
    assert_eq!(
        read_all(&s, "b", "value", TimeRange::ALL).0,
        vec![1000, 1001, 1002, 1003]
    );
    // drop a series, then a full compaction removes its data
    let bid = series_id(&s, "b");
    s.delete(&[bid], TimeRange::ALL).unwrap();
    assert!(s
        .series("cpu", &TagPredicate::Eq("host".into(), "b".into()))
        .is_empty());
    assert!(s.compact(true).unwrap());
    let st = s.state.read();
    assert_eq!(st.files.len(), 1);
    assert!(!st.files[0].has_series(bid));
    assert!(st.files[0].tombstones.is_empty());
    drop(st);
    drop(store);
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.shard(1).unwrap();
    assert_eq!(read_all(&s, "a", "value", TimeRange::ALL).0.len(), 90);
    assert_eq!(s.series_count(), 1);
}

#[test]
fn deletes_survive_reopen_and_drop_measurement() {
    let d = tempfile::tempdir().unwrap();
    {
        let store = Store::open(cfg(d.path())).unwrap();
        let s = store.create_shard("db", "rp", 1).unwrap();
        let pts: Vec<Point> = (0..100).map(|i| fpt("a", i as f64, i)).collect();
        s.write_points(&pts[..50]).unwrap();
        s.flush().unwrap();
        s.write_points(&pts[50..]).unwrap();
        let id = series_id(&s, "a");
        s.delete(&[id], TimeRange::new(40, 59)).unwrap();
        assert_eq!(read_all(&s, "a", "value", TimeRange::ALL).0.len(), 80);
        s.write_points(&[Point::new(
            "mem".into(),
            vec![],
            vec![("free".into(), FieldValue::Integer(1))],
            1,
        )])
        .unwrap();
        store.crash();
    }
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.shard(1).unwrap();
    assert_eq!(read_all(&s, "a", "value", TimeRange::ALL).0.len(), 80);
    assert_eq!(s.measurements(), vec!["cpu", "mem"]);
    s.drop_measurement("mem").unwrap();
    assert_eq!(s.measurements(), vec!["cpu"]);
    assert!(s.fields("mem").is_empty());
    // the measurement can come back with another type
    s.write_points(&[Point::new(
        "mem".into(),
        vec![],
        vec![("free".into(), FieldValue::Float(1.0))],
        2,
    )])
    .unwrap();
    assert_eq!(
        s.fields("mem"),
        vec![("free".to_string(), FieldType::Float)]
    );
}

#[test]
fn cache_limit_rejects_writes() {
    let d = tempfile::tempdir().unwrap();
    let mut c = cfg(d.path());
    c.cache_max_memory_size = 1000;
    c.cache_snapshot_memory_size = u64::MAX;
    let store = Store::open(c).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    let pts: Vec<Point> = (0..100).map(|i| fpt("a", 0.0, i)).collect();
    s.write_points(&pts).unwrap();
    let e = s.write_points(&pts).unwrap_err();
    assert!(matches!(
        e,
        Error::CacheMaxMemorySizeExceeded { max: 1000, .. }
    ));
    assert!(e
        .to_string()
        .starts_with("cache-max-memory-size exceeded: ("));
    assert_eq!(s.statistics().write_errors, 1);
}

#[test]
fn corrupt_data_file_is_an_error_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let path = {
        let store = Store::open(cfg(d.path())).unwrap();
        let s = store.create_shard("db", "rp", 1).unwrap();
        s.write_points(&[fpt("a", 1.0, 1)]).unwrap();
        s.flush().unwrap();
        let p = s.state.read().files[0].path.clone();
        p
    };
    let mut data = std::fs::read(&path).unwrap();
    let n = data.len();
    data[n - 45] ^= 0x55;
    std::fs::write(&path, &data).unwrap();
    assert!(matches!(
        Shard::open(
            Arc::new(cfg(d.path())),
            Arc::new(crate::StdFs),
            "db",
            "rp",
            1,
            Default::default()
        ),
        Err(Error::Corrupt { .. })
    ));
    // the store skips the bad shard instead of failing
    let store = Store::open(cfg(d.path())).unwrap();
    assert!(store.shard(1).is_none());
}

#[test]
fn delete_shard_database_and_rp_remove_files() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    for (db, rp, id) in [("a", "r1", 1), ("a", "r2", 2), ("b", "r1", 3)] {
        store
            .create_shard(db, rp, id)
            .unwrap()
            .write_points(&[fpt("x", 1.0, 1)])
            .unwrap();
    }
    store.delete_shard(1).unwrap();
    assert!(!d.path().join("data/a/r1/1").exists());
    assert!(!d.path().join("wal/a/r1/1").exists());
    assert!(matches!(
        store.delete_shard(1),
        Err(Error::ShardNotFound(1))
    ));
    store.delete_retention_policy("a", "r2").unwrap();
    assert!(!d.path().join("data/a/r2").exists());
    store.delete_database("b").unwrap();
    assert!(!d.path().join("data/b").exists());
    assert!(store.shards().is_empty());
}

#[test]
fn lazy_reads_over_disjoint_sources_and_block_errors() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    let pts: Vec<Point> = (0..6000).map(|i| fpt("a", i as f64, i)).collect();
    s.write_points(&pts[..3000]).unwrap();
    s.flush().unwrap();
    s.write_points(&pts[3000..]).unwrap();
    let (t, v) = read_all(&s, "a", "value", TimeRange::ALL);
    assert_eq!(t, (0..6000).collect::<Vec<_>>());
    assert_eq!(v, Column::Float((0..6000).map(|i| i as f64).collect()));
    let (t, _) = read_all(&s, "a", "value", TimeRange::new(2500, 3499));
    assert_eq!(t, (2500..3500).collect::<Vec<_>>());
    // a corrupt block surfaces as an error item, not a panic
    let path = s.state.read().files[0].path.clone();
    let mut data = std::fs::read(&path).unwrap();
    data[20] ^= 0xff;
    std::fs::write(&path, &data).unwrap();
    let id = series_id(&s, "a");
    let items: Vec<_> = s.read(id, "value", TimeRange::ALL).unwrap().collect();
    assert!(items
        .iter()
        .any(|r| matches!(r, Err(Error::Corrupt { .. }))));
    // block pruning: a range outside the corrupt block never reads it
    let (t, _) = read_all(&s, "a", "value", TimeRange::new(1000, 3999));
    assert_eq!(t, (1000..4000).collect::<Vec<_>>());
}

#[test]
fn interrupted_compaction_leaves_a_readable_shard() {
    let d = tempfile::tempdir().unwrap();
    let shard_dir = d.path().join("data/db/rp/1");
    let saved;
    {
        let store = Store::open(cfg(d.path())).unwrap();
        let s = store.create_shard("db", "rp", 1).unwrap();
        for f in 0..4 {
            let pts: Vec<Point> = (0..10).map(|i| fpt("a", f as f64, f * 10 + i)).collect();
            s.write_points(&pts).unwrap();
            s.flush().unwrap();
        }
        s.delete(&[series_id(&s, "a")], TimeRange::new(0, 4))
            .unwrap();
        let first = s.state.read().files[0].path.clone();
        saved = (first.clone(), std::fs::read(&first).unwrap());
        let tomb = crate::tombstone::path_for(&first);
        let saved_tomb = std::fs::read(&tomb).unwrap();
        assert!(s.compact(false).unwrap());
        store.crash();
        // as if the process died after publishing the output but before
        // removing the inputs, while another output was half written
        std::fs::write(&saved.0, &saved.1).unwrap();
        std::fs::write(&tomb, saved_tomb).unwrap();
        std::fs::write(
            shard_dir.join("000000000009-000000000009-0000.tsm.tmp"),
            b"partial",
        )
        .unwrap();
    }
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.shard(1).unwrap();
    assert!(!saved.0.exists(), "superseded input removed on open");
    assert!(!shard_dir
        .join("000000000009-000000000009-0000.tsm.tmp")
        .exists());
    let (t, _) = read_all(&s, "a", "value", TimeRange::ALL);
    assert_eq!(t, (5..40).collect::<Vec<_>>());
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
    check::<Shard>();
    check::<Arc<Shard>>();
    fn check_send<T: Send>() {}
    check_send::<crate::BlockCursor>();
}

#[test]
fn series_lookups() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    s.write_points(&[fpt("a", 1.0, 1)]).unwrap();
    let info = s.series_by_key("cpu,host=a").unwrap();
    assert_eq!(s.series_info(info.id).unwrap(), info);
    assert_eq!(&*info.measurement, "cpu");
    assert_eq!(&info.tags[..], &[("host".to_string(), "a".to_string())]);
    assert!(s.series_by_key("cpu,host=b").is_none());
}

/// Random operations (writes with out-of-order and duplicate times, deletes,
/// drops, snapshots, compactions, clean and crash reopens) checked against
/// a simple in-memory model after every step.
#[test]
fn randomized_operations_match_a_model() {
    use std::collections::BTreeMap;
    for seed in [1u64, 7, 42, 1234] {
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut rnd = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let d = tempfile::tempdir().unwrap();
        let mut store = Some(Store::open(cfg(d.path())).unwrap());
        // host -> time -> value
        let mut model: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
        let hosts = ["h0", "h1", "h2", "h3"];
        for step in 0..120 {
            let st = store.as_ref().unwrap();
            let s = st.create_shard("db", "rp", 1).unwrap();
            match rnd(20) {
                0..=10 => {
                    let n = 1 + rnd(300) as usize;
                    let base = rnd(5000) as i64;
                    let pts: Vec<Point> = (0..n)
                        .map(|i| {
                            let h = hosts[rnd(4) as usize];
                            let t = base + rnd(400) as i64;
                            fpt(h, (step * 1000 + i) as f64, t)
                        })
                        .collect();
                    s.write_points(&pts).unwrap();
                    for p in &pts {
                        let FieldValue::Float(v) = p.fields[0].1 else {
                            unreachable!()
                        };
                        let host = &p.tags[0].1;
                        model.entry(host.clone()).or_default().insert(p.time, v);
                    }
                }
                11 => {
                    let h = hosts[rnd(4) as usize];
                    if let Some(info) = s.series_by_key(&format!("cpu,host={h}")) {
                        let a = rnd(5400) as i64;
                        let r = TimeRange::new(a, a + rnd(300) as i64);
                        s.delete(&[info.id], r).unwrap();
                        if let Some(m) = model.get_mut(h) {
                            m.retain(|t, _| !r.contains(*t));
                        }
                    }
                }
                12 => {
                    let h = hosts[rnd(4) as usize];
                    if let Some(info) = s.series_by_key(&format!("cpu,host={h}")) {
                        s.delete(&[info.id], TimeRange::ALL).unwrap();
                        model.remove(h);
                    }
                }
                13..=15 => s.flush().unwrap(),
                16 => {
                    s.compact(rnd(2) == 0).unwrap();
                }
                17 => {
                    drop(s);
                    store.take().unwrap().close().unwrap();
                    store = Some(Store::open(cfg(d.path())).unwrap());
                }
                18 => {
                    drop(s);
                    store.take().unwrap().crash();
                    store = Some(Store::open(cfg(d.path())).unwrap());
                }
                _ => while s.compact(false).unwrap() {},
            }
            let st = store.as_ref().unwrap();
            let s = st.create_shard("db", "rp", 1).unwrap();
            model.retain(|_, m| !m.is_empty());
            let live: Vec<String> = s
                .series("cpu", &TagPredicate::True)
                .iter()
                .map(|x| x.tags[0].1.clone())
                .collect();
            for h in hosts {
                let want = model.get(h);
                if !live.iter().any(|l| l == h) {
                    assert!(
                        want.is_none(),
                        "seed {seed} step {step}: series {h} missing"
                    );
                    continue;
                }
                let (t, v) = read_all(&s, h, "value", TimeRange::ALL);
                let want_t: Vec<i64> = want
                    .map(|m| m.keys().copied().collect())
                    .unwrap_or_default();
                let want_v: Vec<f64> = want
                    .map(|m| m.values().copied().collect())
                    .unwrap_or_default();
                assert_eq!(t, want_t, "seed {seed} step {step} host {h} times");
                assert_eq!(
                    v,
                    Column::Float(want_v),
                    "seed {seed} step {step} host {h} values"
                );
                let lo = rnd(5000) as i64;
                let r = TimeRange::new(lo, lo + 500);
                let (t, _) = read_all(&s, h, "value", r);
                let want_t: Vec<i64> = want
                    .map(|m| m.range(r.min..=r.max).map(|(t, _)| *t).collect())
                    .unwrap_or_default();
                assert_eq!(t, want_t, "seed {seed} step {step} host {h} range");
            }
        }
    }
}

#[test]
fn readers_see_consistent_data_during_snapshots_and_compactions() {
    let d = tempfile::tempdir().unwrap();
    let mut c = cfg(d.path());
    c.cache_snapshot_memory_size = 16 * 1024;
    let store = Store::open(c).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    s.write_points(&[fpt("w0", 0.0, 0), fpt("w1", 0.0, 0)])
        .unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                for b in 0..60 {
                    let pts: Vec<Point> = (0..50)
                        .map(|i| fpt(&format!("w{w}"), 1.0, (b * 50 + i) as i64))
                        .collect();
                    s.write_points(&pts).unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let s = s.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut last = [0usize; 2];
            let mut rounds = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) || rounds < 5 {
                for (w, last) in last.iter_mut().enumerate() {
                    let (t, _) = read_all(&s, &format!("w{w}"), "value", TimeRange::ALL);
                    // writes of one writer are acknowledged in time order, so
                    // what a reader sees is always a prefix 0..n
                    assert_eq!(t, (0..t.len() as i64).collect::<Vec<_>>());
                    assert!(t.len() >= *last, "data never disappears");
                    *last = t.len();
                }
                if rounds % 2 == 0 {
                    s.flush().unwrap();
                } else {
                    s.compact(false).unwrap();
                }
                rounds += 1;
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    reader.join().unwrap();
    assert!(s.statistics().snapshots > 3);
    for w in 0..2 {
        assert_eq!(
            read_all(&s, &format!("w{w}"), "value", TimeRange::ALL)
                .0
                .len(),
            3000
        );
    }
}

/// Child half of `killed_process_keeps_acknowledged_points`: writes batches
/// forever, printing the number of each acknowledged batch.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("TSDB_CRASH_CHILD_DIR") else {
        return;
    };
    use std::io::Write;
    let mut c = cfg(Path::new(&dir));
    c.cache_snapshot_memory_size = 32 * 1024;
    let store = Store::open(c).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    let mut out = std::io::stdout().lock();
    for b in 0.. {
        let pts: Vec<Point> = (0..100)
            .map(|i| fpt(&format!("h{}", i % 7), b as f64, b * 100 + i))
            .collect();
        s.write_points(&pts).unwrap();
        writeln!(out, "acked {b}").unwrap();
        out.flush().unwrap();
        if b % 50 == 0 {
            let _ = s.compact(false);
        }
    }
}

/// Kills a real writer process (SIGKILL) while snapshots and compactions
/// run, then checks that every acknowledged batch is readable.
#[test]
fn killed_process_keeps_acknowledged_points() {
    use std::io::BufRead;
    let d = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tests::crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TSDB_CRASH_CHILD_DIR", d.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked = -1i64;
    let start = std::time::Instant::now();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("acked ") {
            acked = n.parse().unwrap();
        }
        if start.elapsed() > Duration::from_millis(1500) && acked >= 20 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(acked >= 20, "child made progress");
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.shard(1).unwrap();
    let mut total = 0;
    for h in 0..7 {
        let (t, _) = read_all(&s, &format!("h{h}"), "value", TimeRange::ALL);
        // every acknowledged batch is complete (later ones may be partially durable)
        let upto = (acked + 1) * 100;
        let got: Vec<i64> = t.into_iter().filter(|&t| t < upto).collect();
        let want: Vec<i64> = (0..upto).filter(|t| t % 100 % 7 == h).collect();
        assert_eq!(got, want, "host h{h}");
        total += got.len();
    }
    assert_eq!(total as i64, (acked + 1) * 100);
}

#[test]
fn cardinality_limits_drop_points_with_influxdb_reasons() {
    let d = tempfile::tempdir().unwrap();
    let mut c = cfg(d.path());
    c.max_series_per_database = 3;
    c.max_values_per_tag = 2;
    let store = Store::open(c).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    s.write_points(&[fpt("a", 1.0, 1), fpt("b", 1.0, 1)])
        .unwrap();
    match s
        .write_points(&[fpt("c", 1.0, 1), fpt("a", 2.0, 2)])
        .unwrap_err()
    {
        Error::PartialWrite { reason, dropped } => {
            assert_eq!(
                reason,
                "max-values-per-tag limit exceeded (2/2): measurement=\"cpu\" tag=\"host\" value=\"c\""
            );
            assert_eq!(dropped, 1);
        }
        e => panic!("{e}"),
    }
    let mem = |i: i64| {
        Point::new(
            "mem".into(),
            vec![("host".into(), format!("m{i}"))],
            vec![("free".into(), FieldValue::Integer(i))],
            i,
        )
    };
    s.write_points(&[mem(1)]).unwrap();
    match s.write_points(&[mem(2)]).unwrap_err() {
        Error::PartialWrite { reason, dropped } => {
            assert_eq!(reason, "max-series-per-database limit exceeded: (3)");
            assert_eq!(dropped, 1);
        }
        e => panic!("{e}"),
    }
    assert_eq!(s.series_count(), 3);
    assert_eq!(read_all(&s, "a", "value", TimeRange::ALL).0, vec![1, 2]);
}

/// Audit M7: `max-series-per-database` and `max-values-per-tag` hold for
/// the database as a whole, not for each of its shards (a database with N
/// shard groups used to hold N times the limit). A series present in
/// several shard groups counts once; deleting a shard gives its series back.
#[test]
fn m7_cardinality_limits_hold_across_the_shards_of_a_database() {
    let d = tempfile::tempdir().unwrap();
    let mut c = cfg(d.path());
    c.max_series_per_database = 3;
    c.max_values_per_tag = 0;
    let store = Store::open(c.clone()).unwrap();
    let s1 = store.create_shard("db", "rp", 1).unwrap();
    let s2 = store.create_shard("db", "rp", 2).unwrap();
    let other = store.create_shard("other", "rp", 3).unwrap();
    s1.write_points(&[fpt("a", 1.0, 1), fpt("b", 1.0, 1)])
        .unwrap();
    // The same series in another shard group adds nothing.
    s2.write_points(&[fpt("a", 1.0, 1), fpt("b", 1.0, 1)])
        .unwrap();
    s2.write_points(&[fpt("c", 1.0, 1)]).unwrap();
    match s2.write_points(&[fpt("d", 1.0, 1)]).unwrap_err() {
        Error::PartialWrite { reason, dropped } => {
            assert_eq!(reason, "max-series-per-database limit exceeded: (3)");
            assert_eq!(dropped, 1);
        }
        e => panic!("{e}"),
    }
    match s1.write_points(&[fpt("e", 1.0, 1)]).unwrap_err() {
        Error::PartialWrite { reason, .. } => {
            assert_eq!(reason, "max-series-per-database limit exceeded: (3)")
        }
        e => panic!("{e}"),
    }
    // Another database has its own count.
    other
        .write_points(&[fpt("x", 1.0, 1), fpt("y", 1.0, 1), fpt("z", 1.0, 1)])
        .unwrap();
    // Counts survive a restart (rebuilt from the shards' indexes).
    drop((s1, s2, other));
    store.close().unwrap();
    let store = Store::open(c).unwrap();
    let s1 = store.shard(1).unwrap();
    assert!(s1.write_points(&[fpt("e", 1.0, 1)]).is_err());
    // Deleting shard 2 releases c (a and b stay, held by shard 1).
    store.delete_shard(2).unwrap();
    s1.write_points(&[fpt("e", 1.0, 1)]).unwrap();
    assert!(s1.write_points(&[fpt("f", 1.0, 1)]).is_err());
    // Dropping a series gives it back.
    let id = series_id(&s1, "e");
    s1.delete(&[id], TimeRange::ALL).unwrap();
    s1.write_points(&[fpt("f", 1.0, 1)]).unwrap();
}

/// Audit M7: limits on tags per series, fields per measurement and string
/// length, with InfluxDB-shaped reasons; other points of the batch land.
#[test]
fn m7_tags_fields_and_string_length_are_limited() {
    let d = tempfile::tempdir().unwrap();
    let mut c = cfg(d.path());
    c.max_tags_per_series = 2;
    c.max_fields_per_measurement = 3;
    c.max_string_field_bytes = 8;
    let store = Store::open(c).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    let pt = |tags: &[(&str, &str)], fields: Vec<(&str, FieldValue)>| {
        Point::new(
            "m".into(),
            tags.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            1,
        )
    };
    let reason = |r: std::result::Result<(), Error>| match r.unwrap_err() {
        Error::PartialWrite { reason, dropped } => {
            assert_eq!(dropped, 1);
            reason
        }
        e => panic!("{e}"),
    };
    let ok = pt(&[("a", "1")], vec![("f1", FieldValue::Float(1.0))]);
    let many_tags = pt(
        &[("a", "1"), ("b", "2"), ("c", "3")],
        vec![("f1", FieldValue::Float(1.0))],
    );
    assert_eq!(
        reason(s.write_points(&[ok.clone(), many_tags])),
        "max-tags-per-series limit exceeded (3/2): measurement=\"m\""
    );
    let long = pt(
        &[("a", "1")],
        vec![("s", FieldValue::String("123456789".into()))],
    );
    assert_eq!(
        reason(s.write_points(std::slice::from_ref(&long))),
        "input field \"s\" on measurement \"m\" is too long, 9 > 8"
    );
    s.write_points(&[pt(
        &[("a", "1")],
        vec![("s", FieldValue::String("12345678".into()))],
    )])
    .unwrap();
    // Also when the series and field exist (the write path's fast lane).
    assert_eq!(
        reason(s.write_points(std::slice::from_ref(&long))),
        "input field \"s\" on measurement \"m\" is too long, 9 > 8"
    );
    s.write_points(&[pt(&[("a", "1")], vec![("f2", FieldValue::Float(1.0))])])
        .unwrap();
    // f1, s, f2 exist: a fourth field is refused, known ones still land.
    assert_eq!(
        reason(s.write_points(&[
            pt(&[("a", "1")], vec![("f4", FieldValue::Float(1.0))]),
            pt(&[("a", "1")], vec![("f2", FieldValue::Float(2.0))]),
        ])),
        "max-fields-per-measurement limit exceeded (3/3): measurement=\"m\""
    );
    assert_eq!(s.fields("m").len(), 3);
}

/// Reads (times, float values) newest first through `read_desc`.
fn read_desc_floats(s: &Shard, host: &str, range: TimeRange) -> (Vec<i64>, Vec<f64>) {
    let id = series_id(s, host);
    let (mut times, mut vals) = (Vec::new(), Vec::new());
    for b in s.read_desc(id, "value", range).unwrap() {
        let b = b.unwrap();
        assert!(!b.times.is_empty() && b.times.len() <= 1000);
        times.extend_from_slice(&b.times);
        let Column::Float(v) = b.values else {
            panic!("type")
        };
        vals.extend(v);
    }
    (times, vals)
}

#[test]
fn descending_reads_mirror_ascending_reads_across_files_and_cache() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    // Two files and the cache, disjoint in time; then an overlapping
    // overwrite that forces the merged path.
    let batch = |from: i64, to: i64| -> Vec<Point> {
        (from..to).map(|i| fpt("a", i as f64, i * 10)).collect()
    };
    s.write_points(&batch(0, 1500)).unwrap();
    s.flush().unwrap();
    s.write_points(&batch(1500, 2600)).unwrap();
    s.flush().unwrap();
    s.write_points(&batch(2600, 3000)).unwrap();
    for range in [TimeRange::ALL, TimeRange::new(5_005, 27_000)] {
        let (asc_t, asc_v) = read_all(&s, "a", "value", range);
        let Column::Float(asc_v) = asc_v else {
            panic!()
        };
        let (t, v) = read_desc_floats(&s, "a", range);
        let rev_t: Vec<i64> = asc_t.iter().rev().copied().collect();
        let rev_v: Vec<f64> = asc_v.iter().rev().copied().collect();
        assert_eq!(t, rev_t);
        assert_eq!(v, rev_v);
    }
    s.write_points(&[fpt("a", -5.0, 14_990)]).unwrap();
    let (t, v) = read_desc_floats(&s, "a", TimeRange::ALL);
    assert_eq!(t.len(), 3000);
    assert!(t.windows(2).all(|w| w[0] > w[1]), "strictly descending");
    let at = t.iter().position(|&x| x == 14_990).unwrap();
    assert_eq!(v[at], -5.0);
    // The first block holds the newest value.
    let id = series_id(&s, "a");
    let first = s
        .read_desc(id, "value", TimeRange::ALL)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(first.times[0], 29_990);
}

#[test]
fn l11_replay_counts_points_of_series_missing_from_the_index() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("data/db/rp/1/index.log");
    let len_with_a = {
        let store = Store::open(cfg(d.path())).unwrap();
        let s = store.create_shard("db", "rp", 1).unwrap();
        s.write_points(&[fpt("a", 1.0, 1)]).unwrap();
        let len = std::fs::metadata(&log).unwrap().len();
        let pts: Vec<Point> = (0..5).map(|i| fpt("b", 1.0, i)).collect();
        s.write_points(&pts).unwrap();
        store.crash();
        len
    };
    // index.log loses its last record (series b) at a record boundary
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(len_with_a)
        .unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    let s = store.shard(1).unwrap();
    assert_eq!(s.series_count(), 1);
    assert_eq!(s.statistics().wal_replay_dropped_points, 5);
    assert_eq!(read_all(&s, "a", "value", TimeRange::ALL).0, vec![1]);
}

#[test]
fn l12_a_shard_that_fails_to_open_is_reported_and_refused() {
    let d = tempfile::tempdir().unwrap();
    let path = {
        let store = Store::open(cfg(d.path())).unwrap();
        for id in [1, 2] {
            let s = store.create_shard("db", "rp", id).unwrap();
            s.write_points(&[fpt("a", 1.0, 1)]).unwrap();
            s.flush().unwrap();
        }
        let p = store.shard(1).unwrap().state.read().files[0].path.clone();
        p
    };
    let mut data = std::fs::read(&path).unwrap();
    let n = data.len();
    data[n - 45] ^= 0x55;
    std::fs::write(&path, &data).unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    let failed = store.failed_shards();
    assert_eq!(failed.len(), 1);
    let f = &failed[0];
    assert_eq!((f.id, &*f.database, &*f.retention_policy), (1, "db", "rp"));
    assert_eq!(f.path, d.path().join("data/db/rp/1"));
    assert!(f.error.contains("corrupt file"), "{}", f.error);
    // the healthy shard is served; the failed one is an error, not "no data"
    assert!(store.try_shard(2).unwrap().is_some());
    assert!(store.try_shard(3).unwrap().is_none());
    let unavailable = |e: Error| {
        let text = e.to_string();
        assert!(
            text.starts_with("shard 1 is unavailable: corrupt file"),
            "{text}"
        );
    };
    unavailable(store.try_shard(1).err().unwrap());
    unavailable(store.create_shard("db", "rp", 1).err().unwrap());
    // an explicit delete removes the damaged shard's files and the report
    store.delete_shard(1).unwrap();
    assert!(store.failed_shards().is_empty());
    assert!(!d.path().join("data/db/rp/1").exists());
    assert!(!d.path().join("wal/db/rp/1").exists());
    assert!(store.try_shard(1).unwrap().is_none());
}

#[test]
fn digests_are_equal_exactly_when_contents_are() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(cfg(d.path())).unwrap();
    let a = store.create_shard("db", "rp", 1).unwrap();
    let b = store.create_shard("db", "rp", 2).unwrap();
    let pts: Vec<Point> = (0..50)
        .map(|i| fpt(&format!("h{}", i % 3), i as f64, i))
        .collect();
    a.write_points(&pts).unwrap();
    // The same points in another order and batching.
    for chunk in pts.iter().rev().cloned().collect::<Vec<_>>().chunks(7) {
        b.write_points(chunk).unwrap();
    }
    let (da, db) = (a.digest().unwrap(), b.digest().unwrap());
    assert_eq!(da, db);
    assert_eq!(da.values, 50);
    assert_eq!(da.series.len(), 3);
    // Flushed to data files, still equal.
    a.flush().unwrap();
    assert_eq!(a.digest().unwrap(), db);
    // One value differs: the digest differs.
    b.write_points(&[fpt("h0", 1000.0, 0)]).unwrap();
    assert_ne!(b.digest().unwrap().checksum, da.checksum);
}
