//! The sync engine: every decision the sync client makes, free of IO.
//!
//! The device façade (`crate::device`) is the driver: it reads local state from the
//! store, talks to the relay through a transport, hands what it got to these functions,
//! and persists what they decide. Nothing here touches the network, the disk or the
//! clock, so every rule below is unit-tested without a relay (see the tests at the end
//! and `docs/sync.md`).
//!
//! - [`CircleTrust`]: a circle's membership log, the state it validates to, and the
//!   keys this device learns from it; absorbs what the relay sends, atomically.
//! - [`classify`]: what to do with one pulled envelope (apply, acknowledge our own,
//!   skip a duplicate, refresh the membership log first, or reject).
//! - [`apply_received`]: applies verified changes to the plan and tells which
//!   envelopes must wait for automerge dependencies that have not arrived yet.
//! - [`push_batches`], [`needs_reseal`], [`reseal`]: the outbox side.
//! - [`recovery`] and [`Backoff`]: what a failed request means and when to retry.
//! - [`status`]: the summary a UI shows.

use kring_trust::Error as TrustError;
use std::time::Duration;

use automerge::{Change, ChangeHash};
use serde::Serialize;

use crate::envelope::{self, EnvelopeHash, OpenedEnvelope, Readers, SealedEnvelope, SealedFor};
use crate::error::{Error, Result};
use crate::records::{DeviceHeads, OwnEnvelope, SyncRecord, WaitingEnvelope};
use kring_plan::plan::{Authority, CircleId, CirclePlan, MemberId, Rights};
use kring_trust::identity::{DeviceId, DeviceIdentity};
use kring_trust::keyring::Keyring;
use kring_trust::membership::build::LastSeqs;
use kring_trust::membership::{Capability, MembershipState, SignedEntry};
use kring_trust::protocol::{MAX_BODY_BYTES, MAX_PUSH_BATCH};
use kring_trust::time::Timestamp;

// ---- membership -------------------------------------------------------------------------

/// One circle's membership log as this device holds it, validated, with the keys the
/// device learned from it.
#[derive(Debug, Clone)]
pub struct CircleTrust {
    entries: Vec<SignedEntry>,
    state: MembershipState,
    keys: Keyring,
}

/// Where this device stands in a circle, according to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// May read and write (member, admin or owner).
    Writer(Capability),
    Reader,
    /// Was in the circle and has been removed.
    Removed,
    /// Not (yet) in the log.
    NotMember,
}

impl CircleTrust {
    /// Validates a stored or fetched log from genesis.
    pub fn from_log(identity: &DeviceIdentity, log: &[Vec<u8>]) -> Result<Self> {
        let entries = log
            .iter()
            .map(|bytes| SignedEntry::from_bytes(bytes))
            .collect::<kring_trust::Result<Vec<_>>>()?;
        let state = MembershipState::from_log(&entries)?;
        let mut keys = Keyring::new();
        for entry in &entries {
            // A wrap that does not open for this device (a faulty admin) leaves that
            // epoch unknown: its envelopes are then rejected, the rest keeps working,
            // and the next rotation repairs it (see docs/threat-model.md).
            let _ = keys.absorb(identity, &state, entry);
        }
        Ok(Self {
            entries,
            state,
            keys,
        })
    }

    pub fn state(&self) -> &MembershipState {
        &self.state
    }

    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    pub fn entries(&self) -> &[SignedEntry] {
        &self.entries
    }

    pub fn circle(&self) -> &CircleId {
        self.state.circle()
    }

