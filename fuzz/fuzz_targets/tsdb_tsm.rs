//! Fuzz target: a tsdb TSM data file: footer, block index, every block decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A block's codec data may expand (RLE) to `codec::integer::MAX_RLE` values
/// before the reader compares it with the block's count: the codec's own
/// bound, 8 bytes per value.
const BLOCK_SLACK_BYTES: usize = 2 * 8 * codec::integer::MAX_RLE + tidemark_fuzz::ALLOC_SLACK_BYTES;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 64, BLOCK_SLACK_BYTES, || {
        tsdb::fuzzing::tsm_file(data)
    });
});
