//! `GET /debug/vars`: expvar-style JSON of the node's counters, shaped like
//! InfluxDB's (`cmdline`, `memstats`, and one `{"name","tags","values"}`
//! object per statistics source: `httpd`, `write`, `shard:<id>`).

use crate::node::Node;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
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
    // The same sources SHOW STATS lists, keyed as InfluxDB keys them.
    let stats = tokio::task::spawn_blocking(move || {
        use query::SystemInfo;
        n.statistics()
    })
    .await
    .unwrap_or_default();
    for st in stats {
        let key = match st.tags.get("id").or_else(|| st.tags.get("node")) {
            Some(id) => format!("{}:{id}", st.name),
            None => st.name.clone(),
        };
        let values: Map<String, Value> = st
            .values
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    query::result::Value::Integer(i) => Value::from(i),
                    query::result::Value::Float(f) => Value::from(f),
                    query::result::Value::Bool(b) => Value::from(b),
                    query::result::Value::String(s) => Value::from(s),
                    _ => Value::Null,
                };
                (k, v)
            })
            .collect();
        out.insert(
            key,
            json!({ "name": st.name, "tags": st.tags, "values": values }),
        );
    }
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        format!("{}\n", Value::Object(out)),
    )
        .into_response()
}

/// `GET /debug/shard-digest[?id=N]`: what this node's copies of its shards
/// hold — per shard the number of values and a checksum over every (series,
/// field, time, value); with `id`, per series and field too. Owners of a
/// shard hold identical copies exactly when their digests are equal (tests
/// compare replicas with it). Reads every value: for checks, not for
/// dashboards.
pub async fn shard_digest(
    State(node): State<Arc<Node>>,
    axum::extract::Query(params): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let id = match params.get("id").map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "id must be a shard id"})),
            )
                .into_response()
        }
    };
    let n = node.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Value, String> {
        let shards = match id {
            Some(id) => vec![n
                .store
                .shard(id)
                .ok_or_else(|| format!("shard {id} is not on this node"))?],
            None => n.store.shards(),
        };
        let mut out = Vec::new();
        for s in shards {
            let d = s.digest().map_err(|e| e.to_string())?;
            let mut entry = json!({
                "id": s.id(),
                "database": s.database(),
                "retention_policy": s.retention_policy(),
                "values": d.values,
                "checksum": format!("{:016x}", d.checksum),
            });
            if id.is_some() {
                entry["series"] = d
                    .series
                    .iter()
                    .map(|x| {
                        json!({"key": x.key, "field": x.field, "values": x.values,
                               "checksum": format!("{:016x}", x.checksum)})
                    })
                    .collect();
            }
            out.push(entry);
        }
        Ok(json!({ "shards": out }))
    })
    .await;
    match result {
        Ok(Ok(v)) => axum::Json(v).into_response(),
        Ok(Err(e)) => (StatusCode::NOT_FOUND, axum::Json(json!({ "error": e }))).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}
