//! `kring-ffi`: Kring for the Android and iOS apps, through uniffi.
//!
//! A thin surface over `kring-core`, with no rules of its own: every check and every
//! computed fact comes from core; this crate adds durability on each call, the wall
//! clock, observers, and the mapping of core's errors to [`KringError`].
//!
//! - [`KringClient`]: a device's data directory, identity ([`SecretStore`]) and circles.
//! - [`CircleHandle`]: one circle, every plan operation, views, export/merge,
//!   [`PlanObserver`]s.
//! - `types`: core's read model and inputs exposed as records and enums.
//!
//! Bindings (Kotlin, Swift) are generated from the built library; see
//! `docs/mobile.md`.

mod circle;
mod client;
mod error;
mod types;

use std::sync::{Mutex, MutexGuard};

pub use circle::{CircleHandle, PlanObserver};
pub use client::{KringClient, SecretStore, DEVICE_SECRET};
pub use error::{KringError, Result};
pub use types::{ChangeOrigin, CheckerUpdate, CircleSnapshot, MyPlace, TaskFacts, TaskUpdate};

uniffi::setup_scaffolding!();

/// Locks `mutex`. A poisoned lock (an earlier call panicked while holding it) is an
/// internal error rather than a panic across the FFI.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    mutex.lock().map_err(|_| KringError::Internal {
        reason: "an earlier call failed in the middle of an operation; reopen the client".into(),
    })
}
