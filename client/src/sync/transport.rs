//! The transport seam under the sync session: one signed HTTP exchange with a relay.
//!
//! Everything above this seam — which requests a sync makes, how they are signed, how
//! an answer becomes a typed [`Error`](crate::Error) — is one implementation, [`super::http::RelayClient`].
//! Below it is only the carrying of bytes. Putting the seam here, rather than behind a
//! trait of relay operations, means a test double can never drift from the protocol: a
//! test runs the real client against the real relay's router in the same process
//! (`kring-tests`' `InProcessRelay`, which reuses every rule of the server) and can
//! lose, delay or fail exchanges by wrapping a transport.
//!
//! The live WebSocket (`super::live`) does not go through this seam; it is a notice
//! channel and `Device::watch` falls back to syncing over the transport.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use kring_trust::Error as TrustError;

use crate::Result;

/// A request as it goes on the wire: method, absolute URL, signed headers, body.
pub type Request = http::Request<Vec<u8>>;
/// The relay's answer: status, headers (`retry-after`) and the whole body.
pub type Response = http::Response<Vec<u8>>;

/// An exchange in flight.
pub type Exchange<'a> = Pin<Box<dyn Future<Output = Result<Response>> + Send + 'a>>;

/// Carries one request to a relay and brings its answer back. An `Err` means the
/// answer never arrived (the request may or may not have reached the relay: the sync
/// session is written for both); an answer with an error status is an `Ok`.
pub trait Transport: Send + Sync {
    fn send(&self, request: Request) -> Exchange<'_>;
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The transport of the apps and the CLI: reqwest over rustls (see `super::http` for
/// the TLS choice). One is shared by all of a device's relays, so connections are
/// reused across circles.
pub struct HttpTransport {
    http: reqwest::Client,
}

impl HttpTransport {
    pub fn new() -> Result<Self> {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(super::http::tls_config()?)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("kring/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TrustError::Network(describe(&e)))?;
        Ok(Self { http })
    }

    /// The default transport, shared.
    pub fn shared() -> Result<Arc<dyn Transport>> {
        Ok(Arc::new(Self::new()?))
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: Request) -> Exchange<'_> {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|e| TrustError::Network(describe(&e)))?;
            let response = self
                .http
                .execute(request)
                .await
                .map_err(|e| TrustError::Network(describe(&e)))?;
            let mut answer = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| TrustError::Network(describe(&e)))?;
            Ok(answer
                .body(body.to_vec())
                .map_err(|e| TrustError::Network(e.to_string()))?)
        })
    }
}

/// An error with its causes ("error sending request: connection refused").
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
