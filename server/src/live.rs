//! Live notices over WebSocket: `GET /v1/live?circles=ID,ID`.
//!
//! Each circle has two `watch` channels: its newest cursor and its log's
//! [`LogHeads`] (length, closed). A socket watches the channels of its circles, so
//! notices coalesce under load and a slow socket never holds anyone up: it just gets
//! the newest position next time.
//! The relay sends a `cursor` notice on connect and whenever the cursor moves, and a
//! `membership` notice when the log grows. A device removed from a circle while
//! connected is disconnected with close code 4003.
//!
//! A device that also sends its positions (`after=C,C` envelope cursors and
//! `log=N,N` log lengths, one per circle) gets the data instead of notices: the
//! envelopes after its cursor and the entries after its log length as binary frames
//! ([`kring_trust::live::LiveFrame`]), first what is stored (up to [`CATCH_UP`]
//! envelopes; beyond that a `cursor` notice says "pull"), then each as it is stored,
//! from the circle's [`crate::stream::Stream`]. A socket that falls behind the stream,
//! or an envelope too large to stream, gets a `cursor` notice for that circle instead,
//! so the relay never buffers for a slow reader. A streaming socket does not watch
//! the cursor: each stored envelope wakes it once, with the envelope.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::StreamExt;
use kring_trust::identity::DeviceId;
use kring_trust::ids::CircleId;
use kring_trust::live::{PushFrame, MAX_PUSH_FRAME_BYTES};
use kring_trust::protocol::{ErrorBody, LiveNotice};
use kring_trust::Error;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use tokio_stream::StreamMap;

use crate::api::query_param;
use crate::auth::{require_active, SignedRequest, Signer};
use crate::circles::{CircleSlot, LogHeads};
use crate::error::ApiResult;
use crate::limits::{AddrKey, Full, Slot};
use crate::stream::Stored;
use crate::Relay;

/// Close code for a device removed from a subscribed circle.
pub const CLOSE_REMOVED: u16 = 4003;
/// Close code when the owner closed a subscribed circle on the relay.
pub const CLOSE_CIRCLE_CLOSED: u16 = 4010;
/// Close code when the relay shuts down (RFC 6455 "going away").
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// Clients send control frames and pushes ([`PushFrame`]); anything bigger than the
/// largest push is refused (and closes the socket).
const MAX_CLIENT_MESSAGE: usize = MAX_PUSH_FRAME_BYTES;
const BUFFER: usize = 4 * 1024;
/// Stored envelopes a streaming socket is sent on connect; a device further behind
/// pulls (HTTP pull pages are cheaper for a large catch-up).
pub const CATCH_UP: u64 = 1000;
/// Envelopes per store read while catching up, and their most bytes.
const CATCH_UP_PAGE: u32 = 100;
const CATCH_UP_PAGE_BYTES: usize = 1024 * 1024;
/// Membership entries a streaming socket is sent on connect.
pub const CATCH_UP_ENTRIES: u64 = 256;

/// Where a streaming device stands in a circle when it connects.
#[derive(Debug, Clone, Copy)]
struct Position {
    after: u64,
    log: u64,
}

/// `after=` and `log=`: one number per circle, or neither (notices only).
fn positions(query: &str, circles: usize) -> Result<Option<Vec<Position>>, Error> {
    let list = |name: &str| -> Result<Option<Vec<u64>>, Error> {
        let Some(value) = query_param(query, name) else {
            return Ok(None);
        };
        let numbers = value
            .split(',')
            .map(|n| {
                n.trim().parse::<u64>().map_err(|_| {
                    Error::BadRequest(format!("{name}= lists numbers, one per circle"))
                })
            })
            .collect::<Result<Vec<u64>, Error>>()?;
        if numbers.len() != circles {
            return Err(Error::BadRequest(format!(
                "{name}= has {} numbers for {circles} circles",
                numbers.len()
            )));
        }
        Ok(Some(numbers))
    };
    match (list("after")?, list("log")?) {
        (None, None) => Ok(None),
        (Some(after), Some(log)) => Ok(Some(
            after
                .into_iter()
                .zip(log)
                .map(|(after, log)| Position { after, log })
                .collect(),
        )),
        _ => Err(Error::BadRequest(
            "after= and log= go together (stream) or not at all (notices)".into(),
        )),
    }
}

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
    let positions = positions(req.query(), circles.len())?;
    let mut slots = Vec::with_capacity(circles.len());
    for id in &circles {
        // As stored now: a device that joined through another relay process is known,
        // one removed there is refused.
        let slot = relay
            .current(relay.circles().get(relay.store(), id).await?)
            .await?;
        slot.check_open()?;
        require_active(&slot.state.read().await.clone(), &signer.0)?;
        slots.push(slot);
    }
    // Taken before the upgrade is answered, so concurrent upgrades cannot overshoot;
    // given back when the socket ends (or the upgrade fails).
    let connected = Connected::new(&relay, signer.0, req.peer)?;
    let device = signer.0;
    let peer = req.peer;
    Ok(upgrade
        .read_buffer_size(BUFFER)
        .write_buffer_size(BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| {
            let who = Pusher { device, peer };
            run(relay, who, slots, positions, socket, connected)
        }))
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

