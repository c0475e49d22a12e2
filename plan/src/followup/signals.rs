//! The signals of one circle, and the circle report that gathers them.
//!
//! Each signal has its own function with its exact definition in its doc comment;
//! [`circle_report`] runs them all and sorts the result most urgent first.

use super::activity::{last_activity, last_activity_by_member};
use super::health::{plan_health, PlanHealth};
use super::load::{load, Load};
use super::occurrences::{
    completion_for, deadline, occurrences_with_deadline_in, single_occurrence, upcoming_occurrence,
};
use super::{
    CHECKIN_AFTER_DAYS, CHECKIN_DUE_SOON_DAYS, HEALTH_LOW_PERCENT, HEALTH_MIN_DUE,
    QUIET_AFTER_DAYS, RECENT_WINDOW_DAYS, REVIEW_DUE_SOON_DAYS, SILENT_AFTER_DAYS,
    UNCLAIMED_DUE_SOON_DAYS, UNCLAIMED_OPEN_LONG_DAYS, UNCLAIMED_URGENT_DAYS,
};
use crate::plan::ids::{CircleId, MemberId, TaskId};
use crate::plan::view::{LogKind, OwnerKind, PlanStatus, PlanView, Relation, TaskView};
use kring_trust::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};

/// How soon someone should act. `Urgent` sorts before `Attention`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Look at it this week.
    Attention,
    /// Act now: something agreed did not happen, or is about to not happen.
    Urgent,
}

/// A member by id, with the display name at the time of the report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MemberRef {
    pub id: MemberId,
    pub name: String,
}

impl MemberRef {
    pub(crate) fn of(plan: &PlanView, id: &MemberId) -> Self {
        MemberRef {
            id: id.clone(),
            name: plan.display_name(id),
        }
    }
}

/// Why an unclaimed task is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnclaimedReason {
    /// Its next occurrence is at most [`UNCLAIMED_DUE_SOON_DAYS`] days away.
    DueSoon,
    /// It was created at least [`UNCLAIMED_OPEN_LONG_DAYS`] days ago.
    OpenLong,
}

/// What a signal is about. Serialized with a `kind` tag, e.g. `"kind": "overdue_task"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignalKind {
    OverdueTask {
        task: TaskId,
        title: String,
        /// The (earliest) late occurrence.
        due_at: Timestamp,
        /// Whole days since `due_at`.
        days_overdue: i64,
        /// Late occurrences: 1 for a one-off task; for a weekly task those in the window.
        missed_occurrences: u32,
        /// Who was on the late occurrence (the winning claims, or those on that turn
        /// of a series); empty when nobody took it, and for those who may not see
        /// names ([`super::Audience::Circle`]).
        claimed_by: Vec<MemberRef>,
        /// Whether someone held the late occurrence: a claim on it, or a task the
        /// main person or a professional does. Kept when the names are hidden, so no
        /// one reads "nobody had taken it" about a task someone held.
        held: bool,
    },
    UnclaimedTask {
        task: TaskId,
        title: String,
        reason: UnclaimedReason,
        /// The first occurrence that is not late yet, if the task has a date.
        next_due_at: Option<Timestamp>,
        /// Whole days until `next_due_at` (0 = within a day).
        days_until_due: Option<i64>,
        /// Whole days since the task was created.
        open_days: i64,
        free_slots: u32,
    },
    OverbookedTask {
        task: TaskId,
        title: String,
        slots: u32,
        claims: u32,
        /// Claims beyond the slots: these people should hear they are not needed.
        not_needed: Vec<MemberRef>,
    },
    ReviewDue {
        review_at: Timestamp,
        /// Whole days until the evaluation.
        days_left: i64,
    },
    ReviewOverdue {
        review_at: Timestamp,
        days_overdue: i64,
    },
    ReviewNotScheduled {
        accepted_at: Timestamp,
    },
    CheckinDue {
        due_at: Timestamp,
        days_left: i64,
    },
    CheckinOverdue {
        due_at: Timestamp,
        days_overdue: i64,
    },
    SilentMember {
        member: MemberRef,
        last_activity_at: Timestamp,
        silent_days: i64,
    },
    LoadImbalance {
        member: MemberRef,
        units: u32,
        total_units: u32,
        share_percent: u32,
    },
    CircleQuiet {
        last_activity_at: Timestamp,
        quiet_days: i64,
    },
    PlanHealthLow {
        percent: u32,
        due: u32,
        on_time: u32,
    },
}

