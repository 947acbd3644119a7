//! Fuzz target: InfluxQL duration and time literals (duration.rs, timelit.rs, zone-local literals in tz.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 256, tidemark_fuzz::ALLOC_SLACK_BYTES, || {
        influxql::fuzzing::time_literals(data)
    });
});
