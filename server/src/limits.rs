//! Rate limits (a token bucket per signer, per address, per address's failed
//! authentications) and counted slots (connections and live sockets per address and
//! per device), so that one party's load cannot use up what everyone shares.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use kring_trust::{Error, Result};

/// Buckets idle long enough to be full again are dropped every this many checks.
const SWEEP_EVERY: u32 = 4096;

/// A token bucket per key (a signer's id by default).
pub struct RateLimiter<K = [u8; 32]> {
    /// Tokens per second; not positive means unlimited.
    rate: f64,
    burst: f64,
    inner: Mutex<Buckets<K>>,
}

struct Buckets<K> {
    buckets: HashMap<K, Bucket>,
    checks: u32,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq + Copy> RateLimiter<K> {
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate: if rate.is_finite() { rate } else { 0.0 },
            burst: if burst.is_finite() {
                burst.max(1.0)
            } else {
                1.0
            },
            inner: Mutex::new(Buckets {
                buckets: HashMap::new(),
                checks: 0,
            }),
        }
    }

    fn enabled(&self) -> bool {
        self.rate > 0.0
    }

    /// Refuses, without taking a token, if `key`'s bucket is empty: the cheap check
    /// made on a request's headers before its body is read or its signature checked,
    /// so that forged requests naming someone else's key cannot drain their bucket.
    pub fn peek(&self, key: &K, now: Instant) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match inner.buckets.get(key) {
            None => Ok(()),
            Some(bucket) => {
                let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
                let tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
                if tokens >= 1.0 {
                    Ok(())
                } else {
                    Err(self.wait(tokens))
                }
            }
        }
    }

    fn wait(&self, tokens: f64) -> Error {
        let wait = ((1.0 - tokens) / self.rate).ceil();
        Error::RateLimited {
            retry_after_secs: if wait.is_finite() {
                (wait as u64).max(1)
            } else {
                1
            },
        }
    }

    /// Takes one token for `signer`, or says how long to wait.
    pub fn check(&self, signer: &K, now: Instant) -> Result<()> {
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
            let tokens = bucket.tokens;
            Err(self.wait(tokens))
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

/// The address limits are kept for: an IPv4 address, or an IPv6 /64 (one host
/// usually has a whole /64, so counting single IPv6 addresses would limit nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrKey([u8; 16]);

impl AddrKey {
    pub fn of(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match ip {
            IpAddr::V4(v4) => {
                let mut key = [0u8; 16];
                key[12..].copy_from_slice(&v4.octets());
                AddrKey(key)
            }
            IpAddr::V6(v6) => {
                let mut key = [0u8; 16];
                key[..8].copy_from_slice(&v6.octets()[..8]);
                key[8] = 0xff; // never equal to an IPv4 key
                AddrKey(key)
            }
        }
    }
}

/// Counted slots per key with a cap per key and a cap in total; a [`Slot`] gives its
/// place back when dropped. Used for connections (per address) and live sockets
/// (per address and per device).
pub struct Slots<K: Hash + Eq + Copy + Send + 'static> {
    inner: Arc<SlotsInner<K>>,
}

struct SlotsInner<K> {
    total_max: usize,
    per_key_max: usize,
    /// The last `reserve` slots go only to keys holding fewer than [`SMALL_SHARE`]:
    /// many addresses each holding many connections cannot shut out a device that
    /// needs one or two.
    reserve: usize,
    counts: Mutex<(usize, HashMap<K, usize>)>,
}

/// One taken slot.
pub struct Slot<K: Hash + Eq + Copy + Send + 'static> {
    inner: Arc<SlotsInner<K>>,
    key: K,
}

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The total cap is reached.
    Total,
    /// This key has its share.
    Key,
}

/// See `SlotsInner::reserve`.
pub const SMALL_SHARE: usize = 4;

