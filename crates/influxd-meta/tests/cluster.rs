//! Real `influxd-meta` processes on loopback: a 3-node cluster forms,
//! survives the leader's `kill -9`, restarts with its state intact, accepts
//! changes with one node down and refuses them with two down, and a node
//! that lost its disk rejoins from a snapshot.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use meta::MetaStore;
use meta_service::client::{ClientOptions, MetaClient};
use std::time::{Duration, Instant};

#[test]
fn leader_kill_restart_and_full_restart_keep_committed_state() {
    let mut c = Cluster::start(3, 1000);
    let leader = c.wait_leader(Duration::from_secs(10)).unwrap();
    for i in 0..5 {
        // Any node accepts the change: followers forward to the leader.
        let (s, v) = create_db(&c.nodes[i % 3].http, &format!("db{i}")).unwrap();
        assert_eq!(s, 200, "{v}");
    }

    // kill -9 the leader: a new one within seconds, nothing lost.
    c.nodes[leader].kill9();
    let t = Instant::now();
    let new_leader = c.wait_leader(Duration::from_secs(10)).expect("new leader");
    assert_ne!(new_leader, leader);
    assert!(t.elapsed() < Duration::from_secs(10));
    for n in c.running() {
        let dbs = databases(&c.nodes[n].http);
        for i in 0..5 {
            assert!(
                dbs.contains(&format!("db{i}")),
                "node {n} lost db{i}: {dbs:?}"
            );
        }
    }
    let (s, v) = create_db(&c.nodes[new_leader].http, "after_kill").unwrap();
    assert_eq!(s, 200, "{v}");

    // The killed node comes back and catches up.
    c.nodes[leader].start();
    assert!(wait_until(Duration::from_secs(15), || databases(
        &c.nodes[leader].http
    )
    .contains(&"after_kill".to_string())));

    // All three restarted: state intact.
    for n in &mut c.nodes {
        n.kill9();
    }
    for n in &mut c.nodes {
        n.start();
    }
    let l = c
        .wait_leader(Duration::from_secs(20))
        .expect("leader after full restart");
    let dbs = databases(&c.nodes[l].http);
    for name in ["db0", "db1", "db2", "db3", "db4", "after_kill"] {
        assert!(
            dbs.contains(&name.to_string()),
            "{name} missing after restart: {dbs:?}"
        );
    }
    let (s, v) = create_db(&c.nodes[(l + 1) % 3].http, "after_restart").unwrap();
    assert_eq!(s, 200, "{v}");
}

