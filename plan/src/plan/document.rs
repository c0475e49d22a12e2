//! [`CirclePlan`]: one circle's plan document and its life cycle (create, load, merge,
//! export, incremental save).
//!
//! The operations themselves live next to the part of the plan they change
//! (`members`, `agreements`, `tasks`, `entries`); all of them follow one pattern:
//! validate against the current document first, then write in a single automerge
//! transaction. A validation error therefore changes nothing.

use automerge::{
    transaction::{CommitOptions, Transaction},
    ActorId, Automerge, ChangeHash, ObjId, ReadDoc, ROOT,
};

use super::authority::{self, Authority, Operation, Rights};
use super::ids::{CircleId, MemberId};
use super::schema::{self, put_str, put_time, Node};
use super::view::{Designation, Language, PlanStatus, PlanView, Relation};
use super::{read, rules};
use crate::{Error, Result};
use kring_trust::membership::Capability;
use kring_trust::time::Timestamp;

/// What the person creating a circle fills in.
#[derive(Debug, Clone)]
pub struct NewCircle {
    pub name: String,
    pub language: Language,
    /// The display name of the main person, who creates the circle on their device.
    pub main_person_name: String,
}

/// One circle's plan: an automerge document plus the bookkeeping of what the local
/// store already holds.
///
/// Invariant: every document a `CirclePlan` holds has the genesis layout of
/// `plan::schema` and a circle id; documents without one are refused at load/merge.
pub struct CirclePlan {
    pub(super) doc: Automerge,
    circle_id: CircleId,
    /// Heads already written to the local store; [`CirclePlan::unsaved_changes`]
    /// returns what came after.
    saved_heads: Vec<ChangeHash>,
    /// Where the capabilities of local writers come from (see [`authority`]).
    authority: Authority,
}

impl std::fmt::Debug for CirclePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CirclePlan")
            .field("circle_id", &self.circle_id)
            .finish_non_exhaustive()
    }
}

impl CirclePlan {
    /// Creates a new circle on the main person's device. Returns the plan and the
    /// main person's member id.
    pub fn create(
        actor: ActorId,
        circle_id: CircleId,
        new: NewCircle,
        now: Timestamp,
    ) -> Result<(CirclePlan, MemberId)> {
        let main_person = MemberId::random();
        let plan = Self::create_with_main_person(actor, circle_id, main_person.clone(), new, now)?;
        Ok((plan, main_person))
    }

    /// Like [`CirclePlan::create`], with the main person's member id chosen by the
    /// caller: the membership log's genesis names the owner before the plan exists,
    /// and both must name the same member.
    pub fn create_with_main_person(
        actor: ActorId,
        circle_id: CircleId,
        main_person: MemberId,
        new: NewCircle,
        now: Timestamp,
    ) -> Result<CirclePlan> {
        let name = rules::required_text("circle name", &new.name, rules::MAX_NAME_CHARS)?;
        let person = rules::required_text(
            "main person name",
            &new.main_person_name,
            rules::MAX_NAME_CHARS,
        )?;
        let mut doc = Automerge::new().with_actor(actor);
        let result = doc.transact_with(
            |_| commit_options(now),
            |tx| -> Result<()> {
                for key in schema::TOP_LEVEL_MAPS {
                    schema::new_map(tx, &ROOT, key)?;
                }
                let circle = obj(tx, &[schema::CIRCLE])?;
                put_str(tx, &circle, "id", circle_id.as_str())?;
                put_str(tx, &circle, "name", &name)?;
                put_str(tx, &circle, "language", new.language.as_str())?;
                put_str(tx, &circle, "main_person", main_person.as_str())?;
                put_time(tx, &circle, "created_at", now)?;
                let plan = obj(tx, &[schema::PLAN])?;
                for key in schema::PLAN_MAPS {
                    schema::new_map(tx, &plan, key)?;
                }
                put_str(tx, &plan, "status", PlanStatus::Draft.as_str())?;
                put_time(tx, &plan, "status_changed_at", now)?;
                put_str(tx, &plan, "question", "")?;
                let members = obj(tx, &[schema::MEMBERS])?;
                super::members::write_member(
                    tx,
                    &members,
                    &main_person,
                    &person,
                    Relation::MainPerson,
                    "",
                    now,
                )?;
                Ok(())
            },
        );
        result.map_err(|failure| failure.error)?;
        Ok(CirclePlan {
            doc,
            circle_id,
            saved_heads: Vec::new(),
            authority: Authority::default(),
        })
    }

