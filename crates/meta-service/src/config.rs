//! The meta node's TOML configuration with InfluxDB Enterprise's option
//! names (`hostname`, `[meta] dir`, `bind-address`, `http-bind-address`,
//! `election-timeout`, `lease-duration`, ...), its defaults, validation,
//! and the addresses other nodes reach it at. No sockets are opened here.

use crate::duration;
use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A duration written the Go way in the config file (`"1m0s"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(pub Duration);

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&duration::format(self.0))
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        duration::parse(&s)
            .map(GoDuration)
            .map_err(serde::de::Error::custom)
    }
}

fn secs(n: u64) -> GoDuration {
    GoDuration(Duration::from_secs(n))
}

fn millis(n: u64) -> GoDuration {
    GoDuration(Duration::from_millis(n))
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Config {
    pub reporting_disabled: bool,
    /// Not used (Enterprise keeps it for compatibility).
    pub bind_address: String,
    /// The name other nodes reach this one by.
    pub hostname: String,
    pub meta: MetaConfig,
}

/// The `[meta]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct MetaConfig {
    pub dir: PathBuf,
    /// Raft (meta-to-meta) listener.
    pub bind_address: String,
    /// HTTP API listener.
    pub http_bind_address: String,
    pub https_enabled: bool,
    pub https_certificate: String,
    pub https_private_key: String,
    pub https_insecure_tls: bool,
    pub data_use_tls: bool,
    pub data_insecure_tls: bool,
    pub gossip_frequency: GoDuration,
    pub announcement_expiration: GoDuration,
    pub retention_autocreate: bool,
    pub election_timeout: GoDuration,
    pub heartbeat_timeout: GoDuration,
    pub leader_lease_timeout: GoDuration,
    pub consensus_timeout: GoDuration,
    pub commit_timeout: GoDuration,
    pub cluster_tracing: bool,
    pub pprof_enabled: bool,
    pub lease_duration: GoDuration,
    pub auth_enabled: bool,
    pub ldap_allowed: bool,
    pub shared_secret: String,
    pub internal_shared_secret: String,
    pub password_hash: String,
    pub ensure_fips: bool,
    /// Tidemark: committed log entries between automatic snapshots (after
    /// which the log before the snapshot is purged).
    pub raft_snapshot_threshold: u64,
    /// Tidemark, for tests: peer Raft address -> address to dial instead
    /// (a fault-injecting proxy in front of that peer). Empty in production.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub dial_overrides: std::collections::BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reporting_disabled: false,
            bind_address: String::new(),
            hostname: "localhost".to_string(),
            meta: MetaConfig::default(),
        }
    }
}

impl Default for MetaConfig {
    fn default() -> Self {
        MetaConfig {
            dir: PathBuf::from("/var/lib/influxdb/meta"),
            bind_address: ":8089".to_string(),
            http_bind_address: ":8091".to_string(),
            https_enabled: false,
            https_certificate: String::new(),
            https_private_key: String::new(),
            https_insecure_tls: false,
            data_use_tls: false,
            data_insecure_tls: false,
            gossip_frequency: secs(5),
            announcement_expiration: secs(30),
            retention_autocreate: true,
            election_timeout: secs(1),
            heartbeat_timeout: secs(1),
            leader_lease_timeout: millis(500),
            consensus_timeout: secs(30),
            commit_timeout: millis(50),
            cluster_tracing: false,
            pprof_enabled: true,
            lease_duration: secs(60),
            auth_enabled: false,
            ldap_allowed: false,
            shared_secret: String::new(),
            internal_shared_secret: String::new(),
            password_hash: "bcrypt".to_string(),
            ensure_fips: false,
            raft_snapshot_threshold: 1000,
            dial_overrides: Default::default(),
        }
    }
}

impl Config {
    /// Parses and validates a config file's text.
    pub fn parse(text: &str) -> Result<Config> {
        let cfg: Config = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Loads `path`, then applies `INFLUXDB_HOSTNAME` / `INFLUXDB_META_*`
    /// environment overrides.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| Error::Config(e.to_string()))?;
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Applies environment overrides read through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(h) = get("INFLUXDB_HOSTNAME") {
            self.hostname = h;
        }
        let m = &mut self.meta;
        let dur = |k: &str, v: &mut GoDuration| -> Result<()> {
            if let Some(s) = get(k) {
                *v = GoDuration(
                    duration::parse(&s).map_err(|e| Error::Config(format!("{k}: {e}")))?,
                );
            }
            Ok(())
        };
        if let Some(v) = get("INFLUXDB_META_DIR") {
            m.dir = PathBuf::from(v);
        }
        if let Some(v) = get("INFLUXDB_META_BIND_ADDRESS") {
            m.bind_address = v;
        }
        if let Some(v) = get("INFLUXDB_META_HTTP_BIND_ADDRESS") {
            m.http_bind_address = v;
        }
        if let Some(v) = get("INFLUXDB_META_INTERNAL_SHARED_SECRET") {
            m.internal_shared_secret = v;
        }
        if let Some(v) = get("INFLUXDB_META_AUTH_ENABLED") {
            m.auth_enabled = v == "true";
        }
        dur("INFLUXDB_META_ELECTION_TIMEOUT", &mut m.election_timeout)?;
        dur("INFLUXDB_META_HEARTBEAT_TIMEOUT", &mut m.heartbeat_timeout)?;
        dur("INFLUXDB_META_LEASE_DURATION", &mut m.lease_duration)?;
        dur("INFLUXDB_META_COMMIT_TIMEOUT", &mut m.commit_timeout)?;
        Ok(())
    }

