//! Runs a meta node: opens its state, binds the Raft (8089) and HTTP (8091)
//! listeners, optionally bootstraps a one-node cluster, and serves until
//! SIGINT/SIGTERM.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::MetaServer;
use std::sync::Arc;

/// A running meta node's listeners, bound before serving (so callers know
/// the ports).
pub struct Bound {
    pub srv: Arc<MetaServer>,
    raft: tokio::net::TcpListener,
    http: tokio::net::TcpListener,
}

/// Opens the node and binds its listeners.
pub async fn bind(cfg: Config) -> Result<Bound> {
    let raft = tokio::net::TcpListener::bind(cfg.raft_listen()?)
        .await
        .map_err(|e| Error::Config(format!("listen on {}: {e}", cfg.meta.bind_address)))?;
    let http = tokio::net::TcpListener::bind(cfg.http_listen()?)
        .await
        .map_err(|e| Error::Config(format!("listen on {}: {e}", cfg.meta.http_bind_address)))?;
    let srv = MetaServer::open(cfg).await?;
    Ok(Bound { srv, raft, http })
}

impl Bound {
    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        single_server: bool,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let raft_app = crate::raft_api::router(self.srv.clone());
        let http_app = crate::api::router(self.srv.clone());
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut rx1 = stop_rx.clone();
        let mut rx2 = stop_rx;
        let raft_task = tokio::spawn(async move {
            axum::serve(self.raft, raft_app)
                .with_graceful_shutdown(async move {
                    let _ = rx1.wait_for(|v| *v).await;
                })
                .await
        });
        let http_task = tokio::spawn(async move {
            axum::serve(self.http, http_app)
                .with_graceful_shutdown(async move {
                    let _ = rx2.wait_for(|v| *v).await;
                })
                .await
        });
        if single_server {
            self.srv.bootstrap().await?;
        }
        tracing::info!(
            http = %self.srv.http_addr(),
            raft = %self.srv.raft_addr(),
            "influxd-meta listening"
        );
        shutdown.await;
        let _ = stop_tx.send(true);
        self.srv.shutdown().await;
        let _ = raft_task.await;
        let _ = http_task.await;
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
