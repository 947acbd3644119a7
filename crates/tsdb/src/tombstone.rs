//! Tombstones of one data file: time ranges deleted from some of its series.
//! Applied on read and resolved (dropped) by compaction. Owns the `.tomb`
//! file format; knows nothing of which file they belong to beyond its path.
//!
//! # Byte layout
//!
//! `<data file name>.tomb` is a sequence of framed records
//! `[len u32][crc32 u32][payload]`, payload = `min i64 LE, max i64 LE,
//! n u32 LE, n × series id u64 LE`. Each record is appended and fsynced before
//! the delete is acknowledged (the first record a process appends also
//! fsyncs the directory, so a new file's entry is durable); a torn tail is
//! ignored on load.

use std::io::Write;
use std::path::{Path, PathBuf};

use parking_lot::RwLock;
use rustc_hash::FxHashMap;

use crate::bytes::{frame, next_frame, Framed, Reader};
use crate::error::{Error, Result};
use crate::vfs::SharedVfs;

pub(crate) fn path_for(tsm: &Path) -> PathBuf {
    let mut s = tsm.as_os_str().to_os_string();
    s.push(".tomb");
    PathBuf::from(s)
}

#[derive(Debug, Default)]
struct Inner {
    by_series: FxHashMap<u64, Vec<(i64, i64)>>,
    /// Records in the order written, for copying into a compaction output.
    log: Vec<(Vec<u64>, i64, i64)>,
    /// Whether this process made the file's directory entry durable.
    dir_synced: bool,
}

#[derive(Debug)]
pub(crate) struct Tombstones {
    vfs: SharedVfs,
    path: PathBuf,
    inner: RwLock<Inner>,
}

fn encode(ids: &[u64], min: i64, max: i64) -> Vec<u8> {
    let mut p = Vec::with_capacity(20 + ids.len() * 8);
    p.extend_from_slice(&min.to_le_bytes());
    p.extend_from_slice(&max.to_le_bytes());
    p.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    for id in ids {
        p.extend_from_slice(&id.to_le_bytes());
    }
    p
}

/// Decodes the records of a `.tomb` file; a torn or corrupt tail ends it.
fn decode(data: &[u8], path: &Path) -> Result<Inner> {
    let mut inner = Inner::default();
    let mut pos = 0;
    while let Framed::Record(p) = next_frame(data, &mut pos) {
        let mut r = Reader::new(p);
        let rec = (|| {
            let min = r.i64()?;
            let max = r.i64()?;
            let n = r.u32()? as usize;
            // every id takes eight bytes of the record
            let mut ids = Vec::with_capacity(n.min(p.len() / 8));
            for _ in 0..n {
                ids.push(r.u64()?);
            }
            Some((ids, min, max))
        })()
        .ok_or_else(|| Error::corrupt(path, "tombstone record"))?;
        for &id in &rec.0 {
            inner.by_series.entry(id).or_default().push((rec.1, rec.2));
        }
        inner.log.push(rec);
    }
    Ok(inner)
}

impl Tombstones {
    pub(crate) fn open(vfs: SharedVfs, path: &Path) -> Result<Tombstones> {
        let inner = match std::fs::read(path) {
            Ok(data) => decode(&data, path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Inner::default(),
            Err(e) => return Err(e.into()),
        };
        Ok(Tombstones {
            vfs,
            path: path.to_path_buf(),
            inner: RwLock::new(inner),
        })
    }

    /// Decodes the bytes of a `.tomb` file (`path` only names it in errors;
    /// later additions would go through the real file system).
    pub(crate) fn from_bytes(data: &[u8], path: &Path) -> Result<Tombstones> {
        Ok(Tombstones {
            vfs: std::sync::Arc::new(crate::vfs::StdFs),
            path: path.to_path_buf(),
            inner: RwLock::new(decode(data, path)?),
        })
    }

    /// Durably records that `ids` lost their values in `[min, max]`.
    pub(crate) fn add(&self, ids: &[u64], min: i64, max: i64) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        frame(&mut buf, &encode(ids, min, max));
        let mut inner = self.inner.write();
        let mut f = self.vfs.open_append(&self.path)?;
        f.write_all(&buf)?;
        f.sync_all()?;
        if !inner.dir_synced {
            // The file may be new (or made by a process that died before
            // its directory fsync): an fsynced file whose entry is lost
            // would bring the deleted values back.
            if let Some(dir) = self.path.parent() {
                self.vfs.sync_dir(dir)?;
            }
            inner.dir_synced = true;
        }
        for &id in ids {
            inner.by_series.entry(id).or_default().push((min, max));
        }
        inner.log.push((ids.to_vec(), min, max));
        Ok(())
    }

    /// Deleted ranges of `series` (empty if none).
    pub(crate) fn ranges(&self, series: u64) -> Vec<(i64, i64)> {
        self.inner
            .read()
            .by_series
            .get(&series)
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.inner.read().log.is_empty()
    }

    pub(crate) fn count(&self) -> usize {
        self.inner.read().log.len()
    }

    /// Records added after the first `from` ones.
    pub(crate) fn since(&self, from: usize) -> Vec<(Vec<u64>, i64, i64)> {
        self.inner
            .read()
            .log
            .get(from..)
            .map(|s| s.to_vec())
            .unwrap_or_default()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persist_and_reload() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.tsm.tomb");
        let vfs: SharedVfs = std::sync::Arc::new(crate::vfs::StdFs);
        let t = Tombstones::open(vfs.clone(), &p).unwrap();
        assert!(t.is_empty());
        t.add(&[1, 2], 10, 20).unwrap();
        t.add(&[2], 30, 40).unwrap();
        let t = Tombstones::open(vfs, &p).unwrap();
        assert_eq!(t.ranges(2), vec![(10, 20), (30, 40)]);
        assert_eq!(t.ranges(1), vec![(10, 20)]);
        assert!(t.ranges(3).is_empty());
        assert_eq!(t.count(), 2);
        assert_eq!(t.since(1), vec![(vec![2], 30, 40)]);
    }
}
