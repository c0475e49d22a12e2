//! Reminders: what this device should remind its person of, and when — a pure function
//! of the plan, who is looking, their choices on this device and `now`.
//!
//! Most family group plans are no longer used three months after the meeting. A plan
//! lives on when it reaches people at the right moment, so the schedule is computed on
//! the device from the decrypted plan (the relay cannot read it) and an app hands it to
//! the phone's local notifications; `kring reminders` shows it.
//!
//! # What is reminded, to whom
//!
//! | kind | to | when |
//! |---|---|---|
//! | [`ReminderKind::TurnTomorrow`] | whoever is doing the occurrence (the main person for her own tasks) | the evening before, [`EVENING_AT`] |
//! | [`ReminderKind::TurnSoon`] | the same | [`SOON_BEFORE_MINUTES`] before it starts; all-day ones that morning at [`MORNING_AT`] |
//! | [`ReminderKind::NeedsPeople`] | members who can take it (not the main person, not readers) | at [`NUDGE_AT`] on each of the [`NEEDS_PEOPLE_WITHIN_DAYS`] days before an open occurrence, at most once per task per day |
//! | [`ReminderKind::TurnHandedOver`] | the same, when the open occurrence is a turn someone gave back | the same |
//! | [`ReminderKind::Review`] | the main person, admins, the coordinator | the day before the evaluation, at [`NUDGE_AT`] |
//! | [`ReminderKind::Checkin`] | the same | on the four-week check-in day, at [`NUDGE_AT`] |
//! | [`ReminderKind::Digest`] | whoever turned it on | Mondays at [`MORNING_AT`] |
//!
//! Every time is on the circle's wall clock (its IANA zone), so "the evening before"
//! stays 19:00 across the clock change. A reminder that falls in the quiet hours
//! ([`ReminderSettings`], default 22:00–08:00) moves to their end; a turn reminder
//! that would then go off after the turn started is dropped (the evening-before one
//! already said it).
//!
//! # Nobody is shamed
//!
//! A nudge says what the circle needs ("Koken bij Sanne op woensdag heeft nog iemand
//! nodig"), never who did not take it or who gave a turn back. Signals about people
//! stay in the follow-up report, for the people whose job that is.

mod rules;
mod settings;
mod texts;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::followup::Audience;
use crate::plan::ids::{CircleId, MemberId, TaskId};
use crate::plan::view::{Language, PlanStatus, PlanView};
use kring_trust::membership::Capability;
use kring_trust::time::Timestamp;

pub use settings::{ClockTime, ReminderSettings};

/// The evening before a turn: 19:00.
pub const EVENING_AT: (u32, u32) = (19, 0);
/// The morning of an all-day turn, and the weekly digest: 09:00.
pub const MORNING_AT: (u32, u32) = (9, 0);
/// A nudge about an open occurrence, the evaluation or the check-in: 10:00.
pub const NUDGE_AT: (u32, u32) = (10, 0);
/// A turn at a time of day is reminded this long before it starts.
pub const SOON_BEFORE_MINUTES: i64 = 60;
/// An open occurrence is nudged about on each of the days up to this many days
/// before it (the same window the follow-up calls urgent).
pub const NEEDS_PEOPLE_WITHIN_DAYS: i64 = crate::followup::UNCLAIMED_URGENT_DAYS;
/// The days `kring reminders` looks ahead by default.
pub const DEFAULT_DAYS: u32 = 7;

/// Who the schedule (or the news, [`crate::news`]) is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub member: MemberId,
    /// Whether they follow the circle up (see [`Audience`]).
    pub audience: Audience,
    /// Whether they may take a place on a task: an active member of the plan who
    /// writes (readers may not).
    pub can_claim: bool,
    /// The language they asked for on this device (`kring --lang`, the app's
    /// setting); `None` reads in the circle's own. See [`Viewer::language`].
    pub reading_in: Option<Language>,
}

