//! Entry points for fuzzing (`fuzz/` at the repository root) and for
//! replaying its corpora in the normal test suite. Not an API: hidden from
//! the docs and free to change with the fuzz targets.
//!
//! Each function takes arbitrary bytes, runs one on-disk decoder over them
//! exactly as opening a shard does, and checks the decoder's invariants. It
//! must never panic; a panic is a bug in the decoder (or in the invariant).
//! Owns no format and must not be called by the engine.
//!
//! Frames (`[len u32][crc32 u32][payload]`) and TSM block/index checksums are
//! recomputed before decoding, so random bytes get past the checksums to the
//! record decoders behind them (a checksum mismatch is a plain error path).

use std::path::Path;

use models::{Column, FieldType, TimeRange};

use crate::block::ValueRef;
use crate::cache::CacheData;
use crate::walrecord::{self, Apply};

/// Rewrites the checksum of every complete frame in `data`.
fn fix_frames(data: &mut [u8]) {
    let mut pos = 0usize;
    while let Some(h) = data.get(pos..pos + 8) {
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let Some(end) = (pos + 8).checked_add(len).filter(|&e| e <= data.len()) else {
            return;
        };
        let crc = crc32fast::hash(&data[pos + 8..end]);
        data[pos + 4..pos + 8].copy_from_slice(&crc.to_le_bytes());
        pos = end;
    }
}

fn check_column(times: &[i64], values: &Column) {
    assert_eq!(
        times.len(),
        values.len(),
        "times and values differ in length"
    );
}

struct CacheSink<'a>(&'a mut CacheData);

