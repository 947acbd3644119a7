//! The Raft transport, client side: openraft's `RaftNetwork` over HTTP to a
//! peer's Raft listener (`POST /raft/{append,vote}` with JSON bodies,
//! `POST /raft/snapshot` with a raw-bytes chunk, see
//! [`encode_snapshot_chunk`]; on 8089).
//! Each call runs one blocking ureq request on tokio's blocking pool. An
//! unreachable peer is reported as `Unreachable` so openraft backs off.

use crate::http_util;
use crate::types::{MetaPeer, TypeConfig};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// Header carrying `internal-shared-secret` between meta nodes.
pub const SECRET_HEADER: &str = "X-Tidemark-Internal-Secret";

/// Whether `given` equals the configured `secret`, compared in constant
/// time (the length may leak; the content does not).
pub fn secret_matches(secret: &str, given: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    !secret.is_empty() && bool::from(secret.as_bytes().ct_eq(given))
}

/// Largest Raft RPC body a meta node accepts: an append carries at most
/// `max_payload_entries` entries of at most [`crate::api::MAX_COMMAND_BYTES`]
/// each, a snapshot chunk at most [`RAFT_SNAPSHOT_CHUNK_BYTES`] plus its
/// small header. axum's 2 MB default would refuse both.
pub const MAX_RAFT_BODY_BYTES: usize = 64 << 20;
/// Bytes of snapshot per `/raft/snapshot` request (openraft's
/// `snapshot_max_chunk_size`).
pub const RAFT_SNAPSHOT_CHUNK_BYTES: u64 = 1 << 20;
/// Entries per `/raft/append` request (openraft's `max_payload_entries`).
pub const RAFT_MAX_PAYLOAD_ENTRIES: u64 = 32;

/// A snapshot chunk's fields other than its bytes.
#[derive(Serialize, serde::Deserialize)]
struct SnapshotChunkHead {
    vote: crate::types::Vote,
    meta: crate::types::SnapshotMeta,
    offset: u64,
    done: bool,
}

/// The body of `POST /raft/snapshot`: a 4-byte big-endian length, that many
/// bytes of JSON (vote, snapshot meta, offset, done), then the chunk's raw
/// bytes — not a JSON array of numbers, which would be 3-4 times larger.
pub fn encode_snapshot_chunk(req: &InstallSnapshotRequest<TypeConfig>) -> Result<Vec<u8>, String> {
    let head = serde_json::to_vec(&SnapshotChunkHead {
        vote: req.vote,
        meta: req.meta.clone(),
        offset: req.offset,
        done: req.done,
    })
    .map_err(|e| e.to_string())?;
    let len = u32::try_from(head.len()).map_err(|_| "snapshot chunk header too large")?;
    let mut out = Vec::with_capacity(4 + head.len() + req.data.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&req.data);
    Ok(out)
}

/// Decodes [`encode_snapshot_chunk`]'s framing.
pub fn decode_snapshot_chunk(body: &[u8]) -> Result<InstallSnapshotRequest<TypeConfig>, String> {
    let (len, rest) = body
        .split_first_chunk::<4>()
        .ok_or("snapshot chunk: truncated length")?;
    let len = u32::from_be_bytes(*len) as usize;
    if len > rest.len() {
        return Err("snapshot chunk: header longer than the body".into());
    }
    let (head, data) = rest.split_at(len);
    let head: SnapshotChunkHead =
        serde_json::from_slice(head).map_err(|e| format!("snapshot chunk header: {e}"))?;
    Ok(InstallSnapshotRequest {
        vote: head.vote,
        meta: head.meta,
        offset: head.offset,
        data: data.to_vec(),
        done: head.done,
    })
}

/// Builds one [`PeerClient`] per target.
#[derive(Clone)]
pub struct HttpNetwork {
    agent: ureq::Agent,
    secret: String,
    /// `[meta] dial-overrides`: peer Raft address -> address actually dialled.
    dial_overrides: std::collections::BTreeMap<String, String>,
}

