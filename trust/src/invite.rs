//! Invites: how a new person's device joins a circle.
//!
//! An admin's device makes an [`InviteToken`] offline. It holds a [`SignedInvite`]
//! (circle, relay URL, capability, expiry, the current epoch key wrapped to the
//! invite's own key pair, signed by the issuing device) and the invite's secret seed.
//! The token travels as a `kring://invite/…` link or QR code (about 450 characters).
//!
//! The invite's ed25519 verifying key is its single-use [`InviteId`]; its X25519 key
//! pair is derived from the same seed with BLAKE3's key derivation. The new device
//! redeems the invite by appending a membership entry that it signs itself and that
//! the invite key co-signs; the validator then checks issuer authority, expiry (against
//! the entry's time), the epoch and single use (see
//! [`MembershipState::check_invite`](crate::membership::MembershipState::check_invite)).
//!
//! The link is a bearer secret until it is redeemed or expires: whoever holds it can
//! join (once) and can read the epoch key it carries. Share it like a house key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{EpochKey, WrappedKey, NONCE_LEN};
use crate::error::{Error, Result};
use crate::identity::{DeviceId, DeviceIdentity, ExchangeKey};
use crate::ids::{CircleId, MemberId};
use crate::keyring::Keyring;
use crate::membership::{Action, Capability, MembershipState, SignedEntry};
use crate::time::Timestamp;
use crate::wire;

const INVITE_V1: u8 = 1;
const INVITE_BODY_V1: u8 = 1;
/// A body that names the person it is for ([`SignedInvite::for_member`]): v1's fields,
/// then the member id. Bodies without one stay v1, byte for byte.
const INVITE_BODY_V2: u8 = 2;
const TOKEN_V1: u8 = 1;
/// A token with a [`LinkCard`] (the circle's and inviter's names, encrypted).
const TOKEN_V2: u8 = 2;
const CARD_V1: u8 = 1;
const CARD_KEY_KDF: &str = "kring 2025 invite card key v1";
/// Names on a card are cut to this many characters, so a link stays QR-sized.
pub const MAX_CARD_NAME_CHARS: usize = 60;
const INVITE_DOMAIN: &[u8] = b"kring/invite/v1\0";
/// Device links are signed under their own domain, so an invite can never be taken
/// for a device link or the other way round.
const DEVICE_LINK_DOMAIN: &[u8] = b"kring/device-link/v1\0";
const INVITE_EXCHANGE_KDF: &str = "kring 2025 invite exchange key v1";

/// The scheme and path of an invite link.
pub const LINK_PREFIX: &str = "kring://invite/";
/// The scheme and path of a device link (another device for the same member).
pub const DEVICE_LINK_PREFIX: &str = "kring://device/";
/// A device link is valid for at most an hour after it is made (checked by the
/// validator): it is meant to be scanned right away, from the other device's screen.
pub const MAX_DEVICE_LINK_MILLIS: i64 = 60 * 60 * 1000;
/// What `kring device link` uses unless asked otherwise.
pub const DEFAULT_DEVICE_LINK_MILLIS: i64 = 10 * 60 * 1000;
/// A signed invite stays small enough for a comfortable QR code.
pub const MAX_INVITE_BYTES: usize = 1024;
pub const MAX_LINK_LEN: usize = 2048;
pub const MAX_RELAY_URL_LEN: usize = 256;

wire::define_bytes32!(
    /// An invite's single-use id: the verifying key of the invite's own key pair.
    InviteId
);

impl InviteId {
    pub(crate) fn verifying_key(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_bytes(self.as_bytes())
            .map_err(|_| wire::malformed("invite", "invite id is not an ed25519 key".into()))
    }
}

/// What an invite says; signed by `issuer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteBody {
    pub circle: CircleId,
    pub relay_url: String,
    pub capability: Capability,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The epoch of `key`; redemption requires it to still be the current epoch.
    pub epoch: u64,
    pub id: InviteId,
    /// The epoch key, wrapped to the invite's X25519 key.
    pub key: WrappedKey,
    pub issuer: DeviceId,
}

/// A v2 body: an invite for a person the plan already has (added by name), so the
/// device that joins with it becomes that person instead of a second one.
#[derive(Serialize, Deserialize)]
struct InviteBodyFor {
    body: InviteBody,
    for_member: MemberId,
}

#[derive(Serialize, Deserialize)]
struct InviteWire {
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
    signature: Signature,
}

