//! The binary wire format shared by everything the trust layer signs: membership
//! entries, invites and envelopes.
//!
//! Why this shape:
//! - **Signatures cover exact bytes.** We sign and hash the bytes we store and send, never
//!   a re-serialisation, so two implementations cannot disagree about what was signed.
//! - **Canonical or rejected.** Encoding is [postcard] (compact, deterministic for a given
//!   value). [`decode`] re-encodes what it parsed and rejects the input unless the bytes
//!   are identical, so every value has exactly one accepted encoding: a changed byte
//!   either changes the value (and breaks a signature or hash) or is rejected here.
//! - **Versioned.** Every top-level encoding starts with one version byte outside the
//!   postcard data, so a future format can be told apart before parsing.
//! - **Bounded.** Sizes are checked before any parsing ([`Error::Oversized`]).
//! - **Domain-separated.** Signatures and hashes are over `domain || bytes`, with a
//!   different domain per purpose, so a signature made for one purpose (say an invite)
//!   can never be replayed as another (say a membership entry).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// Encodes `value` as `version || postcard(value)`.
pub(crate) fn encode<T: Serialize>(version: u8, value: &T) -> Vec<u8> {
    // Postcard only fails on sequences of unknown length and custom serializer errors;
    // none of the trust-layer types has either, so failure here is a programming error.
    postcard::to_extend(value, vec![version]).expect("postcard encodes every trust-layer type")
}

/// Decodes `version || postcard(value)`, enforcing size, version, no trailing bytes and
/// canonical form (see the module docs).
pub(crate) fn decode<T: Serialize + DeserializeOwned>(
    what: &'static str,
    version: u8,
    max: usize,
    bytes: &[u8],
) -> Result<T> {
    check_size(what, bytes.len(), max)?;
    let (&found, data) = bytes
        .split_first()
        .ok_or_else(|| malformed(what, "empty input".to_owned()))?;
    if found != version {
        return Err(Error::UnsupportedVersion {
            what,
            version: found,
        });
    }
    let (value, rest) =
        postcard::take_from_bytes::<T>(data).map_err(|e| malformed(what, e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed(what, format!("{} trailing bytes", rest.len())));
    }
    if encode(version, &value) != bytes {
        return Err(malformed(what, "non-canonical encoding".to_owned()));
    }
    Ok(value)
}

pub(crate) fn check_size(what: &'static str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(Error::Oversized { what, len, max });
    }
    Ok(())
}

pub(crate) fn malformed(what: &'static str, detail: String) -> Error {
    Error::Malformed { what, detail }
}

fn domain_message(domain: &[u8], message: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(domain.len() + message.len());
    m.extend_from_slice(domain);
    m.extend_from_slice(message);
    m
}

/// Signs `domain || message`.
pub(crate) fn sign(key: &SigningKey, domain: &[u8], message: &[u8]) -> Signature {
    key.sign(&domain_message(domain, message))
}

/// Verifies an ed25519 signature over `domain || message`.
///
/// RFC 8032 verification as ed25519-dalek's `verify` does it: `s` must be canonical and
/// the recomputed `R` must equal the signature's `R` byte for byte, so nobody without
/// the secret key can turn a valid signature into another valid encoding. Weak (small
/// order) keys, which could sign "for many messages", are refused first. That is what
/// `verify_strict` adds, minus its check that `R` is not of small order, which only a
/// key holder could exploit and only against themselves (such an `R` leaks the
/// secret key). Skipping that decompression of `R` makes each check ~14% cheaper, and
/// signature checks are most of the cost of opening an envelope.
pub(crate) fn verify(
    what: &'static str,
    key: &VerifyingKey,
    domain: &[u8],
    message: &[u8],
    signature: &Signature,
) -> Result<()> {
    if key.is_weak() {
        return Err(Error::BadSignature(what));
    }
    ed25519_dalek::Verifier::verify(key, &domain_message(domain, message), signature)
        .map_err(|_| Error::BadSignature(what))
}

/// A 32-byte hash of `bytes` under a purpose string (BLAKE3 in key-derivation mode,
/// which is BLAKE3's own domain separation).
pub(crate) fn hash(domain: &str, bytes: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_derive_key(domain);
    hasher.update(bytes);
    *hasher.finalize().as_bytes()
}

/// Defines a 32-byte value type (key or hash) that is raw bytes on the wire and 64 hex
/// characters for humans and JSON.
macro_rules! define_bytes32 {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; 32]);

        impl $name {
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Parses 64 hex characters.
            pub fn parse(s: &str) -> $crate::error::Result<Self> {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(s.trim(), &mut bytes).map_err(|_| {
                    $crate::error::Error::InvalidValue {
                        field: stringify!($name),
                        value: s.to_owned(),
                        expected: "64 hex characters".to_owned(),
                    }
                })?;
                Ok(Self(bytes))
            }

            /// The first 8 hex characters, enough for a human to tell values apart.
            pub fn short(&self) -> String {
                hex::encode(&self.0[..4])
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&hex::encode(self.0))
                } else {
                    self.0.serialize(s)
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                if d.is_human_readable() {
                    let s = String::deserialize(d)?;
                    Self::parse(&s).map_err(serde::de::Error::custom)
                } else {
                    <[u8; 32]>::deserialize(d).map(Self)
                }
            }
        }
    };
}
pub(crate) use define_bytes32;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        n: u64,
        text: String,
    }

    #[test]
    fn weak_keys_sign_nothing() {
        // The identity point: a small-order key for which signatures are trivial.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = VerifyingKey::from_bytes(&identity).unwrap();
        let signature = Signature::from_bytes(&[0; 64]);
        assert!(weak.is_weak());
        assert!(matches!(
            verify("test", &weak, b"d", b"anything", &signature),
            Err(Error::BadSignature("test"))
        ));
        let key = SigningKey::from_bytes(&[5; 32]);
        let good = sign(&key, b"d", b"message");
        verify("test", &key.verifying_key(), b"d", b"message", &good).unwrap();
        assert!(verify("test", &key.verifying_key(), b"e", b"message", &good).is_err());
    }

    #[test]
    fn roundtrip_and_rejections() {
        let value = Sample {
            n: 300,
            text: "hoi".into(),
        };
        let bytes = encode(1, &value);
        assert_eq!(decode::<Sample>("sample", 1, 100, &bytes).unwrap(), value);

        assert!(matches!(
            decode::<Sample>("sample", 2, 100, &bytes),
            Err(Error::UnsupportedVersion { version: 1, .. })
        ));
        assert!(matches!(
            decode::<Sample>("sample", 1, 3, &bytes),
            Err(Error::Oversized { max: 3, .. })
        ));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            decode::<Sample>("sample", 1, 100, &trailing),
            Err(Error::Malformed { .. })
        ));
        // 300 as a varint is [0xac, 0x02]; an overlong form of the same number must not
        // be accepted as a second encoding of the same value.
        let mut overlong = vec![1, 0xac, 0x82, 0x00];
        overlong.extend_from_slice(&bytes[3..]);
        assert!(matches!(
            decode::<Sample>("sample", 1, 100, &overlong),
            Err(Error::Malformed { .. })
        ));
    }
}
