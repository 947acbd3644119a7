//! Power-loss tests: the engine runs on `vfs::crash::CrashFs`, the power is
//! cut (everything not fsynced, and every directory entry whose directory
//! was not fsynced afterwards, is dropped), and a store reopened on what
//! remains must hold every acknowledged write and honour every acknowledged
//! DELETE. Also the WAL under injected write and fsync errors (L1).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use models::{Column, Point, TimeRange};

use super::{cfg, fpt, read_all};
use crate::vfs::crash::{CrashFs, Op};
use crate::{SharedVfs, Store, TagPredicate};

/// Opens a store on `root` through `fs`.
fn open(root: &Path, fs: &CrashFs) -> crate::Result<Store> {
    let mut c = cfg(root);
    // snapshots and compactions only when the test asks, so a seed replays
    c.cache_snapshot_memory_size = u64::MAX;
    Store::open_with_vfs(c, Arc::new(fs.clone()) as SharedVfs)
}

/// Materialises `image` in a fresh directory and opens a store on it.
fn recover(image: &crate::vfs::crash::Image, dir: &Path) -> (Store, CrashFs) {
    image.write_to(dir).unwrap();
    let fs = CrashFs::new(dir).unwrap();
    let store = open(dir, &fs).unwrap();
    (store, fs)
}

/// host -> time -> value, read back from shard 1 (empty when absent).
fn contents(store: &Store) -> BTreeMap<String, BTreeMap<i64, f64>> {
    let mut out = BTreeMap::new();
    let Some(s) = store.shard(1) else {
        return out;
    };
    for info in s.series("cpu", &TagPredicate::True) {
        let host = info.tags[0].1.clone();
        let (t, v) = read_all(&s, &host, "value", TimeRange::ALL);
        let Column::Float(v) = v else { panic!("type") };
        out.insert(host, t.into_iter().zip(v).collect());
    }
    out
}

#[derive(Debug)]
enum Event {
    Write(Vec<(String, i64, f64)>),
    Delete(String, TimeRange),
}

/// What happened, and whether each event was acknowledged before the cut
/// (`Some(true)`), failed (`Some(false)`), or was in flight / unknown (`None`).
type History = Vec<(Event, Option<bool>)>;

/// Checks `got` against `history`: every acknowledged point not deleted by
/// a later acknowledged delete is there with its value; every point deleted
/// by a later acknowledged delete is gone; nothing is there that was never
/// written.
fn check(history: &History, got: &BTreeMap<String, BTreeMap<i64, f64>>, ctx: &str) {
    let mut written: BTreeMap<(String, i64), f64> = BTreeMap::new();
    for (i, (e, acked)) in history.iter().enumerate() {
        let Event::Write(pts) = e else { continue };
        for (h, t, v) in pts {
            written.insert((h.clone(), *t), *v);
            if *acked != Some(true) {
                continue;
            }
            let mut must = Some(true);
            for (later, a) in &history[i + 1..] {
                if let Event::Delete(dh, r) = later {
                    if dh == h && r.contains(*t) {
                        match a {
                            Some(true) => must = Some(false),
                            // a delete that failed or was in flight may
                            // have been applied (its WAL record made durable)
                            _ if must == Some(true) => must = None,
                            _ => {}
                        }
                    }
                }
            }
            let have = got.get(h).and_then(|m| m.get(t));
            match must {
                Some(true) => assert_eq!(
                    have,
                    Some(v),
                    "{ctx}: acknowledged point {h}@{t} lost (event {i})"
                ),
                Some(false) => assert_eq!(
                    have, None,
                    "{ctx}: point {h}@{t} came back after an acknowledged delete"
                ),
                None => {}
            }
        }
    }
    for (h, m) in got {
        for (t, v) in m {
            assert_eq!(
                written.get(&(h.clone(), *t)),
                Some(v),
                "{ctx}: {h}@{t} was never written"
            );
        }
    }
}

fn rng(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move |n| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % n.max(1)
    }
}

