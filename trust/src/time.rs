//! Time as a plain value.
//!
//! The core never reads a clock: every operation that needs "now" takes a [`Timestamp`]
//! argument. That keeps plan operations, follow-up signals and membership rules
//! deterministic and testable with a fixed `now`; the CLI, the FFI layer and the relay
//! pass the wall clock in at the edge.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
///
/// Dates in a plan ("due Tuesday 18:00") are stored as instants; rendering them in a
/// local time zone is a presentation concern of the apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

    /// The wall clock. Only edges (CLI, FFI, relay) call this; core logic takes `now`.
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_days(self, days: i64) -> Self {
        Timestamp(
            self.0
                .saturating_add(days.saturating_mul(Self::MILLIS_PER_DAY)),
        )
    }

    pub fn plus_millis(self, millis: i64) -> Self {
        Timestamp(self.0.saturating_add(millis))
    }

    /// Whole days from `self` until `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Timestamp) -> i64 {
        later
            .0
            .saturating_sub(self.0)
            .div_euclid(Self::MILLIS_PER_DAY)
    }
}

/// Day of the week, Monday first (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    /// 0 for Monday … 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    fn from_index(i: i64) -> Self {
        match i.rem_euclid(7) {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            _ => Weekday::Sunday,
        }
    }
}

/// A calendar date and time of day (in UTC or a circle's zone), for rendering
/// timestamps to people. Minutes are the finest unit shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CivilDateTime {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub weekday: Weekday,
}

impl Timestamp {
    /// The UTC calendar date and time of this instant (proleptic Gregorian calendar).
    pub fn to_civil_utc(self) -> CivilDateTime {
        self.to_civil_in("UTC")
    }

    /// The wall-clock date and time of this instant in the IANA time zone `zone` (UTC
    /// for a name the database does not know).
    pub fn to_civil_in(self, zone: &str) -> CivilDateTime {
        use chrono::{Datelike, Timelike};
        let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
        // chrono covers ±262,000 years; clamp anything beyond to its range.
        let dt = chrono::DateTime::from_timestamp_millis(self.0)
            .unwrap_or(if self.0 < 0 {
                chrono::DateTime::<chrono::Utc>::MIN_UTC
            } else {
                chrono::DateTime::<chrono::Utc>::MAX_UTC
            })
            .with_timezone(&tz);
        CivilDateTime {
            year: i64::from(dt.year()),
            month: dt.month(),
            day: dt.day(),
            hour: dt.hour(),
            minute: dt.minute(),
            weekday: Weekday::from_index(i64::from(dt.weekday().num_days_from_monday())),
        }
    }

    /// The instant of a UTC calendar date and time. Used by tests and fixtures that
    /// want readable dates; out-of-range days, hours and minutes roll over like
    /// `mktime` does.
    pub fn from_civil_utc(year: i64, month: u32, day: u32, hour: u32, minute: u32) -> Self {
        let start_of_year = i32::try_from(year)
            .ok()
            .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, 1, 1))
            .unwrap_or_default();
        let date = start_of_year
            .checked_add_months(chrono::Months::new(month.saturating_sub(1)))
            .and_then(|d| d.checked_add_days(chrono::Days::new(u64::from(day.saturating_sub(1)))))
            .unwrap_or(start_of_year);
        let midnight = date
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis();
        let minutes = i64::from(hour) * 60 + i64::from(minute);
        Timestamp(midnight.saturating_add(minutes.saturating_mul(60_000)))
    }
}

/// For people (error messages, logs): `2026-12-01 18:00 UTC`.
impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match chrono::DateTime::from_timestamp_millis(self.0) {
            Some(dt) => write!(f, "{} UTC", dt.format("%Y-%m-%d %H:%M")),
            None => write!(f, "{} ms", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_known_dates() {
        let epoch = Timestamp(0).to_civil_utc();
        assert_eq!(
            (epoch.year, epoch.month, epoch.day, epoch.weekday),
            (1970, 1, 1, Weekday::Thursday)
        );

        // 2024-02-29 (leap day) 13:45 UTC was a Thursday.
        let t = Timestamp::from_civil_utc(2024, 2, 29, 13, 45);
        assert_eq!(t, Timestamp(1_709_214_300_000));
        let c = t.to_civil_utc();
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2024, 2, 29, 13, 45)
        );
        assert_eq!(c.weekday, Weekday::Thursday);

        // One millisecond before midnight stays on the earlier day.
        let c = Timestamp::from_civil_utc(2025, 1, 1, 0, 0)
            .plus_millis(-1)
            .to_civil_utc();
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2024, 12, 31, 23, 59)
        );
        assert_eq!(c.weekday, Weekday::Tuesday);

        // Before the epoch.
        let c = Timestamp(-1).to_civil_utc();
        assert_eq!(
            (c.year, c.month, c.day, c.weekday),
            (1969, 12, 31, Weekday::Wednesday)
        );
    }

    #[test]
    fn civil_round_trips_every_day_for_decades() {
        let mut t = Timestamp::from_civil_utc(1990, 1, 1, 12, 0);
        let mut weekday = t.to_civil_utc().weekday.index();
        for _ in 0..(366 * 60) {
            let c = t.to_civil_utc();
            assert_eq!(
                Timestamp::from_civil_utc(c.year, c.month, c.day, c.hour, c.minute),
                t
            );
            assert_eq!(c.weekday.index(), weekday);
            t = t.plus_days(1);
            weekday = (weekday + 1) % 7;
        }
    }
}
