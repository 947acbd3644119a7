//! Immutable data files ("TSM"): per (series id, field id) blocks of at most
//! 1000 values, a block index at the end, a footer with a checksum. Owns the
//! file format, writing (temp file + fsync + rename + dir fsync) and
//! positional reads; knows nothing of caches, WALs or compaction policy.
//!
//! # Byte layout
//!
//! File name: `{min_gen:012}-{max_gen:012}-{version:04}.tsm` — the range of
//! snapshot generations whose data it holds (a compaction output covers the
//! union of its inputs, so a file whose range lies inside another's is
//! superseded) and a version that a compaction bumps, so rewriting a single
//! file (full compaction resolving tombstones) never reuses its name.
//!
//! ```text
//! header := "TDMKTSM1" (8 bytes)
//! block  := crc32(body) u32 LE, body
//! body   := type u8, count uvarint, ts_len uvarint, codec timestamps (ts_len bytes), codec values
//! index  := entry* (sorted by series id, then field id)
//! entry  := series u64 LE, field u32 LE, type u8, nblocks u32 LE,
//!           nblocks × (min_time i64, max_time i64, offset u64, size u32, count u32)   (LE)
//! footer := index_offset u64, index_len u64, index_crc32 u32, level u32, magic "TDMKTSM1"   (32 bytes)
//! ```
//!
//! Deletes are recorded next to the file in `<name>.tomb` (see `tombstone`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use models::{Block, Column, FieldType};

use crate::block::{empty_column, MAX_BLOCK_VALUES};
use crate::bytes::{put_uvarint, Reader};
use crate::error::{Error, Result};
use crate::tombstone::Tombstones;
use crate::vfs::{SharedVfs, VfsFile};

const MAGIC: &[u8; 8] = b"TDMKTSM1";
const FOOTER_LEN: u64 = 32;
const BLOCK_META_LEN: usize = 8 + 8 + 8 + 4 + 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockMeta {
    pub(crate) min: i64,
    pub(crate) max: i64,
    pub(crate) offset: u64,
    pub(crate) size: u32,
    pub(crate) count: u32,
}

#[derive(Debug)]
pub(crate) struct KeyEntry {
    pub(crate) series: u64,
    pub(crate) field: u32,
    pub(crate) typ: FieldType,
    pub(crate) blocks: Vec<BlockMeta>,
}

pub(crate) fn file_name(min_gen: u64, max_gen: u64, version: u32) -> String {
    format!("{min_gen:012}-{max_gen:012}-{version:04}.tsm")
}

/// Parses `{min}-{max}-{version}.tsm`.
pub(crate) fn parse_name(name: &str) -> Option<(u64, u64, u32)> {
    let stem = name.strip_suffix(".tsm")?;
    let mut it = stem.split('-');
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    let v = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((a, b, v))
}

fn encode_values(c: &Column, out: &mut Vec<u8>) {
    match c {
        Column::Float(v) => codec::encode_floats(v, out),
        Column::Integer(v) => codec::encode_integers(v, out),
        Column::Unsigned(v) => codec::encode_unsigned(v, out),
        Column::Boolean(v) => codec::encode_booleans(v, out),
        Column::String(v) => codec::encode_strings(v, out),
    }
}

/// Decodes the first `count` values of a block (all of them, or the prefix a
/// reader bounded in time needs; only floats stop early, the others are
/// decoded whole and cut).
fn decode_values(t: FieldType, buf: &[u8], count: usize) -> Result<Column, codec::Error> {
    let mut c = empty_column(t);
    match &mut c {
        Column::Float(v) => {
            v.reserve(count);
            codec::decode_floats_prefix(buf, v, count)?
        }
        Column::Integer(v) => {
            v.reserve(count);
            codec::decode_integers(buf, v)?
        }
        Column::Unsigned(v) => {
            v.reserve(count);
            codec::decode_unsigned(buf, v)?
        }
        Column::Boolean(v) => {
            v.reserve(count);
            codec::decode_booleans(buf, v)?
        }
        Column::String(v) => {
            v.reserve(count);
            codec::decode_strings(buf, v)?
        }
    }
    Ok(c)
}

fn truncate_column(c: &mut Column, n: usize) {
    match c {
        Column::Float(v) => v.truncate(n),
        Column::Integer(v) => v.truncate(n),
        Column::Unsigned(v) => v.truncate(n),
        Column::Boolean(v) => v.truncate(n),
        Column::String(v) => v.truncate(n),
    }
}

