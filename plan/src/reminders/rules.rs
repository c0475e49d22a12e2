//! One function per kind of reminder; each pushes what it finds for the window and
//! leaves filtering to the window and sorting to [`super::schedule`].

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use super::texts::{self, When};
use super::{
    Reminder, ReminderKind, ReminderSettings, Viewer, EVENING_AT, MORNING_AT,
    NEEDS_PEOPLE_WITHIN_DAYS, NUDGE_AT, SOON_BEFORE_MINUTES,
};
use crate::followup::occurrences::{agreed_occurrences, completion_for};
use crate::followup::{pending_checkin, pending_review};
use crate::plan::recurrence::{civil, CivilStart};
use crate::plan::view::{
    OwnerKind, PlanStatus, PlanView, Schedule, TaskStatus, TaskView, TurnKind,
};
use kring_trust::time::Timestamp;

/// The day after the last day a nudge looks at, counted from the nudge's day.
const NEEDS_PEOPLE_DAYS_AHEAD: u64 = NEEDS_PEOPLE_WITHIN_DAYS.unsigned_abs() + 1;

/// The half-open span `[now, to)` reminders must go off in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub now: Timestamp,
    pub to: Timestamp,
}

pub(super) struct Context<'a> {
    pub plan: &'a PlanView,
    pub viewer: &'a Viewer,
    pub settings: &'a ReminderSettings,
}

impl Context<'_> {
    fn zone(&self) -> &str {
        &self.plan.circle.timezone
    }

    /// The instant of `date` at the wall-clock `(hour, minute)` in the circle's zone,
    /// moved out of the quiet hours.
    fn at_clock(&self, date: NaiveDate, (hour, minute): (u32, u32)) -> Option<Timestamp> {
        let local = date.and_hms_opt(hour, minute, 0)?;
        self.placed_local(local)
    }

    /// `at`, moved out of the quiet hours.
    fn placed(&self, at: Timestamp) -> Option<Timestamp> {
        self.placed_local(civil(at, self.zone()))
    }

    fn placed_local(&self, local: NaiveDateTime) -> Option<Timestamp> {
        CivilStart::DateTime(self.settings.after_quiet(local))
            .instant(self.zone())
            .ok()
    }

    fn date_of(&self, at: Timestamp) -> NaiveDate {
        civil(at, self.zone()).date()
    }

    /// Every civil date the window touches, in the circle's zone.
    fn days(&self, window: Window) -> impl Iterator<Item = NaiveDate> {
        let last = self.date_of(window.to);
        self.date_of(window.now)
            .iter_days()
            .take_while(move |d| *d <= last)
    }

    fn reminder(
        &self,
        kind: ReminderKind,
        at: Timestamp,
        key: String,
        about: Option<(&TaskView, Timestamp)>,
        text: String,
    ) -> Reminder {
        let circle = &self.plan.circle;
        Reminder {
            id: format!("{}:{}:{key}", kind.as_str(), circle.id.as_str()),
            at,
            kind,
            circle: circle.id.clone(),
            task: about.map(|(task, _)| task.id.clone()),
            occurrence: about.map(|(_, at)| at),
            title: circle.name.clone(),
            text,
        }
    }

    /// Whether the viewer is doing the occurrence of `task` at `at`: on it, or the
    /// main person for a task she does herself.
    fn is_mine(&self, task: &TaskView, at: Timestamp) -> bool {
        match task.owner_kind {
            OwnerKind::MainPerson => self.viewer.member == self.plan.circle.main_person,
            _ => task.doing_at(at).contains(&self.viewer.member),
        }
    }
}

/// Open tasks and the occurrences of each that are agreed and not done yet in
/// `[from, to)`.
fn open_occurrences(
    plan: &PlanView,
    from: Timestamp,
    to: Timestamp,
) -> impl Iterator<Item = (&TaskView, Timestamp)> {
    plan.tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Open && !t.is_done())
        .flat_map(move |task| {
            agreed_occurrences(task, from, to)
                .into_iter()
                .filter(|&at| completion_for(task, at).is_none())
                .map(move |at| (task, at))
        })
}

/// My own turns: the evening before, and shortly before (or that morning, all day).
pub(super) fn turns(ctx: &Context<'_>, window: Window, out: &mut Vec<Reminder>) {
    // An occurrence up to two days after the window can have its evening-before
    // reminder inside it.
    for (task, at) in open_occurrences(ctx.plan, window.now, window.to.plus_days(2)) {
        if !ctx.is_mine(task, at) {
            continue;
        }
        let when = When::of(task, at, ctx.zone());
        let key = format!("{}:{}", task.id.as_str(), at.0);
        let lang = ctx.viewer.language(ctx.plan);
        let day = ctx.date_of(at);
        // "Tomorrow" is only true on the evening before: quiet hours that push it
        // into the day itself drop it.
        if let Some(evening) = day.pred_opt().and_then(|eve| {
            ctx.at_clock(eve, EVENING_AT)
                .filter(|&t| ctx.date_of(t) == eve)
        }) {
            let text = texts::turn_tomorrow(lang, ctx.zone(), &task.title, when);
            out.push(ctx.reminder(
                ReminderKind::TurnTomorrow,
                evening,
                key.clone(),
                Some((task, at)),
                text,
            ));
        }
        let soon = if when.all_day {
            ctx.at_clock(day, MORNING_AT)
                .filter(|&t| ctx.date_of(t) == day)
        } else {
            ctx.placed(at.plus_millis(-SOON_BEFORE_MINUTES * 60_000))
                .filter(|&t| t <= at)
        };
        if let Some(soon) = soon {
            let text = texts::turn_soon(lang, ctx.zone(), &task.title, when);
            out.push(ctx.reminder(ReminderKind::TurnSoon, soon, key, Some((task, at)), text));
        }
    }
}

