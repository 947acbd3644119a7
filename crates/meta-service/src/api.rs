//! The meta node's HTTP API (8091): JSON in and out, errors as
//! `{"error": "..."}`. Requests that need the leader are served locally on
//! the leader and forwarded by followers; without a leader they get 503
//! `{"error":"no leader"}`. Reads of `/data` are served by any node from its
//! applied state (data nodes' caches rely on it while there is no leader).
//!
//! Only request parsing, routing and rendering here; the procedures live in
//! [`crate::node`].

// handlers return a ready `Response` as their early-exit error.
#![allow(clippy::result_large_err)]

use crate::error::Error;
use crate::network::{secret_matches, SECRET_HEADER};
use crate::node::{now_nanos, MetaServer, ResetReason, Route};
use crate::types::MetaPeer;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use meta::{Command, Data};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Marks a request a follower forwarded, so it is never forwarded twice.
const FORWARDED_HEADER: &str = "X-Tidemark-Forwarded";
/// Longest `/data?index=` long-poll.
const LONG_POLL: Duration = Duration::from_secs(30);
/// Largest request body accepted.
const MAX_BODY: usize = 16 << 20;
/// Largest command `/execute` accepts (its JSON): every command becomes a
/// Raft entry that must fit a `/raft/append` body next to others, and
/// metadata is replicated and snapshotted whole. Larger ones get 413.
pub const MAX_COMMAND_BYTES: usize = 1 << 20;

type Srv = Arc<MetaServer>;

/// The HTTP API router.
pub fn router(srv: Srv) -> Router {
    Router::new()
        .route("/ping", get(ping).head(ping))
        .route("/status", get(status))
        .route("/peers", get(peers))
        .route("/data", get(data))
        .route("/show-cluster", get(leader_only))
        .route("/show-shards", get(leader_only))
        .route("/lease", get(leader_only))
        .route("/execute", post(leader_only))
        .route("/add-meta", post(leader_or_bootstrap))
        .route("/remove-meta", post(leader_only))
        .route("/add-data", post(leader_only))
        .route("/remove-data", post(leader_only))
        .route("/update-data", post(leader_only))
        .route("/truncate-shards", post(leader_only))
        .route("/remove-shard", post(leader_only))
        .route("/join", post(join))
        .route("/leave", post(leave))
        .route("/force-leave", post(force_leave))
        .route("/internal/assign-id", post(assign_id))
        .route("/internal/reset", post(internal_reset))
        .route("/debug/vars", get(debug_vars))
        .merge(profiling::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(srv.clone(), auth))
        .with_state(srv)
}

/// A JSON answer with `status`.
fn reply(status: u16, body: Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (code, body.to_string()).into_response();
    r.headers_mut()
        .insert("Content-Type", HeaderValue::from_static("application/json"));
    r
}

fn error_reply(e: &Error) -> Response {
    let mut body = json!({ "error": e.to_string() });
    if let Error::Meta {
        error: Some(me), ..
    } = e
    {
        if let Ok(v) = serde_json::to_value(me) {
            body["meta_error"] = v;
        }
        if let meta::Error::LeaseConflict { owner, expiration } = me {
            body["owner"] = json!(owner);
            body["expiration"] = json!(expiration);
        }
    }
    reply(e.status(), body)
}

fn bad_request(msg: impl Into<String>) -> Response {
    reply(400, json!({ "error": msg.into() }))
}

async fn not_found() -> Response {
    reply(404, json!({ "error": "not found" }))
}