/// Maps a published data file read-only.
#[allow(unsafe_code)]
fn map_file(file: &File) -> Result<memmap2::Mmap> {
    // SAFETY: data files are immutable once published: written under a
    // temporary name, fsynced, renamed into place, and afterwards only ever
    // deleted (an unlinked file stays valid for existing maps). Nothing in
    // Tidemark writes to or truncates a published file, so the mapped bytes
    // never change under the map. Another process modifying the data
    // directory would break that, as it would for InfluxDB's maps.
    let map = unsafe { memmap2::Mmap::map(file)? };
    Ok(map)
}

/// Writes one data file. Keys must be added in ascending (series, field)
/// order, blocks of one key in ascending time order.
pub(crate) struct TsmWriter {
    vfs: SharedVfs,
    tmp: PathBuf,
    path: PathBuf,
    out: BufWriter<Box<dyn VfsFile>>,
    offset: u64,
    index: Vec<u8>,
    cur: Option<(u64, u32, FieldType)>,
    cur_blocks: Vec<BlockMeta>,
    scratch: Vec<u8>,
    keys: u64,
}

impl TsmWriter {
    pub(crate) fn create(
        vfs: SharedVfs,
        dir: &Path,
        min_gen: u64,
        max_gen: u64,
        version: u32,
    ) -> Result<TsmWriter> {
        let path = dir.join(file_name(min_gen, max_gen, version));
        let tmp = path.with_extension("tsm.tmp");
        let file = vfs.create(&tmp)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(MAGIC)?;
        Ok(TsmWriter {
            vfs,
            tmp,
            path,
            out,
            offset: MAGIC.len() as u64,
            index: Vec::new(),
            cur: None,
            cur_blocks: Vec::new(),
            scratch: Vec::new(),
            keys: 0,
        })
    }

    fn flush_key(&mut self) {
        if let Some((s, f, t)) = self.cur.take() {
            if self.cur_blocks.is_empty() {
                return;
            }
            let ix = &mut self.index;
            ix.extend_from_slice(&s.to_le_bytes());
            ix.extend_from_slice(&f.to_le_bytes());
            ix.push(t as u8);
            ix.extend_from_slice(&(self.cur_blocks.len() as u32).to_le_bytes());
            for b in self.cur_blocks.drain(..) {
                ix.extend_from_slice(&b.min.to_le_bytes());
                ix.extend_from_slice(&b.max.to_le_bytes());
                ix.extend_from_slice(&b.offset.to_le_bytes());
                ix.extend_from_slice(&b.size.to_le_bytes());
                ix.extend_from_slice(&b.count.to_le_bytes());
            }
            self.keys += 1;
        }
    }

    /// Appends a sorted, deduplicated block of ≤ 1000 values (empty blocks are skipped).
    pub(crate) fn write_block(&mut self, series: u64, field: u32, b: &Block) -> Result<()> {
        let (Some(&min), Some(&max)) = (b.times.first(), b.times.last()) else {
            return Ok(());
        };
        debug_assert!(b.times.len() <= MAX_BLOCK_VALUES);
        let t = b.values.field_type();
        if self.cur.map(|(s, f, _)| (s, f)) != Some((series, field)) {
            self.flush_key();
            self.cur = Some((series, field, t));
        }
        let body = &mut self.scratch;
        body.clear();
        body.push(t as u8);
        put_uvarint(body, b.times.len() as u64);
        let mut ts = Vec::with_capacity(b.times.len() * 2);
        codec::encode_timestamps(&b.times, &mut ts);
        put_uvarint(body, ts.len() as u64);
        body.extend_from_slice(&ts);
        encode_values(&b.values, body);
        let crc = crc32fast::hash(body);
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.write_all(body)?;
        let size = 4 + body.len() as u64;
        self.cur_blocks.push(BlockMeta {
            min,
            max,
            offset: self.offset,
            size: u32::try_from(size).map_err(|_| Error::corrupt(&self.tmp, "block too large"))?,
            count: b.times.len() as u32,
        });
        self.offset += size;
        Ok(())
    }

    pub(crate) fn key_count(&self) -> u64 {
        self.keys + u64::from(self.cur.is_some())
    }

