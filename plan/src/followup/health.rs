//! Plan health: the share of due agreements done on time over the last 30 days.
//!
//! **Due agreements** are the occurrences of open tasks whose deadline (due moment
//! plus [`GRACE_MILLIS`](super::GRACE_MILLIS)) fell in `[now - 30 days, now)`; weekly
//! tasks contribute one per week. Cancelled and archived tasks have left the plan and
//! do not count; unscheduled tasks have no due moment. **On time** means a completion
//! for that occurrence no later than its deadline.

use super::occurrences::{done_on_time, occurrences_with_deadline_in};
use super::RECENT_WINDOW_DAYS;
use crate::plan::view::{PlanView, TaskStatus};
use kring_trust::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanHealth {
    /// The look-back window in days ([`RECENT_WINDOW_DAYS`]).
    pub window_days: i64,
    /// Agreements that fell due in the window.
    pub due: u32,
    /// Of those, done on time.
    pub on_time: u32,
    /// `on_time * 100 / due`, rounded down; `None` when nothing fell due.
    pub percent: Option<u32>,
}

pub(super) fn plan_health(plan: &PlanView, now: Timestamp) -> PlanHealth {
    let from = now.plus_days(-RECENT_WINDOW_DAYS);
    let mut due: u32 = 0;
    let mut on_time: u32 = 0;
    for task in plan.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
        for at in occurrences_with_deadline_in(task, from, now) {
            due = due.saturating_add(1);
            if done_on_time(task, at) {
                on_time = on_time.saturating_add(1);
            }
        }
    }
    let percent = (due > 0).then(|| percent_of(on_time, due));
    PlanHealth {
        window_days: RECENT_WINDOW_DAYS,
        due,
        on_time,
        percent,
    }
}

/// `part * 100 / whole`, rounded down (whole > 0).
pub(super) fn percent_of(part: u32, whole: u32) -> u32 {
    let p = u64::from(part) * 100 / u64::from(whole.max(1));
    u32::try_from(p).unwrap_or(u32::MAX)
}
