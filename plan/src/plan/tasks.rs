//! Tasks: the concrete agreements of the plan (who does what, when), and the claim
//! protocol that lets people take a task without anyone having to ask.
//!
//! Claims are a map `member → time`. Replicas that claim the last place while offline
//! both keep their claim after merging; [`TaskView::claims`] marks the first `slots`
//! claims by `(time, member id)` as winners, which every replica computes identically.

use automerge::{transaction::Transactable, ObjId, ReadDoc, ScalarValue};

use super::authority::Operation;
use super::document::{obj, CirclePlan};
use super::ids::{EntryId, MemberId, TaskId};
use super::schema::{self, put_optional_time, put_str, put_time, Node};
use super::view::{OwnerKind, Schedule, TaskCategory, TaskStatus, TaskView};
use super::{read, rules};
use crate::{Error, Result};
use kring_trust::time::Timestamp;

#[derive(Debug, Clone)]
pub struct NewTask {
    pub title: String,
    pub notes: String,
    pub category: TaskCategory,
    pub owner_kind: OwnerKind,
    pub schedule: Schedule,
    /// People needed (at least 1).
    pub slots: u32,
    /// Who checks that it is done.
    pub checker: Option<MemberId>,
}

impl NewTask {
    /// A one-person circle task with no date, to be refined with struct update syntax.
    pub fn simple(title: impl Into<String>) -> NewTask {
        NewTask {
            title: title.into(),
            notes: String::new(),
            category: TaskCategory::Other,
            owner_kind: OwnerKind::Circle,
            schedule: Schedule::Unscheduled,
            slots: 1,
            checker: None,
        }
    }
}

/// A change to an existing task; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TaskUpdate {
    pub title: Option<String>,
    pub notes: Option<String>,
    pub category: Option<TaskCategory>,
    pub schedule: Option<Schedule>,
    pub slots: Option<u32>,
    /// `Some(None)` removes the checker.
    pub checker: Option<Option<MemberId>>,
}

impl Schedule {
    /// Rejects schedules that cannot happen: an end before the start, or a period of
    /// zero or more than a year.
    pub fn validate(&self) -> Result<()> {
        if let Schedule::Repeat(r) = self {
            return r.validate();
        }
        if let Schedule::Weekly {
            first_at,
            every_weeks,
            until,
        } = *self
        {
            if every_weeks == 0 || every_weeks > rules::MAX_EVERY_WEEKS {
                return Err(Error::InvalidValue {
                    field: "every how many weeks",
                    value: every_weeks.to_string(),
                    expected: format!("a number from 1 to {}", rules::MAX_EVERY_WEEKS),
                });
            }
            if until.is_some_and(|until| until < first_at) {
                return Err(Error::DatesOutOfOrder(
                    "a recurring task must end after it starts",
                ));
            }
        }
        Ok(())
    }

    /// The latest occurrence at or before `at` (what "I did it" most likely refers to).
    pub fn latest_occurrence_until(&self, at: Timestamp) -> Option<Timestamp> {
        match *self {
            Schedule::Unscheduled => None,
            // The year 1700 is before any plan.
            Schedule::Repeat(ref r) => r
                .occurrences_between(Timestamp(-8_520_000_000_000), at.plus_millis(1))
                .last()
                .copied(),
            Schedule::Due { at: due } => (due <= at).then_some(due),
            Schedule::Weekly {
                first_at, until, ..
            } => {
                let limit = until.map_or(at, |u| u.min(at));
                if limit < first_at {
                    return None;
                }
                self.occurrences_between(first_at, limit.plus_millis(1))
                    .last()
                    .copied()
            }
        }
    }

    /// Whether `at` is one of this schedule's occurrences.
    pub fn has_occurrence(&self, at: Timestamp) -> bool {
        self.next_occurrence(at) == Some(at)
    }
}

