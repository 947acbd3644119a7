//! The meta node runtime: owns the redb database, the log store, the state
//! machine and (once the node belongs to a cluster) the openraft instance;
//! proposes commands, answers linearizable reads, and runs the membership
//! procedures (bootstrap, add a meta node, remove one, reset after leaving).
//!
//! HTTP handling lives in [`crate::api`]; this module only talks HTTP to
//! other meta nodes where a membership step needs it.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::http_util;
use crate::log_store::LogStore;
use crate::network::{HttpNetwork, SECRET_HEADER};
use crate::sm_store::StateMachine;
use crate::types::{ExecOutcome, MetaPeer, Raft};
use meta::{Command, Data, NodeInfo, Response};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{ChangeMembers, ServerState};
use parking_lot::RwLock;
use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NODE: TableDefinition<&str, u64> = TableDefinition::new("meta_node");
const KEY_ID: &str = "id";

/// How long a proposal may wait for its commit before the caller is told.
const COMMIT_WAIT: Duration = Duration::from_secs(10);
/// bcrypt checks (~50-100 ms of CPU each) the HTTP API runs at once: one,
/// so that on a 2-core meta node a flood of bad passwords leaves a core for
/// Raft (M8).
pub const MAX_CONCURRENT_PASSWORD_CHECKS: usize = 1;
/// How long a new meta node may take to catch up before it becomes a voter.
const CATCH_UP_WAIT: Duration = Duration::from_secs(60);

/// Why a meta node is asked to forget its Raft state (M9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetReason {
    /// Nothing more: allowed only when this node is not a voter in the
    /// latest membership it knows.
    Requested,
    /// The leader committed a membership (its voters and log index) without
    /// this node; allowed when that membership is at least as new as the
    /// one this node knows.
    RemovedBy {
        voters: BTreeSet<u64>,
        log_index: u64,
    },
    /// This node asked the leader to remove it and the removal committed.
    LeftCluster,
    /// The operator forced it (`force`); logged loudly.
    Forced,
}

/// A running Raft member: its id and its openraft handle.
#[derive(Clone)]
pub struct RaftHandle {
    pub id: u64,
    pub raft: Raft,
}

/// Who should serve a request that needs the leader.
pub enum Route {
    /// This node leads.
    Local(RaftHandle),
    /// Another node leads; forward there.
    Forward(MetaPeer),
    /// No leader is known.
    NoLeader,
}

/// What `GET /status` answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    pub node_type: String,
    /// Raft address of the leader, empty when none is known.
    pub leader: String,
    pub http_addr: String,
    pub raft_addr: String,
    /// Raft addresses of the voting members.
    pub peers: Vec<String>,
    /// This node's id once it belongs to a cluster.
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub index: u64,
}

pub struct MetaServer {
    pub(crate) cfg: Config,
    http_addr: String,
    raft_addr: String,
    raft_config: Arc<openraft::Config>,
    db: Arc<Database>,
    log_store: LogStore,
    sm: StateMachine,
    raft: RwLock<Option<RaftHandle>>,
    pub(crate) agent: ureq::Agent,
    pub(crate) started: Instant,
    membership_lock: tokio::sync::Mutex<()>,
    /// Verified admin credentials (bcrypt is slow).
    pub(crate) credentials: Arc<meta::auth::CredentialCache>,
    /// The JSON of the latest `/data` answer and its index: serialised
    /// once per change (off the async workers) however many data nodes poll.
    data_json: parking_lot::Mutex<Option<(u64, axum::body::Bytes)>>,
    /// Bounds concurrent bcrypt checks of the API's Basic auth.
    pub(crate) password_checks: tokio::sync::Semaphore,
    /// Since when this node has known no leader (None while it knows one).
    leader_lost_at: Arc<parking_lot::Mutex<Option<Instant>>>,
}

/// This node's view of the leader, for `/data` (M4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderView {
    pub leader: Option<u64>,
    pub term: u64,
    /// No leader for longer than an election timeout (or no cluster at
    /// all): the applied state may be arbitrarily old.
    pub stale: bool,
}

fn storage(e: impl std::fmt::Display) -> Error {
    Error::Storage(e.to_string())
}

