//! The plan's types as the apps see them.
//!
//! The read model and the operation inputs are `kring-core`'s own types, exposed with
//! `#[uniffi::remote(...)]`: the declarations below mirror core's definitions field by
//! field (the compiler rejects any drift) and generate only the FFI conversion, so
//! there is no second copy of the model and no conversion code to keep in step.
//!
//! - Ids cross the FFI as strings (Kotlin/Swift `typealias CircleId = String`, ...).
//!   Lifting one parses it with core's `parse`, so an id a user typed or an app
//!   mangled arrives in Rust as `KringError::InvalidInput`, never as a panic.
//! - Timestamps cross as `i64` milliseconds since the Unix epoch, UTC.
//!
//! Types that exist only at the FFI boundary ([`TaskUpdate`], [`CheckerUpdate`],
//! [`TaskFacts`], [`CircleSnapshot`], [`SyncReport`], [`CircleSync`], [`Joined`]) are
//! defined here; they hold no rules of their own, only what core computes.

use kring_client::device::{FamilyTime, FamilyTimeChange};
use kring_client::store::StoredCircle;
use kring_client::sync::engine::{Connectivity, Standing, SyncStatus};
use kring_plan::plan::recurrence::{Moved, Recurrence};
use kring_plan::plan::{
    Approval, CircleId, CircleInfo, Claim, Completion, ConditionView, Designation, EntryId,
    Handover, HandoverFormat, Language, LogEntry, LogKind, MeetingView, MemberId, MemberView,
    NewTask, OfferView, OwnerKind, PlanList, PlanSection, PlanStatus, PlanView, Relation, Review,
    Rsvp, RsvpView, Schedule, TaskCategory, TaskId, TaskStatus, TaskView, TextItem, TurnClaim,
    TurnKind,
};
use kring_trust::membership::Capability;
use kring_trust::Timestamp;

use crate::error::KringError;

/// Parses a value (an id, a time of day) coming from the app; a bad one becomes `KringError::InvalidInput`
/// (uniffi hands errors of the function's own error type back as that type).
pub(crate) fn lift_parsed<T, E: Into<KringError>>(
    parse: impl FnOnce(&str) -> Result<T, E>,
    s: &str,
) -> uniffi::Result<T> {
    parse(s).map_err(|e| uniffi::deps::anyhow::Error::new(e.into()))
}

uniffi::custom_type!(CircleId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| lift_parsed(CircleId::parse, &s),
});
uniffi::custom_type!(MemberId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| lift_parsed(MemberId::parse, &s),
});
uniffi::custom_type!(TaskId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| lift_parsed(TaskId::parse, &s),
});
uniffi::custom_type!(EntryId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| lift_parsed(EntryId::parse, &s),
});
uniffi::custom_type!(Timestamp, i64, {
    remote,
    lower: |t| t.0,
    try_lift: |millis| Ok(Timestamp(millis)),
});

// ---- closed sets of values ---------------------------------------------------------

/// Language the circle's plan is written and exported in.
#[uniffi::remote(Enum)]
pub enum Language {
    Nl,
    En,
}

/// How a member relates to the main person.
#[uniffi::remote(Enum)]
pub enum Relation {
    MainPerson,
    Family,
    Friend,
    Neighbour,
    Professional,
    Coordinator,
    Other,
}

/// A role the main person or an admin records (professionals set safety conditions).
#[uniffi::remote(Enum)]
pub enum Designation {
    Professional,
    Coordinator,
}

/// Life cycle of the plan: draft → presented → accepted → archived.
#[uniffi::remote(Enum)]
pub enum PlanStatus {
    Draft,
    Presented,
    Accepted,
    Archived,
}

#[uniffi::remote(Enum)]
pub enum TaskCategory {
    Ride,
    Meal,
    Childcare,
    Household,
    Company,
    Admin,
    Professional,
    Other,
}

