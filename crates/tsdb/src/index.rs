//! The series index and field schema of one shard: series key ↔ id,
//! measurement → tag key → tag value → series ids, measurement → field →
//! (field id, type). Kept in memory, made durable by an append-only log so a
//! shard opens without scanning its data files. Owns type-conflict detection
//! for writes; knows nothing of values, caches or data files.
//!
//! # Byte layout
//!
//! `<shard dir>/index.log`: framed records `[len u32][crc32 u32][payload]`:
//!
//! ```text
//! 0x01 series id:uvarint key:str          series created
//! 0x02 field id:uvarint type:u8 measurement:str field:str
//! 0x03 series id:uvarint                  series dropped
//! 0x04 measurement:str                    measurement dropped (its fields go)
//! 0x05 next_series:uvarint next_field:uvarint   id counters (first record of a rewritten log)
//! str := len:uvarint utf-8 bytes
//! ```
//!
//! Appends are buffered and written + fsynced by `sync` (called by the WAL
//! group-commit leader before it writes the WAL), so every id a durable WAL
//! record mentions is durable too. A torn tail is truncated on open. Damage
//! before the tail is reported as corruption, never silently truncated: a
//! checksum mismatch before the last record, or a record that reads as torn
//! (a length running past the end, or zero) while intact records, or more
//! than one record's bytes (`MAX_RECORD_BYTES`), follow it. When a third or
//! more of the logged records are drops, the log is rewritten (temp file +
//! fsync + rename).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use models::{FieldType, Point};
use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;

use crate::bytes::{
    begin_frame, end_frame, is_torn_tail, next_frame, put_str, put_uvarint, Framed, Reader,
};
use crate::cardinality::{CardinalityLimits, DatabaseCardinality, SeriesHashes};
use crate::error::{Error, Result};
use crate::vfs::{SharedVfs, VfsFile};
use crate::{SeriesInfo, TagPredicate};

const REC_SERIES: u8 = 1;
const REC_FIELD: u8 = 2;
const REC_DROP_SERIES: u8 = 3;
const REC_DROP_MEASUREMENT: u8 = 4;
const REC_NEXT_IDS: u8 = 5;

/// More than any one record's bytes (a series key is at most 64 KiB): a
/// torn tail longer than this is damage, not an interrupted append.
const MAX_RECORD_BYTES: usize = 1 << 20;
/// Checksum work spent looking for intact records after a torn-looking one.
const MAX_RESYNC_HASHED_BYTES: usize = 64 << 20;

/// Whether the framed record at `pos` extends exactly to the end of `data`
/// (a torn last write may leave a bad checksum there).
fn is_last_record(data: &[u8], pos: usize) -> bool {
    let Some(h) = data.get(pos..pos + 4) else {
        return true;
    };
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
    pos + 8 + len >= data.len()
}

#[derive(Default)]
struct Measurement {
    series: BTreeSet<u64>,
    tags: BTreeMap<String, BTreeMap<String, BTreeSet<u64>>>,
    fields: FxHashMap<String, (u32, FieldType)>,
}

#[derive(Default)]
struct Inner {
    by_key: FxHashMap<Arc<str>, u64>,
    series: FxHashMap<u64, SeriesInfo>,
    measurements: BTreeMap<String, Measurement>,
    next_series: u64,
    next_field: u32,
    /// field id → (measurement, name, type), for lookups by id.
    fields_by_id: FxHashMap<u32, FieldType>,
}

struct Log {
    path: PathBuf,
    file: Box<dyn VfsFile>,
    /// Length of the fsynced prefix of the file.
    durable_len: u64,
    pending: Vec<u8>,
    records: u64,
    dropped: u64,
}

pub(crate) struct Index {
    inner: RwLock<Inner>,
    log: Mutex<Log>,
    /// The database-wide counts this index's series are part of, once
    /// attached (a shard's index is; a bare index in tests may not be).
    database: Mutex<Option<Arc<DatabaseCardinality>>>,
}

/// The outcome of resolving a batch of points against the index.
pub(crate) struct Resolved {
    /// Per point: its series id, or 0 if the point was dropped.
    pub(crate) series: Vec<u64>,
    /// Field ids of all kept points' fields, in point order.
    pub(crate) fields: Vec<u32>,
    pub(crate) dropped: usize,
    pub(crate) reason: Option<String>,
    pub(crate) new_series: usize,
}

/// Limits checked when a batch is resolved (0 = unlimited).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Limits {
    /// Database-wide, checked by the database's [`DatabaseCardinality`].
    pub(crate) cardinality: CardinalityLimits,
    pub(crate) max_tags_per_series: u64,
    pub(crate) max_fields_per_measurement: u64,
    pub(crate) max_string_field_bytes: u64,
}

