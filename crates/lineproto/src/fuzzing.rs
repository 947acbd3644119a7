//! Entry points for fuzzing (`fuzz/` at the repository root) and for
//! replaying its corpora in the normal test suite. Not an API: hidden from
//! the docs and free to change with the fuzz targets. Must not be used by
//! the write path.

use models::Precision;

use crate::{parse_points as parse, to_line};

/// Whether `to_line` promises a faithful rendering of these names (see its
/// doc for the names InfluxDB's own grammar cannot carry). An empty field
/// key is accepted after a NUL (`m \0=1`, InfluxDB's scanner skips NUL as
/// whitespace) but `m =1` is refused, so it cannot round-trip either.
fn representable(p: &models::Point) -> bool {
    let bad = |s: &str| s.is_empty() || s.contains(['\\', '\n', '\r']);
    !bad(&p.measurement)
        && !p.measurement.starts_with(['#', '\t', '\0'])
        && !p.tags.iter().any(|(k, v)| bad(k) || bad(v))
        && !p.fields.iter().any(|(k, _)| bad(k))
}

/// A whole `/write` body: parsed at nanosecond and second precision; every
/// parsed point is valid, and one with representable names renders to a
/// line that parses back to the same point.
pub fn parse_points(body: &[u8]) {
    const NOW: i64 = 1_700_000_000_123_456_789;
    let out = parse(body, Precision::Nanosecond, NOW);
    for p in &out.points {
        assert!(!p.fields.is_empty(), "a point without fields");
        assert_eq!(p.key, models::series_key(&p.measurement, &p.tags));
        if representable(p) {
            let line = to_line(p);
            let again = parse(line.as_bytes(), Precision::Nanosecond, NOW);
            assert_eq!(again.errors, Vec::<String>::new(), "rendered {line:?}");
            assert_eq!(
                again.points.as_slice(),
                std::slice::from_ref(p),
                "rendered {line:?}"
            );
        }
    }
    let secs = parse(body, Precision::Second, NOW);
    assert_eq!(
        secs.points.len() + secs.rejected(),
        out.points.len() + out.rejected(),
        "precision changed the number of lines"
    );
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn fuzz_corpus_lineproto_parse_points_replays() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus/lineproto_parse_points");
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
        let mut n = 0;
        for e in entries {
            let data = std::fs::read(e.expect("corpus entry").path()).expect("corpus file");
            super::parse_points(&data);
            n += 1;
        }
        assert!(n > 0, "corpus {} is empty", dir.display());
    }
}