/// With `auth-enabled`, every request but `/ping` must carry the
/// `internal-shared-secret` (meta-to-meta and tool traffic) or the
/// credentials of an admin user.
async fn auth(State(srv): State<Srv>, req: Request, next: axum::middleware::Next) -> Response {
    let m = &srv.config().meta;
    // Node-to-node calls (the leader resetting a removed node, assigning an
    // id) need the internal secret, or without one a loopback peer — the
    // same rule as the Raft port (H1).
    if req.uri().path().starts_with("/internal/") {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        if !crate::raft_api::admitted(&m.internal_shared_secret, peer, req.headers()) {
            return reply(
                401,
                json!({ "error": "internal requests need the internal-shared-secret (or, without one, a loopback peer)" }),
            );
        }
        return next.run(req).await;
    }
    if !m.auth_enabled || req.uri().path() == "/ping" {
        return next.run(req).await;
    }
    let headers = req.headers();
    if let Some(v) = headers.get(SECRET_HEADER) {
        if secret_matches(&m.internal_shared_secret, v.as_bytes()) {
            return next.run(req).await;
        }
    }
    if let Some(token) = headers
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        if m.shared_secret.is_empty() {
            return reply(401, json!({ "error": "bearer auth disabled" }));
        }
        let now = now_nanos() / 1_000_000_000;
        return match crate::jwt::verify(&m.shared_secret, token.trim(), now) {
            Ok(_) => next.run(req).await,
            Err(e) => reply(401, json!({ "error": e })),
        };
    }
    if let Some((user, pwd)) = basic_credentials(headers) {
        let data = srv.data();
        let is_admin = data.user(&user).is_some_and(|u| u.admin);
        // bcrypt takes ~50-100 ms: never on an async worker, which also
        // carries Raft heartbeats (M8).
        let creds = srv.credentials.clone();
        // At most MAX_CONCURRENT_PASSWORD_CHECKS bcrypt runs at once: a
        // flood of bad passwords queues here instead of taking every core.
        let Ok(_permit) = srv.password_checks.acquire().await else {
            return reply(401, json!({ "error": "authorization failed" }));
        };
        let ok =
            tokio::task::spawn_blocking(move || creds.authenticate(&data, &user, &pwd).is_ok())
                .await
                .unwrap_or(false);
        if is_admin && ok {
            return next.run(req).await;
        }
        return reply(401, json!({ "error": "authorization failed" }));
    }
    reply(
        401,
        json!({ "error": "unable to parse authentication credentials" }),
    )
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get("Authorization")?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ")?;
    let decoded = crate::base64::decode(b64.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

async fn ping() -> Response {
    (StatusCode::NO_CONTENT, "").into_response()
}

async fn status(State(srv): State<Srv>) -> Response {
    reply(200, json!(srv.status()))
}

async fn peers(State(srv): State<Srv>) -> Response {
    reply(200, json!(srv.status().peers))
}

#[derive(Deserialize)]
struct DataQuery {
    index: Option<u64>,
    /// Long-poll limit in seconds (at most 30).
    timeout: Option<u64>,
    /// Answer the applied state even without a leader (tools, tests).
    #[serde(default)]
    stale: bool,
}

/// 503 `no leader` (with the term and this node's index) when this node
/// has been without a leader for longer than an election timeout: its state
/// may be arbitrarily old, and a data node must go to another meta node
/// rather than keep serving revoked users or dropped databases (M4).
fn leaderless(srv: &MetaServer) -> Option<Response> {
    let v = srv.leader_view();
    v.stale.then(|| {
        reply(
            503,
            json!({ "error": "no leader", "term": v.term, "index": srv.data().index }),
        )
    })
}

/// The full metadata; with `index` equal to (or past) the node's current
/// index, waits up to ~30 s for a newer one. Headers name the leader this
/// node follows (`X-Tidemark-Leader`, its id) and the Raft term
/// (`X-Tidemark-Term`). Without a leader for longer than an election
/// timeout: 503 (unless `stale=true`).
async fn data(
    State(srv): State<Srv>,
    q: Result<Query<DataQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return bad_request("invalid index");
    };
    if !q.stale {
        if let Some(r) = leaderless(&srv) {
            return r;
        }
    }
    let mut rx = srv.subscribe();
    if let Some(idx) = q.index {
        let wait = q
            .timeout
            .map(Duration::from_secs)
            .unwrap_or(LONG_POLL)
            .min(LONG_POLL);
        let _ = tokio::time::timeout(wait, rx.wait_for(|d| d.index > idx)).await;
        if !q.stale {
            if let Some(r) = leaderless(&srv) {
                return r;
            }
        }
    }
    let d = rx.borrow().clone();
    let body = match srv.data_json(d).await {
        Ok(b) => b,
        Err(e) => return error_reply(&e),
    };
    let view = srv.leader_view();
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert("Content-Type", HeaderValue::from_static("application/json"));
    if let Some(l) = view.leader {
        h.insert("X-Tidemark-Leader", HeaderValue::from(l));
    }
    h.insert("X-Tidemark-Term", HeaderValue::from(view.term));
    r
}

