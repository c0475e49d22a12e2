//! Who is woken, with what, and how often: pure functions of the membership state,
//! the stored subscriptions and the time (given, never read), so every rule here is
//! tested without a network. [`sender`](super::sender) is the IO around them.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kring_trust::identity::DeviceId;
use kring_trust::ids::CircleId;
use kring_trust::membership::MembershipState;
use kring_trust::wake_up::PushWakeUp;

use super::subscription::Subscription;
use crate::store::CircleKey;

/// One push to send: wake `device` for `circle`, whose newest cursor is `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wakeup {
    pub circle: CircleId,
    pub circle_key: CircleKey,
    pub device: DeviceId,
    pub subscription: Subscription,
    pub cursor: u64,
}

/// The outcome of [`recipients`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recipients {
    /// Subscribed devices to wake.
    pub wake: Vec<(DeviceId, Subscription)>,
    /// Subscribed devices that are no longer active in the circle: their
    /// subscriptions are to be deleted (removal deletes them too; this catches any
    /// left behind).
    pub stale: Vec<DeviceId>,
}

/// Whom to wake when `author` stored envelopes or a membership entry in a circle:
/// every subscribed device that is active in `state` (readers included: they read),
/// except the author, who knows already.
pub fn recipients(
    state: &MembershipState,
    author: &DeviceId,
    subscribed: Vec<(DeviceId, Subscription)>,
) -> Recipients {
    let mut out = Recipients::default();
    for (device, subscription) in subscribed {
        if !state.is_active(&device) {
            out.stale.push(device);
        } else if device != *author {
            out.wake.push((device, subscription));
        }
    }
    out
}

/// The plaintext of a push, before RFC 8291 encryption: the circle and its cursor,
/// nothing else (`docs/push.md`).
pub fn payload(circle: &CircleId, cursor: u64) -> Vec<u8> {
    PushWakeUp::new(circle.clone(), cursor).to_bytes()
}

/// The RFC 8030 `Topic` of a device's wake-ups for one circle: a push service keeps
/// only the newest undelivered push of a topic, so a phone that was off gets one
/// wake-up per circle, not a backlog. Derived from the subscription's secret, which
/// the push service does not know, so topics cannot link two devices of one circle.
/// 32 base64url characters (the most RFC 8030 allows).
pub fn topic(subscription: &Subscription, circle: &CircleId) -> String {
    let mut hasher = blake3::Hasher::new_derive_key("kring push topic v1");
    hasher.update(&subscription.auth);
    hasher.update(circle.as_str().as_bytes());
    URL_SAFE_NO_PAD.encode(&hasher.finalize().as_bytes()[..24])
}

/// What a push service's answer means for the subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (201 usually).
    Delivered,
    /// The subscription no longer exists (404, 410): delete it.
    Gone,
    /// Anything else (rate limited, refused, failing): counted, not retried; the
    /// next change sends a new wake-up and the app syncs on opening anyway.
    Failed,
}

pub fn classify(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        404 | 410 => Outcome::Gone,
        _ => Outcome::Failed,
    }
}

type Key = (DeviceId, CircleKey);

/// At most one push per device and circle per `interval`. The first wake-up goes out
/// at once; later ones within the interval wait and merge into one (the newest
/// cursor), sent when the interval is over. So a busy circle costs a device one push
/// per interval, and the last change is never left without a push.
///
/// Bounded: at most `max_keys` devices and circles are remembered; beyond that, new
/// ones are [`Offer::Dropped`] (counted by the caller) until old ones age out.
#[derive(Debug)]
pub struct Coalescer {
    interval: Duration,
    max_keys: usize,
    keys: HashMap<Key, Slot>,
    /// Keys with a waiting wake-up, by when it is due.
    waiting: BTreeSet<(Instant, Key)>,
}

#[derive(Debug)]
struct Slot {
    last_sent: Instant,
    waiting: Option<Wakeup>,
}

/// What became of an offered wake-up.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer {
    /// Send it now.
    Now(Wakeup),
    /// Merged into one that goes out when the interval is over.
    Deferred,
    /// Too many devices and circles remembered: not sent.
    Dropped,
}

impl Coalescer {
    pub fn new(interval: Duration, max_keys: usize) -> Self {
        Coalescer {
            interval,
            max_keys: max_keys.max(1),
            keys: HashMap::new(),
            waiting: BTreeSet::new(),
        }
    }

    pub fn offer(&mut self, wakeup: Wakeup, now: Instant) -> Offer {
        let key = (wakeup.device, wakeup.circle_key);
        if !self.keys.contains_key(&key) && self.keys.len() >= self.max_keys {
            self.forget_idle(now);
            if self.keys.len() >= self.max_keys {
                return Offer::Dropped;
            }
        }
        let interval = self.interval;
        match self.keys.get_mut(&key) {
            Some(slot) if now < slot.last_sent + interval => {
                match &mut slot.waiting {
                    Some(waiting) => {
                        waiting.cursor = waiting.cursor.max(wakeup.cursor);
                        waiting.subscription = wakeup.subscription;
                    }
                    None => {
                        self.waiting.insert((slot.last_sent + interval, key));
                        slot.waiting = Some(wakeup);
                    }
                }
                Offer::Deferred
            }
            Some(slot) => {
                // Past the interval, a slot has nothing waiting (`due` sent it).
                slot.last_sent = now;
                Offer::Now(wakeup)
            }
            None => {
                self.keys.insert(
                    key,
                    Slot {
                        last_sent: now,
                        waiting: None,
                    },
                );
                Offer::Now(wakeup)
            }
        }
    }