    pub fn len(&self) -> u64 {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// The genesis entry (the relay needs it to register the circle).
    pub fn genesis(&self) -> Option<&SignedEntry> {
        self.entries.first()
    }

    /// The capabilities of the log's current members, for local plan operations.
    pub fn authority(&self) -> Authority {
        Authority::Log(
            self.state
                .members()
                .filter(|(_, record)| !record.is_removed())
                .map(|(member, record)| (member.clone(), record.capability()))
                .collect(),
        )
    }

    /// The rights `device` wrote with when it cited membership head `head` (what the
    /// plan's rules judge its changes by): its member and that member's capability
    /// right after `head`. `None` when the device could not write there.
    pub fn rights_at(
        &self,
        device: &DeviceId,
        head: &kring_trust::membership::EntryHash,
    ) -> Option<Rights> {
        let position = self.state.position_of(head)?;
        let record = self.state.device(device)?;
        Some(Rights {
            member: record.member().clone(),
            capability: record.capability_at(position)?,
            professional: false,
        })
    }

    /// The rights of this circle's `device` now (for its own changes echoed back).
    pub fn rights_now(&self, device: &DeviceId) -> Option<Rights> {
        self.rights_at(device, &self.state.head())
    }

    /// `member`'s capability as the log holds it now; `None` once removed (or never
    /// in it).
    pub fn capability_of(&self, member: &MemberId) -> Option<Capability> {
        self.state
            .member(member)
            .filter(|m| !m.is_removed())
            .map(|m| m.capability())
    }

    pub fn standing(&self, device: &DeviceId) -> Standing {
        match self.state.capability_of(device) {
            Some(c) if c.can_write() => Standing::Writer(c),
            Some(_) => Standing::Reader,
            None if self.state.device(device).is_some() => Standing::Removed,
            None => Standing::NotMember,
        }
    }

    /// Absorbs entries fetched from the relay, in log order. Entries this device
    /// already holds must be identical (anything else is a fork shown by the relay);
    /// new ones must validate. All or nothing: on `Err` nothing changed. Returns the
    /// new entries, to persist.
    pub fn absorb(
        &mut self,
        identity: &DeviceIdentity,
        remote: &[Vec<u8>],
    ) -> Result<Vec<SignedEntry>> {
        let mut next = self.clone();
        let mut added = Vec::new();
        for bytes in remote {
            let entry = SignedEntry::from_bytes(bytes)?;
            let seq = entry.seq();
            if seq < next.state.len() {
                if next.state.hash_at(seq) != Some(entry.hash()) {
                    return Err(Error::Trust(TrustError::Fork {
                        what: "membership log",
                        seq,
                    }));
                }
                continue;
            }
            next.push(identity, entry.clone())?;
            added.push(entry);
        }
        *self = next;
        Ok(added)
    }

    /// Appends one entry (say, ours, after the relay accepted it).
    pub fn push(&mut self, identity: &DeviceIdentity, entry: SignedEntry) -> Result<()> {
        self.state.apply_mut(&entry)?;
        let _ = self.keys.absorb(identity, &self.state, &entry);
        self.entries.push(entry);
        Ok(())
    }
}

/// Write cutoffs for a removal come from what this device has seen of each author.
pub fn last_seqs(heads: &DeviceHeads) -> LastSeqs {
    heads
        .iter()
        .map(|(device, (seq, _))| (*device, *seq))
        .collect()
}

// ---- pulling ----------------------------------------------------------------------------

/// What to do with one pulled envelope.
#[derive(Debug)]
pub enum Incoming {
    /// Verified and decrypted: apply its changes.
    Apply(Received),
    /// One of this device's own envelopes, echoed back: it is committed at the relay.
    Own {
        device_seq: u64,
        hash: EnvelopeHash,
        cursor: u64,
        bytes: Vec<u8>,
    },
    /// At or before the author's last envelope seen here: already processed.
    Duplicate,
    /// Cites a membership head this device does not know yet: refresh the log and
    /// look again.
    NeedMembership,
    /// Refused for good (bad signature, removed author beyond its cutoff, a key that
    /// does not open …). Never applied; counted in the sync report.
    Rejected(Error),
}

/// A verified, decrypted envelope from another device.
#[derive(Debug, Clone)]
pub struct Received {
    pub cursor: u64,
    pub author: DeviceId,
    pub device_seq: u64,
    pub hash: EnvelopeHash,
    pub bytes: Vec<u8>,
    pub changes: Vec<Change>,
    /// What the author could do at the membership head the envelope cites.
    pub rights: Rights,
    /// Sealed for the family under this generation, in a family time not presented
    /// (yet): kept out of the plan, with no changes taken from it (see
    /// [`family_draft`]); offered again once a presentation reveals it.
    pub family: Option<u64>,
}

impl Received {
    fn new(
        cursor: u64,
        bytes: Vec<u8>,
        opened: OpenedEnvelope,
        trust: &CircleTrust,
    ) -> Result<Self> {
        let header = opened.header();
        // The envelope verified at this head, so the device had a capability there.
        let rights = trust
            .rights_at(&header.author, &header.membership_head)
            .ok_or(TrustError::DeviceNotMember(header.author))?;
        Ok(Self {
            cursor,
            author: header.author,
            device_seq: header.device_seq,
            hash: opened.hash(),
            bytes,
            changes: opened.into_changes(),
            rights,
            family: None,
        })
    }

