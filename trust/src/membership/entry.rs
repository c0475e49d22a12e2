//! Membership log entries: what they say, how they are encoded and signed.
//!
//! Stored form of an entry (see `core/src/wire.rs`):
//!
//! ```text
//! entry = 0x01 || postcard { body: bytes, signature: [u8; 64], redemption: Option<[u8; 64]> }
//! body  = 0x01 || postcard(EntryBody)
//! ```
//!
//! `signature` is the author device's ed25519 signature over `ENTRY_DOMAIN || body`;
//! `redemption` is present exactly on invite redemptions and is the invite key's
//! signature over `REDEMPTION_DOMAIN || body`. The entry hash, which the next entry
//! cites as `prev`, is BLAKE3 over the whole stored entry.
//!
//! [`SignedEntry::from_bytes`] checks everything that needs no context: size, encoding,
//! ids, every signature (author, invite issuer, invite key). Whether the author was
//! *allowed* to write the entry is the job of
//! [`MembershipState`](super::MembershipState).

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::crypto::{SealedKey, SealedName, WrappedKey};
use crate::error::{Error, Result};
use crate::identity::{DeviceId, DeviceIdentity, PublicDevice};
use crate::ids::{CircleId, MemberId};
use crate::invite::SignedInvite;
use crate::time::Timestamp;
use crate::wire;

const ENTRY_V1: u8 = 1;
const BODY_V1: u8 = 1;
const ENTRY_DOMAIN: &[u8] = b"kring/membership-entry/v1\0";
const REDEMPTION_DOMAIN: &[u8] = b"kring/invite-redemption/v1\0";
const ENTRY_HASH_DOMAIN: &str = "kring 2025 membership entry hash v1";

/// Entries carry at most one key wrap per device, so this allows rotations for circles
/// of several hundred devices while bounding what a validator must parse.
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;

wire::define_bytes32!(
    /// The hash of a stored membership entry; the last one is the log's head.
    EntryHash
);

/// What a member may do. Ordered: `Reader < Member < Admin < Owner`.
///
/// On the wire a variant is its index: never reorder, only append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// Reads the plan.
    Reader,
    /// Reads and writes the plan.
    Member,
    /// Also invites, adds and removes members (appointed by the owner).
    Admin,
    /// The main person: exactly one, fixed at genesis, cannot be removed or demoted.
    Owner,
}

impl Capability {
    pub fn can_write(self) -> bool {
        self >= Capability::Member
    }

    pub fn is_admin(self) -> bool {
        self >= Capability::Admin
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Reader => "reader",
            Capability::Member => "member",
            Capability::Admin => "admin",
            Capability::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "reader" => Ok(Capability::Reader),
            "member" => Ok(Capability::Member),
            "admin" => Ok(Capability::Admin),
            "owner" => Ok(Capability::Owner),
            other => Err(Error::InvalidValue {
                field: "capability",
                value: other.to_owned(),
                expected: "owner, admin, member or reader".to_owned(),
            }),
        }
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a device loses the right to write (removed, or demoted to reader), the entry
/// that takes it away names the last `device_seq` of that device's envelopes that stays
/// valid. Envelopes up to it are history and keep verifying for everyone, including
/// devices that join later; anything after it is rejected, whatever head it cites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteCutoff {
    pub device: DeviceId,
    pub last_seq: u64,
}

/// A new epoch key, wrapped for every device that stays in the circle, plus the
/// previous key encrypted under the new one (so joiners can read older history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub epoch: u64,
    pub keys: Vec<KeyWrap>,
    pub previous: SealedKey,
}

/// A new family key (see `docs/threat-model.md`, "Family time"): generation
/// `generation`, wrapped once for every active device of every member the log does not
/// mark professional, and for no other device. It carries no previous key: what the
/// family wrote under an older generation stays readable to who held that one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyKeys {
    pub generation: u64,
    pub keys: Vec<KeyWrap>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyWrap {
    pub device: DeviceId,
    pub key: WrappedKey,
}

