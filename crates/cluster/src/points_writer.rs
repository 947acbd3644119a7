//! The points writer: maps every point of a write request to its shard —
//! shard group by time (created on demand through the meta store), shard in
//! the group by fnv64a of the series key — and writes each shard's points.
//!
//! Today every owner is this node (standalone, and single-data-node
//! clusters); replication to remote owners and hinted handoff plug in at
//! [`PointsWriter::write_shard`].

use meta::{Command, Data, MetaStore, Response};
use models::Point;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
    /// The shard lives on other data nodes only. Node-to-node writes (the
    /// cluster data path) are not built yet, so such a write is refused
    /// rather than silently stored on the wrong node.
    #[error("shard {shard} is owned by data node(s) {owners:?}, not by this node ({node}); writes to other data nodes need the cluster data path, which is not built yet")]
    RemoteShard {
        shard: u64,
        owners: Vec<u64>,
        node: u64,
    },
    #[error("{0}")]
    Meta(#[from] meta::Error),
    #[error("{0}")]
    Storage(tsdb::Error),
}

/// Counters shown under `write` in `/debug/vars`.
#[derive(Debug, Default)]
pub struct WriteStats {
    pub req: AtomicU64,
    pub point_req: AtomicU64,
    pub point_req_local: AtomicU64,
    pub write_ok: AtomicU64,
    pub write_error: AtomicU64,
    pub write_drop: AtomicU64,
}

pub struct PointsWriter {
    meta: Arc<dyn MetaStore>,
    store: Arc<tsdb::Store>,
    /// This data node's id in the metadata.
    node_id: u64,
    max_new_shard_groups_per_write: usize,
    pub stats: WriteStats,
}

impl PointsWriter {
    pub fn new(meta: Arc<dyn MetaStore>, store: Arc<tsdb::Store>, node_id: u64) -> PointsWriter {
        PointsWriter {
            meta,
            store,
            node_id,
            max_new_shard_groups_per_write: MAX_NEW_SHARD_GROUPS_PER_WRITE,
            stats: WriteStats::default(),
        }
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
        _consistency: Consistency,
        now: i64,
    ) -> Result<(), WriteError> {
        self.stats.req.fetch_add(1, Ordering::Relaxed);
        self.stats
            .point_req
            .fetch_add(points.len() as u64, Ordering::Relaxed);
        let result = self.write_inner(db, rp, points, now);
        match &result {
            Ok(()) => self.stats.write_ok.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.stats.write_error.fetch_add(1, Ordering::Relaxed),
        };
        result
    }

    fn write_inner(
        &self,
        db: &str,
        rp: &str,
        points: Vec<Point>,
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
        for &shard_id in by_shard.keys() {
            let owners = shard_owners(&data, shard_id);
            if !owners.contains(&self.node_id) {
                return Err(WriteError::RemoteShard {
                    shard: shard_id,
                    owners,
                    node: self.node_id,
                });
            }
        }
        for (shard_id, pts) in by_shard {
            match self.write_shard(db, &rp_name, shard_id, &pts) {
                Ok(()) => {}
                Err(tsdb::Error::PartialWrite { reason, dropped }) => {
                    let entry = partial.get_or_insert((reason, 0));
                    entry.1 += dropped;
                }
                Err(e) => return Err(WriteError::Storage(e)),
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

    /// Writes one shard's points to the local engine.
    fn write_shard(
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
        self.stats
            .point_req_local
            .fetch_add(points.len() as u64, Ordering::Relaxed);
        shard.write_points(points)
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
