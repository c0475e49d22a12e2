//! Content-free Web Push wake-ups (`docs/push.md`).
//!
//! The relay cannot read plans, so it can only say "something changed in circle X":
//! a device registers a Web Push subscription (RFC 8030 endpoint, RFC 8291 keys) per
//! circle with a signed request, and when another device stores envelopes or a
//! membership entry in that circle, the relay sends it a push carrying the circle id
//! and cursor and nothing else, encrypted for the device (RFC 8291, `aes128gcm`),
//! identified by the relay's VAPID key (RFC 8292), coalesced per device and circle.
//! The device syncs and writes every word a person sees itself.
//!
//! - [`subscription`]: what a registration must be (endpoint policy, key sizes).
//! - [`fanout`]: who is woken, the payload, coalescing: pure.
//! - [`sender`]: the queue, the dispatcher and the workers: the IO edge.
//! - [`vapid`]: the relay's key.

pub mod fanout;
pub mod sender;
pub mod subscription;
pub mod vapid;

pub use sender::{Change, Pusher, Settings};
pub use subscription::{EndpointPolicy, Subscription};
pub use vapid::Vapid;
