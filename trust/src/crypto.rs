//! Content keys and the vetted constructions that protect them.
//!
//! - The plan is encrypted under an [`EpochKey`] per circle and key epoch, with
//!   XChaCha20-Poly1305 and a random 192-bit nonce per message (random nonces are safe
//!   at that size, so no counter state has to survive crashes or span devices).
//! - An epoch key reaches a device as a [`WrappedKey`]: a libsodium-compatible sealed
//!   box (`crypto_box`: X25519 + XSalsa20-Poly1305) to the device's X25519 key. The
//!   sealed plaintext names the epoch, so a wrap cannot be passed off as another epoch's.
//!   Sealed boxes are anonymous; who made a wrap is proven by the signed membership
//!   entry that carries it.
//! - When the key rotates, the new key encrypts the previous one ([`SealedKey`]), so a
//!   device that holds the newest key can walk back through the whole history, while a
//!   removed device (which never receives the new key) learns nothing new.

use crate::ids::MemberId;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::identity::ExchangeKey;
use crate::wire;

pub const NONCE_LEN: usize = 24;
const GRANT_V1: u8 = 1;
/// A family key's grant: its own version byte, so a family key's wrap can never be
/// taken for an epoch key's (or the other way round).
const FAMILY_GRANT_V1: u8 = 2;
const GRANT_MAX: usize = 64;
const PREVIOUS_KEY_AAD: &[u8] = b"kring/previous-key/v1\0";
const PRESENTED_KEY_AAD: &[u8] = b"kring/presented-family-key/v1\0";
const MEMBER_NAME_AAD: &[u8] = b"kring/member-name/v1\0";
/// The longest sealed name the log takes (a name of 80 characters of 4 bytes, and
/// the tag): the relay cannot read it, so it bounds the bytes.
pub const MAX_SEALED_NAME_BYTES: usize = 4 * 80 + 16;

/// A circle's symmetric content key for one epoch. Zeroised on drop.
#[derive(Clone)]
pub struct EpochKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for EpochKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EpochKey(..)")
    }
}

/// An epoch key in a sealed box for one device (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// An epoch key encrypted under another epoch key (the next one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedKey {
    pub nonce: [u8; NONCE_LEN],
    #[serde(with = "serde_bytes")]
    pub ciphertext: Vec<u8>,
}

/// A member's own name, encrypted under the circle's key of an epoch: in the
/// membership log (which the relay stores and reads) only the circle can read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedName {
    pub nonce: [u8; NONCE_LEN],
    #[serde(with = "serde_bytes")]
    pub ciphertext: Vec<u8>,
}

/// What a [`WrappedKey`] contains.
#[derive(Serialize, Deserialize)]
struct Grant {
    epoch: u64,
    key: [u8; 32],
}

