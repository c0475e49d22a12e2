//! What people look at: the follow-up report, the coordinator's overview, "my plan
//! this week" and the exports — core's own types (`kring_plan::followup`), exposed
//! with `#[uniffi::remote(...)]` like the plan's read model (see `types`): the
//! declarations mirror core's field by field and the compiler rejects any drift.
//!
//! Nothing is filtered or computed here. Which signals a viewer sees is core's
//! decision (`Device::followup_report` acts as this device's member).

use kring_plan::export::ExportFormat;
use kring_plan::followup::{
    CircleReport, CoordinatorItem, CoordinatorOverview, Load, MemberLoad, MemberRef, MyWeek,
    PlanHealth, Severity, Signal, SignalKind, UnclaimedReason, WeekItem, WeekItemKind,
};
use kring_plan::plan::{
    CircleId, EntryId, Language, MemberId, OwnerKind, PlanStatus, TaskCategory, TaskId,
};
use kring_trust::Timestamp;

/// How soon someone should act; `URGENT` sorts first.
#[uniffi::remote(Enum)]
pub enum Severity {
    /// Look at it this week.
    Attention,
    /// Act now: something agreed did not happen, or is about to not happen.
    Urgent,
}

/// A member by id, with the display name at the time of the report.
#[uniffi::remote(Record)]
pub struct MemberRef {
    pub id: MemberId,
    pub name: String,
}

/// Why an unclaimed task is reported.
#[uniffi::remote(Enum)]
pub enum UnclaimedReason {
    /// Its next occurrence is at most 7 days away.
    DueSoon,
    /// It was created at least 14 days ago.
    OpenLong,
}

/// What a signal is about (see docs/followup.md for each definition).
#[uniffi::remote(Enum)]
pub enum SignalKind {
    OverdueTask {
        task: TaskId,
        title: String,
        due_at: Timestamp,
        days_overdue: i64,
        missed_occurrences: u32,
        claimed_by: Vec<MemberRef>,
        held: bool,
    },
    UnclaimedTask {
        task: TaskId,
        title: String,
        reason: UnclaimedReason,
        next_due_at: Option<Timestamp>,
        days_until_due: Option<i64>,
        open_days: i64,
        free_slots: u32,
    },
    OverbookedTask {
        task: TaskId,
        title: String,
        slots: u32,
        claims: u32,
        not_needed: Vec<MemberRef>,
    },
    ReviewDue {
        review_at: Timestamp,
        days_left: i64,
    },
    ReviewOverdue {
        review_at: Timestamp,
        days_overdue: i64,
    },
    ReviewNotScheduled {
        accepted_at: Timestamp,
    },
    CheckinDue {
        due_at: Timestamp,
        days_left: i64,
    },
    CheckinOverdue {
        due_at: Timestamp,
        days_overdue: i64,
    },
    SilentMember {
        member: MemberRef,
        last_activity_at: Timestamp,
        silent_days: i64,
    },
    LoadImbalance {
        member: MemberRef,
        units: u32,
        total_units: u32,
        share_percent: u32,
    },
    CircleQuiet {
        last_activity_at: Timestamp,
        quiet_days: i64,
    },
    PlanHealthLow {
        percent: u32,
        due: u32,
        on_time: u32,
    },
}

/// One thing that needs attention. `describeSignal` gives its sentence.
#[uniffi::remote(Record)]
pub struct Signal {
    pub severity: Severity,
    /// The moment that makes it urgent; earlier sorts first within a severity.
    pub at: Timestamp,
    pub kind: SignalKind,
}

#[uniffi::remote(Record)]
pub struct MemberLoad {
    pub member: MemberRef,
    pub claimed: u32,
    pub completed: u32,
    pub units: u32,
    pub share_percent: u32,
    pub flagged: bool,
}

/// Load per member: is one person carrying the plan?
#[uniffi::remote(Record)]
pub struct Load {
    pub window_days: i64,
    pub helpers: u32,
    pub total_units: u32,
    pub members: Vec<MemberLoad>,
}

/// Agreements due in the window and how many were done on time.
#[uniffi::remote(Record)]
pub struct PlanHealth {
    pub window_days: i64,
    pub due: u32,
    pub on_time: u32,
    /// `null`/`nil` when nothing fell due.
    pub percent: Option<u32>,
}

/// Everything the follow-up engine says about one circle, signals most urgent first.
#[uniffi::remote(Record)]
pub struct CircleReport {
    pub circle: CircleId,
    pub circle_name: String,
    pub main_person: MemberRef,
    pub timezone: String,
    pub status: PlanStatus,
    pub generated_at: Timestamp,
    pub urgent: u32,
    pub attention: u32,
    pub signals: Vec<Signal>,
    pub load: Load,
    pub health: PlanHealth,
    pub last_activity_at: Option<Timestamp>,
    pub days_since_last_activity: Option<i64>,
}

/// One signal with its circle, in the coordinator's queue.
#[uniffi::remote(Record)]
pub struct CoordinatorItem {
    pub circle: CircleId,
    pub circle_name: String,
    pub timezone: String,
    pub signal: Signal,
}

/// Every circle on the device, most urgent first, and one queue of all signals.
#[uniffi::remote(Record)]
pub struct CoordinatorOverview {
    pub generated_at: Timestamp,
    pub circles: Vec<CircleReport>,
    pub items: Vec<CoordinatorItem>,
}

#[uniffi::remote(Enum)]
pub enum WeekItemKind {
    Task {
        task: TaskId,
        title: String,
        category: TaskCategory,
        owner_kind: OwnerKind,
        helpers: Vec<MemberRef>,
        free_slots: u32,
        done_by: Option<MemberRef>,
    },
    Meeting {
        meeting: EntryId,
        place: String,
        agenda: String,
    },
    Review,
}

/// One item of the week: its day and a whole plain-language sentence.
#[uniffi::remote(Record)]
pub struct WeekItem {
    pub at: Timestamp,
    pub day: String,
    pub sentence: String,
    pub kind: WeekItemKind,
}

/// The main person's next seven days in plain language.
#[uniffi::remote(Record)]
pub struct MyWeek {
    pub circle: CircleId,
    pub language: Language,
    pub main_person: MemberRef,
    pub from: Timestamp,
    pub to: Timestamp,
    pub heading: String,
    pub summary: String,
    pub items: Vec<WeekItem>,
    pub open_count: u32,
}

/// The readable exports of a plan.
#[uniffi::remote(Enum)]
pub enum ExportFormat {
    Markdown,
    Html,
}

/// The sentence core writes for a signal ("3 dagen te laat: Boodschappen"), plain
/// text with names in it: escape it where it is displayed. `timezone` is the
/// circle's (`CircleReport.timezone`, `CoordinatorItem.timezone`): the days it names
/// are that zone's days.
#[uniffi::export]
pub fn describe_signal(signal: Signal, language: Language, timezone: String) -> String {
    signal.describe(language, &timezone)
}
