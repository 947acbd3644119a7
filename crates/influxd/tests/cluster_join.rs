//! `influxd-ctl add-data <TCP address>` as Enterprise does it, through the
//! real binaries: data nodes start standalone (no `[meta] meta-servers`),
//! the meta node reaches each on its cluster RPC address, the node reports
//! its HTTP address, records the meta servers and restarts as a member;
//! from then on its metadata is the cluster's. A node with data of its own
//! refuses; a passive node (`add-data -p`) owns no shards but takes writes
//! and forwards them to the owners.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use testrig::{Cluster, ClusterBuilder, NodeSpec};

/// A data node as `scripts/local-cluster` starts it: no meta servers.
const STANDALONE_DATA_CONFIG: &str = r#"reporting-disabled = true
bind-address = "{{addr.rpc}}"
hostname = "{{host}}"

[meta]
  dir = "{{dir}}/meta"
  meta-internal-shared-secret = "join-secret"

[data]
  dir = "{{dir}}/data"
  wal-dir = "{{dir}}/wal"

[hinted-handoff]
  dir = "{{dir}}/hh"
  retry-interval = "100ms"
  retry-max-interval = "500ms"

[cluster]
  write-timeout = "5s"

[http]
  bind-address = "{{addr.http}}"
"#;

/// The data nodes' `[meta] meta-internal-shared-secret`.
const SECRET: &str = "join-secret";

/// One meta node (`[meta] internal-shared-secret = meta_secret`) and `data`
/// standalone data nodes.
fn cluster_with_secret(data: usize, meta_secret: &str) -> Cluster {
    let meta = NodeSpec::influxd_meta(testrig::find_binary("influxd-meta").expect("influxd-meta"))
        .with_args(["run", "-single-server", "-config", "{{config}}"])
        // Appended to the template's last section, [meta].
        .with_extra_config(&format!("  internal-shared-secret = \"{meta_secret}\"\n"));
    let data_spec = NodeSpec::influxd(testrig::find_binary("influxd").expect("influxd"))
        .with_config(STANDALONE_DATA_CONFIG);
    ClusterBuilder::new()
        .meta(1, meta)
        .data(data, data_spec)
        .start()
        .expect("start the cluster")
}