/// The parts of a request a follower needs to forward it.
struct Incoming {
    method: Method,
    path_q: String,
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
}

async fn incoming(req: Request) -> Result<Incoming, Response> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| bad_request(format!("reading body: {e}")))?;
    let query = parts.uri.query().map(parse_query).unwrap_or_default();
    Ok(Incoming {
        method: parts.method,
        path_q: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        path: parts.uri.path().to_string(),
        query,
        headers: parts.headers,
        body,
    })
}

fn parse_query(q: &str) -> HashMap<String, String> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// Relays `inc` to the leader's HTTP API.
async fn forward(srv: &MetaServer, leader: &MetaPeer, inc: &Incoming) -> Response {
    let agent = srv.agent.clone();
    let url = format!("http://{}{}", leader.http_addr, inc.path_q);
    let method = if inc.method == Method::GET {
        "GET"
    } else {
        "POST"
    };
    let mut headers = vec![(FORWARDED_HEADER.to_string(), "1".to_string())];
    for name in ["Authorization", SECRET_HEADER] {
        if let Some(v) = inc.headers.get(name).and_then(|v| v.to_str().ok()) {
            headers.push((name.to_string(), v.to_string()));
        }
    }
    let body = inc.body.to_vec();
    let res = tokio::task::spawn_blocking(move || {
        crate::http_util::request(
            &agent,
            method,
            &url,
            Some(&body),
            &headers,
            Duration::from_secs(60),
        )
    })
    .await;
    match res {
        Ok(Ok(r)) => {
            let code = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut resp = (code, r.body).into_response();
            resp.headers_mut()
                .insert("Content-Type", HeaderValue::from_static("application/json"));
            resp
        }
        // The leader may have received and applied it: say so instead of
        // "no leader", which promises that nothing happened.
        Ok(Err(e)) if e.maybe_sent => reply(
            502,
            json!({ "error": format!(
                "forwarding to the leader at {} failed: {e}; the change may have been applied",
                leader.http_addr
            ) }),
        ),
        _ => error_reply(&Error::NoLeader),
    }
}

/// Serves leader-only requests on the leader, forwards them elsewhere.
async fn leader_only(State(srv): State<Srv>, req: Request) -> Response {
    let inc = match incoming(req).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    match srv.route() {
        Route::Local(_) => serve_on_leader(&srv, &inc).await,
        Route::Forward(peer) if !inc.headers.contains_key(FORWARDED_HEADER) => {
            forward(&srv, &peer, &inc).await
        }
        _ => error_reply(&Error::NoLeader),
    }
}

/// `/add-meta` also bootstraps a node that belongs to no cluster yet.
async fn leader_or_bootstrap(State(srv): State<Srv>, req: Request) -> Response {
    if srv.raft().is_none() && !req.headers().contains_key(FORWARDED_HEADER) {
        let inc = match incoming(req).await {
            Ok(i) => i,
            Err(r) => return r,
        };
        return serve_on_leader(&srv, &inc).await;
    }
    leader_only(State(srv), req).await
}