    pub fn waiting(&self) -> WaitingEnvelope {
        WaitingEnvelope {
            cursor: self.cursor,
            author: self.author,
            device_seq: self.device_seq,
            hash: self.hash,
            bytes: self.bytes.clone(),
        }
    }
}

/// Decides what to do with the envelope at `cursor`. `heads` holds the last envelope
/// seen per author (update it with every [`Incoming::Apply`]).
///
/// Order of checks: signature and authority at the cited membership head first (so
/// nothing unverified is even looked at), then our own echo, then the author's chain
/// (the relay guarantees contiguity per author, so an envelope at or before the last
/// one seen is a harmless repeat and a gap is a relay fault), then decryption.
pub fn classify(
    bytes: Vec<u8>,
    cursor: u64,
    trust: &CircleTrust,
    me: &DeviceId,
    heads: &DeviceHeads,
) -> Incoming {
    let verified = match envelope::verify(&bytes, &trust.state) {
        Ok(verified) => verified,
        Err(TrustError::UnknownHead(_)) => return Incoming::NeedMembership,
        Err(e) => return Incoming::Rejected(e.into()),
    };
    let header = verified.header().clone();
    if header.author == *me {
        return Incoming::Own {
            device_seq: header.device_seq,
            hash: verified.hash(),
            cursor,
            bytes,
        };
    }
    match header.check_follows(heads.get(&header.author).copied()) {
        Ok(()) => {}
        Err(TrustError::AlreadyApplied { .. }) => return Incoming::Duplicate,
        Err(e) => return Incoming::Rejected(e.into()),
    }
    match received(verified, cursor, bytes, trust) {
        Ok(received) => Incoming::Apply(received),
        Err(e) => Incoming::Rejected(e),
    }
}

/// A verified envelope as received. One sealed for the family is opened only once a
/// presentation made its generation the circle's (`docs/threat-model.md`, "Family
/// time"); until then it is kept with no plan changes — a professional's device
/// cannot open it, and a family device reads it only into the draft
/// ([`family_draft`]) — and one of a family time closed without presenting is taken
/// with none at all. Either way it counts as its author's next envelope, so the
/// author's chain goes on.
fn received(
    verified: envelope::VerifiedEnvelope,
    cursor: u64,
    bytes: Vec<u8>,
    trust: &CircleTrust,
) -> Result<Received> {
    if let SealedFor::Family { generation } = verified.sealed_for() {
        let state = trust.state();
        if state.family_presented_at(generation).is_none() {
            let header = verified.header();
            let rights = trust
                .rights_at(&header.author, &header.membership_head)
                .ok_or(TrustError::DeviceNotMember(header.author))?;
            let kept = state.family_session().contains(&generation);
            return Ok(Received {
                cursor,
                author: header.author,
                device_seq: header.device_seq,
                hash: verified.hash(),
                bytes,
                changes: Vec::new(),
                rights,
                family: kept.then_some(generation),
            });
        }
    }
    envelope::decrypt(verified, &trust.keys)
        .and_then(|opened| Received::new(cursor, bytes, opened, trust))
}

/// Whether `me` writes for the family alone now: family time is open and it is a
/// device of the family. Its plan changes are then sealed for the family (into the
/// draft); when its family key is out of date they are refused, never widened to the
/// whole circle.
pub fn writes_for_family(trust: &CircleTrust, me: &DeviceId) -> bool {
    let state = trust.state();
    state.family_time_open() && state.family_devices().contains(me)
}

/// The family's draft during family time, as a device of the family reads it: the
/// plan with what the family wrote in this family time applied by the same rules
/// (`family` holds the family envelopes this device keeps: others' that wait, and its
/// own). `None` when family time is not open or this device holds none of its keys
/// (a professional's): then the plan is all there is to read.
///
/// The draft is derived, never stored: the plan document itself holds only what the
/// whole circle may read, so nothing a family device later seals for the circle can
/// depend on a change a professional cannot open.
pub fn family_draft(
    plan: &CirclePlan,
    trust: &CircleTrust,
    family: &[WaitingEnvelope],
) -> Option<CirclePlan> {
    let session = trust.state().family_session();
    if !session.iter().any(|g| trust.keys().family_key(*g).is_ok()) {
        return None;
    }
    let opened: Vec<Received> = family
        .iter()
        .filter_map(|kept| {
            let verified = envelope::verify(&kept.bytes, &trust.state).ok()?;
            let SealedFor::Family { generation } = verified.sealed_for() else {
                return None;
            };
            if !session.contains(&generation) {
                return None;
            }
            let opened = envelope::decrypt(verified, &trust.keys).ok()?;
            Received::new(kept.cursor, kept.bytes.clone(), opened, trust).ok()
        })
        .collect();
    let mut draft = plan.fork();
    apply_received(&mut draft, &opened);
    Some(draft)
}

/// Opens a stored waiting envelope again (it was verified when it arrived; the
/// membership log has only grown since, so it verifies the same way).
pub fn reopen(waiting: &WaitingEnvelope, trust: &CircleTrust) -> Result<Received> {
    let verified = envelope::verify(&waiting.bytes, &trust.state)?;
    received(verified, waiting.cursor, waiting.bytes.clone(), trust)
}

/// What [`apply_received`] did.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    /// Changes that became part of the plan.
    pub applied_changes: usize,
    /// Envelopes whose changes are all in the plan now.
    pub complete: Vec<(DeviceId, u64)>,
    /// Envelopes whose changes wait for dependencies (keep them, retry next time).
    pub waiting: Vec<WaitingEnvelope>,
    /// Envelopes refused: automerge could not read them, or a change in them breaks
    /// the plan's rules (`plan::authority`). Never applied; their authors' later
    /// changes build on them and are refused as well.
    pub rejected: Vec<(DeviceId, u64, String)>,
}

