//! One durable hinted-handoff queue: the blocks of points waiting for one
//! destination node and one shard, in write order, on disk.
//!
//! Owns the files of one queue directory and nothing else; knows nothing of
//! the network, the destination or when to drain.
//!
//! # On-disk layout
//!
//! `<hh dir>/<node id>/<shard id>/` holds segments `<seq>.seg` (seq a
//! zero-padded decimal, increasing) of records, and `head`, the position
//! of the first record not yet delivered:
//!
//! ```text
//! record  := magic "TMHH" | len:u32 LE | crc32(payload):u32 LE | payload
//! payload := enqueued_at:i64 LE (ns) | WriteShardRequest (protobuf, no header)
//! head    := "<seq> <offset>\n"      (temp file + rename; absent = start)
//! ```
//!
//! An append is written and `fsync`ed before it returns (a new segment's
//! directory entry too), so an enqueue that returned Ok survives `kill -9`
//! and power loss. `head` is written without fsync: after a crash the queue
//! may deliver a block again, which rewrites the same values (a point is
//! identified by series and time), never loses one. A damaged record (bad
//! magic, length or checksum) is skipped by scanning for the next intact
//! record; the bytes skipped are counted. Segments roll at
//! [`SEGMENT_MAX_BYTES`]; fully delivered segments are deleted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The marker every record starts with.
const MAGIC: &[u8; 4] = b"TMHH";
const HEADER_BYTES: usize = 12;
/// A segment is closed once it holds this many bytes.
pub const SEGMENT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// The largest payload one record may carry.
pub const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// A position in the queue: segment sequence number and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub seq: u64,
    pub offset: u64,
}

/// A record read from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Where the record starts.
    pub at: Position,
    pub enqueued_at: i64,
    pub payload: Vec<u8>,
    /// Where the next record starts.
    pub next: Position,
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn segment_name(seq: u64) -> String {
    format!("{seq:020}.seg")
}

pub struct Queue {
    dir: PathBuf,
    /// Sequence numbers of the segments present, ascending.
    segments: Vec<u64>,
    /// Size of the last segment (where appends go).
    tail_len: u64,
    /// The sequence number the next new segment gets.
    next_seq: u64,
    head: Position,
    /// Bytes not yet delivered (approximate after corruption).
    pending_bytes: u64,
    /// Bytes skipped as damaged since open.
    pub corrupt_bytes: u64,
}

impl Queue {
    /// Opens (creating) the queue in `dir`.
    pub fn open(dir: &Path) -> io::Result<Queue> {
        let created = !dir.exists();
        fs::create_dir_all(dir)?;
        if created {
            if let Some(parent) = dir.parent() {
                fsync_dir(parent)?;
                if let Some(grand) = parent.parent() {
                    fsync_dir(grand)?;
                }
            }
        }
        let mut segments = Vec::new();
        for e in fs::read_dir(dir)? {
            let name = e?.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(seq) = name
                .strip_suffix(".seg")
                .and_then(|s| s.parse::<u64>().ok())
            {
                segments.push(seq);
            }
        }
        segments.sort_unstable();
        let head = read_head(dir).unwrap_or_default();
        let mut q = Queue {
            dir: dir.to_path_buf(),
            next_seq: segments.last().map_or(1, |s| s + 1).max(head.seq),
            segments,
            tail_len: 0,
            head,
            pending_bytes: 0,
            corrupt_bytes: 0,
        };
        if let Some(&last) = q.segments.last() {
            q.tail_len = fs::metadata(q.segment_path(last))?.len();
        }
        // A head pointing before the first segment (its segment was
        // deleted) starts at the first one.
        if let Some(&first) = q.segments.first() {
            if q.head.seq < first {
                q.head = Position {
                    seq: first,
                    offset: 0,
                };
            }
        }
        q.pending_bytes = q.compute_pending()?;
        Ok(q)
    }

    fn segment_path(&self, seq: u64) -> PathBuf {
        self.dir.join(segment_name(seq))
    }

