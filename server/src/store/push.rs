//! The rules of a push, independent of the storage backend.
//!
//! Each envelope has already passed [`kring_core::envelope::verify`] (signature, writer
//! at the cited membership head). Here, inside the backend's transaction:
//! - an envelope already stored at its `(author, device_seq)` returns its cursor if it
//!   is the very same envelope (a retry), and is a fork otherwise;
//! - a new one must use the current key epoch
//!   ([`VerifiedEnvelope::check_current_epoch`](kring_core::envelope::VerifiedEnvelope::check_current_epoch))
//!   and follow its author's previous envelope
//!   ([`EnvelopeHeader::check_follows`](kring_core::envelope::EnvelopeHeader::check_follows)).
//!
//! Any `Err` aborts the whole batch (the backend rolls the transaction back).

use kring_core::envelope::EnvelopeHash;
use kring_core::identity::DeviceId;
use kring_core::membership::MembershipState;
use kring_core::{Error, Result};

use super::NewEnvelope;

const CHAIN: &str = "envelope chain";

/// One open transaction of a backend, scoped to one circle.
pub trait PushTx {
    /// Cursor and hash of the envelope stored at `(author, device_seq)`.
    fn stored_at(
        &mut self,
        author: &DeviceId,
        device_seq: u64,
    ) -> Result<Option<(u64, EnvelopeHash)>>;
    /// `(device_seq, hash)` of the author's newest stored envelope.
    fn last_of(&mut self, author: &DeviceId) -> Result<Option<(u64, EnvelopeHash)>>;
    /// Stores the envelope under the next cursor and returns it.
    fn insert(&mut self, envelope: &NewEnvelope) -> Result<u64>;
}

/// Applies a batch; returns the cursors (one per envelope) and how many were new.
pub fn apply_push(
    tx: &mut dyn PushTx,
    state: &MembershipState,
    batch: &[NewEnvelope],
) -> Result<(Vec<u64>, usize)> {
    let mut cursors = Vec::with_capacity(batch.len());
    let mut stored = 0;
    for envelope in batch {
        let header = envelope.verified.header();
        if let Some((cursor, hash)) = tx.stored_at(&header.author, header.device_seq)? {
            if hash != envelope.verified.hash() {
                return Err(Error::Fork {
                    what: CHAIN,
                    seq: header.device_seq,
                });
            }
            cursors.push(cursor);
            continue;
        }
        match header.check_follows(tx.last_of(&header.author)?) {
            // The position is below the author's newest but not stored: cannot happen
            // with contiguous chains; treat it as a fork rather than trust it.
            Err(Error::AlreadyApplied { seq, .. }) => return Err(Error::Fork { what: CHAIN, seq }),
            other => other?,
        }
        envelope.verified.check_current_epoch(state)?;
        cursors.push(tx.insert(envelope)?);
        stored += 1;
    }
    Ok((cursors, stored))
}