/// Runs a random workload (writes, deletes, DROP SERIES, snapshots,
/// compactions, clean reopens) until the power is cut, and returns what
/// happened. With `faults`, once the shard exists every kind of change
/// fails now and then (and the store is not reopened).
fn workload(root: &Path, fs: &CrashFs, seed: u64, steps: usize, faults: bool) -> History {
    let mut rnd = rng(seed);
    let hosts = ["a", "b", "c"];
    let mut history: History = Vec::new();
    let mut next_t = 0i64;
    let Ok(mut store) = open(root, fs) else {
        return history;
    };
    if store.create_shard("db", "rp", 1).is_err() {
        return history;
    }
    if faults {
        for (op, one_in) in [
            (Op::Write, 40),
            (Op::Sync, 30),
            (Op::SetLen, 10),
            (Op::Create, 40),
            (Op::Rename, 10),
            (Op::Remove, 10),
            (Op::SyncDir, 30),
        ] {
            fs.fail(op, "", u64::MAX, one_in);
        }
    }
    for _ in 0..steps {
        if fs.is_off() {
            break;
        }
        let Ok(s) = store.create_shard("db", "rp", 1) else {
            break;
        };
        let (event, res) = match rnd(16) {
            0..=7 => {
                let n = 1 + rnd(20) as usize;
                let pts: Vec<(String, i64, f64)> = (0..n)
                    .map(|_| {
                        next_t += 1 + rnd(3) as i64;
                        let h = hosts[rnd(3) as usize].to_string();
                        (h, next_t, next_t as f64 * 0.5)
                    })
                    .collect();
                let points: Vec<Point> = pts.iter().map(|(h, t, v)| fpt(h, *v, *t)).collect();
                let res = s.write_points(&points);
                (Some(Event::Write(pts)), res)
            }
            8 | 9 => {
                let h = hosts[rnd(3) as usize];
                let a = rnd(next_t as u64 + 1) as i64;
                let r = TimeRange::new(a, a + rnd(40) as i64);
                match s.series_by_key(&format!("cpu,host={h}")) {
                    Some(info) => (
                        Some(Event::Delete(h.to_string(), r)),
                        s.delete(&[info.id], r),
                    ),
                    None => (None, Ok(())),
                }
            }
            10 => {
                let h = hosts[rnd(3) as usize];
                match s.series_by_key(&format!("cpu,host={h}")) {
                    Some(info) => (
                        Some(Event::Delete(h.to_string(), TimeRange::ALL)),
                        s.delete(&[info.id], TimeRange::ALL),
                    ),
                    None => (None, Ok(())),
                }
            }
            11 | 12 => (None, s.flush()),
            13 => (None, s.compact(false).map(|_| ())),
            14 => (None, s.compact(true).map(|_| ())),
            _ if faults => (None, s.flush()),
            _ => {
                drop(s);
                let _ = store.close();
                match open(root, fs) {
                    Ok(st) => store = st,
                    Err(_) => break,
                }
                (None, Ok(()))
            }
        };
        if let Some(e) = event {
            // Acknowledged only if it returned Ok while the power was on.
            let acked = match &res {
                Ok(()) if !fs.is_off() => Some(true),
                Ok(()) => None,
                Err(_) if fs.is_off() => None,
                Err(_) => Some(false),
            };
            history.push((e, acked));
        }
    }
    drop(store);
    history
}

/// Issue 10 "Power loss": at many seeded random points of a random
/// workload, cut the power (strict, and torn: partial unsynced tails, zero
/// fill, some unsynced directory changes) and check that every acknowledged
/// write and DELETE survives. Half the seeds also inject errors into every
/// kind of file-system change (failed snapshots, compactions, tombstones,
/// WAL groups must never cost an acknowledged write or delete).
#[test]
fn power_loss_keeps_every_acknowledged_write_and_delete() {
    let mut cuts = 0;
    for seed in 0..64u64 {
        let d = tempfile::tempdir().unwrap();
        let live = d.path().join("live");
        let fs = CrashFs::new(&live).unwrap();
        let mut rnd = rng(seed ^ 0xabcdef);
        let torn = (seed % 2 == 1).then_some(seed);
        fs.cut_before(1 + rnd(400), torn);
        let mut history = workload(&live, &fs, seed, 60, seed % 4 >= 2);
        let image = fs.power_cut(torn);
        let (store, fs2) = recover(&image, &d.path().join("after"));
        let ctx = format!("seed {seed} torn {torn:?}");
        check(&history, &contents(&store), &ctx);
        // What recovery repaired (torn tails truncated, leftovers removed)
        // is durable too: write once more, cut again, recover again.
        let s = store.create_shard("db", "rp", 1).unwrap();
        s.write_points(&[fpt("z", 1.0, 1)]).unwrap();
        history.push((Event::Write(vec![("z".into(), 1, 1.0)]), Some(true)));
        let image = fs2.power_cut(None);
        drop(s);
        drop(store);
        let (store, _fs3) = recover(&image, &d.path().join("after2"));
        check(&history, &contents(&store), &format!("{ctx}, second cut"));
        cuts += 1;
    }
    assert_eq!(cuts, 64);
}

