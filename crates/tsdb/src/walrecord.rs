//! The payload of a WAL record: a batch of resolved points or a delete.
//! Owns the binary encoding only; framing and durability live in `wal`.
//!
//! # Byte layout
//!
//! ```text
//! write  := 0x01 npoints:uvarint point*
//! point  := series_id:uvarint time:zigzag-varint nvalues:uvarint value*
//! value  := field_id:uvarint type:u8 data
//! data   := float: f64 bits u64 LE | integer: zigzag varint | unsigned: uvarint
//!         | boolean: u8 | string: len:uvarint bytes
//! delete := 0x02 min:zigzag-varint max:zigzag-varint nseries:uvarint series_id:uvarint*
//! ```
//!
//! Series and field ids refer to the shard's series index, which is fsynced
//! before any WAL record that mentions them (see `wal` group commit).

use models::FieldType;

use crate::block::ValueRef;
use crate::bytes::{put_ivarint, put_str, put_uvarint, Reader};

const KIND_WRITE: u8 = 1;
const KIND_DELETE: u8 = 2;

/// Builds a write record point by point.
pub(crate) struct WriteEncoder {
    buf: Vec<u8>,
    count_pos: usize,
    count: u64,
}

impl WriteEncoder {
    /// Starts a record in `buf` (cleared first; pass a recycled buffer to
    /// avoid reallocating).
    pub(crate) fn new(mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.push(KIND_WRITE);
        let count_pos = buf.len();
        buf.extend_from_slice(&[0u8; 5]); // placeholder for a fixed-width count
        WriteEncoder {
            buf,
            count_pos,
            count: 0,
        }
    }

    pub(crate) fn point<'a>(
        &mut self,
        series: u64,
        time: i64,
        nvalues: usize,
        values: impl Iterator<Item = (u32, ValueRef<'a>)>,
    ) {
        let b = &mut self.buf;
        put_uvarint(b, series);
        put_ivarint(b, time);
        put_uvarint(b, nvalues as u64);
        for (field, v) in values {
            put_uvarint(b, u64::from(field));
            b.push(v.field_type() as u8);
            match v {
                ValueRef::Float(x) => b.extend_from_slice(&x.to_bits().to_le_bytes()),
                ValueRef::Integer(x) => put_ivarint(b, x),
                ValueRef::Unsigned(x) => put_uvarint(b, x),
                ValueRef::Boolean(x) => b.push(x as u8),
                ValueRef::String(s) => put_str(b, s),
            }
        }
        self.count += 1;
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        // fixed 5-byte varint so the header never moves
        let mut c = self.count.min(u64::from(u32::MAX));
        for i in 0..5 {
            let mut byte = (c & 0x7f) as u8;
            c >>= 7;
            if i < 4 {
                byte |= 0x80;
            }
            self.buf[self.count_pos + i] = byte;
        }
        self.buf
    }
}

pub(crate) fn encode_delete(ids: &[u64], min: i64, max: i64) -> Vec<u8> {
    let mut b = Vec::with_capacity(16 + ids.len() * 4);
    b.push(KIND_DELETE);
    put_ivarint(&mut b, min);
    put_ivarint(&mut b, max);
    put_uvarint(&mut b, ids.len() as u64);
    for &id in ids {
        put_uvarint(&mut b, id);
    }
    b
}

/// What a decoded record asks the cache to do.
pub(crate) trait Apply {
    fn point(&mut self, series: u64, time: i64, values: &[(u32, ValueRef<'_>)]);
    fn delete(&mut self, ids: &[u64], min: i64, max: i64);
}

/// Decodes `payload`, feeding `sink`. Returns `None` if it is malformed.
pub(crate) fn decode(payload: &[u8], sink: &mut dyn Apply) -> Option<()> {
    let mut r = Reader::new(payload);
    match r.u8()? {
        KIND_WRITE => {
            let n = r.uvarint()?;
            let mut vals: Vec<(u32, ValueRef<'_>)> = Vec::with_capacity(16);
            for _ in 0..n {
                let series = r.uvarint()?;
                let time = r.ivarint()?;
                let nv = r.uvarint()?;
                vals.clear();
                for _ in 0..nv {
                    let field = u32::try_from(r.uvarint()?).ok()?;
                    let v = match FieldType::from_u8(r.u8()?)? {
                        FieldType::Float => ValueRef::Float(f64::from_bits(r.u64()?)),
                        FieldType::Integer => ValueRef::Integer(r.ivarint()?),
                        FieldType::Unsigned => ValueRef::Unsigned(r.uvarint()?),
                        FieldType::Boolean => ValueRef::Boolean(r.u8()? != 0),
                        FieldType::String => ValueRef::String(r.str()?),
                    };
                    vals.push((field, v));
                }
                sink.point(series, time, &vals);
            }
            Some(())
        }
        KIND_DELETE => {
            let min = r.ivarint()?;
            let max = r.ivarint()?;
            let n = r.uvarint()?;
            // every id takes at least one byte of the payload
            let mut ids = Vec::with_capacity(n.min(payload.len() as u64) as usize);
            for _ in 0..n {
                ids.push(r.uvarint()?);
            }
            sink.delete(&ids, min, max);
            Some(())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Decoded = (u64, i64, Vec<(u32, String)>);

    #[derive(Default)]
    struct Collect {
        points: Vec<Decoded>,
        deletes: Vec<(Vec<u64>, i64, i64)>,
    }
    impl Apply for Collect {
        fn point(&mut self, series: u64, time: i64, values: &[(u32, ValueRef<'_>)]) {
            self.points.push((
                series,
                time,
                values.iter().map(|(f, v)| (*f, format!("{v:?}"))).collect(),
            ));
        }
        fn delete(&mut self, ids: &[u64], min: i64, max: i64) {
            self.deletes.push((ids.to_vec(), min, max));
        }
    }

    #[test]
    fn round_trip() {
        let mut e = WriteEncoder::new(Vec::new());
        let vals = [
            (1, ValueRef::Float(1.5)),
            (2, ValueRef::Integer(-7)),
            (3, ValueRef::Unsigned(u64::MAX)),
            (4, ValueRef::Boolean(true)),
            (5, ValueRef::String("hé")),
        ];
        e.point(42, -5, vals.len(), vals.iter().copied());
        e.point(43, i64::MAX, 0, std::iter::empty());
        let rec = e.finish();
        let mut c = Collect::default();
        decode(&rec, &mut c).unwrap();
        assert_eq!(c.points.len(), 2);
        assert_eq!(c.points[0].0, 42);
        assert_eq!(c.points[0].1, -5);
        assert_eq!(c.points[0].2[4], (5, "String(\"hé\")".to_string()));
        assert_eq!(c.points[1].1, i64::MAX);
        let d = encode_delete(&[1, 2, 300], i64::MIN, 5);
        decode(&d, &mut c).unwrap();
        assert_eq!(c.deletes, vec![(vec![1, 2, 300], i64::MIN, 5)]);
        assert!(decode(&rec[..rec.len() - 1], &mut Collect::default()).is_none());
        assert!(decode(&[9], &mut Collect::default()).is_none());
    }
}
