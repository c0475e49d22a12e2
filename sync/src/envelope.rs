//! Envelopes as a device uses them: the trust layer's envelopes
//! ([`kring_trust::envelope`]) carrying automerge changes.
//!
//! The trust layer signs, encrypts and verifies envelopes without looking inside (so
//! the relay links no plan code). Here, on the way in, every change is checked to be an
//! uncompressed automerge change chunk whose actor is the envelope's author: a member
//! cannot slip in a change that claims to be someone else's. Sealing checks the same
//! on the way out.

use automerge::Change;
use kring_plan::plan::DeviceActor;
use kring_trust::identity::DeviceIdentity;
use kring_trust::keyring::Keyring;
use kring_trust::membership::MembershipState;

pub use kring_trust::envelope::{
    read_header, read_sealed_for, verify, EnvelopeHash, EnvelopeHeader, SealedEnvelope, SealedFor,
    VerifiedEnvelope, MAX_ENVELOPE_BYTES,
};

use crate::error::{Error, Result};

/// In automerge's binary format a chunk starts with 4 magic bytes and a 4-byte checksum,
/// followed by the chunk type: 1 is an uncompressed change. Compressed chunks are
/// refused before parsing: their inflated size is not bounded by the envelope's.
const CHUNK_TYPE_OFFSET: usize = 8;
const CHUNK_TYPE_CHANGE: u8 = 1;

/// Who a writer seals for: the whole circle, or — during family time — the family
/// alone, under the family key current at the membership head
/// ([`kring_trust::envelope::seal_for_family`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    Circle,
    Family,
}

impl Readers {
    /// Who `sealed_for` was sealed for.
    pub fn of(sealed_for: SealedFor) -> Self {
        match sealed_for {
            SealedFor::Circle => Readers::Circle,
            SealedFor::Family { .. } => Readers::Family,
        }
    }
}

/// The family key generation an envelope is sealed under, decoded but **not
/// verified**; `None` for one sealed for the whole circle (or not readable). For a
/// device's bookkeeping of the envelopes it keeps (which of them are the family's).
pub fn family_generation(bytes: &[u8]) -> Option<u64> {
    match read_sealed_for(bytes) {
        Ok(SealedFor::Family { generation }) => Some(generation),
        _ => None,
    }
}

/// Seals `changes` (made on this device, so with its actor id) for the whole circle as
/// the author's envelope number `device_seq` after `prev`.
pub fn seal(
    author: &DeviceIdentity,
    state: &MembershipState,
    keys: &Keyring,
    device_seq: u64,
    prev: Option<EnvelopeHash>,
    changes: &[Change],
) -> Result<SealedEnvelope> {
    seal_for(
        Readers::Circle,
        author,
        state,
        keys,
        device_seq,
        prev,
        changes,
    )
}

/// [`seal`] for `readers`.
pub fn seal_for(
    readers: Readers,
    author: &DeviceIdentity,
    state: &MembershipState,
    keys: &Keyring,
    device_seq: u64,
    prev: Option<EnvelopeHash>,
    changes: &[Change],
) -> Result<SealedEnvelope> {
    let actor = author.actor_id();
    for change in changes {
        check_actor(&actor, change)?;
    }
    let raw: Vec<&[u8]> = changes.iter().map(Change::raw_bytes).collect();
    Ok(match readers {
        Readers::Circle => kring_trust::envelope::seal(author, state, keys, device_seq, prev, &raw),
        Readers::Family => {
            kring_trust::envelope::seal_for_family(author, state, keys, device_seq, prev, &raw)
        }
    }?)
}

/// Verify, decrypt, then parse and check every change: what a client does with an
/// envelope.
pub fn open(bytes: &[u8], state: &MembershipState, keys: &Keyring) -> Result<OpenedEnvelope> {
    decrypt(verify(bytes, state)?, keys)
}

/// Decrypts a verified envelope and parses its changes, each of which must be by the
/// author.
pub fn decrypt(verified: VerifiedEnvelope, keys: &Keyring) -> Result<OpenedEnvelope> {
    let opened = verified.decrypt(keys)?;
    let actor = opened.header().author.actor_id();
    opened.try_map(|bytes| parse_change(bytes, &actor))
}

fn parse_change(bytes: Vec<u8>, actor: &automerge::ActorId) -> Result<Change> {
    let what = "automerge change";
    let malformed = |detail: String| kring_trust::Error::Malformed { what, detail };
    if bytes.get(CHUNK_TYPE_OFFSET) != Some(&CHUNK_TYPE_CHANGE) {
        return Err(malformed("not an uncompressed change chunk".into()).into());
    }
    let change = Change::from_bytes(bytes).map_err(|e| malformed(e.to_string()))?;
    check_actor(actor, &change)?;
    Ok(change)
}

fn check_actor(actor: &automerge::ActorId, change: &Change) -> Result<()> {
    if change.actor_id() != actor {
        return Err(Error::WrongActor {
            expected: actor.to_hex_string(),
            found: change.actor_id().to_hex_string(),
        });
    }
    Ok(())
}

/// A fully checked envelope: header, hash and the automerge changes to apply.
pub type OpenedEnvelope = kring_trust::envelope::OpenedEnvelope<Change>;

#[cfg(test)]
mod tests;