/// Who is on the other end of a socket: the device it was authenticated as at the
/// upgrade, and the address its pushes are rate limited by.
struct Pusher {
    device: DeviceId,
    peer: Option<AddrKey>,
}

async fn run(
    relay: Relay,
    pusher: Pusher,
    slots: Vec<Arc<CircleSlot>>,
    positions: Option<Vec<Position>>,
    mut socket: WebSocket,
    _connected: Connected,
) {
    let device = pusher.device;
    let streaming = positions.is_some();
    // Every socket watches each circle's log (a removal closes it, a closed circle
    // too); a notice socket also watches the newest cursor; a streaming socket gets
    // the envelopes themselves, so one stored envelope wakes it once.
    let mut logs = StreamMap::new();
    let mut cursors = StreamMap::new();
    let mut streams = StreamMap::new();
    // Per streamed circle: the newest cursor this socket was sent (data or notice).
    let mut delivered: HashMap<CircleId, u64> = HashMap::new();
    let mut seen: HashMap<CircleId, LogHeads> = HashMap::new();
    for (i, slot) in slots.iter().enumerate() {
        // Yields the current position first.
        logs.insert(slot.id.clone(), WatchStream::new(slot.log.subscribe()));
        match positions.as_ref().and_then(|p| p.get(i)) {
            Some(position) => {
                // Where the log stood before the catch-up: a membership change during
                // it (a removal above all) is then seen when the log is first read,
                // and checked like any other.
                seen.insert(slot.id.clone(), *slot.log.borrow());
                // Subscribed before the store is read, so nothing falls between the two.
                streams.insert(
                    slot.id.clone(),
                    BroadcastStream::new(slot.stream.subscribe()),
                );
                match catch_up(&relay, &mut socket, slot, *position, pusher.peer).await {
                    Ok(sent_to) => drop(delivered.insert(slot.id.clone(), sent_to)),
                    Err(()) => return,
                }
            }
            // Yields the current cursor first: the notice on connect.
            None => {
                drop(cursors.insert(slot.id.clone(), WatchStream::new(slot.cursor.subscribe())))
            }
        }
    }
    let by_id: HashMap<CircleId, Arc<CircleSlot>> = slots
        .into_iter()
        .map(|slot| (slot.id.clone(), slot))
        .collect();
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
            // The log first: a removal is acted on before anything else goes out.
            biased;
            next = logs.next() => {
                let Some((circle, now)) = next else { break };
                if now.closed {
                    close(&mut socket, CLOSE_CIRCLE_CLOSED, "the circle was closed").await;
                    break;
                }
                let before = seen.insert(circle.clone(), now);
                if before.is_some_and(|b| now.len > b.len) {
                    if closed_if_removed(&mut socket, &by_id, &circle, &device).await {
                        break;
                    }
                    // A streaming socket gets the entry itself from the stream.
                    if !streaming {
                        let notice = LiveNotice::Membership { circle: circle.to_string(), len: now.len };
                        if send(&relay, &mut socket, &notice).await.is_err() {
                            break;
                        }
                    }
                }
            }
            next = cursors.next(), if !streaming => {
                let Some((circle, latest)) = next else { break };
                if send_cursor(&relay, &mut socket, &circle, latest).await.is_err() {
                    break;
                }
            }
            item = streams.next(), if streaming => {
                let Some((circle, item)) = item else { break };
                let latest = by_id.get(&circle).map_or(0, |slot| slot.latest());
                let sent_to = delivered.entry(circle.clone()).or_default();
                let outcome = match item {
                    Ok(Stored::Envelope { cursor, .. }) if cursor <= *sent_to => Ok(()),
                    Ok(Stored::Envelope { cursor, frame: Some(frame) }) if cursor == *sent_to + 1 => {
                        *sent_to = cursor;
                        send_frame(&relay, &mut socket, frame).await
                    }
                    // Too large to stream, or after a gap: the device pulls.
                    Ok(Stored::Envelope { cursor, .. }) => {
                        *sent_to = cursor;
                        send_cursor(&relay, &mut socket, &circle, cursor).await
                    }
                    // An entry may be this device's removal: checked before anything
                    // stored after it goes out (the stream has it before them).
                    Ok(Stored::Entry { frame, .. }) => {
                        if closed_if_removed(&mut socket, &by_id, &circle, &device).await {
                            break;
                        }
                        send_frame(&relay, &mut socket, frame).await
                    }
                    // Fell behind the stream: this circle's news becomes a notice.
                    // The items missed may include this device's removal: checked
                    // before anything more goes out.
                    Err(BroadcastStreamRecvError::Lagged(_)) => {
                        relay.metrics().live_lagged.inc();
                        if closed_if_removed(&mut socket, &by_id, &circle, &device).await {
                            break;
                        }
                        *sent_to = latest.max(*sent_to);
                        send_cursor(&relay, &mut socket, &circle, *sent_to).await
                    }
                };
                if outcome.is_err() {
                    break;
                }
            }
            message = socket.recv() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Pong(_))) => awaiting_pong = false,
                // A push: answered on this socket once committed (or refused). Pushes
                // from one socket are stored in the order they were sent.
                Some(Ok(Message::Binary(frame))) => {
                    // Within the same deadline as an HTTP request: the push holds
                    // the circle's state for reading (appends wait for it).
                    let deadline = Duration::from_secs(relay.config().request_timeout_secs.max(1));
                    let answer = tokio::time::timeout(deadline, push_on_socket(&relay, &pusher, &by_id, &frame))
                        .await
                        .unwrap_or_else(|_| refused(
                            PushFrame::request_id(&frame).unwrap_or(0),
                            &Error::Timeout("no answer within the request deadline"),
                        ));
                    if send(&relay, &mut socket, &answer).await.is_err() {
                        break;
                    }
                }
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

