//! What a person chose on this device about reminders for one circle.
//!
//! These choices live in the device's local store, never in the shared plan: whether
//! Jan mutes his sister's circle at night is nobody else's business, and the plan must
//! not carry a record of who wants to be left alone.

use chrono::{NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A time of day on the wall clock ("22:00"), in the circle's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(NaiveTime);

impl ClockTime {
    /// `hour:minute`; `None` for a time that does not exist on a clock.
    pub fn new(hour: u32, minute: u32) -> Option<ClockTime> {
        NaiveTime::from_hms_opt(hour, minute, 0).map(ClockTime)
    }

    /// Reads "22:00", "8:00" or "22.00" (the Dutch way of writing it).
    pub fn parse(s: &str) -> Result<ClockTime> {
        let s = s.trim();
        NaiveTime::parse_from_str(&s.replace('.', ":"), "%H:%M")
            .map(ClockTime)
            .map_err(|_| Error::InvalidValue {
                field: "time of day",
                value: s.to_owned(),
                expected: "HH:MM, such as 22:00".into(),
            })
    }

    pub fn time(self) -> NaiveTime {
        self.0
    }
}

impl std::fmt::Display for ClockTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl TryFrom<String> for ClockTime {
    type Error = Error;
    fn try_from(s: String) -> Result<ClockTime> {
        ClockTime::parse(&s)
    }
}

impl From<ClockTime> for String {
    fn from(t: ClockTime) -> String {
        t.to_string()
    }
}

/// One circle's reminder choices on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReminderSettings {
    /// No reminders at all for this circle on this device.
    pub muted: bool,
    /// The short weekly digest ("this week in Sanne's circle"), Monday morning.
    /// Off unless asked for: a digest nobody wanted is the first thing people mute.
    pub digest: bool,
    /// Quiet hours, in the circle's zone: no reminder goes off from `quiet_from` up to
    /// `quiet_until` (across midnight when `quiet_from > quiet_until`).
    pub quiet_from: ClockTime,
    pub quiet_until: ClockTime,
}

impl Default for ReminderSettings {
    fn default() -> Self {
        ReminderSettings {
            muted: false,
            digest: false,
            quiet_from: ClockTime::new(22, 0).expect("22:00 is a time of day"),
            quiet_until: ClockTime::new(8, 0).expect("08:00 is a time of day"),
        }
    }
}

impl ReminderSettings {
    /// Whether the wall-clock time `t` falls in the quiet hours.
    pub fn is_quiet(&self, t: NaiveTime) -> bool {
        let (from, until) = (self.quiet_from.0, self.quiet_until.0);
        if from <= until {
            from <= t && t < until
        } else {
            t >= from || t < until
        }
    }

    /// The first wall-clock moment at or after `local` outside the quiet hours: a
    /// reminder that would go off at 06:30 goes off at 08:00 instead.
    pub(super) fn after_quiet(&self, local: NaiveDateTime) -> NaiveDateTime {
        if !self.is_quiet(local.time()) {
            return local;
        }
        let end = local.date().and_time(self.quiet_until.0);
        if end > local {
            end
        } else {
            // Quiet hours that run past midnight end the next morning.
            end + chrono::Duration::days(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time")
    }

    #[test]
    fn default_quiet_hours_run_from_ten_at_night_to_eight_in_the_morning() {
        let s = ReminderSettings::default();
        assert!(s.is_quiet(at("2026-12-01 22:00").time()));
        assert!(s.is_quiet(at("2026-12-01 03:00").time()));
        assert!(!s.is_quiet(at("2026-12-01 08:00").time()));
        assert!(!s.is_quiet(at("2026-12-01 21:59").time()));
        assert_eq!(
            s.after_quiet(at("2026-12-01 23:30")),
            at("2026-12-02 08:00")
        );
        assert_eq!(
            s.after_quiet(at("2026-12-02 06:30")),
            at("2026-12-02 08:00")
        );
        assert_eq!(
            s.after_quiet(at("2026-12-02 12:00")),
            at("2026-12-02 12:00")
        );
    }

    #[test]
    fn quiet_hours_inside_one_day_and_a_dutch_clock_time() {
        let s = ReminderSettings {
            quiet_from: ClockTime::parse("13.00").expect("dutch time"),
            quiet_until: ClockTime::parse("15:00").expect("time"),
            ..ReminderSettings::default()
        };
        assert!(s.is_quiet(at("2026-12-01 14:00").time()));
        assert!(!s.is_quiet(at("2026-12-01 23:00").time()));
        assert_eq!(
            s.after_quiet(at("2026-12-01 13:10")),
            at("2026-12-01 15:00")
        );
    }

    #[test]
    fn settings_read_back_from_json_and_refuse_nonsense_times() {
        let json = r#"{"muted":true,"quiet_from":"23:00"}"#;
        let s: ReminderSettings = serde_json::from_str(json).expect("settings");
        assert!(s.muted && !s.digest);
        assert_eq!(s.quiet_from.to_string(), "23:00");
        assert_eq!(s.quiet_until.to_string(), "08:00");
        assert!(serde_json::from_str::<ReminderSettings>(r#"{"quiet_from":"25:00"}"#).is_err());
        assert!(ClockTime::parse("later").is_err());
    }
}
