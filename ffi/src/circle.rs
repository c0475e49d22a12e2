//! [`CircleHandle`]: one circle, every plan operation acting as this device's member,
//! its sync with the relay, and [`PlanObserver`]s told when the plan changes.
//!
//! Each operation is core's, run through `Device::change` with "me" and the wall
//! clock: when a call returns, the change is on disk and in the outbox, ready for the
//! next sync. The handle only adds notification.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kring_client::device::{FamilyTime, FamilyTimeChange};
use kring_client::sync::engine::SyncStatus;
use kring_plan::export::ExportFormat;
use kring_plan::followup::{CircleReport, MyWeek};
use kring_plan::news::Notification;
use kring_plan::plan::{
    CircleId, CirclePlan, Designation, EntryId, HandoverFormat, Language, LogKind, MeetingUpdate,
    MemberId, NewMember, NewTask, PlanList, PlanStatus, PlanView, Relation, Rsvp, TaskId, TaskView,
};
use kring_plan::reminders::{Reminder, ReminderSettings};
use kring_trust::membership::Capability;
use kring_trust::Timestamp;

use crate::client::{blocking, Shared};
use crate::error::Result;
use crate::lock;
use crate::types::{ChangeOrigin, CircleSnapshot, SyncReport, TaskFacts, TaskUpdate};

/// Told when a circle's plan changed, so screens can re-read it.
///
/// `LOCAL`: an operation on this device, called on the thread that made it, after it
/// is durable. `REMOTE`: other devices' changes arrived and are stored — from `merge`
/// (on its thread), `sync`/`syncAll` (on tokio's blocking pool) or live mode (on its
/// `kring-watch` thread). Either way no lock of Kring's is held, so the observer may
/// call back into the handle. Keep it short: hand off to your own thread or coroutine.
/// Anything it throws is ignored: the change has happened either way.
#[uniffi::export(with_foreign)]
pub trait PlanObserver: Send + Sync {
    fn on_plan_changed(&self, circle_id: CircleId, origin: ChangeOrigin) -> Result<()>;
}

/// The observers of one circle, shared by its handle and (weakly) the client's
/// registry, through which sync and live mode reach them.
#[derive(Default)]
pub(crate) struct Observers {
    list: Mutex<Vec<(u64, Arc<dyn PlanObserver>)>>,
    next: AtomicU64,
}

impl Observers {
    pub(crate) fn notify(&self, circle: &CircleId, origin: ChangeOrigin) {
        let observers: Vec<_> = match self.list.lock() {
            Ok(list) => list.iter().map(|(_, o)| o.clone()).collect(),
            Err(_) => return,
        };
        for observer in observers {
            // Ignored on purpose: see `PlanObserver`.
            let _ = observer.on_plan_changed(circle.clone(), origin);
        }
    }
}

/// One circle on this device. Get it from `KringClient`; it is shared by every caller
/// of that circle.
///
/// Local calls block on local storage: call them off the UI thread. Calls that talk
/// to the relay are `suspend`/`async`.
#[derive(uniffi::Object)]
pub struct CircleHandle {
    pub(crate) id: CircleId,
    me: MemberId,
    pub(crate) shared: Arc<Shared>,
    observers: Arc<Observers>,
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
    pub(crate) fn new(
        id: CircleId,
        me: MemberId,
        shared: Arc<Shared>,
        observers: Arc<Observers>,
    ) -> Self {
        CircleHandle {
            id,
            me,
            shared,
            observers,
        }
    }

    /// Runs one core operation as "me" at the current time through `Device::change`
    /// (which refuses readers and removed devices, and stores the change and its
    /// envelope in one transaction), then tells the observers.
    fn mutate<T>(
        &self,
        op: impl FnOnce(&mut CirclePlan, &MemberId, Timestamp) -> kring_plan::Result<T>,
    ) -> Result<T> {
        let now = Timestamp::now();
        let (out, changed) = self.shared.local(|device| {
            device.change(&self.id, now, |plan, me| {
                let before = plan.heads();
                let out = op(plan, me, now)?;
                kring_client::Result::Ok((out, plan.heads() != before))
            })
        })?;
        if changed {
            self.observers.notify(&self.id, ChangeOrigin::Local);
        }
        Ok(out)
    }

