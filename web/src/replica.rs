//! One circle on a browser device: what it keeps (the membership log, the sync
//! record, the plan document, the outbox, the last envelope seen per author, what
//! waits for dependencies, who was cut off) as one serialisable value, and the
//! changes sync makes to it. Every decision is `kring-sync`'s engine's and every plan
//! rule `kring-plan`'s, as on a phone; this is the browser's storage of their results
//! (the native client's is SQLite, `kring_client::store`).
//!
//! Invariant: a method that returns `Err` left the replica as it was, so the app can
//! save after every successful step and never stores half a change.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use automerge::ChangeHash;

use kring_plan::plan::{
    CircleId, CirclePlan, DeviceActor, MemberId, NewMember, PlanView, Relation,
};
use kring_plan::Error as PlanError;
use kring_sync::engine::{self, CircleTrust, Incoming, Received, Standing};
use kring_sync::envelope::{EnvelopeHash, Readers};
use kring_sync::records::{DeviceHeads, OwnEnvelope, SyncRecord, WaitingEnvelope};
use kring_trust::identity::{DeviceId, DeviceIdentity};
use kring_trust::time::Timestamp;
use kring_trust::Error as TrustError;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Why the browser does not write during family time (see [`Replica::change`]).
pub const FAMILY_TIME_ELSEWHERE: &str =
    "during family time the family writes its plan in the Kring app or the kring program";

/// A join whose membership entry is in, waiting for the plan to arrive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingJoin {
    pub name: String,
    pub relation: Relation,
    /// Another device of an existing member (a device link): the member is in the
    /// plan already, so no record is added.
    pub linked: bool,
}

/// What is stored of one circle (see the module doc).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredCircle {
    pub relay_url: String,
    pub member: MemberId,
    pub log: Vec<Vec<u8>>,
    pub record: SyncRecord,
    /// The plan as automerge saves it; `None` until a join completes. What changed
    /// since is in `chunks` (automerge's incremental saves), so storing a change
    /// does not rewrite the whole document; loading reads them together.
    pub document: Option<Vec<u8>>,
    pub chunks: Vec<Vec<u8>>,
    /// This device's own envelopes the relay has not acknowledged yet, oldest first.
    pub outbox: Vec<OwnEnvelope>,
    /// This device's newest envelope the relay acknowledged.
    pub last_acked: Option<(u64, EnvelopeHash)>,
    pub heads: DeviceHeads,
    pub waiting: Vec<WaitingEnvelope>,
    pub cut_off: BTreeSet<DeviceId>,
    pub pending_join: Option<PendingJoin>,
    /// The plan's heads when its person last looked at the news.
    pub seen_heads: Option<Vec<ChangeHash>>,
}

/// One circle, open: what is stored plus the validated log and the loaded plan.
pub struct Replica {
    pub stored: StoredCircle,
    pub trust: CircleTrust,
    plan: Option<CirclePlan>,
    /// The view last built, with the heads it was built at: every screen reads it,
    /// and building it for a two-year circle takes longer than showing it.
    view: RefCell<Option<(Vec<ChangeHash>, Rc<PlanView>)>>,
}

/// What one sync brought, for the screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pushed: usize,
    pub pulled: usize,
    pub applied_changes: usize,
    pub rejected: usize,
    pub joined: bool,
}

impl Replica {
    /// A circle just joined: the log as learned (with this device's redemption) and
    /// no plan yet.
    pub fn joined(
        trust: CircleTrust,
        relay_url: String,
        member: MemberId,
        pending: PendingJoin,
    ) -> Self {
        let circle = trust.circle().clone();
        let mut record = SyncRecord::new(circle, Some(relay_url.clone()));
        record.registered = true;
        Self {
            stored: StoredCircle {
                relay_url,
                member,
                log: trust
                    .entries()
                    .iter()
                    .map(|e| e.as_bytes().to_vec())
                    .collect(),
                record,
                document: None,
                chunks: Vec::new(),
                outbox: Vec::new(),
                last_acked: None,
                heads: DeviceHeads::new(),
                waiting: Vec::new(),
                cut_off: BTreeSet::new(),
                pending_join: Some(pending),
                seen_heads: None,
            },
            trust,
            plan: None,
            view: RefCell::new(None),
        }
    }