/// Open occurrences soon that still need people, to members who could take them: on
/// each day, at most one nudge per task, about its first such occurrence.
///
/// Not to the main person: the circle's tasks are what the circle offers her, and a
/// daily "your ride still needs someone" would make her chase her own help.
pub(super) fn needs_people(ctx: &Context<'_>, window: Window, out: &mut Vec<Reminder>) {
    let viewer = ctx.viewer;
    if !viewer.can_claim || viewer.member == ctx.plan.circle.main_person {
        return;
    }
    let ahead = window.to.plus_days(NEEDS_PEOPLE_WITHIN_DAYS + 1);
    let candidates: Vec<(&TaskView, Timestamp)> = open_occurrences(ctx.plan, window.now, ahead)
        .filter(|(task, at)| {
            task.owner_kind == OwnerKind::Circle
                && task.free_slots_at(*at) > 0
                && !ctx.is_mine(task, *at)
                && !claimed_whole(task, viewer)
                && !gave_back(task, *at, viewer)
        })
        .collect();
    let lang = ctx.viewer.language(ctx.plan);
    for day in ctx.days(window) {
        let Some(nudge) = ctx.at_clock(day, NUDGE_AT) else {
            continue;
        };
        // Occurrences on this day and the next NEEDS_PEOPLE_WITHIN_DAYS days.
        let Some(until) = day
            .checked_add_days(chrono::Days::new(NEEDS_PEOPLE_DAYS_AHEAD))
            .and_then(|end| CivilStart::Date(end).instant(ctx.zone()).ok())
        else {
            continue;
        };
        let mut nudged = std::collections::HashSet::new();
        for &(task, at) in &candidates {
            if at < nudge || at >= until || !nudged.insert(&task.id) {
                continue;
            }
            let when = When::of(task, at, ctx.zone());
            let handed_over = match &task.schedule {
                Schedule::Repeat(r) if r.is_series() => task.handed_over(&r.key_of(at)),
                _ => false,
            };
            let (kind, text) = if handed_over {
                let text = texts::turn_handed_over(lang, ctx.zone(), &task.title, when);
                (ReminderKind::TurnHandedOver, text)
            } else {
                let free = task.free_slots_at(at);
                let text = texts::needs_people(lang, ctx.zone(), &task.title, when, free);
                (ReminderKind::NeedsPeople, text)
            };
            let key = format!("{}:{day}", task.id.as_str());
            out.push(ctx.reminder(kind, nudge, key, Some((task, at)), text));
        }
    }
}

/// A claim of the viewer's that already loses or waits on a one-off task: asking them
/// again would be asking twice.
fn claimed_whole(task: &TaskView, viewer: &Viewer) -> bool {
    !task.schedule.is_recurring() && task.claims.iter().any(|c| c.member == viewer.member)
}

/// Whether the viewer gave this turn back: they are not asked to take it again.
fn gave_back(task: &TaskView, at: Timestamp, viewer: &Viewer) -> bool {
    let Schedule::Repeat(r) = &task.schedule else {
        return false;
    };
    let key = r.key_of(at);
    task.turns
        .iter()
        .any(|t| t.kind == TurnKind::HandedOver && t.member == viewer.member && t.occurrence == key)
}

/// The evaluation (the day before) and the four-week check-in (on the day), for the
/// people who follow the circle up, once the plan is accepted.
pub(super) fn plan_dates(ctx: &Context<'_>, _window: Window, out: &mut Vec<Reminder>) {
    let plan = ctx.plan;
    if !ctx.viewer.audience.follows_up() || plan.plan.status != PlanStatus::Accepted {
        return;
    }
    let lang = ctx.viewer.language(ctx.plan);
    if let Some(review_at) = plan
        .plan
        .next_review_at
        .and_then(|at| pending_review(plan, at))
    {
        let day = ctx.date_of(review_at);
        if let Some(at) = day.pred_opt().and_then(|eve| ctx.at_clock(eve, NUDGE_AT)) {
            let text = texts::review(lang, ctx.zone(), review_at);
            out.push(ctx.reminder(ReminderKind::Review, at, day.to_string(), None, text));
        }
    }
    if let Some(due_at) = pending_checkin(plan) {
        let day = ctx.date_of(due_at);
        if let Some(at) = ctx.at_clock(day, NUDGE_AT) {
            let text = texts::checkin(lang);
            out.push(ctx.reminder(ReminderKind::Checkin, at, day.to_string(), None, text));
        }
    }
}

/// Monday mornings, for whoever asked for it: the week ahead in a few words.
pub(super) fn digest(ctx: &Context<'_>, window: Window, out: &mut Vec<Reminder>) {
    if !ctx.settings.digest {
        return;
    }
    for day in ctx
        .days(window)
        .filter(|d| d.weekday() == chrono::Weekday::Mon)
    {
        let Some(at) = ctx.at_clock(day, MORNING_AT) else {
            continue;
        };
        let week_end = at.plus_days(7);
        let mut week = texts::Week::default();
        for (task, occurrence) in open_occurrences(ctx.plan, at, week_end) {
            week.agreements += 1;
            if task.owner_kind == OwnerKind::Circle && task.free_slots_at(occurrence) > 0 {
                week.open += 1;
            }
            if ctx.is_mine(task, occurrence) {
                week.mine += 1;
            }
        }
        week.meetings = ctx
            .plan
            .meetings
            .iter()
            .filter(|m| m.cancelled_at.is_none() && m.at >= at && m.at < week_end)
            .count();
        let text = texts::digest(ctx.viewer.language(ctx.plan), week);
        out.push(ctx.reminder(ReminderKind::Digest, at, day.to_string(), None, text));
    }
}
