//! Who may do what in the plan: the one rule table (`docs/permissions.md` says the
//! same in words, and the tests check every line of it).
//!
//! Rights come from the signed membership log (owner / admin / member / reader,
//! [`Capability`]) and, for safety conditions, from a *designation* that the owner or
//! an admin records in the plan. They never come from the relation people choose for
//! themselves when they join.
//!
//! The rules are enforced twice, by the same table:
//! - **before** a local operation writes anything: every operation of
//!   [`CirclePlan`](super::CirclePlan) names its [`Operation`] and asks [`permit`];
//! - **when a change arrives** from another device ([`check_change`]): every automerge
//!   operation in it is classified by the path it writes to into the same
//!   [`Operation`], judged by the same [`permit`], with every fact the rule needs (who
//!   made the task, who claimed it) read from the document *at the change's own
//!   dependencies*. The verdict therefore depends only on the change and its history,
//!   never on what else a replica has seen: every replica reaches the same verdict in
//!   any order of arrival, and a refused change is never applied anywhere.
//!
//! Invariant: the plan document consists of maps and scalars only, each map created
//! once by one change. Anything else a change tries (lists, text, counters, marks,
//! replacing an existing map, writing outside the known layout) is refused.

use automerge::{
    legacy::{Key, ObjectId, OpType},
    Automerge, Change, ChangeHash, ObjId, Prop, ReadDoc, ScalarValue, Value, ROOT,
};

use super::agreements::PlanList;
use super::ids::MemberId;
use super::schema;
use super::view::{Designation, PlanStatus, Relation};
use crate::{Error, Result};
use kring_trust::membership::Capability;
use kring_trust::time::Timestamp;

/// The rights of whoever writes: their member id and their capability from the
/// membership log (for a circle without a log: see [`Authority`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rights {
    pub member: MemberId,
    pub capability: Capability,
    /// Marked as a professional by the owner or an admin (sets safety conditions).
    pub professional: bool,
}

impl Rights {
    fn is_owner(&self) -> bool {
        self.capability == Capability::Owner
    }

    fn is_admin(&self) -> bool {
        self.capability.is_admin()
    }
}

/// Where capabilities come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Authority {
    /// A circle without a membership log (made or imported from a file): the main
    /// person is the owner, a member marked as coordinator is an admin, everyone else
    /// a member. Nothing is signed, so this only guards the honest local user.
    #[default]
    FromPlan,
    /// The capabilities of the signed membership log, per member. A member missing
    /// here (removed, or never admitted) may not write.
    Log(std::collections::HashMap<MemberId, Capability>),
}

/// Every kind of write to the plan, named the same by the local API and by the
/// classifier of incoming changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation<'a> {
    /// Name, language or time zone of the circle.
    ChangeCircle,
    /// A member record for someone else (a person without the app, say).
    AddPerson,
    /// One's own member record, written once on joining.
    Join,
    /// Name, relation or role label of `member`.
    EditMember {
        member: &'a MemberId,
    },
    /// Marking someone as professional or coordinator.
    Designate,
    RemoveMember {
        member: &'a MemberId,
    },
    SetQuestion,
    SetStatus {
        to: Option<PlanStatus>,
    },
    /// Approving the plan (or taking the approval back) for `member`.
    Approve {
        member: &'a MemberId,
    },
    AddListItem(PlanList),
    RemoveListItem {
        list: PlanList,
        author: Option<&'a MemberId>,
    },
    SetReviewDate,
    RecordReview,
    /// Recording that the plan was handed over to professionals (an export for
    /// their systems, with the main person's consent).
    RecordHandover,
    AddTask,
    /// Title, notes, date, schedule, places, checker, cancelling and reopening.
    EditTask {
        creator: Option<&'a MemberId>,
    },
    /// Taking or giving back a place for `member`.
    Claim {
        member: &'a MemberId,
    },
    /// Marking a task done; `doing_it`: a winning claim or the checker.
    Complete {
        doing_it: bool,
    },
    SetCondition,
    AcceptCondition,
    AddOffer,
    WithdrawOffer {
        author: Option<&'a MemberId>,
    },
    Post,
    ScheduleMeeting,
    EditMeeting {
        creator: Option<&'a MemberId>,
    },
    Rsvp {
        member: &'a MemberId,
    },
}

