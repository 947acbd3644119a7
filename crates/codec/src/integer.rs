//! Codec for 64-bit integer columns (`i64`, and `u64` reinterpreted bit for
//! bit), also the engine behind timestamps and decimal floats.
//!
//! Owns the integer block format; must not know about files or series.
//! All arithmetic is wrapping, so every `i64` slice round-trips, including
//! deltas that overflow (`i64::MIN` next to `i64::MAX`).
//!
//! # Format (after the header byte)
//!
//! * `0` RAW: `n` little-endian 8-byte values.
//! * `1` RLE (constant delta): `uvarint n` (1..=[`MAX_RLE`]),
//!   `zigzag-varint first`, `zigzag-varint delta`; value `i` is
//!   `first + i * delta` (wrapping).
//! * `2` PACKED: `uvarint n`, `u8 flags` (bit 0: delta mode), `u8 k`
//!   (0..=18, common power-of-ten divisor), then in delta mode
//!   `zigzag-varint first`. The *sequence* is the values (value mode) or
//!   the `n - 1` wrapping deltas (delta mode), each divided by `10^k`.
//!   It is cut into frames of 128 (the last may be shorter); each frame is
//!   `u8 w | e << 7` (`w` in 0..=64), then if `e`: `u8 count` (1..=2) and
//!   per exception `u8 index` (within the frame) and `zigzag-varint value`;
//!   then `zigzag-varint min`, then `ceil(len * w / 8)` bytes holding `len`
//!   offsets `x - min` of `w` bits each, bit-packed LSB first (see `bits`).
//!   Value `i` of the frame is its exception value if it has one (its
//!   packed bits are then ignored), else `min + offset`. A frame with
//!   `w = 0` and no exceptions is all `min`.
//!
//!   Exceptions take the frame's smallest and/or largest value out of the
//!   packed range when that is cheaper: one gap in a regular series, a late
//!   point or a counter reset then costs a few bytes, not a wide frame.
//!
//! Frame-of-reference over deltas covers what delta-of-delta would buy on
//! jittered timestamps (deltas clustered around the interval become small
//! offsets from the frame minimum) while keeping decode a single prefix sum.
//! The encoder picks RLE when every delta is equal, else the cheaper of
//! value and delta mode by exact size, else RAW when packing would be
//! larger.

use crate::bits::{put_ivarint, put_uvarint, uvarint_len, zigzag, BitWriter, Cursor};
use crate::{Error, Result, RAW};

pub(crate) const RLE: u8 = 1;
pub(crate) const PACKED: u8 = 2;
/// Largest run an RLE block may claim (bounds the memory a corrupt block
/// can make the decoder allocate). Longer runs use PACKED frames of width 0.
pub const MAX_RLE: usize = 1 << 20;
const FRAME: usize = 128;
/// Set in a frame's width byte when exceptions follow it.
const EXC_FLAG: u8 = 0x80;
const MAX_K: u32 = 18;

const fn pow10_table() -> [u64; 20] {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
}
const POW10: [u64; 20] = pow10_table();

/// Multiplicative inverses of `5^k` modulo 2^64 (Newton iteration).
const fn inv5_table() -> [u64; 20] {
    let mut t = [1u64; 20];
    let mut i = 0;
    while i < 20 {
        let d = POW10[i] >> i; // 5^i
        let mut x = d; // correct to 3 bits for odd d
        let mut j = 0;
        while j < 5 {
            x = x.wrapping_mul(2u64.wrapping_sub(d.wrapping_mul(x)));
            j += 1;
        }
        t[i] = x;
        i += 1;
    }
    t
}
const INV5: [u64; 20] = inv5_table();

/// True when `x` is divisible by `10^k`.
#[inline(always)]
fn divisible(x: i64, k: u32) -> bool {
    let a = x.unsigned_abs();
    a.trailing_zeros() >= k
        && (a >> k).wrapping_mul(INV5[k as usize]) <= u64::MAX / (POW10[k as usize] >> k)
}

/// Exact division by `10^k`, valid only when `divisible(x, k)`.
#[inline(always)]
fn div_exact(x: i64, k: u32) -> i64 {
    (x >> k).wrapping_mul(INV5[k as usize] as i64)
}