/// What an invite admits. Told apart by the signature's domain, so the kind is as
/// authentic as the rest of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteKind {
    /// A new person (a new member), made by an admin.
    Person,
    /// Another device of the issuing device's own member, with that member's
    /// capability (`capability` in the body), valid for at most
    /// [`MAX_DEVICE_LINK_MILLIS`].
    Device,
}

/// An invite whose encoding and issuer signature have been checked (not yet whether the
/// issuer may invite: that depends on the membership log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInvite {
    bytes: Vec<u8>,
    body: InviteBody,
    for_member: Option<MemberId>,
    kind: InviteKind,
}

impl SignedInvite {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let what = "invite";
        let wire: InviteWire = wire::decode(what, INVITE_V1, MAX_INVITE_BYTES, bytes)?;
        let (body, for_member) = match wire.body.first() {
            Some(&INVITE_BODY_V2) => {
                let named: InviteBodyFor =
                    wire::decode(what, INVITE_BODY_V2, MAX_INVITE_BYTES, &wire.body)?;
                (named.body, Some(named.for_member))
            }
            _ => (
                wire::decode(what, INVITE_BODY_V1, MAX_INVITE_BYTES, &wire.body)?,
                None,
            ),
        };
        CircleId::parse(body.circle.as_str())?;
        if body.relay_url.trim().is_empty() || body.relay_url.len() > MAX_RELAY_URL_LEN {
            return Err(wire::malformed(what, "relay URL empty or too long".into()));
        }
        body.id.verifying_key()?;
        let issuer = body.issuer.verifying_key()?;
        let kind = match wire::verify(what, &issuer, INVITE_DOMAIN, &wire.body, &wire.signature) {
            Ok(()) => InviteKind::Person,
            Err(e) => {
                wire::verify(
                    what,
                    &issuer,
                    DEVICE_LINK_DOMAIN,
                    &wire.body,
                    &wire.signature,
                )
                .map_err(|_| e)?;
                InviteKind::Device
            }
        };
        if kind == InviteKind::Device && for_member.is_some() {
            return Err(wire::malformed(
                what,
                "a device link names no person".into(),
            ));
        }
        Ok(Self {
            bytes: bytes.to_vec(),
            body,
            for_member,
            kind,
        })
    }

    fn sign(
        issuer: &DeviceIdentity,
        body: &InviteBody,
        for_member: Option<&MemberId>,
        kind: InviteKind,
    ) -> Result<Self> {
        let body = match for_member {
            None => wire::encode(INVITE_BODY_V1, body),
            Some(member) => wire::encode(
                INVITE_BODY_V2,
                &InviteBodyFor {
                    body: body.clone(),
                    for_member: member.clone(),
                },
            ),
        };
        let domain = match kind {
            InviteKind::Person => INVITE_DOMAIN,
            InviteKind::Device => DEVICE_LINK_DOMAIN,
        };
        let signature = issuer.sign(domain, &body);
        Self::from_bytes(&wire::encode(INVITE_V1, &InviteWire { body, signature }))
    }

    pub fn kind(&self) -> InviteKind {
        self.kind
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn body(&self) -> &InviteBody {
        &self.body
    }

    pub fn id(&self) -> InviteId {
        self.body.id
    }

    /// The person the invite is for, when it was made for someone the plan already
    /// has: the joining device must join as that member (checked by the validator).
    pub fn for_member(&self) -> Option<&MemberId> {
        self.for_member.as_ref()
    }
}

#[derive(Serialize, Deserialize)]
struct TokenWire {
    #[serde(with = "serde_bytes")]
    invite: Vec<u8>,
    secret: [u8; 32],
}

#[derive(Serialize, Deserialize)]
struct TokenWireV2 {
    #[serde(with = "serde_bytes")]
    invite: Vec<u8>,
    secret: [u8; 32],
    /// `nonce || XChaCha20-Poly1305(card key, aad = invite id, CARD_V1 || postcard(LinkCard))`.
    #[serde(with = "serde_bytes")]
    card: Vec<u8>,
}

/// What a link shows before it is used: the circle's name and who sent it.
///
/// It travels inside the link, encrypted under a key derived from the link's secret
/// (bound to the invite's id), and never inside the signed invite, which the relay
/// sees when the link is redeemed: the relay never learns a name. It is what the
/// inviter's device wrote, not checked against the plan (whoever holds the link
/// could also simply join); after joining, the plan shows the real names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCard {
    pub circle_name: String,
    pub inviter_name: String,
}