/// Whose contribution a task is.
#[uniffi::remote(Enum)]
pub enum OwnerKind {
    Circle,
    Professional,
    MainPerson,
}

/// Stored status; "done" follows from completions (see [`TaskFacts::is_done`]).
#[uniffi::remote(Enum)]
pub enum TaskStatus {
    Open,
    Cancelled,
    Archived,
}

#[uniffi::remote(Enum)]
pub enum LogKind {
    Update,
    Thanks,
    Concern,
    Checkin,
}

#[uniffi::remote(Enum)]
pub enum Rsvp {
    Yes,
    No,
    Maybe,
}

/// The three free-text lists of the plan.
#[uniffi::remote(Enum)]
pub enum PlanList {
    Concerns,
    Goals,
    Contingencies,
}

/// When a task is to be done.
#[uniffi::remote(Enum)]
pub enum Schedule {
    Unscheduled,
    Due {
        at: Timestamp,
    },
    Weekly {
        first_at: Timestamp,
        every_weeks: u32,
        until: Option<Timestamp>,
    },
    Repeat(Recurrence),
}

/// A task's dates in the circle's own time: a start (`2027-03-17T17:00`, or a date for
/// all day) and an RFC 5545 rule, with skipped and moved occurrences.
#[uniffi::remote(Record)]
pub struct Recurrence {
    pub start: String,
    pub rule: Option<String>,
    pub skipped: Vec<String>,
    pub moved: Vec<Moved>,
    pub zone: String,
}

#[uniffi::remote(Record)]
pub struct Moved {
    pub from: String,
    pub to: String,
}

// ---- the read model ----------------------------------------------------------------

#[uniffi::remote(Record)]
pub struct CircleInfo {
    pub id: CircleId,
    pub name: String,
    pub language: Language,
    pub timezone: String,
    pub main_person: MemberId,
    pub created_at: Timestamp,
}

#[uniffi::remote(Record)]
pub struct MemberView {
    pub id: MemberId,
    pub display_name: String,
    pub relation: Relation,
    pub role_label: String,
    pub designation: Option<Designation>,
    pub joined_at: Timestamp,
    pub removed_at: Option<Timestamp>,
}

#[uniffi::remote(Record)]
pub struct TextItem {
    pub id: EntryId,
    pub text: String,
    pub by: MemberId,
    pub at: Timestamp,
}

#[uniffi::remote(Record)]
pub struct Approval {
    pub member: MemberId,
    pub at: Timestamp,
}

#[uniffi::remote(Record)]
pub struct Review {
    pub id: EntryId,
    pub at: Timestamp,
    pub by: MemberId,
    pub summary: String,
}

#[uniffi::remote(Record)]
pub struct PlanSection {
    pub status: PlanStatus,
    pub status_changed_at: Timestamp,
    pub question: String,
    pub concerns: Vec<TextItem>,
    pub goals: Vec<TextItem>,
    pub contingencies: Vec<TextItem>,
    pub approvals: Vec<Approval>,
    pub next_review_at: Option<Timestamp>,
    pub reviews: Vec<Review>,
    pub handovers: Vec<Handover>,
}

/// How the plan was handed over to professionals.
#[uniffi::remote(Enum)]
pub enum HandoverFormat {
    Fhir,
    Pdf,
}

/// The plan handed over to professionals (recorded by the main person or an admin).
#[uniffi::remote(Record)]
pub struct Handover {
    pub id: EntryId,
    pub at: Timestamp,
    pub by: MemberId,
    pub to: String,
    pub format: HandoverFormat,
    pub names: bool,
}

/// `winner`: one of the first `slots` claims by `(at, member)`, computed by core
/// identically on every replica.
#[uniffi::remote(Record)]
pub struct Claim {
    pub member: MemberId,
    pub at: Timestamp,
    pub winner: bool,
}