impl HttpNetwork {
    pub fn new(
        secret: String,
        dial_overrides: std::collections::BTreeMap<String, String>,
    ) -> HttpNetwork {
        HttpNetwork {
            agent: http_util::agent(),
            secret,
            dial_overrides,
        }
    }
}

impl RaftNetworkFactory<TypeConfig> for HttpNetwork {
    type Network = PeerClient;

    async fn new_client(&mut self, target: u64, node: &MetaPeer) -> PeerClient {
        PeerClient {
            agent: self.agent.clone(),
            target,
            addr: self
                .dial_overrides
                .get(&node.raft_addr)
                .cloned()
                .unwrap_or_else(|| node.raft_addr.clone()),
            secret: self.secret.clone(),
        }
    }
}

/// The connection to one peer.
pub struct PeerClient {
    agent: ureq::Agent,
    target: u64,
    addr: String,
    secret: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TransportError(String);

impl PeerClient {
    /// Sends `req` as JSON.
    async fn call<Req, Resp, E>(
        &self,
        path: &str,
        req: Req,
        timeout: Duration,
    ) -> Result<Resp, RPCError<u64, MetaPeer, RaftError<u64, E>>>
    where
        Req: Serialize + Send + 'static,
        Resp: DeserializeOwned + Send + 'static,
        E: std::error::Error + DeserializeOwned + Send + 'static,
    {
        self.call_raw(
            path,
            move || serde_json::to_vec(&req).map_err(|e| e.to_string()),
            timeout,
        )
        .await
    }

    /// Encodes the body (an append may carry megabytes) and sends it, both
    /// on the blocking pool; decodes openraft's JSON `Result`.
    async fn call_raw<Resp, E>(
        &self,
        path: &str,
        body: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
        timeout: Duration,
    ) -> Result<Resp, RPCError<u64, MetaPeer, RaftError<u64, E>>>
    where
        Resp: DeserializeOwned + Send + 'static,
        E: std::error::Error + DeserializeOwned + Send + 'static,
    {
        let url = format!("http://{}/raft/{path}", self.addr);
        let agent = self.agent.clone();
        let headers = if self.secret.is_empty() {
            Vec::new()
        } else {
            vec![(SECRET_HEADER.to_string(), self.secret.clone())]
        };
        let reply = tokio::task::spawn_blocking(move || {
            let body = body().map_err(|e| Err(TransportError(e)))?;
            http_util::request(&agent, "POST", &url, Some(&body), &headers, timeout)
                .map_err(|e| Ok(TransportError(e.message)))
        })
        .await
        .map_err(|e| RPCError::Network(NetworkError::new(&e)))?
        .map_err(|e| match e {
            // Could not even encode the request.
            Err(e) => RPCError::Network(NetworkError::new(&e)),
            Ok(e) => RPCError::Unreachable(Unreachable::new(&e)),
        })?;
        if reply.status != 200 {
            let text = String::from_utf8_lossy(&reply.body).to_string();
            return Err(RPCError::Unreachable(Unreachable::new(&TransportError(
                format!("status {}: {text}", reply.status),
            ))));
        }
        let res: Result<Resp, RaftError<u64, E>> = serde_json::from_slice(&reply.body)
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        res.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

fn ttl(option: &RPCOption) -> Duration {
    option.hard_ttl().max(Duration::from_millis(50))
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, MetaPeer, RaftError<u64>>> {
        self.call("append", rpc, ttl(&option)).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<u64>,
        RPCError<u64, MetaPeer, RaftError<u64, InstallSnapshotError>>,
    > {
        self.call_raw(
            "snapshot",
            move || encode_snapshot_chunk(&rpc),
            ttl(&option).max(Duration::from_secs(5)),
        )
        .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, MetaPeer, RaftError<u64>>> {
        self.call("vote", rpc, ttl(&option)).await
    }
}
