//! Entry points for fuzzing (`fuzz/` at the repository root) and for
//! replaying its corpora in the normal test suite. Not an API: hidden from
//! the docs and free to change with the fuzz targets. Must not be used by
//! the query path.

use crate::condition::{MAX_TIME, MIN_TIME};
use crate::duration::{format_duration, parse_duration};
use crate::timelit::{format_rfc3339_nano, is_time_string, parse_time_literal};
use crate::tz::{is_valid_zone_name, parse_time_literal_in, window, Tz};

/// Query text: parsed; a query that parses prints to text that parses to
/// the same query, and that text is a fixed point of printing.
pub fn parse_query(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(q) = crate::parse_query(text) else {
        return;
    };
    // Plain Display redacts passwords (as InfluxDB prints them); the
    // unredacted text is the one that must parse back.
    let printed = q.unredacted().to_string();
    let again = crate::parse_query(&printed)
        .unwrap_or_else(|e| panic!("printed query {printed:?} does not parse: {e}"));
    assert_eq!(
        again.unredacted().to_string(),
        printed,
        "printing is not a fixed point"
    );
    assert_eq!(again.to_string(), q.to_string());
}

/// A duration or time literal: durations print to text that parses back to
/// the same value; time literals in range print (RFC3339) and parse back;
/// the same text is read in UTC as a zone-local literal and windowed.
pub fn time_literals(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = parse_duration(s) {
        let printed = format_duration(d);
        assert_eq!(
            parse_duration(&printed),
            Ok(d),
            "duration {d} printed as {printed:?}"
        );
        if d > 0 {
            for t in [MIN_TIME, -1, 0, 1, MAX_TIME] {
                let (start, end) = window(t, d, 0, None);
                assert!(start <= end, "window of {t} by {d}: {start} > {end}");
            }
        }
    }
    let _ = is_time_string(s);
    if let Ok(t) = parse_time_literal(s) {
        if (MIN_TIME..=MAX_TIME).contains(&t) {
            let printed = format_rfc3339_nano(t);
            assert_eq!(
                parse_time_literal(&printed),
                Ok(t),
                "time {t} printed as {printed:?}"
            );
        }
    }
    let _ = parse_time_literal_in(s, &Tz::utc());
    let _ = is_valid_zone_name(s);
}

/// TZif bytes (a zoneinfo file): parsed; a zone that parses answers lookups
/// at instants taken from the input and at the ends of time, converts local
/// times and computes day windows, without panicking.
pub fn tzif(data: &[u8]) {
    let Some(tz) = Tz::from_tzif(data) else {
        return;
    };
    const SEC: i64 = 1_000_000_000;
    let mut instants = vec![MIN_TIME / SEC, -1, 0, 1, MAX_TIME / SEC];
    instants.extend(
        data.chunks_exact(8)
            .take(16)
            .map(|c| i64::from_be_bytes(c.try_into().unwrap_or_default()) % (MAX_TIME / SEC)),
    );
    for &sec in &instants {
        let l = tz.lookup(sec);
        assert!(
            l.start <= sec && sec < l.end || l.end == i64::MAX,
            "lookup of {sec}: {l:?}"
        );
        let _ = tz.local_to_utc(sec);
        let _ = tz.offset_at_nanos(sec.saturating_mul(SEC));
        // Only "no panic" here: a zone with offsets of years (valid TZif
        // syntax, never a real zone) has no meaningful day windows.
        let _ = window(sec.saturating_mul(SEC), 24 * 3600 * SEC, 0, Some(&tz));
    }
    let _ = parse_time_literal_in("2000-01-01 00:00:00", &tz);
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
            let data = std::fs::read(e.expect("corpus entry").path()).expect("corpus file");
            f(&data);
            n += 1;
        }
        assert!(n > 0, "corpus {} is empty", dir.display());
    }

    #[test]
    fn fuzz_corpus_influxql_parse_query_replays() {
        replay("influxql_parse_query", super::parse_query);
    }

    #[test]
    fn fuzz_corpus_influxql_time_literals_replays() {
        replay("influxql_time_literals", super::time_literals);
    }

    #[test]
    fn fuzz_corpus_influxql_tz_replays() {
        replay("influxql_tz", super::tzif);
    }
}