/// The change an entry makes. Variants that remove someone carry the key rotation, so
/// removal and rotation are one atomic step.
///
/// On the wire a variant is its index: never reorder, only append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// First entry: the main person's device founds the circle as its owner. `key` is
    /// the epoch-0 key wrapped for that device; `nonce` makes every circle id unique.
    Genesis {
        owner: MemberId,
        device: PublicDevice,
        key: WrappedKey,
        nonce: [u8; 16],
    },
    /// A new person with their first device; `key` is the current key for it.
    AddMember {
        member: MemberId,
        capability: Capability,
        device: PublicDevice,
        key: WrappedKey,
    },
    /// Another device of an existing member; `key` is the current key for it.
    AddDevice {
        member: MemberId,
        device: PublicDevice,
        key: WrappedKey,
    },
    SetCapability {
        member: MemberId,
        capability: Capability,
        cutoffs: Vec<WriteCutoff>,
    },
    RemoveMember {
        member: MemberId,
        cutoffs: Vec<WriteCutoff>,
        rotation: Rotation,
    },
    RemoveDevice {
        device: DeviceId,
        cutoffs: Vec<WriteCutoff>,
        rotation: Rotation,
    },
    /// A new person joins with an invite; the entry's author is the new device and the
    /// invite key co-signs. `key` is the current key re-wrapped by the new device for
    /// itself, so every device can rebuild its keys from the log alone.
    RedeemInvite {
        #[serde(with = "serde_bytes")]
        invite: Vec<u8>,
        member: MemberId,
        device: PublicDevice,
        key: WrappedKey,
    },
    RotateKey {
        rotation: Rotation,
    },
    /// Another device of an existing member, admitted by a device link
    /// (`kring://device/…`) that one of the member's own devices made: the entry's
    /// author is the new device and the link key co-signs, as with an invite. `member`
    /// must be the link issuer's member; the device gets that member's capability.
    /// `key` is the current key re-wrapped by the new device for itself.
    AddLinkedDevice {
        #[serde(with = "serde_bytes")]
        invite: Vec<u8>,
        member: MemberId,
        device: PublicDevice,
        key: WrappedKey,
    },
    /// The owner or an admin marks a member as professional (or clears the mark).
    /// Professionals hold no family key: marking one while family time is open makes
    /// the family key out of date until it is rotated without them.
    MarkProfessional {
        member: MemberId,
        professional: bool,
    },
    /// The owner or an admin opens family time with a first family key.
    OpenFamilyTime {
        family: FamilyKeys,
    },
    /// A new family key for the family as it is now (after a mark, a leave, a join).
    RotateFamilyKey {
        family: FamilyKeys,
    },
    /// The owner or an admin closes family time: nothing more is sealed for the
    /// family alone until it opens again.
    CloseFamilyTime,
    /// The main person presents what the family wrote: family time closes, and the
    /// family keys of every generation since it opened are sealed under the circle's
    /// key of `epoch` (the current one), so every member from then on — professionals
    /// included — opens the family's envelopes as part of the plan.
    PresentFamilyTime {
        epoch: u64,
        keys: Vec<PresentedKey>,
    },
    /// A member gives the circle their own name, sealed under the circle's key of
    /// `epoch` (the current one) so the relay never reads it. For readers, who write
    /// nothing in the plan and so have no record there: it is how the main person sees
    /// "Piet (lezer)" in the member list. The newest introduction counts.
    Introduce {
        epoch: u64,
        name: SealedName,
    },
    /// The owner or an admin takes back an invite (or a device link) before it is
    /// used: a link sent to the wrong person, or lost. The relay and every device then
    /// refuse a redemption of it (`InviteRevoked`).
    RevokeInvite {
        invite: crate::invite::InviteId,
    },
}

