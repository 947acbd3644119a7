//! A data node's components wired together: the metadata store (embedded
//! for a standalone server), the storage engine, the points writer and the
//! query executor. Built once at start from the configuration and shared
//! by the HTTP API and the background services.

use crate::config::Config;
use crate::identity::{self, Identity, Verdict};
use cluster::PointsWriter;
use meta::auth::CredentialCache;
use meta::local::LocalMetaStore;
use meta::{Command, MetaStore, Response};
use meta_service::client::{ClientOptions, MetaClient};
use query::{ExecutorConfig, QueryExecutor};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a starting data node keeps trying to reach the meta nodes.
pub const META_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one metadata change (CREATE DATABASE, a new shard group) keeps
/// retrying while the meta cluster has no leader before it fails.
pub const META_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The address other nodes use to reach a listener bound to `bind`:
/// `:8086` becomes `<hostname>:8086`; explicit hosts are kept.
pub fn advertised(hostname: &str, bind: &str) -> String {
    match bind.strip_prefix(':') {
        Some(port) => format!("{hostname}:{port}"),
        None => bind.to_string(),
    }
}
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("meta store: {0}")]
    Meta(#[from] meta::Error),
    #[error("storage engine: {0}")]
    Storage(#[from] tsdb::Error),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Identity(#[from] crate::identity::IdentityError),
    #[error("{0}")]
    Joined(#[from] crate::joined::JoinedError),
    #[error("listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// Counters shown under `httpd` in `/debug/vars`.
#[derive(Debug, Default)]
pub struct HttpStats {
    pub write_req: AtomicU64,
    pub write_req_bytes: AtomicU64,
    pub query_req: AtomicU64,
}

impl HttpStats {
    pub fn write_bytes(&self, n: usize) {
        self.write_req.fetch_add(1, Ordering::Relaxed);
        self.write_req_bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn query(&self) {
        self.query_req.fetch_add(1, Ordering::Relaxed);
    }
}

pub struct Node {
    pub config: Config,
    pub node_id: u64,
    pub meta: Arc<dyn MetaStore>,
    pub store: Arc<tsdb::Store>,
    pub writer: Arc<PointsWriter>,
    pub executor: Arc<QueryExecutor>,
    pub credentials: CredentialCache,
    pub http_stats: HttpStats,
    pub started: Instant,
    /// Local shards retention found but the metadata does not place on this
    /// node (id → why), kept on disk and shown in `/debug/vars`.
    pub unplaced_shards: parking_lot::Mutex<std::collections::BTreeMap<u64, String>>,
    /// The cluster data path of a clustered node: its peers and hinted
    /// handoff (`None` standalone).
    pub cluster: Option<ClusterLinks>,
    /// Counters of shard writes received from peers (`cluster`).
    pub peer_stats: crate::peer_rpc::PeerStats,
    /// Notified when this standalone node accepted to join a meta cluster
    /// (`influxd-ctl add-data`): [`crate::run`] stops and answers
    /// [`crate::RunOutcome::Rejoin`] so the process restarts as a member.
    pub rejoin: tokio::sync::Notify,
}

/// A clustered node's links to the other data nodes.
pub struct ClusterLinks {
    pub peers: Arc<rpc::Peers>,
    pub hh: Arc<cluster::HintedHandoff>,
}

impl Node {
    /// Opens the node: clustered when `[meta] meta-servers` lists meta
    /// nodes or the node joined a cluster through `influxd-ctl add-data`
    /// (`[meta] dir/client.json`), standalone (metadata embedded) otherwise.
    pub fn open(mut config: Config) -> Result<Arc<Node>, ServerError> {
        if config.meta.meta_servers.is_empty() {
            if let Some(j) = crate::joined::load(&config.meta.dir)? {
                tracing::info!(
                    meta_servers = ?j.meta_servers,
                    "joined a cluster with influxd-ctl add-data: opening as a member"
                );
                config.meta.meta_servers = j.meta_servers;
            }
        }
        config
            .meta
            .check_cluster_auth(config.http.auth_enabled)
            .map_err(ServerError::Config)?;
        let node = if config.meta.meta_servers.is_empty() {
            Node::open_standalone(config)?
        } else {
            Node::open_clustered(config)?
        };
        let info: Arc<dyn query::SystemInfo> = node.clone();
        node.executor.set_system_info(Arc::downgrade(&info));
        Ok(node)
    }

    /// Opens a data node of a cluster: connects to the meta nodes (retrying
    /// while none answers, up to [`META_CONNECT_TIMEOUT`]), registers itself
    /// (a restart gets its id back) and serves from the client's cached copy
    /// of the metadata, which keeps working while the meta cluster has no
    /// leader.
    pub fn open_clustered(config: Config) -> Result<Arc<Node>, ServerError> {
        let servers = config.meta.meta_servers.clone();
        let opts = ClientOptions {
            retry_for: META_REQUEST_TIMEOUT,
            shared_secret: config.meta.meta_internal_shared_secret.clone(),
            ..ClientOptions::default()
        };
        let client = MetaClient::with_options(servers.clone(), opts);
        let started = Instant::now();
        while let Err(e) = client.refresh() {
            if started.elapsed() >= META_CONNECT_TIMEOUT {
                return Err(ServerError::Config(format!(
                    "cannot reach the meta nodes {servers:?}: {e}"
                )));
            }
            tracing::warn!("waiting for the meta nodes {servers:?}: {e}");
        }
        client.start_watching();
        let http = advertised(&config.hostname, &config.http.bind_address);
        let tcp = advertised(&config.hostname, &config.bind_address);
        let recorded = identity::load(&config.meta.dir)?;
        // A meta cluster sets its id right after it bootstraps: wait for it
        // (bounded) so this node records the right cluster.
        let mut data = client.data();
        while data.cluster_id == 0 && started.elapsed() < META_CONNECT_TIMEOUT {
            std::thread::sleep(Duration::from_millis(50));
            data = client.refresh().unwrap_or(data);
        }
        match identity::check(&config.meta.dir, recorded.as_ref(), &data, &tcp)? {
            Verdict::Moved(n) => {
                return Err(identity::IdentityError::AddressChanged {
                    id: n.id,
                    registered: n.tcp_host,
                    now: tcp,
                }
                .into())
            }
            Verdict::Same(_) | Verdict::Unrecorded => {}
        }
        // Registering is idempotent by TCP address: a restart gets its id
        // back (and the HTTP address is refreshed). A node that joined with
        // `add-data -p` registers as passive should it get here before the
        // meta node's own registration of it.
        let passive = crate::joined::load(&config.meta.dir)?.is_some_and(|j| j.passive);
        let me = client
            .register_data_node(&http, &tcp, passive)
            .map_err(|e| ServerError::Config(format!("register with the meta nodes: {e}")))?;
        if let Some(r) = &recorded {
            if r.id != me.id {
                return Err(identity::IdentityError::OtherNode {
                    recorded: r.id,
                    given: me.id,
                    path: identity::path(&config.meta.dir),
                }
                .into());
            }
        }
        identity::save(
            &config.meta.dir,
            &Identity {
                id: me.id,
                cluster_id: data.cluster_id,
                tcp_host: tcp.clone(),
                http_host: http.clone(),
            },
        )?;
        tracing::info!(
            node_id = me.id,
            cluster_id = data.cluster_id,
            http,
            tcp,
            "registered with the meta cluster"
        );
        let links = ClusterLinks::open(&config, me.id, data.cluster_id)?;
        Node::assemble(config, me.id, Arc::new(client), Some(links))
    }

    /// Opens a standalone node: embedded metadata in `[meta] dir`, this node
    /// registered as the only data node, shards under `[data] dir`.
    pub fn open_standalone(config: Config) -> Result<Arc<Node>, ServerError> {
        let meta: Arc<dyn MetaStore> = Arc::new(LocalMetaStore::open(&config.meta.dir)?);
        if meta.data().cluster_id == 0 {
            meta.execute(Command::SetClusterId {
                id: (models::now_nanos() as u64) | 1,
            })?;
        }
        let node_id = standalone_identity(&config, meta.as_ref())?;
        Node::assemble(config, node_id, meta, None)
    }

    fn assemble(
        config: Config,
        node_id: u64,
        meta: Arc<dyn MetaStore>,
        links: Option<ClusterLinks>,
    ) -> Result<Arc<Node>, ServerError> {
        let d = &config.data;
        let engine = tsdb::EngineConfig {
            dir: d.dir.clone(),
            wal_dir: d.wal_dir.clone(),
            wal_fsync_delay: d.wal_fsync_delay.0,
            cache_max_memory_size: d.cache_max_memory_size.0,
            cache_snapshot_memory_size: d.cache_snapshot_memory_size.0,
            cache_snapshot_write_cold_duration: d.cache_snapshot_write_cold_duration.0,
            compact_full_write_cold_duration: d.compact_full_write_cold_duration.0,
            max_series_per_database: d.max_series_per_database,
            max_values_per_tag: d.max_values_per_tag,
            max_tags_per_series: d.max_tags_per_series,
            max_fields_per_measurement: d.max_fields_per_measurement,
            max_string_field_bytes: d.max_string_field_bytes,
            max_concurrent_compactions: usize::try_from(d.max_concurrent_compactions).unwrap_or(0),
        };
        let store = Arc::new(tsdb::Store::open(engine)?);
        if let Some(l) = &links {
            replay_recent_blocks(
                l,
                &store,
                meta.as_ref(),
                node_id,
                config.cluster.write_timeout.0,
            );
        }
        let mut writer = PointsWriter::new(meta.clone(), store.clone(), node_id);
        if let Some(l) = &links {
            let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
                ServerError::Config("a clustered data node needs a tokio runtime".into())
            })?;
            writer = writer.with_remote(cluster::Remote {
                peers: l.peers.clone(),
                hh: l.hh.clone(),
                runtime,
                write_timeout: config.cluster.write_timeout.0,
            });
        }
        let writer = Arc::new(writer);
        let c = &config.coordinator;
        let executor = Arc::new(QueryExecutor::new(
            meta.clone(),
            store.clone(),
            writer.clone(),
            ExecutorConfig {
                max_select_point: c.max_select_point,
                max_select_series: c.max_select_series,
                max_select_buckets: c.max_select_buckets,
                query_timeout: c.query_timeout.0,
                log_queries_after: c.log_queries_after.0,
                max_concurrent_queries: c.max_concurrent_queries,
                ..Default::default()
            },
        ));
        Ok(Arc::new(Node {
            config,
            node_id,
            meta,
            store,
            writer,
            executor,
            credentials: CredentialCache::default(),
            http_stats: HttpStats::default(),
            started: Instant::now(),
            unplaced_shards: Default::default(),
            cluster: links,
            peer_stats: Default::default(),
            rejoin: tokio::sync::Notify::new(),
        }))
    }

    /// The host name this node reports (SHOW QUERIES, KILL QUERY ON).
    pub fn host_name(&self) -> String {
        self.config.http.bind_address.clone()
    }

    /// Flushes and closes the storage engine.
    pub fn close(&self) -> Result<(), ServerError> {
        self.store.close()?;
        Ok(())
    }
}

/// Finds (or creates) the standalone node's data node entry in its own
/// metadata, keeping the id it had: a changed `bind-address` updates the
/// entry's addresses instead of registering a second node (which used to
/// leave every existing shard owned by "someone else").
fn standalone_identity(config: &Config, meta: &dyn MetaStore) -> Result<u64, ServerError> {
    let http = config.http.bind_address.clone();
    let tcp = config.bind_address.clone();
    let recorded = identity::load(&config.meta.dir)?;
    let data = meta.data();
    let node = match identity::check(&config.meta.dir, recorded.as_ref(), &data, &tcp)? {
        Verdict::Same(n) => n,
        Verdict::Moved(n) => {
            tracing::info!(
                node_id = n.id,
                from = n.tcp_host,
                to = tcp,
                "bind-address changed; the node keeps its id and its shards"
            );
            meta.execute(Command::UpdateDataNode {
                id: n.id,
                host: http.clone(),
                tcp_host: tcp.clone(),
            })?;
            n
        }
        Verdict::Unrecorded => {
            // A node upgraded from a version that kept no identity file
            // adopts the data node its metadata already has (by address,
            // else the first one) rather than becoming a new one.
            let existing = data
                .data_nodes
                .iter()
                .find(|n| n.tcp_host == tcp)
                .or_else(|| data.data_nodes.iter().min_by_key(|n| n.id))
                .cloned();
            match existing {
                Some(n) if n.tcp_host == tcp => n,
                Some(n) => {
                    meta.execute(Command::UpdateDataNode {
                        id: n.id,
                        host: http.clone(),
                        tcp_host: tcp.clone(),
                    })?;
                    n
                }
                None => match meta.execute(Command::CreateDataNode {
                    host: http.clone(),
                    tcp_host: tcp.clone(),
                    passive: false,
                })? {
                    Response::Node { node } => node,
                    other => {
                        return Err(ServerError::Config(format!(
                            "registering the standalone data node: unexpected reply {other:?}"
                        )))
                    }
                },
            }
        }
    };
    identity::save(
        &config.meta.dir,
        &Identity {
            id: node.id,
            cluster_id: meta.data().cluster_id,
            tcp_host: tcp,
            http_host: http,
        },
    )?;
    Ok(node.id)
}

impl ClusterLinks {
    /// The peer pool and the hinted-handoff queues of node `node_id`.
    pub fn open(
        config: &Config,
        node_id: u64,
        cluster_id: u64,
    ) -> Result<ClusterLinks, ServerError> {
        let c = &config.cluster;
        let peers = rpc::Peers::new(
            rpc::ClientConfig {
                dial_timeout: c.dial_timeout.0,
                pool_max_idle_time: c.pool_max_idle_time.0,
                pool_max_streams: usize::try_from(c.pool_max_idle_streams).unwrap_or(usize::MAX),
                shared_secret: config.meta.meta_internal_shared_secret.clone(),
                dial_overrides: c.dial_overrides.clone(),
            },
            rpc::Sender {
                cluster_id,
                node_id,
            },
        );
        let h = &config.hinted_handoff;
        let hh = cluster::HintedHandoff::open(cluster::HhConfig {
            enabled: h.enabled,
            dir: h.dir.clone(),
            max_size_bytes: h.max_size.0,
            max_age: h.max_age.0,
            retry_concurrency: usize::try_from(h.retry_concurrency).unwrap_or(usize::MAX),
            retry_rate_limit_bytes_per_sec: h.retry_rate_limit,
            retry_interval: h.retry_interval.0,
            retry_max_interval: h.retry_max_interval.0,
            purge_interval: h.purge_interval.0,
            batch_size_bytes: usize::try_from(h.batch_size).unwrap_or(usize::MAX),
            max_writes_pending: usize::try_from(h.max_writes_pending).unwrap_or(usize::MAX),
            write_timeout: c.write_timeout.0,
        })
        .map_err(|e| ServerError::Config(format!("hinted handoff: {e}")))?;
        Ok(ClusterLinks {
            peers: Arc::new(peers),
            hh: Arc::new(hh),
        })
    }
}

/// How far before a queue's last append a crashed coordinator may still
/// have been writing its own copy, on top of `write-timeout`.
const LOCAL_REPLAY_MARGIN: Duration = Duration::from_secs(60);

/// After a restart, writes again into this node's own shards the blocks its
/// hinted-handoff queues recovered from the last moments before it stopped.
/// A coordinator appends a remote owner's copy before writing its own, so a
/// crash in between would otherwise leave the remote owner (once the queue
/// drains) with points this node lacks. Rewriting identical points is
/// harmless.
fn replay_recent_blocks(
    links: &ClusterLinks,
    store: &tsdb::Store,
    meta: &dyn MetaStore,
    node_id: u64,
    write_timeout: Duration,
) {
    let blocks = links
        .hh
        .recovered_recent(write_timeout + LOCAL_REPLAY_MARGIN);
    if blocks.is_empty() {
        return;
    }
    let data = meta.data();
    let mut replayed = 0usize;
    for req in blocks {
        let owned = data
            .shard_location(req.shard_id)
            .is_some_and(|(_, _, g, s)| g.deleted_at == 0 && s.owners.contains(&node_id));
        if !owned {
            continue;
        }
        let points: Vec<models::Point> = req
            .points
            .into_iter()
            .filter_map(|p| models::Point::try_from(p).ok())
            .collect();
        let shard = match store.shard(req.shard_id) {
            Some(s) => s,
            None => match store.create_shard(&req.database, &req.retention_policy, req.shard_id) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(shard = req.shard_id, "replaying recent writes: {e}");
                    continue;
                }
            },
        };
        match shard.write_points(&points) {
            Ok(()) | Err(tsdb::Error::PartialWrite { .. }) => replayed += points.len(),
            Err(e) => tracing::warn!(shard = req.shard_id, "replaying recent writes: {e}"),
        }
    }
    tracing::info!(
        points = replayed,
        "rewrote this node's copy of writes in flight when it last stopped"
    );
}
