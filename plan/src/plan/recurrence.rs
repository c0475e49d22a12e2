//! Dates in the circle's own time: a task "every Wednesday at 17:00" stays at 17:00
//! on the clock in Amsterdam across both clock changes.
//!
//! A [`Recurrence`] is stored as people think of it — a civil start in the circle's
//! IANA time zone and an RFC 5545 `RRULE` — so it maps 1:1 onto a calendar entry, and it
//! is expanded by the `rrule` crate over the IANA database (`chrono-tz`). Nothing here
//! does its own offset arithmetic.
//!
//! The rule at the clock changes (RFC 5545 §3.3.5, as `rrule` implements it and as
//! calendar apps read it):
//! - a local time that does not exist (02:30 on the last Sunday of March) is moved
//!   forward by the gap: 03:30 summer time;
//! - a local time that exists twice (02:30 on the last Sunday of October) is the first
//!   of the two: 02:30 summer time.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};
use kring_trust::time::Timestamp;

/// The time zone a circle without one lives in: the times of circles made before time
/// zones existed were UTC instants, and they keep that meaning.
pub const LEGACY_ZONE: &str = "UTC";
/// The zone a new circle gets when its device knows none.
pub const DEFAULT_ZONE: &str = "Europe/Amsterdam";
/// Most occurrences one expansion produces (ten years of daily turns).
const MAX_OCCURRENCES: u16 = 3_700;

/// A civil date, or date and time, in the circle's zone: `2027-03-17` (all day) or
/// `2027-03-17T17:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CivilStart {
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

impl CivilStart {
    pub fn parse(s: &str) -> Result<CivilStart> {
        let s = s.trim();
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
            return Ok(CivilStart::DateTime(dt));
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(CivilStart::Date)
            .map_err(|_| Error::InvalidValue {
                field: "date",
                value: s.to_owned(),
                expected: "YYYY-MM-DD or YYYY-MM-DDTHH:MM".into(),
            })
    }

    pub fn is_all_day(self) -> bool {
        matches!(self, CivilStart::Date(_))
    }

    fn naive(self) -> NaiveDateTime {
        match self {
            CivilStart::Date(d) => d.and_time(chrono::NaiveTime::MIN),
            CivilStart::DateTime(dt) => dt,
        }
    }

    /// The instant this civil time is in `zone`, by the rule in the module docs.
    pub fn instant(self, zone: &str) -> Result<Timestamp> {
        let tz = parse_zone(zone)?;
        let naive = self.naive();
        let local = match tz.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) => t,
            chrono::LocalResult::Ambiguous(first, _) => first,
            // In a gap: the same wall-clock distance from midnight, i.e. moved forward.
            chrono::LocalResult::None => {
                let midnight = tz
                    .from_local_datetime(&naive.date().and_time(chrono::NaiveTime::MIN))
                    .earliest()
                    .ok_or_else(|| Error::InvalidValue {
                        field: "date",
                        value: naive.to_string(),
                        expected: "a time that exists in the circle's time zone".into(),
                    })?;
                midnight + (naive - naive.date().and_time(chrono::NaiveTime::MIN))
            }
        };
        Ok(Timestamp(local.timestamp_millis()))
    }

    /// The wall-clock time this is kept as in `zone`, when that is not what was written:
    /// a time in the gap of a clock change (02:30 on 28 March 2027 in Amsterdam) exists
    /// on no clock and becomes 03:30 (the rule above). `None` for a time that exists
    /// and for a date. Apps use it to refuse or confirm such a time instead of keeping
    /// someone's 02:30 as 03:30 without a word.
    pub fn shifted_in(self, zone: &str) -> Result<Option<NaiveDateTime>> {
        if self.is_all_day() {
            return Ok(None);
        }
        let kept = civil(self.instant(zone)?, zone);
        Ok((kept != self.naive()).then_some(kept))
    }
}

impl std::fmt::Display for CivilStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CivilStart::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            CivilStart::DateTime(dt) => write!(f, "{}", dt.format("%Y-%m-%dT%H:%M")),
        }
    }
}

/// Checks `zone` is an IANA time zone name.
pub fn parse_zone(zone: &str) -> Result<chrono_tz::Tz> {
    chrono_tz::Tz::from_str(zone.trim()).map_err(|_| Error::InvalidValue {
        field: "time zone",
        value: zone.to_owned(),
        expected: "an IANA time zone such as Europe/Amsterdam".into(),
    })
}

/// The wall-clock date and time of `at` in `zone` (UTC for an unknown zone).
pub fn civil(at: Timestamp, zone: &str) -> NaiveDateTime {
    let tz = parse_zone(zone).unwrap_or(chrono_tz::UTC);
    chrono::DateTime::from_timestamp_millis(at.0)
        .map(|t| t.with_timezone(&tz).naive_local())
        .unwrap_or_default()
}

