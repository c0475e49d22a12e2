//! What changed in a circle since this device last looked, as notifications for this
//! member — a pure function of the plan before, the plan after and who is looking.
//!
//! A push from the relay says only "something changed in circle X" (it cannot read
//! the plan). After the device synced, this turns the difference into words written on
//! the device, in the circle's language: "Jan doet de rit van zaterdag", "Nieuw in het
//! plan: … Er is nog iemand nodig", "Sanne bedankt: …".
//!
//! # What is news, to whom
//!
//! Nothing a member did themselves. Then:
//!
//! | kind | to |
//! |---|---|
//! | [`NewsKind::Taken`] — someone took a task or a turn | everyone |
//! | [`NewsKind::NewTask`] — a task was added | members who can take it (when it needs people) and the main person (it is her plan) |
//! | [`NewsKind::TurnFree`] — a turn was given back | members who can take it and the main person |
//! | [`NewsKind::Done`] — a task or turn was done | the main person and the task's checker |
//! | [`NewsKind::Thanks`] — a thank-you was posted | everyone |
//! | [`NewsKind::Joined`] — someone joined the circle | everyone |
//! | [`NewsKind::Meeting`] — a meeting was planned | everyone |
//! | [`NewsKind::Waitlisted`] — the fair order put my claim outside the places | me |
//! | [`NewsKind::MovedUp`] — a place opened and my waiting claim is now one of them | me |
//!
//! The last two are about the viewer's own claim, so they are news even though the
//! viewer made it: a claim made offline can lose to one made earlier elsewhere, and
//! the person who lost must hear it ("Fatima doet dit; jij staat op de wachtlijst")
//! instead of finding out on the day, or silently becoming the one doing it when
//! Fatima steps back. Neither names who stepped back.
//!
//! Only good news and what the circle needs: that a turn is free is news, *who* gave it
//! back is not, and nothing here ever says who did not help.

mod texts;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::plan::ids::{CircleId, MemberId, TaskId};
use crate::plan::view::{
    Claim, Language, LogKind, OwnerKind, PlanView, Schedule, TaskView, TurnKind,
};
use crate::reminders::Viewer;
use kring_trust::time::Timestamp;

/// More than this many notifications at once become this many minus one and a line
/// saying how many more changes there were: after a week offline, a phone that buzzes
/// forty times is a phone that gets Kring muted.
pub const MAX_NEWS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewsKind {
    Taken,
    NewTask,
    TurnFree,
    Done,
    Thanks,
    Joined,
    Meeting,
    Waitlisted,
    MovedUp,
    /// "… and 7 more changes".
    More,
}

impl NewsKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NewsKind::Taken => "taken",
            NewsKind::NewTask => "new_task",
            NewsKind::TurnFree => "turn_free",
            NewsKind::Done => "done",
            NewsKind::Thanks => "thanks",
            NewsKind::Joined => "joined",
            NewsKind::Meeting => "meeting",
            NewsKind::Waitlisted => "waitlisted",
            NewsKind::MovedUp => "moved_up",
            NewsKind::More => "more",
        }
    }
}

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Stable for the same event, so showing it twice replaces it.
    pub id: String,
    pub kind: NewsKind,
    pub circle: CircleId,
    /// When it happened (by the author's clock).
    pub at: Timestamp,
    pub task: Option<TaskId>,
    pub occurrence: Option<Timestamp>,
    /// The notification's title: the circle's name.
    pub title: String,
    /// The notification's text, in the circle's language.
    pub text: String,
}

/// An event found in the difference, before it is put in words.
struct Event<'a> {
    kind: NewsKind,
    at: Timestamp,
    by: &'a MemberId,
    /// What makes it unique within its kind (a claim, a turn, an entry id).
    key: String,
    task: Option<&'a TaskView>,
    occurrence: Option<Timestamp>,
    text: String,
    /// About the viewer's own standing: news to them although `by` may be them.
    about_me: bool,
}

