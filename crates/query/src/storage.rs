//! The read/maintenance surface of the storage engine the executor needs,
//! as traits, so the planner and the shard-local scan are independent of the
//! concrete engine (and of a remote node: a cluster implementation can serve
//! the same trait). Also an in-memory implementation used by tests.
//!
//! Owns: the trait contract and the tag filter type. Must not: plan or
//! evaluate queries.

use crate::error::Result;
use models::{Block, FieldType, TimeRange};
use std::sync::Arc;

/// A boolean expression over the tags of a series (missing tag == "").
#[derive(Debug, Clone)]
pub enum TagFilter {
    True,
    Eq(String, String),
    NotEq(String, String),
    Regex(String, regex::Regex),
    NotRegex(String, regex::Regex),
    And(Box<TagFilter>, Box<TagFilter>),
    Or(Box<TagFilter>, Box<TagFilter>),
}

fn tag<'a>(tags: &'a [(String, String)], key: &str) -> &'a str {
    tags.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

impl TagFilter {
    /// Whether a series with these tags satisfies the filter.
    pub fn matches(&self, tags: &[(String, String)]) -> bool {
        match self {
            TagFilter::True => true,
            TagFilter::Eq(k, v) => tag(tags, k) == v,
            TagFilter::NotEq(k, v) => tag(tags, k) != v,
            TagFilter::Regex(k, re) => re.is_match(tag(tags, k)),
            TagFilter::NotRegex(k, re) => !re.is_match(tag(tags, k)),
            TagFilter::And(a, b) => a.matches(tags) && b.matches(tags),
            TagFilter::Or(a, b) => a.matches(tags) || b.matches(tags),
        }
    }

    /// `a AND b`, simplifying `True`.
    pub fn and(a: TagFilter, b: TagFilter) -> TagFilter {
        match (a, b) {
            (TagFilter::True, x) | (x, TagFilter::True) => x,
            (a, b) => TagFilter::And(Box::new(a), Box::new(b)),
        }
    }
}

/// Where a read finds its values (see [`ShardReader::read_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Values still in the write cache.
    pub cached: u64,
    /// Data files holding the key.
    pub files: u64,
    /// Blocks overlapping the range, and their bytes on disk.
    pub blocks: u64,
    pub block_bytes: u64,
}

/// One series of a shard.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRef {
    pub id: u64,
    pub key: String,
    /// Sorted by key.
    pub tags: Vec<(String, String)>,
}

/// Blocks of one (series, field), ascending by time, deduplicated.
pub type BlockIter<'a> = Box<dyn Iterator<Item = Result<Block>> + 'a>;

/// What the executor reads from (and maintains on) one shard.
pub trait ShardReader: Send + Sync {
    fn id(&self) -> u64;
    fn measurements(&self) -> Vec<String>;
    fn series(&self, measurement: &str, filter: &TagFilter) -> Vec<SeriesRef>;
    fn tag_keys(&self, measurement: &str) -> Vec<String>;
    fn tag_values(&self, measurement: &str, key: &str) -> Vec<String>;
    fn fields(&self, measurement: &str) -> Vec<(String, FieldType)>;
    fn read(&self, series_id: u64, field: &str, range: TimeRange) -> Result<BlockIter<'_>>;
    /// An upper bound of the values `read` would return, cheap to compute
    /// (no decoding); `u64::MAX` when unknown, which makes the statement
    /// count as large.
    fn estimate_values(&self, _series_id: u64, _field: &str, _range: TimeRange) -> u64 {
        u64::MAX
    }
    /// Where a read of (series, field) in `range` would find its values, for
    /// EXPLAIN; all zero when the storage cannot tell.
    fn read_stats(&self, _series_id: u64, _field: &str, _range: TimeRange) -> ReadStats {
        ReadStats::default()
    }
    fn delete(&self, series_ids: &[u64], range: TimeRange) -> Result<()>;
    fn drop_measurement(&self, name: &str) -> Result<()>;
    fn series_count(&self) -> u64;
    /// Time span the shard can hold (its shard group), when known.
    fn time_bounds(&self) -> Option<TimeRange> {
        None
    }
}

/// The set of local shards.
pub trait Storage: Send + Sync {
    /// Local shard `id`: `None` when this node holds no such shard, an
    /// error when it holds one it cannot serve (it failed to open), so a
    /// query never answers from a silently partial set of shards.
    fn shard(&self, id: u64) -> Result<Option<Arc<dyn ShardReader>>>;
    fn delete_shard(&self, id: u64) -> Result<()>;
    fn delete_database(&self, db: &str) -> Result<()>;
}

/// Where SELECT INTO writes its points.
pub trait PointSink: Send + Sync {
    fn write(&self, db: &str, rp: &str, points: Vec<models::Point>, now: i64) -> Result<()>;
}

