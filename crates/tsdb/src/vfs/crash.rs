//! A [`Vfs`] for tests that simulates power loss and injects errors.
//!
//! Owns: a model of what is durable. Every change goes to the real files
//! under a root directory (so the engine's reads and maps work unchanged)
//! and is mirrored in the model: per file its live contents and its
//! contents as of the last fsync; per directory its live entries, its
//! durable entries and the entry changes (create, rename, remove) made since
//! its last fsync. Real fsyncs are skipped: durability is what the model
//! says. Must not be used outside tests.
//!
//! A power cut ([`CrashFs::power_cut`], or automatically before the n-th
//! change with [`CrashFs::cut_before`]) captures an [`Image`] of what a disk
//! could hold afterwards:
//!
//! * strict: each file as of its last fsync; each directory's entries as of
//!   its last fsync (a file never made durable in its directory vanishes);
//! * torn (seeded): additionally a random prefix of each directory's later
//!   entry changes plus a random subset of its later removals (unlinks may
//!   reach the disk in any order), and for a file written past its fsynced length a random
//!   prefix of the unsynced bytes, sometimes as zeros (size updated before
//!   the data).
//!
//! After the cut every change fails: the machine is off. Errors can also be
//! injected per operation kind and path ([`CrashFs::fail`]); an injected
//! write error first writes half of the buffer (a short write).

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{Vfs, VfsFile};

type Ino = u64;
const ROOT: Ino = 1;

/// The kinds of change, for cut points and fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Create,
    Write,
    Sync,
    SetLen,
    Rename,
    Remove,
    CreateDir,
    SyncDir,
}

#[derive(Clone)]
enum DirOp {
    Set(OsString, Ino),
    Remove(OsString),
    Rename(OsString, OsString, Ino),
}

enum Node {
    File {
        live: Vec<u8>,
        durable: Vec<u8>,
    },
    Dir {
        live: BTreeMap<OsString, Ino>,
        durable: BTreeMap<OsString, Ino>,
        pending: Vec<DirOp>,
    },
}

struct Fault {
    op: Op,
    path_part: String,
    /// Matching operations to let through before failing.
    skip: u64,
    remaining: u64,
    /// Fail one matching operation in `one_in` (1 = every one).
    one_in: u64,
}

/// What a disk holds after a power cut: relative paths, parents first;
/// `None` for a directory.
pub(crate) struct Image {
    entries: Vec<(PathBuf, Option<Vec<u8>>)>,
}

impl Image {
    /// Writes the image into the (empty or missing) directory `dir`.
    pub(crate) fn write_to(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        for (rel, content) in &self.entries {
            let p = dir.join(rel);
            match content {
                None => fs::create_dir(&p)?,
                Some(c) => fs::write(&p, c)?,
            }
        }
        Ok(())
    }
}

struct Model {
    root: PathBuf,
    nodes: HashMap<Ino, Node>,
    next: Ino,
    ops: u64,
    cut_before: Option<(u64, Option<u64>)>,
    image: Option<Image>,
    off: bool,
    faults: Vec<Fault>,
    rng: u64,
}

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("injected {what} error"))
}

/// xorshift64, high half (the low bits of nearby states are correlated).
fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s >> 32
}

impl Model {
    fn names(&self, path: &Path) -> io::Result<Vec<OsString>> {
        let rel = path.strip_prefix(&self.root).map_err(|_| {
            io::Error::other(format!("{} is outside the simulated root", path.display()))
        })?;
        rel.components()
            .map(|c| match c {
                Component::Normal(n) => Ok(n.to_os_string()),
                _ => Err(io::Error::other(format!(
                    "unsupported path {}",
                    path.display()
                ))),
            })
            .collect()
    }

    fn lookup(&self, names: &[OsString]) -> Option<Ino> {
        let mut ino = ROOT;
        for n in names {
            match self.nodes.get(&ino)? {
                Node::Dir { live, .. } => ino = *live.get(n)?,
                Node::File { .. } => return None,
            }
        }
        Some(ino)
    }

    /// The live parent directory of `path` and the entry name.
    fn parent(&self, path: &Path) -> io::Result<(Ino, OsString)> {
        let mut names = self.names(path)?;
        let name = names
            .pop()
            .ok_or_else(|| io::Error::other("the root itself"))?;
        let dir = self
            .lookup(&names)
            .filter(|d| matches!(self.nodes.get(d), Some(Node::Dir { .. })))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no parent directory"))?;
        Ok((dir, name))
    }

