//! Signed requests: every relay request is signed by a device (or, while joining, by
//! an invite key) over its method, path, body hash and a timestamp.
//!
//! The canonical form is documented in `docs/relay-api.md`. Checking here is pure:
//! the caller supplies the verifying key it trusts for the signer and the current time;
//! remembering which signatures were already seen (replay) is the relay's state.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use ed25519_dalek::{Signature, VerifyingKey};

use crate::identity::DeviceIdentity;
use crate::invite::InviteToken;
use crate::time::Timestamp;
use crate::wire;
use crate::{Error, Result};

pub const HEADER_DEVICE: &str = "x-kring-device";
pub const HEADER_TIMESTAMP: &str = "x-kring-timestamp";
pub const HEADER_SIGNATURE: &str = "x-kring-signature";
pub const HEADER_INVITE: &str = "x-kring-invite";

/// How far a request's timestamp may be from the relay's clock. Also how long the
/// relay must remember signatures to refuse replays.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

const DOMAIN: &[u8] = b"kring/request/v1\0";

/// Something that can sign requests: a device, or an invite being redeemed.
pub trait RequestSigner {
    /// Lowercase hex of the signer's ed25519 verifying key.
    fn signer_id(&self) -> String;
    fn sign_bytes(&self, domain: &[u8], message: &[u8]) -> Signature;
}

impl RequestSigner for DeviceIdentity {
    fn signer_id(&self) -> String {
        self.id().to_string()
    }
    fn sign_bytes(&self, domain: &[u8], message: &[u8]) -> Signature {
        self.sign(domain, message)
    }
}

impl RequestSigner for InviteToken {
    fn signer_id(&self) -> String {
        self.invite().id().to_string()
    }
    fn sign_bytes(&self, domain: &[u8], message: &[u8]) -> Signature {
        self.sign(domain, message)
    }
}

/// The authentication headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAuth {
    /// Hex verifying key of the signer (a device id or an invite id).
    pub signer: String,
    pub timestamp: Timestamp,
    /// Base64 ed25519 signature.
    pub signature: String,
}

impl RequestAuth {
    /// The headers to send, as (name, value) pairs.
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            (HEADER_DEVICE, self.signer.clone()),
            (HEADER_TIMESTAMP, self.timestamp.0.to_string()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }

    /// Reads the headers back; `get` looks a header up by its lowercase name.
    pub fn from_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<RequestAuth> {
        let header = |name: &'static str| {
            get(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or(Error::Unauthenticated(name))
        };
        let timestamp = header(HEADER_TIMESTAMP)?
            .parse::<i64>()
            .map_err(|_| Error::Unauthenticated(HEADER_TIMESTAMP))?;
        Ok(RequestAuth {
            signer: header(HEADER_DEVICE)?.to_ascii_lowercase(),
            timestamp: Timestamp(timestamp),
            signature: header(HEADER_SIGNATURE)?.to_owned(),
        })
    }
}

fn canonical(
    method: &str,
    path_and_query: &str,
    body: &[u8],
    timestamp: Timestamp,
    signer: &str,
) -> Vec<u8> {
    format!(
        "kring-request-v1\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path_and_query,
        blake3::hash(body).to_hex(),
        timestamp.0,
        signer
    )
    .into_bytes()
}

/// Signs a request at `now`.
pub fn sign_request(
    signer: &dyn RequestSigner,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now: Timestamp,
) -> RequestAuth {
    let id = signer.signer_id();
    let signature = signer.sign_bytes(DOMAIN, &canonical(method, path_and_query, body, now, &id));
    RequestAuth {
        signer: id,
        timestamp: now,
        signature: B64.encode(signature.to_bytes()),
    }
}

