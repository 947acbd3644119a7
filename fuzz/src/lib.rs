//! Shared by every fuzz target: a global allocator that records the largest
//! single allocation request, so a target can assert that a decoder never
//! reserves memory out of proportion to its input (a length field read from
//! the input must not become a giant `Vec::with_capacity`).
//!
//! Owns nothing but this check; the code under test lives in the crates'
//! `fuzzing` modules, which the corpus replay tests call too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Largest single allocation a decoder may make regardless of input size
/// (targets whose code has a documented larger bound pass their own).
pub const ALLOC_SLACK_BYTES: usize = 256 << 10;

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and panics if any single allocation during it exceeded
/// `per_input_byte × input_len + slack_bytes`.
pub fn with_alloc_limit<R>(
    input_len: usize,
    per_input_byte: usize,
    slack_bytes: usize,
    f: impl FnOnce() -> R,
) -> R {
    LARGEST.store(0, Ordering::Relaxed);
    let r = f();
    let largest = LARGEST.load(Ordering::Relaxed);
    let limit = input_len
        .saturating_mul(per_input_byte)
        .saturating_add(slack_bytes);
    assert!(
        largest <= limit,
        "an allocation of {largest} bytes for {input_len} input bytes (limit {limit})"
    );
    r
}
