//! The plan as an RFC 5545 iCalendar file, so people see their turns in the phone's
//! own calendar: a VTIMEZONE for the circle's zone, one VEVENT per task with its
//! RRULE, EXDATEs for skipped and RECURRENCE-ID overrides for moved occurrences, a
//! VALARM on one's own turns, and UIDs that stay the same (`<task id>@kring`, the
//! alarm's `alarm-<task id>@kring`), so importing the file again updates the entries
//! and their alarms instead of adding them twice. `PRODID` names Kring, so an app or a
//! helpdesk can tell where an entry came from.
//!
//! A deadline is not an appointment: it is written as a VEVENT that takes no time —
//! a whole day (`DTSTART;VALUE=DATE`) for a deadline typed as a date, a moment
//! without `DTEND` (zero length, RFC 5545 §3.6.1) for one with a time — marked
//! `TRANSP:TRANSPARENT` so it never makes someone look busy, and its summary says
//! "Uiterlijk" / "Due". Not a VTODO with `DUE`, although that is RFC 5545's word for
//! it: Google Calendar and Outlook drop VTODOs from an imported file, and Apple
//! Calendar does not show them, so the deadline would silently be missing from most
//! phones; an all-day or zero-length event shows in every calendar app.
//!
//! Built with the `icalendar` crate (escaping, folding); only the VTIMEZONE text is
//! made here, from the IANA database's own transitions.

use chrono::{Datelike, Duration, NaiveDateTime, Offset, TimeZone};
use icalendar::{Alarm, Calendar, Component, DatePerhapsTime, Event, EventLike, Trigger};

use crate::export::text::{pick, When};
use crate::plan::recurrence::{civil, parse_zone, CivilStart, Recurrence};
use crate::plan::view::{Language, PlanView, Schedule, TaskView, TurnKind};
use crate::plan::MemberId;
use kring_trust::time::Timestamp;

/// `DTSTAMP` of everything in the file: the moment it was made.
type Stamp = chrono::DateTime<chrono::Utc>;

/// How long before one's own turn at a time of day the phone reminds.
const ALARM_BEFORE_MINUTES: i64 = 60;
/// How long before the start of a whole day (its midnight) the phone reminds: 09:00
/// the day before. "An hour before" would ring at 23:00 the night before.
const ALL_DAY_ALARM_BEFORE_HOURS: i64 = 15;

/// The calendar of `plan`; with `mine`, only that member's turns (and the meetings).
pub fn calendar(plan: &PlanView, mine: Option<&MemberId>, now: Timestamp) -> String {
    let zone = plan.circle.timezone.as_str();
    let lang = plan.circle.language;
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", prodid(lang).as_str()))
        .append_property(("CALSCALE", "GREGORIAN"));
    cal.name(&plan.circle.name).timezone(zone);
    let stamp = chrono::DateTime::from_timestamp_millis(now.0).unwrap_or_default();
    for task in plan.tasks.iter().filter(|t| t.is_open()) {
        for mut event in task_events(task, mine, lang, zone, stamp) {
            event.timestamp(stamp);
            cal.push(event.done());
        }
    }
    for meeting in plan.meetings.iter().filter(|m| m.cancelled_at.is_none()) {
        let mut event = Event::new();
        event
            .uid(&format!("{}@kring", meeting.id))
            .summary(&meeting.agenda)
            .location(&meeting.place)
            .timestamp(stamp);
        let when = When::moment(meeting.at, zone);
        if when.all_day {
            starts_at(
                &mut event,
                CivilStart::Date(civil(meeting.at, zone).date()),
                zone,
            );
        } else {
            event
                .starts(utc(meeting.at))
                .ends(utc(meeting.at.plus_millis(3_600_000)));
        }
        cal.push(event.done());
    }
    // The VTIMEZONE goes in as written (the crate would stamp it like an event).
    let text = cal.done().to_string();
    match text.find("BEGIN:VEVENT") {
        Some(at) => format!("{}{}{}", &text[..at], vtimezone(zone, now), &text[at..]),
        None => text.replace(
            "END:VCALENDAR",
            &format!("{}END:VCALENDAR", vtimezone(zone, now)),
        ),
    }
}

/// `-//Kring//Kring plan//NL`: Kring made this file (RFC 5545 §3.7.3), in the
/// circle's language.
fn prodid(lang: Language) -> String {
    format!("-//Kring//Kring plan//{}", pick(lang, "NL", "EN"))
}

