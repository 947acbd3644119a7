//! One node of a test cluster: its spec (binary, config template, ports,
//! readiness probe), its directory (config, log, state), and its lifecycle:
//! start and wait until ready, kill -9, stop (SIGTERM, bounded), restart,
//! wipe. Owns no knowledge of other nodes: cluster-wide placeholders come
//! from the caller (see `cluster`).

use crate::http::HttpClient;
use crate::process::Process;
use crate::template::render;
use crate::wait::POLL_INTERVAL;
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Host every node binds to.
pub const HOST: &str = "127.0.0.1";

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Meta,
    Data,
}

impl Role {
    /// `"meta"` or `"data"` (as used in names and placeholders).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Meta => "meta",
            Role::Data => "data",
        }
    }
}

/// One port a node listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// Placeholder name: `{{port.NAME}}`, `{{addr.NAME}}`.
    pub name: String,
    /// Whether other nodes connect to it (then a cluster with proxied links
    /// puts a proxy in front of it for every other node).
    pub internal: bool,
}

/// How to tell that a started node is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// `GET path` on the named port answers 2xx.
    HttpOk { port: String, path: String },
    /// The named port accepts TCP connections.
    Listening { port: String },
}

/// How to run one kind of node. Templates use `{{placeholders}}`:
/// `name`, `index`, `role`, `dir` (state directory, removed by wipe),
/// `node_dir`, `config` (config path), `host`, `port.P`, `addr.P` (own
/// ports), and in a cluster `via.NODE.P`, `peers.ROLE.P`, `all.ROLE.P`
/// (see [`crate::cluster`]).
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub binary: PathBuf,
    /// Command-line arguments (templated).
    pub args: Vec<String>,
    /// Config file text (templated).
    pub config_template: String,
    /// Config file name inside the node directory.
    pub config_file: String,
    pub ports: Vec<PortSpec>,
    pub ready: Readiness,
    pub ready_timeout: Duration,
    pub stop_timeout: Duration,
    pub env: Vec<(String, String)>,
}

/// Config of a Tidemark/InfluxDB 1.x data node (`influxd`).
pub const INFLUXD_CONFIG: &str = r#"reporting-disabled = true
bind-address = "{{addr.rpc}}"
hostname = "{{host}}"

[meta]
  dir = "{{dir}}/meta"

[data]
  dir = "{{dir}}/data"
  wal-dir = "{{dir}}/wal"

[hinted-handoff]
  dir = "{{dir}}/hh"

[http]
  bind-address = "{{addr.http}}"
"#;

/// Config of a meta node (`influxd-meta`), in InfluxDB Enterprise's layout:
/// HTTP API on `http` (8091 in production), Raft on `raft` (8089).
pub const INFLUXD_META_CONFIG: &str = r#"reporting-disabled = true
hostname = "{{host}}"
bind-address = "{{addr.raft}}"

[meta]
  dir = "{{dir}}/meta"
  bind-address = "{{addr.raft}}"
  http-bind-address = "{{addr.http}}"
"#;

impl NodeSpec {
    /// A data node: `influxd run -config CONFIG`, ports `http` (client API,
    /// readiness via `/ping`) and `rpc` (internal).
    pub fn influxd(binary: impl Into<PathBuf>) -> NodeSpec {
        NodeSpec {
            binary: binary.into(),
            args: vec!["run".into(), "-config".into(), "{{config}}".into()],
            config_template: INFLUXD_CONFIG.into(),
            config_file: "influxdb.conf".into(),
            ports: vec![port("http", false), port("rpc", true)],
            ready: Readiness::HttpOk {
                port: "http".into(),
                path: "/ping".into(),
            },
            ready_timeout: Duration::from_secs(30),
            stop_timeout: Duration::from_secs(30),
            env: Vec::new(),
        }
    }