    fn dir_mut(&mut self, ino: Ino) -> (&mut BTreeMap<OsString, Ino>, &mut Vec<DirOp>) {
        match self.nodes.get_mut(&ino) {
            Some(Node::Dir { live, pending, .. }) => (live, pending),
            _ => unreachable!("parent() returns directories"),
        }
    }

    fn file_mut(&mut self, ino: Ino) -> &mut Vec<u8> {
        match self.nodes.get_mut(&ino) {
            Some(Node::File { live, .. }) => live,
            _ => unreachable!("file handles name files"),
        }
    }

    fn add(&mut self, node: Node) -> Ino {
        self.next += 1;
        self.nodes.insert(self.next, node);
        self.next
    }

    /// Counts a change; cuts power before it if due; applies injected faults.
    fn tick(&mut self, op: Op, path: &Path) -> io::Result<()> {
        if self.off {
            return Err(io::Error::other("power is off"));
        }
        self.ops += 1;
        if let Some((at, torn)) = self.cut_before {
            if self.ops >= at {
                self.image = Some(self.capture(torn));
                self.off = true;
                return Err(io::Error::other("power is off"));
            }
        }
        let p = path.to_string_lossy();
        let mut rng = self.rng;
        let mut hit = None;
        for f in self.faults.iter_mut() {
            if f.op != op || f.remaining == 0 || !p.contains(&f.path_part) {
                continue;
            }
            if f.skip > 0 {
                f.skip -= 1;
                continue;
            }
            if xorshift(&mut rng).is_multiple_of(f.one_in) {
                hit = Some(f);
                break;
            }
        }
        self.rng = rng;
        if let Some(f) = hit {
            f.remaining -= 1;
            return Err(injected(&format!("{op:?}")));
        }
        Ok(())
    }

    fn capture(&self, torn: Option<u64>) -> Image {
        let mut rng = torn.map(|s| s.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut entries = Vec::new();
        self.capture_dir(ROOT, PathBuf::new(), &mut rng, &mut entries);
        Image { entries }
    }

    fn capture_dir(
        &self,
        ino: Ino,
        rel: PathBuf,
        rng: &mut Option<u64>,
        out: &mut Vec<(PathBuf, Option<Vec<u8>>)>,
    ) {
        let Some(Node::Dir {
            durable, pending, ..
        }) = self.nodes.get(&ino)
        else {
            return;
        };
        let mut entries = durable.clone();
        if let Some(r) = rng.as_mut() {
            let k = (xorshift(r) % (pending.len() as u64 + 1)) as usize;
            for op in &pending[..k] {
                match op {
                    DirOp::Set(n, i) => {
                        entries.insert(n.clone(), *i);
                    }
                    DirOp::Remove(n) => {
                        entries.remove(n);
                    }
                    DirOp::Rename(a, b, i) => {
                        entries.remove(a);
                        entries.insert(b.clone(), *i);
                    }
                }
            }
            // Unsynced removals may reach the disk in any order.
            for op in &pending[k..] {
                if let DirOp::Remove(n) = op {
                    if xorshift(r).is_multiple_of(2) {
                        entries.remove(n);
                    }
                }
            }
        }
        for (name, child) in entries {
            let path = rel.join(&name);
            match self.nodes.get(&child) {
                Some(Node::Dir { .. }) => {
                    out.push((path.clone(), None));
                    self.capture_dir(child, path, rng, out);
                }
                Some(Node::File { live, durable }) => {
                    let mut content = durable.clone();
                    if let Some(r) = rng.as_mut() {
                        if live.len() > durable.len() && live.starts_with(durable) {
                            let extra =
                                (xorshift(r) % (live.len() - durable.len() + 1) as u64) as usize;
                            if xorshift(r).is_multiple_of(4) {
                                content.resize(durable.len() + extra, 0);
                            } else {
                                content
                                    .extend_from_slice(&live[durable.len()..durable.len() + extra]);
                            }
                        }
                    }
                    out.push((path, Some(content)));
                }
                None => {}
            }
        }
    }

    fn import_children(&mut self, real: &Path) -> io::Result<BTreeMap<OsString, Ino>> {
        let mut map = BTreeMap::new();
        for e in fs::read_dir(real)? {
            let e = e?;
            let ino = if e.file_type()?.is_dir() {
                let children = self.import_children(&e.path())?;
                self.add(Node::Dir {
                    live: children.clone(),
                    durable: children,
                    pending: Vec::new(),
                })
            } else {
                let data = fs::read(e.path())?;
                self.add(Node::File {
                    live: data.clone(),
                    durable: data,
                })
            };
            map.insert(e.file_name(), ino);
        }
        Ok(map)
    }
}

/// See the module docs.
#[derive(Clone)]
pub(crate) struct CrashFs {
    m: Arc<Mutex<Model>>,
}

impl std::fmt::Debug for CrashFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CrashFs")
    }
}

