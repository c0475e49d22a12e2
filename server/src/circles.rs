//! The relay's in-memory view of each circle it has served: the validated membership
//! state (so envelope checks do not re-validate the log) and the live positions that
//! WebSocket subscribers watch.
//!
//! A circle is loaded from the store and validated with `MembershipState::from_log` on
//! first use, then kept current by the appends that go through this relay. The cache
//! is bounded: beyond its capacity the least recently used circles that nobody holds
//! (no request in flight, no live socket) are dropped and re-read when next used.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use kring_trust::ids::CircleId;
use kring_trust::membership::{MembershipState, SignedEntry};
use kring_trust::{Error, Result};
use tokio::sync::{watch, RwLock};

use crate::error::internal;
use crate::store::{CircleKey, RelayStore};
use crate::stream::Stream;

/// Where a circle's membership stands, as live subscribers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHeads {
    /// Membership log length.
    pub len: u64,
    /// The owner closed the circle: subscribers close their sockets.
    pub closed: bool,
}

pub struct CircleSlot {
    pub id: CircleId,
    pub key: CircleKey,
    /// The membership state at the log's head. Readers (pushes, reads, pulls) hold the
    /// read lock while they act on it; an append holds the write lock until its entry
    /// is committed, so no envelope is ever stored against a state that has moved on.
    pub state: RwLock<Arc<MembershipState>>,
    /// The newest envelope cursor. Watched by sockets that get notices; a streaming
    /// socket gets the envelopes themselves from [`Self::stream`] and is not woken
    /// twice per envelope.
    pub cursor: watch::Sender<u64>,
    /// The log's length and whether the circle was closed: every live socket watches
    /// it (a removal closes the removed device's sockets).
    pub log: watch::Sender<LogHeads>,
    /// The stored data itself, for sockets that stream it (see [`crate::stream`]).
    pub stream: Arc<Stream>,
    /// The cache's clock when the slot was last handed out (for eviction).
    used: AtomicU64,
}

impl CircleSlot {
    fn new(id: CircleId, key: CircleKey, state: MembershipState, latest: u64) -> Self {
        let log = watch::Sender::new(LogHeads {
            len: state.len(),
            closed: false,
        });
        Self {
            stream: Arc::new(Stream::new(id.clone(), latest)),
            id,
            key,
            state: RwLock::new(Arc::new(state)),
            cursor: watch::Sender::new(latest),
            log,
            used: AtomicU64::new(0),
        }
    }

    /// The newest envelope cursor.
    pub fn latest(&self) -> u64 {
        *self.cursor.borrow()
    }

    /// Records a newer cursor for subscribers (never moves back).
    pub fn stored_up_to(&self, latest: u64) {
        self.cursor.send_if_modified(|cursor| {
            let newer = latest > *cursor;
            if newer {
                *cursor = latest;
            }
            newer
        });
    }

    /// Whether the owner closed the circle (a request that got the slot before the
    /// close must not act on it after).
    pub fn is_closed(&self) -> bool {
        self.log.borrow().closed
    }

    /// Refuses with `circle_closed` if the circle was closed.
    pub fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            Err(Error::CircleClosed(self.id.to_string()))
        } else {
            Ok(())
        }
    }

    /// Tells subscribers the circle was closed.
    pub fn closed(&self) {
        self.log.send_modify(|log| log.closed = true);
    }

    pub fn log_grew_to(&self, len: u64) {
        self.log.send_if_modified(|log| {
            let longer = len > log.len;
            if longer {
                log.len = len;
            }
            longer
        });
    }
}

pub struct Circles {
    slots: Mutex<HashMap<CircleId, Arc<CircleSlot>>>,
    capacity: usize,
    clock: AtomicU64,
}

