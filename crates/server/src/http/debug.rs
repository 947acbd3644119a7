//! `GET /debug/vars`: expvar-style JSON of the node's counters, shaped like
//! InfluxDB's (`cmdline`, `memstats`, and one `{"name","tags","values"}`
//! object per statistics source: `httpd`, `write`, `shard:<id>`).

use crate::node::Node;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Resident and peak memory of this process in bytes, from /proc.
fn memory() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0, 0);
    };
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

pub async fn vars(State(node): State<Arc<Node>>) -> Response {
    let n = node.clone();
    let shards = tokio::task::spawn_blocking(move || n.store.statistics())
        .await
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert(
        "cmdline".into(),
        Value::from(std::env::args().collect::<Vec<_>>()),
    );
    let (rss, hwm) = memory();
    out.insert(
        "memstats".into(),
        json!({ "Sys": rss, "HeapInuse": rss, "MaxRSS": hwm }),
    );
    let h = &node.http_stats;
    out.insert(
        "httpd".into(),
        json!({
            "name": "httpd",
            "tags": { "bind": node.config.http.bind_address },
            "values": {
                "req": h.write_req.load(Relaxed) + h.query_req.load(Relaxed),
                "writeReq": h.write_req.load(Relaxed),
                "writeReqBytes": h.write_req_bytes.load(Relaxed),
                "queryReq": h.query_req.load(Relaxed),
                "uptimeSeconds": node.started.elapsed().as_secs(),
            }
        }),
    );
    let w = &node.writer.stats;
    out.insert(
        "write".into(),
        json!({
            "name": "write",
            "tags": {},
            "values": {
                "req": w.req.load(Relaxed),
                "pointReq": w.point_req.load(Relaxed),
                "pointReqLocal": w.point_req_local.load(Relaxed),
                "writeOk": w.write_ok.load(Relaxed),
                "writeError": w.write_error.load(Relaxed),
                "writeDrop": w.write_drop.load(Relaxed),
            }
        }),
    );
    for s in shards {
        out.insert(
            format!("shard:{}", s.id),
            json!({
                "name": "shard",
                "tags": {
                    "id": s.id.to_string(),
                    "database": s.database,
                    "retentionPolicy": s.retention_policy,
                    "path": s.path.display().to_string(),
                    "engine": "tsm1",
                },
                "values": {
                    "seriesCreate": s.series,
                    "measurements": s.measurements,
                    "writePointsOk": s.points_written,
                    "writeValuesOk": s.values_written,
                    "writeReq": s.write_requests,
                    "writeReqErr": s.write_errors,
                    "diskBytes": s.disk_bytes,
                    "cacheBytes": s.cache_bytes,
                    "walBytes": s.wal_bytes,
                    "snapshots": s.snapshots,
                    "compactions": s.compactions,
                }
            }),
        );
    }
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        format!("{}\n", Value::Object(out)),
    )
        .into_response()
}
