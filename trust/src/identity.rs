//! Device identity: who signs, and who can receive wrapped keys.
//!
//! Every device has two long-lived key pairs:
//! - **ed25519** for signing membership entries, invites and envelopes. The 32-byte
//!   verifying key *is* the [`DeviceId`]: ids are self-certifying, so nobody can claim
//!   a device id without holding its key, and the relay never needs a lookup table.
//! - **X25519** ([`ExchangeKey`]) for receiving content keys wrapped with sealed boxes.
//!
//! The device's automerge actor id is its verifying key too (`kring_plan::plan::actor`),
//! so every automerge change can be checked against the signer of the envelope that
//! carried it.
//!
//! Secret keys never leave the device; they live behind the client's secret store
//! (`kring_client::secrets`: a 0600 file per secret for the CLI and tests,
//! Keystore/Keychain on phones).

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::wire;

wire::define_bytes32!(
    /// A device, named by its ed25519 verifying key (64 hex characters for humans).
    DeviceId
);

wire::define_bytes32!(
    /// A device's X25519 public key: content keys are wrapped to it.
    ExchangeKey
);

impl DeviceId {
    /// The verifying key. Fails for byte strings that are not a curve point, so a
    /// forged id is rejected before any signature check.
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_bytes(self.as_bytes())
            .map_err(|_| wire::malformed("device id", "not an ed25519 public key".to_owned()))
    }
}

/// What the circle knows about a device: enough to verify it and to wrap keys for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicDevice {
    pub id: DeviceId,
    pub exchange_key: ExchangeKey,
}

/// Version byte of [`DeviceIdentity::to_secret_bytes`].
const SECRET_FORMAT_V1: u8 = 1;
const SECRET_LEN: usize = 1 + 32 + 32;

/// A device's secret keys. Never serialised except through
/// [`to_secret_bytes`](Self::to_secret_bytes) into a secret store; both halves are
/// zeroised on drop by their crates.
pub struct DeviceIdentity {
    signing: SigningKey,
    exchange: crypto_box::SecretKey,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl DeviceIdentity {
    /// Fresh keys from the operating system's random number generator.
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut OsRng),
            exchange: crypto_box::SecretKey::generate(&mut OsRng),
        }
    }

    pub fn id(&self) -> DeviceId {
        DeviceId::from_bytes(self.signing.verifying_key().to_bytes())
    }

    pub fn exchange_key(&self) -> ExchangeKey {
        ExchangeKey::from_bytes(self.exchange.public_key().to_bytes())
    }

    pub fn public(&self) -> PublicDevice {
        PublicDevice {
            id: self.id(),
            exchange_key: self.exchange_key(),
        }
    }

    pub(crate) fn exchange_secret(&self) -> &crypto_box::SecretKey {
        &self.exchange
    }

    pub(crate) fn sign(&self, domain: &[u8], message: &[u8]) -> Signature {
        wire::sign(&self.signing, domain, message)
    }

    /// `version || ed25519 seed || X25519 secret`, for a secret store only.
    pub fn to_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(SECRET_LEN));
        out.push(SECRET_FORMAT_V1);
        out.extend_from_slice(self.signing.as_bytes());
        out.extend_from_slice(&self.exchange.to_bytes());
        out
    }

    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self> {
        let what = "device secret";
        match bytes.first() {
            Some(&SECRET_FORMAT_V1) if bytes.len() == SECRET_LEN => {}
            Some(&SECRET_FORMAT_V1) | None => {
                return Err(wire::malformed(what, format!("{} bytes", bytes.len())))
            }
            Some(&version) => return Err(Error::UnsupportedVersion { what, version }),
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&bytes[1..33]);
        let mut exchange = Zeroizing::new([0u8; 32]);
        exchange.copy_from_slice(&bytes[33..65]);
        Ok(Self {
            signing: SigningKey::from_bytes(&seed),
            exchange: crypto_box::SecretKey::from_bytes(*exchange),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_id_is_the_verifying_key() {
        let identity = DeviceIdentity::generate();
        assert_eq!(
            identity.id().verifying_key().unwrap(),
            identity.signing.verifying_key()
        );
    }

    #[test]
    fn malformed_secrets_are_rejected() {
        let identity = DeviceIdentity::generate();
        let bytes = identity.to_secret_bytes();
        assert!(matches!(
            DeviceIdentity::from_secret_bytes(&bytes[..10]),
            Err(Error::Malformed { .. })
        ));
        let mut other_version = bytes.to_vec();
        other_version[0] = 9;
        assert!(matches!(
            DeviceIdentity::from_secret_bytes(&other_version),
            Err(Error::UnsupportedVersion { version: 9, .. })
        ));
    }
}