#[test]
fn one_down_accepts_two_down_refuses_and_client_cache_serves() {
    let mut c = Cluster::start(3, 1000);
    let servers: Vec<String> = c.nodes.iter().map(|n| n.http.clone()).collect();
    let client = MetaClient::with_options(
        servers,
        ClientOptions {
            retry_for: Duration::from_secs(3),
            ..Default::default()
        },
    );
    client.start_watching();
    client
        .execute(meta::Command::CreateDatabase {
            name: "before".into(),
            rp: None,
            retention_autocreate: true,
        })
        .unwrap();
    // execute() refreshes the cache before returning.
    assert!(client.data().database("before").is_some());

    // A change made elsewhere reaches the cache through the long-poll.
    let (s, _) = create_db(&c.nodes[2].http, "elsewhere").unwrap();
    assert_eq!(s, 200);
    assert!(wait_until(Duration::from_secs(10), || client
        .data()
        .database("elsewhere")
        .is_some()));

    // Data nodes register (idempotently) and take leases.
    let n1 = client
        .register_data_node("d1:8086", "d1:8088", false)
        .unwrap();
    assert_eq!(
        client
            .register_data_node("d1:8086", "d1:8088", false)
            .unwrap()
            .id,
        n1.id
    );
    let n2 = client
        .register_data_node("d2:8086", "d2:8088", false)
        .unwrap();
    let lease = client.acquire_lease("continuous querier", n1.id).unwrap();
    assert_eq!(lease.owner, n1.id);
    match client.execute(meta::Command::AcquireLease {
        name: "continuous querier".into(),
        node_id: n2.id,
        now: 0,
        duration: 1,
    }) {
        Err(meta::Error::LeaseConflict { owner, .. }) => assert_eq!(owner, n1.id),
        other => panic!("{other:?}"),
    }
    let err = client
        .acquire_lease("continuous querier", n2.id)
        .unwrap_err();
    assert_eq!(err.to_string(), "another node has the lease");

    // One node down: still accepted.
    let leader = c.wait_leader(Duration::from_secs(10)).unwrap();
    c.nodes[leader].kill9();
    client
        .execute(meta::Command::CreateDatabase {
            name: "one_down".into(),
            rp: None,
            retention_autocreate: true,
        })
        .expect("a change with one meta node down");

    // Two down: refused with a clear error, no hang.
    let second = c.running()[0];
    c.nodes[second].kill9();
    let survivor = c.running()[0];
    std::thread::sleep(Duration::from_secs(2));
    let t = Instant::now();
    let err = client
        .execute(meta::Command::CreateDatabase {
            name: "two_down".into(),
            rp: None,
            retention_autocreate: true,
        })
        .unwrap_err();
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "took {:?}",
        t.elapsed()
    );
    let text = err.to_string();
    assert!(
        text.contains("no leader") || text.contains("quorum"),
        "{text}"
    );
    let (s, v) = create_db(&c.nodes[survivor].http, "direct").unwrap();
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["error"], "no leader");

    // M4: the survivor, without a leader for longer than an election
    // timeout, answers /data with 503 so a data node looks elsewhere; its
    // applied state is still there for tools (`stale=true`).
    let (s, v) = get(&c.nodes[survivor].http, "/data").unwrap();
    assert_eq!((s, v["error"].as_str()), (503, Some("no leader")), "{v}");
    assert!(v["term"].is_u64(), "{v}");
    // Reads keep working: the client's cache and the survivor's /data.
    let d = client.data();
    assert!(d.database("before").is_some() && d.database("one_down").is_some());
    assert!(databases(&c.nodes[survivor].http).contains(&"one_down".to_string()));
    assert!(!databases(&c.nodes[survivor].http).contains(&"two_down".to_string()));
}

#[test]
fn wiped_node_rejoins_and_catches_up_from_a_snapshot() {
    let mut c = Cluster::start(3, 5);
    let leader = c.wait_leader(Duration::from_secs(10)).unwrap();
    let victim = (leader + 1) % 3;
    c.nodes[victim].kill9();
    for i in 0..20 {
        let (s, v) = create_db(&c.nodes[leader].http, &format!("db{i}")).unwrap();
        assert_eq!(s, 200, "{v}");
    }
    c.nodes[victim].wipe();
    c.nodes[victim].start();
    assert_eq!(c.nodes[victim].status().unwrap()["state"], "Uninitialized");
    let (s, v) = post(
        &c.nodes[leader].http,
        "/add-meta",
        &format!(r#"{{"addr":"{}"}}"#, c.nodes[victim].http),
    )
    .unwrap();
    assert_eq!(s, 200, "{v}\nleader log:\n{}", c.nodes[leader].log());
    assert!(
        wait_until(Duration::from_secs(20), || databases(&c.nodes[victim].http)
            .len()
            == 20),
        "victim has {:?}\n{}",
        databases(&c.nodes[victim].http),
        c.nodes[victim].log()
    );
    // It got there by installing the leader's snapshot: its log starts
    // after it.
    let (_, vars) = get(&c.nodes[victim].http, "/debug/vars").unwrap();
    assert!(vars["raft"]["snapshot"].is_u64(), "{vars}");
    // The leader compacted its log behind its own snapshot.
    let (_, vars) = get(&c.nodes[leader].http, "/debug/vars").unwrap();
    assert!(vars["raft"]["purged"].is_u64(), "{vars}");
    // And it is a voter again.
    let peers = c.nodes[leader].status().unwrap()["peers"].clone();
    assert!(
        peers
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == c.nodes[victim].raft.as_str()),
        "{peers}"
    );
    // The cluster still accepts changes with the original leader's peer down.
    let other = 3 - leader - victim;
    c.nodes[other].kill9();
    let l = c.wait_leader(Duration::from_secs(10)).expect("leader");
    let (s, v) = create_db(&c.nodes[l].http, "after_rejoin").unwrap();
    assert_eq!(s, 200, "{v}");
}

