//! The InfluxDB 1.x HTTP API of a data node: routes, the headers every
//! response carries, and serving with graceful shutdown. Each endpoint lives
//! in its own module; this one only assembles them.

mod access_log;
mod auth;
mod authorize;
mod body;
mod chunked;
mod debug;
mod error;
mod limits;
mod ping;
mod query;
mod serve;
mod write;

use crate::node::Node;
use axum::extract::{ConnectInfo, Extension, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use limits::HttpLimits;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

pub use error::HttpError;
pub use limits::{FAILED_AUTH_BURST, FAILED_AUTH_REFILL_INTERVAL};
pub use serve::{serve_router, ServeOptions, SHUTDOWN_DRAIN_TIMEOUT};

/// Version reported in `X-Influxdb-Version` and by `/ping?verbose=true`.
pub const VERSION: &str = concat!("1.8.10-tidemark-", env!("CARGO_PKG_VERSION"));
/// Build flavour reported in `X-Influxdb-Build`.
pub const BUILD: &str = "ENT";

pub fn router(node: Arc<Node>) -> Router {
    let http = &node.config.http;
    let limits = Arc::new(HttpLimits::new(http));
    let guard = |admin: bool| {
        middleware::from_fn_with_state(
            AuthGuard {
                node: node.clone(),
                limits: limits.clone(),
                admin,
            },
            require_auth,
        )
    };
    // InfluxDB 1.8: `ping-auth-enabled` puts /ping behind authentication,
    // `pprof-auth-enabled` puts /debug behind an admin user.
    let mut ping = Router::new().route("/ping", get(ping::ping).head(ping::ping));
    if http.auth_enabled && http.ping_auth_enabled {
        ping = ping.route_layer(guard(false));
    }
    let mut debug = Router::new()
        .route("/debug/vars", get(debug::vars))
        .route("/debug/shard-digest", get(debug::shard_digest));
    if http.pprof_enabled {
        debug = debug.merge(profiling::routes());
    }
    if http.auth_enabled && http.pprof_auth_enabled {
        debug = debug.route_layer(guard(true));
    }
    Router::new()
        .route("/health", get(ping::health))
        .route("/write", post(write::write))
        .route("/query", get(query::query_get).post(query::query_post))
        .merge(ping)
        .merge(debug)
        .layer(Extension(limits))
        .layer(middleware::from_fn_with_state(
            http.log_enabled,
            common_headers,
        ))
        .with_state(node)
}

/// The client's address, set by the accept loop (None when a router is
/// driven without one, as in unit tests).
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[derive(Clone)]
struct AuthGuard {
    node: Arc<Node>,
    limits: Arc<HttpLimits>,
    /// An admin user is required, not just any user.
    admin: bool,
}

/// Authentication in front of endpoints without their own (/ping, /debug).
async fn require_auth(State(g): State<AuthGuard>, req: Request, next: Next) -> Response {
    let params: HashMap<String, String> = req
        .uri()
        .query()
        .map(|q| {
            ::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let caller = match auth::authenticate(&g.node, &g.limits, peer, &params, req.headers()).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if g.admin {
        if let Err(e) = auth::require_admin(&g.node, &caller) {
            return e.into_response();
        }
    }
    next.run(req).await
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(1);

fn request_id() -> String {
    let n = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    let t = models::now_nanos() as u64;
    // UUID-shaped (version 1 layout) and unique per process.
    format!(
        "{:08x}-{:04x}-1{:03x}-8{:03x}-{:012x}",
        (t >> 32) as u32,
        (t >> 16) as u16,
        (t & 0xfff) as u16,
        (n >> 48) as u16 & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

/// InfluxDB's response headers, and the access log line when
/// `[http] log-enabled`.
async fn common_headers(State(log_enabled): State<bool>, req: Request, next: Next) -> Response {
    let entry = log_enabled.then(|| access_log::AccessEntry::start(&req));
    let mut resp = next.run(req).await;
    let id_text = request_id();
    let h = resp.headers_mut();
    let id = HeaderValue::from_str(&id_text).unwrap_or(HeaderValue::from_static("0"));
    h.insert(HeaderName::from_static("request-id"), id.clone());
    h.insert(HeaderName::from_static("x-request-id"), id);
    h.insert(
        HeaderName::from_static("x-influxdb-build"),
        HeaderValue::from_static(BUILD),
    );
    h.insert(
        HeaderName::from_static("x-influxdb-version"),
        HeaderValue::from_static(VERSION),
    );
    if let Some(e) = entry {
        e.finish(resp.status().as_u16(), resp.headers(), &id_text);
    }
    resp
}

/// Serves the API on `listener` until `shutdown` resolves, then stops
/// accepting, lets in-flight requests finish for at most
/// [`SHUTDOWN_DRAIN_TIMEOUT`] and closes the rest.
pub async fn serve(
    listener: TcpListener,
    node: Arc<Node>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let opts = ServeOptions::from_config(&node.config.http);
    serve_router(listener, router(node), opts, shutdown).await
}
