use super::*;
use crate::command::RetentionPolicySpec;

fn with_nodes(n: usize) -> Data {
    let mut d = Data::default();
    for i in 0..n {
        apply(
            &mut d,
            Command::CreateDataNode {
                host: format!("h{i}:8086"),
                tcp_host: format!("h{i}:8088"),
                passive: false,
            },
        )
        .unwrap();
    }
    d
}

fn create_db(d: &mut Data, name: &str) {
    apply(
        d,
        Command::CreateDatabase {
            name: name.into(),
            rp: None,
            retention_autocreate: true,
        },
    )
    .unwrap();
}

fn rp(name: &str, dur: Option<i64>, sgd: Option<i64>) -> RetentionPolicySpec {
    RetentionPolicySpec {
        name: name.into(),
        duration: dur,
        replica_n: Some(1),
        shard_group_duration: sgd,
    }
}

#[test]
fn create_database_makes_autogen_and_is_idempotent() {
    let mut d = Data::default();
    create_db(&mut d, "db0");
    create_db(&mut d, "db0");
    assert_eq!(d.databases.len(), 1);
    let rp = d.retention_policy("db0", "").unwrap();
    assert_eq!(rp.name, "autogen");
    assert_eq!(rp.duration, 0);
    assert_eq!(rp.shard_group_duration, WEEK);
    assert_eq!(d.index, 2);
}

