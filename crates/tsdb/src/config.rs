//! Engine configuration (the `[data]` section of InfluxDB 1.x). Owns the
//! defaults only; must not read files or environment.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `[data] dir`: shard data files live in `<dir>/<db>/<rp>/<shard id>/`.
    pub dir: PathBuf,
    /// `[data] wal-dir`: shard WALs live in `<wal_dir>/<db>/<rp>/<shard id>/`.
    pub wal_dir: PathBuf,
    /// `wal-fsync-delay`: how long a commit group waits to batch more writers
    /// before its fsync. Zero fsyncs every group immediately.
    pub wal_fsync_delay: Duration,
    /// `cache-max-memory-size`: writes are rejected above this (0 = unlimited).
    pub cache_max_memory_size: u64,
    /// `cache-snapshot-memory-size`: a shard's cache is snapshotted above this.
    pub cache_snapshot_memory_size: u64,
    /// `cache-snapshot-write-cold-duration`: snapshot a cache idle this long.
    pub cache_snapshot_write_cold_duration: Duration,
    /// `compact-full-write-cold-duration`: fully compact a shard idle this long.
    pub compact_full_write_cold_duration: Duration,
    /// `max-concurrent-compactions`: compaction threads (0 = half the cores, at least 1).
    pub max_concurrent_compactions: usize,
    /// `max-series-per-database` (0 = unlimited). Enforced over all of the
    /// database's shards on this node: points that would create a series
    /// beyond it are dropped (partial write).
    pub max_series_per_database: u64,
    /// `max-values-per-tag` (0 = unlimited). Enforced per database,
    /// measurement and tag key: points that would add a tag value beyond it
    /// are dropped.
    pub max_values_per_tag: u64,
    /// `max-tags-per-series` (0 = unlimited): points with more tags are dropped.
    pub max_tags_per_series: u64,
    /// `max-fields-per-measurement` (0 = unlimited), per shard: points that
    /// would add a field beyond it are dropped.
    pub max_fields_per_measurement: u64,
    /// `max-string-field-bytes` (0 = unlimited): points with a longer string
    /// field value are dropped (InfluxDB's 64 KB string limit).
    pub max_string_field_bytes: u64,
}

/// Defaults of the limits InfluxDB 1.x does not have as options.
pub const DEFAULT_MAX_TAGS_PER_SERIES: u64 = 512;
pub const DEFAULT_MAX_FIELDS_PER_MEASUREMENT: u64 = 65_536;
pub const DEFAULT_MAX_STRING_FIELD_BYTES: u64 = 64 * 1024;

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            dir: PathBuf::from("./data"),
            wal_dir: PathBuf::from("./wal"),
            wal_fsync_delay: Duration::ZERO,
            cache_max_memory_size: 1024 * 1024 * 1024,
            cache_snapshot_memory_size: 25 * 1024 * 1024,
            cache_snapshot_write_cold_duration: Duration::from_secs(600),
            compact_full_write_cold_duration: Duration::from_secs(4 * 3600),
            max_concurrent_compactions: 0,
            max_series_per_database: 1_000_000,
            max_values_per_tag: 100_000,
            max_tags_per_series: DEFAULT_MAX_TAGS_PER_SERIES,
            max_fields_per_measurement: DEFAULT_MAX_FIELDS_PER_MEASUREMENT,
            max_string_field_bytes: DEFAULT_MAX_STRING_FIELD_BYTES,
        }
    }
}

impl EngineConfig {
    pub(crate) fn compaction_threads(&self) -> usize {
        if self.max_concurrent_compactions > 0 {
            return self.max_concurrent_compactions;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (cores / 2).max(1)
    }
}
