//! Live watching: a catch-up sync, then the WebSocket's notices trigger syncs, and
//! local changes (also by other processes on the same data) are pushed within half a
//! second — on the socket itself when the outbox can go as it is (answered there
//! after the relay's commit), by a sync otherwise. Reconnects with backoff.

use kring_trust::Error as TrustError;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::session::{self, sync_circle};
use super::SyncReport;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::store::OwnEnvelope;
use crate::store::Store;
use crate::sync::engine::{Backoff, CircleTrust};
use crate::sync::http::{RelayAccess, RelayClient};
use crate::sync::live::{LiveConnection, LiveEvent, PING_EVERY, SILENCE_LIMIT};
use kring_plan::plan::CircleId;
use kring_trust::identity::DeviceIdentity;
use kring_trust::live::{LiveFrame, PushFrame};
use kring_trust::protocol::LiveNotice;

/// How often `watch` looks at the outbox (changes made by another process on the
/// same data directory, e.g. a CLI command while `kring watch` runs).
const WATCH_TICK: Duration = Duration::from_millis(500);
/// How long a push on the socket may go unanswered before a sync takes over.
const PUSH_ANSWER: Duration = Duration::from_secs(10);

/// What `watch` reports as it goes.
#[derive(Debug)]
pub enum WatchEvent {
    /// The live connection is up.
    Connected { relay: String },
    Synced {
        circle: CircleId,
        report: SyncReport,
    },
    /// A sync of `circle` failed. A removal, a closed circle or an archived plan
    /// also ends watching that circle (the others go on).
    SyncFailed {
        circle: CircleId,
        /// Typed, so each app says it in its own words and language.
        error: Error,
    },
    /// The live connection failed or closed; the next attempt is in `retry_in`.
    Disconnected { error: Error, retry_in: Duration },
    /// A sync of `circle` starts (followed by `Synced` or `SyncFailed`), so a screen
    /// can show "syncing".
    Syncing { circle: CircleId },
}

impl Device {
    /// Keeps `circles` (all on one relay) in sync until `stop` is set: a catch-up
    /// sync, then the live WebSocket; every notice from the relay triggers a sync of
    /// its circle, and local changes (also made by other processes) are pushed within
    /// half a second. Reconnects with backoff when the connection drops. Returns
    /// `Err` only when no circle can be watched (all removed, no relay …).
    pub fn watch(
        &mut self,
        circles: &[CircleId],
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(WatchEvent),
    ) -> Result<()> {
        let mut relay_url = None;
        for circle in circles {
            let url = self.relay_url(circle)?;
            match &relay_url {
                None => relay_url = Some(url),
                Some(first) if *first == url => {}
                Some(_) => {
                    return Err(Error::Trust(TrustError::NotAllowed(
                        "watch the circles of one relay at a time",
                    )))
                }
            }
        }
        let Some(relay_url) = relay_url else {
            return Err(Error::Trust(TrustError::NotAllowed("no circle to watch")));
        };
        let relay = self.net.access.client(&relay_url)?;
        let Device {
            store,
            identity,
            net,
            ..
        } = self;
        let mut watcher = Watcher {
            store,
            identity,
            access: &net.access,
            relay: &relay,
            circles: circles.to_vec(),
            stop,
            on_event,
            trusts: HashMap::new(),
            in_flight: HashMap::new(),
            next_push: 1,
        };
        net.runtime.block_on(watcher.run())
    }
}

struct Watcher<'a> {
    store: &'a mut Store,
    identity: &'a DeviceIdentity,
    access: &'a RelayAccess,
    relay: &'a RelayClient,
    circles: Vec<CircleId>,
    stop: &'a AtomicBool,
    on_event: &'a mut dyn FnMut(WatchEvent),
    /// Each circle's membership as validated for the last frame applied, reused while
    /// the stored log is unchanged.
    trusts: HashMap<CircleId, CircleTrust>,
    /// The push on the socket waiting for its answer, per circle (one at a time, so
    /// the outbox goes in order).
    in_flight: HashMap<CircleId, SocketPush>,
    /// The next push's request id.
    next_push: u64,
}

/// A push sent on the live socket and not answered yet.
struct SocketPush {
    id: u64,
    batch: Vec<OwnEnvelope>,
    sent: tokio::time::Instant,
}

