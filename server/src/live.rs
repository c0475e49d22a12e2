//! Live notices over WebSocket: `GET /v1/live?circles=ID,ID`.
//!
//! Each circle has a `watch` channel of its [`Heads`] (newest cursor, log length). A
//! socket watches the channels of its circles, so notices coalesce under load and a
//! slow socket never holds anyone up: it just gets the newest position next time.
//! The relay sends a `cursor` notice on connect and whenever the cursor moves, and a
//! `membership` notice when the log grows. A device removed from a circle while
//! connected is disconnected with close code 4003.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::StreamExt;
use kring_trust::identity::DeviceId;
use kring_trust::ids::CircleId;
use kring_trust::protocol::LiveNotice;
use kring_trust::Error;
use tokio_stream::wrappers::WatchStream;
use tokio_stream::StreamMap;

use crate::api::query_param;
use crate::auth::{require_active, SignedRequest};
use crate::circles::{CircleSlot, Heads};
use crate::error::ApiResult;
use crate::limits::{AddrKey, Full, Slot};
use crate::Relay;

/// Close code for a device removed from a subscribed circle.
pub const CLOSE_REMOVED: u16 = 4003;
/// Close code when the owner closed a subscribed circle on the relay.
pub const CLOSE_CIRCLE_CLOSED: u16 = 4010;
/// Close code when the relay shuts down (RFC 6455 "going away").
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// Clients send nothing but control frames; anything bigger is refused.
const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
const BUFFER: usize = 4 * 1024;

pub async fn upgrade(
    State(relay): State<Relay>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    req: SignedRequest,
) -> ApiResult<Response> {
    let signer = relay.authenticate(&req, None)?;
    let upgrade =
        upgrade.map_err(|e| Error::BadRequest(format!("expected a WebSocket upgrade: {e}")))?;
    let ids = query_param(req.query(), "circles")
        .ok_or_else(|| Error::BadRequest("query parameter circles=ID,ID is required".into()))?;
    let mut circles: Vec<CircleId> = Vec::new();
    for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let id = CircleId::parse(id)?;
        if !circles.contains(&id) {
            circles.push(id);
        }
    }
    let max = relay.config().max_live_circles;
    if circles.is_empty() {
        return Err(Error::BadRequest("circles lists no circle".into()).into());
    }
    if circles.len() > max {
        return Err(Error::Oversized {
            what: "live subscription (circles)",
            len: circles.len(),
            max,
        }
        .into());
    }
    let mut slots = Vec::with_capacity(circles.len());
    for id in &circles {
        let slot = relay.circles().get(relay.store(), id).await?;
        slot.check_open()?;
        require_active(&slot.state.read().await.clone(), &signer.0)?;
        slots.push(slot);
    }
    // Taken before the upgrade is answered, so concurrent upgrades cannot overshoot;
    // given back when the socket ends (or the upgrade fails).
    let connected = Connected::new(&relay, signer.0, req.peer)?;
    let device = signer.0;
    Ok(upgrade
        .read_buffer_size(BUFFER)
        .write_buffer_size(BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| run(relay, device, slots, socket, connected)))
}

/// A live socket's places under the caps (per device, per address, in total); counts
/// the socket in the gauge while it lives.
struct Connected {
    relay: Relay,
    _device: Slot<DeviceId>,
    _address: Option<Slot<AddrKey>>,
}

impl Connected {
    fn new(relay: &Relay, device: DeviceId, peer: Option<AddrKey>) -> Result<Self, Error> {
        let busy = |full: Full, whose: &str| {
            relay.metrics().live_refused.inc();
            tracing::debug!(%device, ?full, whose, "live socket refused");
            Error::RateLimited {
                retry_after_secs: 5,
            }
        };
        let device_slot = relay
            .inner
            .live_by_device
            .try_take(device)
            .map_err(|full| busy(full, "device"))?;
        let address_slot = match peer {
            Some(peer) => Some(
                relay
                    .inner
                    .live_by_address
                    .try_take(peer)
                    .map_err(|full| busy(full, "address"))?,
            ),
            None => None,
        };
        relay.metrics().live_connections.inc();
        Ok(Self {
            relay: relay.clone(),
            _device: device_slot,
            _address: address_slot,
        })
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.relay.metrics().live_connections.dec();
    }
}

async fn run(
    relay: Relay,
    device: DeviceId,
    slots: Vec<Arc<CircleSlot>>,
    mut socket: WebSocket,
    _connected: Connected,
) {
    let mut heads = StreamMap::new();
    let by_id: HashMap<CircleId, Arc<CircleSlot>> = slots
        .into_iter()
        .map(|slot| {
            // Yields the current heads first: the notice on connect.
            heads.insert(slot.id.clone(), WatchStream::new(slot.heads.subscribe()));
            (slot.id.clone(), slot)
        })
        .collect();
    let mut sent: HashMap<CircleId, Heads> = HashMap::new();
    let mut ping =
        tokio::time::interval(Duration::from_secs(relay.config().ping_secs.clamp(1, 3600)));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let mut awaiting_pong = false;
    let mut shutdown = relay.inner.shutdown.clone();
    let stopping = async move {
        let _ = shutdown.wait_for(|stopping| *stopping).await.is_ok();
    };
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            next = heads.next() => {
                let Some((circle, now)) = next else { break };
                if now.closed {
                    close(&mut socket, CLOSE_CIRCLE_CLOSED, "the circle was closed").await;
                    break;
                }
                let before = sent.insert(circle.clone(), now);
                if before.is_some_and(|b| now.len > b.len) {
                    let active = match by_id.get(&circle) {
                        Some(slot) => require_active(&slot.state.read().await.clone(), &device).is_ok(),
                        None => false,
                    };
                    if !active {
                        close(&mut socket, CLOSE_REMOVED, "removed from the circle").await;
                        break;
                    }
                    let notice = LiveNotice::Membership { circle: circle.to_string(), len: now.len };
                    if send(&relay, &mut socket, &notice).await.is_err() {
                        break;
                    }
                }
                if before.is_none_or(|b| now.latest != b.latest) {
                    let notice = LiveNotice::Cursor { circle: circle.to_string(), latest: now.latest };
                    if send(&relay, &mut socket, &notice).await.is_err() {
                        break;
                    }
                }
            }
            message = socket.recv() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Pong(_))) => awaiting_pong = false,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if awaiting_pong {
                    tracing::debug!(%device, "live socket missed a pong; closing");
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
                awaiting_pong = true;
            }
            () = &mut stopping => {
                close(&mut socket, CLOSE_GOING_AWAY, "relay shutting down").await;
                break;
            }
        }
    }
}

async fn send(relay: &Relay, socket: &mut WebSocket, notice: &LiveNotice) -> Result<(), ()> {
    let text = serde_json::to_string(notice).map_err(|_| ())?;
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| ())?;
    relay.metrics().live_notices.inc();
    Ok(())
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}
