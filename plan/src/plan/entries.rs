//! The smaller parts of the plan: safety conditions, standing offers, the log of
//! updates and thanks, and meetings with RSVPs.

use super::authority::Operation;
use super::document::{obj, CirclePlan};
use super::ids::{EntryId, MemberId};
use super::rules;
use super::schema::{self, put_str, put_time, Node};
use super::view::{LogKind, Rsvp};
use crate::{Error, Result};
use kring_trust::time::Timestamp;

impl CirclePlan {
    /// Creates an entry with a fresh id in the top-level map `collection` and fills it.
    fn add_entry(
        &mut self,
        collection: &'static str,
        now: Timestamp,
        fill: impl FnOnce(&mut automerge::transaction::Transaction<'_>, &automerge::ObjId) -> Result<()>,
    ) -> Result<EntryId> {
        let id = EntryId::random();
        self.change(now, |tx| {
            let parent = obj(tx, &[collection])?;
            let entry = schema::new_map(tx, &parent, id.as_str())?;
            fill(tx, &entry)
        })?;
        Ok(id)
    }

    /// Who wrote entry `id` of `collection`, as its `field` names them.
    fn entry_author(
        &self,
        collection: &'static str,
        id: &EntryId,
        field: &str,
    ) -> Result<Option<MemberId>> {
        let entry = self
            .snapshot(&[collection, id.as_str()])
            .map_err(|_| Error::UnknownEntry(id.clone()))?;
        Ok(Node::new(&entry)
            .str(field)
            .and_then(|m| MemberId::parse(&m).ok()))
    }

    fn require_entry(&self, collection: &'static str, id: &EntryId) -> Result<()> {
        if self.exists(&[collection, id.as_str()]) {
            Ok(())
        } else {
            Err(Error::UnknownEntry(id.clone()))
        }
    }

    /// A professional sets a safety condition: something that must hold for the plan
    /// to be acceptable to them ("the children sleep at home"). Only a member the
    /// main person or an admin marked as professional may.
    pub fn set_condition(&mut self, by: &MemberId, text: &str, now: Timestamp) -> Result<EntryId> {
        self.permit(by, Operation::SetCondition)?;
        let text = rules::required_text("condition", text, rules::MAX_TEXT_CHARS)?;
        self.add_entry(schema::CONDITIONS, now, |tx, c| {
            put_str(tx, c, "text", &text)?;
            put_str(tx, c, "set_by", by.as_str())?;
            put_time(tx, c, "set_at", now)
        })
    }

    /// The main person accepts a safety condition.
    pub fn accept_condition(&mut self, by: &MemberId, id: &EntryId, now: Timestamp) -> Result<()> {
        self.permit(by, Operation::AcceptCondition)?;
        self.require_entry(schema::CONDITIONS, id)?;
        self.change(now, |tx| {
            let c = obj(tx, &[schema::CONDITIONS, id.as_str()])?;
            put_time(tx, &c, "accepted_at", now)
        })
    }

    /// A standing offer, so nobody has to ask: "I can drive on Tuesdays".
    pub fn add_offer(
        &mut self,
        by: &MemberId,
        text: &str,
        availability: &str,
        now: Timestamp,
    ) -> Result<EntryId> {
        self.permit(by, Operation::AddOffer)?;
        let text = rules::required_text("offer", text, rules::MAX_TEXT_CHARS)?;
        let availability =
            rules::optional_text("availability", availability, rules::MAX_TITLE_CHARS)?;
        self.add_entry(schema::OFFERS, now, |tx, o| {
            put_str(tx, o, "by", by.as_str())?;
            put_str(tx, o, "text", &text)?;
            put_str(tx, o, "availability", &availability)?;
            put_time(tx, o, "created_at", now)
        })
    }

    /// Only the person who made an offer withdraws it.
    pub fn withdraw_offer(&mut self, by: &MemberId, id: &EntryId, now: Timestamp) -> Result<()> {
        let author = self.entry_author(schema::OFFERS, id, "by")?;
        self.permit(
            by,
            Operation::WithdrawOffer {
                author: author.as_ref(),
            },
        )?;
        self.change(now, |tx| {
            let o = obj(tx, &[schema::OFFERS, id.as_str()])?;
            put_time(tx, &o, "withdrawn_at", now)
        })
    }

    /// Posts an update, a thank-you, a worry or a check-in to the circle's log.
    pub fn post(
        &mut self,
        by: &MemberId,
        kind: LogKind,
        text: &str,
        now: Timestamp,
    ) -> Result<EntryId> {
        self.permit(by, Operation::Post)?;
        let text = rules::required_text("message", text, rules::MAX_TEXT_CHARS)?;
        self.add_entry(schema::LOG, now, |tx, e| {
            put_str(tx, e, "by", by.as_str())?;
            put_time(tx, e, "at", now)?;
            put_str(tx, e, "kind", kind.as_str())?;
            put_str(tx, e, "text", &text)
        })
    }

    /// Plans a circle meeting (e.g. the evaluation). It must lie in the future.
    pub fn schedule_meeting(
        &mut self,
        by: &MemberId,
        at: Timestamp,
        place: &str,
        agenda: &str,
        now: Timestamp,
    ) -> Result<EntryId> {
        self.permit(by, Operation::ScheduleMeeting)?;
        if at <= now {
            return Err(Error::DatesOutOfOrder(
                "a new meeting must be in the future",
            ));
        }
        let place = rules::optional_text("place", place, rules::MAX_TITLE_CHARS)?;
        let agenda = rules::optional_text("agenda", agenda, rules::MAX_TEXT_CHARS)?;
        self.add_entry(schema::MEETINGS, now, |tx, m| {
            put_time(tx, m, "at", at)?;
            put_str(tx, m, "place", &place)?;
            put_str(tx, m, "agenda", &agenda)?;
            put_str(tx, m, "created_by", by.as_str())?;
            schema::new_map(tx, m, schema::RSVPS)?;
            Ok(())
        })
    }

    pub fn rsvp(
        &mut self,
        by: &MemberId,
        meeting: &EntryId,
        answer: Rsvp,
        now: Timestamp,
    ) -> Result<()> {
        self.permit(by, Operation::Rsvp { member: by })?;
        self.require_entry(schema::MEETINGS, meeting)?;
        self.change(now, |tx| {
            let rsvps = obj(tx, &[schema::MEETINGS, meeting.as_str(), schema::RSVPS])?;
            put_str(tx, &rsvps, by.as_str(), answer.as_str())
        })
    }

    /// Moves a meeting or changes its place or agenda (`None` keeps a field). Who
    /// planned it, the main person or an admin may.
    pub fn update_meeting(
        &mut self,
        by: &MemberId,
        meeting: &EntryId,
        update: MeetingUpdate,
        now: Timestamp,
    ) -> Result<()> {
        let creator = self.entry_author(schema::MEETINGS, meeting, "created_by")?;
        self.permit(
            by,
            Operation::EditMeeting {
                creator: creator.as_ref(),
            },
        )?;
        if update.at.is_some_and(|at| at <= now) {
            return Err(Error::DatesOutOfOrder(
                "a meeting must be moved to the future",
            ));
        }
        let place = update
            .place
            .map(|p| rules::optional_text("place", &p, rules::MAX_TITLE_CHARS))
            .transpose()?;
        let agenda = update
            .agenda
            .map(|a| rules::optional_text("agenda", &a, rules::MAX_TEXT_CHARS))
            .transpose()?;
        self.change(now, |tx| {
            let m = obj(tx, &[schema::MEETINGS, meeting.as_str()])?;
            if let Some(at) = update.at {
                put_time(tx, &m, "at", at)?;
            }
            if let Some(place) = &place {
                put_str(tx, &m, "place", place)?;
            }
            if let Some(agenda) = &agenda {
                put_str(tx, &m, "agenda", agenda)?;
            }
            Ok(())
        })
    }

    /// Calls a meeting off; it stays in the plan, marked as cancelled.
    pub fn cancel_meeting(
        &mut self,
        by: &MemberId,
        meeting: &EntryId,
        now: Timestamp,
    ) -> Result<()> {
        let creator = self.entry_author(schema::MEETINGS, meeting, "created_by")?;
        self.permit(
            by,
            Operation::EditMeeting {
                creator: creator.as_ref(),
            },
        )?;
        self.change(now, |tx| {
            let m = obj(tx, &[schema::MEETINGS, meeting.as_str()])?;
            put_time(tx, &m, "cancelled_at", now)
        })
    }
}

/// What [`CirclePlan::update_meeting`] changes; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct MeetingUpdate {
    pub at: Option<Timestamp>,
    pub place: Option<String>,
    pub agenda: Option<String>,
}
