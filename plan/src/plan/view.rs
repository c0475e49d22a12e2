//! The typed read model of a circle's plan.
//!
//! A [`PlanView`] is a plain snapshot built from the automerge document. Callers (CLI,
//! FFI, follow-up engine, exports) only ever see these types, never automerge paths.
//! Every list is sorted deterministically (by creation time, then id) so that two
//! replicas holding the same changes produce equal views, which is what the
//! convergence tests compare.

use super::ids::{CircleId, EntryId, MemberId, TaskId};
use kring_trust::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Declares a closed set of values stored as lowercase strings in the document.
///
/// Unknown strings written by a newer app version read back as `None` at the call
/// site (the entry falls back to a documented default), so old apps keep working.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s).ok_or_else(|| crate::Error::InvalidValue {
                    field: stringify!($name),
                    value: s.to_owned(),
                    expected: [$($text),+].join("|"),
                })
            }
        }
    };
}

string_enum!(
    /// Language the circle's plan is written and exported in.
    Language { Nl = "nl", En = "en" }
);
string_enum!(
    /// How a member relates to the main person.
    Relation {
        MainPerson = "main_person",
        Family = "family",
        Friend = "friend",
        Neighbour = "neighbour",
        Professional = "professional",
        Coordinator = "coordinator",
        Other = "other",
    }
);
string_enum!(
    /// A role in the circle that the main person or an admin records, unlike the
    /// [`Relation`] people choose themselves: professionals set safety conditions,
    /// coordinators follow the circle up (see `docs/permissions.md`).
    Designation { Professional = "professional", Coordinator = "coordinator" }
);
string_enum!(
    /// Life cycle of the plan: made in the meeting (draft), presented to the
    /// professionals, accepted (approved by the main person), archived when the circle ends.
    PlanStatus { Draft = "draft", Presented = "presented", Accepted = "accepted", Archived = "archived" }
);
string_enum!(
    /// How the plan was handed over to professionals: an HL7 FHIR CarePlan for their
    /// systems, or a printable PDF/A.
    HandoverFormat { Fhir = "fhir", Pdf = "pdf" }
);
string_enum!(
    TaskCategory {
        Ride = "ride",
        Meal = "meal",
        Childcare = "childcare",
        Household = "household",
        Company = "company",
        Admin = "admin",
        Professional = "professional",
        Other = "other",
    }
);
string_enum!(
    /// Whose contribution a task is: the circle's, a professional's, or the main person's own.
    OwnerKind { Circle = "circle", Professional = "professional", MainPerson = "main_person" }
);
string_enum!(
    /// Stored status. "Done" is not stored: it follows from completions (see [`TaskView::is_done`]).
    TaskStatus { Open = "open", Cancelled = "cancelled", Archived = "archived" }
);
string_enum!(
    LogKind { Update = "update", Thanks = "thanks", Concern = "concern", Checkin = "checkin" }
);
string_enum!(Rsvp { Yes = "yes", No = "no", Maybe = "maybe" });

/// When a task is to be done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// No date agreed ("when needed").
    Unscheduled,
    /// Once, by this moment.
    Due { at: Timestamp },
    /// Every `every_weeks` weeks, starting at `first_at`, optionally until `until`.
    /// Occurrences are `first_at + k * every_weeks * 7 days` (UTC instants).
    Weekly {
        first_at: Timestamp,
        every_weeks: u32,
        until: Option<Timestamp>,
    },
    /// In the circle's own time: a date, a date and time, or a series by an RFC 5545
    /// rule, with exceptions (see [`super::recurrence`]).
    Repeat(super::recurrence::Recurrence),
}

impl Schedule {
    /// A series (as opposed to one occurrence, or none): never done as a whole, each
    /// occurrence is done on its own.
    pub fn is_recurring(&self) -> bool {
        match self {
            Schedule::Weekly { .. } => true,
            Schedule::Repeat(r) => r.is_series(),
            Schedule::Unscheduled | Schedule::Due { .. } => false,
        }
    }

    /// Occurrences are days, not moments: a date without a time of day, or a
    /// deadline typed as a date (kept as midnight in the circle's `zone`, see
    /// [`super::recurrence::is_midnight`]). Everything that shows a date asks this, so
    /// none shows "0.00 uur" for a day.
    pub fn is_all_day(&self, zone: &str) -> bool {
        match self {
            Schedule::Repeat(r) => r.is_all_day(),
            Schedule::Due { at } => super::recurrence::is_midnight(*at, zone),
            Schedule::Unscheduled | Schedule::Weekly { .. } => false,
        }
    }

