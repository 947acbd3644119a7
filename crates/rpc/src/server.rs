//! The receiving side of the cluster RPC: a gRPC service (tonic, HTTP/2)
//! on the data node's `bind-address` (8088) that checks every request's
//! header and hands the request to a [`Handler`] on a blocking thread.
//!
//! Owns routing, header checks, the message size limit and the shared
//! secret check; must not know what writing a shard means (that is the
//! handler's, implemented by the data node over its storage engine).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

use crate::messages::{
    JoinClusterRequest, JoinClusterResponse, RequestHeader, WriteShardRequest, WriteShardResponse,
    MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
};
use crate::{
    JOIN_CLUSTER_PATH, MAX_MESSAGE_BYTES, SECRET_METADATA_KEY, SERVICE_NAME, WRITE_SHARD_PATH,
};

/// What a data node does with requests from its peers. Called on a
/// blocking thread (the storage engine's calls block on fsync).
pub trait Handler: Send + Sync + 'static {
    /// Whether the sender may talk to this node: same cluster, a data node
    /// the metadata knows. `Err` carries the reason, logged and returned.
    fn check_sender(&self, header: &RequestHeader) -> Result<(), String>;

    /// Writes one shard's points; the answer is sent only once they are
    /// durable.
    fn write_shard(&self, req: WriteShardRequest) -> WriteShardResponse;

    /// A meta node asks this node to join its cluster. The sender is not a
    /// data node, so [`Handler::check_sender`] is not consulted (the shared
    /// secret and the protocol version are). `Err` carries the refusal
    /// shown to the operator.
    fn join_cluster(&self, req: JoinClusterRequest) -> Result<JoinClusterResponse, String> {
        let _ = req;
        Err("this node does not accept cluster joins".into())
    }
}

/// The gRPC service over a [`Handler`].
pub struct DataNodeService<H> {
    handler: Arc<H>,
    /// `[meta] meta-internal-shared-secret`: when not empty, every request
    /// must carry it.
    shared_secret: Arc<str>,
}

impl<H> Clone for DataNodeService<H> {
    fn clone(&self) -> Self {
        DataNodeService {
            handler: self.handler.clone(),
            shared_secret: self.shared_secret.clone(),
        }
    }
}

impl<H: Handler> DataNodeService<H> {
    pub fn new(handler: Arc<H>, shared_secret: &str) -> DataNodeService<H> {
        DataNodeService {
            handler,
            shared_secret: Arc::from(shared_secret),
        }
    }
}

impl<H> NamedService for DataNodeService<H> {
    const NAME: &'static str = SERVICE_NAME;
}

/// Byte-wise comparison whose time does not depend on where the inputs
/// differ (only on their lengths).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_request<H: Handler, T>(
    handler: &H,
    secret: &str,
    req: &Request<T>,
    header: Option<&RequestHeader>,
) -> Result<(), Status> {
    let h = check_secret_and_version(secret, req, header)?;
    handler
        .check_sender(h)
        .map_err(|why| Status::permission_denied(format!("cluster RPC: {why}")))
}

/// The checks every request passes, whoever sends it: the shared secret,
/// a header, a protocol version this node speaks.
fn check_secret_and_version<'h, T>(
    secret: &str,
    req: &Request<T>,
    header: Option<&'h RequestHeader>,
) -> Result<&'h RequestHeader, Status> {
    if !secret.is_empty() {
        let given = req
            .metadata()
            .get(SECRET_METADATA_KEY)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !same_secret(given, secret.as_bytes()) {
            return Err(Status::unauthenticated(
                "cluster RPC: missing or wrong internal shared secret",
            ));
        }
    }
    let Some(h) = header else {
        return Err(Status::invalid_argument(
            "cluster RPC: request without a header",
        ));
    };
    if h.version < MIN_PROTOCOL_VERSION || h.version > PROTOCOL_VERSION {
        return Err(Status::failed_precondition(format!(
            "cluster RPC: protocol version {} not supported (this node speaks {MIN_PROTOCOL_VERSION}..={PROTOCOL_VERSION})",
            h.version
        )));
    }
    Ok(h)
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

struct WriteShard<H> {
    handler: Arc<H>,
    secret: Arc<str>,
}

impl<H: Handler> UnaryService<WriteShardRequest> for WriteShard<H> {
    type Response = WriteShardResponse;
    type Future = BoxFuture<Result<Response<WriteShardResponse>, Status>>;

    fn call(&mut self, req: Request<WriteShardRequest>) -> Self::Future {
        let handler = self.handler.clone();
        let secret = self.secret.clone();
        Box::pin(async move {
            if let Err(status) =
                check_request(&*handler, &secret, &req, req.get_ref().header.as_ref())
            {
                tracing::warn!(
                    remote = ?req.remote_addr(),
                    "refused a shard write: {}",
                    status.message()
                );
                return Err(status);
            }
            let msg = req.into_inner();
            let resp = tokio::task::spawn_blocking(move || handler.write_shard(msg))
                .await
                .map_err(|e| Status::internal(format!("shard write task failed: {e}")))?;
            Ok(Response::new(resp))
        })
    }
}

struct JoinCluster<H> {
    handler: Arc<H>,
    secret: Arc<str>,
}

impl<H: Handler> UnaryService<JoinClusterRequest> for JoinCluster<H> {
    type Response = JoinClusterResponse;
    type Future = BoxFuture<Result<Response<JoinClusterResponse>, Status>>;

    fn call(&mut self, req: Request<JoinClusterRequest>) -> Self::Future {
        let handler = self.handler.clone();
        let secret = self.secret.clone();
        Box::pin(async move {
            if let Err(status) =
                check_secret_and_version(&secret, &req, req.get_ref().header.as_ref())
            {
                tracing::warn!(
                    remote = ?req.remote_addr(),
                    "refused a cluster join: {}",
                    status.message()
                );
                return Err(status);
            }
            let msg = req.into_inner();
            match tokio::task::spawn_blocking(move || handler.join_cluster(msg)).await {
                Ok(Ok(resp)) => Ok(Response::new(resp)),
                Ok(Err(why)) => {
                    tracing::warn!("refused to join a cluster: {why}");
                    Err(Status::failed_precondition(why))
                }
                Err(e) => Err(Status::internal(format!("cluster join task failed: {e}"))),
            }
        })
    }
}

impl<H: Handler> tower_service::Service<http::Request<Body>> for DataNodeService<H> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        match req.uri().path() {
            WRITE_SHARD_PATH => {
                let method = WriteShard {
                    handler: self.handler.clone(),
                    secret: self.shared_secret.clone(),
                };
                Box::pin(async move {
                    let mut grpc =
                        Grpc::new(ProstCodec::<WriteShardResponse, WriteShardRequest>::default())
                            .max_decoding_message_size(MAX_MESSAGE_BYTES);
                    Ok(grpc.unary(method, req).await)
                })
            }
            JOIN_CLUSTER_PATH => {
                let method = JoinCluster {
                    handler: self.handler.clone(),
                    secret: self.shared_secret.clone(),
                };
                Box::pin(async move {
                    let mut grpc =
                        Grpc::new(ProstCodec::<JoinClusterResponse, JoinClusterRequest>::default())
                            .max_decoding_message_size(MAX_MESSAGE_BYTES);
                    Ok(grpc.unary(method, req).await)
                })
            }
            other => {
                tracing::warn!(path = other, "cluster RPC: unknown method");
                let status = Status::unimplemented(format!("cluster RPC: unknown method {other}"));
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}
