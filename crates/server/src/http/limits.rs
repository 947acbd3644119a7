//! Admission limits of the HTTP API, shared by its handlers: InfluxDB's
//! write throttle (`max-concurrent-write-limit`, `max-enqueued-write-limit`,
//! `enqueued-write-timeout`), the bounds on blocking-pool work (writes and
//! streamed queries wait for a slot asynchronously instead of piling up on
//! tokio's blocking pool), and the guard against password guessing (bcrypt
//! checks bounded in number, failed attempts rate-limited per client
//! address and per user).
//!
//! Owns: counters and permits. Must not: parse requests or talk to the
//! engine; handlers ask for a permit and hold it while they work.

use super::HttpError;
use crate::config::HttpSection;
use axum::http::StatusCode;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Writes parsed and applied on the blocking pool at once; more wait
/// (asynchronously) for a slot. Each holds a whole body and its points.
pub const MAX_BLOCKING_WRITES: usize = 32;
/// Streamed (`chunked=true`) queries running at once, each on a blocking
/// thread; more wait for a slot. Keeps tokio's blocking pool (512 threads)
/// from being filled by clients that read slowly.
pub const MAX_STREAMING_QUERIES: usize = 64;
/// Failed logins an address (or a user) may have in a burst before it is
/// answered 429 without a password check.
pub const FAILED_AUTH_BURST: u32 = 10;
/// How fast that allowance comes back: one failed attempt per this period.
pub const FAILED_AUTH_REFILL_INTERVAL: Duration = Duration::from_secs(1);
/// Addresses and users tracked at most (bounded memory under a spray of
/// addresses); past it, entries whose allowance is back are forgotten,
/// then all.
pub const MAX_TRACKED_AUTH_KEYS: usize = 10_000;

/// Everything the handlers share, built once from `[http]`.
pub struct HttpLimits {
    pub write_throttle: Option<Throttle>,
    pub blocking_writes: Arc<Semaphore>,
    pub streaming_queries: Arc<Semaphore>,
    pub failed_auth: FailedAuthLimiter,
    /// bcrypt checks running at once (each is ~50-100 ms of CPU).
    pub password_checks: Arc<Semaphore>,
}

impl HttpLimits {
    pub fn new(http: &HttpSection) -> HttpLimits {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        HttpLimits {
            write_throttle: Throttle::from_config(http),
            blocking_writes: Arc::new(Semaphore::new(MAX_BLOCKING_WRITES)),
            streaming_queries: Arc::new(Semaphore::new(MAX_STREAMING_QUERIES)),
            failed_auth: FailedAuthLimiter::default(),
            password_checks: Arc::new(Semaphore::new(cpus.div_ceil(2).max(1))),
        }
    }
}

/// InfluxDB 1.x's write throttle: at most `concurrent` writes run, at
/// most `concurrent + enqueued` are admitted (0 enqueued: no bound on the
/// queue), and one waits at most `timeout` (zero: forever) for its turn.
pub struct Throttle {
    current: Arc<Semaphore>,
    admitted: Option<Arc<Semaphore>>,
    timeout: Duration,
}

/// A write's place in the throttle, released when dropped.
#[derive(Debug)]
pub struct ThrottlePermit {
    _admitted: Option<OwnedSemaphorePermit>,
    _current: OwnedSemaphorePermit,
}

impl Throttle {
    pub fn from_config(http: &HttpSection) -> Option<Throttle> {
        let concurrent = usize::try_from(http.max_concurrent_write_limit).ok()?;
        if concurrent == 0 {
            return None;
        }
        let enqueued = usize::try_from(http.max_enqueued_write_limit).unwrap_or(0);
        Some(Throttle::new(
            concurrent,
            enqueued,
            http.enqueued_write_timeout.0,
        ))
    }

    pub fn new(concurrent: usize, enqueued: usize, timeout: Duration) -> Throttle {
        let concurrent = concurrent.min(Semaphore::MAX_PERMITS);
        Throttle {
            current: Arc::new(Semaphore::new(concurrent)),
            admitted: (enqueued > 0).then(|| {
                Arc::new(Semaphore::new(
                    concurrent
                        .saturating_add(enqueued)
                        .min(Semaphore::MAX_PERMITS),
                ))
            }),
            timeout,
        }
    }

    /// Waits for a turn; 503 with InfluxDB's texts when the queue is full
    /// or the wait exceeds the timeout.
    pub async fn admit(&self) -> Result<ThrottlePermit, HttpError> {
        let started = tokio::time::Instant::now();
        let admitted = match &self.admitted {
            None => None,
            Some(sem) => Some(sem.clone().try_acquire_owned().map_err(|_| {
                tracing::warn!("request throttled, queue full");
                HttpError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "request throttled, queue full",
                )
            })?),
        };
        let current = match self.current.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) if self.timeout.is_zero() => self
                .current
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| HttpError::internal(e.to_string()))?,
            Err(_) => {
                let wait = self.current.clone().acquire_owned();
                match tokio::time::timeout_at(started + self.timeout, wait).await {
                    Ok(p) => p.map_err(|e| HttpError::internal(e.to_string()))?,
                    Err(_) => {
                        tracing::warn!("request throttled, exceeds timeout");
                        return Err(HttpError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "request throttled, exceeds timeout",
                        ));
                    }
                }
            }
        };
        Ok(ThrottlePermit {
            _admitted: admitted,
            _current: current,
        })
    }
}

/// Who a failed login is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthKey {
    /// The client address; IPv6 by its /64, which one host usually owns.
    Addr(IpAddr),
    User(String),
}

