//! `kring-trust`: what the relay and every client must agree on, free of IO.
//!
//! Nothing here knows the plan's content: an envelope carries opaque change bytes
//! (automerge changes, parsed and checked by `kring-client`), so the relay links this
//! crate and nothing of the plan model.
//!
//! - [`ids`] and [`time`]: a circle's and a member's id; timestamps (the clock is always
//!   passed in, never read).
//! - [`identity`]: device keys and device ids.
//! - [`membership`]: the signed, hash-chained membership log and its validator.
//! - [`invite`] and [`recovery`]: offline invites and device links as `kring://` links,
//!   recovery codes.
//! - [`crypto`] and [`keyring`]: epoch keys, how they are wrapped and learned.
//! - [`envelope`]: sealing, verifying and opening the encrypted envelopes that carry
//!   plan changes.
//! - [`snapshot`]: the main person's compacted copy of the plan, for fast catch-up.
//! - [`protocol`], [`request_auth`], [`wake_up`]: the relay's HTTP protocol, request
//!   signing (both sides call the same functions), the content of a push.
//! - [`live`]: the live WebSocket's binary frames (stored envelopes and entries).
//! - [`error`]: this layer's [`Error`] and the one classification ([`ErrorKind`],
//!   [`error::Class`], [`error::codes`]) the plan's and the client's errors map into.
//! - `wire` (private): the canonical, versioned, size-bounded encoding they all share.
//!
//! See `ARCHITECTURE.md` for where this crate sits and the rules it keeps.

pub mod crypto;
pub mod envelope;
pub mod error;
pub mod identity;
pub mod ids;
pub mod invite;
pub mod keyring;
pub mod live;
pub mod membership;
pub mod protocol;
pub mod recovery;
pub mod request_auth;
pub mod snapshot;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod time;
pub mod wake_up;
mod wire;

pub use error::{Error, ErrorKind, Result};
pub use time::Timestamp;