/// What [`permit`] says when it refuses, for a person: who may. Constants, so a
/// client can say the same in the person's language (the CLI keys its Dutch on them).
pub mod refusal {
    pub const READER: &str = "readers can read the plan but not change it";
    pub const CHANGE_CIRCLE: &str = "only the main person changes the circle's name and language";
    pub const ADD_PERSON: &str = "only the main person or an admin adds people to the circle";
    pub const EDIT_MEMBER: &str =
        "only the main person or an admin changes how someone else is shown";
    pub const DESIGNATE: &str =
        "only the main person or an admin marks professionals and coordinators";
    pub const REMOVE_MAIN_PERSON: &str = "the main person cannot be removed from their own circle";
    pub const REMOVE_MEMBER: &str = "only the main person or an admin removes people";
    pub const SET_QUESTION: &str = "only the main person sets the plan's question";
    pub const SET_STATUS: &str = "only the main person changes the plan's status";
    pub const APPROVE: &str = "people approve the plan only for themselves";
    pub const ADD_LIST_ITEM: &str =
        "only the main person or an admin adds goals and plans for when it goes differently";
    pub const REMOVE_LIST_ITEM: &str =
        "only who wrote it, the main person or an admin removes a line of the plan";
    pub const REVIEW: &str = "only the main person or an admin plans and records evaluations";
    pub const HANDOVER: &str = "only the main person or an admin hands the plan over";
    pub const EDIT_TASK: &str =
        "only who made the task, the main person or an admin changes or cancels it";
    pub const CLAIM: &str = "people take and give back places only for themselves";
    pub const COMPLETE: &str =
        "only someone doing the task, its checker or the main person marks it done";
    pub const SET_CONDITION: &str = "only a member marked as professional sets safety conditions";
    pub const ACCEPT_CONDITION: &str = "only the main person accepts safety conditions";
    pub const WITHDRAW_OFFER: &str = "only who made an offer withdraws it";
    pub const EDIT_MEETING: &str =
        "only who planned the meeting, the main person or an admin changes it";
    pub const RSVP: &str = "people answer an invitation only for themselves";

    /// Every refusal [`super::permit`] gives.
    pub const ALL: &[&str] = &[
        READER,
        CHANGE_CIRCLE,
        ADD_PERSON,
        EDIT_MEMBER,
        DESIGNATE,
        REMOVE_MAIN_PERSON,
        REMOVE_MEMBER,
        SET_QUESTION,
        SET_STATUS,
        APPROVE,
        ADD_LIST_ITEM,
        REMOVE_LIST_ITEM,
        REVIEW,
        HANDOVER,
        EDIT_TASK,
        CLAIM,
        COMPLETE,
        SET_CONDITION,
        ACCEPT_CONDITION,
        WITHDRAW_OFFER,
        EDIT_MEETING,
        RSVP,
    ];
}

/// The rule table: may `who` perform `op`? `main_person` is the circle's owner as the
/// plan names them. Refusals say, for a person, who may.
pub fn permit(who: &Rights, op: Operation<'_>, main_person: &MemberId) -> Result<()> {
    use Operation::*;
    if !who.capability.can_write() {
        return Err(Error::NotAllowed(refusal::READER));
    }
    let own = |member: &MemberId| *member == who.member;
    let admin = who.is_admin();
    let (allowed, refusal) = match op {
        ChangeCircle => (who.is_owner(), refusal::CHANGE_CIRCLE),
        AddPerson => (admin, refusal::ADD_PERSON),
        Join => (true, ""),
        EditMember { member } => (own(member) || admin, refusal::EDIT_MEMBER),
        Designate => (admin, refusal::DESIGNATE),
        RemoveMember { member } if member == main_person => (false, refusal::REMOVE_MAIN_PERSON),
        RemoveMember { member } => (own(member) || admin, refusal::REMOVE_MEMBER),
        SetQuestion => (who.is_owner(), refusal::SET_QUESTION),
        SetStatus { .. } => (who.is_owner(), refusal::SET_STATUS),
        Approve { member } => (own(member), refusal::APPROVE),
        AddListItem(PlanList::Concerns) => (true, ""),
        AddListItem(_) => (admin, refusal::ADD_LIST_ITEM),
        RemoveListItem { author, .. } => {
            (admin || author.is_some_and(own), refusal::REMOVE_LIST_ITEM)
        }
        SetReviewDate | RecordReview => (admin, refusal::REVIEW),
        RecordHandover => (admin, refusal::HANDOVER),
        AddTask | Post | AddOffer | ScheduleMeeting => (true, ""),
        EditTask { creator } => (admin || creator.is_some_and(own), refusal::EDIT_TASK),
        Claim { member } => (own(member) || admin, refusal::CLAIM),
        Complete { doing_it } => (doing_it || own(main_person), refusal::COMPLETE),
        SetCondition => (who.professional, refusal::SET_CONDITION),
        AcceptCondition => (own(main_person), refusal::ACCEPT_CONDITION),
        // An offer is a person's own generosity: nobody withdraws it for them.
        WithdrawOffer { author } => (author.is_some_and(own), refusal::WITHDRAW_OFFER),
        EditMeeting { creator } => (admin || creator.is_some_and(own), refusal::EDIT_MEETING),
        Rsvp { member } => (own(member), refusal::RSVP),
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::NotAllowed(refusal))
    }
}

