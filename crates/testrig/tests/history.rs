//! The history checker end to end: records from real writes to `influxd`,
//! a planted lost write and an unrecorded point are flagged, a partition
//! through the proxy yields unknown outcomes but no anomaly, and a server
//! that returns a row twice is caught.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;
use testrig::history::{
    check_server, Clients, ClientsConfig, History, Outcome, Point, RecordingWriter,
};
use testrig::node::Role;
use testrig::{HttpClient, Mode, NodeHandle, NodeSpec, Proxy};

fn start_node(root: &std::path::Path) -> NodeHandle {
    let spec = NodeSpec::influxd(testrig::find_binary("influxd").unwrap());
    let n = NodeHandle::start_standalone("data-1", Role::Data, spec, root).unwrap();
    let r = n
        .client()
        .unwrap()
        .query(None, "CREATE DATABASE db", "")
        .unwrap();
    assert_eq!(r.status, 200);
    n
}

fn batch(h: &History, host: &str, start: i64, n: i64) -> Vec<Point> {
    (start..start + n)
        .map(|t| {
            Point::new(
                "jepsen",
                &[("host", host)],
                "v",
                t * 1_000_000_000,
                h.unique_value(),
            )
        })
        .collect()
}

#[test]
fn planted_lost_write_and_stray_point_are_flagged() {
    let root = tempfile::tempdir().unwrap();
    let node = start_node(root.path());
    let h = History::new();
    let w = RecordingWriter::new(&node.url(), "db", h.clone());
    for i in 0..10 {
        assert_eq!(w.write(batch(&h, "a", i * 5, 5)), Outcome::Acknowledged);
    }
    let client = node.client().unwrap();
    let clean = check_server(client, "db", &h).unwrap();
    assert!(clean.is_valid(), "{clean}");
    assert_eq!((clean.acknowledged, clean.observed), (50, 50));

    // Plant: a write recorded as acknowledged that never reached the server,
    let planted = Point::new("jepsen", &[("host", "b")], "v", 7, h.unique_value());
    h.record(vec![planted.clone()], Outcome::Acknowledged, "planted");
    // and a point that reaches the server without being recorded.
    let r = client.write("db", "", "jepsen,host=c v=999i 3").unwrap();
    assert_eq!(r.status, 204);

    let report = check_server(client, "db", &h).unwrap();
    assert!(!report.is_valid());
    assert_eq!(report.lost, vec![planted]);
    assert_eq!(report.unexpected.len(), 1, "{report}");
    assert_eq!(report.unexpected[0].to_string(), "jepsen,host=c v=999 3");
    assert!(
        report.duplicates.is_empty() && report.wrong_value.is_empty(),
        "{report}"
    );
}

#[test]
fn partition_gives_unknown_outcomes_but_no_anomaly() {
    let root = tempfile::tempdir().unwrap();
    let node = start_node(root.path());
    let proxy = Proxy::start(node.addr("http").unwrap()).unwrap();
    let h = History::new();
    let url = format!("http://{}", proxy.listen_addr());
    let w = RecordingWriter::new(&url, "db", h.clone());
    // Short timeout only while the link is cut, so a slow machine cannot
    // turn normal writes into unknown ones.
    let impatient = RecordingWriter::new(&url, "db", h.clone()).timeout(Duration::from_millis(300));
    for i in 0..5 {
        assert_eq!(w.write(batch(&h, "a", i * 2, 2)), Outcome::Acknowledged);
    }
    proxy.set_mode(Mode::DropBoth);
    for i in 5..8 {
        assert_eq!(impatient.write(batch(&h, "a", i * 2, 2)), Outcome::Unknown);
    }
    proxy.heal();
    let mut acked_after = 0;
    for i in 8..13 {
        if w.write(batch(&h, "a", i * 2, 2)) == Outcome::Acknowledged {
            acked_after += 1;
        }
    }
    assert!(acked_after >= 4, "the link works again ({acked_after}/5)");
    let report = check_server(node.client().unwrap(), "db", &h).unwrap();
    assert!(report.is_valid(), "{report}");
    assert!(report.unknown >= 6, "{report}");
    assert_eq!(
        report.unknown_present, 0,
        "swallowed requests never arrived: {report}"
    );
}

/// Serves one fixed `/query` body to every request.
fn fake_query_server(body: &'static str) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut req = Vec::new();
            let mut b = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&b[..n]),
                }
            }
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_row_returned_twice_is_a_duplicate() {
    let url = fake_query_server(
        r#"{"results":[{"statement_id":0,"series":[{"name":"jepsen","tags":{"host":"a"},"columns":["time","v"],"values":[[1,1],[2,2],[2,2]]}]}]}"#,
    );
    let h = History::new();
    h.record(
        vec![
            Point::new("jepsen", &[("host", "a")], "v", 1, 1),
            Point::new("jepsen", &[("host", "a")], "v", 2, 2),
        ],
        Outcome::Acknowledged,
        "204",
    );
    let report = check_server(&HttpClient::new(url, Duration::from_secs(5)), "db", &h).unwrap();
    assert!(!report.is_valid());
    assert_eq!(report.duplicates.len(), 1, "{report}");
    assert_eq!(report.duplicates[0].0.time, 2);
    assert_eq!(report.duplicates[0].1, 2);
    assert!(
        report.lost.is_empty() && report.unexpected.is_empty(),
        "{report}"
    );
}

#[test]
fn concurrent_clients_across_a_kill_and_restart() {
    let root = tempfile::tempdir().unwrap();
    let mut node = start_node(root.path());
    let mut cfg = ClientsConfig::new(vec![node.url()], "db");
    cfg.clients = 3;
    cfg.max_requests = 200;
    cfg.timeout = Duration::from_secs(2);
    let clients = Clients::start(cfg, History::new());
    let wait_for = |n: u64, clients: &Clients| {
        testrig::wait::poll_until(Duration::from_secs(30), "client requests", || {
            (clients.requests() >= n).then_some(())
        })
        .unwrap()
    };
    wait_for(15, &clients);
    node.kill9().unwrap();
    let at_kill = clients.requests();
    wait_for(at_kill + 6, &clients); // some writes hit the dead node
    node.start().unwrap();
    wait_for(clients.requests() + 15, &clients);
    let h = clients.stop();
    let report = check_server(node.client().unwrap(), "db", &h).unwrap();
    assert!(report.is_valid(), "{report}");
    assert!(report.acknowledged >= 20 * 10, "{report}");
    assert!(report.failed >= 10, "refused while down: {report}");
}
