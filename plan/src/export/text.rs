//! The words Kring itself writes, in Dutch and English.
//!
//! Dutch is written at B1 level (plain language): short sentences, common words,
//! questions as headings ("Wie doet wat?"). Everything here is text *we* wrote; text
//! people wrote (names, titles, notes) never passes through here as a format string,
//! it is always kept separate so the renderers can escape it.
//!
//! Dates and times are shown in the circle's time zone, in words ("dinsdag 14 mei om
//! 10.00 uur"). Whether a date has a clock time at all is decided once, by [`When`]: a
//! whole day is written as a day.

use crate::plan::view::{Language, PlanStatus, Relation, Schedule, TaskView};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::plan::recurrence::{civil, is_midnight, CivilStart, Recurrence};
use kring_trust::time::Timestamp;

/// Fixed labels of an exported plan.
#[derive(Debug)]
pub struct Texts {
    pub doc_title: &'static str,
    pub circle: &'static str,
    pub main_person: &'static str,
    pub status: &'static str,
    pub made_on: &'static str,
    /// "Alle tijden zijn in de tijdzone" — followed by the circle's zone.
    pub times_in_zone: &'static str,
    pub question: &'static str,
    pub concerns: &'static str,
    pub goals: &'static str,
    pub agreements: &'static str,
    pub professionals: &'static str,
    pub safety: &'static str,
    pub contingencies: &'static str,
    pub evaluation: &'static str,
    pub participants: &'static str,
    pub approvals: &'static str,
    pub nothing_yet: &'static str,
    pub col_what: &'static str,
    pub col_who: &'static str,
    pub col_when: &'static str,
    pub col_checker: &'static str,
    pub col_name: &'static str,
    pub col_relation: &'static str,
    pub col_role: &'static str,
    pub nobody_yet: &'static str,
    pub done: &'static str,
    pub set_by: &'static str,
    pub accepted_on: &'static str,
    pub not_accepted_yet: &'static str,
    pub next_evaluation: &'static str,
    pub no_evaluation_date: &'static str,
    pub earlier_evaluations: &'static str,
    pub footer: &'static str,
}

const NL: Texts = Texts {
    doc_title: "Familiegroepsplan",
    circle: "Kring",
    main_person: "Hoofdpersoon",
    status: "Status",
    made_on: "Gemaakt op",
    times_in_zone: "Alle tijden zijn in de tijdzone",
    question: "Wat is de vraag?",
    concerns: "Waar maken we ons zorgen over?",
    goals: "Wat willen we bereiken?",
    agreements: "Wie doet wat?",
    professionals: "Wat doen de hulpverleners?",
    safety: "Wat moet er gebeuren voor de veiligheid?",
    contingencies: "Als het anders gaat",
    evaluation: "Wanneer kijken we hoe het gaat?",
    participants: "Wie doen er mee?",
    approvals: "Wie zijn het eens met het plan?",
    nothing_yet: "Nog niets ingevuld.",
    col_what: "Wat",
    col_who: "Wie",
    col_when: "Wanneer",
    col_checker: "Wie controleert",
    col_name: "Naam",
    col_relation: "Relatie",
    col_role: "Rol",
    nobody_yet: "Nog niemand",
    done: "klaar",
    set_by: "Gevraagd door",
    accepted_on: "Akkoord op",
    not_accepted_yet: "Nog niet akkoord",
    next_evaluation: "Volgende evaluatie",
    no_evaluation_date: "Er is nog geen datum.",
    earlier_evaluations: "Eerdere evaluaties",
    footer: "Gemaakt met Kring.",
};