/// Applies the changes of `received`, each judged by the plan's rules with its
/// envelope's rights (in one call, so dependencies among them resolve in any order),
/// and sorts the envelopes into complete, waiting and rejected.
///
/// An envelope is complete only when all its changes are part of the document;
/// otherwise the caller stores it and offers it again.
pub fn apply_received(plan: &mut CirclePlan, received: &[Received]) -> ApplyOutcome {
    let mut outcome = ApplyOutcome::default();
    let all: Vec<(Change, Rights)> = received
        .iter()
        .flat_map(|r| r.changes.iter().map(|c| (c.clone(), r.rights.clone())))
        .collect();
    let refused: Vec<(ChangeHash, Error)> = match plan.apply_checked(all) {
        Ok(checked) => {
            outcome.applied_changes = checked.applied;
            checked
                .refused
                .into_iter()
                .map(|(h, e)| (h, e.into()))
                .collect()
        }
        Err(_) => {
            // One unreadable envelope must not block the others: one by one.
            let mut refused = Vec::new();
            for r in received {
                let changes = r.changes.iter().map(|c| (c.clone(), r.rights.clone()));
                match plan.apply_checked(changes.collect()) {
                    Ok(checked) => {
                        outcome.applied_changes += checked.applied;
                        refused.extend(checked.refused.into_iter().map(|(h, e)| (h, e.into())));
                    }
                    Err(e) => refused.extend(r.changes.iter().map(|c| {
                        (
                            c.hash(),
                            Error::Trust(TrustError::Malformed {
                                what: "plan change",
                                detail: e.to_string(),
                            }),
                        )
                    })),
                }
            }
            refused
        }
    };
    for r in received {
        if r.family.is_some() {
            outcome.waiting.push(r.waiting());
            continue;
        }
        let refusal = refused
            .iter()
            .find(|(hash, _)| r.changes.iter().any(|c| c.hash() == *hash));
        if let Some((_, why)) = refusal {
            outcome
                .rejected
                .push((r.author, r.device_seq, why.to_string()));
        } else if r.changes.iter().all(|c| plan.has_change(&c.hash())) {
            outcome.complete.push((r.author, r.device_seq));
        } else {
            outcome.waiting.push(r.waiting());
        }
    }
    outcome
}

