//! Shared helpers of the integration tests: a throw-away reference
//! InfluxDB 1.x (`/usr/bin/influxd`) on free loopback ports, and running CLI
//! binaries with a time limit. Tests skip (with a printed note) when the
//! reference server is not installed.
//!
//! Environment knobs: `INFLUX_TEST_INFLUXD` (server binary, default
//! `/usr/bin/influxd`), `INFLUX_TEST_GO_CLI` (default `/usr/bin/influx`), and
//! `INFLUX_TEST_EXTERNAL_PORT`: use an already running 1.x-compatible server
//! on 127.0.0.1:PORT (e.g. Tidemark's influxd, without authentication)
//! instead of starting one; the authentication test is skipped then.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Our binary.
pub fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_influx"))
}

/// The Go `influx` 1.x CLI, when installed.
pub fn go_influx() -> Option<PathBuf> {
    let p = PathBuf::from(
        std::env::var("INFLUX_TEST_GO_CLI").unwrap_or_else(|_| "/usr/bin/influx".to_string()),
    );
    p.exists().then_some(p)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running reference `influxd`, killed on drop.
pub struct RefServer {
    child: Option<Child>,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl RefServer {
    /// Starts `/usr/bin/influxd` (optionally with authentication on), or
    /// returns `None` with a note when it is not installed or won't start.
    pub fn start(auth: bool) -> Option<RefServer> {
        let dir = tempfile::tempdir().unwrap();
        if let Ok(port) = std::env::var("INFLUX_TEST_EXTERNAL_PORT") {
            if auth {
                eprintln!("note: external server in use; skipping authentication test");
                return None;
            }
            let port: u16 = port
                .parse()
                .expect("INFLUX_TEST_EXTERNAL_PORT must be a port");
            assert!(ping(port), "nothing answers /ping on 127.0.0.1:{port}");
            return Some(RefServer {
                child: None,
                port,
                _dir: dir,
            });
        }
        let influxd = PathBuf::from(
            std::env::var("INFLUX_TEST_INFLUXD").unwrap_or_else(|_| "/usr/bin/influxd".to_string()),
        );
        if !influxd.exists() {
            eprintln!(
                "note: {} not installed; skipping reference-server test",
                influxd.display()
            );
            return None;
        }
        for _ in 0..3 {
            let (port, rpc) = (free_port(), free_port());
            let d = dir.path().display();
            let conf = format!(
                "reporting-enabled = false\nbind-address = \"127.0.0.1:{rpc}\"\n\
                 [meta]\n  dir = \"{d}/meta\"\n  logging-enabled = false\n\
                 [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  index-version = \"inmem\"\n  wal-fsync-delay = \"0s\"\n  query-log-enabled = false\n\
                 [monitor]\n  store-enabled = false\n\
                 [http]\n  enabled = true\n  bind-address = \"127.0.0.1:{port}\"\n  auth-enabled = {auth}\n  log-enabled = false\n\
                 [subscriber]\n  enabled = false\n\
                 [logging]\n  level = \"error\"\n  suppress-logo = true\n"
            );
            let conf_path = dir.path().join("influxdb.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let log = std::fs::File::create(dir.path().join("influxd.log")).unwrap();
            let mut child = Command::new(&influxd)
                .arg("run")
                .arg("-config")
                .arg(&conf_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .ok()?;
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if ping(port) {
                    return Some(RefServer {
                        child: Some(child),
                        port,
                        _dir: dir,
                    });
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        eprintln!("note: reference influxd did not start; skipping");
        None
    }

    /// Runs one query over plain HTTP (for setup), returning the body.
    pub fn query(&self, q: &str, auth: Option<(&str, &str)>) -> String {
        let body = format!("q={}", influx::client::query_escape(q));
        let mut req = format!(
            "POST /query HTTP/1.0\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some((u, p)) = auth {
            let url = format!(
                "POST /query?u={}&p={} ",
                influx::client::query_escape(u),
                influx::client::query_escape(p)
            );
            req = req.replacen("POST /query ", &url, 1);
        }
        req.push_str("\r\n");
        req.push_str(&body);
        http(self.port, &req)
    }

    /// Writes line protocol into `db` (setup).
    pub fn write(&self, db: &str, lines: &str) {
        let req = format!(
            "POST /write?db={db} HTTP/1.0\r\nHost: x\r\nContent-Length: {}\r\n\r\n{lines}",
            lines.len()
        );
        let resp = http(self.port, &req);
        assert!(
            resp.starts_with("HTTP/1.0 204") || resp.starts_with("HTTP/1.1 204"),
            "{resp}"
        );
    }
}

impl Drop for RefServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn http(port: u16, req: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /ping HTTP/1.0\r\nHost: x\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.ends_with(b"204")
}

/// Output of one CLI run.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

/// Runs `bin args` with `stdin` (or /dev/null) and extra env, killing it
/// after 60 s.
pub fn run(bin: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("INFLUX_USERNAME")
        .env_remove("INFLUX_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        let mut w = child.stdin.take().unwrap();
        w.write_all(input).unwrap();
    }
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    assert!(
        status.is_some(),
        "{bin:?} {args:?} timed out; stdout: {stdout}"
    );
    Outcome {
        stdout,
        stderr,
        code: status.and_then(|s| s.code()),
    }
}

/// Removes the `YYYY/MM/DD HH:MM:SS ` prefix Go's logger puts on lines.
pub fn strip_log_times(s: &str) -> String {
    s.lines()
        .map(|l| {
            let b = l.as_bytes();
            if b.len() >= 20 && b[4] == b'/' && b[7] == b'/' && b[13] == b':' && b[19] == b' ' {
                &l[20..]
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
