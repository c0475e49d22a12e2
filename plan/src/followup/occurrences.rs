//! When a task is due, and whether a due occurrence was done (on time).
//!
//! A one-off task has one occurrence (its `Due { at }`); a weekly task has one per
//! week. Every other part of the engine asks these questions through here, so the
//! grace rule ([`GRACE_MILLIS`]) is applied in exactly one place.

use super::GRACE_MILLIS;
use crate::plan::view::{Completion, Schedule, TaskView};
use kring_trust::time::Timestamp;

/// The moment after which an undone occurrence is late.
pub(super) fn deadline(at: Timestamp) -> Timestamp {
    at.plus_millis(GRACE_MILLIS)
}

/// Occurrences of `task` at `[from, to)` that count as agreements.
///
/// For weekly tasks, occurrences before the task was created are not agreements (the
/// series may have been given a start date in the past when it was added).
pub(crate) fn agreed_occurrences(
    task: &TaskView,
    from: Timestamp,
    to: Timestamp,
) -> Vec<Timestamp> {
    let from = if task.schedule.is_recurring() {
        from.max(task.created_at)
    } else {
        from
    };
    task.schedule.occurrences_between(from, to)
}

/// Occurrences whose deadline falls in `[from, to)`.
pub(super) fn occurrences_with_deadline_in(
    task: &TaskView,
    from: Timestamp,
    to: Timestamp,
) -> Vec<Timestamp> {
    agreed_occurrences(
        task,
        from.plus_millis(-GRACE_MILLIS),
        to.plus_millis(-GRACE_MILLIS),
    )
}

/// The first agreed occurrence that is not late yet at `now` (`deadline >= now`).
pub(super) fn upcoming_occurrence(task: &TaskView, now: Timestamp) -> Option<Timestamp> {
    let from = now.plus_millis(-GRACE_MILLIS);
    let from = if task.schedule.is_recurring() {
        from.max(task.created_at)
    } else {
        from
    };
    task.schedule.next_occurrence(from)
}

/// The completion that covers the occurrence at `at`: for a one-off task its first
/// completion; for a weekly task the first completion recorded for that occurrence.
pub(crate) fn completion_for(task: &TaskView, at: Timestamp) -> Option<&Completion> {
    if task.schedule.is_recurring() {
        task.completions.iter().find(|c| c.occurrence == Some(at))
    } else {
        task.completions.first()
    }
}

/// The one occurrence of a schedule that is not a series (`None` when unscheduled).
pub(super) fn single_occurrence(schedule: &Schedule) -> Option<Timestamp> {
    match schedule {
        Schedule::Unscheduled => None,
        Schedule::Due { at } => Some(*at),
        _ => schedule.next_occurrence(Timestamp(EARLIEST_MILLIS)),
    }
}

/// Far enough back for any plan (the year 1700).
const EARLIEST_MILLIS: i64 = -8_520_000_000_000;

/// Done no later than the occurrence's deadline.
pub(super) fn done_on_time(task: &TaskView, at: Timestamp) -> bool {
    completion_for(task, at).is_some_and(|c| c.at <= deadline(at))
}
