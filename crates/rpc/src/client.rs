//! The sending side of the cluster RPC: one lazily dialled HTTP/2 channel
//! per peer (by TCP address), shared by every request to it, dropped after
//! `pool-max-idle-time` without use; every call bounded by a deadline.
//!
//! Owns dialling, the pool, deadlines and turning transport failures into
//! [`RpcError`]s that tell a dead or unreachable node from a refusal; must
//! not decide what a failure means for a write (the points writer does).

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tonic::client::Grpc;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};
use tonic_prost::ProstCodec;

use crate::messages::{
    JoinClusterRequest, JoinClusterResponse, RequestHeader, WriteShardRequest, WriteShardResponse,
    PROTOCOL_VERSION,
};
use crate::{
    RpcError, JOIN_CLUSTER_PATH, MAX_MESSAGE_BYTES, SECRET_METADATA_KEY, WRITE_SHARD_PATH,
};

/// How the pool dials and bounds calls (`[cluster]` options).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `dial-timeout`: how long establishing a connection may take.
    pub dial_timeout: Duration,
    /// `pool-max-idle-time`: a peer's connection unused this long is closed.
    pub pool_max_idle_time: Duration,
    /// `pool-max-idle-streams`: the most requests in flight to one peer at
    /// once (HTTP/2 streams on its one connection); more wait their turn.
    pub pool_max_streams: usize,
    /// `[meta] meta-internal-shared-secret`, sent with every request when
    /// not empty.
    pub shared_secret: String,
    /// Peer TCP address → address actually dialled (the test rig's fault
    /// proxies sit there).
    pub dial_overrides: BTreeMap<String, String>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            dial_timeout: Duration::from_secs(1),
            pool_max_idle_time: Duration::from_secs(60),
            pool_max_streams: 100,
            shared_secret: String::new(),
            dial_overrides: BTreeMap::new(),
        }
    }
}

struct Pooled {
    channel: Channel,
    last_used: Instant,
}

/// Who this node is, stamped on every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sender {
    /// The cluster id as known at start (0 when not known yet; the owner
    /// of the pool updates it with [`Peers::set_cluster_id`]).
    pub cluster_id: u64,
    pub node_id: u64,
}

/// The pool of channels to the other data nodes.
pub struct Peers {
    cfg: ClientConfig,
    sender: Sender,
    cluster_id: std::sync::atomic::AtomicU64,
    channels: Mutex<HashMap<String, Pooled>>,
}

