//! Snapshots: a compacted copy of a circle's whole plan, so a new device fetches one
//! document instead of every envelope since the genesis.
//!
//! ```text
//! snapshot = 0x01 || postcard { body: bytes, signature: [u8; 64] }
//! body     = 0x01 || postcard { header: SnapshotHeader, ciphertext: bytes }
//! content  = 0x01 || postcard { document: bytes, attestations: Vec<bytes> }
//! ```
//!
//! Sealed and signed like an envelope (XChaCha20-Poly1305 under the epoch key with the
//! header as associated data; ed25519 by the maker over `SNAPSHOT_DOMAIN || body`, a
//! domain no envelope uses, so neither can pass for the other).
//!
//! **Who may make one: only a device of the circle's main person.** An envelope
//! vouches for its author's changes only; a snapshot carries everyone's. The
//! `attestations` — for each device whose changes are in the document, the last
//! stored envelope of that device it contains — let a receiver check that every
//! change in the document is one its author signed (`kring_client::snapshot` does, with
//! automerge's hash chain: see `CirclePlan::check_authorship`). What that cannot show
//! is that the maker left nothing out, or that it kept out what the plan's rules
//! refuse; the main person is the one member who may decide her plan, so her devices
//! are the ones trusted to do so. docs/sync.md ("Snapshots") has the whole argument.
//!
//! Who checks what:
//! - [`verify`] (relay and clients, no key needed): size, encoding, circle, the
//!   membership head it cites is known, the epoch is that head's, the maker is an
//!   active device of the main person, the signature.
//!   The relay additionally requires [`VerifiedSnapshot::check_current_epoch`].
//! - [`VerifiedSnapshot::decrypt`] (clients): the epoch key, the AEAD tag.

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

/// A two-year plan (20,000 changes) saves to about 600 KiB; room for circles seven
/// times busier, and no more than the largest request body a relay takes by default.
pub const MAX_SNAPSHOT_BYTES: usize = 4 * 1024 * 1024;

const SNAPSHOT_V1: u8 = 1;
const BODY_V1: u8 = 1;
const CONTENT_V1: u8 = 1;
const SNAPSHOT_DOMAIN: &[u8] = b"kring/snapshot/v1\0";
const CONTENT_AAD_DOMAIN: &[u8] = b"kring/snapshot-content/v1\0";
const WHAT: &str = "snapshot";

/// Everything about a snapshot that is not encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    pub circle: CircleId,
    /// The key epoch the content is encrypted under.
    pub epoch: u64,
    /// The device that made it: one of the main person's.
    pub maker: DeviceId,
    /// The relay cursor it covers: everything the maker applied up to here is in the
    /// document, and a device starting from it pulls after this cursor.
    pub covers: u64,
    /// The membership head the maker was at.
    pub membership_head: EntryHash,
    pub nonce: [u8; NONCE_LEN],
}

impl SnapshotHeader {
    fn aad(&self) -> Vec<u8> {
        let mut aad = CONTENT_AAD_DOMAIN.to_vec();
        aad.extend_from_slice(&wire::encode(BODY_V1, self));
        aad
    }
}

#[derive(Serialize, Deserialize)]
struct SnapshotBody {
    header: SnapshotHeader,
    #[serde(with = "serde_bytes")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct SnapshotWire {
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
    signature: Signature,
}

#[derive(Serialize, Deserialize)]
struct Content<'a> {
    #[serde(borrow)]
    document: &'a Bytes,
    #[serde(borrow)]
    attestations: Vec<&'a Bytes>,
}

#[derive(Serialize, Deserialize)]
struct OwnedContent {
    document: ByteBuf,
    attestations: Vec<ByteBuf>,
}

/// Seals `document` (the saved plan) with its `attestations` (stored envelopes) as a
/// snapshot by `maker` covering `covers`, under the current epoch key.
pub fn seal(
    maker: &DeviceIdentity,
    state: &MembershipState,
    keys: &Keyring,
    covers: u64,
    document: &[u8],
    attestations: &[impl AsRef<[u8]>],
) -> Result<Vec<u8>> {
    let header = header(maker, state, covers);
    check_maker(state, &header)?;
    let content = content(document, attestations);
    let bytes = encrypt_and_sign(maker, &header, keys.current(state)?, &content);
    wire::check_size(WHAT, bytes.len(), MAX_SNAPSHOT_BYTES)?;
    Ok(bytes)
}

/// A snapshot by `maker` without any of [`seal`]'s checks, citing `state`'s head and
/// epoch: what a modified client could upload. For tests of whoever receives it.
#[cfg(any(test, feature = "testkit"))]
pub fn forge(
    maker: &DeviceIdentity,
    state: &MembershipState,
    keys: &Keyring,
    covers: u64,
    document: &[u8],
) -> Vec<u8> {
    let header = header(maker, state, covers);
    let content = content(document, &[] as &[&[u8]]);
    let key = keys.current(state).expect("a forger holds the current key");
    encrypt_and_sign(maker, &header, key, &content)
}

