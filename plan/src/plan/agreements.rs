//! The plan section: the question, concerns, goals, "if it goes differently",
//! the plan's status and approvals, and the evaluation (review) cycle.

use automerge::transaction::Transactable;

use super::authority::Operation;
use super::document::{obj, CirclePlan};
use super::ids::{EntryId, MemberId};
use super::rules;
use super::schema::{self, put_optional_time, put_str, put_time, Node};
use super::view::{HandoverFormat, PlanStatus};
use crate::{Error, Result};
use kring_trust::time::Timestamp;

/// The three lists of the plan that hold free text lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanList {
    /// What worries the circle.
    Concerns,
    /// What the circle wants to reach.
    Goals,
    /// "If it goes differently": what the circle does then.
    Contingencies,
}

impl PlanList {
    fn key(self) -> &'static str {
        match self {
            PlanList::Concerns => schema::CONCERNS,
            PlanList::Goals => schema::GOALS,
            PlanList::Contingencies => schema::CONTINGENCIES,
        }
    }
}

impl PlanStatus {
    /// The allowed moves: forward through the life cycle, or back from "presented" to
    /// "draft" when the circle wants to change the plan before accepting it.
    pub fn can_move_to(self, to: PlanStatus) -> bool {
        use PlanStatus::*;
        matches!(
            (self, to),
            (Draft, Presented) | (Presented, Draft) | (Presented, Accepted) | (Accepted, Archived)
        )
    }
}

impl CirclePlan {
    /// The circle's question: what the plan is for, in the main person's words.
    pub fn set_question(&mut self, by: &MemberId, question: &str, now: Timestamp) -> Result<()> {
        self.permit(by, Operation::SetQuestion)?;
        let question = rules::optional_text("question", question, rules::MAX_TEXT_CHARS)?;
        self.change(now, |tx| {
            let plan = obj(tx, &[schema::PLAN])?;
            put_str(tx, &plan, "question", &question)
        })
    }

    pub fn add_to_list(
        &mut self,
        by: &MemberId,
        list: PlanList,
        text: &str,
        now: Timestamp,
    ) -> Result<EntryId> {
        self.permit(by, Operation::AddListItem(list))?;
        let text = rules::required_text("text", text, rules::MAX_TEXT_CHARS)?;
        let id = EntryId::random();
        self.change(now, |tx| {
            let items = obj(tx, &[schema::PLAN, list.key()])?;
            let item = schema::new_map(tx, &items, id.as_str())?;
            put_str(tx, &item, "text", &text)?;
            put_str(tx, &item, "by", by.as_str())?;
            put_time(tx, &item, "at", now)
        })?;
        Ok(id)
    }

    pub fn remove_from_list(
        &mut self,
        by: &MemberId,
        list: PlanList,
        id: &EntryId,
        now: Timestamp,
    ) -> Result<()> {
        let item = self
            .snapshot(&[schema::PLAN, list.key(), id.as_str()])
            .map_err(|_| Error::UnknownEntry(id.clone()))?;
        let author = Node::new(&item)
            .str("by")
            .and_then(|b| MemberId::parse(&b).ok());
        self.permit(
            by,
            Operation::RemoveListItem {
                list,
                author: author.as_ref(),
            },
        )?;
        self.change(now, |tx| {
            let items = obj(tx, &[schema::PLAN, list.key()])?;
            tx.delete(&items, id.as_str())?;
            Ok(())
        })
    }

    pub fn plan_status(&self) -> Result<PlanStatus> {
        let plan = self.snapshot(&[schema::PLAN])?;
        let plan = Node::new(&plan);
        Ok(plan
            .str("status")
            .and_then(|s| PlanStatus::parse(&s))
            .unwrap_or(PlanStatus::Draft))
    }