    /// Opens a plan from bytes in the standard automerge format (a full save,
    /// optionally followed by incremental chunks).
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<CirclePlan> {
        let doc = Automerge::load(bytes)
            .map_err(|e| Error::MalformedDocument(e.to_string()))?
            .with_actor(actor);
        let circle_id = circle_id_of(&doc)?;
        let saved_heads = doc.get_heads();
        Ok(CirclePlan {
            doc,
            circle_id,
            saved_heads,
            authority: Authority::default(),
        })
    }

    pub fn circle_id(&self) -> &CircleId {
        &self.circle_id
    }

    /// A copy to write on apart (the family's draft): same actor, same authority;
    /// nothing done to it reaches this plan.
    pub fn fork(&self) -> CirclePlan {
        let actor = self.doc.get_actor().clone();
        CirclePlan {
            doc: self.doc.fork().with_actor(actor),
            circle_id: self.circle_id.clone(),
            saved_heads: self.saved_heads.clone(),
            authority: self.authority.clone(),
        }
    }

    pub fn actor(&self) -> &ActorId {
        self.doc.get_actor()
    }

    /// The current heads: equal heads on two replicas mean equal documents.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The whole document in the standard automerge format: any automerge
    /// implementation can open it. This is also the offline exchange format.
    pub fn export(&self) -> Vec<u8> {
        self.doc.save()
    }

    /// Merges changes from another replica (an export, or incremental chunks of the
    /// same circle). Returns how many new changes were applied.
    ///
    /// The bytes are fully loaded and checked before anything is merged, so malformed
    /// input or another circle's document leaves this plan untouched.
    pub fn merge_bytes(&mut self, bytes: &[u8]) -> Result<usize> {
        let mut other = match Automerge::load(bytes) {
            Ok(other) => other,
            // Not a whole document: maybe incremental changes that build on ours.
            Err(_) => {
                let other = Automerge::load(&[self.doc.save(), bytes.to_vec()].concat())
                    .map_err(|e| Error::MalformedDocument(e.to_string()))?;
                if !other.get_missing_deps(&[]).is_empty() {
                    return Err(Error::MalformedDocument(
                        "changes that build on changes this replica does not have".into(),
                    ));
                }
                other
            }
        };
        let found = circle_id_of(&other)?;
        if found != self.circle_id {
            return Err(Error::WrongCircle {
                expected: self.circle_id.to_string(),
                found: found.to_string(),
            });
        }
        // Counted from the change graph: `get_changes_added` undercounts when the other
        // side has several heads.
        let before = self.doc.stats().num_changes;
        self.doc.merge(&mut other)?;
        Ok(
            usize::try_from(self.doc.stats().num_changes.saturating_sub(before))
                .unwrap_or(usize::MAX),
        )
    }

    /// Builds a plan from changes received from other devices (a device that joined
    /// a circle starts from what it pulls), each judged like [`CirclePlan::apply_checked`].
    /// Refused unless the accepted changes contain the circle's genesis for `circle_id`.
    pub fn from_changes(
        circle_id: &CircleId,
        actor: ActorId,
        changes: Vec<(automerge::Change, Rights)>,
    ) -> Result<(CirclePlan, Checked)> {
        let mut plan = CirclePlan {
            doc: Automerge::new().with_actor(actor),
            circle_id: circle_id.clone(),
            saved_heads: Vec::new(),
            authority: Authority::default(),
        };
        let checked = plan.apply_checked(changes)?;
        let found = circle_id_of(&plan.doc)?;
        if &found != circle_id {
            return Err(Error::WrongCircle {
                expected: circle_id.to_string(),
                found: found.to_string(),
            });
        }
        Ok((plan, checked))
    }

