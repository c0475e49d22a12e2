//! Who is in the circle, as people (names, relation, role).
//!
//! Which *devices* may write, and with what capability, is the membership log's job
//! (see `membership`); this part of the document holds what humans see: names and roles.

use automerge::{transaction::Transactable, ObjId, ReadDoc};

use super::authority::Operation;
use super::document::{obj, CirclePlan};
use super::ids::MemberId;
use super::schema::{self, put_str, put_time, Node};
use super::view::{Designation, Relation};
use super::{read, rules};
use crate::{Error, Result};
use kring_trust::time::Timestamp;

#[derive(Debug, Clone)]
pub struct NewMember {
    pub display_name: String,
    pub relation: Relation,
    /// Free text: "aunt", "JIM mentor", "debt counsellor".
    pub role_label: String,
}

pub(super) fn write_member<T: Transactable>(
    tx: &mut T,
    members: &ObjId,
    id: &MemberId,
    display_name: &str,
    relation: Relation,
    role_label: &str,
    now: Timestamp,
) -> Result<()> {
    let member = schema::new_map(tx, members, id.as_str())?;
    put_str(tx, &member, "display_name", display_name)?;
    put_str(tx, &member, "relation", relation.as_str())?;
    put_str(tx, &member, "role_label", role_label)?;
    put_time(tx, &member, "joined_at", now)
}

impl CirclePlan {
    /// Adds a person to the circle. There is only one main person: the one who
    /// created the circle.
    pub fn add_member(
        &mut self,
        by: &MemberId,
        new: NewMember,
        now: Timestamp,
    ) -> Result<MemberId> {
        self.add_member_with_id(by, MemberId::random(), new, now)
    }

    /// Adds a person under an id chosen elsewhere (e.g. by an invite, so the
    /// membership log and the plan name the same member). Only the main person and
    /// admins add people.
    pub fn add_member_with_id(
        &mut self,
        by: &MemberId,
        id: MemberId,
        new: NewMember,
        now: Timestamp,
    ) -> Result<MemberId> {
        self.permit(by, Operation::AddPerson)?;
        self.insert_member(&id, new, now)?;
        Ok(id)
    }

    /// A person who joined through an invite adds their own record. The document
    /// cannot check that `id` is really the writer: that is the membership log's job
    /// (only devices of `id` can sign envelopes for it; see `envelope`). Refused when
    /// `id` already has a record.
    pub fn join(&mut self, id: &MemberId, new: NewMember, now: Timestamp) -> Result<()> {
        self.insert_member(id, new, now)
    }

    /// Validates and writes a new member record (there is only one main person).
    fn insert_member(&mut self, id: &MemberId, new: NewMember, now: Timestamp) -> Result<()> {
        let name = rules::required_text("display name", &new.display_name, rules::MAX_NAME_CHARS)?;
        let role = rules::optional_text("role label", &new.role_label, rules::MAX_NAME_CHARS)?;
        if new.relation == Relation::MainPerson {
            return Err(Error::NotAllowed("a circle has exactly one main person"));
        }
        if self.exists(&[schema::MEMBERS, id.as_str()]) {
            return Err(Error::AlreadyExists(format!("member {id}")));
        }
        self.change(now, |tx| {
            let members = obj(tx, &[schema::MEMBERS])?;
            write_member(tx, &members, id, &name, new.relation, &role, now)
        })
    }

    /// Changes how a member is shown. Members may rename themselves; the main
    /// person and admins may rename anyone.
    pub fn update_member(
        &mut self,
        by: &MemberId,
        member: &MemberId,
        display_name: Option<&str>,
        role_label: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.require_member_exists(member)?;
        self.permit(by, Operation::EditMember { member })?;
        let name = display_name
            .map(|n| rules::required_text("display name", n, rules::MAX_NAME_CHARS))
            .transpose()?;
        let role = role_label
            .map(|r| rules::optional_text("role label", r, rules::MAX_NAME_CHARS))
            .transpose()?;
        self.change(now, |tx| {
            let m = obj(tx, &[schema::MEMBERS, member.as_str()])?;
            if let Some(name) = &name {
                put_str(tx, &m, "display_name", name)?;
            }
            if let Some(role) = &role {
                put_str(tx, &m, "role_label", role)?;
            }
            Ok(())
        })
    }

    /// Marks (or clears) a member as professional or coordinator: a decision of the
    /// main person or an admin, never of the member themselves.
    pub fn designate(
        &mut self,
        by: &MemberId,
        member: &MemberId,
        designation: Option<Designation>,
        now: Timestamp,
    ) -> Result<()> {
        self.require_member_exists(member)?;
        self.permit(by, Operation::Designate)?;
        self.change(now, |tx| {
            let m = obj(tx, &[schema::MEMBERS, member.as_str()])?;
            match designation {
                Some(d) => put_str(tx, &m, "designation", d.as_str()),
                None if tx.get(&m, "designation")?.is_some() => Ok(tx.delete(&m, "designation")?),
                None => Ok(()),
            }
        })
    }

    /// Marks a member as no longer in the circle. Their past contributions stay; their
    /// open claims are released so the tasks show up as open again.
    pub fn remove_member(
        &mut self,
        by: &MemberId,
        member: &MemberId,
        now: Timestamp,
    ) -> Result<()> {
        self.require_member_exists(member)?;
        self.permit(by, Operation::RemoveMember { member })?;
        let tasks = self.snapshot(&[schema::TASKS])?;
        let claimed: Vec<String> = Node::new(&tasks)
            .child_maps()
            .into_iter()
            .filter(|(id, task)| {
                task.map(schema::CLAIMS)
                    .is_some_and(|c| c.has(member.as_str()))
                    && read::task_view(id, task, &read::TaskContext::default())
                        .is_some_and(|t| t.is_open())
            })
            .map(|(id, _)| id.to_owned())
            .collect();
        self.change(now, |tx| {
            let m = obj(tx, &[schema::MEMBERS, member.as_str()])?;
            put_time(tx, &m, "removed_at", now)?;
            for task in &claimed {
                let claims = obj(tx, &[schema::TASKS, task, schema::CLAIMS])?;
                tx.delete(&claims, member.as_str())?;
            }
            Ok(())
        })
    }
}
