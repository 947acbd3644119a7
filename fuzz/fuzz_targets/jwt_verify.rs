//! Fuzz target: the meta node's JWT check (`meta_service::jwt::verify`), with tokens re-signed so claims are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidemark_fuzz::with_alloc_limit(data.len(), 64, tidemark_fuzz::ALLOC_SLACK_BYTES, || {
        meta_service::fuzzing::jwt_verify(data)
    });
});
