//! The set of shards on this node: discovery on open, creation and deletion,
//! and the background threads that snapshot caches and compact files.
//! Owns no file format; shards own their directories.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, RwLock};

use crate::cardinality::DatabaseCardinality;
use crate::config::EngineConfig;
use crate::error::{Error, Result};
use crate::shard::Shard;
use crate::vfs::{self, SharedVfs, StdFs};
use crate::ShardStatistics;

const SNAPSHOT_POLL: Duration = Duration::from_millis(100);
const COMPACT_POLL: Duration = Duration::from_secs(1);

struct Shared {
    cfg: Arc<EngineConfig>,
    /// Each database's series counts, shared by its shards.
    databases: Mutex<BTreeMap<String, Arc<DatabaseCardinality>>>,
    vfs: SharedVfs,
    shards: RwLock<BTreeMap<u64, Arc<Shard>>>,
    /// Shards found on disk that failed to open: never served, reported.
    failed: RwLock<BTreeMap<u64, FailedShard>>,
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Shared {
    /// Sleeps up to `d`; returns false once the store is stopping.
    fn wait(&self, d: Duration) -> bool {
        let mut stop = self.stop.lock();
        if !*stop {
            self.wake.wait_for(&mut stop, d);
        }
        !*stop
    }

    fn database(&self, db: &str) -> Arc<DatabaseCardinality> {
        self.databases
            .lock()
            .entry(db.to_string())
            .or_default()
            .clone()
    }

    fn list(&self) -> Vec<Arc<Shard>> {
        self.shards.read().values().cloned().collect()
    }
}

/// A shard found on disk that could not be opened (corrupt file, I/O
/// error): its data is not served, queries and writes that need it get
/// [`Error::ShardUnavailable`] instead of silently partial answers. Also
/// listed: an open shard that refuses writes until a restart because a data
/// file was put in place but its directory fsync failed (it still serves
/// reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedShard {
    pub id: u64,
    pub database: String,
    pub retention_policy: String,
    /// The shard's data directory.
    pub path: PathBuf,
    /// Why it could not be opened.
    pub error: String,
}

impl FailedShard {
    fn unavailable(&self) -> Error {
        Error::ShardUnavailable {
            id: self.id,
            reason: self.error.clone(),
        }
    }
}

