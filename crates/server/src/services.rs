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
    work: fn(&Node),
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let n = node.clone();
                    let _ = tokio::task::spawn_blocking(move || work(&n)).await;
                }
                _ = stop.changed() => return,
            }
        }
    })
}

/// Marks expired shard groups deleted and removes local shards that no
/// longer belong to a live group.
pub fn enforce_retention(node: &Node) {
    let now = models::now_nanos();
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
pub fn precreate_shard_groups(node: &Node) {
    let now = models::now_nanos();
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