/// Whether `at` is 00:00 on the clock in `zone`. A date typed without a time (a
/// deadline `--due 2026-12-04`, an evaluation day, a meeting day) is kept as that
/// midnight, so a moment at midnight is read back as a day: "uiterlijk 4 december", not
/// "om 0.00 uur". Nothing in a care plan is agreed for midnight itself, and a deadline
/// at the start of a day is not late before the next (the one-day grace of the
/// follow-up), so reading it as "by that day" keeps its meaning.
pub fn is_midnight(at: Timestamp, zone: &str) -> bool {
    civil(at, zone).time() == chrono::NaiveTime::MIN
}

/// One occurrence of a series moved: from its original local start to a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub from: String,
    pub to: String,
}

/// A task's dates in civil time: one occurrence, or a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    /// `2027-03-17` (all day) or `2027-03-17T17:00`, in [`Recurrence::zone`].
    pub start: String,
    /// The RFC 5545 `RRULE` value (`FREQ=WEEKLY;BYDAY=WE;COUNT=3`); `None` for a
    /// single occurrence.
    pub rule: Option<String>,
    /// Occurrences left out (their original local start, written like `start`).
    pub skipped: Vec<String>,
    /// Occurrences moved to another time.
    pub moved: Vec<Moved>,
    /// The circle's time zone. Not stored with the task: the view copies it in, so a
    /// circle that changes its zone keeps its 17:00 at 17:00.
    pub zone: String,
}

impl Recurrence {
    /// Rejects what cannot be expanded: an unreadable start, rule or zone, or a rule
    /// without an end that is not weekly or coarser in a way people use (any valid
    /// RRULE is accepted; `rrule` validates it).
    pub fn validate(&self) -> Result<()> {
        self.set()?;
        for s in self
            .skipped
            .iter()
            .chain(self.moved.iter().flat_map(|m| [&m.from, &m.to]))
        {
            CivilStart::parse(s)?;
        }
        Ok(())
    }

    pub fn is_series(&self) -> bool {
        self.rule.is_some()
    }

    pub fn is_all_day(&self) -> bool {
        CivilStart::parse(&self.start).is_ok_and(CivilStart::is_all_day)
    }

    fn set(&self) -> Result<rrule::RRuleSet> {
        let start = CivilStart::parse(&self.start)?;
        parse_zone(&self.zone)?;
        let dtstart = match (start, &self.rule) {
            // One occurrence is its moment, by the rule in the module docs: `rrule`
            // refuses a local start that happens twice or not at all, and a ride at
            // 02:30 on the night the clocks go back is still a ride.
            (CivilStart::DateTime(_), None) => {
                let at = chrono::DateTime::from_timestamp_millis(start.instant(&self.zone)?.0)
                    .unwrap_or_default();
                format!("DTSTART:{}", at.format("%Y%m%dT%H%M%SZ"))
            }
            (CivilStart::Date(d), _) => {
                format!("DTSTART;TZID={}:{}T000000", self.zone, d.format("%Y%m%d"))
            }
            (CivilStart::DateTime(dt), Some(_)) => {
                format!("DTSTART;TZID={}:{}", self.zone, dt.format("%Y%m%dT%H%M%S"))
            }
        };
        let rule = self.rule.as_deref().unwrap_or("FREQ=DAILY;COUNT=1");
        format!("{dtstart}\nRRULE:{rule}")
            .parse::<rrule::RRuleSet>()
            .map_err(|e| Error::InvalidValue {
                field: "repeat rule",
                value: rule.to_owned(),
                expected: format!("an RFC 5545 RRULE ({e})"),
            })
    }

