//! End-to-end tests of the HTTP API against the real `influxd` binary:
//! /ping, /health, and /write's status codes and InfluxDB 1.x error texts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Influxd;
use std::io::Write;

fn started(extra: &str) -> (tempfile::TempDir, Influxd) {
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(dir.path(), extra);
    (dir, n)
}

#[test]
fn ping_and_health_answer_like_influxdb() {
    let (_d, n) = started("");
    let r = n.request("GET", "/ping", &[], b"");
    assert_eq!(r.status, 204);
    assert!(r.header("x-influxdb-version").is_some());
    assert!(r.header("request-id").is_some());
    let r = n.request("GET", "/ping?verbose=true", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.json()["version"].is_string());
    let r = n.request("GET", "/health", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "pass");
}

#[test]
fn write_errors_use_influxdb_status_and_text() {
    let (_d, n) = started("  max-body-size = 200\n");
    let r = n.query("CREATE DATABASE db", "");
    assert_eq!(r.status, 200, "{}", r.body);

    let r = n.write("", "cpu v=1");
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("database is required"))
    );

    let r = n.write("db=nope", "cpu v=1");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "database not found: \"nope\"");
    assert_eq!(
        r.header("x-influxdb-error"),
        Some("database not found: \"nope\"")
    );

    let r = n.write("db=db&consistency=most", "cpu v=1");
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid consistency level"))
    );

    let r = n.write("db=db&precision=fortnight", "cpu v=1");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .starts_with("invalid precision"));

    let r = n.write("db=db&rp=nope", "cpu v=1");
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["error"], "retention policy not found: nope");

    let r = n.write("db=db", "cpu");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unable to parse 'cpu': missing fields");

    let r = n.write("db=db", "cpu v=1 10\ncpu\ncpu x= 10");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"],
        "partial write: unable to parse 'cpu': missing fields\nunable to parse 'cpu x= 10': missing field value dropped=0"
    );

    let r = n.write("db=db", "cpu v=1i 20");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"],
        "partial write: field type conflict: input field \"v\" on measurement \"cpu\" is type integer, already exists as type float dropped=1"
    );

    let big = "cpu v=1\n".repeat(40);
    let r = n.write("db=db", &big);
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"], "http: request body too large");

    let r = n.request(
        "POST",
        "/write?db=db",
        &[("Content-Encoding", "gzip")],
        b"cpu v=1",
    );
    assert_eq!(r.status, 400);

    // A valid gzip body is accepted, and the empty body is a no-op.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"cpu v=2 30\n").unwrap();
    let gz = enc.finish().unwrap();
    let r = n.request("POST", "/write?db=db", &[("Content-Encoding", "gzip")], &gz);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(n.write("db=db", "").status, 204);

    // Nothing accepted was lost to the bad requests around it.
    let r = n.query("SELECT v FROM cpu", "db=db&epoch=ns");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["results"][0]["series"][0]["values"],
        serde_json::json!([[10, 1], [30, 2]])
    );
}

#[test]
fn config_command_prints_parseable_defaults() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_influxd"))
        .arg("config")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for section in [
        "[meta]",
        "[data]",
        "[http]",
        "[retention]",
        "[hinted-handoff]",
        "[continuous_queries]",
        "[cluster]",
    ] {
        assert!(text.contains(section), "missing {section} in:\n{text}");
    }
    assert!(text.contains("wal-fsync-delay"));
    assert!(text.contains("bind-address = \":8086\""));
}

