//! The Raft transport, server side: the meta node's Raft listener (8089)
//! accepting `POST /raft/{append,vote}` with JSON bodies and
//! `POST /raft/snapshot` with a raw-bytes chunk
//! ([`crate::network::decode_snapshot_chunk`]), answering openraft's
//! `Result` as JSON. 503 while the node belongs to no cluster. Nothing else
//! is served on this port.
//!
//! Who may talk to it: with `[meta] internal-shared-secret` set, every
//! request must carry it (compared in constant time); without one, only
//! peers on a loopback address are accepted, so a default-configured node
//! cannot have its votes, log or metadata forged from the network.

// handlers return a ready `Response` as their early-exit error.
#![allow(clippy::result_large_err)]

use crate::network::{decode_snapshot_chunk, secret_matches, MAX_RAFT_BODY_BYTES, SECRET_HEADER};
use crate::node::MetaServer;
use crate::types::TypeConfig;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use openraft::raft::{AppendEntriesRequest, VoteRequest};
use std::net::SocketAddr;
use std::sync::Arc;

type Srv = Arc<MetaServer>;

/// The Raft router. Serve it with connect info (`SocketAddr`): without a
/// secret, the peer's address decides.
pub fn router(srv: Srv) -> Router {
    Router::new()
        .route("/raft/append", post(append))
        .route("/raft/vote", post(vote))
        .route("/raft/snapshot", post(snapshot))
        .layer(DefaultBodyLimit::max(MAX_RAFT_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(srv.clone(), gate))
        .with_state(srv)
}

fn json_ok<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(b) => (StatusCode::OK, [("Content-Type", "application/json")], b).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Whether a Raft request from `peer` with `headers` may be served under
/// `secret` (see the module doc).
pub fn admitted(secret: &str, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    if secret.is_empty() {
        return peer.is_some_and(|p| p.ip().is_loopback());
    }
    headers
        .get(SECRET_HEADER)
        .is_some_and(|v| secret_matches(secret, v.as_bytes()))
}

/// Refuses requests [`admitted`] does not let in, before their body is read.
async fn gate(State(srv): State<Srv>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a);
    let secret = &srv.config().meta.internal_shared_secret;
    if !admitted(secret, peer, req.headers()) {
        let why = if secret.is_empty() {
            "raft: no internal-shared-secret is configured, so only loopback peers are accepted"
        } else {
            "bad internal shared secret"
        };
        tracing::warn!(peer = ?peer, "refused a raft request: {why}");
        return (StatusCode::UNAUTHORIZED, why).into_response();
    }
    next.run(req).await
}

/// The running Raft member.
fn member(srv: &MetaServer) -> Result<crate::types::Raft, Response> {
    srv.raft()
        .map(|h| h.raft)
        .ok_or_else(|| (StatusCode::SERVICE_UNAVAILABLE, "not part of a cluster").into_response())
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body)
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()).into_response())
}

async fn append(State(srv): State<Srv>, body: Bytes) -> Response {
    let raft = match member(&srv) {
        Ok(r) => r,
        Err(r) => return r,
    };
    // An append may carry megabytes of JSON: parse it off the async workers
    // (heartbeats, which are tiny, too — one code path).
    let req =
        tokio::task::spawn_blocking(move || decode::<AppendEntriesRequest<TypeConfig>>(&body))
            .await
            .unwrap_or_else(|e| {
                Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
            });
    let res = req.map(|req| (raft, req));
    match res {
        Ok((raft, req)) => json_ok(&raft.append_entries(req).await),
        Err(r) => r,
    }
}

async fn vote(State(srv): State<Srv>, body: Bytes) -> Response {
    let res = member(&srv).and_then(|raft| Ok((raft, decode::<VoteRequest<u64>>(&body)?)));
    match res {
        Ok((raft, req)) => json_ok(&raft.vote(req).await),
        Err(r) => r,
    }
}

async fn snapshot(State(srv): State<Srv>, body: Bytes) -> Response {
    let res = member(&srv).and_then(|raft| {
        let req = decode_snapshot_chunk(&body)
            .map_err(|e| (StatusCode::BAD_REQUEST, e).into_response())?;
        Ok((raft, req))
    });
    match res {
        Ok((raft, req)) => json_ok(&raft.install_snapshot(req).await),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h1_raft_needs_the_secret_or_a_loopback_peer() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        let none = HeaderMap::new();
        let mut good = HeaderMap::new();
        good.insert(SECRET_HEADER, "s3cret".parse().unwrap());
        let mut bad = HeaderMap::new();
        bad.insert(SECRET_HEADER, "s3creT".parse().unwrap());
        // No secret configured: loopback only.
        assert!(admitted("", Some(local), &none));
        assert!(!admitted("", Some(remote), &none));
        assert!(!admitted("", None, &none));
        // A secret configured: it is required from everyone.
        assert!(admitted("s3cret", Some(remote), &good));
        assert!(!admitted("s3cret", Some(local), &none));
        assert!(!admitted("s3cret", Some(remote), &bad));
    }

    #[test]
    fn h2_snapshot_chunks_travel_as_raw_bytes() {
        let data: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        let req = openraft::raft::InstallSnapshotRequest::<TypeConfig> {
            vote: openraft::Vote::new(3, 1),
            meta: Default::default(),
            offset: 7,
            data: data.clone(),
            done: true,
        };
        let body = crate::network::encode_snapshot_chunk(&req).unwrap();
        // Raw bytes plus a small header, not ~3.5 bytes per byte.
        assert!(body.len() < data.len() + 1024, "{}", body.len());
        let back = decode_snapshot_chunk(&body).unwrap();
        assert_eq!(back.data, data);
        assert_eq!((back.offset, back.done, back.vote), (7, true, req.vote));
        assert!(decode_snapshot_chunk(&body[..3]).is_err());
        assert!(decode_snapshot_chunk(&[0, 0, 1, 0, b'{']).is_err());
    }
}
