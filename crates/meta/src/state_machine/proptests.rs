//! Property tests of [`apply`]: arbitrary command sequences, with times and
//! durations drawn towards the ends of the i64 range, never panic (tests
//! build with overflow checks), a refused command leaves the state exactly
//! as it was, and a created shard group contains the time it was made for.

use super::*;
use crate::command::RetentionPolicySpec;
use proptest::prelude::*;

/// Times: anywhere, and densely near both ends of the range and near 0.
fn time() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(models::MIN_NANOS),
        Just(models::MAX_NANOS),
        i64::MIN..i64::MIN + 4 * WEEK,
        i64::MAX - 4 * WEEK..=i64::MAX,
        -4 * WEEK..4 * WEEK,
    ]
}

/// Durations: the usual ones, zero, negative and huge.
fn duration() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        Just(HOUR),
        Just(DAY),
        Just(WEEK),
        Just(i64::MAX),
        Just(i64::MIN),
        any::<i64>(),
        -WEEK..4 * WEEK,
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("db0".to_string()),
        Just("db1".to_string()),
        Just("autogen".to_string()),
        Just("rp1".to_string()),
        Just(String::new()),
        Just("..".to_string()),
    ]
}

fn spec() -> impl Strategy<Value = RetentionPolicySpec> {
    (
        name(),
        proptest::option::of(duration()),
        proptest::option::of(0u32..4),
        proptest::option::of(duration()),
    )
        .prop_map(
            |(name, duration, replica_n, shard_group_duration)| RetentionPolicySpec {
                name,
                duration,
                replica_n,
                shard_group_duration,
            },
        )
}

/// Any command, sometimes wrapped in an idempotency key from a small pool
/// (so duplicates happen).
fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => plain_command(),
        1 => (prop_oneof![Just("k1"), Just("k2"), Just("")], plain_command()).prop_map(
            |(key, command)| Command::Once {
                key: key.to_string(),
                command: Box::new(command),
            }
        ),
    ]
}

