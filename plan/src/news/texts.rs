//! What each notification says, in the circle's language (B1 Dutch or plain English).
//! Names and titles are text people wrote; whoever shows a notification escapes it.

pub(super) use crate::export::text::When;
use crate::export::text::{join_names, pick, title};
use crate::plan::view::Language;
use kring_trust::time::Timestamp;

/// A thank-you longer than this is cut (with "…") to fit a notification.
const THANKS_CHARS: usize = 120;

/// "Jan doet: Naar het ziekenhuis rijden." — a turn: "Jan doet Koken bij Sanne op
/// woensdag 9 december om 17.00 uur." — from a turn on: "… vanaf …".
pub(super) fn taken(
    lang: Language,
    zone: &str,
    who: &str,
    task: &str,
    turn: Option<(When, bool)>,
) -> String {
    let task = title(task);
    match (lang, turn) {
        (Language::Nl, None) => format!("{who} doet: {task}."),
        (Language::En, None) => format!("{who} is doing: {task}."),
        (Language::Nl, Some((when, false))) => {
            format!("{who} doet {task} op {}.", when.phrase(lang, zone))
        }
        (Language::Nl, Some((when, true))) => {
            format!("{who} doet {task} vanaf {}.", when.phrase(lang, zone))
        }
        (Language::En, Some((when, false))) => {
            format!("{who} is doing {task} on {}.", when.phrase(lang, zone))
        }
        (Language::En, Some((when, true))) => {
            format!("{who} is doing {task} from {} on.", when.phrase(lang, zone))
        }
    }
}

pub(super) fn new_task(
    lang: Language,
    zone: &str,
    task: &str,
    when: Option<When>,
    needs_people: bool,
) -> String {
    let task = title(task);
    let mut s = match (lang, when) {
        (Language::Nl, None) => format!("Nieuw in het plan: {task}."),
        (Language::Nl, Some(w)) => format!("Nieuw in het plan: {task}, {}.", w.phrase(lang, zone)),
        (Language::En, None) => format!("New in the plan: {task}."),
        (Language::En, Some(w)) => format!("New in the plan: {task}, {}.", w.phrase(lang, zone)),
    };
    if needs_people {
        s.push(' ');
        s.push_str(pick(
            lang,
            "Er is nog iemand nodig.",
            "Someone is still needed.",
        ));
    }
    s
}

pub(super) fn turn_free(lang: Language, zone: &str, task: &str, when: When) -> String {
    let (task, when) = (title(task), when.phrase(lang, zone));
    pick(
        lang,
        format!("Er is een beurt vrij: {task}, {when}."),
        format!("A turn is free: {task}, {when}."),
    )
}

pub(super) fn done(
    lang: Language,
    zone: &str,
    who: &str,
    task: &str,
    when: Option<When>,
) -> String {
    let task = title(task);
    match (lang, when) {
        (Language::Nl, None) => format!("{who} heeft dit gedaan: {task}."),
        (Language::Nl, Some(w)) => {
            format!("{who} heeft dit gedaan: {task}, {}.", w.phrase(lang, zone))
        }
        (Language::En, None) => format!("{who} has done this: {task}."),
        (Language::En, Some(w)) => {
            format!("{who} has done this: {task}, {}.", w.phrase(lang, zone))
        }
    }
}

pub(super) fn thanks(lang: Language, who: &str, text: &str) -> String {
    let text = text.trim();
    let short: String = if text.chars().count() > THANKS_CHARS {
        let cut: String = text.chars().take(THANKS_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        text.to_owned()
    };
    pick(
        lang,
        format!("{who} bedankt: \u{201c}{short}\u{201d}"),
        format!("{who} says thank you: \u{201c}{short}\u{201d}"),
    )
}

pub(super) fn joined(lang: Language, who: &str) -> String {
    pick(
        lang,
        format!("{who} is nu ook in de kring."),
        format!("{who} has joined the circle."),
    )
}

pub(super) fn meeting(lang: Language, zone: &str, at: Timestamp, place: &str) -> String {
    let when = When::moment(at, zone).phrase(lang, zone);
    let place = place.trim();
    match (lang, place.is_empty()) {
        (Language::Nl, true) => format!("Nieuw overleg: {when}."),
        (Language::Nl, false) => format!("Nieuw overleg: {when}. Waar: {place}."),
        (Language::En, true) => format!("New meeting: {when}."),
        (Language::En, false) => format!("New meeting: {when}. Where: {place}."),
    }
}

pub(super) fn more(lang: Language, n: usize) -> String {
    match (lang, n) {
        (Language::Nl, 1) => "En nog 1 andere wijziging in het plan.".to_owned(),
        (Language::Nl, n) => format!("En nog {n} andere wijzigingen in het plan."),
        (Language::En, 1) => "And 1 more change in the plan.".to_owned(),
        (Language::En, n) => format!("And {n} more changes in the plan."),
    }
}

/// "Fatima doet dit: Rit. Jij staat op de wachtlijst; komt er een plek vrij, dan hoor
/// je het." — for a turn: "Fatima doet Koken op woensdag 24 maart om 17.00 uur. …".
pub(super) fn waitlisted(
    lang: Language,
    zone: &str,
    doing: &[String],
    task: &str,
    when: Option<When>,
) -> String {
    let (task, who) = (title(task), join_names(lang, doing));
    let first = match (lang, when) {
        (Language::Nl, None) => format!("{who} doet dit: {task}."),
        (Language::Nl, Some(w)) => format!("{who} doet {task} op {}.", w.phrase(lang, zone)),
        (Language::En, None) => format!("{who} is doing this: {task}."),
        (Language::En, Some(w)) => format!("{who} is doing {task} on {}.", w.phrase(lang, zone)),
    };
    let rest = pick(
        lang,
        "Jij staat op de wachtlijst; komt er een plek vrij, dan hoor je het.",
        "You are on the waiting list; if a place opens up, you will hear.",
    );
    format!("{first} {rest}")
}

/// "Er is een plek vrij gekomen: jij doet nu Rit." (a turn: "… op woensdag …").
pub(super) fn moved_up(lang: Language, zone: &str, task: &str, when: Option<When>) -> String {
    let task = title(task);
    match (lang, when) {
        (Language::Nl, None) => format!("Er is een plek vrij gekomen: jij doet nu {task}."),
        (Language::Nl, Some(w)) => format!(
            "Er is een plek vrij gekomen: jij doet nu {task} op {}.",
            w.phrase(lang, zone)
        ),
        (Language::En, None) => format!("A place opened up: you are now doing {task}."),
        (Language::En, Some(w)) => format!(
            "A place opened up: you are now doing {task} on {}.",
            w.phrase(lang, zone)
        ),
    }
}
