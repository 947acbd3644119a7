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

/// Marks expired shard groups deleted and removes local shards that no
/// longer belong to a live group.
pub fn enforce_retention(node: &Node, now: i64) {
    if let Err(e) = node.meta.execute(Command::PruneExpired { now }) {
        tracing::warn!("retention: prune expired shard groups: {e}");
        return;
    }
    let data = node.meta.data();
    let live: std::collections::HashSet<u64> = data
        .shards_owned_by(node.node_id)
        .into_iter()
        .map(|(_, _, id)| id)
        .collect();
    for shard in node.store.shards() {
        if !live.contains(&shard.id()) {
            tracing::info!(shard = shard.id(), "retention: deleting shard");
            if let Err(e) = node.store.delete_shard(shard.id()) {
                tracing::warn!(shard = shard.id(), "retention: delete shard: {e}");
            }
        }
    }
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
        let mut c = Config::default();
        c.meta.dir = dir.join("meta");
        c.data.dir = dir.join("data");
        c.data.wal_dir = dir.join("wal");
        Node::open_standalone(c).unwrap()
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
}