    /// The first occurrence at or after `from`, if there is one.
    pub fn next_occurrence(&self, from: Timestamp) -> Option<Timestamp> {
        match *self {
            Schedule::Unscheduled => None,
            Schedule::Repeat(ref r) => r.next_at_or_after(from),
            Schedule::Due { at } => (at >= from).then_some(at),
            Schedule::Weekly {
                first_at,
                every_weeks,
                until,
            } => {
                let next = if from <= first_at {
                    first_at
                } else {
                    // i128: no overflow for any pair of instants; past i64 there is none.
                    let period =
                        i128::from(every_weeks.max(1)) * 7 * i128::from(Timestamp::MILLIS_PER_DAY);
                    let (from, first) = (i128::from(from.0), i128::from(first_at.0));
                    let periods = (from - first + period - 1) / period;
                    Timestamp(i64::try_from(first + periods * period).ok()?)
                };
                match until {
                    Some(until) if next > until => None,
                    _ => Some(next),
                }
            }
        }
    }

    /// Every occurrence in the half-open window `[from, to)`.
    pub fn occurrences_between(&self, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
        if let Schedule::Repeat(r) = self {
            return r.occurrences_between(from, to);
        }
        let mut out = Vec::new();
        let mut cursor = from;
        while let Some(at) = self.next_occurrence(cursor) {
            if at >= to {
                break;
            }
            out.push(at);
            if matches!(self, Schedule::Due { .. }) {
                break;
            }
            cursor = at.plus_millis(1);
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircleInfo {
    pub id: CircleId,
    pub name: String,
    pub language: Language,
    /// IANA time zone every date of the plan is read and shown in.
    pub timezone: String,
    pub main_person: MemberId,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub id: MemberId,
    pub display_name: String,
    pub relation: Relation,
    /// Free text, e.g. "aunt", "JIM mentor", "debt counsellor".
    pub role_label: String,
    /// Recorded by the main person or an admin; `None` for most people.
    pub designation: Option<Designation>,
    pub joined_at: Timestamp,
    /// Set when the member left or was removed; their history stays in the plan.
    pub removed_at: Option<Timestamp>,
}

impl MemberView {
    pub fn is_active(&self) -> bool {
        self.removed_at.is_none()
    }
}

/// A line of text in one of the plan's lists (concerns, goals, contingencies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextItem {
    pub id: EntryId,
    pub text: String,
    pub by: MemberId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub member: MemberId,
    pub at: Timestamp,
}

/// The plan handed over to professionals: to whom, when, by whom, in which format,
/// and whether people's names went with it (the main person's choice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub id: EntryId,
    pub at: Timestamp,
    pub by: MemberId,
    /// Who received it, as the main person wrote it ("Wijkteam Noord").
    pub to: String,
    pub format: HandoverFormat,
    pub names: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: EntryId,
    pub at: Timestamp,
    pub by: MemberId,
    pub summary: String,
}

/// The plan section: the question, what worries the circle, what it wants to reach,
/// what to do if it goes differently, who approved, and when it is evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSection {
    pub status: PlanStatus,
    /// When the status last changed (e.g. when the plan was accepted).
    pub status_changed_at: Timestamp,
    pub question: String,
    pub concerns: Vec<TextItem>,
    pub goals: Vec<TextItem>,
    pub contingencies: Vec<TextItem>,
    /// Sorted by time, then member id.
    pub approvals: Vec<Approval>,
    pub next_review_at: Option<Timestamp>,
    /// Sorted by time.
    pub reviews: Vec<Review>,
    /// Sorted by time.
    #[serde(default)]
    pub handovers: Vec<Handover>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub member: MemberId,
    pub at: Timestamp,
    /// One of the first `slots` claims by `(at, member)`: this person is doing it.
    pub winner: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub id: EntryId,
    pub by: MemberId,
    pub at: Timestamp,
    /// For recurring tasks: the occurrence this completion is for.
    pub occurrence: Option<Timestamp>,
    pub note: String,
}

