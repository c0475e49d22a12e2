//! Signed requests: reading them, checking them with `kring_trust::request_auth`,
//! refusing replays, and the authorisation helpers every endpoint uses.
//!
//! Device ids are ed25519 verifying keys, so a signature can be checked for any
//! signer; who the signer *is* in a circle (active, removed, reader) is then read from
//! the circle's `MembershipState`, the same type and the same queries clients use.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{header, HeaderMap, Method};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use kring_trust::identity::DeviceId;
use kring_trust::invite::SignedInvite;
use kring_trust::membership::{Capability, MembershipState};
use kring_trust::request_auth::{
    verify_request, RequestAuth, HEADER_DEVICE, HEADER_INVITE, MAX_CLOCK_SKEW_MS,
};
use kring_trust::{Error, Result, Timestamp};
use serde::de::DeserializeOwned;

use crate::conn::{Deadlines, Peer};
use crate::error::ApiError;
use crate::limits::{AddrKey, Share};
use crate::Relay;

/// A request as it was signed: method, path and query exactly as sent, headers and the
/// whole body (read up to the configured limit and deadline).
///
/// Extracting one makes the cheap checks first, on the headers alone, so a request
/// that would be refused anyway costs no body read: the authentication headers must be
/// present and readable, the timestamp inside the clock window, the signer's rate
/// bucket not empty and the declared length within the limit. Then the body's length
/// (declared, or the route's limit when it is not) is reserved against the relay's
/// body budget ([`Relay::body_budget`]), and held until the request is dropped, so
/// bodies being received or handled never hold more memory than the budget, however
/// many forged-header requests send them slowly. Only then is the body read, against
/// a deadline.
pub struct SignedRequest {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The address limits are kept for (absent for requests not from a socket).
    pub peer: Option<AddrKey>,
    /// The connection's deadline for handing over the answer (absent in-process).
    pub deadlines: Option<Deadlines>,
    /// This body's part of the body budget.
    _budget: Option<Share<Option<AddrKey>>>,
}

impl SignedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn query(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or("", |(_, query)| query)
    }

    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::BadRequest(format!("request body: {e}")))
    }
}

impl FromRequest<Relay> for SignedRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, relay: &Relay) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |original| &original.0);
        let path_and_query = uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let peer = parts.extensions.get::<Peer>().map(Peer::key);
        precheck(relay, &parts.headers)?;
        let limit = body_limit(&parts.method, uri.path(), relay.config().max_body_bytes);
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(len) = declared.filter(|len| *len > limit as u64) {
            return Err(too_large(usize::try_from(len).unwrap_or(usize::MAX), limit).into());
        }
        // Without a length or chunked encoding an HTTP/1.1 request has no body.
        let chunked = parts.headers.contains_key(header::TRANSFER_ENCODING);
        let reserved = match declared {
            Some(len) => usize::try_from(len).unwrap_or(limit).min(limit),
            None if chunked => limit,
            None => 0,
        };
        let budget = match reserved {
            0 => None,
            bytes => Some(relay.body_budget(peer, bytes)?),
        };
        let deadline = Duration::from_secs(relay.config().body_timeout_secs.max(1));
        let body = match tokio::time::timeout(deadline, read_body(body, limit)).await {
            Ok(body) => body?,
            Err(_) => {
                relay.metrics().body_timeouts.inc();
                return Err(Error::Timeout("the request body did not arrive in time").into());
            }
        };
        Ok(SignedRequest {
            method: parts.method,
            path_and_query,
            headers: parts.headers,
            body,
            peer,
            deadlines: parts.extensions.get::<Deadlines>().cloned(),
            _budget: budget,
        })
    }
}

