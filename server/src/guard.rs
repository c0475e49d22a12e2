//! Checks every request passes before any handler runs, all on what has already been
//! read (the request line and headers): their size (414/431 with the JSON error
//! body), the address's request rate, the address's recent failed authentications
//! (but not for the signers that authenticated from it before: `vouched`), and a
//! deadline for the whole request (408).

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kring_trust::Error;

use crate::conn::Peer;
use crate::error::ApiError;
use crate::Relay;

/// Longest request target (path and query) the relay takes: a live subscription to
/// 64 circles is ~2.2 KB.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most bytes of headers (names and values) the relay takes; a signed request with an
/// invite is ~1.5 KB.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most headers in one request.
pub const MAX_HEADER_COUNT: usize = 64;

pub async fn guard(State(relay): State<Relay>, req: Request, next: Next) -> Response {
    let uri_len = req
        .uri()
        .path_and_query()
        .map_or(req.uri().path().len(), |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError(Error::UriTooLong {
            len: uri_len,
            max: MAX_URI_BYTES,
        })
        .into_response();
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES || req.headers().len() > MAX_HEADER_COUNT {
        return ApiError(Error::HeadersTooLarge {
            len: header_bytes,
            max: MAX_HEADER_BYTES,
        })
        .into_response();
    }
    // Only the API is rate limited per address: health checks and metrics are cheap
    // and must keep answering for monitoring while an address is being refused.
    let peer = req.extensions().get::<Peer>().map(Peer::key);
    let api = req.uri().path().starts_with("/v1/");
    if let (Some(peer), true) = (peer, api) {
        let now = Instant::now();
        if let Err(e) = relay.inner.auth_failures.peek(&peer, now) {
            if !vouched(&relay, &req, peer, now) {
                relay.metrics().refused_after_auth_failures.inc();
                return ApiError(e).into_response();
            }
        }
        if let Err(e) = relay.inner.address_rate.check(&peer, now) {
            return ApiError(e).into_response();
        }
    }
    let deadline = Duration::from_secs(relay.config().request_timeout_secs.max(1));
    let response = match tokio::time::timeout(deadline, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError(Error::Timeout("no answer within the request deadline")).into_response(),
    };
    if let (Some(peer), true) = (peer, response.status().as_u16() == 401) {
        // Only a failed authentication costs: the bucket empties after the configured
        // number of failures per minute and the address is refused until it refills.
        let _ = relay.inner.auth_failures.check(&peer, Instant::now());
    }
    response
}

/// Whether the request names a signer that authenticated from `peer` before, as a
/// device of a circle: it is then served while the address is refused for failed
/// authentications, and its signature checked as usual (a forger naming it fails
/// that check, and its failure is counted against the address like any other).
fn vouched(relay: &Relay, req: &Request, peer: crate::limits::AddrKey, now: Instant) -> bool {
    req.headers()
        .get(kring_trust::request_auth::HEADER_DEVICE)
        .and_then(|value| value.to_str().ok())
        .and_then(|id| kring_trust::identity::DeviceId::parse(id).ok())
        .is_some_and(|id| relay.inner.vouched.contains(&peer, id.as_bytes(), now))
}