#[derive(Deserialize)]
struct AddrBody {
    addr: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddDataBody {
    addr: String,
    #[serde(default)]
    http_addr: Option<String>,
    #[serde(default)]
    passive: bool,
}

#[derive(Deserialize)]
struct RemoveDataBody {
    #[serde(default)]
    addr: Option<String>,
    #[serde(default)]
    id: Option<u64>,
}

#[derive(Deserialize)]
struct TruncateBody {
    /// Go duration after now at which open shard groups end (default 1m).
    #[serde(default)]
    delay: Option<String>,
}

#[derive(Deserialize)]
struct RemoveShardBody {
    /// TCP address of the data node that drops its copy.
    addr: String,
    id: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateDataBody {
    old: String,
    new: String,
    #[serde(default)]
    http_addr: Option<String>,
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("invalid JSON body: {e}")))
}

fn valid_addr(addr: &str) -> Result<(), Response> {
    match addr.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => Ok(()),
        _ => Err(bad_request(format!(
            "invalid address {addr:?}: want host:port"
        ))),
    }
}

async fn serve_on_leader(srv: &Srv, inc: &Incoming) -> Response {
    match serve(srv, inc).await {
        Ok(r) => r,
        Err(r) => r,
    }
}

async fn serve(srv: &Srv, inc: &Incoming) -> Result<Response, Response> {
    let e = |e: Error| error_reply(&e);
    match inc.path.as_str() {
        "/execute" => {
            if inc.body.len() > MAX_COMMAND_BYTES {
                return Err(reply(
                    413,
                    json!({ "error": format!(
                        "command too large: {} bytes, the limit is {MAX_COMMAND_BYTES}",
                        inc.body.len()
                    ) }),
                ));
            }
            let cmd: Command = parse_json(&inc.body)?;
            let resp = srv.propose(cmd).await.map_err(e)?;
            Ok(reply(200, json!(resp)))
        }
        "/lease" => {
            let name = inc.query.get("name").cloned().unwrap_or_default();
            if name.is_empty() {
                return Err(bad_request("lease name required"));
            }
            let node_id: u64 = inc
                .query
                .get("nodeid")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad_request("invalid or missing nodeid"))?;
            let data = srv.data();
            if data.data_node(node_id).is_none() && !data.meta_nodes.iter().any(|n| n.id == node_id)
            {
                return Err(reply(404, json!({ "error": "node not found" })));
            }
            let resp = srv
                .propose(Command::AcquireLease {
                    name,
                    node_id,
                    now: now_nanos(),
                    duration: srv.config().meta.lease_duration.0.as_nanos() as i64,
                })
                .await
                .map_err(e)?;
            match resp {
                meta::Response::Lease {
                    name,
                    owner,
                    expiration,
                } => Ok(reply(
                    200,
                    json!({ "name": name, "owner": owner, "expiration": expiration }),
                )),
                other => Ok(reply(200, json!(other))),
            }
        }
        "/show-cluster" => {
            let d = srv.linearizable_data().await.map_err(e)?;
            let st = srv.status();
            Ok(reply(200, show_cluster(&d, &st.leader, &st.peers)))
        }
        "/show-shards" => {
            let d = srv.linearizable_data().await.map_err(e)?;
            Ok(reply(200, show_shards(&d)))
        }
        "/add-meta" => {
            let b: AddrBody = parse_json(&inc.body)?;
            valid_addr(&b.addr)?;
            let node = srv.add_meta(&b.addr).await.map_err(e)?;
            Ok(reply(200, json!(node)))
        }
        "/remove-meta" => {
            let b: AddrBody = parse_json(&inc.body)?;
            valid_addr(&b.addr)?;
            let node = srv.remove_meta(&b.addr).await.map_err(e)?;
            if node.host == srv.http_addr() {
                let s = srv.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if let Err(e) = s.reset(ResetReason::LeftCluster).await {
                        tracing::warn!("reset after removal: {e}");
                    }
                });
            }
            Ok(reply(200, json!(node)))
        }
        "/add-data" => {
            let b: AddDataBody = parse_json(&inc.body)?;
            valid_addr(&b.addr)?;
            let http = match b.http_addr {
                Some(h) => {
                    valid_addr(&h)?;
                    h
                }
                None => join_data_node(srv, &b.addr, b.passive).await?,
            };
            let resp = srv
                .propose(Command::CreateDataNode {
                    host: http,
                    tcp_host: b.addr,
                    passive: b.passive,
                })
                .await
                .map_err(e)?;
            Ok(reply(200, json!(resp)))
        }
        "/remove-data" => {
            let b: RemoveDataBody = parse_json(&inc.body)?;
            if b.addr.is_none() && b.id.is_none() {
                return Err(bad_request("data node address or id required"));
            }
            let data = srv.data();
            let node = data
                .data_nodes
                .iter()
                .find(|n| Some(n.id) == b.id || b.addr.as_deref() == Some(n.tcp_host.as_str()))
                .cloned()
                .ok_or_else(|| reply(404, json!({ "error": "data node not found" })))?;
            srv.propose(Command::DeleteDataNode { id: node.id })
                .await
                .map_err(e)?;
            let orphaned = orphaned_shards(&srv.data());
            Ok(reply(
                200,
                json!({ "node": node, "orphanedShards": orphaned }),
            ))
        }
        "/update-data" => {
            let b: UpdateDataBody = parse_json(&inc.body)?;
            valid_addr(&b.new)?;
            let data = srv.data();
            let node = data
                .data_nodes
                .iter()
                .find(|n| n.tcp_host == b.old)
                .cloned()
                .ok_or_else(|| reply(404, json!({ "error": "data node not found" })))?;
            // Keep the node's HTTP port on its new host unless told otherwise.
            let http = b.http_addr.unwrap_or_else(|| {
                let host = b.new.rsplit_once(':').map(|(h, _)| h).unwrap_or(&b.new);
                match node.host.rsplit_once(':') {
                    Some((_, port)) => format!("{host}:{port}"),
                    None => default_http_addr(&b.new),
                }
            });
            srv.propose(Command::UpdateDataNode {
                id: node.id,
                host: http.clone(),
                tcp_host: b.new.clone(),
            })
            .await
            .map_err(e)?;
            Ok(reply(
                200,
                json!({ "id": node.id, "host": http, "tcp_host": b.new, "passive": node.passive }),
            ))
        }
        "/truncate-shards" => {
            let b: TruncateBody = parse_json(&inc.body)?;
            let delay = match b.delay.as_deref() {
                None | Some("") => Duration::from_secs(60),
                Some(d) => crate::duration::parse(d).map_err(bad_request)?,
            };
            let timestamp = now_nanos().saturating_add(delay.as_nanos() as i64);
            srv.propose(Command::TruncateShardGroups { timestamp })
                .await
                .map_err(e)?;
            Ok(reply(200, json!({ "timestamp": timestamp })))
        }
        "/remove-shard" => {
            let b: RemoveShardBody = parse_json(&inc.body)?;
            let data = srv.data();
            let node = data
                .data_nodes
                .iter()
                .find(|n| n.tcp_host == b.addr)
                .cloned()
                .ok_or_else(|| reply(404, json!({ "error": "data node not found" })))?;
            let owned = data
                .shard_location(b.id)
                .map(|(_, _, _, s)| s.owners.contains(&node.id));
            match owned {
                None => return Err(reply(404, json!({ "error": "shard not found" }))),
                Some(false) => {
                    return Err(bad_request(format!(
                        "shard {} is not owned by {}",
                        b.id, b.addr
                    )))
                }
                Some(true) => {}
            }
            srv.propose(Command::RemoveShardOwner {
                shard_id: b.id,
                node_id: node.id,
            })
            .await
            .map_err(e)?;
            Ok(reply(200, json!({ "id": b.id, "addr": b.addr })))
        }
        _ => Err(not_found().await),
    }
}

