//! [`CircleHandle`]: one circle, every plan operation acting as this device's member,
//! and [`PlanObserver`]s told when the plan changes.
//!
//! Each operation is core's, called with "me" and the wall clock; the handle only adds
//! durability (saved to the store before the call returns) and notification.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kring_core::plan::{
    CircleId, CirclePlan, EntryId, LogKind, MemberId, NewMember, NewTask, PlanList, PlanStatus,
    PlanView, Relation, Rsvp, TaskId, TaskView,
};
use kring_core::store::Store;
use kring_core::Timestamp;

use crate::error::Result;
use crate::lock;
use crate::types::{ChangeOrigin, CircleSnapshot, TaskFacts, TaskUpdate};

/// Told when a circle's plan changed, so screens can re-read it.
///
/// Called on the thread that made the change, after it is durable and after the
/// handle's locks are released (so the observer may call back into the handle). Keep
/// it short: hand off to your own thread or coroutine. Anything it throws is ignored:
/// the change has happened either way.
#[uniffi::export(with_foreign)]
pub trait PlanObserver: Send + Sync {
    fn on_plan_changed(&self, circle_id: CircleId, origin: ChangeOrigin) -> Result<()>;
}

/// One circle on this device. Get it from `KringClient`; it is shared by every caller
/// of that circle.
///
/// Every call blocks on local storage: call it off the UI thread.
#[derive(uniffi::Object)]
pub struct CircleHandle {
    id: CircleId,
    me: MemberId,
    store: Arc<Mutex<Store>>,
    /// Lock order: `plan`, then `store`.
    plan: Mutex<CirclePlan>,
    observers: Mutex<Vec<(u64, Arc<dyn PlanObserver>)>>,
    next_observer: AtomicU64,
}

impl std::fmt::Debug for CircleHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircleHandle")
            .field("id", &self.id)
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

impl CircleHandle {
    pub(crate) fn new(plan: CirclePlan, me: MemberId, store: Arc<Mutex<Store>>) -> Self {
        CircleHandle {
            id: plan.circle_id().clone(),
            me,
            store,
            plan: Mutex::new(plan),
            observers: Mutex::new(Vec::new()),
            next_observer: AtomicU64::new(1),
        }
    }

    /// Runs one core operation as "me" at the current time, makes it durable, then
    /// tells the observers.
    fn mutate<T>(
        &self,
        op: impl FnOnce(&mut CirclePlan, &MemberId, Timestamp) -> kring_core::Result<T>,
    ) -> Result<T> {
        let (out, changed) = {
            let mut plan = lock(&self.plan)?;
            let before = plan.heads();
            let out = op(&mut plan, &self.me, Timestamp::now())?;
            self.persist(&mut plan)?;
            (out, plan.heads() != before)
        };
        if changed {
            self.notify(ChangeOrigin::Local);
        }
        Ok(out)
    }

    /// Saves what changed. If that fails, the in-memory plan falls back to what is
    /// stored, keeping core's promise that a failed call changed nothing.
    fn persist(&self, plan: &mut CirclePlan) -> Result<()> {
        let mut store = lock(&self.store)?;
        if let Err(e) = store.save(plan) {
            if let Ok(stored) = store.load(&self.id, plan.actor().clone()) {
                *plan = stored;
            }
            return Err(e.into());
        }
        Ok(())
    }

    fn notify(&self, origin: ChangeOrigin) {
        let observers: Vec<_> = match self.observers.lock() {
            Ok(list) => list.iter().map(|(_, o)| o.clone()).collect(),
            Err(_) => return,
        };
        for observer in observers {
            // Ignored on purpose: see `PlanObserver`.
            let _ = observer.on_plan_changed(self.id.clone(), origin);
        }
    }
}

#[uniffi::export]
impl CircleHandle {
    pub fn circle_id(&self) -> CircleId {
        self.id.clone()
    }

    /// The member this device acts as in this circle.
    pub fn me(&self) -> MemberId {
        self.me.clone()
    }

    // ---- reading ---------------------------------------------------------------------

    pub fn view(&self) -> Result<PlanView> {
        Ok(lock(&self.plan)?.view())
    }

    /// The plan, who I am, and what core says about each task: what a screen needs.
    pub fn snapshot(&self) -> Result<CircleSnapshot> {
        let view = lock(&self.plan)?.view();
        let tasks = view
            .tasks
            .iter()
            .map(|t| TaskFacts::of(t, &self.me))
            .collect();
        Ok(CircleSnapshot {
            me: self.me.clone(),
            view,
            tasks,
        })
    }

    /// One task (cheaper than a whole view).
    pub fn task(&self, task_id: TaskId) -> Result<TaskView> {
        Ok(lock(&self.plan)?.task(&task_id)?)
    }

    // ---- observers -------------------------------------------------------------------

    /// Registers `observer`; returns an id for [`CircleHandle::remove_observer`].
    pub fn add_observer(&self, observer: Arc<dyn PlanObserver>) -> Result<u64> {
        let id = self.next_observer.fetch_add(1, Ordering::Relaxed);
        lock(&self.observers)?.push((id, observer));
        Ok(id)
    }

    /// Returns whether an observer with this id was registered.
    pub fn remove_observer(&self, observer_id: u64) -> Result<bool> {
        let mut observers = lock(&self.observers)?;
        let before = observers.len();
        observers.retain(|(id, _)| *id != observer_id);
        Ok(observers.len() != before)
    }

    // ---- exchange with other replicas ------------------------------------------------

    /// The whole plan in the standard automerge format: the offline exchange format
    /// (and what `KringClient.importCircle` reads).
    pub fn export(&self) -> Result<Vec<u8>> {
        Ok(lock(&self.plan)?.export())
    }

