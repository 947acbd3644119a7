//! Every acknowledged write survives `kill -9` of the process that took it:
//! writers stream batches over HTTP, the server is killed mid-stream,
//! restarted, and every acknowledged point must be read back with its value.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Influxd;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const WRITERS: usize = 4;
const BATCH: usize = 200;
const BASE_TIME: i64 = 1_600_000_000_000_000_000;

#[derive(Default)]
struct History {
    acked: Vec<i64>,
    unknown: Vec<i64>,
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Influxd::start_in(dir.path(), "");
    assert_eq!(node.query("CREATE DATABASE db", "").status, 200);
    let url = node.url();
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let url = url.clone();
        let stop = stop.clone();
        handles.push(std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .into();
            let mut h = History::default();
            let mut seq = 0i64;
            // Bounded: at most 500 batches per writer.
            for _ in 0..500 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let mut body = String::new();
                let first = seq;
                for _ in 0..BATCH {
                    body.push_str(&format!("m,w={w} v={seq}i {}\n", BASE_TIME + seq));
                    seq += 1;
                }
                let range = first..seq;
                match agent
                    .post(format!("{url}/write?db=db"))
                    .send(body.as_bytes())
                {
                    Ok(r) if r.status().as_u16() == 204 => h.acked.extend(range),
                    Ok(r) => panic!("unexpected status {}", r.status()),
                    Err(_) => {
                        h.unknown.extend(range);
                        break;
                    }
                }
            }
            h
        }));
    }
    // Let the writers get going, then kill without warning.
    std::thread::sleep(Duration::from_millis(1500));
    node.kill9();
    stop.store(true, Ordering::Relaxed);
    let histories: Vec<History> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let total_acked: usize = histories.iter().map(|h| h.acked.len()).sum();
    assert!(total_acked > 0, "no write was acknowledged before the kill");

    node.restart();
    for (w, h) in histories.iter().enumerate() {
        let r = node.query(
            &format!("SELECT v FROM m WHERE w = '{w}'"),
            "db=db&epoch=ns",
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let j = r.json();
        let rows = j["results"][0]["series"][0]["values"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let stored: BTreeMap<i64, i64> = rows
            .iter()
            .map(|row| (row[0].as_i64().unwrap(), row[1].as_i64().unwrap()))
            .collect();
        let missing: Vec<i64> = h
            .acked
            .iter()
            .filter(|s| stored.get(&(BASE_TIME + **s)) != Some(s))
            .copied()
            .collect();
        assert!(
            missing.is_empty(),
            "writer {w}: {} acknowledged points missing, first {:?}",
            missing.len(),
            missing.first()
        );
        // Nothing that was never sent appears; unknown-outcome points may.
        let sent = h.acked.len() + h.unknown.len();
        assert!(
            stored.len() <= sent,
            "writer {w}: {} stored > {} sent",
            stored.len(),
            sent
        );
        for (t, v) in &stored {
            assert_eq!(*t - BASE_TIME, *v, "writer {w}: corrupt point");
        }
    }
}

#[test]
fn clean_restart_keeps_data_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Influxd::start_in(dir.path(), "");
    assert_eq!(node.query("CREATE DATABASE db", "").status, 200);
    assert_eq!(
        node.query(
            "CREATE RETENTION POLICY week ON db DURATION 7d REPLICATION 1",
            ""
        )
        .status,
        200
    );
    let body: String = (0..1000)
        .map(|i| {
            format!(
                "cpu,host=h{} usage={}.5,count={i}i,ok=true,s=\"v{i}\" {}\n",
                i % 10,
                i,
                BASE_TIME + i
            )
        })
        .collect();
    assert_eq!(node.write("db=db", &body).status, 204);
    node.stop();
    node.restart();
    let r = node.query("SHOW RETENTION POLICIES ON db", "");
    assert!(r.body.contains("\"week\""), "{}", r.body);
    let r = node.query("SHOW TAG VALUES FROM cpu WITH KEY = host", "db=db");
    assert_eq!(
        r.json()["results"][0]["series"][0]["values"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    let r = node.query("SELECT count(usage), sum(count) FROM cpu", "db=db");
    assert_eq!(r.status, 200, "{}", r.body);
    let row = &r.json()["results"][0]["series"][0]["values"][0];
    assert_eq!(
        (&row[1], &row[2]),
        (&serde_json::json!(1000), &serde_json::json!(499500))
    );
    let r = node.query(
        "SELECT s, ok FROM cpu WHERE host = 'h3' LIMIT 1",
        "db=db&epoch=ns",
    );
    assert_eq!(
        r.json()["results"][0]["series"][0]["values"][0],
        serde_json::json!([BASE_TIME + 3, "v3", true])
    );
}

/// Audit C1: changing only the RPC `bind-address` (InfluxDB's docs recommend
/// binding it to loopback) used to make the node register as a new node, and
/// the first retention tick then deleted every shard.
#[test]
fn c1_changed_bind_address_keeps_every_shard() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Influxd::start_in(dir.path(), "[retention]\n  check-interval = \"100ms\"\n");
    assert_eq!(node.query("CREATE DATABASE db", "").status, 200);
    // Two weeks apart: two shard groups.
    let body = format!(
        "cpu,host=a v=1 {}\ncpu,host=b v=2 {}\n",
        BASE_TIME,
        BASE_TIME + 14 * 24 * 3600 * 1_000_000_000
    );
    assert_eq!(node.write("db=db", &body).status, 204);
    node.stop();
    let port = node
        .rpc_bind_address()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    node.set_rpc_bind_address(&format!(":{port}"));
    node.restart();
    // Several retention ticks.
    std::thread::sleep(std::time::Duration::from_millis(800));
    let r = node.query("SELECT count(v) FROM cpu", "db=db");
    assert_eq!(
        r.json()["results"][0]["series"][0]["values"][0][1],
        serde_json::json!(2),
        "{}\n{}",
        r.body,
        node.log()
    );
    assert!(
        !node.log().contains("deleting shard"),
        "retention deleted a shard: {}",
        node.log()
    );
    assert_eq!(node.write("db=db", "cpu,host=c v=3 1").status, 204);
    let vars = node.request("GET", "/debug/vars", &[], b"").json();
    assert_eq!(vars["retention"]["values"]["unplacedShards"], 0, "{vars}");
}

/// L12: a shard that fails to open at startup is reported loudly (error
/// log, `/health` "fail" with 503, `/debug/vars`) and the queries and
/// writes that need it fail naming it, instead of serving partial data.
#[test]
fn l12_failed_shard_is_reported_and_never_served_partially() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Influxd::start_in(dir.path(), "");
    assert_eq!(node.query("CREATE DATABASE db", "").status, 200);
    let body = format!(
        "cpu,host=a v=1 {}\ncpu,host=b v=2 {}\n",
        BASE_TIME,
        BASE_TIME + 14 * 24 * 3600 * 1_000_000_000
    );
    assert_eq!(node.write("db=db", &body).status, 204);
    node.stop();
    let rp_dir = dir.path().join("data/db/autogen");
    let mut ids: Vec<u64> = std::fs::read_dir(&rp_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), 2);
    // damage the later shard's series index in the middle
    let log = rp_dir.join(ids[1].to_string()).join("index.log");
    let mut data = std::fs::read(&log).unwrap();
    data[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&log, &data).unwrap();
    node.restart();
    assert!(node.log().contains("SHARD UNAVAILABLE"), "{}", node.log());
    let r = node.request("GET", "/health", &[], b"");
    assert_eq!(r.status, 503, "{}", r.body);
    let h = r.json();
    assert_eq!(h["status"], "fail");
    let msg = h["message"].as_str().unwrap();
    assert!(msg.contains(&format!("shard {}", ids[1])), "{msg}");
    let vars = node.request("GET", "/debug/vars", &[], b"").json();
    assert_eq!(vars["tsdb"]["values"]["failedShards"], 1, "{vars}");
    let f = &vars[format!("failed_shard:{}", ids[1]).as_str()];
    assert!(
        f["values"]["error"]
            .as_str()
            .unwrap()
            .contains("corrupt file"),
        "{vars}"
    );
    let r = node.query("SELECT count(v) FROM cpu", "db=db");
    let err = r.json()["results"][0]["error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        err.starts_with(&format!("shard {} is unavailable", ids[1])),
        "{}",
        r.body
    );
    let late = format!(
        "cpu,host=c v=3 {}\n",
        BASE_TIME + 14 * 24 * 3600 * 1_000_000_000 + 1
    );
    let r = node.write("db=db", &late);
    assert!(r.status >= 500, "{} {}", r.status, r.body);
    assert!(r.body.contains("is unavailable"), "{}", r.body);
    // the healthy shard still answers alone when only it is needed
    let r = node.query(
        "SELECT count(v) FROM cpu WHERE time < '2020-09-14T00:00:00Z'",
        "db=db",
    );
    assert_eq!(
        r.json()["results"][0]["series"][0]["values"][0][1],
        serde_json::json!(1),
        "{}",
        r.body
    );
}
