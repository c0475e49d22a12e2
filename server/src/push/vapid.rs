//! The relay's VAPID key (RFC 8292): it identifies this relay to push services, and
//! devices subscribe with its public half (`applicationServerKey`), so a push
//! service takes pushes for a subscription only from this relay.
//!
//! Subscriptions are bound to the key, so the key lives with them: generated on the
//! first start and kept in the database (a backup restores both together), unless
//! the operator gives one with `--vapid-key FILE` (PEM, as `openssl ecparam -genkey
//! -name prime256v1` or py-vapid's `vapid --gen` write it, or the raw 32-byte secret
//! in base64url).

use std::path::Path;

use crate::error::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kring_trust::Error as TrustError;
use reqwest::Url;
use web_push_native::jwt_simple::algorithms::{
    ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair,
};
use web_push_native::jwt_simple::claims::Claims;

/// The name the generated key is kept under in the database.
pub const STORE_NAME: &str = "vapid";

/// A VAPID key and the contact (`sub`) that goes with it.
pub struct Vapid {
    key: ES256KeyPair,
    subject: String,
    public_key: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

fn bad_key(what: impl std::fmt::Display) -> Error {
    Error::Trust(TrustError::InvalidValue {
        field: "--vapid-key",
        value: String::new(),
        expected: format!("a P-256 private key (PEM or 32 bytes base64url): {what}"),
    })
}

impl Vapid {
    /// A new secret (32 bytes) to store.
    pub fn generate_secret() -> Vec<u8> {
        ES256KeyPair::generate().to_bytes()
    }

    /// The key from its raw 32-byte secret.
    pub fn from_secret(secret: &[u8], subject: &str) -> Result<Self> {
        let key = ES256KeyPair::from_bytes(secret).map_err(bad_key)?;
        Ok(Self::new(key, subject))
    }

    /// The secret in a key file (PEM, or base64url of the 32 raw bytes).
    pub fn read_secret(path: &Path) -> Result<Vec<u8>> {
        let text = std::fs::read_to_string(path)?;
        let text = text.trim();
        let key = if text.starts_with("-----BEGIN") {
            ES256KeyPair::from_pem(text).map_err(bad_key)?
        } else {
            let raw = URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(bad_key)?;
            ES256KeyPair::from_bytes(&raw).map_err(bad_key)?
        };
        Ok(key.to_bytes())
    }

    fn new(key: ES256KeyPair, subject: &str) -> Self {
        let public_key =
            URL_SAFE_NO_PAD.encode(key.public_key().public_key().to_bytes_uncompressed());
        Vapid {
            key,
            subject: subject.to_owned(),
            public_key,
        }
    }

    /// The public key, uncompressed, base64url: what `GET /v1/push/vapid` answers.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The `Authorization` header of a push to `endpoint` (RFC 8292 §3): a JWT
    /// (ES256, by jwt-simple) with the endpoint's origin as audience, valid for
    /// `valid`, and the public key.
    ///
    /// Not web-push-native's own VAPID header: that one leaves the port out of the
    /// audience, which push services on a non-default port (a UnifiedPush server on
    /// :8080, the e2e test's receiver) rightly refuse (the origin includes the port).
    pub fn authorization(&self, endpoint: &Url, valid: std::time::Duration) -> Result<String> {
        let origin = endpoint.origin().ascii_serialization();
        let claims = Claims::create(valid.into())
            .with_audience(origin)
            .with_subject(&self.subject);
        let token = self
            .key
            .sign(claims)
            .map_err(|e| crate::error::internal(format!("signing the VAPID token: {e}")))?;
        Ok(format!("vapid t={token}, k={}", self.public_key))
    }
}

/// Checks a `--push-subject`: RFC 8292 §2.1 asks for a `mailto:` or `https:` URI a
/// push service can reach the operator at.
pub fn check_subject(subject: &str) -> Result<()> {
    let ok = (subject.starts_with("mailto:") && subject.len() > "mailto:".len())
        || (subject.starts_with("https://") && subject.len() > "https://".len());
    if ok {
        Ok(())
    } else {
        Err(Error::Trust(TrustError::InvalidValue {
            field: "--push-subject",
            value: subject.to_owned(),
            expected: "a mailto: or https:// contact for push services".into(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_may_be_pem_or_raw_and_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = ES256KeyPair::generate();
        let pem = dir.path().join("vapid.pem");
        std::fs::write(&pem, key.to_pem().expect("pem")).expect("write");
        let raw = dir.path().join("vapid.txt");
        std::fs::write(&raw, URL_SAFE_NO_PAD.encode(key.to_bytes())).expect("write");
        let from_pem = Vapid::read_secret(&pem).expect("pem");
        assert_eq!(from_pem, key.to_bytes());
        assert_eq!(Vapid::read_secret(&raw).expect("raw"), key.to_bytes());
        let vapid = Vapid::from_secret(&from_pem, "mailto:ops@example.org").expect("key");
        let public = URL_SAFE_NO_PAD.decode(vapid.public_key()).expect("b64");
        assert_eq!((public.len(), public[0]), (65, 4));
        std::fs::write(&raw, "not a key").expect("write");
        assert!(Vapid::read_secret(&raw).is_err());
    }

    #[test]
    fn the_vapid_token_names_the_endpoint_origin_with_its_port() {
        let vapid =
            Vapid::from_secret(&Vapid::generate_secret(), "mailto:ops@example.org").expect("key");
        for (endpoint, aud) in [
            (
                "https://push.example.net/wpush/1",
                "https://push.example.net",
            ),
            ("https://push.example.net:443/x", "https://push.example.net"),
            ("http://127.0.0.1:8080/up/1", "http://127.0.0.1:8080"),
        ] {
            let header = vapid
                .authorization(
                    &Url::parse(endpoint).expect("url"),
                    std::time::Duration::from_secs(60),
                )
                .expect("signed");
            let token = header
                .strip_prefix("vapid t=")
                .and_then(|rest| rest.split(',').next())
                .expect("token");
            let key = web_push_native::jwt_simple::algorithms::ES256PublicKey::from_bytes(
                &URL_SAFE_NO_PAD.decode(vapid.public_key()).expect("b64"),
            )
            .expect("public key");
            let claims = key
                .verify_token::<web_push_native::jwt_simple::claims::NoCustomClaims>(token, None)
                .expect("verifies");
            let audience = claims.audiences.and_then(|a| a.into_string().ok());
            assert_eq!(audience.as_deref(), Some(aud), "{endpoint}");
            assert!(header.ends_with(&format!("k={}", vapid.public_key())));
        }
    }

    #[test]
    fn the_subject_is_a_contact() {
        check_subject("mailto:ops@example.org").expect("mailto");
        check_subject("https://relay.example.org/contact").expect("https");
        for bad in ["", "ops@example.org", "mailto:", "http://x"] {
            assert!(check_subject(bad).is_err(), "{bad:?}");
        }
    }
}