/// Closes the socket with [`CLOSE_REMOVED`] if `device` is no longer active in
/// `circle`, and says whether it did. An entry reaches the stream while its append
/// holds the state's write lock, so reading the state waits for the new one.
async fn closed_if_removed(
    socket: &mut WebSocket,
    circles: &HashMap<CircleId, Arc<CircleSlot>>,
    circle: &CircleId,
    device: &DeviceId,
) -> bool {
    let active = match circles.get(circle) {
        Some(slot) => require_active(&slot.state.read().await.clone(), device).is_ok(),
        None => false,
    };
    if !active {
        close(socket, CLOSE_REMOVED, "removed from the circle").await;
    }
    !active
}

/// A push sent on the socket, checked and stored exactly as an HTTP push from the
/// socket's device (`api::store_batch`), after the same rate limits (the device's and
/// its address's). The socket's authentication at the upgrade stands in for the
/// request signature; the circle must be one the socket subscribed to (the device
/// was active in it then, and its removal since would have closed the socket).
async fn push_on_socket(
    relay: &Relay,
    pusher: &Pusher,
    circles: &HashMap<CircleId, Arc<CircleSlot>>,
    frame: &[u8],
) -> LiveNotice {
    relay.metrics().live_pushes.inc();
    let id = PushFrame::request_id(frame).unwrap_or(0);
    let stored = async {
        let now = std::time::Instant::now();
        if let Some(peer) = pusher.peer {
            relay.inner.address_rate.check(&peer, now)?;
        }
        relay.inner.rate.check(pusher.device.as_bytes(), now)?;
        let push = PushFrame::decode(frame)?;
        let slot = circles.get(&push.circle).ok_or_else(|| {
            Error::BadRequest(format!(
                "this socket does not subscribe to circle {}; push over HTTP or subscribe",
                push.circle
            ))
        })?;
        let pushed =
            crate::api::store_at_head(relay, slot, Signer(pusher.device), push.envelopes).await?;
        Ok::<_, Error>((push.circle, pushed))
    };
    match stored.await {
        Ok((circle, pushed)) => LiveNotice::Pushed {
            id,
            circle: circle.to_string(),
            cursors: pushed.cursors,
            latest: pushed.latest,
        },
        Err(e) => {
            tracing::debug!(device = %pusher.device, error = %e, "push on a live socket refused");
            refused(id, &e)
        }
    }
}