fn write_schedule<T: Transactable>(tx: &mut T, task: &ObjId, schedule: &Schedule) -> Result<()> {
    let s = schema::new_map(tx, task, schema::SCHEDULE)?;
    match *schedule {
        Schedule::Unscheduled => put_str(tx, &s, "kind", "unscheduled"),
        Schedule::Due { at } => {
            put_str(tx, &s, "kind", "due")?;
            put_time(tx, &s, "at", at)
        }
        Schedule::Weekly {
            first_at,
            every_weeks,
            until,
        } => {
            put_str(tx, &s, "kind", "weekly")?;
            put_time(tx, &s, "first_at", first_at)?;
            tx.put(&s, "every_weeks", ScalarValue::Uint(u64::from(every_weeks)))?;
            put_optional_time(tx, &s, "until", until)
        }
        Schedule::Repeat(ref r) => {
            put_str(tx, &s, "kind", "repeat")?;
            put_str(tx, &s, "start", &r.start)?;
            if let Some(rule) = &r.rule {
                put_str(tx, &s, "rule", rule)?;
            }
            let skipped = schema::new_map(tx, &s, "skipped")?;
            for key in &r.skipped {
                put_str(tx, &skipped, key, "skip")?;
            }
            let moved = schema::new_map(tx, &s, "moved")?;
            for m in &r.moved {
                put_str(tx, &moved, &m.from, &m.to)?;
            }
            Ok(())
        }
    }
}

impl CirclePlan {
    /// What reading one task needs: who was removed (their open claims no longer
    /// count) and the circle's time zone.
    fn task_context(&self) -> Result<read::TaskContext> {
        let members = self.snapshot(&[schema::MEMBERS])?;
        let removed = Node::new(&members)
            .child_maps()
            .into_iter()
            .filter_map(|(k, m)| Some((MemberId::parse(k).ok()?, m.time("removed_at")?)))
            .collect();
        Ok(read::TaskContext {
            removed,
            zone: self.timezone()?,
        })
    }

    /// The current state of one task (cheap: reads only that task).
    pub fn task(&self, id: &TaskId) -> Result<TaskView> {
        let task = self
            .snapshot(&[schema::TASKS, id.as_str()])
            .map_err(|_| Error::UnknownTask(id.clone()))?;
        read::task_view(id.as_str(), &Node::new(&task), &self.task_context()?)
            .ok_or_else(|| Error::UnknownTask(id.clone()))
    }

    pub fn add_task(&mut self, by: &MemberId, new: NewTask, now: Timestamp) -> Result<TaskId> {
        self.permit(by, Operation::AddTask)?;
        let title = rules::required_text("title", &new.title, rules::MAX_TITLE_CHARS)?;
        let notes = rules::optional_text("notes", &new.notes, rules::MAX_TEXT_CHARS)?;
        let slots = rules::slots(new.slots)?;
        new.schedule.validate()?;
        if let Some(checker) = &new.checker {
            self.require_member_exists(checker)?;
        }
        let id = TaskId::random();
        self.change(now, |tx| {
            let tasks = obj(tx, &[schema::TASKS])?;
            let task = schema::new_map(tx, &tasks, id.as_str())?;
            put_str(tx, &task, "title", &title)?;
            put_str(tx, &task, "notes", &notes)?;
            put_str(tx, &task, "category", new.category.as_str())?;
            put_str(tx, &task, "owner_kind", new.owner_kind.as_str())?;
            write_schedule(tx, &task, &new.schedule)?;
            tx.put(&task, "slots", ScalarValue::Uint(u64::from(slots)))?;
            if let Some(checker) = &new.checker {
                put_str(tx, &task, "checker", checker.as_str())?;
            }
            schema::new_map(tx, &task, schema::CLAIMS)?;
            schema::new_map(tx, &task, schema::COMPLETIONS)?;
            put_str(tx, &task, "status", TaskStatus::Open.as_str())?;
            put_str(tx, &task, "created_by", by.as_str())?;
            put_time(tx, &task, "created_at", now)
        })?;
        Ok(id)
    }