impl LinkCard {
    /// A card with both names cut to [`MAX_CARD_NAME_CHARS`].
    pub fn new(circle_name: &str, inviter_name: &str) -> Self {
        let cut = |s: &str| s.trim().chars().take(MAX_CARD_NAME_CHARS).collect();
        LinkCard {
            circle_name: cut(circle_name),
            inviter_name: cut(inviter_name),
        }
    }

    fn key(secret: &[u8; 32]) -> EpochKey {
        EpochKey::from_bytes(blake3::derive_key(CARD_KEY_KDF, secret))
    }

    fn seal(&self, secret: &[u8; 32], id: &InviteId) -> Vec<u8> {
        let nonce = crate::crypto::random_nonce();
        let plain = Zeroizing::new(wire::encode(CARD_V1, self));
        let mut out = nonce.to_vec();
        out.extend(Self::key(secret).encrypt(&nonce, id.as_bytes(), &plain));
        out
    }

    fn open(sealed: &[u8], secret: &[u8; 32], id: &InviteId) -> Result<Self> {
        let what = "invite link card";
        if sealed.len() < NONCE_LEN {
            return Err(wire::malformed(what, "too short".into()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| wire::malformed(what, "bad nonce".into()))?;
        let plain = Self::key(secret).decrypt(what, &nonce, id.as_bytes(), ciphertext)?;
        let card: LinkCard = wire::decode(what, CARD_V1, MAX_LINK_LEN, &plain)?;
        if card.circle_name.chars().count() > MAX_CARD_NAME_CHARS
            || card.inviter_name.chars().count() > MAX_CARD_NAME_CHARS
        {
            return Err(wire::malformed(what, "name too long".into()));
        }
        Ok(card)
    }
}

/// A signed invite together with its secret: what the link carries.
pub struct InviteToken {
    invite: SignedInvite,
    secret: Zeroizing<[u8; 32]>,
    card: Option<LinkCard>,
}

impl std::fmt::Debug for InviteToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteToken")
            .field("invite", &self.invite)
            .finish_non_exhaustive()
    }
}