    /// Opens what was stored: the log validated from genesis, the plan loaded.
    pub fn open(identity: &DeviceIdentity, stored: StoredCircle) -> Result<Self> {
        let trust = CircleTrust::from_log(identity, &stored.log)?;
        let plan = load_plan(identity, &stored)?;
        let mut replica = Self {
            stored,
            trust,
            plan,
            view: RefCell::new(None),
        };
        replica.set_authority();
        Ok(replica)
    }

    pub fn circle(&self) -> &CircleId {
        self.trust.circle()
    }

    pub fn plan(&self) -> Result<&CirclePlan> {
        self.plan
            .as_ref()
            .ok_or_else(|| Error::NotYetJoined(self.circle().to_string()))
    }

    /// The plan as it is now (built again only after it changed).
    pub fn view(&self) -> Result<Rc<PlanView>> {
        let plan = self.plan()?;
        let heads = plan.heads();
        let mut cached = self.view.borrow_mut();
        if let Some((at, view)) = cached.as_ref() {
            if *at == heads {
                return Ok(Rc::clone(view));
            }
        }
        let view = Rc::new(plan.view());
        *cached = Some((heads, Rc::clone(&view)));
        Ok(view)
    }

    pub fn standing(&self, me: &DeviceId) -> Standing {
        self.trust.standing(me)
    }

    /// The state to store, with the plan saved as it is now: what changed since the
    /// last call as one more chunk, or, past [`MAX_CHUNKS`], the whole document again.
    pub fn to_stored(&mut self) -> StoredCircle {
        if let Some(plan) = self.plan.as_mut() {
            if self.stored.document.is_none() || self.stored.chunks.len() >= MAX_CHUNKS {
                self.stored.document = Some(plan.export());
                self.stored.chunks.clear();
                plan.mark_saved();
            } else if !plan.is_saved() {
                self.stored.chunks.push(plan.unsaved_changes());
                plan.mark_saved();
            }
        }
        self.stored.clone()
    }

    fn set_authority(&mut self) {
        let authority = self.trust.authority();
        if let Some(plan) = self.plan.as_mut() {
            plan.set_authority(authority);
        }
    }

    // ---- writing ----------------------------------------------------------------------

    /// Runs a plan operation as this device's member and seals what it wrote into the
    /// outbox. The operation asks `permit` itself, as every plan operation does.
    pub fn change<T>(
        &mut self,
        identity: &DeviceIdentity,
        op: impl FnOnce(&mut CirclePlan, &MemberId) -> kring_plan::Result<T>,
    ) -> Result<T> {
        if !matches!(self.standing(&identity.id()), Standing::Writer(_)) {
            return Err(TrustError::ReadOnly(identity.id()).into());
        }
        if engine::writes_for_family(&self.trust, &identity.id()) {
            // The browser keeps no family draft yet: what the family writes now must
            // not reach the whole circle, so it is written on a phone or the CLI.
            return Err(TrustError::FamilyTime(FAMILY_TIME_ELSEWHERE).into());
        }
        let member = self.stored.member.clone();
        let plan = self
            .plan
            .as_mut()
            .ok_or_else(|| Error::NotYetJoined(self.trust.circle().to_string()))?;
        let out = op(plan, &member)?;
        if let Err(e) = self.seal_own(identity) {
            // Nothing half-written: the plan goes back to what was stored.
            self.reload(identity)?;
            return Err(e);
        }
        Ok(out)
    }

    fn reload(&mut self, identity: &DeviceIdentity) -> Result<()> {
        self.plan = load_plan(identity, &self.stored)?;
        self.set_authority();
        Ok(())
    }

