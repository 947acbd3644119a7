//! Raft traffic between meta nodes through the test rig's fault-injecting
//! proxies (`[meta] dial-overrides`): isolating the leader's links makes the
//! other two elect a new leader and keep accepting changes; healing the links
//! brings the old leader back as a follower with every committed change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::time::{Duration, Instant};
use testrig::{ClusterBuilder, NodeSpec};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into()
}

fn get(url: &str) -> Option<Value> {
    let mut r = agent().get(url).call().ok()?;
    serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()
}

fn post(url: &str, body: &str) -> (u16, String) {
    match agent().post(url).send(body.as_bytes()) {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => (0, e.to_string()),
    }
}

fn wait<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The Raft address every node in `urls` reports as leader, when they agree.
fn agreed_leader(urls: &[String]) -> Option<String> {
    let mut leader = None;
    for u in urls {
        let l = get(&format!("{u}/status"))?["leader"].as_str()?.to_string();
        if l.is_empty() || leader.as_ref().is_some_and(|x| x != &l) {
            return None;
        }
        leader = Some(l);
    }
    leader
}

#[test]
fn isolated_leader_loses_leadership_and_catches_up_after_healing() {
    let bin = testrig::find_binary("influxd-meta").expect("build the workspace first");
    let spec = NodeSpec::influxd_meta(bin).with_extra_config(
        "  election-timeout = \"500ms\"\n  heartbeat-timeout = \"500ms\"\n  dial-overrides = { {{dial_map}} }\n",
    );
    let cluster = ClusterBuilder::new()
        .meta(3, spec)
        .proxy_links(true)
        .start()
        .expect("start 3 meta nodes");
    let names = ["meta-1", "meta-2", "meta-3"];
    let urls: Vec<String> = names
        .iter()
        .map(|n| cluster.node(n).unwrap().url())
        .collect();
    for u in &urls {
        let addr = u.trim_start_matches("http://");
        let (s, b) = post(
            &format!("{}/add-meta", urls[0]),
            &format!(r#"{{"addr":"{addr}"}}"#),
        );
        assert_eq!(s, 200, "add-meta {addr}: {b}");
    }
    let leader = wait("a leader", Duration::from_secs(20), || agreed_leader(&urls));
    let li = names
        .iter()
        .position(|n| cluster.node(n).unwrap().addr("raft").unwrap().to_string() == leader)
        .expect("leader is one of ours");
    let create = |url: &str, db: &str| {
        post(
            &format!("{url}/execute"),
            &format!(
                r#"{{"type":"create_database","name":"{db}","rp":null,"retention_autocreate":true}}"#
            ),
        )
    };
    assert_eq!(create(&urls[li], "before").0, 200);

    cluster.isolate(names[li]).unwrap();
    let others: Vec<String> = (0..3)
        .filter(|&i| i != li)
        .map(|i| urls[i].clone())
        .collect();
    let new_leader = wait(
        "a new leader among the other two",
        Duration::from_secs(20),
        || agreed_leader(&others).filter(|l| *l != leader),
    );
    assert_ne!(new_leader, leader);
    let (s, b) = create(&others[0], "during");
    assert_eq!(s, 200, "change with the old leader cut off: {b}");

    cluster.heal_all();
    wait(
        "the old leader to follow and catch up",
        Duration::from_secs(30),
        || {
            let st = get(&format!("{}/status", urls[li]))?;
            let data = get(&format!("{}/data", urls[li]))?;
            let text = data.to_string();
            (st["leader"].as_str()? != leader.as_str()
                && text.contains("\"before\"")
                && text.contains("\"during\""))
            .then_some(())
        },
    );
}
