//! Where long statements run. A request handler on an async runtime calls
//! the executor directly on its worker thread, so the common small query
//! pays no thread handoff; the executor moves a statement that may run long
//! (a large scan, many fill windows, DDL, SELECT INTO, subqueries) through
//! [`Offload::run`], which the server implements by leaving the async worker
//! (`tokio::task::block_in_place`).
//!
//! Owns: the contract and the size thresholds. Must not: depend on an async
//! runtime (the server supplies the implementation).

/// Values a SELECT may read on the thread that received it; more and the
/// statement is offloaded before it scans.
pub const INLINE_MAX_VALUES: u64 = 50_000;

/// Output windows (GROUP BY time buckets times groups) a SELECT may fill on
/// the receiving thread.
pub const INLINE_MAX_WINDOWS: u64 = 20_000;

/// Runs work that may take long somewhere it may block.
pub trait Offload: Sync {
    /// Runs `work` to completion before returning.
    fn run(&self, work: &mut dyn FnMut());
}

/// Runs everything where it is called: for callers already off any async
/// worker (tests, background services, `spawn_blocking`).
pub struct InPlace;

impl Offload for InPlace {
    fn run(&self, work: &mut dyn FnMut()) {
        work()
    }
}

/// `f()` through `off`, with its result.
pub fn offloaded<T>(off: &dyn Offload, f: impl FnOnce() -> T) -> T {
    let mut f = Some(f);
    let mut out = None;
    off.run(&mut || {
        if let Some(f) = f.take() {
            out = Some(f());
        }
    });
    match out {
        Some(v) => v,
        // An Offload that returns without running its work breaks the
        // contract; running it here keeps the answer correct.
        None => match f.take() {
            Some(f) => f(),
            None => unreachable!("work taken but produced no result"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize);
    impl Offload for Counting {
        fn run(&self, work: &mut dyn FnMut()) {
            self.0.fetch_add(1, Ordering::Relaxed);
            work()
        }
    }

    #[test]
    fn offloaded_returns_the_result_and_goes_through_run() {
        let c = Counting(AtomicUsize::new(0));
        assert_eq!(offloaded(&c, || 6 * 7), 42);
        assert_eq!(c.0.load(Ordering::Relaxed), 1);
        assert_eq!(offloaded(&InPlace, || "x"), "x");
    }

    struct Lazy;
    impl Offload for Lazy {
        fn run(&self, _work: &mut dyn FnMut()) {}
    }

    #[test]
    fn an_offload_that_skips_its_work_still_gets_an_answer() {
        assert_eq!(offloaded(&Lazy, || 5), 5);
    }
}