    /// Moves the plan through its life cycle. Accepting needs the main person's
    /// approval: the circle makes the plan, the main person stays in charge of it.
    pub fn set_plan_status(&mut self, by: &MemberId, to: PlanStatus, now: Timestamp) -> Result<()> {
        self.permit(by, Operation::SetStatus { to: Some(to) })?;
        let from = self.plan_status()?;
        if !from.can_move_to(to) {
            return Err(Error::InvalidTransition { from, to });
        }
        if to == PlanStatus::Accepted {
            let main = self.main_person()?;
            let approvals = self.snapshot(&[schema::PLAN, schema::APPROVALS])?;
            if !Node::new(&approvals).has(main.as_str()) {
                return Err(Error::MainPersonApprovalMissing);
            }
        }
        self.change(now, |tx| {
            let plan = obj(tx, &[schema::PLAN])?;
            put_str(tx, &plan, "status", to.as_str())?;
            put_time(tx, &plan, "status_changed_at", now)
        })
    }

    /// Records that `by` agrees with the plan as it stands.
    pub fn approve_plan(&mut self, by: &MemberId, now: Timestamp) -> Result<()> {
        self.permit(by, Operation::Approve { member: by })?;
        let status = self.plan_status()?;
        if status == PlanStatus::Archived {
            return Err(Error::InvalidTransition {
                from: status,
                to: status,
            });
        }
        self.change(now, |tx| {
            let approvals = obj(tx, &[schema::PLAN, schema::APPROVALS])?;
            put_time(tx, &approvals, by.as_str(), now)
        })
    }

    /// Sets (or clears) when the circle evaluates the plan next. The date must lie
    /// in the future.
    pub fn set_next_review(
        &mut self,
        by: &MemberId,
        at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        self.permit(by, Operation::SetReviewDate)?;
        if at.is_some_and(|at| at <= now) {
            return Err(Error::DatesOutOfOrder(
                "the next evaluation must be in the future",
            ));
        }
        self.change(now, |tx| {
            let plan = obj(tx, &[schema::PLAN])?;
            put_optional_time(tx, &plan, "next_review_at", at)
        })
    }

    /// Records that the plan was handed over now to `to` (an export in `format` for
    /// professionals' systems), with or without people's names. Only the main person
    /// or an admin; a plan made before hand-overs were recorded has no place for one.
    pub fn record_handover(
        &mut self,
        by: &MemberId,
        to: &str,
        format: HandoverFormat,
        names: bool,
        now: Timestamp,
    ) -> Result<EntryId> {
        self.permit(by, Operation::RecordHandover)?;
        let to = rules::required_text("recipient", to, rules::MAX_NAME_CHARS)?;
        let id = EntryId::random();
        self.change(now, |tx| {
            let handovers = obj(tx, &[schema::PLAN, schema::HANDOVERS]).map_err(|_| {
                Error::MalformedDocument(
                    "this plan was made before hand-overs were recorded".into(),
                )
            })?;
            let handover = schema::new_map(tx, &handovers, id.as_str())?;
            put_time(tx, &handover, "at", now)?;
            put_str(tx, &handover, "by", by.as_str())?;
            put_str(tx, &handover, "to", &to)?;
            put_str(tx, &handover, "format", format.as_str())?;
            put_str(tx, &handover, "names", if names { "yes" } else { "no" })
        })?;
        Ok(id)
    }

    /// Records an evaluation that took place now. The next evaluation date changes
    /// only when `next_review_at` gives one: recording a review never clears it.
    pub fn record_review(
        &mut self,
        by: &MemberId,
        summary: &str,
        next_review_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<EntryId> {
        self.permit(by, Operation::RecordReview)?;
        let summary = rules::required_text("summary", summary, rules::MAX_TEXT_CHARS)?;
        if next_review_at.is_some_and(|at| at <= now) {
            return Err(Error::DatesOutOfOrder(
                "the next evaluation must be in the future",
            ));
        }
        let id = EntryId::random();
        self.change(now, |tx| {
            let plan = obj(tx, &[schema::PLAN])?;
            let reviews = obj(tx, &[schema::PLAN, schema::REVIEWS])?;
            let review = schema::new_map(tx, &reviews, id.as_str())?;
            put_time(tx, &review, "at", now)?;
            put_str(tx, &review, "by", by.as_str())?;
            put_str(tx, &review, "summary", &summary)?;
            match next_review_at {
                Some(at) => put_time(tx, &plan, "next_review_at", at),
                None => Ok(()),
            }
        })?;
        Ok(id)
    }
}