impl CrashFs {
    /// Simulates the file system under `root` (created if missing); what is
    /// there already counts as durable.
    pub(crate) fn new(root: &Path) -> io::Result<CrashFs> {
        fs::create_dir_all(root)?;
        let mut m = Model {
            root: root.to_path_buf(),
            nodes: HashMap::new(),
            next: ROOT,
            ops: 0,
            cut_before: None,
            image: None,
            off: false,
            faults: Vec::new(),
            rng: 0x9e37_79b9_7f4a_7c15,
        };
        m.nodes.insert(
            ROOT,
            Node::Dir {
                live: BTreeMap::new(),
                durable: BTreeMap::new(),
                pending: Vec::new(),
            },
        );
        let entries = m.import_children(root)?;
        if let Some(Node::Dir { live, durable, .. }) = m.nodes.get_mut(&ROOT) {
            *live = entries.clone();
            *durable = entries;
        }
        Ok(CrashFs {
            m: Arc::new(Mutex::new(m)),
        })
    }

    /// Cuts the power just before the `n`-th change (counted from the
    /// start), torn with `torn_seed` or strict.
    pub(crate) fn cut_before(&self, n: u64, torn_seed: Option<u64>) {
        self.m.lock().cut_before = Some((n, torn_seed));
    }

    /// Whether the power was cut.
    pub(crate) fn is_off(&self) -> bool {
        self.m.lock().off
    }

    /// Cuts the power now (unless already cut) and returns the image.
    pub(crate) fn power_cut(&self, torn_seed: Option<u64>) -> Image {
        let mut m = self.m.lock();
        if m.image.is_none() {
            m.image = Some(m.capture(torn_seed));
            m.off = true;
        }
        m.image.take().unwrap_or(Image {
            entries: Vec::new(),
        })
    }

    /// Fails the next `times` operations of kind `op` whose path contains
    /// `path_part`, each with probability 1/`one_in`.
    pub(crate) fn fail(&self, op: Op, path_part: &str, times: u64, one_in: u64) {
        self.fail_after(op, path_part, 0, times, one_in);
    }

    /// Like [`CrashFs::fail`], after letting `skip` matching operations through.
    pub(crate) fn fail_after(&self, op: Op, path_part: &str, skip: u64, times: u64, one_in: u64) {
        self.m.lock().faults.push(Fault {
            op,
            path_part: path_part.to_string(),
            skip,
            remaining: times,
            one_in: one_in.max(1),
        });
    }

    pub(crate) fn clear_faults(&self) {
        self.m.lock().faults.clear();
    }

    fn open_file(&self, path: &Path, truncate: bool, create: bool) -> io::Result<CrashFile> {
        let mut m = self.m.lock();
        if create {
            m.tick(Op::Create, path)?;
        } else if m.off {
            return Err(io::Error::other("power is off"));
        }
        let (dir, name) = m.parent(path)?;
        let existing = m.dir_mut(dir).0.get(&name).copied();
        let file = OpenOptions::new()
            .create(create)
            .truncate(truncate)
            .write(true)
            .open(path)?;
        let ino = match existing {
            Some(ino) => {
                if truncate {
                    m.file_mut(ino).clear();
                }
                ino
            }
            None => {
                let ino = m.add(Node::File {
                    live: Vec::new(),
                    durable: Vec::new(),
                });
                let (live, pending) = m.dir_mut(dir);
                live.insert(name.clone(), ino);
                pending.push(DirOp::Set(name, ino));
                ino
            }
        };
        Ok(CrashFile {
            m: self.m.clone(),
            ino,
            file,
            append: !truncate && create,
            pos: 0,
            path: path.to_path_buf(),
        })
    }
}