/// The largest body a route takes: only pushes carry envelopes and only a snapshot
/// upload a whole plan; a circle's creation
/// carries one small genesis entry, an append one entry, a close nothing.
fn body_limit(method: &Method, path: &str, max: usize) -> usize {
    use kring_trust::protocol::{MAX_GENESIS_BYTES, MAX_RELAY_ENTRY_BYTES};
    // base64 (4/3) and the JSON around it.
    let entry_body = |bytes: usize| bytes / 3 * 4 + 256;
    if method == Method::PUT && path.ends_with("/push") {
        return PUSH_SUBSCRIPTION_BODY.min(max);
    }
    // Raw bytes, no base64: a busy circle's whole plan (within the operator's bound).
    if method == Method::PUT && path.ends_with("/snapshot") {
        return kring_trust::snapshot::MAX_SNAPSHOT_BYTES.min(max);
    }
    if method != Method::POST {
        return 1024.min(max);
    }
    let limit = if path == "/v1/circles" {
        entry_body(MAX_GENESIS_BYTES)
    } else if path.ends_with("/membership") {
        entry_body(MAX_RELAY_ENTRY_BYTES)
    } else if path.ends_with("/close") {
        1024
    } else {
        max
    };
    limit.min(max)
}

/// A push subscription: the endpoint (at most 1 KiB) and two base64url keys in JSON.
const PUSH_SUBSCRIPTION_BODY: usize = 2048;

/// The checks that need only the headers (see [`SignedRequest`]). The signature itself
/// covers the body, so it is checked later, by [`Relay::authenticate`].
fn precheck(relay: &Relay, headers: &HeaderMap) -> Result<()> {
    let auth = RequestAuth::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))?;
    let id = DeviceId::parse(&auth.signer).map_err(|_| Error::Unauthenticated(HEADER_DEVICE))?;
    let skew = auth.timestamp.0.saturating_sub(Timestamp::now().0);
    if skew.saturating_abs() > MAX_CLOCK_SKEW_MS {
        return Err(Error::StaleRequest { skew_ms: skew });
    }
    relay
        .inner
        .rate
        .peek(id.as_bytes(), std::time::Instant::now())
}

fn too_large(len: usize, max: usize) -> Error {
    Error::Oversized {
        what: "request body",
        len,
        max,
    }
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(too_large(limit.saturating_add(1), limit))
        }
        Err(e) => Err(Error::BadRequest(format!("cannot read the body: {e}"))),
    }
}

/// Who signed a request: a device, or (while joining) an invite key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signer(pub DeviceId);

impl Relay {
    /// Checks the request's signature with the key its signer id names (taken from
    /// `known`, where it is already decompressed, if the signer is a device there),
    /// then refuses replays and applies the signer's rate limit. A device of `known`
    /// that authenticates is remembered for its address ([`crate::limits::Vouched`]):
    /// another signer's failures there do not lock it out.
    pub fn authenticate(
        &self,
        req: &SignedRequest,
        known: Option<&MembershipState>,
    ) -> Result<Signer> {
        let auth = RequestAuth::from_headers(|name| req.header(name))?;
        let id =
            DeviceId::parse(&auth.signer).map_err(|_| Error::Unauthenticated(HEADER_DEVICE))?;
        let record = known.and_then(|state| state.device(&id));
        let key = match record {
            Some(record) => *record.verifying_key(),
            None => id
                .verifying_key()
                .map_err(|_| Error::BadSignature("request"))?,
        };
        let now = Timestamp::now();
        verify_request(
            &auth,
            &key,
            req.method.as_str(),
            &req.path_and_query,
            &req.body,
            now,
        )?;
        self.inner.replay.check_and_remember(&auth, now)?;
        let now = std::time::Instant::now();
        self.inner.rate.check(id.as_bytes(), now)?;
        if let (Some(peer), Some(_)) = (req.peer, record) {
            self.inner.vouched.note(peer, *id.as_bytes(), now);
        }
        Ok(Signer(id))
    }

