//! One shard: the write path (index resolution → WAL group commit → cache),
//! the read path (data files + snapshotting cache + active cache, newest
//! wins), deletes, and snapshots of the cache into data files. Compaction
//! planning lives in `compact`; the on-disk formats in their own modules.
//!
//! # Locks (always taken in this order)
//!
//! 1. `gate` — writers hold it shared from WAL append until their values are
//!    in the cache; snapshot start and deletes hold it exclusively, so a WAL
//!    roll always separates records whose values are in the frozen snapshot
//!    from newer ones.
//! 2. `state` — the published file set plus the frozen snapshot (if any);
//!    readers clone it under a shared lock together with their cache read.
//! 3. `cache` — the active cache.
//!
//! The index has its own internal locks and is never called while `state`
//! or `cache` is held exclusively, except for the quick `sync`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use models::{FieldType, Point, TimeRange};
use parking_lot::{Mutex, RwLock};

use crate::block::{chunk, remove_ranges, ValueRef};
use crate::cache::CacheData;
use crate::cardinality::DatabaseCardinality;
use crate::config::EngineConfig;
use crate::cursor::Source;
use crate::error::{Error, Result};
use crate::index::Index;
use crate::tsm::{self, PublishError, TsmFile, TsmWriter};
use crate::vfs::{self, SharedVfs};
use crate::wal::Wal;
use crate::walrecord::{self, Apply, WriteEncoder};
use crate::{BlockCursor, SeriesInfo, ShardStatistics, TagPredicate};

pub(crate) type Tomb = (Vec<u64>, i64, i64);

pub(crate) struct FileState {
    pub(crate) files: Arc<Vec<Arc<TsmFile>>>,
    snapshot: Option<Arc<CacheData>>,
    snapshot_seg: u64,
    snapshot_gen: u64,
    snapshot_tombstones: Vec<Tomb>,
}

#[derive(Default)]
struct Counters {
    points_written: AtomicU64,
    values_written: AtomicU64,
    write_requests: AtomicU64,
    write_errors: AtomicU64,
    snapshots: AtomicU64,
    compactions: AtomicU64,
}

/// A shard: every series of one database / retention policy / time range on this node.
pub struct Shard {
    id: u64,
    db: String,
    rp: String,
    pub(crate) dir: PathBuf,
    wal_dir: PathBuf,
    pub(crate) cfg: Arc<EngineConfig>,
    pub(crate) vfs: SharedVfs,
    index: Index,
    wal: Wal,
    gate: RwLock<()>,
    pub(crate) state: RwLock<FileState>,
    cache: RwLock<CacheData>,
    snapshot_bytes: AtomicU64,
    next_gen: AtomicU64,
    snapshot_lock: Mutex<()>,
    /// Recycled WAL record buffers (a batch of 5000 points is ~600 KB).
    record_bufs: Mutex<Vec<Vec<u8>>>,
    pub(crate) compaction_lock: Mutex<()>,
    stats: Counters,
    opened: Instant,
    last_write_ms: AtomicU64,
    closed: AtomicBool,
    replay_dropped_points: u64,
    /// Set when a data file was put in place but its directory fsync (or
    /// reading it back) failed: which files the next open loads is then
    /// unknown, so writes and deletes are refused until a restart.
    poisoned: Mutex<Option<String>>,
}

struct Replay<'a> {
    cache: &'a mut CacheData,
    index: &'a Index,
    /// Points whose series is not in the index, and values whose field is
    /// not (or has another type): counted and logged once per shard.
    dropped_points: u64,
    dropped_values: u64,
}