    /// Applies changes from other devices, already verified (signature, membership,
    /// actor) by the envelope layer, each with the rights of its author at the
    /// membership head its envelope cites; every change is judged by
    /// [`authority::check_change`] and a refused one is never part of the plan (nor is
    /// anything built on it).
    ///
    /// Changes whose dependencies are missing are *not* handed to automerge (which
    /// would apply them later, unjudged, once the dependencies arrive): they come back
    /// in [`Checked::waiting`] for the caller to offer again.
    pub fn apply_checked(&mut self, changes: Vec<(automerge::Change, Rights)>) -> Result<Checked> {
        let mut out = Checked::default();
        let before = self.doc.get_heads();
        let fresh: Vec<(automerge::Change, Rights)> = changes
            .into_iter()
            .filter(|(c, _)| !self.has_change(&c.hash()))
            .collect();
        let (ready, waiting) = self.split_ready(&fresh, |_| false);
        out.waiting = waiting;
        if ready.is_empty() {
            return Ok(out);
        }
        self.doc
            .apply_changes(ready.iter().map(|&i| fresh[i].0.clone()))?;
        let mut refused = std::collections::HashMap::new();
        for &i in &ready {
            let (change, rights) = &fresh[i];
            if let Err(e) = authority::check_change(&self.doc, change, rights) {
                refused.insert(change.hash(), e);
            }
        }
        if refused.is_empty() {
            out.applied = ready.len();
            return Ok(out);
        }
        // Rare (a modified client): rebuild without the refused changes and whatever
        // builds on them. The verdicts of the others stand: each was judged at its own
        // dependencies, none of which is refused.
        let actor = self.doc.get_actor().clone();
        let mut doc = self.doc.fork_at(&before)?.with_actor(actor);
        std::mem::swap(&mut self.doc, &mut doc);
        let candidates: Vec<(automerge::Change, Rights)> = ready
            .iter()
            .map(|&i| fresh[i].clone())
            .filter(|(c, _)| !refused.contains_key(&c.hash()))
            .collect();
        let (keep, dropped) = self.split_ready(&candidates, |h| refused.contains_key(h));
        self.doc
            .apply_changes(keep.iter().map(|&i| candidates[i].0.clone()))?;
        out.applied = keep.len();
        out.refused = refused.into_iter().collect();
        out.refused.extend(dropped.into_iter().map(|h| {
            (
                h,
                Error::NotAllowed("the change builds on a change that was refused"),
            )
        }));
        Ok(out)
    }

    /// Which of `changes` can be applied now: each dependency is in the document or
    /// is itself ready. Returns their indices in dependency order, and the hashes of
    /// the others. A change depending on something `blocked` is never ready.
    fn split_ready(
        &self,
        changes: &[(automerge::Change, Rights)],
        blocked: impl Fn(&ChangeHash) -> bool,
    ) -> (Vec<usize>, Vec<ChangeHash>) {
        let mut ready_hashes = std::collections::HashSet::new();
        let mut ready = Vec::new();
        let mut pending: Vec<usize> = (0..changes.len()).collect();
        loop {
            let before = ready.len();
            pending.retain(|&i| {
                let change = &changes[i].0;
                if ready_hashes.contains(&change.hash()) {
                    return false; // the same change twice in one batch
                }
                let ok = change
                    .deps()
                    .iter()
                    .all(|d| !blocked(d) && (ready_hashes.contains(d) || self.has_change(d)));
                if ok {
                    ready_hashes.insert(change.hash());
                    ready.push(i);
                }
                !ok
            });
            if ready.len() == before {
                break;
            }
        }
        let rest = pending.into_iter().map(|i| changes[i].0.hash()).collect();
        (ready, rest)
    }

    /// This device's own changes that are not ancestors of `since` (the heads at the
    /// last time its changes were sealed into an envelope), oldest first.
    pub fn own_changes_since(&self, since: &[ChangeHash]) -> Vec<automerge::Change> {
        let actor = self.doc.get_actor().clone();
        self.doc
            .get_changes(since)
            .into_iter()
            .filter(|c| c.actor_id() == &actor)
            .collect()
    }