/// H2: metadata larger than 1 MB (which did not fit axum's default body
/// limit as a JSON number array) reaches a new meta node and a lagging
/// follower by snapshot, and a command too large for a Raft entry is
/// refused up front.
#[test]
fn h2_metadata_above_1mb_reaches_new_and_lagging_meta_nodes_by_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Node::new(tmp.path(), 0, 5);
    let mut b = Node::new(tmp.path(), 1, 5);
    a.start();
    b.start();
    let (s, v) = post(&a.http, "/add-meta", &format!(r#"{{"addr":"{}"}}"#, a.http)).unwrap();
    assert_eq!(s, 200, "{v}");
    let (s, v) = create_db(&a.http, "big").unwrap();
    assert_eq!(s, 200, "{v}");
    let cq = |name: &str, len: usize| {
        format!(
            r#"{{"type":"create_continuous_query","database":"big","name":"{name}","query":"{}"}}"#,
            "x".repeat(len)
        )
    };
    for i in 0..5 {
        let (s, v) = post(&a.http, "/execute", &cq(&format!("cq{i}"), 300_000)).unwrap();
        assert_eq!(s, 200, "{v}");
    }
    let (_, data) = get(&a.http, "/data").unwrap();
    assert!(data.to_string().len() > 1_400_000);
    // One command larger than a Raft entry may be: 413, nothing applied.
    let (s, v) = post(&a.http, "/execute", &cq("huge", 2 << 20)).unwrap();
    assert_eq!(s, 413, "{v}");
    assert!(v["error"].as_str().unwrap().contains("command too large"));

    let (s, v) = post(&a.http, "/add-meta", &format!(r#"{{"addr":"{}"}}"#, b.http)).unwrap();
    assert_eq!(s, 200, "{v}\nleader log:\n{}", a.log());
    let cqs = |addr: &str| {
        get(addr, "/data")
            .map(|(_, d)| {
                d["databases"][0]["continuous_queries"]
                    .as_array()
                    .map_or(0, Vec::len)
            })
            .unwrap_or(0)
    };
    assert!(
        wait_until(Duration::from_secs(20), || cqs(&b.http) == 5),
        "new node has {} CQs\n{}",
        cqs(&b.http),
        b.log()
    );
    let (_, vars) = get(&b.http, "/debug/vars").unwrap();
    assert!(vars["raft"]["snapshot"].is_u64(), "{vars}");

    // A follower that lags behind a purged log catches up by a snapshot of
    // several chunks (about 3.3 MB of metadata, 1 MiB chunks).
    let mut c = Node::new(tmp.path(), 2, 5);
    c.start();
    let (s, v) = post(&a.http, "/add-meta", &format!(r#"{{"addr":"{}"}}"#, c.http)).unwrap();
    assert_eq!(s, 200, "{v}");
    let snap_before = get(&b.http, "/debug/vars").unwrap().1["raft"]["snapshot"]
        .as_u64()
        .unwrap();
    b.kill9();
    for i in 5..11 {
        let body = cq(&format!("cq{i}"), 300_000);
        let mut last = None;
        let ok = wait_until(Duration::from_secs(15), || {
            last = post(&a.http, "/execute", &body);
            last.as_ref().is_some_and(|(s, _)| *s == 200)
        });
        assert!(ok, "{last:?}");
    }
    b.start();
    let stale_cqs = |addr: &str| {
        get(addr, "/data?stale=true")
            .map(|(_, d)| {
                d["databases"][0]["continuous_queries"]
                    .as_array()
                    .map_or(0, Vec::len)
            })
            .unwrap_or(0)
    };
    assert!(
        wait_until(Duration::from_secs(30), || stale_cqs(&b.http) == 11),
        "lagging node has {} CQs\n{}",
        stale_cqs(&b.http),
        b.log()
    );
    let (_, vars) = get(&b.http, "/debug/vars").unwrap();
    let snap_after = vars["raft"]["snapshot"].as_u64().unwrap_or(0);
    assert!(
        snap_after > snap_before,
        "no new snapshot installed: {vars}"
    );
}