/// How long the meta node waits for a data node's answer to `JoinCluster`
/// (it writes a file and answers; no data moves).
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// `add-data <TCP address>` as Enterprise does it: asks the data node, over
/// the cluster RPC on its TCP address, to join this cluster (it records the
/// meta servers and restarts as a member) and returns the HTTP address it
/// reports (a member of this cluster answers the same again). A node that
/// cannot be reached, or does not know `JoinCluster` (an older version), is
/// registered with the default HTTP address (`host:8086`), as before: it
/// becomes a member when it starts with `[meta] meta-servers`. A refusal
/// (the node has data, belongs to another cluster) is the operator's
/// answer (400).
async fn join_data_node(srv: &MetaServer, tcp: &str, passive: bool) -> Result<String, Response> {
    let data = srv.data();
    // Registered already (it started with `[meta] meta-servers`, or an
    // earlier add-data could not reach it): a member answers the same, a
    // node still standalone joins now.
    let registered = data
        .data_nodes
        .iter()
        .find(|n| n.tcp_host == tcp)
        .map(|n| n.host.clone());
    let cfg = srv.config();
    let peers = rpc::Peers::new(
        rpc::ClientConfig {
            shared_secret: cfg.meta.internal_shared_secret.clone(),
            dial_overrides: cfg.meta.dial_overrides.clone(),
            ..rpc::ClientConfig::default()
        },
        rpc::Sender {
            cluster_id: data.cluster_id,
            node_id: 0,
        },
    );
    let req = rpc::JoinClusterRequest {
        header: None,
        meta_servers: data.meta_nodes.iter().map(|n| n.host.clone()).collect(),
        passive,
    };
    match peers.join_cluster(tcp, req, JOIN_TIMEOUT).await {
        Ok(r) if !r.http_addr.is_empty() => {
            valid_addr(&r.http_addr)?;
            tracing::info!(tcp, http = r.http_addr, "data node joined the cluster");
            Ok(r.http_addr)
        }
        Ok(_) => Err(bad_request(format!(
            "data node at {tcp} did not report its HTTP address"
        ))),
        Err(rpc::RpcError::Unreachable { reason, .. }) => {
            let http = registered.unwrap_or_else(|| default_http_addr(tcp));
            tracing::warn!(
                tcp,
                http,
                "data node not reachable ({reason}): registered with HTTP address {http}; it joins when it starts with [meta] meta-servers"
            );
            Ok(http)
        }
        // A data node of the previous version, which has no JoinCluster:
        // registered as before (it joins with `[meta] meta-servers`).
        Err(rpc::RpcError::Refused {
            code: rpc::Code::Unimplemented,
            ..
        }) => Ok(registered.unwrap_or_else(|| default_http_addr(tcp))),
        Err(rpc::RpcError::Refused { reason, .. }) | Err(rpc::RpcError::Remote { reason, .. }) => {
            Err(bad_request(format!("data node at {tcp}: {reason}")))
        }
        Err(e) => Err(bad_request(format!("data node at {tcp}: {e}"))),
    }
}

