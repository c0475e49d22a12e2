//! What each reminder says, in the circle's language: short, plain (B1 Dutch), and
//! never about who did not help. Titles are text people wrote; whoever shows a
//! reminder escapes it.

pub(super) use crate::export::text::When;
use crate::export::text::{capitalize, format_day, format_time, pick};
use crate::plan::view::Language;
use kring_trust::time::Timestamp;

use crate::export::text::title;

pub(super) fn turn_tomorrow(lang: Language, zone: &str, task: &str, when: When) -> String {
    let task = title(task);
    match (lang, when.all_day) {
        (Language::Nl, true) => format!("Morgen: {task}. Jij doet dit."),
        (Language::Nl, false) => format!(
            "Morgen om {}: {task}. Jij doet dit.",
            format_time(lang, zone, when.at)
        ),
        (Language::En, true) => format!("Tomorrow: {task}. You are doing this."),
        (Language::En, false) => format!(
            "Tomorrow at {}: {task}. You are doing this.",
            format_time(lang, zone, when.at)
        ),
    }
}

pub(super) fn turn_soon(lang: Language, zone: &str, task: &str, when: When) -> String {
    let task = title(task);
    match (lang, when.all_day) {
        (Language::Nl, true) => format!("Vandaag: {task}. Jij doet dit."),
        (Language::Nl, false) => format!(
            "Om {}: {task}. Jij doet dit.",
            format_time(lang, zone, when.at)
        ),
        (Language::En, true) => format!("Today: {task}. You are doing this."),
        (Language::En, false) => format!(
            "At {}: {task}. You are doing this.",
            format_time(lang, zone, when.at)
        ),
    }
}

pub(super) fn needs_people(
    lang: Language,
    zone: &str,
    task: &str,
    when: When,
    free: u32,
) -> String {
    let (task, when) = (title(task), when.phrase(lang, zone));
    match (lang, free) {
        (Language::Nl, 1) => format!("{task}, {when}: er is nog iemand nodig. Kun jij?"),
        (Language::Nl, n) => format!("{task}, {when}: er zijn nog {n} mensen nodig. Kun jij?"),
        (Language::En, 1) => format!("{task}, {when}: someone is still needed. Can you?"),
        (Language::En, n) => format!("{task}, {when}: {n} more people are needed. Can you?"),
    }
}

pub(super) fn turn_handed_over(lang: Language, zone: &str, task: &str, when: When) -> String {
    let (task, when) = (title(task), when.phrase(lang, zone));
    pick(
        lang,
        format!("Er is een beurt vrij: {task}, {when}. Kun jij?"),
        format!("A turn is free: {task}, {when}. Can you?"),
    )
}

pub(super) fn review(lang: Language, zone: &str, at: Timestamp) -> String {
    let day = capitalize(&format_day(lang, zone, at));
    pick(
        lang,
        format!("Morgen ({day}) kijken jullie samen hoe het plan gaat: de evaluatie."),
        format!("Tomorrow ({day}) you look together at how the plan is going: the evaluation."),
    )
}

pub(super) fn checkin(lang: Language) -> String {
    pick(
        lang,
        "Het plan loopt nu vier weken. Tijd voor een korte check-in: hoe gaat het?",
        "The plan has been running for four weeks. Time for a short check-in: how is it going?",
    )
    .to_owned()
}

/// The week ahead, counted.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Week {
    pub agreements: usize,
    pub open: usize,
    pub mine: usize,
    pub meetings: usize,
}

pub(super) fn digest(lang: Language, week: Week) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.push(match (lang, week.agreements) {
        (Language::Nl, 0) => "Deze week staan er geen afspraken in het plan.".to_owned(),
        (Language::Nl, 1) => "Deze week staat er 1 afspraak in het plan.".to_owned(),
        (Language::Nl, n) => format!("Deze week staan er {n} afspraken in het plan."),
        (Language::En, 0) => "No agreements in the plan this week.".to_owned(),
        (Language::En, 1) => "1 agreement in the plan this week.".to_owned(),
        (Language::En, n) => format!("{n} agreements in the plan this week."),
    });
    match (lang, week.open) {
        (_, 0) => {}
        (Language::Nl, 1) => parts.push("Bij 1 is nog iemand nodig.".to_owned()),
        (Language::Nl, n) => parts.push(format!("Bij {n} is nog iemand nodig.")),
        (Language::En, 1) => parts.push("1 still needs someone.".to_owned()),
        (Language::En, n) => parts.push(format!("{n} still need someone.")),
    }
    match (lang, week.mine) {
        (_, 0) => {}
        (Language::Nl, n) => parts.push(format!("Jij doet er {n}.")),
        (Language::En, n) => parts.push(format!("You are doing {n}.")),
    }
    match (lang, week.meetings) {
        (_, 0) => {}
        (Language::Nl, 1) => parts.push("Er is een overleg.".to_owned()),
        (Language::Nl, n) => parts.push(format!("Er zijn {n} overleggen.")),
        (Language::En, 1) => parts.push("There is a meeting.".to_owned()),
        (Language::En, n) => parts.push(format!("There are {n} meetings.")),
    }
    parts.join(" ")
}