const EN: Texts = Texts {
    doc_title: "Family group plan",
    circle: "Circle",
    main_person: "Main person",
    status: "Status",
    made_on: "Made on",
    times_in_zone: "All times are in the time zone",
    question: "What is the question?",
    concerns: "What are we worried about?",
    goals: "What do we want to achieve?",
    agreements: "Who does what?",
    professionals: "What do the professionals do?",
    safety: "What must happen to keep everyone safe?",
    contingencies: "If it goes differently",
    evaluation: "When do we look at how it is going?",
    participants: "Who takes part?",
    approvals: "Who agreed to the plan?",
    nothing_yet: "Nothing filled in yet.",
    col_what: "What",
    col_who: "Who",
    col_when: "When",
    col_checker: "Who checks",
    col_name: "Name",
    col_relation: "Relation",
    col_role: "Role",
    nobody_yet: "Nobody yet",
    done: "done",
    set_by: "Set by",
    accepted_on: "Accepted on",
    not_accepted_yet: "Not accepted yet",
    next_evaluation: "Next evaluation",
    no_evaluation_date: "There is no date yet.",
    earlier_evaluations: "Earlier evaluations",
    footer: "Made with Kring.",
};

pub fn texts(lang: Language) -> &'static Texts {
    match lang {
        Language::Nl => &NL,
        Language::En => &EN,
    }
}

/// Picks the Dutch or English variant.
pub(crate) fn pick<T>(lang: Language, nl: T, en: T) -> T {
    match lang {
        Language::Nl => nl,
        Language::En => en,
    }
}

/// Weekday name as used inside a sentence ("dinsdag", "Tuesday").
fn weekday_name(lang: Language, day: chrono::Weekday) -> &'static str {
    const NL_DAYS: [&str; 7] = [
        "maandag",
        "dinsdag",
        "woensdag",
        "donderdag",
        "vrijdag",
        "zaterdag",
        "zondag",
    ];
    const EN_DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let i = usize::try_from(day.num_days_from_monday()).unwrap_or(0);
    pick(lang, NL_DAYS, EN_DAYS)[i]
}

/// First letter upper case, for a phrase that starts a sentence.
pub(crate) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn month_name(lang: Language, month: u32) -> &'static str {
    const NL_MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    const EN_MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let i = usize::try_from(month.clamp(1, 12) - 1).unwrap_or(0);
    pick(lang, NL_MONTHS, EN_MONTHS)[i]
}

/// A civil date in words: "14 mei", with the weekday ("dinsdag 14 mei") and the year
/// ("14 mei 2024") when asked. Every date Kring writes in words goes through here.
fn date_words(lang: Language, date: NaiveDate, weekday: bool, year: bool) -> String {
    let mut out = String::new();
    if weekday {
        out.push_str(weekday_name(lang, date.weekday()));
        out.push(' ');
    }
    out.push_str(&format!(
        "{} {}",
        date.day(),
        month_name(lang, date.month())
    ));
    if year {
        out.push_str(&format!(" {}", date.year()));
    }
    out
}

/// "10.00 uur" / "10:00": the one way Kring writes a time of day.
fn clock_words(lang: Language, time: NaiveTime) -> String {
    let (hour, minute) = (time.hour(), time.minute());
    match lang {
        Language::Nl => format!("{hour}.{minute:02} uur"),
        Language::En => format!("{hour}:{minute:02}"),
    }
}

/// A day, and its time unless `time` is `None`: "dinsdag 14 mei om 10.00 uur".
fn day_and_time(lang: Language, date: NaiveDate, time: Option<NaiveTime>, year: bool) -> String {
    let day = date_words(lang, date, true, year);
    match time {
        Some(t) => format!("{day} {} {}", pick(lang, "om", "at"), clock_words(lang, t)),
        None => day,
    }
}

/// "14 mei 2024" / "14 May 2024".
pub(crate) fn format_date(lang: Language, zone: &str, at: Timestamp) -> String {
    date_words(lang, civil(at, zone).date(), false, true)
}

/// "dinsdag 14 mei" / "Tuesday 14 May".
pub(crate) fn format_day(lang: Language, zone: &str, at: Timestamp) -> String {
    date_words(lang, civil(at, zone).date(), true, false)
}

/// "10.00 uur" / "10:00".
pub(crate) fn format_time(lang: Language, zone: &str, at: Timestamp) -> String {
    clock_words(lang, civil(at, zone).time())
}

