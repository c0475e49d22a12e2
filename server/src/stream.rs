//! The stream of a circle's stored data for live subscribers (`docs/relay-api.md`,
//! "Live"): every envelope as it is stored, as one shared binary frame, in cursor
//! order; and every appended membership entry.
//!
//! Pushes to one circle commit in cursor order but return concurrently, so their
//! handlers may hand their envelopes over out of order; [`Order`] puts them back in
//! order before anything is broadcast (a pure state machine, tested below). The
//! broadcast is bounded: a subscriber that falls more than [`CAPACITY`] items behind
//! is told it lagged, and its socket switches that circle to a notice, after which
//! the device pulls. Nothing is buffered per subscriber, and a circle nobody streams
//! holds no frames (a broadcast without receivers keeps nothing).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kring_trust::ids::CircleId;
use kring_trust::live::{entry_frame, envelope_frame};
use tokio::sync::broadcast;

/// Items a subscriber may fall behind before it is switched to a notice.
pub const CAPACITY: usize = 64;
/// Larger envelopes are not streamed (the subscriber gets a notice and pulls): keeps
/// what the broadcast holds per circle under `CAPACITY` × this.
pub const MAX_STREAMED_BYTES: usize = 32 * 1024;
/// Envelopes held back waiting for an earlier cursor before the stream skips ahead
/// (a handler that never handed its envelopes over): subscribers see the gap and pull.
const MAX_HELD: usize = 256;
/// How long envelopes wait for an earlier cursor before the stream skips ahead.
pub const STALL: Duration = Duration::from_secs(1);

/// One item of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The envelope at `cursor`, as its encoded frame; `None` when it is too large to
    /// stream (the subscriber sends a notice instead).
    Envelope {
        cursor: u64,
        frame: Option<Arc<[u8]>>,
    },
    /// The membership entry at `position`, as its encoded frame.
    Entry { position: u64, frame: Arc<[u8]> },
}

/// Puts envelopes handed over in any order back into cursor order.
#[derive(Debug)]
pub struct Order {
    /// The next cursor to release.
    next: u64,
    held: BTreeMap<u64, Option<Arc<[u8]>>>,
}

impl Order {
    /// After `latest`, the circle's newest cursor when the stream starts.
    pub fn after(latest: u64) -> Self {
        Self {
            next: latest + 1,
            held: BTreeMap::new(),
        }
    }

    /// Takes envelopes stored at their cursors and returns those that can go out now,
    /// in order. Cursors already released (a repeated push) are ignored.
    pub fn accept(
        &mut self,
        stored: impl IntoIterator<Item = (u64, Option<Arc<[u8]>>)>,
    ) -> Vec<Stored> {
        for (cursor, frame) in stored {
            if cursor >= self.next {
                self.held.insert(cursor, frame);
            }
        }
        if self.held.len() > MAX_HELD {
            // An earlier cursor is not coming: skip to the first held one.
            return self.skip_ahead();
        }
        self.release()
    }

    /// The next cursor to release.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Whether envelopes wait for an earlier cursor.
    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Cursors up to `latest` were stored where this process did not see them (another
    /// relay process, too many to stream): one frameless item at `latest` tells
    /// subscribers to pull, then whatever was held beyond it goes out.
    pub fn skip_to(&mut self, latest: u64) -> Vec<Stored> {
        if latest < self.next {
            return self.release();
        }
        self.held.retain(|cursor, _| *cursor > latest);
        self.next = latest + 1;
        let mut out = vec![Stored::Envelope {
            cursor: latest,
            frame: None,
        }];
        out.extend(self.release());
        out
    }

    /// Gives up on the cursors before the first one held and releases what follows.
    pub fn skip_ahead(&mut self) -> Vec<Stored> {
        if let Some((&first, _)) = self.held.first_key_value() {
            self.next = first;
        }
        self.release()
    }

    fn release(&mut self) -> Vec<Stored> {
        let mut out = Vec::new();
        while let Some(frame) = self.held.remove(&self.next) {
            out.push(Stored::Envelope {
                cursor: self.next,
                frame,
            });
            self.next += 1;
        }
        out
    }
}

/// A circle's stream: the ordering and the broadcast.
pub struct Stream {
    circle: CircleId,
    sender: broadcast::Sender<Stored>,
    order: Mutex<Sequencer>,
}

/// The order, and whether a watchdog waits to skip a cursor that is not coming.
struct Sequencer {
    order: Order,
    watching: bool,
}

impl Stream {
    pub fn new(circle: CircleId, latest: u64) -> Self {
        Self {
            circle,
            sender: broadcast::Sender::new(CAPACITY),
            order: Mutex::new(Sequencer {
                order: Order::after(latest),
                watching: false,
            }),
        }
    }

