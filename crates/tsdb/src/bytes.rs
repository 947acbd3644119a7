//! Little binary helpers shared by the on-disk formats: LEB128 varints,
//! zigzag, record framing (`[len u32][crc32 u32][payload]`) and a bounds-checked
//! reader that returns `None` instead of panicking on truncated input.
//! Owns no file format itself.

pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64)
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Frames `payload` as `[len u32 LE][crc32 u32 LE][payload]`. Payloads are
/// never empty: a zero length reads back as a torn frame (see [`next_frame`]).
pub(crate) fn frame(out: &mut Vec<u8>, payload: &[u8]) {
    debug_assert!(!payload.is_empty(), "empty frames read back as torn");
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Frames a payload written in place: call with `start` = `out.len()` taken
/// before reserving 8 header bytes and appending the payload.
pub(crate) fn begin_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]);
    start
}

pub(crate) fn end_frame(out: &mut [u8], start: usize) {
    let len = (out.len() - start - 8) as u32;
    let crc = crc32fast::hash(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Outcome of reading one framed record.
pub(crate) enum Framed<'a> {
    Record(&'a [u8]),
    /// Fewer bytes than the header or the declared length, or a zero
    /// length: a torn tail. No format writes an empty payload, and
    /// `crc32("") == 0`, so a zero-filled region (a file extended before its
    /// data reached the disk) would otherwise read as valid empty records.
    Torn,
    BadChecksum,
    End,
}

/// Reads the framed record at `buf[*pos..]`, advancing `pos` past it on success.
pub(crate) fn next_frame<'a>(buf: &'a [u8], pos: &mut usize) -> Framed<'a> {
    let rest = &buf[*pos..];
    if rest.is_empty() {
        return Framed::End;
    }
    if rest.len() < 8 {
        return Framed::Torn;
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
    if len == 0 {
        return Framed::Torn;
    }
    let Some(payload) = rest.get(8..8 + len) else {
        return Framed::Torn;
    };
    if crc32fast::hash(payload) != crc {
        return Framed::BadChecksum;
    }
    *pos += 8 + len;
    Framed::Record(payload)
}

/// Whether the frame at `pos`, which reads as torn, can be the torn tail of
/// an interrupted append (to be truncated) rather than damage in the middle
/// of a log (to be reported). It can if, ignoring trailing zeros (a file
/// extended before its data reached the disk), at most `max_record_bytes`
/// follow and no intact frame starts inside them. The search checksums at
/// most `max_hashed_bytes` in all, and only payloads `plausible` accepts
/// (a cheap check of the format's own structure); past that budget the
/// tail counts as damage.
pub(crate) fn is_torn_tail(
    buf: &[u8],
    pos: usize,
    max_record_bytes: usize,
    max_hashed_bytes: usize,
    plausible: impl Fn(&[u8]) -> bool,
) -> bool {
    let end = buf.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if end <= pos {
        return true; // only zeros follow
    }
    if end - pos > max_record_bytes {
        return false;
    }
    // An intact frame starts before `end` (its length is not zero) but may
    // end in zeros of its own.
    let mut budget = max_hashed_bytes;
    for q in pos + 1..end {
        let Some(h) = buf.get(q..q + 8) else { break };
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if len == 0 || q + 8 + len > buf.len() || !plausible(&buf[q + 8..q + 8 + len]) {
            continue;
        }
        if len > budget {
            return false;
        }
        budget -= len;
        let mut p = q;
        if matches!(next_frame(buf, &mut p), Framed::Record(_)) {
            return false;
        }
    }
    true
}

/// A bounds-checked cursor over a byte slice.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub(crate) fn position(&self) -> usize {
        self.pos
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Some(a)
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }
    pub(crate) fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }
    pub(crate) fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.u8()?;
            if shift >= 64 {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }
    pub(crate) fn ivarint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.uvarint()?).ok()?;
        std::str::from_utf8(self.bytes(n)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let mut b = Vec::new();
        for v in [0i64, 1, -1, 63, -64, 1 << 40, i64::MIN, i64::MAX] {
            put_ivarint(&mut b, v);
        }
        put_uvarint(&mut b, u64::MAX);
        put_str(&mut b, "héllo");
        let mut r = Reader::new(&b);
        for v in [0i64, 1, -1, 63, -64, 1 << 40, i64::MIN, i64::MAX] {
            assert_eq!(r.ivarint(), Some(v));
        }
        assert_eq!(r.uvarint(), Some(u64::MAX));
        assert_eq!(r.str(), Some("héllo"));
        assert!(r.is_empty());
        assert_eq!(r.u8(), None);
    }

    #[test]
    fn frames_detect_torn_and_corrupt() {
        let mut b = Vec::new();
        frame(&mut b, b"abc");
        let s = begin_frame(&mut b);
        b.extend_from_slice(b"defg");
        end_frame(&mut b, s);
        let mut pos = 0;
        assert!(matches!(next_frame(&b, &mut pos), Framed::Record(b"abc")));
        assert!(matches!(next_frame(&b, &mut pos), Framed::Record(b"defg")));
        assert!(matches!(next_frame(&b, &mut pos), Framed::End));
        let mut pos = 0;
        assert!(matches!(next_frame(&b[..5], &mut pos), Framed::Torn));
        assert!(matches!(next_frame(&b[..10], &mut pos), Framed::Torn));
        let mut c = b.clone();
        c[9] ^= 1;
        assert!(matches!(next_frame(&c, &mut pos), Framed::BadChecksum));
    }

    #[test]
    fn l11_torn_tails_are_told_from_damage_in_the_middle() {
        let mut b = Vec::new();
        for p in [&b"first"[..], b"second", b"third"] {
            frame(&mut b, p);
        }
        let cut = b.len() - 3;
        assert!(is_torn_tail(&b[..cut], 13 + 14, 1 << 20, 1 << 20, |_| true));
        let mut z = b[..cut].to_vec();
        z.extend_from_slice(&[0u8; 100]);
        assert!(
            is_torn_tail(&z, 13 + 14, 1 << 20, 1 << 20, |_| true),
            "zero fill"
        );
        assert!(is_torn_tail(&[0u8; 64], 0, 16, 16, |_| true), "only zeros");
        // a damaged first record followed by intact ones
        let mut d = b.clone();
        d[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(!is_torn_tail(&d, 0, 1 << 20, 1 << 20, |_| true));
        assert!(
            is_torn_tail(&d, 0, 1 << 20, 1 << 20, |_| false),
            "implausible"
        );
        // more bytes than one record can hold, or than the budget allows
        assert!(!is_torn_tail(&d, 0, 8, 1 << 20, |_| true));
        assert!(!is_torn_tail(&d, 0, 1 << 20, 4, |_| true));
    }

    #[test]
    fn l4_zero_filled_region_is_torn_not_empty_records() {
        let mut b = Vec::new();
        frame(&mut b, b"abc");
        b.extend_from_slice(&[0u8; 64]);
        let mut pos = 0;
        assert!(matches!(next_frame(&b, &mut pos), Framed::Record(b"abc")));
        assert!(matches!(next_frame(&b, &mut pos), Framed::Torn));
        assert_eq!(pos, 11, "a torn frame does not advance");
    }
}
