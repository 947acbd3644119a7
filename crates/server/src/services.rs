//! Background services of a data node: retention enforcement (expired shard
//! groups marked deleted in the metadata, their local shards removed) and
//! shard precreation (the next shard group created before writes need it).
//! Each runs on a timer, does its blocking work off the async runtime, and
//! stops when asked.

use crate::node::Node;
use meta::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Services {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Services {
    /// Signals every service to stop and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

pub fn start(node: Arc<Node>) -> Services {
    let (tx, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    if node.config.retention.enabled {
        let every = node
            .config
            .retention
            .check_interval
            .0
            .max(Duration::from_millis(100));
        tasks.push(spawn_periodic(
            node.clone(),
            rx.clone(),
            every,
            enforce_retention,
        ));
    }
    if node.config.shard_precreation.enabled {
        let every = node
            .config
            .shard_precreation
            .check_interval
            .0
            .max(Duration::from_millis(100));
        tasks.push(spawn_periodic(node, rx, every, precreate_shard_groups));
    }
    Services { stop: tx, tasks }
}

fn spawn_periodic(
    node: Arc<Node>,
    mut stop: watch::Receiver<bool>,
    every: Duration,
    work: fn(&Node, i64),
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let n = node.clone();
                    let _ = tokio::task::spawn_blocking(move || work(&n, models::now_nanos())).await;
                }
                _ = stop.changed() => return,
            }
        }
    })
}

/// What retention decides for one local shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardFate {
    /// Its group is live and this node owns the shard.
    Keep,
    /// Its group is marked deleted (expired, or dropped with DROP SHARD /
    /// truncation): an explicit decision recorded in the metadata.
    Delete,
    /// The metadata does not place it on this node (unknown shard, or owned
    /// by others only). Kept on disk and reported, never removed: only an
    /// explicit decision deletes data.
    Unplaced(String),
}

/// The pure retention decision for shard `id` on node `node_id`.
pub fn shard_fate(data: &meta::Data, node_id: u64, id: u64) -> ShardFate {
    match data.shard_location(id) {
        Some((_, _, g, _)) if g.deleted_at != 0 => ShardFate::Delete,
        Some((_, _, _, s)) if s.owners.contains(&node_id) => ShardFate::Keep,
        Some((d, r, _, s)) => ShardFate::Unplaced(format!(
            "shard {id} of {}.{} is owned by node(s) {:?}, not by this node ({node_id})",
            d.name, r.name, s.owners
        )),
        None => ShardFate::Unplaced(format!(
            "shard {id} is not in the metadata (cluster index {})",
            data.index
        )),
    }
}

/// Marks expired shard groups deleted and removes the local shards of
/// groups the metadata marks deleted. A local shard the metadata does not
/// place on this node is kept and reported (log, `/debug/vars`).
pub fn enforce_retention(node: &Node, now: i64) {
    if let Err(e) = node.meta.execute(Command::PruneExpired { now }) {
        tracing::warn!("retention: prune expired shard groups: {e}");
        return;
    }
    // Shards first, metadata second: a shard created by a write in between
    // is in the newer metadata, never mistaken for an unknown one.
    let shards = node.store.shards();
    let data = node.meta.data();
    let mut unplaced = std::collections::BTreeMap::new();
    for shard in shards {
        match shard_fate(&data, node.node_id, shard.id()) {
            ShardFate::Keep => {}
            ShardFate::Delete => {
                tracing::info!(
                    shard = shard.id(),
                    "retention: deleting shard of a deleted shard group"
                );
                if let Err(e) = node.store.delete_shard(shard.id()) {
                    tracing::warn!(shard = shard.id(), "retention: delete shard: {e}");
                }
            }
            ShardFate::Unplaced(why) => {
                unplaced.insert(shard.id(), why);
            }
        }
    }
    let mut known = node.unplaced_shards.lock();
    for (id, why) in &unplaced {
        if known.get(id) != Some(why) {
            tracing::warn!(
                shard = id,
                path = %node.store.shard(*id).map(|s| s.path().display().to_string()).unwrap_or_default(),
                "retention: keeping a shard the metadata does not place on this node: {why}"
            );
        }
    }
    *known = unplaced;
}

