//! The data node's counters and configuration, in the shapes SHOW STATS,
//! SHOW DIAGNOSTICS and `/debug/vars` share (InfluxDB's module names:
//! `httpd`, `write`, `shard`, `build`, `config-data`, `system`, ...).
//!
//! Owns: collecting and naming. Must not: format HTTP responses.

use crate::config::format_go_duration;
use crate::node::Node;
use query::result::{Series, Value};
use query::{Statistic, SystemInfo};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

fn int(v: u64) -> Value {
    Value::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

fn text(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

fn dur(d: std::time::Duration) -> Value {
    text(format_go_duration(d))
}

/// One diagnostics series of a single row, columns sorted as InfluxDB
/// sorts them.
fn module(name: &str, mut pairs: Vec<(&str, Value)>) -> Series {
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let (columns, row): (Vec<&str>, Vec<Value>) = pairs.into_iter().unzip();
    Series {
        name: name.into(),
        columns: columns.into_iter().map(String::from).collect(),
        values: vec![row],
        ..Default::default()
    }
}

impl SystemInfo for Node {
    fn statistics(&self) -> Vec<Statistic> {
        let h = &self.http_stats;
        let w = &self.writer.stats;
        let mut out = vec![
            Statistic {
                name: "httpd".into(),
                tags: BTreeMap::from([("bind".to_string(), self.config.http.bind_address.clone())]),
                values: vec![
                    (
                        "req".into(),
                        int(h.write_req.load(Relaxed) + h.query_req.load(Relaxed)),
                    ),
                    ("writeReq".into(), int(h.write_req.load(Relaxed))),
                    ("writeReqBytes".into(), int(h.write_req_bytes.load(Relaxed))),
                    ("queryReq".into(), int(h.query_req.load(Relaxed))),
                    (
                        "uptimeSeconds".into(),
                        int(self.started.elapsed().as_secs()),
                    ),
                ],
            },
            Statistic {
                name: "write".into(),
                tags: BTreeMap::new(),
                values: vec![
                    ("req".into(), int(w.req.load(Relaxed))),
                    ("pointReq".into(), int(w.point_req.load(Relaxed))),
                    ("pointReqLocal".into(), int(w.point_req_local.load(Relaxed))),
                    (
                        "pointReqRemote".into(),
                        int(w.point_req_remote.load(Relaxed)),
                    ),
                    ("pointReqHH".into(), int(w.point_req_hh.load(Relaxed))),
                    ("writeOk".into(), int(w.write_ok.load(Relaxed))),
                    ("writeError".into(), int(w.write_error.load(Relaxed))),
                    ("writeDrop".into(), int(w.write_drop.load(Relaxed))),
                    ("writePartial".into(), int(w.write_partial.load(Relaxed))),
                    ("writeTimeout".into(), int(w.write_timeout.load(Relaxed))),
                ],
            },
        ];
        let p = &self.peer_stats;
        out.push(Statistic {
            name: "cluster".into(),
            tags: BTreeMap::new(),
            values: vec![
                ("writeShardReq".into(), int(p.write_shard_req.load(Relaxed))),
                (
                    "writeShardPointsReq".into(),
                    int(p.write_shard_points_req.load(Relaxed)),
                ),
                (
                    "writeShardFail".into(),
                    int(p.write_shard_fail.load(Relaxed)),
                ),
                ("refusedReq".into(), int(p.refused.load(Relaxed))),
            ],
        });
        if let Some(links) = &self.cluster {
            let hh = &links.hh;
            out.push(Statistic {
                name: "hh".into(),
                tags: BTreeMap::from([("path".to_string(), hh.config().dir.display().to_string())]),
                values: vec![
                    (
                        "writeShardReq".into(),
                        int(hh.write_shard_req.load(Relaxed)),
                    ),
                    (
                        "writeShardReqPoints".into(),
                        int(hh.write_shard_req_points.load(Relaxed)),
                    ),
                ],
            });
            for s in hh.snapshot() {
                let mut values = vec![
                    ("queueBytes".to_string(), int(s.queue_bytes)),
                    ("queueDepth".to_string(), int(s.queue_depth)),
                ];
                values.extend(s.counters.iter().map(|(k, v)| (k.to_string(), int(*v))));
                out.push(Statistic {
                    name: "hh_processor".into(),
                    tags: BTreeMap::from([("node".to_string(), s.node.to_string())]),
                    values,
                });
            }
        }
        for s in self.store.statistics() {
            out.push(Statistic {
                name: "shard".into(),
                tags: BTreeMap::from([
                    ("id".to_string(), s.id.to_string()),
                    ("database".to_string(), s.database),
                    ("retentionPolicy".to_string(), s.retention_policy),
                    ("path".to_string(), s.path.display().to_string()),
                    ("engine".to_string(), "tsm1".to_string()),
                ]),
                values: vec![
                    ("seriesCreate".into(), int(s.series)),
                    ("measurements".into(), int(s.measurements)),
                    ("writePointsOk".into(), int(s.points_written)),
                    ("writeValuesOk".into(), int(s.values_written)),
                    ("writeReq".into(), int(s.write_requests)),
                    ("writeReqErr".into(), int(s.write_errors)),
                    ("diskBytes".into(), int(s.disk_bytes)),
                    ("cacheBytes".into(), int(s.cache_bytes)),
                    ("walBytes".into(), int(s.wal_bytes)),
                    ("snapshots".into(), int(s.snapshots)),
                    ("compactions".into(), int(s.compactions)),
                ],
            });
        }
        let failed = self.store.failed_shards();
        out.push(Statistic {
            name: "tsdb".into(),
            tags: BTreeMap::new(),
            values: vec![("failedShards".into(), int(failed.len() as u64))],
        });
        for f in failed {
            out.push(Statistic {
                name: "failed_shard".into(),
                tags: BTreeMap::from([
                    ("id".to_string(), f.id.to_string()),
                    ("database".to_string(), f.database),
                    ("retentionPolicy".to_string(), f.retention_policy),
                    ("path".to_string(), f.path.display().to_string()),
                ]),
                values: vec![("error".into(), text(f.error))],
            });
        }
        let unplaced = self.unplaced_shards.lock().clone();
        out.push(Statistic {
            name: "retention".into(),
            tags: BTreeMap::new(),
            values: vec![("unplacedShards".into(), int(unplaced.len() as u64))],
        });
        for (id, why) in unplaced {
            out.push(Statistic {
                name: "unplaced_shard".into(),
                tags: BTreeMap::from([("id".to_string(), id.to_string())]),
                values: vec![("reason".into(), text(why))],
            });
        }
        out
    }

    fn diagnostics(&self) -> Vec<Series> {
        let c = &self.config;
        let now = models::now_nanos();
        let uptime = self.started.elapsed();
        let started = now.saturating_sub(i64::try_from(uptime.as_nanos()).unwrap_or(0));
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        vec![
            module(
                "build",
                vec![
                    ("Branch", text("")),
                    ("Build Time", text("")),
                    ("Commit", text("")),
                    ("Version", text(crate::http::VERSION)),
                ],
            ),
            module(
                "config",
                vec![
                    ("bind-address", text(c.bind_address.clone())),
                    ("reporting-enabled", Value::Bool(!c.reporting_disabled)),
                ],
            ),
            module(
                "config-coordinator",
                vec![
                    ("log-queries-after", dur(c.coordinator.log_queries_after.0)),
                    (
                        "max-concurrent-queries",
                        int(c.coordinator.max_concurrent_queries),
                    ),
                    ("max-select-buckets", int(c.coordinator.max_select_buckets)),
                    ("max-select-point", int(c.coordinator.max_select_point)),
                    ("max-select-series", int(c.coordinator.max_select_series)),
                    ("query-timeout", dur(c.coordinator.query_timeout.0)),
                    ("write-timeout", dur(c.coordinator.write_timeout.0)),
                ],
            ),
            module(
                "config-cqs",
                vec![("enabled", Value::Bool(c.continuous_queries.enabled))],
            ),
            module(
                "config-data",
                vec![
                    ("cache-max-memory-size", int(c.data.cache_max_memory_size.0)),
                    (
                        "cache-snapshot-memory-size",
                        int(c.data.cache_snapshot_memory_size.0),
                    ),
                    (
                        "cache-snapshot-write-cold-duration",
                        dur(c.data.cache_snapshot_write_cold_duration.0),
                    ),
                    (
                        "compact-full-write-cold-duration",
                        dur(c.data.compact_full_write_cold_duration.0),
                    ),
                    ("dir", text(c.data.dir.display().to_string())),
                    (
                        "max-concurrent-compactions",
                        int(c.data.max_concurrent_compactions),
                    ),
                    (
                        "max-series-per-database",
                        int(c.data.max_series_per_database),
                    ),
                    ("max-values-per-tag", int(c.data.max_values_per_tag)),
                    ("wal-dir", text(c.data.wal_dir.display().to_string())),
                    ("wal-fsync-delay", dur(c.data.wal_fsync_delay.0)),
                ],
            ),
            module(
                "config-httpd",
                vec![
                    ("access-log-path", text("")),
                    ("bind-address", text(c.http.bind_address.clone())),
                    ("enabled", Value::Bool(c.http.enabled)),
                    ("https-enabled", Value::Bool(c.http.https_enabled)),
                    ("max-connection-limit", int(c.http.max_connection_limit)),
                    ("max-row-limit", int(c.http.max_row_limit)),
                ],
            ),
            module(
                "config-meta",
                vec![("dir", text(c.meta.dir.display().to_string()))],
            ),
            module(
                "config-precreator",
                vec![
                    ("advance-period", dur(c.shard_precreation.advance_period.0)),
                    ("check-interval", dur(c.shard_precreation.check_interval.0)),
                    ("enabled", Value::Bool(c.shard_precreation.enabled)),
                ],
            ),
            module(
                "config-retention",
                vec![
                    ("check-interval", dur(c.retention.check_interval.0)),
                    ("enabled", Value::Bool(c.retention.enabled)),
                ],
            ),
            module("network", vec![("hostname", text(hostname))]),
            module(
                "runtime",
                vec![
                    ("GOARCH", text(arch)),
                    (
                        "GOMAXPROCS",
                        int(std::thread::available_parallelism().map_or(1, |n| n.get() as u64)),
                    ),
                    ("GOOS", text(std::env::consts::OS)),
                    (
                        "version",
                        text(concat!("tidemark ", env!("CARGO_PKG_VERSION"))),
                    ),
                ],
            ),
            module(
                "system",
                vec![
                    ("PID", int(u64::from(std::process::id()))),
                    ("currentTime", text(models::time::format_rfc3339_nano(now))),
                    ("started", text(models::time::format_rfc3339_nano(started))),
                    ("uptime", dur(uptime)),
                ],
            ),
        ]
    }
}