/// Extremes of one frame: the two smallest and two largest values (as a
/// multiset: a repeated minimum is also the runner-up) and the positions
/// of the extreme ones, enough to price turning one outlier on each side
/// into an exception.
#[derive(Clone, Copy)]
struct FrameStat {
    lo1: i64,
    lo2: i64,
    hi1: i64,
    hi2: i64,
    lo_i: u8,
    hi_i: u8,
    len: usize,
}

/// Per-sequence statistics deciding the packed layout.
struct Stats {
    k: u32,
    frames: Vec<FrameStat>,
}

fn stats(seq: &[i64]) -> Stats {
    let mut k = MAX_K;
    for &x in seq {
        while k > 0 && !divisible(x, k) {
            k -= 1;
        }
        if k == 0 {
            break;
        }
    }
    let frames = seq.chunks(FRAME).map(frame_stat).collect();
    Stats { k, frames }
}

/// Extremes of one non-empty chunk in a single pass. New extremes are
/// rare after the first few values, so the branches predict well.
fn frame_stat(c: &[i64]) -> FrameStat {
    let mut f = FrameStat {
        lo1: i64::MAX,
        lo2: i64::MAX,
        hi1: i64::MIN,
        hi2: i64::MIN,
        lo_i: 0,
        hi_i: 0,
        len: c.len(),
    };
    for (j, &x) in c.iter().enumerate() {
        if x < f.lo2 {
            if x < f.lo1 {
                f.lo2 = f.lo1;
                f.lo1 = x;
                f.lo_i = j as u8;
            } else {
                f.lo2 = x;
            }
        }
        if x > f.hi2 {
            if x > f.hi1 {
                f.hi2 = f.hi1;
                f.hi1 = x;
                f.hi_i = j as u8;
            } else {
                f.hi2 = x;
            }
        }
    }
    f
}

#[inline]
fn width(range: u64) -> u32 {
    64 - range.leading_zeros()
}

/// How one frame is written: scaled minimum, width, and up to two
/// exceptions (frame index, scaled value) stored outside the packed bits.
struct Plan {
    min: i64,
    w: u32,
    exc: [(usize, i64); 2],
    ne: usize,
    bytes: usize,
}

fn plan(f: &FrameStat, k: u32) -> Plan {
    let scaled_range = |lo: i64, hi: i64| {
        ((hi as u64).wrapping_sub(lo as u64) >> k).wrapping_mul(INV5[k as usize])
    };
    let make = |lo: i64, hi: i64, exc: &[(u8, i64)]| {
        let min = div_exact(lo, k);
        let w = width(scaled_range(lo, hi));
        let mut p = Plan {
            min,
            w,
            exc: [(usize::MAX, 0); 2],
            ne: exc.len(),
            bytes: 0,
        };
        p.bytes = 1 + uvarint_len(zigzag(min)) + (f.len * w as usize).div_ceil(8);
        if !exc.is_empty() {
            p.bytes += 1;
        }
        for (slot, &(i, v)) in p.exc.iter_mut().zip(exc) {
            let v = div_exact(v, k);
            *slot = (usize::from(i), v);
            p.bytes += 1 + uvarint_len(zigzag(v));
        }
        p
    };
    let mut best = make(f.lo1, f.hi1, &[]);
    if f.len >= 3 && f.lo1 < f.hi1 && best.w > 0 {
        let lo = (f.lo_i, f.lo1);
        let hi = (f.hi_i, f.hi1);
        for cand in [
            make(f.lo2, f.hi1, &[lo]),
            make(f.lo1, f.hi2, &[hi]),
            make(f.lo2, f.hi2, &[lo, hi]),
        ] {
            if cand.bytes < best.bytes {
                best = cand;
            }
        }
    }
    best
}

impl Stats {
    fn plans(&self) -> Vec<Plan> {
        self.frames.iter().map(|f| plan(f, self.k)).collect()
    }
}