/// A moment of the plan as people read it: with its time of day, or as a day alone.
///
/// This is the one place that decides whether a date is shown with a clock time, so
/// no screen, export or message says "om 0.00 uur" for something that has no time:
/// an occurrence of an all-day task, a deadline typed as a date, an evaluation day
/// (see [`Schedule::is_all_day`] and [`is_midnight`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub at: Timestamp,
    pub all_day: bool,
}

impl When {
    /// An occurrence of `task`: a day when the task's dates are days.
    pub fn of(task: &TaskView, at: Timestamp, zone: &str) -> When {
        When::in_schedule(&task.schedule, at, zone)
    }

    /// An occurrence of `schedule` at `at`.
    pub fn in_schedule(schedule: &Schedule, at: Timestamp, zone: &str) -> When {
        When {
            at,
            all_day: schedule.is_all_day(zone),
        }
    }

    /// A moment stored as an instant (an evaluation, a meeting): a day when it is
    /// 00:00 on the circle's clock, which is how a date typed without a time is kept.
    pub fn moment(at: Timestamp, zone: &str) -> When {
        When {
            at,
            all_day: is_midnight(at, zone),
        }
    }

    /// "woensdag 24 maart om 17.00 uur", or "woensdag 24 maart" for a whole day.
    pub fn phrase(self, lang: Language, zone: &str) -> String {
        let local = civil(self.at, zone);
        day_and_time(lang, local.date(), self.time(local), false)
    }

    /// With the year, for documents that are read later: "dinsdag 14 mei 2024 om
    /// 10.00 uur", or "dinsdag 14 mei 2024" for a whole day.
    pub fn dated_phrase(self, lang: Language, zone: &str) -> String {
        let local = civil(self.at, zone);
        day_and_time(lang, local.date(), self.time(local), true)
    }

    fn time(self, local: NaiveDateTime) -> Option<NaiveTime> {
        (!self.all_day).then(|| local.time())
    }
}

/// One occurrence of `task` in words: "woensdag 24 maart om 17.00 uur", or the day
/// alone for a whole-day task.
pub fn occurrence_phrase(lang: Language, zone: &str, task: &TaskView, at: Timestamp) -> String {
    When::of(task, at, zone).phrase(lang, zone)
}

/// A moment of the plan with its year ("vrijdag 15 januari 2027", or "… om 19.00
/// uur" when it has a time of day): an evaluation, a meeting.
pub fn moment_phrase(lang: Language, zone: &str, at: Timestamp) -> String {
    When::moment(at, zone).dated_phrase(lang, zone)
}

/// A title people wrote, for use inside a sentence: trimmed, without a final full stop.
pub(crate) fn title(t: &str) -> &str {
    t.trim().trim_end_matches('.')
}

/// "dinsdag 14 mei 2024 om 10.00 uur" / "Tuesday 14 May 2024 at 10:00": a moment that
/// always has a time (when a document was made).
pub(crate) fn format_date_time(lang: Language, zone: &str, at: Timestamp) -> String {
    When { at, all_day: false }.dated_phrase(lang, zone)
}

/// "1 dag" / "3 dagen"; "1 day" / "3 days".
pub(crate) fn days_phrase(lang: Language, n: i64) -> String {
    match (lang, n == 1) {
        (Language::Nl, true) => "1 dag".to_owned(),
        (Language::Nl, false) => format!("{n} dagen"),
        (Language::En, true) => "1 day".to_owned(),
        (Language::En, false) => format!("{n} days"),
    }
}

/// "Jan", "Jan en Piet", "Jan, Piet en Kees" / "… and …".
pub(crate) fn join_names(lang: Language, names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {} {last}", init.join(", "), pick(lang, "en", "and")),
    }
}

pub fn relation_name(lang: Language, relation: Relation) -> &'static str {
    match relation {
        Relation::MainPerson => pick(lang, "hoofdpersoon", "main person"),
        Relation::Family => pick(lang, "familie", "family"),
        Relation::Friend => pick(lang, "vriend of vriendin", "friend"),
        Relation::Neighbour => pick(lang, "buurman of buurvrouw", "neighbour"),
        Relation::Professional => pick(lang, "hulpverlener", "professional"),
        Relation::Coordinator => pick(lang, "coördinator", "coordinator"),
        Relation::Other => pick(lang, "anders", "other"),
    }
}

