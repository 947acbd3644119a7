//! Codec for string columns: length-prefixed concatenation compressed with
//! Snappy (the `snap` crate, pure Rust, GB/s decode). zstd compresses
//! repetitive text further but needs a C library build; string fields are
//! rare in TSBS-style workloads and Snappy already removes the repetition
//! that dominates them (repeated states, hostnames), so Snappy it is.
//!
//! Owns the string block format only.
//!
//! # Format (after the header byte)
//!
//! * `0` RAW: per string `u32 LE length`, bytes.
//! * `1` SNAPPY: a Snappy raw-format block whose decompressed content is,
//!   per string, `uvarint length` then the UTF-8 bytes.

use crate::bits::{put_uvarint, Cursor};
use crate::{Error, Result, RAW};

const SNAPPY: u8 = 1;

pub(crate) fn encode<S: AsRef<str>>(v: &[S], out: &mut Vec<u8>) {
    if v.is_empty() {
        out.push(RAW);
        return;
    }
    let mut plain = Vec::with_capacity(v.iter().map(|s| s.as_ref().len() + 2).sum());
    for s in v {
        let s = s.as_ref().as_bytes();
        put_uvarint(&mut plain, s.len() as u64);
        plain.extend_from_slice(s);
    }
    out.push(SNAPPY);
    let start = out.len();
    out.resize(start + snap::raw::max_compress_len(plain.len()), 0);
    match snap::raw::Encoder::new().compress(&plain, &mut out[start..]) {
        Ok(n) => out.truncate(start + n),
        Err(_) => {
            // Input beyond Snappy's size limit: store uncompressed.
            out.truncate(start - 1);
            encode_raw(v, out);
        }
    }
}

fn encode_raw<S: AsRef<str>>(v: &[S], out: &mut Vec<u8>) {
    out.push(RAW);
    for s in v {
        let s = s.as_ref().as_bytes();
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s);
    }
}

fn push_utf8(out: &mut Vec<String>, b: &[u8]) -> Result<()> {
    let s = std::str::from_utf8(b).map_err(|_| Error::Corrupt("utf8"))?;
    out.push(s.to_owned());
    Ok(())
}

pub(crate) fn decode(buf: &[u8], out: &mut Vec<String>) -> Result<()> {
    let mut c = Cursor::new(buf);
    match c.u8()? {
        RAW => {
            while c.remaining() > 0 {
                let l = c.take(4)?;
                let n = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
                push_utf8(out, c.take(n)?)?;
            }
            Ok(())
        }
        SNAPPY => {
            let body = c.rest();
            let len =
                snap::raw::decompress_len(body).map_err(|_| Error::Corrupt("snappy header"))?;
            // Snappy expands at most ~22x; refuse claims a corrupt header
            // could use to make us allocate gigabytes.
            if len > body.len().saturating_mul(32).saturating_add(64) {
                return Err(Error::Corrupt("snappy length"));
            }
            let plain = snap::raw::Decoder::new()
                .decompress_vec(body)
                .map_err(|_| Error::Corrupt("snappy data"))?;
            let mut p = Cursor::new(&plain);
            while p.remaining() > 0 {
                let n = p.count(p.remaining())?;
                push_utf8(out, p.take(n)?)?;
            }
            Ok(())
        }
        h => Err(Error::UnknownEncoding(h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt<S: AsRef<str>>(v: &[S]) -> Vec<u8> {
        let mut enc = Vec::new();
        encode(v, &mut enc);
        let mut dec = Vec::new();
        decode(&enc, &mut dec).unwrap();
        assert_eq!(dec.len(), v.len());
        for (a, b) in dec.iter().zip(v) {
            assert_eq!(a, b.as_ref());
        }
        enc
    }

    #[test]
    fn edges() {
        assert_eq!(rt::<&str>(&[]), vec![RAW]);
        rt(&[""]);
        rt(&["", "", ""]);
        rt(&["héllo wörld", "日本語", "🦀🦀", "\0nul\0", "x"]);
        let big = "a".repeat(70_000);
        rt(&[big.as_str(), "", big.as_str()]);
    }

    #[test]
    fn repetitive_strings_compress() {
        let v: Vec<String> = (0..1000)
            .map(|i| ["running", "sleeping", "stopped"][i % 3].to_owned())
            .collect();
        let enc = rt(&v);
        // Snappy caps at ~21x (64-byte copies): 8.7 kB become ~420 bytes.
        assert!(enc.len() < 500, "{}", enc.len());
    }

    #[test]
    fn raw_format_still_decodes() {
        let mut b = Vec::new();
        encode_raw(&["ab", "", "ü"], &mut b);
        let mut out = Vec::new();
        decode(&b, &mut out).unwrap();
        assert_eq!(out, vec!["ab", "", "ü"]);
    }

    #[test]
    fn corrupt() {
        assert!(decode(&[SNAPPY], &mut Vec::new()).is_err());
        assert!(decode(&[SNAPPY, 0xff, 0xff, 0xff, 0xff, 0x0f], &mut Vec::new()).is_err());
        assert!(decode(&[RAW, 5, 0, 0, 0, b'a'], &mut Vec::new()).is_err());
        assert!(decode(&[RAW, 1, 0, 0, 0, 0xff], &mut Vec::new()).is_err());
        // Valid snappy of invalid content (length prefix too long).
        let bad = snap::raw::Encoder::new().compress_vec(&[9, b'a']).unwrap();
        let mut b = vec![SNAPPY];
        b.extend_from_slice(&bad);
        assert!(decode(&b, &mut Vec::new()).is_err());
    }

    proptest! {
        #[test]
        fn prop_roundtrip(v in proptest::collection::vec(".{0,40}", 0..200)) {
            rt(&v);
        }

        #[test]
        fn prop_random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300), h in 0u8..3) {
            let mut b = b;
            if let Some(f) = b.first_mut() { *f = h; }
            let _ = decode(&b, &mut Vec::new());
        }
    }
}
