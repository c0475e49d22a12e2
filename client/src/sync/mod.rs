//! Keeping a device's circles in sync with a relay. The relay protocol itself (JSON
//! bodies, request signing, the push wake-up) is `kring_trust::{protocol,
//! request_auth, wake_up}`, shared with the relay. See `docs/sync.md`.
//!
//! - [`engine`]: the sync client's decisions, pure and unit-tested (what to apply,
//!   what to push, when to reseal, retry or give up, the status a UI shows): the
//!   `kring-sync` crate's, shared with the web app, re-exported here.
//! - [`http`]: the relay API as signed requests and typed answers, over a
//!   [`transport::Transport`] (reqwest over rustls for the apps; the relay's own router
//!   in-process for fast tests).
//! - [`live`]: the WebSocket edge for live notices.

pub mod http;
pub mod live;
pub mod transport;

pub use kring_sync::engine;
