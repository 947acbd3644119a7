//! tsdb: Tidemark's storage engine — durable, per-shard, TSM-style.
//!
//! # Design
//!
//! A [`Store`] holds every shard of the node; a [`Shard`] holds one
//! database / retention policy / time range and is fully independent:
//!
//! * **Series index** (`index`): series key ↔ u64 id, measurement → tag key →
//!   tag value → series ids, and the field schema measurement → field →
//!   (u32 field id, type). In memory, persisted as an append-only log in the
//!   shard directory, fsynced by the WAL group-commit leader before the WAL
//!   records that mention new ids. Opening a shard reads this log only.
//! * **WAL** (`wal`, `walrecord`): segment files of CRC-framed records; a
//!   write record carries (series id, time, field id, type, value) tuples in
//!   a compact varint encoding. Concurrent writers share one fsync (group
//!   commit, `wal_fsync_delay` lets a group wait). Replay truncates a torn
//!   tail. Segments are deleted once a snapshot file holds their contents.
//! * **Cache** (`cache`): series id → field id → times + typed values;
//!   in-order appends are pushes, ordering and dedup (last write wins) happen
//!   lazily. Above `cache_snapshot_memory_size`, or when cold, a background
//!   thread freezes it (swap under a short exclusive lock, WAL roll) and
//!   writes it as a level-1 data file while writers continue into a fresh
//!   cache; readers see files + frozen snapshot + active cache.
//! * **Data files** (`tsm`): immutable; per (series id, field id) blocks of
//!   ≤ 1000 values compressed by `codec`, block index with min/max time at
//!   the end, footer with checksum; read with `pread`, index in memory.
//!   Deletes append durable tombstones next to each file (`tombstone`).
//! * **Compaction** (`compact`): levelled merges 1 → 2 → 3 → 4 and a full
//!   compaction when cold; dedup and tombstones resolved; outputs published
//!   by temp + fsync + rename + dir fsync; superseded inputs are recognised by
//!   their generation range if a crash interrupts the swap.
//!
//! Layout: data in `<dir>/<db>/<rp>/<shard id>/` (`*.tsm`, `*.tsm.tomb`,
//! `index.log`), WAL in `<wal_dir>/<db>/<rp>/<shard id>/*.wal`.
//!
//! # Durability contract
//!
//! A write or delete that returns `Ok` survives a power loss at any later
//! moment: its WAL record (and every series-index record it names) was
//! fsynced, and every file and directory entry it depends on was made
//! durable — new files are fsynced and then their directory, new directory
//! levels are fsynced into their parents, data files are published by
//! temp + fsync + rename + directory fsync, tombstones are fsynced (with
//! their directory the first time a process appends) before a delete
//! returns. A write that returns an error may or may not survive. Appends
//! after a failed one follow the intact records; WAL segments are removed
//! oldest first, each removal durable before the next; if a data file is in
//! place but its directory fsync fails, the shard refuses writes and deletes
//! until a restart (`Store::failed_shards` lists it). Every
//! file-system change goes through [`vfs::Vfs`] ([`StdFs`] in production);
//! the tests run the engine on a simulator that drops whatever was not made
//! durable and check this contract at many random cut points
//! (`tests/power_loss.rs`).
//!
//! # Example
//!
//! ```no_run
//! use models::{FieldValue, Point, TimeRange};
//! use tsdb::{EngineConfig, Store, TagPredicate};
//!
//! # fn main() -> tsdb::Result<()> {
//! let store = Store::open(EngineConfig::default())?;
//! let shard = store.create_shard("telegraf", "autogen", 1)?;
//! let p = Point::new(
//!     "cpu".into(),
//!     vec![("host".into(), "a".into())],
//!     vec![("usage".into(), FieldValue::Float(0.5))],
//!     1_700_000_000_000_000_000,
//! );
//! shard.write_points(&[p])?; // durable (fsynced) when Ok
//! for s in shard.series("cpu", &TagPredicate::True) {
//!     for block in shard.read(s.id, "usage", TimeRange::ALL)? {
//!         let block = block?; // ascending, unique times, ≤ 1000 values
//!         println!("{} {:?}", s.key, block.times);
//!     }
//! }
//! store.close()?;
//! # Ok(())
//! # }
//! ```
//!
//! The engine is synchronous (std threads + parking_lot locks); async
//! callers use `spawn_blocking`. Disk corruption surfaces as
//! [`Error::Corrupt`], never as a panic.

mod block;
mod bytes;
mod cache;
mod cardinality;
mod compact;
mod config;
mod cursor;
mod digest;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod index;
mod predicate;
mod shard;
mod store;
mod tombstone;
mod tsm;
pub mod vfs;
mod wal;
mod walrecord;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

pub use block::MAX_BLOCK_VALUES;
pub use cardinality::DatabaseCardinality;
pub use config::{
    EngineConfig, DEFAULT_MAX_FIELDS_PER_MEASUREMENT, DEFAULT_MAX_STRING_FIELD_BYTES,
    DEFAULT_MAX_TAGS_PER_SERIES,
};
pub use cursor::BlockCursor;
pub use digest::{SeriesDigest, ShardDigest};
pub use error::{Error, Result};
pub use predicate::TagPredicate;
pub use shard::{ReadStats, Shard};
pub use store::{FailedShard, Store};
pub use vfs::{SharedVfs, StdFs, Vfs, VfsFile};

/// One series as listed by the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesInfo {
    pub id: u64,
    pub key: Arc<str>,
    pub measurement: Arc<str>,
    pub tags: Arc<[(String, String)]>,
}

/// Per-shard counters and sizes for `/debug/vars`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardStatistics {
    pub id: u64,
    pub database: String,
    pub retention_policy: String,
    pub path: PathBuf,
    pub series: u64,
    pub measurements: u64,
    pub points_written: u64,
    pub values_written: u64,
    pub write_requests: u64,
    pub write_errors: u64,
    pub disk_bytes: u64,
    pub cache_bytes: u64,
    pub wal_bytes: u64,
    pub snapshots: u64,
    pub compactions: u64,
    /// Points the WAL replay at open skipped because their series was not
    /// in the series index (dropped since, or lost from `index.log`).
    pub wal_replay_dropped_points: u64,
}

impl Shard {
    /// Runs one compaction step now (levelled, or `full`). Returns whether
    /// anything was compacted.
    pub fn compact(&self, full: bool) -> Result<bool> {
        compact::compact(self, full)
    }
}
