//! Codec for `f64` columns. Works on the bit patterns, so NaN payloads,
//! ±0, ±Inf and subnormals round-trip bit-exactly.
//!
//! Owns the float block format; must not filter or canonicalise values.
//!
//! # Format (after the header byte)
//!
//! * `0` RAW: `n` little-endian 8-byte bit patterns.
//! * `1` XOR (Gorilla-style): `uvarint n` (>= 1), then a bit stream (LSB
//!   first, see `bits`): the first value's 64 bits; then per value the XOR
//!   `x` with the previous value:
//!   - `x == 0`: one `0` bit;
//!   - `x` fits the previous meaningful window: bits `1,0`, then the
//!     window's bits of `x` (`64 - lead - trail` bits);
//!   - else bits `1,1`, 6 bits `lead` (leading zeros of `x`), 6 bits
//!     `len - 1`, then the `len` meaningful bits of `x`; this becomes the
//!     window.
//! * `2` DECIMAL: `u8 d` (0..=18), then an integer block (see
//!   [`crate::integer`], own header byte) of `m_i`; value `i` is
//!   `m_i as f64 / 10^d`. Chosen only when that reproduces every value's
//!   bits exactly (`-0.0` and anything non-finite therefore never qualify).
//! * `3` BITS: an integer block (see [`crate::integer`]) of the 64-bit
//!   patterns read as `i64`. Same-sign random walks move by a bounded
//!   number of ulps, so delta + frame-of-reference packing beats XOR on
//!   full-precision noise (where XOR's meaningful window is ~50 bits wide).
//!
//! # Choice of encoding (measured, 1000-value blocks, bytes/value)
//!
//! TSBS-like random walks clamped to [0, 100] with N(0,1) steps, from the
//! `table` test below (`cargo test -p codec table -- --ignored --nocapture`):
//!
//! | data                                | XOR  | BITS | DECIMAL | chosen |
//! |-------------------------------------|------|------|---------|--------|
//! | rounded to 2 decimals               | 7.05 | 6.49 | 1.22    | 1.22   |
//! | printed with 15 significant digits  | 7.09 | 6.49 | 6.22    | 6.22   |
//! | full-precision `f64`                | 7.08 | 6.49 | n/a     | 6.49   |
//! | integral values (x100, rounded)     | 1.85 | 6.45 | 1.22    | 1.22   |
//!
//! XOR still wins on slowly changing gauges (repeats cost one bit): 1.8
//! bytes/value when each value repeats 4 times, where BITS pays ~50 bits
//! per frame value. So the encoder tries DECIMAL first (one exactness check
//! per value, abandoned at the first value with no decimal form of at most
//! 18 places and a mantissa below 2^53) and stops there at <= 2
//! bytes/value; otherwise it keeps the smallest of DECIMAL, XOR and BITS
//! (BITS falling back to RAW). Encoding therefore costs up to three passes
//! on full-precision data; decoding is one pass whatever was chosen.

use crate::bits::{put_uvarint, BitReader, BitWriter, Cursor};
use crate::{integer, Error, Result, RAW};

pub(crate) const XOR: u8 = 1;
pub(crate) const DECIMAL: u8 = 2;
pub(crate) const BITS: u8 = 3;
const MAX_D: u32 = 18;
const P10F: [f64; 19] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];
/// 2^53: above this integers are no longer exact in f64.
const EXACT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// The integer mantissa of `x` at `d` decimals, when `m / 10^d` gives back
/// exactly `x`.
#[inline(always)]
fn mantissa(x: f64, d: u32) -> Option<i64> {
    let p = P10F[d as usize];
    let m = (x * p).round();
    if m.abs().partial_cmp(&EXACT_LIMIT) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let mi = m as i64;
    ((mi as f64 / p).to_bits() == x.to_bits()).then_some(mi)
}

/// Smallest `d` with every value exact, and the mantissas, in one pass:
/// when a value needs more decimals, the mantissas so far are rescaled
/// (`m / 10^d` and `m * 10^k / 10^(d + k)` are the same rational, so they
/// round to the same `f64` as long as the mantissa stays below 2^53).
fn decimal_form(v: &[f64]) -> Option<(u32, Vec<i64>)> {
    let mut d = 0;
    let mut ms = Vec::with_capacity(v.len());
    for &x in v {
        if let Some(m) = mantissa(x, d) {
            ms.push(m);
            continue;
        }
        let old = d;
        let m = loop {
            d += 1;
            if d > MAX_D {
                return None;
            }
            if let Some(m) = mantissa(x, d) {
                break m;
            }
        };
        let f = 10i64.pow(d - old);
        for p in &mut ms {
            *p = p.checked_mul(f).filter(|q| q.unsigned_abs() < 1 << 53)?;
        }
        ms.push(m);
    }
    Some((d, ms))
}

