//! Compression codecs for the columns of TSM-style data files: timestamps,
//! floats, integers, unsigned integers, booleans and strings.
//!
//! Every encoded buffer starts with one header byte naming its encoding, so
//! the format can evolve while old files stay readable. Header byte `0` is
//! the uncompressed RAW form for every type; encoders fall back to it when
//! compression would grow the data, and decoders always accept it. Codecs
//! are pure functions over slices: no I/O, no knowledge of files, series or
//! shards. Decoders never panic on corrupt input: they return
//! [`Error::Corrupt`] or [`Error::UnknownEncoding`], and leave `out` as it
//! was before the call.
//!
//! The byte-level format of each type is in its module's doc:
//! [`timestamp`] and [`integer`] (delta / RLE / frame-of-reference
//! bit-packing), [`float`] (Gorilla-style XOR, or exact decimal mantissas
//! through the integer codec), [`boolean`] (bit-packed), [`string`]
//! (Snappy), [`bits`] (bit order and varints).

use thiserror::Error;

pub mod bits;
pub mod boolean;
pub mod float;
#[doc(hidden)]
pub mod fuzzing;
pub mod integer;
pub mod string;
pub mod timestamp;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum Error {
    #[error("unknown encoding {0}")]
    UnknownEncoding(u8),
    #[error("encoded block is truncated or corrupt: {0}")]
    Corrupt(&'static str),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Header byte of the uncompressed form, shared by every type.
pub(crate) const RAW: u8 = 0;

/// Runs `f`; on error, restores `out` to its length before the call.
fn atomic<T>(out: &mut Vec<T>, f: impl FnOnce(&mut Vec<T>) -> Result<()>) -> Result<()> {
    let len = out.len();
    let r = f(out);
    if r.is_err() {
        out.truncate(len);
    }
    r
}

/// Appends the encoding of `ts` (ascending timestamps; any order
/// round-trips, only less compactly) to `out`.
pub fn encode_timestamps(ts: &[i64], out: &mut Vec<u8>) {
    timestamp::encode(ts, out)
}
/// Appends the decoded timestamps of `buf` to `out`.
pub fn decode_timestamps(buf: &[u8], out: &mut Vec<i64>) -> Result<()> {
    atomic(out, |o| timestamp::decode(buf, o))
}
/// Appends the encoding of `v` to `out` (bit-exact for every `f64`).
pub fn encode_floats(v: &[f64], out: &mut Vec<u8>) {
    float::encode(v, out)
}
/// Appends the decoded floats of `buf` to `out`.
pub fn decode_floats(buf: &[u8], out: &mut Vec<f64>) -> Result<()> {
    atomic(out, |o| float::decode(buf, o))
}
/// Appends at most the first `limit` decoded floats of `buf` to `out`:
/// a reader that needs only the start of a block stops decoding there.
pub fn decode_floats_prefix(buf: &[u8], out: &mut Vec<f64>, limit: usize) -> Result<()> {
    atomic(out, |o| float::decode_prefix(buf, o, limit))
}
/// Appends the encoding of `v` to `out`.
pub fn encode_integers(v: &[i64], out: &mut Vec<u8>) {
    integer::encode(v, out)
}
/// Appends the decoded integers of `buf` to `out`.
pub fn decode_integers(buf: &[u8], out: &mut Vec<i64>) -> Result<()> {
    atomic(out, |o| integer::decode(buf, o))
}
/// Appends the encoding of `v` to `out` (the integer format over the same
/// 64 bits; wrapping arithmetic keeps values above `i64::MAX` exact).
pub fn encode_unsigned(v: &[u64], out: &mut Vec<u8>) {
    let s: Vec<i64> = v.iter().map(|&x| x as i64).collect();
    integer::encode(&s, out)
}
/// Appends the decoded unsigned integers of `buf` to `out`.
pub fn decode_unsigned(buf: &[u8], out: &mut Vec<u64>) -> Result<()> {
    let mut s = Vec::new();
    integer::decode(buf, &mut s)?;
    out.extend(s.iter().map(|&x| x as u64));
    Ok(())
}
/// Appends the encoding of `v` to `out`.
pub fn encode_booleans(v: &[bool], out: &mut Vec<u8>) {
    boolean::encode(v, out)
}
/// Appends the decoded booleans of `buf` to `out`.
pub fn decode_booleans(buf: &[u8], out: &mut Vec<bool>) -> Result<()> {
    atomic(out, |o| boolean::decode(buf, o))
}
/// Appends the encoding of `v` to `out`.
pub fn encode_strings<S: AsRef<str>>(v: &[S], out: &mut Vec<u8>) {
    string::encode(v, out)
}
/// Appends the decoded strings of `buf` to `out`.
pub fn decode_strings(buf: &[u8], out: &mut Vec<String>) -> Result<()> {
    atomic(out, |o| string::decode(buf, o))
}

#[cfg(test)]
mod tests;
