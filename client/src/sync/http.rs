//! The relay's HTTP API (`docs/relay-api.md`): a thin edge that signs requests, hands
//! them to a [`Transport`] (reqwest by default), and turns answers into [`protocol`]
//! types or typed [`Error`]s. It decides nothing; the sync engine does
//! (`super::engine`).
//!
//! TLS is rustls with the *ring* provider and the Mozilla root certificates
//! (webpki-roots): no OpenSSL and no platform verifier, so Linux, Android and iOS run
//! the same code. Plain `http://` is accepted too (a relay on loopback, tests, demos).

use kring_trust::Error as TrustError;
use std::sync::{Arc, Mutex};

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use http::Method;
use reqwest::Url;
use serde::de::DeserializeOwned;

use kring_trust::protocol::{
    self, AppendEntry, Base64, CreateCircle, ErrorBody, LogHead, MembershipEntries, Pulled,
    PushEnvelopes, PushRegistration, PushSubscription, Pushed, SnapshotStored, VapidKey,
    HEADER_ADMISSION,
};
use kring_trust::request_auth::{sign_request, RequestSigner, HEADER_INVITE};

/// Environment variable holding an admission credential, sent when creating a circle.
pub const ADMISSION_ENV: &str = "KRING_ADMISSION";
use crate::{Error, Result};
use kring_plan::plan::CircleId;
use kring_trust::identity::{DeviceId, DeviceIdentity};
use kring_trust::invite::{InviteToken, MAX_RELAY_URL_LEN};
use kring_trust::time::Timestamp;

use super::transport::{HttpTransport, Transport};

const JSON: &str = "application/json";

/// The wall clock as the sync client reads it (request timestamps must be within
/// five minutes of the relay's clock). Injected so tests can move it.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

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

    fn device(&self) -> Option<DeviceId> {
        match self {
            Signer::Device(d) => Some(d.id()),
            Signer::Invite(_) => None,
        }
    }
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