    /// A meta node: `influxd-meta -config CONFIG`, ports `http` (meta API,
    /// internal, readiness via `/ping`) and `raft` (internal).
    pub fn influxd_meta(binary: impl Into<PathBuf>) -> NodeSpec {
        NodeSpec {
            binary: binary.into(),
            args: vec!["-config".into(), "{{config}}".into()],
            config_template: INFLUXD_META_CONFIG.into(),
            config_file: "influxd-meta.conf".into(),
            ports: vec![port("http", true), port("raft", true)],
            ready: Readiness::HttpOk {
                port: "http".into(),
                path: "/ping".into(),
            },
            ready_timeout: Duration::from_secs(30),
            stop_timeout: Duration::from_secs(30),
            env: Vec::new(),
        }
    }

    /// Replaces the config template.
    pub fn with_config(mut self, template: impl Into<String>) -> NodeSpec {
        self.config_template = template.into();
        self
    }

    /// Appends TOML (templated) to the config, e.g. extra sections.
    pub fn with_extra_config(mut self, extra: &str) -> NodeSpec {
        self.config_template.push('\n');
        self.config_template.push_str(extra);
        self
    }

    /// Replaces the command-line arguments (templated).
    pub fn with_args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> NodeSpec {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Adds an environment variable.
    pub fn with_env(mut self, key: &str, value: &str) -> NodeSpec {
        self.env.push((key.into(), value.into()));
        self
    }
}

fn port(name: &str, internal: bool) -> PortSpec {
    PortSpec {
        name: name.into(),
        internal,
    }
}

/// A node's identity and ports, fixed for its lifetime (restarts keep them).
#[derive(Debug, Clone)]
pub struct NodeInit {
    pub name: String,
    pub role: Role,
    pub index: usize,
    pub ports: BTreeMap<String, u16>,
}

impl NodeInit {
    /// Allocates a free port for every port of `spec`.
    pub fn allocate(name: &str, role: Role, index: usize, spec: &NodeSpec) -> Result<NodeInit> {
        let nums = crate::ports::free_ports(spec.ports.len())?;
        Ok(NodeInit {
            name: name.into(),
            role,
            index,
            ports: spec
                .ports
                .iter()
                .map(|p| p.name.clone())
                .zip(nums)
                .collect(),
        })
    }
}

/// A node process with its directory. Dropping it kills the process.
#[derive(Debug)]
pub struct NodeHandle {
    init: NodeInit,
    spec: NodeSpec,
    node_dir: PathBuf,
    state_dir: PathBuf,
    config_path: PathBuf,
    process: Process,
    client: Option<HttpClient>,
}

impl NodeHandle {
    /// Creates the node's directory under `root` and writes its config;
    /// does not start it. `extra` resolves placeholders beyond the node's own.
    pub fn create(
        init: NodeInit,
        spec: NodeSpec,
        root: &Path,
        extra: &dyn Fn(&str) -> Option<String>,
    ) -> Result<NodeHandle> {
        let node_dir = root.join(&init.name);
        let state_dir = node_dir.join("state");
        let config_path = node_dir.join(&spec.config_file);
        std::fs::create_dir_all(&state_dir)
            .map_err(|e| Error::io(format!("create {}", state_dir.display()), e))?;
        let lookup = |name: &str| -> Option<String> {
            own_var(&init, &node_dir, &state_dir, &config_path, name).or_else(|| extra(name))
        };
        let config = render(&spec.config_template, &lookup)?;
        std::fs::write(&config_path, config)
            .map_err(|e| Error::io(format!("write {}", config_path.display()), e))?;
        let args = spec
            .args
            .iter()
            .map(|a| render(a, &lookup).map(Into::into))
            .collect::<Result<Vec<_>>>()?;
        let mut process = Process::new(
            init.name.clone(),
            spec.binary.clone(),
            args,
            node_dir.clone(),
            node_dir.join("node.log"),
        );
        for (k, v) in &spec.env {
            process.env(k, v);
        }
        let client = init
            .ports
            .get("http")
            .map(|p| HttpClient::new(format!("http://{HOST}:{p}"), Duration::from_secs(30)));
        Ok(NodeHandle {
            init,
            spec,
            node_dir,
            state_dir,
            config_path,
            process,
            client,
        })
    }