fn utc(at: Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(at.0).unwrap_or_default()
}

fn base(task: &TaskView, uid: String) -> Event {
    let mut event = Event::new();
    event.uid(&uid).summary(&task.title);
    if !task.notes.is_empty() {
        event.description(&task.notes);
    }
    event
}

/// A civil start as DTSTART (all day as a date, otherwise with the zone's TZID).
fn starts_at(event: &mut Event, start: CivilStart, zone: &str) {
    match start {
        CivilStart::Date(d) => {
            // All day: DTEND is the next day (exclusive).
            event.starts(d).ends(d.succ_opt().unwrap_or(d));
        }
        CivilStart::DateTime(dt) => {
            event
                .starts(zoned(dt, zone))
                .ends(zoned(dt + Duration::hours(1), zone));
        }
    }
}

fn zoned(dt: NaiveDateTime, zone: &str) -> DatePerhapsTime {
    DatePerhapsTime::DateTime(icalendar::CalendarDateTime::WithTimezone {
        date_time: dt,
        tzid: zone.to_owned(),
    })
}

/// On one's own turns, a reminder with an id of its own derived from the entry's UID
/// (RFC 9074 `UID`, and Apple's `X-WR-ALARMUID`): an app that imports the file again
/// recognises the alarm and replaces it instead of adding a second one.
fn with_alarm(mut event: Event, mine: bool, stamp: Stamp) -> Event {
    if mine {
        let all_day = matches!(event.get_start(), Some(DatePerhapsTime::Date(_)));
        let trigger = if all_day {
            Trigger::before_start(Duration::hours(ALL_DAY_ALARM_BEFORE_HOURS))
        } else {
            Trigger::before_start(Duration::minutes(ALARM_BEFORE_MINUTES))
        };
        let mut alarm = Alarm::display("Kring", trigger);
        // The file's own moment, not the clock's: the same plan gives the same file.
        alarm.timestamp(stamp);
        if let Some(uid) = event.get_uid() {
            let id = format!("alarm-{uid}");
            alarm
                .add_property("UID", &id)
                .add_property("X-WR-ALARMUID", &id);
        }
        event.alarm(alarm);
    }
    event
}

fn task_events(
    task: &TaskView,
    mine: Option<&MemberId>,
    lang: Language,
    zone: &str,
    stamp: Stamp,
) -> Vec<Event> {
    let uid = format!("{}@kring", task.id);
    let on_series = |m: &MemberId| task.winners().any(|w| w == m);
    match &task.schedule {
        Schedule::Unscheduled => Vec::new(),
        Schedule::Due { at } => {
            if mine.is_some_and(|m| !on_series(m)) {
                return Vec::new();
            }
            let mut event = base(task, uid);
            let due = pick(lang, "Uiterlijk", "Due");
            event
                .summary(&format!("{due}: {}", task.title))
                .add_property("TRANSP", "TRANSPARENT");
            if task.schedule.is_all_day(zone) {
                starts_at(&mut event, CivilStart::Date(civil(*at, zone).date()), zone);
            } else {
                // No DTEND: an event of no length at the deadline itself.
                event.starts(utc(*at));
            }
            vec![with_alarm(event, mine.is_some(), stamp)]
        }
        Schedule::Weekly {
            first_at,
            every_weeks,
            until,
        } => {
            if mine.is_some_and(|m| !on_series(m)) {
                return Vec::new();
            }
            let mut event = base(task, uid);
            let mut rule = format!("FREQ=WEEKLY;INTERVAL={every_weeks}");
            if let Some(until) = until {
                rule.push_str(&format!(";UNTIL={}", utc(*until).format("%Y%m%dT%H%M%SZ")));
            }
            event
                .starts(utc(*first_at))
                .ends(utc(first_at.plus_millis(3_600_000)))
                .add_property("RRULE", rule);
            vec![with_alarm(event, mine.is_some(), stamp)]
        }
        Schedule::Repeat(r) => repeat_events(task, r, uid, mine, stamp),
    }
}

