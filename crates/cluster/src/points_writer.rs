//! The points writer: maps every point of a write request to its shard —
//! shard group by time (created on demand through the meta store), shard in
//! the group by fnv64a of the series key — and writes each shard's points
//! to every owner at once: this node's engine directly, other owners over
//! the cluster RPC. The write is answered when every shard's consistency
//! level is met ([`crate::consistency`]), or fails with Enterprise's texts
//! (`timeout`, `partial write`, `write failed: ...`). An owner that cannot
//! be reached gets the points through hinted handoff ([`crate::hh`]); while
//! its queue is not empty, new points for it join the queue.

use crate::consistency::{OwnerOutcome, ShardWriteFailure, Tally, Verdict};
use crate::hh::{HintedHandoff, Intent};
use meta::{Command, Data, MetaStore, Response};
use models::Point;
use rpc::messages::WirePoint;
use rpc::{Peers, WriteCode, WriteShardRequest};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;

/// The most shard groups one write request may create. Points that would
/// need another group are dropped (partial write): one request whose
/// timestamps span centuries must not add thousands of groups, each a
/// metadata change (a Raft entry in a cluster), directories and open files.
pub const MAX_NEW_SHARD_GROUPS_PER_WRITE: usize = 1_000;

/// Write consistency requested with `consistency=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    Any,
    #[default]
    One,
    Quorum,
    All,
}

impl Consistency {
    pub fn parse(s: &str) -> Option<Consistency> {
        Some(match s.to_ascii_lowercase().as_str() {
            "any" => Consistency::Any,
            "one" => Consistency::One,
            "quorum" => Consistency::Quorum,
            "all" => Consistency::All,
            _ => return None,
        })
    }
}

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("database not found: {0:?}")]
    DatabaseNotFound(String),
    #[error("retention policy not found: {0}")]
    RetentionPolicyNotFound(String),
    /// Some points were written, `dropped` were not; `reason` is InfluxDB's text.
    #[error("partial write: {reason} dropped={dropped}")]
    Partial { reason: String, dropped: usize },
    /// Not enough owners answered within `write-timeout`.
    #[error("timeout")]
    Timeout,
    /// Some owners wrote the points, but fewer than the level needs.
    #[error("partial write")]
    ReplicaPartial,
    /// No owner wrote the points (nor, for `any`, queued them).
    #[error("write failed: {0}")]
    Failed(String),
    #[error("{0}")]
    Meta(#[from] meta::Error),
    #[error("{0}")]
    Storage(tsdb::Error),
}

/// Counters shown under `write` in `/debug/vars` (Enterprise's names).
#[derive(Debug, Default)]
pub struct WriteStats {
    pub req: AtomicU64,
    pub point_req: AtomicU64,
    pub point_req_local: AtomicU64,
    pub point_req_remote: AtomicU64,
    pub point_req_hh: AtomicU64,
    pub write_ok: AtomicU64,
    pub write_error: AtomicU64,
    pub write_drop: AtomicU64,
    pub write_partial: AtomicU64,
    pub write_timeout: AtomicU64,
}

/// What a clustered writer needs to reach other owners.
#[derive(Clone)]
pub struct Remote {
    pub peers: Arc<Peers>,
    pub hh: Arc<HintedHandoff>,
    /// Where the remote writes run (the node's tokio runtime).
    pub runtime: tokio::runtime::Handle,
    /// `[cluster] write-timeout`: how long a write waits for its level.
    pub write_timeout: Duration,
}

pub struct PointsWriter {
    meta: Arc<dyn MetaStore>,
    store: Arc<tsdb::Store>,
    /// This data node's id in the metadata.
    node_id: u64,
    max_new_shard_groups_per_write: usize,
    remote: Option<Remote>,
    pub stats: Arc<WriteStats>,
}

impl PointsWriter {
    pub fn new(meta: Arc<dyn MetaStore>, store: Arc<tsdb::Store>, node_id: u64) -> PointsWriter {
        PointsWriter {
            meta,
            store,
            node_id,
            max_new_shard_groups_per_write: MAX_NEW_SHARD_GROUPS_PER_WRITE,
            remote: None,
            stats: Arc::default(),
        }
    }

    /// Lets the writer reach other owners (a clustered data node).
    pub fn with_remote(mut self, remote: Remote) -> PointsWriter {
        self.remote = Some(remote);
        self
    }

    /// Changes the bound on shard groups one request may create (tests use
    /// a small one).
    pub fn with_max_new_shard_groups_per_write(mut self, n: usize) -> PointsWriter {
        self.max_new_shard_groups_per_write = n;
        self
    }

