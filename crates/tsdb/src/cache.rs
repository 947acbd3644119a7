//! The in-memory write cache of one shard: series id → field id → values.
//!
//! Appends take a fast path when times arrive in order; out-of-order or
//! duplicate times only clear a `sorted` flag, and sorting + deduplication
//! (last write wins) happens lazily when the entry is read or snapshotted.
//! Owns no locking (the shard wraps it) and no I/O.

use models::{Block, Column, FieldType, TimeRange};
use rustc_hash::FxHashMap;

use crate::block::{empty_column, push_value, remove_ranges, sort_dedup, trim_to_range, ValueRef};

/// Approximate bookkeeping cost of one (series, field) entry.
const ENTRY_OVERHEAD: u64 = 64;

#[derive(Debug)]
pub(crate) struct FieldEntry {
    pub(crate) field: u32,
    pub(crate) times: Vec<i64>,
    pub(crate) values: Column,
    sorted: bool,
}

impl FieldEntry {
    fn new(field: u32, t: FieldType) -> Self {
        FieldEntry {
            field,
            times: Vec::new(),
            values: empty_column(t),
            sorted: true,
        }
    }

    /// A sorted, deduplicated copy restricted to `range`.
    pub(crate) fn read(&self, range: TimeRange) -> Block {
        let mut b = if self.sorted {
            let lo = self.times.partition_point(|&t| t < range.min);
            let hi = self.times.partition_point(|&t| t <= range.max);
            Block {
                times: self.times[lo..hi].to_vec(),
                values: crate::block::slice_column(&self.values, lo, hi),
            }
        } else {
            let mut times = self.times.clone();
            let mut values = self.values.clone();
            sort_dedup(&mut times, &mut values);
            Block { times, values }
        };
        trim_to_range(&mut b, range.min, range.max);
        b
    }

    fn normalize(&mut self) {
        if !self.sorted {
            sort_dedup(&mut self.times, &mut self.values);
            self.sorted = true;
        }
    }
}

/// One generation of cached writes (the active cache, or a frozen snapshot).
#[derive(Debug, Default)]
pub(crate) struct CacheData {
    series: FxHashMap<u64, Vec<FieldEntry>>,
    size: u64,
    values: u64,
}

impl CacheData {
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Appends the values of one point. `fields` yields (field id, value).
    pub(crate) fn push_point<'a>(
        &mut self,
        series: u64,
        time: i64,
        fields: impl Iterator<Item = (u32, ValueRef<'a>)>,
    ) {
        let entries = self.series.entry(series).or_default();
        for (j, (field, v)) in fields.enumerate() {
            // points of a series usually list their fields in the same order
            let hit = match entries.get(j) {
                Some(e) if e.field == field => Some(j),
                _ => entries.iter().position(|e| e.field == field),
            };
            let e = match hit {
                Some(i) => &mut entries[i],
                None => {
                    entries.push(FieldEntry::new(field, v.field_type()));
                    self.size += ENTRY_OVERHEAD;
                    let n = entries.len() - 1;
                    &mut entries[n]
                }
            };
            if !push_value(&mut e.values, v) {
                continue; // type fixed by the schema; a mismatch cannot be stored
            }
            if let Some(&last) = e.times.last() {
                if time <= last {
                    e.sorted = false;
                }
            }
            e.times.push(time);
            self.values += 1;
            self.size += 16
                + match v {
                    ValueRef::String(s) => s.len() as u64 + 24,
                    _ => 0,
                };
        }
    }

    pub(crate) fn read(&self, series: u64, field: u32, range: TimeRange) -> Option<Block> {
        let e = self
            .series
            .get(&series)?
            .iter()
            .find(|e| e.field == field)?;
        Some(e.read(range))
    }

    /// At most how many values of (series, field) lie in `range` (duplicates
    /// not yet merged count twice).
    pub(crate) fn count(&self, series: u64, field: u32, range: TimeRange) -> u64 {
        let Some(e) = self
            .series
            .get(&series)
            .and_then(|fs| fs.iter().find(|e| e.field == field))
        else {
            return 0;
        };
        if e.sorted {
            let lo = e.times.partition_point(|&t| t < range.min);
            let hi = e.times.partition_point(|&t| t <= range.max);
            (hi - lo) as u64
        } else {
            e.times.iter().filter(|&&t| range.contains(t)).count() as u64
        }
    }

    /// Removes values of `ids` in `range` (whole entries for an all-time range).
    pub(crate) fn delete(&mut self, ids: &[u64], range: TimeRange) {
        for id in ids {
            let Some(entries) = self.series.get_mut(id) else {
                continue;
            };
            for e in entries.iter_mut() {
                e.normalize();
                let mut b = Block {
                    times: std::mem::take(&mut e.times),
                    values: std::mem::replace(&mut e.values, Column::Boolean(Vec::new())),
                };
                remove_ranges(&mut b, &[(range.min, range.max)]);
                e.times = b.times;
                e.values = b.values;
            }
            entries.retain(|e| !e.times.is_empty());
            if entries.is_empty() {
                self.series.remove(id);
            }
        }
    }

    /// All entries, sorted and deduplicated, ordered by (series id, field id).
    pub(crate) fn sorted_entries(&self) -> Vec<(u64, &FieldEntry)> {
        let mut out: Vec<(u64, &FieldEntry)> = self
            .series
            .iter()
            .flat_map(|(&s, es)| es.iter().map(move |e| (s, e)))
            .collect();
        out.sort_unstable_by_key(|(s, e)| (*s, e.field));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_and_dedup_last_write_wins() {
        let mut c = CacheData::default();
        for (t, v) in [(10, 1.0), (30, 3.0), (20, 2.0), (10, 1.5), (40, 4.0)] {
            c.push_point(1, t, [(7, ValueRef::Float(v))].into_iter());
        }
        let b = c.read(1, 7, TimeRange::ALL).unwrap();
        assert_eq!(b.times, vec![10, 20, 30, 40]);
        assert_eq!(b.values, Column::Float(vec![1.5, 2.0, 3.0, 4.0]));
        let b = c.read(1, 7, TimeRange::new(15, 30)).unwrap();
        assert_eq!(b.times, vec![20, 30]);
        assert!(c.read(1, 8, TimeRange::ALL).is_none());
        assert!(c.read(2, 7, TimeRange::ALL).is_none());
        assert!(c.size() > 0);
    }

    #[test]
    fn in_order_appends_and_delete() {
        let mut c = CacheData::default();
        for t in 0..100 {
            c.push_point(
                1,
                t,
                [(1, ValueRef::Integer(t)), (2, ValueRef::String("x"))].into_iter(),
            );
        }
        c.delete(&[1], TimeRange::new(10, 89));
        let b = c.read(1, 1, TimeRange::ALL).unwrap();
        assert_eq!(b.times.len(), 20);
        assert_eq!(b.times[10], 90);
        c.delete(&[1], TimeRange::ALL);
        assert!(c.is_empty());
    }
}