fn repeat_events(
    task: &TaskView,
    r: &Recurrence,
    uid: String,
    mine: Option<&MemberId>,
    stamp: Stamp,
) -> Vec<Event> {
    let Ok(start) = CivilStart::parse(&r.start) else {
        return Vec::new();
    };
    let zone = r.zone.as_str();
    let whole_series = match mine {
        None => true,
        Some(m) => task.winners().any(|w| w == m),
    };
    let mut events = Vec::new();
    if whole_series {
        let mut event = base(task, uid.clone());
        starts_at(&mut event, start, zone);
        if let Some(rule) = &r.rule {
            event.add_property("RRULE", rule);
        }
        for skipped in r.skipped.iter().filter_map(|s| CivilStart::parse(s).ok()) {
            let line = match skipped {
                CivilStart::Date(d) => {
                    icalendar::Property::new("EXDATE", d.format("%Y%m%d").to_string())
                        .add_parameter("VALUE", "DATE")
                        .done()
                }
                CivilStart::DateTime(dt) => {
                    icalendar::Property::new("EXDATE", dt.format("%Y%m%dT%H%M%S").to_string())
                        .add_parameter("TZID", zone)
                        .done()
                }
            };
            event.append_multi_property(line);
        }
        events.push(with_alarm(event, mine.is_some(), stamp));
        for moved in &r.moved {
            let (Ok(from), Ok(to)) = (CivilStart::parse(&moved.from), CivilStart::parse(&moved.to))
            else {
                continue;
            };
            let mut event = base(task, uid.clone());
            match from {
                CivilStart::Date(d) => event.recurrence_id(d),
                CivilStart::DateTime(dt) => event.recurrence_id(zoned(dt, zone)),
            };
            starts_at(&mut event, to, zone);
            events.push(with_alarm(event, mine.is_some(), stamp));
        }
    }
    // One's own single turns (and turns from a date on) as entries of their own.
    if let Some(m) = mine {
        for turn in task
            .turns
            .iter()
            .filter(|t| &t.member == m && t.kind == TurnKind::One)
        {
            if let Ok(at) = CivilStart::parse(&turn.occurrence) {
                let mut event = base(task, format!("{}-{}@kring", task.id, turn.occurrence));
                starts_at(&mut event, at, zone);
                events.push(with_alarm(event, true, stamp));
            }
        }
    }
    events
}

