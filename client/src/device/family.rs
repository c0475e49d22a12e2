//! Family time on this device (`docs/threat-model.md`, "Family time").
//!
//! While family time is open, a device of the family reads and writes the family's
//! *draft*: the plan with what the family wrote in this family time, sealed for the
//! family alone ([`engine::family_draft`]). The stored plan document never holds the
//! draft, so nothing this device later seals for the whole circle can build on a
//! change a professional cannot open. When the main person presents, every replica
//! brings the family's envelopes into the plan itself ([`bring_in_presented`]); when
//! family time closes without that, the draft is put aside and the plan is what it
//! was.

use kring_trust::membership::family::refusal;
use kring_trust::Error as TrustError;

use super::Device;
use crate::envelope::{self, Readers};
use crate::error::Result;
use crate::store::StoreTx;
use crate::sync::engine::{self, CircleTrust, Received};
use kring_plan::plan::{CircleId, CirclePlan};
use kring_trust::identity::DeviceIdentity;
use kring_trust::time::Timestamp;

/// Family time as this device knows it ([`Device::family_time`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FamilyTime {
    pub open: bool,
    /// The newest family key generation handed out (0: never).
    pub generation: u64,
    /// The newest family key is for the family as it is now (not out of date after a
    /// mark, a leave or a join).
    pub key_current: bool,
    /// This device holds the current family key (a professional's never does).
    pub holds_key: bool,
    /// The log marks this device's person as a professional.
    pub professional: bool,
    /// Envelopes of the open family time this device holds, its own and others'
    /// (what a presentation would show; 0 on a professional's device, which keeps
    /// them sealed and cannot tell what they hold).
    pub written: u64,
    /// When the family's plan was last presented to the whole circle.
    pub presented_at: Option<Timestamp>,
}

impl Device {
    /// Family time in the circle as this device's copy of the membership log says
    /// (`None` for a circle without a log, which has no family time).
    pub fn family_time(&self, circle: &CircleId) -> Result<Option<FamilyTime>> {
        let Some(trust) = self.trust(circle)? else {
            return Ok(None);
        };
        let state = trust.state();
        let me = self.me(circle)?;
        let current = state.family_generation().ok();
        let written = match self.draft_envelopes(circle, &trust)? {
            Some(family) => u64::try_from(family.len()).unwrap_or(u64::MAX),
            None => 0,
        };
        Ok(Some(FamilyTime {
            open: state.family_time_open(),
            generation: state.family_key_generation(),
            key_current: current.is_some(),
            holds_key: current.is_some_and(|g| trust.keys().family_key(g).is_ok()),
            professional: state.is_professional(&me),
            written,
            presented_at: state.last_presented_at(),
        }))
    }

    /// The draft this device reads instead of `plan` during family time, if it is a
    /// device of the family (see the module docs).
    pub(super) fn draft_of(&self, plan: &CirclePlan) -> Result<Option<CirclePlan>> {
        let circle = plan.circle_id();
        let Some(trust) = self.trust(circle)? else {
            return Ok(None);
        };
        Ok(self
            .draft_envelopes(circle, &trust)?
            .and_then(|family| engine::family_draft(plan, &trust, &family)))
    }

    /// The family envelopes of the open family time this device can read, or `None`
    /// when it reads no draft (no family time, or a professional's device).
    fn draft_envelopes(
        &self,
        circle: &CircleId,
        trust: &CircleTrust,
    ) -> Result<Option<Vec<crate::store::WaitingEnvelope>>> {
        let session = trust.state().family_session();
        if !session.iter().any(|g| trust.keys().family_key(*g).is_ok()) {
            return Ok(None);
        }
        let family = self
            .store
            .family_envelopes(circle, &self.identity.id())?
            .into_iter()
            .filter(|kept| {
                envelope::family_generation(&kept.bytes).is_some_and(|g| session.contains(&g))
            })
            .collect();
        Ok(Some(family))
    }