impl Apply for Replay<'_> {
    fn point(&mut self, series: u64, time: i64, values: &[(u32, ValueRef<'_>)]) {
        if !self.index.has_series(series) {
            // A series dropped after the write (DROP SERIES / MEASUREMENT),
            // or an index that lost records: the count is logged.
            self.dropped_points += 1;
            return;
        }
        let index = self.index;
        let before = values.len();
        let mut kept = 0u64;
        self.cache.push_point(
            series,
            time,
            values
                .iter()
                .copied()
                .filter(|(f, v)| index.field_type(*f) == Some(v.field_type()))
                .inspect(|_| kept += 1),
        );
        self.dropped_values += before as u64 - kept;
    }
    fn delete(&mut self, ids: &[u64], min: i64, max: i64) {
        self.cache.delete(ids, TimeRange::new(min, max));
    }
}

fn covers_all_time(r: TimeRange) -> bool {
    r.min <= models::MIN_NANOS && r.max >= models::MAX_NANOS
}

/// Opens the data files of `dir`, removing temporary files, files superseded
/// by a compaction output and orphaned tombstones.
fn load_files(vfs: &SharedVfs, dir: &Path) -> Result<Vec<Arc<TsmFile>>> {
    let mut found = Vec::new();
    let mut tombs = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(".tmp") {
            vfs.remove_file(&e.path())?;
        } else if name.ends_with(".tsm.tomb") {
            tombs.push(e.path());
        } else if let Some((a, b, v)) = tsm::parse_name(name) {
            found.push((a, b, v, e.path()));
        }
    }
    // widest range first, newest version first: anything inside a kept file is stale
    found.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)).then(y.2.cmp(&x.2)));
    let mut keep: Vec<(u64, u64, PathBuf)> = Vec::new();
    for (a, b, _, p) in found {
        if keep.last().is_some_and(|k| k.0 <= a && b <= k.1) {
            tracing::info!(path = %p.display(), "removing data file superseded by a compaction");
            vfs.remove_file(&p)?;
            let _ = vfs.remove_file(&crate::tombstone::path_for(&p));
        } else {
            keep.push((a, b, p));
        }
    }
    for t in tombs {
        let data = t.with_extension(""); // strips ".tomb"
        if !data.exists() {
            vfs::remove_if_present(&**vfs, &t)?;
        }
    }
    let mut files = Vec::with_capacity(keep.len());
    for (_, _, p) in keep {
        files.push(Arc::new(TsmFile::open(vfs, &p)?));
    }
    Ok(files)
}

impl Shard {
    pub(crate) fn open(
        cfg: Arc<EngineConfig>,
        vfs: SharedVfs,
        db: &str,
        rp: &str,
        id: u64,
        database: Arc<DatabaseCardinality>,
    ) -> Result<Shard> {
        let dir = cfg.dir.join(db).join(rp).join(id.to_string());
        let wal_dir = cfg.wal_dir.join(db).join(rp).join(id.to_string());
        vfs::create_dir_all(&*vfs, &dir)?;
        vfs::create_dir_all(&*vfs, &wal_dir)?;
        let files = load_files(&vfs, &dir)?;
        let index = Index::open(&vfs, &dir)?;
        index.attach(database);
        let mut cache = CacheData::default();
        let mut sink = Replay {
            cache: &mut cache,
            index: &index,
            dropped_points: 0,
            dropped_values: 0,
        };
        let mut undecodable = 0u64;
        let wal = Wal::open(vfs.clone(), &wal_dir, cfg.wal_fsync_delay, |rec| {
            if walrecord::decode(rec, &mut sink).is_none() {
                undecodable += 1;
            }
            Ok(())
        })?;
        let (replay_dropped_points, dropped_values) = (sink.dropped_points, sink.dropped_values);
        if undecodable > 0 {
            tracing::error!(
                shard = id,
                records = undecodable,
                "undecodable WAL records skipped"
            );
        }
        if replay_dropped_points > 0 || dropped_values > 0 {
            tracing::warn!(
                shard = id,
                points = replay_dropped_points,
                values = dropped_values,
                "WAL replay skipped points of series (and values of fields) not in the series \
                 index: dropped since they were written, or lost from index.log"
            );
        }
        let next_gen = files.iter().map(|f| f.max_gen).max().unwrap_or(0) + 1;
        Ok(Shard {
            id,
            db: db.to_string(),
            rp: rp.to_string(),
            dir,
            wal_dir,
            cfg,
            vfs,
            index,
            wal,
            gate: RwLock::new(()),
            state: RwLock::new(FileState {
                files: Arc::new(files),
                snapshot: None,
                snapshot_seg: 0,
                snapshot_gen: 0,
                snapshot_tombstones: Vec::new(),
            }),
            cache: RwLock::new(cache),
            snapshot_bytes: AtomicU64::new(0),
            next_gen: AtomicU64::new(next_gen),
            snapshot_lock: Mutex::new(()),
            record_bufs: Mutex::new(Vec::new()),
            compaction_lock: Mutex::new(()),
            stats: Counters::default(),
            opened: Instant::now(),
            last_write_ms: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            replay_dropped_points,
            poisoned: Mutex::new(None),
        })
    }

