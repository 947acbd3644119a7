//! Tests of the public API: round-trips through every codec, the RAW
//! (header 0) format the placeholder wrote, and decoders fed garbage.

use super::*;
use proptest::prelude::*;

fn raw_bytes(items: impl Iterator<Item = [u8; 8]>) -> Vec<u8> {
    let mut b = vec![RAW];
    for i in items {
        b.extend_from_slice(&i);
    }
    b
}

#[test]
fn raw_header_zero_decodes_for_every_type() {
    let ints = [1i64, -2, i64::MIN, i64::MAX];
    let b = raw_bytes(ints.iter().map(|v| v.to_le_bytes()));
    let mut o = Vec::new();
    decode_timestamps(&b, &mut o).unwrap();
    assert_eq!(o, ints);
    o.clear();
    decode_integers(&b, &mut o).unwrap();
    assert_eq!(o, ints);

    let us = [0u64, u64::MAX, 1 << 63];
    let b = raw_bytes(us.iter().map(|v| v.to_le_bytes()));
    let mut o = Vec::new();
    decode_unsigned(&b, &mut o).unwrap();
    assert_eq!(o, us);

    let fs = [1.5f64, -0.0, f64::NAN];
    let b = raw_bytes(fs.iter().map(|v| v.to_bits().to_le_bytes()));
    let mut o = Vec::new();
    decode_floats(&b, &mut o).unwrap();
    assert_eq!(
        o.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
        fs.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
    );

    let mut o = Vec::new();
    decode_booleans(&[RAW, 1, 0, 1], &mut o).unwrap();
    assert_eq!(o, [true, false, true]);

    let mut o = Vec::new();
    decode_strings(&[RAW, 2, 0, 0, 0, b'h', b'i'], &mut o).unwrap();
    assert_eq!(o, ["hi"]);

    for d in [
        decode_timestamps(&[RAW, 1], &mut Vec::new()),
        decode_integers(&[], &mut Vec::new()),
    ] {
        assert!(matches!(d, Err(Error::Corrupt(_))));
    }
}

#[test]
fn decode_appends_and_restores_on_error() {
    let mut enc = Vec::new();
    encode_integers(&[1, 2, 3, 5], &mut enc);
    let mut out = vec![9];
    decode_integers(&enc, &mut out).unwrap();
    assert_eq!(out, [9, 1, 2, 3, 5]);
    let cut = &enc[..enc.len() - 1];
    assert!(decode_integers(cut, &mut out).is_err());
    assert_eq!(out, [9, 1, 2, 3, 5]);
}

#[test]
fn encoders_append_after_existing_bytes() {
    let ts: Vec<i64> = (0..300).map(|i| i * 1000 + (i % 3)).collect();
    let fs: Vec<f64> = (0..300).map(|i| f64::from(i) * 0.37).collect();
    let bs: Vec<bool> = (0..300).map(|i| i % 5 == 0).collect();
    let ss: Vec<String> = (0..300).map(|i| format!("s{}", i % 7)).collect();
    let us: Vec<u64> = (0..300).map(|i| u64::MAX - i * i).collect();
    let mut buf = vec![0xAA; 5];
    let mut cuts = vec![buf.len()];
    encode_timestamps(&ts, &mut buf);
    cuts.push(buf.len());
    encode_floats(&fs, &mut buf);
    cuts.push(buf.len());
    encode_booleans(&bs, &mut buf);
    cuts.push(buf.len());
    encode_strings(&ss, &mut buf);
    cuts.push(buf.len());
    encode_unsigned(&us, &mut buf);
    cuts.push(buf.len());
    assert_eq!(&buf[..5], &[0xAA; 5]);
    let part = |i: usize| &buf[cuts[i]..cuts[i + 1]];
    let mut t = Vec::new();
    decode_timestamps(part(0), &mut t).unwrap();
    assert_eq!(t, ts);
    let mut f = Vec::new();
    decode_floats(part(1), &mut f).unwrap();
    assert_eq!(f, fs);
    let mut b = Vec::new();
    decode_booleans(part(2), &mut b).unwrap();
    assert_eq!(b, bs);
    let mut s = Vec::new();
    decode_strings(part(3), &mut s).unwrap();
    assert_eq!(s, ss);
    let mut u = Vec::new();
    decode_unsigned(part(4), &mut u).unwrap();
    assert_eq!(u, us);
}

