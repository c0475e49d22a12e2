//! Dates as a shell user types and reads them: in the current circle's time zone
//! ("18:00" in a Dutch circle is 18:00 on the clock in Amsterdam, summer or winter).
//!
//! The zone is set once per command, from the circle the command is about
//! ([`use_zone`]); before that (or without a circle) dates are UTC. The conversions
//! themselves are kring-core's (`plan::recurrence`), over the IANA database.

use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use kring_plan::export::When;
use kring_plan::plan::recurrence::{civil, CivilStart};
use kring_plan::plan::TaskView;
use kring_trust::Timestamp;

use crate::error::{CliError, CliResult};

static ZONE: OnceLock<String> = OnceLock::new();
static NOW: OnceLock<Timestamp> = OnceLock::new();

/// Reads and shows dates in `zone` from now on (the first call wins), with `now` for
/// relative dates such as "morgen 17:00".
pub fn use_zone(zone: &str, now: Timestamp) {
    let _ = ZONE.set(zone.to_owned());
    let _ = NOW.set(now);
}

/// The zone dates are read and shown in.
pub fn zone() -> &'static str {
    ZONE.get().map_or("UTC", String::as_str)
}

/// The device's own IANA time zone, if it has one (a new circle gets it). A device that
/// says UTC counts as having none: phones know where they are, and a server or a
/// container set to UTC says nothing about where the circle lives.
pub fn device_zone() -> Option<String> {
    iana_time_zone::get_timezone().ok().filter(|z| {
        !matches!(
            z.as_str(),
            "UTC" | "Etc/UTC" | "Etc/Universal" | "Universal" | "Zulu"
        )
    })
}

const WEEKDAYS: [(&[&str], chrono::Weekday); 7] = [
    (&["mon", "monday", "ma", "maandag"], chrono::Weekday::Mon),
    (&["tue", "tuesday", "di", "dinsdag"], chrono::Weekday::Tue),
    (
        &["wed", "wednesday", "wo", "woensdag"],
        chrono::Weekday::Wed,
    ),
    (
        &["thu", "thursday", "do", "donderdag"],
        chrono::Weekday::Thu,
    ),
    (&["fri", "friday", "vr", "vrijdag"], chrono::Weekday::Fri),
    (&["sat", "saturday", "za", "zaterdag"], chrono::Weekday::Sat),
    (&["sun", "sunday", "zo", "zondag"], chrono::Weekday::Sun),
];

/// A weekday as people write it, in English or Dutch (`wed`, `wo`, `woensdag`).
pub fn weekday(word: &str) -> Option<chrono::Weekday> {
    let word = word.trim().to_lowercase();
    WEEKDAYS
        .iter()
        .find(|(names, _)| names.contains(&word.as_str()))
        .map(|(_, day)| *day)
}

/// A civil date or date and time in the circle's zone: `2026-11-24`,
/// `2026-11-24 18:00`, `24-11-2026 18:00`, `morgen 17:00`, `di 18:00`,
/// `tomorrow`, `fri 9:30`.
pub fn parse_civil(input: &str) -> CliResult<CivilStart> {
    let s = input.trim();
    let (day_part, time_part) = match s.rsplit_once(' ') {
        Some((d, t)) if time(t).is_some() => (d.trim(), time(t)),
        _ => (s, None),
    };
    if let Some(t) = time_part.or_else(|| time(s).filter(|_| !s.contains('-'))) {
        if let Some(date) = day(if time_part.is_some() { day_part } else { "" }) {
            return Ok(CivilStart::DateTime(date.and_time(t)));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%d-%m-%Y %H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(CivilStart::DateTime(dt));
        }
    }
    if let Some(date) = day(s) {
        return Ok(CivilStart::Date(date));
    }
    Err(CliError::Usage(t!(
        "error-date",
        date = input,
        zone = zone()
    )))
}

fn time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H.%M"))
        .ok()
}

/// A day: a date, "today"/"vandaag", "tomorrow"/"morgen", or a weekday (the next one,
/// today included); "" is today.
fn day(s: &str) -> Option<NaiveDate> {
    let today = civil(NOW.get().copied().unwrap_or_else(Timestamp::now), zone()).date();
    let word = s.trim().to_lowercase();
    match word.as_str() {
        "" | "today" | "vandaag" => return Some(today),
        "tomorrow" | "morgen" => return today.succ_opt(),
        _ => {}
    }
    if let Some(wd) = weekday(&word) {
        let ahead = (7 + wd.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
        return today.checked_add_signed(Duration::days(i64::from(ahead)));
    }
    ["%Y-%m-%d", "%d-%m-%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s.trim(), f).ok())
}

/// An instant from what a user typed, in the circle's zone (a date alone is its
/// midnight). RFC 3339 with an offset is taken as it is.
pub fn parse(input: &str) -> CliResult<Timestamp> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(input.trim()) {
        return Ok(Timestamp(dt.timestamp_millis()));
    }
    Ok(parse_civil(input)?.instant(zone())?)
}

/// A civil date, or date and time, that will be stored: refused, with the time it
/// would become, when the time does not exist in the circle's zone (the night the
/// clock goes forward). Someone who typed 02:30 chooses; Kring does not keep it as
/// 03:30 without a word. Lookups (`--on`, `--from`) use [`parse_civil`] and find the
/// moved occurrence.
pub fn parse_stored_civil(input: &str) -> CliResult<CivilStart> {
    let start = parse_civil(input)?;
    if let (CivilStart::DateTime(written), Some(kept)) = (start, start.shifted_in(zone())?) {
        return Err(CliError::Usage(t!(
            "error-time-in-gap",
            time = written.format("%H:%M").to_string(),
            date = written.format("%Y-%m-%d").to_string(),
            zone = zone(),
            kept = kept.format("%H:%M").to_string()
        )));
    }
    Ok(start)
}

/// An instant to store, like [`parse`] but refusing a time that does not exist in the
/// circle's zone ([`parse_stored_civil`]).
pub fn parse_stored(input: &str) -> CliResult<Timestamp> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(input.trim()) {
        return Ok(Timestamp(dt.timestamp_millis()));
    }
    Ok(parse_stored_civil(input)?.instant(zone())?)
}

/// `2026-11-24 18:00` in the circle's zone.
pub fn format(at: Timestamp) -> String {
    format_in(at, zone())
}

/// `2026-11-24 18:00` in `zone` (for lists across circles, each in its own zone).
pub fn format_in(at: Timestamp, zone: &str) -> String {
    civil(at, zone).format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-11-24 18:00`, or `2026-11-24` for a whole day. Whether a date has a time of
/// day is kring-core's decision ([`When`]), the same one the exports, the week and
/// the apps follow, so the CLI never prints `00:00` for a day.
pub fn format_when(when: When) -> String {
    format_when_in(when, zone())
}

/// [`format_when`] in `zone` (for lists across circles, each in its own zone).
pub fn format_when_in(when: When, zone: &str) -> String {
    let local = civil(when.at, zone);
    if when.all_day {
        local.format("%Y-%m-%d").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// The occurrence of `task` at `at` (a day for an all-day task or a deadline typed as a
/// date).
pub fn format_occurrence(task: &TaskView, at: Timestamp) -> String {
    format_when(When::of(task, at, zone()))
}

/// A moment of the plan that may have been typed as a date alone: an evaluation, a
/// meeting.
pub fn format_moment(at: Timestamp) -> String {
    format_when(When::moment(at, zone()))
}

pub fn format_moment_opt(at: Option<Timestamp>) -> String {
    at.map_or_else(|| "-".to_owned(), format_moment)
}
