//! The error type of the storage engine. Owns nothing but the taxonomy of
//! failures and their InfluxDB-compatible texts; must not do I/O itself.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Some points were rejected (field type conflicts); the rest were written.
    #[error("partial write: {reason} dropped={dropped}")]
    PartialWrite { reason: String, dropped: usize },
    /// The in-memory cache is full; the write was rejected as a whole.
    #[error("cache-max-memory-size exceeded: ({used}/{max})")]
    CacheMaxMemorySizeExceeded { used: u64, max: u64 },
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt file {path}: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("shard {0} not found")]
    ShardNotFound(u64),
    /// The shard is on disk but failed to open at startup (see `Store::failed_shards`).
    #[error("shard {id} is unavailable: {reason}")]
    ShardUnavailable { id: u64, reason: String },
    /// The shard exists under another database / retention policy.
    #[error("shard {id} already exists in {db}.{rp}")]
    ShardConflict { id: u64, db: String, rp: String },
    /// The WAL write or fsync of this commit group failed; the points were not acknowledged.
    #[error("wal failed: {0}")]
    WalFailed(String),
    #[error("store is closed")]
    Closed,
    #[error("invalid series key {0:?}")]
    InvalidSeriesKey(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn corrupt(path: impl Into<PathBuf>, detail: impl Into<String>) -> Error {
        Error::Corrupt {
            path: path.into(),
            detail: detail.into(),
        }
    }
}