impl Peers {
    pub fn new(cfg: ClientConfig, sender: Sender) -> Peers {
        Peers {
            cfg,
            cluster_id: std::sync::atomic::AtomicU64::new(sender.cluster_id),
            sender,
            channels: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the cluster id stamped on requests (from the metadata).
    pub fn set_cluster_id(&self, id: u64) {
        if id != 0 {
            self.cluster_id
                .store(id, std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub fn header(&self) -> RequestHeader {
        RequestHeader {
            version: PROTOCOL_VERSION,
            cluster_id: self.cluster_id.load(std::sync::atomic::Ordering::Relaxed),
            sender_node_id: self.sender.node_id,
        }
    }

    /// The channel to `addr`, dialled lazily on first use. Must be called
    /// within a tokio runtime.
    fn channel(&self, addr: &str) -> Result<Channel, RpcError> {
        let now = Instant::now();
        let mut pool = self.channels.lock();
        let idle = self.cfg.pool_max_idle_time;
        pool.retain(|_, p| now.duration_since(p.last_used) < idle);
        if let Some(p) = pool.get_mut(addr) {
            p.last_used = now;
            return Ok(p.channel.clone());
        }
        let target = self
            .cfg
            .dial_overrides
            .get(addr)
            .map_or(addr, String::as_str);
        let endpoint = Endpoint::from_shared(format!("http://{target}"))
            .map_err(|e| RpcError::BadAddress {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?
            .connect_timeout(self.cfg.dial_timeout)
            .tcp_nodelay(true)
            .concurrency_limit(self.cfg.pool_max_streams.max(1))
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(10));
        let channel = endpoint.connect_lazy();
        pool.insert(
            addr.to_string(),
            Pooled {
                channel: channel.clone(),
                last_used: now,
            },
        );
        Ok(channel)
    }

    /// Forgets the connection to `addr` (it failed): the next call dials
    /// afresh.
    fn forget(&self, addr: &str) {
        self.channels.lock().remove(addr);
    }

    /// Sends one shard's points to the owner at `addr` and waits, at most
    /// `deadline`, for its answer.
    pub async fn write_shard(
        &self,
        addr: &str,
        mut req: WriteShardRequest,
        deadline: Duration,
    ) -> Result<WriteShardResponse, RpcError> {
        req.header = Some(self.header());
        let result = self.unary(addr, req, WRITE_SHARD_PATH, deadline).await;
        if matches!(result, Err(RpcError::Unreachable { .. })) {
            self.forget(addr);
        }
        result
    }

    /// Asks the data node at `addr` to join the cluster of the meta nodes
    /// in `req` (sent by a meta node; the header's node id is the
    /// [`Sender`]'s, 0 for a meta node) and waits, at most `deadline`, for
    /// the addresses it advertises.
    pub async fn join_cluster(
        &self,
        addr: &str,
        mut req: JoinClusterRequest,
        deadline: Duration,
    ) -> Result<JoinClusterResponse, RpcError> {
        req.header = Some(self.header());
        let result = self.unary(addr, req, JOIN_CLUSTER_PATH, deadline).await;
        if result.is_err() {
            self.forget(addr);
        }
        result
    }

    /// One unary call of `path` on the peer at `addr`: the pooled channel,
    /// the shared secret, the message size limit and the deadline.
    async fn unary<Req, Resp>(
        &self,
        addr: &str,
        req: Req,
        path: &'static str,
        deadline: Duration,
    ) -> Result<Resp, RpcError>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let channel = self.channel(addr)?;
        let mut grpc = Grpc::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES);
        let mut request = Request::new(req);
        request.set_timeout(deadline);
        if !self.cfg.shared_secret.is_empty() {
            let v = MetadataValue::from_str(&self.cfg.shared_secret).map_err(|_| {
                RpcError::BadAddress {
                    addr: addr.to_string(),
                    reason: "the internal shared secret is not a valid header value".into(),
                }
            })?;
            request.metadata_mut().insert(SECRET_METADATA_KEY, v);
        }
        let call = async {
            grpc.ready()
                .await
                .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
            grpc.unary(
                request,
                http::uri::PathAndQuery::from_static(path),
                ProstCodec::<Req, Resp>::default(),
            )
            .await
        };
        match tokio::time::timeout(deadline, call).await {
            Err(_) => Err(RpcError::Timeout {
                addr: addr.to_string(),
                after: deadline,
            }),
            Ok(Ok(resp)) => Ok(resp.into_inner()),
            Ok(Err(status)) => Err(classify(addr, deadline, status)),
        }
    }
}

fn classify(addr: &str, deadline: Duration, status: tonic::Status) -> RpcError {
    let addr = addr.to_string();
    match status.code() {
        Code::Unavailable | Code::Unknown if status.message().contains("transport") => {
            RpcError::Unreachable {
                addr,
                reason: status.message().to_string(),
            }
        }
        Code::Unavailable => RpcError::Unreachable {
            addr,
            reason: status.message().to_string(),
        },
        Code::DeadlineExceeded | Code::Cancelled => RpcError::Timeout {
            addr,
            after: deadline,
        },
        Code::Unauthenticated
        | Code::PermissionDenied
        | Code::FailedPrecondition
        | Code::InvalidArgument
        | Code::Unimplemented => RpcError::Refused {
            addr,
            code: status.code(),
            reason: status.message().to_string(),
        },
        _ => RpcError::Remote {
            addr,
            reason: status.message().to_string(),
        },
    }
}
