//! The Raft transport, server side: the meta node's Raft listener (8089)
//! accepting `POST /raft/{append,vote,snapshot}` with JSON bodies and
//! answering openraft's `Result` as JSON. 503 while the node belongs to no
//! cluster. Nothing else is served on this port.

// handlers return a ready `Response` as their early-exit error.
#![allow(clippy::result_large_err)]

use crate::network::SECRET_HEADER;
use crate::node::MetaServer;
use crate::types::TypeConfig;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use std::sync::Arc;

type Srv = Arc<MetaServer>;

pub fn router(srv: Srv) -> Router {
    Router::new()
        .route("/raft/append", post(append))
        .route("/raft/vote", post(vote))
        .route("/raft/snapshot", post(snapshot))
        .with_state(srv)
}

fn json_ok<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(b) => (StatusCode::OK, [("Content-Type", "application/json")], b).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Checks the shared secret and decodes the body.
fn accept<T: serde::de::DeserializeOwned>(
    srv: &MetaServer,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(crate::types::Raft, T), Response> {
    let secret = &srv.config().meta.internal_shared_secret;
    if !secret.is_empty()
        && headers.get(SECRET_HEADER).map(|v| v.as_bytes()) != Some(secret.as_bytes())
    {
        return Err((StatusCode::UNAUTHORIZED, "bad internal shared secret").into_response());
    }
    let h = srv.raft().ok_or_else(|| {
        (StatusCode::SERVICE_UNAVAILABLE, "not part of a cluster").into_response()
    })?;
    let req = serde_json::from_slice(body)
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()).into_response())?;
    Ok((h.raft, req))
}

async fn append(State(srv): State<Srv>, headers: HeaderMap, body: Bytes) -> Response {
    match accept::<AppendEntriesRequest<TypeConfig>>(&srv, &headers, &body) {
        Ok((raft, req)) => json_ok(&raft.append_entries(req).await),
        Err(r) => r,
    }
}

async fn vote(State(srv): State<Srv>, headers: HeaderMap, body: Bytes) -> Response {
    match accept::<VoteRequest<u64>>(&srv, &headers, &body) {
        Ok((raft, req)) => json_ok(&raft.vote(req).await),
        Err(r) => r,
    }
}

async fn snapshot(State(srv): State<Srv>, headers: HeaderMap, body: Bytes) -> Response {
    match accept::<InstallSnapshotRequest<TypeConfig>>(&srv, &headers, &body) {
        Ok((raft, req)) => json_ok(&raft.install_snapshot(req).await),
        Err(r) => r,
    }
}