    /// The waiting wake-ups whose interval is over, to send now.
    pub fn due(&mut self, now: Instant) -> Vec<Wakeup> {
        let mut out = Vec::new();
        while let Some(&(at, key)) = self.waiting.first() {
            if at > now {
                break;
            }
            self.waiting.pop_first();
            if let Some(slot) = self.keys.get_mut(&key) {
                if let Some(wakeup) = slot.waiting.take() {
                    slot.last_sent = now;
                    out.push(wakeup);
                }
            }
        }
        out
    }

    /// When the next waiting wake-up is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.waiting.first().map(|(at, _)| *at)
    }

    /// Devices and circles remembered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Forgets keys whose interval is over and that have nothing waiting.
    pub fn forget_idle(&mut self, now: Instant) {
        let interval = self.interval;
        self.keys
            .retain(|_, slot| slot.waiting.is_some() || now < slot.last_sent + interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kring_trust::identity::DeviceIdentity;
    use kring_trust::ids::MemberId;
    use kring_trust::Timestamp;

    fn subscription(n: u8) -> Subscription {
        Subscription {
            endpoint: format!("https://push.example.net/{n}"),
            p256dh: vec![4; 65],
            auth: vec![n; 16],
        }
    }

    fn wakeup(device: DeviceId, circle: i64, cursor: u64) -> Wakeup {
        Wakeup {
            circle: CircleId::random(),
            circle_key: CircleKey(circle),
            device,
            subscription: subscription(1),
            cursor,
        }
    }

    #[test]
    fn everyone_subscribed_and_active_is_woken_but_the_author() {
        let owner = DeviceIdentity::generate();
        let (_, state) =
            MembershipState::create_circle(&owner, MemberId::random(), Timestamp::now())
                .expect("genesis");
        let stranger = DeviceIdentity::generate().id();
        let subscribed = vec![(owner.id(), subscription(1)), (stranger, subscription(2))];
        let out = recipients(&state, &owner.id(), subscribed.clone());
        assert_eq!(out.wake, vec![]);
        assert_eq!(out.stale, vec![stranger]);
        let out = recipients(&state, &stranger, subscribed);
        assert_eq!(out.wake, vec![(owner.id(), subscription(1))]);
    }

    #[test]
    fn the_payload_is_the_circle_and_cursor_only() {
        let circle = CircleId::random();
        let json: serde_json::Value = serde_json::from_slice(&payload(&circle, 42)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"v": 1, "circle": circle.to_string(), "cursor": 42})
        );
    }

    #[test]
    fn topics_fit_rfc_8030_and_differ_per_device() {
        let circle = CircleId::random();
        let a = topic(&subscription(1), &circle);
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(a, topic(&subscription(2), &circle));
        assert_eq!(a, topic(&subscription(1), &circle));
    }

    #[test]
    fn gone_subscriptions_are_told_apart_from_failures() {
        assert_eq!(classify(201), Outcome::Delivered);
        assert_eq!(classify(404), Outcome::Gone);
        assert_eq!(classify(410), Outcome::Gone);
        for status in [400, 401, 403, 413, 429, 500, 503] {
            assert_eq!(classify(status), Outcome::Failed, "{status}");
        }
    }

    #[test]
    fn a_busy_circle_sends_one_push_per_interval_with_the_newest_cursor() {
        let device = DeviceIdentity::generate().id();
        let mut c = Coalescer::new(Duration::from_secs(2), 100);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert!(matches!(c.offer(wakeup(device, 1, 1), t0), Offer::Now(w) if w.cursor == 1));
        for (i, cursor) in [2, 5, 4].into_iter().enumerate() {
            let at = t0 + ms(100 * (i as u64 + 1));
            assert_eq!(c.offer(wakeup(device, 1, cursor), at), Offer::Deferred);
        }
        assert_eq!(c.next_due(), Some(t0 + ms(2000)));
        assert!(c.due(t0 + ms(1999)).is_empty());
        let due = c.due(t0 + ms(2000));
        assert_eq!(due.iter().map(|w| w.cursor).collect::<Vec<_>>(), vec![5]);
        assert!(c.due(t0 + ms(9000)).is_empty(), "sent once");
        // The interval restarts at that push.
        assert_eq!(
            c.offer(wakeup(device, 1, 6), t0 + ms(3000)),
            Offer::Deferred
        );
        assert!(
            matches!(c.offer(wakeup(device, 2, 1), t0 + ms(3000)), Offer::Now(_)),
            "another circle is another key"
        );
        assert_eq!(c.due(t0 + ms(4000)).len(), 1);
        // A quiet key sends at once again.
        c.forget_idle(t0 + ms(10_000));
        assert!(c.is_empty());
        assert!(matches!(
            c.offer(wakeup(device, 1, 7), t0 + ms(10_000)),
            Offer::Now(_)
        ));
    }

    #[test]
    fn the_coalescer_remembers_a_bounded_number_of_keys() {
        let mut c = Coalescer::new(Duration::from_secs(2), 3);
        let t0 = Instant::now();
        let devices: Vec<DeviceId> = (0..4).map(|_| DeviceIdentity::generate().id()).collect();
        for d in &devices[..3] {
            assert!(matches!(c.offer(wakeup(*d, 1, 1), t0), Offer::Now(_)));
        }
        assert_eq!(c.offer(wakeup(devices[3], 1, 1), t0), Offer::Dropped);
        assert_eq!(c.len(), 3);
        // Once the others are idle, there is room again.
        let later = t0 + Duration::from_secs(3);
        assert!(matches!(
            c.offer(wakeup(devices[3], 1, 1), later),
            Offer::Now(_)
        ));
        assert_eq!(c.len(), 1);
    }
}
