//! Applying envelopes that arrived from other devices, whatever brought them (a
//! relay pull, or a signed bundle file): one path, so a file can never do what sync
//! would refuse.

use automerge::Change;
use kring_plan::plan::DeviceActor;
use kring_trust::Error as TrustError;

use crate::envelope;
use crate::error::{Error, Result};
use crate::store::{DeviceHeads, Store, StoreTx};
use crate::sync::engine::{self, ApplyOutcome, CircleTrust, Incoming, Received};
use kring_trust::identity::{DeviceId, DeviceIdentity};
use kring_trust::time::Timestamp;

/// What to do with one envelope ([`engine::classify`]), except that an envelope of a
/// device that was cut off here (it sent a change the plan's rules refuse) is refused
/// unopened: its later changes build on the refused one.
pub(super) fn classify(
    store: &Store,
    bytes: Vec<u8>,
    cursor: u64,
    trust: &CircleTrust,
    me: &DeviceId,
    heads: &DeviceHeads,
) -> Result<Incoming> {
    if let Ok(header) = envelope::read_header(&bytes) {
        if store.is_cut_off(trust.circle(), &header.author)? {
            return Ok(Incoming::Rejected(
                TrustError::NotAllowed("this device sent a change the plan's rules refuse").into(),
            ));
        }
    }
    Ok(engine::classify(bytes, cursor, trust, me, heads))
}

/// Applies `received` (verified and decrypted envelopes) and `own_changes` (this
/// device's own changes found in echoes it lacked) to the stored plan of the trust's
/// circle, inside the caller's transaction. Envelopes kept waiting for dependencies are
/// offered again here; refused ones are dropped and cut their author off.
///
/// A circle whose plan has not arrived yet (a join in progress) keeps everything as
/// waiting until the plan can be built from it.
pub(super) fn apply_envelopes(
    tx: &StoreTx<'_>,
    identity: &DeviceIdentity,
    trust: &CircleTrust,
    received: Vec<Received>,
    own_changes: Vec<Change>,
    now: Timestamp,
) -> Result<ApplyOutcome> {
    let circle = trust.circle();
    let mut plan = match tx.load(circle, identity.actor_id()) {
        Ok(plan) => plan,
        Err(Error::UnknownCircle(_)) => {
            for r in &received {
                tx.put_waiting(circle, &r.waiting(), now)?;
            }
            return Ok(ApplyOutcome::default());
        }
        Err(e) => return Err(e),
    };
    let presented = super::family::presented_since(tx, identity, trust)?;
    if received.is_empty() && own_changes.is_empty() && presented.is_none() {
        return Ok(ApplyOutcome::default());
    }
    let (newest_presented, own_presented) = presented.unwrap_or_default();
    let mut all = received;
    let mut unreadable = Vec::new();
    for waiting in tx.waiting_envelopes(circle)? {
        match engine::reopen(&waiting, trust) {
            Ok(received) => all.push(received),
            Err(e) => {
                tx.delete_waiting(circle, &waiting.author, waiting.device_seq)?;
                unreadable.push((waiting.author, waiting.device_seq, e.to_string()));
            }
        }
    }
    if !own_changes.is_empty() {
        let me = identity.id();
        let rights = trust
            .rights_now(&me)
            .ok_or(TrustError::DeviceNotMember(me))?;
        let own = own_changes.into_iter().map(|c| (c, rights.clone()));
        plan.apply_checked(own.collect())?;
    }
    let others = all.len();
    let brought_in_own = !own_presented.is_empty();
    all.extend(own_presented);
    let mut outcome = engine::apply_received(&mut plan, &all);
    let me = identity.id();
    outcome.complete.retain(|(author, _)| *author != me);
    // This device's own stay in its outbox, not among the waiting: until every one is
    // in (one may build on another member's that has not arrived), the presentation
    // is brought in again next time.
    let own_waiting = outcome.waiting.iter().any(|w| w.author == me);
    outcome.waiting.retain(|w| w.author != me);
    if newest_presented > 0 && !own_waiting {
        tx.note_presented(circle, newest_presented)?;
    }
    all.truncate(others);
    for (author, seq) in &outcome.complete {
        tx.delete_waiting(circle, author, *seq)?;
    }
    if brought_in_own {
        super::family::mark_sealed(tx, &plan)?;
    }
    record_attestations(tx, circle, &all, &outcome.complete)?;
    for waiting in &outcome.waiting {
        tx.put_waiting(circle, waiting, now)?;
    }
    for (author, _, why) in &outcome.rejected {
        cut_off(tx, circle, author, why)?;
    }
    // Stored envelopes that no longer open count as refused, but are no verdict on
    // their author.
    outcome.rejected.extend(unreadable);
    tx.save(&plan)?;
    Ok(outcome)
}

/// Keeps, for each author, the newest of `received` whose changes are all in the plan
/// now (`complete`) as that author's attestation for snapshots made here. Refused and
/// waiting envelopes never are: a snapshot attests only what its document holds.
pub(super) fn record_attestations(
    tx: &StoreTx<'_>,
    circle: &kring_plan::plan::CircleId,
    received: &[Received],
    complete: &[(DeviceId, u64)],
) -> Result<()> {
    let complete: std::collections::HashSet<&(DeviceId, u64)> = complete.iter().collect();
    let mut newest: std::collections::HashMap<DeviceId, &Received> = Default::default();
    for r in received {
        if complete.contains(&(r.author, r.device_seq))
            && newest
                .get(&r.author)
                .is_none_or(|n| n.device_seq < r.device_seq)
        {
            newest.insert(r.author, r);
        }
    }
    for r in newest.values() {
        tx.set_last_applied(circle, &r.author, r.device_seq, &r.bytes)?;
    }
    Ok(())
}

/// Cuts `author` off in `circle` (it sent a change the plan's rules refuse): its
/// envelopes kept waiting go too, as every later one builds on the refused change.
pub(super) fn cut_off(
    tx: &StoreTx<'_>,
    circle: &kring_plan::plan::CircleId,
    author: &DeviceId,
    why: &str,
) -> Result<()> {
    tx.delete_waiting_of(circle, author)?;
    tx.cut_off(circle, author, why)
}