    fn sequencer(&self) -> std::sync::MutexGuard<'_, Sequencer> {
        self.order.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Stored> {
        self.sender.subscribe()
    }

    /// Whether anyone streams this circle (otherwise a push need not keep its bytes).
    pub fn has_subscribers(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// Hands over the cursors a push stored (repeats included), each with its bytes
    /// when anyone streams the circle.
    pub fn stored(self: &Arc<Self>, envelopes: &[(u64, Option<&[u8]>)]) {
        let frames = envelopes.iter().map(|(cursor, bytes)| {
            let frame = bytes
                .filter(|b| b.len() <= MAX_STREAMED_BYTES)
                .map(|b| Arc::from(envelope_frame(&self.circle, *cursor, b)));
            (*cursor, frame)
        });
        // Sent under the lock: two pushes releasing consecutive cursors must not
        // broadcast them in the other order.
        let mut sequencer = self.sequencer();
        let released = sequencer.order.accept(frames);
        self.broadcast(released);
        self.watch_for_stall(&mut sequencer);
    }

    fn broadcast(&self, items: Vec<Stored>) {
        for item in items {
            // No receiver: nothing to keep.
            let _ = self.sender.send(item);
        }
    }

    /// If envelopes wait for an earlier cursor, starts (once) a watchdog that skips
    /// ahead when that cursor has not come within [`STALL`].
    fn watch_for_stall(self: &Arc<Self>, sequencer: &mut Sequencer) {
        if sequencer.watching || !sequencer.order.is_holding() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        sequencer.watching = true;
        let waiting_for = sequencer.order.next();
        let stream = Arc::clone(self);
        runtime.spawn(async move {
            tokio::time::sleep(STALL).await;
            let mut sequencer = stream.sequencer();
            sequencer.watching = false;
            if sequencer.order.next() == waiting_for {
                tracing::warn!(circle = %stream.circle, cursor = waiting_for, "a stored envelope never reached the stream; skipping it");
                let released = sequencer.order.skip_ahead();
                stream.broadcast(released);
            }
            // Still holding (a later gap): watch again.
            stream.watch_for_stall(&mut sequencer);
        });
    }

    /// The next cursor the stream will release (everything before it went out).
    pub fn next_cursor(&self) -> u64 {
        self.sequencer().order.next()
    }

    /// Cursors up to `latest` were stored but will not be handed over one by one
    /// ([`Order::skip_to`]).
    pub fn skipped_to(&self, latest: u64) {
        let mut sequencer = self.sequencer();
        let released = sequencer.order.skip_to(latest);
        self.broadcast(released);
    }

    /// Hands over a membership entry appended at `position`. Appends are serialised
    /// by the circle's write lock, so entries come in order.
    pub fn appended(&self, position: u64, bytes: &[u8]) {
        let frame = Arc::from(entry_frame(&self.circle, position, bytes));
        let _ = self.sender.send(Stored::Entry { position, frame });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u8) -> Option<Arc<[u8]>> {
        Some(Arc::from(vec![n]))
    }

    fn cursors(items: &[Stored]) -> Vec<u64> {
        items
            .iter()
            .map(|s| match s {
                Stored::Envelope { cursor, .. } => *cursor,
                Stored::Entry { position, .. } => *position,
            })
            .collect()
    }

    #[test]
    fn a_range_stored_elsewhere_is_one_notice_and_releases_what_waited_behind_it() {
        let mut order = Order::after(10);
        assert!(order.accept([(14, frame(14)), (16, frame(16))]).is_empty());
        let out = order.skip_to(14);
        assert_eq!(cursors(&out), [14]);
        assert!(matches!(out[0], Stored::Envelope { frame: None, .. }));
        assert_eq!(cursors(&order.accept([(15, frame(15))])), [15, 16]);
        assert!(order.skip_to(12).is_empty(), "nothing behind the stream");
        assert_eq!(order.next(), 17);
    }

    #[test]
    fn envelopes_handed_over_out_of_order_go_out_in_order() {
        let mut order = Order::after(10);
        assert!(order.accept([(12, frame(12)), (13, frame(13))]).is_empty());
        assert_eq!(cursors(&order.accept([(11, frame(11))])), [11, 12, 13]);
        assert_eq!(cursors(&order.accept([(14, None)])), [14]);
    }

    #[test]
    fn repeats_are_not_sent_again() {
        let mut order = Order::after(0);
        assert_eq!(
            cursors(&order.accept([(1, frame(1)), (2, frame(2))])),
            [1, 2]
        );
        assert!(order.accept([(1, frame(1)), (2, frame(2))]).is_empty());
    }

    #[test]
    fn a_cursor_that_never_comes_is_skipped_after_a_bound() {
        let mut order = Order::after(0);
        let later: Vec<_> = (2..=(MAX_HELD as u64 + 2)).map(|c| (c, None)).collect();
        let out = order.accept(later);
        assert_eq!(out.len(), MAX_HELD + 1, "everything from 2 on went out");
        assert_eq!(cursors(&out)[0], 2);
    }

    #[test]
    fn skipping_ahead_releases_what_waits_after_the_missing_cursor() {
        let mut order = Order::after(0);
        assert!(order.accept([(3, frame(3)), (4, frame(4))]).is_empty());
        assert!(order.is_holding());
        assert_eq!(cursors(&order.skip_ahead()), [3, 4]);
        assert!(!order.is_holding());
        // The skipped cursor is not sent late.
        assert!(order.accept([(1, frame(1)), (2, frame(2))]).is_empty());
        assert_eq!(cursors(&order.accept([(5, frame(5))])), [5]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cursor_that_never_reaches_the_stream_holds_the_rest_back_only_briefly() {
        let stream = Arc::new(Stream::new(CircleId::random(), 0));
        let mut rx = stream.subscribe();
        stream.stored(&[(2, Some(&[2u8][..])), (3, Some(&[3u8][..]))]);
        assert!(rx.try_recv().is_err(), "2 and 3 wait for 1");
        tokio::time::sleep(STALL / 2).await;
        assert!(rx.try_recv().is_err(), "still waiting");
        tokio::time::sleep(STALL).await;
        let got: Vec<Stored> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(cursors(&got), [2, 3]);
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_so() {
        let stream = Arc::new(Stream::new(CircleId::random(), 0));
        let mut slow = stream.subscribe();
        for cursor in 1..=(CAPACITY as u64 + 5) {
            stream.stored(&[(cursor, Some(&[1u8, 2, 3][..]))]);
        }
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(5))
        ));
    }

    #[test]
    fn a_large_envelope_is_announced_not_streamed() {
        let stream = Arc::new(Stream::new(CircleId::random(), 0));
        let mut rx = stream.subscribe();
        let big = vec![0u8; MAX_STREAMED_BYTES + 1];
        stream.stored(&[(1, Some(&big[..]))]);
        assert_eq!(
            rx.try_recv().unwrap(),
            Stored::Envelope {
                cursor: 1,
                frame: None
            }
        );
    }
}
