//! The operator's retention period for inactive circles (`--retention-inactive-months`,
//! off by default; see `docs/data-retention.md`).
//!
//! A circle in which nothing new was stored (no envelope, no membership entry) for
//! the period is closed by the relay, through the same tombstone path as an owner's
//! close. The relay cannot write into the end-to-end encrypted plan, so it warns
//! through the protocol instead: within the warning window before the close, every
//! pull answer carries `closes_at`, and the owner's device says so in its own
//! language. Anything new stored resets the clock.
//!
//! Sans-IO: [`Retention::verdict`] decides from a circle's last activity and `now`,
//! both passed in; the sweep that acts on it (`Relay::sweep_retention`) and its timer
//! are at the edge.

use kring_trust::Timestamp;

use crate::config::Config;

const MS_PER_DAY: i64 = 24 * 60 * 60 * 1000;
/// A retention month is 30 days (operators think in months; the clock needs a number).
pub const DAYS_PER_MONTH: i64 = 30;

/// The retention policy of a relay that has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// How long a circle may go without anything new being stored, in ms.
    pub inactive_ms: i64,
    /// How long before the close the relay starts announcing it, in ms.
    pub warning_ms: i64,
}

/// What the policy says about one circle at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Active enough: nothing to say.
    Keep,
    /// Within the warning window: it will be closed at `closes_at` unless something
    /// new is stored before.
    Warn { closes_at: Timestamp },
    /// Inactive for the whole period: close it now.
    Close,
}

impl Retention {
    /// The policy of `config`, `None` when retention is off (the default).
    pub fn from_config(config: &Config) -> Option<Self> {
        let months = config.retention_inactive_months.filter(|m| *m > 0)?;
        Some(Retention {
            inactive_ms: i64::from(months) * DAYS_PER_MONTH * MS_PER_DAY,
            warning_ms: i64::from(config.retention_warning_days) * MS_PER_DAY,
        })
    }

    /// When a circle last active at `active_at` is closed.
    pub fn closes_at(&self, active_at: Timestamp) -> Timestamp {
        active_at.plus_millis(self.inactive_ms)
    }

    /// Circles last active before this are due at `now` (what the sweep asks the
    /// store for; [`Retention::verdict`] of each is [`Verdict::Close`]).
    pub fn cutoff(&self, now: Timestamp) -> Timestamp {
        now.plus_millis(-self.inactive_ms)
    }

    pub fn verdict(&self, active_at: Timestamp, now: Timestamp) -> Verdict {
        let closes_at = self.closes_at(active_at);
        if now >= closes_at {
            Verdict::Close
        } else if now >= closes_at.plus_millis(-self.warning_ms) {
            Verdict::Warn { closes_at }
        } else {
            Verdict::Keep
        }
    }

    /// The `closes_at` a pull answer carries (only while warning).
    pub fn warning(&self, active_at: Timestamp, now: Timestamp) -> Option<Timestamp> {
        match self.verdict(active_at, now) {
            Verdict::Warn { closes_at } => Some(closes_at),
            // Due but not swept yet: still announce the (past) time, so the owner
            // sees it rather than nothing.
            Verdict::Close => Some(self.closes_at(active_at)),
            Verdict::Keep => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = MS_PER_DAY;

    fn policy() -> Retention {
        Retention {
            inactive_ms: 12 * DAYS_PER_MONTH * DAY,
            warning_ms: 30 * DAY,
        }
    }

    #[test]
    fn a_circle_is_kept_then_warned_about_then_closed() {
        let active = Timestamp(1_700_000_000_000);
        let closes = active.plus_days(360);
        let p = policy();
        assert_eq!(p.verdict(active, active), Verdict::Keep);
        assert_eq!(
            p.verdict(active, closes.plus_millis(-30 * DAY - 1)),
            Verdict::Keep
        );
        assert_eq!(
            p.verdict(active, closes.plus_millis(-30 * DAY)),
            Verdict::Warn { closes_at: closes }
        );
        assert_eq!(
            p.verdict(active, closes.plus_millis(-1)),
            Verdict::Warn { closes_at: closes }
        );
        assert_eq!(p.verdict(active, closes), Verdict::Close);
        assert_eq!(p.warning(active, active), None);
        assert_eq!(p.warning(active, closes.plus_millis(-DAY)), Some(closes));
    }

    #[test]
    fn new_activity_resets_the_clock() {
        let p = policy();
        let first = Timestamp(1_700_000_000_000);
        let now = first.plus_days(355);
        assert!(matches!(p.verdict(first, now), Verdict::Warn { .. }));
        assert_eq!(p.verdict(now, now), Verdict::Keep);
    }

    #[test]
    fn the_cutoff_is_exactly_where_the_verdict_turns_to_close() {
        let p = policy();
        let now = Timestamp(1_800_000_000_000);
        let cutoff = p.cutoff(now);
        assert_eq!(p.verdict(cutoff, now), Verdict::Close);
        assert!(matches!(
            p.verdict(cutoff.plus_millis(1), now),
            Verdict::Warn { .. }
        ));
    }

    #[test]
    fn retention_is_off_unless_configured() {
        let mut config = Config::local("/tmp/x.db");
        assert_eq!(Retention::from_config(&config), None);
        config.retention_inactive_months = Some(0);
        assert_eq!(Retention::from_config(&config), None);
        config.retention_inactive_months = Some(6);
        let p = Retention::from_config(&config).expect("on");
        assert_eq!(p.inactive_ms, 180 * DAY);
        assert_eq!(p.warning_ms, 30 * DAY);
    }
}
