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

fn command() -> impl Strategy<Value = Command> {
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
            let created_for = match &cmd {
                Command::CreateShardGroup { database, policy, timestamp } => {
                    Some((database.clone(), policy.clone(), *timestamp))
                }
                _ => None,
            };
            match apply(&mut d, cmd) {
                Err(_) => prop_assert_eq!(&before, &d),
                Ok(resp) => {
                    prop_assert_eq!(d.index, before.index + 1);
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