impl AuthKey {
    pub fn addr(ip: IpAddr) -> AuthKey {
        match ip {
            IpAddr::V4(_) => AuthKey::Addr(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AuthKey::Addr(IpAddr::V4(v4)),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    AuthKey::Addr(IpAddr::V6(bits.into()))
                }
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Allowance {
    /// Failed attempts still allowed now (scaled by the refill).
    left: u32,
    refilled_at: Instant,
}

impl Allowance {
    fn full(now: Instant) -> Allowance {
        Allowance {
            left: FAILED_AUTH_BURST,
            refilled_at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled_at);
        let steps = elapsed.as_nanos() / FAILED_AUTH_REFILL_INTERVAL.as_nanos().max(1);
        if steps == 0 {
            return;
        }
        let steps = u32::try_from(steps).unwrap_or(u32::MAX);
        self.left = self.left.saturating_add(steps).min(FAILED_AUTH_BURST);
        self.refilled_at = if self.left == FAILED_AUTH_BURST {
            now
        } else {
            self.refilled_at + FAILED_AUTH_REFILL_INTERVAL * steps
        };
    }
}

/// Token buckets of failed logins per address and per user, with bounded
/// memory.
#[derive(Default)]
pub struct FailedAuthLimiter {
    buckets: Mutex<HashMap<AuthKey, Allowance>>,
}

impl FailedAuthLimiter {
    /// Takes one attempt from every key's allowance before a password is
    /// checked; false (nothing taken) when one of them has none left.
    /// Taking up front means concurrent guesses cannot all pass the check
    /// while the first bcrypt runs; a success gives the attempt back
    /// ([`FailedAuthLimiter::refund`]).
    pub fn try_take(&self, keys: &[AuthKey], now: Instant) -> bool {
        let mut b = self.buckets.lock();
        let exhausted = keys.iter().any(|k| match b.get_mut(k) {
            None => false,
            Some(a) => {
                a.refill(now);
                a.left == 0
            }
        });
        if exhausted {
            return false;
        }
        if b.len() + keys.len() > MAX_TRACKED_AUTH_KEYS {
            b.retain(|_, a| {
                a.refill(now);
                a.left < FAILED_AUTH_BURST
            });
            if b.len() + keys.len() > MAX_TRACKED_AUTH_KEYS {
                b.clear();
            }
        }
        for k in keys {
            let a = b.entry(k.clone()).or_insert_with(|| Allowance::full(now));
            a.left = a.left.saturating_sub(1);
        }
        true
    }

    /// Gives back what [`FailedAuthLimiter::try_take`] took (the password
    /// was right).
    pub fn refund(&self, keys: &[AuthKey]) {
        let mut b = self.buckets.lock();
        for k in keys {
            if let Some(a) = b.get_mut(k) {
                a.left = (a.left + 1).min(FAILED_AUTH_BURST);
            }
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn m1_failed_logins_are_limited_per_key_and_come_back() {
        let l = FailedAuthLimiter::default();
        let t0 = Instant::now();
        let ip = AuthKey::addr("10.0.0.1".parse().unwrap());
        let user = AuthKey::User("admin".into());
        let keys = [ip.clone(), user.clone()];
        // A success gives its attempt back.
        assert!(l.try_take(&keys, t0));
        l.refund(&keys);
        for _ in 0..FAILED_AUTH_BURST {
            assert!(l.try_take(&keys, t0));
        }
        assert!(!l.try_take(&keys, t0));
        // Another address guessing the same user is stopped too; another
        // user from a fresh address is not.
        let other_ip = AuthKey::addr("10.0.0.2".parse().unwrap());
        assert!(!l.try_take(&[other_ip.clone(), user.clone()], t0));
        assert!(l.try_take(&[other_ip, AuthKey::User("bob".into())], t0));
        // One attempt per refill interval comes back.
        let later = t0 + FAILED_AUTH_REFILL_INTERVAL;
        assert!(l.try_take(&keys, later));
        assert!(!l.try_take(&keys, later));
        assert!(l.try_take(&keys, t0 + FAILED_AUTH_REFILL_INTERVAL * 100));
    }

    #[test]
    fn m1_limiter_memory_is_bounded() {
        let l = FailedAuthLimiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED_AUTH_KEYS as u32 + 500) {
            let ip = IpAddr::V4(i.into());
            assert!(l.try_take(&[AuthKey::addr(ip)], t0));
            assert!(l.tracked() <= MAX_TRACKED_AUTH_KEYS);
        }
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_prefix() {
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8::ffff:1".parse().unwrap();
        assert_eq!(AuthKey::addr(a.into()), AuthKey::addr(b.into()));
        let mapped: Ipv6Addr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            AuthKey::addr(mapped.into()),
            AuthKey::addr("10.0.0.1".parse().unwrap())
        );
    }

    #[tokio::test]
    async fn m6_throttle_queues_then_refuses_like_influxdb() {
        let t = Throttle::new(1, 1, Duration::from_millis(100));
        let running = t.admit().await.unwrap();
        // The second waits in the queue and times out.
        let queued = t.admit().await.unwrap_err();
        assert_eq!(queued.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(queued.message, "request throttled, exceeds timeout");
        // With one waiting, a third finds the queue full at once.
        let t = Arc::new(t);
        let t2 = t.clone();
        let waiter = tokio::spawn(async move { t2.admit().await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let full = t.admit().await.unwrap_err();
        assert_eq!(full.message, "request throttled, queue full");
        // The waiter gets its turn when the running write ends.
        drop(running);
        assert!(waiter.await.unwrap().is_ok());
        assert!(t.admit().await.is_ok());
    }
}
