//! The relay's HTTP API (`docs/relay-api.md`) as data: each operation is a [`Call`]
//! (method, path, body, which circle it is about); [`Call::signed`] turns it into the
//! exact request that goes on the wire, signed by a device or an invite; [`Call::answer`]
//! turns the relay's status and body back into the success body or the typed refusal
//! (`kring_trust::protocol::refusal`). Carrying the bytes is the caller's: reqwest on
//! a phone or a laptop (`kring_client::sync::http`), `fetch` in the browser
//! (`kring-web`). One implementation of paths, signatures and error bodies, so the
//! two cannot drift.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use http::Method;
use serde::de::DeserializeOwned;
use url::Url;

use kring_plan::plan::CircleId;
use kring_trust::identity::{DeviceId, DeviceIdentity};
use kring_trust::invite::{InviteToken, MAX_RELAY_URL_LEN};
use kring_trust::protocol::{self, AppendEntry, Base64, CreateCircle, ErrorBody, PushEnvelopes};
use kring_trust::request_auth::{sign_request, RequestSigner, HEADER_INVITE};
use kring_trust::time::Timestamp;
use kring_trust::Error as TrustError;

use crate::{Error, Result};

/// A request as it goes on the wire: method, absolute URL, signed headers, body.
pub type Request = http::Request<Vec<u8>>;

const JSON: &str = "application/json";
const OCTETS: &str = "application/octet-stream";

/// Who signs a request.
#[derive(Clone, Copy)]
pub enum Signer<'a> {
    Device(&'a DeviceIdentity),
    /// While joining: the invite key, with the invite in `x-kring-invite`.
    Invite(&'a InviteToken),
}

impl Signer<'_> {
    fn signer(&self) -> &dyn RequestSigner {
        match self {
            Signer::Device(d) => *d,
            Signer::Invite(i) => *i,
        }
    }

    /// The device a refusal is about (`removed`, `read_only`).
    pub fn device(&self) -> Option<DeviceId> {
        match self {
            Signer::Device(d) => Some(d.id()),
            Signer::Invite(_) => None,
        }
    }
}

/// One relay operation, before it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub method: Method,
    /// Below the relay's base URL, with the query (`/v1/circles/…?after=3`).
    pub path_and_query: String,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// The circle it is about, for the refusal (`circle_closed`, `unknown_circle`).
    pub circle: Option<CircleId>,
}

impl Call {
    fn new(method: Method, path_and_query: String, circle: Option<&CircleId>) -> Self {
        Self {
            method,
            path_and_query,
            body: Vec::new(),
            content_type: JSON,
            circle: circle.cloned(),
        }
    }

    fn with_json(mut self, body: &impl serde::Serialize) -> Result<Self> {
        self.body = serde_json::to_vec(body).map_err(|e| {
            Error::Trust(TrustError::Malformed {
                what: "request",
                detail: e.to_string(),
            })
        })?;
        Ok(self)
    }

    /// `POST /v1/circles`: registers a circle by its genesis entry.
    pub fn create_circle(genesis: &[u8]) -> Result<Self> {
        Self::new(Method::POST, "/v1/circles".into(), None).with_json(&CreateCircle {
            genesis: Base64(genesis.to_vec()),
        })
    }

    /// `POST /v1/circles/{circle}/close`, by an owner device.
    pub fn close_circle(circle: &CircleId) -> Self {
        Self::new(
            Method::POST,
            format!("/v1/circles/{circle}/close"),
            Some(circle),
        )
    }

    /// `GET /v1/circles/{circle}/membership?after=N`.
    pub fn membership(circle: &CircleId, after: u64) -> Self {
        Self::new(
            Method::GET,
            format!("/v1/circles/{circle}/membership?after={after}"),
            Some(circle),
        )
    }