fn encode_xor(v: &[f64], out: &mut Vec<u8>) {
    out.push(XOR);
    put_uvarint(out, v.len() as u64);
    let mut w = BitWriter::new(out);
    let mut prev = v[0].to_bits();
    w.write(prev, 64);
    // No window yet: lead + trail > 64 never fits.
    let (mut lead, mut trail) = (64u32, 64u32);
    for x in &v[1..] {
        let b = x.to_bits();
        let xor = b ^ prev;
        prev = b;
        if xor == 0 {
            w.write(0, 1);
            continue;
        }
        let lz = xor.leading_zeros();
        let tz = xor.trailing_zeros();
        if lz >= lead && tz >= trail {
            w.write(0b01, 2);
            w.write(xor >> trail, 64 - lead - trail);
        } else {
            let len = 64 - lz - tz;
            w.write(0b11 | u64::from(lz) << 2 | u64::from(len - 1) << 8, 14);
            w.write(xor >> tz, len);
            lead = lz;
            trail = tz;
        }
    }
    w.finish();
}

/// Replaces `out[start..]` with `cand` when that is shorter.
fn keep_smaller(out: &mut Vec<u8>, start: usize, cand: &[u8]) {
    if cand.len() < out.len() - start {
        out.truncate(start);
        out.extend_from_slice(cand);
    }
}

pub(crate) fn encode(v: &[f64], out: &mut Vec<u8>) {
    if v.is_empty() {
        out.push(RAW);
        return;
    }
    let start = out.len();
    if let Some((d, ms)) = decimal_form(v) {
        out.push(DECIMAL);
        out.push(d as u8);
        integer::encode(&ms, out);
        // Below 2 bytes/value neither XOR nor BITS does better in practice:
        // skip trying them.
        if out.len() - start <= 2 * v.len() {
            return;
        }
        let mut x = Vec::new();
        encode_xor(v, &mut x);
        keep_smaller(out, start, &x);
    } else {
        encode_xor(v, out);
    }
    // Integer deltas of the bit patterns; when the integer codec picks RAW
    // its bytes are exactly the float RAW form.
    let bits: Vec<i64> = v.iter().map(|x| x.to_bits() as i64).collect();
    let mut alt = vec![BITS];
    integer::encode(&bits, &mut alt);
    let alt = if alt[1] == RAW { &alt[1..] } else { &alt[..] };
    keep_smaller(out, start, alt);
}

fn decode_xor(c: &mut Cursor<'_>, out: &mut Vec<f64>, limit: usize) -> Result<()> {
    let data = c.rest();
    // Each value after the first takes at least one bit.
    let n = c.count((data.len() * 8).saturating_sub(63))?;
    let data = c.rest();
    if n == 0 {
        return Err(Error::Corrupt("empty xor block"));
    }
    if limit == 0 {
        return Ok(());
    }
    let n = n.min(limit);
    out.reserve(n);
    let mut r = BitReader::new(data);
    let mut prev = r.read_long(64);
    out.push(f64::from_bits(prev));
    let (mut trail, mut len) = (0u32, 0u32);
    for _ in 1..n {
        let ctl = r.peek(14);
        if ctl & 1 == 0 {
            r.skip(1);
        } else if ctl & 2 == 0 {
            r.skip(2);
            if len == 0 {
                return Err(Error::Corrupt("xor window before first header"));
            }
            prev ^= r.read_long(len) << trail;
        } else {
            r.skip(14);
            let lz = (ctl >> 2) as u32 & 63;
            len = ((ctl >> 8) as u32 & 63) + 1;
            if lz + len > 64 {
                return Err(Error::Corrupt("xor window"));
            }
            trail = 64 - lz - len;
            prev ^= r.read_long(len) << trail;
        }
        out.push(f64::from_bits(prev));
    }
    if r.overran() {
        return Err(Error::Corrupt("truncated xor stream"));
    }
    Ok(())
}

pub(crate) fn decode(buf: &[u8], out: &mut Vec<f64>) -> Result<()> {
    decode_prefix(buf, out, usize::MAX)
}