    pub fn update_task(
        &mut self,
        by: &MemberId,
        id: &TaskId,
        update: TaskUpdate,
        now: Timestamp,
    ) -> Result<()> {
        let task = self.task(id)?;
        self.permit(
            by,
            Operation::EditTask {
                creator: Some(&task.created_by),
            },
        )?;
        if task.status != TaskStatus::Open {
            return Err(Error::TaskNotOpen(id.clone()));
        }
        let title = update
            .title
            .as_deref()
            .map(|t| rules::required_text("title", t, rules::MAX_TITLE_CHARS))
            .transpose()?;
        let notes = update
            .notes
            .as_deref()
            .map(|n| rules::optional_text("notes", n, rules::MAX_TEXT_CHARS))
            .transpose()?;
        let slots = update.slots.map(rules::slots).transpose()?;
        if let Some(slots) = slots {
            let claimed = u32::try_from(task.claims.len()).unwrap_or(u32::MAX);
            if slots < claimed {
                return Err(Error::NotAllowed(
                    "fewer places than people who already claimed the task; someone must unclaim first",
                ));
            }
        }
        if let Some(schedule) = &update.schedule {
            schedule.validate()?;
        }
        if let Some(Some(checker)) = &update.checker {
            self.require_member_exists(checker)?;
        }
        self.change(now, |tx| {
            let t = obj(tx, &[schema::TASKS, id.as_str()])?;
            if let Some(title) = &title {
                put_str(tx, &t, "title", title)?;
            }
            if let Some(notes) = &notes {
                put_str(tx, &t, "notes", notes)?;
            }
            if let Some(category) = update.category {
                put_str(tx, &t, "category", category.as_str())?;
            }
            if let Some(schedule) = &update.schedule {
                write_schedule(tx, &t, schedule)?;
            }
            if let Some(slots) = slots {
                tx.put(&t, "slots", ScalarValue::Uint(u64::from(slots)))?;
            }
            match &update.checker {
                Some(Some(checker)) => put_str(tx, &t, "checker", checker.as_str())?,
                Some(None) if tx.get(&t, "checker")?.is_some() => tx.delete(&t, "checker")?,
                _ => {}
            }
            Ok(())
        })
    }

    /// `by` takes one place on the task. Refused when the task is full *on this
    /// replica*; concurrent offline claims can still overbook it (see module docs).
    ///
    /// The claim is dated `now`, but never earlier than the newest change this device
    /// has seen, and after every claim on the task it sees: a clock that is set back
    /// cannot put it ahead of claims it knew of (every replica refuses a claim dated
    /// earlier; `docs/permissions.md`, "Fair claims").
    pub fn claim_task(&mut self, by: &MemberId, id: &TaskId, now: Timestamp) -> Result<()> {
        self.permit(by, Operation::Claim { member: by })?;
        let task = self.task(id)?;
        require_open(&task)?;
        if task.claims.iter().any(|c| &c.member == by) {
            return Err(Error::AlreadyClaimed(id.clone()));
        }
        if task.free_slots() == 0 {
            return Err(Error::TaskFull {
                task: id.clone(),
                slots: task.slots,
            });
        }
        // Every claim in the document, also those of removed members the view hides:
        // the rule is judged on the document.
        let claims = self.snapshot(&[schema::TASKS, id.as_str(), schema::CLAIMS])?;
        let seen = Node::new(&claims)
            .times()
            .into_iter()
            .filter_map(|(m, at)| Some((MemberId::parse(m).ok()?, at)))
            .collect();
        let at = now
            .max(self.earliest_claim_time())
            .max(super::authority::after_claims(seen));
        self.change(now, |tx| {
            let claims = obj(tx, &[schema::TASKS, id.as_str(), schema::CLAIMS])?;
            put_time(tx, &claims, by.as_str(), at)
        })
    }

    /// The local key of occurrence `at` of a series in civil time, checked to be one
    /// of its occurrences.
    fn turn_key(task: &TaskView, at: Timestamp) -> Result<String> {
        let Schedule::Repeat(r) = &task.schedule else {
            return Err(Error::NotAllowed(
                "turns need a task repeating in the circle's time (edit its schedule first)",
            ));
        };
        if !r.is_series() || !task.schedule.has_occurrence(at) {
            return Err(Error::InvalidValue {
                field: "occurrence",
                value: at.to_string(),
                expected: "one of the task's occurrences".into(),
            });
        }
        Ok(r.key_of(at))
    }

    /// What every turn operation of `by` starts with: the right to claim for oneself,
    /// an open task, and the key of `occurrence` (which must be one of its turns).
    fn turn_for(
        &self,
        by: &MemberId,
        id: &TaskId,
        occurrence: Timestamp,
    ) -> Result<(TaskView, String)> {
        self.permit(by, Operation::Claim { member: by })?;
        let task = self.task(id)?;
        require_open(&task)?;
        let key = Self::turn_key(&task, occurrence)?;
        Ok((task, key))
    }

    /// The time a claim by `by` may carry now (see [`CirclePlan::claim_task`]).
    fn fair_claim_time(&self, id: &TaskId, now: Timestamp) -> Result<Timestamp> {
        let claims = self.snapshot(&[schema::TASKS, id.as_str(), schema::CLAIMS])?;
        let seen = Node::new(&claims)
            .times()
            .into_iter()
            .filter_map(|(m, at)| Some((MemberId::parse(m).ok()?, at)))
            .collect();
        Ok(now
            .max(self.earliest_claim_time())
            .max(super::authority::after_claims(seen)))
    }

