//! Signed bundles: the offline file path for circles with a membership log.
//!
//! A bundle holds the circle's membership log and this device's own signed envelopes:
//! exactly what the relay would carry. Merging one runs every check sync runs (the log
//! is validated and must not fork, every envelope is verified at the membership head it
//! cites, decrypted and judged by the plan's rules) through the same code
//! ([`super::receive`]), and seals nothing: what comes from a file is never passed on
//! as this device's own. A raw `.automerge` export, by contrast, is unsigned and only
//! an interchange copy (see [`Device::merge_bytes`]).

use kring_trust::Error as TrustError;
use serde::{Deserialize, Serialize};

use super::{receive, Device};
use crate::error::{Error, Result};
use crate::sync::engine::Incoming;
use kring_plan::plan::CircleId;
use kring_trust::protocol::Base64;
use kring_trust::time::Timestamp;

/// Marks the file as a bundle and says which layout it has.
const FORMAT: &str = "kring-signed-bundle";
const VERSION: u32 = 1;
/// A bundle read from a file is parsed whole; this bounds what one file can cost.
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
struct Bundle {
    format: String,
    version: u32,
    circle: CircleId,
    log: Vec<Base64>,
    envelopes: Vec<Base64>,
}

/// What merging a bundle did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BundleReport {
    pub circle: Option<CircleId>,
    /// New membership log entries learned.
    pub membership_entries: usize,
    /// Changes of other devices that became part of the plan.
    pub applied_changes: usize,
    /// Envelopes refused (never applied).
    pub rejected: usize,
    /// Envelopes waiting for changes they depend on.
    pub waiting: usize,
}

/// Whether `bytes` look like a signed bundle (as opposed to an automerge file).
pub fn is_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(b"{") && bytes.windows(FORMAT.len()).any(|w| w == FORMAT.as_bytes())
}

impl Device {
    /// The circle's membership log and this device's own signed envelopes, as one file.
    pub fn export_signed(&self, circle: &CircleId) -> Result<Vec<u8>> {
        let log = self.store.membership_log(circle)?;
        if log.is_empty() {
            return Err(Error::LocalOnly(circle.to_string()));
        }
        let envelopes = self
            .store
            .own_envelopes_from(circle, &self.identity.id(), 1)?
            .into_iter()
            .map(|e| Base64(e.bytes))
            .collect();
        let bundle = Bundle {
            format: FORMAT.to_owned(),
            version: VERSION,
            circle: circle.clone(),
            log: log.into_iter().map(Base64).collect(),
            envelopes,
        };
        serde_json::to_vec(&bundle).map_err(|e| {
            Error::Trust(TrustError::Malformed {
                what: "signed bundle",
                detail: e.to_string(),
            })
        })
    }

    /// Merges a signed bundle of a circle this device is in: checked as sync checks
    /// what the relay sends. All or nothing: on `Err` nothing is stored.
    pub fn merge_signed(&mut self, bytes: &[u8], now: Timestamp) -> Result<BundleReport> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(Error::Trust(TrustError::Oversized {
                what: "signed bundle",
                len: bytes.len(),
                max: MAX_BUNDLE_BYTES,
            }));
        }
        let bundle: Bundle = serde_json::from_slice(bytes).map_err(|e| {
            Error::Trust(TrustError::Malformed {
                what: "signed bundle",
                detail: e.to_string(),
            })
        })?;
        if bundle.format != FORMAT || bundle.version != VERSION {
            return Err(Error::Trust(TrustError::UnsupportedVersion {
                what: "signed bundle",
                version: u8::try_from(bundle.version).unwrap_or(u8::MAX),
            }));
        }
        let circle = bundle.circle;
        super::require_open(self.store.sync_record(&circle)?.as_ref())?;
        let mut trust = self
            .trust(&circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        let log: Vec<Vec<u8>> = bundle.log.into_iter().map(|b| b.0).collect();
        let learned = trust.absorb(&self.identity, &log)?;
        let me = self.identity.id();
        let mut heads = self.store.device_heads(&circle)?;
        let mut received = Vec::new();
        let mut report = BundleReport {
            circle: Some(circle.clone()),
            membership_entries: learned.len(),
            ..BundleReport::default()
        };
        let mut envelopes: Vec<(u64, Vec<u8>)> = bundle
            .envelopes
            .into_iter()
            .map(|b| {
                let seq = crate::envelope::read_header(&b.0).map_or(0, |h| h.device_seq);
                (seq, b.0)
            })
            .collect();
        // Each author's chain in order, as the relay would give it.
        envelopes.sort_by_key(|(seq, _)| *seq);
        for (_, bytes) in envelopes {
            match receive::classify(&self.store, bytes, 0, &trust, &me, &heads)? {
                Incoming::Apply(r) => {
                    heads.insert(r.author, (r.device_seq, r.hash));
                    received.push(r);
                }
                Incoming::Own { .. } | Incoming::Duplicate => {}
                Incoming::NeedMembership | Incoming::Rejected(_) => report.rejected += 1,
            }
        }
        let tx = self.store.begin()?;
        for r in &received {
            tx.set_device_head(&circle, &r.author, r.device_seq, &r.hash)?;
        }
        let first_new = trust.len() - learned.len() as u64;
        let entries: Vec<(u64, &[u8])> = learned
            .iter()
            .enumerate()
            .map(|(i, e)| (first_new + i as u64, e.as_bytes()))
            .collect();
        tx.append_membership(&circle, &entries)?;
        let outcome =
            receive::apply_envelopes(&tx, &self.identity, &trust, received, Vec::new(), now)?;
        tx.commit()?;
        report.applied_changes = outcome.applied_changes;
        report.rejected += outcome.rejected.len();
        report.waiting = outcome.waiting.len();
        Ok(report)
    }
}
