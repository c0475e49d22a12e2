//! What a device keeps about sync besides the plan, as data: its own envelopes (the
//! outbox and what the relay acknowledged), received envelopes that wait for their
//! automerge dependencies, the last envelope seen per author, and where the circle
//! stands with its relay. The native store (`kring-client`, SQLite) and the web app
//! (IndexedDB) each persist these; the engine decides on them.

use std::collections::BTreeMap;

use automerge::ChangeHash;
use kring_plan::plan::CircleId;
use kring_trust::envelope::EnvelopeHash;

use crate::envelope::SealedEnvelope;
use kring_trust::identity::DeviceId;
use kring_trust::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One of this device's own envelopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnEnvelope {
    pub device_seq: u64,
    pub hash: EnvelopeHash,
    pub bytes: Vec<u8>,
    /// The relay has acknowledged it (it is committed there).
    pub acked: bool,
    /// The relay's cursor for it, once known.
    pub cursor: Option<u64>,
}

impl OwnEnvelope {
    /// A newly sealed envelope as it waits in the outbox.
    pub fn pending(sealed: &SealedEnvelope) -> Self {
        OwnEnvelope {
            device_seq: sealed.header().device_seq,
            hash: sealed.hash(),
            bytes: sealed.as_bytes().to_vec(),
            acked: false,
            cursor: None,
        }
    }
}

/// A received envelope that verified but whose changes wait for automerge
/// dependencies that have not arrived yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingEnvelope {
    pub cursor: u64,
    pub author: DeviceId,
    pub device_seq: u64,
    pub hash: EnvelopeHash,
    pub bytes: Vec<u8>,
}

/// The last envelope seen per author device: `(device_seq, hash)`.
pub type DeviceHeads = BTreeMap<DeviceId, (u64, EnvelopeHash)>;

/// Where a circle stands with its relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRecord {
    pub circle: CircleId,
    pub relay_url: Option<String>,
    /// The relay holds the circle's genesis (the founder registered it).
    pub registered: bool,
    /// The relay cursor up to which envelopes have been pulled and processed.
    pub pull_cursor: u64,
    /// The document heads at the last time this device sealed its own changes.
    pub sealed_heads: Vec<ChangeHash>,
    pub last_synced_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    /// Why the last attempt failed (`None` after a successful sync).
    pub last_error: Option<String>,
    /// The last attempt failed because the relay could not be reached.
    pub offline: bool,
    /// The relay refused this device as removed from the circle (a removed device
    /// may no longer read the log, so it learns this from the refusal).
    pub removed: bool,
    /// A join whose membership entry is in but whose plan could not be fetched yet
    /// (JSON, owned by the device façade).
    pub pending_join: Option<String>,
    /// When this device learned that the circle was closed on its relay (by its
    /// owner, or by the relay's retention of inactive circles). From then on the
    /// circle is a read-only archive here: it is never synced or written again.
    pub closed_at: Option<Timestamp>,
    /// The relay announced it will close the circle at this time for inactivity
    /// (its operator's retention period); any new change resets that clock.
    pub closes_at: Option<Timestamp>,
    /// The relay cursor covered by the newest snapshot this device made or started
    /// from, or where making one last failed (0: none); a device of the main person
    /// tries the next one well past it.
    pub snapshot_cursor: u64,
}

impl SyncRecord {
    pub fn new(circle: CircleId, relay_url: Option<String>) -> Self {
        Self {
            circle,
            relay_url,
            registered: false,
            pull_cursor: 0,
            sealed_heads: Vec::new(),
            last_synced_at: None,
            last_attempt_at: None,
            last_error: None,
            offline: false,
            removed: false,
            pending_join: None,
            closed_at: None,
            closes_at: None,
            snapshot_cursor: 0,
        }
    }
}
