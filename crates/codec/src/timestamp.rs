//! Codec for timestamp columns (nanoseconds since the epoch, any `i64`).
//!
//! Timestamps share the integer format (see [`crate::integer`]): regular
//! series, the common case, become RLE (`first`, `delta`, `count`: about 12
//! bytes for a whole block); irregular series become frame-of-reference
//! packed deltas divided by their common power of ten (second- or
//! millisecond-precision data written in nanoseconds loses the trailing
//! zeros). Unsorted, negative or duplicate timestamps still round-trip,
//! only less compactly. Owns nothing beyond that choice; must not sort or
//! deduplicate.

use crate::{integer, Result};

pub(crate) fn encode(ts: &[i64], out: &mut Vec<u8>) {
    integer::encode(ts, out)
}

pub(crate) fn decode(buf: &[u8], out: &mut Vec<i64>) -> Result<()> {
    integer::decode(buf, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt(v: &[i64]) -> usize {
        let mut enc = Vec::new();
        encode(v, &mut enc);
        let mut dec = Vec::new();
        decode(&enc, &mut dec).unwrap();
        assert_eq!(dec, v);
        enc.len()
    }

    #[test]
    fn regular_block_is_tiny() {
        let v: Vec<i64> = (0..1000)
            .map(|i| 1_451_606_400_000_000_000 + i * 10_000_000_000)
            .collect();
        // header, count, first (9 bytes), delta: 17 bytes for the block.
        assert!(rt(&v) <= 17);
    }

    #[test]
    fn regular_with_one_gap() {
        let mut v: Vec<i64> = (0..1000)
            .map(|i| 1_451_606_400_000_000_000 + i * 10_000_000_000)
            .collect();
        for x in &mut v[500..] {
            *x += 30_000_000_000;
        }
        // Deltas are 10 s except one, which becomes a frame exception.
        assert!(rt(&v) < 40, "{}", rt(&v));
    }

    #[test]
    fn regular_with_one_late_point_in_ns() {
        let mut v: Vec<i64> = (0..1000)
            .map(|i| 1_451_606_400_000_000_000 + i * 10_000_000_000)
            .collect();
        v[300] += 1_234_567;
        // Two odd deltas (one up, one down) in one frame: both exceptions;
        // the divisor drops to 1 so frame minimums cost 5 bytes each.
        assert!(rt(&v) < 80, "{}", rt(&v));
    }

    #[test]
    fn unsorted_negative_duplicates() {
        rt(&[5, 3, 3, -7, i64::MIN, i64::MAX, 0, 0, -1]);
        rt(&[
            -1_000_000_000,
            -2_000_000_000,
            -3_000_000_000,
            -3_500_000_000,
        ]);
    }

    #[test]
    fn second_precision_irregular() {
        let mut t = 1_600_000_000i64 * 1_000_000_000;
        let v: Vec<i64> = (0..1000i64)
            .map(|i| {
                t += (1 + (i * 31) % 17) * 1_000_000_000;
                t
            })
            .collect();
        // 17 possible deltas: 5 bits each plus frame overhead.
        assert!(rt(&v) < 1000 * 5 / 8 + 100);
    }

    proptest! {
        #[test]
        fn prop_sorted_roundtrip(mut v in proptest::collection::vec(any::<i64>(), 0..500)) {
            v.sort_unstable();
            rt(&v);
        }

        #[test]
        fn prop_jittered_roundtrip(start in any::<i64>(), step in 1i64..100_000_000_000, jit in proptest::collection::vec(-1000i64..1000, 1..1100)) {
            let v: Vec<i64> = jit.iter().enumerate().map(|(i, j)| start.wrapping_add(step.wrapping_mul(i as i64)).wrapping_add(*j)).collect();
            rt(&v);
        }
    }
}
