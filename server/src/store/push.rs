//! The rules of a push, independent of the storage backend.
//!
//! Each envelope has already passed [`kring_trust::envelope::verify`] (signature, writer
//! at the cited membership head). Here, inside the backend's transaction:
//! - an envelope already stored at its `(author, device_seq)` returns its cursor if it
//!   is the very same envelope (a retry), and is a fork otherwise;
//! - a new one must use the current key epoch
//!   ([`VerifiedEnvelope::check_current_epoch`](kring_trust::envelope::VerifiedEnvelope::check_current_epoch))
//!   and follow its author's previous envelope
//!   ([`EnvelopeHeader::check_follows`](kring_trust::envelope::EnvelopeHeader::check_follows)).
//!
//! Any `Err` aborts the whole batch (the backend rolls the transaction back).

use crate::error::{Error, Result};
use kring_trust::envelope::EnvelopeHash;
use kring_trust::identity::DeviceId;
use kring_trust::membership::{Action, MembershipState, SignedEntry, WriteCutoff};
use kring_trust::Error as TrustError;

use super::NewEnvelope;

/// What the relay stores at most (the operator's flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    pub circle_bytes: u64,
    pub circle_envelopes: u64,
    pub device_bytes_per_day: u64,
    pub device_envelopes_per_day: u64,
}

impl Quotas {
    /// No limits (tests of other rules).
    pub const NONE: Quotas = Quotas {
        circle_bytes: u64::MAX,
        circle_envelopes: u64::MAX,
        device_bytes_per_day: u64::MAX,
        device_envelopes_per_day: u64::MAX,
    };
}

/// Envelopes and their bytes: a circle's total, or a device's for one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub envelopes: u64,
    pub bytes: u64,
}

const MS_PER_DAY: i64 = 86_400_000;

/// The key of the daily quota an envelope by `author` counts against: the author's
/// member in this circle, so all of a member's devices share one quota (a member
/// cannot multiply it by linking more devices). Derived from the circle and the
/// member id together: member ids are chosen by clients, and a member of another
/// circle naming the same id must not spend this one's quota. A device the state does
/// not know (cannot happen after `envelope::verify`) is its own account.
pub fn quota_account(state: &MembershipState, author: &DeviceId) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"kring relay daily quota account v1\0");
    hasher.update(state.circle().as_str().as_bytes());
    hasher.update(b"\0");
    match state.device(author) {
        Some(record) => hasher
            .update(b"member\0")
            .update(record.member().as_str().as_bytes()),
        None => hasher.update(b"device\0").update(author.as_bytes()),
    };
    *hasher.finalize().as_bytes()
}

/// The UTC day a time falls on, as days since the epoch.
pub fn day_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(MS_PER_DAY)
}

/// Counts one new envelope of `len` bytes against the circle's and its author's
/// member's day's usage ([`quota_account`]), or refuses it: the circle's quota is
/// storage (507, not transient), the member's is a daily rate (429 until the next UTC
/// day).
pub fn charge(
    quotas: &Quotas,
    circle: &mut Usage,
    day: &mut Usage,
    len: usize,
    now_ms: i64,
) -> Result<()> {
    let len = len as u64;
    if circle.bytes.saturating_add(len) > quotas.circle_bytes {
        return Err(Error::Trust(TrustError::QuotaExceeded {
            what: "envelope bytes in this circle",
            limit: quotas.circle_bytes,
        }));
    }
    if circle.envelopes >= quotas.circle_envelopes {
        return Err(Error::Trust(TrustError::QuotaExceeded {
            what: "envelopes in this circle",
            limit: quotas.circle_envelopes,
        }));
    }
    let retry_after_secs = {
        let next_day = (day_of(now_ms) + 1) * MS_PER_DAY;
        u64::try_from((next_day - now_ms) / 1000)
            .unwrap_or(1)
            .max(1)
    };
    if day.bytes.saturating_add(len) > quotas.device_bytes_per_day {
        return Err(Error::Trust(TrustError::DailyQuotaExceeded {
            what: "envelope bytes from this member's devices today",
            limit: quotas.device_bytes_per_day,
            retry_after_secs,
        }));
    }
    if day.envelopes >= quotas.device_envelopes_per_day {
        return Err(Error::Trust(TrustError::DailyQuotaExceeded {
            what: "envelopes from this member's devices today",
            limit: quotas.device_envelopes_per_day,
            retry_after_secs,
        }));
    }
    circle.bytes += len;
    circle.envelopes += 1;
    day.bytes += len;
    day.envelopes += 1;
    Ok(())
}

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
    /// Stores the envelope under the next cursor and returns it. Counts it against
    /// the quotas first ([`charge`]), refusing it if they are used up.
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
                return Err(Error::Trust(TrustError::Fork {
                    what: CHAIN,
                    seq: header.device_seq,
                }));
            }
            cursors.push(cursor);
            continue;
        }
        match header.check_follows(tx.last_of(&header.author)?) {
            // The position is below the author's newest but not stored: cannot happen
            // with contiguous chains; treat it as a fork rather than trust it.
            Err(TrustError::AlreadyApplied { seq, .. }) => {
                return Err(TrustError::Fork { what: CHAIN, seq }.into())
            }
            other => other?,
        }
        envelope.verified.check_current_epoch(state)?;
        cursors.push(tx.insert(envelope)?);
        stored += 1;
    }
    Ok((cursors, stored))
}

/// The write cut-offs an entry sets (a removal or demotion), if any.
pub fn write_cutoffs(entry: &SignedEntry) -> &[WriteCutoff] {
    match &entry.body().action {
        Action::SetCapability { cutoffs, .. }
        | Action::RemoveMember { cutoffs, .. }
        | Action::RemoveDevice { cutoffs, .. } => cutoffs,
        _ => &[],
    }
}

/// Refuses an entry whose cut-off lies before an envelope the relay already stores
/// from that device (`stored`: each device's newest `device_seq`): accepting it
/// would turn stored, acknowledged history invalid for every client.
pub fn check_cutoffs(
    cutoffs: &[WriteCutoff],
    stored: &[(DeviceId, u64)],
) -> std::result::Result<(), TrustError> {
    for cutoff in cutoffs {
        if let Some((_, last)) = stored
            .iter()
            .find(|(device, last)| *device == cutoff.device && *last > cutoff.last_seq)
        {
            return Err(TrustError::CutoffBehindRelay {
                device: cutoff.device,
                cutoff: cutoff.last_seq,
                stored: *last,
            });
        }
    }
    Ok(())
}

/// A snapshot must cover at least one envelope and no more than are stored; returns
/// the cursor it covers.
pub fn check_snapshot_covers(covers: u64, latest: u64) -> std::result::Result<u64, TrustError> {
    if covers == 0 {
        return Err(TrustError::BadRequest(
            "a snapshot covers at least one envelope".into(),
        ));
    }
    if covers > latest {
        return Err(TrustError::BadRequest(format!(
            "the snapshot covers cursor {covers}, but the circle's newest is {latest}"
        )));
    }
    Ok(covers)
}