#[test]
fn debug_vars_and_pprof_answer() {
    let (_d, n) = started("");
    assert_eq!(n.query("CREATE DATABASE db", "").status, 200);
    assert_eq!(n.write("db=db", "cpu v=1 1\ncpu v=2 2").status, 204);
    let r = n.request("GET", "/debug/vars", &[], b"");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["write"]["values"]["pointReq"], 2);
    assert!(v["memstats"]["Sys"].as_u64().unwrap() > 0);
    let shard = v
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("shard:"))
        .map(|(_, s)| s.clone())
        .expect("a shard entry");
    assert_eq!(shard["tags"]["database"], "db");
    assert_eq!(shard["values"]["writePointsOk"], 2);
    let r = n.request("GET", "/debug/pprof/profile?seconds=1", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(&r.bytes[..2], &[0x1f, 0x8b], "a gzipped pprof profile");
    let r = n.request("GET", "/debug/pprof/heap", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(&r.bytes[..2], &[0x1f, 0x8b], "a gzipped pprof heap profile");
}

#[test]
fn https_enabled_is_refused_rather_than_served_in_clear_text() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("influxdb.conf");
    std::fs::write(
        &conf,
        format!(
            "[meta]\n  dir = \"{d}/meta\"\n[data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n[http]\n  bind-address = \"127.0.0.1:0\"\n  https-enabled = true\n",
            d = dir.path().display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_influxd"))
        .args(["run", "-config"])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("https-enabled"), "{err}");
}

/// `chunked=true` streams: 120,000 rows arrive as lines of `chunk_size`
/// rows with InfluxDB's partial flags, the same rows as the whole answer,
/// and a following statement answers after them.
#[test]
fn chunked_answers_stream_the_same_rows() {
    let (_d, n) = started("");
    assert_eq!(n.query("CREATE DATABASE db0", "").status, 200);
    let mut body = String::new();
    for i in 0..120_000 {
        body.push_str(&format!("m,host=h{} v={i} {}\n", i % 3, 946_684_800 + i));
    }
    assert_eq!(n.write("db=db0&precision=s", &body).status, 204);
    let q = "SELECT v FROM m WHERE time >= '2000-01-01T00:00:00Z'; SELECT count(v) FROM m";
    let whole = n.query(q, "db=db0&epoch=s");
    let whole_rows = whole.json()["results"][0]["series"][0]["values"].clone();
    assert_eq!(whole_rows.as_array().map(Vec::len), Some(120_000));
    let chunked = n.query(q, "db=db0&epoch=s&chunked=true&chunk_size=7000");
    assert_eq!(chunked.status, 200);
    let lines: Vec<serde_json::Value> = chunked
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // ceil(120000 / 7000) = 18 lines of rows, then the count.
    assert_eq!(lines.len(), 19, "{} lines", lines.len());
    let mut rows = Vec::new();
    for (i, l) in lines[..18].iter().enumerate() {
        let r = &l["results"][0];
        let s = &r["series"][0];
        let last = i == 17;
        assert_eq!(s["partial"].as_bool().unwrap_or(false), !last, "line {i}");
        assert_eq!(r["partial"].as_bool().unwrap_or(false), !last, "line {i}");
        rows.extend(s["values"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(serde_json::Value::Array(rows), whole_rows);
    assert_eq!(lines[18]["results"][0]["statement_id"], 1);
    assert_eq!(
        lines[18]["results"][0]["series"][0]["values"][0][1],
        120_000
    );
}

/// SHOW DIAGNOSTICS and SHOW STATS report the running node: InfluxDB's
/// module names and columns, this node's configuration and counters.
#[test]
fn diagnostics_and_stats_describe_the_node() {
    let (d, n) = started("");
    let r = n.query("SHOW DIAGNOSTICS", "");
    let series = r.json()["results"][0]["series"].clone();
    let names: Vec<&str> = series
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for m in [
        "build",
        "config",
        "config-coordinator",
        "config-data",
        "config-httpd",
        "network",
        "runtime",
        "system",
    ] {
        assert!(names.contains(&m), "{m} missing from {names:?}");
    }
    let r = n.query("SHOW DIAGNOSTICS FOR 'config-data'", "");
    let s = &r.json()["results"][0]["series"][0];
    let col = |name: &str| {
        let i = s["columns"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c == name)
            .unwrap();
        s["values"][0][i].clone()
    };
    let data_dir = d.path().join("data").display().to_string();
    assert_eq!(col("dir"), data_dir.as_str());
    let r = n.query("SHOW DIAGNOSTICS FOR 'system'", "");
    let pid = r.json()["results"][0]["series"][0]["values"][0][0].as_u64();
    assert!(pid.is_some_and(|p| p > 0));
    n.query("CREATE DATABASE db0", "");
    assert_eq!(n.write("db=db0", "m v=1").status, 204);
    let r = n.query("SHOW STATS FOR 'write'", "");
    let s = &r.json()["results"][0]["series"][0];
    assert_eq!(s["name"], "write");
    let i = s["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == "writeOk")
        .unwrap();
    assert_eq!(s["values"][0][i], 1);
    let r = n.query("SHOW STATS", "");
    let all = r.json()["results"][0]["series"].clone();
    assert!(all.as_array().unwrap().iter().any(|s| s["name"] == "shard"));
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "queryExecutor"));
}
