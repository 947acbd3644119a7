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
