//! The write-ahead log of one shard: numbered segment files, group commit and
//! replay. Knows nothing of what records mean (see `walrecord`).
//!
//! # Byte layout
//!
//! Directory `<wal_dir>/<db>/<rp>/<shard id>/` holds segments named
//! `{id:08}.wal` (decimal, increasing). A segment is a sequence of records:
//!
//! ```text
//! [len u32 LE][crc32 (IEEE) of payload u32 LE][payload: len bytes]
//! ```
//!
//! A segment is closed (a new one started) once it exceeds ~10 MB or when the
//! shard begins a snapshot; a record never spans two segments.
//!
//! # Group commit
//!
//! `commit` appends the framed record to a shared buffer. The first caller that
//! finds no leader becomes the leader: it (optionally) waits `fsync_delay` so
//! more writers can join, takes the whole buffer, runs the caller-supplied
//! `pre_sync` hook (the shard fsyncs its series index there), writes the
//! buffer and fsyncs once; then every caller whose record was in that buffer
//! returns. If the write or fsync fails, every writer of that group gets
//! the error (a failed group is remembered until each of its writers has
//! taken it, so it can never turn into an acknowledgement), the segment is abandoned (its tail may hold a partial record,
//! which replay skips) and the next group starts a new segment.
//!
//! # Replay
//!
//! Segments are read in order. A torn record (truncated header or payload) or
//! a checksum mismatch ends the segment: in the last segment the file is
//! truncated there (the tail was never acknowledged); in an earlier segment
//! the rest of that segment is skipped with an error log. New writes always go
//! to a fresh segment. Segments are removed oldest first, each removal
//! durable before the next, so replay never sees a segment without the
//! newer ones (a DELETE must not lose to the writes it deleted).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::bytes::{frame, next_frame, Framed};
use crate::error::{Error, Result};
use crate::vfs::{self, SharedVfs, Vfs, VfsFile};

/// Segment size after which the leader starts a new segment.
pub(crate) const SEGMENT_SIZE: u64 = 10 * 1024 * 1024;

struct Segment {
    id: u64,
    file: Box<dyn VfsFile>,
    size: u64,
}

/// A commit group whose write or fsync failed: records `(lo, hi]`, kept
/// until each of its writers has taken the error.
struct FailedGroup {
    lo: u64,
    hi: u64,
    error: String,
    /// Writers of the group that have not yet returned.
    unclaimed: u64,
}

/// The outcome of every record handed to a leader. Groups are settled in
/// sequence order; every record has exactly one writer waiting for it, and
/// a failed group is forgotten only once all its writers took their error,
/// so no number of later groups (failed or not) can turn a failure into an
/// acknowledgement. Memory is bounded by the writers currently waiting.
#[derive(Default)]
struct Outcomes {
    /// Records up to this sequence number have an outcome.
    settled: u64,
    failed: Vec<FailedGroup>,
}

impl Outcomes {
    /// Records the outcome of the group `(lo, hi]`.
    fn settle(&mut self, lo: u64, hi: u64, res: std::result::Result<(), String>) {
        debug_assert_eq!(lo, self.settled, "groups settle in order");
        if let Err(error) = res {
            self.failed.push(FailedGroup {
                lo,
                hi,
                error,
                unclaimed: hi - lo,
            });
        }
        self.settled = hi;
    }

    /// The outcome of record `me` for its (single) writer, once settled.
    fn take(&mut self, me: u64) -> Option<Result<()>> {
        if self.settled < me {
            return None;
        }
        let Some(i) = self.failed.iter().position(|g| g.lo < me && me <= g.hi) else {
            return Some(Ok(()));
        };
        let g = &mut self.failed[i];
        g.unclaimed -= 1;
        let err = Error::WalFailed(g.error.clone());
        if g.unclaimed == 0 {
            self.failed.swap_remove(i);
        }
        Some(Err(err))
    }
}

struct State {
    buf: Vec<u8>,
    spare: Vec<u8>,
    /// Sequence number of the last record appended to `buf`.
    appended: u64,
    /// Records up to this sequence number were handed to a leader.
    taken: u64,
    outcomes: Outcomes,
    leader: bool,
    /// The open segment (None after a failed write: the next group starts a new one).
    segment: Option<Segment>,
    last_id: u64,
}

pub(crate) struct Wal {
    vfs: SharedVfs,
    dir: PathBuf,
    state: Mutex<State>,
    cond: Condvar,
    fsync_delay: Duration,
    /// Bytes in all segment files (for statistics).
    bytes: AtomicU64,
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:08}.wal"))
}