fn raft_err(e: impl std::fmt::Display) -> Error {
    Error::Raft(e.to_string())
}

/// A fresh, practically unique cluster id (time and process mixed through
/// FNV-1a), never 0.
fn cluster_id() -> u64 {
    let seed = format!(
        "{}-{}-{:?}",
        now_nanos(),
        std::process::id(),
        std::thread::current().id()
    );
    meta::fnv64a(seed.as_bytes()).max(1)
}

/// Nanoseconds since the Unix epoch (for leases; the leader's clock).
pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl MetaServer {
    /// Opens the node's state in `[meta] dir`; starts Raft right away when
    /// the node already belongs to a cluster.
    pub async fn open(cfg: Config) -> Result<Arc<MetaServer>> {
        std::fs::create_dir_all(&cfg.meta.dir)?;
        let db = Arc::new(Database::create(cfg.meta.dir.join("raft.db")).map_err(storage)?);
        {
            let tx = db.begin_write().map_err(storage)?;
            tx.open_table(NODE).map_err(storage)?;
            tx.commit().map_err(storage)?;
        }
        let log_store = LogStore::new(db.clone()).map_err(storage)?;
        let sm = StateMachine::open(db.clone()).map_err(storage)?;
        let srv = Arc::new(MetaServer {
            http_addr: cfg.http_advertise()?,
            raft_addr: cfg.raft_advertise()?,
            raft_config: Arc::new(cfg.raft_config()?),
            cfg,
            db,
            log_store,
            sm,
            raft: RwLock::new(None),
            agent: http_util::agent(),
            started: Instant::now(),
            membership_lock: tokio::sync::Mutex::new(()),
            credentials: Default::default(),
            leader_lost_at: Arc::new(parking_lot::Mutex::new(None)),
            password_checks: tokio::sync::Semaphore::new(MAX_CONCURRENT_PASSWORD_CHECKS),
            data_json: parking_lot::Mutex::new(None),
        });
        if let Some(id) = srv.stored_id()? {
            srv.start_raft(id).await?;
        }
        Ok(srv)
    }

    pub fn http_addr(&self) -> &str {
        &self.http_addr
    }

    pub fn raft_addr(&self) -> &str {
        &self.raft_addr
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    fn me(&self) -> MetaPeer {
        MetaPeer {
            raft_addr: self.raft_addr.clone(),
            http_addr: self.http_addr.clone(),
        }
    }

    /// The running Raft member, if this node belongs to a cluster.
    pub fn raft(&self) -> Option<RaftHandle> {
        self.raft.read().clone()
    }

    /// The applied metadata (possibly stale on a follower).
    pub fn data(&self) -> Arc<Data> {
        self.sm.data()
    }

    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Arc<Data>> {
        self.sm.subscribe()
    }

    fn stored_id(&self) -> Result<Option<u64>> {
        let tx = self.db.begin_read().map_err(storage)?;
        let t = tx.open_table(NODE).map_err(storage)?;
        Ok(t.get(KEY_ID).map_err(storage)?.map(|v| v.value()))
    }

    fn store_id(&self, id: Option<u64>) -> Result<()> {
        let tx = self.db.begin_write().map_err(storage)?;
        {
            let mut t = tx.open_table(NODE).map_err(storage)?;
            match id {
                Some(id) => {
                    t.insert(KEY_ID, id).map_err(storage)?;
                }
                None => {
                    t.remove(KEY_ID).map_err(storage)?;
                }
            }
        }
        tx.commit().map_err(storage)
    }

    /// Starts the Raft member with `id` (persisted first).
    pub async fn start_raft(&self, id: u64) -> Result<RaftHandle> {
        if let Some(h) = self.raft() {
            if h.id == id {
                return Ok(h);
            }
            return Err(Error::refused(
                409,
                format!("meta node already has id {}", h.id),
            ));
        }
        self.store_id(Some(id))?;
        let raft = Raft::new(
            id,
            self.raft_config.clone(),
            HttpNetwork::new(
                self.cfg.meta.internal_shared_secret.clone(),
                self.cfg.meta.dial_overrides.clone(),
            ),
            self.log_store.clone(),
            self.sm.clone(),
        )
        .await
        .map_err(raft_err)?;
        // Notes the moment the leader is lost, from every metrics change,
        // so /data's staleness clock does not wait for the next request.
        let mut metrics = raft.metrics();
        let lost = self.leader_lost_at.clone();
        tokio::spawn(async move {
            loop {
                {
                    let m = metrics.borrow_and_update();
                    let mut l = lost.lock();
                    if m.current_leader.is_some() {
                        *l = None;
                    } else if l.is_none() {
                        *l = Some(Instant::now());
                    }
                }
                if metrics.changed().await.is_err() {
                    return;
                }
            }
        });
        let h = RaftHandle { id, raft };
        *self.raft.write() = Some(h.clone());
        tracing::info!(id, raft_addr = %self.raft_addr, "raft started");
        Ok(h)
    }

    /// Whether this node belongs to an initialised cluster.
    pub async fn is_initialized(&self) -> bool {
        match self.raft() {
            Some(h) => h.raft.is_initialized().await.unwrap_or(false),
            None => false,
        }
    }

    /// Makes this node a one-member cluster (the first `add-meta`, or
    /// `-single-server`). A no-op when it already belongs to one.
    pub async fn bootstrap(&self) -> Result<()> {
        if self.is_initialized().await {
            return Ok(());
        }
        let id = self.stored_id()?.unwrap_or(1);
        let h = self.start_raft(id).await?;
        let mut members = BTreeMap::new();
        members.insert(id, self.me());
        if let Err(e) = h.raft.initialize(members).await {
            tracing::warn!("initialize: {e}");
        }
        h.raft
            .wait(Some(Duration::from_secs(10)))
            .state(ServerState::Leader, "bootstrap")
            .await
            .map_err(raft_err)?;
        self.propose(Command::CreateMetaNode {
            host: self.http_addr.clone(),
            tcp_host: self.raft_addr.clone(),
        })
        .await?;
        // The cluster's id, chosen once (later proposals are no-ops).
        self.propose(Command::SetClusterId { id: cluster_id() })
            .await?;
        Ok(())
    }

    /// Where a leader-only request goes.
    pub fn route(&self) -> Route {
        let Some(h) = self.raft() else {
            return Route::NoLeader;
        };
        let m = h.raft.metrics().borrow().clone();
        match m.current_leader {
            Some(l) if l == h.id && m.state == ServerState::Leader => Route::Local(h),
            Some(l) => match m.membership_config.membership().get_node(&l) {
                Some(peer) => Route::Forward(peer.clone()),
                None => Route::NoLeader,
            },
            None => Route::NoLeader,
        }
    }

    /// Refuses early when this leader has not heard from a quorum lately
    /// (it cannot commit anything then).
    fn check_quorum(&self, h: &RaftHandle) -> Result<()> {
        let m = h.raft.metrics().borrow().clone();
        let limit = self.raft_config.election_timeout_max.max(500) * 2;
        match m.millis_since_quorum_ack {
            Some(ms) if ms <= limit => Ok(()),
            _ => Err(Error::NoLeader),
        }
    }

    /// Replicates `cmd` and answers its outcome. Only on the leader.
    pub async fn propose(&self, cmd: Command) -> Result<Response> {
        let h = match self.route() {
            Route::Local(h) => h,
            _ => return Err(Error::NoLeader),
        };
        self.check_quorum(&h)?;
        let res = tokio::time::timeout(COMMIT_WAIT, h.raft.client_write(cmd))
            .await
            .map_err(|_| {
                Error::Raft(
                    "timed out waiting for a quorum of meta nodes to commit the change".into(),
                )
            })?;
        match res {
            Ok(r) => match r.data {
                ExecOutcome::Ok(resp) => Ok(resp),
                ExecOutcome::Err {
                    message,
                    status,
                    error,
                } => Err(Error::Meta {
                    message,
                    status,
                    error: Some(error),
                }),
            },
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => Err(Error::NoLeader),
            Err(e) => Err(raft_err(e)),
        }
    }

    /// The metadata as of a linearizable read point. Only on the leader.
    pub async fn linearizable_data(&self) -> Result<Arc<Data>> {
        let h = match self.route() {
            Route::Local(h) => h,
            _ => return Err(Error::NoLeader),
        };
        self.check_quorum(&h)?;
        tokio::time::timeout(COMMIT_WAIT, h.raft.ensure_linearizable())
            .await
            .map_err(|_| Error::NoLeader)?
            .map_err(|_| Error::NoLeader)?;
        Ok(self.sm.data())
    }

    /// The JSON of `d`, cached per index; serialised on the blocking pool.
    pub async fn data_json(&self, d: Arc<Data>) -> Result<axum::body::Bytes> {
        if let Some((i, b)) = &*self.data_json.lock() {
            if *i == d.index {
                return Ok(b.clone());
            }
        }
        let index = d.index;
        let b = tokio::task::spawn_blocking(move || serde_json::to_vec(&*d))
            .await
            .map_err(|e| Error::Storage(e.to_string()))?
            .map_err(|e| Error::Storage(e.to_string()))?;
        let b = axum::body::Bytes::from(b);
        let mut cache = self.data_json.lock();
        if cache.as_ref().is_none_or(|(i, _)| *i < index) {
            *cache = Some((index, b.clone()));
        }
        Ok(b)
    }

    /// Who leads as this node sees it, and whether it has been without a
    /// leader (a leader without a quorum counts as none) for longer than
    /// the maximum election timeout.
    pub fn leader_view(&self) -> LeaderView {
        let Some(h) = self.raft() else {
            return LeaderView {
                leader: None,
                term: 0,
                stale: true,
            };
        };
        let m = h.raft.metrics().borrow().clone();
        let stale = match m.current_leader {
            // A leader is stale once it has heard from no quorum for two
            // election timeouts (its own clock, see `check_quorum`).
            Some(l) if l == h.id => self.check_quorum(&h).is_err(),
            Some(_) => false,
            None => {
                let since = *self.leader_lost_at.lock().get_or_insert_with(Instant::now);
                since.elapsed() > Duration::from_millis(self.raft_config.election_timeout_max)
            }
        };
        LeaderView {
            leader: m.current_leader,
            term: m.current_term,
            stale,
        }
    }

    /// This node's view of the cluster.
    pub fn status(&self) -> NodeStatus {
        let mut st = NodeStatus {
            node_type: "meta".into(),
            leader: String::new(),
            http_addr: self.http_addr.clone(),
            raft_addr: self.raft_addr.clone(),
            peers: Vec::new(),
            id: None,
            state: "Uninitialized".into(),
            index: self.sm.data().index,
        };
        if let Some(h) = self.raft() {
            let m = h.raft.metrics().borrow().clone();
            st.id = Some(h.id);
            st.state = format!("{:?}", m.state);
            let membership = m.membership_config.membership();
            if let Some(l) = m.current_leader {
                if let Some(p) = membership.get_node(&l) {
                    st.leader = p.raft_addr.clone();
                }
            }
            st.peers = membership
                .voter_ids()
                .filter_map(|id| membership.get_node(&id).map(|p| p.raft_addr.clone()))
                .collect();
        }
        st
    }

    /// Raft metrics for `/debug/vars`.
    pub fn raft_metrics(&self) -> Option<openraft::RaftMetrics<u64, MetaPeer>> {
        self.raft().map(|h| h.raft.metrics().borrow().clone())
    }

    fn secret_headers(&self) -> Vec<(String, String)> {
        if self.cfg.meta.internal_shared_secret.is_empty() {
            Vec::new()
        } else {
            vec![(
                SECRET_HEADER.to_string(),
                self.cfg.meta.internal_shared_secret.clone(),
            )]
        }
    }

    /// A blocking JSON call to another meta node's HTTP API.
    pub async fn call_peer(
        &self,
        method: &'static str,
        http_addr: &str,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http_util::Reply> {
        let agent = self.agent.clone();
        let url = format!("http://{http_addr}{path}");
        let headers = self.secret_headers();
        tokio::task::spawn_blocking(move || {
            http_util::request(&agent, method, &url, body.as_deref(), &headers, timeout)
        })
        .await
        .map_err(|e| Error::Http(e.to_string()))?
        .map_err(|e| Error::Http(format!("{http_addr}: {e}")))
    }

    /// Adds the meta node serving HTTP at `addr` as a voter (on the leader;
    /// bootstraps this node first when it belongs to no cluster yet).
    pub async fn add_meta(&self, addr: &str) -> Result<NodeInfo> {
        let _g = self.membership_lock.lock().await;
        if !self.is_initialized().await {
            self.bootstrap().await?;
        }
        let reply = self
            .call_peer("GET", addr, "/status", None, Duration::from_secs(5))
            .await?;
        if reply.status != 200 {
            return Err(Error::refused(
                400,
                format!("{addr} did not answer /status: {}", reply.status),
            ));
        }
        let st: NodeStatus = serde_json::from_slice(&reply.body)
            .map_err(|e| Error::refused(400, format!("{addr}: not a meta node: {e}")))?;
        if st.node_type != "meta" {
            return Err(Error::refused(400, format!("{addr} is not a meta node")));
        }
        let node = match self
            .propose(Command::CreateMetaNode {
                host: st.http_addr.clone(),
                tcp_host: st.raft_addr.clone(),
            })
            .await?
        {
            Response::Node { node } => node,
            other => return Err(Error::Raft(format!("unexpected response {other:?}"))),
        };
        let me = match self.raft() {
            Some(h) => h,
            None => return Err(Error::NoLeader),
        };
        if node.id == me.id {
            return Ok(node);
        }
        match st.id {
            Some(id) if id != node.id => {
                return Err(Error::refused(
                    409,
                    format!("{addr} already belongs to a cluster as meta node {id}"),
                ));
            }
            Some(_) => {}
            None => {
                // A new node, or one that lost its disk. Drop a stale
                // membership entry first, so that the leader stops
                // replicating to the old incarnation before the new one
                // starts with an empty log; then give it its id.
                let membership = me.raft.metrics().borrow().membership_config.clone();
                let membership = membership.membership();
                if membership.voter_ids().any(|v| v == node.id) {
                    self.change_membership(
                        &me,
                        ChangeMembers::RemoveVoters(BTreeSet::from([node.id])),
                    )
                    .await?;
                } else if membership.get_node(&node.id).is_some() {
                    self.change_membership(
                        &me,
                        ChangeMembers::RemoveNodes(BTreeSet::from([node.id])),
                    )
                    .await?;
                }
                let body = serde_json::to_vec(&serde_json::json!({ "id": node.id }))
                    .map_err(|e| Error::Raft(e.to_string()))?;
                let r = self
                    .call_peer(
                        "POST",
                        addr,
                        "/internal/assign-id",
                        Some(body),
                        Duration::from_secs(10),
                    )
                    .await?;
                if r.status != 200 {
                    return Err(Error::refused(
                        r.status,
                        format!("{addr}: {}", String::from_utf8_lossy(&r.body)),
                    ));
                }
            }
        }
        let peer = MetaPeer {
            raft_addr: st.raft_addr.clone(),
            http_addr: st.http_addr.clone(),
        };
        tokio::time::timeout(CATCH_UP_WAIT, me.raft.add_learner(node.id, peer, true))
            .await
            .map_err(|_| Error::Raft(format!("{addr} did not catch up in time")))?
            .map_err(raft_err)?;
        self.change_membership(&me, ChangeMembers::AddVoterIds(BTreeSet::from([node.id])))
            .await?;
        Ok(node)
    }

    async fn change_membership(
        &self,
        h: &RaftHandle,
        change: ChangeMembers<u64, MetaPeer>,
    ) -> Result<()> {
        self.check_quorum(h)?;
        tokio::time::timeout(COMMIT_WAIT * 3, h.raft.change_membership(change, false))
            .await
            .map_err(|_| Error::Raft("timed out changing the meta membership".into()))?
            .map_err(raft_err)?;
        Ok(())
    }

    /// Removes the meta node known by its HTTP or Raft address (on the
    /// leader), then tells it to reset (best effort).
    pub async fn remove_meta(&self, addr: &str) -> Result<NodeInfo> {
        let _g = self.membership_lock.lock().await;
        let me = match self.route() {
            Route::Local(h) => h,
            _ => return Err(Error::NoLeader),
        };
        let data = self.sm.data();
        let membership = me.raft.metrics().borrow().membership_config.clone();
        let membership = membership.membership();
        let node = data
            .meta_nodes
            .iter()
            .find(|n| n.host == addr || n.tcp_host == addr)
            .cloned()
            .or_else(|| {
                membership.nodes().find_map(|(id, p)| {
                    (p.http_addr == addr || p.raft_addr == addr).then(|| NodeInfo {
                        id: *id,
                        host: p.http_addr.clone(),
                        tcp_host: p.raft_addr.clone(),
                        passive: false,
                    })
                })
            })
            .ok_or_else(|| Error::refused(404, format!("meta node not found: {addr}")))?;
        let voters: BTreeSet<u64> = membership.voter_ids().collect();
        if voters.len() == 1 && voters.contains(&node.id) {
            return Err(Error::refused(400, "cannot remove the last meta node"));
        }
        match self.propose(Command::DeleteMetaNode { id: node.id }).await {
            Ok(_) => {}
            Err(Error::Meta {
                error: Some(meta::Error::NodeNotFound),
                ..
            }) => {}
            Err(e) => return Err(e),
        }
        if membership.get_node(&node.id).is_some() {
            self.change_membership(&me, ChangeMembers::RemoveVoters(BTreeSet::from([node.id])))
                .await?;
        }
        if node.id != me.id {
            // Tell it which committed membership no longer has it, so it may
            // reset even if it never saw that membership itself.
            let m = me.raft.metrics().borrow().membership_config.clone();
            let why = ResetReason::RemovedBy {
                voters: m.membership().voter_ids().collect(),
                log_index: m.log_id().map_or(0, |l| l.index),
            };
            if let Ok(body) = serde_json::to_vec(&serde_json::json!({ "reason": why })) {
                let _ = self
                    .call_peer(
                        "POST",
                        &node.host,
                        "/internal/reset",
                        Some(body),
                        Duration::from_secs(2),
                    )
                    .await;
            }
        }
        Ok(node)
    }

    /// Whether a reset for `why` may wipe this node now (M9): a node that
    /// is still a voter in the latest membership it knows must keep its
    /// vote and log — forgetting them lets it vote twice in a term and, on a
    /// majority, lose committed metadata.
    fn check_reset(&self, why: &ResetReason) -> Result<()> {
        let Some(h) = self.raft() else {
            return Ok(());
        };
        let m = h.raft.metrics().borrow().clone();
        let known = m.membership_config.membership();
        let voter = known.voter_ids().any(|v| v == h.id);
        let known_index = m.membership_config.log_id().map_or(0, |l| l.index);
        let allowed = match why {
            ResetReason::Requested => !voter,
            ResetReason::RemovedBy { voters, log_index } => {
                !voter || (!voters.contains(&h.id) && *log_index >= known_index)
            }
            ResetReason::LeftCluster => true,
            ResetReason::Forced => {
                if voter {
                    tracing::error!(
                        id = h.id,
                        membership_log_index = known_index,
                        "FORCED RESET OF A VOTING META NODE: its vote and Raft log are \
                         wiped while the cluster still counts it; if a majority is wiped \
                         this way, committed metadata can be lost"
                    );
                }
                true
            }
        };
        if allowed {
            return Ok(());
        }
        Err(Error::refused(
            409,
            format!(
                "meta node {} is still a voter in the latest membership it knows (log index \
                 {known_index}): wiping its vote and log could lose committed metadata; remove \
                 it from the cluster first (influxd-ctl remove-meta), or force it",
                h.id
            ),
        ))
    }

    /// Leaves the cluster: forgets the Raft log, vote, snapshot and id, and
    /// stops the Raft member. The node can then be added again. Refused
    /// while this node is still a voter, unless `why` says otherwise
    /// ([`ResetReason`]).
    pub async fn reset(&self, why: ResetReason) -> Result<()> {
        self.check_reset(&why)?;
        let h = self.raft.write().take();
        if let Some(h) = h {
            let _ = h.raft.shutdown().await;
        }
        self.log_store.clear().map_err(storage)?;
        self.sm.clear().map_err(storage)?;
        self.store_id(None)?;
        tracing::info!("meta node reset: it belongs to no cluster now");
        Ok(())
    }

    /// Stops Raft (process shutdown).
    pub async fn shutdown(&self) {
        let h = self.raft.write().take();
        if let Some(h) = h {
            let _ = h.raft.shutdown().await;
        }
    }
}