    /// Why the shard refuses writes until a restart, if it does.
    pub fn unavailable(&self) -> Option<String> {
        self.poisoned.lock().clone()
    }

    fn check_usable(&self) -> Result<()> {
        match self.unavailable() {
            Some(reason) => Err(Error::ShardUnavailable {
                id: self.id,
                reason,
            }),
            None => Ok(()),
        }
    }

    /// Stops writes and deletes after `what` left a file in place whose
    /// directory entry may not be durable (see `poisoned`).
    pub(crate) fn poison(&self, what: &str, e: &Error) {
        let reason = format!("{what} failed after publishing a data file ({e}); restart the node");
        tracing::error!(shard = self.id, error = %e, "SHARD UNAVAILABLE for writes: {reason}");
        self.poisoned.lock().get_or_insert(reason);
    }

    pub fn id(&self) -> u64 {
        self.id
    }
    pub fn database(&self) -> &str {
        &self.db
    }
    pub fn retention_policy(&self) -> &str {
        &self.rp
    }
    /// The shard's data directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Marks the shard closed and waits for running snapshots/compactions.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.index.detach();
        let _s = self.snapshot_lock.lock();
        let _c = self.compaction_lock.lock();
    }

    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.last_write_ms.store(ms.max(1), Ordering::Relaxed);
    }

    /// Time since the last write (or since open, if none).
    pub(crate) fn idle(&self) -> Duration {
        let now = self.opened.elapsed();
        now.saturating_sub(Duration::from_millis(
            self.last_write_ms.load(Ordering::Relaxed),
        ))
    }

    /// Writes points durably; see the crate docs for partial-write semantics.
    pub fn write_points(&self, points: &[Point]) -> Result<()> {
        self.stats.write_requests.fetch_add(1, Ordering::Relaxed);
        let res = self.write_inner(points);
        if let Err(e) = &res {
            if !matches!(e, Error::PartialWrite { .. }) {
                self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        res
    }

    fn write_inner(&self, points: &[Point]) -> Result<()> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        self.check_usable()?;
        if points.is_empty() {
            return Ok(());
        }
        let max = self.cfg.cache_max_memory_size;
        if max > 0 {
            let used = self.cache.read().size() + self.snapshot_bytes.load(Ordering::Relaxed);
            if used > max {
                return Err(Error::CacheMaxMemorySizeExceeded { used, max });
            }
        }
        let limits = crate::index::Limits {
            cardinality: crate::cardinality::CardinalityLimits {
                max_series_per_database: self.cfg.max_series_per_database,
                max_values_per_tag: self.cfg.max_values_per_tag,
            },
            max_tags_per_series: self.cfg.max_tags_per_series,
            max_fields_per_measurement: self.cfg.max_fields_per_measurement,
            max_string_field_bytes: self.cfg.max_string_field_bytes,
        };
        let res = self.index.resolve(&limits, points);
        let kept = points.len() - res.dropped;
        if kept > 0 {
            let buf = self.record_bufs.lock().pop().unwrap_or_default();
            let mut enc = WriteEncoder::new(buf);
            let mut fi = 0;
            let mut nvalues = 0u64;
            for (p, &sid) in points.iter().zip(&res.series) {
                if sid == 0 {
                    continue;
                }
                let fids = &res.fields[fi..fi + p.fields.len()];
                fi += p.fields.len();
                nvalues += p.fields.len() as u64;
                enc.point(
                    sid,
                    p.time,
                    p.fields.len(),
                    fids.iter()
                        .zip(&p.fields)
                        .map(|(&f, (_, v))| (f, ValueRef::from_value(v))),
                );
            }
            let rec = enc.finish();
            {
                let _g = self.gate.read();
                self.wal.commit(&rec, &|| self.index.sync())?;
                let mut c = self.cache.write();
                let mut fi = 0;
                for (p, &sid) in points.iter().zip(&res.series) {
                    if sid == 0 {
                        continue;
                    }
                    let fids = &res.fields[fi..fi + p.fields.len()];
                    fi += p.fields.len();
                    c.push_point(
                        sid,
                        p.time,
                        fids.iter()
                            .zip(&p.fields)
                            .map(|(&f, (_, v))| (f, ValueRef::from_value(v))),
                    );
                }
            }
            self.stats
                .points_written
                .fetch_add(kept as u64, Ordering::Relaxed);
            self.stats
                .values_written
                .fetch_add(nvalues, Ordering::Relaxed);
            self.touch();
        }
        if res.dropped > 0 {
            return Err(Error::PartialWrite {
                reason: res.reason.unwrap_or_default(),
                dropped: res.dropped,
            });
        }
        Ok(())
    }

    pub fn measurements(&self) -> Vec<String> {
        self.index.measurements()
    }
    pub fn series(&self, measurement: &str, pred: &TagPredicate) -> Vec<SeriesInfo> {
        self.index.series(measurement, pred)
    }
    pub fn tag_keys(&self, measurement: &str) -> Vec<String> {
        self.index.tag_keys(measurement)
    }
    pub fn tag_values(&self, measurement: &str, key: &str) -> Vec<String> {
        self.index.tag_values(measurement, key)
    }
    pub fn fields(&self, measurement: &str) -> Vec<(String, FieldType)> {
        self.index.fields(measurement)
    }
    /// The series with this id, if it exists.
    pub fn series_info(&self, id: u64) -> Option<SeriesInfo> {
        self.index.series_info(id)
    }
    /// The series with this key (`measurement,tag=value,...`), if it exists.
    pub fn series_by_key(&self, key: &str) -> Option<SeriesInfo> {
        self.index.series_by_key(key)
    }
    pub fn series_count(&self) -> u64 {
        self.index.series_count()
    }

    /// Values of one field of one series in `range`, ascending, deduplicated
    /// (newest write wins), in blocks of at most 1000 values.
    pub fn read(&self, series_id: u64, field: &str, range: TimeRange) -> Result<BlockCursor> {
        self.read_ordered(series_id, field, range, false)
    }

    /// Like [`Shard::read`], newest values first (descending time, blocks of
    /// at most [`crate::MAX_BLOCK_VALUES`]); decodes only the blocks the
    /// caller iterates to, for `ORDER BY time DESC` with a `LIMIT`.
    pub fn read_desc(&self, series_id: u64, field: &str, range: TimeRange) -> Result<BlockCursor> {
        self.read_ordered(series_id, field, range, true)
    }

    /// About how many values of (series, field) lie in `range`, from block
    /// headers and cache counts alone (nothing is decoded): a block partly
    /// inside the range counts in proportion to the time it overlaps. Lets a
    /// query decide up front whether it is small.
    pub fn estimate_values(&self, series_id: u64, field: &str, range: TimeRange) -> u64 {
        let Some((fid, _)) = self.index.field_of_series(series_id, field) else {
            return 0;
        };
        if range.is_empty() {
            return 0;
        }
        let st = self.state.read();
        let mut n: u64 = 0;
        for f in st.files.iter() {
            if let Some(e) = f.entry(series_id, fid) {
                n += e
                    .blocks
                    .iter()
                    .filter(|m| range.overlaps(m.min, m.max))
                    .map(|m| overlap_share(m.min, m.max, u64::from(m.count), range))
                    .sum::<u64>();
            }
        }
        if let Some(s) = &st.snapshot {
            n += s.count(series_id, fid, range);
        }
        n + self.cache.read().count(series_id, fid, range)
    }

    /// Where the values of (series, field) in `range` live, for EXPLAIN:
    /// values in the write cache, data files holding the key, and the blocks
    /// (count and bytes) a read would decode.
    pub fn read_stats(&self, series_id: u64, field: &str, range: TimeRange) -> ReadStats {
        let mut out = ReadStats::default();
        let Some((fid, _)) = self.index.field_of_series(series_id, field) else {
            return out;
        };
        if range.is_empty() {
            return out;
        }
        let st = self.state.read();
        for f in st.files.iter() {
            if let Some(e) = f.entry(series_id, fid) {
                out.files += 1;
                for m in e.blocks.iter().filter(|m| range.overlaps(m.min, m.max)) {
                    out.blocks += 1;
                    out.block_bytes += u64::from(m.size);
                }
            }
        }
        if let Some(s) = &st.snapshot {
            out.cached += s.count(series_id, fid, range);
        }
        out.cached += self.cache.read().count(series_id, fid, range);
        out
    }

    fn read_ordered(
        &self,
        series_id: u64,
        field: &str,
        range: TimeRange,
        descending: bool,
    ) -> Result<BlockCursor> {
        let Some((fid, typ)) = self.index.field_of_series(series_id, field) else {
            return Ok(BlockCursor::empty());
        };
        if range.is_empty() {
            return Ok(BlockCursor::empty());
        }
        let (files, snap, snap_tombs, cached) = {
            let st = self.state.read();
            let c = self.cache.read();
            let tombs: Vec<(i64, i64)> = st
                .snapshot_tombstones
                .iter()
                .filter(|(ids, _, _)| ids.contains(&series_id))
                .map(|&(_, a, b)| (a, b))
                .collect();
            (
                st.files.clone(),
                st.snapshot.clone(),
                tombs,
                c.read(series_id, fid, range),
            )
        };
        let mut sources = Vec::new();
        for f in files.iter() {
            let Some(e) = f.entry(series_id, fid) else {
                continue;
            };
            if e.typ != typ {
                continue;
            }
            let tombs: Arc<[(i64, i64)]> = f.tombstones.ranges(series_id).into();
            for m in &e.blocks {
                if !range.overlaps(m.min, m.max)
                    || tombs.iter().any(|&(a, b)| a <= m.min && m.max <= b)
                {
                    continue;
                }
                sources.push(Source::File {
                    file: f.clone(),
                    meta: *m,
                    tombs: tombs.clone(),
                });
            }
        }
        if let Some(s) = snap {
            if let Some(mut b) = s.read(series_id, fid, range) {
                remove_ranges(&mut b, &snap_tombs);
                sources.push(Source::Mem(b));
            }
        }
        if let Some(b) = cached {
            sources.push(Source::Mem(b));
        }
        if descending {
            BlockCursor::new_descending(typ, range, sources)
        } else {
            BlockCursor::new(typ, range, sources)
        }
    }

    /// Deletes values of `series_ids` in `range`; an all-time range also
    /// removes the series from the index (DROP SERIES).
    pub fn delete(&self, series_ids: &[u64], range: TimeRange) -> Result<()> {
        if series_ids.is_empty() || range.is_empty() {
            return Ok(());
        }
        self.check_usable()?;
        {
            let _g = self.gate.write();
            let rec = walrecord::encode_delete(series_ids, range.min, range.max);
            self.wal.commit(&rec, &|| self.index.sync())?;
            let mut st = self.state.write();
            for f in st.files.iter() {
                let ids: Vec<u64> = series_ids
                    .iter()
                    .copied()
                    .filter(|&id| f.has_series(id))
                    .collect();
                f.tombstones.add(&ids, range.min, range.max)?;
            }
            if st.snapshot.is_some() {
                st.snapshot_tombstones
                    .push((series_ids.to_vec(), range.min, range.max));
            }
            self.cache.write().delete(series_ids, range);
        }
        if covers_all_time(range) {
            self.index.drop_series(series_ids);
            self.index.sync()?;
        }
        Ok(())
    }

    /// DROP MEASUREMENT: deletes all its series and forgets its fields.
    pub fn drop_measurement(&self, name: &str) -> Result<()> {
        let ids = self.index.series_ids(name);
        self.delete(&ids, TimeRange::ALL)?;
        self.index.drop_measurement(name);
        self.index.sync()
    }

    /// Bytes of data files, tombstones, index log and WAL.
    pub fn disk_size(&self) -> u64 {
        let files = self.state.read().files.clone();
        files.iter().map(|f| f.size).sum::<u64>() + self.index.log_bytes() + self.wal.bytes()
    }

    pub(crate) fn cache_bytes(&self) -> u64 {
        self.cache.read().size() + self.snapshot_bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn needs_snapshot(&self) -> bool {
        let size = self.cache.read().size();
        size > 0
            && (size > self.cfg.cache_snapshot_memory_size
                || self.idle() >= self.cfg.cache_snapshot_write_cold_duration
                || self.state.read().snapshot.is_some())
    }

    /// Writes the cache to a new level-1 data file (no-op when empty).
    /// Writers are blocked only while the cache is swapped out.
    pub fn flush(&self) -> Result<()> {
        self.snapshot().map(|_| ())
    }

    pub(crate) fn snapshot(&self) -> Result<bool> {
        let _s = self.snapshot_lock.lock();
        self.check_usable()?;
        let (snap, gen) = {
            let _g = self.gate.write();
            let mut st = self.state.write();
            match &st.snapshot {
                Some(s) => (s.clone(), st.snapshot_gen),
                None => {
                    let mut c = self.cache.write();
                    if c.is_empty() {
                        return Ok(false);
                    }
                    let seg = self.wal.roll()?;
                    let data = Arc::new(std::mem::take(&mut *c));
                    drop(c);
                    let gen = self.next_gen.fetch_add(1, Ordering::Relaxed);
                    self.snapshot_bytes.store(data.size(), Ordering::Relaxed);
                    st.snapshot = Some(data.clone());
                    st.snapshot_seg = seg;
                    st.snapshot_gen = gen;
                    st.snapshot_tombstones.clear();
                    (data, gen)
                }
            }
        };
        let mut w = TsmWriter::create(self.vfs.clone(), &self.dir, gen, gen, 0)?;
        for (sid, e) in snap.sorted_entries() {
            for blk in chunk(e.read(TimeRange::ALL)) {
                if let Err(err) = w.write_block(sid, e.field, &blk) {
                    w.abort();
                    return Err(err);
                }
            }
        }
        self.index.sync()?; // every series id in the file is durable before it is published
        let pending = w.finish(1)?;
        let seg = {
            let mut st = self.state.write();
            let tomb_path = crate::tombstone::path_for(pending.final_path());
            let _ = self.vfs.remove_file(&tomb_path); // stale leftovers of a failed attempt
            if !st.snapshot_tombstones.is_empty() {
                let res = (|| -> Result<()> {
                    let t = crate::tombstone::Tombstones::open(self.vfs.clone(), &tomb_path)?;
                    for (ids, a, b) in &st.snapshot_tombstones {
                        t.add(ids, *a, *b)?;
                    }
                    Ok(())
                })();
                if let Err(e) = res {
                    let _ = self.vfs.remove_file(&tomb_path);
                    pending.abort();
                    return Err(e);
                }
            }
            let path = match pending.publish() {
                Ok(p) => p,
                Err(PublishError { error, in_place }) => {
                    if in_place {
                        self.poison("cache snapshot", &error);
                    }
                    return Err(error);
                }
            };
            let file = match TsmFile::open(&self.vfs, &path) {
                Ok(f) => Arc::new(f),
                Err(e) => {
                    self.poison("cache snapshot", &e);
                    return Err(e);
                }
            };
            let mut files: Vec<Arc<TsmFile>> = st.files.iter().cloned().collect();
            files.push(file);
            files.sort_by_key(|f| f.min_gen);
            st.files = Arc::new(files);
            st.snapshot = None;
            st.snapshot_tombstones.clear();
            self.snapshot_bytes.store(0, Ordering::Relaxed);
            st.snapshot_seg
        };
        self.wal.remove_upto(seg)?;
        self.stats.snapshots.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }

    pub(crate) fn count_compaction(&self) {
        self.stats.compactions.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn remove_files(&self) -> Result<()> {
        for d in [&self.dir, &self.wal_dir] {
            vfs::remove_dir_all(&*self.vfs, d)?;
        }
        Ok(())
    }

    pub fn statistics(&self) -> ShardStatistics {
        let s = &self.stats;
        ShardStatistics {
            id: self.id,
            database: self.db.clone(),
            retention_policy: self.rp.clone(),
            path: self.dir.clone(),
            series: self.series_count(),
            measurements: self.index.measurements().len() as u64,
            points_written: s.points_written.load(Ordering::Relaxed),
            values_written: s.values_written.load(Ordering::Relaxed),
            write_requests: s.write_requests.load(Ordering::Relaxed),
            write_errors: s.write_errors.load(Ordering::Relaxed),
            disk_bytes: self.disk_size(),
            cache_bytes: self.cache_bytes(),
            wal_bytes: self.wal.bytes(),
            snapshots: s.snapshots.load(Ordering::Relaxed),
            compactions: s.compactions.load(Ordering::Relaxed),
            wal_replay_dropped_points: self.replay_dropped_points,
        }
    }
}

/// See [`Shard::read_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub cached: u64,
    pub files: u64,
    pub blocks: u64,
    pub block_bytes: u64,
}

/// The part of a block's `count` values spread over `[min, max]` that falls
/// in `range` (rounded up; the whole count for a single-instant block).
fn overlap_share(min: i64, max: i64, count: u64, range: TimeRange) -> u64 {
    let lo = min.max(range.min);
    let hi = max.min(range.max);
    if hi < lo {
        return 0;
    }
    let span = max.saturating_sub(min);
    if span == 0 || (lo == min && hi == max) {
        return count;
    }
    let part = (hi - lo) as f64 / span as f64;
    ((count as f64 * part).ceil() as u64).min(count)
}

#[cfg(test)]
mod estimate_tests {
    use super::*;

    #[test]
    fn partly_covered_blocks_count_in_proportion() {
        let r = |a, b| TimeRange::new(a, b);
        assert_eq!(overlap_share(0, 1000, 1000, r(0, 1000)), 1000);
        assert_eq!(overlap_share(0, 1000, 1000, r(-5, 5000)), 1000);
        assert_eq!(overlap_share(0, 1000, 1000, r(0, 250)), 250);
        assert_eq!(overlap_share(0, 1000, 1000, r(900, 5000)), 100);
        assert_eq!(overlap_share(0, 1000, 1000, r(2000, 3000)), 0);
        assert_eq!(overlap_share(7, 7, 3, r(0, 10)), 3);
        // Rounded up: a sliver still counts one value.
        assert_eq!(overlap_share(0, 1_000_000, 10, r(0, 1)), 1);
    }
}