/// `host:8088` → `host:8086` (the data node's HTTP port by default).
fn default_http_addr(tcp: &str) -> String {
    let host = tcp.rsplit_once(':').map(|(h, _)| h).unwrap_or(tcp);
    format!("{host}:8086")
}

fn orphaned_shards(d: &Data) -> Vec<u64> {
    let mut out = Vec::new();
    for db in &d.databases {
        for rp in &db.retention_policies {
            for g in rp.shard_groups.iter().filter(|g| g.deleted_at == 0) {
                out.extend(
                    g.shards
                        .iter()
                        .filter(|s| s.owners.is_empty())
                        .map(|s| s.id),
                );
            }
        }
    }
    out
}

/// The `/show-cluster` document `influxd-ctl show` renders.
pub fn show_cluster(d: &Data, leader: &str, peers: &[String]) -> Value {
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "data": d.data_nodes.iter().map(|n| json!({
            "id": n.id, "httpAddr": n.host, "tcpAddr": n.tcp_host,
            "version": version, "passive": n.passive,
        })).collect::<Vec<_>>(),
        "meta": d.meta_nodes.iter().map(|n| json!({
            "id": n.id, "addr": n.host, "raftAddr": n.tcp_host, "version": version,
        })).collect::<Vec<_>>(),
        "leader": leader,
        "peers": peers,
    })
}

