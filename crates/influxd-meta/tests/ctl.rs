//! `influxd-ctl` (its library entry point) against real `influxd-meta`
//! processes: forming a cluster with add-meta, data node management, show
//! and show-shards output, remove-meta, join, leave and force-leave.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::time::Duration;

fn ctl(bind: &str, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["-bind".to_string(), bind.to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    let mut out = Vec::new();
    influxd_ctl::run(&all, &mut out).map_err(|e| e.to_string())?;
    Ok(String::from_utf8(out).unwrap())
}

#[test]
fn ctl_manages_meta_and_data_nodes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut nodes: Vec<Node> = (0..3).map(|i| Node::new(tmp.path(), i, 1000)).collect();
    for n in &mut nodes {
        n.start();
    }
    let (a, b, c) = (
        nodes[0].http.clone(),
        nodes[1].http.clone(),
        nodes[2].http.clone(),
    );

    // The first add-meta makes the bound node a cluster of its own.
    assert_eq!(
        ctl(&a, &["add-meta", &a]).unwrap(),
        format!("Added meta node 1 at {a}\n")
    );
    let out = ctl(&a, &["add-meta", &b]).unwrap();
    assert!(
        out.starts_with("Added meta node ") && out.ends_with(&format!(" at {b}\n")),
        "{out}"
    );
    ctl(&a, &["add-meta", &c]).unwrap();
    // Adding a member again is harmless and answers its id.
    assert_eq!(ctl(&a, &["add-meta", &b]).unwrap(), out);

    let out = ctl(&b, &["add-data", "data1:8088"]).unwrap();
    assert!(
        out.starts_with("Added data node ") && out.ends_with(" at data1:8088\n"),
        "{out}"
    );
    ctl(&c, &["add-data", "-p", "data2:8088"]).unwrap();
    let out = ctl(&c, &["update-data", "data2:8088", "data3:8088"]).unwrap();
    assert!(
        out.starts_with("updated data node ") && out.ends_with(" to data3:8088\n"),
        "{out}"
    );

    let show = ctl(&b, &["show"]).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        show.starts_with(
            "Data Nodes\n==========\nID\tTCP Address\tHTTP Address\tVersion\tLabels\tPassive\n"
        ),
        "{show}"
    );
    assert!(
        show.contains(&format!(
            "\tdata1:8088\tdata1:8086\t{version}\t{{}}\tfalse\n"
        )),
        "{show}"
    );
    assert!(
        show.contains(&format!(
            "\tdata3:8088\tdata3:8086\t{version}\t{{}}\ttrue\n"
        )),
        "{show}"
    );
    assert!(
        show.contains(
            "\nMeta Nodes\n==========\nID\tRaft Address\tHTTP Address\tVersion\tLabels\n"
        ),
        "{show}"
    );
    for m in [&a, &b, &c] {
        assert!(
            show.contains(&format!("\t{m}\t{version}\t{{}}\n")),
            "{show}"
        );
    }
    assert!(
        show.contains("\nRaft Status\n==========\nLeader\t"),
        "{show}"
    );

    // Shards appear with their owners.
    let body = r#"{"type":"create_database","name":"db0","rp":null,"retention_autocreate":true}"#;
    assert_eq!(post(&a, "/execute", body).unwrap().0, 200);
    let sg = r#"{"type":"create_shard_group","database":"db0","policy":"autogen","timestamp":0}"#;
    assert_eq!(post(&a, "/execute", sg).unwrap().0, 200);
    let shards = ctl(&c, &["show-shards"]).unwrap();
    assert!(shards.starts_with("Shards\n==========\nID\tDatabase\tRetention Policy\tDesired Replicas\tShard Group\tStart\tEnd\tExpires\tOwners\n"), "{shards}");
    assert!(
        shards.contains("\tdb0\tautogen\t1\t1\t1970-01-01T00:00:00Z\t1970-01-08T00:00:00Z\t\t[{"),
        "{shards}"
    );

    assert_eq!(
        ctl(&b, &["truncate-shards", "-delay", "1s"]).unwrap(),
        "Truncated shards.\n"
    );
    assert!(ctl(&b, &["truncate-shards", "-delay", "x"])
        .unwrap_err()
        .contains("invalid duration"));
    let owner = shards
        .split("[{")
        .nth(1)
        .unwrap()
        .split('}')
        .next()
        .unwrap()
        .to_string();
    let (_, owner_addr) = owner.split_once(' ').unwrap();
    assert_eq!(
        ctl(&c, &["remove-shard", owner_addr, "1"]).unwrap(),
        format!("Removed shard 1 from {owner_addr}\n")
    );
    assert!(ctl(&c, &["show-shards"]).unwrap().contains("\t[]\n"));

    // Unknown nodes: clear errors, nothing changes.
    let err = ctl(&a, &["remove-data", "nope:8088"]).unwrap_err();
    assert_eq!(err, "data node not found");
    let err = ctl(&a, &["remove-meta", "nope:8091"]).unwrap_err();
    assert_eq!(err, "meta node not found: nope:8091");
    assert!(ctl(&a, &["bogus"])
        .unwrap_err()
        .starts_with("unknown command: bogus"));

    assert_eq!(
        ctl(&a, &["remove-data", "data1:8088"])
            .unwrap()
            .lines()
            .next(),
        Some("Removed data node at data1:8088")
    );

    // remove-meta resets the removed node; join brings it back.
    ctl(&a, &["remove-meta", &c]).unwrap();
    assert!(wait_until(Duration::from_secs(10), || nodes[2]
        .status()
        .is_some_and(|s| s["state"] == "Uninitialized")));
    let show = ctl(&a, &["show"]).unwrap();
    assert!(!show.contains(&format!("{c}\t")), "{show}");
    let out = ctl(&c, &["join", &a]).unwrap();
    assert!(out.contains("Successfully joined cluster"), "{out}");
    assert!(wait_until(Duration::from_secs(10), || databases(&c)
        .contains(&"db0".to_string())));

    // leave: b removes itself and is reset.
    let out = ctl(&b, &["leave", "-y"]).unwrap();
    assert!(out.contains("Successfully left cluster"), "{out}");
    assert!(wait_until(Duration::from_secs(10), || nodes[1]
        .status()
        .is_some_and(|s| s["state"] == "Uninitialized")));
    let show = ctl(&a, &["show"]).unwrap();
    assert!(!show.contains(&format!("{b}\t")), "{show}");

    // force-leave resets without asking anyone.
    let out = ctl(&c, &["force-leave", "-y"]).unwrap();
    assert!(out.starts_with("Forcefully removed meta node at"), "{out}");
    assert_eq!(nodes[2].status().unwrap()["state"], "Uninitialized");
}

#[test]
fn the_leader_can_leave() {
    let c = Cluster::start(3, 1000);
    let l = c.wait_leader(Duration::from_secs(10)).unwrap();
    let leader = &c.nodes[l];
    let out = ctl(&leader.http, &["leave", "-y"]).unwrap();
    assert!(out.contains("Successfully left cluster"), "{out}");
    assert!(wait_until(Duration::from_secs(10), || leader
        .status()
        .is_some_and(|s| s["state"] == "Uninitialized")));
    let other = &c.nodes[(l + 1) % 3];
    let mut show = String::new();
    assert!(
        wait_until(Duration::from_secs(15), || {
            show = ctl(&other.http, &["show"]).unwrap_or_default();
            !show.is_empty()
        }),
        "no leader after the old one left"
    );
    assert!(!show.contains(&format!("{}\t", leader.http)), "{show}");
    // Two meta nodes (Raft and HTTP address each), the leader and its one
    // peer.
    assert_eq!(show.matches("127.0.0.1:").count(), 6, "{show}");
    let (s, v) = create_db(&other.http, "after_leave").unwrap();
    assert_eq!(s, 200, "{v}");
}