    /// Every occurrence in `[from, to)`, as instants, in order: the rule's, without the
    /// skipped ones, with moved ones at their new time.
    pub fn occurrences_between(&self, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
        let Ok(set) = self.set() else {
            return Vec::new();
        };
        let tz = rrule::Tz::Tz(parse_zone(&self.zone).unwrap_or(chrono_tz::UTC));
        let bound = |t: Timestamp| {
            chrono::DateTime::from_timestamp_millis(t.0).map(|d| d.with_timezone(&tz))
        };
        let removed: Vec<Timestamp> = self
            .skipped
            .iter()
            .chain(self.moved.iter().map(|m| &m.from))
            .filter_map(|s| self.instant_of(s))
            .collect();
        let (Some(after), Some(before)) = (bound(from.plus_millis(-1)), bound(to)) else {
            return Vec::new();
        };
        let mut out: Vec<Timestamp> = set
            .after(after)
            .before(before)
            .all(MAX_OCCURRENCES)
            .dates
            .into_iter()
            .map(|d| Timestamp(d.timestamp_millis()))
            .filter(|t| *t >= from && *t < to && !removed.contains(t))
            .collect();
        out.extend(
            self.moved
                .iter()
                .filter_map(|m| self.instant_of(&m.to))
                .filter(|t| *t >= from && *t < to),
        );
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The first occurrence at or after `from`.
    pub fn next_at_or_after(&self, from: Timestamp) -> Option<Timestamp> {
        // Expanding a year at a time keeps an endless series cheap to ask; nothing
        // happens before the first possible occurrence, so asking from the year 1700
        // (as "the one occurrence of a task" does) starts there, not 22 years later.
        let mut window_start = self.first_possible().map_or(from, |first| from.max(first));
        for _ in 0..20 {
            let window_end = window_start.plus_days(400);
            if let Some(first) = self.occurrences_between(window_start, window_end).first() {
                return Some(*first);
            }
            if self.last_possible().is_some_and(|last| last < window_end) {
                return None;
            }
            window_start = window_end;
        }
        None
    }

    /// The earliest an occurrence can be: the start, or a moved occurrence before it.
    fn first_possible(&self) -> Option<Timestamp> {
        let start = self.instant_of(&self.start)?;
        Some(
            self.moved
                .iter()
                .filter_map(|m| self.instant_of(&m.to))
                .fold(start, Timestamp::min),
        )
    }

    /// Where a series certainly ends (a single occurrence, `COUNT` or `UNTIL` … is
    /// found by expansion; `None` means it may go on).
    fn last_possible(&self) -> Option<Timestamp> {
        match &self.rule {
            None => CivilStart::parse(&self.start)
                .ok()?
                .instant(&self.zone)
                .ok(),
            Some(rule) if rule.contains("COUNT=") || rule.contains("UNTIL=") => {
                let all = self.set().ok()?.all(MAX_OCCURRENCES).dates;
                all.last().map(|d| Timestamp(d.timestamp_millis()))
            }
            Some(_) => None,
        }
        .map(|t| {
            self.moved
                .iter()
                .filter_map(|m| self.instant_of(&m.to))
                .fold(t, Timestamp::max)
        })
    }

    /// The instant of a local start written like [`Recurrence::start`] (an
    /// occurrence's key, a skipped or moved one) in this series' zone; `None` for text
    /// that is not one.
    pub fn instant_of(&self, local: &str) -> Option<Timestamp> {
        CivilStart::parse(local).ok()?.instant(&self.zone).ok()
    }

    /// The local start of the occurrence at `at` (the key people and calendars use).
    pub fn key_of(&self, at: Timestamp) -> String {
        let local = civil(at, &self.zone);
        if self.is_all_day() {
            local.format("%Y-%m-%d").to_string()
        } else {
            local.format("%Y-%m-%dT%H:%M").to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ams(start: &str, rule: &str) -> Recurrence {
        Recurrence {
            start: start.into(),
            rule: Some(rule.into()),
            skipped: vec![],
            moved: vec![],
            zone: "Europe/Amsterdam".into(),
        }
    }

    fn local(r: &Recurrence, from: &str, to: &str) -> Vec<String> {
        let t = |s: &str| CivilStart::parse(s).unwrap().instant("UTC").unwrap();
        r.occurrences_between(t(from), t(to))
            .into_iter()
            .map(|at| format!("{} {}", r.key_of(at), at))
            .collect()
    }

    #[test]
    fn seventeen_hundred_stays_seventeen_hundred_across_both_clock_changes() {
        let r = ams("2027-03-17T17:00", "FREQ=WEEKLY;BYDAY=WE;COUNT=3");
        assert_eq!(
            local(&r, "2027-01-01", "2028-01-01"),
            vec![
                "2027-03-17T17:00 2027-03-17 16:00 UTC",
                "2027-03-24T17:00 2027-03-24 16:00 UTC",
                "2027-03-31T17:00 2027-03-31 15:00 UTC",
            ]
        );
        let autumn = ams("2026-10-21T17:00", "FREQ=WEEKLY;COUNT=2");
        assert_eq!(
            local(&autumn, "2026-10-01", "2026-12-01"),
            vec![
                "2026-10-21T17:00 2026-10-21 15:00 UTC",
                "2026-10-28T17:00 2026-10-28 16:00 UTC"
            ]
        );
    }

    #[test]
    fn nonexistent_and_repeated_local_hours_follow_rfc_5545() {
        // 02:30 does not exist on 28 March 2027: moved forward to 03:30 summer time.
        let spring = ams("2027-03-27T02:30", "FREQ=DAILY;COUNT=3");
        assert_eq!(
            local(&spring, "2027-03-01", "2027-04-01"),
            vec![
                "2027-03-27T02:30 2027-03-27 01:30 UTC",
                "2027-03-28T03:30 2027-03-28 01:30 UTC",
                "2027-03-29T02:30 2027-03-29 00:30 UTC",
            ]
        );
        // 02:30 exists twice on 25 October 2026: the first (summer time).
        let autumn = ams("2026-10-24T02:30", "FREQ=DAILY;COUNT=3");
        assert_eq!(
            local(&autumn, "2026-10-01", "2026-11-01"),
            vec![
                "2026-10-24T02:30 2026-10-24 00:30 UTC",
                "2026-10-25T02:30 2026-10-25 00:30 UTC",
                "2026-10-26T02:30 2026-10-26 01:30 UTC",
            ]
        );
        let gap = CivilStart::parse("2027-03-28T02:30").unwrap();
        assert_eq!(
            gap.instant("Europe/Amsterdam").unwrap().to_string(),
            "2027-03-28 01:30 UTC"
        );
        // Apps are told: it is kept as 03:30. The repeated hour and a day are kept as
        // written.
        let kept = |s: &str| {
            CivilStart::parse(s)
                .unwrap()
                .shifted_in("Europe/Amsterdam")
                .unwrap()
                .map(|t| t.to_string())
        };
        assert_eq!(
            kept("2027-03-28T02:30").as_deref(),
            Some("2027-03-28 03:30:00")
        );
        assert_eq!(kept("2027-03-28T03:30"), None);
        assert_eq!(kept("2026-10-25T02:30"), None);
        assert_eq!(kept("2027-03-28"), None);
        // A single turn on either night is that moment (not refused by the expansion).
        for (start, utc) in [
            ("2026-10-25T02:30", "2026-10-25T00:30"),
            ("2027-03-28T02:30", "2027-03-28T01:30"),
        ] {
            let once = Recurrence {
                rule: None,
                ..ams(start, "")
            };
            assert!(once.validate().is_ok(), "{start}");
            let t = |s: &str| CivilStart::parse(s).unwrap().instant("UTC").unwrap();
            assert_eq!(
                once.occurrences_between(t("2026-01-01"), t("2028-01-01")),
                [t(utc)],
                "{start}"
            );
        }
    }

    #[test]
    fn skipped_and_moved_occurrences_and_the_window() {
        let mut r = ams(
            "2026-12-01T09:00",
            "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20261231T235959Z",
        );
        r.skipped.push("2026-12-03T09:00".into());
        r.moved.push(Moved {
            from: "2026-12-08T09:00".into(),
            to: "2026-12-09T10:30".into(),
        });
        let got: Vec<String> = local(&r, "2026-12-01", "2026-12-11")
            .into_iter()
            .map(|s| s[..16].to_owned())
            .collect();
        assert_eq!(
            got,
            vec!["2026-12-01T09:00", "2026-12-09T10:30", "2026-12-10T09:00"]
        );
        // The window is half open: an occurrence exactly at `to` is not in it.
        let t = |s: &str| {
            CivilStart::parse(s)
                .unwrap()
                .instant("Europe/Amsterdam")
                .unwrap()
        };
        assert_eq!(
            r.occurrences_between(t("2026-12-01T09:00"), t("2026-12-10T09:00"))
                .len(),
            2
        );
    }

    #[test]
    fn monthly_rules_date_only_and_bad_input() {
        let nth = ams("2026-12-01T19:30", "FREQ=MONTHLY;BYDAY=1MO;COUNT=3");
        let got: Vec<String> = local(&nth, "2026-11-01", "2027-06-01")
            .into_iter()
            .map(|s| s[..16].to_owned())
            .collect();
        assert_eq!(
            got,
            vec!["2026-12-07T19:30", "2027-01-04T19:30", "2027-02-01T19:30"]
        );
        let saturday = Recurrence {
            rule: None,
            ..ams("2026-12-05", "")
        };
        assert!(saturday.is_all_day() && !saturday.is_series());
        assert_eq!(
            local(&saturday, "2026-12-01", "2026-12-31"),
            vec!["2026-12-05 2026-12-04 23:00 UTC"]
        );
        assert!(ams("2026-12-01T17:00", "FREQ=SOMETIMES")
            .validate()
            .is_err());
        assert!(ams("1 december", "FREQ=DAILY").validate().is_err());
        assert!(Recurrence {
            zone: "Mars/Olympus".into(),
            ..ams("2026-12-01", "FREQ=DAILY")
        }
        .validate()
        .is_err());
    }
}