impl SignalKind {
    /// Tie-break order between kinds of equal severity and moment.
    fn rank(&self) -> u8 {
        match self {
            SignalKind::OverdueTask { .. } => 0,
            SignalKind::UnclaimedTask { .. } => 1,
            SignalKind::ReviewOverdue { .. } => 2,
            SignalKind::CheckinOverdue { .. } => 3,
            SignalKind::PlanHealthLow { .. } => 4,
            SignalKind::CircleQuiet { .. } => 5,
            SignalKind::OverbookedTask { .. } => 6,
            SignalKind::ReviewDue { .. } => 7,
            SignalKind::ReviewNotScheduled { .. } => 8,
            SignalKind::CheckinDue { .. } => 9,
            SignalKind::SilentMember { .. } => 10,
            SignalKind::LoadImbalance { .. } => 11,
        }
    }

    /// The task or member the signal is about, for the final tie-break.
    fn subject(&self) -> &str {
        match self {
            SignalKind::OverdueTask { task, .. }
            | SignalKind::UnclaimedTask { task, .. }
            | SignalKind::OverbookedTask { task, .. } => task.as_str(),
            SignalKind::SilentMember { member, .. } | SignalKind::LoadImbalance { member, .. } => {
                member.id.as_str()
            }
            _ => "",
        }
    }
}

/// One thing that needs attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub severity: Severity,
    /// The moment that makes this urgent (a due date, the last sign of life); within a
    /// severity, earlier sorts first. Figures without a date (load, health) use `now`.
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: SignalKind,
}

impl Signal {
    /// Most urgent first: severity, then earlier `at`, then kind, then task/member id.
    pub fn urgency_cmp(&self, other: &Signal) -> Ordering {
        (
            Reverse(self.severity),
            self.at,
            self.kind.rank(),
            self.kind.subject(),
        )
            .cmp(&(
                Reverse(other.severity),
                other.at,
                other.kind.rank(),
                other.kind.subject(),
            ))
    }
}

/// Everything the follow-up engine knows about one circle at `generated_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircleReport {
    pub circle: CircleId,
    pub circle_name: String,
    /// Whom the plan is about (signals about her own silence are not shown to her).
    pub main_person: MemberRef,
    /// The circle's IANA time zone: the days signals name are its days.
    pub timezone: String,
    pub status: PlanStatus,
    pub generated_at: Timestamp,
    /// Number of urgent signals.
    pub urgent: u32,
    /// Number of attention signals.
    pub attention: u32,
    /// Most urgent first (see [`Signal::urgency_cmp`]).
    pub signals: Vec<Signal>,
    pub load: Load,
    pub health: PlanHealth,
    /// The latest act by anyone (see the `activity` rules in `docs/followup.md`).
    pub last_activity_at: Option<Timestamp>,
    /// Whole days since `last_activity_at`.
    pub days_since_last_activity: Option<i64>,
}

/// Every signal and figure for one circle at `now`.
pub fn circle_report(plan: &PlanView, now: Timestamp) -> CircleReport {
    let load = load(plan, now);
    let health = plan_health(plan, now);
    let last = last_activity(plan, now);
    let mut signals = Vec::new();
    let status = plan.plan.status;
    if status != PlanStatus::Archived {
        for task in plan.tasks.iter().filter(|t| t.is_open()) {
            signals.extend(overdue_or_unclaimed(plan, task, now));
            signals.extend(overbooked(plan, task));
        }
    }
    if status == PlanStatus::Accepted {
        signals.extend(review(plan, now));
        signals.extend(checkin(plan, now));
        signals.extend(silent_members(plan, now));
        signals.extend(last.and_then(|at| quiet(at, now)));
        signals.extend(load_imbalance(&load, now));
        signals.extend(health_low(&health, now));
    }
    signals.sort_by(Signal::urgency_cmp);
    let mut report = CircleReport {
        circle: plan.circle.id.clone(),
        circle_name: plan.circle.name.clone(),
        main_person: MemberRef::of(plan, &plan.circle.main_person),
        timezone: plan.circle.timezone.clone(),
        status,
        generated_at: now,
        urgent: 0,
        attention: 0,
        signals,
        load,
        health,
        last_activity_at: last,
        days_since_last_activity: last.map(|at| at.days_until(now)),
    };
    report.recount();
    report
}