impl Limits {
    /// Why `p` must be dropped before anything is created for it, if at all:
    /// an over-long string value, too many tags for a new series, or more
    /// new fields than its measurement may still take.
    fn check_point(&self, inner: &Inner, p: &Point) -> Option<String> {
        let max = self.max_string_field_bytes;
        if max > 0 {
            for (f, v) in &p.fields {
                if let models::FieldValue::String(s) = v {
                    if s.len() as u64 > max {
                        return Some(format!(
                            "input field \"{f}\" on measurement \"{}\" is too long, {} > {max}",
                            p.measurement,
                            s.len()
                        ));
                    }
                }
            }
        }
        let max = self.max_tags_per_series;
        if max > 0 && p.tags.len() as u64 > max && !inner.by_key.contains_key(p.key.as_str()) {
            return Some(format!(
                "max-tags-per-series limit exceeded ({}/{max}): measurement={:?}",
                p.tags.len(),
                p.measurement
            ));
        }
        let max = self.max_fields_per_measurement;
        if max > 0 {
            let known = inner.measurements.get(&p.measurement);
            let have = known.map_or(0, |m| m.fields.len()) as u64;
            let new = p
                .fields
                .iter()
                .filter(|(f, _)| known.is_none_or(|m| !m.fields.contains_key(f)))
                .count() as u64;
            if new > 0 && have + new > max {
                return Some(format!(
                    "max-fields-per-measurement limit exceeded ({have}/{max}): measurement={:?}",
                    p.measurement
                ));
            }
        }
        None
    }
}

fn hashes_of(info: &SeriesInfo) -> SeriesHashes {
    SeriesHashes::new(&info.key, &info.measurement, &info.tags)
}

fn conflict(field: &str, measurement: &str, input: FieldType, existing: FieldType) -> String {
    format!(
        "field type conflict: input field \"{field}\" on measurement \"{measurement}\" is type {input}, already exists as type {existing}"
    )
}

impl Inner {
    fn add_series(&mut self, id: u64, key: &str) -> Result<()> {
        let (m, tags) =
            models::parse_series_key(key).map_err(|_| Error::InvalidSeriesKey(key.to_string()))?;
        let key: Arc<str> = Arc::from(key);
        let meas = self.measurements.entry(m.clone()).or_default();
        meas.series.insert(id);
        for (k, v) in &tags {
            meas.tags
                .entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default()
                .insert(id);
        }
        self.by_key.insert(key.clone(), id);
        self.series.insert(
            id,
            SeriesInfo {
                id,
                key,
                measurement: Arc::from(m.as_str()),
                tags: Arc::from(tags),
            },
        );
        self.next_series = self.next_series.max(id.saturating_add(1));
        Ok(())
    }

    fn add_field(&mut self, id: u32, t: FieldType, m: &str, f: &str) {
        self.measurements
            .entry(m.to_string())
            .or_default()
            .fields
            .insert(f.to_string(), (id, t));
        self.fields_by_id.insert(id, t);
        self.next_field = self.next_field.max(id.saturating_add(1));
    }

    /// Removes a series; returns the measurement name if it became empty.
    fn drop_series(&mut self, id: u64) -> Option<String> {
        let info = self.series.remove(&id)?;
        self.by_key.remove(&info.key);
        let m = self.measurements.get_mut(&*info.measurement)?;
        m.series.remove(&id);
        for (k, v) in info.tags.iter() {
            if let Some(vals) = m.tags.get_mut(k) {
                if let Some(ids) = vals.get_mut(v) {
                    ids.remove(&id);
                    if ids.is_empty() {
                        vals.remove(v);
                    }
                }
                if vals.is_empty() {
                    m.tags.remove(k);
                }
            }
        }
        m.series.is_empty().then(|| info.measurement.to_string())
    }

    fn drop_measurement(&mut self, name: &str) {
        if let Some(m) = self.measurements.remove(name) {
            for id in m.series {
                if let Some(info) = self.series.remove(&id) {
                    self.by_key.remove(&info.key);
                }
            }
            for (id, _) in m.fields.values() {
                self.fields_by_id.remove(id);
            }
        }
    }

