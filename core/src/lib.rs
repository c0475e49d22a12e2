//! `kring-core`: everything Kring knows about a circle, free of IO where it can be.
//!
//! - [`plan`]: the circle's plan as an automerge document, with a typed API and view.
//! - [`store`]: the local SQLite store that keeps circles durable on a device.
//! - [`followup`]: the follow-up engine — what is slipping, pure functions of a plan and `now`.
//! - [`export`]: the plan as Markdown or printable HTML, in Dutch or English.
//! - [`time`]: timestamps; the core never reads the clock itself.
//!
//! The trust layer (IO-free; the relay runs the same code):
//! - [`identity`]: device keys, device ids, the [`identity::SecretStore`] interface.
//! - [`membership`]: the signed, hash-chained membership log and its validator.
//! - [`invite`]: offline invites as `kring://` links.
//! - [`crypto`] and [`keyring`]: epoch keys, how they are wrapped and learned.
//! - [`envelope`]: sealing and opening the encrypted envelopes that carry plan changes.
//! - `wire` (private): the canonical, versioned, size-bounded encoding they all share.
//!
//! The device:
//! - [`device`]: the façade the CLI and the mobile bindings use: identity, circles,
//!   plan operations that seal into the outbox, invites, join, sync, status, watch.
//! - [`sync`]: the relay protocol, the pure sync engine and (feature `client`) the
//!   HTTP and WebSocket edges.
//!
//! See `ARCHITECTURE.md` (the code map and its invariants) and `docs/design.md`.

pub mod crypto;
pub mod device;
pub mod envelope;
pub mod error;
pub mod export;
pub mod followup;
pub mod identity;
pub mod invite;
pub mod keyring;
pub mod membership;
pub mod news;
pub mod plan;
pub mod recovery;
pub mod reminders;
pub mod store;
pub mod sync;
#[cfg(test)]
mod testkit;
pub mod time;
mod wire;

pub use error::{Error, ErrorKind, Result};
pub use time::Timestamp;

#[cfg(test)]
mod fixtures;