impl Watcher<'_> {
    /// What applies frames and prepares pushes, over this watcher's store and the
    /// circles' trust as last validated.
    fn receiver(&mut self) -> session::LiveReceiver<'_> {
        session::LiveReceiver {
            store: &mut *self.store,
            identity: self.identity,
            access: self.access,
            trusts: &mut self.trusts,
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    async fn sync(&mut self, circle: &CircleId) {
        (self.on_event)(WatchEvent::Syncing {
            circle: circle.clone(),
        });
        let now = (self.access.clock)();
        match sync_circle(self.store, self.identity, self.access, circle, now).await {
            Ok(report) => (self.on_event)(WatchEvent::Synced {
                circle: circle.clone(),
                report,
            }),
            Err(e) => {
                if matches!(
                    e,
                    Error::Trust(
                        TrustError::Removed(_)
                            | TrustError::DeviceNotMember(_)
                            | TrustError::CircleClosed(_)
                    ) | Error::Archived(_)
                ) {
                    self.circles.retain(|c| c != circle);
                }
                (self.on_event)(WatchEvent::SyncFailed {
                    circle: circle.clone(),
                    error: e,
                });
            }
        }
    }

    async fn run(&mut self) -> Result<()> {
        let mut failures = 0u32;
        while !self.stopped() {
            for circle in self.circles.clone() {
                self.sync(&circle).await;
            }
            if self.circles.is_empty() {
                return Err(Error::Trust(TrustError::NotAllowed(
                    "none of the circles can be watched",
                )));
            }
            let positions = self.positions()?;
            let error = match LiveConnection::stream(self.relay, self.identity, &positions).await {
                Ok(connection) => {
                    failures = 0;
                    (self.on_event)(WatchEvent::Connected {
                        relay: self.relay.base_url().to_owned(),
                    });
                    match self.listen(connection).await? {
                        None => return Ok(()),
                        Some(error) => error,
                    }
                }
                Err(e) => e,
            };
            failures += 1;
            let wait = Backoff::LIVE.delay(failures, rand::random());
            (self.on_event)(WatchEvent::Disconnected {
                error,
                retry_in: wait,
            });
            let until = tokio::time::Instant::now() + wait;
            while tokio::time::Instant::now() < until && !self.stopped() {
                tokio::time::sleep(WATCH_TICK).await;
            }
        }
        Ok(())
    }

    /// Where this device stands in each watched circle: its pull cursor and the length
    /// of its membership log (the relay streams what comes after).
    fn positions(&self) -> Result<Vec<(CircleId, u64, u64)>> {
        self.circles
            .iter()
            .map(|circle| {
                let cursor = self.store.sync_record(circle)?.map_or(0, |r| r.pull_cursor);
                let log = self.store.membership_log(circle)?.len() as u64;
                Ok((circle.clone(), cursor, log))
            })
            .collect()
    }

    /// Applies what the live channel delivered, as a pull would, without a round trip;
    /// a frame that does not follow what this device has (a gap after a reconnect, a
    /// newer log needed) makes it sync instead. Nothing is applied out of order or
    /// twice: an envelope is taken only at the next cursor, an entry only at the next
    /// position.
    async fn apply(&mut self, frame: LiveFrame) -> Result<()> {
        let Some(circle) = self.circles.iter().find(|c| *c == frame.circle()).cloned() else {
            return Ok(());
        };
        let now = (self.access.clock)();
        let mut receiver = self.receiver();
        let applied = match frame {
            LiveFrame::Envelope { cursor, bytes, .. } => {
                let had = receiver
                    .store
                    .sync_record(&circle)?
                    .map_or(0, |r| r.pull_cursor);
                if cursor <= had {
                    return Ok(()); // delivered before (a pull got there first)
                }
                receiver.envelope(&circle, cursor, bytes, now)
            }
            LiveFrame::Entry {
                position, bytes, ..
            } => {
                if position < receiver.store.membership_log(&circle)?.len() as u64 {
                    return Ok(());
                }
                receiver.entries(&circle, position, vec![bytes], now)
            }
        };
        match applied {
            Ok(Some(report)) => (self.on_event)(WatchEvent::Synced { circle, report }),
            // Not applicable alone (or refused as a whole): a sync sorts it out.
            Ok(None) | Err(_) => self.sync(&circle).await,
        }
        Ok(())
    }

    /// Sends the start of `circle`'s outbox on the socket, unless a push of it is
    /// still waiting for its answer. `Ok(false)` when the outbox needs a sync instead
    /// (see `LiveReceiver::socket_batch`; also when preparing the batch failed, so the
    /// sync meets and reports that failure), or when an earlier push went unanswered
    /// for [`PUSH_ANSWER`] (a repeat is answered with the original cursors, so nothing
    /// is stored twice either way). `Err` only when the socket cannot send.
    async fn push_on_socket(
        &mut self,
        connection: &mut LiveConnection,
        circle: &CircleId,
    ) -> Result<bool> {
        if let Some(waiting) = self.in_flight.get(circle) {
            if waiting.sent.elapsed() < PUSH_ANSWER {
                return Ok(true);
            }
            self.in_flight.remove(circle);
            return Ok(false);
        }
        let now = (self.access.clock)();
        let mut receiver = self.receiver();
        let Ok(Some(batch)) = receiver.socket_batch(circle, now) else {
            return Ok(false);
        };
        let id = self.next_push;
        self.next_push += 1;
        let frame = PushFrame {
            circle: circle.clone(),
            id,
            envelopes: batch.iter().map(|e| e.bytes.clone()).collect(),
        };
        connection.push(frame.encode()).await?;
        self.in_flight.insert(
            circle.clone(),
            SocketPush {
                id,
                batch,
                sent: tokio::time::Instant::now(),
            },
        );
        Ok(true)
    }

    /// The relay stored push `id`: its envelopes are acknowledged, as after a push in
    /// a sync.
    async fn pushed(&mut self, id: u64, circle: &str, cursors: &[u64]) -> Result<()> {
        let Some(circle) = self.circles.iter().find(|c| c.as_str() == circle).cloned() else {
            return Ok(());
        };
        let push = match self.in_flight.entry(circle.clone()) {
            Entry::Occupied(waiting) if waiting.get().id == id => waiting.remove(),
            _ => return Ok(()), // an answer to a push given up on
        };
        let mut receiver = self.receiver();
        match receiver.acknowledged(&circle, &push.batch, cursors) {
            Ok(()) => (self.on_event)(WatchEvent::Synced {
                circle,
                report: SyncReport {
                    pushed: push.batch.len(),
                    ..SyncReport::default()
                },
            }),
            // An answer that does not fit the push: a sync sorts it out.
            Err(_) => self.sync(&circle).await,
        }
        Ok(())
    }

    /// The relay refused push `id`: a sync does what the refusal calls for (refresh
    /// the log, reseal, realign), as for a refused push over HTTP.
    async fn push_refused(&mut self, id: u64) {
        let refused = self
            .in_flight
            .iter()
            .find(|(_, push)| push.id == id)
            .map(|(circle, _)| circle.clone());
        if let Some(circle) = refused {
            self.in_flight.remove(&circle);
            self.sync(&circle).await;
        }
    }

    /// Serves one live connection. `Ok(None)`: stopped; `Ok(Some(e))`: reconnect.
    async fn listen(&mut self, mut connection: LiveConnection) -> Result<Option<Error>> {
        // Answers to pushes on an earlier connection are lost with it; the outbox
        // still holds those envelopes and the next tick sends them again.
        self.in_flight.clear();
        let mut last_frame = tokio::time::Instant::now();
        let mut last_ping = last_frame;
        loop {
            if self.stopped() {
                connection.close().await;
                return Ok(None);
            }
            let event = tokio::select! {
                event = connection.recv() => Some(event),
                () = tokio::time::sleep(WATCH_TICK) => None,
            };
            match event {
                Some(Ok(LiveEvent::Notice(notice))) => {
                    last_frame = tokio::time::Instant::now();
                    let (circle, newer) = match &notice {
                        LiveNotice::Cursor { circle, latest } => (circle.clone(), Some(*latest)),
                        LiveNotice::Membership { circle, .. } => (circle.clone(), None),
                        LiveNotice::Pushed {
                            id,
                            circle,
                            cursors,
                            ..
                        } => {
                            self.pushed(*id, circle, cursors).await?;
                            continue;
                        }
                        LiveNotice::PushRefused { id, .. } => {
                            self.push_refused(*id).await;
                            continue;
                        }
                    };
                    let Some(circle) = self.circles.iter().find(|c| c.as_str() == circle).cloned()
                    else {
                        continue;
                    };
                    let behind = match newer {
                        Some(latest) => self
                            .store
                            .sync_record(&circle)?
                            .is_none_or(|r| r.pull_cursor < latest),
                        None => true,
                    };
                    if behind {
                        self.sync(&circle).await;
                    }
                }
                Some(Ok(LiveEvent::Frame(frame))) => {
                    last_frame = tokio::time::Instant::now();
                    self.apply(frame).await?;
                }
                Some(Ok(LiveEvent::Other)) => last_frame = tokio::time::Instant::now(),
                Some(Ok(LiveEvent::Closed)) => {
                    return Ok(Some(
                        TrustError::Network("the relay closed the live connection".into()).into(),
                    ))
                }
                Some(Err(e)) => return Ok(Some(e)),
                None => {
                    let me = self.identity.id();
                    for circle in self.circles.clone() {
                        if self.store.pending_count(&circle, &me)? == 0 {
                            continue;
                        }
                        match self.push_on_socket(&mut connection, &circle).await {
                            Ok(true) => {}
                            Ok(false) => self.sync(&circle).await,
                            // The socket broke: reconnect (the catch-up sync pushes).
                            Err(e) => return Ok(Some(e)),
                        }
                    }
                    let now = tokio::time::Instant::now();
                    if now.duration_since(last_frame) >= SILENCE_LIMIT {
                        return Ok(Some(
                            TrustError::Network("the live connection went silent".into()).into(),
                        ));
                    }
                    if now.duration_since(last_ping) >= PING_EVERY {
                        last_ping = now;
                        if let Err(e) = connection.ping().await {
                            return Ok(Some(e));
                        }
                    }
                }
            }
            if self.circles.is_empty() {
                return Err(Error::Trust(TrustError::NotAllowed(
                    "none of the circles can be watched",
                )));
            }
        }
    }
}
