//! Admission credentials: who may create circles on a relay in `credential` mode.
//!
//! The operator holds an ed25519 key (`kring-server admission keygen`); the relay is
//! started with its public half (`--operator-key`). A credential, issued to a
//! coordinating organisation (`kring-server admission issue`), says who holds it, how
//! many circles may be created with it and until when; it is sent as the header
//! `x-kring-admission` with `POST /v1/circles`. Revoking (`kring-server admission
//! revoke`) records its id in the relay's database: circles already created stay,
//! new ones are refused.
//!
//! Wire form: `base64(body JSON) "." base64(signature)`, the signature over
//! `"kring/admission/v1\0" || body JSON` (the body bytes exactly as encoded).

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use kring_trust::{Error, Result, Timestamp};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};

const DOMAIN: &[u8] = b"kring/admission/v1\0";
/// Longest credential accepted (a holder name of a few hundred characters fits).
pub const MAX_CREDENTIAL_BYTES: usize = 2048;
const VERSION: u8 = 1;

/// What a credential grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialBody {
    pub v: u8,
    /// Random id (32 hex characters): what revocation names.
    pub id: String,
    /// Who it was issued to, for the operator's records (e.g. "Gemeente Utrecht").
    pub holder: String,
    /// Most circles created with it.
    pub max_circles: u64,
    /// Unix milliseconds after which it admits nothing.
    pub expires_at: i64,
}

/// A credential whose signature checked against the operator key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub body: CredentialBody,
}

fn refused(why: impl Into<String>) -> Error {
    Error::AdmissionRequired(why.into())
}

impl Credential {
    /// Decodes and checks `text` against `operator`; refuses anything else, with a
    /// reason for the person who presented it. Does not look at revocation.
    pub fn verify(text: &str, operator: &VerifyingKey, now: Timestamp) -> Result<Credential> {
        let text = text.trim();
        if text.len() > MAX_CREDENTIAL_BYTES {
            return Err(refused("the credential is too long"));
        }
        let (body_b64, sig_b64) = text
            .split_once('.')
            .ok_or_else(|| refused("the credential is not of the form BODY.SIGNATURE"))?;
        let body_bytes = B64
            .decode(body_b64)
            .map_err(|_| refused("the credential body is not base64"))?;
        let sig_bytes: [u8; 64] = B64
            .decode(sig_b64)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| refused("the credential signature is not 64 base64 bytes"))?;
        let signature = Signature::from_bytes(&sig_bytes);
        let mut message = DOMAIN.to_vec();
        message.extend_from_slice(&body_bytes);
        operator
            .verify(&message, &signature)
            .map_err(|_| refused("the credential is not signed by this relay's operator"))?;
        let body: CredentialBody = serde_json::from_slice(&body_bytes)
            .map_err(|e| refused(format!("the credential body does not parse: {e}")))?;
        if body.v != VERSION {
            return Err(refused(format!("unknown credential version {}", body.v)));
        }
        if now.0 > body.expires_at {
            return Err(refused(format!(
                "the credential of {} has expired",
                body.holder
            )));
        }
        Ok(Credential { body })
    }
}

/// The id a revocation names: given as is (32 hex characters), or read from a whole
/// credential (its body, without checking the signature: revoking is always safe).
pub fn credential_id(text: &str) -> Result<String> {
    let text = text.trim();
    if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(text.to_ascii_lowercase());
    }
    let body = text
        .split_once('.')
        .and_then(|(body, _)| B64.decode(body).ok())
        .and_then(|bytes| serde_json::from_slice::<CredentialBody>(&bytes).ok())
        .ok_or_else(|| Error::InvalidValue {
            field: "credential",
            value: text.chars().take(40).collect(),
            expected: "a credential or its 32-hex-character id".into(),
        })?;
    Ok(body.id)
}

/// Signs a new credential (the operator's side).
pub fn issue(key: &SigningKey, holder: &str, max_circles: u64, expires_at: Timestamp) -> String {
    let id = {
        let mut random = [0u8; 16];
        OsRng.fill_bytes(&mut random);
        hex::encode(random)
    };
    let body = CredentialBody {
        v: VERSION,
        id,
        holder: holder.to_owned(),
        max_circles,
        expires_at: expires_at.0,
    };
    let body_bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut message = DOMAIN.to_vec();
    message.extend_from_slice(&body_bytes);
    let signature = key.sign(&message);
    format!(
        "{}.{}",
        B64.encode(&body_bytes),
        B64.encode(signature.to_bytes())
    )
}

/// A new operator key, from the OS's random generator.
pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

/// Reads an operator key file: 64 hex characters (the seed).
pub fn read_key(text: &str) -> Result<SigningKey> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::InvalidValue {
            field: "operator key file",
            value: "(hidden)".into(),
            expected: "64 hex characters".into(),
        })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Parses `--operator-key` (64 hex characters of the public key).
pub fn parse_public_key(text: &str) -> Result<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::InvalidValue {
            field: "operator key",
            value: text.to_owned(),
            expected: "64 hex characters (kring-server admission keygen prints it)".into(),
        })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| Error::InvalidValue {
        field: "operator key",
        value: text.to_owned(),
        expected: "an ed25519 public key".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_verifies_only_against_its_operator_and_until_it_expires() {
        let operator = generate_key();
        let now = Timestamp::now();
        let text = issue(&operator, "Gemeente Test", 3, now.plus_days(30));
        let ok = Credential::verify(&text, &operator.verifying_key(), now).expect("valid");
        assert_eq!(ok.body.holder, "Gemeente Test");
        assert_eq!(ok.body.max_circles, 3);
        let other = generate_key();
        assert!(matches!(
            Credential::verify(&text, &other.verifying_key(), now),
            Err(Error::AdmissionRequired(_))
        ));
        assert!(Credential::verify(&text, &operator.verifying_key(), now.plus_days(31)).is_err());
        // Any change to the body breaks the signature.
        let (body, sig) = text.split_once('.').expect("dot");
        let mut json = B64.decode(body).expect("b64");
        let at = json.iter().position(|b| *b == b'3').expect("the 3");
        json[at] = b'9';
        let forged = format!("{}.{sig}", B64.encode(json));
        assert!(Credential::verify(&forged, &operator.verifying_key(), now).is_err());
        assert!(Credential::verify("", &operator.verifying_key(), now).is_err());
        assert!(Credential::verify("a.b.c", &operator.verifying_key(), now).is_err());
    }

    #[test]
    fn key_files_round_trip() {
        let key = generate_key();
        let text = hex::encode(key.to_bytes());
        assert_eq!(read_key(&text).expect("read").to_bytes(), key.to_bytes());
        let public = hex::encode(key.verifying_key().to_bytes());
        assert_eq!(
            parse_public_key(&public).expect("public"),
            key.verifying_key()
        );
        assert!(read_key("zz").is_err());
    }
}
