//! Hinted handoff: durable queues of points this node could not deliver to
//! another owner, one per (destination node, shard), drained in write order
//! in the background once the destination answers again.
//!
//! Owns the set of queues, the limits (`max-size`, `max-age`,
//! `max-writes-pending`), the drain loop (backoff from `retry-interval` to
//! `retry-max-interval`, `retry-rate-limit`, `retry-concurrency`,
//! `batch-size`) and the `hh`/`hh_processor` statistics. It does not decide
//! when a write goes to the queue (the points writer does) and sends only
//! through [`rpc::Peers`].

pub mod queue;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use meta::MetaStore;
use models::Point;
use parking_lot::Mutex;
use prost::Message;
use rpc::messages::WirePoint;
use rpc::{Peers, WriteCode, WriteShardRequest};
use thiserror::Error;

pub use queue::{Position, Queue};

/// `[hinted-handoff]`, with Enterprise's option names in the comments.
#[derive(Debug, Clone)]
pub struct HhConfig {
    /// `enabled`
    pub enabled: bool,
    /// `dir`
    pub dir: PathBuf,
    /// `max-size`: bytes queued for one destination node.
    pub max_size_bytes: u64,
    /// `max-age`: queued data older than this is purged.
    pub max_age: Duration,
    /// `retry-concurrency`: shard queues of one destination drained at once.
    pub retry_concurrency: usize,
    /// `retry-rate-limit`: bytes per second sent per destination (0 = no limit).
    pub retry_rate_limit_bytes_per_sec: u64,
    /// `retry-interval`: the first wait after a failed delivery.
    pub retry_interval: Duration,
    /// `retry-max-interval`: the longest wait between attempts.
    pub retry_max_interval: Duration,
    /// `purge-interval`: how often old data and dead queues are purged.
    pub purge_interval: Duration,
    /// `batch-size`: bytes of queued blocks sent in one request.
    pub batch_size_bytes: usize,
    /// `max-writes-pending`: enqueues in progress at once; more are refused
    /// (`queue is blocked`).
    pub max_writes_pending: usize,
    /// Deadline of one delivery (`[cluster] write-timeout`).
    pub write_timeout: Duration,
}

impl Default for HhConfig {
    fn default() -> Self {
        HhConfig {
            enabled: true,
            dir: PathBuf::from("/var/lib/influxdb/hh"),
            max_size_bytes: 10 << 30,
            max_age: Duration::from_secs(168 * 3600),
            retry_concurrency: 20,
            retry_rate_limit_bytes_per_sec: 0,
            retry_interval: Duration::from_secs(1),
            retry_max_interval: Duration::from_secs(200),
            purge_interval: Duration::from_secs(60),
            batch_size_bytes: 512_000,
            max_writes_pending: 1024,
            write_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Error)]
pub enum HhError {
    /// `max-size` reached for the destination.
    #[error("queue is full")]
    Full,
    /// `max-writes-pending` enqueues already in progress.
    #[error("queue is blocked")]
    Blocked,
    #[error("hinted handoff is disabled")]
    Disabled,
    #[error("hinted handoff queue {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Counters of one destination (`hh_processor`).
#[derive(Debug, Default)]
pub struct ProcessorStats {
    pub bytes_read: AtomicU64,
    pub bytes_written: AtomicU64,
    pub write_blocked: AtomicU64,
    pub write_dropped: AtomicU64,
    pub write_node_req: AtomicU64,
    pub write_node_req_fail: AtomicU64,
    pub write_node_req_points: AtomicU64,
    pub write_shard_req: AtomicU64,
    pub write_shard_req_points: AtomicU64,
    /// Points of blocks dropped because the destination refused them for
    /// good (field type conflict, partial write, shard gone).
    pub points_dropped: AtomicU64,
    /// Bytes skipped as damaged.
    pub corrupt_bytes: AtomicU64,
    /// Bytes purged by `max-age`.
    pub bytes_expired: AtomicU64,
}

/// A snapshot of one destination's queues for `/debug/vars`.
#[derive(Debug, Clone, Default)]
pub struct ProcessorSnapshot {
    pub node: u64,
    pub queue_bytes: u64,
    pub queue_depth: u64,
    pub counters: BTreeMap<&'static str, u64>,
}

type QueueKey = (u64, u64);

/// A queue with what this process knows about its blocks: which are being
/// sent directly right now, which were delivered directly (the drain only
/// steps over them), and which the drain must deliver.
pub struct Slot {
    pub queue: Queue,
    /// Blocks whose direct send is in flight: the drain stops before them.
    inflight: BTreeSet<Position>,
    /// Blocks delivered directly, with where the next block starts.
    delivered: BTreeMap<Position, Position>,
    /// Blocks whose direct send failed: the drain delivers them, and until
    /// then new points for this queue are not sent directly (order).
    must_drain: BTreeSet<Position>,
    /// Everything before this position was on disk at open (the previous
    /// process may not have delivered it): the drain delivers it.
    recovered_until: Option<Position>,
}

impl Slot {
    fn new(queue: Queue) -> Slot {
        let recovered_until = (!queue.is_empty()).then(|| queue.end());
        Slot {
            queue,
            inflight: BTreeSet::new(),
            delivered: BTreeMap::new(),
            must_drain: BTreeSet::new(),
            recovered_until,
        }
    }