/// Every shard on this node.
pub struct Store {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

fn dir_names(p: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let rd = match fs::read_dir(p) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e.into()),
    };
    for e in rd {
        let e = e?;
        if e.file_type()?.is_dir() {
            if let Some(n) = e.file_name().to_str() {
                out.push(n.to_string());
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Store {
    /// Opens every shard under `cfg.dir` (replaying their WALs) and starts the
    /// background snapshot and compaction threads.
    pub fn open(cfg: EngineConfig) -> Result<Store> {
        Store::open_with_vfs(cfg, Arc::new(StdFs))
    }

    /// [`Store::open`] with every file-system change going through `vfs`
    /// (tests record them, inject errors and simulate power loss).
    pub fn open_with_vfs(cfg: EngineConfig, vfs: SharedVfs) -> Result<Store> {
        vfs::create_dir_all(&*vfs, &cfg.dir)?;
        vfs::create_dir_all(&*vfs, &cfg.wal_dir)?;
        let cfg = Arc::new(cfg);
        let mut shards = BTreeMap::new();
        let mut failed = BTreeMap::new();
        let mut databases: BTreeMap<String, Arc<DatabaseCardinality>> = BTreeMap::new();
        for db in dir_names(&cfg.dir)? {
            let counts = databases.entry(db.clone()).or_default().clone();
            for rp in dir_names(&cfg.dir.join(&db))? {
                for id in dir_names(&cfg.dir.join(&db).join(&rp))? {
                    let Ok(id) = id.parse::<u64>() else { continue };
                    match Shard::open(cfg.clone(), vfs.clone(), &db, &rp, id, counts.clone()) {
                        Ok(s) => {
                            shards.insert(id, Arc::new(s));
                        }
                        Err(e) => {
                            let path = cfg.dir.join(&db).join(&rp).join(id.to_string());
                            tracing::error!(
                                shard = id,
                                db,
                                rp,
                                path = %path.display(),
                                error = %e,
                                "SHARD UNAVAILABLE: cannot open shard; its data is not served \
                                 and queries and writes that need it fail until it is repaired \
                                 or removed and the node restarted"
                            );
                            failed.insert(
                                id,
                                FailedShard {
                                    id,
                                    database: db.clone(),
                                    retention_policy: rp.clone(),
                                    path,
                                    error: e.to_string(),
                                },
                            );
                        }
                    }
                }
            }
        }
        let shared = Arc::new(Shared {
            cfg: cfg.clone(),
            databases: Mutex::new(databases),
            vfs,
            shards: RwLock::new(shards),
            failed: RwLock::new(failed),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let mut threads = Vec::new();
        let s = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name("tsdb-snapshot".into())
                .spawn(move || snapshot_loop(&s))?,
        );
        for i in 0..cfg.compaction_threads() {
            let s = shared.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("tsdb-compact-{i}"))
                    .spawn(move || compact_loop(&s))?,
            );
        }
        Ok(Store {
            shared,
            threads: Mutex::new(threads),
        })
    }

    /// Opens (creating if needed) shard `id` of `db`/`rp`. Idempotent.
    pub fn create_shard(&self, db: &str, rp: &str, id: u64) -> Result<Arc<Shard>> {
        if *self.shared.stop.lock() {
            return Err(Error::Closed);
        }
        let mut shards = self.shared.shards.write();
        if let Some(f) = self.shared.failed.read().get(&id) {
            // Not retried: opening a damaged shard again on every write
            // would cost a full open each time and hide the damage.
            return Err(f.unavailable());
        }
        if let Some(s) = shards.get(&id) {
            if s.database() != db || s.retention_policy() != rp {
                return Err(Error::ShardConflict {
                    id,
                    db: s.database().to_string(),
                    rp: s.retention_policy().to_string(),
                });
            }
            return Ok(s.clone());
        }
        let s = Arc::new(Shard::open(
            self.shared.cfg.clone(),
            self.shared.vfs.clone(),
            db,
            rp,
            id,
            self.shared.database(db),
        )?);
        shards.insert(id, s.clone());
        Ok(s)
    }

    /// Shard `id`, if open. A shard that failed to open is `None` here; use
    /// [`Store::try_shard`] where that must be an error.
    pub fn shard(&self, id: u64) -> Option<Arc<Shard>> {
        self.shared.shards.read().get(&id).cloned()
    }

    /// Shard `id` if open, `None` if this node has no such shard, and
    /// [`Error::ShardUnavailable`] if it is on disk but failed to open.
    pub fn try_shard(&self, id: u64) -> Result<Option<Arc<Shard>>> {
        if let Some(s) = self.shard(id) {
            return Ok(Some(s));
        }
        match self.shared.failed.read().get(&id) {
            Some(f) => Err(f.unavailable()),
            None => Ok(None),
        }
    }

    /// Shards found on disk at open that could not be opened, and open
    /// shards that refuse writes until a restart (ascending id).
    pub fn failed_shards(&self) -> Vec<FailedShard> {
        let mut out: Vec<FailedShard> = self.shared.failed.read().values().cloned().collect();
        for s in self.shards() {
            if let Some(error) = s.unavailable() {
                out.push(FailedShard {
                    id: s.id(),
                    database: s.database().to_string(),
                    retention_policy: s.retention_policy().to_string(),
                    path: s.path().to_path_buf(),
                    error,
                });
            }
        }
        out.sort_by_key(|f| f.id);
        out
    }

    pub fn shards(&self) -> Vec<Arc<Shard>> {
        self.shared.list()
    }

    /// Closes shard `id` and removes its files (also those of a shard that
    /// failed to open).
    pub fn delete_shard(&self, id: u64) -> Result<()> {
        let open = self.shared.shards.write().remove(&id);
        if let Some(s) = open {
            s.close();
            return s.remove_files();
        }
        let f = self
            .shared
            .failed
            .read()
            .get(&id)
            .cloned()
            .ok_or(Error::ShardNotFound(id))?;
        let cfg = &self.shared.cfg;
        let wal_dir = cfg
            .wal_dir
            .join(&f.database)
            .join(&f.retention_policy)
            .join(id.to_string());
        for d in [&f.path, &wal_dir] {
            vfs::remove_dir_all(&*self.shared.vfs, d)?;
        }
        self.shared.failed.write().remove(&id);
        Ok(())
    }

    pub fn delete_database(&self, db: &str) -> Result<()> {
        let ids: Vec<u64> = self
            .shards()
            .iter()
            .filter(|s| s.database() == db)
            .map(|s| s.id())
            .collect();
        for id in ids {
            self.delete_shard(id)?;
        }
        for d in [
            self.shared.cfg.dir.join(db),
            self.shared.cfg.wal_dir.join(db),
        ] {
            vfs::remove_dir_all(&*self.shared.vfs, &d)?;
        }
        self.shared.failed.write().retain(|_, f| f.database != db);
        Ok(())
    }

    pub fn delete_retention_policy(&self, db: &str, rp: &str) -> Result<()> {
        let ids: Vec<u64> = self
            .shards()
            .iter()
            .filter(|s| s.database() == db && s.retention_policy() == rp)
            .map(|s| s.id())
            .collect();
        for id in ids {
            self.delete_shard(id)?;
        }
        for d in [
            self.shared.cfg.dir.join(db).join(rp),
            self.shared.cfg.wal_dir.join(db).join(rp),
        ] {
            vfs::remove_dir_all(&*self.shared.vfs, &d)?;
        }
        self.shared
            .failed
            .write()
            .retain(|_, f| f.database != db || f.retention_policy != rp);
        Ok(())
    }

    pub fn statistics(&self) -> Vec<ShardStatistics> {
        self.shards().iter().map(|s| s.statistics()).collect()
    }

    fn stop_threads(&self) {
        *self.shared.stop.lock() = true;
        self.shared.wake.notify_all();
        for t in self.threads.lock().drain(..) {
            let _ = t.join();
        }
    }

    /// Stops background work, snapshots every cache and closes the shards.
    pub fn close(&self) -> Result<()> {
        self.stop_threads();
        let mut first_err = None;
        for s in self.shards() {
            if s.is_closed() {
                continue;
            }
            if let Err(e) = s.flush() {
                tracing::error!(shard = s.id(), error = %e, "snapshot on close failed");
                first_err.get_or_insert(e);
            }
            s.close();
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Simulates a process kill after the last acknowledged write: stops the
    /// background threads without snapshotting anything. For crash tests.
    #[doc(hidden)]
    pub fn crash(self) {
        self.stop_threads();
        for s in self.shards() {
            s.close();
        }
        std::mem::forget(self);
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::error!(error = %e, "closing store");
        }
    }
}

/// Runs one background job, logging errors and containing panics so a bug
/// in one shard's job does not stop background work for every shard.
fn run_job(shard: &Shard, what: &str, job: impl FnOnce() -> Result<bool>) {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)) {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(shard = shard.id(), error = %e, "{what} failed"),
        Err(_) => tracing::error!(shard = shard.id(), "{what} panicked"),
    }
}

fn snapshot_loop(sh: &Shared) {
    while sh.wait(SNAPSHOT_POLL) {
        for s in sh.list() {
            // a shard refusing writes until a restart would fail (and log) every poll
            if s.is_closed() || s.unavailable().is_some() || !s.needs_snapshot() {
                continue;
            }
            run_job(&s, "cache snapshot", || s.snapshot());
        }
    }
}

fn compact_loop(sh: &Shared) {
    while sh.wait(COMPACT_POLL) {
        for s in sh.list() {
            if s.is_closed() {
                continue;
            }
            let full = s.idle() >= sh.cfg.compact_full_write_cold_duration;
            run_job(&s, "compaction", || crate::compact::compact(&s, full));
        }
    }
}