#[uniffi::remote(Record)]
pub struct Completion {
    pub id: EntryId,
    pub by: MemberId,
    pub at: Timestamp,
    pub occurrence: Option<Timestamp>,
    pub note: String,
}

#[uniffi::remote(Record)]
pub struct TaskView {
    pub id: TaskId,
    pub title: String,
    pub notes: String,
    pub category: TaskCategory,
    pub owner_kind: OwnerKind,
    pub schedule: Schedule,
    pub slots: u32,
    pub checker: Option<MemberId>,
    pub claims: Vec<Claim>,
    pub turns: Vec<TurnClaim>,
    pub overbooked: bool,
    pub completions: Vec<Completion>,
    pub status: TaskStatus,
    pub created_by: MemberId,
    pub created_at: Timestamp,
}

/// How a member is on one occurrence of a series.
#[uniffi::remote(Enum)]
pub enum TurnKind {
    One,
    From,
    HandedOver,
}

/// A claim about one occurrence of a series (`occurrence`: its local start).
#[uniffi::remote(Record)]
pub struct TurnClaim {
    pub member: MemberId,
    pub occurrence: String,
    pub kind: TurnKind,
    pub at: Timestamp,
}

#[uniffi::remote(Record)]
pub struct ConditionView {
    pub id: EntryId,
    pub text: String,
    pub set_by: MemberId,
    pub set_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
}

#[uniffi::remote(Record)]
pub struct OfferView {
    pub id: EntryId,
    pub by: MemberId,
    pub text: String,
    pub availability: String,
    pub created_at: Timestamp,
    pub withdrawn_at: Option<Timestamp>,
}

#[uniffi::remote(Record)]
pub struct LogEntry {
    pub id: EntryId,
    pub by: MemberId,
    pub at: Timestamp,
    pub kind: LogKind,
    pub text: String,
}

#[uniffi::remote(Record)]
pub struct RsvpView {
    pub member: MemberId,
    pub answer: Rsvp,
}

#[uniffi::remote(Record)]
pub struct MeetingView {
    pub id: EntryId,
    pub at: Timestamp,
    pub place: String,
    pub agenda: String,
    pub created_by: MemberId,
    pub cancelled_at: Option<Timestamp>,
    pub rsvps: Vec<RsvpView>,
}

/// Everything a circle has agreed, as one snapshot. Lists are sorted
/// deterministically by core, so equal documents give equal views.
#[uniffi::remote(Record)]
pub struct PlanView {
    pub circle: CircleInfo,
    pub members: Vec<MemberView>,
    pub plan: PlanSection,
    pub tasks: Vec<TaskView>,
    pub conditions: Vec<ConditionView>,
    pub offers: Vec<OfferView>,
    pub log: Vec<LogEntry>,
    pub meetings: Vec<MeetingView>,
}

/// A circle held on this device, and the member this device acts as in it.
#[uniffi::remote(Record)]
pub struct StoredCircle {
    pub id: CircleId,
    pub me: MemberId,
    pub added_at: Timestamp,
}

// ---- operation inputs --------------------------------------------------------------

/// A new task. `slots` is how many people are needed (at least 1).
#[uniffi::remote(Record)]
pub struct NewTask {
    pub title: String,
    #[uniffi(default = "")]
    pub notes: String,
    pub category: TaskCategory,
    pub owner_kind: OwnerKind,
    pub schedule: Schedule,
    #[uniffi(default = 1)]
    pub slots: u32,
    #[uniffi(default = None)]
    pub checker: Option<MemberId>,
}

/// A change to an existing task; `null`/`nil` leaves a field as it is.
///
/// Core's `TaskUpdate` says "remove the checker" with a nested option, which Kotlin
/// cannot express (`String??` is `String?`), hence [`CheckerUpdate`].
#[derive(Debug, Clone, uniffi::Record)]
pub struct TaskUpdate {
    #[uniffi(default = None)]
    pub title: Option<String>,
    #[uniffi(default = None)]
    pub notes: Option<String>,
    #[uniffi(default = None)]
    pub category: Option<TaskCategory>,
    #[uniffi(default = None)]
    pub schedule: Option<Schedule>,
    #[uniffi(default = None)]
    pub slots: Option<u32>,
    pub checker: CheckerUpdate,
}

