//! Per-device rate limiting: a token bucket per signer.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use kring_core::{Error, Result};

/// Buckets idle long enough to be full again are dropped every this many checks.
const SWEEP_EVERY: u32 = 4096;

pub struct RateLimiter {
    /// Tokens per second; not positive means unlimited.
    rate: f64,
    burst: f64,
    inner: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    buckets: HashMap<[u8; 32], Bucket>,
    checks: u32,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate: if rate.is_finite() { rate } else { 0.0 },
            burst: if burst.is_finite() {
                burst.max(1.0)
            } else {
                1.0
            },
            inner: Mutex::new(Buckets::default()),
        }
    }

    fn enabled(&self) -> bool {
        self.rate > 0.0
    }

    /// Takes one token for `signer`, or says how long to wait.
    pub fn check(&self, signer: &[u8; 32], now: Instant) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.checks = inner.checks.wrapping_add(1);
        if inner.checks.is_multiple_of(SWEEP_EVERY) {
            let (rate, burst) = (self.rate, self.burst);
            inner.buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let bucket = inner.buckets.entry(*signer).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / self.rate).ceil();
            Err(Error::RateLimited {
                retry_after_secs: if wait.is_finite() {
                    (wait as u64).max(1)
                } else {
                    1
                },
            })
        }
    }

    /// Devices with a bucket in memory.
    pub fn tracked(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .buckets
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_refill_rate() {
        let limiter = RateLimiter::new(2.0, 3.0);
        let device = [7u8; 32];
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.check(&device, t0).expect("burst");
        }
        let err = limiter.check(&device, t0).expect_err("empty");
        assert!(
            matches!(
                err,
                Error::RateLimited {
                    retry_after_secs: 1
                }
            ),
            "{err:?}"
        );
        limiter
            .check(&device, t0 + Duration::from_millis(500))
            .expect("one token after 0.5 s at 2/s");
        limiter
            .check(&[8u8; 32], t0)
            .expect("other devices have their own bucket");
    }

    #[test]
    fn zero_rate_is_unlimited() {
        let limiter = RateLimiter::new(0.0, 1.0);
        let now = Instant::now();
        for _ in 0..1000 {
            limiter.check(&[1u8; 32], now).expect("unlimited");
        }
    }
}
