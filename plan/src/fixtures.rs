//! Test-only builder for [`PlanView`]s.
//!
//! Follow-up and export tests construct read models directly, so they test the pure
//! functions without depending on the plan-operations API. Ids are deterministic
//! (a counter written as 32 hex characters) so snapshots and orderings are stable.

use crate::plan::ids::{CircleId, EntryId, MemberId, TaskId};
use crate::plan::view::*;
use kring_trust::time::Timestamp;

pub(crate) struct PlanBuilder {
    view: PlanView,
    next_id: u64,
}

fn hex_id(n: u64) -> String {
    format!("{n:032x}")
}

impl PlanBuilder {
    /// A circle with only its main person, created (and the plan drafted) at `created_at`.
    pub fn new(circle_name: &str, main_name: &str, created_at: Timestamp) -> Self {
        let main = MemberId::parse(&hex_id(1)).expect("valid id");
        let view = PlanView {
            circle: CircleInfo {
                id: CircleId::parse(&hex_id(0xc1)).expect("valid id"),
                name: circle_name.to_owned(),
                language: Language::Nl,
                timezone: "UTC".into(),
                main_person: main.clone(),
                created_at,
            },
            members: vec![MemberView {
                id: main,
                display_name: main_name.to_owned(),
                relation: Relation::MainPerson,
                role_label: String::new(),
                designation: None,
                joined_at: created_at,
                removed_at: None,
            }],
            plan: PlanSection {
                status: PlanStatus::Draft,
                status_changed_at: created_at,
                question: String::new(),
                concerns: vec![],
                goals: vec![],
                contingencies: vec![],
                approvals: vec![],
                next_review_at: None,
                reviews: vec![],
                handovers: vec![],
            },
            tasks: vec![],
            conditions: vec![],
            offers: vec![],
            log: vec![],
            meetings: vec![],
        };
        PlanBuilder {
            view,
            next_id: 0x100,
        }
    }

    fn fresh(&mut self) -> String {
        self.next_id += 1;
        hex_id(self.next_id)
    }

    fn entry_id(&mut self) -> EntryId {
        let id = self.fresh();
        EntryId::parse(&id).expect("valid id")
    }

    pub fn circle_id(mut self, n: u64) -> Self {
        self.view.circle.id = CircleId::parse(&hex_id(n)).expect("valid id");
        self
    }

    pub fn main_person(&self) -> MemberId {
        self.view.circle.main_person.clone()
    }

    pub fn member(&mut self, name: &str, relation: Relation, joined_at: Timestamp) -> MemberId {
        let id = MemberId::parse(&self.fresh()).expect("valid id");
        self.view.members.push(MemberView {
            id: id.clone(),
            display_name: name.to_owned(),
            relation,
            role_label: String::new(),
            // Professionals and coordinators in follow-up fixtures are the ones the
            // main person marked as such.
            designation: match relation {
                Relation::Professional => Some(Designation::Professional),
                Relation::Coordinator => Some(Designation::Coordinator),
                _ => None,
            },
            joined_at,
            removed_at: None,
        });
        id
    }

    pub fn member_mut(&mut self, id: &MemberId) -> &mut MemberView {
        self.view
            .members
            .iter_mut()
            .find(|m| &m.id == id)
            .expect("known member")
    }

    /// A one-person circle task created by the main person.
    pub fn task(&mut self, title: &str, schedule: Schedule, created_at: Timestamp) -> TaskId {
        let id = TaskId::parse(&self.fresh()).expect("valid id");
        let created_by = self.main_person();
        self.view.tasks.push(TaskView {
            id: id.clone(),
            title: title.to_owned(),
            notes: String::new(),
            category: TaskCategory::Other,
            owner_kind: OwnerKind::Circle,
            schedule,
            slots: 1,
            checker: None,
            claims: vec![],
            turns: vec![],
            overbooked: false,
            completions: vec![],
            status: TaskStatus::Open,
            created_by,
            created_at,
        });
        id
    }

    pub fn task_mut(&mut self, id: &TaskId) -> &mut TaskView {
        self.view
            .tasks
            .iter_mut()
            .find(|t| &t.id == id)
            .expect("known task")
    }

    /// Adds a claim and recomputes winners and overbooking like the document does.
    pub fn claim(&mut self, task: &TaskId, member: &MemberId, at: Timestamp) -> &mut Self {
        let t = self.task_mut(task);
        t.claims.push(Claim {
            member: member.clone(),
            at,
            winner: false,
        });
        t.claims
            .sort_by(|a, b| (a.at, &a.member).cmp(&(b.at, &b.member)));
        let slots = usize::try_from(t.slots).expect("small");
        for (i, c) in t.claims.iter_mut().enumerate() {
            c.winner = i < slots;
        }
        t.overbooked = t.claims.len() > slots;
        self
    }

    pub fn complete(
        &mut self,
        task: &TaskId,
        by: &MemberId,
        at: Timestamp,
        occurrence: Option<Timestamp>,
    ) -> &mut Self {
        let id = self.entry_id();
        let t = self.task_mut(task);
        t.completions.push(Completion {
            id,
            by: by.clone(),
            at,
            occurrence,
            note: String::new(),
        });
        t.completions.sort_by_key(|c| c.at);
        self
    }

    pub fn log(&mut self, by: &MemberId, at: Timestamp, kind: LogKind, text: &str) -> &mut Self {
        let id = self.entry_id();
        self.view.log.push(LogEntry {
            id,
            by: by.clone(),
            at,
            kind,
            text: text.to_owned(),
        });
        self.view
            .log
            .sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        self
    }