    /// Writes the turn claim `key` (and removes `remove`), dated fairly.
    fn put_turn(
        &mut self,
        id: &TaskId,
        key: String,
        remove: Option<String>,
        now: Timestamp,
    ) -> Result<()> {
        let at = self.fair_claim_time(id, now)?;
        self.change(now, |tx| {
            let claims = obj(tx, &[schema::TASKS, id.as_str(), schema::CLAIMS])?;
            if let Some(old) = &remove {
                if tx.get(&claims, old.as_str())?.is_some() {
                    tx.delete(&claims, old.as_str())?;
                }
            }
            put_time(tx, &claims, &key, at)
        })
    }

    /// `by` takes the one occurrence at `occurrence` of a repeating task ("ik rijd
    /// volgende dinsdag"), if a place is free on it.
    pub fn claim_turn(
        &mut self,
        by: &MemberId,
        id: &TaskId,
        occurrence: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let (task, key) = self.turn_for(by, id, occurrence)?;
        let on = task.people_on(&key);
        if on.iter().any(|c| &c.member == by) {
            return Err(Error::AlreadyClaimed(id.clone()));
        }
        if on.iter().filter(|c| c.winner).count() >= task.slots as usize {
            return Err(Error::TaskFull {
                task: id.clone(),
                slots: task.slots,
            });
        }
        let mark = super::view::TurnKind::One.mark();
        self.put_turn(id, format!("{by}{mark}{key}"), None, now)
    }

    /// `by` takes every occurrence of a repeating task from `occurrence` on.
    pub fn claim_from(
        &mut self,
        by: &MemberId,
        id: &TaskId,
        occurrence: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let (task, key) = self.turn_for(by, id, occurrence)?;
        if task.claims.iter().any(|c| &c.member == by) {
            return Err(Error::AlreadyClaimed(id.clone()));
        }
        let mark = super::view::TurnKind::From.mark();
        self.put_turn(id, format!("{by}{mark}{key}"), None, now)
    }

    /// `by` gives their turn at `occurrence` back and asks someone to take it over;
    /// the follow-up then treats the occurrence as one that needs someone.
    pub fn hand_over(
        &mut self,
        by: &MemberId,
        id: &TaskId,
        occurrence: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let (task, key) = self.turn_for(by, id, occurrence)?;
        if !task
            .people_on(&key)
            .iter()
            .any(|c| &c.member == by && c.winner)
        {
            return Err(Error::NotClaimed(id.clone()));
        }
        let one = format!("{by}{}{key}", super::view::TurnKind::One.mark());
        let mark = super::view::TurnKind::HandedOver.mark();
        self.put_turn(id, format!("{by}{mark}{key}"), Some(one), now)
    }

    /// Leaves out the occurrence at `occurrence` of a series ("no dinner on 24
    /// March"), or moves it to `to` (a civil start in the circle's zone). Who made the
    /// task, the main person or an admin may; it is a change of the task's schedule.
    pub fn change_occurrence(
        &mut self,
        by: &MemberId,
        id: &TaskId,
        occurrence: Timestamp,
        to: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let task = self.task(id)?;
        let key = Self::turn_key(&task, occurrence)?;
        let Schedule::Repeat(mut r) = task.schedule.clone() else {
            return Err(Error::NotAllowed(
                "only a series in the circle's time has occurrences to change",
            ));
        };
        match to {
            None => r.skipped.push(key),
            Some(to) => {
                let to = super::recurrence::CivilStart::parse(to)?.to_string();
                r.moved.retain(|m| m.from != key);
                r.moved.push(super::recurrence::Moved { from: key, to });
            }
        }
        let update = TaskUpdate {
            schedule: Some(Schedule::Repeat(r)),
            ..TaskUpdate::default()
        };
        self.update_task(by, id, update, now)
    }

    /// `by` gives their place back.
    pub fn unclaim_task(&mut self, by: &MemberId, id: &TaskId, now: Timestamp) -> Result<()> {
        self.permit(by, Operation::Claim { member: by })?;
        let task = self.task(id)?;
        if !task.claims.iter().any(|c| &c.member == by) {
            return Err(Error::NotClaimed(id.clone()));
        }
        self.change(now, |tx| {
            let claims = obj(tx, &[schema::TASKS, id.as_str(), schema::CLAIMS])?;
            tx.delete(&claims, by.as_str())?;
            Ok(())
        })
    }