/// Segment ids present in `dir`, ascending.
fn list_segments(dir: &Path) -> Result<Vec<u64>> {
    let mut ids = Vec::new();
    for e in fs::read_dir(dir)? {
        let name = e?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = name
            .strip_suffix(".wal")
            .and_then(|s| s.parse::<u64>().ok())
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

fn create_segment(vfs: &dyn Vfs, dir: &Path, id: u64) -> Result<Segment> {
    let file = vfs.create(&segment_path(dir, id))?;
    vfs.sync_dir(dir)?;
    Ok(Segment { id, file, size: 0 })
}

impl Wal {
    /// Replays every segment in `dir` through `on_record` (in order), then
    /// opens a fresh segment for new writes.
    pub(crate) fn open(
        vfs: SharedVfs,
        dir: &Path,
        fsync_delay: Duration,
        mut on_record: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<Wal> {
        vfs::create_dir_all(&*vfs, dir)?;
        let ids = list_segments(dir)?;
        let mut total = 0u64;
        let mut empty = Vec::new();
        for (n, &id) in ids.iter().enumerate() {
            let path = segment_path(dir, id);
            let data = fs::read(&path)?;
            if data.is_empty() {
                // Opened and never written (a start without writes): nothing
                // to replay or keep.
                empty.push(path);
                continue;
            }
            let last = n + 1 == ids.len();
            let mut pos = 0usize;
            let good_end = loop {
                match next_frame(&data, &mut pos) {
                    Framed::Record(p) => on_record(p)?,
                    Framed::End => break None,
                    Framed::Torn | Framed::BadChecksum => break Some(pos),
                }
            };
            if let Some(end) = good_end {
                if last {
                    tracing::warn!(path = %path.display(), offset = end, "truncating torn WAL tail");
                    let f = vfs.open_write(&path)?;
                    f.set_len(end as u64)?;
                    f.sync_all()?;
                } else {
                    tracing::error!(path = %path.display(), offset = end, "corrupt WAL record; skipping rest of segment");
                }
            }
            total += good_end.unwrap_or(data.len()) as u64;
        }
        for p in &empty {
            vfs.remove_file(p)?;
        }
        if !empty.is_empty() {
            vfs.sync_dir(dir)?;
        }
        let next = ids.last().map_or(1, |l| l + 1);
        let segment = create_segment(&*vfs, dir, next)?;
        Ok(Wal {
            vfs,
            dir: dir.to_path_buf(),
            state: Mutex::new(State {
                buf: Vec::new(),
                spare: Vec::new(),
                appended: 0,
                taken: 0,
                outcomes: Outcomes::default(),
                leader: false,
                last_id: segment.id,
                segment: Some(segment),
            }),
            cond: Condvar::new(),
            fsync_delay,
            bytes: AtomicU64::new(total),
        })
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Appends `payload` as one record and returns once it is fsynced.
    pub(crate) fn commit(&self, payload: &[u8], pre_sync: &dyn Fn() -> Result<()>) -> Result<()> {
        let mut st = self.state.lock();
        frame(&mut st.buf, payload);
        st.appended += 1;
        let me = st.appended;
        loop {
            if let Some(res) = st.outcomes.take(me) {
                return res;
            }
            if st.leader {
                self.cond.wait(&mut st);
                continue;
            }
            st.leader = true;
            if !self.fsync_delay.is_zero() {
                MutexGuard::unlocked(&mut st, || std::thread::sleep(self.fsync_delay));
            }
            let spare = std::mem::take(&mut st.spare);
            let mut buf = std::mem::replace(&mut st.buf, spare);
            let (lo, target) = (st.taken, st.appended);
            st.taken = target;
            let mut seg = st.segment.take();
            let next_id = st.last_id + 1;
            let res = MutexGuard::unlocked(&mut st, || {
                self.write_group(&mut seg, next_id, &buf, pre_sync)
            });
            if let Some(s) = &seg {
                st.last_id = st.last_id.max(s.id);
            }
            st.segment = seg;
            st.leader = false;
            buf.clear();
            st.spare = buf;
            let res = res.map_err(|e| {
                tracing::error!(dir = %self.dir.display(), error = %e, "WAL write failed; its writers get an error");
                e.to_string()
            });
            st.outcomes.settle(lo, target, res);
            self.cond.notify_all();
        }
    }

    /// Writes and fsyncs one group. After a failure the segment is abandoned
    /// (its tail may hold a partial record) and the next group starts a new
    /// one, so a transient error (disk full) does not stop the shard.
    fn write_group(
        &self,
        seg: &mut Option<Segment>,
        next_id: u64,
        buf: &[u8],
        pre_sync: &dyn Fn() -> Result<()>,
    ) -> Result<()> {
        pre_sync()?;
        if seg.is_none() {
            *seg = Some(create_segment(&*self.vfs, &self.dir, next_id)?);
        }
        let Some(s) = seg.as_mut() else {
            return Err(Error::WalFailed("no open segment".into()));
        };
        let res = s.file.write_all(buf).and_then(|()| s.file.sync_data());
        if let Err(e) = res {
            *seg = None;
            return Err(e.into());
        }
        s.size += buf.len() as u64;
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        if s.size >= SEGMENT_SIZE {
            match create_segment(&*self.vfs, &self.dir, s.id + 1) {
                Ok(next) => *seg = Some(next),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start a new WAL segment; continuing in the current one")
                }
            }
        }
        Ok(())
    }

    /// Closes the current segment (unless empty) and returns the id of the
    /// newest closed segment: every record committed so far is in a segment
    /// with id ≤ the returned value. Callers must exclude concurrent commits.
    pub(crate) fn roll(&self) -> Result<u64> {
        let mut st = self.state.lock();
        while st.leader {
            self.cond.wait(&mut st);
        }
        if let Some(seg) = st.segment.as_ref() {
            if seg.size == 0 {
                return Ok(seg.id - 1);
            }
        }
        let next = st.last_id + 1;
        st.segment = Some(create_segment(&*self.vfs, &self.dir, next)?);
        st.last_id = next;
        Ok(next - 1)
    }

    /// Deletes closed segments with id ≤ `upto`, oldest first, each removal
    /// made durable before the next: replay must never see an older segment
    /// (writes) without a newer one (the DELETE that followed them).
    pub(crate) fn remove_upto(&self, upto: u64) -> Result<()> {
        let current = self
            .state
            .lock()
            .segment
            .as_ref()
            .map_or(u64::MAX, |s| s.id);
        for id in list_segments(&self.dir)? {
            if id <= upto && id < current {
                let p = segment_path(&self.dir, id);
                let len = fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                self.vfs.remove_file(&p)?;
                self.bytes
                    .fetch_sub(len.min(self.bytes()), Ordering::Relaxed);
                self.vfs.sync_dir(&self.dir)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::StdFs;
    use std::fs::OpenOptions;
    use std::io::Write;
    use std::sync::Arc;

    fn std_fs() -> SharedVfs {
        Arc::new(StdFs)
    }

    fn replay(dir: &Path) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let _w = Wal::open(std_fs(), dir, Duration::ZERO, |p| {
            got.push(p.to_vec());
            Ok(())
        })
        .unwrap();
        got
    }

    #[test]
    fn round_trip_and_roll() {
        let d = tempfile::tempdir().unwrap();
        {
            let w = Wal::open(std_fs(), d.path(), Duration::ZERO, |_| Ok(())).unwrap();
            w.commit(b"one", &|| Ok(())).unwrap();
            let closed = w.roll().unwrap();
            w.commit(b"two", &|| Ok(())).unwrap();
            assert!(w.bytes() > 0);
            assert_eq!(replay(d.path()), vec![b"one".to_vec(), b"two".to_vec()]);
            w.remove_upto(closed).unwrap();
        }
        assert_eq!(replay(d.path()), vec![b"two".to_vec()]);
    }

    #[test]
    fn restarts_without_writes_leave_one_empty_segment() {
        let d = tempfile::tempdir().unwrap();
        {
            let w = Wal::open(std_fs(), d.path(), Duration::ZERO, |_| Ok(())).unwrap();
            w.commit(b"kept", &|| Ok(())).unwrap();
        }
        for _ in 0..3 {
            assert_eq!(replay(d.path()), vec![b"kept".to_vec()]);
        }
        // The written segment and the one the last open started.
        let ids = list_segments(d.path()).unwrap();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(ids[1] > ids[0] + 1, "numbers keep increasing: {ids:?}");
    }

    fn last_segment(dir: &Path) -> PathBuf {
        let ids = list_segments(dir).unwrap();
        // the newest segment is the empty one opened by the last replay
        let id = ids
            .iter()
            .rev()
            .find(|&&i| fs::metadata(segment_path(dir, i)).unwrap().len() > 0)
            .unwrap();
        segment_path(dir, *id)
    }

    #[test]
    fn torn_tail_is_truncated() {
        let d = tempfile::tempdir().unwrap();
        {
            let w = Wal::open(std_fs(), d.path(), Duration::ZERO, |_| Ok(())).unwrap();
            w.commit(b"aaaa", &|| Ok(())).unwrap();
            w.commit(b"bbbb", &|| Ok(())).unwrap();
        }
        let p = last_segment(d.path());
        let len = fs::metadata(&p).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(len - 2)
            .unwrap();
        // remove the fresh empty segment so the torn one is the last
        for id in list_segments(d.path()).unwrap() {
            let sp = segment_path(d.path(), id);
            if fs::metadata(&sp).unwrap().len() == 0 {
                fs::remove_file(sp).unwrap();
            }
        }
        assert_eq!(replay(d.path()), vec![b"aaaa".to_vec()]);
        assert_eq!(fs::metadata(&p).unwrap().len(), 12);
    }

    #[test]
    fn l4_zero_filled_wal_tail_is_truncated_not_replayed() {
        let d = tempfile::tempdir().unwrap();
        {
            let w = Wal::open(std_fs(), d.path(), Duration::ZERO, |_| Ok(())).unwrap();
            w.commit(b"aaaa", &|| Ok(())).unwrap();
        }
        let p = last_segment(d.path());
        // As if the file size reached the disk before its data (XFS-style).
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&vec![0u8; 1 << 20]).unwrap();
        drop(f);
        for id in list_segments(d.path()).unwrap() {
            let sp = segment_path(d.path(), id);
            if fs::metadata(&sp).unwrap().len() == 0 {
                fs::remove_file(sp).unwrap();
            }
        }
        assert_eq!(replay(d.path()), vec![b"aaaa".to_vec()]);
        assert_eq!(fs::metadata(&p).unwrap().len(), 12, "zero tail truncated");
    }

    #[test]
    fn bad_checksum_stops_replay() {
        let d = tempfile::tempdir().unwrap();
        {
            let w = Wal::open(std_fs(), d.path(), Duration::ZERO, |_| Ok(())).unwrap();
            for r in [b"r1", b"r2", b"r3"] {
                w.commit(r, &|| Ok(())).unwrap();
            }
        }
        let p = last_segment(d.path());
        let mut data = fs::read(&p).unwrap();
        data[10 + 8] ^= 0xff; // payload of the second record
        fs::write(&p, &data).unwrap();
        for id in list_segments(d.path()).unwrap() {
            let sp = segment_path(d.path(), id);
            if fs::metadata(&sp).unwrap().len() == 0 {
                fs::remove_file(sp).unwrap();
            }
        }
        assert_eq!(replay(d.path()), vec![b"r1".to_vec()]);
    }

    #[test]
    fn a_failed_group_errors_and_later_commits_work() {
        let d = tempfile::tempdir().unwrap();
        let w = Wal::open(std_fs(), d.path(), Duration::ZERO, |_| Ok(())).unwrap();
        w.commit(b"ok1", &|| Ok(())).unwrap();
        let e = w
            .commit(b"lost", &|| Err(Error::WalFailed("injected".into())))
            .unwrap_err();
        assert!(e.to_string().contains("injected"));
        w.commit(b"ok2", &|| Ok(())).unwrap();
        drop(w);
        assert_eq!(replay(d.path()), vec![b"ok1".to_vec(), b"ok2".to_vec()]);
    }

    #[test]
    fn l1_a_failed_group_stays_failed_after_any_number_of_later_failures() {
        let mut o = Outcomes::default();
        // record 1's group fails; its writer is slow to come back
        o.settle(0, 1, Err("disk full".into()));
        // 200 later groups fail (their writers take their errors), then one succeeds
        for i in 1..=200 {
            o.settle(i, i + 1, Err(format!("fail {i}")));
            assert!(matches!(o.take(i + 1), Some(Err(_))));
        }
        o.settle(201, 205, Ok(()));
        assert!(o.take(206).is_none(), "not settled yet");
        match o.take(1) {
            Some(Err(Error::WalFailed(m))) => assert_eq!(m, "disk full"),
            other => panic!(
                "the failed write was acknowledged: {:?}",
                other.map(|r| r.is_ok())
            ),
        }
        for me in 202..=205 {
            assert!(matches!(o.take(me), Some(Ok(()))));
        }
        assert!(o.failed.is_empty(), "claimed groups are forgotten");
    }

    #[test]
    fn l1_every_writer_of_a_failed_group_gets_the_error() {
        let mut o = Outcomes::default();
        o.settle(0, 3, Err("eio".into()));
        o.settle(3, 4, Ok(()));
        for me in [3, 1, 2] {
            assert!(matches!(o.take(me), Some(Err(_))), "{me}");
        }
        assert!(o.failed.is_empty());
        assert!(matches!(o.take(4), Some(Ok(()))));
    }

    #[test]
    fn concurrent_commits_share_fsyncs() {
        let d = tempfile::tempdir().unwrap();
        let w =
            Arc::new(Wal::open(std_fs(), d.path(), Duration::from_millis(1), |_| Ok(())).unwrap());
        let syncs = Arc::new(AtomicU64::new(0));
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let w = w.clone();
                let syncs = syncs.clone();
                std::thread::spawn(move || {
                    for j in 0..50u32 {
                        let rec = [i as u8, (j % 256) as u8];
                        w.commit(&rec, &|| {
                            syncs.fetch_add(1, Ordering::Relaxed);
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        drop(w);
        assert_eq!(replay(d.path()).len(), 400);
        assert!(
            syncs.load(Ordering::Relaxed) < 400,
            "group commit should batch"
        );
    }
}