    /// Whether the change `hash` is part of the plan. Changes handed to
    /// [`CirclePlan::apply_checked`] whose dependencies are missing are held back by
    /// automerge in memory only; the sync client asks this to know which received
    /// envelopes it must keep until their dependencies arrive.
    pub fn has_change(&self, hash: &ChangeHash) -> bool {
        self.doc.get_change_meta_by_hash(hash).is_some()
    }

    /// Changes made or merged since the last [`CirclePlan::mark_saved`], as one
    /// incremental chunk (empty when there is nothing new).
    pub fn unsaved_changes(&self) -> Vec<u8> {
        if self.doc.get_heads() == self.saved_heads {
            return Vec::new();
        }
        self.doc.save_after(&self.saved_heads)
    }

    /// Records that everything up to the current heads is durable in the store.
    pub fn mark_saved(&mut self) {
        self.saved_heads = self.doc.get_heads();
    }

    /// Whether the store holds everything this plan holds.
    pub fn is_saved(&self) -> bool {
        self.doc.get_heads() == self.saved_heads
    }

    /// Number of changes in the document's history.
    pub fn change_count(&self) -> usize {
        usize::try_from(self.doc.stats().num_changes).unwrap_or(usize::MAX)
    }

    /// A snapshot of the whole plan.
    pub fn view(&self) -> PlanView {
        read::plan_view(&self.doc, &self.circle_id)
    }

    /// The plan as it was at `heads` (an earlier state of this document), for telling
    /// what changed since then. Fails for heads this document does not have.
    pub fn view_at(&self, heads: &[ChangeHash]) -> Result<PlanView> {
        let doc = self.doc.fork_at(heads)?;
        Ok(read::plan_view(&doc, &self.circle_id))
    }

    // ---- helpers for the operation modules -------------------------------------------

    /// Runs `f` in one transaction stamped with `now`; on error nothing is kept.
    pub(super) fn change<O>(
        &mut self,
        now: Timestamp,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<O>,
    ) -> Result<O> {
        self.doc
            .transact_with(|_| commit_options(now), f)
            .map(|success| success.result)
            .map_err(|failure| failure.error)
    }

    pub(super) fn snapshot(&self, keys: &[&str]) -> Result<schema::Tree> {
        schema::snapshot(&self.doc, keys)
    }

    /// Whether a map exists at `keys` (cheap: nothing is materialised).
    pub(super) fn exists(&self, keys: &[&str]) -> bool {
        schema::object_id(&self.doc, keys).is_ok()
    }

    /// The main person of the circle, who stays in charge of it.
    pub fn main_person(&self) -> Result<MemberId> {
        let circle = self.snapshot(&[schema::CIRCLE])?;
        let id = Node::new(&circle)
            .str("main_person")
            .ok_or_else(|| Error::MalformedDocument("circle has no main person".into()))?;
        Ok(MemberId::parse(&id)?)
    }

    /// Where capabilities come from; the device sets the membership log's.
    pub fn set_authority(&mut self, authority: Authority) {
        self.authority = authority;
    }

    /// The rights of `by`, who must be a current member.
    pub fn rights(&self, by: &MemberId) -> Result<Rights> {
        let member = self
            .snapshot(&[schema::MEMBERS, by.as_str()])
            .map_err(|_| Error::NotAMember(by.clone()))?;
        let member = Node::new(&member);
        if member.has("removed_at") {
            return Err(Error::NotAMember(by.clone()));
        }
        let designation = member
            .str("designation")
            .and_then(|d| Designation::parse(&d));
        let capability = match &self.authority {
            Authority::Log(capabilities) => *capabilities
                .get(by)
                .ok_or_else(|| Error::NotAMember(by.clone()))?,
            Authority::FromPlan if *by == self.main_person()? => Capability::Owner,
            Authority::FromPlan if designation == Some(Designation::Coordinator) => {
                Capability::Admin
            }
            Authority::FromPlan => Capability::Member,
        };
        Ok(Rights {
            member: by.clone(),
            capability,
            professional: designation == Some(Designation::Professional),
        })
    }