    /// Writes index and footer and fsyncs the temporary file; `publish`
    /// then renames it into place.
    pub(crate) fn finish(mut self, level: u32) -> Result<PendingTsm> {
        let res = (|| -> Result<()> {
            self.flush_key();
            let crc = crc32fast::hash(&self.index);
            self.out.write_all(&self.index)?;
            self.out.write_all(&self.offset.to_le_bytes())?;
            self.out
                .write_all(&(self.index.len() as u64).to_le_bytes())?;
            self.out.write_all(&crc.to_le_bytes())?;
            self.out.write_all(&level.to_le_bytes())?;
            self.out.write_all(MAGIC)?;
            self.out.flush()?;
            self.out.get_ref().sync_all()?;
            Ok(())
        })();
        match res {
            Ok(()) => Ok(PendingTsm {
                vfs: self.vfs,
                tmp: self.tmp,
                path: self.path,
            }),
            Err(e) => {
                let _ = self.vfs.remove_file(&self.tmp);
                Err(e)
            }
        }
    }

    /// Removes the temporary file of an abandoned write.
    pub(crate) fn abort(self) {
        let _ = self.vfs.remove_file(&self.tmp);
    }
}

/// Why [`PendingTsm::publish`] failed.
#[derive(Debug)]
pub(crate) struct PublishError {
    pub(crate) error: Error,
    /// The file is in place under its final name (only the directory fsync
    /// failed): the next open may load it, so the caller cannot treat the
    /// publication as not having happened.
    pub(crate) in_place: bool,
}

/// A complete, fsynced data file still under its temporary name.
pub(crate) struct PendingTsm {
    vfs: SharedVfs,
    tmp: PathBuf,
    path: PathBuf,
}

impl PendingTsm {
    /// The name the file will have once published.
    pub(crate) fn final_path(&self) -> &Path {
        &self.path
    }

    /// Atomically renames the file into place and fsyncs the directory.
    pub(crate) fn publish(self) -> std::result::Result<PathBuf, PublishError> {
        if let Err(e) = self.vfs.rename(&self.tmp, &self.path) {
            return Err(PublishError {
                error: e.into(),
                in_place: false,
            });
        }
        if let Some(dir) = self.path.parent() {
            if let Err(e) = self.vfs.sync_dir(dir) {
                return Err(PublishError {
                    error: e.into(),
                    in_place: true,
                });
            }
        }
        Ok(self.path)
    }

    pub(crate) fn abort(self) {
        let _ = self.vfs.remove_file(&self.tmp);
    }
}

/// An open, immutable data file with its index in memory and its blocks
/// memory-mapped: reads cost no system call or copy, and the kernel keeps
/// mapped pages of a file in use resident where it drops unmapped page
/// cache first (InfluxDB maps its TSM files for the same reason; with
/// `pread`, a dropped cache turned 0.2 ms queries into disk reads).
pub(crate) struct TsmFile {
    pub(crate) path: PathBuf,
    map: memmap2::Mmap,
    pub(crate) min_gen: u64,
    pub(crate) max_gen: u64,
    pub(crate) version: u32,
    pub(crate) level: u32,
    pub(crate) size: u64,
    keys: Vec<KeyEntry>,
    pub(crate) tombstones: Tombstones,
}

