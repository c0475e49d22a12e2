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

use crate::crypto::{EpochKey, WrappedKey};
use crate::error::{Error, Result};
use crate::identity::{DeviceId, DeviceIdentity, ExchangeKey};
use crate::keyring::Keyring;
use crate::membership::{Action, Capability, MembershipState, SignedEntry};
use crate::plan::ids::{CircleId, MemberId};
use crate::time::Timestamp;
use crate::wire;

const INVITE_V1: u8 = 1;
const INVITE_BODY_V1: u8 = 1;
const TOKEN_V1: u8 = 1;
const INVITE_DOMAIN: &[u8] = b"kring/invite/v1\0";
const INVITE_EXCHANGE_KDF: &str = "kring 2025 invite exchange key v1";

/// The scheme and path of an invite link.
pub const LINK_PREFIX: &str = "kring://invite/";
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

#[derive(Serialize, Deserialize)]
struct InviteWire {
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
    signature: Signature,
}

/// An invite whose encoding and issuer signature have been checked (not yet whether the
/// issuer may invite: that depends on the membership log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInvite {
    bytes: Vec<u8>,
    body: InviteBody,
}

impl SignedInvite {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let what = "invite";
        let wire: InviteWire = wire::decode(what, INVITE_V1, MAX_INVITE_BYTES, bytes)?;
        let body: InviteBody = wire::decode(what, INVITE_BODY_V1, MAX_INVITE_BYTES, &wire.body)?;
        CircleId::parse(body.circle.as_str())?;
        if body.relay_url.trim().is_empty() || body.relay_url.len() > MAX_RELAY_URL_LEN {
            return Err(wire::malformed(what, "relay URL empty or too long".into()));
        }
        body.id.verifying_key()?;
        let issuer = body.issuer.verifying_key()?;
        wire::verify(what, &issuer, INVITE_DOMAIN, &wire.body, &wire.signature)?;
        Ok(Self {
            bytes: bytes.to_vec(),
            body,
        })
    }

    fn sign(issuer: &DeviceIdentity, body: &InviteBody) -> Result<Self> {
        let body = wire::encode(INVITE_BODY_V1, body);
        let signature = issuer.sign(INVITE_DOMAIN, &body);
        Self::from_bytes(&wire::encode(INVITE_V1, &InviteWire { body, signature }))
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
}

#[derive(Serialize, Deserialize)]
struct TokenWire {
    #[serde(with = "serde_bytes")]
    invite: Vec<u8>,
    secret: [u8; 32],
}

/// A signed invite together with its secret: what the link carries.
pub struct InviteToken {
    invite: SignedInvite,
    secret: Zeroizing<[u8; 32]>,
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
        let invite = SignedInvite::sign(issuer, &body)?;
        state.check_invite(&invite)?;
        Ok(Self {
            invite,
            secret: seed,
        })
    }

    pub fn invite(&self) -> &SignedInvite {
        &self.invite
    }

    /// `kring://invite/<base64url>`; contains the secret.
    pub fn to_link(&self) -> String {
        let wire = TokenWire {
            invite: self.invite.bytes.clone(),
            secret: *self.secret,
        };
        let bytes = Zeroizing::new(wire::encode(TOKEN_V1, &wire));
        format!("{LINK_PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes))
    }

    /// Parses a link and checks the invite's signature and that the secret belongs to
    /// it. Whether the circle still accepts it is for the membership log to say.
    pub fn from_link(link: &str) -> Result<Self> {
        let what = "invite link";
        let link = link.trim();
        wire::check_size(what, link.len(), MAX_LINK_LEN)?;
        let encoded = link
            .strip_prefix(LINK_PREFIX)
            .ok_or_else(|| wire::malformed(what, format!("must start with {LINK_PREFIX}")))?;
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(encoded)
                .map_err(|e| wire::malformed(what, e.to_string()))?,
        );
        let wire: TokenWire = wire::decode(what, TOKEN_V1, MAX_LINK_LEN, &bytes)?;
        let secret = Zeroizing::new(wire.secret);
        let invite = SignedInvite::from_bytes(&wire.invite)?;
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
        Ok(Self { invite, secret })
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
}

impl InviteToken {
    /// Signs `domain || message` with the invite key: how the holder of a link proves
    /// it to the relay before it has a membership of its own (see `sync::request_auth`).
    pub(crate) fn sign(&self, domain: &[u8], message: &[u8]) -> Signature {
        wire::sign(&TokenKeys::from_seed(&self.secret).signing, domain, message)
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