/// A new snapshot's header: `state`'s circle, head and current epoch, a fresh nonce.
fn header(maker: &DeviceIdentity, state: &MembershipState, covers: u64) -> SnapshotHeader {
    SnapshotHeader {
        circle: state.circle().clone(),
        epoch: state.current_epoch(),
        maker: maker.id(),
        covers,
        membership_head: state.head(),
        nonce: crypto::random_nonce(),
    }
}

fn content(document: &[u8], attestations: &[impl AsRef<[u8]>]) -> Vec<u8> {
    wire::encode(
        CONTENT_V1,
        &Content {
            document: Bytes::new(document),
            attestations: attestations
                .iter()
                .map(|a| Bytes::new(a.as_ref()))
                .collect(),
        },
    )
}

/// The stored snapshot for `content` (already encoded), with no checks at all.
fn encrypt_and_sign(
    maker: &DeviceIdentity,
    header: &SnapshotHeader,
    key: &EpochKey,
    content: &[u8],
) -> Vec<u8> {
    let ciphertext = key.encrypt(&header.nonce, &header.aad(), content);
    let body = wire::encode(
        BODY_V1,
        &SnapshotBody {
            header: header.clone(),
            ciphertext,
        },
    );
    let signature = maker.sign(SNAPSHOT_DOMAIN, &body);
    wire::encode(SNAPSHOT_V1, &SnapshotWire { body, signature })
}

/// The circle, the cited head and its epoch, and that the maker is an active device of
/// the main person: everything but the signature.
fn check_maker<'s>(
    state: &'s MembershipState,
    header: &SnapshotHeader,
) -> Result<&'s ed25519_dalek::VerifyingKey> {
    CircleId::parse(header.circle.as_str())?;
    if header.circle != *state.circle() {
        return Err(Error::WrongCircle {
            expected: state.circle().to_string(),
            found: header.circle.to_string(),
        });
    }
    let position = state
        .position_of(&header.membership_head)
        .ok_or(Error::UnknownHead(header.membership_head))?;
    let epoch = state
        .epoch_at(position)
        .ok_or(Error::UnknownHead(header.membership_head))?;
    if header.epoch != epoch {
        return Err(Error::StaleEpoch {
            expected: epoch,
            got: header.epoch,
        });
    }
    let device = state
        .device(&header.maker)
        .ok_or(Error::UnknownDevice(header.maker))?;
    if device.is_removed() {
        return Err(Error::Removed(header.maker));
    }
    if device.member() != state.owner() {
        return Err(Error::NotAllowed(
            "only the main person's devices make snapshots of her plan",
        ));
    }
    Ok(device.verifying_key())
}

/// Everything that can be checked without the content key (see the module docs).
pub fn verify(bytes: &[u8], state: &MembershipState) -> Result<VerifiedSnapshot> {
    let wire: SnapshotWire = wire::decode(WHAT, SNAPSHOT_V1, MAX_SNAPSHOT_BYTES, bytes)?;
    let SnapshotBody { header, ciphertext } =
        wire::decode(WHAT, BODY_V1, MAX_SNAPSHOT_BYTES, &wire.body)?;
    let key = check_maker(state, &header)?;
    wire::verify(WHAT, key, SNAPSHOT_DOMAIN, &wire.body, &wire.signature)?;
    Ok(VerifiedSnapshot { header, ciphertext })
}

/// [`verify`] then [`VerifiedSnapshot::decrypt`]: what a client does with a snapshot.
pub fn open(bytes: &[u8], state: &MembershipState, keys: &Keyring) -> Result<OpenedSnapshot> {
    verify(bytes, state)?.decrypt(keys)
}

/// A snapshot whose signature and maker have been checked; the content is still
/// encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSnapshot {
    header: SnapshotHeader,
    ciphertext: Vec<u8>,
}

impl VerifiedSnapshot {
    pub fn header(&self) -> &SnapshotHeader {
        &self.header
    }

    /// For the relay on upload: a snapshot under an older key would stay readable by
    /// a device removed since.
    pub fn check_current_epoch(&self, state: &MembershipState) -> Result<()> {
        state.check_current_epoch(self.header.epoch)
    }

    /// Decrypts the content: the document and the attestations, as bytes.
    pub fn decrypt(self, keys: &Keyring) -> Result<OpenedSnapshot> {
        let key = keys.get(self.header.epoch)?;
        let content = key.decrypt(
            WHAT,
            &self.header.nonce,
            &self.header.aad(),
            &self.ciphertext,
        )?;
        let OwnedContent {
            document,
            attestations,
        } = wire::decode("snapshot content", CONTENT_V1, MAX_SNAPSHOT_BYTES, &content)?;
        Ok(OpenedSnapshot {
            header: self.header,
            document: document.into_vec(),
            attestations: attestations.into_iter().map(ByteBuf::into_vec).collect(),
        })
    }
}

/// A verified and decrypted snapshot. Nothing inside is checked yet: the document is
/// the maker's word until the client has checked it against the attestations.
#[derive(Debug, Clone)]
pub struct OpenedSnapshot {
    pub header: SnapshotHeader,
    /// The plan, as automerge saves it.
    pub document: Vec<u8>,
    /// Stored envelopes: for each device with changes in the document, its last.
    pub attestations: Vec<Vec<u8>>,
}

#[cfg(test)]
mod tests;