/// One occurrence of a task and who is on it ([`TaskView::turns_between`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub at: Timestamp,
    /// The winners of this turn.
    pub people: Vec<MemberId>,
    /// Places nobody has taken on this turn.
    pub free: u32,
    /// Someone gave this turn back and it still needs them.
    pub handed_over: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: TaskId,
    pub title: String,
    pub notes: String,
    pub category: TaskCategory,
    pub owner_kind: OwnerKind,
    pub schedule: Schedule,
    /// People needed (≥ 1).
    pub slots: u32,
    /// Who checks that it is done.
    pub checker: Option<MemberId>,
    /// Every claim of the whole task (or series), sorted by `(at, member)`; the first
    /// `slots` are winners.
    pub claims: Vec<Claim>,
    /// Claims for single occurrences of a series, series claims from a date on, and
    /// turns handed over (see [`TaskView::people_on`]). Sorted by occurrence, time,
    /// member.
    pub turns: Vec<TurnClaim>,
    /// More claims than slots: concurrent offline claims collided. The losers see
    /// "already taken"; the coordinator sees the overbooking.
    pub overbooked: bool,
    /// Sorted by time.
    pub completions: Vec<Completion>,
    pub status: TaskStatus,
    pub created_by: MemberId,
    pub created_at: Timestamp,
}

/// How a member is (or is no longer) on one occurrence of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnKind {
    /// This one occurrence ("ik rijd volgende dinsdag").
    One,
    /// Every occurrence from this one on.
    From,
    /// Given back, with a request that someone takes it over.
    HandedOver,
}

/// A claim about one occurrence of a series, keyed by the occurrence's local start in
/// the circle's zone (`2027-03-24T17:00`, or `2027-03-24` for all day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnClaim {
    pub member: MemberId,
    pub occurrence: String,
    pub kind: TurnKind,
    pub at: Timestamp,
}

impl TurnKind {
    /// The separator between member and occurrence in the stored claim key.
    pub(super) fn mark(self) -> char {
        match self {
            TurnKind::One => '@',
            TurnKind::From => '+',
            TurnKind::HandedOver => '!',
        }
    }

    pub(super) fn from_mark(c: char) -> Option<TurnKind> {
        [TurnKind::One, TurnKind::From, TurnKind::HandedOver]
            .into_iter()
            .find(|k| k.mark() == c)
    }
}

impl TaskView {
    /// Who is on the occurrence whose local start is `occurrence`, ranked like claims
    /// (the first `slots` by `(time, member)` are doing it): series claims and
    /// claims from an earlier occurrence on, plus claims for this one — without anyone
    /// who handed this turn over.
    pub fn people_on(&self, occurrence: &str) -> Vec<Claim> {
        let handed_over = |m: &MemberId| {
            self.turns.iter().any(|t| {
                t.kind == TurnKind::HandedOver && &t.member == m && t.occurrence == occurrence
            })
        };
        let mut candidates: Vec<(MemberId, Timestamp)> = self
            .claims
            .iter()
            .map(|c| (c.member.clone(), c.at))
            .chain(self.turns.iter().filter_map(|t| {
                let applies = match t.kind {
                    TurnKind::One => t.occurrence == occurrence,
                    // Local starts in one format sort as they fall.
                    TurnKind::From => t.occurrence.as_str() <= occurrence,
                    TurnKind::HandedOver => false,
                };
                applies.then(|| (t.member.clone(), t.at))
            }))
            .filter(|(m, _)| !handed_over(m))
            .collect();
        // One place per person, at their earliest claim.
        candidates.sort();
        candidates.dedup_by(|a, b| a.0 == b.0);
        super::read::ranked_claims(candidates, self.slots)
    }

    /// Who is doing the occurrence at `at`: for a series in civil time the people on
    /// that occurrence ([`TaskView::people_on`]), otherwise the task's winners.
    pub fn doing_at(&self, at: Timestamp) -> Vec<MemberId> {
        match &self.schedule {
            Schedule::Repeat(r) if r.is_series() => self
                .people_on(&r.key_of(at))
                .into_iter()
                .filter(|c| c.winner)
                .map(|c| c.member)
                .collect(),
            _ => self.winners().cloned().collect(),
        }
    }

    /// Places still free on the occurrence at `at` (a turn handed over is free again).
    pub fn free_slots_at(&self, at: Timestamp) -> u32 {
        let doing = u32::try_from(self.doing_at(at).len()).unwrap_or(u32::MAX);
        self.slots.saturating_sub(doing)
    }

    /// Whether someone handed the occurrence `occurrence` over and it still needs them.
    pub fn handed_over(&self, occurrence: &str) -> bool {
        self.turns
            .iter()
            .any(|t| t.kind == TurnKind::HandedOver && t.occurrence == occurrence)
    }

