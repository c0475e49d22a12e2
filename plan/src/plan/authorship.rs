//! Whether a whole document holds only changes their authors signed — the check a
//! device makes before it starts from someone else's snapshot.
//!
//! Automerge names every change by a SHA-256 hash over its content *and the hashes
//! of its dependencies*, and a device's change always depends, directly or not, on the
//! device's own previous change. So the last change of a device that one of its signed
//! envelopes carries fixes all of that device's earlier changes. A document then holds
//! exactly the signed changes of a device when (1) that last change is in it, (2) none
//! of the device's changes has a higher `seq`, and (3) it has as many changes of the
//! device as that `seq` (no forged change beside a real one with the same `seq`). Every
//! actor in the document needs such an attestation.

use std::collections::HashMap;

use automerge::{ActorId, ChangeHash, ReadDoc};

use super::document::CirclePlan;
use crate::error::{Error, Result};

impl CirclePlan {
    /// Checks that every change here is one its author signed, given `attested`: for
    /// each device with changes here, the hash of its last change that a verified
    /// envelope carries (see the module docs for why that suffices).
    pub fn check_authorship(&self, attested: &[ChangeHash]) -> Result<()> {
        // Changes kept aside for dependencies the document lacks are in no count below,
        // and automerge would apply them, unjudged, once those arrive.
        if !self.doc.get_missing_deps(&[]).is_empty() {
            return Err(unattested(None, "changes held back for changes it lacks"));
        }
        let mut last: HashMap<ActorId, u64> = HashMap::new();
        for hash in attested {
            let meta = self
                .doc
                .get_change_meta_by_hash(hash)
                .ok_or_else(|| unattested(None, "an attested change is not in it"))?;
            if last.insert(meta.actor.into_owned(), meta.seq).is_some() {
                return Err(unattested(None, "two attestations for one device"));
            }
        }
        let mut counted: HashMap<&ActorId, u64> = HashMap::new();
        let metas = self.doc.get_changes_meta(&[]);
        for meta in &metas {
            let (actor, max) = last
                .get_key_value(meta.actor.as_ref())
                .ok_or_else(|| unattested(Some(&meta.actor), "no signed envelope of theirs"))?;
            if meta.seq > *max {
                return Err(unattested(
                    Some(actor),
                    "changes after their last signed one",
                ));
            }
            *counted.entry(actor).or_default() += 1;
        }
        for (actor, max) in &last {
            if counted.get(actor).copied().unwrap_or(0) != *max {
                return Err(unattested(Some(actor), "changes they did not sign"));
            }
        }
        Ok(())
    }
}

fn unattested(actor: Option<&ActorId>, why: &'static str) -> Error {
    Error::Unattested {
        actor: actor.map_or_else(|| "-".to_owned(), ActorId::to_hex_string),
        why,
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ROOT};

    use super::*;
    use crate::plan::{CircleId, NewCircle};
    use kring_trust::Timestamp;

    fn actor(n: u8) -> ActorId {
        ActorId::from(vec![n; 16])
    }

    /// A plan founded by actor 1, with `n` more changes by actor 2 merged in.
    fn plan_with_helper(n: usize) -> (CirclePlan, ChangeHash, ChangeHash) {
        let new = NewCircle {
            name: "Oma".into(),
            language: crate::plan::Language::Nl,
            main_person_name: "Oma".into(),
        };
        let (mut plan, _) =
            CirclePlan::create(actor(1), CircleId::random(), new, Timestamp(1_000)).unwrap();
        let mut helper = plan.doc.fork().with_actor(actor(2));
        for i in 0..n {
            write(&mut helper, &format!("helper {i}"));
        }
        plan.doc.merge(&mut helper).unwrap();
        let main_last = plan.doc.get_last_local_change().unwrap().hash();
        let helper_last = helper.get_last_local_change().unwrap().hash();
        (plan, main_last, helper_last)
    }

    fn write(doc: &mut Automerge, text: &str) {
        let mut tx = doc.transaction();
        tx.put(ROOT, "note", text).unwrap();
        tx.commit();
    }

    fn refused(result: Result<()>) -> bool {
        matches!(result, Err(Error::Unattested { .. }))
    }

    #[test]
    fn a_document_of_signed_changes_passes() {
        let (plan, main, helper) = plan_with_helper(3);
        plan.check_authorship(&[main, helper]).unwrap();
    }

    #[test]
    fn a_device_without_an_attestation_is_refused() {
        let (plan, main, _) = plan_with_helper(2);
        assert!(refused(plan.check_authorship(&[main])));
    }

    #[test]
    fn changes_after_the_last_signed_one_are_refused() {
        let (plan, main, _) = plan_with_helper(3);
        // The helper's first change is attested; the two after it are not.
        let first = plan
            .doc
            .get_changes_meta(&[])
            .into_iter()
            .find(|m| m.actor.as_ref() == &actor(2) && m.seq == 1)
            .unwrap()
            .hash;
        assert!(refused(plan.check_authorship(&[main, first])));
    }

    #[test]
    fn words_put_in_the_main_persons_mouth_are_refused() {
        // A forger with the document writes a change under the main person's actor.
        let (mut plan, main, helper) = plan_with_helper(1);
        let mut forged = plan.doc.fork().with_actor(actor(1));
        write(&mut forged, "I give up on my plan");
        plan.doc.merge(&mut forged).unwrap();
        assert!(refused(plan.check_authorship(&[main, helper])));
        // Attesting the forged change itself needs an envelope the main person signed:
        // the client only takes hashes from verified envelopes.
    }

    #[test]
    fn a_change_held_back_in_the_saved_bytes_is_refused() {
        // A forged change of the helper that builds on a change of the main person's
        // the snapshot leaves out: automerge keeps it aside and would apply it, with
        // nobody's check, once that change arrives.
        let (plan, main, helper) = plan_with_helper(1);
        let mut ahead = plan.doc.fork().with_actor(actor(1));
        write(&mut ahead, "a change the snapshot leaves out");
        let mut forger = ahead.fork().with_actor(actor(2));
        write(&mut forger, "held back");
        let held = forger.get_last_local_change().unwrap();
        let bytes = [plan.doc.save(), held.raw_bytes().to_vec()].concat();
        let loaded = CirclePlan::load(&bytes, actor(9)).unwrap();
        assert_eq!(loaded.heads(), plan.heads(), "automerge kept it aside");
        assert!(refused(loaded.check_authorship(&[main, helper])));
    }

    #[test]
    fn an_attested_change_missing_from_the_document_is_refused() {
        let (plan, main, _) = plan_with_helper(1);
        let (_, _, elsewhere) = plan_with_helper(1);
        assert!(refused(plan.check_authorship(&[main, elsewhere])));
    }
}
