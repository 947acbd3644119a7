//! Hostile queries against the real `influxd` binary (issue 10, audit H3):
//! the statement that aborted the process with a stack overflow is answered
//! with InfluxDB's 400, and the node keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{encode, Influxd};

#[test]
fn h3_three_thousand_nested_subqueries_get_a_400_and_the_node_lives() {
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(dir.path(), "");
    assert_eq!(n.query("CREATE DATABASE db", "").status, 200);
    assert_eq!(n.write("db=db", "m v=1 1").status, 204);
    // The audit's reproducer: 3,000 levels (~45 KB), sent as a form body.
    let mut q = "SELECT v FROM m".to_string();
    for _ in 0..3_000 {
        q = format!("SELECT v FROM ({q})");
    }
    let body = format!("q={}&db=db", encode(&q));
    let r = n.request(
        "POST",
        "/query",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let err = r.json()["error"].as_str().unwrap().to_string();
    assert!(
        err.starts_with("error parsing query: subqueries nested too deeply (limit 32)"),
        "{err}"
    );
    // Still alive and answering.
    assert_eq!(n.request("GET", "/ping", &[], b"").status, 204);
    let r = n.query("SELECT count(v) FROM m", "db=db");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["results"][0]["series"][0]["values"][0][1], 1);
    // 32 levels, the limit, answer rows.
    let mut q = "SELECT v FROM m".to_string();
    for _ in 0..32 {
        q = format!("SELECT v FROM ({q})");
    }
    let r = n.query(&q, "db=db");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["results"][0]["series"][0]["values"][0][1], 1.0);
}