/// The `/show-shards` document: every live shard with its owners.
pub fn show_shards(d: &Data) -> Value {
    let mut shards = Vec::new();
    for db in &d.databases {
        for rp in &db.retention_policies {
            for g in rp.shard_groups.iter().filter(|g| g.deleted_at == 0) {
                for s in &g.shards {
                    let expire = if rp.duration == 0 {
                        0
                    } else {
                        g.effective_end().saturating_add(rp.duration)
                    };
                    shards.push(json!({
                        "id": s.id,
                        "database": db.name,
                        "retentionPolicy": rp.name,
                        "replicaN": rp.replica_n,
                        "shardGroupId": g.id,
                        "startTime": g.start_time,
                        "endTime": g.end_time,
                        "expireTime": expire,
                        "truncatedAt": g.truncated_at,
                        "owners": s.owners.iter().map(|o| {
                            let addr = d.data_node(*o).map(|n| n.tcp_host.clone()).unwrap_or_default();
                            json!({ "id": o, "tcpAddr": addr })
                        }).collect::<Vec<_>>(),
                    }));
                }
            }
        }
    }
    json!(shards)
}

/// `POST /join {"addr": "<meta node of the cluster>"}`: asks that cluster to
/// add this node.
async fn join(State(srv): State<Srv>, body: Bytes) -> Response {
    let b: AddrBody = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(r) = valid_addr(&b.addr) {
        return r;
    }
    let req = json!({ "addr": srv.http_addr() }).to_string().into_bytes();
    match srv
        .call_peer(
            "POST",
            &b.addr,
            "/add-meta",
            Some(req),
            Duration::from_secs(90),
        )
        .await
    {
        Ok(r) => relay(r),
        Err(e) => error_reply(&e),
    }
}

fn relay(r: crate::http_util::Reply) -> Response {
    let code = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = (code, r.body).into_response();
    resp.headers_mut()
        .insert("Content-Type", HeaderValue::from_static("application/json"));
    resp
}

/// `POST /leave`: removes this node from its cluster (through the leader)
/// and resets it.
async fn leave(State(srv): State<Srv>) -> Response {
    if srv.raft().is_none() {
        return bad_request("this meta node is not part of a cluster");
    }
    let body = json!({ "addr": srv.http_addr() }).to_string().into_bytes();
    let res = match srv.route() {
        Route::Local(_) => match srv.remove_meta(srv.http_addr()).await {
            Ok(n) => Ok(json!(n)),
            Err(e) => Err(error_reply(&e)),
        },
        Route::Forward(peer) => match srv
            .call_peer(
                "POST",
                &peer.http_addr,
                "/remove-meta",
                Some(body),
                Duration::from_secs(60),
            )
            .await
        {
            Ok(r) if r.status == 200 => Ok(serde_json::from_slice(&r.body).unwrap_or(Value::Null)),
            Ok(r) => Err(relay(r)),
            Err(e) => Err(error_reply(&e)),
        },
        Route::NoLeader => Err(error_reply(&Error::NoLeader)),
    };
    match res {
        Ok(v) => {
            let s = srv.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if let Err(e) = s.reset(ResetReason::LeftCluster).await {
                    tracing::warn!("reset after leaving: {e}");
                }
            });
            reply(200, v)
        }
        Err(r) => r,
    }
}

