//! The plan as an RFC 5545 iCalendar file, so people see their turns in the phone's
//! own calendar: a VTIMEZONE for the circle's zone, one VEVENT per task with its
//! RRULE, EXDATEs for skipped and RECURRENCE-ID overrides for moved occurrences, a
//! VALARM on one's own turns, and UIDs that stay the same (`<task id>@kring`), so
//! importing the file again updates the entries instead of adding them twice.
//!
//! Built with the `icalendar` crate (escaping, folding); only the VTIMEZONE text is
//! made here, from the IANA database's own transitions.

use chrono::{Datelike, Duration, NaiveDateTime, Offset, TimeZone};
use icalendar::{Alarm, Calendar, Component, DatePerhapsTime, Event, EventLike, Trigger};

use crate::plan::recurrence::{parse_zone, CivilStart, Recurrence};
use crate::plan::view::{PlanView, Schedule, TaskView, TurnKind};
use crate::plan::MemberId;
use kring_trust::time::Timestamp;

/// How long before one's own turn the phone reminds.
const ALARM_BEFORE_MINUTES: i64 = 60;

/// The calendar of `plan`; with `mine`, only that member's turns (and the meetings).
pub fn calendar(plan: &PlanView, mine: Option<&MemberId>, now: Timestamp) -> String {
    let zone = plan.circle.timezone.as_str();
    let mut cal = Calendar::new();
    cal.name(&plan.circle.name).timezone(zone);
    let stamp = chrono::DateTime::from_timestamp_millis(now.0).unwrap_or_default();
    for task in plan.tasks.iter().filter(|t| t.is_open()) {
        for mut event in task_events(task, mine) {
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
            .starts(utc(meeting.at))
            .ends(utc(meeting.at.plus_millis(3_600_000)))
            .timestamp(stamp);
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

fn with_alarm(mut event: Event, mine: bool) -> Event {
    if mine {
        let trigger = Trigger::before_start(Duration::minutes(ALARM_BEFORE_MINUTES));
        event.alarm(Alarm::display("Kring", trigger));
    }
    event
}

fn task_events(task: &TaskView, mine: Option<&MemberId>) -> Vec<Event> {
    let uid = format!("{}@kring", task.id);
    let on_series = |m: &MemberId| task.winners().any(|w| w == m);
    match &task.schedule {
        Schedule::Unscheduled => Vec::new(),
        Schedule::Due { at } => {
            if mine.is_some_and(|m| !on_series(m)) {
                return Vec::new();
            }
            let mut event = base(task, uid);
            event.starts(utc(*at)).ends(utc(at.plus_millis(3_600_000)));
            vec![with_alarm(event, mine.is_some())]
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
            vec![with_alarm(event, mine.is_some())]
        }
        Schedule::Repeat(r) => repeat_events(task, r, uid, mine),
    }
}

fn repeat_events(
    task: &TaskView,
    r: &Recurrence,
    uid: String,
    mine: Option<&MemberId>,
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
        events.push(with_alarm(event, mine.is_some()));
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
            events.push(with_alarm(event, mine.is_some()));
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
                events.push(with_alarm(event, true));
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
}