/// Checks the footer of a whole data file's bytes and decodes its block
/// index: `(level, entries)`. `path` only names the file in errors.
pub(crate) fn parse_index(data: &[u8], path: &Path) -> Result<(u32, Vec<KeyEntry>)> {
    let corrupt = |d: &str| Error::corrupt(path, d);
    let size = data.len() as u64;
    if size < MAGIC.len() as u64 + FOOTER_LEN {
        return Err(corrupt("file too short"));
    }
    let footer_at = usize::try_from(size - FOOTER_LEN).map_err(|_| corrupt("file size"))?;
    let footer = &data[footer_at..];
    let mut r = Reader::new(footer);
    let (ix_off, ix_len, ix_crc, level) =
        (|| Some((r.u64()?, r.u64()?, r.u32()?, r.u32()?)))().ok_or_else(|| corrupt("footer"))?;
    if &footer[24..] != MAGIC {
        return Err(corrupt("bad footer magic"));
    }
    if ix_off.checked_add(ix_len) != Some(size - FOOTER_LEN) {
        return Err(corrupt("index bounds"));
    }
    let ix_at = usize::try_from(ix_off).map_err(|_| corrupt("index offset"))?;
    let index = &data[ix_at..footer_at];
    if crc32fast::hash(index) != ix_crc {
        return Err(corrupt("index checksum mismatch"));
    }
    let mut r = Reader::new(index);
    let mut keys = Vec::new();
    while !r.is_empty() {
        let e = (|| {
            let series = r.u64()?;
            let field = r.u32()?;
            let typ = FieldType::from_u8(r.u8()?)?;
            let n = r.u32()? as usize;
            let raw = r.bytes(n.checked_mul(BLOCK_META_LEN)?)?;
            let mut br = Reader::new(raw);
            let mut blocks = Vec::with_capacity(n);
            for _ in 0..n {
                blocks.push(BlockMeta {
                    min: br.i64()?,
                    max: br.i64()?,
                    offset: br.u64()?,
                    size: br.u32()?,
                    count: br.u32()?,
                });
            }
            Some(KeyEntry {
                series,
                field,
                typ,
                blocks,
            })
        })()
        .ok_or_else(|| corrupt("index entry"))?;
        if e.blocks
            .iter()
            .any(|b| b.offset.saturating_add(u64::from(b.size)) > ix_off)
        {
            return Err(corrupt("block offset out of bounds"));
        }
        keys.push(e);
    }
    if !keys
        .windows(2)
        .all(|w| (w[0].series, w[0].field) < (w[1].series, w[1].field))
    {
        return Err(corrupt("index not sorted"));
    }
    Ok((level, keys))
}

impl TsmFile {
    pub(crate) fn open(vfs: &SharedVfs, path: &Path) -> Result<TsmFile> {
        let corrupt = |d: &str| Error::corrupt(path, d);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let (min_gen, max_gen, version) =
            parse_name(name).ok_or_else(|| corrupt("bad file name"))?;
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        if size < MAGIC.len() as u64 + FOOTER_LEN {
            return Err(corrupt("file too short"));
        }
        let map = map_file(&file)?;
        if map.len() as u64 != size {
            return Err(corrupt("file changed while opening"));
        }
        let (level, keys) = parse_index(&map, path)?;
        let tombstones = Tombstones::open(vfs.clone(), &crate::tombstone::path_for(path))?;
        Ok(TsmFile {
            path: path.to_path_buf(),
            map,
            min_gen,
            max_gen,
            version,
            level,
            size,
            keys,
            tombstones,
        })
    }

    pub(crate) fn keys(&self) -> &[KeyEntry] {
        &self.keys
    }

    pub(crate) fn entry(&self, series: u64, field: u32) -> Option<&KeyEntry> {
        let i = self
            .keys
            .binary_search_by(|e| (e.series, e.field).cmp(&(series, field)))
            .ok()?;
        Some(&self.keys[i])
    }

    pub(crate) fn has_series(&self, series: u64) -> bool {
        let i = self.keys.partition_point(|e| e.series < series);
        self.keys.get(i).is_some_and(|e| e.series == series)
    }

    /// Reads and decodes one block, verifying its checksum.
    pub(crate) fn read_block(&self, typ: FieldType, m: &BlockMeta) -> Result<Block> {
        self.read_block_until(typ, m, i64::MAX)
    }

    /// Like [`TsmFile::read_block`], without the values after `max` (a
    /// bounded read skips decoding the block's tail).
    pub(crate) fn read_block_until(
        &self,
        typ: FieldType,
        m: &BlockMeta,
        max: i64,
    ) -> Result<Block> {
        decode_block(&self.map, &self.path, typ, m, max)
    }
}