    fn apply(&mut self, rec: &[u8]) -> Option<bool> {
        let mut r = Reader::new(rec);
        match r.u8()? {
            REC_SERIES => {
                let id = r.uvarint()?;
                let key = r.str()?;
                self.add_series(id, key).ok()?;
                Some(false)
            }
            REC_FIELD => {
                let id = u32::try_from(r.uvarint()?).ok()?;
                let t = FieldType::from_u8(r.u8()?)?;
                let m = r.str()?;
                let f = r.str()?;
                self.add_field(id, t, m, f);
                Some(false)
            }
            REC_DROP_SERIES => {
                let id = r.uvarint()?;
                if let Some(m) = self.drop_series(id) {
                    self.drop_measurement(&m);
                }
                Some(true)
            }
            REC_DROP_MEASUREMENT => {
                let m = r.str()?;
                self.drop_measurement(m);
                Some(true)
            }
            REC_NEXT_IDS => {
                self.next_series = self.next_series.max(r.uvarint()?);
                self.next_field = self.next_field.max(u32::try_from(r.uvarint()?).ok()?);
                Some(false)
            }
            _ => None,
        }
    }

    /// Appends records describing the whole current state to `out`.
    fn dump(&self, out: &mut Vec<u8>) -> u64 {
        // ids are never reused, even those of dropped series
        let s = begin_frame(out);
        out.push(REC_NEXT_IDS);
        put_uvarint(out, self.next_series);
        put_uvarint(out, u64::from(self.next_field));
        end_frame(out, s);
        let mut n = 1;
        for (name, m) in &self.measurements {
            let mut fields: Vec<_> = m.fields.iter().collect();
            // by id, then name: deterministic even if a damaged log reused an id
            fields.sort_by_key(|(name, (id, _))| (*id, *name));
            for (f, (id, t)) in fields {
                let s = begin_frame(out);
                out.push(REC_FIELD);
                put_uvarint(out, u64::from(*id));
                out.push(*t as u8);
                put_str(out, name);
                put_str(out, f);
                end_frame(out, s);
                n += 1;
            }
        }
        let mut ids: Vec<_> = self.series.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let s = begin_frame(out);
            out.push(REC_SERIES);
            put_uvarint(out, id);
            put_str(out, &self.series[&id].key);
            end_frame(out, s);
            n += 1;
        }
        n
    }
}

/// The state an index log's bytes describe.
pub(crate) struct Replayed {
    inner: Inner,
    records: u64,
    dropped: u64,
    /// Offset of a torn (or torn-and-garbled) last record, to truncate.
    torn_at: Option<usize>,
}

impl Replayed {
    /// The log a rewrite would write for this state.
    pub(crate) fn dump(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.inner.dump(&mut out);
        out
    }
}

/// Replays the records of an index log (`path` only names it in errors).
/// Damage before the last record is corruption; a torn last record is
/// reported in `torn_at` for the caller to truncate.
pub(crate) fn replay(data: &[u8], path: &Path) -> Result<Replayed> {
    let mut inner = Inner {
        next_series: 1,
        next_field: 1,
        ..Default::default()
    };
    let (mut records, mut dropped) = (0u64, 0u64);
    let mut pos = 0;
    let torn_at = loop {
        match next_frame(data, &mut pos) {
            Framed::Record(p) => {
                let is_drop = inner
                    .apply(p)
                    .ok_or_else(|| Error::corrupt(path, "bad index record"))?;
                records += 1;
                dropped += u64::from(is_drop);
            }
            Framed::End => break None,
            Framed::BadChecksum if !is_last_record(data, pos) => {
                // damage in the middle: truncating would forget durable series
                return Err(Error::corrupt(
                    path,
                    format!("checksum mismatch at offset {pos}"),
                ));
            }
            Framed::Torn
                if !is_torn_tail(data, pos, MAX_RECORD_BYTES, MAX_RESYNC_HASHED_BYTES, |p| {
                    (REC_SERIES..=REC_NEXT_IDS).contains(&p[0])
                }) =>
            {
                // a damaged length field in the middle also reads as torn
                return Err(Error::corrupt(
                    path,
                    format!("damaged record at offset {pos} followed by more data"),
                ));
            }
            Framed::Torn | Framed::BadChecksum => break Some(pos),
        }
    };
    Ok(Replayed {
        inner,
        records,
        dropped,
        torn_at,
    })
}