// ---- pushing ----------------------------------------------------------------------------

/// Splits `pending` (oldest first) into request-sized batches: at most
/// [`MAX_PUSH_BATCH`] envelopes and a JSON body within [`MAX_BODY_BYTES`].
pub fn push_batches(pending: &[OwnEnvelope]) -> Vec<std::ops::Range<usize>> {
    // `{"envelopes":[` … `]}` plus, per envelope, its base64 and `"",`.
    const OVERHEAD: usize = 32;
    let b64 = |n: usize| n.div_ceil(3) * 4 + 3;
    let mut batches = Vec::new();
    let mut start = 0;
    let mut size = OVERHEAD;
    for (i, envelope) in pending.iter().enumerate() {
        let len = b64(envelope.bytes.len());
        if i > start && (i - start == MAX_PUSH_BATCH || size + len > MAX_BODY_BYTES) {
            batches.push(start..i);
            start = i;
            size = OVERHEAD;
        }
        size += len;
    }
    if start < pending.len() {
        batches.push(start..pending.len());
    }
    batches
}

/// Whether the pending envelopes must be sealed again before they can be pushed:
/// the key rotated since they were sealed (the relay only takes the current epoch),
/// or they do not follow the last envelope the relay has from this device.
/// The first envelopes of `pending` that fit one push frame on the live socket
/// (`kring_trust::live::PushFrame`), or `None` when the first alone does not (it goes
/// over HTTP).
pub fn socket_batch(pending: &[OwnEnvelope]) -> Option<std::ops::Range<usize>> {
    use kring_trust::live::{MAX_PUSH_FRAME_BYTES, MAX_PUSH_FRAME_ENVELOPES};
    // The frame's header (kind, circle, request id), then a length per envelope.
    let mut size = 1 + 16 + 8;
    let mut end = 0;
    for envelope in pending.iter().take(MAX_PUSH_FRAME_ENVELOPES) {
        size += 4 + envelope.bytes.len();
        if size > MAX_PUSH_FRAME_BYTES {
            break;
        }
        end += 1;
    }
    (end > 0).then_some(0..end)
}

/// Own changes per envelope are capped well below `MAX_ENVELOPE_BYTES` (encryption
/// and the header add a little).
const SEAL_CHUNK_BYTES: usize = 192 * 1024;

/// Seals this device's new `changes` into its next envelopes, after `last` (its
/// newest own envelope: sequence and hash), as many as they need at
/// 192 KiB each, chained in order. The caller appends them to its
/// outbox in one transaction with the plan they came from.
pub fn seal_changes(
    readers: Readers,
    identity: &DeviceIdentity,
    trust: &CircleTrust,
    changes: &[Change],
    mut last: Option<(u64, EnvelopeHash)>,
) -> Result<Vec<SealedEnvelope>> {
    let mut sealed = Vec::new();
    for chunk in chunk_changes(changes) {
        let seq = last.map_or(1, |(seq, _)| seq + 1);
        let envelope = envelope::seal_for(
            readers,
            identity,
            trust.state(),
            trust.keys(),
            seq,
            last.map(|(_, hash)| hash),
            chunk,
        )?;
        last = Some((seq, envelope.hash()));
        sealed.push(envelope);
    }
    Ok(sealed)
}