/// One generation's family key, sealed under the circle's epoch key by a presentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresentedKey {
    pub generation: u64,
    pub key: SealedKey,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Genesis { .. } => "genesis",
            Action::AddMember { .. } => "add member",
            Action::AddDevice { .. } => "add device",
            Action::SetCapability { .. } => "set capability",
            Action::RemoveMember { .. } => "remove member",
            Action::RemoveDevice { .. } => "remove device",
            Action::RedeemInvite { .. } => "redeem invite",
            Action::RotateKey { .. } => "rotate key",
            Action::AddLinkedDevice { .. } => "add linked device",
            Action::MarkProfessional { .. } => "mark professional",
            Action::OpenFamilyTime { .. } => "open family time",
            Action::RotateFamilyKey { .. } => "rotate family key",
            Action::CloseFamilyTime => "close family time",
            Action::PresentFamilyTime { .. } => "present family time",
            Action::Introduce { .. } => "introduce",
            Action::RevokeInvite { .. } => "revoke invite",
        }
    }

    /// The family key this action hands out, if any.
    pub fn family_keys(&self) -> Option<&FamilyKeys> {
        match self {
            Action::OpenFamilyTime { family } | Action::RotateFamilyKey { family } => Some(family),
            _ => None,
        }
    }

    pub fn rotation(&self) -> Option<&Rotation> {
        match self {
            Action::RemoveMember { rotation, .. }
            | Action::RemoveDevice { rotation, .. }
            | Action::RotateKey { rotation } => Some(rotation),
            _ => None,
        }
    }

    /// The member this action names (checked to be a well-formed id on parse).
    fn member(&self) -> Option<&MemberId> {
        match self {
            Action::Genesis { owner: member, .. }
            | Action::AddMember { member, .. }
            | Action::AddDevice { member, .. }
            | Action::SetCapability { member, .. }
            | Action::RemoveMember { member, .. }
            | Action::RedeemInvite { member, .. }
            | Action::AddLinkedDevice { member, .. }
            | Action::MarkProfessional { member, .. } => Some(member),
            Action::RemoveDevice { .. }
            | Action::RotateKey { .. }
            | Action::OpenFamilyTime { .. }
            | Action::RotateFamilyKey { .. }
            | Action::CloseFamilyTime
            | Action::PresentFamilyTime { .. }
            | Action::Introduce { .. }
            | Action::RevokeInvite { .. } => None,
        }
    }

    /// The device this action brings into the circle, if any.
    pub fn new_device(&self) -> Option<&PublicDevice> {
        match self {
            Action::Genesis { device, .. }
            | Action::AddMember { device, .. }
            | Action::AddDevice { device, .. }
            | Action::RedeemInvite { device, .. }
            | Action::AddLinkedDevice { device, .. } => Some(device),
            _ => None,
        }
    }
}

/// The signed content of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryBody {
    /// Position in the log; genesis is 0.
    pub seq: u64,
    /// Hash of the entry at `seq - 1`; `None` only for genesis.
    pub prev: Option<EntryHash>,
    pub author: DeviceId,
    /// The author's clock, never earlier than the previous entry. The relay rejects
    /// entries far from its own clock; invite expiry is judged against this time.
    pub at: Timestamp,
    pub action: Action,
}

#[derive(Serialize, Deserialize)]
struct EntryWire {
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
    signature: Signature,
    redemption: Option<Signature>,
}

/// A membership entry whose encoding and signatures have been checked. The only ways to
/// get one are [`SignedEntry::from_bytes`] and signing one yourself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEntry {
    bytes: Vec<u8>,
    body: EntryBody,
    hash: EntryHash,
    invite: Option<SignedInvite>,
    /// The verifying key of the device the entry admits, decompressed (and so
    /// validated) once here.
    new_device_key: Option<VerifyingKey>,
}

