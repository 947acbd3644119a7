//! Operations on in-memory runs of values (`models::Block` / `Column`):
//! typed pushes, range filtering, tombstone removal, and the merge rule of the
//! engine — sources are merged oldest first and, for equal timestamps, the
//! newest source wins. Owns no I/O and no locking.

use models::{Block, Column, FieldType, FieldValue};

/// Largest number of values in one block, on disk and in read results.
pub const MAX_BLOCK_VALUES: usize = 1000;

/// A borrowed field value: what the WAL decoder and the write path hand to the cache.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ValueRef<'a> {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(&'a str),
}

impl<'a> ValueRef<'a> {
    pub(crate) fn from_value(v: &'a FieldValue) -> Self {
        match v {
            FieldValue::Float(x) => ValueRef::Float(*x),
            FieldValue::Integer(x) => ValueRef::Integer(*x),
            FieldValue::Unsigned(x) => ValueRef::Unsigned(*x),
            FieldValue::Boolean(x) => ValueRef::Boolean(*x),
            FieldValue::String(x) => ValueRef::String(x),
        }
    }
    pub(crate) fn field_type(&self) -> FieldType {
        match self {
            ValueRef::Float(_) => FieldType::Float,
            ValueRef::Integer(_) => FieldType::Integer,
            ValueRef::Unsigned(_) => FieldType::Unsigned,
            ValueRef::Boolean(_) => FieldType::Boolean,
            ValueRef::String(_) => FieldType::String,
        }
    }
}

macro_rules! map_col {
    ($c:expr, $v:ident => $e:expr) => {
        match $c {
            Column::Float($v) => Column::Float($e),
            Column::Integer($v) => Column::Integer($e),
            Column::Unsigned($v) => Column::Unsigned($e),
            Column::Boolean($v) => Column::Boolean($e),
            Column::String($v) => Column::String($e),
        }
    };
}

macro_rules! each_col {
    ($c:expr, $v:ident => $e:expr) => {
        match $c {
            Column::Float($v) => $e,
            Column::Integer($v) => $e,
            Column::Unsigned($v) => $e,
            Column::Boolean($v) => $e,
            Column::String($v) => $e,
        }
    };
}

pub(crate) fn empty_column(t: FieldType) -> Column {
    match t {
        FieldType::Float => Column::Float(Vec::new()),
        FieldType::Integer => Column::Integer(Vec::new()),
        FieldType::Unsigned => Column::Unsigned(Vec::new()),
        FieldType::Boolean => Column::Boolean(Vec::new()),
        FieldType::String => Column::String(Vec::new()),
    }
}

/// Appends `v`; returns false (and appends nothing) on a type mismatch.
pub(crate) fn push_value(c: &mut Column, v: ValueRef<'_>) -> bool {
    match (c, v) {
        (Column::Float(c), ValueRef::Float(x)) => c.push(x),
        (Column::Integer(c), ValueRef::Integer(x)) => c.push(x),
        (Column::Unsigned(c), ValueRef::Unsigned(x)) => c.push(x),
        (Column::Boolean(c), ValueRef::Boolean(x)) => c.push(x),
        (Column::String(c), ValueRef::String(x)) => c.push(x.to_string()),
        _ => return false,
    }
    true
}

/// Appends `b` to `a` (same type; a mismatching column is ignored).
pub(crate) fn extend_column(a: &mut Column, b: &Column) {
    match (a, b) {
        (Column::Float(a), Column::Float(b)) => a.extend_from_slice(b),
        (Column::Integer(a), Column::Integer(b)) => a.extend_from_slice(b),
        (Column::Unsigned(a), Column::Unsigned(b)) => a.extend_from_slice(b),
        (Column::Boolean(a), Column::Boolean(b)) => a.extend_from_slice(b),
        (Column::String(a), Column::String(b)) => a.extend_from_slice(b),
        _ => {}
    }
}

pub(crate) fn slice_column(c: &Column, lo: usize, hi: usize) -> Column {
    map_col!(c, v => v[lo..hi].to_vec())
}

fn gather_vec<T: Clone>(v: &[T], idx: &[u32]) -> Vec<T> {
    idx.iter().map(|&i| v[i as usize].clone()).collect()
}

fn gather(c: &Column, idx: &[u32]) -> Column {
    map_col!(c, v => gather_vec(v, idx))
}

/// Keeps the values whose `keep` flag is set.
fn retain_column(c: &mut Column, keep: &[bool]) {
    each_col!(c, v => {
        let mut i = 0;
        v.retain(|_| {
            let k = keep[i];
            i += 1;
            k
        })
    })
}

pub(crate) fn is_strictly_ascending(times: &[i64]) -> bool {
    times.windows(2).all(|w| w[0] < w[1])
}

