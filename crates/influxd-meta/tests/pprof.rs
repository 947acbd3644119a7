//! The meta node serves `/debug/pprof`: CPU and heap profiles in pprof
//! format (gzipped protobuf), and `/debug/vars`.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;

fn fetch(addr: &str, path: &str) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(format!("http://{addr}{path}")).call().unwrap();
    let mut body = Vec::new();
    r.body_mut().as_reader().read_to_end(&mut body).unwrap();
    (r.status().as_u16(), body)
}

#[test]
fn meta_node_serves_cpu_and_heap_profiles() {
    let tmp = tempfile::tempdir().unwrap();
    let mut n = common::Node::new(tmp.path(), 0, 1000);
    n.start_with(&["-single-server"]);
    let (status, body) = fetch(&n.http, "/debug/pprof/profile?seconds=1");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(&body[..2], &[0x1f, 0x8b]);
    let (status, body) = fetch(&n.http, "/debug/pprof/heap");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(&body[..2], &[0x1f, 0x8b]);
    let (status, body) = fetch(&n.http, "/debug/vars");
    assert_eq!(status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
}
