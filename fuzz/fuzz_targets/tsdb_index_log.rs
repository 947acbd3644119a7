//! Fuzz target: the tsdb series index log replay (and dump -> replay round trip).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 64, tidemark_fuzz::ALLOC_SLACK_BYTES, || {
        tsdb::fuzzing::index_log(data)
    });
});