/// The rustls configuration shared by HTTP and the live WebSocket.
pub(crate) fn tls_config() -> Result<rustls::ClientConfig> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::Network(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// How a device reaches its relays: the clock its requests are signed with and the
/// transport that carries them (shared by all its relays).
#[derive(Clone)]
pub struct RelayAccess {
    pub clock: Clock,
    pub transport: Arc<dyn Transport>,
    /// When to start from and make snapshots.
    pub snapshots: crate::snapshot::SnapshotPolicy,
}

impl RelayAccess {
    /// The system clock over HTTP.
    pub fn new() -> Result<Self> {
        Ok(Self {
            clock: system_clock(),
            transport: HttpTransport::shared()?,
            snapshots: crate::snapshot::SnapshotPolicy::default(),
        })
    }

    /// A client for the relay at `relay_url`.
    pub fn client(&self, relay_url: &str) -> Result<RelayClient> {
        RelayClient::with_transport(relay_url, self.clock.clone(), Arc::clone(&self.transport))
    }
}

/// A client for one relay.
pub struct RelayClient {
    base: String,
    transport: Arc<dyn Transport>,
    clock: Clock,
    /// The last request timestamp used: each request gets a later one, so two
    /// identical requests never carry the same signature (the relay refuses replays).
    last_timestamp: Mutex<i64>,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl RelayClient {
    /// A client over its own HTTP transport.
    pub fn new(relay_url: &str, clock: Clock) -> Result<Self> {
        Self::with_transport(relay_url, clock, HttpTransport::shared()?)
    }

    pub fn with_transport(
        relay_url: &str,
        clock: Clock,
        transport: Arc<dyn Transport>,
    ) -> Result<Self> {
        Ok(Self {
            base: normalize_relay_url(relay_url)?,
            transport,
            clock,
            last_timestamp: Mutex::new(i64::MIN),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub(crate) fn next_timestamp(&self) -> Timestamp {
        let now = (self.clock)().0;
        let mut last = self
            .last_timestamp
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let t = now.max(last.saturating_add(1));
        *last = t;
        Timestamp(t)
    }

    /// `base + path`, and the path-and-query exactly as it goes on the wire (what
    /// the signature covers).
    pub(crate) fn url(&self, path_and_query: &str) -> Result<(Url, String)> {
        let url = Url::parse(&format!("{}{path_and_query}", self.base)).map_err(|e| {
            Error::Trust(TrustError::InvalidValue {
                field: "relay URL",
                value: self.base.clone(),
                expected: e.to_string(),
            })
        })?;
        let signed = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        Ok((url, signed))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        signer: Signer<'_>,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        circle: Option<&CircleId>,
    ) -> Result<T> {
        let (status, bytes) = self
            .exchange(signer, method, path_and_query, body, circle, JSON)
            .await?;
        json_answer(status, &bytes)
    }

    /// One signed request; the status and body of a success, the relay's refusal as
    /// a typed error otherwise.
    async fn exchange(
        &self,
        signer: Signer<'_>,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        circle: Option<&CircleId>,
        content_type: &str,
    ) -> Result<(u16, Vec<u8>)> {
        let (url, signed_path) = self.url(path_and_query)?;
        let body = body.unwrap_or_default();
        let auth = sign_request(
            signer.signer(),
            method.as_str(),
            &signed_path,
            &body,
            self.next_timestamp(),
        );
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(url.as_str());
        for (name, value) in auth.headers() {
            request = request.header(name, value);
        }
        if let Signer::Invite(token) = signer {
            request = request.header(HEADER_INVITE, B64.encode(token.invite().as_bytes()));
        }
        // A relay in `credential` mode lets only holders of an admission credential
        // found circles (docs/relay.md, "Admission"). Until the apps carry one, a
        // coordinator's device gets it from the environment.
        if method == Method::POST && path_and_query == "/v1/circles" {
            if let Some(credential) = std::env::var(ADMISSION_ENV)
                .ok()
                .filter(|c| !c.trim().is_empty())
            {
                request = request.header(HEADER_ADMISSION, credential.trim());
            }
        }
        let body = if method == Method::GET {
            Vec::new()
        } else {
            request = request.header(http::header::CONTENT_TYPE, content_type);
            body
        };
        let request = request.body(body).map_err(|e| {
            Error::Trust(TrustError::InvalidValue {
                field: "request",
                value: path_and_query.to_owned(),
                expected: e.to_string(),
            })
        })?;
        let response = self.transport.send(request).await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response.into_body();
        if (200..300).contains(&status) {
            return Ok((status, bytes));
        }
        let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
        Err(protocol::refusal(status, body, retry_after, signer.device(), circle).into())
    }

    /// `POST /v1/circles`: registers a circle by its genesis entry.
    pub async fn create_circle(&self, device: &DeviceIdentity, genesis: &[u8]) -> Result<LogHead> {
        let body = serde_json::to_vec(&CreateCircle {
            genesis: Base64(genesis.to_vec()),
        })
        .map_err(json_error)?;
        let created: protocol::CircleCreated = self
            .call(
                Signer::Device(device),
                Method::POST,
                "/v1/circles",
                Some(body),
                None,
            )
            .await?;
        Ok(created.head)
    }

    /// `POST /v1/circles/{circle}/close`, signed by an owner device: the relay deletes
    /// the circle's envelopes and log and answers `circle_closed` from then on.
    pub async fn close_circle(&self, device: &DeviceIdentity, circle: &CircleId) -> Result<()> {
        let _: serde_json::Value = self
            .call(
                Signer::Device(device),
                Method::POST,
                &format!("/v1/circles/{circle}/close"),
                Some(Vec::new()),
                Some(circle),
            )
            .await?;
        Ok(())
    }

    /// `GET /v1/circles/{circle}/membership?after=N`.
    pub async fn membership(
        &self,
        signer: Signer<'_>,
        circle: &CircleId,
        after: u64,
    ) -> Result<MembershipEntries> {
        self.call(
            signer,
            Method::GET,
            &format!("/v1/circles/{circle}/membership?after={after}"),
            None,
            Some(circle),
        )
        .await
    }

    /// `POST /v1/circles/{circle}/membership`: append by compare-and-swap.
    pub async fn append(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
        entry: &[u8],
    ) -> Result<LogHead> {
        let body = serde_json::to_vec(&AppendEntry {
            entry: Base64(entry.to_vec()),
        })
        .map_err(json_error)?;
        self.call(
            Signer::Device(device),
            Method::POST,
            &format!("/v1/circles/{circle}/membership"),
            Some(body),
            Some(circle),
        )
        .await
    }

    /// `POST /v1/circles/{circle}/envelopes`.
    pub async fn push(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
        envelopes: &[&[u8]],
    ) -> Result<Pushed> {
        let body = serde_json::to_vec(&PushEnvelopes {
            envelopes: envelopes.iter().map(|e| Base64(e.to_vec())).collect(),
        })
        .map_err(json_error)?;
        self.call(
            Signer::Device(device),
            Method::POST,
            &format!("/v1/circles/{circle}/envelopes"),
            Some(body),
            Some(circle),
        )
        .await
    }

    /// `GET /v1/circles/{circle}/envelopes?after=C&limit=L`.
    pub async fn pull(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
        after: u64,
        limit: u32,
    ) -> Result<Pulled> {
        self.call(
            Signer::Device(device),
            Method::GET,
            &format!("/v1/circles/{circle}/envelopes?after={after}&limit={limit}"),
            None,
            Some(circle),
        )
        .await
    }
}

/// A success's body as `T`.
fn json_answer<T: DeserializeOwned>(status: u16, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::Trust(TrustError::Relay {
            status,
            code: "bad_response".into(),
            message: format!("unreadable answer: {e}"),
        })
    })
}

impl RelayClient {
    /// `PUT /v1/circles/{circle}/snapshot`: uploads a snapshot this device made.
    pub async fn put_snapshot(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
        snapshot: Vec<u8>,
    ) -> Result<SnapshotStored> {
        let (status, bytes) = self
            .exchange(
                Signer::Device(device),
                Method::PUT,
                &format!("/v1/circles/{circle}/snapshot"),
                Some(snapshot),
                Some(circle),
                "application/octet-stream",
            )
            .await?;
        json_answer(status, &bytes)
    }

    /// `GET /v1/circles/{circle}/snapshot`: the newest snapshot, unverified; `None`
    /// when the relay has none.
    pub async fn snapshot(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
    ) -> Result<Option<Vec<u8>>> {
        let answer = self
            .exchange(
                Signer::Device(device),
                Method::GET,
                &format!("/v1/circles/{circle}/snapshot"),
                None,
                Some(circle),
                JSON,
            )
            .await;
        match answer {
            Ok((_, bytes)) => Ok(Some(bytes)),
            Err(Error::Trust(TrustError::NotFound(_))) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /v1/circles/{circle}/push`: the relay wakes this device with a
    /// content-free Web Push when others store something in the circle (replaces the
    /// device's earlier subscription for the circle).
    pub async fn register_push(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
        subscription: &PushSubscription,
    ) -> Result<PushRegistration> {
        let body = serde_json::to_vec(subscription).map_err(json_error)?;
        self.call(
            Signer::Device(device),
            Method::PUT,
            &format!("/v1/circles/{circle}/push"),
            Some(body),
            Some(circle),
        )
        .await
    }

    /// `DELETE /v1/circles/{circle}/push`: no more wake-ups for this device in the
    /// circle (succeeds when there was no subscription, too).
    pub async fn unregister_push(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
    ) -> Result<PushRegistration> {
        self.call(
            Signer::Device(device),
            Method::DELETE,
            &format!("/v1/circles/{circle}/push"),
            Some(Vec::new()),
            Some(circle),
        )
        .await
    }

    /// `GET /v1/push/vapid`: the key a device subscribes with (`applicationServerKey`).
    pub async fn vapid_key(&self, device: &DeviceIdentity) -> Result<VapidKey> {
        self.call(
            Signer::Device(device),
            Method::GET,
            "/v1/push/vapid",
            None,
            None,
        )
        .await
    }
}

fn json_error(e: serde_json::Error) -> Error {
    Error::Trust(TrustError::Malformed {
        what: "request",
        detail: e.to_string(),
    })
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
        let client = RelayClient::new("http://127.0.0.1:9/prefix/", system_clock()).unwrap();
        let (url, signed) = client
            .url("/v1/circles/ab/envelopes?after=3&limit=500")
            .unwrap();
        assert_eq!(signed, "/prefix/v1/circles/ab/envelopes?after=3&limit=500");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/prefix/v1/circles/ab/envelopes?after=3&limit=500"
        );
    }

    #[test]
    fn request_timestamps_strictly_increase() {
        let client = RelayClient::new("http://127.0.0.1:9", Arc::new(|| Timestamp(1000))).unwrap();
        let a = client.next_timestamp();
        let b = client.next_timestamp();
        assert_eq!((a.0, b.0), (1000, 1001));
    }
}