    /// Whether some block waits for the drain (new points must then join
    /// the queue instead of overtaking it).
    fn has_backlog(&self) -> bool {
        !self.must_drain.is_empty()
            || self
                .recovered_until
                .is_some_and(|end| self.queue.head() < end)
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn pending_bytes(&self) -> u64 {
        self.queue.pending_bytes()
    }

    pub fn depth(&self) -> usize {
        self.queue.depth()
    }

    pub fn dir(&self) -> &std::path::Path {
        self.queue.dir()
    }

    /// Steps the head over blocks delivered directly.
    fn skip_delivered(&mut self) -> std::io::Result<()> {
        let mut head = self.queue.head();
        let mut moved = false;
        while let Some(next) = self.delivered.remove(&head) {
            head = next;
            moved = true;
        }
        if moved {
            self.queue.advance(head)?;
        }
        // Forget marks the head has passed (a purge may have jumped).
        let h = self.queue.head();
        self.delivered.retain(|p, _| *p >= h);
        self.must_drain.retain(|p| *p >= h);
        if self.recovered_until.is_some_and(|end| h >= end) {
            self.recovered_until = None;
        }
        Ok(())
    }
}

/// A block appended ahead of a direct send ([`HintedHandoff::append_intent`]).
#[derive(Debug, Clone, Copy)]
pub struct Intent {
    pub node: u64,
    pub shard: u64,
    pub at: Position,
    pub next: Position,
}

pub struct HintedHandoff {
    cfg: HhConfig,
    queues: Mutex<BTreeMap<QueueKey, Arc<Mutex<Slot>>>>,
    stats: Mutex<BTreeMap<u64, Arc<ProcessorStats>>>,
    pending_writes: AtomicUsize,
    /// `hh` counters: blocks and points accepted into queues.
    pub write_shard_req: AtomicU64,
    pub write_shard_req_points: AtomicU64,
}

struct PendingGuard<'a>(&'a AtomicUsize);

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HintedHandoff {
    /// Opens every queue under `cfg.dir` (a restart resumes them).
    pub fn open(cfg: HhConfig) -> Result<HintedHandoff, HhError> {
        let hh = HintedHandoff {
            queues: Mutex::new(BTreeMap::new()),
            stats: Mutex::new(BTreeMap::new()),
            pending_writes: AtomicUsize::new(0),
            write_shard_req: AtomicU64::new(0),
            write_shard_req_points: AtomicU64::new(0),
            cfg,
        };
        if !hh.cfg.enabled {
            return Ok(hh);
        }
        let io = |path: &PathBuf| {
            let path = path.clone();
            move |source| HhError::Io { path, source }
        };
        std::fs::create_dir_all(&hh.cfg.dir).map_err(io(&hh.cfg.dir))?;
        let mut queues = hh.queues.lock();
        for node in numbered_dirs(&hh.cfg.dir).map_err(io(&hh.cfg.dir))? {
            let ndir = hh.cfg.dir.join(node.to_string());
            for shard in numbered_dirs(&ndir).map_err(io(&ndir))? {
                let qdir = ndir.join(shard.to_string());
                let q = Queue::open(&qdir).map_err(io(&qdir))?;
                if !q.is_empty() {
                    tracing::info!(
                        node,
                        shard,
                        bytes = q.pending_bytes(),
                        "hinted handoff: resuming queue"
                    );
                }
                queues.insert((node, shard), Arc::new(Mutex::new(Slot::new(q))));
            }
        }
        drop(queues);
        Ok(hh)
    }

    pub fn config(&self) -> &HhConfig {
        &self.cfg
    }

    fn stats_for(&self, node: u64) -> Arc<ProcessorStats> {
        self.stats.lock().entry(node).or_default().clone()
    }

    fn queue(&self, node: u64, shard: u64) -> Result<Arc<Mutex<Slot>>, HhError> {
        let mut queues = self.queues.lock();
        if let Some(q) = queues.get(&(node, shard)) {
            return Ok(q.clone());
        }
        let dir = self.cfg.dir.join(node.to_string()).join(shard.to_string());
        let q = Queue::open(&dir).map_err(|source| HhError::Io { path: dir, source })?;
        let q = Arc::new(Mutex::new(Slot::new(q)));
        queues.insert((node, shard), q.clone());
        Ok(q)
    }

    /// Whether points for `shard` on `node` are waiting: new writes for it
    /// then join the queue instead of overtaking it.
    pub fn has_pending(&self, node: u64, shard: u64) -> bool {
        let q = self.queues.lock().get(&(node, shard)).cloned();
        q.is_some_and(|q| q.lock().has_backlog())
    }

    /// Bytes queued for `node`.
    pub fn node_bytes(&self, node: u64) -> u64 {
        let qs: Vec<_> = self
            .queues
            .lock()
            .range((node, 0)..=(node, u64::MAX))
            .map(|(_, q)| q.clone())
            .collect();
        qs.iter().map(|q| q.lock().pending_bytes()).sum()
    }

    /// Nodes with anything queued.
    pub fn nodes_with_pending(&self) -> Vec<u64> {
        let qs: Vec<(QueueKey, Arc<Mutex<Slot>>)> = self
            .queues
            .lock()
            .iter()
            .map(|(k, q)| (*k, q.clone()))
            .collect();
        let mut nodes: Vec<u64> = qs
            .into_iter()
            .filter(|(_, q)| !q.lock().is_empty())
            .map(|((n, _), _)| n)
            .collect();
        nodes.dedup();
        nodes
    }

    /// Appends `points` for `shard` on `node` durably (fsynced) and returns
    /// the block's position, checking `max-writes-pending` and `max-size`.
    fn append_block(
        &self,
        (node, shard): QueueKey,
        database: &str,
        retention_policy: &str,
        points: &[Point],
        now: i64,
        inflight: bool,
    ) -> Result<(Position, Position), HhError> {
        if !self.cfg.enabled {
            return Err(HhError::Disabled);
        }
        let stats = self.stats_for(node);
        if self.pending_writes.fetch_add(1, Ordering::AcqRel) >= self.cfg.max_writes_pending {
            self.pending_writes.fetch_sub(1, Ordering::AcqRel);
            stats.write_blocked.fetch_add(1, Ordering::Relaxed);
            return Err(HhError::Blocked);
        }
        let _guard = PendingGuard(&self.pending_writes);
        let payload = WriteShardRequest {
            header: None,
            shard_id: shard,
            database: database.to_string(),
            retention_policy: retention_policy.to_string(),
            points: points.iter().map(WirePoint::from).collect(),
        }
        .encode_to_vec();
        if self.node_bytes(node) + payload.len() as u64 > self.cfg.max_size_bytes {
            stats.write_dropped.fetch_add(1, Ordering::Relaxed);
            return Err(HhError::Full);
        }
        let q = self.queue(node, shard)?;
        let mut slot = q.lock();
        let (at, next) = slot
            .queue
            .append(now, &payload)
            .map_err(|source| HhError::Io {
                path: slot.dir().to_path_buf(),
                source,
            })?;
        if inflight {
            slot.inflight.insert(at);
        } else {
            slot.must_drain.insert(at);
        }
        stats
            .bytes_written
            .fetch_add(payload.len() as u64, Ordering::Relaxed);
        Ok((at, next))
    }

    /// Parks `points` for `shard` on `node` for the drain, durably
    /// (fsynced) before Ok. Blocking.
    pub fn enqueue(
        &self,
        node: u64,
        shard: u64,
        database: &str,
        retention_policy: &str,
        points: &[Point],
        now: i64,
    ) -> Result<(), HhError> {
        self.append_block(
            (node, shard),
            database,
            retention_policy,
            points,
            now,
            false,
        )?;
        self.write_shard_req.fetch_add(1, Ordering::Relaxed);
        self.write_shard_req_points
            .fetch_add(points.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Writes `points` for `shard` on `node` ahead of sending them directly
    /// (write-ahead): once this returns, a crash of this node can no longer
    /// leave the owner without its copy, because the drain delivers every
    /// block not marked delivered. Call [`HintedHandoff::complete`] with
    /// the direct send's result. Blocking.
    pub fn append_intent(
        &self,
        node: u64,
        shard: u64,
        database: &str,
        retention_policy: &str,
        points: &[Point],
        now: i64,
    ) -> Result<Intent, HhError> {
        let (at, next) =
            self.append_block((node, shard), database, retention_policy, points, now, true)?;
        Ok(Intent {
            node,
            shard,
            at,
            next,
        })
    }

    /// Records how a direct send of `intent` ended: delivered (the drain
    /// steps over it) or not (the drain delivers it, and new points for
    /// the queue join it until then).
    pub fn complete(&self, intent: &Intent, delivered: bool, points: usize) {
        let Some(q) = self
            .queues
            .lock()
            .get(&(intent.node, intent.shard))
            .cloned()
        else {
            return;
        };
        let mut slot = q.lock();
        slot.inflight.remove(&intent.at);
        if intent.at < slot.queue.head() {
            return; // purged meanwhile
        }
        if delivered {
            slot.delivered.insert(intent.at, intent.next);
        } else {
            slot.must_drain.insert(intent.at);
            drop(slot);
            self.write_shard_req.fetch_add(1, Ordering::Relaxed);
            self.write_shard_req_points
                .fetch_add(points as u64, Ordering::Relaxed);
        }
    }

    /// The blocks a previous run of this node may have been in the middle
    /// of writing: those on disk at open (not known delivered) enqueued at
    /// most `window` before the queue's last append. A coordinator appends a
    /// block before it writes its own copy, so after a crash the caller
    /// writes these again where this node is an owner (idempotent), and no
    /// owner can end up with a copy this node lacks. Blocking.
    pub fn recovered_recent(&self, window: Duration) -> Vec<WriteShardRequest> {
        let slots: Vec<Arc<Mutex<Slot>>> = self.queues.lock().values().cloned().collect();
        let mut out = Vec::new();
        for q in slots {
            let mut slot = q.lock();
            let Some(end) = slot.recovered_until else {
                continue;
            };
            let last_write = std::fs::read_dir(slot.dir())
                .ok()
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok()?.metadata().ok()?.modified().ok())
                .max();
            let cutoff = last_write
                .and_then(|t| t.checked_sub(window))
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(i64::MIN, |d| {
                    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
                });
            let mut pos = slot.queue.head();
            while pos < end {
                let Ok(Some(b)) = slot.queue.peek_at(pos) else {
                    break;
                };
                pos = b.next;
                if b.enqueued_at < cutoff {
                    continue;
                }
                if let Ok(req) = WriteShardRequest::decode(b.payload.as_slice()) {
                    out.push(req);
                }
            }
        }
        out
    }

    /// Deletes queues whose destination is no longer a data node and
    /// purges data older than `max-age`.
    pub fn purge(&self, meta: &dyn MetaStore) {
        let data = meta.data();
        let cutoff = SystemTime::now()
            .checked_sub(self.cfg.max_age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let all: Vec<(QueueKey, Arc<Mutex<Slot>>)> = self
            .queues
            .lock()
            .iter()
            .map(|(k, q)| (*k, q.clone()))
            .collect();
        for ((node, shard), q) in all {
            if data.data_node(node).is_none() && !data.data_nodes.is_empty() {
                if let Some(q) = self.queues.lock().remove(&(node, shard)) {
                    let bytes = q.lock().pending_bytes();
                    tracing::info!(
                        node,
                        shard,
                        bytes,
                        "hinted handoff: node left the cluster; deleting its queue"
                    );
                    if let Ok(q) = Arc::try_unwrap(q) {
                        if let Err(e) = q.into_inner().queue.destroy() {
                            tracing::warn!(node, shard, "hinted handoff: delete queue: {e}");
                        }
                    } else {
                        let dir = self.cfg.dir.join(node.to_string()).join(shard.to_string());
                        let _ = std::fs::remove_dir_all(dir);
                    }
                }
                continue;
            }
            let purged = {
                let mut slot = q.lock();
                let r = slot.queue.purge_older_than(cutoff);
                let _ = slot.skip_delivered();
                r
            };
            match purged {
                Ok(0) => {}
                Ok(bytes) => {
                    tracing::warn!(
                        node,
                        shard,
                        bytes,
                        "hinted handoff: purged data older than max-age"
                    );
                    self.stats_for(node)
                        .bytes_expired
                        .fetch_add(bytes, Ordering::Relaxed);
                }
                Err(e) => tracing::warn!(node, shard, "hinted handoff: purge: {e}"),
            }
        }
        // Remove directories of nodes that have no queue left.
        if let Ok(nodes) = numbered_dirs(&self.cfg.dir) {
            let queues = self.queues.lock();
            for node in nodes {
                if queues.range((node, 0)..=(node, u64::MAX)).next().is_none()
                    && data.data_node(node).is_none()
                    && !data.data_nodes.is_empty()
                {
                    let _ = std::fs::remove_dir_all(self.cfg.dir.join(node.to_string()));
                }
            }
        }
    }

    /// Statistics per destination.
    pub fn snapshot(&self) -> Vec<ProcessorSnapshot> {
        let stats: Vec<(u64, Arc<ProcessorStats>)> = self
            .stats
            .lock()
            .iter()
            .map(|(n, s)| (*n, s.clone()))
            .collect();
        let mut nodes: BTreeMap<u64, ProcessorSnapshot> = BTreeMap::new();
        let queues: Vec<(QueueKey, Arc<Mutex<Slot>>)> = self
            .queues
            .lock()
            .iter()
            .map(|(k, q)| (*k, q.clone()))
            .collect();
        for ((node, _), q) in queues {
            let q = q.lock();
            let s = nodes.entry(node).or_default();
            s.node = node;
            s.queue_bytes += q.pending_bytes();
            s.queue_depth += q.depth() as u64;
        }
        for (node, st) in stats {
            let s = nodes.entry(node).or_default();
            s.node = node;
            let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
            s.counters = BTreeMap::from([
                ("bytesRead", l(&st.bytes_read)),
                ("bytesWritten", l(&st.bytes_written)),
                ("writeBlocked", l(&st.write_blocked)),
                ("writeDropped", l(&st.write_dropped)),
                ("writeNodeReq", l(&st.write_node_req)),
                ("writeNodeReqFail", l(&st.write_node_req_fail)),
                ("writeNodeReqPoints", l(&st.write_node_req_points)),
                ("writeShardReq", l(&st.write_shard_req)),
                ("writeShardReqPoints", l(&st.write_shard_req_points)),
                ("pointsDropped", l(&st.points_dropped)),
                ("corruptBytes", l(&st.corrupt_bytes)),
                ("bytesExpired", l(&st.bytes_expired)),
            ]);
        }
        nodes.into_values().collect()
    }

    /// Delivers what is queued for `node` (at most `retry-concurrency`
    /// shard queues at once, each in order) until every queue is empty or
    /// a delivery fails. Returns whether everything was delivered.
    pub async fn drain_node(self: &Arc<Self>, node: u64, addr: &str, peers: &Arc<Peers>) -> bool {
        let shards: Vec<u64> = self
            .queues
            .lock()
            .range((node, 0)..=(node, u64::MAX))
            .map(|((_, s), _)| *s)
            .collect();
        let sem = Arc::new(tokio::sync::Semaphore::new(
            self.cfg.retry_concurrency.max(1),
        ));
        let mut tasks = tokio::task::JoinSet::new();
        for shard in shards {
            let Ok(permit) = sem.clone().acquire_owned().await else {
                break;
            };
            let hh = self.clone();
            let peers = peers.clone();
            let addr = addr.to_string();
            tasks.spawn(async move {
                let ok = hh.drain_queue(node, shard, &addr, &peers).await;
                drop(permit);
                ok
            });
        }
        let mut all = true;
        while let Some(r) = tasks.join_next().await {
            all &= r.unwrap_or(false);
        }
        all
    }

    async fn drain_queue(
        self: &Arc<Self>,
        node: u64,
        shard: u64,
        addr: &str,
        peers: &Peers,
    ) -> bool {
        let Some(q) = self.queues.lock().get(&(node, shard)).cloned() else {
            return true;
        };
        let stats = self.stats_for(node);
        loop {
            // Gather up to batch-size bytes of blocks.
            let q2 = q.clone();
            let batch = self.cfg.batch_size_bytes.max(1);
            let read = tokio::task::spawn_blocking(move || read_batch(&q2, batch)).await;
            let (req, next, bytes, corrupt) = match read {
                Ok(Ok(Some(b))) => b,
                Ok(Ok(None)) => return true,
                Ok(Err(e)) => {
                    tracing::warn!(node, shard, "hinted handoff: read queue: {e}");
                    return false;
                }
                Err(_) => return false,
            };
            if corrupt > 0 {
                stats.corrupt_bytes.fetch_add(corrupt, Ordering::Relaxed);
            }
            if req.points.is_empty() {
                // Only undecodable blocks: skip them.
                let q2 = q.clone();
                if !matches!(
                    tokio::task::spawn_blocking(move || advance_slot(&q2, next)).await,
                    Ok(Ok(()))
                ) {
                    return false;
                }
                continue;
            }
            let points = req.points.len() as u64;
            stats.write_node_req.fetch_add(1, Ordering::Relaxed);
            stats.write_shard_req.fetch_add(1, Ordering::Relaxed);
            let result = peers.write_shard(addr, req, self.cfg.write_timeout).await;
            let deliver = match &result {
                Ok(r) => match r.outcome() {
                    WriteCode::Ok => true,
                    WriteCode::Partial | WriteCode::Rejected => {
                        // Refused for good: counted and dropped, never
                        // retried forever.
                        stats
                            .points_dropped
                            .fetch_add(r.dropped.max(1), Ordering::Relaxed);
                        tracing::warn!(
                            node,
                            shard,
                            "hinted handoff: destination refused queued points: {}",
                            r.message
                        );
                        true
                    }
                    WriteCode::Retryable => false,
                },
                Err(e) if !e.is_retryable() => {
                    stats.points_dropped.fetch_add(points, Ordering::Relaxed);
                    tracing::warn!(node, shard, "hinted handoff: dropping queued points: {e}");
                    true
                }
                Err(_) => false,
            };
            if !deliver {
                stats.write_node_req_fail.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = &result {
                    tracing::debug!(node, shard, "hinted handoff: delivery failed: {e}");
                }
                return false;
            }
            stats
                .write_node_req_points
                .fetch_add(points, Ordering::Relaxed);
            stats
                .write_shard_req_points
                .fetch_add(points, Ordering::Relaxed);
            stats.bytes_read.fetch_add(bytes, Ordering::Relaxed);
            let q2 = q.clone();
            let advanced = tokio::task::spawn_blocking(move || advance_slot(&q2, next)).await;
            if !matches!(advanced, Ok(Ok(()))) {
                tracing::warn!(node, shard, "hinted handoff: could not record delivery");
                return false;
            }
            let rate = self.cfg.retry_rate_limit_bytes_per_sec;
            if rate > 0 {
                tokio::time::sleep(Duration::from_secs_f64(bytes as f64 / rate as f64)).await;
            }
        }
    }

    /// Drains every destination with pending data until `stop`, retrying
    /// each with a backoff from `retry-interval` to `retry-max-interval`,
    /// and purges every `purge-interval`.
    pub async fn run(
        self: Arc<Self>,
        peers: Arc<Peers>,
        meta: Arc<dyn MetaStore>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        if !self.cfg.enabled {
            return;
        }
        let mut backoff: BTreeMap<u64, (Duration, tokio::time::Instant)> = BTreeMap::new();
        let mut last_purge = tokio::time::Instant::now();
        let mut running: BTreeMap<u64, tokio::task::JoinHandle<bool>> = BTreeMap::new();
        let tick = self
            .cfg
            .retry_interval
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = stop.changed() => return,
            }
            let now = tokio::time::Instant::now();
            // Collect finished drains and set their backoff.
            let done: Vec<u64> = running
                .iter()
                .filter(|(_, h)| h.is_finished())
                .map(|(n, _)| *n)
                .collect();
            for node in done {
                if let Some(h) = running.remove(&node) {
                    let ok = h.await.unwrap_or(false);
                    if ok {
                        backoff.remove(&node);
                    } else {
                        let prev = backoff.get(&node).map_or(Duration::ZERO, |b| b.0);
                        let next = if prev.is_zero() {
                            self.cfg.retry_interval
                        } else {
                            (prev * 2).min(self.cfg.retry_max_interval)
                        };
                        backoff.insert(node, (next, now + next));
                    }
                }
            }
            if now.duration_since(last_purge) >= self.cfg.purge_interval {
                last_purge = now;
                let hh = self.clone();
                let m = meta.clone();
                let _ = tokio::task::spawn_blocking(move || hh.purge(m.as_ref())).await;
            }
            let data = meta.data();
            peers.set_cluster_id(data.cluster_id);
            for node in self.nodes_with_pending() {
                if running.contains_key(&node) {
                    continue;
                }
                if backoff.get(&node).is_some_and(|(_, at)| *at > now) {
                    continue;
                }
                let Some(info) = data.data_node(node) else {
                    continue; // the purge deletes queues of removed nodes
                };
                let addr = info.tcp_host.clone();
                let hh = self.clone();
                let peers = peers.clone();
                running.insert(
                    node,
                    tokio::spawn(async move { hh.drain_node(node, &addr, &peers).await }),
                );
            }
        }
    }
}

/// Reads the blocks the drain must send, from the head of `q`, up to
/// `batch` bytes, merged into one request: (request, position after, bytes,
/// bytes skipped as damaged). Steps over blocks delivered directly; stops
/// before a block whose direct send is in flight. `None`: nothing to send.
fn read_batch(
    q: &Mutex<Slot>,
    batch: usize,
) -> std::io::Result<Option<(WriteShardRequest, Position, u64, u64)>> {
    let mut slot = q.lock();
    let corrupt_before = slot.queue.corrupt_bytes;
    let first = loop {
        slot.skip_delivered()?;
        let head = slot.queue.head();
        if slot.inflight.contains(&head) {
            return Ok(None);
        }
        let Some(first) = slot.queue.peek()? else {
            return Ok(None);
        };
        if first.at != head {
            // Damaged bytes before it: step over them, then look again.
            slot.queue.advance(first.at)?;
            continue;
        }
        break first;
    };
    let mut bytes = first.payload.len() as u64;
    let mut next = first.next;
    let mut req = match WriteShardRequest::decode(first.payload.as_slice()) {
        Ok(r) => r,
        Err(e) => {
            // Checksummed but undecodable: a bug, not disk damage. Skip it
            // so the queue is not stuck, loudly.
            tracing::error!(queue = %slot.dir().display(), "hinted handoff: undecodable block skipped: {e}");
            WriteShardRequest::default()
        }
    };
    while (bytes as usize) < batch {
        if slot.inflight.contains(&next) || slot.delivered.contains_key(&next) {
            break;
        }
        let Some(b) = slot.queue.peek_at(next)? else {
            break;
        };
        if b.at != next {
            break; // damage in between: the next round steps over it
        }
        let Ok(more) = WriteShardRequest::decode(b.payload.as_slice()) else {
            break;
        };
        if more.database != req.database || more.retention_policy != req.retention_policy {
            break;
        }
        bytes += b.payload.len() as u64;
        next = b.next;
        req.points.extend(more.points);
    }
    let corrupt = slot.queue.corrupt_bytes - corrupt_before;
    Ok(Some((req, next, bytes, corrupt)))
}

/// Marks everything before `next` delivered by the drain.
fn advance_slot(q: &Mutex<Slot>, next: Position) -> std::io::Result<()> {
    let mut slot = q.lock();
    slot.queue.advance(next)?;
    slot.skip_delivered()
}

fn numbered_dirs(dir: &std::path::Path) -> std::io::Result<Vec<u64>> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for e in rd {
        let e = e?;
        if e.file_type()?.is_dir() {
            if let Some(n) = e.file_name().to_str().and_then(|s| s.parse().ok()) {
                out.push(n);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use models::FieldValue;

    fn hh(dir: &std::path::Path) -> HintedHandoff {
        HintedHandoff::open(HhConfig {
            dir: dir.to_path_buf(),
            ..Default::default()
        })
        .unwrap()
    }

    fn pts(n: i64) -> Vec<Point> {
        (0..n)
            .map(|i| {
                Point::new(
                    "m".into(),
                    vec![],
                    vec![("v".into(), FieldValue::Integer(i))],
                    i,
                )
            })
            .collect()
    }

    fn to_send(h: &HintedHandoff, node: u64, shard: u64) -> Option<usize> {
        let q = h.queues.lock().get(&(node, shard)).cloned()?;
        read_batch(&q, usize::MAX)
            .unwrap()
            .map(|(r, ..)| r.points.len())
    }

    #[test]
    fn write_ahead_blocks_are_sent_by_the_drain_only_when_the_direct_send_did_not() {
        let dir = tempfile::tempdir().unwrap();
        let h = hh(dir.path());
        let a = h.append_intent(2, 7, "db", "rp", &pts(3), 1).unwrap();
        // In flight: the drain waits, new points may still go directly.
        assert_eq!(to_send(&h, 2, 7), None);
        assert!(!h.has_pending(2, 7));
        h.complete(&a, true, 3);
        // Delivered directly: the drain steps over it; the queue empties.
        assert_eq!(to_send(&h, 2, 7), None);
        assert!(h.queues.lock()[&(2, 7)].lock().is_empty());
        let b = h.append_intent(2, 7, "db", "rp", &pts(4), 1).unwrap();
        h.complete(&b, false, 4);
        // Not delivered: the drain sends it, and new points join the queue.
        assert!(h.has_pending(2, 7));
        assert_eq!(to_send(&h, 2, 7), Some(4));
    }

    #[test]
    fn blocks_in_flight_at_a_crash_are_delivered_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let h = hh(dir.path());
            let a = h.append_intent(3, 1, "db", "rp", &pts(2), 1).unwrap();
            let b = h.append_intent(3, 1, "db", "rp", &pts(5), 1).unwrap();
            h.complete(&a, true, 2);
            let _ = b; // the process dies before the direct send ends
        }
        let h = hh(dir.path());
        // Whether or not the owner got them, everything not known to be
        // delivered is sent again (identical values: harmless).
        assert!(h.has_pending(3, 1));
        assert_eq!(to_send(&h, 3, 1), Some(7));
    }
}