/// What to do with a task's checker in a [`TaskUpdate`].
#[derive(Debug, Clone, uniffi::Enum)]
pub enum CheckerUpdate {
    Keep,
    Set { member: MemberId },
    Clear,
}

impl From<TaskUpdate> for kring_plan::plan::TaskUpdate {
    fn from(u: TaskUpdate) -> Self {
        kring_plan::plan::TaskUpdate {
            title: u.title,
            notes: u.notes,
            category: u.category,
            schedule: u.schedule,
            slots: u.slots,
            checker: match u.checker {
                CheckerUpdate::Keep => None,
                CheckerUpdate::Set { member } => Some(Some(member)),
                CheckerUpdate::Clear => Some(None),
            },
        }
    }
}

// ---- derived facts, computed by core -----------------------------------------------

/// Where this device's member stands on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MyPlace {
    /// I have not claimed it.
    NotClaimed,
    /// I claimed it and hold one of its places.
    Doing,
    /// I claimed it, but concurrent offline claims filled it first: "already taken".
    TooLate,
}

/// What core's `TaskView` methods say about a task, so apps don't re-implement them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TaskFacts {
    pub task_id: TaskId,
    /// Open and not yet done: it still needs doing.
    pub is_open: bool,
    /// A one-off task with a completion (recurring tasks are never done as a whole).
    pub is_done: bool,
    /// Places nobody has claimed yet.
    pub free_slots: u32,
    /// Whether "claim" would succeed for me now (core's `can_be_claimed_by`): offer
    /// the claim action only where this is true.
    pub can_claim: bool,
    pub my_place: MyPlace,
}

impl TaskFacts {
    pub(crate) fn of(task: &TaskView, me: &MemberId) -> TaskFacts {
        let my_place = match task.claims.iter().find(|c| &c.member == me) {
            None => MyPlace::NotClaimed,
            Some(claim) if claim.winner => MyPlace::Doing,
            Some(_) => MyPlace::TooLate,
        };
        TaskFacts {
            task_id: task.id.clone(),
            is_open: task.is_open(),
            is_done: task.is_done(),
            free_slots: task.free_slots(),
            can_claim: task.can_be_claimed_by(me),
            my_place,
        }
    }
}

/// A circle as one screen needs it: the plan, who I am in it, and per-task facts
/// (same order as `view.tasks`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CircleSnapshot {
    pub me: MemberId,
    pub view: PlanView,
    pub tasks: Vec<TaskFacts>,
}

/// Where a change to a circle came from, for [`crate::PlanObserver`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChangeOrigin {
    /// An operation on this device (any handle, any thread).
    Local,
    /// Changes of other devices arrived (sync, live mode, merge).
    Remote,
}

// ---- the relay ---------------------------------------------------------------------

/// What a member may do in a circle (invites carry one). Ordered: reader < member <
/// admin < owner; readers only read, admins also invite and remove.
#[uniffi::remote(Enum)]
pub enum Capability {
    Reader,
    Member,
    Admin,
    Owner,
}

/// How a circle is connected, for a UI.
#[uniffi::remote(Enum)]
pub enum Connectivity {
    /// Imported from a file: no membership log, never syncs.
    LocalOnly,
    /// No relay set yet.
    NoRelay,
    /// A relay is set but no sync was tried yet.
    NotSynced,
    /// The last sync succeeded.
    Online,
    /// The last sync could not reach the relay (changes wait in the outbox).
    Offline,
    /// The last sync reached the relay, which refused something (see `last_error`).
    Error,
    /// This device was removed from the circle.
    Removed,
    /// The circle was closed on its relay; this device keeps a read-only archive
    /// (reads and exports work, changes get `KringException.Closed`).
    Closed,
}