impl EpochKey {
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut key[..]);
        Self(key)
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }

    /// Encrypts under `nonce`, which must come from [`random_nonce`] and be used once;
    /// `aad` is authenticated but not encrypted.
    pub(crate) fn encrypt(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        self.cipher()
            .encrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // Only fails for plaintexts beyond 256 GiB, far above every size limit.
            .expect("XChaCha20-Poly1305 encrypts any bounded message")
    }

    pub(crate) fn decrypt(
        &self,
        what: &'static str,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::Decrypt(what))
    }

    /// Wraps this key, as the key of `epoch`, for the holder of `recipient`.
    pub(crate) fn wrap(&self, epoch: u64, recipient: &ExchangeKey) -> WrappedKey {
        self.wrap_as(GRANT_V1, epoch, recipient)
    }

    /// Wraps this key, as the family key of `generation`, for the holder of `recipient`.
    pub(crate) fn wrap_family(&self, generation: u64, recipient: &ExchangeKey) -> WrappedKey {
        self.wrap_as(FAMILY_GRANT_V1, generation, recipient)
    }

    fn wrap_as(&self, version: u8, epoch: u64, recipient: &ExchangeKey) -> WrappedKey {
        let grant = Zeroizing::new(wire::encode(
            version,
            &Grant {
                epoch,
                key: *self.0,
            },
        ));
        let recipient = crypto_box::PublicKey::from_bytes(*recipient.as_bytes());
        let sealed = recipient
            .seal(&mut OsRng, &grant)
            .expect("a sealed box of a few bytes cannot fail");
        WrappedKey(sealed)
    }

    /// Opens a [`WrappedKey`] meant for `secret`, which must hold the key of `epoch`.
    pub(crate) fn unwrap(
        wrapped: &WrappedKey,
        epoch: u64,
        secret: &crypto_box::SecretKey,
    ) -> Result<Self> {
        Self::unwrap_as(GRANT_V1, "wrapped key", wrapped, epoch, secret)
    }

    /// Opens a family key's wrap meant for `secret`, which must hold `generation`.
    pub(crate) fn unwrap_family(
        wrapped: &WrappedKey,
        generation: u64,
        secret: &crypto_box::SecretKey,
    ) -> Result<Self> {
        Self::unwrap_as(
            FAMILY_GRANT_V1,
            "wrapped family key",
            wrapped,
            generation,
            secret,
        )
    }

    fn unwrap_as(
        version: u8,
        what: &'static str,
        wrapped: &WrappedKey,
        epoch: u64,
        secret: &crypto_box::SecretKey,
    ) -> Result<Self> {
        let plain = Zeroizing::new(
            secret
                .unseal(&wrapped.0)
                .map_err(|_| Error::Decrypt(what))?,
        );
        let grant: Grant = wire::decode(what, version, GRANT_MAX, &plain)?;
        let key = Self::from_bytes(grant.key);
        if grant.epoch != epoch {
            return Err(Error::StaleEpoch {
                expected: epoch,
                got: grant.epoch,
            });
        }
        Ok(key)
    }

    /// Encrypts `previous` (the key of epoch `epoch - 1`) under this key of `epoch`.
    pub(crate) fn seal_previous(&self, epoch: u64, previous: &EpochKey) -> SealedKey {
        self.seal_key(&key_aad(PREVIOUS_KEY_AAD, epoch), previous)
    }

    /// Opens what [`seal_previous`](Self::seal_previous) made with this key of `epoch`.
    pub(crate) fn open_previous(&self, epoch: u64, sealed: &SealedKey) -> Result<Self> {
        self.open_key(
            "previous epoch key",
            &key_aad(PREVIOUS_KEY_AAD, epoch),
            sealed,
        )
    }

    /// Encrypts the family key of `generation` under this (circle epoch) key: how a
    /// presentation makes what the family wrote readable to the whole circle. The
    /// generation is bound in, so one generation's key cannot be passed off as another's.
    pub(crate) fn seal_family(&self, generation: u64, family: &EpochKey) -> SealedKey {
        self.seal_key(&key_aad(PRESENTED_KEY_AAD, generation), family)
    }

    /// Opens what [`seal_family`](Self::seal_family) made with this key.
    pub(crate) fn open_family(&self, generation: u64, sealed: &SealedKey) -> Result<Self> {
        self.open_key(
            "presented family key",
            &key_aad(PRESENTED_KEY_AAD, generation),
            sealed,
        )
    }

    /// Encrypts `name` as the name of `member` under this key of `epoch`; both are
    /// bound in, so a sealed name cannot be passed off as someone else's.
    pub(crate) fn seal_name(&self, epoch: u64, member: &MemberId, name: &str) -> SealedName {
        let nonce = random_nonce();
        let ciphertext = self.encrypt(&nonce, &name_aad(epoch, member), name.as_bytes());
        SealedName { nonce, ciphertext }
    }

    /// Opens what [`seal_name`](Self::seal_name) made with this key.
    pub(crate) fn open_name(
        &self,
        epoch: u64,
        member: &MemberId,
        sealed: &SealedName,
    ) -> Result<String> {
        let what = "member name";
        let plain = self.decrypt(
            what,
            &sealed.nonce,
            &name_aad(epoch, member),
            &sealed.ciphertext,
        )?;
        String::from_utf8(plain.to_vec()).map_err(|_| wire::malformed(what, "not UTF-8".into()))
    }

    fn seal_key(&self, aad: &[u8], key: &EpochKey) -> SealedKey {
        let nonce = random_nonce();
        let ciphertext = self.encrypt(&nonce, aad, key.as_bytes());
        SealedKey { nonce, ciphertext }
    }

    fn open_key(&self, what: &'static str, aad: &[u8], sealed: &SealedKey) -> Result<Self> {
        let plain = self.decrypt(what, &sealed.nonce, aad, &sealed.ciphertext)?;
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| wire::malformed(what, format!("{} bytes", plain.len())))?;
        Ok(Self::from_bytes(bytes))
    }
}

/// A fresh 192-bit nonce from the operating system's generator.
pub(crate) fn random_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    nonce
}

fn name_aad(epoch: u64, member: &MemberId) -> Vec<u8> {
    let mut aad = key_aad(MEMBER_NAME_AAD, epoch);
    aad.extend_from_slice(member.as_str().as_bytes());
    aad
}

fn key_aad(label: &[u8], number: u64) -> Vec<u8> {
    let mut aad = label.to_vec();
    aad.extend_from_slice(&number.to_le_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::DeviceIdentity;

    #[test]
    fn wrapped_keys_open_only_for_their_device_and_epoch() {
        let alice = DeviceIdentity::generate();
        let bob = DeviceIdentity::generate();
        let key = EpochKey::generate();
        let wrapped = key.wrap(3, &alice.exchange_key());

        let opened = EpochKey::unwrap(&wrapped, 3, alice.exchange_secret()).unwrap();
        assert_eq!(opened.as_bytes(), key.as_bytes());
        assert!(matches!(
            EpochKey::unwrap(&wrapped, 3, bob.exchange_secret()),
            Err(Error::Decrypt(_))
        ));
        assert!(matches!(
            EpochKey::unwrap(&wrapped, 4, alice.exchange_secret()),
            Err(Error::StaleEpoch {
                expected: 4,
                got: 3
            })
        ));
    }

    #[test]
    fn previous_keys_are_bound_to_their_epoch() {
        let old = EpochKey::generate();
        let new = EpochKey::generate();
        let sealed = new.seal_previous(5, &old);
        assert_eq!(
            new.open_previous(5, &sealed).unwrap().as_bytes(),
            old.as_bytes()
        );
        assert!(matches!(
            new.open_previous(6, &sealed),
            Err(Error::Decrypt(_))
        ));
        assert!(matches!(
            old.open_previous(5, &sealed),
            Err(Error::Decrypt(_))
        ));
    }

    #[test]
    fn aead_rejects_tampering() {
        let key = EpochKey::generate();
        let nonce = random_nonce();
        let mut ct = key.encrypt(&nonce, b"header", b"plan text");
        assert_eq!(
            &key.decrypt("t", &nonce, b"header", &ct).unwrap()[..],
            b"plan text"
        );
        assert!(key.decrypt("t", &nonce, b"other", &ct).is_err());
        ct[0] ^= 1;
        assert!(key.decrypt("t", &nonce, b"header", &ct).is_err());
    }
}