    /// For membership reads: a device of the circle, or the holder of a valid unredeemed
    /// invite (header `x-kring-invite`, request signed with the invite key).
    pub fn authenticate_reader(
        &self,
        req: &SignedRequest,
        state: &MembershipState,
    ) -> Result<Signer> {
        let Some(invite) = req.header(HEADER_INVITE) else {
            let signer = self.authenticate(req, Some(state))?;
            require_active(state, &signer.0)?;
            return Ok(signer);
        };
        let bytes = B64
            .decode(invite.trim())
            .map_err(|_| Error::Unauthenticated(HEADER_INVITE))?;
        let invite = SignedInvite::from_bytes(&bytes)?;
        let signer = self.authenticate(req, None)?;
        if invite.id().as_bytes() != signer.0.as_bytes() {
            return Err(Error::BadSignature(
                "request (not signed with the invite key)",
            ));
        }
        // Used, expired and revoked invites each get their own code.
        kring_trust::invite::check_usable(state, &invite, Timestamp::now())?;
        Ok(signer)
    }
}

/// The device's capability if it is active in the circle: `removed` for devices the log
/// removed, `not_a_member` for devices it never admitted.
pub fn require_active(state: &MembershipState, device: &DeviceId) -> Result<Capability> {
    match state.device(device) {
        None => Err(Error::UnknownDevice(*device)),
        Some(record) => record.capability().ok_or(Error::Removed(*device)),
    }
}

/// Like [`require_active`], and the device may write the plan.
pub fn require_writer(state: &MembershipState, device: &DeviceId) -> Result<()> {
    if require_active(state, device)?.can_write() {
        Ok(())
    } else {
        Err(Error::ReadOnly(*device))
    }
}

/// Signatures seen inside the clock window, bucketed by the minute of the request's
/// timestamp: a replay carries the same timestamp, so it is looked up in one bucket,
/// and a bucket is dropped once every timestamp in it is outside the window.
#[derive(Default)]
pub struct ReplayCache {
    buckets: Mutex<BTreeMap<i64, HashSet<[u8; 16]>>>,
}

const BUCKET_MS: i64 = 60_000;

impl ReplayCache {
    /// Refuses a signature seen before; remembers it otherwise. Call only after the
    /// signature verified (so nobody can fill the cache with garbage).
    pub fn check_and_remember(&self, auth: &RequestAuth, now: Timestamp) -> Result<()> {
        let key: [u8; 16] = {
            let hash = blake3::hash(auth.signature.as_bytes());
            let mut key = [0u8; 16];
            key.copy_from_slice(&hash.as_bytes()[..16]);
            key
        };
        let bucket = auth.timestamp.0.div_euclid(BUCKET_MS);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        // Oldest first: drop buckets whose newest timestamp is now out of the window.
        while let Some((&oldest, _)) = buckets.first_key_value() {
            let newest_in_bucket = oldest.saturating_add(1).saturating_mul(BUCKET_MS);
            if newest_in_bucket.saturating_add(MAX_CLOCK_SKEW_MS) < now.0 {
                buckets.pop_first();
            } else {
                break;
            }
        }
        if buckets.entry(bucket).or_default().insert(key) {
            Ok(())
        } else {
            Err(Error::Replayed)
        }
    }

    /// Signatures remembered.
    pub fn len(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(HashSet::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(ts: i64, sig: &str) -> RequestAuth {
        RequestAuth {
            signer: "00".repeat(32),
            timestamp: Timestamp(ts),
            signature: sig.to_owned(),
        }
    }

    #[test]
    fn replays_are_refused_until_the_window_has_passed() {
        let cache = ReplayCache::default();
        let t = 1_780_000_000_000;
        cache
            .check_and_remember(&auth(t, "a"), Timestamp(t))
            .expect("first");
        let err = cache
            .check_and_remember(&auth(t, "a"), Timestamp(t + 1000))
            .expect_err("replay");
        assert!(matches!(err, Error::Replayed));
        cache
            .check_and_remember(&auth(t, "b"), Timestamp(t))
            .expect("other signature");
        // Long after, the bucket is gone (the request would be stale anyway).
        let later = Timestamp(t + MAX_CLOCK_SKEW_MS + 2 * BUCKET_MS);
        cache
            .check_and_remember(&auth(later.0, "c"), later)
            .expect("new");
        assert_eq!(cache.len(), 1);
    }
}