    fn compute_pending(&self) -> io::Result<u64> {
        let mut total = 0;
        for &seq in &self.segments {
            let len = if Some(&seq) == self.segments.last() {
                self.tail_len
            } else {
                fs::metadata(self.segment_path(seq))?.len()
            };
            if seq == self.head.seq {
                total += len.saturating_sub(self.head.offset);
            } else if seq > self.head.seq {
                total += len;
            }
        }
        Ok(total)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes waiting to be delivered.
    pub fn pending_bytes(&self) -> u64 {
        self.pending_bytes
    }

    /// Segments on disk (`queueDepth`).
    pub fn depth(&self) -> usize {
        self.segments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending_bytes == 0
    }

    /// Appends one record durably (written and fsynced before Ok); returns
    /// where it starts and where the next record will start.
    pub fn append(&mut self, enqueued_at: i64, payload: &[u8]) -> io::Result<(Position, Position)> {
        if payload.len() + 8 > MAX_RECORD_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "segment is full: the block is larger than a segment may hold",
            ));
        }
        let body_len = payload.len() + 8;
        let mut rec = Vec::with_capacity(HEADER_BYTES + body_len);
        rec.extend_from_slice(MAGIC);
        rec.extend_from_slice(&(body_len as u32).to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&enqueued_at.to_le_bytes());
        crc.update(payload);
        rec.extend_from_slice(&crc.finalize().to_le_bytes());
        rec.extend_from_slice(&enqueued_at.to_le_bytes());
        rec.extend_from_slice(payload);

        let new_segment = match self.segments.last() {
            None => true,
            Some(_) => self.tail_len >= SEGMENT_MAX_BYTES,
        };
        if new_segment {
            let seq = self.next_seq.max(1);
            File::create(self.segment_path(seq))?;
            self.next_seq = seq + 1;
            fsync_dir(&self.dir)?;
            self.segments.push(seq);
            self.tail_len = 0;
            if self.segments.len() == 1 {
                self.head = Position { seq, offset: 0 };
            }
        }
        let seq = *self.segments.last().unwrap_or(&1);
        let path = self.segment_path(seq);
        let mut f = OpenOptions::new().append(true).open(&path)?;
        let before = self.tail_len;
        let res = f.write_all(&rec).and_then(|()| f.sync_data());
        if let Err(e) = res {
            // Leave no half record behind (best effort; a torn tail is
            // skipped on read anyway).
            let _ = f.set_len(before);
            return Err(e);
        }
        self.tail_len += rec.len() as u64;
        self.pending_bytes += rec.len() as u64;
        Ok((
            Position {
                seq,
                offset: before,
            },
            Position {
                seq,
                offset: self.tail_len,
            },
        ))
    }

    /// Where the next appended record will start (the end of the queue).
    pub fn end(&self) -> Position {
        match self.segments.last() {
            Some(&seq) => Position {
                seq,
                offset: self.tail_len,
            },
            None => self.head,
        }
    }

    /// The position of the first record not yet delivered.
    pub fn head(&self) -> Position {
        self.head
    }

    /// Reads the record at the head without consuming it, skipping damaged
    /// bytes and delivered segments. `None` when the queue is empty.
    pub fn peek(&mut self) -> io::Result<Option<Block>> {
        self.peek_at(self.head)
    }

    /// Reads the record at `pos` (a head, or a `next` of an earlier peek),
    /// reading only that record unless damage forces a scan.
    pub fn peek_at(&mut self, mut pos: Position) -> io::Result<Option<Block>> {
        loop {
            let Some(idx) = self.segments.iter().position(|&s| s >= pos.seq) else {
                return Ok(None);
            };
            let seq = self.segments[idx];
            if seq != pos.seq {
                pos = Position { seq, offset: 0 };
            }
            let is_tail = idx + 1 == self.segments.len();
            let f = File::open(self.segment_path(seq))?;
            let len = if is_tail {
                self.tail_len.min(f.metadata()?.len())
            } else {
                f.metadata()?.len()
            };
            let mut off = pos.offset;
            while off < len {
                if let Some((enqueued_at, payload)) = read_record_at(&f, off, len)? {
                    let used = (HEADER_BYTES + 8 + payload.len()) as u64;
                    return Ok(Some(Block {
                        at: Position { seq, offset: off },
                        enqueued_at,
                        payload,
                        next: Position {
                            seq,
                            offset: off + used,
                        },
                    }));
                }
                if is_tail && len - off < HEADER_BYTES as u64 {
                    // A short record at the end of the tail: torn, not
                    // damage in the middle; nothing to deliver yet.
                    return Ok(None);
                }
                // Damaged: scan the rest of the segment for the next intact
                // record.
                let mut rest = vec![0u8; usize::try_from(len - off).unwrap_or(0)];
                f.read_exact_at(&mut rest, off)?;
                let skip = find_next_record(&rest, 1).unwrap_or(rest.len()) as u64;
                self.corrupt_bytes += skip;
                tracing::warn!(
                    queue = %self.dir.display(),
                    segment = seq,
                    offset = off,
                    bytes = skip,
                    "hinted handoff: skipped damaged bytes"
                );
                off += skip;
            }
            if is_tail {
                return Ok(None);
            }
            pos = Position {
                seq: seq + 1,
                offset: 0,
            };
        }
    }

    /// Marks everything before `to` delivered: persists the head and
    /// deletes segments wholly before it.
    pub fn advance(&mut self, to: Position) -> io::Result<()> {
        if to <= self.head {
            return Ok(());
        }
        self.head = to;
        while self.segments.len() > 1 && self.segments[0] < to.seq {
            let seq = self.segments.remove(0);
            remove_if_present(&self.segment_path(seq))?;
        }
        // The only segment fully delivered: start over.
        if self.segments.len() == 1 && to.seq == self.segments[0] && to.offset >= self.tail_len {
            let seq = self.segments.remove(0);
            remove_if_present(&self.segment_path(seq))?;
            self.tail_len = 0;
            self.head = Position {
                seq: self.next_seq,
                offset: 0,
            };
        }
        write_head(&self.dir, self.head)?;
        self.pending_bytes = self.compute_pending()?;
        Ok(())
    }

    /// Deletes segments last written before `cutoff` (`max-age`); returns
    /// the bytes purged.
    pub fn purge_older_than(&mut self, cutoff: SystemTime) -> io::Result<u64> {
        let before = self.pending_bytes;
        let mut keep = Vec::new();
        for &seq in &self.segments {
            let p = self.segment_path(seq);
            let old = fs::metadata(&p)?.modified()? < cutoff;
            if old {
                remove_if_present(&p)?;
            } else {
                keep.push(seq);
            }
        }
        if keep.len() != self.segments.len() {
            self.segments = keep;
            match self.segments.first() {
                Some(&first) if self.head.seq < first => {
                    self.head = Position {
                        seq: first,
                        offset: 0,
                    }
                }
                None => {
                    self.tail_len = 0;
                    self.head = Position {
                        seq: self.next_seq,
                        offset: 0,
                    };
                }
                _ => {}
            }
            if let Some(&last) = self.segments.last() {
                self.tail_len = fs::metadata(self.segment_path(last))?.len();
            }
            write_head(&self.dir, self.head)?;
            self.pending_bytes = self.compute_pending()?;
        }
        Ok(before.saturating_sub(self.pending_bytes))
    }

    /// Deletes the whole queue (its destination left the cluster).
    pub fn destroy(self) -> io::Result<()> {
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(p) = self.dir.parent() {
            let _ = fsync_dir(p);
        }
        Ok(())
    }
}

