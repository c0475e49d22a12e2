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
            if let Some((&first, _)) = self.held.first_key_value() {
                self.next = first;
            }
        }
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
    order: Mutex<Order>,
}

impl Stream {
    pub fn new(circle: CircleId, latest: u64) -> Self {
        Self {
            circle,
            sender: broadcast::Sender::new(CAPACITY),
            order: Mutex::new(Order::after(latest)),
        }
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
    pub fn stored(&self, envelopes: &[(u64, Option<&[u8]>)]) {
        let frames = envelopes.iter().map(|(cursor, bytes)| {
            let frame = bytes
                .filter(|b| b.len() <= MAX_STREAMED_BYTES)
                .map(|b| Arc::from(envelope_frame(&self.circle, *cursor, b)));
            (*cursor, frame)
        });
        // Sent under the lock: two pushes releasing consecutive cursors must not
        // broadcast them in the other order.
        let mut order = self.order.lock().unwrap_or_else(PoisonError::into_inner);
        for item in order.accept(frames) {
            // No receiver: nothing to keep.
            let _ = self.sender.send(item);
        }
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

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_so() {
        let stream = Stream::new(CircleId::random(), 0);
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
        let stream = Stream::new(CircleId::random(), 0);
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