/// L2: the first acknowledged writes to a new shard survive a power loss
/// only if every directory level created for it (`<dir>/<db>/<rp>/<id>`,
/// and the WAL's) was made durable in its parent.
#[test]
fn l2_first_writes_to_a_new_shard_survive_power_loss() {
    let d = tempfile::tempdir().unwrap();
    let live = d.path().join("live");
    let fs = CrashFs::new(&live).unwrap();
    let store = open(&live, &fs).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    s.write_points(&[fpt("a", 1.0, 1)]).unwrap();
    let image = fs.power_cut(None);
    drop(s);
    drop(store);
    let (store, _fs) = recover(&image, &d.path().join("after"));
    let got = contents(&store);
    assert_eq!(got["a"][&1], 1.0, "{got:?}");
}

/// L2: an acknowledged DELETE that created a data file's tombstone file
/// survives a power loss (the new file's directory entry is fsynced).
#[test]
fn l2_acknowledged_delete_in_a_new_tombstone_file_survives_power_loss() {
    let d = tempfile::tempdir().unwrap();
    let live = d.path().join("live");
    let fs = CrashFs::new(&live).unwrap();
    let store = open(&live, &fs).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    let pts: Vec<Point> = (0..10).map(|i| fpt("a", i as f64, i)).collect();
    s.write_points(&pts).unwrap();
    s.flush().unwrap(); // values in a data file; the WAL segments are gone
    let id = s.series_by_key("cpu,host=a").unwrap().id;
    s.delete(&[id], TimeRange::new(2, 5)).unwrap();
    let image = fs.power_cut(None);
    drop(s);
    drop(store);
    let (store, _fs) = recover(&image, &d.path().join("after"));
    let got = contents(&store);
    let times: Vec<i64> = got["a"].keys().copied().collect();
    assert_eq!(times, vec![0, 1, 6, 7, 8, 9]);
}

/// L1: more than 64 consecutive failed commit groups (fsync errors), then
/// successes: every failed write returned an error and is gone after a
/// power loss, every acknowledged one is there.
#[test]
fn l1_injected_wal_fsync_errors_never_acknowledge_a_lost_write() {
    let d = tempfile::tempdir().unwrap();
    let live = d.path().join("live");
    let fs = CrashFs::new(&live).unwrap();
    let store = open(&live, &fs).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    s.write_points(&[fpt("a", 0.0, 0)]).unwrap();
    fs.fail(Op::Sync, ".wal", 100, 1);
    let mut history: History = vec![(Event::Write(vec![("a".into(), 0, 0.0)]), Some(true))];
    for t in 1..=150i64 {
        let res = s.write_points(&[fpt("a", t as f64, t)]);
        assert_eq!(res.is_ok(), t > 100, "write {t}: {res:?}");
        history.push((
            Event::Write(vec![("a".into(), t, t as f64)]),
            Some(res.is_ok()),
        ));
    }
    let image = fs.power_cut(None);
    drop(s);
    drop(store);
    let (store, _fs) = recover(&image, &d.path().join("after"));
    let got = contents(&store);
    check(&history, &got, "sequential");
    let want: Vec<i64> = std::iter::once(0).chain(101..=150).collect();
    assert_eq!(got["a"].keys().copied().collect::<Vec<_>>(), want);
}