/// The answer to push `id` refused with `error`: what HTTP would have answered.
fn refused(id: u64, error: &Error) -> LiveNotice {
    let (status, error) = ErrorBody::from_error(error);
    LiveNotice::PushRefused { id, status, error }
}

/// Sends a streaming socket what is stored after its position: the membership entries
/// after `log` (at most [`CATCH_UP_ENTRIES`]; a device further behind gets a
/// `membership` notice and re-reads the log), then the envelopes after `after` (at most
/// [`CATCH_UP`]; further behind, a `cursor` notice and it pulls). Returns the cursor it
/// was sent up to.
///
/// Each page is read and sent under a pull permit of the socket's address, taken
/// from the same fair budget as HTTP pulls ([`Relay::pull_permit`]): an address's
/// sockets catching up count against its share like its pulls. A page must be taken by
/// the socket within its send allowance ([`crate::config::Config::send_allowance`],
/// as an HTTP page): a reader that does not read is dropped rather than keep the
/// permit (and the page's memory) from everyone else.
async fn catch_up(
    relay: &Relay,
    socket: &mut WebSocket,
    slot: &CircleSlot,
    position: Position,
    peer: Option<AddrKey>,
) -> Result<u64, ()> {
    let (latest, len) = (slot.latest(), slot.log.borrow().len);
    let permit = || async { relay.pull_permit(peer).await.map_err(drop) };
    // Read whatever the store has after `log`, not only up to the heads read above:
    // an entry appended meanwhile may have reached the stream before the heads.
    if len.saturating_sub(position.log) > CATCH_UP_ENTRIES {
        let notice = LiveNotice::Membership {
            circle: slot.id.to_string(),
            len,
        };
        send(relay, socket, &notice).await?;
    } else {
        let _permit = permit().await?;
        let entries = relay
            .store()
            .entries_from(slot.key, position.log)
            .await
            .map_err(drop)?;
        let bytes = entries.iter().map(Vec::len).sum();
        let frames = (position.log..)
            .zip(entries)
            .map(|(i, bytes)| kring_trust::live::entry_frame(&slot.id, i, &bytes).into());
        send_within(relay, socket, bytes, frames).await?;
    }
    let mut sent_to = position.after;
    let budget = relay
        .config()
        .pull_budget_bytes
        .clamp(1, CATCH_UP_PAGE_BYTES);
    while sent_to < latest {
        if sent_to - position.after >= CATCH_UP {
            send_cursor(relay, socket, &slot.id, latest).await?;
            return Ok(latest);
        }
        let _permit = permit().await?;
        let page = relay
            .store()
            .pull(slot.key, sent_to, CATCH_UP_PAGE, budget)
            .await
            .map_err(drop)?;
        let Some(&(last, _)) = page.envelopes.last() else {
            break;
        };
        let bytes = page.envelopes.iter().map(|(_, bytes)| bytes.len()).sum();
        let frames = page.envelopes.iter().map(|(cursor, bytes)| {
            kring_trust::live::envelope_frame(&slot.id, *cursor, bytes).into()
        });
        send_within(relay, socket, bytes, frames).await?;
        sent_to = last;
    }
    Ok(sent_to)
}

/// Sends `frames`, made from `bytes` of entries or envelopes, all within the send
/// allowance of those bytes (the same as an HTTP page's).
async fn send_within(
    relay: &Relay,
    socket: &mut WebSocket,
    bytes: usize,
    frames: impl Iterator<Item = Arc<[u8]>>,
) -> Result<(), ()> {
    let within = relay.config().send_allowance(bytes);
    let sending = async {
        for frame in frames {
            send_frame(relay, socket, frame).await?;
        }
        Ok(())
    };
    tokio::time::timeout(within, sending).await.map_err(drop)?
}

async fn send_frame(relay: &Relay, socket: &mut WebSocket, frame: Arc<[u8]>) -> Result<(), ()> {
    socket
        .send(Message::Binary(axum::body::Bytes::from_owner(frame)))
        .await
        .map_err(|_| ())?;
    relay.metrics().live_frames.inc();
    Ok(())
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

/// "Envelopes up to `latest` are stored in `circle`: pull."
async fn send_cursor(
    relay: &Relay,
    socket: &mut WebSocket,
    circle: &CircleId,
    latest: u64,
) -> Result<(), ()> {
    let notice = LiveNotice::Cursor {
        circle: circle.to_string(),
        latest,
    };
    send(relay, socket, &notice).await
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}
