//! A shard's content digest: per series and field, how many values it
//! holds and a checksum over every (time, value), plus totals. Two owners
//! of a shard hold the same data exactly when their digests are equal, so
//! tests (and later anti-entropy) compare replicas without shipping data.
//!
//! Reads through the shard's public read path only; owns the hashing
//! (FNV-1a 64 over little-endian bytes: stable across nodes, builds and
//! versions), nothing else.

use crate::error::Result;
use crate::{Shard, TagPredicate};
use models::{Column, TimeRange};

/// One series' field in a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesDigest {
    pub key: String,
    pub field: String,
    pub values: u64,
    pub checksum: u64,
}

/// The digest of a whole shard, series in key then field order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShardDigest {
    pub series: Vec<SeriesDigest>,
    pub values: u64,
    /// Over every series digest in order.
    pub checksum: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(FNV_OFFSET)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
}

impl Shard {
    /// Reads every value of the shard and digests it.
    pub fn digest(&self) -> Result<ShardDigest> {
        let mut out = ShardDigest::default();
        let mut measurements = self.measurements();
        measurements.sort();
        for m in measurements {
            let mut series = self.series(&m, &TagPredicate::True);
            series.sort_by(|a, b| a.key.cmp(&b.key));
            let mut fields = self.fields(&m);
            fields.sort();
            for s in &series {
                for (field, _) in &fields {
                    let mut h = Fnv::new();
                    let mut values = 0u64;
                    for block in self.read(s.id, field, TimeRange::ALL)? {
                        let block = block?;
                        values += block.times.len() as u64;
                        for (i, t) in block.times.iter().enumerate() {
                            h.u64(*t as u64);
                            match &block.values {
                                Column::Float(v) => h.u64(v[i].to_bits()),
                                Column::Integer(v) => h.u64(v[i] as u64),
                                Column::Unsigned(v) => h.u64(v[i]),
                                Column::Boolean(v) => h.u64(u64::from(v[i])),
                                Column::String(v) => {
                                    h.u64(v[i].len() as u64);
                                    h.bytes(v[i].as_bytes());
                                }
                            }
                        }
                    }
                    if values == 0 {
                        continue;
                    }
                    out.values += values;
                    out.series.push(SeriesDigest {
                        key: s.key.to_string(),
                        field: field.clone(),
                        values,
                        checksum: h.0,
                    });
                }
            }
        }
        let mut h = Fnv::new();
        for s in &out.series {
            h.bytes(s.key.as_bytes());
            h.bytes(&[0]);
            h.bytes(s.field.as_bytes());
            h.u64(s.values);
            h.u64(s.checksum);
        }
        out.checksum = h.0;
        Ok(out)
    }
}