/// The earliest time a claim written on top of `deps` may carry: no earlier than the
/// newest change its author had seen (and, by [`after_claims`], after every claim on
/// the same task it saw). A device whose clock is set back therefore
/// cannot rank its claim before changes it already knew about (see
/// `docs/permissions.md`, "Fair claims").
pub fn earliest_claim_time(doc: &Automerge, deps: &[ChangeHash]) -> Timestamp {
    let newest_secs = deps
        .iter()
        .filter_map(|h| doc.get_change_by_hash(h))
        .map(|c| c.timestamp())
        .max()
        .unwrap_or(0);
    Timestamp(newest_secs.saturating_mul(1000))
}

/// The earliest time a new claim may carry on a task whose other claims (as its
/// author saw them) are `seen`: strictly after each of them, so a claim never ranks
/// before one its author already knew about.
pub fn after_claims(seen: Vec<(MemberId, Timestamp)>) -> Timestamp {
    seen.into_iter()
        .map(|(_, at)| at.plus_millis(1))
        .max()
        .unwrap_or(Timestamp(i64::MIN))
}

/// Judges one change already in `doc` (applied, so every object it names can be
/// located) against the rights of its author. Everything the rules need is read at
/// the change's dependencies, so later changes cannot influence the verdict.
pub fn check_change(doc: &Automerge, change: &Change, who: &Rights) -> Result<()> {
    let deps = change.deps().to_vec();
    if deps.is_empty() {
        // The genesis: the main person's device lays out the document.
        return if who.is_owner() {
            Ok(())
        } else {
            Err(Error::NotAllowed(
                "only the main person founds the circle's plan",
            ))
        };
    }
    let main_person = read_main_person(doc, &deps)?;
    let at = At { doc, heads: &deps };
    let mut who = who.clone();
    who.professional = at.designation(&who.member) == Some(Designation::Professional);
    let start = change.start_op().get();
    let end = start + change.len() as u64;
    let actor = change.actor_id();
    let made_here = |obj: &ObjectId| match obj {
        ObjectId::Root => false,
        ObjectId::Id(id) => id.actor() == actor && (start..end).contains(&id.counter()),
    };
    for op in change.decode().operations {
        let key = match &op.key {
            Key::Map(k) => k.to_string(),
            Key::Seq(_) => return Err(refused("lists are not part of the plan")),
        };
        let value = match &op.action {
            OpType::Make(automerge::ObjType::Map) => Write::MakeMap,
            OpType::Put(v) => Write::Put(v.clone()),
            OpType::Delete => Write::Delete,
            _ => return Err(refused("only maps and plain values are part of the plan")),
        };
        let (obj, path) = locate(doc, &op.obj)?;
        let inside_new = made_here(&op.obj);
        let write = Located {
            path: path.iter().map(|(_, k)| k.as_str()).collect(),
            objects: path.iter().map(|(o, _)| o.clone()).chain([obj]).collect(),
            key: &key,
            value,
            inside_new,
        };
        judge(&at, &write, &who, &main_person)?;
    }
    Ok(())
}