impl SignedEntry {
    /// Parses a stored or received entry and checks its signatures (see module docs).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let what = "membership entry";
        let wire: EntryWire = wire::decode(what, ENTRY_V1, MAX_ENTRY_BYTES, bytes)?;
        let body: EntryBody = wire::decode(what, BODY_V1, MAX_ENTRY_BYTES, &wire.body)?;
        if let Some(member) = body.action.member() {
            MemberId::parse(member.as_str())?;
        }
        if (body.seq == 0) != body.prev.is_none()
            || (body.seq == 0) != matches!(body.action, Action::Genesis { .. })
        {
            return Err(wire::malformed(
                what,
                "genesis must come first, and only first".into(),
            ));
        }
        let author = body.author.verifying_key()?;
        let new_device_key = match body.action.new_device() {
            Some(device) if device.id == body.author => Some(author),
            Some(device) => Some(device.id.verifying_key()?),
            None => None,
        };
        wire::verify(what, &author, ENTRY_DOMAIN, &wire.body, &wire.signature)?;

        let invite = match (&body.action, wire.redemption) {
            (
                Action::RedeemInvite { invite, .. } | Action::AddLinkedDevice { invite, .. },
                Some(redemption),
            ) => {
                let invite = SignedInvite::from_bytes(invite)?;
                let invite_key = invite.id().verifying_key()?;
                wire::verify(
                    "invite redemption",
                    &invite_key,
                    REDEMPTION_DOMAIN,
                    &wire.body,
                    &redemption,
                )?;
                Some(invite)
            }
            (Action::RedeemInvite { .. } | Action::AddLinkedDevice { .. }, None) => {
                return Err(Error::BadSignature("invite redemption"));
            }
            (_, Some(_)) => {
                return Err(wire::malformed(
                    what,
                    "only a redemption is co-signed".into(),
                ));
            }
            (_, None) => None,
        };
        Ok(Self {
            bytes: bytes.to_vec(),
            hash: entry_hash(bytes),
            body,
            invite,
            new_device_key,
        })
    }

    /// Signs `body` as `author`; an invite redemption is co-signed with the invite key.
    pub(crate) fn sign(
        author: &DeviceIdentity,
        body: &EntryBody,
        invite_key: Option<&ed25519_dalek::SigningKey>,
    ) -> Result<Self> {
        let body_bytes = wire::encode(BODY_V1, body);
        let wire = EntryWire {
            signature: author.sign(ENTRY_DOMAIN, &body_bytes),
            redemption: invite_key.map(|key| wire::sign(key, REDEMPTION_DOMAIN, &body_bytes)),
            body: body_bytes,
        };
        // Parse what we made: one code path decides what a valid entry is.
        Self::from_bytes(&wire::encode(ENTRY_V1, &wire))
    }

    /// The exact stored bytes; store and send these.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn body(&self) -> &EntryBody {
        &self.body
    }

    pub fn seq(&self) -> u64 {
        self.body.seq
    }

    pub fn hash(&self) -> EntryHash {
        self.hash
    }

    /// The device this entry admits, with its verifying key.
    pub(crate) fn new_device(&self) -> Option<(&PublicDevice, VerifyingKey)> {
        self.body.action.new_device().zip(self.new_device_key)
    }

    /// The redeemed invite, for a redemption entry.
    pub fn invite(&self) -> Option<&SignedInvite> {
        self.invite.as_ref()
    }

    /// The id of the circle this genesis entry founds: the first 128 bits of its hash,
    /// so the id is bound to the genesis entry and cannot be claimed by another one.
    pub fn founded_circle(&self) -> Option<CircleId> {
        matches!(self.body.action, Action::Genesis { .. }).then(|| circle_id_from(&self.hash))
    }
}

fn entry_hash(bytes: &[u8]) -> EntryHash {
    EntryHash::from_bytes(wire::hash(ENTRY_HASH_DOMAIN, bytes))
}

fn circle_id_from(genesis: &EntryHash) -> CircleId {
    let hex = hex::encode(&genesis.as_bytes()[..16]);
    // 32 lowercase hex characters are always a valid id.
    CircleId::parse(&hex).expect("hex of 16 bytes is a circle id")
}