/// Sorts by time; among equal timestamps the value appended last wins.
pub(crate) fn sort_dedup(times: &mut Vec<i64>, values: &mut Column) {
    if is_strictly_ascending(times) {
        return;
    }
    let mut idx: Vec<u32> = (0..times.len() as u32).collect();
    idx.sort_by_key(|&i| times[i as usize]); // stable: later appends stay later
    let mut keep: Vec<u32> = Vec::with_capacity(idx.len());
    for (n, &i) in idx.iter().enumerate() {
        let last_of_run = idx
            .get(n + 1)
            .is_none_or(|&j| times[j as usize] != times[i as usize]);
        if last_of_run {
            keep.push(i);
        }
    }
    *times = keep.iter().map(|&i| times[i as usize]).collect();
    *values = gather(values, &keep);
}

/// Restricts a sorted block to `[min, max]`.
pub(crate) fn trim_to_range(b: &mut Block, min: i64, max: i64) {
    let lo = b.times.partition_point(|&t| t < min);
    let hi = b.times.partition_point(|&t| t <= max);
    if lo == 0 && hi == b.times.len() {
        return;
    }
    b.times = b.times[lo..hi].to_vec();
    b.values = slice_column(&b.values, lo, hi);
}

/// Removes values whose time falls in any of `ranges` (inclusive).
pub(crate) fn remove_ranges(b: &mut Block, ranges: &[(i64, i64)]) {
    if ranges.is_empty() {
        return;
    }
    let keep: Vec<bool> = b
        .times
        .iter()
        .map(|&t| !ranges.iter().any(|&(lo, hi)| t >= lo && t <= hi))
        .collect();
    if keep.iter().all(|&k| k) {
        return;
    }
    let mut i = 0;
    b.times.retain(|_| {
        let k = keep[i];
        i += 1;
        k
    });
    retain_column(&mut b.values, &keep);
}

/// Merges sorted, deduplicated parts given oldest first into one sorted,
/// deduplicated block where newer parts win on equal timestamps.
pub(crate) fn merge_parts(t: FieldType, parts: Vec<Block>) -> Block {
    let mut parts: Vec<Block> = parts.into_iter().filter(|p| !p.times.is_empty()).collect();
    if parts.len() == 1 {
        return parts.remove(0);
    }
    let disjoint_in_order = parts.windows(2).all(|w| {
        let (a, b) = (&w[0].times, &w[1].times);
        a.last() < b.first()
    });
    let total = parts.iter().map(|p| p.times.len()).sum();
    let mut times = Vec::with_capacity(total);
    let mut values = empty_column(t);
    for p in &parts {
        times.extend_from_slice(&p.times);
        extend_column(&mut values, &p.values);
    }
    if !disjoint_in_order {
        sort_dedup(&mut times, &mut values);
    }
    Block { times, values }
}

/// Splits a block into blocks of at most [`MAX_BLOCK_VALUES`].
pub(crate) fn chunk(b: Block) -> Vec<Block> {
    if b.times.len() <= MAX_BLOCK_VALUES {
        return if b.times.is_empty() {
            Vec::new()
        } else {
            vec![b]
        };
    }
    let mut out = Vec::with_capacity(b.times.len() / MAX_BLOCK_VALUES + 1);
    let mut lo = 0;
    while lo < b.times.len() {
        let hi = (lo + MAX_BLOCK_VALUES).min(b.times.len());
        out.push(Block {
            times: b.times[lo..hi].to_vec(),
            values: slice_column(&b.values, lo, hi),
        });
        lo = hi;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fb(times: &[i64], vals: &[f64]) -> Block {
        Block {
            times: times.to_vec(),
            values: Column::Float(vals.to_vec()),
        }
    }

    #[test]
    fn sort_dedup_last_write_wins() {
        let mut t = vec![3, 1, 2, 1, 3];
        let mut v = Column::Float(vec![30.0, 10.0, 20.0, 11.0, 31.0]);
        sort_dedup(&mut t, &mut v);
        assert_eq!(t, vec![1, 2, 3]);
        assert_eq!(v, Column::Float(vec![11.0, 20.0, 31.0]));
    }

    #[test]
    fn merge_prefers_newer_parts() {
        let old = fb(&[1, 2, 3], &[1.0, 2.0, 3.0]);
        let new = fb(&[2, 4], &[20.0, 40.0]);
        let m = merge_parts(FieldType::Float, vec![old, new]);
        assert_eq!(m, fb(&[1, 2, 3, 4], &[1.0, 20.0, 3.0, 40.0]));
    }

    #[test]
    fn trims_removes_and_chunks() {
        let mut b = fb(&[1, 2, 3, 4, 5], &[1.0, 2.0, 3.0, 4.0, 5.0]);
        trim_to_range(&mut b, 2, 4);
        assert_eq!(b, fb(&[2, 3, 4], &[2.0, 3.0, 4.0]));
        remove_ranges(&mut b, &[(3, 3)]);
        assert_eq!(b, fb(&[2, 4], &[2.0, 4.0]));
        let big = Block {
            times: (0..2500).collect(),
            values: Column::Integer((0..2500).collect()),
        };
        let c = chunk(big);
        assert_eq!(
            c.iter().map(|b| b.times.len()).collect::<Vec<_>>(),
            vec![1000, 1000, 500]
        );
        assert_eq!(c[2].times[0], 2000);
    }
}