impl Apply for CacheSink<'_> {
    fn point(&mut self, series: u64, time: i64, values: &[(u32, ValueRef<'_>)]) {
        self.0.push_point(series, time, values.iter().copied());
    }
    fn delete(&mut self, ids: &[u64], min: i64, max: i64) {
        self.0.delete(ids, TimeRange::new(min, max));
    }
}

/// A WAL segment: every record decoded and applied to a cache as replay
/// does (every series and field accepted), then every cache entry read back.
pub fn wal_segment(data: &[u8]) {
    let mut data = data.to_vec();
    fix_frames(&mut data);
    let mut cache = CacheData::default();
    let mut pos = 0usize;
    while let crate::bytes::Framed::Record(p) = crate::bytes::next_frame(&data, &mut pos) {
        let _ = walrecord::decode(p, &mut CacheSink(&mut cache));
    }
    for (series, e) in cache.sorted_entries() {
        let b = e.read(TimeRange::ALL);
        check_column(&b.times, &b.values);
        assert!(
            b.times.windows(2).all(|w| w[0] < w[1]),
            "cache read of {series} unsorted"
        );
        let n = cache.count(series, e.field, TimeRange::ALL);
        assert!(n >= b.times.len() as u64, "count below the values read");
    }
}

/// A data file: the index decoded, then every block of every entry decoded
/// whole and up to its first timestamp.
pub fn tsm_file(data: &[u8]) {
    let path = Path::new("fuzz.tsm");
    let mut data = data.to_vec();
    // footer: index_offset u64, index_len u64, index_crc32 u32, level u32, magic
    if let Some(footer_at) = data.len().checked_sub(32) {
        let off = u64::from_le_bytes(
            data[footer_at..footer_at + 8]
                .try_into()
                .unwrap_or_default(),
        );
        if let Some(ix) = usize::try_from(off).ok().filter(|&o| o <= footer_at) {
            let crc = crc32fast::hash(&data[ix..footer_at]);
            data[footer_at + 16..footer_at + 20].copy_from_slice(&crc.to_le_bytes());
        }
    }
    let Ok((_level, keys)) = crate::tsm::parse_index(&data, path) else {
        return;
    };
    for e in &keys {
        for m in &e.blocks {
            let start = m.offset as usize;
            if let Some(end) = start
                .checked_add(m.size as usize)
                .filter(|&x| x <= data.len())
            {
                if end - start >= 4 {
                    let crc = crc32fast::hash(&data[start + 4..end]);
                    data[start..start + 4].copy_from_slice(&crc.to_le_bytes());
                }
            }
        }
    }
    for e in &keys {
        for m in &e.blocks {
            if let Ok(b) = crate::tsm::decode_block(&data, path, e.typ, m, i64::MAX) {
                check_column(&b.times, &b.values);
                assert_eq!(
                    column_type(&b.values),
                    e.typ,
                    "block type differs from index"
                );
            }
            if let Ok(b) = crate::tsm::decode_block(&data, path, e.typ, m, m.min) {
                check_column(&b.times, &b.values);
                // the bound holds for ascending times (what the writer
                // writes; the reader trusts the order of a checksummed block)
                if b.times.windows(2).all(|w| w[0] < w[1]) {
                    assert!(
                        b.times.iter().all(|&t| t <= m.min),
                        "bounded read past its bound"
                    );
                }
            }
        }
    }
}

fn column_type(c: &Column) -> FieldType {
    match c {
        Column::Float(_) => FieldType::Float,
        Column::Integer(_) => FieldType::Integer,
        Column::Unsigned(_) => FieldType::Unsigned,
        Column::Boolean(_) => FieldType::Boolean,
        Column::String(_) => FieldType::String,
    }
}

/// A series index log: replayed; a log that replays is dumped (as a log
/// rewrite does), and the dump must replay to the same dump.
pub fn index_log(data: &[u8]) {
    let path = Path::new("index.log");
    let mut data = data.to_vec();
    fix_frames(&mut data);
    let Ok(r) = crate::index::replay(&data, path) else {
        return;
    };
    let first = r.dump();
    let again = crate::index::replay(&first, path)
        .unwrap_or_else(|e| panic!("a dumped index log does not replay: {e}"));
    assert_eq!(again.dump(), first, "dump -> replay -> dump differs");
}

/// A tombstone file: decoded, then the ranges of every series it names.
pub fn tombstones(data: &[u8]) {
    let mut data = data.to_vec();
    fix_frames(&mut data);
    let Ok(t) = crate::tombstone::Tombstones::from_bytes(&data, Path::new("fuzz.tsm.tomb")) else {
        return;
    };
    for (ids, min, max) in t.since(0) {
        for id in ids {
            assert!(
                t.ranges(id).contains(&(min, max)),
                "a record's range is missing"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// Feeds every file of `fuzz/corpus/<target>/` to `f`; fails if the
    /// corpus is missing or empty, so the replay cannot pass vacuously.
    fn replay(target: &str, f: fn(&[u8])) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(target);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
        let mut n = 0;
        for e in entries {
            let path = e.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            f(&data);
            n += 1;
        }
        assert!(n > 0, "corpus {} is empty", dir.display());
    }

    /// Writes seed inputs made by the real engine into `fuzz/corpus/`:
    /// `cargo test -p tsdb -- --ignored write_fuzz_seeds` (then minimise
    /// with `cargo fuzz cmin`).
    #[test]
    #[ignore = "writes fuzz seeds into the repository"]
    fn write_fuzz_seeds() {
        use models::{FieldValue, Point, TimeRange};
        let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let save = |target: &str, name: &str, from: &std::path::Path| {
            let dir = corpus.join(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(from, dir.join(format!("seed-{name}"))).unwrap();
        };
        let files = |dir: &std::path::Path, ext: &str| -> Vec<PathBuf> {
            let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().ends_with(ext))
                .collect();
            v.sort();
            v
        };
        let d = tempfile::tempdir().unwrap();
        let cfg = crate::EngineConfig {
            dir: d.path().join("data"),
            wal_dir: d.path().join("wal"),
            ..Default::default()
        };
        let store = crate::Store::open(cfg).unwrap();
        let shard = store.create_shard("db", "rp", 1).unwrap();
        let pt = |m: &str, host: &str, f: &str, v: FieldValue, t: i64| {
            Point::new(
                m.into(),
                vec![("host".into(), host.into())],
                vec![(f.into(), v)],
                t,
            )
        };
        let batch = |t0: i64| -> Vec<Point> {
            (0..12)
                .flat_map(|i| {
                    let t = t0 + i * 10_000_000_000 - (i % 3) * 7;
                    vec![
                        pt("cpu", "a", "usage", FieldValue::Float(i as f64 * 0.25), t),
                        pt("cpu", "b", "count", FieldValue::Integer(i * 1000 - 5), t),
                        pt("mem", "a", "free", FieldValue::Unsigned(i as u64 * 77), t),
                        pt("disk", "a", "ok", FieldValue::Boolean(i % 2 == 0), t),
                        pt(
                            "log",
                            "a",
                            "msg",
                            FieldValue::String(format!("line {i}")),
                            t,
                        ),
                    ]
                })
                .collect()
        };
        shard
            .write_points(&batch(1_700_000_000_000_000_000))
            .unwrap();
        let a = shard.series_by_key("cpu,host=a").unwrap().id;
        shard
            .delete(&[a], TimeRange::new(0, 1_700_000_020_000_000_000))
            .unwrap();
        let wal_dir = d.path().join("wal/db/rp/1");
        for (i, p) in files(&wal_dir, ".wal").iter().enumerate() {
            save("tsdb_wal", &format!("wal-{i}"), p);
        }
        shard.flush().unwrap();
        shard
            .write_points(&batch(1_800_000_000_000_000_000))
            .unwrap();
        shard.flush().unwrap();
        let b = shard.series_by_key("cpu,host=b").unwrap().id;
        shard
            .delete(&[a, b], TimeRange::new(0, 1_700_000_050_000_000_000))
            .unwrap();
        shard.drop_measurement("disk").unwrap();
        let data_dir = d.path().join("data/db/rp/1");
        for (i, p) in files(&data_dir, ".tsm").iter().enumerate() {
            save("tsdb_tsm", &format!("tsm-{i}"), p);
        }
        for (i, p) in files(&data_dir, ".tomb").iter().enumerate() {
            save("tsdb_tombstones", &format!("tomb-{i}"), p);
        }
        save("tsdb_index_log", "index-log", &data_dir.join("index.log"));
        store.close().unwrap();
    }

    #[test]
    fn fuzz_corpus_tsdb_wal_replays() {
        replay("tsdb_wal", super::wal_segment);
    }

    #[test]
    fn fuzz_corpus_tsdb_tsm_replays() {
        replay("tsdb_tsm", super::tsm_file);
    }

    #[test]
    fn fuzz_corpus_tsdb_index_log_replays() {
        replay("tsdb_index_log", super::index_log);
    }

    #[test]
    fn fuzz_corpus_tsdb_tombstones_replays() {
        replay("tsdb_tombstones", super::tombstones);
    }
}
