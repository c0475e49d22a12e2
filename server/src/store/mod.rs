//! Storage of circles, membership logs and envelopes.
//!
//! [`RelayStore`] is what the API needs from storage; [`sqlite::SqliteStore`] is the
//! embedded implementation (one relay process owns one file), [`postgres::PostgresStore`]
//! the one several relay processes share (`docs/relay.md`, "Several relays on
//! PostgreSQL"). The rules a push must obey live once, store-agnostic, in [`push`]: a
//! backend only provides the transaction ([`push::PushTx`]).
//!
//! Stored bytes are exactly what clients sent and signed; the store never interprets
//! them beyond the few columns it indexes.

pub mod migrate;
pub mod postgres;
pub mod push;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::Result;
use kring_trust::envelope::VerifiedEnvelope;
use kring_trust::identity::DeviceId;
use kring_trust::ids::CircleId;
use kring_trust::membership::{MembershipState, SignedEntry};
use kring_trust::Timestamp;

use crate::push::Subscription;

/// A storage backend's own key for a circle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CircleKey(pub i64);

/// A circle as stored: its key, its membership log (entry bytes in order) and the
/// newest envelope cursor.
#[derive(Debug, Clone)]
pub struct StoredCircle {
    pub key: CircleKey,
    pub log: Vec<Vec<u8>>,
    pub latest: u64,
}

/// The admission credential a circle is created under (`credential` mode): its id and
/// how many circles it allows. The store counts the circles created with it inside
/// the transaction that creates one, serialised per credential, so creations sent at
/// once cannot together exceed it ([`Admitted::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub credential: String,
    pub max_circles: u64,
}

impl Admitted {
    /// Refuses (507 `quota_exceeded`) when `created` circles already use the credential:
    /// the one rule, for the relay's early check and each store's transaction.
    pub fn check(&self, created: u64) -> std::result::Result<(), kring_trust::Error> {
        if created >= self.max_circles {
            return Err(kring_trust::Error::QuotaExceeded {
                what: "circles for this admission credential",
                limit: self.max_circles,
            });
        }
        Ok(())
    }
}

/// An envelope checked by [`kring_trust::envelope::verify`], with its exact bytes.
#[derive(Debug, Clone)]
pub struct NewEnvelope {
    pub bytes: Vec<u8>,
    pub verified: VerifiedEnvelope,
}

/// The result of a committed push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// One cursor per envelope, in order (a repeat gets its original cursor).
    pub cursors: Vec<u64>,
    /// The circle's newest cursor after the push.
    pub latest: u64,
    /// How many envelopes were new.
    pub stored: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledPage {
    /// `(cursor, bytes)` in cursor order.
    pub envelopes: Vec<(u64, Vec<u8>)>,
    pub latest: u64,
    pub more: bool,
    /// When something was last stored in the circle (for the retention warning).
    pub active_at: Timestamp,
}

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// What another relay process sharing the store just committed (delivered in commit
/// order). A process acts on notices for the circles it holds in memory: it reads the
/// stored data itself, so a notice carries positions, never content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Envelopes were stored in the circle, up to cursor `latest`.
    Stored {
        circle: CircleId,
        latest: u64,
        /// When the writer committed (for the notification lag metric).
        at: Timestamp,
    },
    /// The membership log grew to `len` entries.
    Appended {
        circle: CircleId,
        len: u64,
        at: Timestamp,
    },
    /// The circle was closed (by its owner or the retention period).
    Closed { circle: CircleId },
    /// Notices may have been missed (the listening connection was lost and is back):
    /// every circle in memory must be read again.
    Resync,
}

/// Whether a relay process is the only writer of its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// One process owns the store (SQLite): what it holds in memory is the truth.
    Alone,
    /// Other processes write the same store: what a process holds in memory may be
    /// behind, and is checked against the store where a decision depends on it.
    Shared,
}