/// Decodes at most the first `limit` values (the XOR stream stops there).
pub(crate) fn decode_prefix(buf: &[u8], out: &mut Vec<f64>, limit: usize) -> Result<()> {
    let mut c = Cursor::new(buf);
    match c.u8()? {
        RAW => {
            let rest = c.rest();
            if !rest.len().is_multiple_of(8) {
                return Err(Error::Corrupt("length"));
            }
            out.extend(rest.chunks_exact(8).take(limit).map(|b| {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                f64::from_bits(u64::from_le_bytes(a))
            }));
            Ok(())
        }
        XOR => decode_xor(&mut c, out, limit),
        DECIMAL => {
            let d = c.u8()?;
            if u32::from(d) > MAX_D {
                return Err(Error::Corrupt("decimal scale"));
            }
            let p = P10F[d as usize];
            let mut ms = Vec::new();
            integer::decode(c.rest(), &mut ms)?;
            out.extend(ms.iter().take(limit).map(|&m| m as f64 / p));
            Ok(())
        }
        BITS => {
            let mut bits = Vec::new();
            integer::decode(c.rest(), &mut bits)?;
            out.extend(bits.iter().take(limit).map(|&b| f64::from_bits(b as u64)));
            Ok(())
        }
        h => Err(Error::UnknownEncoding(h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt(v: &[f64]) -> Vec<u8> {
        let mut enc = Vec::new();
        encode(v, &mut enc);
        let mut dec = Vec::new();
        decode(&enc, &mut dec).unwrap();
        assert_eq!(dec.len(), v.len());
        for (a, b) in dec.iter().zip(v) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
        }
        // Every prefix decodes to the same leading values.
        for limit in [
            0,
            1,
            2,
            v.len() / 2,
            v.len().saturating_sub(1),
            v.len(),
            v.len() + 5,
        ] {
            let mut part = Vec::new();
            decode_prefix(&enc, &mut part, limit).unwrap();
            assert_eq!(part.len(), limit.min(v.len()));
            assert!(part.iter().zip(v).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
        enc
    }

    /// Deterministic xorshift + Box-Muller normal steps.
    pub(crate) struct Rng(u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        pub(crate) fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        pub(crate) fn normal(&mut self) -> f64 {
            let u = self.unit().max(1e-300);
            let v = self.unit();
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
    }

    pub(crate) fn walk(seed: u64, n: usize) -> Vec<f64> {
        let mut r = Rng(seed);
        let mut x = 50.0f64;
        (0..n)
            .map(|_| {
                x = (x + r.normal()).clamp(0.0, 100.0);
                x
            })
            .collect()
    }

    #[test]
    fn special_values_bit_exact() {
        let v = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001),
            f64::from_bits(0xfff8_dead_beef_0001),
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 3.0,
            f64::from_bits(1),
            f64::MAX,
            f64::MIN,
            -0.0,
            -0.0,
        ];
        rt(&v);
        assert_eq!(rt(&[-0.0, -0.0])[0], XOR);
        for x in v {
            rt(&[x]);
            rt(&[x, x, x]);
        }
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(rt(&[]), vec![RAW]);
        rt(&[1.5]);
        rt(&[58.1317132304976]);
    }

    #[test]
    fn two_decimal_walk_uses_decimal() {
        let v: Vec<f64> = walk(7, 1000)
            .iter()
            .map(|x| (x * 100.0).round() / 100.0)
            .collect();
        let enc = rt(&v);
        assert_eq!(enc[0], DECIMAL);
        assert_eq!(enc[1], 2);
        assert!(enc.len() < 2 * v.len());
    }

    #[test]
    fn decimal_scale_grows_within_a_block() {
        let v = [1.0, 0.5, 0.25, 3.0, 0.125, -7.0, 1e-6, 2.5];
        let (d, ms) = decimal_form(&v).unwrap();
        assert_eq!(d, 6);
        assert_eq!(
            ms,
            [1_000_000, 500_000, 250_000, 3_000_000, 125_000, -7_000_000, 1, 2_500_000]
        );
        assert_eq!(rt(&v)[0], DECIMAL);
        // Rescaling that would leave the exact range gives up.
        assert!(decimal_form(&[4e15, 0.5]).is_none());
        assert!(decimal_form(&[-0.0]).is_none());
        assert!(decimal_form(&[f64::NAN]).is_none());
        assert!(decimal_form(&[f64::INFINITY]).is_none());
    }

    #[test]
    fn full_precision_walk_roundtrips() {
        let v = walk(11, 1000);
        let enc = rt(&v);
        assert!(enc.len() <= 1 + 8 * v.len());
        rt(&walk(3, 65536));
    }

    #[test]
    fn constant_block_is_small() {
        let enc = rt(&[42.125; 1000]);
        assert!(enc.len() < 20, "{}", enc.len());
        let enc = rt(&[f64::NAN; 1000]);
        assert!(enc.len() < 140, "{}", enc.len());
    }

    #[test]
    fn corrupt_inputs_are_errors() {
        assert!(decode(&[], &mut Vec::new()).is_err());
        assert!(decode(&[XOR], &mut Vec::new()).is_err());
        assert!(decode(&[XOR, 0], &mut Vec::new()).is_err());
        assert!(decode(&[DECIMAL, 19, 0], &mut Vec::new()).is_err());
        // Reuse-window control before any header.
        let mut b = vec![XOR, 2];
        b.extend_from_slice(&[0; 8]);
        b.push(0b01);
        assert!(decode(&b, &mut Vec::new()).is_err());
        let v = walk(5, 300);
        let mut enc = Vec::new();
        encode_xor(&v, &mut enc);
        for cut in 0..enc.len() - 1 {
            assert!(decode(&enc[..cut], &mut Vec::new()).is_err(), "cut {cut}");
        }
    }

    /// Best-of timing of encode/decode of the chosen encoding, and of the
    /// XOR path alone (`--release --ignored --nocapture`).
    #[test]
    #[ignore]
    fn speed() {
        let w = walk(9, 1000);
        let sets: Vec<(&str, Vec<f64>)> = vec![
            ("full", w.clone()),
            (
                "2 decimals",
                w.iter().map(|x| (x * 100.0).round() / 100.0).collect(),
            ),
            ("steps", (0..1000).map(|i| w[i / 4 * 4]).collect()),
        ];
        for (name, v) in sets {
            for xor_only in [false, true] {
                let mut enc = Vec::with_capacity(16000);
                let mut dec = Vec::with_capacity(1000);
                let (mut be, mut bd) = (f64::MAX, f64::MAX);
                for _ in 0..3000 {
                    enc.clear();
                    let t = std::time::Instant::now();
                    if xor_only {
                        encode_xor(std::hint::black_box(&v), &mut enc);
                    } else {
                        encode(std::hint::black_box(&v), &mut enc);
                    }
                    be = be.min(t.elapsed().as_secs_f64());
                    dec.clear();
                    let t = std::time::Instant::now();
                    decode(std::hint::black_box(&enc), &mut dec).unwrap();
                    bd = bd.min(t.elapsed().as_secs_f64());
                }
                println!(
                    "{name}{}: header {} encode {:.0} M/s, decode {:.0} M/s, {:.3} B/value",
                    if xor_only { " (xor)" } else { "" },
                    enc[0],
                    1000.0 / be / 1e6,
                    1000.0 / bd / 1e6,
                    enc.len() as f64 / 1000.0
                );
            }
        }
    }

    /// Prints the table in the module doc.
    #[test]
    #[ignore]
    fn table() {
        let sets: Vec<(&str, Vec<f64>)> = vec![
            (
                "2 decimals",
                walk(1, 1000)
                    .iter()
                    .map(|x| (x * 100.0).round() / 100.0)
                    .collect(),
            ),
            (
                "15 digits",
                walk(1, 1000)
                    .iter()
                    .map(|x| format!("{x:.14e}").parse().unwrap())
                    .collect(),
            ),
            ("full", walk(1, 1000)),
            (
                "integral",
                walk(1, 1000).iter().map(|x| (x * 100.0).round()).collect(),
            ),
        ];
        for (name, v) in sets {
            let mut x = Vec::new();
            encode_xor(&v, &mut x);
            let dec = decimal_form(&v).map(|(d, ms)| {
                let mut o = vec![DECIMAL, d as u8];
                integer::encode(&ms, &mut o);
                o.len() as f64 / v.len() as f64
            });
            let bits: Vec<i64> = v.iter().map(|x| x.to_bits() as i64).collect();
            let mut bi = vec![BITS];
            integer::encode(&bits, &mut bi);
            let mut chosen = Vec::new();
            encode(&v, &mut chosen);
            let per = |b: &Vec<u8>| b.len() as f64 / v.len() as f64;
            println!(
                "{name}: xor {:.2} bits {:.2} decimal {dec:?} chosen {:.2} (header {})",
                per(&x),
                per(&bi),
                per(&chosen),
                chosen[0]
            );
        }
    }

    proptest! {
        #[test]
        fn prop_roundtrip_bits(b in proptest::collection::vec(any::<u64>(), 0..500)) {
            let v: Vec<f64> = b.into_iter().map(f64::from_bits).collect();
            rt(&v);
        }

        #[test]
        fn prop_roundtrip_decimals(m in proptest::collection::vec(-1_000_000i64..1_000_000, 1..500), d in 0i32..8) {
            let v: Vec<f64> = m.iter().map(|&m| m as f64 / 10f64.powi(d)).collect();
            rt(&v);
        }

        #[test]
        fn prop_roundtrip_walk(seed in 1u64..u64::MAX, n in 1usize..1200) {
            rt(&walk(seed, n));
        }

        #[test]
        fn prop_random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300), h in 0u8..4) {
            let mut b = b;
            if let Some(f) = b.first_mut() { *f = h; }
            let _ = decode(&b, &mut Vec::new());
        }
    }
}
