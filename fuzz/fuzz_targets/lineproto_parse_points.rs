//! Fuzz target: `lineproto::parse_points` over whole `/write` bodies (rendered points re-parse; no allocation out of proportion to the body).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 32, tidemark_fuzz::ALLOC_SLACK_BYTES, || {
        lineproto::fuzzing::parse_points(data)
    });
});