/// Where this device stands in a circle, according to its membership log.
#[uniffi::remote(Enum)]
pub enum Standing {
    /// May read and write (member, admin or owner).
    Writer(Capability),
    Reader,
    Removed,
    /// Not (yet) in the log.
    NotMember,
}

/// A circle's sync, as a screen shows it ("last synced 5 min ago, 2 changes not sent
/// yet, offline"). Read locally, no network.
#[uniffi::remote(Record)]
pub struct SyncStatus {
    pub circle: CircleId,
    pub relay_url: Option<String>,
    pub connectivity: Connectivity,
    /// This device's changes not yet acknowledged by the relay.
    pub pending: u64,
    /// Received changes waiting for changes they depend on.
    pub waiting: u64,
    pub last_synced_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// `null`/`nil` for a circle imported from a file.
    pub standing: Option<Standing>,
    /// The current key epoch (it grows with every removal).
    pub epoch: Option<u64>,
    /// When this device learned the circle was closed (it is a read-only archive).
    pub closed_at: Option<Timestamp>,
    /// The relay will close the circle at this time for inactivity (its operator's
    /// retention period) unless something new is written before: warn the owner.
    pub closes_at: Option<Timestamp>,
}

/// What one sync did (core's `SyncReport`, with counts as `u32`: uniffi has no
/// `usize`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// New membership log entries learned (people joined or left).
    pub membership_entries: u32,
    /// This device's envelopes the relay acknowledged.
    pub pushed: u32,
    /// Envelopes received (including echoes of this device's own).
    pub pulled: u32,
    /// Changes of other devices that became part of the plan.
    pub applied_changes: u32,
    /// Received envelopes still waiting for changes they depend on.
    pub waiting: u32,
    /// Envelopes refused (bad signature, removed author, …): never applied.
    pub rejected: u32,
    /// This sync completed a join: the plan arrived.
    pub joined: bool,
    /// What it changed about this person's own places (a claim that lost the last
    /// place: "… you are on the waiting list"; a waiting claim that moved up): show
    /// each, they are about no one else.
    pub standing: Vec<kring_plan::news::Notification>,
}

impl From<kring_client::device::SyncReport> for SyncReport {
    fn from(r: kring_client::device::SyncReport) -> Self {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        SyncReport {
            membership_entries: count(r.membership_entries),
            pushed: count(r.pushed),
            pulled: count(r.pulled),
            applied_changes: count(r.applied_changes),
            waiting: count(r.waiting),
            rejected: count(r.rejected),
            joined: r.joined,
            standing: r.standing,
        }
    }
}

/// One circle's outcome in `KringClient.syncAll`: a report, or why it failed (its
/// `status()` then says whether it was offline or refused).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CircleSync {
    pub circle_id: CircleId,
    pub report: Option<SyncReport>,
    pub error: Option<String>,
}

/// The outcome of `KringClient.join`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Joined {
    pub circle_id: CircleId,
    /// Whether the plan is on this device already (`openCircle` works); if not, the
    /// join stands and `syncAll` fetches the plan once the inviter has synced.
    pub plan_arrived: bool,
}

/// Family time as a device knows it (see `docs/permissions.md`, "Family time").
#[uniffi::remote(Record)]
pub struct FamilyTime {
    pub open: bool,
    pub generation: u64,
    pub key_current: bool,
    pub holds_key: bool,
    pub professional: bool,
    pub written: u64,
    pub presented_at: Option<Timestamp>,
}

/// A change to family time in the membership log.
#[uniffi::remote(Enum)]
pub enum FamilyTimeChange {
    Open,
    Close,
    RotateKey,
    Present,
    Mark {
        member: MemberId,
        professional: bool,
    },
}
