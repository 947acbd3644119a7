//! Fuzz target: the TZif reader behind `tz()` (`influxql::Tz::from_tzif`) and lookups/windows over the zone.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 64, tidemark_fuzz::ALLOC_SLACK_BYTES, || {
        influxql::fuzzing::tzif(data)
    });
});
