//! What other relay processes sharing the store committed, brought into this
//! process's circles in memory ([`crate::store::Notice`]): their devices' envelopes
//! reach the live sockets here in cursor order, their appends reach the membership
//! state (and close the sockets of devices they removed), their closes close.
//!
//! Only circles this process holds in memory are touched; the others are read fresh
//! when first used. Web Push wake-ups are not sent from here: the process that
//! committed a change wakes the devices, once.

use std::sync::Arc;

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

/// Applies notices until the store stops sending them (the relay shuts down).
pub async fn follow(relay: Relay, mut notices: mpsc::Receiver<Notice>) {
    while let Some(notice) = notices.recv().await {
        if let Err(e) = apply(&relay, notice).await {
            tracing::warn!(error = %e, "applying another relay process's notice");
        }
    }
}

async fn apply(relay: &Relay, notice: Notice) -> Result<()> {
    let lag = |at: Timestamp| {
        let ms = Timestamp::now().0.saturating_sub(at.0).max(0);
        relay
            .metrics()
            .notice_lag_seconds
            .observe(ms as f64 / 1000.0);
    };
    match notice {
        Notice::Stored { circle, latest, at } => {
            lag(at);
            if let Some(slot) = relay.circles().in_memory(&circle) {
                stored_elsewhere(relay, &slot, latest).await?;
            }
        }
        Notice::Appended { circle, at, .. } => {
            lag(at);
            if let Some(slot) = relay.circles().in_memory(&circle) {
                relay.circles().catch_up(relay.store(), &slot).await?;
            }
        }
        Notice::Closed { circle } => {
            if let Some(slot) = relay.circles().take(&circle) {
                slot.closed();
            }
        }
        Notice::Resync => {
            relay.metrics().notice_resyncs.inc();
            for slot in relay.circles().all_in_memory() {
                resync(relay, &slot).await?;
            }
        }
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