fn write_frames(seq: &[i64], k: u32, plans: &[Plan], out: &mut Vec<u8>) {
    for (p, chunk) in plans.iter().zip(seq.chunks(FRAME)) {
        out.reserve(32 + (chunk.len() * p.w as usize).div_ceil(8));
        out.push(p.w as u8 | if p.ne > 0 { EXC_FLAG } else { 0 });
        if p.ne > 0 {
            out.push(p.ne as u8);
            for &(i, v) in &p.exc[..p.ne] {
                out.push(i as u8);
                put_ivarint(out, v);
            }
        }
        put_ivarint(out, p.min);
        let (e0, e1) = (p.exc[0].0, p.exc[1].0);
        let mut bw = BitWriter::new(out);
        if p.ne == 0 {
            for &x in chunk {
                bw.write((div_exact(x, k) as u64).wrapping_sub(p.min as u64), p.w);
            }
        } else {
            for (j, &x) in chunk.iter().enumerate() {
                let off = if j == e0 || j == e1 {
                    0
                } else {
                    (div_exact(x, k) as u64).wrapping_sub(p.min as u64)
                };
                bw.write(off, p.w);
            }
        }
        bw.finish();
    }
}

/// Appends the encoding of `v`.
pub(crate) fn encode(v: &[i64], out: &mut Vec<u8>) {
    let n = v.len();
    if n == 0 {
        out.push(RAW);
        return;
    }
    let first = v[0];
    let delta0 = if n > 1 { v[1].wrapping_sub(v[0]) } else { 0 };
    // Cheap to test before anything else: regular series are the norm.
    let constant = v.windows(2).all(|w| w[1].wrapping_sub(w[0]) == delta0);
    if constant && n <= MAX_RLE {
        out.push(RLE);
        put_uvarint(out, n as u64);
        put_ivarint(out, first);
        put_ivarint(out, delta0);
        return;
    }
    let deltas: Vec<i64> = v.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    let sv = stats(v);
    let sd = stats(&deltas);
    let (pv, pd) = (sv.plans(), sd.plans());
    let size_v: usize = pv.iter().map(|p| p.bytes).sum();
    let size_d = pd.iter().map(|p| p.bytes).sum::<usize>() + uvarint_len(zigzag(first));
    let raw = n * 8;
    let start = out.len();
    if size_v.min(size_d) + 2 + uvarint_len(n as u64) >= raw {
        out.push(RAW);
        for x in v {
            out.extend_from_slice(&x.to_le_bytes());
        }
        return;
    }
    out.push(PACKED);
    put_uvarint(out, n as u64);
    if size_d < size_v {
        out.push(1);
        out.push(sd.k as u8);
        put_ivarint(out, first);
        write_frames(&deltas, sd.k, &pd, out);
    } else {
        out.push(0);
        out.push(sv.k as u8);
        write_frames(v, sv.k, &pv, out);
    }
    debug_assert_eq!(
        out.len() - start,
        1 + uvarint_len(n as u64) + 2 + size_v.min(size_d)
    );
}

/// Unpacks one frame of `len` offsets of width `w` from `bytes` into `dst`
/// as `min + offset * scale` (wrapping).
#[inline]
fn unpack_frame(bytes: &[u8], w: u32, len: usize, min: i64, scale: i64, dst: &mut [i64; FRAME]) {
    if w == 0 {
        let v = min.wrapping_mul(scale);
        dst[..len].fill(v);
        return;
    }
    let mut words = [0u64; FRAME + 1];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
        let mut a = [0u8; 8];
        a[..chunk.len()].copy_from_slice(chunk);
        *word = u64::from_le_bytes(a);
    }
    let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    let w = w as usize;
    for (i, d) in dst[..len].iter_mut().enumerate() {
        let bit = i * w;
        let j = bit >> 6;
        let o = (bit & 63) as u32;
        let lo = words[j] >> o;
        let hi = (words[j + 1] << 1) << (63 - o);
        let off = (lo | hi) & mask;
        *d = min.wrapping_add(off as i64).wrapping_mul(scale);
    }
}

/// Appends the values decoded from `buf` to `out`; on error `out` may hold
/// a partial prefix (the public wrappers truncate it).
pub(crate) fn decode(buf: &[u8], out: &mut Vec<i64>) -> Result<()> {
    let mut c = Cursor::new(buf);
    match c.u8()? {
        RAW => {
            let rest = c.rest();
            if !rest.len().is_multiple_of(8) {
                return Err(Error::Corrupt("length"));
            }
            out.extend(rest.chunks_exact(8).map(|b| {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                i64::from_le_bytes(a)
            }));
            Ok(())
        }
        RLE => {
            let n = c.count(MAX_RLE)?;
            let first = c.ivarint()?;
            let delta = c.ivarint()?;
            if c.remaining() != 0 {
                return Err(Error::Corrupt("trailing bytes"));
            }
            out.reserve(n);
            let mut x = first;
            for _ in 0..n {
                out.push(x);
                x = x.wrapping_add(delta);
            }
            Ok(())
        }
        PACKED => decode_packed(&mut c, out),
        h => Err(Error::UnknownEncoding(h)),
    }
}

