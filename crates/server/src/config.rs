//! The data node's TOML configuration, with InfluxDB 1.x / Enterprise section
//! and option names (`[meta]`, `[data]`, `[coordinator]`, `[retention]`,
//! `[shard-precreation]`, `[http]`, `[continuous_queries]`,
//! `[hinted-handoff]`, `[cluster]`), its defaults, and the text
//! `influxd config` prints. Durations accept Go syntax (`"10m"`, `"100ms"`,
//! `"1h30m"`); sizes accept bytes or `k`/`m`/`g` suffixes, as InfluxDB does.
//!
//! Parsing and defaults only: no component is started here.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A duration written the Go way in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GoDuration(pub Duration);

/// A byte size written as an integer or with a k/m/g suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Size(pub u64);

/// Parses Go duration syntax (`10m`, `1h30m`, `100ms`; a bare `0` is zero).
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    models::go_duration::parse(s).ok()
}

/// Formats a duration the way Go prints it (`10m0s`, `1h0m0s`, `100ms`, `0s`).
pub fn format_go_duration(d: Duration) -> String {
    models::go_duration::format(d)
}

fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&s[..i], 1 << 20),
        (i, 'g' | 'G') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"10s\" or \"1h30m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GoDuration, E> {
                parse_go_duration(v)
                    .map(GoDuration)
                    .ok_or_else(|| E::custom(format!("invalid duration {v:?}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<GoDuration, E> {
                u64::try_from(v)
                    .map(|n| GoDuration(Duration::from_nanos(n)))
                    .map_err(|_| E::custom("negative duration"))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_go_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size in bytes, or with a k/m/g suffix")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Size, E> {
                parse_size(v)
                    .map(Size)
                    .ok_or_else(|| E::custom(format!("invalid size {v:?}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Size, E> {
                u64::try_from(v)
                    .map(Size)
                    .map_err(|_| E::custom("negative size"))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

fn dur(s: &str) -> GoDuration {
    GoDuration(parse_go_duration(s).unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Config {
    pub reporting_disabled: bool,
    /// TCP address of the node (cluster RPC), `:8088` by default.
    pub bind_address: String,
    pub hostname: String,
    pub meta: MetaSection,
    pub data: DataSection,
    pub coordinator: CoordinatorSection,
    pub retention: RetentionSection,
    pub shard_precreation: ShardPrecreationSection,
    pub http: HttpSection,
    #[serde(rename = "continuous_queries")]
    pub continuous_queries: ContinuousQueriesSection,
    pub hinted_handoff: HintedHandoffSection,
    pub cluster: ClusterSection,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct MetaSection {
    pub dir: PathBuf,
    pub retention_autocreate: bool,
    pub logging_enabled: bool,
    /// Meta service HTTP addresses for a clustered data node (empty:
    /// standalone, with the metadata embedded).
    pub meta_servers: Vec<String>,
    pub meta_auth_enabled: bool,
    pub meta_internal_shared_secret: String,
}

impl MetaSection {
    /// H1: a clustered data node that authenticates its users takes them
    /// from the meta nodes, so it refuses to start unless it also talks to
    /// them with a shared secret — otherwise anyone who reaches a meta node
    /// could create an admin and `auth-enabled` would protect nothing.
    pub fn check_cluster_auth(&self, http_auth_enabled: bool) -> Result<(), String> {
        if http_auth_enabled
            && !self.meta_servers.is_empty()
            && self.meta_internal_shared_secret.is_empty()
        {
            return Err(
                "[http] auth-enabled = true on a clustered data node ([meta] meta-servers \
                 is set) needs [meta] meta-internal-shared-secret: set it to the meta nodes' \
                 [meta] internal-shared-secret and enable auth-enabled on the meta nodes, or \
                 anyone who can reach a meta node can create an admin user"
                    .to_string(),
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct DataSection {
    pub dir: PathBuf,
    pub wal_dir: PathBuf,
    pub wal_fsync_delay: GoDuration,
    pub query_log_enabled: bool,
    pub cache_max_memory_size: Size,
    pub cache_snapshot_memory_size: Size,
    pub cache_snapshot_write_cold_duration: GoDuration,
    pub compact_full_write_cold_duration: GoDuration,
    pub max_concurrent_compactions: u64,
    pub max_series_per_database: u64,
    pub max_values_per_tag: u64,
    /// Tidemark's own limits (0 = unlimited); InfluxDB 1.x has no options
    /// for them.
    pub max_tags_per_series: u64,
    pub max_fields_per_measurement: u64,
    pub max_string_field_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct CoordinatorSection {
    pub write_timeout: GoDuration,
    pub max_concurrent_queries: u64,
    pub query_timeout: GoDuration,
    pub log_queries_after: GoDuration,
    pub max_select_point: u64,
    pub max_select_series: u64,
    pub max_select_buckets: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct RetentionSection {
    pub enabled: bool,
    pub check_interval: GoDuration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct ShardPrecreationSection {
    pub enabled: bool,
    pub check_interval: GoDuration,
    pub advance_period: GoDuration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct HttpSection {
    pub enabled: bool,
    pub bind_address: String,
    pub auth_enabled: bool,
    pub realm: String,
    pub log_enabled: bool,
    pub write_tracing: bool,
    pub pprof_enabled: bool,
    pub https_enabled: bool,
    pub https_certificate: String,
    pub https_private_key: String,
    pub shared_secret: String,
    pub max_row_limit: u64,
    pub max_connection_limit: u64,
    pub unix_socket_enabled: bool,
    pub max_body_size: u64,
    pub max_concurrent_write_limit: u64,
    pub max_enqueued_write_limit: u64,
    pub enqueued_write_timeout: GoDuration,
    /// With `auth-enabled`, `/debug/pprof` and `/debug/vars` need an admin
    /// user (InfluxDB 1.8's option; Tidemark defaults it to true).
    pub pprof_auth_enabled: bool,
    /// With `auth-enabled`, `/ping` needs a user (InfluxDB 1.8).
    pub ping_auth_enabled: bool,
    /// InfluxDB 1.8's startup profiler on localhost:6060; refused (not
    /// supported), use `pprof-enabled`.
    pub debug_pprof_enabled: bool,
    /// From a request's first byte to its complete head; 0: no limit.
    pub read_header_timeout: GoDuration,
    /// Reading a request body, from the handler's first read; 0: no limit.
    pub read_timeout: GoDuration,
    /// A keep-alive connection waiting for its next request is closed
    /// after this; 0: never.
    pub idle_timeout: GoDuration,
    /// A response the client does not read for this long is abandoned (and
    /// a streamed query stopped); 0: no limit.
    pub write_timeout: GoDuration,
    /// `[http]` options of InfluxDB (or typos) Tidemark does not know:
    /// kept to be named in a warning at start, never printed back.
    #[serde(flatten, skip_serializing)]
    pub unknown: std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct ContinuousQueriesSection {
    pub enabled: bool,
    pub log_enabled: bool,
    pub query_stats_enabled: bool,
    pub run_interval: GoDuration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct HintedHandoffSection {
    pub enabled: bool,
    pub dir: PathBuf,
    pub max_size: Size,
    pub max_age: GoDuration,
    pub retry_concurrency: u64,
    pub retry_rate_limit: u64,
    pub retry_interval: GoDuration,
    pub retry_max_interval: GoDuration,
    pub purge_interval: GoDuration,
    pub batch_size: u64,
    pub max_writes_pending: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct ClusterSection {
    pub dial_timeout: GoDuration,
    pub pool_max_idle_time: GoDuration,
    pub pool_max_idle_streams: u64,
    /// Peer TCP address → address actually dialled (for the test rig's
    /// fault proxies), like `[meta] dial-overrides` on meta nodes.
    pub dial_overrides: std::collections::BTreeMap<String, String>,
    pub shard_reader_timeout: GoDuration,
    pub cluster_tracing: bool,
    pub write_timeout: GoDuration,
    pub max_concurrent_queries: u64,
    pub query_timeout: GoDuration,
    pub log_queries_after: GoDuration,
    pub max_select_point: u64,
    pub max_select_series: u64,
    pub max_select_buckets: u64,
}

fn base_dir() -> PathBuf {
    PathBuf::from("/var/lib/influxdb")
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reporting_disabled: false,
            bind_address: ":8088".into(),
            hostname: "localhost".into(),
            meta: MetaSection::default(),
            data: DataSection::default(),
            coordinator: CoordinatorSection::default(),
            retention: RetentionSection::default(),
            shard_precreation: ShardPrecreationSection::default(),
            http: HttpSection::default(),
            continuous_queries: ContinuousQueriesSection::default(),
            hinted_handoff: HintedHandoffSection::default(),
            cluster: ClusterSection::default(),
        }
    }
}

impl Default for MetaSection {
    fn default() -> Self {
        MetaSection {
            dir: base_dir().join("meta"),
            retention_autocreate: true,
            logging_enabled: true,
            meta_servers: Vec::new(),
            meta_auth_enabled: false,
            meta_internal_shared_secret: String::new(),
        }
    }
}

impl Default for DataSection {
    fn default() -> Self {
        DataSection {
            dir: base_dir().join("data"),
            wal_dir: base_dir().join("wal"),
            wal_fsync_delay: GoDuration(Duration::ZERO),
            query_log_enabled: true,
            cache_max_memory_size: Size(1 << 30),
            cache_snapshot_memory_size: Size(25 << 20),
            cache_snapshot_write_cold_duration: dur("10m"),
            compact_full_write_cold_duration: dur("4h"),
            max_concurrent_compactions: 0,
            max_series_per_database: 1_000_000,
            max_values_per_tag: 100_000,
            max_tags_per_series: tsdb::DEFAULT_MAX_TAGS_PER_SERIES,
            max_fields_per_measurement: tsdb::DEFAULT_MAX_FIELDS_PER_MEASUREMENT,
            max_string_field_bytes: tsdb::DEFAULT_MAX_STRING_FIELD_BYTES,
        }
    }
}

impl Default for CoordinatorSection {
    fn default() -> Self {
        CoordinatorSection {
            write_timeout: dur("10s"),
            max_concurrent_queries: 0,
            query_timeout: dur("0s"),
            log_queries_after: dur("0s"),
            max_select_point: 0,
            max_select_series: 0,
            max_select_buckets: 0,
        }
    }
}

impl Default for RetentionSection {
    fn default() -> Self {
        RetentionSection {
            enabled: true,
            check_interval: dur("30m"),
        }
    }
}

impl Default for ShardPrecreationSection {
    fn default() -> Self {
        ShardPrecreationSection {
            enabled: true,
            check_interval: dur("10m"),
            advance_period: dur("30m"),
        }
    }
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            enabled: true,
            bind_address: ":8086".into(),
            auth_enabled: false,
            realm: "InfluxDB".into(),
            log_enabled: true,
            write_tracing: false,
            pprof_enabled: true,
            https_enabled: false,
            https_certificate: "/etc/ssl/influxdb.pem".into(),
            https_private_key: String::new(),
            shared_secret: String::new(),
            max_row_limit: 0,
            max_connection_limit: 0,
            unix_socket_enabled: false,
            max_body_size: 25_000_000,
            max_concurrent_write_limit: 0,
            max_enqueued_write_limit: 0,
            enqueued_write_timeout: dur("30s"),
            pprof_auth_enabled: true,
            ping_auth_enabled: false,
            debug_pprof_enabled: false,
            read_header_timeout: dur("10s"),
            read_timeout: dur("5m"),
            idle_timeout: dur("3m"),
            write_timeout: dur("30s"),
            unknown: Default::default(),
        }
    }
}

impl Default for ContinuousQueriesSection {
    fn default() -> Self {
        ContinuousQueriesSection {
            enabled: true,
            log_enabled: true,
            query_stats_enabled: false,
            run_interval: dur("1s"),
        }
    }
}

impl Default for HintedHandoffSection {
    fn default() -> Self {
        HintedHandoffSection {
            enabled: true,
            dir: base_dir().join("hh"),
            max_size: Size(10 << 30),
            max_age: dur("168h"),
            retry_concurrency: 20,
            retry_rate_limit: 0,
            retry_interval: dur("1s"),
            retry_max_interval: dur("200s"),
            purge_interval: dur("1m"),
            batch_size: 512_000,
            max_writes_pending: 1024,
        }
    }
}

impl Default for ClusterSection {
    fn default() -> Self {
        ClusterSection {
            dial_timeout: dur("1s"),
            pool_max_idle_time: dur("60s"),
            pool_max_idle_streams: 100,
            dial_overrides: Default::default(),
            shard_reader_timeout: dur("0s"),
            cluster_tracing: false,
            write_timeout: dur("10s"),
            max_concurrent_queries: 0,
            query_timeout: dur("0s"),
            log_queries_after: dur("0s"),
            max_select_point: 0,
            max_select_series: 0,
            max_select_buckets: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parse config {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl Config {
    /// Loads a config file; options it does not set keep their defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The TOML text `influxd config` prints.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }
}

impl HttpSection {
    /// The `[http]` options in the file that Tidemark does not know, for a
    /// warning at start (an InfluxDB 1.8 file has several, e.g.
    /// `flux-enabled`, `max-header-bytes`, `access-log-path`).
    pub fn unknown_options(&self) -> Vec<String> {
        self.unknown.keys().cloned().collect()
    }

    /// Refuses `[http]` options that are parsed but not implemented, so an
    /// operator never believes a setting protects them when it does not.
    pub fn check_supported(&self) -> Result<(), String> {
        let refuse = |opt: &str, why: &str| Err(format!("[http] {opt}: {why}"));
        if !self.enabled {
            return refuse(
                "enabled = false",
                "a data node always serves its HTTP API; set enabled = true",
            );
        }
        if self.https_enabled {
            // Serving plain HTTP when the operator asked for HTTPS would
            // send credentials in clear text.
            return refuse(
                "https-enabled = true",
                "not supported yet; terminate TLS in a proxy in front of influxd, or set https-enabled = false",
            );
        }
        if self.unix_socket_enabled {
            return refuse(
                "unix-socket-enabled = true",
                "not supported; serve on bind-address, or set unix-socket-enabled = false",
            );
        }
        if self.debug_pprof_enabled {
            return refuse(
                "debug-pprof-enabled = true",
                "the startup profiler on localhost:6060 is not supported; use pprof-enabled (/debug/pprof on the HTTP API)",
            );
        }
        if self.write_tracing {
            return refuse(
                "write-tracing = true",
                "not supported; set write-tracing = false",
            );
        }
        Ok(())
    }
}

/// Turns a Go-style listen address (`:8086`) into one a socket can bind.
pub fn bind_addr(addr: &str) -> String {
    if let Some(port) = addr.strip_prefix(':') {
        format!("0.0.0.0:{port}")
    } else {
        addr.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("5x"), None);
        assert_eq!(format_go_duration(Duration::from_secs(600)), "10m0s");
        assert_eq!(format_go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format_go_duration(Duration::from_millis(100)), "100ms");
        assert_eq!(format_go_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("25m"), Some(25 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("x"), None);
    }

    #[test]
    fn influxdb_config_file_parses_and_defaults_fill_gaps() {
        let cfg = Config::parse(
            r#"
reporting-disabled = true
bind-address = "127.0.0.1:8088"
[meta]
  dir = "/tmp/m"
[data]
  dir = "/tmp/d"
  wal-dir = "/tmp/w"
  wal-fsync-delay = "5ms"
  cache-max-memory-size = "512m"
  cache-snapshot-memory-size = 1048576
  unknown-option-from-a-newer-version = 1
[http]
  bind-address = ":9999"
  max-body-size = 100
[continuous_queries]
  run-interval = "2s"
[hinted-handoff]
  dir = "/tmp/hh"
"#,
        )
        .unwrap();
        assert!(cfg.reporting_disabled);
        assert_eq!(cfg.data.wal_fsync_delay.0, Duration::from_millis(5));
        assert_eq!(cfg.data.cache_max_memory_size.0, 512 << 20);
        assert_eq!(cfg.data.cache_snapshot_memory_size.0, 1 << 20);
        assert_eq!(cfg.http.bind_address, ":9999");
        assert_eq!(cfg.http.max_body_size, 100);
        assert_eq!(
            cfg.continuous_queries.run_interval.0,
            Duration::from_secs(2)
        );
        assert_eq!(cfg.retention.check_interval.0, Duration::from_secs(1800));
        assert_eq!(cfg.data.max_series_per_database, 1_000_000);
    }

    #[test]
    fn h1_clustered_auth_needs_the_meta_secret() {
        let mut m = MetaSection::default();
        assert!(m.check_cluster_auth(true).is_ok(), "standalone");
        m.meta_servers = vec!["meta1:8091".into()];
        assert!(m.check_cluster_auth(false).is_ok());
        let err = m.check_cluster_auth(true).unwrap_err();
        assert!(err.contains("meta-internal-shared-secret"), "{err}");
        m.meta_internal_shared_secret = "s3cret".into();
        assert!(m.check_cluster_auth(true).is_ok());
    }

    #[test]
    fn m6_unknown_http_options_are_named_not_silently_dropped() {
        let cfg = Config::parse(
            "[http]\n  max-header-bytes = 1048576\n  flux-enabled = false\n  max-row-limit = 5\n  read-timeout = \"1s\"\n  max-body-size = 1000\n",
        )
        .unwrap();
        assert_eq!(cfg.http.max_row_limit, 5);
        assert_eq!(cfg.http.read_timeout.0, Duration::from_secs(1));
        assert_eq!(
            cfg.http.unknown_options(),
            vec!["flux-enabled".to_string(), "max-header-bytes".to_string()]
        );
        // Known options only are printed back.
        assert!(!cfg.to_toml().contains("flux-enabled"));
        assert!(Config::default().http.unknown_options().is_empty());
    }

    #[test]
    fn bad_values_are_reported() {
        let err = Config::parse("[data]\nwal-fsync-delay = \"soon\"\n").unwrap_err();
        assert!(err.contains("invalid duration"), "{err}");
    }

    #[test]
    fn printed_defaults_parse_back_to_defaults() {
        let text = Config::default().to_toml();
        assert!(text.contains("[hinted-handoff]"));
        assert!(text.contains("[continuous_queries]"));
        assert!(text.contains("cache-snapshot-write-cold-duration = \"10m0s\""));
        assert_eq!(Config::parse(&text).unwrap(), Config::default());
    }
}
