//! Harness for real-process meta clusters on loopback: free ports, a temp
//! directory per node, `kill -9`, restart, wipe; every child is killed on
//! drop. Waits are bounded.

#![allow(dead_code)]

use meta_service::http_util;
use serde_json::Value;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Node {
    pub dir: PathBuf,
    pub http: String,
    pub raft: String,
    cfg: PathBuf,
    child: Option<Child>,
    snapshot_threshold: u64,
    /// Once a node has run, its addresses are part of the Raft membership
    /// and must not change.
    started_once: bool,
}

impl Node {
    pub fn new(root: &std::path::Path, i: usize, snapshot_threshold: u64) -> Node {
        let dir = root.join(format!("meta{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut n = Node {
            cfg: dir.join("meta.toml"),
            dir,
            http: String::new(),
            raft: String::new(),
            child: None,
            snapshot_threshold,
            started_once: false,
        };
        n.allocate_ports();
        n
    }

    /// Picks free ports and writes the config for them.
    fn allocate_ports(&mut self) {
        let (hp, rp) = (free_port(), free_port());
        self.http = format!("127.0.0.1:{hp}");
        self.raft = format!("127.0.0.1:{rp}");
        std::fs::write(
            &self.cfg,
            format!(
                "hostname = \"127.0.0.1\"\n[meta]\ndir = \"{}\"\nbind-address = \"127.0.0.1:{rp}\"\n\
                 http-bind-address = \"127.0.0.1:{hp}\"\nelection-timeout = \"500ms\"\n\
                 heartbeat-timeout = \"500ms\"\nraft-snapshot-threshold = {}\n",
                self.dir.join("meta").display(),
                self.snapshot_threshold
            ),
        )
        .unwrap();
    }

    pub fn start(&mut self) {
        self.start_with(&[]);
    }

    /// Starts with extra `run` flags.
    pub fn start_with(&mut self, flags: &[&str]) {
        // Free ports come from binding port 0 and letting go, so a parallel
        // test may take one first: a first start that loses the race is
        // retried on new ports.
        for attempt in 1..=3 {
            if self.try_start(flags) {
                self.started_once = true;
                return;
            }
            let clash = self.log().contains("Address already in use");
            if self.started_once || !clash || attempt == 3 {
                panic!("influxd-meta did not start: {}", self.log());
            }
            self.allocate_ports();
        }
    }

    /// Spawns the node and waits for `/ping`; false if it exited first.
    fn try_start(&mut self, flags: &[&str]) -> bool {
        assert!(self.child.is_none());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_influxd-meta"))
            .arg("run")
            .arg("-config")
            .arg(&self.cfg)
            .args(flags)
            .env("RUST_LOG", "info,openraft=error")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let mut exited = false;
        let ready = wait_until(Duration::from_secs(20), || {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(_)) = c.try_wait() {
                    exited = true;
                    return true;
                }
            }
            get(&self.http, "/ping").is_some_and(|(s, _)| s == 204)
        });
        if exited {
            self.child = None;
            return false;
        }
        ready
    }

    /// SIGKILL, waits for the exit.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // The listeners are gone when the process is.
        wait_until(Duration::from_secs(10), || {
            get(&self.http, "/ping").is_none()
        });
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    pub fn wipe(&mut self) {
        assert!(self.child.is_none());
        std::fs::remove_dir_all(self.dir.join("meta")).unwrap();
    }

    pub fn status(&self) -> Option<Value> {
        get(&self.http, "/status").map(|(_, v)| v)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// GET, answering status and JSON body (Null when not JSON); None when the
/// node cannot be reached.
pub fn get(addr: &str, path: &str) -> Option<(u16, Value)> {
    let r = http_util::request(
        &http_util::agent(),
        "GET",
        &format!("http://{addr}{path}"),
        None,
        &[],
        Duration::from_secs(15),
    )
    .ok()?;
    Some((
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    ))
}

pub fn post(addr: &str, path: &str, body: &str) -> Option<(u16, Value)> {
    let r = http_util::request(
        &http_util::agent(),
        "POST",
        &format!("http://{addr}{path}"),
        Some(body.as_bytes()),
        &[],
        Duration::from_secs(90),
    )
    .ok()?;
    Some((
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    ))
}

pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

pub fn create_db(addr: &str, name: &str) -> Option<(u16, Value)> {
    post(
        addr,
        "/execute",
        &format!(
            r#"{{"type":"create_database","name":"{name}","rp":null,"retention_autocreate":true}}"#
        ),
    )
}

/// The databases in a node's applied state (`stale=true`: also without a
/// leader).
pub fn databases(addr: &str) -> Vec<String> {
    get(addr, "/data?stale=true")
        .map(|(_, d)| {
            d["databases"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|db| db["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    /// Starts `n` meta nodes and forms a cluster with `add-meta`.
    pub fn start(n: usize, snapshot_threshold: u64) -> Cluster {
        let tmp = tempfile::tempdir().unwrap();
        let mut nodes: Vec<Node> = (0..n)
            .map(|i| Node::new(tmp.path(), i, snapshot_threshold))
            .collect();
        for node in &mut nodes {
            node.start();
        }
        let first = nodes[0].http.clone();
        for node in &nodes {
            let (s, v) = post(
                &first,
                "/add-meta",
                &format!(r#"{{"addr":"{}"}}"#, node.http),
            )
            .unwrap();
            assert_eq!(s, 200, "add-meta {}: {v}", node.http);
        }
        let c = Cluster { nodes, _tmp: tmp };
        assert!(c.wait_leader(Duration::from_secs(15)).is_some());
        c
    }

    /// The node index every running node agrees leads.
    pub fn leader(&self) -> Option<usize> {
        let mut leader = None;
        for n in self.nodes.iter().filter(|n| n.is_running()) {
            let st = n.status()?;
            let l = st["leader"].as_str()?.to_string();
            if l.is_empty() {
                return None;
            }
            match &leader {
                None => leader = Some(l),
                Some(prev) if *prev != l => return None,
                _ => {}
            }
        }
        let l = leader?;
        self.nodes
            .iter()
            .position(|n| n.raft == l && n.is_running())
    }

    pub fn wait_leader(&self, limit: Duration) -> Option<usize> {
        let mut found = None;
        wait_until(limit, || {
            found = self.leader();
            found.is_some()
        });
        found
    }

    pub fn running(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_running())
            .collect()
    }
}
