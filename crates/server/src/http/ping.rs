//! `/ping` (liveness, InfluxDB 1.x) and `/health` (readiness, the InfluxDB 1.8
//! shape; "fail" with 503 while a shard on disk failed to open).

use super::VERSION;
use crate::node::Node;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub async fn ping(RawQuery(q): RawQuery) -> Response {
    let verbose = q
        .as_deref()
        .unwrap_or("")
        .split('&')
        .any(|kv| matches!(kv, "verbose=true" | "verbose=1" | "verbose"));
    if verbose {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            format!("{{\"version\":\"{VERSION}\"}}\n"),
        )
            .into_response()
    } else {
        (
            StatusCode::NO_CONTENT,
            [("content-type", "application/json")],
        )
            .into_response()
    }
}

/// Readiness. "fail" (503) while any shard on disk failed to open: the
/// node would otherwise answer queries from the remaining shards as if the
/// failed ones held no data.
pub async fn health(State(node): State<Arc<Node>>) -> Response {
    let failed = node.store.failed_shards();
    let (status, state, message) = if failed.is_empty() {
        (
            StatusCode::OK,
            "pass",
            "ready for queries and writes".to_string(),
        )
    } else {
        let list: Vec<String> = failed
            .iter()
            .map(|f| {
                format!(
                    "shard {} ({}.{}, {}): {}",
                    f.id,
                    f.database,
                    f.retention_policy,
                    f.path.display(),
                    f.error
                )
            })
            .collect();
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "fail",
            format!("unavailable shards: {}", list.join("; ")),
        )
    };
    let body = serde_json::json!({
        "name": "influxdb",
        "message": message,
        "status": state,
        "checks": [],
        "version": VERSION,
    });
    (
        status,
        [("content-type", "application/json")],
        format!("{body}\n"),
    )
        .into_response()
}
