//! The relay's in-memory view of each circle it has served: the validated membership
//! state (so envelope checks do not re-validate the log) and the live heads that
//! WebSocket subscribers watch.
//!
//! A circle is loaded from the store and validated with `MembershipState::from_log` on
//! first use, then kept current by the appends that go through this relay.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use kring_core::membership::{MembershipState, SignedEntry};
use kring_core::plan::ids::CircleId;
use kring_core::{Error, Result};
use tokio::sync::{watch, RwLock};

use crate::error::internal;
use crate::store::{CircleKey, RelayStore};

/// Where a circle stands, as live subscribers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heads {
    /// Newest envelope cursor.
    pub latest: u64,
    /// Membership log length.
    pub len: u64,
}

pub struct CircleSlot {
    pub id: CircleId,
    pub key: CircleKey,
    /// The membership state at the log's head. Readers (pushes, reads, pulls) hold the
    /// read lock while they act on it; an append holds the write lock until its entry
    /// is committed, so no envelope is ever stored against a state that has moved on.
    pub state: RwLock<Arc<MembershipState>>,
    pub heads: watch::Sender<Heads>,
}

impl CircleSlot {
    fn new(id: CircleId, key: CircleKey, state: MembershipState, latest: u64) -> Self {
        let heads = watch::Sender::new(Heads {
            latest,
            len: state.len(),
        });
        Self {
            id,
            key,
            state: RwLock::new(Arc::new(state)),
            heads,
        }
    }

    /// Records a newer cursor for subscribers (never moves back).
    pub fn stored_up_to(&self, latest: u64) {
        self.heads.send_if_modified(|heads| {
            let newer = latest > heads.latest;
            if newer {
                heads.latest = latest;
            }
            newer
        });
    }

    pub fn log_grew_to(&self, len: u64) {
        self.heads.send_if_modified(|heads| {
            let longer = len > heads.len;
            if longer {
                heads.len = len;
            }
            longer
        });
    }
}

#[derive(Default)]
pub struct Circles {
    slots: Mutex<HashMap<CircleId, Arc<CircleSlot>>>,
}

impl Circles {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<CircleId, Arc<CircleSlot>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn cached(&self, id: &CircleId) -> Option<Arc<CircleSlot>> {
        self.slots().get(id).cloned()
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

    /// Adds a just-created circle.
    pub fn created(&self, id: CircleId, key: CircleKey, state: MembershipState) -> Arc<CircleSlot> {
        self.insert(Arc::new(CircleSlot::new(id, key, state, 0)))
    }

    /// Keeps the slot already there if two loads raced (it may have moved on since).
    fn insert(&self, slot: Arc<CircleSlot>) -> Arc<CircleSlot> {
        Arc::clone(self.slots().entry(slot.id.clone()).or_insert(slot))
    }
}
