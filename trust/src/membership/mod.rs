//! The membership log of a circle: who is in it, with which devices and capabilities,
//! and which content key epoch is current.
//!
//! - [`entry`]: entry types, their canonical encoding and signatures.
//! - [`state`]: [`MembershipState`] and the pure validator (`check` / `apply`).
//! - [`build`]: how a client device makes valid entries.
//!
//! The log is plaintext (the relay must be able to validate it) and says nothing a
//! human wrote: names, relations and roles live in the encrypted plan document.

pub mod build;
pub mod entry;
pub mod family;
pub mod state;
#[cfg(test)]
mod tests;

pub use entry::{
    Action, Capability, EntryBody, EntryHash, FamilyKeys, KeyWrap, PresentedKey, Rotation,
    SignedEntry, WriteCutoff, MAX_ENTRY_BYTES,
};
pub use state::{DeviceRecord, MemberRecord, MembershipState};