impl InviteToken {
    /// Makes an invite from the issuer's local view of the circle (works offline).
    /// The issuer must be an active admin (only the owner invites admins), and
    /// `expires_at` must lie after `now`.
    pub fn create(
        state: &MembershipState,
        issuer: &DeviceIdentity,
        keys: &Keyring,
        relay_url: &str,
        capability: Capability,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Self> {
        Self::make(
            state,
            issuer,
            keys,
            relay_url,
            capability,
            (InviteKind::Person, None),
            expires_at,
            now,
        )
    }

    /// An invite for `member`, a person the plan already has (added by name) who has
    /// no device yet: whoever joins with it becomes that person, not a second one.
    /// Refused when `member` already joined (another device of theirs comes by a
    /// device link from their own device).
    #[allow(clippy::too_many_arguments)]
    pub fn create_for(
        state: &MembershipState,
        issuer: &DeviceIdentity,
        keys: &Keyring,
        relay_url: &str,
        capability: Capability,
        member: MemberId,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Self> {
        Self::make(
            state,
            issuer,
            keys,
            relay_url,
            capability,
            (InviteKind::Person, Some(member)),
            expires_at,
            now,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn make(
        state: &MembershipState,
        issuer: &DeviceIdentity,
        keys: &Keyring,
        relay_url: &str,
        capability: Capability,
        (kind, for_member): (InviteKind, Option<MemberId>),
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Self> {
        if expires_at <= now {
            return Err(Error::DatesOutOfOrder(
                "an invite must expire after it is made",
            ));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut seed[..]);
        let token_keys = TokenKeys::from_seed(&seed);
        let epoch = state.current_epoch();
        let body = InviteBody {
            circle: state.circle().clone(),
            relay_url: relay_url.trim().to_owned(),
            capability,
            created_at: now,
            expires_at,
            epoch,
            id: InviteId::from_bytes(token_keys.signing.verifying_key().to_bytes()),
            key: keys.current(state)?.wrap(epoch, &token_keys.exchange_key()),
            issuer: issuer.id(),
        };
        let invite = SignedInvite::sign(issuer, &body, for_member.as_ref(), kind)?;
        match kind {
            InviteKind::Person => state.check_invite(&invite)?,
            InviteKind::Device => {
                state.check_device_link(&invite)?;
            }
        }
        Ok(Self {
            invite,
            secret: seed,
            card: None,
        })
    }

    /// A device link: admits one more device of `issuer`'s own member, with that
    /// member's capability, until `expires_at` (at most [`MAX_DEVICE_LINK_MILLIS`]
    /// after `now`). Made offline by any active device of the member.
    pub fn create_device_link(
        state: &MembershipState,
        issuer: &DeviceIdentity,
        keys: &Keyring,
        relay_url: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Self> {
        let capability = state
            .capability_of(&issuer.id())
            .ok_or(Error::Removed(issuer.id()))?;
        Self::make(
            state,
            issuer,
            keys,
            relay_url,
            capability,
            (InviteKind::Device, None),
            expires_at,
            now,
        )
    }

    /// The same token carrying `card` (shown by a preview before joining).
    pub fn with_card(mut self, card: LinkCard) -> Self {
        self.card = Some(card);
        self
    }

    pub fn invite(&self) -> &SignedInvite {
        &self.invite
    }

    /// The names the link carries, if its maker put them in.
    pub fn card(&self) -> Option<&LinkCard> {
        self.card.as_ref()
    }

    /// `kring://invite/<base64url>` (`kring://device/…` for a device link); contains
    /// the secret.
    pub fn to_link(&self) -> String {
        let bytes = Zeroizing::new(match &self.card {
            None => wire::encode(
                TOKEN_V1,
                &TokenWire {
                    invite: self.invite.bytes.clone(),
                    secret: *self.secret,
                },
            ),
            Some(card) => wire::encode(
                TOKEN_V2,
                &TokenWireV2 {
                    invite: self.invite.bytes.clone(),
                    secret: *self.secret,
                    card: card.seal(&self.secret, &self.invite.id()),
                },
            ),
        });
        let prefix = match self.invite.kind {
            InviteKind::Person => LINK_PREFIX,
            InviteKind::Device => DEVICE_LINK_PREFIX,
        };
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(&bytes))
    }

    /// Parses a link and checks the invite's signature and that the secret belongs to
    /// it. Whether the circle still accepts it is for the membership log to say.
    pub fn from_link(link: &str) -> Result<Self> {
        let what = "invite link";
        let link = link.trim();
        wire::check_size(what, link.len(), MAX_LINK_LEN)?;
        let (encoded, kind) = match (
            link.strip_prefix(LINK_PREFIX),
            link.strip_prefix(DEVICE_LINK_PREFIX),
        ) {
            (Some(encoded), _) => (encoded, InviteKind::Person),
            (_, Some(encoded)) => (encoded, InviteKind::Device),
            _ => {
                return Err(wire::malformed(
                    what,
                    format!("must start with {LINK_PREFIX} or {DEVICE_LINK_PREFIX}"),
                ))
            }
        };
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(encoded)
                .map_err(|e| wire::malformed(what, e.to_string()))?,
        );
        let (invite, secret, card) = match bytes.first() {
            Some(&TOKEN_V2) => {
                let wire: TokenWireV2 = wire::decode(what, TOKEN_V2, MAX_LINK_LEN, &bytes)?;
                (wire.invite, Zeroizing::new(wire.secret), Some(wire.card))
            }
            _ => {
                let wire: TokenWire = wire::decode(what, TOKEN_V1, MAX_LINK_LEN, &bytes)?;
                (wire.invite, Zeroizing::new(wire.secret), None)
            }
        };
        let invite = SignedInvite::from_bytes(&invite)?;
        if invite.kind != kind {
            return Err(wire::malformed(
                what,
                "the link's kind does not match".into(),
            ));
        }
        if TokenKeys::from_seed(&secret)
            .signing
            .verifying_key()
            .to_bytes()
            != *invite.id().as_bytes()
        {
            return Err(wire::malformed(
                what,
                "the secret does not belong to the invite".into(),
            ));
        }
        let card = card
            .map(|sealed| LinkCard::open(&sealed, &secret, &invite.id()))
            .transpose()?;
        Ok(Self {
            invite,
            secret,
            card,
        })
    }

    /// The epoch key the invite carries.
    pub(crate) fn epoch_key(&self) -> Result<EpochKey> {
        let keys = TokenKeys::from_seed(&self.secret);
        EpochKey::unwrap(
            &self.invite.body.key,
            self.invite.body.epoch,
            &keys.exchange,
        )
    }

    /// The membership entry by which `device` joins as new member `member`. Fails with
    /// the validator's error if the circle (as `state` knows it) would reject it.
    pub fn redeem(
        &self,
        state: &MembershipState,
        device: &DeviceIdentity,
        member: MemberId,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        state.check_invite(&self.invite)?;
        let epoch = self.invite.body.epoch;
        let action = Action::RedeemInvite {
            invite: self.invite.bytes.clone(),
            member,
            device: device.public(),
            key: self.epoch_key()?.wrap(epoch, &device.exchange_key()),
        };
        let body = state.next_body(device.id(), action, at);
        let signing = TokenKeys::from_seed(&self.secret).signing;
        let entry = SignedEntry::sign(device, &body, Some(&signing))?;
        state.check(&entry)?;
        Ok(entry)
    }

    /// The membership entry by which `device` joins as another device of the device
    /// link's member. Fails with the validator's error if the circle (as `state` knows
    /// it) would reject it.
    pub fn redeem_device(
        &self,
        state: &MembershipState,
        device: &DeviceIdentity,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let member = state.check_device_link(&self.invite)?.clone();
        let epoch = self.invite.body.epoch;
        let action = Action::AddLinkedDevice {
            invite: self.invite.bytes.clone(),
            member,
            device: device.public(),
            key: self.epoch_key()?.wrap(epoch, &device.exchange_key()),
        };
        let body = state.next_body(device.id(), action, at);
        let signing = TokenKeys::from_seed(&self.secret).signing;
        let entry = SignedEntry::sign(device, &body, Some(&signing))?;
        state.check(&entry)?;
        Ok(entry)
    }
}

impl InviteToken {
    /// Signs `domain || message` with the invite key: how the holder of a link proves
    /// it to the relay before it has a membership of its own (see `sync::request_auth`).
    pub(crate) fn sign(&self, domain: &[u8], message: &[u8]) -> Signature {
        wire::sign(&TokenKeys::from_seed(&self.secret).signing, domain, message)
    }
}

/// Whether `invite` can still be redeemed in `state` at `at`, with the refusal a
/// person can act on: [`Error::InviteReused`], [`Error::InviteExpired`] or
/// [`Error::InviteRevoked`] (its issuer may no longer invite, or a removal since it
/// was made changed the key). The relay runs this before it lets an invite holder
/// read the log, and the joining device before it redeems, so both give the same
/// answer; the validator ([`MembershipState::check`]) still decides on the entry.
pub fn check_usable(state: &MembershipState, invite: &SignedInvite, at: Timestamp) -> Result<()> {
    let checked = match invite.kind() {
        InviteKind::Person => state.check_invite(invite),
        InviteKind::Device => state.check_device_link(invite).map(|_| ()),
    };
    match checked {
        Ok(()) => {}
        Err(Error::StaleEpoch { .. }) => {
            return Err(Error::InviteRevoked(
                "someone was removed from the circle after it was made",
            ))
        }
        Err(Error::Unauthorized { .. } | Error::Removed(_)) => {
            return Err(Error::InviteRevoked(
                "whoever made it may no longer invite people",
            ))
        }
        Err(other) => return Err(other),
    }
    let expires_at = invite.body().expires_at;
    if at > expires_at {
        return Err(Error::InviteExpired { expires_at, at });
    }
    Ok(())
}

/// The relay's invite refusals (codes `invite_used`, `invite_expired`,
/// `invite_revoked`) back as the typed errors they were at the relay; the codes carry
/// no ids, the invite in hand does. Anything else is returned as it is.
pub fn refusal_of(e: Error, invite: &SignedInvite, at: Timestamp) -> Error {
    match e {
        Error::Relay { ref code, .. } => match code.as_str() {
            "invite_used" => Error::InviteReused(invite.id()),
            "invite_expired" => Error::InviteExpired {
                expires_at: invite.body().expires_at,
                at,
            },
            "invite_revoked" => Error::InviteRevoked("the circle no longer accepts it"),
            _ => e,
        },
        other => other,
    }
}

/// The two key pairs of an invite, both from its one secret seed.
struct TokenKeys {
    signing: SigningKey,
    exchange: crypto_box::SecretKey,
}

impl TokenKeys {
    fn from_seed(seed: &[u8; 32]) -> Self {
        let exchange = Zeroizing::new(blake3::derive_key(INVITE_EXCHANGE_KDF, seed));
        Self {
            signing: SigningKey::from_bytes(seed),
            exchange: crypto_box::SecretKey::from_bytes(*exchange),
        }
    }

    fn exchange_key(&self) -> ExchangeKey {
        ExchangeKey::from_bytes(self.exchange.public_key().to_bytes())
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod device_link_tests;