fn decode_packed(c: &mut Cursor<'_>, out: &mut Vec<i64>) -> Result<()> {
    // Every frame takes at least two bytes, so a frame of FRAME values
    // costs >= 2 bytes: bounds n by the input size before reserving.
    let n = c.count(c.remaining().saturating_mul(FRAME / 2) + 1)?;
    let flags = c.u8()?;
    let k = u32::from(c.u8()?);
    if flags > 1 || k > MAX_K || n == 0 {
        return Err(Error::Corrupt("packed header"));
    }
    let scale = POW10[k as usize] as i64;
    let delta_mode = flags == 1;
    let (mut acc, mut left) = if delta_mode {
        let first = c.ivarint()?;
        out.reserve(n);
        out.push(first);
        (first, n - 1)
    } else {
        out.reserve(n);
        (0, n)
    };
    let mut buf = [0i64; FRAME];
    while left > 0 {
        let len = left.min(FRAME);
        let wb = c.u8()?;
        let w = u32::from(wb & !EXC_FLAG);
        if w > 64 {
            return Err(Error::Corrupt("frame width"));
        }
        let mut exc = [(0usize, 0i64); 2];
        let mut ne = 0;
        if wb & EXC_FLAG != 0 {
            ne = usize::from(c.u8()?);
            if ne == 0 || ne > 2 {
                return Err(Error::Corrupt("frame exceptions"));
            }
            for e in &mut exc[..ne] {
                let i = usize::from(c.u8()?);
                if i >= len {
                    return Err(Error::Corrupt("frame exception index"));
                }
                *e = (i, c.ivarint()?);
            }
        }
        let min = c.ivarint()?;
        let bytes = c.take((len * w as usize).div_ceil(8))?;
        unpack_frame(bytes, w, len, min, scale, &mut buf);
        for &(i, v) in &exc[..ne] {
            buf[i] = v.wrapping_mul(scale);
        }
        if delta_mode {
            for &d in &buf[..len] {
                acc = acc.wrapping_add(d);
                out.push(acc);
            }
        } else {
            out.extend_from_slice(&buf[..len]);
        }
        left -= len;
    }
    if c.remaining() != 0 {
        return Err(Error::Corrupt("trailing bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt(v: &[i64]) -> Vec<u8> {
        let mut enc = Vec::new();
        encode(v, &mut enc);
        let mut dec = Vec::new();
        decode(&enc, &mut dec).unwrap();
        assert_eq!(dec, v);
        enc
    }

    /// Best-of timing of encode/decode (`--release --ignored --nocapture`);
    /// best-of is robust to other processes sharing the machine.
    #[test]
    #[ignore]
    fn speed() {
        let mut x = 0x9E37_79B9u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut w = 1_000_000i64;
        let walk: Vec<i64> = (0..1000)
            .map(|_| {
                w += (rnd() % 2001) as i64 - 1000;
                w
            })
            .collect();
        let jit: Vec<i64> = (0..1000i64)
            .map(|i| 1_451_606_400_000_000_000 + i * 10_000_000_000 + (rnd() % 1_000_000) as i64)
            .collect();
        for (name, v) in [("int_walk", walk), ("ts_jitter", jit)] {
            let mut enc = Vec::with_capacity(16000);
            let mut dec = Vec::with_capacity(1000);
            let (mut be, mut bd) = (f64::MAX, f64::MAX);
            for _ in 0..3000 {
                enc.clear();
                let t = std::time::Instant::now();
                encode(std::hint::black_box(&v), &mut enc);
                be = be.min(t.elapsed().as_secs_f64());
                dec.clear();
                let t = std::time::Instant::now();
                decode(std::hint::black_box(&enc), &mut dec).unwrap();
                bd = bd.min(t.elapsed().as_secs_f64());
            }
            let (mut bs, mut bw) = (f64::MAX, f64::MAX);
            let deltas: Vec<i64> = v.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
            for _ in 0..3000 {
                let t = std::time::Instant::now();
                let s = stats(std::hint::black_box(&deltas));
                bs = bs.min(t.elapsed().as_secs_f64());
                let p = s.plans();
                enc.clear();
                let t = std::time::Instant::now();
                write_frames(std::hint::black_box(&deltas), s.k, &p, &mut enc);
                bw = bw.min(t.elapsed().as_secs_f64());
            }
            println!("{name}: stats {:.2} us, write {:.2} us", bs * 1e6, bw * 1e6);
            println!(
                "{name}: encode {:.0} M/s, decode {:.0} M/s, {:.3} B/value",
                1000.0 / be / 1e6,
                1000.0 / bd / 1e6,
                enc.len() as f64 / 1000.0
            );
        }
    }

    #[test]
    fn inverse_tables_are_inverses() {
        for k in 0..20 {
            assert_eq!((POW10[k] >> k).wrapping_mul(INV5[k]), 1, "k={k}");
        }
    }

    #[test]
    fn divisibility_and_exact_division() {
        for &x in &[
            0i64,
            10,
            -10,
            1000,
            -7000,
            1_000_000_000,
            123,
            i64::MIN,
            i64::MAX,
            -1_000_000_000_000_000_000,
        ] {
            for k in 0..=MAX_K {
                let p = POW10[k as usize] as i128;
                let expect = (x as i128) % p == 0;
                assert_eq!(divisible(x, k), expect, "x={x} k={k}");
                if expect {
                    assert_eq!(div_exact(x, k) as i128, x as i128 / p);
                }
            }
        }
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(rt(&[]), vec![RAW]);
        assert_eq!(rt(&[42])[0], RLE);
        rt(&[i64::MIN]);
        rt(&[i64::MAX]);
    }

    #[test]
    fn constant_delta_is_rle() {
        let v: Vec<i64> = (0..1000)
            .map(|i| 1_600_000_000_000_000_000 + i * 10_000_000_000)
            .collect();
        let enc = rt(&v);
        assert_eq!(enc[0], RLE);
        assert!(enc.len() < 20);
    }

    #[test]
    fn wrapping_extremes() {
        rt(&[i64::MIN, i64::MAX, i64::MIN, i64::MAX, 0, -1, 1]);
        rt(&[i64::MAX, i64::MIN, 0]);
        let alt: Vec<i64> = (0..1000)
            .map(|i| {
                if i % 2 == 0 {
                    i64::MIN + i
                } else {
                    i64::MAX - i
                }
            })
            .collect();
        rt(&alt);
        // Constant delta that wraps around.
        let wrap: Vec<i64> = (0..50)
            .map(|i: i64| i64::MAX.wrapping_add(i.wrapping_mul(i64::MAX / 3)))
            .collect();
        assert_eq!(rt(&wrap)[0], RLE);
    }

    #[test]
    fn jittered_timestamps_pack_small_and_scale() {
        let mut t = 1_600_000_000_000_000_000i64;
        let mut v = Vec::new();
        for i in 0..1000i64 {
            v.push(t);
            t += 10_000_000_000 + ((i * 7919) % 13 - 6) * 1_000_000;
        }
        let enc = rt(&v);
        assert_eq!(enc[0], PACKED);
        assert_eq!(enc[4], 6, "common divisor 10^6");
        assert!(enc.len() < 1000, "{} bytes", enc.len());
    }

    #[test]
    fn counter_reset_is_an_exception() {
        let mut x = 5_000_000_000i64;
        let v: Vec<i64> = (0..1000)
            .map(|i| {
                x = if i == 400 {
                    17
                } else {
                    x + 100 + (i * 37) % 50
                };
                x
            })
            .collect();
        let enc = rt(&v);
        // 6 bits per delta plus a few bytes for the reset.
        assert!(enc.len() < 1000 * 6 / 8 + 60, "{}", enc.len());
    }

    #[test]
    fn exceptions_at_both_ends_of_a_frame() {
        let mut v: Vec<i64> = (0..300).map(|i| i % 7).collect();
        v[0] = i64::MIN;
        v[127] = i64::MAX;
        v[128] = i64::MAX;
        v[200] = -5_000_000;
        let enc = rt(&v);
        assert!(enc.len() < 200, "{}", enc.len());
    }

    #[test]
    fn corrupt_exceptions_are_errors() {
        // n=3 value mode, frame with exception flag but count 0 / 3 / bad index.
        for body in [&[0x81u8, 0][..], &[0x81, 3], &[0x81, 1, 3, 0, 0, 0]] {
            let mut b = vec![PACKED, 3, 0, 0];
            b.extend_from_slice(body);
            assert!(decode(&b, &mut Vec::new()).is_err(), "{body:?}");
        }
        // A valid one: index 1 is 42, others min 0 + offset 0 (w=1, 1 byte).
        let b = [PACKED, 3, 0, 0, 0x81, 1, 1, 84, 0, 0];
        let mut out = Vec::new();
        decode(&b, &mut out).unwrap();
        assert_eq!(out, [0, 42, 0]);
    }

    #[test]
    fn sixty_four_k_values() {
        let v: Vec<i64> = (0..65536i64).map(|i| i * i - 5 * i).collect();
        rt(&v);
        let c: Vec<i64> = vec![7; 65536];
        rt(&c);
        let long = vec![3i64; MAX_RLE + 5];
        let enc = rt(&long);
        assert_eq!(enc[0], PACKED);
    }

    #[test]
    fn random_values_fall_back_to_raw_when_smaller() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let v: Vec<i64> = (0..100)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as i64
            })
            .collect();
        let enc = rt(&v);
        assert!(enc.len() <= 1 + 8 * v.len());
    }

    #[test]
    fn corrupt_inputs_are_errors() {
        assert!(decode(&[], &mut Vec::new()).is_err());
        assert!(decode(&[RAW, 1, 2], &mut Vec::new()).is_err());
        assert_eq!(
            decode(&[9], &mut Vec::new()),
            Err(Error::UnknownEncoding(9))
        );
        // RLE claiming more than MAX_RLE values.
        let mut b = vec![RLE];
        put_uvarint(&mut b, MAX_RLE as u64 + 1);
        b.extend_from_slice(&[0, 0]);
        assert!(decode(&b, &mut Vec::new()).is_err());
        // PACKED claiming a huge count with tiny input.
        let mut b = vec![PACKED];
        put_uvarint(&mut b, 1 << 40);
        b.extend_from_slice(&[0, 0, 0, 0]);
        assert!(decode(&b, &mut Vec::new()).is_err());
        // Frame width above 64.
        assert!(decode(&[PACKED, 1, 0, 0, 65, 0], &mut Vec::new()).is_err());
        // Truncated frame body.
        let v: Vec<i64> = (0..300).map(|i| i * i).collect();
        let mut enc = Vec::new();
        encode(&v, &mut enc);
        for cut in 0..enc.len() {
            assert!(decode(&enc[..cut], &mut Vec::new()).is_err(), "cut {cut}");
        }
    }

    proptest! {
        #[test]
        fn prop_roundtrip(v in proptest::collection::vec(any::<i64>(), 0..600)) {
            rt(&v);
        }

        #[test]
        fn prop_roundtrip_small_deltas(start in any::<i64>(), d in proptest::collection::vec(-1000i64..1000, 0..600), k in 0u32..10) {
            let mut x = start;
            let v: Vec<i64> = d.iter().map(|&d| { x = x.wrapping_add(d * 10i64.pow(k)); x }).collect();
            rt(&v);
        }

        /// Well-formed PACKED headers followed by garbage frames.
        #[test]
        fn prop_packed_garbage_never_panics(n in 1u64..400, flags in 0u8..3, k in 0u8..21, body in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut b = vec![PACKED];
            put_uvarint(&mut b, n);
            b.push(flags);
            b.push(k);
            b.extend_from_slice(&body);
            let mut out = Vec::new();
            if decode(&b, &mut out).is_ok() {
                prop_assert_eq!(out.len() as u64, n);
            }
        }

        #[test]
        fn prop_random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300), h in 0u8..4) {
            let mut b = b;
            if let Some(f) = b.first_mut() { *f = h; }
            let _ = decode(&b, &mut Vec::new());
        }
    }
}
