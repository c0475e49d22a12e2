//! Talking to a relay: the wire protocol both sides share, and (with the `client`
//! feature) how a device keeps its circles in sync. See `docs/sync.md`.
//!
//! - [`request_auth`]: signing and checking requests (the relay and clients call the
//!   same functions).
//! - [`protocol`]: the JSON bodies of the relay API (`docs/relay-api.md`) and the one
//!   mapping from [`crate::Error`] to HTTP status and stable error code.
//! - [`engine`]: the sync client's decisions, pure and unit-tested (what to apply,
//!   what to push, when to reseal, retry or give up, the status a UI shows).
//! - `http` and `live` (feature `client`): the network edges, reqwest and a
//!   WebSocket, both over rustls.

pub mod engine;
#[cfg(feature = "client")]
pub mod http;
#[cfg(feature = "client")]
pub mod live;
pub mod protocol;
pub mod request_auth;
pub mod wake_up;
