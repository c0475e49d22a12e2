//! Snapshots as a device uses them: the trust layer's snapshot
//! ([`kring_trust::snapshot`]) carrying the saved plan, checked against the signed
//! envelopes it cites before anything of it is used.
//!
//! Opening one: the trust layer checks the maker (a device of the main person), the
//! signature and the key; each attestation is opened as any envelope (its author's
//! signature and rights at the head it cites, every change by its author); then
//! [`CirclePlan::check_authorship`] checks that every change in the document is one of
//! those authors signed. Making one runs the same check on the maker's own attestations
//! first, so a device never uploads what others would refuse.

use automerge::{ActorId, Change};
use kring_plan::plan::{CircleId, CirclePlan};
use kring_trust::envelope::EnvelopeHash;
use kring_trust::identity::{DeviceId, DeviceIdentity};
use kring_trust::keyring::Keyring;
use kring_trust::membership::MembershipState;
use kring_trust::snapshot;

use crate::envelope;
use crate::error::{Error, Result};

/// When a device uses snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// A joining device starts from the relay's snapshot when there is one.
    pub start_from: bool,
    /// A device of the main person uploads a new snapshot once the circle's cursor is
    /// this far past the last one (0: never).
    pub make_every: u64,
}

impl Default for SnapshotPolicy {
    /// A snapshot about every 1,000 envelopes: a busy circle makes a few a month, and
    /// a new device never replays more than that.
    fn default() -> Self {
        Self {
            start_from: true,
            make_every: 1_000,
        }
    }
}

/// A snapshot that passed every check: where a device may start from.
pub struct CheckedSnapshot {
    pub plan: CirclePlan,
    /// The document as it came (what the plan was loaded from).
    pub document: Vec<u8>,
    /// Pull after this cursor.
    pub covers: u64,
    /// Each attested device's last envelope: `(device, device_seq, hash, bytes)`, the
    /// device heads a device starting here continues from.
    pub heads: Vec<(DeviceId, u64, EnvelopeHash, Vec<u8>)>,
}

/// Seals `plan` as a snapshot covering `covers`, with `attestations` (each device's
/// last envelope as received, this device's own last acknowledged one), after checking
/// it as a receiver would.
pub fn make(
    maker: &DeviceIdentity,
    state: &MembershipState,
    keys: &Keyring,
    plan: &CirclePlan,
    covers: u64,
    attestations: &[Vec<u8>],
) -> Result<Vec<u8>> {
    let (last_changes, _) = open_attestations(attestations, state, keys)?;
    plan.check_authorship(&last_changes)?;
    Ok(snapshot::seal(
        maker,
        state,
        keys,
        covers,
        &plan.export(),
        attestations,
    )?)
}

/// Verifies, decrypts and checks a snapshot of `circle` (see the module docs); the
/// plan is opened with `actor`, this device's.
pub fn open(
    bytes: &[u8],
    circle: &CircleId,
    state: &MembershipState,
    keys: &Keyring,
    actor: ActorId,
) -> Result<CheckedSnapshot> {
    let opened = snapshot::open(bytes, state, keys)?;
    // The maker's bytes go through automerge's loader; one crafted to trip an
    // assertion in it is refused like any other bad document.
    let plan = std::panic::catch_unwind(|| CirclePlan::load(&opened.document, actor)).map_err(
        |_| kring_plan::Error::MalformedDocument("the snapshot's document does not load".into()),
    )??;
    if plan.circle_id() != circle {
        return Err(kring_trust::Error::WrongCircle {
            expected: circle.to_string(),
            found: plan.circle_id().to_string(),
        }
        .into());
    }
    let (last_changes, heads) = open_attestations(&opened.attestations, state, keys)?;
    plan.check_authorship(&last_changes)?;
    Ok(CheckedSnapshot {
        plan,
        document: opened.document,
        covers: opened.header.covers,
        heads,
    })
}

type Heads = Vec<(DeviceId, u64, EnvelopeHash, Vec<u8>)>;

/// Opens each attestation as an envelope; returns the hash of the last change in each
/// (highest `seq`: the one that fixes all of its author's earlier changes) and the
/// device heads they make.
fn open_attestations(
    attestations: &[Vec<u8>],
    state: &MembershipState,
    keys: &Keyring,
) -> Result<(Vec<automerge::ChangeHash>, Heads)> {
    let mut last_changes = Vec::with_capacity(attestations.len());
    let mut heads = Vec::with_capacity(attestations.len());
    for bytes in attestations {
        let opened = envelope::open(bytes, state, keys)?;
        let last = opened
            .changes()
            .iter()
            .max_by_key(|c| c.seq())
            .map(Change::hash)
            .ok_or(Error::Trust(kring_trust::Error::Malformed {
                what: "attestation",
                detail: "an envelope without changes".into(),
            }))?;
        last_changes.push(last);
        let header = opened.header();
        heads.push((
            header.author,
            header.device_seq,
            opened.hash(),
            bytes.clone(),
        ));
    }
    Ok((last_changes, heads))
}