    /// Merges another replica's export (or incremental changes) of this circle, saves,
    /// and tells observers (origin `Remote`) if anything was new. Returns how many
    /// changes were new.
    pub fn merge(&self, document: Vec<u8>) -> Result<u32> {
        let added = {
            let mut plan = lock(&self.plan)?;
            let added = plan.merge_bytes(&document)?;
            self.persist(&mut plan)?;
            added
        };
        if added > 0 {
            self.notify(ChangeOrigin::Remote);
        }
        Ok(u32::try_from(added).unwrap_or(u32::MAX))
    }

    // ---- members ---------------------------------------------------------------------

    /// Adds a person to the circle; returns their member id.
    pub fn add_member(
        &self,
        display_name: String,
        relation: Relation,
        role_label: String,
    ) -> Result<MemberId> {
        self.mutate(|plan, me, now| {
            plan.add_member(
                me,
                NewMember {
                    display_name,
                    relation,
                    role_label,
                },
                now,
            )
        })
    }

    /// `null`/`nil` leaves a field as it is.
    pub fn update_member(
        &self,
        member_id: MemberId,
        display_name: Option<String>,
        role_label: Option<String>,
    ) -> Result<()> {
        self.mutate(|plan, me, now| {
            plan.update_member(
                me,
                &member_id,
                display_name.as_deref(),
                role_label.as_deref(),
                now,
            )
        })
    }

    pub fn remove_member(&self, member_id: MemberId) -> Result<()> {
        self.mutate(|plan, me, now| plan.remove_member(me, &member_id, now))
    }

    // ---- the plan section ------------------------------------------------------------

    pub fn set_question(&self, question: String) -> Result<()> {
        self.mutate(|plan, me, now| plan.set_question(me, &question, now))
    }

    pub fn add_to_list(&self, list: PlanList, text: String) -> Result<EntryId> {
        self.mutate(|plan, me, now| plan.add_to_list(me, list, &text, now))
    }

    pub fn remove_from_list(&self, list: PlanList, entry_id: EntryId) -> Result<()> {
        self.mutate(|plan, me, now| plan.remove_from_list(me, list, &entry_id, now))
    }

    pub fn set_plan_status(&self, status: PlanStatus) -> Result<()> {
        self.mutate(|plan, me, now| plan.set_plan_status(me, status, now))
    }

    pub fn approve_plan(&self) -> Result<()> {
        self.mutate(|plan, me, now| plan.approve_plan(me, now))
    }

    /// `null`/`nil` clears the date.
    pub fn set_next_review(&self, at: Option<Timestamp>) -> Result<()> {
        self.mutate(|plan, me, now| plan.set_next_review(me, at, now))
    }

    pub fn record_review(
        &self,
        summary: String,
        next_review_at: Option<Timestamp>,
    ) -> Result<EntryId> {
        self.mutate(|plan, me, now| plan.record_review(me, &summary, next_review_at, now))
    }

    // ---- tasks -----------------------------------------------------------------------

    pub fn add_task(&self, task: NewTask) -> Result<TaskId> {
        self.mutate(|plan, me, now| plan.add_task(me, task, now))
    }

    pub fn update_task(&self, task_id: TaskId, update: TaskUpdate) -> Result<()> {
        self.mutate(|plan, me, now| plan.update_task(me, &task_id, update.into(), now))
    }

    /// Takes one place on the task. `KringException.TaskFull` when every place is
    /// taken on this device; offline claims elsewhere can still collide, which the
    /// view shows as `overbooked` (and `MyPlace.TOO_LATE` for whoever lost).
    pub fn claim_task(&self, task_id: TaskId) -> Result<()> {
        self.mutate(|plan, me, now| plan.claim_task(me, &task_id, now))
    }

    pub fn unclaim_task(&self, task_id: TaskId) -> Result<()> {
        self.mutate(|plan, me, now| plan.unclaim_task(me, &task_id, now))
    }

    /// Marks the task (for recurring tasks: `occurrence`, default the latest one) done.
    pub fn complete_task(
        &self,
        task_id: TaskId,
        occurrence: Option<Timestamp>,
        note: String,
    ) -> Result<EntryId> {
        self.mutate(|plan, me, now| plan.complete_task(me, &task_id, occurrence, &note, now))
    }

    pub fn cancel_task(&self, task_id: TaskId) -> Result<()> {
        self.mutate(|plan, me, now| plan.cancel_task(me, &task_id, now))
    }

    // ---- conditions, offers, log, meetings -------------------------------------------

    pub fn set_condition(&self, text: String) -> Result<EntryId> {
        self.mutate(|plan, me, now| plan.set_condition(me, &text, now))
    }

    pub fn accept_condition(&self, condition_id: EntryId) -> Result<()> {
        self.mutate(|plan, me, now| plan.accept_condition(me, &condition_id, now))
    }

    pub fn add_offer(&self, text: String, availability: String) -> Result<EntryId> {
        self.mutate(|plan, me, now| plan.add_offer(me, &text, &availability, now))
    }

    pub fn withdraw_offer(&self, offer_id: EntryId) -> Result<()> {
        self.mutate(|plan, me, now| plan.withdraw_offer(me, &offer_id, now))
    }

    pub fn post(&self, kind: LogKind, text: String) -> Result<EntryId> {
        self.mutate(|plan, me, now| plan.post(me, kind, &text, now))
    }

    pub fn schedule_meeting(
        &self,
        at: Timestamp,
        place: String,
        agenda: String,
    ) -> Result<EntryId> {
        self.mutate(|plan, me, now| plan.schedule_meeting(me, at, &place, &agenda, now))
    }

    pub fn rsvp(&self, meeting_id: EntryId, answer: Rsvp) -> Result<()> {
        self.mutate(|plan, me, now| plan.rsvp(me, &meeting_id, answer, now))
    }
}