/// What changed between `before` and `after` (the same circle, `after` newer) that
/// matters to `viewer`, oldest first, at most [`MAX_NEWS`].
pub fn what_changed(before: &PlanView, after: &PlanView, viewer: &Viewer) -> Vec<Notification> {
    let lang = viewer.language(after);
    let zone = after.circle.timezone.as_str();
    if !viewer.is_in(after) {
        return Vec::new();
    }
    let me = &viewer.member;
    let main_person = *me == after.circle.main_person;
    let may_take = viewer.can_claim && !main_person;
    let mut events: Vec<Event<'_>> = Vec::new();

    for task in &after.tasks {
        let old = before.task(&task.id);
        let name = |id: &MemberId| after.display_name(id);
        let when = |at: Option<Timestamp>| at.map(|at| texts::When::of(task, at, zone));
        if old.is_none() {
            let needs =
                task.owner_kind == OwnerKind::Circle && task.is_open() && task.free_slots() > 0;
            if (needs && may_take) || main_person {
                let first = task.schedule.next_occurrence(task.created_at);
                events.push(Event {
                    kind: NewsKind::NewTask,
                    at: task.created_at,
                    by: &task.created_by,
                    key: String::new(),
                    task: Some(task),
                    occurrence: first,
                    text: texts::new_task(lang, zone, &task.title, when(first), needs),
                    about_me: false,
                });
            }
        }
        // A task new since the last look is compared with nothing: its claims, turns
        // and completions are all news.
        let (old_claims, old_turns, old_completions) = match old {
            Some(old) => (&old.claims[..], &old.turns[..], &old.completions[..]),
            None => (&[][..], &[][..], &[][..]),
        };
        for claim in task.claims.iter().filter(|c| c.winner) {
            if !old_claims.iter().any(|o| o.member == claim.member) {
                // A one-off task names its date; a whole series is just "doet: …".
                let first = task
                    .schedule
                    .next_occurrence(claim.at)
                    .filter(|_| !task.schedule.is_recurring());
                let turn = first.map(|at| (texts::When::of(task, at, zone), false));
                events.push(Event {
                    kind: NewsKind::Taken,
                    at: claim.at,
                    by: &claim.member,
                    key: claim.member.as_str().to_owned(),
                    task: Some(task),
                    occurrence: first,
                    text: texts::taken(lang, zone, &name(&claim.member), &task.title, turn),
                    about_me: false,
                });
            }
        }
        for turn in task.turns.iter().filter(|t| !old_turns.contains(t)) {
            let Some(at) = occurrence_of(&task.schedule, &turn.occurrence) else {
                continue;
            };
            let key = format!("{}{}", turn.member.as_str(), turn.occurrence);
            let (kind, text) = match turn.kind {
                TurnKind::HandedOver if may_take || main_person => (
                    NewsKind::TurnFree,
                    texts::turn_free(lang, zone, &task.title, texts::When::of(task, at, zone)),
                ),
                TurnKind::HandedOver => continue,
                TurnKind::One | TurnKind::From if task.doing_at(at).contains(&turn.member) => {
                    let when = texts::When::of(task, at, zone);
                    let from = turn.kind == TurnKind::From;
                    let text = texts::taken(
                        lang,
                        zone,
                        &name(&turn.member),
                        &task.title,
                        Some((when, from)),
                    );
                    (NewsKind::Taken, text)
                }
                TurnKind::One | TurnKind::From => continue,
            };
            events.push(Event {
                kind,
                at: turn.at,
                by: &turn.member,
                key,
                task: Some(task),
                occurrence: Some(at),
                text,
                about_me: false,
            });
        }
        let told_of_done = main_person || task.checker.as_ref() == Some(me);
        for done in task
            .completions
            .iter()
            .filter(|c| !old_completions.contains(c))
        {
            if told_of_done {
                events.push(Event {
                    kind: NewsKind::Done,
                    at: done.at,
                    by: &done.by,
                    key: done.id.as_str().to_owned(),
                    task: Some(task),
                    occurrence: done.occurrence,
                    text: texts::done(
                        lang,
                        zone,
                        &name(&done.by),
                        &task.title,
                        when(done.occurrence),
                    ),
                    about_me: false,
                });
            }
        }
    }
    for entry in after.log.iter().filter(|e| e.kind == LogKind::Thanks) {
        if !before.log.iter().any(|o| o.id == entry.id) {
            events.push(Event {
                kind: NewsKind::Thanks,
                at: entry.at,
                by: &entry.by,
                key: entry.id.as_str().to_owned(),
                task: None,
                occurrence: None,
                text: texts::thanks(lang, &after.display_name(&entry.by), &entry.text),
                about_me: false,
            });
        }
    }
    for member in after.members.iter().filter(|m| m.is_active()) {
        if before.member(&member.id).is_none() {
            events.push(Event {
                kind: NewsKind::Joined,
                at: member.joined_at,
                by: &member.id,
                key: member.id.as_str().to_owned(),
                task: None,
                occurrence: None,
                text: texts::joined(lang, &member.display_name),
                about_me: false,
            });
        }
    }
    for meeting in after.meetings.iter().filter(|m| m.cancelled_at.is_none()) {
        if !before.meetings.iter().any(|o| o.id == meeting.id) {
            events.push(Event {
                kind: NewsKind::Meeting,
                at: meeting.at,
                by: &meeting.created_by,
                key: meeting.id.as_str().to_owned(),
                task: None,
                occurrence: Some(meeting.at),
                text: texts::meeting(lang, zone, meeting.at, &meeting.place),
                about_me: false,
            });
        }
    }

    events.extend(standing_events(before, after, viewer));

    // A member's own doings are not news to them.
    events.retain(|e| e.about_me || e.by != me);
    events.sort_by(|a, b| (a.at, a.kind, &a.key).cmp(&(b.at, b.kind, &b.key)));
    let news: Vec<Notification> = events.into_iter().map(|e| notification(after, e)).collect();
    capped(after, lang, news)
}

