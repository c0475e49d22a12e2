//! `kring-client`: a device's side of Kring — its encrypted store, the sync engine and
//! its network edges, and the façade the CLI and the mobile bindings use.
//!
//! - [`device`]: the façade: identity, circles, plan operations that seal into the
//!   outbox, invites, join, sync, status, watch, reminders and news.
//! - [`sync`]: the pure sync engine (every decision) and the HTTP and WebSocket edges.
//! - [`store`]: the device's SQLite store (SQLCipher: encrypted at rest).
//! - [`envelope`], [`snapshot`]: `kring-sync`'s, re-exported (envelopes carrying
//!   automerge changes; the main person's compacted plan), shared with the web app.
//! - [`secrets`]: where the device keeps its keys ([`secrets::SecretStore`]).
//! - [`error`]: this crate's [`Error`], wrapping the plan's and the trust layer's.
//!
//! The plan itself is `kring-plan` (pure); ids, time, identity, membership, invites and
//! the relay protocol are `kring-trust` (pure, shared with the relay). See
//! `ARCHITECTURE.md` for what may depend on what.

pub mod device;
pub mod error;
pub mod secrets;
pub mod store;
pub mod sync;

pub use kring_sync::{envelope, snapshot};

pub use error::{Error, Result};
