//! Rate limits (a token bucket per signer, per address, per address's failed
//! authentications), counted slots (connections and live sockets per address and
//! per device), fairly shared budgets ([`Fair`]: pull permits, bytes of request
//! bodies) and the signers each address has seen authenticate ([`Vouched`]), so that
//! one party's load cannot use up what everyone shares.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// A budget of units (pull permits; bytes of request bodies) shared out per key (an
/// address), so that one key cannot take it all while others want some. Invariants:
///
/// - a key holds at most `share` units at once;
/// - the last `reserve` free units go only to a key that holds nothing yet: a key that
///   already holds some never takes the last of the budget, so an address that holds
///   nothing finds room unless other addresses took the reserve first (it takes many
///   addresses, not many requests from one, to use the budget up);
/// - units that come back go to waiting takers whose key holds least first (then in
///   order of arrival), so one key's many waiters never queue ahead of another key's
///   one; after every change no waiter that could be served is still waiting.
///
/// [`Share`] gives its units back when dropped. Waiting ([`Fair::take`]) is
/// cancel-safe: a taker dropped while waiting leaves the queue, and one dropped just
/// after it was served gives its units back.
pub struct Fair<K: Hash + Eq + Copy + Send + 'static> {
    inner: Arc<FairInner<K>>,
}

struct FairInner<K> {
    total: u64,
    share: u64,
    reserve: u64,
    state: Mutex<FairState<K>>,
}

struct FairState<K> {
    free: u64,
    held: HashMap<K, u64>,
    /// In order of arrival.
    waiting: Vec<Waiter<K>>,
    next_id: u64,
}

struct Waiter<K> {
    id: u64,
    key: K,
    units: u64,
    served: tokio::sync::oneshot::Sender<()>,
}

/// Units taken from a [`Fair`] budget; given back when dropped.
pub struct Share<K: Hash + Eq + Copy + Send + 'static> {
    inner: Arc<FairInner<K>>,
    key: K,
    units: u64,
}

impl<K: Hash + Eq + Copy + Send + 'static> Fair<K> {
    /// `share` and `reserve` are clamped to `total` (`total` at least 1).
    pub fn new(total: u64, share: u64, reserve: u64) -> Self {
        let total = total.max(1);
        Fair {
            inner: Arc::new(FairInner {
                total,
                share: share.clamp(1, total),
                reserve: reserve.min(total),
                state: Mutex::new(FairState {
                    free: total,
                    held: HashMap::new(),
                    waiting: Vec::new(),
                    next_id: 0,
                }),
            }),
        }
    }

    /// `units` for `key` now, or why not: [`Full::Key`] if the key would hold more
    /// than its share (or asks for more than the whole budget), [`Full::Total`] if
    /// the budget has not that much free for this key.
    pub fn try_take(&self, key: K, units: u64) -> std::result::Result<Share<K>, Full> {
        let mut state = self.inner.lock();
        self.inner.check(&state, key, units)?;
        state.grant(key, units);
        Ok(self.share(key, units))
    }

    /// `units` for `key`, waiting (fairly, see [`Fair`]) while the budget has not that
    /// much free for this key. Refused at once, with [`Full::Key`], only when the key
    /// could never have them (more than its share).
    pub async fn take(&self, key: K, units: u64) -> std::result::Result<Share<K>, Full> {
        let (id, served) = {
            let mut state = self.inner.lock();
            match self.inner.check(&state, key, units) {
                Ok(()) => {
                    state.grant(key, units);
                    return Ok(self.share(key, units));
                }
                Err(Full::Key) if units > self.inner.share => return Err(Full::Key),
                Err(_) => {}
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            let id = state.next_id;
            state.next_id = state.next_id.wrapping_add(1);
            state.waiting.push(Waiter {
                id,
                key,
                units,
                served: tx,
            });
            (id, rx)
        };
        let mut waiting = Waiting {
            inner: &self.inner,
            id,
            key,
            units,
            served,
            done: false,
        };
        // The sender lives in the queue until it serves this taker, and `Waiting`
        // leaves the queue before its receiver is dropped: it cannot close unserved.
        let served = (&mut waiting.served).await;
        waiting.done = true;
        match served {
            Ok(()) => Ok(self.share(key, units)),
            Err(_) => Err(Full::Total),
        }
    }

    fn share(&self, key: K, units: u64) -> Share<K> {
        Share {
            inner: Arc::clone(&self.inner),
            key,
            units,
        }
    }

    /// Units taken in total.
    pub fn taken(&self) -> u64 {
        self.inner.total - self.inner.lock().free
    }

    pub fn total(&self) -> u64 {
        self.inner.total
    }
}