fn remove_if_present(p: &Path) -> io::Result<()> {
    match fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn read_head(dir: &Path) -> Option<Position> {
    let text = fs::read_to_string(dir.join("head")).ok()?;
    let mut it = text.split_whitespace();
    let seq = it.next()?.parse().ok()?;
    let offset = it.next()?.parse().ok()?;
    Some(Position { seq, offset })
}

fn write_head(dir: &Path, head: Position) -> io::Result<()> {
    let tmp = dir.join("head.tmp");
    {
        let mut f = File::create(&tmp)?;
        writeln!(f, "{} {}", head.seq, head.offset)?;
    }
    fs::rename(tmp, dir.join("head"))
}

/// Reads the intact record at `off` of a segment of `len` bytes:
/// (enqueued_at, payload), `None` if it is damaged or incomplete.
fn read_record_at(f: &File, off: u64, len: u64) -> io::Result<Option<(i64, Vec<u8>)>> {
    if off + HEADER_BYTES as u64 > len {
        return Ok(None);
    }
    let mut header = [0u8; HEADER_BYTES];
    f.read_exact_at(&mut header, off)?;
    let Some((body_len, crc)) = parse_header(&header) else {
        return Ok(None);
    };
    if off + (HEADER_BYTES + body_len) as u64 > len {
        return Ok(None);
    }
    let mut body = vec![0u8; body_len];
    f.read_exact_at(&mut body, off + HEADER_BYTES as u64)?;
    let Some(enqueued_at) = check_body(&body, crc) else {
        return Ok(None);
    };
    body.drain(..8);
    Ok(Some((enqueued_at, body)))
}

/// The body length and checksum a record header announces, if it is one.
fn parse_header(header: &[u8]) -> Option<(usize, u32)> {
    if header.get(..4)? != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(header.get(4..8)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header.get(8..12)?.try_into().ok()?);
    (8..=MAX_RECORD_BYTES).contains(&len).then_some((len, crc))
}

/// The enqueue time of an intact record body (`None` on a checksum mismatch).
fn check_body(body: &[u8], crc: u32) -> Option<i64> {
    if crc32fast::hash(body) != crc {
        return None;
    }
    Some(i64::from_le_bytes(body.get(..8)?.try_into().ok()?))
}

/// Parses the record at the start of `data`: (enqueued_at, payload, bytes used).
fn parse_record(data: &[u8]) -> Option<(i64, &[u8], usize)> {
    let (len, crc) = parse_header(data.get(..HEADER_BYTES)?)?;
    let body = data.get(HEADER_BYTES..HEADER_BYTES + len)?;
    let enqueued_at = check_body(body, crc)?;
    Some((enqueued_at, &body[8..], HEADER_BYTES + len))
}

/// The offset of the next intact record at or after `from`.
fn find_next_record(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + HEADER_BYTES <= data.len() {
        let rel = memchr_magic(&data[i..])?;
        let at = i + rel;
        if parse_record(&data[at..]).is_some() {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

fn memchr_magic(data: &[u8]) -> Option<usize> {
    data.windows(MAGIC.len()).position(|w| w == MAGIC)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn drain(q: &mut Queue) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(b) = q.peek().unwrap() {
            out.push(b.payload.clone());
            q.advance(b.next).unwrap();
        }
        out
    }

    #[test]
    fn blocks_come_back_in_order_across_reopen_and_segments() {
        let dir = tempfile::tempdir().unwrap();
        let qdir = dir.path().join("2").join("7");
        let mut q = Queue::open(&qdir).unwrap();
        assert!(q.is_empty());
        let big = vec![7u8; 4 * 1024 * 1024];
        for i in 0..5u8 {
            let mut p = big.clone();
            p[0] = i;
            q.append(i64::from(i), &p).unwrap();
        }
        assert!(q.depth() >= 2, "segments roll at 10 MiB");
        // Deliver two, then reopen (a restart).
        for _ in 0..2 {
            let b = q.peek().unwrap().unwrap();
            q.advance(b.next).unwrap();
        }
        drop(q);
        let mut q = Queue::open(&qdir).unwrap();
        let rest = drain(&mut q);
        assert_eq!(rest.iter().map(|p| p[0]).collect::<Vec<_>>(), vec![2, 3, 4]);
        assert!(q.is_empty());
        assert_eq!(q.depth(), 0, "delivered segments are deleted");
        q.append(9, b"after").unwrap();
        assert_eq!(drain(&mut q), vec![b"after".to_vec()]);
    }

    #[test]
    fn damaged_records_are_skipped_and_counted_and_the_rest_drains() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(dir.path()).unwrap();
        for i in 0..5u8 {
            q.append(1, &[i; 100]).unwrap();
        }
        drop(q);
        // Damage the second record's payload and the fourth's length.
        let seg = dir.path().join(segment_name(1));
        let mut data = fs::read(&seg).unwrap();
        let rec = HEADER_BYTES + 108;
        data[rec + HEADER_BYTES + 20] ^= 0xff;
        data[3 * rec + 5] ^= 0x40;
        fs::write(&seg, &data).unwrap();
        let mut q = Queue::open(dir.path()).unwrap();
        let got: Vec<u8> = drain(&mut q).iter().map(|p| p[0]).collect();
        assert_eq!(got, vec![0, 2, 4]);
        assert_eq!(q.corrupt_bytes, 2 * rec as u64);
    }

    #[test]
    fn a_torn_tail_is_not_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(dir.path()).unwrap();
        q.append(1, b"whole").unwrap();
        drop(q);
        let seg = dir.path().join(segment_name(1));
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(b"TMHH\x40\x00\x00").unwrap();
        drop(f);
        let mut q = Queue::open(dir.path()).unwrap();
        assert_eq!(drain(&mut q), vec![b"whole".to_vec()]);
    }

    #[test]
    fn old_segments_are_purged() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(dir.path()).unwrap();
        q.append(1, b"old").unwrap();
        let purged = q
            .purge_older_than(SystemTime::now() + std::time::Duration::from_secs(1))
            .unwrap();
        assert!(purged > 0);
        assert!(q.is_empty());
        assert_eq!(q.peek().unwrap(), None);
        q.append(2, b"new").unwrap();
        assert_eq!(q.purge_older_than(SystemTime::UNIX_EPOCH).unwrap(), 0);
        assert_eq!(drain(&mut q), vec![b"new".to_vec()]);
    }
}
