//! A data node in a cluster: `influxd` with `[meta] meta-servers` registers
//! itself with a real `influxd-meta`, keeps its databases and shard groups in
//! the meta cluster, and keeps serving writes to existing shard groups and
//! queries from its cached metadata when the meta node is gone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{free_port, Influxd};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Meta {
    child: Child,
    http: String,
}

impl Drop for Meta {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn meta_binary() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_influxd"));
    let p = dir.with_file_name("influxd-meta");
    assert!(
        p.is_file(),
        "{} not built: build the workspace first (scripts/verify does)",
        p.display()
    );
    p
}

fn start_meta(dir: &std::path::Path) -> Meta {
    let (http, raft) = (free_port(), free_port());
    let cfg = dir.join("meta.conf");
    std::fs::write(
        &cfg,
        format!(
            "hostname = \"127.0.0.1\"\n[meta]\n  dir = \"{}/meta-node\"\n  bind-address = \"127.0.0.1:{raft}\"\n  http-bind-address = \"127.0.0.1:{http}\"\n",
            dir.display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("meta.log")).unwrap();
    let child = Command::new(meta_binary())
        .args(["run", "-single-server", "-config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let m = Meta {
        child,
        http: format!("127.0.0.1:{http}"),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let start = Instant::now();
    loop {
        let leader = agent
            .get(format!("http://{}/status", m.http))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .is_some_and(|b| b.contains("\"leader\":\"1"));
        if leader {
            return m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "meta node not ready: {}",
            std::fs::read_to_string(dir.join("meta.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn data_node_registers_and_serves_from_cached_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let meta = start_meta(dir.path());
    let node_dir = dir.path().join("data");
    std::fs::create_dir_all(&node_dir).unwrap();
    let mut n = Influxd::start_with_meta(
        &node_dir,
        &format!("  meta-servers = [\"{}\"]", meta.http),
        "",
    );
    assert_eq!(n.query("CREATE DATABASE db", "").status, 200);
    assert_eq!(n.write("db=db", "cpu,host=a v=1 1000000000").status, 204);

    // The database, the node and the shard group live in the meta cluster.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let data: serde_json::Value = serde_json::from_str(
        &agent
            .get(format!("http://{}/data", meta.http))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    let text = data.to_string();
    assert!(text.contains("\"name\":\"db\""), "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{}", n.port)),
        "node not registered: {text}"
    );

    // Restarting the data node keeps its identity and data.
    n.restart();
    let r = n.query("SELECT v FROM cpu", "db=db&epoch=s");
    assert_eq!(
        r.json()["results"][0]["series"][0]["values"],
        serde_json::json!([[1, 1]])
    );

    // With the meta cluster gone: writes into the existing shard group and
    // queries keep working from the cache; metadata changes fail clearly.
    drop(meta);
    assert_eq!(n.write("db=db", "cpu,host=b v=2 2000000000").status, 204);
    let r = n.query("SELECT count(v) FROM cpu", "db=db");
    assert_eq!(r.json()["results"][0]["series"][0]["values"][0][1], 2);
    let r = n.query("CREATE DATABASE other", "");
    assert_eq!(r.status, 200);
    assert!(
        r.json()["results"][0]["error"].is_string(),
        "a metadata change without meta nodes must fail: {}",
        r.body
    );
}

/// Audit C1, clustered: a data node whose advertised TCP address changed
/// refuses to start under a new identity (it would otherwise register as a
/// new node and its shards would belong to nobody) and says what to do.
#[test]
fn c1_data_node_with_a_changed_address_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let meta = start_meta(dir.path());
    let node_dir = dir.path().join("data");
    std::fs::create_dir_all(&node_dir).unwrap();
    let mut n = Influxd::start_with_meta(
        &node_dir,
        &format!("  meta-servers = [\"{}\"]", meta.http),
        "",
    );
    assert_eq!(n.query("CREATE DATABASE db", "").status, 200);
    assert_eq!(n.write("db=db", "cpu,host=a v=1 1000000000").status, 204);
    n.stop();
    let old = n.rpc_bind_address();
    let new = format!("127.0.0.1:{}", free_port());
    n.set_rpc_bind_address(&new);
    let log = n.restart_expect_refusal();
    assert!(log.contains("update-data"), "{log}");
    assert!(log.contains(&old) && log.contains(&new), "{log}");
    // Put the address back: the node starts as itself, data intact.
    n.set_rpc_bind_address(&old);
    n.restart();
    let r = n.query("SELECT v FROM cpu", "db=db&epoch=s");
    assert_eq!(
        r.json()["results"][0]["series"][0]["values"],
        serde_json::json!([[1, 1]])
    );
}
