//! The data nodes' cluster RPC (port 8088, `bind-address`): gRPC over
//! HTTP/2 with tonic, messages derived by hand with prost ([`messages`]).
//! One service, `tidemark.cluster.v1.DataNode`, carries everything data
//! nodes ask of each other; today shard writes (`WriteShard`) and a meta
//! node's request that a data node join its cluster (`JoinCluster`), later the
//! shard-local part of queries, shard copies, backups and query
//! management ride on the same channel.
//!
//! This crate owns the transport (dialling, pooling, deadlines, limits,
//! the shared secret, protocol versions) and the message shapes; what a
//! request means is the [`server::Handler`]'s, and what a failure means for
//! a client's write is the points writer's (crate `cluster`).

pub mod client;
#[doc(hidden)]
pub mod fuzzing;
pub mod messages;
pub mod server;

pub use client::{ClientConfig, Peers, Sender};
pub use messages::{
    JoinClusterRequest, JoinClusterResponse, WriteCode, WriteShardRequest, WriteShardResponse,
};
pub use server::{DataNodeService, Handler};
pub use tonic::Code;

use std::future::Future;
use std::time::Duration;

/// The gRPC service name.
pub const SERVICE_NAME: &str = "tidemark.cluster.v1.DataNode";
/// The gRPC path of the shard write.
pub const WRITE_SHARD_PATH: &str = "/tidemark.cluster.v1.DataNode/WriteShard";
/// The gRPC path of a meta node's request that a data node join its
/// cluster (`influxd-ctl add-data`).
pub const JOIN_CLUSTER_PATH: &str = "/tidemark.cluster.v1.DataNode/JoinCluster";
/// The metadata key carrying the internal shared secret.
pub const SECRET_METADATA_KEY: &str = "x-tidemark-internal-secret";
/// The largest message either side decodes (a batch of points for one
/// shard; the HTTP body limit is 25 MB, and a shard gets a part of it).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
/// How long a stopping server waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A failed call, typed enough to tell a dead node from a refusal.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The peer could not be reached (refused, reset, no route, dial
    /// timeout): it may be down or partitioned away.
    #[error("node {addr} unreachable: {reason}")]
    Unreachable { addr: String, reason: String },
    /// No answer within the deadline: the peer may be stalled or slow.
    #[error("node {addr} did not answer within {after:?}")]
    Timeout { addr: String, after: Duration },
    /// The peer refused the request itself (wrong secret, unknown sender,
    /// unsupported version, malformed message).
    #[error("node {addr} refused the request ({code:?}): {reason}")]
    Refused {
        addr: String,
        code: tonic::Code,
        reason: String,
    },
    /// The peer failed while handling the request.
    #[error("node {addr}: {reason}")]
    Remote { addr: String, reason: String },
    #[error("bad node address {addr:?}: {reason}")]
    BadAddress { addr: String, reason: String },
}

impl RpcError {
    /// Whether the same request may succeed later (hinted handoff keeps it).
    /// A refusal for a malformed request never will; an unknown sender or
    /// a secret mismatch may once configuration or metadata catch up.
    pub fn is_retryable(&self) -> bool {
        match self {
            RpcError::Refused { code, .. } => !matches!(
                code,
                tonic::Code::InvalidArgument | tonic::Code::Unimplemented
            ),
            RpcError::BadAddress { .. } => false,
            _ => true,
        }
    }
}

/// Serves the cluster RPC on `listener` until `shutdown` resolves, then
/// gives requests in flight up to [`SHUTDOWN_GRACE`].
pub async fn serve<H: Handler>(
    listener: tokio::net::TcpListener,
    service: DataNodeService<H>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .serve_with_incoming_shutdown(service, incoming, async move {
            shutdown.await;
            let _ = stop_tx.send(());
        });
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r,
        _ = async {
            let _ = stop_rx.await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => Ok(()),
    }
}