/// Checks a request's signature with `key` (which the caller trusts for
/// `auth.signer`) and that its timestamp is within [`MAX_CLOCK_SKEW_MS`] of `now`.
pub fn verify_request(
    auth: &RequestAuth,
    key: &VerifyingKey,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now: Timestamp,
) -> Result<()> {
    let skew = auth.timestamp.0.saturating_sub(now.0);
    if skew.saturating_abs() > MAX_CLOCK_SKEW_MS {
        return Err(Error::StaleRequest { skew_ms: skew });
    }
    if hex::encode(key.as_bytes()) != auth.signer {
        return Err(Error::BadSignature("request"));
    }
    let bytes: [u8; 64] = B64
        .decode(&auth.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::BadSignature("request"))?;
    let signature = Signature::from_bytes(&bytes);
    let message = canonical(method, path_and_query, body, auth.timestamp, &auth.signer);
    wire::verify("request", key, DOMAIN, &message, &signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_780_000_000_000);

    fn signed(device: &DeviceIdentity) -> RequestAuth {
        sign_request(
            device,
            "POST",
            "/v1/circles/abc/envelopes",
            b"{\"envelopes\":[]}",
            NOW,
        )
    }

    fn check(
        auth: &RequestAuth,
        device: &DeviceIdentity,
        path: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<()> {
        let key = device.id().verifying_key()?;
        verify_request(auth, &key, "POST", path, body, now)
    }

    #[test]
    fn a_signed_request_verifies_within_the_clock_window() {
        let device = DeviceIdentity::generate();
        let auth = signed(&device);
        let path = "/v1/circles/abc/envelopes";
        let body = b"{\"envelopes\":[]}";
        check(&auth, &device, path, body, NOW).expect("valid");
        check(
            &auth,
            &device,
            path,
            body,
            NOW.plus_millis(MAX_CLOCK_SKEW_MS),
        )
        .expect("edge of window");
        let err = check(
            &auth,
            &device,
            path,
            body,
            NOW.plus_millis(MAX_CLOCK_SKEW_MS + 1),
        )
        .expect_err("too old");
        assert!(matches!(err, Error::StaleRequest { .. }), "{err:?}");
    }

    #[test]
    fn extreme_timestamps_are_stale_not_a_panic() {
        let device = DeviceIdentity::generate();
        let path = "/v1/circles/abc/envelopes";
        let body = b"{\"envelopes\":[]}";
        for at in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let auth = sign_request(&device, "POST", path, body, Timestamp(at));
            let err = check(&auth, &device, path, body, NOW).expect_err("stale");
            assert!(matches!(err, Error::StaleRequest { .. }), "{err:?}");
        }
    }

    #[test]
    fn any_change_to_the_request_breaks_the_signature() {
        let device = DeviceIdentity::generate();
        let auth = signed(&device);
        let body = b"{\"envelopes\":[]}";
        for (path, body) in [
            ("/v1/circles/abd/envelopes", &body[..]),
            ("/v1/circles/abc/envelopes", b"{}"),
        ] {
            let err = check(&auth, &device, path, body, NOW).expect_err("tampered");
            assert!(matches!(err, Error::BadSignature(_)), "{err:?}");
        }
        let other = DeviceIdentity::generate();
        let err =
            check(&auth, &other, "/v1/circles/abc/envelopes", body, NOW).expect_err("other key");
        assert!(matches!(err, Error::BadSignature(_)), "{err:?}");
        let mut later = auth.clone();
        later.timestamp = NOW.plus_millis(1);
        let err =
            check(&later, &device, "/v1/circles/abc/envelopes", body, NOW).expect_err("retimed");
        assert!(matches!(err, Error::BadSignature(_)), "{err:?}");
    }

    #[test]
    fn headers_round_trip_and_missing_ones_are_named() {
        let device = DeviceIdentity::generate();
        let auth = signed(&device);
        let headers = auth.headers();
        let parsed = RequestAuth::from_headers(|name| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        })
        .expect("parse");
        assert_eq!(parsed, auth);
        let err = RequestAuth::from_headers(|name| (name != HEADER_SIGNATURE).then_some("1"))
            .expect_err("missing");
        assert!(
            matches!(err, Error::Unauthenticated(HEADER_SIGNATURE)),
            "{err:?}"
        );
    }
}