    /// A node on its own (no cluster placeholders): allocates ports, writes
    /// the config under `root`, starts it and waits until it is ready.
    ///
    /// Ports are picked free but released before the node binds them, so
    /// another test may grab one in between: a start that fails with
    /// "address in use" is retried on new ports (up to 3 attempts).
    pub fn start_standalone(
        name: &str,
        role: Role,
        spec: NodeSpec,
        root: &Path,
    ) -> Result<NodeHandle> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let init = NodeInit::allocate(name, role, 1, &spec)?;
            let mut node = NodeHandle::create(init, spec.clone(), root, &|_| None)?;
            match node.start() {
                Ok(()) => return Ok(node),
                Err(e) if attempt < 3 && is_port_clash(&e) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.init.name
    }

    pub fn role(&self) -> Role {
        self.init.role
    }

    /// 1-based index among the nodes of its role.
    pub fn index(&self) -> usize {
        self.init.index
    }

    /// The number of the named port (`"http"`, `"rpc"`, ...).
    pub fn port(&self, name: &str) -> Option<u16> {
        self.init.ports.get(name).copied()
    }

    /// The loopback address of the named port.
    pub fn addr(&self, name: &str) -> Option<SocketAddr> {
        self.port(name)
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
    }

    /// All ports by name.
    pub fn ports(&self) -> &BTreeMap<String, u16> {
        &self.init.ports
    }

    /// `http://127.0.0.1:<http port>` (empty if the node has no `http` port).
    pub fn url(&self) -> String {
        self.client
            .as_ref()
            .map(|c| c.base().to_string())
            .unwrap_or_default()
    }

    /// A client for the node's `http` port.
    pub fn client(&self) -> Result<&HttpClient> {
        self.client
            .as_ref()
            .ok_or_else(|| Error::Template(format!("node {} has no http port", self.name())))
    }

    /// The node's directory (config, `node.log`, `state/`).
    pub fn dir(&self) -> &Path {
        &self.node_dir
    }

    /// The state directory (`{{dir}}`), emptied by [`NodeHandle::wipe`].
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    pub fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Starts the process and waits (bounded) until it is ready.
    pub fn start(&mut self) -> Result<()> {
        self.spawn()?;
        self.wait_ready()
    }

    /// Starts the process without waiting (e.g. to start several meta
    /// nodes that need each other before any is ready).
    pub fn spawn(&mut self) -> Result<()> {
        self.process.spawn()
    }