/// What one automerge operation does.
enum Write {
    MakeMap,
    Put(ScalarValue),
    Delete,
}

/// One operation with where it writes: `path` are the keys from the root to the
/// object written into, `objects[i]` the object holding `path[i]` (the last one is
/// the object written into itself).
struct Located<'a> {
    path: Vec<&'a str>,
    objects: Vec<ObjId>,
    key: &'a str,
    value: Write,
    /// The object written into was created by this same change.
    inside_new: bool,
}

impl Located<'_> {
    fn target(&self) -> &ObjId {
        self.objects.last().unwrap_or(&ROOT)
    }

    fn puts_member(&self, member: &MemberId) -> bool {
        matches!(&self.value, Write::Put(ScalarValue::Str(s)) if s.as_str() == member.as_str())
    }
}

/// The document as it was at some heads.
struct At<'a> {
    doc: &'a Automerge,
    heads: &'a [ChangeHash],
}

impl At<'_> {
    fn get(&self, obj: &ObjId, key: &str) -> Option<(Value<'static>, ObjId)> {
        self.doc
            .get_at(obj, key, self.heads)
            .ok()
            .flatten()
            .map(|(v, id)| (v.into_owned(), id))
    }

    fn str(&self, obj: &ObjId, key: &str) -> Option<String> {
        match self.get(obj, key)? {
            (Value::Scalar(s), _) => s.as_str().map(str::to_owned),
            _ => None,
        }
    }

    fn int(&self, obj: &ObjId, key: &str) -> Option<i64> {
        match self.get(obj, key)? {
            (Value::Scalar(s), _) => match s.as_ref() {
                ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(*i),
                ScalarValue::Uint(u) => i64::try_from(*u).ok(),
                _ => None,
            },
            _ => None,
        }
    }

    fn member(&self, obj: &ObjId, key: &str) -> Option<MemberId> {
        self.str(obj, key).and_then(|s| MemberId::parse(&s).ok())
    }

    fn map(&self, obj: &ObjId, key: &str) -> Option<ObjId> {
        match self.get(obj, key)? {
            (Value::Object(automerge::ObjType::Map), id) => Some(id),
            _ => None,
        }
    }

    fn designation(&self, member: &MemberId) -> Option<Designation> {
        let members = self.map(&ROOT, schema::MEMBERS)?;
        let record = self.map(&members, member.as_str())?;
        Designation::parse(&self.str(&record, "designation")?)
    }

    /// The claims of a task's `claims` map, except `except`'s own.
    fn claims(&self, claims: &ObjId, except: &MemberId) -> Vec<(MemberId, Timestamp)> {
        self.doc
            .map_range_at(claims, .., self.heads)
            .filter_map(|item| {
                let at = match item.value {
                    automerge::ValueRef::Scalar(automerge::ScalarValueRef::Timestamp(t)) => t,
                    automerge::ValueRef::Scalar(automerge::ScalarValueRef::Int(t)) => t,
                    _ => return None,
                };
                Some((MemberId::parse(&item.key).ok()?, Timestamp(at)))
            })
            .filter(|(m, _)| m != except)
            .collect()
    }

    /// Whether `member` holds a winning place on the task `task` (or checks it).
    fn doing_task(&self, task: &ObjId, member: &MemberId) -> bool {
        if self.member(task, "checker").as_ref() == Some(member) {
            return true;
        }
        let slots = self
            .int(task, "slots")
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(1)
            .max(1);
        let Some(claims) = self.map(task, schema::CLAIMS) else {
            return false;
        };
        // Nobody's id is all zeros, so this keeps every claim.
        let nobody = MemberId::parse(&"0".repeat(32)).unwrap_or_else(|_| member.clone());
        super::read::ranked_claims(self.claims(&claims, &nobody), slots)
            .iter()
            .any(|c| c.winner && &c.member == member)
    }
}

fn refused(why: &'static str) -> Error {
    Error::NotAllowed(why)
}

fn read_main_person(doc: &Automerge, heads: &[ChangeHash]) -> Result<MemberId> {
    let at = At { doc, heads };
    at.map(&ROOT, schema::CIRCLE)
        .and_then(|c| at.member(&c, "main_person"))
        .ok_or_else(|| refused("the change does not build on the circle's genesis"))
}

