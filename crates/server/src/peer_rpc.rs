//! The data node's answers to its peers over the cluster RPC: who may talk
//! to it (a data node of its own cluster that the metadata knows) and what
//! a shard write from a peer does (create the shard if the metadata placed
//! it here and it is not open yet, write, answer after the WAL fsync).
//!
//! A meta node's `JoinCluster` (`influxd-ctl add-data <TCP address>`) is
//! answered here too: a standalone node without data records the meta
//! servers (`crate::joined`) and restarts as a member; a member of the
//! asking cluster answers again; anything else refuses with a reason.
//!
//! Owns the mapping from engine results to wire answers (which failures a
//! sender may retry, which it must drop); must not do transport work (the
//! `rpc` crate's) or decide consistency (the sender's points writer's).

use crate::node::Node;
use rpc::messages::RequestHeader;
use rpc::{
    JoinClusterRequest, JoinClusterResponse, WriteCode, WriteShardRequest, WriteShardResponse,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counters shown under `cluster` in `/debug/vars` (Enterprise's names).
#[derive(Debug, Default)]
pub struct PeerStats {
    pub write_shard_req: AtomicU64,
    pub write_shard_points_req: AtomicU64,
    pub write_shard_fail: AtomicU64,
    pub refused: AtomicU64,
}

/// The least time between two metadata refreshes caused by an unknown
/// sender (a flood of strangers must not become a flood on the meta nodes).
const REFRESH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// How long a node that accepted a join waits before it stops to restart
/// as a member, so that its answer reaches the meta node first.
const REJOIN_DELAY: std::time::Duration = std::time::Duration::from_millis(200);

pub struct PeerHandler {
    node: Arc<Node>,
    last_refresh: parking_lot::Mutex<Option<std::time::Instant>>,
}

impl PeerHandler {
    pub fn new(node: Arc<Node>) -> PeerHandler {
        PeerHandler {
            node,
            last_refresh: parking_lot::Mutex::new(None),
        }
    }

    fn fail(&self, code: WriteCode, message: String, dropped: usize) -> WriteShardResponse {
        self.node
            .peer_stats
            .write_shard_fail
            .fetch_add(1, Ordering::Relaxed);
        if code != WriteCode::Partial {
            tracing::warn!("shard write from a peer failed: {message}");
        }
        WriteShardResponse::with(code, message, dropped as u64)
    }
}

impl PeerHandler {
    /// Why this standalone node may not join a cluster (it has data of its
    /// own), `None` when it may.
    fn data_present(&self) -> Option<String> {
        let data = self.node.meta.data();
        if !data.databases.is_empty() {
            let names: Vec<&str> = data.databases.iter().map(|d| d.name.as_str()).collect();
            return Some(format!(
                "this node has data and cannot join a cluster: databases {} exist (only an empty standalone node can be added)",
                names.join(", ")
            ));
        }
        if !data.users.is_empty() {
            return Some(format!(
                "this node has data and cannot join a cluster: {} users exist (only an empty standalone node can be added)",
                data.users.len()
            ));
        }
        let shards = self.node.store.shards();
        if !shards.is_empty() {
            return Some(format!(
                "this node has data and cannot join a cluster: {} shards on disk (only an empty standalone node can be added)",
                shards.len()
            ));
        }
        None
    }
}

impl rpc::Handler for PeerHandler {
    fn join_cluster(&self, req: JoinClusterRequest) -> Result<JoinClusterResponse, String> {
        let cfg = &self.node.config;
        let answer = JoinClusterResponse {
            http_addr: crate::node::advertised(&cfg.hostname, &cfg.http.bind_address),
            tcp_addr: crate::node::advertised(&cfg.hostname, &cfg.bind_address),
        };
        let asking = req.header.as_ref().map_or(0, |h| h.cluster_id);
        if self.node.cluster.is_some() {
            // A member already: the same cluster asking again (a repeated
            // add-data) gets the same answer.
            let data = self.node.meta.data();
            if data.cluster_id != 0 && data.cluster_id == asking {
                return Ok(answer);
            }
            return Err(format!(
                "already joined to cluster (meta servers {:?})",
                cfg.meta.meta_servers
            ));
        }
        if req.meta_servers.is_empty() {
            return Err("no meta servers given to join".into());
        }
        let dir = &cfg.meta.dir;
        match crate::joined::load(dir) {
            Ok(Some(j)) if j.meta_servers == req.meta_servers && j.passive == req.passive => {
                // Accepted already, restarting: the same answer.
                return Ok(answer);
            }
            Ok(Some(j)) => {
                return Err(format!(
                    "already joined to cluster (meta servers {:?})",
                    j.meta_servers
                ))
            }
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if let Some(why) = self.data_present() {
            return Err(why);
        }
        // The standalone identity (node.json) names a node of the embedded
        // metadata; the meta cluster gives this node its id at restart.
        match std::fs::remove_file(crate::identity::path(dir)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("remove the standalone identity: {e}")),
        }
        crate::joined::save(
            dir,
            &crate::joined::Joined {
                meta_servers: req.meta_servers.clone(),
                passive: req.passive,
            },
        )
        .map_err(|e| e.to_string())?;
        tracing::info!(
            meta_servers = ?req.meta_servers,
            passive = req.passive,
            "joining the meta cluster; restarting as a member"
        );
        let node = self.node.clone();
        std::thread::spawn(move || {
            std::thread::sleep(REJOIN_DELAY);
            node.rejoin.notify_one();
        });
        Ok(answer)
    }

    fn check_sender(&self, h: &RequestHeader) -> Result<(), String> {
        let mut data = self.node.meta.data();
        let known = |d: &meta::Data| {
            (d.cluster_id == 0 || h.cluster_id == d.cluster_id)
                && d.data_node(h.sender_node_id).is_some()
        };
        if !known(&data) {
            // This node's copy of the metadata may lag (a node that just
            // joined): ask the meta nodes once, at most every
            // REFRESH_INTERVAL, before refusing.
            let mut last = self.last_refresh.lock();
            if last.is_none_or(|t| t.elapsed() >= REFRESH_INTERVAL) {
                *last = Some(std::time::Instant::now());
                drop(last);
                if let Ok(d) = self.node.meta.refresh() {
                    data = d;
                }
            }
        }
        let outcome = if data.cluster_id != 0 && h.cluster_id != data.cluster_id {
            Err(format!(
                "the sender belongs to cluster {} but this node to cluster {}",
                h.cluster_id, data.cluster_id
            ))
        } else if data.data_node(h.sender_node_id).is_none() {
            Err(format!(
                "data node {} is not a member of this cluster",
                h.sender_node_id
            ))
        } else {
            Ok(())
        };
        if outcome.is_err() {
            self.node.peer_stats.refused.fetch_add(1, Ordering::Relaxed);
        }
        outcome
    }

    fn write_shard(&self, req: WriteShardRequest) -> WriteShardResponse {
        let stats = &self.node.peer_stats;
        stats.write_shard_req.fetch_add(1, Ordering::Relaxed);
        stats
            .write_shard_points_req
            .fetch_add(req.points.len() as u64, Ordering::Relaxed);
        let n = req.points.len();
        if req.database.is_empty() || req.retention_policy.is_empty() {
            return self.fail(
                WriteCode::Rejected,
                format!(
                    "shard {}: no database or retention policy received",
                    req.shard_id
                ),
                n,
            );
        }
        let data = self.node.meta.data();
        if let Some((d, r, g, _)) = data.shard_location(req.shard_id) {
            if d.name != req.database || r.name != req.retention_policy {
                return self.fail(
                    WriteCode::Rejected,
                    format!(
                        "shard {} belongs to {}.{}, not {}.{}",
                        req.shard_id, d.name, r.name, req.database, req.retention_policy
                    ),
                    n,
                );
            }
            if g.deleted_at != 0 {
                return self.fail(
                    WriteCode::Rejected,
                    format!("shard {} was deleted", req.shard_id),
                    n,
                );
            }
        }
        // An unknown shard is usually one this node's copy of the metadata
        // has not caught up with yet (its group was just created): open it,
        // as Enterprise does; retention reports it until the metadata
        // places it.
        let mut points = Vec::with_capacity(n);
        for w in req.points {
            match models::Point::try_from(w) {
                Ok(p) => points.push(p),
                Err(e) => return self.fail(WriteCode::Rejected, e.to_string(), n),
            }
        }
        let store = &self.node.store;
        let shard = match store.shard(req.shard_id) {
            Some(s) => s,
            None => match store.create_shard(&req.database, &req.retention_policy, req.shard_id) {
                Ok(s) => s,
                Err(e @ tsdb::Error::ShardConflict { .. }) => {
                    return self.fail(WriteCode::Rejected, e.to_string(), n)
                }
                Err(e) => return self.fail(WriteCode::Retryable, e.to_string(), n),
            },
        };
        match shard.write_points(&points) {
            Ok(()) => WriteShardResponse::ok(),
            Err(tsdb::Error::PartialWrite { reason, dropped }) => {
                self.fail(WriteCode::Partial, reason, dropped)
            }
            Err(e) => self.fail(WriteCode::Retryable, e.to_string(), n),
        }
    }
}