    /// `POST /v1/circles/{circle}/membership`: append by compare-and-swap.
    pub fn append(circle: &CircleId, entry: &[u8]) -> Result<Self> {
        Self::new(
            Method::POST,
            format!("/v1/circles/{circle}/membership"),
            Some(circle),
        )
        .with_json(&AppendEntry {
            entry: Base64(entry.to_vec()),
        })
    }

    /// `POST /v1/circles/{circle}/envelopes`.
    pub fn push<'e>(
        circle: &CircleId,
        envelopes: impl IntoIterator<Item = &'e [u8]>,
    ) -> Result<Self> {
        Self::new(
            Method::POST,
            format!("/v1/circles/{circle}/envelopes"),
            Some(circle),
        )
        .with_json(&PushEnvelopes {
            envelopes: envelopes.into_iter().map(|e| Base64(e.to_vec())).collect(),
        })
    }

    /// `GET /v1/circles/{circle}/envelopes?after=C&limit=L`.
    pub fn pull(circle: &CircleId, after: u64, limit: u32) -> Self {
        Self::new(
            Method::GET,
            format!("/v1/circles/{circle}/envelopes?after={after}&limit={limit}"),
            Some(circle),
        )
    }

    /// `PUT /v1/circles/{circle}/snapshot`: raw bytes.
    pub fn put_snapshot(circle: &CircleId, snapshot: Vec<u8>) -> Self {
        let mut call = Self::new(
            Method::PUT,
            format!("/v1/circles/{circle}/snapshot"),
            Some(circle),
        );
        call.body = snapshot;
        call.content_type = OCTETS;
        call
    }

    /// `GET /v1/circles/{circle}/snapshot`.
    pub fn snapshot(circle: &CircleId) -> Self {
        Self::new(
            Method::GET,
            format!("/v1/circles/{circle}/snapshot"),
            Some(circle),
        )
    }

    /// `PUT /v1/circles/{circle}/push`: this device's Web Push subscription.
    pub fn register_push(
        circle: &CircleId,
        subscription: &protocol::PushSubscription,
    ) -> Result<Self> {
        Self::new(
            Method::PUT,
            format!("/v1/circles/{circle}/push"),
            Some(circle),
        )
        .with_json(subscription)
    }

    /// `DELETE /v1/circles/{circle}/push`.
    pub fn unregister_push(circle: &CircleId) -> Self {
        Self::new(
            Method::DELETE,
            format!("/v1/circles/{circle}/push"),
            Some(circle),
        )
    }

    /// `GET /v1/push/vapid`: the key a device subscribes with.
    pub fn vapid_key() -> Self {
        Self::new(Method::GET, "/v1/push/vapid".into(), None)
    }

    /// The request for the relay at `base` (normalised, see [`normalize_relay_url`]),
    /// signed by `signer` at `timestamp` (each request of a device needs a later one:
    /// the relay refuses replays).
    pub fn signed(&self, base: &str, signer: Signer<'_>, timestamp: Timestamp) -> Result<Request> {
        let (url, signed_path) = url(base, &self.path_and_query)?;
        let auth = sign_request(
            signer.signer(),
            self.method.as_str(),
            &signed_path,
            &self.body,
            timestamp,
        );
        let mut request = http::Request::builder()
            .method(self.method.clone())
            .uri(url.as_str());
        for (name, value) in auth.headers() {
            request = request.header(name, value);
        }
        if let Signer::Invite(token) = signer {
            request = request.header(HEADER_INVITE, B64.encode(token.invite().as_bytes()));
        }
        let body = if self.method == Method::GET {
            Vec::new()
        } else {
            request = request.header(http::header::CONTENT_TYPE, self.content_type);
            self.body.clone()
        };
        request.body(body).map_err(|e| {
            Error::Trust(TrustError::InvalidValue {
                field: "request",
                value: self.path_and_query.clone(),
                expected: e.to_string(),
            })
        })
    }

    /// The relay's answer to this call: the body of a success, the refusal as the
    /// typed error it stands for otherwise.
    pub fn answer(
        &self,
        signer: Option<DeviceId>,
        status: u16,
        retry_after: Option<u64>,
        body: Vec<u8>,
    ) -> Result<Vec<u8>> {
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let error: Option<ErrorBody> = serde_json::from_slice(&body).ok();
        Err(protocol::refusal(status, error, retry_after, signer, self.circle.as_ref()).into())
    }
}