pub mod mem {
    //! An in-memory [`Storage`] for tests: shards are created on write.
    use super::*;
    use crate::error::Error;
    use models::{Column, FieldValue, Point};
    use parking_lot::RwLock;
    use std::collections::BTreeMap;

    type FieldData = BTreeMap<i64, FieldValue>;

    #[derive(Default)]
    struct SeriesData {
        id: u64,
        measurement: String,
        tags: Vec<(String, String)>,
        fields: BTreeMap<String, FieldData>,
    }

    /// One in-memory shard.
    #[derive(Default)]
    pub struct MemShard {
        id: u64,
        block_size: usize,
        series: RwLock<BTreeMap<String, SeriesData>>,
        field_types: RwLock<BTreeMap<(String, String), FieldType>>,
    }

    impl MemShard {
        pub fn new(id: u64) -> MemShard {
            MemShard {
                id,
                block_size: 1024,
                ..Default::default()
            }
        }

        /// Serves reads in blocks of `n` points (tests use small blocks).
        pub fn with_block_size(mut self, n: usize) -> MemShard {
            self.block_size = n.max(1);
            self
        }

        pub fn write(&self, points: &[Point]) {
            let mut s = self.series.write();
            let mut ft = self.field_types.write();
            for p in points {
                let n = s.len() as u64 + 1;
                let e = s.entry(p.key.clone()).or_insert_with(|| SeriesData {
                    id: n,
                    measurement: p.measurement.clone(),
                    tags: p.tags.clone(),
                    fields: BTreeMap::new(),
                });
                for (f, v) in &p.fields {
                    ft.entry((p.measurement.clone(), f.clone()))
                        .or_insert(v.field_type());
                    e.fields
                        .entry(f.clone())
                        .or_default()
                        .insert(p.time, v.clone());
                }
            }
        }
    }

