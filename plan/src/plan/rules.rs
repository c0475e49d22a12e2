//! Input rules shared by every plan operation: what text and numbers are acceptable.
//!
//! Limits keep one careless paste (or a hostile peer) from bloating every member's
//! phone; they are generous for anything a person would type.

use crate::{Error, Result};

pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 4_000;
pub const MAX_SLOTS: u32 = 100;
pub const MAX_EVERY_WEEKS: u32 = 52;

/// Trims `value` and checks it is non-empty and at most `max` characters.
pub fn required_text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let trimmed = optional_text(field, value, max)?;
    if trimmed.is_empty() {
        return Err(Error::EmptyText { field });
    }
    Ok(trimmed)
}

/// Trims `value` and checks it is at most `max` characters; empty is fine.
pub fn optional_text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len > max {
        return Err(Error::TextTooLong { field, len, max });
    }
    Ok(trimmed.to_owned())
}

pub fn slots(slots: u32) -> Result<u32> {
    if slots == 0 || slots > MAX_SLOTS {
        return Err(Error::InvalidSlots(slots));
    }
    Ok(slots)
}