/// The object an operation writes into, and the path of (holder, key) pairs to it.
fn locate(doc: &Automerge, obj: &ObjectId) -> Result<(ObjId, Vec<(ObjId, String)>)> {
    let id = match obj {
        ObjectId::Root => return Ok((ROOT, Vec::new())),
        ObjectId::Id(id) => doc
            .import_obj(&id.to_string())
            .map_err(|_| refused("the change writes into an object the plan does not have"))?,
    };
    let parents = doc
        .parents(&id)
        .map_err(|_| refused("the change writes into an object the plan does not have"))?;
    let mut path = Vec::new();
    for (holder, prop) in parents.path() {
        match prop {
            Prop::Map(key) => path.push((holder, key)),
            Prop::Seq(_) => return Err(refused("lists are not part of the plan")),
        }
    }
    Ok((id, path))
}

/// Fields that name who wrote an entry: they must name the change's author.
const AUTHOR_FIELDS: &[&str] = &["by", "created_by", "set_by"];

/// Classifies one located write into an [`Operation`] and judges it.
fn judge(at: &At<'_>, w: &Located<'_>, who: &Rights, main_person: &MemberId) -> Result<()> {
    let permit = |op: Operation<'_>| permit(who, op, main_person);
    // Writing the fields of an entry this change creates: the creation itself was
    // judged; here only who it claims to be by, and nothing that only others may set.
    if w.inside_new {
        if AUTHOR_FIELDS.contains(&w.key) && !w.puts_member(&who.member) {
            return Err(refused("an entry must name its real author"));
        }
        return match (w.path.as_slice(), w.key) {
            ([schema::MEMBERS, _], "designation") => permit(Operation::Designate),
            ([schema::MEMBERS, _], "removed_at") => {
                Err(refused("a new member cannot be removed at once"))
            }
            ([schema::MEMBERS, _], "relation") if matches!(&w.value, Write::Put(ScalarValue::Str(s)) if s.as_str() == Relation::MainPerson.as_str()) => {
                Err(refused("a circle has exactly one main person"))
            }
            ([schema::CONDITIONS, _], "accepted_at") => permit(Operation::AcceptCondition),
            _ => Ok(()),
        };
    }
    // Creating a map: only where the layout has one, and never over an existing one
    // (a task's schedule is the one map that is replaced as a whole when it changes).
    let replaces_schedule =
        matches!(w.path.as_slice(), [schema::TASKS, _]) && w.key == schema::SCHEDULE;
    if matches!(w.value, Write::MakeMap)
        && !replaces_schedule
        && at.get(w.target(), w.key).is_some()
    {
        return Err(refused(
            "the change replaces a part of the plan that already exists",
        ));
    }
    let make = matches!(w.value, Write::MakeMap);
    let key_member = MemberId::parse(w.key).ok();
    let key_member = key_member.as_ref();
    // Facts the rules need, read at the change's dependencies.
    let entry_by = |field: &str| at.member(w.target(), field);
    match (w.path.as_slice(), w.key, make) {
        ([schema::CIRCLE], "name" | "language" | "timezone", false) => {
            permit(Operation::ChangeCircle)
        }
        ([schema::MEMBERS], _, true) => match key_member {
            Some(m) if *m == who.member => permit(Operation::Join),
            Some(_) => permit(Operation::AddPerson),
            None => Err(refused("a member record needs a member id")),
        },
        ([schema::MEMBERS, m], field, false) => {
            let member = MemberId::parse(m).map_err(|_| refused("no such member"))?;
            match field {
                "display_name" | "role_label" | "relation" => {
                    if field == "relation"
                        && matches!(&w.value, Write::Put(ScalarValue::Str(s)) if s.as_str() == Relation::MainPerson.as_str())
                    {
                        return Err(refused("a circle has exactly one main person"));
                    }
                    if member == *main_person && field == "relation" {
                        return Err(refused("the main person stays the main person"));
                    }
                    permit(Operation::EditMember { member: &member })
                }
                "designation" => permit(Operation::Designate),
                "removed_at" => permit(Operation::RemoveMember { member: &member }),
                _ => Err(refused("this part of a member record cannot change")),
            }
        }
        ([schema::PLAN], "question", false) => permit(Operation::SetQuestion),
        ([schema::PLAN], "status" | "status_changed_at", false) => {
            permit(Operation::SetStatus { to: None })
        }
        ([schema::PLAN], "next_review_at", false) => permit(Operation::SetReviewDate),
        ([schema::PLAN, schema::APPROVALS], _, false) => match key_member {
            Some(m) => permit(Operation::Approve { member: m }),
            None => Err(refused("an approval is by a member")),
        },
        ([schema::PLAN, list], _, _) if plan_list(list).is_some() => {
            let list = plan_list(list).unwrap_or(PlanList::Concerns);
            match w.value {
                Write::MakeMap => permit(Operation::AddListItem(list)),
                Write::Delete => {
                    let author = at.map(w.target(), w.key).and_then(|e| at.member(&e, "by"));
                    permit(Operation::RemoveListItem {
                        list,
                        author: author.as_ref(),
                    })
                }
                Write::Put(_) => Err(refused("a line of the plan is a map")),
            }
        }
        ([schema::PLAN, schema::REVIEWS], _, true) => permit(Operation::RecordReview),
        ([schema::PLAN, schema::HANDOVERS], _, true) => permit(Operation::RecordHandover),
        ([schema::TASKS], _, true) => permit(Operation::AddTask),
        ([schema::TASKS, _], field, _) => {
            let creator = entry_by("created_by");
            match field {
                "title"
                | "notes"
                | "category"
                | "owner_kind"
                | "slots"
                | "checker"
                | "status"
                | schema::SCHEDULE => permit(Operation::EditTask {
                    creator: creator.as_ref(),
                }),
                _ => Err(refused("this part of a task cannot change")),
            }
        }
        ([schema::TASKS, _, schema::SCHEDULE], _, false) => {
            let task = &w.objects[w.objects.len().saturating_sub(2)];
            let creator = at.member(task, "created_by");
            permit(Operation::EditTask {
                creator: creator.as_ref(),
            })
        }
        ([schema::TASKS, _, schema::CLAIMS], _, false) => match key_member
            .cloned()
            .or_else(|| super::read::turn_claim(w.key, Timestamp(0)).map(|t| t.member))
            .as_ref()
        {
            Some(m) => {
                if let Write::Put(ScalarValue::Timestamp(claimed)) = &w.value {
                    if Timestamp(*claimed) < earliest_claim_time(at.doc, at.heads) {
                        return Err(refused(
                            "a claim cannot be dated before what its author had seen",
                        ));
                    }
                }
                permit(Operation::Claim { member: m })
            }
            None => Err(refused("a claim is by a member")),
        },
        ([schema::TASKS, _, schema::COMPLETIONS], _, true) => {
            let task = &w.objects[w.objects.len().saturating_sub(2)];
            permit(Operation::Complete {
                doing_it: at.doing_task(task, &who.member),
            })
        }
        ([schema::CONDITIONS], _, true) => permit(Operation::SetCondition),
        ([schema::CONDITIONS, _], "accepted_at", false) => permit(Operation::AcceptCondition),
        ([schema::OFFERS], _, true) => permit(Operation::AddOffer),
        ([schema::OFFERS, _], "withdrawn_at", false) => {
            let author = entry_by("by");
            permit(Operation::WithdrawOffer {
                author: author.as_ref(),
            })
        }
        ([schema::LOG], _, true) => permit(Operation::Post),
        ([schema::MEETINGS], _, true) => permit(Operation::ScheduleMeeting),
        ([schema::MEETINGS, _], "at" | "place" | "agenda" | "cancelled_at", false) => {
            let creator = entry_by("created_by");
            permit(Operation::EditMeeting {
                creator: creator.as_ref(),
            })
        }
        ([schema::MEETINGS, _, schema::RSVPS], _, false) => match key_member {
            Some(m) => permit(Operation::Rsvp { member: m }),
            None => Err(refused("an answer is by a member")),
        },
        _ => Err(refused("the change writes outside the plan's layout")),
    }
}

fn plan_list(key: &str) -> Option<PlanList> {
    match key {
        schema::CONCERNS => Some(PlanList::Concerns),
        schema::GOALS => Some(PlanList::Goals),
        schema::CONTINGENCIES => Some(PlanList::Contingencies),
        _ => None,
    }
}
