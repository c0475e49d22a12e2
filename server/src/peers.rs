//! What other relay processes sharing the store committed, brought into this
//! process's circles in memory ([`crate::store::Notice`]): their devices' envelopes
//! reach the live sockets here in cursor order, their appends reach the membership
//! state (and close the sockets of devices they removed), their closes close.
//!
//! Only circles this process holds in memory are touched; the others are read fresh
//! when first used. Web Push wake-ups are not sent from here: the process that
//! committed a change wakes the devices, once.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use kring_trust::ids::CircleId;
use kring_trust::Timestamp;
use tokio::sync::mpsc;

use crate::circles::CircleSlot;
use crate::store::Notice;
use crate::{Relay, Result};

/// Envelopes read from the store to stream one by one; a longer run stored elsewhere
/// becomes one notice (subscribers pull).
const STREAM_FROM_STORE: u64 = 64;
/// Bytes per store read while streaming another process's envelopes.
const READ_BUDGET: usize = 1024 * 1024;

/// Notices taken together at most: what waited is applied as one batch.
const BATCH: usize = 1024;
/// Circles brought up to date at the same time.
const CONCURRENT: usize = 16;

/// What a batch of notices asks of one circle.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Due {
    closed: bool,
    appended: bool,
    /// The newest cursor stored elsewhere.
    stored: Option<u64>,
}

/// Collapses a batch of notices into what each circle needs (a circle's many notices
/// become one read), or `None` when the batch holds a resync, which covers every circle.
fn collapse(batch: Vec<Notice>, lag: impl Fn(Timestamp)) -> Option<HashMap<CircleId, Due>> {
    let mut due: HashMap<CircleId, Due> = HashMap::new();
    for notice in batch {
        match notice {
            Notice::Stored { circle, latest, at } => {
                lag(at);
                let entry = due.entry(circle).or_default();
                entry.stored = entry.stored.max(Some(latest));
            }
            Notice::Appended { circle, at, .. } => {
                lag(at);
                due.entry(circle).or_default().appended = true;
            }
            Notice::Closed { circle } => due.entry(circle).or_default().closed = true,
            Notice::Resync => return None,
        }
    }
    Some(due)
}

/// Applies notices until the store stops sending them (the relay shuts down). What
/// waited is taken together, each circle's notices collapse into one read, and
/// different circles are brought up to date at the same time.
pub async fn follow(relay: Relay, mut notices: mpsc::Receiver<Notice>) {
    while let Some(first) = notices.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match notices.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let lag = |at: Timestamp| {
            let ms = Timestamp::now().0.saturating_sub(at.0).max(0);
            relay
                .metrics()
                .notice_lag_seconds
                .observe(ms as f64 / 1000.0);
        };
        let work: Vec<(Arc<CircleSlot>, Due)> = match collapse(batch, lag) {
            Some(due) => due
                .into_iter()
                .filter_map(|(id, due)| {
                    if due.closed {
                        if let Some(slot) = relay.circles().take(&id) {
                            slot.closed();
                        }
                        return None;
                    }
                    relay.circles().in_memory(&id).map(|slot| (slot, due))
                })
                .collect(),
            None => {
                relay.metrics().notice_resyncs.inc();
                relay
                    .circles()
                    .all_in_memory()
                    .into_iter()
                    .map(|slot| (slot, Due::default()))
                    .collect()
            }
        };
        futures_util::stream::iter(work)
            .for_each_concurrent(CONCURRENT, |(slot, due)| {
                let relay = &relay;
                async move {
                    let applied = if due == Due::default() {
                        resync(relay, &slot).await
                    } else {
                        apply(relay, &slot, &due).await
                    };
                    if let Err(e) = applied {
                        tracing::warn!(circle = %slot.id, error = %e, "applying another relay process's notice");
                    }
                }
            })
            .await;
    }
}

async fn apply(relay: &Relay, slot: &Arc<CircleSlot>, due: &Due) -> Result<()> {
    // The log first, whatever the notices say: notices may come out of commit order,
    // and a device removed before these envelopes were stored must have its socket
    // closed before they are streamed.
    if due.appended || due.stored.is_some() {
        relay
            .current(Arc::clone(slot))
            .await
            .map_err(crate::Error::Trust)?;
    }
    if let Some(latest) = due.stored {
        stored_elsewhere(relay, slot, latest).await?;
    }
    Ok(())
}

/// Reads a circle again after notices may have been lost.
async fn resync(relay: &Relay, slot: &Arc<CircleSlot>) -> Result<()> {
    match relay.store().log_len(slot.key).await {
        Err(crate::Error::Trust(kring_trust::Error::CircleClosed(_))) => {
            if let Some(slot) = relay.circles().take(&slot.id) {
                slot.closed();
            }
            return Ok(());
        }
        other => other?,
    };
    relay.circles().catch_up(relay.store(), slot).await?;
    let latest = relay.store().pull(slot.key, 0, 0, 0).await?.latest;
    stored_elsewhere(relay, slot, latest).await
}

/// Envelopes up to `latest` were stored by another process: the cursor moves for
/// the sockets that watch it, and the stream gets them in order (read from the
/// store when someone streams the circle here, or as one notice).
async fn stored_elsewhere(relay: &Relay, slot: &Arc<CircleSlot>, latest: u64) -> Result<()> {
    let from = slot.stream.next_cursor();
    // The cursor moves first, as for a push here: a socket that subscribes to the
    // stream after this reads up to the new cursor from the store.
    slot.stored_up_to(latest);
    if latest < from {
        return Ok(());
    }
    if !slot.stream.has_subscribers() || latest - from >= STREAM_FROM_STORE {
        slot.stream.skipped_to(latest);
        return Ok(());
    }
    let mut after = from - 1;
    while after < latest {
        let limit = u32::try_from(latest - after).unwrap_or(u32::MAX);
        let page = relay
            .store()
            .pull(slot.key, after, limit, READ_BUDGET)
            .await?;
        let handed: Vec<(u64, Option<&[u8]>)> = page
            .envelopes
            .iter()
            .filter(|(cursor, _)| *cursor <= latest)
            .map(|(cursor, bytes)| (*cursor, Some(bytes.as_slice())))
            .collect();
        let Some(&(last, _)) = handed.last() else {
            break;
        };
        slot.stream.stored(&handed);
        after = last;
        if !page.more {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circle(n: u8) -> CircleId {
        CircleId::parse(&format!("{n:02x}").repeat(16)).expect("id")
    }

    #[test]
    fn a_circles_notices_collapse_into_one_read_and_a_resync_covers_all() {
        let at = Timestamp(1);
        let batch = vec![
            Notice::Stored {
                circle: circle(1),
                latest: 4,
                at,
            },
            Notice::Appended {
                circle: circle(1),
                len: 3,
                at,
            },
            Notice::Stored {
                circle: circle(1),
                latest: 9,
                at,
            },
            Notice::Stored {
                circle: circle(1),
                latest: 7,
                at,
            },
            Notice::Closed { circle: circle(2) },
        ];
        let due = collapse(batch.clone(), |_| {}).expect("no resync");
        assert_eq!(
            due[&circle(1)],
            Due {
                closed: false,
                appended: true,
                stored: Some(9)
            }
        );
        assert!(due[&circle(2)].closed);
        let mut with_resync = batch;
        with_resync.push(Notice::Resync);
        assert_eq!(collapse(with_resync, |_| {}), None);
    }
}
