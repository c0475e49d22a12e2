//! The follow-up engine: what is slipping in a circle's plan, as pure functions of a
//! [`PlanView`](crate::plan::view::PlanView) and `now`.
//!
//! Research on family group plans found most are no longer used about three months
//! after the meeting. These signals tell the coordinator (and a network chair) early
//! what needs a phone call, and tell the main person what is planned this week.
//!
//! - [`circle_report`]: every signal and figure for one circle.
//! - [`coordinator_overview`]: all circles on a device, most urgent first.
//! - [`my_week`]: the main person's next seven days in plain language.
//!
//! Nothing here reads a clock or does IO; `now` is a parameter, so every threshold is
//! tested exactly at its boundary. All thresholds are the named constants below;
//! `docs/followup.md` explains them for people who do not read Rust.
//!
//! # Which plans get which signals
//!
//! - An **archived** plan has ended: it gets no signals (figures are still computed).
//! - Task signals (overdue, unclaimed, overbooked) apply to draft, presented and
//!   accepted plans: tasks agreed in the meeting start before the formal acceptance.
//! - Plan-level signals (evaluation, four-week check-in, silent members, quiet circle,
//!   load imbalance, low plan health) apply only once the plan is **accepted**: before
//!   that there is no running plan to follow up.
//!
//! # Who sees this
//!
//! The full circle report names people (who claimed an overdue task, who has been
//! silent, who carries most of the work). Only the main person, admins and the
//! coordinator see that; everyone else gets [`CircleReport::for_audience`] with
//! [`Audience::Circle`]: what the circle needs, never who did not help.

mod activity;
mod audience;
mod coordinator;
mod describe;
mod health;
mod load;
mod my_week;
pub(crate) mod occurrences;
mod signals;

#[cfg(test)]
mod tests;

pub use audience::Audience;
pub use coordinator::{coordinator_overview, overview_for, CoordinatorItem, CoordinatorOverview};
pub use health::PlanHealth;
pub use load::{Load, MemberLoad};
pub use my_week::{my_week, MyWeek, WeekItem, WeekItemKind};
pub use signals::{
    circle_report, CircleReport, MemberRef, Severity, Signal, SignalKind, UnclaimedReason,
};
pub(crate) use signals::{pending_checkin, pending_review};

use kring_trust::time::Timestamp;

/// Grace after a due moment before an agreement counts as late.
///
/// A ride at 18:00 is usually marked done that evening, not at 18:00 sharp. One rule
/// serves both overdue tasks and plan health: an occurrence is **late** when
/// `now > at + GRACE_MILLIS` and it has no completion, and a completion is **on time**
/// when `completion.at <= at + GRACE_MILLIS`.
pub const GRACE_MILLIS: i64 = Timestamp::MILLIS_PER_DAY;

/// An unclaimed task is "due soon" when its next occurrence is at most this many days
/// away (`at <= now + 7 days`).
pub const UNCLAIMED_DUE_SOON_DAYS: i64 = 7;

/// An unclaimed task due within this many days (`at <= now + 2 days`) is urgent:
/// someone has to be found today or tomorrow.
pub const UNCLAIMED_URGENT_DAYS: i64 = 2;

/// An unclaimed task is "open for a while" once it was created at least this many days
/// ago (`created_at + 14 days <= now`), whatever its date.
pub const UNCLAIMED_OPEN_LONG_DAYS: i64 = 14;

/// How far the engine looks back: plan health, load per member and missed occurrences
/// of recurring tasks all use the last 30 days.
pub const RECENT_WINDOW_DAYS: i64 = 30;

/// The evaluation is "due" from this many days before `next_review_at`.
pub const REVIEW_DUE_SOON_DAYS: i64 = 14;

/// The check-in happens this many days after the plan was accepted.
pub const CHECKIN_AFTER_DAYS: i64 = 28;

/// The check-in is "due" from this many days before the check-in day.
pub const CHECKIN_DUE_SOON_DAYS: i64 = 7;

/// A member is silent after this many days without any activity
/// (`last_activity + 21 days <= now`).
pub const SILENT_AFTER_DAYS: i64 = 21;

/// A circle is quiet after this many days without any activity by anyone
/// (`last_activity + 14 days <= now`).
pub const QUIET_AFTER_DAYS: i64 = 14;

/// Load imbalance is only flagged in circles with at least this many helpers: in a
/// smaller circle one person doing half the work is normal.
pub const LOAD_MIN_HELPERS: u32 = 4;

/// A member is flagged when their share of the circle's work is strictly more than this
/// percentage (`units * 100 > total * 40`).
pub const LOAD_MAX_SHARE_PERCENT: u32 = 40;

/// Plan health is only flagged once at least this many agreements fell due in the
/// window: two missed rides should not make a plan look unhealthy.
pub const HEALTH_MIN_DUE: u32 = 3;

/// Plan health is flagged when strictly fewer than this percentage of due agreements
/// were done on time.
pub const HEALTH_LOW_PERCENT: u32 = 60;

/// "My plan this week" covers `[now, now + 7 days)`.
pub const MY_WEEK_DAYS: i64 = 7;