impl CircleReport {
    /// Sets the urgent and attention counts from the signals.
    pub(super) fn recount(&mut self) {
        let count = |s: Severity| {
            let n = self.signals.iter().filter(|x| x.severity == s).count();
            u32::try_from(n).unwrap_or(u32::MAX)
        };
        self.urgent = count(Severity::Urgent);
        self.attention = count(Severity::Attention);
    }
}

/// A task is either overdue or (if it has free places) unclaimed, never both: an
/// overdue task's `claimed_by` already says whether anyone took it.
fn overdue_or_unclaimed(plan: &PlanView, task: &TaskView, now: Timestamp) -> Option<Signal> {
    overdue(plan, task, now).or_else(|| unclaimed(task, now))
}

/// **Overdue task** (urgent): an open task with an occurrence that is late — no
/// completion and `now > at + GRACE_MILLIS`. For a one-off task that is its due
/// moment, however long ago; for a weekly task, occurrences whose deadline fell in the
/// last [`RECENT_WINDOW_DAYS`] days (older misses only lower plan health).
/// Unscheduled tasks are never overdue.
pub(super) fn overdue(plan: &PlanView, task: &TaskView, now: Timestamp) -> Option<Signal> {
    let missed: Vec<Timestamp> = if task.schedule.is_recurring() {
        occurrences_with_deadline_in(task, now.plus_days(-RECENT_WINDOW_DAYS), now)
            .into_iter()
            .filter(|&o| completion_for(task, o).is_none())
            .collect()
    } else {
        single_occurrence(&task.schedule)
            .filter(|&at| now > deadline(at) && completion_for(task, at).is_none())
            .into_iter()
            .collect()
    };
    let due_at = *missed.first()?;
    let claimed_by: Vec<MemberRef> = task
        .doing_at(due_at)
        .iter()
        .map(|m| MemberRef::of(plan, m))
        .collect();
    let held = !claimed_by.is_empty() || task.owner_kind != OwnerKind::Circle;
    Some(Signal {
        severity: Severity::Urgent,
        at: due_at,
        kind: SignalKind::OverdueTask {
            task: task.id.clone(),
            title: task.title.clone(),
            due_at,
            days_overdue: due_at.days_until(now),
            missed_occurrences: u32::try_from(missed.len()).unwrap_or(u32::MAX),
            claimed_by,
            held,
        },
    })
}

/// **Unclaimed task**: an open circle task with free places (fewer claims than slots)
/// that is either
/// - *due soon*: its first occurrence that is not late yet is at most
///   [`UNCLAIMED_DUE_SOON_DAYS`] days away (`at <= now + 7 days`); urgent when at most
///   [`UNCLAIMED_URGENT_DAYS`] days away, otherwise attention; or
/// - *open for a while* (attention): created at least [`UNCLAIMED_OPEN_LONG_DAYS`] days
///   ago (`created_at + 14 days <= now`).
///
/// Professional contributions and the main person's own tasks are not claimed by the
/// circle, so they are never "unclaimed".
pub(super) fn unclaimed(task: &TaskView, now: Timestamp) -> Option<Signal> {
    let next_due_at = upcoming_occurrence(task, now);
    // Per occurrence for a series: a turn nobody took, or one handed over, is open.
    let free = next_due_at.map_or(task.free_slots(), |at| task.free_slots_at(at));
    if task.owner_kind != OwnerKind::Circle || free == 0 {
        return None;
    }
    let due_soon = next_due_at.filter(|&at| at <= now.plus_days(UNCLAIMED_DUE_SOON_DAYS));
    let (severity, at, reason) = match due_soon {
        Some(at) if at <= now.plus_days(UNCLAIMED_URGENT_DAYS) => {
            (Severity::Urgent, at, UnclaimedReason::DueSoon)
        }
        Some(at) => (Severity::Attention, at, UnclaimedReason::DueSoon),
        None if task.created_at.plus_days(UNCLAIMED_OPEN_LONG_DAYS) <= now => (
            Severity::Attention,
            task.created_at,
            UnclaimedReason::OpenLong,
        ),
        None => return None,
    };
    Some(Signal {
        severity,
        at,
        kind: SignalKind::UnclaimedTask {
            task: task.id.clone(),
            title: task.title.clone(),
            reason,
            next_due_at,
            days_until_due: next_due_at.map(|at| now.days_until(at)),
            open_days: task.created_at.days_until(now),
            free_slots: free,
        },
    })
}