#[test]
fn create_database_with_conflicting_policy_fails_without_change() {
    let mut d = Data::default();
    create_db(&mut d, "db1");
    let before = d.clone();
    let err = apply(
        &mut d,
        Command::CreateDatabase {
            name: "db1".into(),
            rp: Some(RetentionPolicySpec {
                duration: Some(DAY),
                ..Default::default()
            }),
            retention_autocreate: true,
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "retention policy conflicts with an existing policy"
    );
    assert_eq!(d, before);
}

#[test]
fn invalid_names_are_refused() {
    let mut d = Data::default();
    let err = apply(
        &mut d,
        Command::CreateDatabase {
            name: ".".into(),
            rp: None,
            retention_autocreate: true,
        },
    )
    .unwrap_err();
    assert_eq!(err, Error::InvalidName);
    create_db(&mut d, "db0");
    let err = apply(
        &mut d,
        Command::CreateRetentionPolicy {
            database: "db0".into(),
            rp: rp(".", Some(DAY), None),
            make_default: false,
        },
    )
    .unwrap_err();
    assert_eq!(err, Error::InvalidName);
}

#[test]
fn retention_policy_rules_match_influxdb() {
    let mut d = Data::default();
    create_db(&mut d, "db0");
    let err = apply(
        &mut d,
        Command::CreateRetentionPolicy {
            database: "db0".into(),
            rp: rp("rp4", Some(1_000_000_000), None),
            make_default: false,
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "retention policy duration must be at least 1h0m0s"
    );
    let err = apply(
        &mut d,
        Command::CreateRetentionPolicy {
            database: "nodb".into(),
            rp: rp("rp0", Some(HOUR), None),
            make_default: false,
        },
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "database not found: nodb");
    // Shard durations below an hour become an hour; 0 picks the default.
    for (name, dur, sgd, want) in [
        ("rp3", HOUR, Some(30 * 60 * 1_000_000_000), HOUR),
        ("rpzero", HOUR, Some(0), HOUR),
        ("rpinf", 0, Some(0), WEEK),
    ] {
        apply(
            &mut d,
            Command::CreateRetentionPolicy {
                database: "db0".into(),
                rp: rp(name, Some(dur), sgd),
                make_default: false,
            },
        )
        .unwrap();
        assert_eq!(
            d.retention_policy("db0", name)
                .unwrap()
                .shard_group_duration,
            want
        );
    }
    // Same spec again is fine; asking to make it default is a conflict.
    let again = Command::CreateRetentionPolicy {
        database: "db0".into(),
        rp: rp("rp3", Some(HOUR), Some(30 * 60 * 1_000_000_000)),
        make_default: false,
    };
    apply(&mut d, again).unwrap();
    let err = apply(
        &mut d,
        Command::CreateRetentionPolicy {
            database: "db0".into(),
            rp: rp("rp3", Some(HOUR), Some(30 * 60 * 1_000_000_000)),
            make_default: true,
        },
    )
    .unwrap_err();
    assert_eq!(err, Error::RetentionPolicyConflict);
}

#[test]
fn shard_groups_spread_owners_and_cover_time() {
    let mut d = with_nodes(4);
    create_db(&mut d, "db");
    apply(
        &mut d,
        Command::UpdateRetentionPolicy {
            database: "db".into(),
            name: "autogen".into(),
            update: RetentionPolicyUpdate {
                replica_n: Some(2),
                shard_group_duration: Some(DAY),
                ..Default::default()
            },
            make_default: false,
        },
    )
    .unwrap();
    let t = 10 * DAY + 5;
    let r = apply(
        &mut d,
        Command::CreateShardGroup {
            database: "db".into(),
            policy: "".into(),
            timestamp: t,
        },
    )
    .unwrap();
    assert_eq!(r, Response::Id { id: 1 });
    let rp = d.retention_policy("db", "autogen").unwrap();
    let g = rp.shard_group_for(t).unwrap();
    assert_eq!((g.start_time, g.end_time), (10 * DAY, 11 * DAY));
    // 4 nodes / RF 2 = 2 shards, each on 2 distinct nodes, all 4 nodes used.
    assert_eq!(g.shards.len(), 2);
    let mut owners: Vec<u64> = g.shards.iter().flat_map(|s| s.owners.clone()).collect();
    owners.sort();
    assert_eq!(owners, vec![1, 2, 3, 4]);
    // Creating again for a time in the same group returns the same group.
    let r = apply(
        &mut d,
        Command::CreateShardGroup {
            database: "db".into(),
            policy: "autogen".into(),
            timestamp: 11 * DAY - 1,
        },
    )
    .unwrap();
    assert_eq!(r, Response::Id { id: 1 });
    assert_eq!(d.max_shard_id, 2);
}

#[test]
fn negative_timestamps_floor_correctly() {
    let mut d = with_nodes(1);
    create_db(&mut d, "db");
    apply(
        &mut d,
        Command::CreateShardGroup {
            database: "db".into(),
            policy: "".into(),
            timestamp: -1,
        },
    )
    .unwrap();
    let g = &d.retention_policy("db", "").unwrap().shard_groups[0];
    assert_eq!((g.start_time, g.end_time), (-WEEK, 0));
}

#[test]
fn truncation_makes_the_next_write_open_a_new_group() {
    let mut d = with_nodes(1);
    create_db(&mut d, "db");
    let cmd = |t| Command::CreateShardGroup {
        database: "db".into(),
        policy: "".into(),
        timestamp: t,
    };
    apply(&mut d, cmd(HOUR)).unwrap();
    apply(
        &mut d,
        Command::TruncateShardGroups {
            timestamp: 2 * HOUR,
        },
    )
    .unwrap();
    let r = apply(&mut d, cmd(3 * HOUR)).unwrap();
    assert_eq!(r, Response::Id { id: 2 });
    let rp = d.retention_policy("db", "").unwrap();
    assert_eq!(rp.shard_group_for(HOUR).unwrap().id, 1);
    let g2 = rp.shard_group_for(3 * HOUR).unwrap();
    assert_eq!((g2.start_time, g2.end_time), (2 * HOUR, WEEK));
}

#[test]
fn prune_expired_marks_old_groups_deleted() {
    let mut d = with_nodes(1);
    apply(
        &mut d,
        Command::CreateDatabase {
            name: "db".into(),
            rp: Some(RetentionPolicySpec {
                name: "short".into(),
                duration: Some(HOUR),
                ..Default::default()
            }),
            retention_autocreate: true,
        },
    )
    .unwrap();
    apply(
        &mut d,
        Command::CreateShardGroup {
            database: "db".into(),
            policy: "".into(),
            timestamp: 0,
        },
    )
    .unwrap();
    apply(&mut d, Command::PruneExpired { now: HOUR + 10 }).unwrap();
    assert_eq!(
        d.retention_policy("db", "").unwrap().shard_groups[0].deleted_at,
        0
    );
    apply(&mut d, Command::PruneExpired { now: 3 * HOUR }).unwrap();
    assert_ne!(
        d.retention_policy("db", "").unwrap().shard_groups[0].deleted_at,
        0
    );
}

#[test]
fn users_and_privileges() {
    let mut d = Data::default();
    create_db(&mut d, "db0");
    let create = Command::CreateUser {
        name: "jdoe".into(),
        hash: "h".into(),
        admin: false,
    };
    apply(&mut d, create.clone()).unwrap();
    apply(&mut d, create).unwrap();
    let err = apply(
        &mut d,
        Command::CreateUser {
            name: "jdoe".into(),
            hash: "other".into(),
            admin: false,
        },
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "user already exists");
    apply(
        &mut d,
        Command::SetPrivilege {
            user: "jdoe".into(),
            database: "db0".into(),
            privilege: Privilege::Read,
        },
    )
    .unwrap();
    assert_eq!(d.user("jdoe").unwrap().privileges["db0"], Privilege::Read);
    apply(&mut d, Command::DropDatabase { name: "db0".into() }).unwrap();
    assert!(d.user("jdoe").unwrap().privileges.is_empty());
    assert_eq!(
        apply(
            &mut d,
            Command::DropUser {
                name: "noone".into()
            }
        )
        .unwrap_err()
        .to_string(),
        "user not found"
    );
}

#[test]
fn leases_expire_and_conflict() {
    let mut d = Data::default();
    let acquire = |node, now| Command::AcquireLease {
        name: "cq".into(),
        node_id: node,
        now,
        duration: 60,
    };
    apply(&mut d, acquire(1, 0)).unwrap();
    assert!(matches!(
        apply(&mut d, acquire(2, 30)),
        Err(Error::LeaseConflict { owner: 1, .. })
    ));
    // The owner renews; another node takes over after expiry.
    apply(&mut d, acquire(1, 50)).unwrap();
    assert!(apply(&mut d, acquire(2, 100)).is_err());
    let r = apply(&mut d, acquire(2, 111)).unwrap();
    assert_eq!(
        r,
        Response::Lease {
            name: "cq".into(),
            owner: 2,
            expiration: 171
        }
    );
}

#[test]
fn data_nodes_register_once_and_removal_drops_ownership() {
    let mut d = with_nodes(2);
    let again = apply(
        &mut d,
        Command::CreateDataNode {
            host: "h0:8086".into(),
            tcp_host: "h0:8088".into(),
            passive: false,
        },
    )
    .unwrap();
    assert!(matches!(again, Response::Node { node } if node.id == 1));
    create_db(&mut d, "db");
    apply(
        &mut d,
        Command::CreateShardGroup {
            database: "db".into(),
            policy: "".into(),
            timestamp: 0,
        },
    )
    .unwrap();
    apply(&mut d, Command::DeleteDataNode { id: 1 }).unwrap();
    assert!(d.shards_owned_by(1).is_empty());
    assert_eq!(
        apply(&mut d, Command::DeleteDataNode { id: 1 }),
        Err(Error::NodeNotFound)
    );
}

#[test]
fn h2_deleted_shard_groups_are_pruned_a_day_after_deletion() {
    let mut d = with_nodes(1);
    create_db(&mut d, "db");
    for t in [0, WEEK] {
        apply(
            &mut d,
            Command::CreateShardGroup {
                database: "db".into(),
                policy: "".into(),
                timestamp: t,
            },
        )
        .unwrap();
    }
    let deleted_at = 10 * WEEK;
    apply(
        &mut d,
        Command::DeleteShardGroup {
            database: "db".into(),
            policy: "".into(),
            id: 1,
            now: deleted_at,
        },
    )
    .unwrap();
    let groups = |d: &Data| -> Vec<u64> {
        d.retention_policy("db", "")
            .unwrap()
            .shard_groups
            .iter()
            .map(|g| g.id)
            .collect()
    };
    // Within the day the deletion stays visible to data nodes.
    apply(
        &mut d,
        Command::PruneExpired {
            now: deleted_at + DAY - 1,
        },
    )
    .unwrap();
    assert_eq!(groups(&d), vec![1, 2]);
    apply(
        &mut d,
        Command::PruneExpired {
            now: deleted_at + DAY + 1,
        },
    )
    .unwrap();
    assert_eq!(groups(&d), vec![2]);
    // Ids are never reused.
    assert_eq!(d.max_shard_group_id, 2);
}

#[test]
fn passive_data_nodes_never_own_shards() {
    let mut d = with_nodes(2);
    apply(
        &mut d,
        Command::CreateDataNode {
            host: "p:8086".into(),
            tcp_host: "p:8088".into(),
            passive: true,
        },
    )
    .unwrap();
    let passive = d.data_nodes.iter().find(|n| n.passive).unwrap().id;
    create_db(&mut d, "db");
    apply(
        &mut d,
        Command::UpdateRetentionPolicy {
            database: "db".into(),
            name: "autogen".into(),
            update: RetentionPolicyUpdate {
                replica_n: Some(3),
                shard_group_duration: Some(DAY),
                ..Default::default()
            },
            make_default: false,
        },
    )
    .unwrap();
    for day in 0..6 {
        apply(
            &mut d,
            Command::CreateShardGroup {
                database: "db".into(),
                policy: "".into(),
                timestamp: day * DAY,
            },
        )
        .unwrap();
    }
    let groups = &d.databases[0].retention_policies[0].shard_groups;
    assert_eq!(groups.len(), 6);
    for g in groups {
        for s in &g.shards {
            assert!(!s.owners.is_empty());
            assert!(!s.owners.contains(&passive), "{s:?}");
        }
    }
    // A cluster of passive nodes only has no owner to give.
    let mut only_passive = Data::default();
    apply(
        &mut only_passive,
        Command::CreateDataNode {
            host: "p:8086".into(),
            tcp_host: "p:8088".into(),
            passive: true,
        },
    )
    .unwrap();
    create_db(&mut only_passive, "db");
    assert!(apply(
        &mut only_passive,
        Command::CreateShardGroup {
            database: "db".into(),
            policy: "".into(),
            timestamp: 0,
        },
    )
    .is_err());
}
