//! Nodes and clusters on the real `influxd` binary (built by the workspace;
//! `cargo build -p influxd` first when running this crate alone): ready
//! means /ping answers, kill -9 really frees the port, restart brings the
//! data back, wipe empties it, and nothing outlives its handle.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::io::ErrorKind;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;
use testrig::node::Role;
use testrig::{ClusterBuilder, Mode, NodeHandle, NodeSpec};

fn influxd() -> NodeSpec {
    NodeSpec::influxd(testrig::find_binary("influxd").unwrap())
}

fn count(node: &NodeHandle) -> i64 {
    let r = node
        .client()
        .unwrap()
        .query(Some("db"), "SELECT count(v) FROM m", "")
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().unwrap()["results"][0]["series"][0]["values"][0][1]
        .as_i64()
        .unwrap_or(0)
}

fn refused(node: &NodeHandle) -> bool {
    let addr = node.addr("http").unwrap();
    matches!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused
    )
}

#[test]
fn kill_restart_wipe_a_data_node() {
    let root = tempfile::tempdir().unwrap();
    let mut n = NodeHandle::start_standalone("data-1", Role::Data, influxd(), root.path()).unwrap();
    let c = n.client().unwrap().clone();
    assert_eq!(c.ping().unwrap().status, 204);
    assert_eq!(c.query(None, "CREATE DATABASE db", "").unwrap().status, 200);
    assert_eq!(c.write("db", "", "m v=1 1\nm v=2 2\n").unwrap().status, 204);
    assert_eq!(count(&n), 2);

    let pid = n.pid().unwrap();
    n.kill9().unwrap();
    assert!(!n.is_running());
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "process is gone"
    );
    assert!(refused(&n), "its port refuses connections");

    n.start().unwrap();
    assert_eq!(count(&n), 2, "acknowledged writes survive kill -9");

    n.restart().unwrap(); // SIGTERM + start
    assert_eq!(count(&n), 2);
    assert!(
        n.log().matches("=== testrig: start").count() == 3,
        "{}",
        n.log()
    );

    n.wipe().unwrap();
    assert!(refused(&n));
    n.start().unwrap();
    let r = c.query(Some("db"), "SELECT count(v) FROM m", "").unwrap();
    assert!(r.body.contains("database not found"), "wiped: {}", r.body);
}

#[test]
fn stop_is_clean_and_bounded() {
    let root = tempfile::tempdir().unwrap();
    let mut n = NodeHandle::start_standalone("data-1", Role::Data, influxd(), root.path()).unwrap();
    n.stop().unwrap();
    assert!(!n.is_running());
    assert!(refused(&n));
    n.stop().unwrap(); // stopping a stopped node is a no-op
}

#[test]
fn a_node_that_cannot_start_reports_its_log() {
    let root = tempfile::tempdir().unwrap();
    let spec = influxd().with_extra_config("[http]\n  this is not toml\n");
    let err = NodeHandle::start_standalone("data-1", Role::Data, spec, root.path()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("exited before it was ready"), "{text}");
    assert!(text.contains("log tail"), "{text}");
    assert!(
        text.contains("parse config"),
        "the node's own error is included: {text}"
    );
}

#[test]
fn cluster_of_two_data_nodes_with_proxied_links_dies_with_its_handle() {
    let spec = influxd().with_extra_config("# peer: {{via.data-2.rpc}} / {{peers.data.rpc}}\n");
    let mut cluster = ClusterBuilder::new()
        .data(2, spec.clone())
        .proxy_links(true)
        .start()
        .unwrap();
    let names: Vec<&str> = cluster.nodes().iter().map(|n| n.name()).collect();
    assert_eq!(names, ["data-1", "data-2"]);
    let pids: Vec<u32> = cluster.nodes().iter().map(|n| n.pid().unwrap()).collect();
    for n in cluster.nodes() {
        assert_eq!(n.client().unwrap().ping().unwrap().status, 204);
    }
    // Distinct ports per node, and configs point at the link proxies.
    assert_ne!(
        cluster.nodes()[0].port("http"),
        cluster.nodes()[1].port("http")
    );
    let link = cluster.link("data-1", "data-2").unwrap();
    let proxy = link.proxy("rpc").unwrap();
    assert_eq!(proxy.target(), cluster.nodes()[1].addr("rpc").unwrap());
    assert!(
        link.proxy("http").is_none(),
        "client-facing ports are not proxied"
    );
    let conf = std::fs::read_to_string(cluster.nodes()[0].config_path()).unwrap();
    assert!(
        conf.contains(&format!("# peer: {0} / \"{0}\"", proxy.listen_addr())),
        "{conf}"
    );
    cluster.partition("data-1", "data-2").unwrap();
    assert_eq!(
        cluster
            .link("data-2", "data-1")
            .unwrap()
            .proxy("rpc")
            .unwrap()
            .mode(),
        Mode::DropBoth
    );
    cluster.drop_one_way("data-1", "data-2").unwrap();
    assert_eq!(proxy.mode(), Mode::DropForward);
    cluster.heal_all();
    assert_eq!(proxy.mode(), Mode::Pass);

    cluster.data(2).unwrap().kill9().unwrap();
    assert!(refused(cluster.node("data-2").unwrap()));
    cluster.data(2).unwrap().start().unwrap();

    let root = cluster.root().to_path_buf();
    drop(cluster);
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} outlived the cluster"
        );
    }
    assert!(!root.exists(), "temp dir removed");
}

#[test]
fn processes_die_when_a_test_panics() {
    let pid = std::thread::spawn(|| {
        let cluster = ClusterBuilder::new().data(1, influxd()).start().unwrap();
        let pid = cluster.nodes()[0].pid().unwrap();
        std::panic::panic_any(pid);
    })
    .join()
    .unwrap_err();
    let pid = *pid.downcast_ref::<u32>().unwrap();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn add_node_joins_with_proxied_links() {
    let mut cluster = ClusterBuilder::new()
        .data(1, influxd())
        .proxy_links(true)
        .start()
        .unwrap();
    let spec = influxd().with_extra_config("# dial: {{dial_map}}\n");
    let added = cluster.add_node(Role::Data, spec).unwrap();
    assert_eq!(added.name(), "data-2");
    assert_eq!(added.index(), 2);
    assert_eq!(added.client().unwrap().ping().unwrap().status, 204);
    let conf = std::fs::read_to_string(added.config_path()).unwrap();
    let to_1 = cluster
        .link("data-2", "data-1")
        .unwrap()
        .proxy("rpc")
        .unwrap();
    let rpc_1 = cluster.node("data-1").unwrap().addr("rpc").unwrap();
    assert_eq!(to_1.target(), rpc_1);
    assert!(
        conf.contains(&format!("# dial: \"{rpc_1}\" = \"{}\"", to_1.listen_addr())),
        "{conf}"
    );
    let from_1 = cluster
        .link("data-1", "data-2")
        .unwrap()
        .proxy("rpc")
        .unwrap();
    assert_eq!(
        from_1.target(),
        cluster.node("data-2").unwrap().addr("rpc").unwrap()
    );
}