/// Only what changed about `viewer`'s own places between `before` and `after`:
/// [`NewsKind::Waitlisted`] and [`NewsKind::MovedUp`], oldest first. What a sync tells
/// its person right away, whether or not they look at the news.
pub fn where_you_stand(before: &PlanView, after: &PlanView, viewer: &Viewer) -> Vec<Notification> {
    if !viewer.is_in(after) {
        return Vec::new();
    }
    let mut events = standing_events(before, after, viewer);
    events.sort_by(|a, b| (a.at, a.kind, &a.key).cmp(&(b.at, b.kind, &b.key)));
    events.into_iter().map(|e| notification(after, e)).collect()
}

/// `Some(true)` when `me` is among the winners of `claims`, `Some(false)` when waiting
/// behind them, `None` without a claim.
fn place_of(claims: &[Claim], me: &MemberId) -> Option<bool> {
    claims.iter().find(|c| &c.member == me).map(|c| c.winner)
}

/// One place to stand in: the whole task (`None`) or one turn (its occurrence key),
/// with who is on it now and before (`None` when the task is new since).
type Places = (Option<String>, Vec<Claim>, Option<Vec<Claim>>);

/// Where `me` moved between the two views, on open tasks: onto the waiting list
/// (outside the places, by the fair order every replica computes) or up from it. A
/// whole task (or series) by its claims; one turn of a series by who is on it.
fn standing_events<'a>(
    before: &'a PlanView,
    after: &'a PlanView,
    viewer: &'a Viewer,
) -> Vec<Event<'a>> {
    let me = &viewer.member;
    let lang = viewer.language(after);
    let zone = after.circle.timezone.as_str();
    let mut events = Vec::new();
    for task in after.tasks.iter().filter(|t| t.is_open()) {
        let old = before.task(&task.id);
        let mut places: Vec<Places> =
            vec![(None, task.claims.clone(), old.map(|o| o.claims.clone()))];
        let mut keys: Vec<&str> = task
            .turns
            .iter()
            .filter(|t| &t.member == me && t.kind != TurnKind::HandedOver)
            .map(|t| t.occurrence.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            places.push((
                Some(key.to_owned()),
                task.people_on(key),
                old.map(|o| o.people_on(key)),
            ));
        }
        for (occurrence, now, then) in places {
            let was = then.as_deref().and_then(|c| place_of(c, me));
            let (kind, at) = match place_of(&now, me) {
                Some(false) if was != Some(false) => (NewsKind::Waitlisted, my_claim_at(&now, me)),
                Some(true) if was == Some(false) => (NewsKind::MovedUp, my_claim_at(&now, me)),
                _ => continue,
            };
            let turn_at = occurrence
                .as_deref()
                .and_then(|key| occurrence_of(&task.schedule, key));
            if occurrence.is_some() && turn_at.is_none() {
                continue;
            }
            let when = turn_at.map(|at| texts::When::of(task, at, zone));
            let doing: Vec<String> = now
                .iter()
                .filter(|c| c.winner)
                .map(|c| after.display_name(&c.member))
                .collect();
            let text = match kind {
                NewsKind::Waitlisted => texts::waitlisted(lang, zone, &doing, &task.title, when),
                _ => texts::moved_up(lang, zone, &task.title, when),
            };
            events.push(Event {
                kind,
                at,
                by: me,
                key: format!("{}{}", me.as_str(), occurrence.unwrap_or_default()),
                task: Some(task),
                occurrence: turn_at,
                text,
                about_me: true,
            });
        }
    }
    events
}

fn my_claim_at(claims: &[Claim], me: &MemberId) -> Timestamp {
    claims
        .iter()
        .find(|c| &c.member == me)
        .map_or(Timestamp(0), |c| c.at)
}

fn notification(plan: &PlanView, e: Event<'_>) -> Notification {
    let task = e.task.map(|t| t.id.clone());
    Notification {
        id: format!(
            "{}:{}:{}:{}",
            e.kind.as_str(),
            plan.circle.id.as_str(),
            task.as_ref().map_or("", |t| t.as_str()),
            e.key
        ),
        kind: e.kind,
        circle: plan.circle.id.clone(),
        at: e.at,
        task,
        occurrence: e.occurrence,
        title: plan.circle.name.clone(),
        text: e.text,
    }
}

/// At most [`MAX_NEWS`]: the oldest ones and a line for the rest.
fn capped(plan: &PlanView, lang: Language, mut news: Vec<Notification>) -> Vec<Notification> {
    if news.len() <= MAX_NEWS {
        return news;
    }
    let rest = news.split_off(MAX_NEWS - 1);
    let last = rest.last().map_or(Timestamp(0), |n| n.at);
    news.push(Notification {
        id: format!("more:{}:{}", plan.circle.id.as_str(), last.0),
        kind: NewsKind::More,
        circle: plan.circle.id.clone(),
        at: last,
        task: None,
        occurrence: None,
        title: plan.circle.name.clone(),
        text: texts::more(lang, rest.len()),
    });
    news
}

/// The instant of the occurrence whose local start is `key` in a series.
fn occurrence_of(schedule: &Schedule, key: &str) -> Option<Timestamp> {
    let Schedule::Repeat(r) = schedule else {
        return None;
    };
    r.instant_of(key)
}
