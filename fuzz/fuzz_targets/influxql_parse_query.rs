//! Fuzz target: `influxql::parse_query`; a parsed query prints to text that re-parses identically.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A regex literal compiles with the regex crate's own size limits
/// (10 MiB for the compiled program by default).
const REGEX_SLACK_BYTES: usize = 12 << 20;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 256, REGEX_SLACK_BYTES, || {
        influxql::fuzzing::parse_query(data)
    });
});