/// Consecutive runs of changes that fit one envelope each.
fn chunk_changes(changes: &[Change]) -> Vec<&[Change]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, change) in changes.iter().enumerate() {
        let len = change.raw_bytes().len();
        if i > start && size + len > SEAL_CHUNK_BYTES {
            out.push(&changes[start..i]);
            start = i;
            size = 0;
        }
        size += len;
    }
    if start < changes.len() {
        out.push(&changes[start..]);
    }
    out
}

pub fn needs_reseal(
    pending: &[OwnEnvelope],
    last_acked: Option<(u64, EnvelopeHash)>,
    state: &MembershipState,
) -> Result<bool> {
    let Some(first) = pending.first() else {
        return Ok(false);
    };
    let header = envelope::read_header(&first.bytes)?;
    if header.check_follows(last_acked).is_err() {
        return Ok(true);
    }
    for envelope in pending {
        if envelope::read_header(&envelope.bytes)?.epoch != state.current_epoch() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Seals the changes of `pending` again, one envelope each at the same positions,
/// under the current key and membership head, chained after `after` (the last
/// envelope the relay has from this device). Only envelopes the relay does not have
/// may be resealed: pull first, so that echoes of envelopes whose acknowledgement
/// was lost are recorded.
pub fn reseal(
    identity: &DeviceIdentity,
    trust: &CircleTrust,
    pending: &[OwnEnvelope],
    after: Option<(u64, EnvelopeHash)>,
) -> Result<Vec<SealedEnvelope>> {
    let mut prev = after;
    let mut out = Vec::with_capacity(pending.len());
    for envelope in pending {
        let expected = prev.map_or(1, |(seq, _)| seq + 1);
        if envelope.device_seq != expected {
            return Err(Error::Trust(TrustError::BrokenChain {
                what: "outbox",
                expected_seq: expected,
                got_seq: envelope.device_seq,
            }));
        }
        // Sealed again for the same readers: what was the family's stays the family's
        // (and fails, rather than widen, when the family key is out of date).
        let verified = envelope::verify(&envelope.bytes, &trust.state)?;
        let readers = Readers::of(verified.sealed_for());
        let changes = envelope::decrypt(verified, &trust.keys)?.into_changes();
        let sealed = envelope::seal_for(
            readers,
            identity,
            &trust.state,
            &trust.keys,
            envelope.device_seq,
            prev.map(|(_, hash)| hash),
            &changes,
        )?;
        prev = Some((envelope.device_seq, sealed.hash()));
        out.push(sealed);
    }
    Ok(out)
}

// ---- failures ---------------------------------------------------------------------------

/// How long to wait between attempts: exponential, capped, with jitter so that many
/// devices coming back online together do not hit the relay in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    /// Attempts in all (the first one included).
    pub attempts: u32,
}

impl Backoff {
    /// For a sync a person is waiting for: gives up after about a second and a half
    /// (the outbox keeps everything for the next attempt).
    pub const SYNC: Backoff = Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(1),
        attempts: 4,
    };
    /// For the live connection, which keeps trying.
    pub const LIVE: Backoff = Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(30),
        attempts: u32::MAX,
    };

    /// The wait before attempt `attempt + 1` (after `attempt` failures, from 1);
    /// `jitter` in `[0, 1)` spreads it over the upper half of the window.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .initial
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)));
        let window = exp.min(self.max);
        window.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
    }
}

/// What a failed relay request means for the sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Send the same request again (freshly signed) after this delay.
    Retry(Duration),
    /// The membership log moved under us (key rotated, head unknown): refresh it,
    /// pull, reseal the outbox and push again.
    Refresh,
    /// The relay's chain for this device differs from the outbox: it expects
    /// `expected_seq` next.
    Gap { expected_seq: u64 },
    /// Report the error; nothing more to do now (the outbox stays as it is).
    Fail,
}