    /// Records that the task (or, for a recurring task, one occurrence of it) was done.
    ///
    /// Who may: someone holding a place on it, the member who checks it, or the main
    /// person. For a recurring task `occurrence` defaults to the latest occurrence up
    /// to now and must be one of the schedule's occurrences.
    pub fn complete_task(
        &mut self,
        by: &MemberId,
        id: &TaskId,
        occurrence: Option<Timestamp>,
        note: &str,
        now: Timestamp,
    ) -> Result<EntryId> {
        let task = self.task(id)?;
        let doing_it = task.winners().any(|w| w == by) || task.checker.as_ref() == Some(by);
        self.permit(by, Operation::Complete { doing_it })?;
        require_open(&task)?;
        let note = rules::optional_text("note", note, rules::MAX_TEXT_CHARS)?;
        let occurrence = match task.schedule {
            ref s if s.is_recurring() => Some(recurring_occurrence(&task, occurrence, now)?),
            _ => None,
        };
        let completion = EntryId::random();
        self.change(now, |tx| {
            let completions = obj(tx, &[schema::TASKS, id.as_str(), schema::COMPLETIONS])?;
            let c = schema::new_map(tx, &completions, completion.as_str())?;
            put_str(tx, &c, "by", by.as_str())?;
            put_time(tx, &c, "at", now)?;
            put_optional_time(tx, &c, "occurrence", occurrence)?;
            put_str(tx, &c, "note", &note)
        })?;
        Ok(completion)
    }

    /// Cancels a task that is no longer needed. The creator, the main person or an
    /// admin may cancel.
    pub fn cancel_task(&mut self, by: &MemberId, id: &TaskId, now: Timestamp) -> Result<()> {
        self.set_task_status(by, id, TaskStatus::Open, TaskStatus::Cancelled, now)
    }

    /// Opens a cancelled task again (the same people as for cancelling may).
    pub fn reopen_task(&mut self, by: &MemberId, id: &TaskId, now: Timestamp) -> Result<()> {
        self.set_task_status(by, id, TaskStatus::Cancelled, TaskStatus::Open, now)
    }

    fn set_task_status(
        &mut self,
        by: &MemberId,
        id: &TaskId,
        from: TaskStatus,
        to: TaskStatus,
        now: Timestamp,
    ) -> Result<()> {
        let task = self.task(id)?;
        self.permit(
            by,
            Operation::EditTask {
                creator: Some(&task.created_by),
            },
        )?;
        if task.status != from {
            return Err(match from {
                TaskStatus::Open => Error::TaskNotOpen(id.clone()),
                _ => Error::NotAllowed("only a cancelled task can be opened again"),
            });
        }
        self.change(now, |tx| {
            let t = obj(tx, &[schema::TASKS, id.as_str()])?;
            put_str(tx, &t, "status", to.as_str())
        })
    }
}

fn require_open(task: &TaskView) -> Result<()> {
    if task.status != TaskStatus::Open {
        return Err(Error::TaskNotOpen(task.id.clone()));
    }
    if task.is_done() {
        return Err(Error::AlreadyDone(task.id.clone()));
    }
    Ok(())
}

fn recurring_occurrence(
    task: &TaskView,
    requested: Option<Timestamp>,
    now: Timestamp,
) -> Result<Timestamp> {
    let occurrence = match requested {
        Some(at) if at > now => {
            return Err(Error::DatesOutOfOrder(
                "an occurrence in the future cannot be done yet",
            ))
        }
        Some(at) if task.schedule.has_occurrence(at) => at,
        Some(at) => {
            return Err(Error::InvalidValue {
                field: "occurrence",
                value: at.0.to_string(),
                expected: "one of the task's scheduled times".into(),
            })
        }
        None => task
            .schedule
            .latest_occurrence_until(now)
            .ok_or(Error::DatesOutOfOrder(
                "this recurring task has not started yet",
            ))?,
    };
    if task
        .completions
        .iter()
        .any(|c| c.occurrence == Some(occurrence))
    {
        return Err(Error::AlreadyDone(task.id.clone()));
    }
    Ok(occurrence)
}