    pub fn validate(&self) -> Result<()> {
        let m = &self.meta;
        if m.election_timeout.0 < Duration::from_millis(10) {
            return Err(Error::Config(
                "election-timeout must be at least 10ms".into(),
            ));
        }
        if m.heartbeat_timeout.0 < Duration::from_millis(10) {
            return Err(Error::Config(
                "heartbeat-timeout must be at least 10ms".into(),
            ));
        }
        if m.lease_duration.0.is_zero() {
            return Err(Error::Config("lease-duration must be positive".into()));
        }
        if m.auth_enabled && m.internal_shared_secret.is_empty() {
            return Err(Error::Config(
                "internal-shared-secret must be set when auth-enabled is true".into(),
            ));
        }
        if m.https_enabled {
            return Err(Error::Config("https-enabled is not supported yet".into()));
        }
        parse_bind(&m.bind_address)?;
        parse_bind(&m.http_bind_address)?;
        Ok(())
    }

    /// The defaults as TOML (what `influxd-meta config` prints).
    pub fn defaults_toml() -> String {
        toml::to_string(&Config::default()).unwrap_or_default()
    }

    /// Socket address to listen on for Raft.
    pub fn raft_listen(&self) -> Result<String> {
        parse_bind(&self.meta.bind_address)
    }

    /// Socket address to listen on for HTTP.
    pub fn http_listen(&self) -> Result<String> {
        parse_bind(&self.meta.http_bind_address)
    }

    /// `hostname:port` other nodes reach the Raft listener at.
    pub fn raft_advertise(&self) -> Result<String> {
        advertise(&self.hostname, &self.meta.bind_address)
    }

    /// `hostname:port` other nodes reach the HTTP API at.
    pub fn http_advertise(&self) -> Result<String> {
        advertise(&self.hostname, &self.meta.http_bind_address)
    }

    /// openraft settings derived from the Enterprise timeouts: a follower
    /// calls an election after `heartbeat-timeout` (randomised up to twice
    /// that) without hearing from a leader, the leader heartbeats five times
    /// per `election-timeout`.
    pub fn raft_config(&self) -> Result<openraft::Config> {
        let m = &self.meta;
        let election = m.heartbeat_timeout.0.max(m.election_timeout.0).as_millis() as u64;
        let heartbeat = (m.election_timeout.0.as_millis() as u64 / 5).clamp(5, election / 3);
        let cfg = openraft::Config {
            cluster_name: "tidemark-meta".to_string(),
            election_timeout_min: election,
            election_timeout_max: election * 2,
            heartbeat_interval: heartbeat.max(1),
            install_snapshot_timeout: 10_000,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(
                m.raft_snapshot_threshold.max(1),
            ),
            max_in_snapshot_log_to_keep: 0,
            snapshot_max_chunk_size: crate::network::RAFT_SNAPSHOT_CHUNK_BYTES,
            max_payload_entries: crate::network::RAFT_MAX_PAYLOAD_ENTRIES,
            ..Default::default()
        };
        cfg.validate().map_err(|e| Error::Config(e.to_string()))
    }
}

/// `":8089"` → `"0.0.0.0:8089"`; `"host:port"` unchanged.
fn parse_bind(addr: &str) -> Result<String> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| Error::Config(format!("invalid bind address {addr:?}")))?;
    port.parse::<u16>()
        .map_err(|_| Error::Config(format!("invalid bind address {addr:?}")))?;
    Ok(if host.is_empty() {
        format!("0.0.0.0:{port}")
    } else {
        addr.to_string()
    })
}

fn advertise(hostname: &str, bind: &str) -> Result<String> {
    let listen = parse_bind(bind)?;
    let (host, port) = listen
        .rsplit_once(':')
        .ok_or_else(|| Error::Config(format!("invalid bind address {bind:?}")))?;
    let host = if hostname.is_empty() { host } else { hostname };
    Ok(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_use_enterprise_names() {
        let text = Config::defaults_toml();
        assert!(text.contains("http-bind-address = \":8091\""), "{text}");
        assert!(text.contains("lease-duration = \"1m0s\""), "{text}");
        assert!(text.contains("election-timeout = \"1s\""), "{text}");
        assert_eq!(Config::parse(&text).unwrap(), Config::default());
    }

    #[test]
    fn invalid_duration_is_refused() {
        let err = Config::parse("[meta]\nelection-timeout = \"fast\"\n").unwrap_err();
        assert!(err.to_string().contains("invalid duration"), "{err}");
    }

    #[test]
    fn addresses() {
        let mut c = Config {
            hostname: "meta1".into(),
            ..Default::default()
        };
        assert_eq!(c.raft_advertise().unwrap(), "meta1:8089");
        assert_eq!(c.http_listen().unwrap(), "0.0.0.0:8091");
        c.meta.http_bind_address = "nope".into();
        assert!(c.validate().is_err());
    }

    #[test]
    fn auth_needs_a_secret() {
        let err = Config::parse("[meta]\nauth-enabled = true\n").unwrap_err();
        assert!(err.to_string().contains("internal-shared-secret"));
    }

    #[test]
    fn raft_config_is_valid() {
        let c = Config::default().raft_config().unwrap();
        assert_eq!(c.election_timeout_min, 1000);
        assert!(c.heartbeat_interval < c.election_timeout_min);
    }
}
