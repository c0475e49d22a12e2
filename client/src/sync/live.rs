//! The live connection: a signed WebSocket to `GET /v1/live?circles=…` on which the
//! relay sends what is stored — envelopes and membership entries as binary frames
//! ([`LiveFrame`]) when the device gives its positions (`after=`, `log=`), notices
//! otherwise — so a watching device applies them at once instead of polling. A thin
//! edge: it yields frames and notices; the device façade decides what to apply, what
//! to sync and how to reconnect.

use kring_trust::Error as TrustError;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::http::{tls_config, RelayClient};
use crate::{Error, Result};
use kring_plan::plan::CircleId;
use kring_trust::identity::DeviceIdentity;
use kring_trust::live::{LiveFrame, MAX_FRAME_BYTES};
use kring_trust::protocol::LiveNotice;
use kring_trust::request_auth::sign_request;

/// How often the client pings; a connection silent for [`SILENCE_LIMIT`] is dead
/// (a phone that changed networks often never sees the close).
pub const PING_EVERY: Duration = Duration::from_secs(20);
pub const SILENCE_LIMIT: Duration = Duration::from_secs(60);

pub struct LiveConnection {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl std::fmt::Debug for LiveConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveConnection").finish_non_exhaustive()
    }
}

/// What the live connection delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    Notice(LiveNotice),
    /// Stored data: an envelope or a membership entry, still to be checked as any
    /// pulled one is.
    Frame(LiveFrame),
    /// Something arrived that is not a notice we know (ignored, but it shows the
    /// connection is alive).
    Other,
    /// The relay closed the connection.
    Closed,
}

impl LiveConnection {
    /// Opens the live connection for `circles` (the device must be active in all),
    /// for notices only.
    pub async fn connect(
        relay: &RelayClient,
        device: &DeviceIdentity,
        circles: &[CircleId],
    ) -> Result<Self> {
        let list: Vec<&str> = circles.iter().map(CircleId::as_str).collect();
        Self::open(
            relay,
            device,
            &format!("/v1/live?circles={}", list.join(",")),
        )
        .await
    }

    /// Opens the live connection streaming the data of each circle after its
    /// position: `(circle, envelope cursor, membership log length)`.
    pub async fn stream(
        relay: &RelayClient,
        device: &DeviceIdentity,
        positions: &[(CircleId, u64, u64)],
    ) -> Result<Self> {
        let join = |f: &dyn Fn(&(CircleId, u64, u64)) -> String| {
            positions.iter().map(f).collect::<Vec<_>>().join(",")
        };
        let path = format!(
            "/v1/live?circles={}&after={}&log={}",
            join(&|p| p.0.to_string()),
            join(&|p| p.1.to_string()),
            join(&|p| p.2.to_string()),
        );
        Self::open(relay, device, &path).await
    }

    async fn open(relay: &RelayClient, device: &DeviceIdentity, path: &str) -> Result<Self> {
        let (mut url, signed_path) = relay.url(path)?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme).map_err(|()| {
            Error::Trust(TrustError::InvalidValue {
                field: "relay URL",
                value: url.to_string(),
                expected: "an http:// or https:// URL".into(),
            })
        })?;
        let auth = sign_request(device, "GET", &signed_path, b"", relay.next_timestamp());
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| TrustError::Network(e.to_string()))?;
        for (name, value) in auth.headers() {
            let value =
                HeaderValue::from_str(&value).map_err(|e| TrustError::Network(e.to_string()))?;
            request.headers_mut().insert(name, value);
        }
        let connector = Connector::Rustls(Arc::new(tls_config()?));
        let connected = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(
                WebSocketConfig::default()
                    .max_message_size(Some(MAX_FRAME_BYTES))
                    .max_frame_size(Some(MAX_FRAME_BYTES)),
            ),
            false,
            Some(connector),
        )
        .await;
        match connected {
            Ok((socket, _)) => Ok(Self { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response.body().as_ref().and_then(|b| {
                    serde_json::from_slice::<kring_trust::protocol::ErrorBody>(b).ok()
                });
                Err(
                    kring_trust::protocol::refusal(status, body, None, Some(device.id()), None)
                        .into(),
                )
            }
            Err(e) => Err(TrustError::Network(e.to_string()).into()),
        }
    }

    /// The next frame. Cancel-safe (so it can sit in a `select!` next to a timer):
    /// the caller keeps time, pings with [`LiveConnection::ping`] when the relay has
    /// been quiet for [`PING_EVERY`], and gives up after [`SILENCE_LIMIT`].
    pub async fn recv(&mut self) -> Result<LiveEvent> {
        match self.socket.next().await {
            None | Some(Ok(Message::Close(_))) => Ok(LiveEvent::Closed),
            Some(Err(e)) => Err(TrustError::Network(e.to_string()).into()),
            Some(Ok(Message::Text(text))) => {
                Ok(match serde_json::from_str::<LiveNotice>(text.as_str()) {
                    Ok(notice) => LiveEvent::Notice(notice),
                    Err(_) => LiveEvent::Other,
                })
            }
            // A frame that does not decode is the relay misbehaving: the caller
            // reconnects (and catches up by pulling).
            Some(Ok(Message::Binary(bytes))) => Ok(LiveEvent::Frame(LiveFrame::decode(&bytes)?)),
            // Pings are answered by tungstenite itself; pongs only show that the
            // connection is alive.
            Some(Ok(_)) => Ok(LiveEvent::Other),
        }
    }

    /// Sends a push on the socket (`kring_trust::live::PushFrame`, encoded); the
    /// relay's answer comes as a `pushed` or `push_refused` notice naming its id.
    pub async fn push(&mut self, frame: Vec<u8>) -> Result<()> {
        self.socket
            .send(Message::Binary(frame.into()))
            .await
            .map_err(|e| TrustError::Network(e.to_string()).into())
    }

    pub async fn ping(&mut self) -> Result<()> {
        self.socket
            .send(Message::Ping(Vec::new().into()))
            .await
            .map_err(|e| TrustError::Network(e.to_string()).into())
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