#[test]
fn sixty_four_k_of_every_type() {
    let n = 65_536usize;
    let ts: Vec<i64> = (0..n as i64)
        .map(|i| i * 10_000_000_000 + (i * 7919) % 1000)
        .collect();
    let mut enc = Vec::new();
    encode_timestamps(&ts, &mut enc);
    let mut t = Vec::new();
    decode_timestamps(&enc, &mut t).unwrap();
    assert_eq!(t, ts);
    let ss: Vec<String> = (0..n).map(|i| "x".repeat(i % 13)).collect();
    let mut enc = Vec::new();
    encode_strings(&ss, &mut enc);
    let mut s = Vec::new();
    decode_strings(&enc, &mut s).unwrap();
    assert_eq!(s, ss);
    let us: Vec<u64> = (0..n as u64)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect();
    let mut enc = Vec::new();
    encode_unsigned(&us, &mut enc);
    let mut u = Vec::new();
    decode_unsigned(&enc, &mut u).unwrap();
    assert_eq!(u, us);
}

#[test]
fn unsigned_edges() {
    for v in [
        vec![],
        vec![u64::MAX],
        vec![0, u64::MAX, 0, u64::MAX],
        (0..1000).map(|i| u64::MAX - i * 3).collect(),
        vec![1 << 63, (1 << 63) - 1],
    ] {
        let mut enc = Vec::new();
        encode_unsigned(&v, &mut enc);
        let mut out = Vec::new();
        decode_unsigned(&enc, &mut out).unwrap();
        assert_eq!(out, v);
    }
}

#[test]
fn huge_deltas_wrap() {
    let v = [i64::MIN, i64::MAX, i64::MIN + 1, 0, i64::MAX, -1];
    for enc_fn in [encode_timestamps, encode_integers] {
        let mut enc = Vec::new();
        enc_fn(&v, &mut enc);
        let mut out = Vec::new();
        decode_integers(&enc, &mut out).unwrap();
        assert_eq!(out, v);
    }
}

proptest! {
    #[test]
    fn prop_unsigned_roundtrip(v in proptest::collection::vec(any::<u64>(), 0..400)) {
        let mut enc = Vec::new();
        encode_unsigned(&v, &mut enc);
        let mut out = Vec::new();
        decode_unsigned(&enc, &mut out).unwrap();
        prop_assert_eq!(out, v);
    }

    #[test]
    fn prop_unsigned_small_roundtrip(v in proptest::collection::vec(0u64..5000, 0..400)) {
        let mut enc = Vec::new();
        encode_unsigned(&v, &mut enc);
        let mut out = Vec::new();
        decode_unsigned(&enc, &mut out).unwrap();
        prop_assert_eq!(out, v);
    }

    #[test]
    fn prop_timestamps_roundtrip(v in proptest::collection::vec(any::<i64>(), 0..400)) {
        let mut enc = Vec::new();
        encode_timestamps(&v, &mut enc);
        let mut out = Vec::new();
        decode_timestamps(&enc, &mut out).unwrap();
        prop_assert_eq!(out, v);
    }

    /// Arbitrary bytes into every public decoder: errors, never panics, and
    /// `out` is untouched on error.
    #[test]
    fn prop_garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut i = vec![1i64];
        if decode_timestamps(&b, &mut i).is_err() { prop_assert_eq!(&i, &[1]); }
        let _ = decode_integers(&b, &mut Vec::new());
        let _ = decode_unsigned(&b, &mut Vec::new());
        let mut f = vec![0.5f64];
        if decode_floats(&b, &mut f).is_err() { prop_assert_eq!(f.len(), 1); }
        let _ = decode_booleans(&b, &mut Vec::new());
        let mut s = vec![String::new()];
        if decode_strings(&b, &mut s).is_err() { prop_assert_eq!(s.len(), 1); }
    }

    /// Valid encodings with one byte flipped: must not panic.
    #[test]
    fn prop_bitflips_never_panic(v in proptest::collection::vec(-100_000i64..100_000, 1..300), pos in any::<usize>(), bit in 0u8..8) {
        let mut enc = Vec::new();
        encode_integers(&v, &mut enc);
        let p = pos % enc.len();
        enc[p] ^= 1 << bit;
        let _ = decode_integers(&enc, &mut Vec::new());
        let fs: Vec<f64> = v.iter().map(|&x| x as f64 / 7.0).collect();
        let mut enc = Vec::new();
        encode_floats(&fs, &mut enc);
        let p = pos % enc.len();
        enc[p] ^= 1 << bit;
        let _ = decode_floats(&enc, &mut Vec::new());
    }
}