    /// Each occurrence in `[from, to)` with who is on it (the winners of that turn:
    /// the series' claims with that turn's own claims and hand-overs applied), the
    /// places still free and whether it was handed over. A task without a series has
    /// its one occurrence (if in the window) with the task's own claims.
    pub fn turns_between(&self, from: Timestamp, to: Timestamp) -> Vec<Turn> {
        self.schedule
            .occurrences_between(from, to)
            .into_iter()
            .map(|at| {
                let (on, handed_over) = match &self.schedule {
                    Schedule::Repeat(r) => {
                        let key = r.key_of(at);
                        (self.people_on(&key), self.handed_over(&key))
                    }
                    _ => (self.claims.clone(), false),
                };
                let people: Vec<MemberId> = on
                    .into_iter()
                    .filter(|c| c.winner)
                    .map(|c| c.member)
                    .collect();
                let doing = u32::try_from(people.len()).unwrap_or(u32::MAX);
                Turn {
                    at,
                    free: self.slots.saturating_sub(doing),
                    people,
                    handed_over,
                }
            })
            .collect()
    }

    pub fn winners(&self) -> impl Iterator<Item = &MemberId> {
        self.claims.iter().filter(|c| c.winner).map(|c| &c.member)
    }

    pub fn free_slots(&self) -> u32 {
        let taken = u32::try_from(self.claims.len()).unwrap_or(u32::MAX);
        self.slots.saturating_sub(taken)
    }

    /// A one-off task is done once completed; a recurring task is never done as a whole.
    pub fn is_done(&self) -> bool {
        !self.schedule.is_recurring() && !self.completions.is_empty()
    }

    pub fn is_open(&self) -> bool {
        self.status == TaskStatus::Open && !self.is_done()
    }

    /// Whether `member` can take a place on this task now, as far as the task goes:
    /// open, not done, a place free, and no claim of theirs yet. These are exactly the
    /// task checks of `CirclePlan::claim_task` (which also checks that `member` is an
    /// active member), so apps can offer "claim" only where it will succeed.
    pub fn can_be_claimed_by(&self, member: &MemberId) -> bool {
        self.is_open() && self.free_slots() > 0 && !self.claims.iter().any(|c| &c.member == member)
    }
}

/// A safety condition set by a professional; the plan is only acceptable once the
/// main person has accepted every condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionView {
    pub id: EntryId,
    pub text: String,
    pub set_by: MemberId,
    pub set_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
}

/// A standing offer ("I can drive on Tuesdays"), so nobody has to ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferView {
    pub id: EntryId,
    pub by: MemberId,
    pub text: String,
    pub availability: String,
    pub created_at: Timestamp,
    pub withdrawn_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: EntryId,
    pub by: MemberId,
    pub at: Timestamp,
    pub kind: LogKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsvpView {
    pub member: MemberId,
    pub answer: Rsvp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingView {
    pub id: EntryId,
    pub at: Timestamp,
    pub place: String,
    pub agenda: String,
    pub created_by: MemberId,
    /// Set when the meeting was called off.
    pub cancelled_at: Option<Timestamp>,
    /// Sorted by member id.
    pub rsvps: Vec<RsvpView>,
}

/// Everything a circle has agreed, as one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub circle: CircleInfo,
    /// Sorted by join time, then id. Includes removed members (see `removed_at`).
    pub members: Vec<MemberView>,
    pub plan: PlanSection,
    /// Sorted by creation time, then id.
    pub tasks: Vec<TaskView>,
    pub conditions: Vec<ConditionView>,
    pub offers: Vec<OfferView>,
    /// Sorted by time, then id.
    pub log: Vec<LogEntry>,
    /// Sorted by meeting time, then id.
    pub meetings: Vec<MeetingView>,
}

impl PlanView {
    pub fn member(&self, id: &MemberId) -> Option<&MemberView> {
        self.members.iter().find(|m| &m.id == id)
    }

    pub fn task(&self, id: &TaskId) -> Option<&TaskView> {
        self.tasks.iter().find(|t| &t.id == id)
    }

    /// The member's display name, or a short id for someone no longer known.
    pub fn display_name(&self, id: &MemberId) -> String {
        self.member(id)
            .map_or_else(|| id.short().to_owned(), |m| m.display_name.clone())
    }

    pub fn active_members(&self) -> impl Iterator<Item = &MemberView> {
        self.members.iter().filter(|m| m.is_active())
    }
}