fn plain_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (name(), proptest::option::of(spec()), any::<bool>()).prop_map(|(name, rp, auto)| {
            Command::CreateDatabase {
                name,
                rp,
                retention_autocreate: auto,
            }
        }),
        name().prop_map(|name| Command::DropDatabase { name }),
        (name(), spec(), any::<bool>()).prop_map(|(database, rp, make_default)| {
            Command::CreateRetentionPolicy {
                database,
                rp,
                make_default,
            }
        }),
        (
            name(),
            name(),
            proptest::option::of(duration()),
            proptest::option::of(duration()),
            any::<bool>()
        )
            .prop_map(|(database, name, duration, sgd, make_default)| {
                Command::UpdateRetentionPolicy {
                    database,
                    name,
                    update: crate::command::RetentionPolicyUpdate {
                        duration,
                        replica_n: None,
                        shard_group_duration: sgd,
                    },
                    make_default,
                }
            }),
        (name(), name())
            .prop_map(|(database, name)| Command::DropRetentionPolicy { database, name }),
        (name(), name(), time()).prop_map(|(database, policy, timestamp)| {
            Command::CreateShardGroup {
                database,
                policy,
                timestamp,
            }
        }),
        (name(), name(), 0u64..6, time()).prop_map(|(database, policy, id, now)| {
            Command::DeleteShardGroup {
                database,
                policy,
                id,
                now,
            }
        }),
        time().prop_map(|timestamp| Command::TruncateShardGroups { timestamp }),
        (0u64..8).prop_map(|id| Command::DropShard { id }),
        time().prop_map(|now| Command::PruneExpired { now }),
        (0u64..4).prop_map(|id| Command::DeleteDataNode { id }),
        (0u64..4).prop_map(|i| Command::CreateDataNode {
            host: format!("h{i}:8086"),
            tcp_host: format!("h{i}:8088"),
            passive: false,
        }),
        (name(), 0u64..4, time(), duration()).prop_map(|(name, node_id, now, duration)| {
            Command::AcquireLease {
                name,
                node_id,
                now,
                duration,
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn m2_apply_never_panics_and_errors_change_nothing(
        cmds in proptest::collection::vec(command(), 1..40)
    ) {
        let mut d = Data::default();
        for i in 0..2 {
            apply(&mut d, Command::CreateDataNode {
                host: format!("n{i}:8086"),
                tcp_host: format!("n{i}:8088"),
                passive: false,
            }).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        for cmd in cmds {
            let before = d.clone();
            let inner = match &cmd {
                Command::Once { command, .. } => command.as_ref(),
                c => c,
            };
            let created_for = match inner {
                Command::CreateShardGroup { database, policy, timestamp } => {
                    Some((database.clone(), policy.clone(), *timestamp))
                }
                _ => None,
            };
            let replay = matches!(&cmd, Command::Once { key, .. }
                if before.applied_keys.iter().any(|a| &a.key == key));
            match apply(&mut d, cmd) {
                Err(_) => prop_assert_eq!(&before, &d),
                Ok(resp) => {
                    prop_assert_eq!(d.index, before.index + 1);
                    if replay {
                        // A duplicate changes nothing but the index.
                        let mut expect = before.clone();
                        expect.index += 1;
                        prop_assert_eq!(&expect, &d);
                        continue;
                    }
                    if let (Some((db, rp, t)), Response::Id { id }) = (created_for, resp) {
                        let rp = d.retention_policy(&db, &rp).expect("policy of a new group");
                        let g = rp.shard_group_for(t).map(|g| g.id);
                        prop_assert_eq!(g, Some(id), "group {} must contain {}", id, t);
                    }
                }
            }
        }
    }
}

#[test]
fn m2_shard_groups_near_the_time_extremes_do_not_overflow() {
    let mut d = Data::default();
    apply(
        &mut d,
        Command::CreateDataNode {
            host: "h:8086".into(),
            tcp_host: "h:8088".into(),
            passive: false,
        },
    )
    .unwrap();
    apply(
        &mut d,
        Command::CreateDatabase {
            name: "db".into(),
            rp: None,
            retention_autocreate: true,
        },
    )
    .unwrap();
    let create = |d: &mut Data, t| {
        apply(
            d,
            Command::CreateShardGroup {
                database: "db".into(),
                policy: String::new(),
                timestamp: t,
            },
        )
    };
    // The audit's reproducer: a point at MIN_NANOS + 1 in a 7-day policy.
    let t = models::MIN_NANOS + 1;
    let first = create(&mut d, t).unwrap();
    // Writing it again finds the same group instead of appending another.
    assert_eq!(create(&mut d, t).unwrap(), first);
    let rp = d.retention_policy("db", "").unwrap();
    assert_eq!(rp.shard_groups.len(), 1);
    let g = &rp.shard_groups[0];
    assert_eq!(g.start_time, i64::MIN);
    assert!(g.contains(t) && g.end_time > g.start_time);
    // The last representable time gets a clipped group too.
    let last = create(&mut d, models::MAX_NANOS).unwrap();
    let rp = d.retention_policy("db", "").unwrap();
    let Response::Id { id } = last else {
        panic!("{last:?}")
    };
    assert_eq!(
        rp.shard_group_for(models::MAX_NANOS).map(|g| g.id),
        Some(id)
    );
    // Times no group can hold are refused with InfluxDB's text.
    let before = d.clone();
    for t in [i64::MIN, i64::MIN + 1, i64::MAX] {
        let err = create(&mut d, t).unwrap_err();
        assert_eq!(err, Error::TimeOutOfRange);
        assert!(err.to_string().starts_with("time outside range"));
    }
    assert_eq!(before, d);
}

#[test]
fn m2_group_slot_clips_instead_of_overflowing() {
    assert_eq!(group_slot(-1, WEEK), Some((-WEEK, 0)));
    assert_eq!(group_slot(5, HOUR), Some((0, HOUR)));
    let (s, e) = group_slot(i64::MIN, WEEK).unwrap();
    assert_eq!(s, i64::MIN);
    assert!(e > s && e - s <= WEEK);
    let (s, e) = group_slot(i64::MAX - 1, WEEK).unwrap();
    assert_eq!(e, i64::MAX);
    assert!(s < i64::MAX);
    assert_eq!(group_slot(i64::MAX, WEEK), None);
    assert_eq!(group_slot(0, i64::MAX), Some((0, i64::MAX)));
    assert_eq!(group_slot(-1, i64::MAX).map(|s| s.0), Some(-i64::MAX));
}

/// M3's ABA: DROP DATABASE times out, the database is created again, then
/// the first drop's retry (or late commit) arrives: it must not drop the new
/// database, and it answers what the first application answered.
#[test]
fn m3_a_retried_drop_database_does_not_drop_a_recreated_database() {
    let mut d = Data::default();
    let create = Command::CreateDatabase {
        name: "x".into(),
        rp: None,
        retention_autocreate: true,
    };
    apply(&mut d, create.clone()).unwrap();
    let drop = Command::Once {
        key: "4f1c9a0e8d7b6a5c4f1c9a0e8d7b6a5c".into(),
        command: Box::new(Command::DropDatabase { name: "x".into() }),
    };
    assert_eq!(apply(&mut d, drop.clone()), Ok(Response::None));
    assert!(d.database("x").is_none());
    apply(&mut d, create).unwrap();
    assert_eq!(apply(&mut d, drop), Ok(Response::None));
    assert!(
        d.database("x").is_some(),
        "the retried drop dropped x again"
    );

    // A duplicate answers the first response (the node a retry registered).
    let register = Command::Once {
        key: "k".into(),
        command: Box::new(Command::CreateDataNode {
            host: "a:8086".into(),
            tcp_host: "a:8088".into(),
            passive: false,
        }),
    };
    let first = apply(&mut d, register.clone()).unwrap();
    assert_eq!(apply(&mut d, register).unwrap(), first);
    // Keys are bounded.
    for i in 0..MAX_APPLIED_KEYS + 5 {
        apply(
            &mut d,
            Command::Once {
                key: format!("{i}"),
                command: Box::new(Command::PruneExpired { now: 1 }),
            },
        )
        .unwrap();
    }
    assert_eq!(d.applied_keys.len(), MAX_APPLIED_KEYS);
    let long = Command::Once {
        key: "k".repeat(MAX_KEY_BYTES + 1),
        command: Box::new(Command::PruneExpired { now: 1 }),
    };
    assert_eq!(apply(&mut d, long), Err(Error::InvalidRequestKey));
}
