//! Codec for boolean columns. Owns the boolean block format only.
//!
//! # Format (after the header byte)
//!
//! * `0` RAW: one byte per value (non-zero is true).
//! * `1` PACKED: `uvarint n`, then `ceil(n / 8)` bytes, value `i` in bit
//!   `i % 8` of byte `i / 8` (LSB first); padding bits are zero.
//! * `2` CONSTANT: `uvarint n` (1..=[`crate::integer::MAX_RLE`]), `u8`
//!   value (0 or 1): all `n` values equal.

use crate::bits::{put_uvarint, Cursor};
use crate::integer::MAX_RLE;
use crate::{Error, Result, RAW};

const PACKED: u8 = 1;
const CONSTANT: u8 = 2;

pub(crate) fn encode(v: &[bool], out: &mut Vec<u8>) {
    let Some(&first) = v.first() else {
        out.push(RAW);
        return;
    };
    if v.len() <= MAX_RLE && v.iter().all(|&b| b == first) {
        out.push(CONSTANT);
        put_uvarint(out, v.len() as u64);
        out.push(u8::from(first));
        return;
    }
    out.push(PACKED);
    put_uvarint(out, v.len() as u64);
    out.extend(v.chunks(8).map(|c| {
        c.iter()
            .enumerate()
            .fold(0u8, |acc, (i, &b)| acc | (u8::from(b) << i))
    }));
}

pub(crate) fn decode(buf: &[u8], out: &mut Vec<bool>) -> Result<()> {
    let mut c = Cursor::new(buf);
    match c.u8()? {
        RAW => {
            out.extend(c.rest().iter().map(|&b| b != 0));
            Ok(())
        }
        PACKED => {
            let n = c.count(c.remaining().saturating_mul(8))?;
            let bytes = c.take(n.div_ceil(8))?;
            if c.remaining() != 0 {
                return Err(Error::Corrupt("trailing bytes"));
            }
            out.reserve(n);
            for i in 0..n {
                out.push(bytes[i / 8] >> (i % 8) & 1 == 1);
            }
            Ok(())
        }
        CONSTANT => {
            let n = c.count(MAX_RLE)?;
            let b = c.u8()?;
            if b > 1 || c.remaining() != 0 {
                return Err(Error::Corrupt("constant block"));
            }
            out.resize(out.len() + n, b == 1);
            Ok(())
        }
        h => Err(Error::UnknownEncoding(h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt(v: &[bool]) -> Vec<u8> {
        let mut enc = Vec::new();
        encode(v, &mut enc);
        let mut dec = Vec::new();
        decode(&enc, &mut dec).unwrap();
        assert_eq!(dec, v);
        enc
    }

    #[test]
    fn edges() {
        assert_eq!(rt(&[]), vec![RAW]);
        assert_eq!(rt(&[true]), vec![CONSTANT, 1, 1]);
        assert_eq!(rt(&[false; 1000]).len(), 4);
        let alt: Vec<bool> = (0..65536).map(|i| i % 3 == 0).collect();
        assert_eq!(rt(&alt).len(), 1 + 3 + 8192);
        rt(&[true, false, true, true, false, false, true, false, true]);
    }

    #[test]
    fn corrupt() {
        assert!(decode(&[PACKED, 9, 0], &mut Vec::new()).is_err());
        assert!(decode(&[CONSTANT, 1, 2], &mut Vec::new()).is_err());
        assert!(decode(&[CONSTANT, 1], &mut Vec::new()).is_err());
        assert_eq!(
            decode(&[7], &mut Vec::new()),
            Err(Error::UnknownEncoding(7))
        );
    }

    proptest! {
        #[test]
        fn prop_roundtrip(v in proptest::collection::vec(any::<bool>(), 0..2000)) {
            rt(&v);
        }

        #[test]
        fn prop_random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..100), h in 0u8..4) {
            let mut b = b;
            if let Some(f) = b.first_mut() { *f = h; }
            let _ = decode(&b, &mut Vec::new());
        }
    }
}