pub(crate) fn status_name(lang: Language, status: PlanStatus) -> &'static str {
    match status {
        PlanStatus::Draft => pick(lang, "concept", "draft"),
        PlanStatus::Presented => pick(
            lang,
            "voorgelegd aan de hulpverleners",
            "presented to the professionals",
        ),
        PlanStatus::Accepted => pick(lang, "goedgekeurd", "accepted"),
        PlanStatus::Archived => pick(lang, "afgesloten", "closed"),
    }
}

/// " (nog 1 nodig)" / " (1 more needed)": places of a task nobody has taken yet.
pub(crate) fn more_needed(lang: Language, n: u32) -> String {
    pick(
        lang,
        format!(" (nog {n} nodig)"),
        format!(" ({n} more needed)"),
    )
}

/// When a task happens, in words: "Als het nodig is", "Uiterlijk vrijdag 4 december
/// 2026" (a deadline typed as a date), "Op zaterdag 5 december 2026", "Elke week op
/// woensdag om 17.00 uur, 3 keer, vanaf 17 maart 2027".
pub fn schedule_phrase(lang: Language, zone: &str, schedule: &Schedule) -> String {
    match *schedule {
        Schedule::Unscheduled => pick(lang, "Als het nodig is", "When needed").to_owned(),
        Schedule::Due { at } => {
            let when = When::in_schedule(schedule, at, zone).dated_phrase(lang, zone);
            format!("{} {when}", pick(lang, "Uiterlijk", "By"))
        }
        Schedule::Repeat(ref r) => capitalize(&repeat_phrase(lang, r)),
        Schedule::Weekly {
            first_at,
            every_weeks,
            until,
        } => {
            let weekday = weekday_name(lang, civil(first_at, zone).weekday());
            let time = format_time(lang, zone, first_at);
            let from = format_date(lang, zone, first_at);
            let every = match (lang, every_weeks <= 1) {
                (Language::Nl, true) => format!("Elke {weekday} om {time}, vanaf {from}"),
                (Language::Nl, false) => {
                    format!("Om de {every_weeks} weken op {weekday} om {time}, vanaf {from}")
                }
                (Language::En, true) => format!("Every {weekday} at {time}, from {from}"),
                (Language::En, false) => {
                    format!("Every {every_weeks} weeks on {weekday} at {time}, from {from}")
                }
            };
            match until {
                Some(until) => format!(
                    "{every}, {} {}",
                    pick(lang, "tot en met", "until"),
                    format_date(lang, zone, until)
                ),
                None => every,
            }
        }
    }
}