/// **Overbooked task** (attention): an open task with more claims than slots (offline
/// claims collided). `at` is the first claim that did not win.
pub(super) fn overbooked(plan: &PlanView, task: &TaskView) -> Option<Signal> {
    if !task.overbooked {
        return None;
    }
    let losers: Vec<_> = task.claims.iter().filter(|c| !c.winner).collect();
    let at = losers.first()?.at;
    Some(Signal {
        severity: Severity::Attention,
        at,
        kind: SignalKind::OverbookedTask {
            task: task.id.clone(),
            title: task.title.clone(),
            slots: task.slots,
            claims: u32::try_from(task.claims.len()).unwrap_or(u32::MAX),
            not_needed: losers
                .iter()
                .map(|c| MemberRef::of(plan, &c.member))
                .collect(),
        },
    })
}

/// **Evaluation** (accepted plans). With `next_review_at = R`:
/// - nothing if a review was recorded at or after `R - REVIEW_DUE_SOON_DAYS` (it was
///   held; the date is expected to move on);
/// - *overdue* (urgent) when `now > R`;
/// - *due* (attention) when `R - 14 days <= now <= R`.
///
/// Without any evaluation date: *not scheduled* (attention) — every accepted plan
/// needs a date to look back at how it is going.
pub(super) fn review(plan: &PlanView, now: Timestamp) -> Option<Signal> {
    let section = &plan.plan;
    let Some(review_at) = section.next_review_at else {
        return Some(Signal {
            severity: Severity::Attention,
            at: section.status_changed_at,
            kind: SignalKind::ReviewNotScheduled {
                accepted_at: section.status_changed_at,
            },
        });
    };
    let review_at = pending_review(plan, review_at)?;
    let window_start = review_at.plus_days(-REVIEW_DUE_SOON_DAYS);
    if now > review_at {
        Some(Signal {
            severity: Severity::Urgent,
            at: review_at,
            kind: SignalKind::ReviewOverdue {
                review_at,
                days_overdue: review_at.days_until(now),
            },
        })
    } else if now >= window_start {
        Some(Signal {
            severity: Severity::Attention,
            at: review_at,
            kind: SignalKind::ReviewDue {
                review_at,
                days_left: now.days_until(review_at),
            },
        })
    } else {
        None
    }
}

/// The evaluation at `review_at`, unless a review was already recorded for it (at or
/// after `review_at - REVIEW_DUE_SOON_DAYS`).
pub(crate) fn pending_review(plan: &PlanView, review_at: Timestamp) -> Option<Timestamp> {
    let window_start = review_at.plus_days(-REVIEW_DUE_SOON_DAYS);
    (!plan.plan.reviews.iter().any(|r| r.at >= window_start)).then_some(review_at)
}

/// The four-week check-in day `D = accepted_at + CHECKIN_AFTER_DAYS`, unless a
/// `checkin` log entry or a review was recorded at or after `D - CHECKIN_DUE_SOON_DAYS`
/// (a review is more than a check-in).
pub(crate) fn pending_checkin(plan: &PlanView) -> Option<Timestamp> {
    let due_at = plan.plan.status_changed_at.plus_days(CHECKIN_AFTER_DAYS);
    let window_start = due_at.plus_days(-CHECKIN_DUE_SOON_DAYS);
    let checked_in = plan
        .log
        .iter()
        .any(|e| e.kind == LogKind::Checkin && e.at >= window_start)
        || plan.plan.reviews.iter().any(|r| r.at >= window_start);
    (!checked_in).then_some(due_at)
}

