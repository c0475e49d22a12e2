//! `kring-sync`: what every Kring device does to stay in sync, with no IO at all, so
//! the native client (`kring-client`: SQLite, reqwest, tokio) and the web app
//! (`kring-web`: IndexedDB and fetch, in WebAssembly) run the same rules.
//!
//! - [`envelope`]: the trust layer's envelopes carrying automerge changes, each checked
//!   to be by the envelope's author.
//! - [`snapshot`]: the main person's compacted plan, checked against the envelopes it
//!   cites, for a new device's fast start.
//! - [`engine`]: every sync decision (classify, apply, reseal, retry, status).
//! - [`records`]: the sync state a device persists, as plain data.
//! - [`request`]: the relay's HTTP API as signed requests and typed answers, as data
//!   (the caller carries them).
//! - [`error`]: this crate's [`Error`].
//!
//! The drivers that do the IO live with their platform: `kring_client::device::net`
//! and `kring_web`. See `ARCHITECTURE.md` for what may depend on what.

pub mod engine;
pub mod envelope;
pub mod error;
pub mod records;
pub mod request;
pub mod snapshot;
#[cfg(test)]
mod testkit;

pub use error::{Error, Result};