/// Creates the next shard group of every retention policy whose current
/// group ends within `advance-period`.
pub fn precreate_shard_groups(node: &Node, now: i64) {
    let advance = node.config.shard_precreation.advance_period.0.as_nanos() as i64;
    let data = node.meta.data();
    for db in &data.databases {
        for rp in &db.retention_policies {
            let Some(current) = rp.shard_group_for(now) else {
                continue;
            };
            let end = current.effective_end();
            if end - now <= advance && rp.shard_group_for(end).is_none() {
                let cmd = Command::CreateShardGroup {
                    database: db.name.clone(),
                    policy: rp.name.clone(),
                    timestamp: end,
                };
                if let Err(e) = node.meta.execute(cmd) {
                    tracing::warn!("precreate shard group for {}.{}: {e}", db.name, rp.name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use meta::data::HOUR;
    use meta::RetentionPolicyUpdate;
    use models::{FieldValue, Point};

    fn node(dir: &std::path::Path) -> Arc<Node> {
        node_at(dir, &Config::default().bind_address)
    }

    fn point(t: i64) -> Point {
        Point::new(
            "cpu".into(),
            vec![],
            vec![("v".into(), FieldValue::Float(1.0))],
            t,
        )
    }

    #[test]
    fn retention_deletes_expired_shards_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let n = node(dir.path());
        n.meta
            .execute(Command::CreateDatabase {
                name: "db".into(),
                rp: None,
                retention_autocreate: true,
            })
            .unwrap();
        let now = 1_000 * HOUR;
        // autogen is infinite: both points are accepted, into two weekly groups.
        n.writer
            .write(
                "db",
                "",
                vec![point(now - 400 * HOUR), point(now)],
                Default::default(),
                now,
            )
            .unwrap();
        let shards = n.store.shards();
        assert_eq!(shards.len(), 2);
        let old = shards.iter().map(|s| s.id()).min().unwrap();
        let old_path = n.store.shard(old).unwrap().path().to_path_buf();
        assert!(old_path.exists());
        // Shorten the policy to 8 days: the old group has expired.
        n.meta
            .execute(Command::UpdateRetentionPolicy {
                database: "db".into(),
                name: "autogen".into(),
                update: RetentionPolicyUpdate {
                    duration: Some(8 * 24 * HOUR),
                    ..Default::default()
                },
                make_default: false,
            })
            .unwrap();
        enforce_retention(&n, now);
        assert!(n.store.shard(old).is_none());
        assert!(!old_path.exists(), "{} still on disk", old_path.display());
        assert_eq!(n.store.shards().len(), 1);
        let data = n.meta.data();
        let groups = &data.retention_policy("db", "").unwrap().shard_groups;
        assert_eq!(groups.iter().filter(|g| g.deleted_at != 0).count(), 1);
        // Writes older than the policy are refused, newer ones still land.
        let err = n
            .writer
            .write(
                "db",
                "",
                vec![point(now - 300 * HOUR)],
                Default::default(),
                now,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "partial write: points beyond retention policy dropped=1"
        );
        n.close().unwrap();
    }

    #[test]
    fn precreation_opens_the_next_group_ahead_of_time() {
        let dir = tempfile::tempdir().unwrap();
        let n = node(dir.path());
        n.meta
            .execute(Command::CreateDatabase {
                name: "db".into(),
                rp: None,
                retention_autocreate: true,
            })
            .unwrap();
        let week = 7 * 24 * HOUR;
        let now = 10 * week - 10 * 60 * 1_000_000_000; // 10 minutes before a group boundary
        n.writer
            .write("db", "", vec![point(now)], Default::default(), now)
            .unwrap();
        precreate_shard_groups(&n, now);
        let data = n.meta.data();
        let rp = data.retention_policy("db", "").unwrap();
        assert!(rp.shard_group_for(10 * week).is_some());
        n.close().unwrap();
    }

    fn node_at(dir: &std::path::Path, bind: &str) -> Arc<Node> {
        let mut c = Config::default();
        c.meta.dir = dir.join("meta");
        c.data.dir = dir.join("data");
        c.data.wal_dir = dir.join("wal");
        c.bind_address = bind.to_string();
        Node::open_standalone(c).unwrap()
    }

    #[test]
    fn c1_changed_bind_address_keeps_shards() {
        let dir = tempfile::tempdir().unwrap();
        let now = 1_000 * HOUR;
        let n = node_at(dir.path(), ":8088");
        n.meta
            .execute(Command::CreateDatabase {
                name: "db".into(),
                rp: None,
                retention_autocreate: true,
            })
            .unwrap();
        n.writer
            .write("db", "", vec![point(now)], Default::default(), now)
            .unwrap();
        let id_before = n.node_id;
        let shards_before: Vec<u64> = n.store.shards().iter().map(|s| s.id()).collect();
        n.close().unwrap();
        drop(n);

        // InfluxDB's docs recommend binding the RPC port to loopback.
        let n = node_at(dir.path(), "127.0.0.1:8088");
        assert_eq!(n.node_id, id_before, "the node must keep its id");
        enforce_retention(&n, now);
        let shards_after: Vec<u64> = n.store.shards().iter().map(|s| s.id()).collect();
        assert_eq!(shards_after, shards_before, "retention deleted shards");
        for id in &shards_after {
            assert!(n.store.shard(*id).unwrap().path().exists());
        }
        let data = n.meta.data();
        assert_eq!(data.data_nodes.len(), 1, "{:?}", data.data_nodes);
        assert_eq!(data.data_nodes[0].tcp_host, "127.0.0.1:8088");
        assert!(n.unplaced_shards.lock().is_empty());
        // Writes into the existing group still land locally.
        n.writer
            .write("db", "", vec![point(now + 1)], Default::default(), now)
            .unwrap();
        n.close().unwrap();
    }

    #[test]
    fn c1_upgraded_node_without_identity_file_adopts_its_node() {
        let dir = tempfile::tempdir().unwrap();
        let n = node_at(dir.path(), ":8088");
        let id = n.node_id;
        n.close().unwrap();
        drop(n);
        // A data directory from before the identity file existed.
        std::fs::remove_file(crate::identity::path(&dir.path().join("meta"))).unwrap();
        let n = node_at(dir.path(), "127.0.0.1:8088");
        assert_eq!(n.node_id, id);
        assert_eq!(n.meta.data().data_nodes.len(), 1);
        n.close().unwrap();
    }

    #[test]
    fn c1_metadata_of_another_cluster_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let n = node_at(dir.path(), ":8088");
        n.close().unwrap();
        drop(n);
        let meta_dir = dir.path().join("meta");
        let mut rec = crate::identity::load(&meta_dir).unwrap().unwrap();
        rec.cluster_id ^= 0x10;
        crate::identity::save(&meta_dir, &rec).unwrap();
        let mut c = Config::default();
        c.meta.dir = meta_dir;
        c.data.dir = dir.path().join("data");
        c.data.wal_dir = dir.path().join("wal");
        let err = match Node::open_standalone(c) {
            Ok(_) => panic!("opened against another cluster's metadata"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("belongs to cluster"), "{err}");
    }

    #[test]
    fn c1_retention_keeps_shards_the_metadata_does_not_place() {
        let dir = tempfile::tempdir().unwrap();
        let n = node(dir.path());
        n.meta
            .execute(Command::CreateDatabase {
                name: "db".into(),
                rp: None,
                retention_autocreate: true,
            })
            .unwrap();
        let now = 1_000 * HOUR;
        n.writer
            .write("db", "", vec![point(now)], Default::default(), now)
            .unwrap();
        let owned = n.store.shards()[0].id();
        // A shard on disk the metadata knows nothing about (a restored
        // backup, a shard copied in by hand, metadata from elsewhere).
        let stranger = n.store.create_shard("db", "autogen", 9_999).unwrap();
        let stranger_path = stranger.path().to_path_buf();
        drop(stranger);
        // And one of ours whose ownership the metadata gives to another node.
        let data = n.meta.data();
        let (_, _, g, _) = data.shard_location(owned).unwrap();
        assert_eq!(g.deleted_at, 0);
        assert_eq!(
            shard_fate(&data, n.node_id + 1, owned),
            ShardFate::Unplaced(format!(
                "shard {owned} of db.autogen is owned by node(s) [{}], not by this node ({})",
                n.node_id,
                n.node_id + 1
            ))
        );

        enforce_retention(&n, now);
        assert!(n.store.shard(9_999).is_some(), "unknown shard deleted");
        assert!(stranger_path.exists());
        assert!(n.store.shard(owned).is_some());
        let unplaced = n.unplaced_shards.lock().clone();
        assert_eq!(unplaced.keys().copied().collect::<Vec<_>>(), vec![9_999]);
        // Reported in the statistics /debug/vars shows.
        use query::SystemInfo;
        let stats = n.statistics();
        let r = stats.iter().find(|s| s.name == "retention").unwrap();
        assert_eq!(
            r.values,
            vec![(
                "unplacedShards".to_string(),
                query::result::Value::Integer(1)
            )]
        );
        assert!(stats
            .iter()
            .any(|s| s.name == "unplaced_shard"
                && s.tags.get("id").map(String::as_str) == Some("9999")));
        n.close().unwrap();
    }
}