/// **Four-week check-in** (accepted plans). The check-in day is `D = accepted_at +
/// CHECKIN_AFTER_DAYS` (`accepted_at` is the plan's `status_changed_at`):
/// - nothing if a `checkin` log entry or a review was recorded at or after
///   `D - CHECKIN_DUE_SOON_DAYS` (a review is more than a check-in);
/// - *overdue* (urgent) when `now > D`;
/// - *due* (attention) when `D - 7 days <= now <= D`.
pub(super) fn checkin(plan: &PlanView, now: Timestamp) -> Option<Signal> {
    let due_at = pending_checkin(plan)?;
    let window_start = due_at.plus_days(-CHECKIN_DUE_SOON_DAYS);
    if now > due_at {
        Some(Signal {
            severity: Severity::Urgent,
            at: due_at,
            kind: SignalKind::CheckinOverdue {
                due_at,
                days_overdue: due_at.days_until(now),
            },
        })
    } else if now >= window_start {
        Some(Signal {
            severity: Severity::Attention,
            at: due_at,
            kind: SignalKind::CheckinDue {
                due_at,
                days_left: now.days_until(due_at),
            },
        })
    } else {
        None
    }
}

/// **Silent member** (attention, accepted plans): an active member — the main person
/// and helpers, not professionals or the coordinator, who work through their own
/// channels — whose last act was at least [`SILENT_AFTER_DAYS`] days ago
/// (`last + 21 days <= now`). Joining counts as an act.
pub(super) fn silent_members(plan: &PlanView, now: Timestamp) -> Vec<Signal> {
    let last_by_member = last_activity_by_member(plan, now);
    plan.active_members()
        .filter(|m| !matches!(m.relation, Relation::Professional | Relation::Coordinator))
        .filter_map(|m| {
            let last = *last_by_member.get(&m.id)?;
            (last.plus_days(SILENT_AFTER_DAYS) <= now).then(|| Signal {
                severity: Severity::Attention,
                at: last,
                kind: SignalKind::SilentMember {
                    member: MemberRef::of(plan, &m.id),
                    last_activity_at: last,
                    silent_days: last.days_until(now),
                },
            })
        })
        .collect()
}

/// **Quiet circle** (attention, accepted plans): nobody did anything for at least
/// [`QUIET_AFTER_DAYS`] days (`last + 14 days <= now`).
pub(super) fn quiet(last_activity_at: Timestamp, now: Timestamp) -> Option<Signal> {
    (last_activity_at.plus_days(QUIET_AFTER_DAYS) <= now).then(|| Signal {
        severity: Severity::Attention,
        at: last_activity_at,
        kind: SignalKind::CircleQuiet {
            last_activity_at,
            quiet_days: last_activity_at.days_until(now),
        },
    })
}

/// **Load imbalance** (attention, accepted plans): one signal per flagged member of the
/// [`Load`] figure.
pub(super) fn load_imbalance(load: &Load, now: Timestamp) -> Vec<Signal> {
    load.members
        .iter()
        .filter(|l| l.flagged)
        .map(|l| Signal {
            severity: Severity::Attention,
            at: now,
            kind: SignalKind::LoadImbalance {
                member: l.member.clone(),
                units: l.units,
                total_units: load.total_units,
                share_percent: l.share_percent,
            },
        })
        .collect()
}

/// **Low plan health** (attention, accepted plans): at least [`HEALTH_MIN_DUE`]
/// agreements fell due in the window and strictly fewer than [`HEALTH_LOW_PERCENT`] %
/// were done on time.
pub(super) fn health_low(health: &PlanHealth, now: Timestamp) -> Option<Signal> {
    let percent = health.percent?;
    (health.due >= HEALTH_MIN_DUE && percent < HEALTH_LOW_PERCENT).then_some(Signal {
        severity: Severity::Attention,
        at: now,
        kind: SignalKind::PlanHealthLow {
            percent,
            due: health.due,
            on_time: health.on_time,
        },
    })
}
