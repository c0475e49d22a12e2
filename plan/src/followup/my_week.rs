//! "My plan this week": what is planned for the main person in the next seven days,
//! and by whom, in plain language.
//!
//! The window is `[now, now + MY_WEEK_DAYS days)`. It holds
//! - every occurrence of a task that is not cancelled or archived (done ones too, so
//!   the main person sees what was already taken care of);
//! - every meeting;
//! - the evaluation date, if it falls in the window.
//!
//! Unscheduled tasks have no day and are left out. Each item carries a sentence in the
//! requested language ("Dinsdag 14 mei om 10.00 uur: Naar de dokter. Jan doet dit.").
//! Days and times are on the circle's clock (its time zone). Sentences are plain text containing names and titles
//! people wrote; whoever displays them escapes them.

use super::occurrences::{agreed_occurrences, completion_for};
use super::signals::MemberRef;
use super::MY_WEEK_DAYS;
use crate::export::text::{capitalize, format_day, join_names, pick, When};
use crate::plan::ids::{CircleId, EntryId, TaskId};
use crate::plan::view::{Language, OwnerKind, PlanView, TaskCategory, TaskStatus, TaskView};
use kring_trust::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyWeek {
    pub circle: CircleId,
    pub language: Language,
    pub main_person: MemberRef,
    pub from: Timestamp,
    pub to: Timestamp,
    /// "Je plan deze week" / "Your plan this week".
    pub heading: String,
    /// One or two sentences: how many agreements, how many still need someone.
    pub summary: String,
    /// Sorted by time, then reviews and meetings before tasks, then id.
    pub items: Vec<WeekItem>,
    /// Circle tasks in the window that are not done and still need people.
    pub open_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekItem {
    pub at: Timestamp,
    /// "Dinsdag 14 mei" / "Tuesday 14 May".
    pub day: String,
    /// The whole item in one plain-language sentence (or two).
    pub sentence: String,
    #[serde(flatten)]
    pub kind: WeekItemKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WeekItemKind {
    Task {
        task: TaskId,
        title: String,
        category: TaskCategory,
        owner_kind: OwnerKind,
        /// Who is doing it (the winning claims).
        helpers: Vec<MemberRef>,
        /// Places nobody has taken yet.
        free_slots: u32,
        /// Who did it, when this occurrence is already done.
        done_by: Option<MemberRef>,
    },
    Meeting {
        meeting: EntryId,
        place: String,
        agenda: String,
    },
    Review,
}

impl WeekItemKind {
    fn rank(&self) -> (u8, &str) {
        match self {
            WeekItemKind::Review => (0, ""),
            WeekItemKind::Meeting { meeting, .. } => (1, meeting.as_str()),
            WeekItemKind::Task { task, .. } => (2, task.as_str()),
        }
    }

    fn is_open(&self) -> bool {
        matches!(self, WeekItemKind::Task { owner_kind: OwnerKind::Circle, free_slots, done_by: None, .. } if *free_slots > 0)
    }
}

/// The main person's next seven days, in `lang`.
pub fn my_week(plan: &PlanView, now: Timestamp, lang: Language) -> MyWeek {
    let to = now.plus_days(MY_WEEK_DAYS);
    let mut items: Vec<WeekItem> = Vec::new();
    for task in plan.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
        items.extend(
            agreed_occurrences(task, now, to)
                .into_iter()
                .map(|at| task_item(plan, task, at, lang)),
        );
    }
    for meeting in plan.meetings.iter().filter(|m| m.at >= now && m.at < to) {
        let kind = WeekItemKind::Meeting {
            meeting: meeting.id.clone(),
            place: meeting.place.clone(),
            agenda: meeting.agenda.clone(),
        };
        items.push(item(
            When::moment(meeting.at, &plan.circle.timezone),
            lang,
            &plan.circle.timezone,
            meeting_sentence(lang, &meeting.place),
            kind,
        ));
    }
    if let Some(at) = plan.plan.next_review_at.filter(|&at| at >= now && at < to) {
        let sentence = pick(
            lang,
            "We kijken samen hoe het plan gaat (evaluatie).",
            "Together we look at how the plan is going (evaluation).",
        );
        items.push(item(
            When::moment(at, &plan.circle.timezone),
            lang,
            &plan.circle.timezone,
            sentence.to_owned(),
            WeekItemKind::Review,
        ));
    }
    items.sort_by(|a, b| (a.at, a.kind.rank()).cmp(&(b.at, b.kind.rank())));

    let open_count =
        u32::try_from(items.iter().filter(|i| i.kind.is_open()).count()).unwrap_or(u32::MAX);
    MyWeek {
        circle: plan.circle.id.clone(),
        language: lang,
        main_person: MemberRef::of(plan, &plan.circle.main_person),
        from: now,
        to,
        heading: pick(lang, "Je plan deze week", "Your plan this week").to_owned(),
        summary: summary(lang, items.len(), open_count),
        items,
        open_count,
    }
}

/// An item whose sentence starts with its day, and its time unless it is a whole day
/// (an all-day task, a deadline or evaluation typed as a date).
fn item(when: When, lang: Language, zone: &str, sentence: String, kind: WeekItemKind) -> WeekItem {
    WeekItem {
        at: when.at,
        sentence: format!("{}: {sentence}", capitalize(&when.phrase(lang, zone))),
        day: capitalize(&format_day(lang, zone, when.at)),
        kind,
    }
}

fn task_item(plan: &PlanView, task: &TaskView, at: Timestamp, lang: Language) -> WeekItem {
    let helpers: Vec<MemberRef> = task.winners().map(|m| MemberRef::of(plan, m)).collect();
    let done_by = completion_for(task, at).map(|c| MemberRef::of(plan, &c.by));
    let who = who_sentence(lang, task, &helpers, done_by.as_ref());
    let sentence = format!("{}. {who}", task.title.trim_end_matches('.'));
    let kind = WeekItemKind::Task {
        task: task.id.clone(),
        title: task.title.clone(),
        category: task.category,
        owner_kind: task.owner_kind,
        free_slots: task.free_slots(),
        helpers,
        done_by,
    };
    let zone = &plan.circle.timezone;
    item(When::of(task, at, zone), lang, zone, sentence, kind)
}

/// Who does it, in one or two short sentences.
fn who_sentence(
    lang: Language,
    task: &TaskView,
    helpers: &[MemberRef],
    done_by: Option<&MemberRef>,
) -> String {
    if let Some(by) = done_by {
        return pick(
            lang,
            format!("{} heeft dit al gedaan.", by.name),
            format!("{} has already done this.", by.name),
        );
    }
    if task.owner_kind == OwnerKind::MainPerson {
        return pick(lang, "Dit doe je zelf.", "You do this yourself.").to_owned();
    }
    let names: Vec<String> = helpers.iter().map(|m| m.name.clone()).collect();
    let doing = match (lang, names.len()) {
        (_, 0) if task.owner_kind == OwnerKind::Professional => {
            return pick(
                lang,
                "Een hulpverlener doet dit.",
                "A professional does this.",
            )
            .to_owned()
        }
        (_, 0) => {
            return pick(
                lang,
                "Dit is nog niet geregeld.",
                "This is not arranged yet.",
            )
            .to_owned()
        }
        (Language::Nl, 1) => format!("{} doet dit.", names[0]),
        (Language::Nl, _) => format!("{} doen dit.", join_names(lang, &names)),
        (Language::En, _) => format!("{} will do this.", join_names(lang, &names)),
    };
    match task.free_slots() {
        0 => doing,
        1 => format!(
            "{doing} {}",
            pick(
                lang,
                "Er is nog 1 persoon nodig.",
                "1 more person is needed."
            )
        ),
        n => format!(
            "{doing} {}",
            pick(
                lang,
                format!("Er zijn nog {n} mensen nodig."),
                format!("{n} more people are needed.")
            )
        ),
    }
}

fn meeting_sentence(lang: Language, place: &str) -> String {
    let place = place.trim();
    match (lang, place.is_empty()) {
        (Language::Nl, true) => "Overleg met je kring.".to_owned(),
        (Language::Nl, false) => format!("Overleg met je kring. Waar: {place}."),
        (Language::En, true) => "Meeting with your circle.".to_owned(),
        (Language::En, false) => format!("Meeting with your circle. Where: {place}."),
    }
}

fn summary(lang: Language, total: usize, open: u32) -> String {
    let mut s = match (lang, total) {
        (Language::Nl, 0) => "Deze week staat er niets in je plan.".to_owned(),
        (Language::Nl, 1) => "Deze week staat er 1 ding in je plan.".to_owned(),
        (Language::Nl, n) => format!("Deze week staan er {n} dingen in je plan."),
        (Language::En, 0) => "Nothing is planned for you this week.".to_owned(),
        (Language::En, 1) => "Your plan has 1 thing this week.".to_owned(),
        (Language::En, n) => format!("Your plan has {n} things this week."),
    };
    match (lang, open) {
        (_, 0) => {}
        (Language::Nl, 1) => s += " 1 daarvan is nog niet geregeld.",
        (Language::Nl, n) => s += &format!(" {n} daarvan zijn nog niet geregeld."),
        (Language::En, 1) => s += " 1 of them is not arranged yet.",
        (Language::En, n) => s += &format!(" {n} of them are not arranged yet."),
    }
    s
}