    /// Checks that `by`, a current member, may perform `op` (the rule table of
    /// [`authority::permit`]).
    pub(super) fn permit(&self, by: &MemberId, op: Operation<'_>) -> Result<Rights> {
        let rights = self.rights(by)?;
        authority::permit(&rights, op, &self.main_person()?)?;
        Ok(rights)
    }

    /// The earliest time a claim by this device may carry now (see
    /// [`authority::earliest_claim_time`]), judged at the dependencies the claim's
    /// change will have, because every other replica judges it there.
    pub(super) fn earliest_claim_time(&self) -> kring_trust::time::Timestamp {
        authority::earliest_claim_time(&self.doc, &self.next_change_deps())
    }

    /// The dependencies automerge gives the next local change: the heads, plus this
    /// actor's own last change when a merge has left it behind a head (automerge
    /// keeps each actor's changes a chain). A rule read "at the change's
    /// dependencies" must be read here, not at the heads alone.
    fn next_change_deps(&self) -> Vec<ChangeHash> {
        let mut deps = self.doc.get_heads();
        if let Some(last) = self.doc.get_last_local_change() {
            if !deps.contains(&last.hash()) {
                deps.push(last.hash());
            }
        }
        deps
    }

    /// The circle's IANA time zone ([`super::recurrence::LEGACY_ZONE`] for a circle
    /// made before circles had one).
    pub fn timezone(&self) -> Result<String> {
        let circle = self.snapshot(&[schema::CIRCLE])?;
        Ok(Node::new(&circle)
            .str("timezone")
            .unwrap_or_else(|| super::recurrence::LEGACY_ZONE.to_owned()))
    }

    /// Sets the circle's time zone (the main person decides; dates of the plan keep
    /// their wall-clock time in the new zone).
    pub fn set_timezone(&mut self, by: &MemberId, zone: &str, now: Timestamp) -> Result<()> {
        self.permit(by, Operation::ChangeCircle)?;
        let zone = super::recurrence::parse_zone(zone)?.name().to_owned();
        self.change(now, |tx| {
            let circle = obj(tx, &[schema::CIRCLE])?;
            put_str(tx, &circle, "timezone", &zone)
        })
    }

    /// Checks `id` is a current member (someone named as checker, for example).
    pub(super) fn require_member_exists(&self, id: &MemberId) -> Result<()> {
        match self.snapshot(&[schema::MEMBERS, id.as_str()]) {
            Ok(m) if !Node::new(&m).has("removed_at") => Ok(()),
            _ => Err(Error::UnknownMember(id.clone())),
        }
    }
}

/// What [`CirclePlan::apply_checked`] did with the changes it was given.
#[derive(Debug, Default)]
pub struct Checked {
    /// Changes that became part of the plan.
    pub applied: usize,
    /// Changes refused by the plan's rules (or built on a refused one), with why.
    pub refused: Vec<(ChangeHash, Error)>,
    /// Changes whose dependencies have not arrived: offer them again later.
    pub waiting: Vec<ChangeHash>,
}

/// The object id of a map at `keys`, inside a transaction.
pub(super) fn obj<D: ReadDoc>(doc: &D, keys: &[&str]) -> Result<ObjId> {
    schema::object_id(doc, keys)
}

fn commit_options(now: Timestamp) -> CommitOptions {
    // automerge change times are seconds.
    CommitOptions::default().with_time(now.0.div_euclid(1000))
}

fn circle_id_of(doc: &Automerge) -> Result<CircleId> {
    let circle = schema::snapshot(doc, &[schema::CIRCLE])
        .map_err(|_| Error::MalformedDocument("no circle in document".into()))?;
    for key in schema::TOP_LEVEL_MAPS {
        schema::object_id(doc, &[key])?;
    }
    let id = Node::new(&circle)
        .str("id")
        .ok_or_else(|| Error::MalformedDocument("circle has no id".into()))?;
    CircleId::parse(&id).map_err(|_| Error::MalformedDocument(format!("bad circle id {id:?}")))
}
