//! Dates as a shell user types and reads them. Plans store UTC instants; the CLI reads
//! and prints UTC too, so what you type is what every member's device stores.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use kring_core::Timestamp;

use crate::error::{CliError, CliResult};

/// Accepts `2026-11-24`, `2026-11-24 18:00`, `2026-11-24T18:00` or RFC 3339.
pub fn parse(input: &str) -> CliResult<Timestamp> {
    let s = input.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(Timestamp(dt.timestamp_millis()));
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(Timestamp(dt.and_utc().timestamp_millis()));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(dt) = d.and_hms_opt(0, 0, 0) {
            return Ok(Timestamp(dt.and_utc().timestamp_millis()));
        }
    }
    Err(CliError::Usage(format!(
        "cannot read the date {input:?}; use 2026-11-24 or \"2026-11-24 18:00\" (UTC)"
    )))
}

/// `2026-11-24 18:00` (UTC), or the raw number if it is out of range.
pub fn format(at: Timestamp) -> String {
    DateTime::<Utc>::from_timestamp_millis(at.0).map_or_else(
        || at.0.to_string(),
        |dt| dt.format("%Y-%m-%d %H:%M").to_string(),
    )
}

pub fn format_opt(at: Option<Timestamp>) -> String {
    at.map_or_else(|| "-".to_owned(), format)
}