/// What the relay needs from storage. Every write resolves only after it is durable
/// (committed and synced); every `Err` leaves the store unchanged.
pub trait RelayStore: Send + Sync + 'static {
    /// Whether other relay processes write this store too.
    fn sharing(&self) -> Sharing {
        Sharing::Alone
    }

    /// What other relay processes commit, for a store that is [`Sharing::Shared`]
    /// (`None` for one that is not). Taken once, by the relay that serves the store.
    fn notices(&self) -> Option<tokio::sync::mpsc::Receiver<Notice>> {
        None
    }

    /// The circle's membership log length as stored (`Error::CircleClosed` if it was
    /// closed): how a process sharing the store sees that another appended.
    fn log_len(&self, circle: CircleKey) -> StoreFuture<'_, u64>;

    /// Connections open and idle, for a store that pools them (`/metrics`).
    fn connections(&self) -> Option<(usize, usize)> {
        None
    }

    /// Whether the database answers (`/healthz`).
    fn check(&self) -> StoreFuture<'_, ()>;

    /// Stores a new circle founded by `genesis` (already validated), admitted with
    /// the credential `admission` if the relay requires one (`Error::QuotaExceeded`
    /// when its circles are used up, counted in the same transaction).
    /// `Error::CircleExists` if the id is taken, `Error::CircleClosed` if a circle of
    /// that id was closed (its tombstone keeps the id).
    fn create_circle(
        &self,
        circle: CircleId,
        genesis: SignedEntry,
        admission: Option<Admitted>,
    ) -> StoreFuture<'_, CircleKey>;

    /// Deletes the circle's envelopes and membership log, keeping only a tombstone
    /// (its id and when it was closed). `judged_at` is the log length the request was
    /// judged against: a shared store refuses with [`crate::Error::LogMoved`] if the
    /// log moved since (the owner's device may have been removed through another
    /// process).
    fn close_circle(&self, circle: CircleKey, judged_at: u64) -> StoreFuture<'_, ()>;

    /// Closes the circle as [`RelayStore::close_circle`] does, but only if nothing
    /// was stored in it since `before` (the retention period; a push that came in
    /// meanwhile wins). `true` if it was closed.
    fn close_inactive(&self, circle: CircleKey, before: Timestamp) -> StoreFuture<'_, bool>;

    /// Open circles in which nothing was stored since `before`, oldest first.
    fn inactive_circles(&self, before: Timestamp) -> StoreFuture<'_, Vec<(CircleId, CircleKey)>>;

    /// Records an admission credential as revoked; `false` if it already was.
    fn revoke_admission(&self, credential: String) -> StoreFuture<'_, bool>;

    /// Whether the credential is revoked, and how many circles were created with it.
    fn admission_state(&self, credential: String) -> StoreFuture<'_, (bool, u64)>;

    /// The circle, `None` if it does not exist, `Error::CircleClosed` if it was closed.
    fn load_circle(&self, circle: CircleId) -> StoreFuture<'_, Option<StoredCircle>>;

    /// Appends `entry` (validated at the head by the caller, who serialises appends per
    /// circle) at position `entry.seq()`. A shared store refuses with
    /// [`crate::Error::LogMoved`] if its log is no longer at that position, and checks
    /// the entry's write cut-offs against what is stored in the same transaction.
    fn append_entry(&self, circle: CircleKey, entry: SignedEntry) -> StoreFuture<'_, ()>;

    /// The log's entries from position `from` on.
    fn entries_from(&self, circle: CircleKey, from: u64) -> StoreFuture<'_, Vec<Vec<u8>>>;

    /// Stores a batch all-or-nothing under [`push::apply_push`]'s rules, judged against
    /// `state` (the caller keeps the membership log from moving meanwhile; a shared
    /// store refuses with [`crate::Error::LogMoved`] if its log is longer than `state`).
    fn push(
        &self,
        circle: CircleKey,
        state: Arc<MembershipState>,
        batch: Vec<NewEnvelope>,
        quotas: push::Quotas,
    ) -> StoreFuture<'_, PushOutcome>;

    /// The highest `device_seq` stored for each of `devices` that has any envelope.
    fn last_seqs(
        &self,
        circle: CircleKey,
        devices: Vec<DeviceId>,
    ) -> StoreFuture<'_, Vec<(DeviceId, u64)>>;

    /// Up to `limit` envelopes with cursor > `after`, stopping before the envelope that
    /// would take the page past `budget` bytes (the first envelope is always included,
    /// so a page is never empty while there is more).
    fn pull(
        &self,
        circle: CircleKey,
        after: u64,
        limit: u32,
        budget: usize,
    ) -> StoreFuture<'_, PulledPage>;

    /// Stores `device`'s push subscription for the circle, replacing its earlier one
    /// there (`Error::CircleClosed` for a closed circle). A shared store refuses with
    /// [`crate::Error::LogMoved`] if the log is no longer `judged_at` entries long: a
    /// device removed through another process must not get its subscription back.
    fn put_push_subscription(
        &self,
        circle: CircleKey,
        judged_at: u64,
        device: DeviceId,
        subscription: Subscription,
    ) -> StoreFuture<'_, ()>;

    /// Deletes the push subscriptions of `devices` in the circle (only one with
    /// this endpoint, if `endpoint` is given: a push service said it is gone, and a
    /// newer registration must survive that). Returns how many were deleted.
    fn delete_push_subscriptions(
        &self,
        circle: CircleKey,
        devices: Vec<DeviceId>,
        endpoint: Option<String>,
    ) -> StoreFuture<'_, u64>;

    /// Every push subscription of the circle, with its device.
    fn push_subscriptions(
        &self,
        circle: CircleKey,
    ) -> StoreFuture<'_, Vec<(DeviceId, Subscription)>>;

    /// The relay's own secret `name` (its VAPID key), stored as `generated` if there
    /// is none yet: generated once, then the same on every start.
    /// Keeps a snapshot (already verified) covering `covers` unless the stored one
    /// covers as much; `true` when kept. Refused if `covers` is past the newest cursor,
    /// and by a shared store with [`crate::Error::LogMoved`] if the log is no longer
    /// `judged_at` entries long (a removal through another process re-keyed the circle,
    /// and a snapshot under the old key must not land after it).
    fn put_snapshot(
        &self,
        circle: CircleKey,
        judged_at: u64,
        covers: u64,
        bytes: Vec<u8>,
    ) -> StoreFuture<'_, bool>;

    /// The circle's newest snapshot, as uploaded.
    fn snapshot(&self, circle: CircleKey) -> StoreFuture<'_, Option<Vec<u8>>>;

    fn relay_secret(&self, name: &'static str, generated: Vec<u8>) -> StoreFuture<'_, Vec<u8>>;

    /// Finishes pending writes and stops taking new ones.
    fn close(&self) -> StoreFuture<'_, ()>;
}

/// A stored envelope hash (32 bytes), as both backends read it back.
fn to_hash(bytes: Vec<u8>) -> Result<kring_trust::envelope::EnvelopeHash> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| crate::error::internal("a stored envelope hash is not 32 bytes"))?;
    Ok(kring_trust::envelope::EnvelopeHash::from_bytes(bytes))
}

/// Cursors, positions and sequence numbers are stored as 64-bit signed integers by
/// both backends.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
