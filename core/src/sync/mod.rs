//! Talking to a relay: the wire protocol both sides share, and (with the `client`
//! parts) how a device keeps its circles in sync.
//!
//! - [`request_auth`]: signing and checking requests (the relay and clients call the
//!   same functions).
//! - [`protocol`]: the JSON bodies of the relay API (`docs/relay-api.md`) and the one
//!   mapping from [`crate::Error`] to HTTP status and stable error code.

pub mod protocol;
pub mod request_auth;
