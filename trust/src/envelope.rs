//! Envelopes: signed, encrypted batches of plan changes, the only thing devices
//! exchange about the plan.
//!
//! ```text
//! envelope = 0x01 || postcard { body: bytes, signature: [u8; 64] }
//! body     = 0x01 || postcard { header: EnvelopeHeader, ciphertext: bytes }
//!          | 0x02 || postcard { header: EnvelopeHeader, family: u64, ciphertext: bytes }
//! content  = 0x01 || postcard(Vec<bytes>)     one change each (opaque here)
//! ```
//!
//! A body of version 2 is sealed for the family alone (family time, see
//! `docs/threat-model.md`): under the family key of generation `family` instead of
//! the epoch key, which only the devices of members not marked professional hold.
//! Its author must have held that generation, current at the cited membership head
//! ([`MembershipState::check_family_writer`]); everyone, the relay included, checks
//! that without the key.
//!
//! The signature (author device, over `ENVELOPE_DOMAIN || body`) covers the exact
//! stored bytes; the AEAD (XChaCha20-Poly1305 under the epoch key, nonce in the header)
//! authenticates the header as associated data, so ciphertext and header cannot be
//! recombined. The content is a list of changes as bytes; this layer never looks inside
//! them. The client (`kring_client::envelope`) puts automerge changes in, and on the way
//! out parses each one and checks that its actor is the envelope's author, so the relay
//! links no plan code.
//!
//! Who checks what:
//! - [`verify`] (relay and clients, no key needed): size, encoding, circle, signature,
//!   and [`MembershipState::check_writer`] (write capability at the cited membership
//!   head, that head's epoch, not removed or demoted beyond the write cutoff).
//!   The relay additionally requires [`VerifiedEnvelope::check_current_epoch`] on push
//!   and per-device `device_seq` contiguity ([`EnvelopeHeader::check_follows`]).
//! - [`VerifiedEnvelope::decrypt`] (clients): the epoch key is known, the AEAD tag, at
//!   least one change inside. That each change is by the author is the client's check.

use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};
use serde_bytes::{ByteBuf, Bytes};

use crate::crypto::{self, EpochKey, NONCE_LEN};
use crate::error::{Error, Result};
use crate::identity::{DeviceId, DeviceIdentity};
use crate::ids::CircleId;
use crate::keyring::Keyring;
use crate::membership::{EntryHash, MembershipState};
use crate::wire;

/// Envelopes carry edits to a plan, not files; this leaves ample room for large batches.
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;

const ENVELOPE_V1: u8 = 1;
const BODY_V1: u8 = 1;
const BODY_FAMILY_V1: u8 = 2;
const CONTENT_V1: u8 = 1;
const ENVELOPE_DOMAIN: &[u8] = b"kring/envelope/v1\0";
const CONTENT_AAD_DOMAIN: &[u8] = b"kring/envelope-content/v1\0";
const FAMILY_CONTENT_AAD_DOMAIN: &[u8] = b"kring/envelope-family-content/v1\0";
const ENVELOPE_HASH_DOMAIN: &str = "kring 2025 envelope hash v1";
const WHAT: &str = "envelope";
const CHAIN: &str = "envelope chain";

wire::define_bytes32!(
    /// The hash of a stored envelope; the author's next envelope cites it as `prev`.
    EnvelopeHash
);

/// Everything about an envelope that is not encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeHeader {
    pub circle: CircleId,
    /// The key epoch the content is encrypted under.
    pub epoch: u64,
    pub author: DeviceId,
    /// 1 for the device's first envelope in the circle, then +1 each.
    pub device_seq: u64,
    /// Hash of the author's previous envelope; `None` exactly when `device_seq` is 1.
    pub prev: Option<EnvelopeHash>,
    /// The membership head the author wrote at; authority is judged there.
    pub membership_head: EntryHash,
    pub nonce: [u8; NONCE_LEN],
}

impl EnvelopeHeader {
    /// Whether this envelope is the next of its author after `last` (the author's
    /// latest envelope known here, as `(device_seq, hash)`), or the first.
    /// `AlreadyApplied` means this position is taken: compare hashes to tell a
    /// harmless repeat from a fork (two envelopes at one position).
    pub fn check_follows(&self, last: Option<(u64, EnvelopeHash)>) -> Result<()> {
        let expected = last.map_or(1, |(seq, _)| seq + 1);
        if self.device_seq < expected {
            return Err(Error::AlreadyApplied {
                what: CHAIN,
                seq: self.device_seq,
            });
        }
        if self.device_seq == expected && self.prev == last.map(|(_, hash)| hash) {
            return Ok(());
        }
        Err(Error::BrokenChain {
            what: CHAIN,
            expected_seq: expected,
            got_seq: self.device_seq,
        })
    }

