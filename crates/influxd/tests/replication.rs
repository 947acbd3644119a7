//! Replicated writes through the real binaries: one meta node and data
//! nodes joined to it, a database with replication factor 2, writes to one
//! node at each consistency level while the other owner is up, killed with
//! `kill -9`, or cut off by the test rig's proxy; hinted handoff delivers
//! what the owner missed once it is back, and both copies end identical.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};
use testrig::{Cluster, ClusterBuilder, NodeSpec};

const DATA_CONFIG: &str = r#"reporting-disabled = true
bind-address = "{{addr.rpc}}"
hostname = "{{host}}"

[meta]
  dir = "{{dir}}/meta"
  meta-servers = [{{peers.meta.http}}]

[data]
  dir = "{{dir}}/data"
  wal-dir = "{{dir}}/wal"

[hinted-handoff]
  dir = "{{dir}}/hh"
  retry-interval = "100ms"
  retry-max-interval = "500ms"

[cluster]
  write-timeout = "2s"
  dial-timeout = "500ms"
  dial-overrides = { {{dial_map}} }

[http]
  bind-address = "{{addr.http}}"
"#;

fn cluster(data: usize) -> Cluster {
    let meta = NodeSpec::influxd_meta(testrig::find_binary("influxd-meta").expect("influxd-meta"))
        .with_args(["run", "-single-server", "-config", "{{config}}"]);
    let data_spec = NodeSpec::influxd(testrig::find_binary("influxd").expect("influxd"))
        .with_config(DATA_CONFIG);
    ClusterBuilder::new()
        .meta(1, meta)
        .data(data, data_spec)
        .proxy_links(true)
        .start()
        .expect("start the cluster")
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `(count, sum)` of field v in measurement m as the node's own shards hold
/// it (queries are not distributed yet: each node answers from its copy).
fn local_copy(c: &Cluster, node: &str) -> (i64, i64) {
    let r = c
        .node(node)
        .unwrap()
        .client()
        .unwrap()
        .query(Some("db"), "SELECT count(v), sum(v) FROM m", "")
        .unwrap();
    let j = r.json().unwrap();
    let row = &j["results"][0]["series"][0]["values"][0];
    (row[1].as_i64().unwrap_or(0), row[2].as_i64().unwrap_or(0))
}

/// Each local shard's (id, values, checksum) on `node`, by id.
fn digests(c: &Cluster, node: &str) -> Vec<(u64, u64, String)> {
    let j = c
        .node(node)
        .unwrap()
        .client()
        .unwrap()
        .get("/debug/shard-digest")
        .unwrap()
        .json()
        .unwrap();
    let mut out: Vec<(u64, u64, String)> = j["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_u64().unwrap(),
                s["values"].as_u64().unwrap(),
                s["checksum"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn write(c: &Cluster, node: &str, consistency: &str, from: i64, n: i64) -> (u16, String) {
    let body: String = (from..from + n)
        .map(|i| format!("m,k=s{} v={i}i {}\n", i % 7, 1_600_000_000_000_000_000 + i))
        .collect();
    let r = c
        .node(node)
        .unwrap()
        .client()
        .unwrap()
        .write("db", &format!("consistency={consistency}"), &body)
        .unwrap();
    (r.status, r.body)
}

#[test]
fn rf2_writes_reach_both_owners_and_hinted_handoff_fills_the_gap() {
    let mut c = cluster(2);
    let a = c.node("data-1").unwrap().client().unwrap();
    let r = a
        .query(None, "CREATE DATABASE db WITH REPLICATION 2", "")
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    // Both nodes see the database (it lives in the meta cluster).
    wait_until("the database on data-2", Duration::from_secs(10), || {
        let r = c
            .node("data-2")
            .unwrap()
            .client()
            .unwrap()
            .query(None, "SHOW DATABASES", "")
            .unwrap();
        r.body.contains("\"db\"")
    });

    // Both up: every level succeeds and both copies hold the points.
    let mut total = (0i64, 0i64);
    let mut from = 0;
    for level in ["any", "one", "quorum", "all"] {
        let (status, body) = write(&c, "data-1", level, from, 100);
        assert_eq!(status, 204, "{level}: {body}");
        total.0 += 100;
        total.1 += (from..from + 100).sum::<i64>();
        from += 100;
    }
    wait_until("both copies complete", Duration::from_secs(10), || {
        local_copy(&c, "data-1") == total && local_copy(&c, "data-2") == total
    });

    // data-2 killed: one and any succeed (data-1 writes, data-2's copy
    // waits in hinted handoff); quorum and all cannot be met.
    c.node_mut("data-2").unwrap().kill9().unwrap();
    for level in ["one", "any"] {
        let (status, body) = write(&c, "data-1", level, from, 50);
        assert_eq!(status, 204, "{level} with the other owner down: {body}");
        total.0 += 50;
        total.1 += (from..from + 50).sum::<i64>();
        from += 50;
    }
    for level in ["quorum", "all"] {
        let (status, body) = write(&c, "data-1", level, from, 50);
        assert_eq!(status, 500, "{level} with the other owner down: {body}");
        assert!(body.contains("partial write"), "{level}: {body}");
        // data-1 wrote them anyway, and queued them for data-2.
        total.0 += 50;
        total.1 += (from..from + 50).sum::<i64>();
        from += 50;
    }
    assert_eq!(local_copy(&c, "data-1"), total);
    let vars = c
        .node("data-1")
        .unwrap()
        .client()
        .unwrap()
        .get("/debug/vars")
        .unwrap()
        .json()
        .unwrap();
    assert!(
        vars["write"]["values"]["pointReqHH"].as_i64().unwrap() >= 200,
        "{}",
        vars["write"]
    );

    // data-2 back: hinted handoff delivers; both copies identical.
    c.node_mut("data-2").unwrap().start().unwrap();
    wait_until("hinted handoff to drain", Duration::from_secs(30), || {
        local_copy(&c, "data-2") == total
    });
    assert_eq!(local_copy(&c, "data-1"), total);

    // Partitioned (the proxy drops data-1 -> data-2): the same answers.
    c.partition("data-1", "data-2").unwrap();
    let (status, body) = write(&c, "data-1", "one", from, 30);
    assert_eq!(status, 204, "{body}");
    total.0 += 30;
    total.1 += (from..from + 30).sum::<i64>();
    from += 30;
    let (status, body) = write(&c, "data-1", "all", from, 30);
    assert_eq!(status, 500, "{body}");
    total.0 += 30;
    total.1 += (from..from + 30).sum::<i64>();
    c.heal_all();
    wait_until(
        "hinted handoff after the partition",
        Duration::from_secs(30),
        || local_copy(&c, "data-2") == total,
    );
    assert_eq!(local_copy(&c, "data-1"), total);
    // The owners' shards compared directly: same values, same checksums.
    let (d1, d2) = (digests(&c, "data-1"), digests(&c, "data-2"));
    assert!(!d1.is_empty());
    assert_eq!(d1, d2);
    assert_eq!(d1.iter().map(|d| d.1).sum::<u64>(), total.0 as u64);
}