/// The body of `/force-leave` and `/internal/reset`.
#[derive(Deserialize, Default)]
struct ResetBody {
    /// Wipe even a voter (logged loudly).
    #[serde(default)]
    force: bool,
    /// Set by the leader that removed this node.
    #[serde(default)]
    reason: Option<ResetReason>,
}

fn reset_body(body: &[u8]) -> Result<ResetBody, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ResetBody::default());
    }
    parse_json(body)
}

/// `POST /force-leave [{"force": true}]`: tries for a short while to be
/// removed properly, then resets this node. If the removal did not commit
/// and the node is still a voter, the reset is refused (409) unless
/// `force` is set (M9).
async fn force_leave(State(srv): State<Srv>, body: Bytes) -> Response {
    let b = match reset_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let removed = match srv.route() {
        Route::Forward(peer) => {
            let body = json!({ "addr": srv.http_addr() }).to_string().into_bytes();
            srv.call_peer(
                "POST",
                &peer.http_addr,
                "/remove-meta",
                Some(body),
                Duration::from_secs(5),
            )
            .await
            .is_ok_and(|r| r.status == 200)
        }
        Route::Local(_) => {
            tokio::time::timeout(Duration::from_secs(5), srv.remove_meta(srv.http_addr()))
                .await
                .is_ok_and(|r| r.is_ok())
        }
        Route::NoLeader => false,
    };
    let why = match (removed, b.force) {
        (true, _) => ResetReason::LeftCluster,
        (false, true) => ResetReason::Forced,
        (false, false) => ResetReason::Requested,
    };
    match srv.reset(why).await {
        Ok(()) => reply(200, json!({ "addr": srv.http_addr() })),
        Err(e) => error_reply(&e),
    }
}

#[derive(Deserialize)]
struct AssignId {
    id: u64,
}

async fn assign_id(State(srv): State<Srv>, body: Bytes) -> Response {
    let b: AssignId = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if b.id == 0 {
        return bad_request("invalid node id 0");
    }
    match srv.start_raft(b.id).await {
        Ok(_) => reply(200, json!({ "id": b.id })),
        Err(e) => error_reply(&e),
    }
}

/// `POST /internal/reset`: the leader (with the membership that removed
/// this node) or an operator (`force`) asks this node to forget its Raft
/// state. A voter refuses otherwise (M9).
async fn internal_reset(State(srv): State<Srv>, body: Bytes) -> Response {
    let b = match reset_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let why = match (b.force, b.reason) {
        (true, _) => ResetReason::Forced,
        (false, Some(r @ ResetReason::RemovedBy { .. })) => r,
        _ => ResetReason::Requested,
    };
    match srv.reset(why).await {
        Ok(()) => reply(200, json!({})),
        Err(e) => error_reply(&e),
    }
}

async fn debug_vars(State(srv): State<Srv>) -> Response {
    let st = srv.status();
    let m = srv.raft_metrics();
    let raft = m.map(|m| {
        json!({
            "id": m.id,
            "state": format!("{:?}", m.state),
            "term": m.current_term,
            "leader": m.current_leader,
            "lastLogIndex": m.last_log_index,
            "lastApplied": m.last_applied.map(|l| l.index),
            "snapshot": m.snapshot.map(|l| l.index),
            "purged": m.purged.map(|l| l.index),
            "millisSinceQuorumAck": m.millis_since_quorum_ack,
        })
    });
    reply(
        200,
        json!({
            "meta": {
                "name": "meta",
                "values": {
                    "index": st.index,
                    "leader": st.leader,
                    "httpAddr": st.http_addr,
                    "raftAddr": st.raft_addr,
                    "peers": st.peers,
                    "uptimeSeconds": srv.started.elapsed().as_secs(),
                },
            },
            "raft": raft,
        }),
    )
}

#[cfg(test)]
mod tests;
