//! Byte- and bit-level primitives shared by the codecs: LEB128 varints,
//! zigzag mapping, a bounds-checked byte cursor, and an LSB-first bit
//! writer/reader built on a `u64` accumulator (no per-bit loops).
//!
//! Owns only these primitives; knows nothing about any column type.
//!
//! Bit order: the first bit written is the least significant bit of the
//! first byte. A value of width `w` occupies the next `w` bits, least
//! significant bit first. The final partial byte is zero-padded.

use crate::{Error, Result};

/// Maps signed to unsigned so that small magnitudes become small numbers.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends `v` as an unsigned LEB128 varint (1..=10 bytes).
#[inline]
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-mapped as an unsigned varint.
#[inline]
pub(crate) fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v))
}

/// Number of bytes `put_uvarint` writes for `v`.
#[inline]
pub(crate) fn uvarint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Bounds-checked reader over an encoded buffer; every method returns
/// `Error::Corrupt` instead of panicking on short or malformed input.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or(Error::Corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::Corrupt("truncated"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(Error::Corrupt("varint overflow"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Error::Corrupt("varint too long"))
    }

    pub(crate) fn ivarint(&mut self) -> Result<i64> {
        self.uvarint().map(unzigzag)
    }

    /// A count, as usize, refused when above `max`.
    pub(crate) fn count(&mut self, max: usize) -> Result<usize> {
        let n = self.uvarint()?;
        if n > max as u64 {
            return Err(Error::Corrupt("count too large for block"));
        }
        Ok(n as usize)
    }
}

/// LSB-first bit writer appending to a byte vector.
pub(crate) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    /// Bits pending in `acc`; always < 64.
    n: u32,
}

impl<'a> BitWriter<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter { out, acc: 0, n: 0 }
    }

    /// Writes the low `w` bits of `v` (`w` in 0..=64; higher bits of `v`
    /// must be zero).
    #[inline(always)]
    pub(crate) fn write(&mut self, v: u64, w: u32) {
        debug_assert!(w == 64 || v >> w == 0);
        self.acc |= v << self.n;
        let total = self.n + w;
        if total >= 64 {
            self.out.extend_from_slice(&self.acc.to_le_bytes());
            self.acc = if self.n == 0 { 0 } else { v >> (64 - self.n) };
            self.n = total - 64;
        } else {
            self.n = total;
        }
    }

    /// Flushes the pending partial word, zero-padded to a byte boundary.
    pub(crate) fn finish(self) {
        let bytes = self.n.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
    }
}

/// LSB-first bit reader. Reading past the end yields zero bits and is
/// reported by [`BitReader::overran`], so the hot loop carries no `Result`.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load into `acc`.
    byte: usize,
    acc: u64,
    /// Valid bits in `acc` (bits above may hold the following stream bits).
    avail: u32,
    consumed: u64,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            byte: 0,
            acc: 0,
            avail: 0,
            consumed: 0,
        }
    }

    #[inline(always)]
    fn refill(&mut self) {
        if let Some(chunk) = self.data.get(self.byte..self.byte + 8) {
            let mut a = [0u8; 8];
            a.copy_from_slice(chunk);
            self.acc |= u64::from_le_bytes(a) << self.avail;
            let nbytes = (63 - self.avail) / 8;
            self.byte += nbytes as usize;
            self.avail += nbytes * 8;
        } else {
            self.refill_slow();
        }
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.avail <= 56 {
            match self.data.get(self.byte) {
                Some(&b) => {
                    self.acc |= u64::from(b) << self.avail;
                    self.byte += 1;
                    self.avail += 8;
                }
                None => {
                    // Past the end: the accumulator's upper bits are zero.
                    self.avail = 64;
                }
            }
        }
    }

    /// Reads `w` bits, `w` in 0..=56.
    #[inline(always)]
    pub(crate) fn read(&mut self, w: u32) -> u64 {
        debug_assert!(w <= 56);
        if self.avail < w {
            self.refill();
        }
        let v = self.acc & ((1u64 << w) - 1);
        self.acc >>= w;
        self.avail -= w;
        self.consumed += u64::from(w);
        v
    }

    /// Looks at the next `w` bits (`w` <= 56) without consuming them.
    #[inline(always)]
    pub(crate) fn peek(&mut self, w: u32) -> u64 {
        if self.avail < w {
            self.refill();
        }
        self.acc & ((1u64 << w) - 1)
    }

    /// Consumes `w` bits previously seen with [`BitReader::peek`].
    #[inline(always)]
    pub(crate) fn skip(&mut self, w: u32) {
        debug_assert!(w <= self.avail);
        self.acc >>= w;
        self.avail -= w;
        self.consumed += u64::from(w);
    }

    /// Reads `w` bits, `w` in 0..=64.
    #[inline(always)]
    pub(crate) fn read_long(&mut self, w: u32) -> u64 {
        if w <= 56 {
            self.read(w)
        } else {
            let lo = self.read(32);
            lo | (self.read(w - 32) << 32)
        }
    }

    /// True when more bits were read than the input holds.
    pub(crate) fn overran(&self) -> bool {
        self.consumed > self.data.len() as u64 * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_roundtrip_edges() {
        for v in [0, 1, -1, 2, -2, i64::MIN, i64::MAX, 12345, -98765] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
    }

    #[test]
    fn varint_roundtrip_and_len() {
        let vals = [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX - 1, u64::MAX];
        let mut out = Vec::new();
        for &v in &vals {
            let before = out.len();
            put_uvarint(&mut out, v);
            assert_eq!(out.len() - before, uvarint_len(v));
        }
        let mut c = Cursor::new(&out);
        for &v in &vals {
            assert_eq!(c.uvarint().unwrap(), v);
        }
        assert_eq!(c.remaining(), 0);
        assert!(c.uvarint().is_err());
    }

    #[test]
    fn varint_rejects_overlong_and_overflow() {
        let overlong = [0x80u8; 11];
        assert!(Cursor::new(&overlong).uvarint().is_err());
        let mut overflow = vec![0xffu8; 9];
        overflow.push(0x02);
        assert!(Cursor::new(&overflow).uvarint().is_err());
    }

    #[test]
    fn bits_roundtrip_mixed_widths() {
        let items: Vec<(u64, u32)> = (0..2000u64)
            .map(|i| {
                let w = (i * 7 % 65) as u32;
                let v = if w == 64 {
                    i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                } else {
                    (i * 2654435761) & ((1u64 << w) - 1)
                };
                (v, w)
            })
            .collect();
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        for &(v, n) in &items {
            w.write(v, n);
        }
        w.finish();
        let total: u64 = items.iter().map(|&(_, n)| u64::from(n)).sum();
        assert_eq!(out.len() as u64, total.div_ceil(8));
        let mut r = BitReader::new(&out);
        for &(v, n) in &items {
            assert_eq!(r.read_long(n), v, "width {n}");
        }
        assert!(!r.overran());
        r.read(8);
        assert!(r.overran());
    }
}
