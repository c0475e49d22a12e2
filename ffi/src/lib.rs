//! `kring-ffi`: Kring for the Android and iOS apps, through uniffi.
//!
//! A thin surface over `kring-core`'s device façade (`kring_client::device::Device`),
//! with no rules of its own: every check, every write path (`Device::change`: the
//! document and the outbox in one transaction) and every computed fact comes from
//! core; this crate adds the wall clock, threads for the blocking relay calls
//! (`async` exports on tokio's blocking pool, live mode on its own thread),
//! observers, and the mapping of core's errors to [`KringError`].
//!
//! - [`KringClient`]: a device's data directory, identity ([`SecretStore`]), circles,
//!   joining, `sync_all`, live mode.
//! - [`CircleHandle`]: one circle, every plan operation, views, invite, sync, status,
//!   export/merge, [`PlanObserver`]s.
//! - `devices`: link previews, a person's other devices, live sync state
//!   ([`SyncObserver`]).
//! - `types`: core's read model and inputs exposed as records and enums.
//! - `followup`: what people look at (follow-up report, coordinator overview, "my
//!   plan this week", exports), core's types exposed the same way.
//!
//! Bindings (Kotlin, Swift) are generated from the built library; see
//! `docs/mobile.md`.

mod circle;
mod client;
mod devices;
mod error;
mod followup;
mod reach;
mod types;

use std::sync::{Mutex, MutexGuard};

pub use circle::{CircleHandle, PlanObserver};
pub use client::{KringClient, SecretStore, DEVICE_SECRET};
pub use devices::{CreatedCircle, LiveState, SyncEvent, SyncObserver};
pub use error::{KringError, Result};
pub use followup::describe_signal;
pub use types::{
    ChangeOrigin, CheckerUpdate, CircleSnapshot, CircleSync, Joined, MyPlace, SyncReport,
    TaskFacts, TaskUpdate,
};

uniffi::setup_scaffolding!();

/// Locks `mutex`. A poisoned lock (an earlier call panicked while holding it) is an
/// internal error rather than a panic across the FFI.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    mutex.lock().map_err(|_| KringError::Internal {
        reason: "an earlier call failed in the middle of an operation; reopen the client".into(),
    })
}
