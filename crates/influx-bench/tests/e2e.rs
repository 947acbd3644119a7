//! `influx-bench` end to end against a real `influxd` started by testrig:
//! every generated point becomes visible, every query type runs without
//! error, the JSON output carries the figures, and `generate` is
//! deterministic.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::process::Command;
use testrig::node::Role;
use testrig::{NodeHandle, NodeSpec};

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_influx-bench"))
}

#[test]
fn loads_everything_and_runs_every_query_type() {
    let root = tempfile::tempdir().unwrap();
    let spec = NodeSpec::influxd(testrig::find_binary("influxd").unwrap());
    let node = NodeHandle::start_standalone("data-1", Role::Data, spec, root.path()).unwrap();
    let out = bench()
        .args([
            "run",
            "--url",
            &node.url(),
            "--scale",
            "8",
            "--duration",
            "13h",
            "--interval",
            "120s",
        ])
        .args([
            "--workers",
            "2",
            "--batch-size",
            "1000",
            "--repeats",
            "2",
            "--consistency",
            "one",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.log_tail(30)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = 8 * 13 * 30;
    assert_eq!(v["dataset"]["points"], points);
    assert_eq!(v["load"]["points"], points);
    assert_eq!(v["load"]["visible_points"], points, "{v}");
    assert_eq!(v["load"]["errors"], 0);
    assert!(v["load"]["points_per_s"].as_f64().unwrap() > 0.0);
    let queries = v["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 15, "{v}");
    for q in queries {
        assert_eq!(q["errors"], 0, "{q}");
        assert_eq!(q["queries"], 2);
        assert!(q["latency"]["median_ms"].as_f64().unwrap() > 0.0, "{q}");
    }
    let lastpoint = queries
        .iter()
        .find(|q| q["query_type"] == "lastpoint")
        .unwrap();
    assert_eq!(lastpoint["rows"], 2 * 8, "one row per host per query");

    // The table form of the query phase alone.
    let out = bench()
        .args([
            "query",
            "--url",
            &node.url(),
            "--scale",
            "8",
            "--duration",
            "13h",
            "--interval",
            "120s",
        ])
        .args(["--queries", "single-groupby-1-1-1", "--repeats", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("median ms") && table.contains("p95 ms") && table.contains("p99 ms"),
        "{table}"
    );
    assert!(table.contains("single-groupby-1-1-1       3"), "{table}");
}

#[test]
fn streaming_plain_load_without_consistency() {
    let root = tempfile::tempdir().unwrap();
    let spec = NodeSpec::influxd(testrig::find_binary("influxd").unwrap());
    let node = NodeHandle::start_standalone("data-1", Role::Data, spec, root.path()).unwrap();
    let out = bench()
        .args([
            "load",
            "--url",
            &node.url(),
            "--db",
            "other",
            "--scale",
            "3",
            "--duration",
            "1h",
        ])
        .args([
            "--stream",
            "--no-gzip",
            "--consistency",
            "none",
            "--batch-size",
            "333",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["load"]["visible_points"], 3 * 360, "{v}");
    assert_eq!(v["load"]["gzip"], false);
    assert_eq!(v["load"]["prepare_s"], 0.0);
    assert_eq!(v["load"]["sent_bytes"], v["load"]["raw_bytes"]);
    assert_eq!(v["load"]["batches"], 4); // 1080 points / 333
    assert!(v["queries"].as_array().unwrap().is_empty());
}

#[test]
fn generate_is_deterministic() {
    let run = |seed: &str| {
        let out = bench()
            .args([
                "generate",
                "--scale",
                "3",
                "--duration",
                "1m",
                "--seed",
                seed,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let a = run("5");
    assert_eq!(a.lines().count(), 18);
    assert_eq!(a, run("5"));
    assert_ne!(a, run("6"));
}

#[test]
fn unreachable_server_is_a_clear_error() {
    let port = testrig::ports::free_port().unwrap();
    let out = bench()
        .args([
            "load",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--scale",
            "1",
            "--duration",
            "1m",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("influx-bench: GET http://127.0.0.1:"),
        "{err}"
    );
}