impl Index {
    pub(crate) fn open(vfs: &SharedVfs, dir: &Path) -> Result<Index> {
        let path = dir.join("index.log");
        let data = match fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let Replayed {
            inner,
            mut records,
            mut dropped,
            torn_at,
        } = replay(&data, &path)?;
        if let Some(pos) = torn_at {
            tracing::warn!(path = %path.display(), offset = pos, "truncating torn index log tail");
            let f = vfs.open_write(&path)?;
            f.set_len(pos as u64)?;
            f.sync_all()?;
        }
        let file = if dropped > 0 && dropped * 3 >= records {
            let mut buf = Vec::new();
            records = inner.dump(&mut buf);
            dropped = 0;
            let tmp = dir.join("index.log.tmp");
            let mut f = vfs.create(&tmp)?;
            f.write_all(&buf)?;
            f.sync_all()?;
            vfs.rename(&tmp, &path)?;
            vfs.sync_dir(dir)?;
            vfs.open_append(&path)?
        } else {
            let f = vfs.open_append(&path)?;
            vfs.sync_dir(dir)?;
            f
        };
        Ok(Index {
            database: Mutex::new(None),
            inner: RwLock::new(inner),
            log: Mutex::new(Log {
                durable_len: file.size()?,
                path,
                file,
                pending: Vec::new(),
                records,
                dropped,
            }),
        })
    }

    fn log_append(&self, build: impl FnOnce(&mut Vec<u8>), is_drop: bool) {
        let mut log = self.log.lock();
        let s = begin_frame(&mut log.pending);
        build(&mut log.pending);
        end_frame(&mut log.pending, s);
        log.records += 1;
        log.dropped += u64::from(is_drop);
    }

