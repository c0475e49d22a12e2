//! The relay's HTTP API (`docs/relay-api.md`) over a [`Transport`] (reqwest by
//! default): each operation is `kring_sync::request`'s [`Call`], signed there and read
//! back there into [`protocol`] types or typed [`Error`]s; this edge only carries it
//! and keeps the request clock. It decides nothing; the sync engine does
//! (`super::engine`).
//!
//! TLS is rustls with the *ring* provider and the Mozilla root certificates
//! (webpki-roots): no OpenSSL and no platform verifier, so Linux, Android and iOS run
//! the same code. Plain `http://` is accepted too (a relay on loopback, tests, demos).

use std::sync::{Arc, Mutex};

use http::Method;
use kring_trust::Error as TrustError;
use serde::de::DeserializeOwned;

use kring_trust::protocol::{
    self, LogHead, MembershipEntries, Pulled, PushRegistration, PushSubscription, Pushed,
    SnapshotStored, VapidKey, HEADER_ADMISSION,
};

/// Environment variable holding an admission credential, sent when creating a circle.
pub const ADMISSION_ENV: &str = "KRING_ADMISSION";
use crate::{Error, Result};
use kring_plan::plan::CircleId;
use kring_sync::request::{json_answer, Call};
pub use kring_sync::request::{normalize_relay_url, Signer};
use kring_trust::identity::DeviceIdentity;
use kring_trust::time::Timestamp;

use super::transport::{HttpTransport, Transport};

/// The wall clock as the sync client reads it (request timestamps must be within
/// five minutes of the relay's clock). Injected so tests can move it.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
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
    pub(crate) fn url(&self, path_and_query: &str) -> Result<(reqwest::Url, String)> {
        Ok(kring_sync::request::url(&self.base, path_and_query)?)
    }

    /// Signs `call`, carries it and reads the answer: the body of a success, the
    /// relay's refusal as a typed error otherwise.
    async fn exchange(&self, signer: Signer<'_>, call: Call) -> Result<Vec<u8>> {
        let mut request = call.signed(&self.base, signer, self.next_timestamp())?;
        // A relay in `credential` mode lets only holders of an admission credential
        // found circles (docs/relay.md, "Admission"). Until the apps carry one, a
        // coordinator's device gets it from the environment.
        if call.method == Method::POST && call.path_and_query == "/v1/circles" {
            if let Some(credential) = std::env::var(ADMISSION_ENV)
                .ok()
                .and_then(|c| http::HeaderValue::from_str(c.trim()).ok())
                .filter(|c| !c.is_empty())
            {
                request.headers_mut().insert(HEADER_ADMISSION, credential);
            }
        }
        let response = self.transport.send(request).await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        Ok(call.answer(signer.device(), status, retry_after, response.into_body())?)
    }

    async fn call<T: DeserializeOwned>(&self, signer: Signer<'_>, call: Call) -> Result<T> {
        let bytes = self.exchange(signer, call).await?;
        Ok(json_answer(&bytes)?)
    }

    /// `POST /v1/circles`: registers a circle by its genesis entry.
    pub async fn create_circle(&self, device: &DeviceIdentity, genesis: &[u8]) -> Result<LogHead> {
        let created: protocol::CircleCreated = self
            .call(Signer::Device(device), Call::create_circle(genesis)?)
            .await?;
        Ok(created.head)
    }

    /// `POST /v1/circles/{circle}/close`, signed by an owner device: the relay deletes
    /// the circle's envelopes and log and answers `circle_closed` from then on.
    pub async fn close_circle(&self, device: &DeviceIdentity, circle: &CircleId) -> Result<()> {
        let _: serde_json::Value = self
            .call(Signer::Device(device), Call::close_circle(circle))
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
        self.call(signer, Call::membership(circle, after)).await
    }

    /// `POST /v1/circles/{circle}/membership`: append by compare-and-swap.
    pub async fn append(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
        entry: &[u8],
    ) -> Result<LogHead> {
        self.call(Signer::Device(device), Call::append(circle, entry)?)
            .await
    }

    /// `POST /v1/circles/{circle}/envelopes`.
    pub async fn push(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
        envelopes: &[&[u8]],
    ) -> Result<Pushed> {
        let call = Call::push(circle, envelopes.iter().copied())?;
        self.call(Signer::Device(device), call).await
    }

    /// `GET /v1/circles/{circle}/envelopes?after=C&limit=L`.
    pub async fn pull(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
        after: u64,
        limit: u32,
    ) -> Result<Pulled> {
        self.call(Signer::Device(device), Call::pull(circle, after, limit))
            .await
    }
}

impl RelayClient {
    /// `PUT /v1/circles/{circle}/snapshot`: uploads a snapshot this device made.
    pub async fn put_snapshot(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
        snapshot: Vec<u8>,
    ) -> Result<SnapshotStored> {
        self.call(Signer::Device(device), Call::put_snapshot(circle, snapshot))
            .await
    }

    /// `GET /v1/circles/{circle}/snapshot`: the newest snapshot, unverified; `None`
    /// when the relay has none.
    pub async fn snapshot(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
    ) -> Result<Option<Vec<u8>>> {
        match self
            .exchange(Signer::Device(device), Call::snapshot(circle))
            .await
        {
            Ok(bytes) => Ok(Some(bytes)),
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
        let call = Call::register_push(circle, subscription)?;
        self.call(Signer::Device(device), call).await
    }

    /// `DELETE /v1/circles/{circle}/push`: no more wake-ups for this device in the
    /// circle (succeeds when there was no subscription, too).
    pub async fn unregister_push(
        &self,
        device: &DeviceIdentity,
        circle: &CircleId,
    ) -> Result<PushRegistration> {
        self.call(Signer::Device(device), Call::unregister_push(circle))
            .await
    }

    /// `GET /v1/push/vapid`: the key a device subscribes with (`applicationServerKey`).
    pub async fn vapid_key(&self, device: &DeviceIdentity) -> Result<VapidKey> {
        self.call(Signer::Device(device), Call::vapid_key()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timestamps_strictly_increase() {
        let client = RelayClient::new("http://127.0.0.1:9", Arc::new(|| Timestamp(1000))).unwrap();
        let a = client.next_timestamp();
        let b = client.next_timestamp();
        assert_eq!((a.0, b.0), (1000, 1001));
    }
}