impl Viewer {
    /// Who `member` is in `plan`, given their capability in the circle's signed
    /// membership log: `None` for a plan without a log (from a file), `Some(None)` for
    /// someone the log does not hold as a current member.
    pub fn of(plan: &PlanView, member: &MemberId, logged: Option<Option<Capability>>) -> Viewer {
        let capability = logged.flatten();
        // Claiming needs a member record in the plan, and, in a circle with a
        // membership log, a capability that writes.
        let active = plan.member(member).is_some_and(|m| m.is_active());
        let can_claim = active && logged.is_none_or(|c| c.is_some_and(|c| c.can_write()));
        Viewer {
            audience: Audience::of(plan, member, capability),
            member: member.clone(),
            can_claim,
            reading_in: None,
        }
    }

    /// The language their reminders and news about `plan` are written in.
    pub fn language(&self, plan: &PlanView) -> Language {
        self.reading_in.unwrap_or(plan.circle.language)
    }

    /// Whether they are in the circle of `plan` at all: its main person, an active
    /// member, or someone who follows it up. Nobody else is reminded or told news.
    pub fn is_in(&self, plan: &PlanView) -> bool {
        self.member == plan.circle.main_person
            || plan.member(&self.member).is_some_and(|m| m.is_active())
            || self.audience.follows_up()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    /// My turn is tomorrow.
    TurnTomorrow,
    /// My turn starts soon (or, all day, is today).
    TurnSoon,
    /// An occurrence soon still needs people, and I could take it.
    NeedsPeople,
    /// Someone gave a turn back; it needs someone, and I could take it.
    TurnHandedOver,
    /// The evaluation is tomorrow.
    Review,
    /// The four-week check-in is today.
    Checkin,
    /// The week ahead in this circle.
    Digest,
}

impl ReminderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::TurnTomorrow => "turn_tomorrow",
            ReminderKind::TurnSoon => "turn_soon",
            ReminderKind::NeedsPeople => "needs_people",
            ReminderKind::TurnHandedOver => "turn_handed_over",
            ReminderKind::Review => "review",
            ReminderKind::Checkin => "checkin",
            ReminderKind::Digest => "digest",
        }
    }
}

/// One reminder: when it goes off, what it is about and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// Stable across recomputations of the same schedule, so an app replaces a
    /// scheduled notification instead of adding a second one.
    pub id: String,
    pub at: Timestamp,
    pub kind: ReminderKind,
    pub circle: CircleId,
    pub task: Option<TaskId>,
    /// The occurrence (its start) this is about, for turns and open occurrences.
    pub occurrence: Option<Timestamp>,
    /// The notification's title: the circle's name.
    pub title: String,
    /// The notification's text, in the circle's language.
    pub text: String,
}

/// Every reminder for `viewer` in `plan` that goes off in `[now, now + days)`, sorted
/// by time (then kind, then id).
///
/// Nothing for a muted circle, an archived plan or someone no longer in the circle.
pub fn schedule(
    plan: &PlanView,
    viewer: &Viewer,
    settings: &ReminderSettings,
    now: Timestamp,
    days: u32,
) -> Vec<Reminder> {
    if settings.muted || plan.plan.status == PlanStatus::Archived || !viewer.is_in(plan) {
        return Vec::new();
    }
    let window = rules::Window {
        now,
        to: now.plus_days(i64::from(days)),
    };
    let ctx = rules::Context {
        plan,
        viewer,
        settings,
    };
    let mut out = Vec::new();
    rules::turns(&ctx, window, &mut out);
    rules::needs_people(&ctx, window, &mut out);
    rules::plan_dates(&ctx, window, &mut out);
    rules::digest(&ctx, window, &mut out);
    out.retain(|r| r.at >= window.now && r.at < window.to);
    out.sort_by(|a, b| (a.at, a.kind, &a.id).cmp(&(b.at, b.kind, &b.id)));
    out.dedup_by(|a, b| a.id == b.id);
    out
}