/// A series in words, from its rule: "elke week op woensdag om 17.00 uur, 3 keer,
/// vanaf 17 maart 2027". The rule itself is the agreement; this only reads it out.
fn repeat_phrase(lang: Language, r: &Recurrence) -> String {
    let Ok(start) = CivilStart::parse(&r.start) else {
        // Not a date Kring wrote: shown as it is rather than guessed at.
        return format!("{} {}", pick(lang, "op", "on"), r.start);
    };
    let (date, time) = match start {
        CivilStart::Date(d) => (d, None),
        CivilStart::DateTime(dt) => (dt.date(), Some(dt.time())),
    };
    let Some(rule) = &r.rule else {
        return format!(
            "{} {}",
            pick(lang, "op", "on"),
            day_and_time(lang, date, time, true)
        );
    };
    let at = time
        .map(|t| format!(" {} {}", pick(lang, "om", "at"), clock_words(lang, t)))
        .unwrap_or_default();
    let part = |key: &str| {
        rule.split(';')
            .find_map(|p| p.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .map(str::to_owned)
    };
    let interval = part("INTERVAL")
        .and_then(|i| i.parse::<u32>().ok())
        .unwrap_or(1);
    let unit = match part("FREQ").as_deref() {
        Some("DAILY") => pick(lang, "dag", "day"),
        Some("MONTHLY") => pick(lang, "maand", "month"),
        Some("YEARLY") => pick(lang, "jaar", "year"),
        _ => pick(lang, "week", "week"),
    };
    let every = match (lang, interval) {
        (Language::Nl, 1) => format!("elke {unit}"),
        (Language::Nl, n) => format!("om de {n} {unit}en"),
        (Language::En, 1) => format!("every {unit}"),
        (Language::En, n) => format!("every {n} {unit}s"),
    };
    let days = part("BYDAY")
        .map(|days| {
            let names: Vec<String> = days.split(',').map(|d| byday_name(lang, d)).collect();
            format!(" {} {}", pick(lang, "op", "on"), join_names(lang, &names))
        })
        .unwrap_or_default();
    let count = part("COUNT")
        .map(|n| format!(", {n} {}", pick(lang, "keer", "times")))
        .unwrap_or_default();
    let until = part("UNTIL")
        .map(|u| {
            let last = until_day(&u, &r.zone).map_or(u, |d| date_words(lang, d, false, true));
            format!(", {} {last}", pick(lang, "tot en met", "until"))
        })
        .unwrap_or_default();
    format!(
        "{every}{days}{at}{count}{until}, {} {}",
        pick(lang, "vanaf", "from"),
        date_words(lang, date, false, true)
    )
}

/// The last day of a series from its `UNTIL` (a UTC moment such as
/// `20261231T225959Z`, or a date), as a day in the series' zone.
fn until_day(until: &str, zone: &str) -> Option<NaiveDate> {
    if let Ok(utc) = NaiveDateTime::parse_from_str(until, "%Y%m%dT%H%M%SZ") {
        return Some(civil(Timestamp(utc.and_utc().timestamp_millis()), zone).date());
    }
    NaiveDate::parse_from_str(until.get(..8)?, "%Y%m%d").ok()
}

/// `WE` → "woensdag" / "Wednesday"; `1MO` → "de eerste maandag" / "the first Monday".
fn byday_name(lang: Language, byday: &str) -> String {
    let (nth, day) = byday.split_at(byday.len().saturating_sub(2));
    let names: &[(&str, &str, &str)] = &[
        ("MO", "maandag", "Monday"),
        ("TU", "dinsdag", "Tuesday"),
        ("WE", "woensdag", "Wednesday"),
        ("TH", "donderdag", "Thursday"),
        ("FR", "vrijdag", "Friday"),
        ("SA", "zaterdag", "Saturday"),
        ("SU", "zondag", "Sunday"),
    ];
    let name = names
        .iter()
        .find(|(code, _, _)| *code == day)
        .map_or(day.to_owned(), |(_, nl, en)| {
            pick(lang, *nl, *en).to_owned()
        });
    let ordinal = match (lang, nth) {
        (_, "") => return name,
        (Language::Nl, "-1") => "de laatste".to_owned(),
        (Language::En, "-1") => "the last".to_owned(),
        (Language::Nl, n) => format!("de {n}e"),
        (Language::En, n) => format!("the {n}."),
    };
    format!("{ordinal} {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_phrases_read_naturally() {
        let t = Timestamp::from_civil_utc(2024, 5, 14, 9, 5);
        assert_eq!(
            format_date_time(Language::Nl, "UTC", t),
            "dinsdag 14 mei 2024 om 9.05 uur"
        );
        assert_eq!(
            format_date_time(Language::En, "UTC", t),
            "Tuesday 14 May 2024 at 9:05"
        );
        assert_eq!(
            capitalize(&format_day(Language::Nl, "UTC", t)),
            "Dinsdag 14 mei"
        );
        assert_eq!(
            join_names(Language::Nl, &["Jan".into(), "Piet".into(), "Kees".into()]),
            "Jan, Piet en Kees"
        );
        assert_eq!(
            join_names(Language::En, &["Jan".into(), "Piet".into()]),
            "Jan and Piet"
        );
        let weekly = Schedule::Weekly {
            first_at: t,
            every_weeks: 2,
            until: Some(t.plus_days(28)),
        };
        assert_eq!(
            schedule_phrase(Language::Nl, "UTC", &weekly),
            "Om de 2 weken op dinsdag om 9.05 uur, vanaf 14 mei 2024, tot en met 11 juni 2024"
        );
    }
}