    pub fn status(&mut self, status: PlanStatus, at: Timestamp) -> &mut Self {
        self.view.plan.status = status;
        self.view.plan.status_changed_at = at;
        self
    }

    /// The main person approves and the plan is accepted at `at`.
    pub fn accept(&mut self, at: Timestamp) -> &mut Self {
        let main = self.main_person();
        self.view.plan.approvals.push(Approval { member: main, at });
        self.status(PlanStatus::Accepted, at)
    }

    pub fn review_at(&mut self, at: Option<Timestamp>) -> &mut Self {
        self.view.plan.next_review_at = at;
        self
    }

    pub fn held_review(&mut self, by: &MemberId, at: Timestamp, summary: &str) -> &mut Self {
        let id = self.entry_id();
        self.view.plan.reviews.push(Review {
            id,
            at,
            by: by.clone(),
            summary: summary.to_owned(),
        });
        self
    }

    pub fn meeting(&mut self, by: &MemberId, at: Timestamp, place: &str, agenda: &str) -> EntryId {
        let id = self.entry_id();
        self.view.meetings.push(MeetingView {
            id: id.clone(),
            at,
            place: place.to_owned(),
            agenda: agenda.to_owned(),
            created_by: by.clone(),
            cancelled_at: None,
            rsvps: vec![],
        });
        id
    }

    pub fn plan_mut(&mut self) -> &mut PlanSection {
        &mut self.view.plan
    }

    pub fn text_item(&mut self, by: &MemberId, at: Timestamp, text: &str) -> TextItem {
        TextItem {
            id: self.entry_id(),
            text: text.to_owned(),
            by: by.clone(),
            at,
        }
    }

    pub fn condition(
        &mut self,
        text: &str,
        set_by: &MemberId,
        set_at: Timestamp,
        accepted_at: Option<Timestamp>,
    ) {
        let id = self.entry_id();
        self.view.conditions.push(ConditionView {
            id,
            text: text.to_owned(),
            set_by: set_by.clone(),
            set_at,
            accepted_at,
        });
    }

    pub fn build(&self) -> PlanView {
        self.view.clone()
    }
}

/// A real plan document in Amsterdam: Sanne (the main person) with Jan and Piet,
/// founded on 1 October 2026 — for the rules that read civil time (reminders, news).
pub(crate) mod amsterdam {
    use automerge::ActorId;

    use crate::plan::recurrence::CivilStart;
    use crate::plan::{CircleId, CirclePlan, Language, MemberId, NewCircle, NewMember, Relation};
    use kring_trust::time::Timestamp;

    pub const ZONE: &str = "Europe/Amsterdam";

    /// `2026-12-02T19:00` (or a date) on an Amsterdam clock.
    pub fn local(s: &str) -> Timestamp {
        CivilStart::parse(s)
            .and_then(|c| c.instant(ZONE))
            .expect("a test time")
    }

    pub struct Circle {
        pub plan: CirclePlan,
        pub sanne: MemberId,
        pub jan: MemberId,
        pub piet: MemberId,
    }

    pub fn circle(lang: Language) -> Circle {
        let now = local("2026-10-01T10:00");
        let (mut plan, sanne) = CirclePlan::create(
            ActorId::random(),
            CircleId::random(),
            NewCircle {
                name: "Kring van Sanne".into(),
                language: lang,
                main_person_name: "Sanne".into(),
            },
            now,
        )
        .expect("circle");
        plan.set_timezone(&sanne, ZONE, now).expect("zone");
        let mut add = |name: &str| {
            let new = NewMember {
                display_name: name.into(),
                relation: Relation::Family,
                role_label: String::new(),
            };
            plan.add_member(&sanne, new, now).expect("member")
        };
        let (jan, piet) = (add("Jan"), add("Piet"));
        Circle {
            plan,
            sanne,
            jan,
            piet,
        }
    }

    /// Sanne's circle in the week of the October clock change, with everything that
    /// is a day rather than a moment: shopping on Saturday 24 October (all day), a form
    /// due Monday 26 October (a deadline typed as a date), the evaluation on Tuesday
    /// 27 October (a date); and, for contrast, a ride at 10:00 on Sunday 25 October,
    /// the day the clock goes back. `now` is Friday 23 October 12:00.
    pub fn whole_days(lang: Language) -> (Circle, Timestamp) {
        use crate::plan::recurrence::Recurrence;
        use crate::plan::{NewTask, Schedule};
        let mut c = circle(lang);
        let now = local("2026-10-23T12:00");
        let day = |start: &str| {
            Schedule::Repeat(Recurrence {
                start: start.into(),
                rule: None,
                skipped: vec![],
                moved: vec![],
                zone: ZONE.into(),
            })
        };
        let mut add = |title: &str, schedule: Schedule| {
            let new = NewTask {
                schedule,
                ..NewTask::simple(title)
            };
            c.plan.add_task(&c.sanne, new, now).expect("task")
        };
        add("Boodschappen", day("2026-10-24"));
        add(
            "Formulier inleveren",
            Schedule::Due {
                at: local("2026-10-26"),
            },
        );
        let ride = add("Naar het ziekenhuis", day("2026-10-25T10:00"));
        c.plan
            .claim_task(&c.jan, &ride, now)
            .expect("Jan takes the ride");
        c.plan
            .set_next_review(&c.sanne, Some(local("2026-10-27")), now)
            .expect("review date");
        (c, now)
    }
}
