//! Entry points for fuzzing (`fuzz/` at the repository root) and for
//! replaying its corpora in the normal test suite. Not an API: hidden from
//! the docs and free to change with the fuzz targets. Must not be used by
//! readers of data files.

/// The first byte picks the decoder (timestamps, floats, integers, unsigned,
/// booleans, strings, float prefix), the rest is the encoded block. A
/// decoder that fails leaves its output as it was; one that succeeds yields
/// values that encode and decode back to themselves.
pub fn decode(data: &[u8]) {
    let Some((&which, buf)) = data.split_first() else {
        return;
    };
    match which % 7 {
        0 => round_trip(
            buf,
            crate::decode_timestamps,
            crate::encode_timestamps,
            7i64,
        ),
        1 => {
            let mut out = vec![1.5f64];
            match crate::decode_floats(buf, &mut out) {
                Ok(()) => {
                    let mut enc = Vec::new();
                    crate::encode_floats(&out[1..], &mut enc);
                    let mut back = Vec::new();
                    crate::decode_floats(&enc, &mut back).expect("re-encoded floats decode");
                    let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&back), bits(&out[1..]), "floats do not round-trip");
                }
                Err(_) => assert_eq!(out.len(), 1, "failed decode changed its output"),
            }
        }
        2 => round_trip(buf, crate::decode_integers, crate::encode_integers, -3i64),
        3 => round_trip(buf, crate::decode_unsigned, crate::encode_unsigned, 3u64),
        4 => round_trip(buf, crate::decode_booleans, crate::encode_booleans, true),
        5 => round_trip(
            buf,
            crate::decode_strings,
            |v: &[String], out: &mut Vec<u8>| crate::encode_strings(v, out),
            "x".to_string(),
        ),
        _ => {
            let limit = buf.first().map_or(0, |&b| usize::from(b));
            let mut all = Vec::new();
            let whole = crate::decode_floats(buf.get(1..).unwrap_or_default(), &mut all);
            let mut some = Vec::new();
            let prefix =
                crate::decode_floats_prefix(buf.get(1..).unwrap_or_default(), &mut some, limit);
            if whole.is_ok() && prefix.is_ok() {
                let n = some.len();
                assert!(n <= all.len(), "prefix decoded more than the block");
                let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&some),
                    bits(&all[..n]),
                    "prefix differs from the block"
                );
            }
        }
    }
}

fn round_trip<T: Clone + PartialEq + std::fmt::Debug>(
    buf: &[u8],
    dec: fn(&[u8], &mut Vec<T>) -> crate::Result<()>,
    enc: fn(&[T], &mut Vec<u8>),
    sentinel: T,
) {
    let mut out = vec![sentinel];
    match dec(buf, &mut out) {
        Ok(()) => {
            let mut e = Vec::new();
            enc(&out[1..], &mut e);
            let mut back = Vec::new();
            dec(&e, &mut back).expect("re-encoded values decode");
            assert_eq!(back, out[1..], "values do not round-trip");
        }
        Err(_) => assert_eq!(out.len(), 1, "failed decode changed its output"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// Writes encoder outputs (selector byte + block) into `fuzz/corpus/`:
    /// `cargo test -p codec -- --ignored write_fuzz_seeds`.
    #[test]
    #[ignore = "writes fuzz seeds into the repository"]
    fn write_fuzz_seeds() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/codec_decode");
        std::fs::create_dir_all(&dir).unwrap();
        let mut n = 0;
        let mut save = |which: u8, block: Vec<u8>| {
            let mut b = vec![which];
            b.extend(block);
            std::fs::write(dir.join(format!("seed-{n}")), b).unwrap();
            n += 1;
        };
        let regular: Vec<i64> = (0..100)
            .map(|i| 1_700_000_000_000_000_000 + i * 10_000_000_000)
            .collect();
        let jitter: Vec<i64> = (0..100).map(|i| i * 1000 + (i * 7919) % 13).collect();
        let small: Vec<i64> = (0..50).map(|i| (i % 5) - 2).collect();
        let big = vec![i64::MIN, -1, 0, 1, i64::MAX, 3];
        for v in [&regular, &jitter, &small, &big, &vec![42; 200]] {
            let mut e = Vec::new();
            crate::encode_timestamps(v, &mut e);
            save(0, e);
            let mut e = Vec::new();
            crate::encode_integers(v, &mut e);
            save(2, e);
            let u: Vec<u64> = v.iter().map(|&x| x as u64).collect();
            let mut e = Vec::new();
            crate::encode_unsigned(&u, &mut e);
            save(3, e);
        }
        let floats: [Vec<f64>; 4] = [
            (0..100).map(|i| i as f64 * 0.1).collect(),
            (0..100).map(|i| (i as f64).sin()).collect(),
            vec![f64::NAN, f64::INFINITY, -0.0, 1e300, f64::MIN_POSITIVE],
            (0..60).map(|i| 20.5 + (i % 4) as f64 * 0.25).collect(),
        ];
        for v in &floats {
            let mut e = Vec::new();
            crate::encode_floats(v, &mut e);
            save(1, e.clone());
            let mut p = vec![10u8];
            p.extend(e);
            save(6, p);
        }
        for v in [vec![true; 70], (0..70).map(|i| i % 3 == 0).collect()] {
            let mut e = Vec::new();
            crate::encode_booleans(&v, &mut e);
            save(4, e);
        }
        for v in [vec!["a", "bb", ""], vec!["héllo wörld"; 30]] {
            let mut e = Vec::new();
            crate::encode_strings(&v, &mut e);
            save(5, e);
        }
    }

    #[test]
    fn fuzz_corpus_codec_decode_replays() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/codec_decode");
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
        let mut n = 0;
        for e in entries {
            let data = std::fs::read(e.expect("corpus entry").path()).expect("corpus file");
            super::decode(&data);
            n += 1;
        }
        assert!(n > 0, "corpus {} is empty", dir.display());
    }
}
