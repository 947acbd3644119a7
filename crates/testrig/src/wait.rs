//! Bounded polling: the rig's only way to wait for something to become true.
//! Every wait has a deadline; nothing here sleeps "long enough" and hopes.

use crate::{Error, Result};
use std::time::{Duration, Instant};

/// Interval between two polls.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Calls `check` until it returns `Some`, at most for `timeout`. `what`
/// names the condition in the timeout error.
pub fn poll_until<T>(
    timeout: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            return Err(Error::Timeout(timeout, what.to_string()));
        }
        std::thread::sleep(POLL_INTERVAL.min(timeout.saturating_sub(start.elapsed())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_value_once_true() {
        let mut n = 0;
        let v = poll_until(Duration::from_secs(5), "n reaches 3", || {
            n += 1;
            (n >= 3).then_some(n)
        })
        .unwrap();
        assert_eq!(v, 3);
    }

    #[test]
    fn times_out() {
        let start = Instant::now();
        let err = poll_until(Duration::from_millis(100), "never", || None::<()>).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(err.to_string().contains("never"), "{err}");
    }
}
