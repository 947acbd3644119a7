//! `/ping` (liveness, InfluxDB 1.x) and `/health` (readiness, the InfluxDB 1.8
//! shape).

use super::VERSION;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

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

pub async fn health() -> Response {
    let body = serde_json::json!({
        "name": "influxdb",
        "message": "ready for queries and writes",
        "status": "pass",
        "checks": [],
        "version": VERSION,
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        format!("{body}\n"),
    )
        .into_response()
}