impl<K: Hash + Eq + Copy + Send + 'static> Slots<K> {
    /// `per_key_max` 0 means no cap per key.
    pub fn new(total_max: usize, per_key_max: usize) -> Self {
        Self::with_reserve(total_max, per_key_max, 0)
    }

    /// Like [`Slots::new`], keeping the last `reserve` slots for small holders.
    pub fn with_reserve(total_max: usize, per_key_max: usize, reserve: usize) -> Self {
        Slots {
            inner: Arc::new(SlotsInner {
                total_max,
                reserve: reserve.min(total_max),
                per_key_max: if per_key_max == 0 {
                    usize::MAX
                } else {
                    per_key_max
                },
                counts: Mutex::new((0, HashMap::new())),
            }),
        }
    }

    pub fn try_take(&self, key: K) -> std::result::Result<Slot<K>, Full> {
        let mut counts = self
            .inner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if counts.0 >= self.inner.total_max {
            return Err(Full::Total);
        }
        let taken = counts.0;
        let count = counts.1.entry(key).or_insert(0);
        if *count >= self.inner.per_key_max {
            return Err(Full::Key);
        }
        if taken >= self.inner.total_max - self.inner.reserve && *count >= SMALL_SHARE {
            return Err(Full::Total);
        }
        *count += 1;
        counts.0 += 1;
        Ok(Slot {
            inner: Arc::clone(&self.inner),
            key,
        })
    }

    /// Slots taken in total.
    pub fn taken(&self) -> usize {
        self.inner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    pub fn total_max(&self) -> usize {
        self.inner.total_max
    }
}

impl<K: Hash + Eq + Copy + Send + 'static> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut counts = self
            .inner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.0 = counts.0.saturating_sub(1);
        if let Some(count) = counts.1.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.1.remove(&self.key);
            }
        }
    }
}

/// File descriptors kept free of connections: the SQLite files of the writer, the
/// checkpointer and the readers (a database, its WAL and its shared memory each), the
/// listener, logs and some slack.
const RESERVED_FDS: u64 = 128;

/// Connections the open-files limit leaves room for (at least 16), or `None` if the
/// limit cannot be read or is unlimited.
pub fn connections_from_open_files_limit() -> Option<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    // `rlim_t` is u64 on Linux but not on every target.
    #[allow(clippy::unnecessary_cast)]
    let free = (limit.rlim_cur as u64).saturating_sub(RESERVED_FDS).max(16);
    usize::try_from(free).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn peek_refuses_an_empty_bucket_without_taking() {
        let limiter = RateLimiter::new(1.0, 2.0);
        let now = Instant::now();
        limiter.peek(&[1u8; 32], now).expect("no bucket yet");
        limiter.check(&[1u8; 32], now).expect("1");
        limiter.peek(&[1u8; 32], now).expect("one left");
        limiter.check(&[1u8; 32], now).expect("2");
        assert!(limiter.peek(&[1u8; 32], now).is_err());
        assert!(limiter
            .peek(&[1u8; 32], now + Duration::from_secs(1))
            .is_ok());
    }

    #[test]
    fn slots_are_shared_per_key_and_in_total_and_come_back() {
        let slots = Slots::new(3, 2);
        let a1 = slots.try_take('a').expect("a1");
        let _a2 = slots.try_take('a').expect("a2");
        assert_eq!(slots.try_take('a').err(), Some(Full::Key));
        let _b1 = slots.try_take('b').expect("b1");
        assert_eq!(slots.try_take('c').err(), Some(Full::Total));
        drop(a1);
        assert_eq!(slots.taken(), 2);
        slots.try_take('c').expect("a slot came back");
    }

    #[test]
    fn the_reserve_is_for_small_holders() {
        let slots = Slots::with_reserve(10, 0, 3);
        let big: Vec<_> = (0..7).map(|_| slots.try_take('a').expect("a")).collect();
        assert_eq!(slots.try_take('a').err(), Some(Full::Total));
        let small: Vec<_> = (0..3).map(|_| slots.try_take('b').expect("b")).collect();
        assert_eq!(slots.try_take('c').err(), Some(Full::Total));
        drop((big, small));
    }

    #[test]
    fn ipv6_addresses_count_per_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(AddrKey::of(a), AddrKey::of(b));
        assert_ne!(AddrKey::of(a), AddrKey::of(c));
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().expect("ip");
        assert_eq!(
            AddrKey::of(mapped),
            AddrKey::of("127.0.0.2".parse().expect("ip"))
        );
    }

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