/// A success's body as `T`.
pub fn json_answer<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::Trust(TrustError::Relay {
            status: 200,
            code: "bad_response".into(),
            message: format!("unreadable answer: {e}"),
        })
    })
}

/// Checks and normalises a relay URL: `http` or `https`, a host, no query or
/// fragment, no trailing slash.
pub fn normalize_relay_url(url: &str) -> Result<String> {
    let invalid = |why: &str| {
        Error::Trust(TrustError::InvalidValue {
            field: "relay URL",
            value: url.to_owned(),
            expected: format!("an http:// or https:// URL ({why})"),
        })
    };
    let trimmed = url.trim();
    if trimmed.len() > MAX_RELAY_URL_LEN {
        return Err(invalid("too long"));
    }
    let parsed = Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("unsupported scheme"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("no query or fragment"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// `base + path`, and the path-and-query exactly as it goes on the wire (what the
/// signature covers).
pub fn url(base: &str, path_and_query: &str) -> Result<(Url, String)> {
    let url = Url::parse(&format!("{base}{path_and_query}")).map_err(|e| {
        Error::Trust(TrustError::InvalidValue {
            field: "relay URL",
            value: base.to_owned(),
            expected: e.to_string(),
        })
    })?;
    let signed = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    Ok((url, signed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_are_checked_and_normalised() {
        assert_eq!(
            normalize_relay_url(" https://relay.example/kring/ ").unwrap(),
            "https://relay.example/kring"
        );
        assert_eq!(
            normalize_relay_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in ["", "relay.example", "ftp://x", "https://x/?a=1", "http://"] {
            assert!(normalize_relay_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_signed_path_is_what_goes_on_the_wire() {
        let (url, signed) = url(
            "http://127.0.0.1:9/prefix",
            "/v1/circles/ab/envelopes?after=3&limit=500",
        )
        .unwrap();
        assert_eq!(signed, "/prefix/v1/circles/ab/envelopes?after=3&limit=500");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/prefix/v1/circles/ab/envelopes?after=3&limit=500"
        );
    }

    #[test]
    fn a_refusal_becomes_the_typed_error_it_stands_for() {
        let circle = CircleId::random();
        let call = Call::pull(&circle, 0, 10);
        let body = br#"{"error":{"code":"circle_closed","message":"closed"}}"#.to_vec();
        let err = call.answer(None, 410, None, body).unwrap_err();
        assert!(
            matches!(err, Error::Trust(TrustError::CircleClosed(ref c)) if *c == circle.to_string()),
            "{err:?}"
        );
        let busy = call.answer(None, 429, Some(7), Vec::new()).unwrap_err();
        assert!(matches!(
            busy,
            Error::Trust(TrustError::RateLimited {
                retry_after_secs: 7
            })
        ));
        assert_eq!(call.answer(None, 200, None, b"ok".to_vec()).unwrap(), b"ok");
    }

    #[test]
    fn a_get_carries_no_body_and_a_post_says_what_it_carries() {
        let device = DeviceIdentity::generate();
        let circle = CircleId::random();
        let get = Call::membership(&circle, 2)
            .signed("http://relay.test", Signer::Device(&device), Timestamp(5))
            .unwrap();
        assert!(get.body().is_empty());
        assert!(get.headers().get(http::header::CONTENT_TYPE).is_none());
        let post = Call::push(&circle, [&b"x"[..]])
            .unwrap()
            .signed("http://relay.test", Signer::Device(&device), Timestamp(6))
            .unwrap();
        assert_eq!(post.headers()[http::header::CONTENT_TYPE], JSON);
        assert!(!post.body().is_empty());
    }
}
