//! Fuzz target: the tsdb tombstone (`.tomb`) decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 64, tidemark_fuzz::ALLOC_SLACK_BYTES, || {
        tsdb::fuzzing::tombstones(data)
    });
});