/// L1 with concurrent writers sharing commit groups while a third of the
/// WAL writes and fsyncs (and some index fsyncs) fail: exactly the
/// acknowledged writes survive a power loss.
#[test]
fn l1_concurrent_writers_under_injected_errors_get_honest_answers() {
    let d = tempfile::tempdir().unwrap();
    let live = d.path().join("live");
    let fs = CrashFs::new(&live).unwrap();
    let store = open(&live, &fs).unwrap();
    let s = store.create_shard("db", "rp", 1).unwrap();
    fs.fail(Op::Sync, ".wal", u64::MAX, 3);
    fs.fail(Op::Write, ".wal", u64::MAX, 5);
    fs.fail(Op::Sync, "index.log", u64::MAX, 7);
    let threads: Vec<_> = (0..6)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..40i64)
                    .map(|i| {
                        let t = w * 1000 + i;
                        let h = format!("w{w}");
                        let ok = s.write_points(&[fpt(&h, t as f64, t)]).is_ok();
                        (h, t, ok)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut history: History = Vec::new();
    for t in threads {
        for (h, time, ok) in t.join().unwrap() {
            history.push((Event::Write(vec![(h, time, time as f64)]), Some(ok)));
        }
    }
    let (ok, failed) = history.iter().fold((0, 0), |(o, f), (_, a)| {
        if *a == Some(true) {
            (o + 1, f)
        } else {
            (o, f + 1)
        }
    });
    assert!(ok > 20 && failed > 20, "ok {ok} failed {failed}");
    fs.clear_faults();
    let image = fs.power_cut(None);
    drop(s);
    drop(store);
    let (store, _fs) = recover(&image, &d.path().join("after"));
    let got = contents(&store);
    check(&history, &got, "concurrent");
    // strict power loss: a write that got an error is not there either
    for (e, acked) in &history {
        if let (Event::Write(p), Some(false)) = (e, acked) {
            let (h, t, _) = &p[0];
            assert!(
                got.get(h).and_then(|m| m.get(t)).is_none(),
                "failed write {h}@{t} is durable"
            );
        }
    }
}

/// Power loss while three writers (each with its own series, deleting some
/// of its own earlier points), snapshots (explicit, and the background
/// thread's with a small threshold) and compactions run concurrently: every write and
/// DELETE acknowledged before the cut survives.
#[test]
fn power_loss_during_concurrent_writes_snapshots_and_compactions() {
    for seed in 0..12u64 {
        let d = tempfile::tempdir().unwrap();
        let live = d.path().join("live");
        let fs = CrashFs::new(&live).unwrap();
        let mut rnd = rng(seed ^ 0x5eed);
        let torn = (seed % 3 == 2).then_some(seed);
        fs.cut_before(40 + rnd(600), torn);
        let mut c = cfg(&live);
        c.cache_snapshot_memory_size = 4 * 1024;
        let Ok(store) = Store::open_with_vfs(c, Arc::new(fs.clone()) as SharedVfs) else {
            continue;
        };
        let Ok(s) = store.create_shard("db", "rp", 1) else {
            continue;
        };
        let writers: Vec<_> = (0..3i64)
            .map(|w| {
                let (s, fs) = (s.clone(), fs.clone());
                std::thread::spawn(move || {
                    let host = format!("w{w}");
                    let mut history: History = Vec::new();
                    let acked = |res: &crate::Result<()>| match res {
                        Ok(()) if !fs.is_off() => Some(true),
                        Err(_) if !fs.is_off() => Some(false),
                        _ => None,
                    };
                    for b in 0..200i64 {
                        if fs.is_off() {
                            break;
                        }
                        let pts: Vec<(String, i64, f64)> = (0..10)
                            .map(|i| (host.clone(), b * 10 + i, (w * 100_000 + b * 10 + i) as f64))
                            .collect();
                        let points: Vec<Point> =
                            pts.iter().map(|(h, t, v)| fpt(h, *v, *t)).collect();
                        let res = s.write_points(&points);
                        history.push((Event::Write(pts), acked(&res)));
                        if b % 7 == 6 {
                            if let Some(info) = s.series_by_key(&format!("cpu,host={host}")) {
                                let r = TimeRange::new(b * 10 - 25, b * 10 - 18);
                                let res = s.delete(&[info.id], r);
                                history.push((Event::Delete(host.clone(), r), acked(&res)));
                            }
                        }
                    }
                    history
                })
            })
            .collect();
        // snapshots and compactions run while the writers write
        let mut round = 0u64;
        while !writers.iter().all(|w| w.is_finished()) {
            let _ = if round % 3 == 2 {
                s.compact(false).map(|_| ())
            } else {
                s.flush()
            };
            round += 1;
            std::thread::sleep(std::time::Duration::from_micros(300));
        }
        let history: History = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        let image = fs.power_cut(torn);
        drop(s);
        drop(store);
        let (store, _fs) = recover(&image, &d.path().join("after"));
        check(
            &history,
            &contents(&store),
            &format!("concurrent seed {seed} torn {torn:?}"),
        );
    }
}

/// WAL segments are removed oldest first, each removal durable before the
/// next: were a newer segment's removal to reach the disk while an older
/// one survived, replay would apply the older segment's writes without the
/// newer segment's DELETE, and deleted values would come back. Here the
/// written value and its delete sit in two segments (a failed commit group
/// abandoned the first), a snapshot then removes both and the directory
/// fsync after the removals fails; the unsynced removals reach the disk in
/// any order.
#[test]
fn wal_segments_are_removed_oldest_first_so_deletes_stay_applied() {
    for seed in 0..48u64 {
        let d = tempfile::tempdir().unwrap();
        let live = d.path().join("live");
        let fs = CrashFs::new(&live).unwrap();
        let store = open(&live, &fs).unwrap();
        let s = store.create_shard("db", "rp", 1).unwrap();
        s.write_points(&[fpt("a", 1.0, 1), fpt("a", 2.0, 2)])
            .unwrap();
        fs.fail(Op::Sync, ".wal", 1, 1);
        assert!(s.write_points(&[fpt("a", 3.0, 3)]).is_err());
        let id = s.series_by_key("cpu,host=a").unwrap().id;
        s.delete(&[id], TimeRange::new(1, 1)).unwrap();
        // the snapshot's WAL roll syncs the directory once; fail the next one
        fs.fail_after(Op::SyncDir, "wal/db", 1, 1, 1);
        let _ = s.flush();
        let image = fs.power_cut(Some(seed));
        drop(s);
        drop(store);
        let (store, _fs) = recover(&image, &d.path().join("after"));
        let got = contents(&store);
        let times: Vec<i64> = got
            .get("a")
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        assert!(
            !times.contains(&1),
            "seed {seed}: deleted value is back: {times:?}"
        );
        assert!(
            times.contains(&2),
            "seed {seed}: acknowledged value lost: {times:?}"
        );
    }
}

/// A compaction whose inputs were entirely deleted publishes an empty
/// output and must remove the inputs (and their tombstones) durably before
/// removing that output: otherwise an input could come back without its
/// tombstones and nothing superseding it. The directory fsync after the
/// removals fails here, and the unsynced removals reach the disk in any
/// order.
#[test]
fn compaction_with_an_empty_output_keeps_deleted_values_deleted() {
    for seed in 0..48u64 {
        let d = tempfile::tempdir().unwrap();
        let live = d.path().join("live");
        let fs = CrashFs::new(&live).unwrap();
        let store = open(&live, &fs).unwrap();
        let s = store.create_shard("db", "rp", 1).unwrap();
        for f in 0..2i64 {
            let pts: Vec<Point> = (1..=10).map(|i| fpt("a", 1.0, f * 10 + i)).collect();
            s.write_points(&pts).unwrap();
            s.flush().unwrap();
        }
        let id = s.series_by_key("cpu,host=a").unwrap().id;
        s.delete(&[id], TimeRange::new(1, 20)).unwrap();
        // publishing the output syncs the directory once; fail the next one
        fs.fail_after(Op::SyncDir, "data/db", 1, 1, 1);
        let _ = s.compact(true);
        let image = fs.power_cut(Some(seed));
        drop(s);
        drop(store);
        let (store, _fs) = recover(&image, &d.path().join("after"));
        let got = contents(&store);
        assert!(
            got.get("a").is_none_or(|m| m.is_empty()),
            "seed {seed}: deleted values are back: {got:?}"
        );
    }
}

/// A snapshot whose data file was renamed into place but whose directory
/// fsync failed leaves the shard not knowing which files the next open
/// loads (that file, if its entry reached the disk, would miss the
/// tombstones of every later delete). The shard then refuses writes and
/// deletes until a restart, says so in `failed_shards`, and whatever the
/// disk kept, the acknowledged writes are there after recovery.
#[test]
fn a_failed_directory_fsync_after_publishing_stops_writes_until_restart() {
    for seed in 0..16u64 {
        let d = tempfile::tempdir().unwrap();
        let live = d.path().join("live");
        let fs = CrashFs::new(&live).unwrap();
        let store = open(&live, &fs).unwrap();
        let s = store.create_shard("db", "rp", 1).unwrap();
        let pts: Vec<Point> = (1..=5).map(|i| fpt("a", i as f64, i)).collect();
        s.write_points(&pts).unwrap();
        fs.fail(Op::SyncDir, "data/db", 1, 1);
        assert!(s.flush().is_err());
        let e = s.write_points(&[fpt("a", 9.0, 9)]).unwrap_err().to_string();
        assert!(
            e.starts_with("shard 1 is unavailable: cache snapshot failed"),
            "{e}"
        );
        let id = s.series_by_key("cpu,host=a").unwrap().id;
        assert!(s.delete(&[id], TimeRange::new(1, 2)).is_err());
        assert_eq!(store.failed_shards().len(), 1);
        // reads still answer from memory
        assert_eq!(
            read_all(&s, "a", "value", TimeRange::ALL).0,
            vec![1, 2, 3, 4, 5]
        );
        let torn = (seed % 2 == 1).then_some(seed);
        let image = fs.power_cut(torn);
        drop(s);
        drop(store);
        let (store, _fs) = recover(&image, &d.path().join("after"));
        assert!(store.failed_shards().is_empty(), "a restart clears it");
        let got = contents(&store);
        let times: Vec<i64> = got["a"].keys().copied().collect();
        assert_eq!(times, vec![1, 2, 3, 4, 5], "seed {seed}");
        let s = store.shard(1).unwrap();
        s.write_points(&[fpt("a", 9.0, 9)]).unwrap();
    }
}
