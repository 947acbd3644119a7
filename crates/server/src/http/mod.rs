//! The InfluxDB 1.x HTTP API of a data node: routes, the headers every
//! response carries, and serving with graceful shutdown. Each endpoint lives
//! in its own module; this one only assembles them.

mod auth;
mod authorize;
mod body;
mod chunked;
mod debug;
mod error;
mod ping;
mod query;
mod write;

use crate::node::Node;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

pub use error::HttpError;

/// Version reported in `X-Influxdb-Version` and by `/ping?verbose=true`.
pub const VERSION: &str = concat!("1.8.10-tidemark-", env!("CARGO_PKG_VERSION"));
/// Build flavour reported in `X-Influxdb-Build`.
pub const BUILD: &str = "ENT";

pub fn router(node: Arc<Node>) -> Router {
    let pprof = node.config.http.pprof_enabled;
    let router = Router::new()
        .route("/ping", get(ping::ping).head(ping::ping))
        .route("/health", get(ping::health))
        .route("/write", post(write::write))
        .route("/query", get(query::query_get).post(query::query_post))
        .route("/debug/vars", get(debug::vars));
    let router = if pprof {
        router.merge(profiling::routes())
    } else {
        router
    };
    router
        .layer(middleware::from_fn(common_headers))
        .with_state(node)
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

async fn common_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let id = HeaderValue::from_str(&request_id()).unwrap_or(HeaderValue::from_static("0"));
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
    resp
}

/// Serves the API on `listener` until `shutdown` resolves, then stops
/// accepting and lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    node: Arc<Node>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Responses go out as soon as they are written: with Nagle's algorithm
    // a small answer can wait for the client's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY on an accepted connection: {e}");
        }
    });
    axum::serve(listener, router(node))
        .with_graceful_shutdown(shutdown)
        .await
}
