//! Time as a plain value.
//!
//! The core never reads a clock: every operation that needs "now" takes a [`Timestamp`]
//! argument. That keeps plan operations, follow-up signals and membership rules
//! deterministic and testable with a fixed `now`; the CLI, the FFI layer and the relay
//! pass the wall clock in at the edge.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
///
/// Dates in a plan ("due Tuesday 18:00") are stored as instants; rendering them in a
/// local time zone is a presentation concern of the apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

    /// The wall clock. Only edges (CLI, FFI, relay) call this; core logic takes `now`.
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_days(self, days: i64) -> Self {
        Timestamp(
            self.0
                .saturating_add(days.saturating_mul(Self::MILLIS_PER_DAY)),
        )
    }

    pub fn plus_millis(self, millis: i64) -> Self {
        Timestamp(self.0.saturating_add(millis))
    }

    /// Whole days from `self` until `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Timestamp) -> i64 {
        later
            .0
            .saturating_sub(self.0)
            .div_euclid(Self::MILLIS_PER_DAY)
    }
}
