//! Fuzz target: the codec decoders (timestamps, floats, integers, unsigned, booleans, strings); decoded values round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// An RLE block may legitimately expand to `codec::integer::MAX_RLE` values
/// (8 bytes each); the unsigned path and the re-encode hold a second copy.
const CODEC_SLACK_BYTES: usize = 2 * 8 * codec::integer::MAX_RLE + tidemark_fuzz::ALLOC_SLACK_BYTES;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 64, CODEC_SLACK_BYTES, || {
        codec::fuzzing::decode(data)
    });
});