/// Decodes the block `m` of a whole data file's bytes, without the values
/// after `max`, verifying its checksum. `path` only names the file in errors.
pub(crate) fn decode_block(
    data: &[u8],
    path: &Path,
    typ: FieldType,
    m: &BlockMeta,
    max: i64,
) -> Result<Block> {
    let corrupt = |d: String| Error::corrupt(path, d);
    let start = usize::try_from(m.offset).map_err(|_| corrupt("block offset".into()))?;
    let buf = start
        .checked_add(m.size as usize)
        .and_then(|end| data.get(start..end))
        .ok_or_else(|| corrupt(format!("block at offset {} outside the file", m.offset)))?;
    if buf.len() < 4 {
        return Err(corrupt("block too short".into()));
    }
    let crc = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let body = &buf[4..];
    if crc32fast::hash(body) != crc {
        return Err(corrupt(format!(
            "block checksum mismatch at offset {}",
            m.offset
        )));
    }
    let mut r = Reader::new(body);
    let (t, count, ts) = (|| {
        let t = r.u8()?;
        let count = usize::try_from(r.uvarint()?).ok()?;
        let tl = usize::try_from(r.uvarint()?).ok()?;
        Some((t, count, r.bytes(tl)?))
    })()
    .ok_or_else(|| corrupt("block header".into()))?;
    if t != typ as u8 {
        return Err(corrupt("block type differs from index".into()));
    }
    // The count sizes the allocations below: a block never holds more
    // than MAX_BLOCK_VALUES values, and its header agrees with the index.
    if count > MAX_BLOCK_VALUES || count != m.count as usize {
        return Err(corrupt(format!(
            "block at offset {} claims {count} values (index: {}, at most {MAX_BLOCK_VALUES})",
            m.offset, m.count
        )));
    }
    let vals = &body[r.position()..];
    let mut times = Vec::with_capacity(count);
    codec::decode_timestamps(ts, &mut times).map_err(|e| corrupt(format!("timestamps: {e}")))?;
    if times.len() != count {
        return Err(corrupt("block value count mismatch".into()));
    }
    let keep = times.partition_point(|&t| t <= max);
    times.truncate(keep);
    let mut values = decode_values(typ, vals, keep).map_err(|e| corrupt(format!("values: {e}")))?;
    // Floats stop at `keep`; other types decode the whole block.
    if values.len() != keep && values.len() != count {
        return Err(corrupt("block value count mismatch".into()));
    }
    truncate_column(&mut values, keep);
    Ok(Block { times, values })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn vfs() -> SharedVfs {
        std::sync::Arc::new(crate::vfs::StdFs)
    }

    #[test]
    fn fuzz_block_with_a_huge_count_is_corrupt_not_a_panic() {
        // Found by the tsdb_tsm fuzz target (on a tree before L3 bounded the
        // count): a huge count in a block header went straight into
        // `Vec::with_capacity` (capacity overflow panic).
        let mut body = vec![FieldType::Float as u8];
        put_uvarint(&mut body, u64::MAX >> 1);
        put_uvarint(&mut body, 0);
        let mut data = crc32fast::hash(&body).to_le_bytes().to_vec();
        data.extend_from_slice(&body);
        let m = BlockMeta {
            min: 0,
            max: 0,
            offset: 0,
            size: data.len() as u32,
            count: 1,
        };
        let r = decode_block(&data, Path::new("x.tsm"), FieldType::Float, &m, i64::MAX);
        assert!(matches!(r, Err(Error::Corrupt { .. })), "{r:?}");
    }

    fn fblock(t0: i64, n: usize) -> Block {
        Block {
            times: (0..n as i64).map(|i| t0 + i * 10).collect(),
            values: Column::Float((0..n).map(|i| i as f64).collect()),
        }
    }

    #[test]
    fn write_read_and_prune() {
        let d = tempfile::tempdir().unwrap();
        let mut w = TsmWriter::create(vfs(), d.path(), 1, 1, 0).unwrap();
        w.write_block(1, 1, &fblock(0, 1000)).unwrap();
        w.write_block(1, 1, &fblock(10_000, 500)).unwrap();
        w.write_block(
            1,
            2,
            &Block {
                times: vec![5],
                values: Column::String(vec!["s".into()]),
            },
        )
        .unwrap();
        w.write_block(7, 1, &fblock(0, 3)).unwrap();
        let p = w.finish(1).unwrap().publish().unwrap();
        let f = TsmFile::open(&vfs(), &p).unwrap();
        assert_eq!((f.min_gen, f.max_gen, f.level), (1, 1, 1));
        assert_eq!(f.keys().len(), 3);
        let e = f.entry(1, 1).unwrap();
        assert_eq!(e.blocks.len(), 2);
        assert_eq!((e.blocks[1].min, e.blocks[1].max), (10_000, 10_000 + 4990));
        let b = f.read_block(e.typ, &e.blocks[1]).unwrap();
        assert_eq!(b, fblock(10_000, 500));
        let s = f.entry(1, 2).unwrap();
        assert_eq!(
            f.read_block(s.typ, &s.blocks[0]).unwrap().values,
            Column::String(vec!["s".into()])
        );
        assert!(f.entry(2, 1).is_none());
        assert!(f.has_series(7) && !f.has_series(3));
    }

    #[test]
    fn corrupt_files_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let mut w = TsmWriter::create(vfs(), d.path(), 2, 2, 0).unwrap();
        w.write_block(1, 1, &fblock(0, 10)).unwrap();
        let p = w.finish(1).unwrap().publish().unwrap();
        let good = fs::read(&p).unwrap();
        // flip a byte in the block body: open works, the block read fails
        let mut bad = good.clone();
        bad[20] ^= 0xff;
        fs::write(&p, &bad).unwrap();
        let f = TsmFile::open(&vfs(), &p).unwrap();
        let e = f.entry(1, 1).unwrap();
        assert!(matches!(
            f.read_block(e.typ, &e.blocks[0]),
            Err(Error::Corrupt { .. })
        ));
        // flip a byte in the index: open fails
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 40] ^= 0xff;
        fs::write(&p, &bad).unwrap();
        assert!(matches!(
            TsmFile::open(&vfs(), &p),
            Err(Error::Corrupt { .. })
        ));
        fs::write(&p, &good[..20]).unwrap();
        assert!(TsmFile::open(&vfs(), &p).is_err());
    }

    /// A file of one float block whose body is `body` (checksums valid), and
    /// whose index claims `count` values.
    fn raw_file(dir: &Path, body: &[u8], count: u32) -> PathBuf {
        let mut f = MAGIC.to_vec();
        let offset = f.len() as u64;
        f.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        f.extend_from_slice(body);
        let mut ix = Vec::new();
        ix.extend_from_slice(&1u64.to_le_bytes());
        ix.extend_from_slice(&1u32.to_le_bytes());
        ix.push(FieldType::Float as u8);
        ix.extend_from_slice(&1u32.to_le_bytes());
        ix.extend_from_slice(&0i64.to_le_bytes());
        ix.extend_from_slice(&0i64.to_le_bytes());
        ix.extend_from_slice(&offset.to_le_bytes());
        ix.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
        ix.extend_from_slice(&count.to_le_bytes());
        let ix_off = f.len() as u64;
        f.extend_from_slice(&ix);
        f.extend_from_slice(&ix_off.to_le_bytes());
        f.extend_from_slice(&(ix.len() as u64).to_le_bytes());
        f.extend_from_slice(&crc32fast::hash(&ix).to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(MAGIC);
        let p = dir.join(file_name(3, 3, 0));
        fs::write(&p, f).unwrap();
        p
    }

    #[test]
    fn l3_block_claiming_huge_value_count_is_corrupt_not_an_abort() {
        let d = tempfile::tempdir().unwrap();
        let mut ts = Vec::new();
        codec::encode_timestamps(&[0], &mut ts);
        for (claimed, index_count) in [(1u64 << 60, 1u32), (1001, 1001), (2, 1)] {
            let mut body = vec![FieldType::Float as u8];
            put_uvarint(&mut body, claimed);
            put_uvarint(&mut body, ts.len() as u64);
            body.extend_from_slice(&ts);
            codec::encode_floats(&[1.0], &mut body);
            let p = raw_file(d.path(), &body, index_count);
            let f = TsmFile::open(&vfs(), &p).unwrap();
            let e = f.entry(1, 1).unwrap();
            match f.read_block(e.typ, &e.blocks[0]) {
                Err(Error::Corrupt { detail, .. }) => {
                    assert!(detail.contains("claims"), "{claimed}: {detail}")
                }
                other => panic!("{claimed}: {other:?}"),
            }
        }
        // the same file with an honest count reads
        let mut body = vec![FieldType::Float as u8];
        put_uvarint(&mut body, 1);
        put_uvarint(&mut body, ts.len() as u64);
        body.extend_from_slice(&ts);
        codec::encode_floats(&[1.0], &mut body);
        let p = raw_file(d.path(), &body, 1);
        let f = TsmFile::open(&vfs(), &p).unwrap();
        let e = f.entry(1, 1).unwrap();
        assert_eq!(f.read_block(e.typ, &e.blocks[0]).unwrap().times, vec![0]);
    }
}
