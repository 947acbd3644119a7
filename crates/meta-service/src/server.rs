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
            axum::serve(
                self.raft,
                raft_app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx1.wait_for(|v| *v).await;
            })
            .await
        });
        let http_task = tokio::spawn(async move {
            axum::serve(
                self.http,
                http_app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx2.wait_for(|v| *v).await;
            })
            .await
        });
        warn_if_unprotected(self.srv.config());
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

/// Whether a listen address (`host:port`, host possibly empty or a name)
/// is reachable only from this machine.
fn is_loopback_listen(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map(|(h, _)| h).unwrap_or(addr);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host == "localhost" {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// The startup warnings of a node whose node-to-node traffic is not
/// protected: one per listener on a non-loopback address while
/// `internal-shared-secret` is empty. Answered for tests; logged at
/// startup.
pub fn unprotected_warnings(cfg: &Config) -> Vec<String> {
    let m = &cfg.meta;
    if !m.internal_shared_secret.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if !is_loopback_listen(&m.http_bind_address) {
        out.push(format!(
            "SECURITY: [meta] internal-shared-secret is empty and the HTTP API listens on {}: \
             anyone who can reach it can read every user's password hash and change the \
             cluster's metadata. Set [meta] internal-shared-secret and auth-enabled = true \
             (and the same secret on the data nodes' [meta] section).",
            m.http_bind_address
        ));
    }
    if !is_loopback_listen(&m.bind_address) {
        out.push(format!(
            "SECURITY: [meta] internal-shared-secret is empty, so the Raft listener on {} \
             accepts only loopback peers; meta nodes on other hosts cannot join until the \
             same internal-shared-secret is set on every meta node.",
            m.bind_address
        ));
    }
    out
}

fn warn_if_unprotected(cfg: &Config) {
    for w in unprotected_warnings(cfg) {
        tracing::warn!("{w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h1_meta_warns_when_listening_openly_without_a_secret() {
        let mut c = Config::default();
        let w = unprotected_warnings(&c);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("internal-shared-secret"));
        c.meta.http_bind_address = "127.0.0.1:8091".into();
        c.meta.bind_address = "localhost:8089".into();
        assert!(unprotected_warnings(&c).is_empty());
        c.meta.bind_address = "10.0.0.1:8089".into();
        assert_eq!(unprotected_warnings(&c).len(), 1);
        c.meta.internal_shared_secret = "s".into();
        assert!(unprotected_warnings(&c).is_empty());
    }
}