/// A VTIMEZONE component for `zone` from the transitions of the IANA database in the year of
/// `now`: a STANDARD and a DAYLIGHT rule that repeat yearly on the same weekday of
/// the month (as every European zone does), or a single STANDARD for a zone without
/// summer time.
pub fn vtimezone(zone: &str, now: Timestamp) -> String {
    let tz = parse_zone(zone).unwrap_or(chrono_tz::UTC);
    let year = now.to_civil_in("UTC").year;
    let offset_at = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).offset().fix();
    let Some(mut t) = chrono::Utc
        .with_ymd_and_hms(i32::try_from(year).unwrap_or(2026), 1, 1, 0, 0, 0)
        .single()
    else {
        return String::new();
    };
    let end = t + Duration::days(366);
    let mut transitions = Vec::new();
    let mut previous = offset_at(t);
    while t < end {
        let next = t + Duration::hours(1);
        let offset = offset_at(next);
        if offset != previous {
            transitions.push((next, previous, offset));
            previous = offset;
        }
        t = next;
    }
    let fmt_offset = |o: chrono::FixedOffset| {
        let secs = o.local_minus_utc();
        let sign = if secs < 0 { '-' } else { '+' };
        format!(
            "{sign}{:02}{:02}",
            secs.abs() / 3600,
            (secs.abs() % 3600) / 60
        )
    };
    let mut out = format!("BEGIN:VTIMEZONE\r\nTZID:{zone}\r\n");
    if transitions.is_empty() {
        let o = fmt_offset(previous);
        out.push_str(&format!(
            "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:{o}\r\nTZOFFSETTO:{o}\r\nEND:STANDARD\r\n"
        ));
    }
    for (at, from, to) in transitions {
        let local = (at + Duration::seconds(i64::from(from.local_minus_utc()))).naive_utc();
        let kind = if to.local_minus_utc() > from.local_minus_utc() {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        let day = local.day();
        let days_in_month = chrono::NaiveDate::from_ymd_opt(local.year(), local.month(), 1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .and_then(|d| d.pred_opt())
            .map_or(31, |d| d.day());
        let nth = if day + 7 > days_in_month {
            "-1".to_owned()
        } else {
            day.div_ceil(7).to_string()
        };
        let weekday = &local.weekday().to_string()[..2].to_uppercase();
        out.push_str(&format!(
            "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\nRRULE:FREQ=YEARLY;BYMONTH={};BYDAY={nth}{weekday}\r\nEND:{kind}\r\n",
            local.format("%Y%m%dT%H%M%S"),
            fmt_offset(from),
            fmt_offset(to),
            local.month(),
        ));
    }
    out.push_str("END:VTIMEZONE\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amsterdam_has_summer_time_from_the_last_sunday_of_march_to_the_last_of_october() {
        let text = vtimezone(
            "Europe/Amsterdam",
            Timestamp::from_civil_utc(2026, 12, 1, 0, 0),
        );
        assert!(text.contains("BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"), "{text}");
        assert!(text.contains("BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"), "{text}");
        let tokyo = vtimezone("Asia/Tokyo", Timestamp::from_civil_utc(2026, 12, 1, 0, 0));
        assert!(
            tokyo.contains("TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900"),
            "{tokyo}"
        );
    }

    /// The lines of the one VEVENT whose SUMMARY is `summary`.
    fn event<'a>(ics: &'a str, summary: &str) -> Vec<&'a str> {
        ics.split("BEGIN:VEVENT")
            .find(|e| e.contains(&format!("SUMMARY:{summary}\r\n")))
            .unwrap_or_else(|| panic!("{summary} in {ics}"))
            .split("\r\n")
            .collect()
    }

    #[test]
    fn a_deadline_takes_no_time_and_the_file_says_it_is_kring_s() {
        let (mut c, now) = crate::fixtures::amsterdam::whole_days(crate::plan::Language::Nl);
        let timed = crate::plan::NewTask {
            schedule: Schedule::Due {
                at: crate::fixtures::amsterdam::local("2026-10-29T18:00"),
            },
            ..crate::plan::NewTask::simple("Huur betalen")
        };
        c.plan.add_task(&c.sanne, timed, now).expect("task");
        let ics = calendar(&c.plan.view(), None, now);
        assert!(ics.contains("PRODID:-//Kring//Kring plan//NL\r\n"), "{ics}");
        assert_eq!(ics.matches("PRODID").count(), 1);

        // Typed as a date: that whole day, not an hour from midnight.
        let form = event(&ics, "Uiterlijk: Formulier inleveren");
        assert!(form.contains(&"DTSTART;VALUE=DATE:20261026"), "{form:?}");
        assert!(form.contains(&"DTEND;VALUE=DATE:20261027"), "{form:?}");
        assert!(form.contains(&"TRANSP:TRANSPARENT"), "{form:?}");
        // With a time: that moment, of no length.
        let rent = event(&ics, "Uiterlijk: Huur betalen");
        assert!(rent.contains(&"DTSTART:20261029T170000Z"), "{rent:?}");
        assert!(!rent.iter().any(|l| l.starts_with("DTEND")), "{rent:?}");
    }

    #[test]
    fn alarms_have_ids_from_their_entry_and_ring_the_morning_before_a_whole_day() {
        let (c, now) = crate::fixtures::amsterdam::whole_days(crate::plan::Language::En);
        let view = c.plan.view();
        let ride = view
            .tasks
            .iter()
            .find(|t| t.title == "Naar het ziekenhuis")
            .expect("ride");
        let ics = calendar(&view, Some(&c.jan), now);
        let id = format!("alarm-{}@kring", ride.id);
        assert!(ics.contains(&format!("UID:{id}\r\n")), "{ics}");
        assert!(ics.contains(&format!("X-WR-ALARMUID:{id}\r\n")), "{ics}");
        assert!(ics.contains("TRIGGER;RELATED=START:-PT3600S\r\n"), "{ics}");
        assert_eq!(
            ics,
            calendar(&view, Some(&c.jan), now),
            "the same file again"
        );
        assert!(ics.contains("PRODID:-//Kring//Kring plan//EN\r\n"), "{ics}");

        let mut c = c;
        let shopping = view
            .tasks
            .iter()
            .find(|t| t.title == "Boodschappen")
            .expect("shopping");
        c.plan.claim_task(&c.jan, &shopping.id, now).expect("claim");
        let ics = calendar(&c.plan.view(), Some(&c.jan), now);
        let day = event(&ics, "Boodschappen");
        assert!(
            day.contains(&"TRIGGER;RELATED=START:-PT54000S"),
            "09:00 the day before: {day:?}"
        );
    }
}