struct CrashFile {
    m: Arc<Mutex<Model>>,
    ino: Ino,
    file: File,
    append: bool,
    pos: u64,
    path: PathBuf,
}

impl CrashFile {
    fn apply(&mut self, m: &mut Model, buf: &[u8]) -> io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let live = m.file_mut(self.ino);
        let at = if self.append {
            live.len()
        } else {
            self.pos as usize
        };
        self.file.seek(SeekFrom::Start(at as u64))?;
        self.file.write_all(buf)?;
        if live.len() < at + buf.len() {
            live.resize(at + buf.len(), 0);
        }
        live[at..at + buf.len()].copy_from_slice(buf);
        self.pos = (at + buf.len()) as u64;
        Ok(())
    }
}

impl Write for CrashFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let m = self.m.clone();
        let mut m = m.lock();
        if let Err(e) = m.tick(Op::Write, &self.path) {
            if !m.off {
                let half = &buf[..buf.len() / 2];
                self.apply(&mut m, half)?;
            }
            return Err(e);
        }
        self.apply(&mut m, buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl VfsFile for CrashFile {
    fn sync_data(&self) -> io::Result<()> {
        let mut m = self.m.lock();
        m.tick(Op::Sync, &self.path)?;
        if let Some(Node::File { live, durable }) = m.nodes.get_mut(&self.ino) {
            *durable = live.clone();
        }
        Ok(())
    }
    fn sync_all(&self) -> io::Result<()> {
        self.sync_data()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut m = self.m.lock();
        m.tick(Op::SetLen, &self.path)?;
        self.file.set_len(len)?;
        m.file_mut(self.ino).resize(len as usize, 0);
        Ok(())
    }
    fn size(&self) -> io::Result<u64> {
        let mut m = self.m.lock();
        Ok(m.file_mut(self.ino).len() as u64)
    }
}

impl Vfs for CrashFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(self.open_file(path, true, true)?))
    }
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(self.open_file(path, false, true)?))
    }
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(self.open_file(path, false, false)?))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut m = self.m.lock();
        m.tick(Op::Rename, from)?;
        let (dir, a) = m.parent(from)?;
        let (dir2, b) = m.parent(to)?;
        if dir != dir2 {
            return Err(io::Error::other(
                "rename across directories is not simulated",
            ));
        }
        fs::rename(from, to)?;
        let (live, pending) = m.dir_mut(dir);
        let ino = live
            .remove(&a)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "rename source"))?;
        live.insert(b.clone(), ino);
        pending.push(DirOp::Rename(a, b, ino));
        Ok(())
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut m = self.m.lock();
        m.tick(Op::Remove, path)?;
        let (dir, name) = m.parent(path)?;
        fs::remove_file(path)?;
        let (live, pending) = m.dir_mut(dir);
        live.remove(&name);
        pending.push(DirOp::Remove(name));
        Ok(())
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut m = self.m.lock();
        m.tick(Op::Remove, path)?;
        let (dir, name) = m.parent(path)?;
        fs::remove_dir_all(path)?;
        let (live, pending) = m.dir_mut(dir);
        live.remove(&name);
        pending.push(DirOp::Remove(name));
        Ok(())
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let mut m = self.m.lock();
        m.tick(Op::CreateDir, path)?;
        let (dir, name) = m.parent(path)?;
        fs::create_dir(path)?;
        let ino = m.add(Node::Dir {
            live: BTreeMap::new(),
            durable: BTreeMap::new(),
            pending: Vec::new(),
        });
        let (live, pending) = m.dir_mut(dir);
        live.insert(name.clone(), ino);
        pending.push(DirOp::Set(name, ino));
        Ok(())
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut m = self.m.lock();
        m.tick(Op::SyncDir, path)?;
        let names = m.names(path)?;
        let ino = m
            .lookup(&names)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "sync_dir"))?;
        if let Some(Node::Dir {
            live,
            durable,
            pending,
        }) = m.nodes.get_mut(&ino)
        {
            *durable = live.clone();
            pending.clear();
        }
        Ok(())
    }
}
