//! `kring-plan`: the circle's plan and everything derived from it, pure.
//!
//! No IO and no clock: every function takes the plan (an automerge document), the
//! reader and `now`, and returns data. The client crate stores and syncs plans; the
//! relay never links this crate.
//!
//! - [`plan`]: the plan document with a typed API (`CirclePlan`) and view (`PlanView`),
//!   its rules (`authority`) and civil time (`recurrence`).
//! - [`followup`]: what is slipping, who sees signals about people, my week.
//! - [`export`]: the plan as Markdown, printable HTML and iCalendar.
//! - [`reminders`]: what to remind whom of, when.
//! - [`news`]: what changed between two views of a plan, for one member.
//! - [`error`]: this crate's [`Error`], wrapping the trust layer's.
//!
//! See `ARCHITECTURE.md` for where this crate sits and the rules it keeps.

pub mod error;
pub mod export;
pub mod followup;
pub mod news;
pub mod plan;
pub mod reminders;

pub use error::{Error, Result};

#[cfg(test)]
mod fixtures;