    /// The plan to hand over to professionals (`kring_handover`): refused while family
    /// time is open, since a family device would otherwise hand over the draft before
    /// the main person presented it.
    pub fn handover_view(&self, circle: &CircleId) -> Result<kring_plan::plan::PlanView> {
        let trust = self.trust(circle)?;
        if trust.is_some_and(|trust| trust.state().family_time_open()) {
            return Err(TrustError::FamilyTime(refusal::HANDOVER_DURING).into());
        }
        self.view(circle)
    }

    /// Refuses a presentation of a family time in which this device, reading the
    /// draft, holds nothing written (a plain refusal before anything is appended). A
    /// device that reads no draft (a professional's) is left to the log's refusal.
    pub(super) fn require_written(&self, circle: &CircleId) -> Result<()> {
        let Some(trust) = self.trust(circle)? else {
            return Ok(());
        };
        match self.draft_envelopes(circle, &trust)? {
            Some(family) if family.is_empty() => {
                Err(TrustError::FamilyTime(refusal::NOTHING_WRITTEN).into())
            }
            _ => Ok(()),
        }
    }
}

/// Runs `op` on the family's draft and seals what it wrote for the family alone into
/// the outbox (inside the caller's transaction). The stored plan is not touched.
pub(super) fn write_draft<T, E: From<crate::Error>>(
    tx: &StoreTx<'_>,
    identity: &DeviceIdentity,
    trust: &CircleTrust,
    plan: &CirclePlan,
    now: Timestamp,
    op: impl FnOnce(&mut CirclePlan) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let circle = plan.circle_id();
    let me = identity.id();
    // Refused (out of date, say) before anything is written, never widened.
    trust
        .state()
        .family_generation()
        .map_err(crate::Error::from)?;
    let family = tx.family_envelopes(circle, &me)?;
    let mut draft = engine::family_draft(plan, trust, &family)
        .ok_or(crate::Error::from(TrustError::FamilyTime(refusal::NO_KEY)))?;
    let before = draft.heads();
    let out = op(&mut draft)?;
    let changes = draft.own_changes_since(&before);
    if changes.is_empty() {
        return Ok(out);
    }
    let last = tx.last_own(circle, &me)?;
    let sealed = engine::seal_changes(Readers::Family, identity, trust, &changes, last)
        .map_err(crate::Error::from)?;
    for sealed in sealed {
        tx.push_own(&me, &sealed, now)?;
        tx.note_family_envelope(circle, sealed.header().device_seq)?;
    }
    Ok(out)
}

/// What presentations since the last time here made the circle's, from this device's
/// own family envelopes of those generations (the others' come back from the waiting
/// envelopes, which open now): to apply with them in one go, since what one family
/// member wrote may build on another's. With them, the newest generation presented, to
/// note ([`StoreTx::note_presented`]) once they are all in. `None` when nothing was
/// presented since.
pub(super) fn presented_since(
    tx: &StoreTx<'_>,
    identity: &DeviceIdentity,
    trust: &CircleTrust,
) -> Result<Option<(u64, Vec<Received>)>> {
    let circle = trust.circle();
    let done = tx.presented_generation(circle)?;
    let fresh: Vec<u64> = trust
        .state()
        .presented_generations()
        .filter(|g| *g > done)
        .collect();
    let Some(&newest) = fresh.last() else {
        return Ok(None);
    };
    let mut own = Vec::new();
    for kept in tx.own_family_envelopes(circle, &identity.id())? {
        if envelope::family_generation(&kept.bytes).is_some_and(|g| fresh.contains(&g)) {
            own.push(engine::reopen(&kept, trust)?);
        }
    }
    Ok(Some((newest, own)))
}

/// After this device's own family changes became part of `plan`: they were sealed
/// (for the family), so they are not sealed again for the circle.
pub(super) fn mark_sealed(tx: &StoreTx<'_>, plan: &CirclePlan) -> Result<()> {
    let circle = plan.circle_id();
    let mut record = tx
        .sync_record(circle)?
        .unwrap_or_else(|| crate::store::SyncRecord::new(circle.clone(), None));
    record.sealed_heads = plan.heads();
    tx.put_sync_record(&record)
}