impl Circles {
    /// A cache of at most about `capacity` circles (more only while more are in use).
    pub fn new(capacity: usize) -> Self {
        Circles {
            slots: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            clock: AtomicU64::new(0),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<CircleId, Arc<CircleSlot>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn touch(&self, slot: &CircleSlot) {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        slot.used.store(now, Ordering::Relaxed);
    }

    fn cached(&self, id: &CircleId) -> Option<Arc<CircleSlot>> {
        let slot = self.slots().get(id).cloned()?;
        self.touch(&slot);
        Some(slot)
    }

    /// Forgets a circle (it was closed): later requests read its tombstone.
    pub fn forget(&self, id: &CircleId) {
        self.slots().remove(id);
    }

    /// Forgets a circle and hands back its slot, if it was in memory.
    pub fn take(&self, id: &CircleId) -> Option<Arc<CircleSlot>> {
        self.slots().remove(id)
    }

    /// Number of circles in memory.
    pub fn len(&self) -> usize {
        self.slots().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The circle, loaded and validated on first use. `UnknownCircle` if not stored.
    pub async fn get(&self, store: &dyn RelayStore, id: &CircleId) -> Result<Arc<CircleSlot>> {
        if let Some(slot) = self.cached(id) {
            return Ok(slot);
        }
        let stored = store
            .load_circle(id.clone())
            .await?
            .ok_or_else(|| Error::UnknownCircle(id.to_string()))?;
        let log = stored.log;
        let state = tokio::task::spawn_blocking(move || {
            let entries = log
                .iter()
                .map(|bytes| SignedEntry::from_bytes(bytes))
                .collect::<Result<Vec<_>>>()?;
            MembershipState::from_log(&entries)
        })
        .await
        .map_err(|e| internal(format!("loading a circle: {e}")))?
        .map_err(|e| {
            tracing::error!(circle = %id, error = %e, "stored membership log does not validate");
            internal(format!(
                "stored membership log of {id} does not validate: {e}"
            ))
        })?;
        if state.circle() != id {
            return Err(internal(format!(
                "stored log of {id} founds another circle"
            )));
        }
        let slot = Arc::new(CircleSlot::new(
            id.clone(),
            stored.key,
            state,
            stored.latest,
        ));
        Ok(self.insert(slot))
    }

    /// Brings the slot's membership state up to the stored log, which another relay
    /// process sharing the store may have extended: the new entries are validated and
    /// applied in order, streamed and announced as if appended here. Returns the state
    /// now at the head.
    pub async fn catch_up(
        &self,
        store: &dyn RelayStore,
        slot: &CircleSlot,
    ) -> Result<Arc<MembershipState>> {
        let mut state = slot.state.write().await;
        let entries = store.entries_from(slot.key, state.len()).await?;
        if entries.is_empty() {
            return Ok(Arc::clone(&state));
        }
        // Every entry is validated before any is streamed: a bad one leaves the state
        // and the subscribers as they were.
        let mut next = MembershipState::clone(&state);
        let mut positions = Vec::with_capacity(entries.len());
        for bytes in &entries {
            let entry = SignedEntry::from_bytes(bytes)?;
            let position = entry.seq();
            next.apply_mut(&entry).map_err(|e| {
                tracing::error!(circle = %slot.id, error = %e, "a stored entry does not validate");
                internal(format!(
                    "stored entry {position} of {} does not validate: {e}",
                    slot.id
                ))
            })?;
            positions.push(position);
        }
        for (position, bytes) in positions.into_iter().zip(&entries) {
            slot.stream.appended(position, bytes);
        }
        *state = Arc::new(next);
        let after = Arc::clone(&state);
        drop(state);
        slot.log_grew_to(after.len());
        Ok(after)
    }

    /// The circle if this process holds it in memory (nothing is read).
    pub fn in_memory(&self, id: &CircleId) -> Option<Arc<CircleSlot>> {
        self.slots().get(id).cloned()
    }

    /// Every circle held in memory.
    pub fn all_in_memory(&self) -> Vec<Arc<CircleSlot>> {
        self.slots().values().cloned().collect()
    }

    /// Adds a just-created circle.
    pub fn created(&self, id: CircleId, key: CircleKey, state: MembershipState) -> Arc<CircleSlot> {
        self.insert(Arc::new(CircleSlot::new(id, key, state, 0)))
    }

    /// Keeps the slot already there if two loads raced (it may have moved on since).
    fn insert(&self, slot: Arc<CircleSlot>) -> Arc<CircleSlot> {
        self.touch(&slot);
        let mut slots = self.slots();
        let kept = Arc::clone(slots.entry(slot.id.clone()).or_insert(slot));
        if slots.len() > self.capacity {
            Self::evict(&mut slots, self.capacity);
        }
        kept
    }

    /// Drops least recently used slots nobody else holds until a tenth below
    /// `capacity` (so eviction runs once per many inserts, not on each). A slot held
    /// elsewhere (a request, a live socket watching its heads) is kept: dropping it
    /// would split the circle into two slots with separate locks and subscribers.
    /// Under the map's lock, a count of one cannot grow, since handing out a slot
    /// takes that lock.
    fn evict(slots: &mut HashMap<CircleId, Arc<CircleSlot>>, capacity: usize) {
        let target = capacity - capacity / 10;
        let mut idle: Vec<(u64, CircleId)> = slots
            .iter()
            .filter(|(_, slot)| Arc::strong_count(slot) == 1)
            .map(|(id, slot)| (slot.used.load(Ordering::Relaxed), id.clone()))
            .collect();
        idle.sort_unstable_by_key(|(used, _)| *used);
        let excess = slots.len().saturating_sub(target);
        for (_, id) in idle.into_iter().take(excess) {
            slots.remove(&id);
        }
    }
}
