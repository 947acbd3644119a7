//! The data node server: configuration, the node's assembled components,
//! the InfluxDB 1.x HTTP API, and the background services (retention
//! enforcement, shard precreation). Binaries call [`run`]; everything a
//! request does below HTTP framing lives in the engine, meta, cluster and
//! query crates.

pub mod config;
mod durable_file;
pub mod http;
pub mod identity;
pub mod joined;
pub mod node;
pub mod peer_rpc;
pub mod services;
pub mod system;

pub use config::Config;
pub use node::{Node, ServerError};

use std::future::Future;
use std::sync::Arc;

/// Why [`run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// `shutdown` resolved: the process exits.
    Stopped,
    /// This standalone node accepted to join a meta cluster (`influxd-ctl
    /// add-data`) and recorded it in `[meta] dir/client.json`; it stopped so
    /// that the process starts again, with the same arguments, as a member.
    Rejoin,
}

/// Opens the node, binds the HTTP listener, starts the services and serves
/// until `shutdown` resolves; then stops accepting, drains requests for a
/// bounded time ([`http::SHUTDOWN_DRAIN_TIMEOUT`]), stops the queries still
/// running, the services, and closes the engine.
/// `on_ready` is called with the bound HTTP address once requests can be
/// served.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(std::net::SocketAddr),
) -> Result<RunOutcome, ServerError> {
    config.http.check_supported().map_err(ServerError::Config)?;
    let unknown = config.http.unknown_options();
    if !unknown.is_empty() {
        tracing::warn!(
            "[http] options not supported by Tidemark are ignored: {}",
            unknown.join(", ")
        );
    }
    let addr = config::bind_addr(&config.http.bind_address);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| ServerError::Listen {
            addr: addr.clone(),
            source,
        })?;
    let node = tokio::task::spawn_blocking(move || Node::open(config))
        .await
        .map_err(|e| ServerError::Config(e.to_string()))??;
    // The cluster RPC on `bind-address` (8088), served until HTTP is done.
    let rpc_addr = config::bind_addr(&node.config.bind_address);
    let rpc_listener = tokio::net::TcpListener::bind(&rpc_addr)
        .await
        .map_err(|source| ServerError::Listen {
            addr: rpc_addr.clone(),
            source,
        })?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let service = rpc::DataNodeService::new(
        Arc::new(peer_rpc::PeerHandler::new(node.clone())),
        &node.config.meta.meta_internal_shared_secret,
    );
    let mut rpc_stop = stop_rx.clone();
    let rpc_task = tokio::spawn(rpc::serve(rpc_listener, service, async move {
        let _ = rpc_stop.changed().await;
    }));
    let hh_task = node.cluster.as_ref().map(|links| {
        tokio::spawn(
            links
                .hh
                .clone()
                .run(links.peers.clone(), node.meta.clone(), stop_rx.clone()),
        )
    });
    let services = services::start(node.clone());
    let local = listener
        .local_addr()
        .map_err(|source| ServerError::Listen {
            addr: addr.clone(),
            source,
        })?;
    on_ready(local);
    let rejoin = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = {
        let node = node.clone();
        let rejoin = rejoin.clone();
        async move {
            tokio::select! {
                _ = shutdown => {}
                _ = node.rejoin.notified() => {
                    tracing::info!("joined a cluster: restarting as a member");
                    rejoin.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
        }
    };
    http::serve(listener, node.clone(), stop)
        .await
        .map_err(|source| ServerError::Listen { addr, source })?;
    // Queries of connections closed at the drain deadline may still run on
    // blocking threads: stop them before the engine closes.
    for q in node.executor.queries() {
        let _ = node.executor.kill(q.id);
    }
    services.stop().await;
    let _ = stop_tx.send(true);
    if let Some(t) = hh_task {
        let _ = t.await;
    }
    match rpc_task.await {
        Ok(Err(e)) => tracing::warn!("cluster RPC server: {e}"),
        Err(e) => tracing::warn!("cluster RPC server task: {e}"),
        Ok(Ok(())) => {}
    }
    let n: Arc<Node> = node;
    tokio::task::spawn_blocking(move || n.close())
        .await
        .map_err(|e| ServerError::Config(e.to_string()))??;
    if rejoin.load(std::sync::atomic::Ordering::SeqCst) {
        Ok(RunOutcome::Rejoin)
    } else {
        Ok(RunOutcome::Stopped)
    }
}