    fn check_shape(&self) -> Result<()> {
        CircleId::parse(self.circle.as_str())?;
        if self.device_seq == 0 || (self.device_seq == 1) != self.prev.is_none() {
            return Err(wire::malformed(
                WHAT,
                "device_seq starts at 1, and only 1 has no prev".into(),
            ));
        }
        Ok(())
    }

    /// The associated data of the content: the header, and for the family's
    /// envelopes the generation too (so neither can be swapped under the ciphertext).
    fn aad(&self, family: Option<u64>) -> Vec<u8> {
        match family {
            None => {
                let mut aad = CONTENT_AAD_DOMAIN.to_vec();
                aad.extend_from_slice(&wire::encode(BODY_V1, self));
                aad
            }
            Some(generation) => {
                let mut aad = FAMILY_CONTENT_AAD_DOMAIN.to_vec();
                aad.extend_from_slice(&wire::encode(BODY_FAMILY_V1, &(self, generation)));
                aad
            }
        }
    }
}

/// Whom an envelope's content is sealed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedFor {
    /// Every member: the epoch key.
    Circle,
    /// The family alone, during family time: the family key of this generation.
    Family { generation: u64 },
}

impl SealedFor {
    fn family(self) -> Option<u64> {
        match self {
            SealedFor::Circle => None,
            SealedFor::Family { generation } => Some(generation),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct EnvelopeBody {
    header: EnvelopeHeader,
    #[serde(with = "serde_bytes")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct FamilyEnvelopeBody {
    header: EnvelopeHeader,
    family: u64,
    #[serde(with = "serde_bytes")]
    ciphertext: Vec<u8>,
}

/// A body, whichever version.
struct DecodedBody {
    header: EnvelopeHeader,
    sealed_for: SealedFor,
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct EnvelopeWire {
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
    signature: Signature,
}

/// An envelope made on this device, ready to store and push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEnvelope {
    bytes: Vec<u8>,
    header: EnvelopeHeader,
    hash: EnvelopeHash,
}

impl SealedEnvelope {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn header(&self) -> &EnvelopeHeader {
        &self.header
    }

    pub fn hash(&self) -> EnvelopeHash {
        self.hash
    }
}

/// Seals `changes` (each one change, as bytes) as the author's envelope number
/// `device_seq` after `prev`, under the current epoch key and membership head.
pub fn seal(
    author: &DeviceIdentity,
    state: &MembershipState,
    keys: &Keyring,
    device_seq: u64,
    prev: Option<EnvelopeHash>,
    changes: &[impl AsRef<[u8]>],
) -> Result<SealedEnvelope> {
    seal_for(
        author,
        state,
        keys,
        device_seq,
        prev,
        changes,
        SealedFor::Circle,
    )
}

/// As [`seal`], for the family alone: under the current family key, which the author's
/// device must hold ([`Error::FamilyTime`] when family time is closed, its key out of
/// date, or this device not given it, as a professional's never is).
pub fn seal_for_family(
    author: &DeviceIdentity,
    state: &MembershipState,
    keys: &Keyring,
    device_seq: u64,
    prev: Option<EnvelopeHash>,
    changes: &[impl AsRef<[u8]>],
) -> Result<SealedEnvelope> {
    let generation = state.family_generation()?;
    let sealed_for = SealedFor::Family { generation };
    seal_for(author, state, keys, device_seq, prev, changes, sealed_for)
}

fn seal_for(
    author: &DeviceIdentity,
    state: &MembershipState,
    keys: &Keyring,
    device_seq: u64,
    prev: Option<EnvelopeHash>,
    changes: &[impl AsRef<[u8]>],
    sealed_for: SealedFor,
) -> Result<SealedEnvelope> {
    let header = EnvelopeHeader {
        circle: state.circle().clone(),
        epoch: state.current_epoch(),
        author: author.id(),
        device_seq,
        prev,
        membership_head: state.head(),
        nonce: crypto::random_nonce(),
    };
    header.check_shape()?;
    state.check_writer(
        &header.author,
        &header.membership_head,
        header.epoch,
        device_seq,
    )?;
    let key = match sealed_for {
        SealedFor::Circle => keys.current(state)?,
        SealedFor::Family { generation } => {
            state.check_family_writer(&header.author, &header.membership_head, generation)?;
            keys.family_key(generation)?
        }
    };
    if changes.is_empty() {
        return Err(wire::malformed(
            WHAT,
            "an envelope carries at least one change".into(),
        ));
    }
    let raw: Vec<&Bytes> = changes.iter().map(|c| Bytes::new(c.as_ref())).collect();
    let content = wire::encode(CONTENT_V1, &raw);
    let bytes = encrypt_and_sign(author, &header, sealed_for, key, &content);
    wire::check_size(WHAT, bytes.len(), MAX_ENVELOPE_BYTES)?;
    Ok(SealedEnvelope {
        hash: envelope_hash(&bytes),
        header,
        bytes,
    })
}

/// The stored envelope for `content` (already encoded), with no checks at all.
fn encrypt_and_sign(
    author: &DeviceIdentity,
    header: &EnvelopeHeader,
    sealed_for: SealedFor,
    key: &EpochKey,
    content: &[u8],
) -> Vec<u8> {
    let ciphertext = key.encrypt(&header.nonce, &header.aad(sealed_for.family()), content);
    let header = header.clone();
    let body = match sealed_for {
        SealedFor::Circle => wire::encode(BODY_V1, &EnvelopeBody { header, ciphertext }),
        SealedFor::Family { generation } => wire::encode(
            BODY_FAMILY_V1,
            &FamilyEnvelopeBody {
                header,
                family: generation,
                ciphertext,
            },
        ),
    };
    let signature = author.sign(ENVELOPE_DOMAIN, &body);
    wire::encode(ENVELOPE_V1, &EnvelopeWire { body, signature })
}

/// [`verify`] then [`VerifiedEnvelope::decrypt`]: what a client does with an envelope.
pub fn open(bytes: &[u8], state: &MembershipState, keys: &Keyring) -> Result<OpenedEnvelope> {
    verify(bytes, state)?.decrypt(keys)
}

/// Everything that can be checked without the content key (see the module docs).
pub fn verify(bytes: &[u8], state: &MembershipState) -> Result<VerifiedEnvelope> {
    let wire = decode_wire(bytes)?;
    let DecodedBody {
        header,
        sealed_for,
        ciphertext,
    } = decode_body(&wire.body)?;
    header.check_shape()?;
    if header.circle != *state.circle() {
        return Err(Error::WrongCircle {
            expected: state.circle().to_string(),
            found: header.circle.to_string(),
        });
    }
    let author = state
        .check_writer(
            &header.author,
            &header.membership_head,
            header.epoch,
            header.device_seq,
        )?
        .verifying_key();
    if let SealedFor::Family { generation } = sealed_for {
        state.check_family_writer(&header.author, &header.membership_head, generation)?;
    }
    wire::verify(WHAT, author, ENVELOPE_DOMAIN, &wire.body, &wire.signature)?;
    Ok(VerifiedEnvelope {
        hash: envelope_hash(bytes),
        header,
        sealed_for,
        ciphertext,
    })
}

/// The header of an envelope, decoded but **not verified** (no signature or authority
/// check). For a device's bookkeeping of its own outbox only (which epoch and chain
/// position a pending envelope has); everything received goes through [`verify`].
pub fn read_header(bytes: &[u8]) -> Result<EnvelopeHeader> {
    let wire = decode_wire(bytes)?;
    Ok(decode_body(&wire.body)?.header)
}

/// Who an envelope is sealed for, decoded but **not verified**: for a device's
/// bookkeeping of its own envelopes only (which of them are the family's).
pub fn read_sealed_for(bytes: &[u8]) -> Result<SealedFor> {
    let wire = decode_wire(bytes)?;
    Ok(decode_body(&wire.body)?.sealed_for)
}

fn decode_wire(bytes: &[u8]) -> Result<EnvelopeWire> {
    wire::decode(WHAT, ENVELOPE_V1, MAX_ENVELOPE_BYTES, bytes)
}

fn decode_body(body: &[u8]) -> Result<DecodedBody> {
    match body.first() {
        Some(&BODY_FAMILY_V1) => {
            let FamilyEnvelopeBody {
                header,
                family,
                ciphertext,
            } = wire::decode(WHAT, BODY_FAMILY_V1, MAX_ENVELOPE_BYTES, body)?;
            Ok(DecodedBody {
                header,
                sealed_for: SealedFor::Family { generation: family },
                ciphertext,
            })
        }
        _ => {
            let EnvelopeBody { header, ciphertext } =
                wire::decode(WHAT, BODY_V1, MAX_ENVELOPE_BYTES, body)?;
            Ok(DecodedBody {
                header,
                sealed_for: SealedFor::Circle,
                ciphertext,
            })
        }
    }
}

fn envelope_hash(bytes: &[u8]) -> EnvelopeHash {
    EnvelopeHash::from_bytes(wire::hash(ENVELOPE_HASH_DOMAIN, bytes))
}

/// An envelope whose signature and author's authority have been checked; the content
/// is still encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEnvelope {
    header: EnvelopeHeader,
    hash: EnvelopeHash,
    sealed_for: SealedFor,
    ciphertext: Vec<u8>,
}

impl VerifiedEnvelope {
    pub fn header(&self) -> &EnvelopeHeader {
        &self.header
    }

    /// Whom the content is sealed for (a device that holds no family key skips the
    /// family's envelopes; it cannot open them).
    pub fn sealed_for(&self) -> SealedFor {
        self.sealed_for
    }

    pub fn hash(&self) -> EnvelopeHash {
        self.hash
    }

    /// For the relay on push: new envelopes must use the current key, so nothing
    /// written after a removal is readable with a key the removed device holds.
    pub fn check_current_epoch(&self, state: &MembershipState) -> Result<()> {
        state.check_current_epoch(self.header.epoch)
    }

    /// Decrypts the content: the changes, as bytes.
    pub fn decrypt(self, keys: &Keyring) -> Result<OpenedEnvelope> {
        let key = match self.sealed_for {
            SealedFor::Circle => keys.get(self.header.epoch)?,
            SealedFor::Family { generation } => keys.family_key(generation)?,
        };
        let content = key.decrypt(
            WHAT,
            &self.header.nonce,
            &self.header.aad(self.sealed_for.family()),
            &self.ciphertext,
        )?;
        let raw: Vec<ByteBuf> =
            wire::decode("envelope content", CONTENT_V1, MAX_ENVELOPE_BYTES, &content)?;
        if raw.is_empty() {
            return Err(wire::malformed(
                WHAT,
                "an envelope carries at least one change".into(),
            ));
        }
        let changes = raw.into_iter().map(ByteBuf::into_vec).collect();
        Ok(OpenedEnvelope {
            header: self.header,
            hash: self.hash,
            changes,
        })
    }
}

/// A verified and decrypted envelope: header, hash and the changes inside — as bytes
/// here (`C = Vec<u8>`); the client parses them into automerge changes with
/// [`OpenedEnvelope::try_map`].
#[derive(Debug, Clone)]
pub struct OpenedEnvelope<C = Vec<u8>> {
    header: EnvelopeHeader,
    hash: EnvelopeHash,
    changes: Vec<C>,
}

impl<C> OpenedEnvelope<C> {
    pub fn header(&self) -> &EnvelopeHeader {
        &self.header
    }

    pub fn hash(&self) -> EnvelopeHash {
        self.hash
    }

    pub fn changes(&self) -> &[C] {
        &self.changes
    }

    pub fn into_changes(self) -> Vec<C> {
        self.changes
    }

    /// The same envelope with every change turned into `D` by `f`; the first error
    /// stops it.
    pub fn try_map<D, E>(
        self,
        mut f: impl FnMut(C) -> std::result::Result<D, E>,
    ) -> std::result::Result<OpenedEnvelope<D>, E> {
        Ok(OpenedEnvelope {
            header: self.header,
            hash: self.hash,
            changes: self
                .changes
                .into_iter()
                .map(&mut f)
                .collect::<std::result::Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests;

/// What a modified client could make: an envelope sealed with any key, claimed to be
/// for anyone, signed by its author, with no check of the sealer's own.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn seal_with(
        author: &DeviceIdentity,
        state: &MembershipState,
        sealed_for: SealedFor,
        key: &EpochKey,
        changes: &[Vec<u8>],
    ) -> Vec<u8> {
        let header = EnvelopeHeader {
            circle: state.circle().clone(),
            epoch: state.current_epoch(),
            author: author.id(),
            device_seq: 1,
            prev: None,
            membership_head: state.head(),
            nonce: crypto::random_nonce(),
        };
        let raw: Vec<&Bytes> = changes.iter().map(|c| Bytes::new(c)).collect();
        let content = wire::encode(CONTENT_V1, &raw);
        encrypt_and_sign(author, &header, sealed_for, key, &content)
    }
}