    fn plan(&self) -> Result<CirclePlan> {
        self.shared.local(|d| d.plan(&self.id))
    }
}

#[uniffi::export(async_runtime = "tokio")]
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
        self.shared.local(|d| d.view(&self.id))
    }

    /// Everyone who can read the circle, members and readers, with role, mark and
    /// devices: a reader (who has no record in the plan) by the name they joined with.
    pub fn people(&self) -> Result<Vec<kring_client::device::Person>> {
        self.shared.local(|d| d.people(&self.id))
    }

    /// The plan, who I am, and what core says about each task: what a screen needs.
    pub fn snapshot(&self) -> Result<CircleSnapshot> {
        let view = self.view()?;
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

    /// One task.
    pub fn task(&self, task_id: TaskId) -> Result<TaskView> {
        Ok(self.plan()?.task(&task_id)?)
    }

    /// The follow-up report of this circle now: what is slipping, load, plan health.
    /// Core decides what this device's member may see (signals about people are for
    /// the main person, admins and the coordinator).
    pub fn followup_report(&self) -> Result<CircleReport> {
        self.shared
            .local(|d| d.circle_report(&self.id, Timestamp::now()))
    }

    /// "My plan this week": the main person's next seven days, one plain-language
    /// sentence per item, in `language` (`null`/`nil`: the circle's own).
    #[uniffi::method(default(language = None))]
    pub fn my_week(&self, language: Option<Language>) -> Result<MyWeek> {
        self.shared
            .local(|d| d.my_week(&self.id, Timestamp::now(), language))
    }

    /// The plan as a readable document, UTF-8 bytes: Markdown, or a printable HTML
    /// page (self-contained, every text people wrote escaped). `language`
    /// `null`/`nil`: the circle's own.
    #[uniffi::method(default(language = None))]
    pub fn export_text(&self, format: ExportFormat, language: Option<Language>) -> Result<Vec<u8>> {
        let text = self
            .shared
            .local(|d| d.export_text(&self.id, format, language, Timestamp::now()))?;
        Ok(text.into_bytes())
    }

    /// The plan handed over to professionals' systems, with the main person's consent
    /// (`docs/permissions.md`): an HL7 FHIR R4 `Bundle` as JSON, or a PDF/A-2b in
    /// `language` (the circle's when `null`). `recipient` is who receives it; with
    /// `names` false, people go as their relation to the main person. The hand-over is
    /// recorded in the plan ("overgedragen aan … op …") before the bytes are returned;
    /// anyone but the main person or an admin gets `NotAllowed` and nothing is recorded;
    /// while family time is open it is refused (present or close it first).
    pub fn export_handover(
        &self,
        format: HandoverFormat,
        recipient: String,
        names: bool,
        language: Option<Language>,
    ) -> Result<Vec<u8>> {
        let view = self.shared.local(|d| d.handover_view(&self.id))?;
        let consent = kring_handover::Consent {
            recipient: recipient.trim().to_owned(),
            names,
        };
        let language = language.unwrap_or(view.circle.language);
        let bytes = kring_handover::export(&view, &consent, format, Timestamp::now(), language)?;
        self.mutate(|plan, me, now| {
            plan.record_handover(me, &consent.recipient, format, names, now)
        })?;
        Ok(bytes)
    }

    // ---- what reaches people -----------------------------------------------------------

    /// Registers this device's Web Push subscription for the circle with its relay
    /// (a UnifiedPush distributor's endpoint on Android, or any RFC 8030 push
    /// service; `p256dh` and `auth` are the subscription's RFC 8291 keys, base64url).
    /// From then on the relay wakes this device when others change the circle, with a
    /// push that carries only the circle id and a cursor: hand it to
    /// `KringClient.onPush`. A subscription the relay does not take (not https, a
    /// private address, keys of the wrong size) is `KringException.InvalidInput`.
    pub async fn register_push(
        &self,
        endpoint: String,
        p256dh: String,
        auth: String,
    ) -> Result<()> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        let subscription = kring_trust::protocol::PushSubscription {
            endpoint,
            p256dh,
            auth,
        };
        blocking(move || shared.net(|d| d.register_push(&id, &subscription))).await
    }

    /// Stops the relay's wake-ups for this device in the circle (no error when there
    /// were none).
    pub async fn unregister_push(&self) -> Result<()> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || shared.net(|d| d.unregister_push(&id))).await
    }

    /// The relay's VAPID public key (base64url, uncompressed P-256): the
    /// `applicationServerKey` to create this circle's push subscription with.
    pub async fn push_key(&self) -> Result<String> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || shared.net(|d| d.push_key(&id)).map(|k| k.public_key)).await
    }

    /// This circle's reminders for the next `days` days (7 by default), for this
    /// device's person: hand them to the phone's local notifications, replacing what
    /// was scheduled before (ids are stable). Compute again after every sync.
    #[uniffi::method(default(days = 7))]
    pub fn reminders(&self, days: u32) -> Result<Vec<Reminder>> {
        self.shared
            .local(|d| d.reminders(Some(&self.id), Timestamp::now(), days))
    }

    /// This device's reminder choices for the circle.
    pub fn reminder_settings(&self) -> Result<ReminderSettings> {
        self.shared.local(|d| d.reminder_settings(&self.id))
    }

    /// Changes this device's reminder choices (nothing in the shared plan changes).
    pub fn set_reminder_settings(&self, settings: ReminderSettings) -> Result<()> {
        self.shared
            .local(|d| d.set_reminder_settings(&self.id, &settings))
    }

    /// What changed since the app last asked, as notifications for this device's
    /// person; the first call answers nothing and starts from there.
    pub fn what_changed(&self) -> Result<Vec<Notification>> {
        self.shared.local(|d| d.what_changed(&self.id))
    }

    // ---- observers -------------------------------------------------------------------

    /// Registers `observer`; returns an id for [`CircleHandle::remove_observer`].
    pub fn add_observer(&self, observer: Arc<dyn PlanObserver>) -> Result<u64> {
        let id = self.observers.next.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&self.observers.list)?.push((id, observer));
        Ok(id)
    }

    /// Returns whether an observer with this id was registered.
    pub fn remove_observer(&self, observer_id: u64) -> Result<bool> {
        let mut observers = lock(&self.observers.list)?;
        let before = observers.len();
        observers.retain(|(id, _)| *id != observer_id);
        Ok(observers.len() != before)
    }

    // ---- the relay -------------------------------------------------------------------

    /// Where this circle stands with its relay: connectivity (online, offline, …),
    /// this device's changes not sent yet, the last sync and its error, this device's
    /// standing (writer, reader, removed). Local: no network.
    pub fn status(&self) -> Result<SyncStatus> {
        self.shared.local(|d| d.status(&self.id))
    }

    /// Sets the relay of a circle that has none yet; the next `sync()` registers it.
    pub fn set_relay(&self, url: String) -> Result<()> {
        self.shared.local(|d| d.set_relay(&self.id, &url))
    }

    /// An invite link (`kring://invite/…`) for one new person with `capability`, valid
    /// until `expires_at`. Made offline; share it privately (it is the key to the
    /// circle). The circle must be on the relay before the link is used: `sync()`
    /// after inviting. `KringException.NoRelay` / `LocalOnly` when it cannot sync.
    pub fn invite(&self, capability: Capability, expires_at: Timestamp) -> Result<String> {
        self.shared
            .local(|d| d.invite(&self.id, capability, expires_at, Timestamp::now()))
    }

    /// An invite link for `member`, someone added by name (`addMember`) who has no
    /// device yet: whoever joins with it becomes that person, not a second one (their
    /// record, relation and role stay). `NotFound` for someone not in the plan,
    /// `AlreadyExists` when they joined already (their next device comes by a device
    /// link from their own device).
    pub fn invite_for(
        &self,
        member: MemberId,
        capability: Capability,
        expires_at: Timestamp,
    ) -> Result<String> {
        self.shared
            .local(|d| d.invite_for(&self.id, &member, capability, expires_at, Timestamp::now()))
    }

    /// The circle's invites for new people: those this device made (open, expired,
    /// taken back) and every used one; newest first.
    pub fn invites(&self) -> Result<Vec<kring_client::device::InviteInfo>> {
        self.shared.local(|d| d.invites(&self.id, Timestamp::now()))
    }

    /// Takes back an open invite through the relay: nobody joins with it from then
    /// on (`InviteRevoked`). `InviteUsed` for one that was used; `NotAllowed` unless
    /// this is the main person's or an admin's device.
    pub async fn revoke_invite(&self, invite: kring_trust::invite::InviteId) -> Result<()> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || shared.net(|d| d.revoke_invite(&id, invite, Timestamp::now()))).await
    }

    /// Syncs with the relay: membership, send this device's changes, receive the
    /// others'. Observers hear `REMOTE` when other devices' changes arrived. On
    /// failure (`KringException.Network` when the relay is unreachable) nothing is
    /// lost: what was not sent stays in the outbox, and `status()` tells the UI.
    pub async fn sync(&self) -> Result<SyncReport> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || {
            shared.registry.sync_event(crate::devices::SyncEvent {
                circle_id: id.clone(),
                state: crate::devices::LiveState::Syncing,
                report: None,
                error: None,
                retry_in_millis: None,
            });
            let outcome = shared
                .net(|d| d.sync(&id, Timestamp::now()))
                .inspect(|report| shared.synced(&id, report))
                .map(SyncReport::from);
            shared.registry.sync_outcome(&id, outcome.as_ref());
            outcome
        })
        .await
    }

    /// Closes the circle for everyone (the owner only; the relay checks the owner's
    /// signature): the relay deletes the plan and the membership log and keeps a
    /// tombstone. This device keeps a read-only archive (`status().connectivity` is
    /// `CLOSED`; changes get `KringException.Closed`). Other devices learn it at
    /// their next sync.
    pub async fn close_circle(&self) -> Result<()> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || shared.net(|d| d.close_circle(&id, Timestamp::now()))).await
    }

    /// Erases the circle from this device (plan, keys, outbox, sync state); nothing
    /// is sent. The handle is of no use afterwards.
    pub fn delete_local(&self) -> Result<()> {
        self.shared.local(|d| d.delete_local(&self.id))
    }

    // ---- exchange with other replicas ------------------------------------------------

    /// The whole plan in the standard automerge format: the offline exchange format
    /// (and what `KringClient.importCircle` reads).
    pub fn export(&self) -> Result<Vec<u8>> {
        Ok(self.plan()?.export())
    }

    /// Merges another replica's export (or incremental changes) of this circle, saves,
    /// and tells observers (origin `Remote`) if anything was new. Returns how many
    /// changes were new. Other devices' changes merged this way are relayed only by
    /// their authors' devices (docs/sync.md, "Known limits").
    pub fn merge(&self, document: Vec<u8>) -> Result<u32> {
        let added = self.shared.local(|d| d.merge_bytes(&self.id, &document))?;
        if added > 0 {
            self.observers.notify(&self.id, ChangeOrigin::Remote);
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

    /// Marks a member as professional or coordinator (`null` clears it): the main
    /// person's or an admin's decision. Professionals set safety conditions.
    pub fn designate(&self, member_id: MemberId, designation: Option<Designation>) -> Result<()> {
        self.mutate(|plan, me, now| plan.designate(me, &member_id, designation, now))
    }

    /// Family time as this device's copy of the membership log says (`null` for a
    /// circle without a log): open or not, and whether this device holds the family
    /// key (a professional's device never does).
    pub fn family_time(&self) -> Result<Option<FamilyTime>> {
        self.shared.local(|d| d.family_time(&self.id))
    }

    /// Opens, closes or re-keys family time, or marks a member professional in the
    /// membership log, at the relay (the main person or an admin only:
    /// `KringException.NotAllowed` for anyone else; `InvalidTransition` when family
    /// time is already open, or not open).
    pub async fn change_family_time(&self, change: FamilyTimeChange) -> Result<()> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || shared.net(|d| d.change_family_time(&id, change, Timestamp::now())))
            .await?;
        self.observers.notify(&self.id, ChangeOrigin::Local);
        Ok(())
    }

    /// Makes a member an admin, a member or a reader, through the membership log at
    /// the relay (only the main person appoints admins).
    pub async fn set_capability(&self, member_id: MemberId, capability: Capability) -> Result<()> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || {
            shared.net(|d| d.set_capability(&id, &member_id, capability, Timestamp::now()))
        })
        .await?;
        self.observers.notify(&self.id, ChangeOrigin::Local);
        Ok(())
    }

    /// Removes a person: from the plan, and — if they have a device in the circle —
    /// from the membership log at the relay, which rotates the circle's key so they
    /// cannot read what is written afterwards. Needs the relay for people with a
    /// device (`KringException.Network` when offline, with nothing changed); works
    /// offline for people who are only in the plan.
    pub async fn remove_member(&self, member_id: MemberId) -> Result<()> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || shared.net(|d| d.remove_member(&id, &member_id, Timestamp::now())))
            .await?;
        self.observers.notify(&self.id, ChangeOrigin::Local);
        Ok(())
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

    /// Takes the one occurrence at `occurrence` of a repeating task.
    pub fn claim_turn(&self, task_id: TaskId, occurrence: Timestamp) -> Result<()> {
        self.mutate(|plan, me, now| plan.claim_turn(me, &task_id, occurrence, now))
    }

    /// Takes every occurrence of a repeating task from `occurrence` on.
    pub fn claim_from(&self, task_id: TaskId, occurrence: Timestamp) -> Result<()> {
        self.mutate(|plan, me, now| plan.claim_from(me, &task_id, occurrence, now))
    }

    /// Gives the turn at `occurrence` back, asking someone to take it over.
    pub fn hand_over(&self, task_id: TaskId, occurrence: Timestamp) -> Result<()> {
        self.mutate(|plan, me, now| plan.hand_over(me, &task_id, occurrence, now))
    }

    /// The circle's IANA time zone (the main person changes it).
    pub fn set_timezone(&self, zone: String) -> Result<()> {
        self.mutate(|plan, me, now| plan.set_timezone(me, &zone, now))
    }

    pub fn reopen_task(&self, task_id: TaskId) -> Result<()> {
        self.mutate(|plan, me, now| plan.reopen_task(me, &task_id, now))
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

    /// `null`/`nil` leaves a field as it is.
    pub fn update_meeting(
        &self,
        meeting_id: EntryId,
        at: Option<Timestamp>,
        place: Option<String>,
        agenda: Option<String>,
    ) -> Result<()> {
        let update = MeetingUpdate { at, place, agenda };
        self.mutate(|plan, me, now| plan.update_meeting(me, &meeting_id, update, now))
    }

    pub fn cancel_meeting(&self, meeting_id: EntryId) -> Result<()> {
        self.mutate(|plan, me, now| plan.cancel_meeting(me, &meeting_id, now))
    }
}
