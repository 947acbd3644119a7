//! Helpers for end-to-end tests: start the real `influxd` binary on a free
//! loopback port with its directories in a temp dir, wait (bounded) until it
//! answers `/ping`, talk HTTP to it, kill -9 and restart it. Every process is
//! killed when its handle drops, even when a test panics.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub struct Influxd {
    pub dir: PathBuf,
    pub port: u16,
    pub config: PathBuf,
    child: Option<Child>,
    agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    pub bytes: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Influxd {
    /// Starts a node in `dir` with extra TOML appended to the `[http]`
    /// section-free preamble (pass full sections in `extra`).
    pub fn start_in(dir: &Path, extra: &str) -> Influxd {
        Influxd::start_with_meta(dir, "", extra)
    }

    /// Like [`Influxd::start_in`], with `meta_extra` added to `[meta]`.
    pub fn start_with_meta(dir: &Path, meta_extra: &str, extra: &str) -> Influxd {
        // Free ports are found by binding port 0 and letting go, so another
        // test may take one before influxd binds it: retry on new ports.
        for attempt in 1..=3 {
            let mut n = Influxd::configure(dir, meta_extra, extra);
            n.spawn_process();
            match n.wait_ready_or_exit() {
                Ok(()) => return n,
                Err(log) if attempt < 3 && log.contains("Address already in use") => {
                    let _ = std::fs::remove_file(dir.join("influxd.log"));
                }
                Err(log) => panic!("influxd did not start: {log}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn configure(dir: &Path, meta_extra: &str, extra: &str) -> Influxd {
        let port = free_port();
        let rpc = free_port();
        let config = dir.join("influxdb.conf");
        let d = dir.display();
        std::fs::write(
            &config,
            format!(
                r#"reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{d}/meta"
{meta_extra}
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
[hinted-handoff]
  dir = "{d}/hh"
[http]
  bind-address = "127.0.0.1:{port}"
{extra}
"#
            ),
        )
        .expect("write config");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Influxd {
            dir: dir.to_path_buf(),
            port,
            config,
            child: None,
            agent,
        }
    }

    fn spawn_process(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("influxd.log"))
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_influxd"))
            .args(["run", "-config"])
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn influxd");
        self.child = Some(child);
    }

    fn spawn(&mut self) {
        self.spawn_process();
        self.wait_ready();
    }

    /// Waits until `/ping` answers; Err(log) if the process exited first.
    fn wait_ready_or_exit(&mut self) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < READY_TIMEOUT {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    self.child = None;
                    return Err(format!("exited with {status}: {}", self.log()));
                }
            }
            if let Ok(r) = self.agent.get(format!("{}/ping", self.url())).call() {
                if r.status().as_u16() == 204 {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Err(format!(
            "not ready within {READY_TIMEOUT:?}: {}",
            self.log()
        ))
    }

    pub fn wait_ready(&mut self) {
        if let Err(e) = self.wait_ready_or_exit() {
            panic!("influxd: {e}");
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("influxd.log")).unwrap_or_default()
    }

    /// SIGKILL: no flush, no shutdown path.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait (bounded) for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
            panic!("influxd did not stop on SIGTERM within 30s");
        }
    }

    /// Starts the process again expecting it to refuse to start; returns its
    /// log (panics if it comes up instead).
    pub fn restart_expect_refusal(&mut self) -> String {
        self.kill9();
        self.spawn_process();
        match self.wait_ready_or_exit() {
            Ok(()) => panic!("influxd started but should have refused: {}", self.log()),
            Err(log) => log,
        }
    }

    /// Replaces the top-level `bind-address` (the RPC/backup address) in the
    /// configuration file; takes effect at the next start.
    pub fn set_rpc_bind_address(&self, addr: &str) {
        let text = std::fs::read_to_string(&self.config).expect("read config");
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let first = lines
            .iter()
            .position(|l| l.starts_with("bind-address"))
            .expect("top-level bind-address");
        lines[first] = format!("bind-address = \"{addr}\"");
        std::fs::write(&self.config, lines.join("\n") + "\n").expect("write config");
    }

    pub fn rpc_bind_address(&self) -> String {
        let text = std::fs::read_to_string(&self.config).expect("read config");
        text.lines()
            .find_map(|l| l.strip_prefix("bind-address = \""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("top-level bind-address")
            .to_string()
    }

    /// SIGTERM, then waits up to `limit` for the process to exit: how long
    /// it took, or None (the process is then killed).
    pub fn sigterm_and_wait(&mut self, limit: Duration) -> Option<Duration> {
        let mut c = self.child.take()?;
        let start = Instant::now();
        let _ = Command::new("kill").arg(c.id().to_string()).status();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = c.try_wait() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn request(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let url = format!("{}{}", self.url(), path_and_query);
        let result = match method {
            "GET" => {
                let mut r = self.agent.get(&url);
                for (k, v) in headers {
                    r = r.header(*k, *v);
                }
                r.call()
            }
            _ => {
                let mut r = self.agent.post(&url);
                for (k, v) in headers {
                    r = r.header(*k, *v);
                }
                r.send(body)
            }
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let mut bytes = Vec::new();
        resp.body_mut()
            .as_reader()
            .read_to_end(&mut bytes)
            .expect("read body");
        Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
            headers,
        }
    }

    pub fn write(&self, query: &str, body: &str) -> Reply {
        self.request("POST", &format!("/write?{query}"), &[], body.as_bytes())
    }

    pub fn query(&self, q: &str, params: &str) -> Reply {
        let enc = encode(q);
        self.request("POST", &format!("/query?q={enc}&{params}"), &[], b"")
    }
}

impl Drop for Influxd {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Form-encodes a query parameter value.
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
