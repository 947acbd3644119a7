//! The Raft transport, client side: openraft's `RaftNetwork` over HTTP/JSON
//! to a peer's Raft listener (`POST /raft/{append,vote,snapshot}` on 8089).
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
    async fn call<Req, Resp, E>(
        &self,
        path: &str,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp, RPCError<u64, MetaPeer, RaftError<u64, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned + Send + 'static,
        E: std::error::Error + DeserializeOwned + Send + 'static,
    {
        let body = serde_json::to_vec(req).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let url = format!("http://{}/raft/{path}", self.addr);
        let agent = self.agent.clone();
        let headers = if self.secret.is_empty() {
            Vec::new()
        } else {
            vec![(SECRET_HEADER.to_string(), self.secret.clone())]
        };
        let reply = tokio::task::spawn_blocking(move || {
            http_util::request(&agent, "POST", &url, Some(&body), &headers, timeout)
        })
        .await
        .map_err(|e| RPCError::Network(NetworkError::new(&e)))?
        .map_err(|e| RPCError::Unreachable(Unreachable::new(&TransportError(e))))?;
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
        self.call("append", &rpc, ttl(&option)).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<u64>,
        RPCError<u64, MetaPeer, RaftError<u64, InstallSnapshotError>>,
    > {
        self.call("snapshot", &rpc, ttl(&option).max(Duration::from_secs(5)))
            .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, MetaPeer, RaftError<u64>>> {
        self.call("vote", &rpc, ttl(&option)).await
    }
}