    /// Seals the plan's own changes since the last seal into the next envelopes.
    fn seal_own(&mut self, identity: &DeviceIdentity) -> Result<()> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let changes = plan.own_changes_since(&self.stored.record.sealed_heads);
        if changes.is_empty() {
            return Ok(());
        }
        let last = self
            .stored
            .outbox
            .last()
            .map(|e| (e.device_seq, e.hash))
            .or(self.stored.last_acked);
        let sealed = engine::seal_changes(Readers::Circle, identity, &self.trust, &changes, last)?;
        self.stored
            .outbox
            .extend(sealed.iter().map(OwnEnvelope::pending));
        self.stored.record.sealed_heads = plan.heads();
        Ok(())
    }

    // ---- membership -------------------------------------------------------------------

    /// Validates entries that follow the log and keeps them; how many were new.
    pub fn absorb_entries(
        &mut self,
        identity: &DeviceIdentity,
        entries: &[Vec<u8>],
    ) -> Result<usize> {
        let added = self.trust.absorb(identity, entries)?;
        self.stored
            .log
            .extend(added.iter().map(|e| e.as_bytes().to_vec()));
        if !added.is_empty() {
            self.set_authority();
        }
        Ok(added.len())
    }

    // ---- pushing ----------------------------------------------------------------------

    /// The next batch of the outbox to push (resealed first when the key rotated or
    /// the chain moved), or `None` when it is empty.
    pub fn next_push(&mut self, identity: &DeviceIdentity) -> Result<Option<Vec<OwnEnvelope>>> {
        if self.stored.outbox.is_empty() {
            return Ok(None);
        }
        let last_acked = self.stored.last_acked;
        if engine::needs_reseal(&self.stored.outbox, last_acked, self.trust.state())? {
            let resealed = engine::reseal(identity, &self.trust, &self.stored.outbox, last_acked)?;
            for sealed in &resealed {
                let seq = sealed.header().device_seq;
                if let Some(slot) = self.stored.outbox.iter_mut().find(|e| e.device_seq == seq) {
                    *slot = OwnEnvelope::pending(sealed);
                }
            }
        }
        let batch = engine::push_batches(&self.stored.outbox)
            .into_iter()
            .next()
            .map(|range| self.stored.outbox[range].to_vec());
        Ok(batch)
    }

    /// The relay acknowledged `batch` with one cursor per envelope.
    pub fn acknowledged(&mut self, batch: &[OwnEnvelope], cursors: &[u64]) -> Result<()> {
        if cursors.len() != batch.len() {
            return Err(TrustError::Relay {
                status: 200,
                code: "bad_response".into(),
                message: "the relay's answer lacks one cursor per pushed envelope".into(),
            }
            .into());
        }
        for envelope in batch {
            self.mark_acked(envelope.device_seq, envelope.hash);
        }
        Ok(())
    }

    fn mark_acked(&mut self, device_seq: u64, hash: EnvelopeHash) {
        self.stored.outbox.retain(|e| e.device_seq > device_seq);
        if self
            .stored
            .last_acked
            .is_none_or(|(seq, _)| seq < device_seq)
        {
            self.stored.last_acked = Some((device_seq, hash));
        }
    }

    // ---- pulling ----------------------------------------------------------------------

    /// Classifies envelopes received after the pull cursor (in cursor order) and
    /// applies what they bring. Returns `true` when it stopped before an envelope that
    /// cites a membership head this device does not know yet (once per cursor,
    /// `refreshed_for`): the caller refreshes the log and pulls again from there.
    pub fn absorb_envelopes(
        &mut self,
        identity: &DeviceIdentity,
        items: Vec<(u64, Vec<u8>)>,
        refreshed_for: &mut Option<u64>,
        report: &mut SyncReport,
    ) -> Result<bool> {
        let me = identity.id();
        let mut cursor = self.stored.record.pull_cursor;
        let mut heads = self.stored.heads.clone();
        let mut received = Vec::new();
        let mut echoes = Vec::new();
        let mut need_refresh = false;
        for (item_cursor, bytes) in items {
            if item_cursor <= cursor {
                continue;
            }
            match self.classify(bytes, item_cursor, &me, &heads) {
                Incoming::Apply(r) => {
                    heads.insert(r.author, (r.device_seq, r.hash));
                    received.push(r);
                }
                Incoming::Own {
                    device_seq, hash, ..
                } => echoes.push((device_seq, hash)),
                Incoming::Duplicate => {}
                Incoming::NeedMembership if *refreshed_for != Some(item_cursor) => {
                    *refreshed_for = Some(item_cursor);
                    need_refresh = true;
                    break;
                }
                Incoming::NeedMembership | Incoming::Rejected(_) => report.rejected += 1,
            }
            report.pulled += 1;
            cursor = item_cursor;
        }
        self.apply(received, report)?;
        for (seq, hash) in echoes {
            self.mark_acked(seq, hash);
        }
        self.stored.heads = heads;
        self.stored.record.pull_cursor = cursor;
        Ok(need_refresh)
    }

    /// [`engine::classify`], except that an envelope of a device cut off here is
    /// refused unopened (its later changes build on the refused one).
    fn classify(
        &self,
        bytes: Vec<u8>,
        cursor: u64,
        me: &DeviceId,
        heads: &DeviceHeads,
    ) -> Incoming {
        if let Ok(header) = kring_sync::envelope::read_header(&bytes) {
            if self.stored.cut_off.contains(&header.author) {
                return Incoming::Rejected(
                    TrustError::NotAllowed("this device sent a change the plan's rules refuse")
                        .into(),
                );
            }
        }
        engine::classify(bytes, cursor, &self.trust, me, heads)
    }

    /// Applies received envelopes (with those still waiting) to the plan; before the
    /// plan arrived (a join in progress) they all wait.
    fn apply(&mut self, received: Vec<Received>, report: &mut SyncReport) -> Result<()> {
        let Some(plan) = self.plan.as_mut() else {
            self.stored
                .waiting
                .extend(received.iter().map(Received::waiting));
            return Ok(());
        };
        if received.is_empty() {
            return Ok(());
        }
        let mut all = received;
        for waiting in std::mem::take(&mut self.stored.waiting) {
            if let Ok(r) = engine::reopen(&waiting, &self.trust) {
                all.push(r);
            }
        }
        // Own changes are sealed as they are made, so the plan is usually at the sealed
        // heads here: move them past what others sent, or the next seal would look
        // for own changes through all of it.
        let all_sealed = plan.heads() == self.stored.record.sealed_heads;
        let outcome = engine::apply_received(plan, &all);
        if all_sealed {
            self.stored.record.sealed_heads = plan.heads();
        }
        report.applied_changes += outcome.applied_changes;
        report.rejected += outcome.rejected.len();
        self.stored.waiting = outcome.waiting;
        for (author, _, _) in &outcome.rejected {
            self.stored.waiting.retain(|w| w.author != *author);
            self.stored.cut_off.insert(*author);
        }
        Ok(())
    }

    /// Builds the plan of a pending join from what was pulled and adds this person's
    /// record to it (sealed into the outbox). `false` while the plan is not on the
    /// relay yet.
    pub fn complete_join(&mut self, identity: &DeviceIdentity, now: Timestamp) -> Result<bool> {
        let Some(pending) = self.stored.pending_join.clone() else {
            return Ok(false);
        };
        let received: Vec<Received> = self
            .stored
            .waiting
            .iter()
            .filter_map(|w| engine::reopen(w, &self.trust).ok())
            .collect();
        let changes = received
            .iter()
            .flat_map(|r| r.changes.iter().map(|c| (c.clone(), r.rights.clone())))
            .collect();
        let mut plan = match CirclePlan::from_changes(self.circle(), identity.actor_id(), changes) {
            Ok((plan, _)) => plan,
            // No genesis among them yet: the inviter has not pushed the plan.
            Err(PlanError::MalformedDocument(_)) | Err(PlanError::Automerge(_)) => {
                return Ok(false)
            }
            Err(e) => return Err(e.into()),
        };
        plan.set_authority(self.trust.authority());
        // Everything is decided on locals first: an error below leaves the replica as
        // it was, and the next sync tries the join again.
        let complete = |w: &WaitingEnvelope| {
            received.iter().any(|r| {
                r.author == w.author
                    && r.device_seq == w.device_seq
                    && r.changes.iter().all(|c| plan.has_change(&c.hash()))
            })
        };
        let waiting: Vec<WaitingEnvelope> = self
            .stored
            .waiting
            .iter()
            .filter(|w| !complete(w))
            .cloned()
            .collect();
        // Nothing in it is this new device's own: only what it adds now is sealed.
        let sealed_heads = plan.heads();
        let writer = matches!(self.standing(&identity.id()), Standing::Writer(_));
        if writer && !pending.linked {
            let me = NewMember {
                display_name: pending.name.clone(),
                relation: pending.relation,
                role_label: String::new(),
            };
            match plan.join(&self.stored.member, me, now) {
                Ok(()) | Err(PlanError::AlreadyExists(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.stored.waiting = waiting;
        self.stored.record.sealed_heads = sealed_heads;
        self.plan = Some(plan);
        self.stored.pending_join = None;
        if writer {
            self.seal_own(identity)?;
        }
        Ok(true)
    }
}

/// Incremental chunks kept before the document is saved whole again (as the native
/// store compacts after 64).
pub const MAX_CHUNKS: usize = 64;

/// The plan as stored: the document and its chunks, read as one.
fn load_plan(identity: &DeviceIdentity, stored: &StoredCircle) -> Result<Option<CirclePlan>> {
    let Some(document) = &stored.document else {
        return Ok(None);
    };
    let mut bytes = document.clone();
    for chunk in &stored.chunks {
        bytes.extend_from_slice(chunk);
    }
    Ok(Some(CirclePlan::load(&bytes, identity.actor_id())?))
}