    /// Polls the readiness probe until it succeeds, the process exits, or
    /// `ready_timeout` passes. Errors carry the log tail.
    pub fn wait_ready(&mut self) -> Result<()> {
        let timeout = self.spec.ready_timeout;
        let start = Instant::now();
        loop {
            if let Some(status) = self.process.exit_status() {
                return Err(Error::Exited {
                    node: self.name().into(),
                    status: status.to_string(),
                    log: self.process.last_start_excerpt(),
                });
            }
            if !self.process.is_running() {
                return Err(Error::NotRunning(self.name().into()));
            }
            let last = match self.probe() {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if start.elapsed() >= timeout {
                return Err(Error::NotReady {
                    node: self.name().into(),
                    waited: timeout,
                    last,
                    log: self.process.last_start_excerpt(),
                });
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    fn probe(&self) -> std::result::Result<(), String> {
        match &self.spec.ready {
            Readiness::HttpOk { port, path } => {
                let p = self.port(port).ok_or_else(|| format!("no port {port:?}"))?;
                let c = HttpClient::new(format!("http://{HOST}:{p}"), Duration::from_secs(2));
                match c.get(path) {
                    Ok(r) if r.is_success() => Ok(()),
                    Ok(r) => Err(format!("GET {path}: status {}", r.status)),
                    Err(e) => Err(e.to_string()),
                }
            }
            Readiness::Listening { port } => {
                let a = self.addr(port).ok_or_else(|| format!("no port {port:?}"))?;
                TcpStream::connect_timeout(&a, Duration::from_secs(1))
                    .map(|_| ())
                    .map_err(|e| format!("connect {a}: {e}"))
            }
        }
    }

    /// SIGKILL: no flush, no shutdown path. A no-op if not running.
    pub fn kill9(&mut self) -> Result<()> {
        self.process.kill9()
    }

    /// SIGTERM and a bounded wait for a clean exit.
    pub fn stop(&mut self) -> Result<()> {
        self.process.stop(self.spec.stop_timeout).map(|_| ())
    }

    /// Clean stop (SIGTERM) then start and wait until ready.
    pub fn restart(&mut self) -> Result<()> {
        self.stop()?;
        self.start()
    }

    /// kill -9 then start and wait until ready (crash recovery).
    pub fn kill_restart(&mut self) -> Result<()> {
        self.kill9()?;
        self.start()
    }

    /// Kills the node (if running) and deletes its state directory; config,
    /// ports and log stay. Start it again to get an empty node.
    pub fn wipe(&mut self) -> Result<()> {
        self.kill9()?;
        std::fs::remove_dir_all(&self.state_dir)
            .map_err(|e| Error::io(format!("remove {}", self.state_dir.display()), e))?;
        std::fs::create_dir_all(&self.state_dir)
            .map_err(|e| Error::io(format!("create {}", self.state_dir.display()), e))
    }

    /// The whole log (every start of this node).
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }
}

/// Whether a failed start looks like a lost race for a port.
pub(crate) fn is_port_clash(e: &Error) -> bool {
    match e {
        Error::Exited { log, .. } | Error::NotReady { log, .. } => {
            let l = log.to_ascii_lowercase();
            l.contains("address already in use") || l.contains("addrinuse")
        }
        _ => false,
    }
}

fn own_var(
    init: &NodeInit,
    node_dir: &Path,
    state_dir: &Path,
    config: &Path,
    name: &str,
) -> Option<String> {
    let v = match name {
        "name" => init.name.clone(),
        "index" => init.index.to_string(),
        "role" => init.role.as_str().into(),
        "dir" => state_dir.display().to_string(),
        "node_dir" => node_dir.display().to_string(),
        "config" => config.display().to_string(),
        "host" => HOST.into(),
        _ => {
            if let Some(p) = name.strip_prefix("port.") {
                init.ports.get(p)?.to_string()
            } else if let Some(p) = name.strip_prefix("addr.") {
                format!("{HOST}:{}", init.ports.get(p)?)
            } else {
                return None;
            }
        }
    };
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_clash_detection() {
        let clash = Error::Exited {
            node: "n".into(),
            status: "exit status: 1".into(),
            log: "Error: bind 127.0.0.1:1234: Address already in use (os error 98)".into(),
        };
        assert!(is_port_clash(&clash));
        let other = Error::Exited {
            node: "n".into(),
            status: "exit status: 1".into(),
            log: "parse config".into(),
        };
        assert!(!is_port_clash(&other));
    }

    #[test]
    fn own_placeholders() {
        let init = NodeInit {
            name: "data-2".into(),
            role: Role::Data,
            index: 2,
            ports: [("http".to_string(), 1234)].into_iter().collect(),
        };
        let v = |n: &str| {
            own_var(
                &init,
                Path::new("/n"),
                Path::new("/n/state"),
                Path::new("/n/c.conf"),
                n,
            )
        };
        assert_eq!(v("addr.http").unwrap(), "127.0.0.1:1234");
        assert_eq!(v("port.http").unwrap(), "1234");
        assert_eq!(v("dir").unwrap(), "/n/state");
        assert_eq!(v("role").unwrap(), "data");
        assert_eq!(v("index").unwrap(), "2");
        assert_eq!(v("port.rpc"), None);
    }
}
