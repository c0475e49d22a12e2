//! Keeping a device's circles in sync with a relay. The relay protocol itself (JSON
//! bodies, request signing, the push wake-up) is `kring_trust::{protocol,
//! request_auth, wake_up}`, shared with the relay. See `docs/sync.md`.
//!
//! - [`engine`]: the sync client's decisions, pure and unit-tested (what to apply,
//!   what to push, when to reseal, retry or give up, the status a UI shows).
//! - `http` and `live`: the network edges, reqwest and a WebSocket, both over rustls.

pub mod engine;
pub mod http;
pub mod live;
