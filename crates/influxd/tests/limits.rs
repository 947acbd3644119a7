//! Cardinality and size limits through the real `influxd` (audit M7): the
//! series limit holds for the database as a whole over its shard groups,
//! and over-long strings are refused with InfluxDB's partial-write answer
//! while the rest of the batch lands.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Influxd;

const WEEK: i64 = 7 * 24 * 3600 * 1_000_000_000;

#[test]
fn m7_series_limit_holds_for_the_database_across_shard_groups() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Influxd::start_in(dir.path(), "");
    node.stop();
    let conf = std::fs::read_to_string(&node.config).unwrap();
    let conf = conf.replace("[data]\n", "[data]\n  max-series-per-database = 2\n");
    std::fs::write(&node.config, conf).unwrap();
    node.restart();
    assert_eq!(node.query("CREATE DATABASE db", "").status, 200);
    // Two series in one week's group, the same two in the next: 2 in all.
    let body = format!(
        "cpu,host=a v=1 {t0}\ncpu,host=b v=1 {t0}\ncpu,host=a v=2 {t1}\ncpu,host=b v=2 {t1}\n",
        t0 = 100 * WEEK,
        t1 = 101 * WEEK
    );
    assert_eq!(node.write("db=db", &body).status, 204);
    // A third series in a third group is over the database's limit.
    let r = node.write("db=db", &format!("cpu,host=c v=3 {}", 102 * WEEK));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.json()["error"],
        "partial write: max-series-per-database limit exceeded: (2) dropped=1"
    );
    let r = node.query("SELECT count(v) FROM cpu", "db=db");
    assert_eq!(r.json()["results"][0]["series"][0]["values"][0][1], 4);
}

#[test]
fn m7_string_field_longer_than_64kb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let node = Influxd::start_in(dir.path(), "");
    assert_eq!(node.query("CREATE DATABASE db", "").status, 200);
    let long = "x".repeat(64 * 1024 + 1);
    let body = format!("m s=\"{long}\" 1\nm s=\"short\" 2\n");
    let r = node.write("db=db", &body);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.json()["error"],
        "partial write: input field \"s\" on measurement \"m\" is too long, 65537 > 65536 dropped=1"
    );
    let r = node.query("SELECT s FROM m", "db=db");
    assert_eq!(
        r.json()["results"][0]["series"][0]["values"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