impl<K: Hash + Eq + Copy> FairInner<K> {
    fn lock(&self) -> std::sync::MutexGuard<'_, FairState<K>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `key` may have `units` now (the rules of [`Fair`]).
    fn check(&self, state: &FairState<K>, key: K, units: u64) -> std::result::Result<(), Full> {
        let held = state.held.get(&key).copied().unwrap_or(0);
        if held.saturating_add(units) > self.share {
            return Err(Full::Key);
        }
        if units > state.free || (held > 0 && state.free - units < self.reserve) {
            return Err(Full::Total);
        }
        Ok(())
    }

    /// Serves the waiters that may be served now, least-holding key first.
    fn serve(&self, state: &mut FairState<K>) {
        loop {
            let next = state
                .waiting
                .iter()
                .enumerate()
                .filter(|(_, w)| self.check(state, w.key, w.units).is_ok())
                .min_by_key(|(_, w)| (state.held.get(&w.key).copied().unwrap_or(0), w.id))
                .map(|(i, _)| i);
            let Some(i) = next else { return };
            let waiter = state.waiting.remove(i);
            state.grant(waiter.key, waiter.units);
            // The receiver is alive: `Waiting` takes itself out of the queue first.
            let _ = waiter.served.send(());
        }
    }

    fn give_back(&self, state: &mut FairState<K>, key: K, units: u64) {
        state.free = (state.free + units).min(self.total);
        if let Some(held) = state.held.get_mut(&key) {
            *held = held.saturating_sub(units);
            if *held == 0 {
                state.held.remove(&key);
            }
        }
        self.serve(state);
    }
}

impl<K: Hash + Eq + Copy> FairState<K> {
    fn grant(&mut self, key: K, units: u64) {
        self.free -= units;
        *self.held.entry(key).or_insert(0) += units;
    }
}

/// A taker in [`Fair`]'s queue.
struct Waiting<'a, K: Hash + Eq + Copy> {
    inner: &'a FairInner<K>,
    id: u64,
    key: K,
    units: u64,
    served: tokio::sync::oneshot::Receiver<()>,
    /// The outcome was seen (and a grant became a [`Share`]).
    done: bool,
}

impl<K: Hash + Eq + Copy> Drop for Waiting<'_, K> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut state = self.inner.lock();
        match state.waiting.iter().position(|w| w.id == self.id) {
            Some(i) => drop(state.waiting.remove(i)),
            // Served, but dropped before it saw it: the units come back.
            None => self.inner.give_back(&mut state, self.key, self.units),
        }
    }
}

impl<K: Hash + Eq + Copy + Send + 'static> Drop for Share<K> {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        self.inner.give_back(&mut state, self.key, self.units);
    }
}

/// The signers that authenticated from each address recently, as devices some circle's
/// log knows. An address whose failed authentications emptied its bucket is refused
/// everything else, but still served for these signers (their requests are checked as
/// usual), so one bad signer behind a NAT cannot lock out the NAT's honest members.
///
/// Bounded: at most [`VOUCHED_PER_ADDRESS`] signers per address (the one seen longest
/// ago makes room), at most [`VOUCHED_ADDRESSES`] addresses (beyond, a new address is
/// not remembered until older ones expire); entries expire after `ttl`.
pub struct Vouched {
    ttl: Duration,
    inner: Mutex<VouchedInner>,
}

struct VouchedInner {
    by_address: HashMap<AddrKey, Vec<([u8; 32], Instant)>>,
    notes: u32,
}

/// Signers remembered per address: a household's or a care team's devices behind one
/// NAT, with room to spare.
pub const VOUCHED_PER_ADDRESS: usize = 64;
/// Addresses remembered in all.
pub const VOUCHED_ADDRESSES: usize = 65_536;

impl Vouched {
    pub fn new(ttl: Duration) -> Self {
        Vouched {
            ttl,
            inner: Mutex::new(VouchedInner {
                by_address: HashMap::new(),
                notes: 0,
            }),
        }
    }