/// Classifies `error`, the `attempt`-th failure (from 1) of one request.
/// Only the trust layer's errors (the relay's answers and the network) can be anything
/// but [`Recovery::Fail`]; a caller holding another error does not retry it.
pub fn recovery(error: &TrustError, attempt: u32, backoff: &Backoff, jitter: f64) -> Recovery {
    let more = attempt < backoff.attempts;
    match error {
        TrustError::RateLimited { retry_after_secs } if more => Recovery::Retry(
            Duration::from_secs(*retry_after_secs).max(backoff.delay(attempt, jitter)),
        ),
        e if e.class().kind == kring_trust::ErrorKind::Unreachable && more => {
            Recovery::Retry(backoff.delay(attempt, jitter))
        }
        // A replay verdict on a retry whose first attempt did arrive: sign anew.
        TrustError::Relay { code, .. } if code == "replayed" && more => {
            Recovery::Retry(backoff.delay(attempt, jitter))
        }
        TrustError::StaleEpoch { .. } | TrustError::UnknownHead(_) => Recovery::Refresh,
        TrustError::Relay { code, .. }
            if code == kring_trust::error::codes::STALE_EPOCH
                || code == kring_trust::error::codes::REJECTED =>
        {
            Recovery::Refresh
        }
        TrustError::RelayGap { expected_seq } => Recovery::Gap {
            expected_seq: *expected_seq,
        },
        _ => Recovery::Fail,
    }
}

// ---- status -----------------------------------------------------------------------------

/// How a circle is connected, for a UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connectivity {
    /// Imported from a file: no membership log, never syncs.
    LocalOnly,
    /// No relay set yet.
    NoRelay,
    /// A relay is set but no sync was tried yet.
    NotSynced,
    /// The last sync succeeded.
    Online,
    /// The last sync could not reach the relay.
    Offline,
    /// The last sync reached the relay, which refused something (see the error).
    Error,
    /// This device was removed from the circle.
    Removed,
    /// The circle was closed on its relay; this device keeps a read-only archive.
    Closed,
}

/// What a UI shows about a circle's sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub circle: CircleId,
    pub relay_url: Option<String>,
    pub connectivity: Connectivity,
    /// This device's changes not yet acknowledged by the relay.
    pub pending: u64,
    /// Received envelopes waiting for changes they depend on.
    pub waiting: u64,
    pub last_synced_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub standing: Option<Standing>,
    /// The current key epoch (it grows with every removal).
    pub epoch: Option<u64>,
    /// When this device learned the circle was closed (it is a read-only archive).
    pub closed_at: Option<Timestamp>,
    /// When the relay will close the circle for inactivity, once it has warned.
    pub closes_at: Option<Timestamp>,
}

/// The status of a circle from what the store holds about it.
pub fn status(
    circle: &CircleId,
    record: Option<&SyncRecord>,
    standing: Option<Standing>,
    epoch: Option<u64>,
    pending: u64,
    waiting: u64,
) -> SyncStatus {
    let connectivity = match (record, standing) {
        (Some(r), _) if r.closed_at.is_some() => Connectivity::Closed,
        (_, Some(Standing::Removed)) => Connectivity::Removed,
        (Some(r), _) if r.removed => Connectivity::Removed,
        (None, _) => Connectivity::LocalOnly,
        (Some(r), _) if r.relay_url.is_none() => Connectivity::NoRelay,
        (Some(r), _) if r.last_attempt_at.is_none() => Connectivity::NotSynced,
        (Some(r), _) if r.last_error.is_none() => Connectivity::Online,
        (Some(r), _) if r.offline => Connectivity::Offline,
        (Some(_), _) => Connectivity::Error,
    };
    SyncStatus {
        circle: circle.clone(),
        relay_url: record.and_then(|r| r.relay_url.clone()),
        connectivity,
        pending,
        waiting,
        last_synced_at: record.and_then(|r| r.last_synced_at),
        last_attempt_at: record.and_then(|r| r.last_attempt_at),
        last_error: record.and_then(|r| r.last_error.clone()),
        standing,
        epoch,
        closed_at: record.and_then(|r| r.closed_at),
        closes_at: record.and_then(|r| r.closes_at),
    }
}

#[cfg(test)]
mod tampered;
#[cfg(test)]
mod tests;
