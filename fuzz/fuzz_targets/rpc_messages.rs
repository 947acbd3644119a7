//! Fuzz target: the cluster RPC's wire messages (`WriteShardRequest`,
//! `WriteShardResponse`) as anyone reaching port 8088 may send them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 64, tidemark_fuzz::ALLOC_SLACK_BYTES, || {
        rpc::fuzzing::rpc_messages(data)
    });
});
