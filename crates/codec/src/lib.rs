//! Compression codecs for the columns of TSM-style data files: timestamps,
//! floats, integers, unsigned integers, booleans and strings.
//!
//! Every encoded buffer starts with one header byte naming its encoding, so
//! the format can evolve while old files stay readable. Codecs are pure
//! functions over slices: no I/O, no knowledge of files, series or shards.
//!
//! PLACEHOLDER: the encodings below are uncompressed (header byte 0); they
//! define the API the storage engine builds on and are being replaced by real
//! codecs.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum Error {
    #[error("unknown encoding {0}")]
    UnknownEncoding(u8),
    #[error("encoded block is truncated or corrupt: {0}")]
    Corrupt(&'static str),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

const RAW: u8 = 0;

fn raw_encode<const N: usize>(items: impl Iterator<Item = [u8; N]>, out: &mut Vec<u8>) {
    out.push(RAW);
    for b in items {
        out.extend_from_slice(&b);
    }
}

fn raw_decode<const N: usize, T>(buf: &[u8], out: &mut Vec<T>, f: impl Fn([u8; N]) -> T) -> Result<()> {
    let (&h, rest) = buf.split_first().ok_or(Error::Corrupt("empty"))?;
    if h != RAW {
        return Err(Error::UnknownEncoding(h));
    }
    if rest.len() % N != 0 {
        return Err(Error::Corrupt("length"));
    }
    for c in rest.chunks_exact(N) {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        out.push(f(a));
    }
    Ok(())
}

/// Appends the encoding of `ts` (ascending timestamps) to `out`.
pub fn encode_timestamps(ts: &[i64], out: &mut Vec<u8>) {
    raw_encode(ts.iter().map(|v| v.to_le_bytes()), out)
}
/// Appends the decoded timestamps of `buf` to `out`.
pub fn decode_timestamps(buf: &[u8], out: &mut Vec<i64>) -> Result<()> {
    raw_decode(buf, out, i64::from_le_bytes)
}
pub fn encode_floats(v: &[f64], out: &mut Vec<u8>) {
    raw_encode(v.iter().map(|v| v.to_bits().to_le_bytes()), out)
}
pub fn decode_floats(buf: &[u8], out: &mut Vec<f64>) -> Result<()> {
    raw_decode(buf, out, |b| f64::from_bits(u64::from_le_bytes(b)))
}
pub fn encode_integers(v: &[i64], out: &mut Vec<u8>) {
    raw_encode(v.iter().map(|v| v.to_le_bytes()), out)
}
pub fn decode_integers(buf: &[u8], out: &mut Vec<i64>) -> Result<()> {
    raw_decode(buf, out, i64::from_le_bytes)
}
pub fn encode_unsigned(v: &[u64], out: &mut Vec<u8>) {
    raw_encode(v.iter().map(|v| v.to_le_bytes()), out)
}
pub fn decode_unsigned(buf: &[u8], out: &mut Vec<u64>) -> Result<()> {
    raw_decode(buf, out, u64::from_le_bytes)
}
pub fn encode_booleans(v: &[bool], out: &mut Vec<u8>) {
    raw_encode(v.iter().map(|&v| [v as u8]), out)
}
pub fn decode_booleans(buf: &[u8], out: &mut Vec<bool>) -> Result<()> {
    raw_decode(buf, out, |b: [u8; 1]| b[0] != 0)
}
pub fn encode_strings<S: AsRef<str>>(v: &[S], out: &mut Vec<u8>) {
    out.push(RAW);
    for s in v {
        let s = s.as_ref().as_bytes();
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s);
    }
}
pub fn decode_strings(buf: &[u8], out: &mut Vec<String>) -> Result<()> {
    let (&h, mut rest) = buf.split_first().ok_or(Error::Corrupt("empty"))?;
    if h != RAW {
        return Err(Error::UnknownEncoding(h));
    }
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(Error::Corrupt("string length"));
        }
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let body = rest.get(4..4 + n).ok_or(Error::Corrupt("string body"))?;
        out.push(String::from_utf8(body.to_vec()).map_err(|_| Error::Corrupt("utf8"))?);
        rest = &rest[4 + n..];
    }
    Ok(())
}