    /// Writes and fsyncs buffered index records (no-op when none).
    pub(crate) fn sync(&self) -> Result<()> {
        let mut log = self.log.lock();
        if log.pending.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut log.pending);
        let durable = log.durable_len;
        // A failed append whose truncation failed too left a partial record:
        // new records must follow intact ones, or reopening loses them.
        let res = match log.file.size() {
            Ok(n) if n == durable => Ok(()),
            Ok(_) => log.file.set_len(durable),
            Err(e) => Err(e),
        }
        .and_then(|()| log.file.write_all(&buf))
        .and_then(|()| log.file.sync_data());
        match res {
            Ok(()) => {
                log.durable_len += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // drop any partial tail and keep the records for the next attempt
                let len = log.durable_len;
                if let Err(t) = log.file.set_len(len) {
                    tracing::error!(error = %t, "cannot truncate index log after a failed write");
                }
                let newer = std::mem::replace(&mut log.pending, buf);
                log.pending.extend_from_slice(&newer);
                Err(e.into())
            }
        }
    }

    pub(crate) fn log_bytes(&self) -> u64 {
        let log = self.log.lock();
        fs::metadata(&log.path).map(|m| m.len()).unwrap_or(0)
    }

    /// Resolves series and field ids for a batch, creating new ones and
    /// dropping points whose field types conflict with the schema (or with
    /// an earlier point of the same batch).
    pub(crate) fn resolve(&self, limits: &Limits, points: &[Point]) -> Resolved {
        {
            let inner = self.inner.read();
            if let Some(r) = resolve_existing(&inner, points, limits.max_string_field_bytes) {
                return r;
            }
        }
        let mut inner = self.inner.write();
        let database = self.database.lock().clone();
        let mut out = Resolved {
            series: Vec::with_capacity(points.len()),
            fields: Vec::with_capacity(points.len() * 4),
            dropped: 0,
            reason: None,
            new_series: 0,
        };
        for p in points {
            // validate every field before creating anything
            let mut bad = None;
            if let Some(m) = inner.measurements.get(&p.measurement) {
                for (f, v) in &p.fields {
                    if let Some(&(_, t)) = m.fields.get(f) {
                        if t != v.field_type() {
                            bad = Some(conflict(f, &p.measurement, v.field_type(), t));
                            break;
                        }
                    }
                }
            }
            if p.fields.is_empty() {
                bad = Some(format!("point {} has no fields", p.key));
            }
            if bad.is_none() {
                bad = limits.check_point(&inner, p);
            }
            if let Some(reason) = bad {
                out.series.push(0);
                out.dropped += 1;
                out.reason.get_or_insert(reason);
                continue;
            }
            let id = match inner.by_key.get(p.key.as_str()) {
                Some(&id) => id,
                None => {
                    let hashes = SeriesHashes::new(&p.key, &p.measurement, &p.tags);
                    if let Some(db) = &database {
                        if let Err(reason) =
                            db.admit(&hashes, &limits.cardinality, &p.measurement, &p.tags)
                        {
                            out.series.push(0);
                            out.dropped += 1;
                            out.reason.get_or_insert(reason);
                            continue;
                        }
                    }
                    let id = inner.next_series;
                    if inner.add_series(id, &p.key).is_err() {
                        if let Some(db) = &database {
                            db.release(&hashes);
                        }
                        out.series.push(0);
                        out.dropped += 1;
                        out.reason
                            .get_or_insert(format!("invalid series key {:?}", p.key));
                        continue;
                    }
                    self.log_append(
                        |b| {
                            b.push(REC_SERIES);
                            put_uvarint(b, id);
                            put_str(b, &p.key);
                        },
                        false,
                    );
                    out.new_series += 1;
                    id
                }
            };
            out.series.push(id);
            for (f, v) in &p.fields {
                let existing = inner
                    .measurements
                    .get(&p.measurement)
                    .and_then(|m| m.fields.get(f))
                    .copied();
                let fid = match existing {
                    Some((fid, _)) => fid,
                    None => {
                        let fid = inner.next_field;
                        let t = v.field_type();
                        inner.add_field(fid, t, &p.measurement, f);
                        self.log_append(
                            |b| {
                                b.push(REC_FIELD);
                                put_uvarint(b, u64::from(fid));
                                b.push(t as u8);
                                put_str(b, &p.measurement);
                                put_str(b, f);
                            },
                            false,
                        );
                        fid
                    }
                };
                out.fields.push(fid);
            }
        }
        out
    }

    /// Field id and type of `field` in the measurement of `series`.
    pub(crate) fn field_of_series(&self, series: u64, field: &str) -> Option<(u32, FieldType)> {
        let inner = self.inner.read();
        let info = inner.series.get(&series)?;
        inner
            .measurements
            .get(&*info.measurement)?
            .fields
            .get(field)
            .copied()
    }

    pub(crate) fn field_type(&self, field: u32) -> Option<FieldType> {
        self.inner.read().fields_by_id.get(&field).copied()
    }

    pub(crate) fn series_info(&self, id: u64) -> Option<SeriesInfo> {
        self.inner.read().series.get(&id).cloned()
    }

    pub(crate) fn series_by_key(&self, key: &str) -> Option<SeriesInfo> {
        let inner = self.inner.read();
        let id = inner.by_key.get(key)?;
        inner.series.get(id).cloned()
    }

    pub(crate) fn has_series(&self, id: u64) -> bool {
        self.inner.read().series.contains_key(&id)
    }

    pub(crate) fn series_count(&self) -> u64 {
        self.inner.read().series.len() as u64
    }

    pub(crate) fn measurements(&self) -> Vec<String> {
        let inner = self.inner.read();
        inner
            .measurements
            .iter()
            .filter(|(_, m)| !m.series.is_empty())
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub(crate) fn series(&self, measurement: &str, pred: &TagPredicate) -> Vec<SeriesInfo> {
        let inner = self.inner.read();
        let Some(m) = inner.measurements.get(measurement) else {
            return Vec::new();
        };
        let candidates: Box<dyn Iterator<Item = &u64>> = match candidates(m, pred) {
            Some(ids) => Box::new(ids.into_iter()),
            None => Box::new(m.series.iter()),
        };
        let mut out: Vec<SeriesInfo> = candidates
            .filter_map(|id| inner.series.get(id))
            .filter(|s| pred.matches(&s.tags))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    pub(crate) fn series_ids(&self, measurement: &str) -> Vec<u64> {
        let inner = self.inner.read();
        inner
            .measurements
            .get(measurement)
            .map(|m| m.series.iter().copied().collect())
            .unwrap_or_default()
    }

    pub(crate) fn tag_keys(&self, measurement: &str) -> Vec<String> {
        let inner = self.inner.read();
        inner
            .measurements
            .get(measurement)
            .map(|m| m.tags.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn tag_values(&self, measurement: &str, key: &str) -> Vec<String> {
        let inner = self.inner.read();
        inner
            .measurements
            .get(measurement)
            .and_then(|m| m.tags.get(key))
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn fields(&self, measurement: &str) -> Vec<(String, FieldType)> {
        let inner = self.inner.read();
        let mut v: Vec<(String, FieldType)> = inner
            .measurements
            .get(measurement)
            .filter(|m| !m.series.is_empty())
            .map(|m| m.fields.iter().map(|(k, (_, t))| (k.clone(), *t)).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Removes series (and measurements left empty, with their fields). Not
    /// durable until `sync`.
    pub(crate) fn drop_series(&self, ids: &[u64]) {
        let mut inner = self.inner.write();
        for &id in ids {
            let Some(info) = inner.series.get(&id) else {
                continue;
            };
            if let Some(db) = self.database.lock().as_ref() {
                db.release(&hashes_of(info));
            }
            let emptied = inner.drop_series(id);
            self.log_append(
                |b| {
                    b.push(REC_DROP_SERIES);
                    put_uvarint(b, id);
                },
                true,
            );
            if let Some(m) = emptied {
                inner.drop_measurement(&m);
            }
        }
    }

    /// Counts this index's series in its database's cardinality (a shard
    /// opened); later series are admitted through it.
    pub(crate) fn attach(&self, db: Arc<DatabaseCardinality>) {
        let inner = self.inner.read();
        let mut slot = self.database.lock();
        if slot.is_some() {
            return;
        }
        for info in inner.series.values() {
            db.add_existing(&hashes_of(info));
        }
        *slot = Some(db);
    }

    /// Takes this index's series out of its database's counts (the shard
    /// closed or was deleted). Idempotent.
    pub(crate) fn detach(&self) {
        let inner = self.inner.read();
        if let Some(db) = self.database.lock().take() {
            for info in inner.series.values() {
                db.release(&hashes_of(info));
            }
        }
    }

    pub(crate) fn drop_measurement(&self, name: &str) {
        let mut inner = self.inner.write();
        if let Some(db) = self.database.lock().as_ref() {
            if let Some(m) = inner.measurements.get(name) {
                for id in &m.series {
                    if let Some(info) = inner.series.get(id) {
                        db.release(&hashes_of(info));
                    }
                }
            }
        }
        inner.drop_measurement(name);
        self.log_append(
            |b| {
                b.push(REC_DROP_MEASUREMENT);
                put_str(b, name);
            },
            true,
        );
    }
}

/// Series ids that can satisfy `pred`, from the tag postings, or `None` when
/// the predicate needs a scan of every series (e.g. it can match a missing
/// tag, which compares as ""). Callers still evaluate `pred` on each result.
fn candidates<'a>(m: &'a Measurement, pred: &TagPredicate) -> Option<BTreeSet<&'a u64>> {
    match pred {
        TagPredicate::Eq(k, v) if !v.is_empty() => Some(
            m.tags
                .get(k)
                .and_then(|vals| vals.get(v))
                .map(|ids| ids.iter().collect())
                .unwrap_or_default(),
        ),
        TagPredicate::Regex(k, re) if !re.is_match("") => {
            let mut out = BTreeSet::new();
            if let Some(vals) = m.tags.get(k) {
                for (_, ids) in vals.iter().filter(|(v, _)| re.is_match(v)) {
                    out.extend(ids.iter());
                }
            }
            Some(out)
        }
        TagPredicate::And(a, b) => match (candidates(m, a), candidates(m, b)) {
            (Some(x), Some(y)) => Some(x.intersection(&y).copied().collect()),
            (Some(x), None) | (None, Some(x)) => Some(x),
            (None, None) => None,
        },
        TagPredicate::Or(a, b) => {
            let mut x = candidates(m, a)?;
            x.extend(candidates(m, b)?);
            Some(x)
        }
        _ => None,
    }
}

/// Resolves a batch with no new series or fields; `None` if anything is new.
/// The fast path of [`Index::resolve`]: every point's series and fields
/// exist. `None` sends the batch to the slow path (something is new, or a
/// string value is longer than `max_string_field_bytes`, whose refusal the
/// slow path words).
fn resolve_existing(
    inner: &Inner,
    points: &[Point],
    max_string_field_bytes: u64,
) -> Option<Resolved> {
    let mut out = Resolved {
        series: Vec::with_capacity(points.len()),
        fields: Vec::with_capacity(points.len() * 10),
        dropped: 0,
        reason: None,
        new_series: 0,
    };
    let mut last: Option<(&str, &Measurement)> = None;
    // field names, ids and types of the previous point: consecutive points
    // usually carry the same fields, and comparing names beats hashing them
    let mut prev: Vec<(&str, u32, FieldType)> = Vec::with_capacity(16);
    let mut prev_meas: &str = "";
    for p in points {
        let m = match last {
            Some((name, m)) if name == p.measurement => m,
            _ => {
                let m = inner.measurements.get(&p.measurement)?;
                last = Some((&p.measurement, m));
                m
            }
        };
        if p.fields.is_empty() {
            return None;
        }
        let &id = inner.by_key.get(p.key.as_str())?;
        let start = out.fields.len();
        let mut bad = None;
        let same_fields = prev_meas == p.measurement
            && prev.len() == p.fields.len()
            && prev
                .iter()
                .zip(&p.fields)
                .all(|(a, (f, _))| a.0 == f.as_str());
        if !same_fields {
            prev.clear();
            prev_meas = &p.measurement;
            for (f, _) in &p.fields {
                let &(fid, t) = m.fields.get(f)?;
                prev.push((f.as_str(), fid, t));
            }
        }
        for (&(f, fid, t), (_, v)) in prev.iter().zip(&p.fields) {
            if t != v.field_type() {
                bad.get_or_insert_with(|| conflict(f, &p.measurement, v.field_type(), t));
            } else if let models::FieldValue::String(s) = v {
                if max_string_field_bytes > 0 && s.len() as u64 > max_string_field_bytes {
                    return None;
                }
            }
            out.fields.push(fid);
        }
        if let Some(reason) = bad {
            out.fields.truncate(start);
            out.series.push(0);
            out.dropped += 1;
            out.reason.get_or_insert(reason);
        } else {
            out.series.push(id);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vfs() -> SharedVfs {
        Arc::new(crate::vfs::StdFs)
    }
    use models::FieldValue;

    #[test]
    fn fuzz_index_log_with_the_largest_ids_replays() {
        // Found by the tsdb_index_log fuzz target: `id + 1` overflowed for
        // a logged series id of u64::MAX (field id u32::MAX likewise).
        let mut log = Vec::new();
        let mut rec = vec![REC_SERIES];
        put_uvarint(&mut rec, u64::MAX);
        put_str(&mut rec, "m,t=v");
        crate::bytes::frame(&mut log, &rec);
        let mut rec = vec![REC_FIELD];
        put_uvarint(&mut rec, u64::from(u32::MAX));
        rec.push(FieldType::Float as u8);
        put_str(&mut rec, "m");
        put_str(&mut rec, "f");
        crate::bytes::frame(&mut log, &rec);
        let r = replay(&log, Path::new("index.log")).unwrap();
        assert_eq!(r.inner.next_series, u64::MAX);
        assert_eq!(r.inner.next_field, u32::MAX);
        assert_eq!(r.records, 2);
    }

    fn p(m: &str, host: &str, f: &str, v: FieldValue) -> Point {
        Point::new(
            m.into(),
            vec![("host".into(), host.into())],
            vec![(f.into(), v)],
            1,
        )
    }

    #[test]
    fn persists_series_fields_and_drops() {
        let d = tempfile::tempdir().unwrap();
        {
            let ix = Index::open(&vfs(), d.path()).unwrap();
            let r = ix.resolve(
                &Limits::default(),
                &[
                    p("cpu", "a", "v", FieldValue::Float(1.0)),
                    p("cpu", "b", "v", FieldValue::Float(1.0)),
                    p("mem", "a", "free", FieldValue::Integer(1)),
                ],
            );
            assert_eq!(r.series, vec![1, 2, 3]);
            assert_eq!(r.new_series, 3);
            ix.drop_series(&[2]);
            ix.sync().unwrap();
        }
        let ix = Index::open(&vfs(), d.path()).unwrap();
        assert_eq!(ix.measurements(), vec!["cpu", "mem"]);
        assert_eq!(ix.tag_values("cpu", "host"), vec!["a"]);
        assert_eq!(
            ix.fields("mem"),
            vec![("free".to_string(), FieldType::Integer)]
        );
        let r = ix.resolve(
            &Limits::default(),
            &[p("cpu", "a", "v", FieldValue::Integer(1))],
        );
        assert_eq!(r.dropped, 1);
        assert!(r.reason.unwrap().contains("already exists as type float"));
    }

    #[test]
    fn predicates_use_postings_and_match_scans() {
        let d = tempfile::tempdir().unwrap();
        let ix = Index::open(&vfs(), d.path()).unwrap();
        let mut pts: Vec<Point> = (0..20)
            .map(|i| p("cpu", &format!("h{i}"), "v", FieldValue::Float(1.0)))
            .collect();
        pts.push(Point::new(
            "cpu".into(),
            vec![],
            vec![("v".into(), FieldValue::Float(1.0))],
            1,
        ));
        ix.resolve(&Limits::default(), &pts);
        let re = |s: &str| regex::Regex::new(s).unwrap();
        let eq = |v: &str| Box::new(TagPredicate::Eq("host".into(), v.into()));
        let cases = vec![
            TagPredicate::Eq("host".into(), "h3".into()),
            TagPredicate::Eq("host".into(), "".into()),
            TagPredicate::Eq("host".into(), "nope".into()),
            TagPredicate::Regex("host".into(), re("^h1")),
            TagPredicate::Regex("host".into(), re(".*")),
            TagPredicate::NotRegex("host".into(), re("^h1")),
            TagPredicate::Or(eq("h1"), eq("h2")),
            TagPredicate::And(
                eq("h1"),
                Box::new(TagPredicate::NotEq("host".into(), "h1".into())),
            ),
            TagPredicate::And(Box::new(TagPredicate::True), eq("h5")),
            TagPredicate::Or(eq("h1"), Box::new(TagPredicate::True)),
        ];
        let all = ix.series("cpu", &TagPredicate::True);
        assert_eq!(all.len(), 21);
        for pred in cases {
            let want: Vec<u64> = all
                .iter()
                .filter(|s| pred.matches(&s.tags))
                .map(|s| s.id)
                .collect();
            let got: Vec<u64> = ix.series("cpu", &pred).iter().map(|s| s.id).collect();
            assert_eq!(got, want, "{pred:?}");
        }
        assert_eq!(
            ix.series("cpu", &TagPredicate::Regex("host".into(), re("^h1")))
                .len(),
            11
        );
    }

    #[test]
    fn ids_are_not_reused_after_rewrite() {
        let d = tempfile::tempdir().unwrap();
        {
            let ix = Index::open(&vfs(), d.path()).unwrap();
            ix.resolve(
                &Limits::default(),
                &[
                    p("cpu", "a", "v", FieldValue::Float(1.0)),
                    p("cpu", "b", "v", FieldValue::Float(1.0)),
                ],
            );
            ix.drop_series(&[1, 2]);
            ix.sync().unwrap();
        }
        let before = fs::metadata(d.path().join("index.log")).unwrap().len();
        let ix = Index::open(&vfs(), d.path()).unwrap(); // 2 drops of 5 records: rewritten
        assert!(fs::metadata(d.path().join("index.log")).unwrap().len() < before);
        assert_eq!(ix.series_count(), 0);
        let r = ix.resolve(
            &Limits::default(),
            &[p("cpu", "c", "v", FieldValue::Float(1.0))],
        );
        assert_eq!(r.series, vec![3]);
    }

    #[test]
    fn mid_log_corruption_is_an_error_and_torn_tail_is_not() {
        let d = tempfile::tempdir().unwrap();
        {
            let ix = Index::open(&vfs(), d.path()).unwrap();
            ix.resolve(
                &Limits::default(),
                &[
                    p("cpu", "a", "v", FieldValue::Float(1.0)),
                    p("cpu", "b", "v", FieldValue::Float(1.0)),
                ],
            );
            ix.sync().unwrap();
        }
        let path = d.path().join("index.log");
        let good = fs::read(&path).unwrap();
        let mut bad = good.clone();
        bad[10] ^= 0xff;
        fs::write(&path, &bad).unwrap();
        assert!(matches!(
            Index::open(&vfs(), d.path()),
            Err(Error::Corrupt { .. })
        ));
        fs::write(&path, &good[..good.len() - 3]).unwrap();
        let ix = Index::open(&vfs(), d.path()).unwrap();
        assert_eq!(ix.series_count(), 1);
    }

    fn three_series_log(dir: &Path) -> Vec<u8> {
        let ix = Index::open(&vfs(), dir).unwrap();
        ix.resolve(
            &Limits::default(),
            &[
                p("cpu", "a", "v", FieldValue::Float(1.0)),
                p("cpu", "b", "v", FieldValue::Float(1.0)),
                p("cpu", "c", "v", FieldValue::Float(1.0)),
            ],
        );
        ix.sync().unwrap();
        fs::read(dir.join("index.log")).unwrap()
    }

    #[test]
    fn l11_damaged_length_in_the_middle_is_corruption_not_a_torn_tail() {
        let d = tempfile::tempdir().unwrap();
        let good = three_series_log(d.path());
        let path = d.path().join("index.log");
        // a length field running past the end, and a zeroed one, each on the first record
        for len in [u32::MAX, 0] {
            let mut bad = good.clone();
            bad[..4].copy_from_slice(&len.to_le_bytes());
            fs::write(&path, &bad).unwrap();
            match Index::open(&vfs(), d.path()) {
                Err(Error::Corrupt { detail, .. }) => {
                    assert!(detail.contains("offset 0"), "{detail}")
                }
                Ok(ix) => panic!("len {len}: opened with {} series", ix.series_count()),
                Err(e) => panic!("{e}"),
            }
            assert_eq!(fs::read(&path).unwrap(), bad, "nothing truncated");
        }
    }

    #[test]
    fn l11_torn_and_zero_filled_tails_are_still_truncated() {
        let d = tempfile::tempdir().unwrap();
        let good = three_series_log(d.path());
        let path = d.path().join("index.log");
        let mut zeros = good.clone();
        zeros.extend_from_slice(&[0u8; 4096]);
        fs::write(&path, &zeros).unwrap();
        assert_eq!(Index::open(&vfs(), d.path()).unwrap().series_count(), 3);
        assert_eq!(fs::read(&path).unwrap(), good);
        for cut in 1..12 {
            fs::write(&path, &good[..good.len() - cut]).unwrap();
            let ix = Index::open(&vfs(), d.path()).unwrap();
            assert_eq!(ix.series_count(), 2, "cut {cut}");
        }
    }
}
