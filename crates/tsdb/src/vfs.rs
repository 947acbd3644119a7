//! The engine's file-system changes behind a small trait, so tests can
//! record them, inject errors and simulate a power loss.
//!
//! Owns: every operation that changes what is on disk or makes it durable —
//! creating, writing, truncating, fsyncing, renaming and removing files,
//! creating, removing and fsyncing directories. Must not: read. Reads
//! (`std::fs::read`, `read_dir`, the read-only maps of data files) go to the
//! real files directly; a test implementation keeps the real files current,
//! so reads see what a running process would see.
//!
//! [`StdFs`] is the implementation every server uses: each call is the
//! `std::fs` call it names. The engine holds it as an `Arc<dyn Vfs>`, and a
//! file as a `Box<dyn VfsFile>`: one indirect call per system call (a WAL
//! group costs one write and one fsync), nothing on the read path.
//!
//! # Durability contract
//!
//! What the engine relies on, and what the power-loss test (`vfs::crash`)
//! checks by dropping everything else:
//!
//! * a file's contents are durable up to its last successful
//!   `sync_data`/`sync_all`; anything written after may be lost or torn;
//! * a directory entry (a file or directory created, renamed or removed) is
//!   durable only once its directory was `sync_dir`ed afterwards;
//! * a failed fsync makes nothing durable (the engine then abandons the
//!   file rather than retrying the fsync).
//!
//! So every new file is fsynced and then its directory; every new directory
//! level ([`create_dir_all`]) is made durable in its parent before use; a
//! rename publishes a complete, fsynced file and is followed by a directory
//! fsync before anything depends on it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

#[cfg(test)]
pub(crate) mod crash;

/// An open file the engine writes.
pub trait VfsFile: Write + Send + Sync {
    /// Makes the contents durable (`fdatasync`).
    fn sync_data(&self) -> io::Result<()>;
    /// Makes the contents and metadata durable (`fsync`).
    fn sync_all(&self) -> io::Result<()>;
    /// Truncates or extends the file.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// The file's current length.
    fn size(&self) -> io::Result<u64>;
}

/// The file-system changes the engine makes. See the module docs.
pub trait Vfs: Send + Sync + std::fmt::Debug + 'static {
    /// Creates `path` for writing, truncating an existing file.
    fn create(&self, path: &Path) -> io::Result<Box<dyn VfsFile>>;
    /// Opens `path` for appending, creating it if missing.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn VfsFile>>;
    /// Opens the existing file `path` for writing (to truncate it).
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn VfsFile>>;
    /// Renames a file within one directory.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Creates one directory level (the parent must exist).
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// Makes the entries of directory `path` durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
}

/// The engine's file system handle.
pub type SharedVfs = Arc<dyn Vfs>;

/// The real file system (`std::fs`).
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

impl VfsFile for File {
    fn sync_data(&self) -> io::Result<()> {
        File::sync_data(self)
    }
    fn sync_all(&self) -> io::Result<()> {
        File::sync_all(self)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        File::set_len(self, len)
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
}

impl Vfs for StdFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(
            OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .open(path)?,
        ))
    }
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(
            OpenOptions::new().create(true).append(true).open(path)?,
        ))
    }
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(OpenOptions::new().write(true).open(path)?))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir_all(path)
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }
}

/// Creates `path` and any missing parents, each new level made durable in
/// its parent (the parent is fsynced after the level is created), so files
/// later made durable inside it cannot vanish with a lost directory entry.
pub(crate) fn create_dir_all(vfs: &dyn Vfs, path: &Path) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut p = Some(path);
    while let Some(d) = p {
        if d.as_os_str().is_empty() || d.is_dir() {
            break;
        }
        missing.push(d);
        p = d.parent();
    }
    for d in missing.into_iter().rev() {
        match vfs.create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => continue,
            Err(e) => return Err(e),
        }
        let parent = d.parent().filter(|p| !p.as_os_str().is_empty());
        vfs.sync_dir(parent.unwrap_or(Path::new(".")))?;
    }
    Ok(())
}

/// Removes the directory tree `path` (if present) and makes the removal
/// durable in its parent.
pub(crate) fn remove_dir_all(vfs: &dyn Vfs, path: &Path) -> io::Result<()> {
    match vfs.remove_dir_all(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Some(p) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        vfs.sync_dir(p)?;
    }
    Ok(())
}

/// Removes a file, treating a missing one as removed.
pub(crate) fn remove_if_present(vfs: &dyn Vfs, path: &Path) -> io::Result<()> {
    match vfs.remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