fn cluster(data: usize) -> Cluster {
    cluster_with_secret(data, SECRET)
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `influxd-ctl -bind <meta-1> ARGS`: (success, stdout, stderr).
fn ctl(c: &Cluster, args: &[&str]) -> (bool, String, String) {
    let meta = c.node("meta-1").unwrap().addr("http").unwrap().to_string();
    let mut cmd = Command::new(testrig::find_binary("influxd-ctl").expect("influxd-ctl"));
    cmd.arg("-bind").arg(meta).args(args);
    let out = testrig::process::run_bounded(&mut cmd, Duration::from_secs(30)).unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rpc_addr(c: &Cluster, node: &str) -> String {
    c.node(node).unwrap().addr("rpc").unwrap().to_string()
}

/// `add-data` of `node`, then waits until it restarted as a member (it
/// records its new identity, `node.json`, once the meta nodes registered
/// it) and answers again.
fn add_data(c: &Cluster, node: &str, passive: bool) -> String {
    let addr = rpc_addr(c, node);
    let mut args = vec!["add-data"];
    if passive {
        args.push("-p");
    }
    args.push(&addr);
    let (ok, out, err) = ctl(c, &args);
    assert!(ok, "add-data {addr}: {out}{err}\n{}", c.logs(40));
    let meta_dir = c.node(node).unwrap().state_dir().join("meta");
    assert!(
        meta_dir.join("client.json").is_file(),
        "the joined node records its meta servers"
    );
    wait_until(
        &format!("{node} to restart as a member"),
        Duration::from_secs(30),
        || member_identity(&meta_dir) && c.node(node).unwrap().client().unwrap().ping().is_ok(),
    );
    out
}

fn member_identity(meta_dir: &Path) -> bool {
    std::fs::read(meta_dir.join("node.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v["cluster_id"].as_u64().unwrap_or(0) != 0)
}

fn query(c: &Cluster, node: &str, db: Option<&str>, q: &str) -> serde_json::Value {
    c.node(node)
        .unwrap()
        .client()
        .unwrap()
        .query(db, q, "")
        .unwrap()
        .json()
        .unwrap()
}

/// `count(v)` over the node's own shards (queries are not distributed yet).
fn local_count(c: &Cluster, node: &str) -> i64 {
    query(c, node, Some("db"), "SELECT count(v) FROM m")["results"][0]["series"][0]["values"][0][1]
        .as_i64()
        .unwrap_or(0)
}

fn local_shards(c: &Cluster, node: &str) -> usize {
    let j = c
        .node(node)
        .unwrap()
        .client()
        .unwrap()
        .get("/debug/shard-digest")
        .unwrap()
        .json()
        .unwrap();
    j["shards"].as_array().map_or(0, Vec::len)
}

#[test]
fn add_data_by_tcp_address_joins_standalone_nodes_and_a_passive_node_owns_no_shards() {
    let c = cluster(3);
    let first = add_data(&c, "data-1", false);
    assert!(
        first.starts_with("Added data node ") && first.contains(&rpc_addr(&c, "data-1")),
        "{first}"
    );
    add_data(&c, "data-2", false);
    let passive = add_data(&c, "data-3", true);
    assert!(passive.starts_with("Added passive data node "), "{passive}");
    // add-data again: the member answers, nothing changes.
    let (ok, again, err) = ctl(&c, &["add-data", &rpc_addr(&c, "data-1")]);
    assert!(ok, "{again}{err}");
    assert_eq!(again, first);

    // `show`: every node with the HTTP address it reported (not a guessed
    // :8086), the passive one marked.
    let (ok, show, err) = ctl(&c, &["show"]);
    assert!(ok, "{err}");
    for (node, passive) in [("data-1", false), ("data-2", false), ("data-3", true)] {
        let n = c.node(node).unwrap();
        let line = format!(
            "\t{}\t{}\t{}\t{{}}\t{passive}\n",
            n.addr("rpc").unwrap(),
            n.addr("http").unwrap(),
            env!("CARGO_PKG_VERSION")
        );
        assert!(show.contains(&line), "{line:?} in\n{show}");
    }

    // Metadata is the cluster's: a database created on one node exists on
    // every other.
    let r = query(&c, "data-1", None, "CREATE DATABASE db WITH REPLICATION 2");
    assert!(r["results"][0]["error"].is_null(), "{r}");
    for node in ["data-2", "data-3"] {
        wait_until(
            &format!("db visible on {node}"),
            Duration::from_secs(10),
            || {
                query(&c, node, None, "SHOW DATABASES")
                    .to_string()
                    .contains("\"db\"")
            },
        );
    }

    // A write on data-1 is read back on data-2 (RF 2 on the 2 shard-owning
    // nodes: each holds every shard).
    let body: String = (0..50)
        .map(|i| {
            format!(
                "m,k=s{} v={i}i {}\n",
                i % 5,
                1_600_000_000_000_000_000_i64 + i
            )
        })
        .collect();
    let a = c.node("data-1").unwrap().client().unwrap();
    let r = a.write("db", "consistency=all", &body).unwrap();
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(local_count(&c, "data-2"), 50);

    // The passive node takes writes and forwards them to the owners; it
    // owns (and holds) no shard.
    let body: String = (50..80)
        .map(|i| {
            format!(
                "m,k=s{} v={i}i {}\n",
                i % 5,
                1_600_000_000_000_000_000_i64 + i
            )
        })
        .collect();
    let p = c.node("data-3").unwrap().client().unwrap();
    let r = p.write("db", "consistency=all", &body).unwrap();
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(local_count(&c, "data-1"), 80);
    assert_eq!(local_count(&c, "data-2"), 80);
    assert_eq!(local_shards(&c, "data-3"), 0);
    let (ok, shards, err) = ctl(&c, &["show-shards"]);
    assert!(ok, "{err}");
    let passive_addr = rpc_addr(&c, "data-3");
    assert!(shards.contains(&rpc_addr(&c, "data-1")), "{shards}");
    assert!(!shards.contains(&passive_addr), "{shards}");
}

#[test]
fn add_data_of_a_node_with_data_is_refused() {
    let c = cluster(1);
    let r = query(&c, "data-1", None, "CREATE DATABASE mine");
    assert!(r["results"][0]["error"].is_null(), "{r}");
    let (ok, out, err) = ctl(&c, &["add-data", &rpc_addr(&c, "data-1")]);
    assert!(!ok, "add-data of a node with data must fail: {out}");
    assert!(
        err.contains("has data") && err.contains("mine"),
        "the refusal says why: {err}"
    );
    // Nothing changed: the node is still standalone with its database, and
    // the meta cluster did not register it.
    let meta_dir = c.node("data-1").unwrap().state_dir().join("meta");
    assert!(!meta_dir.join("client.json").exists());
    let dbs = query(&c, "data-1", None, "SHOW DATABASES").to_string();
    assert!(dbs.contains("\"mine\""), "{dbs}");
    let (ok, show, _) = ctl(&c, &["show"]);
    assert!(ok);
    assert!(!show.contains(&rpc_addr(&c, "data-1")), "{show}");
}

#[test]
fn a_passive_node_keeps_hinted_handoff_for_a_down_owner_on_its_own_disk() {
    let mut c = cluster(3);
    add_data(&c, "data-1", false);
    add_data(&c, "data-2", false);
    add_data(&c, "data-3", true);
    let r = query(&c, "data-3", None, "CREATE DATABASE db WITH REPLICATION 2");
    assert!(r["results"][0]["error"].is_null(), "{r}");
    for node in ["data-1", "data-2"] {
        wait_until(
            &format!("db visible on {node}"),
            Duration::from_secs(10),
            || {
                query(&c, node, None, "SHOW DATABASES")
                    .to_string()
                    .contains("\"db\"")
            },
        );
    }
    let owner_id = {
        let b =
            std::fs::read(c.node("data-2").unwrap().state_dir().join("meta/node.json")).unwrap();
        serde_json::from_slice::<serde_json::Value>(&b).unwrap()["id"]
            .as_u64()
            .unwrap()
    };
    c.node_mut("data-2").unwrap().kill9().unwrap();

    // Through the passive node, with one owner down: `one` is met by the
    // other owner; the down owner's copy waits in the passive node's queue.
    let body: String = (0..40)
        .map(|i| {
            format!(
                "m,k=s{} v={i}i {}\n",
                i % 5,
                1_600_000_000_000_000_000_i64 + i
            )
        })
        .collect();
    let p = c.node("data-3").unwrap().client().unwrap();
    let r = p.write("db", "consistency=one", &body).unwrap();
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(local_count(&c, "data-1"), 40);
    let queue = c
        .node("data-3")
        .unwrap()
        .state_dir()
        .join("hh")
        .join(owner_id.to_string());
    assert!(
        queue.is_dir(),
        "no hinted-handoff queue at {}",
        queue.display()
    );
    assert_eq!(local_shards(&c, "data-3"), 0);

    // The owner returns (still a member: it restarts from client.json) and
    // the passive node's queue delivers its copy.
    c.node_mut("data-2").unwrap().start().unwrap();
    wait_until(
        "the queue to drain into data-2",
        Duration::from_secs(30),
        || local_count(&c, "data-2") == 40,
    );
}

#[test]
fn add_data_without_the_internal_shared_secret_is_refused() {
    let c = cluster_with_secret(1, "not-the-data-nodes-secret");
    let (ok, out, err) = ctl(&c, &["add-data", &rpc_addr(&c, "data-1")]);
    assert!(!ok, "a join with the wrong secret must fail: {out}");
    assert!(err.contains("shared secret"), "{err}");
    let meta_dir = c.node("data-1").unwrap().state_dir().join("meta");
    assert!(!meta_dir.join("client.json").exists());
}
