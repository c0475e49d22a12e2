//! `kring-core`: everything Kring knows about a circle, free of IO where it can be.
//!
//! - [`plan`]: the circle's plan as an automerge document, with a typed API and view.
//! - [`store`]: the local SQLite store that keeps circles durable on a device.
//! - [`followup`]: the follow-up engine — what is slipping, pure functions of a plan and `now`.
//! - [`export`]: the plan as Markdown or printable HTML, in Dutch or English.
//! - [`time`]: timestamps; the core never reads the clock itself.
//!
//! See `DESIGN.md` in the repository for how the pieces fit.

pub mod error;
pub mod export;
pub mod followup;
pub mod plan;
pub mod store;
pub mod time;

pub use error::{Error, Result};
pub use time::Timestamp;

#[cfg(test)]
mod fixtures;