    fn block_of(data: &[(i64, FieldValue)]) -> Option<Block> {
        let first = data.first()?;
        let times = data.iter().map(|(t, _)| *t).collect();
        let values = match &first.1 {
            FieldValue::Float(_) => Column::Float(
                data.iter()
                    .map(|(_, v)| {
                        if let FieldValue::Float(f) = v {
                            *f
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            ),
            FieldValue::Integer(_) => Column::Integer(
                data.iter()
                    .map(|(_, v)| {
                        if let FieldValue::Integer(f) = v {
                            *f
                        } else {
                            0
                        }
                    })
                    .collect(),
            ),
            FieldValue::Unsigned(_) => Column::Unsigned(
                data.iter()
                    .map(|(_, v)| {
                        if let FieldValue::Unsigned(f) = v {
                            *f
                        } else {
                            0
                        }
                    })
                    .collect(),
            ),
            FieldValue::Boolean(_) => Column::Boolean(
                data.iter()
                    .map(|(_, v)| matches!(v, FieldValue::Boolean(true)))
                    .collect(),
            ),
            FieldValue::String(_) => Column::String(
                data.iter()
                    .map(|(_, v)| {
                        if let FieldValue::String(f) = v {
                            f.clone()
                        } else {
                            String::new()
                        }
                    })
                    .collect(),
            ),
        };
        Some(Block { times, values })
    }

    impl ShardReader for MemShard {
        fn id(&self) -> u64 {
            self.id
        }
        fn measurements(&self) -> Vec<String> {
            let mut v: Vec<String> = self
                .series
                .read()
                .values()
                .map(|s| s.measurement.clone())
                .collect();
            v.sort();
            v.dedup();
            v
        }
        fn series(&self, measurement: &str, filter: &TagFilter) -> Vec<SeriesRef> {
            self.series
                .read()
                .iter()
                .filter(|(_, s)| s.measurement == measurement && filter.matches(&s.tags))
                .map(|(k, s)| SeriesRef {
                    id: s.id,
                    key: k.clone(),
                    tags: s.tags.clone(),
                })
                .collect()
        }
        fn tag_keys(&self, measurement: &str) -> Vec<String> {
            let mut v: Vec<String> = self
                .series
                .read()
                .values()
                .filter(|s| s.measurement == measurement)
                .flat_map(|s| s.tags.iter().map(|t| t.0.clone()).collect::<Vec<_>>())
                .collect();
            v.sort();
            v.dedup();
            v
        }
        fn tag_values(&self, measurement: &str, key: &str) -> Vec<String> {
            let mut v: Vec<String> = self
                .series
                .read()
                .values()
                .filter(|s| s.measurement == measurement)
                .filter_map(|s| s.tags.iter().find(|t| t.0 == key).map(|t| t.1.clone()))
                .collect();
            v.sort();
            v.dedup();
            v
        }
        fn fields(&self, measurement: &str) -> Vec<(String, FieldType)> {
            self.field_types
                .read()
                .iter()
                .filter(|((m, _), _)| m == measurement)
                .map(|((_, f), t)| (f.clone(), *t))
                .collect()
        }
        fn read(&self, series_id: u64, field: &str, range: TimeRange) -> Result<BlockIter<'_>> {
            let s = self.series.read();
            let Some(sd) = s.values().find(|s| s.id == series_id) else {
                return Ok(Box::new(std::iter::empty()));
            };
            let data: Vec<(i64, FieldValue)> = sd
                .fields
                .get(field)
                .map(|f| {
                    f.range(range.min..=range.max)
                        .map(|(t, v)| (*t, v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            // Split into small blocks to exercise block boundaries.
            let blocks: Vec<Result<Block>> = data
                .chunks(self.block_size)
                .filter_map(block_of)
                .map(Ok)
                .collect();
            Ok(Box::new(blocks.into_iter()))
        }
        fn read_stats(&self, series_id: u64, field: &str, range: TimeRange) -> ReadStats {
            ReadStats {
                cached: self.estimate_values(series_id, field, range),
                ..Default::default()
            }
        }
        fn estimate_values(&self, series_id: u64, field: &str, range: TimeRange) -> u64 {
            let s = self.series.read();
            s.values()
                .find(|s| s.id == series_id)
                .and_then(|sd| sd.fields.get(field))
                .map_or(0, |f| f.range(range.min..=range.max).count() as u64)
        }
        fn delete(&self, series_ids: &[u64], range: TimeRange) -> Result<()> {
            let mut s = self.series.write();
            for sd in s.values_mut().filter(|s| series_ids.contains(&s.id)) {
                for f in sd.fields.values_mut() {
                    f.retain(|t, _| !range.contains(*t));
                }
                sd.fields.retain(|_, f| !f.is_empty());
            }
            s.retain(|_, sd| !sd.fields.is_empty());
            Ok(())
        }
        fn drop_measurement(&self, name: &str) -> Result<()> {
            self.series.write().retain(|_, s| s.measurement != name);
            self.field_types.write().retain(|(m, _), _| m != name);
            Ok(())
        }
        fn series_count(&self) -> u64 {
            self.series.read().len() as u64
        }
    }

    /// In-memory shards by id.
    #[derive(Default)]
    pub struct MemStorage {
        pub shards: RwLock<BTreeMap<u64, (String, Arc<MemShard>)>>,
    }

    impl MemStorage {
        pub fn shard_or_create(&self, db: &str, id: u64) -> Arc<MemShard> {
            self.shards
                .write()
                .entry(id)
                .or_insert_with(|| {
                    (
                        db.to_string(),
                        Arc::new(MemShard::new(id).with_block_size(3)),
                    )
                })
                .1
                .clone()
        }
    }

    impl Storage for MemStorage {
        fn shard(&self, id: u64) -> Result<Option<Arc<dyn ShardReader>>> {
            Ok(self
                .shards
                .read()
                .get(&id)
                .map(|(_, s)| s.clone() as Arc<dyn ShardReader>))
        }
        fn delete_shard(&self, id: u64) -> Result<()> {
            self.shards.write().remove(&id);
            Ok(())
        }
        fn delete_database(&self, db: &str) -> Result<()> {
            self.shards.write().retain(|_, (d, _)| d != db);
            Ok(())
        }
    }

    /// A [`PointSink`] writing through a meta store into a [`MemStorage`]
    /// (shard groups created as needed; one shard per group).
    pub struct MemWriter {
        pub meta: Arc<dyn meta::MetaStore>,
        pub storage: Arc<MemStorage>,
    }

    impl PointSink for MemWriter {
        fn write(&self, db: &str, rp: &str, points: Vec<Point>, _now: i64) -> Result<()> {
            for p in points {
                let data = self.meta.data();
                let rpi = data
                    .retention_policy(db, rp)
                    .ok_or_else(|| Error::DatabaseNotFound(db.to_string()))?;
                let rp_name = rpi.name.clone();
                let id = match rpi.shard_group_for(p.time) {
                    Some(g) => g.shards.first().map(|s| s.id),
                    None => None,
                };
                let id = match id {
                    Some(id) => id,
                    None => {
                        self.meta.execute(meta::Command::CreateShardGroup {
                            database: db.into(),
                            policy: rp_name.clone(),
                            timestamp: p.time,
                        })?;
                        let data = self.meta.data();
                        data.retention_policy(db, &rp_name)
                            .and_then(|r| r.shard_group_for(p.time))
                            .and_then(|g| g.shards.first())
                            .map(|s| s.id)
                            .ok_or_else(|| Error::msg("shard group not created"))?
                    }
                };
                self.storage.shard_or_create(db, id).write(&[p]);
            }
            Ok(())
        }
    }
}