    /// `signer` authenticated from `address` at `now`.
    pub fn note(&self, address: AddrKey, signer: [u8; 32], now: Instant) {
        let ttl = self.ttl;
        let fresh = |at: &Instant| now.saturating_duration_since(*at) < ttl;
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.notes = inner.notes.wrapping_add(1);
        if inner.notes.is_multiple_of(SWEEP_EVERY) || inner.by_address.len() >= VOUCHED_ADDRESSES {
            inner.by_address.retain(|_, signers| {
                signers.retain(|(_, at)| fresh(at));
                !signers.is_empty()
            });
        }
        if inner.by_address.len() >= VOUCHED_ADDRESSES && !inner.by_address.contains_key(&address) {
            return;
        }
        let signers = inner.by_address.entry(address).or_default();
        match signers.iter_mut().find(|(known, _)| *known == signer) {
            Some((_, at)) => *at = now,
            None => {
                if signers.len() >= VOUCHED_PER_ADDRESS {
                    if let Some(oldest) = signers
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, (_, at))| *at)
                        .map(|(i, _)| i)
                    {
                        signers.swap_remove(oldest);
                    }
                }
                signers.push((signer, now));
            }
        }
    }

    /// Whether `signer` authenticated from `address` within the last `ttl`.
    pub fn contains(&self, address: &AddrKey, signer: &[u8; 32], now: Instant) -> bool {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.by_address.get(address).is_some_and(|signers| {
            signers
                .iter()
                .any(|(known, at)| known == signer && now.saturating_duration_since(*at) < self.ttl)
        })
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
    fn a_key_holding_some_never_takes_the_reserve() {
        let fair = Fair::new(4, 4, 1);
        let a: Vec<_> = (0..3).map(|_| fair.try_take('a', 1).expect("a")).collect();
        assert_eq!(fair.try_take('a', 1).err(), Some(Full::Total));
        let b = fair
            .try_take('b', 1)
            .expect("the last permit goes to a new key");
        assert_eq!(fair.try_take('c', 1).err(), Some(Full::Total));
        drop(b);
        assert_eq!(fair.taken(), 3);
        drop(a);
        assert_eq!(fair.taken(), 0);
    }

    #[test]
    fn a_key_holds_at_most_its_share() {
        let fair = Fair::new(100, 30, 10);
        let _a = fair.try_take('a', 20).expect("a");
        assert_eq!(fair.try_take('a', 11).err(), Some(Full::Key));
        let _a2 = fair.try_take('a', 10).expect("up to the share");
        assert_eq!(fair.try_take('z', 101).err(), Some(Full::Key));
    }

    #[tokio::test]
    async fn waiters_are_served_least_holding_key_first_and_may_leave() {
        let fair = Arc::new(Fair::new(4, 4, 1));
        let held: Vec<_> = (0..3).map(|_| fair.try_take('a', 1).expect("a")).collect();
        let b_first = fair.try_take('b', 1).expect("b");
        // 'a' waits (it holds some, only the reserve is free): queued first.
        let a_waits = tokio::spawn({
            let fair = Arc::clone(&fair);
            async move { fair.take('a', 1).await.map(drop) }
        });
        tokio::task::yield_now().await;
        let c_waits = tokio::spawn({
            let fair = Arc::clone(&fair);
            async move { fair.take('c', 1).await }
        });
        // A taker that gives up leaves the queue.
        let gave_up = tokio::time::timeout(Duration::from_millis(10), fair.take('d', 1)).await;
        assert!(gave_up.is_err());
        drop(b_first);
        // 'c' holds nothing, 'a' three: 'c' is served though it came later.
        let c = c_waits.await.expect("task").expect("c served");
        assert!(!a_waits.is_finished());
        drop(c);
        drop(held);
        a_waits.await.expect("task").expect("a served in the end");
        assert_eq!(fair.taken(), 0);
    }

    #[test]
    fn vouched_signers_are_per_address_bounded_and_expire() {
        let vouched = Vouched::new(Duration::from_secs(60));
        let nat = AddrKey::of("192.0.2.1".parse().expect("ip"));
        let other = AddrKey::of("192.0.2.2".parse().expect("ip"));
        let t0 = Instant::now();
        vouched.note(nat, [1; 32], t0);
        assert!(vouched.contains(&nat, &[1; 32], t0));
        assert!(
            !vouched.contains(&other, &[1; 32], t0),
            "only where it authenticated"
        );
        assert!(!vouched.contains(&nat, &[1; 32], t0 + Duration::from_secs(61)));
        for i in 0..VOUCHED_PER_ADDRESS as u8 {
            vouched.note(nat, [i + 2; 32], t0 + Duration::from_secs(1));
        }
        assert!(
            !vouched.contains(&nat, &[1; 32], t0),
            "the oldest made room"
        );
        assert!(vouched.contains(&nat, &[2; 32], t0 + Duration::from_secs(1)));
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
