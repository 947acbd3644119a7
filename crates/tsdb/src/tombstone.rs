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
//! fsyncs the directory, so a new file's entry is durable). A torn tail (a
//! crash or a failed append) is ignored on load and cut off before the next
//! append, so records always follow intact ones; a damaged record followed
//! by intact ones is corruption (deleted values must not silently return).

use std::path::{Path, PathBuf};

use parking_lot::RwLock;
use rustc_hash::FxHashMap;

use crate::bytes::{frame, is_torn_tail, next_frame, Framed, Reader};
use crate::error::{Error, Result};
use crate::vfs::{SharedVfs, VfsFile};

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
    /// Length of the intact records; anything after is a torn tail.
    len: u64,
}

/// Checksum work spent telling a torn tail from damage in the middle.
const MAX_RESYNC_HASHED_BYTES: usize = 64 << 20;

/// Whether `p` has a tombstone record's shape: 20 bytes, then as many
/// series ids as it says.
fn plausible(p: &[u8]) -> bool {
    let Some(n) = p.get(16..20) else { return false };
    let n = u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize;
    n.checked_mul(8).and_then(|b| b.checked_add(20)) == Some(p.len())
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

/// Decodes the records of a `.tomb` file; a torn tail ends it, damage
/// followed by intact records is corruption.
fn decode(data: &[u8], path: &Path) -> Result<Inner> {
    let mut inner = Inner::default();
    let mut pos = 0;
    loop {
        let p = match next_frame(data, &mut pos) {
            Framed::Record(p) => p,
            Framed::End => break,
            Framed::Torn | Framed::BadChecksum => {
                if is_torn_tail(data, pos, data.len(), MAX_RESYNC_HASHED_BYTES, plausible) {
                    break;
                }
                return Err(Error::corrupt(
                    path,
                    format!("damaged tombstone record at offset {pos} followed by more data"),
                ));
            }
        };
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
    inner.len = pos as u64;
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
        let good = inner.len;
        let mut f = self.vfs.open_append(&self.path)?;
        if let Err(e) = self.append(&mut *f, good, &buf, inner.dir_synced) {
            // Cut the partial record off now (or before the next append).
            if let Err(t) = f.set_len(good) {
                tracing::error!(path = %self.path.display(), error = %t, "cannot truncate a failed tombstone append");
            }
            return Err(e);
        }
        inner.dir_synced = true;
        inner.len = good + buf.len() as u64;
        for &id in ids {
            inner.by_series.entry(id).or_default().push((min, max));
        }
        inner.log.push((ids.to_vec(), min, max));
        Ok(())
    }

    /// Appends `buf` after the `good` bytes of intact records and makes it
    /// durable (with the directory entry, unless `dir_synced`).
    fn append(&self, f: &mut dyn VfsFile, good: u64, buf: &[u8], dir_synced: bool) -> Result<()> {
        if f.size()? != good {
            // a torn tail (a crash, or a failed append): new records must
            // follow intact ones, or reloading stops before them
            f.set_len(good)?;
        }
        f.write_all(buf)?;
        f.sync_all()?;
        if !dir_synced {
            // The file may be new (or made by a process that died before
            // its directory fsync): an fsynced file whose entry is lost
            // would bring the deleted values back.
            if let Some(dir) = self.path.parent() {
                self.vfs.sync_dir(dir)?;
            }
        }
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

    #[test]
    fn records_after_a_torn_tail_survive_reloading() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.tsm.tomb");
        let vfs: SharedVfs = std::sync::Arc::new(crate::vfs::StdFs);
        let t = Tombstones::open(vfs.clone(), &p).unwrap();
        t.add(&[1], 10, 20).unwrap();
        // a crash (or a failed append) left half a record
        let mut data = std::fs::read(&p).unwrap();
        let good = data.len();
        let mut half = Vec::new();
        frame(&mut half, &encode(&[2], 30, 40));
        data.extend_from_slice(&half[..half.len() / 2]);
        std::fs::write(&p, &data).unwrap();
        let t = Tombstones::open(vfs.clone(), &p).unwrap();
        assert_eq!(t.count(), 1);
        t.add(&[3], 50, 60).unwrap();
        let t = Tombstones::open(vfs.clone(), &p).unwrap();
        assert_eq!(
            t.ranges(3),
            vec![(50, 60)],
            "the record after the torn tail"
        );
        assert!(t.ranges(2).is_empty());
        // damage before intact records is an error, not silently fewer deletes
        let mut data = std::fs::read(&p).unwrap();
        data[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&p, &data).unwrap();
        assert!(matches!(
            Tombstones::open(vfs, &p),
            Err(Error::Corrupt { .. })
        ));
        assert!(good > 0);
    }
}