    /// Writes `points` into `db`.`rp` (`rp` empty: the default policy).
    /// Blocking: shard writes wait for their WAL fsync.
    pub fn write(
        &self,
        db: &str,
        rp: &str,
        points: Vec<Point>,
        consistency: Consistency,
        now: i64,
    ) -> Result<(), WriteError> {
        self.stats.req.fetch_add(1, Ordering::Relaxed);
        self.stats
            .point_req
            .fetch_add(points.len() as u64, Ordering::Relaxed);
        let result = self.write_inner(db, rp, points, consistency, now);
        let counter = match &result {
            Ok(()) => &self.stats.write_ok,
            Err(WriteError::Timeout) => &self.stats.write_timeout,
            Err(WriteError::ReplicaPartial | WriteError::Partial { .. }) => {
                &self.stats.write_partial
            }
            Err(_) => &self.stats.write_error,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }

    fn write_inner(
        &self,
        db: &str,
        rp: &str,
        points: Vec<Point>,
        consistency: Consistency,
        now: i64,
    ) -> Result<(), WriteError> {
        let mut data = self.meta.data();
        let (rp_name, retention) = {
            let dbi = data
                .database(db)
                .ok_or_else(|| WriteError::DatabaseNotFound(db.to_string()))?;
            let name = if rp.is_empty() {
                dbi.default_retention_policy.clone()
            } else {
                rp.to_string()
            };
            let rpi = data
                .retention_policy(db, &name)
                .ok_or_else(|| WriteError::RetentionPolicyNotFound(name.clone()))?;
            (name, rpi.duration)
        };
        let oldest = if retention == 0 {
            i64::MIN
        } else {
            now.saturating_sub(retention)
        };
        let mut beyond_retention = 0usize;
        let mut partial: Option<(String, usize)> = None;
        let mut by_shard: BTreeMap<u64, Vec<Point>> = BTreeMap::new();
        let mut groups_created = 0usize;
        for mut p in points {
            if p.time < oldest {
                beyond_retention += 1;
                continue;
            }
            if let Some(reason) = lineproto::reserved::apply_time_key_rule(&mut p) {
                partial.get_or_insert((reason, 0)).1 += 1;
                continue;
            }
            let shard_id = match shard_for(&data, db, &rp_name, &p) {
                Some(id) => id,
                None if groups_created >= self.max_new_shard_groups_per_write => {
                    let reason = format!(
                        "max-shard-groups-per-write limit exceeded: ({})",
                        self.max_new_shard_groups_per_write
                    );
                    partial.get_or_insert((reason, 0)).1 += 1;
                    continue;
                }
                None => {
                    groups_created += 1;
                    self.create_shard_group(db, &rp_name, p.time)?;
                    data = self.meta.data();
                    shard_for(&data, db, &rp_name, &p)
                        .ok_or(WriteError::Meta(meta::Error::ShardGroupNotFound))?
                }
            };
            by_shard.entry(shard_id).or_default().push(p);
        }
        if let Some(failure) = self.replicate(db, &rp_name, &data, by_shard, consistency, now) {
            match failure {
                Replicated::Partial { reason, dropped } => {
                    partial.get_or_insert((reason, 0)).1 += dropped;
                }
                Replicated::Failed(e) => return Err(e),
            }
        }
        if let Some((reason, dropped)) = partial {
            self.stats
                .write_drop
                .fetch_add(dropped as u64, Ordering::Relaxed);
            return Err(WriteError::Partial {
                reason,
                dropped: dropped + beyond_retention,
            });
        }
        if beyond_retention > 0 {
            self.stats
                .write_drop
                .fetch_add(beyond_retention as u64, Ordering::Relaxed);
            return Err(WriteError::Partial {
                reason: "points beyond retention policy".to_string(),
                dropped: beyond_retention,
            });
        }
        Ok(())
    }

    fn create_shard_group(&self, db: &str, rp: &str, t: i64) -> Result<(), WriteError> {
        let resp = self.meta.execute(Command::CreateShardGroup {
            database: db.to_string(),
            policy: rp.to_string(),
            timestamp: t,
        })?;
        debug_assert!(matches!(resp, Response::Id { .. }));
        Ok(())
    }

    /// Writes every shard's points to all of its owners and waits until
    /// each shard's consistency level is met, cannot be met, or
    /// `write-timeout` passes. `None` when every shard met its level with
    /// every point written.
    fn replicate(
        &self,
        db: &str,
        rp: &str,
        data: &Data,
        by_shard: BTreeMap<u64, Vec<Point>>,
        consistency: Consistency,
        now: i64,
    ) -> Option<Replicated> {
        let deadline = Instant::now()
            + self
                .remote
                .as_ref()
                .map_or(Duration::from_secs(10), |r| r.write_timeout);
        if let Some(r) = &self.remote {
            r.peers.set_cluster_id(data.cluster_id);
        }
        let (tx, rx) = std::sync::mpsc::channel::<(u64, OwnerOutcome)>();
        let (local_done_tx, local_done) = tokio::sync::watch::channel(false);
        let mut tallies: BTreeMap<u64, Tally> = BTreeMap::new();
        let mut local: Vec<(u64, Arc<Vec<Point>>)> = Vec::new();
        for (shard_id, pts) in by_shard {
            let owners = shard_owners(data, shard_id);
            tallies.insert(shard_id, Tally::new(consistency, owners.len()));
            let pts = Arc::new(pts);
            for owner in owners {
                if owner == self.node_id {
                    local.push((shard_id, pts.clone()));
                    continue;
                }
                let addr = data.data_node(owner).map(|n| n.tcp_host.clone());
                match (&self.remote, addr) {
                    (Some(remote), Some(addr)) => {
                        self.stats
                            .point_req_remote
                            .fetch_add(pts.len() as u64, Ordering::Relaxed);
                        // Write-ahead: the owner's copy is on this node's
                        // disk before it is sent and before this node's own
                        // copy is written, so a crash of this node cannot
                        // leave the owner without it (the drain delivers
                        // every block a direct send did not).
                        let intent = if remote.hh.config().enabled {
                            match remote.hh.append_intent(owner, shard_id, db, rp, &pts, now) {
                                Ok(i) => Some(i),
                                Err(e) => {
                                    tracing::warn!(
                                        owner,
                                        shard = shard_id,
                                        "hinted handoff: {e}; sending without a write-ahead copy"
                                    );
                                    None
                                }
                            }
                        } else {
                            None
                        };
                        spawn_remote_write(
                            remote.clone(),
                            self.stats.clone(),
                            RemoteWrite {
                                intent,
                                local_done: local_done.clone(),
                                owner,
                                addr,
                                shard: shard_id,
                                db: db.to_string(),
                                rp: rp.to_string(),
                                points: pts.clone(),
                                now,
                            },
                            tx.clone(),
                        );
                    }
                    (None, _) => {
                        let _ = tx.send((
                            shard_id,
                            OwnerOutcome::Failed {
                                error: format!(
                                    "shard {shard_id} is owned by data node {owner}, which this node cannot reach (no cluster RPC configured)"
                                ),
                            },
                        ));
                    }
                    (Some(_), None) => {
                        let _ = tx.send((
                            shard_id,
                            OwnerOutcome::Failed {
                                error: format!("data node {owner} is not in the metadata"),
                            },
                        ));
                    }
                }
            }
        }
        drop(tx);
        // This node's own copies, while the remote ones travel.
        for (shard_id, pts) in local {
            self.stats
                .point_req_local
                .fetch_add(pts.len() as u64, Ordering::Relaxed);
            let outcome = match self.write_local(db, rp, shard_id, &pts) {
                Ok(()) => OwnerOutcome::Written,
                Err(tsdb::Error::PartialWrite { reason, dropped }) => {
                    OwnerOutcome::Partial { reason, dropped }
                }
                Err(e) => OwnerOutcome::Failed {
                    error: e.to_string(),
                },
            };
            if let Some(t) = tallies.get_mut(&shard_id) {
                t.record(outcome);
            }
        }
        let _ = local_done_tx.send(true);
        let mut timed_out = false;
        while tallies.values().any(|t| t.verdict() == Verdict::Pending) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((shard_id, outcome)) => {
                    if let Some(t) = tallies.get_mut(&shard_id) {
                        t.record(outcome);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    timed_out = true;
                    break;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let mut failure: Option<ShardWriteFailure> = None;
        let mut partial: Option<(String, usize)> = None;
        for t in tallies.values() {
            if t.verdict() != Verdict::Met {
                let f = t.failure(timed_out);
                // timeout first, then partial, then failed: the most
                // hopeful answer a client can act on.
                let rank = |f: &ShardWriteFailure| match f {
                    ShardWriteFailure::Timeout => 0,
                    ShardWriteFailure::Partial => 1,
                    ShardWriteFailure::Failed(_) => 2,
                };
                if failure.as_ref().is_none_or(|g| rank(&f) < rank(g)) {
                    failure = Some(f);
                }
            } else if let Some((reason, dropped)) = t.partial() {
                let p = partial.get_or_insert((reason.clone(), 0));
                p.1 += dropped;
            }
        }
        match failure {
            Some(ShardWriteFailure::Timeout) => Some(Replicated::Failed(WriteError::Timeout)),
            Some(ShardWriteFailure::Partial) => {
                Some(Replicated::Failed(WriteError::ReplicaPartial))
            }
            Some(ShardWriteFailure::Failed(e)) => Some(Replicated::Failed(WriteError::Failed(e))),
            None => partial.map(|(reason, dropped)| Replicated::Partial { reason, dropped }),
        }
    }

    /// Writes one shard's points to the local engine.
    fn write_local(
        &self,
        db: &str,
        rp: &str,
        shard_id: u64,
        points: &[Point],
    ) -> Result<(), tsdb::Error> {
        let shard = match self.store.shard(shard_id) {
            Some(s) => s,
            None => self.store.create_shard(db, rp, shard_id)?,
        };
        shard.write_points(points)
    }
}

/// How a replicated write fell short.
enum Replicated {
    /// Every level met, but owners refused some points for good.
    Partial {
        reason: String,
        dropped: usize,
    },
    Failed(WriteError),
}

struct RemoteWrite {
    /// The write-ahead copy of these points in hinted handoff, if any.
    intent: Option<Intent>,
    /// Becomes true once this node's own copies of the request are written.
    local_done: tokio::sync::watch::Receiver<bool>,
    owner: u64,
    addr: String,
    shard: u64,
    db: String,
    rp: String,
    points: Arc<Vec<Point>>,
    now: i64,
}

/// Sends one shard's points to one remote owner on the runtime; a
/// retryable failure parks them in hinted handoff. The outcome goes to
/// `tx` (nobody may be listening any more once the level was met).
fn spawn_remote_write(
    remote: Remote,
    stats: Arc<WriteStats>,
    w: RemoteWrite,
    tx: std::sync::mpsc::Sender<(u64, OwnerOutcome)>,
) {
    let runtime = remote.runtime.clone();
    runtime.spawn(async move {
        let shard = w.shard;
        let intent = w.intent;
        let n = w.points.len();
        let mut local_done = w.local_done.clone();
        let settled = std::sync::Mutex::new(None);
        let outcome = remote_write(&remote, &stats, w, &settled).await;
        let _ = tx.send((shard, outcome));
        // The write-ahead block may be stepped over (or delivered by the
        // drain) only once this node's own copy is durable too: until then
        // a crash must find it on disk so the restart rewrites it locally.
        let decided = settled.lock().ok().and_then(|g| *g);
        if let (Some(i), Some(delivered)) = (intent, decided) {
            let _ = local_done.wait_for(|done| *done).await;
            remote.hh.complete(&i, delivered, n);
        }
    });
}

/// Sends one owner's copy; records in `settled` whether its write-ahead
/// block (if any) was delivered directly, for the caller to settle.
async fn remote_write(
    remote: &Remote,
    stats: &WriteStats,
    w: RemoteWrite,
    settled: &std::sync::Mutex<Option<bool>>,
) -> OwnerOutcome {
    let intent = w.intent;
    let n = w.points.len();
    let settle = |delivered: bool| {
        if intent.is_some() {
            if let Ok(mut g) = settled.lock() {
                *g = Some(delivered);
            }
        }
    };
    if intent.is_some() && remote.hh.has_pending(w.owner, w.shard) {
        // Older points wait for the owner: keep its order, join them.
        settle(false);
        stats.point_req_hh.fetch_add(n as u64, Ordering::Relaxed);
        return OwnerOutcome::Queued {
            error: "hinted handoff queue not empty".to_string(),
        };
    }
    let req = WriteShardRequest {
        header: None,
        shard_id: w.shard,
        database: w.db.clone(),
        retention_policy: w.rp.clone(),
        points: w.points.iter().map(WirePoint::from).collect(),
    };
    let queued = |error: String| -> OwnerOutcome {
        settle(false);
        stats.point_req_hh.fetch_add(n as u64, Ordering::Relaxed);
        OwnerOutcome::Queued { error }
    };
    match remote
        .peers
        .write_shard(&w.addr, req, remote.write_timeout)
        .await
    {
        Ok(r) => match r.outcome() {
            WriteCode::Ok => {
                settle(true);
                OwnerOutcome::Written
            }
            WriteCode::Partial => {
                settle(true);
                OwnerOutcome::Partial {
                    reason: r.message,
                    dropped: usize::try_from(r.dropped).unwrap_or(usize::MAX),
                }
            }
            WriteCode::Rejected => {
                // Refused for good: never redelivered.
                settle(true);
                OwnerOutcome::Failed { error: r.message }
            }
            WriteCode::Retryable => {
                let error = format!("node {} ({}): {}", w.owner, w.addr, r.message);
                if intent.is_some() {
                    queued(error)
                } else {
                    enqueue(remote, stats, w, error).await
                }
            }
        },
        Err(e) if e.is_retryable() => {
            if intent.is_some() {
                queued(e.to_string())
            } else {
                // No write-ahead copy (hinted handoff full or off): queue now.
                enqueue(remote, stats, w, e.to_string()).await
            }
        }
        Err(e) => {
            settle(true);
            OwnerOutcome::Failed {
                error: e.to_string(),
            }
        }
    }
}

async fn enqueue(
    remote: &Remote,
    stats: &WriteStats,
    w: RemoteWrite,
    error: String,
) -> OwnerOutcome {
    let hh = remote.hh.clone();
    let n = w.points.len() as u64;
    let res = tokio::task::spawn_blocking(move || {
        hh.enqueue(w.owner, w.shard, &w.db, &w.rp, &w.points, w.now)
    })
    .await;
    match res {
        Ok(Ok(())) => {
            stats.point_req_hh.fetch_add(n, Ordering::Relaxed);
            OwnerOutcome::Queued { error }
        }
        Ok(Err(e)) => OwnerOutcome::Failed {
            error: format!("{error}; hinted handoff: {e}"),
        },
        Err(e) => OwnerOutcome::Failed {
            error: format!("{error}; hinted handoff: {e}"),
        },
    }
}

fn shard_owners(data: &Data, shard_id: u64) -> Vec<u64> {
    data.shard_location(shard_id)
        .map(|(_, _, _, s)| s.owners.clone())
        .unwrap_or_default()
}

fn shard_for(data: &Data, db: &str, rp: &str, p: &Point) -> Option<u64> {
    let rpi = data.retention_policy(db, rp)?;
    let g = rpi.shard_group_for(p.time)?;
    g.shard_for(p.key.as_bytes()).map(|s| s.id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use meta::local::LocalMetaStore;
    use models::FieldValue;

    const WEEK: i64 = 7 * 24 * 3600 * 1_000_000_000;

    /// Audit M7: one request cannot create an unbounded number of shard
    /// groups; the points beyond the bound are dropped as a partial write
    /// and the rest land.
    #[test]
    fn m7_one_request_creates_a_bounded_number_of_shard_groups() {
        let dir = tempfile::tempdir().unwrap();
        let meta: Arc<dyn MetaStore> =
            Arc::new(LocalMetaStore::open(&dir.path().join("meta")).unwrap());
        let node = match meta
            .execute(Command::CreateDataNode {
                host: "h:8086".into(),
                tcp_host: "h:8088".into(),
                passive: false,
            })
            .unwrap()
        {
            Response::Node { node } => node.id,
            r => panic!("{r:?}"),
        };
        meta.execute(Command::CreateDatabase {
            name: "db".into(),
            rp: None,
            retention_autocreate: true,
        })
        .unwrap();
        let store = Arc::new(
            tsdb::Store::open(tsdb::EngineConfig {
                dir: dir.path().join("data"),
                wal_dir: dir.path().join("wal"),
                ..Default::default()
            })
            .unwrap(),
        );
        let w = PointsWriter::new(meta.clone(), store.clone(), node)
            .with_max_new_shard_groups_per_write(3);
        let points: Vec<Point> = (0..5)
            .map(|i| {
                Point::new(
                    "m".into(),
                    vec![],
                    vec![("v".into(), FieldValue::Float(1.0))],
                    i * WEEK,
                )
            })
            .collect();
        let err = w
            .write("db", "", points.clone(), Consistency::One, 10 * WEEK)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "partial write: max-shard-groups-per-write limit exceeded: (3) dropped=2"
        );
        let groups = meta
            .data()
            .retention_policy("db", "")
            .unwrap()
            .shard_groups
            .len();
        assert_eq!(groups, 3);
        // Existing groups take points without counting against the bound.
        w.write("db", "", points[..3].to_vec(), Consistency::One, 10 * WEEK)
            .unwrap();
        store.close().unwrap();
    }
}
