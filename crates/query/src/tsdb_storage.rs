//! Adapters from the concrete engine (`tsdb::Store`/`Shard`) and the
//! cluster points writer to the executor's storage traits.
//!
//! Owns: type conversions only. Must not: plan or evaluate queries.

use crate::error::{Error, Result};
use crate::storage::{BlockIter, PointSink, SeriesRef, ShardReader, Storage, TagFilter};
use models::{FieldType, TimeRange};
use std::sync::Arc;

/// The local tsdb store as [`Storage`].
pub struct TsdbStorage(pub Arc<tsdb::Store>);

/// One tsdb shard as a [`ShardReader`].
pub struct TsdbShard(pub Arc<tsdb::Shard>);

fn storage_err(e: tsdb::Error) -> Error {
    Error::msg(e.to_string())
}

fn predicate(f: &TagFilter) -> tsdb::TagPredicate {
    use tsdb::TagPredicate as P;
    match f {
        TagFilter::True => P::True,
        TagFilter::Eq(k, v) => P::Eq(k.clone(), v.clone()),
        TagFilter::NotEq(k, v) => P::NotEq(k.clone(), v.clone()),
        TagFilter::Regex(k, r) => P::Regex(k.clone(), r.clone()),
        TagFilter::NotRegex(k, r) => P::NotRegex(k.clone(), r.clone()),
        TagFilter::And(a, b) => P::And(Box::new(predicate(a)), Box::new(predicate(b))),
        TagFilter::Or(a, b) => P::Or(Box::new(predicate(a)), Box::new(predicate(b))),
    }
}

impl ShardReader for TsdbShard {
    fn id(&self) -> u64 {
        self.0.id()
    }
    fn measurements(&self) -> Vec<String> {
        self.0.measurements()
    }
    fn series(&self, measurement: &str, filter: &TagFilter) -> Vec<SeriesRef> {
        self.0
            .series(measurement, &predicate(filter))
            .into_iter()
            .map(|s| SeriesRef {
                id: s.id,
                key: s.key.to_string(),
                tags: s.tags.to_vec(),
            })
            .collect()
    }
    fn tag_keys(&self, measurement: &str) -> Vec<String> {
        self.0.tag_keys(measurement)
    }
    fn tag_values(&self, measurement: &str, key: &str) -> Vec<String> {
        self.0.tag_values(measurement, key)
    }
    fn fields(&self, measurement: &str) -> Vec<(String, FieldType)> {
        self.0.fields(measurement)
    }
    fn read(&self, series_id: u64, field: &str, range: TimeRange) -> Result<BlockIter<'_>> {
        let c = self.0.read(series_id, field, range).map_err(storage_err)?;
        Ok(Box::new(c.map(|b| b.map_err(storage_err))))
    }
    fn estimate_values(&self, series_id: u64, field: &str, range: TimeRange) -> u64 {
        self.0.estimate_values(series_id, field, range)
    }
    fn read_stats(
        &self,
        series_id: u64,
        field: &str,
        range: TimeRange,
    ) -> crate::storage::ReadStats {
        let s = self.0.read_stats(series_id, field, range);
        crate::storage::ReadStats {
            cached: s.cached,
            files: s.files,
            blocks: s.blocks,
            block_bytes: s.block_bytes,
        }
    }
    fn delete(&self, series_ids: &[u64], range: TimeRange) -> Result<()> {
        self.0.delete(series_ids, range).map_err(storage_err)
    }
    fn drop_measurement(&self, name: &str) -> Result<()> {
        self.0.drop_measurement(name).map_err(storage_err)
    }
    fn series_count(&self) -> u64 {
        self.0.series_count()
    }
}

impl Storage for TsdbStorage {
    fn shard(&self, id: u64) -> Result<Option<Arc<dyn ShardReader>>> {
        // A shard that failed to open is an error ("shard N is
        // unavailable: ..."), never an empty shard.
        Ok(self
            .0
            .try_shard(id)
            .map_err(storage_err)?
            .map(|s| Arc::new(TsdbShard(s)) as Arc<dyn ShardReader>))
    }
    fn delete_shard(&self, id: u64) -> Result<()> {
        self.0.delete_shard(id).map_err(storage_err)
    }
    fn delete_database(&self, db: &str) -> Result<()> {
        self.0.delete_database(db).map_err(storage_err)
    }
}

/// The cluster points writer as a [`PointSink`] (SELECT INTO).
pub struct WriterSink(pub Arc<cluster::PointsWriter>);

impl PointSink for WriterSink {
    fn write(&self, db: &str, rp: &str, points: Vec<models::Point>, now: i64) -> Result<()> {
        self.0
            .write(db, rp, points, cluster::Consistency::One, now)
            .map_err(|e| match e {
                cluster::WriteError::DatabaseNotFound(d) => Error::DatabaseNotFound(d),
                other => Error::msg(other.to_string()),
            })
    }
}

impl crate::executor::QueryExecutor {
    /// The executor the server uses: local tsdb shards, cluster writer.
    pub fn new(
        meta: Arc<dyn meta::MetaStore>,
        store: Arc<tsdb::Store>,
        writer: Arc<cluster::PointsWriter>,
        cfg: crate::executor::ExecutorConfig,
    ) -> Self {
        Self::with_storage(
            meta,
            Arc::new(TsdbStorage(store)),
            Some(Arc::new(WriterSink(writer))),
            cfg,
        )
    }
}
