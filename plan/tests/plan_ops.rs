//! Unit tests for every public operation of `CirclePlan` and every error it returns.
//!
//! Happy paths assert what a user sees in `PlanView`; every rejection asserts the exact
//! `kring_plan::Error` variant *and* that nothing changed (same heads, same view).

use automerge::{ActorId, ReadDoc, ROOT};
use kring_plan::plan::authority::refusal;
use kring_plan::plan::rules::{
    MAX_EVERY_WEEKS, MAX_NAME_CHARS, MAX_SLOTS, MAX_TEXT_CHARS, MAX_TITLE_CHARS,
};
use kring_plan::plan::{
    CircleId, CirclePlan, Designation, EntryId, HandoverFormat, Language, LogKind, MemberId,
    NewCircle, NewMember, NewTask, OwnerKind, PlanList, PlanStatus, PlanView, Relation, Rights,
    Rsvp, Schedule, TaskCategory, TaskId, TaskStatus, TaskUpdate, TaskView,
};
use kring_plan::Error;
use kring_trust::membership::Capability;
use kring_trust::Timestamp;

// ==== fixture and helpers ==============================================================

const NOW: Timestamp = Timestamp(1_780_000_000_000);
const MINUTE: i64 = 60_000;
const WEEK: i64 = 7 * Timestamp::MILLIS_PER_DAY;
const CIRCLE_NAME: &str = "Kring voor Anna";

/// `minutes` after [`NOW`].
fn at(minutes: i64) -> Timestamp {
    NOW.plus_millis(minutes * MINUTE)
}

/// A string of `chars` characters that takes two bytes each, so limits are checked in
/// characters, not bytes.
fn text_of(chars: usize) -> String {
    "é".repeat(chars)
}

/// A circle with members of several relations, all added by the main person at `NOW`.
struct Circle {
    plan: CirclePlan,
    main: MemberId,
    family: MemberId,
    friend: MemberId,
    coordinator: MemberId,
    professional: MemberId,
}

fn new_circle(name: &str, main_person_name: &str) -> kring_plan::Result<(CirclePlan, MemberId)> {
    let new = NewCircle {
        name: name.into(),
        language: Language::Nl,
        main_person_name: main_person_name.into(),
    };
    CirclePlan::create(ActorId::random(), CircleId::random(), new, NOW)
}

fn new_member(name: &str, relation: Relation) -> NewMember {
    NewMember {
        display_name: name.into(),
        relation,
        role_label: String::new(),
    }
}

fn circle() -> Circle {
    let (mut plan, main) = new_circle(CIRCLE_NAME, "Anna").expect("create circle");
    let mut add = |name: &str, relation| {
        plan.add_member(&main, new_member(name, relation), NOW)
            .expect("add member")
    };
    let family = add("Bram", Relation::Family);
    let friend = add("Chris", Relation::Friend);
    let coordinator = add("Dana", Relation::Coordinator);
    let professional = add("Eef", Relation::Professional);
    // What someone calls themselves grants nothing: the main person marks who is the
    // coordinator (an admin in a circle without a membership log) and the professional.
    plan.designate(&main, &coordinator, Some(Designation::Coordinator), NOW)
        .expect("designate coordinator");
    plan.designate(&main, &professional, Some(Designation::Professional), NOW)
        .expect("designate professional");
    Circle {
        plan,
        main,
        family,
        friend,
        coordinator,
        professional,
    }
}

impl Circle {
    fn add_task(&mut self, by: &MemberId, new: NewTask) -> TaskId {
        self.plan.add_task(by, new, NOW).expect("add task")
    }

    fn task_with_slots(&mut self, slots: u32) -> TaskId {
        let main = self.main.clone();
        self.add_task(
            &main,
            NewTask {
                slots,
                ..NewTask::simple("Boodschappen")
            },
        )
    }

    /// What a user sees of a task.
    fn task(&self, id: &TaskId) -> TaskView {
        task_in(&self.plan, id)
    }

    fn claim(&mut self, by: &MemberId, task: &TaskId, now: Timestamp) {
        self.plan.claim_task(by, task, now).expect("claim");
    }
}

fn task_in(plan: &CirclePlan, id: &TaskId) -> TaskView {
    plan.view().task(id).cloned().expect("task in view")
}

fn weekly(first_at: Timestamp, every_weeks: u32, until: Option<Timestamp>) -> Schedule {
    Schedule::Weekly {
        first_at,
        every_weeks,
        until,
    }
}

fn winners(task: &TaskView) -> Vec<MemberId> {
    task.winners().cloned().collect()
}

/// Runs `op`, asserts that it failed and left the plan exactly as it was (same heads,
/// same view), and returns the error.
fn rejected<T: std::fmt::Debug>(
    plan: &mut CirclePlan,
    op: impl FnOnce(&mut CirclePlan) -> kring_plan::Result<T>,
) -> Error {
    let heads = plan.heads();
    let view = plan.view();
    let changes = plan.change_count();
    let err = match op(plan) {
        Ok(value) => panic!("expected an error, got Ok({value:?})"),
        Err(err) => err,
    };
    assert_eq!(
        plan.heads(),
        heads,
        "a rejected operation changed the heads"
    );
    assert_eq!(
        plan.change_count(),
        changes,
        "a rejected operation added changes"
    );
    assert_eq!(plan.view(), view, "a rejected operation changed the view");
    err
}

/// `assert_rejects!(plan, |p| p.op(..), Error::Variant { .. })`: the operation fails with
/// exactly that error and changes nothing.
macro_rules! assert_rejects {
    ($plan:expr, $op:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {{
        let err = rejected(&mut $plan, $op);
        let shown = format!("{err:?}");
        assert!(
            matches!(err, $pattern $(if $guard)?),
            "expected {}, got {shown}",
            stringify!($pattern)
        );
    }};
}

// ==== creating a circle ================================================================

#[test]
fn create_sets_up_the_circle_and_its_main_person() {
    let circle_id = CircleId::random();
    let actor = ActorId::random();
    let new = NewCircle {
        name: "  Kring voor Anna ".into(),
        language: Language::En,
        main_person_name: " Anna ".into(),
    };
    let (plan, main) = CirclePlan::create(actor.clone(), circle_id.clone(), new, NOW).unwrap();
    assert_eq!(plan.circle_id(), &circle_id);
    assert_eq!(plan.actor(), &actor);
    assert_eq!(plan.main_person().unwrap(), main);
    assert_eq!(plan.plan_status().unwrap(), PlanStatus::Draft);
    assert_eq!(plan.change_count(), 1);

    let view = plan.view();
    assert_eq!(view.circle.id, circle_id);
    assert_eq!(view.circle.name, CIRCLE_NAME);
    assert_eq!(view.circle.language, Language::En);
    assert_eq!(view.circle.main_person, main);
    assert_eq!(view.circle.created_at, NOW);
    assert_eq!(view.members.len(), 1);
    let person = &view.members[0];
    assert_eq!(
        (
            person.id.clone(),
            person.display_name.as_str(),
            person.relation
        ),
        (main, "Anna", Relation::MainPerson)
    );
    assert_eq!((person.joined_at, person.removed_at), (NOW, None));
    assert_eq!(view.plan.status, PlanStatus::Draft);
    assert_eq!(view.plan.status_changed_at, NOW);
    assert_eq!(view.plan.question, "");
    assert!(view.plan.concerns.is_empty() && view.plan.approvals.is_empty());
    assert!(view.tasks.is_empty() && view.log.is_empty() && view.meetings.is_empty());
}

#[test]
fn create_rejects_empty_and_overlong_names() {
    let err = new_circle("  ", "Anna").unwrap_err();
    assert!(
        matches!(
            err,
            Error::EmptyText {
                field: "circle name"
            }
        ),
        "{err:?}"
    );
    let err = new_circle(CIRCLE_NAME, "\t").unwrap_err();
    assert!(
        matches!(
            err,
            Error::EmptyText {
                field: "main person name"
            }
        ),
        "{err:?}"
    );
    let err = new_circle(&text_of(MAX_NAME_CHARS + 1), "Anna").unwrap_err();
    assert!(
        matches!(err, Error::TextTooLong { field: "circle name", len, max }
            if len == MAX_NAME_CHARS + 1 && max == MAX_NAME_CHARS),
        "{err:?}"
    );
    assert!(new_circle(&text_of(MAX_NAME_CHARS), "Anna").is_ok());
}

#[test]
fn plan_view_helpers_find_members_and_tasks() {
    let mut c = circle();
    let task = c.task_with_slots(1);
    let stranger = MemberId::random();
    let view = c.plan.view();
    assert_eq!(view.member(&c.family).unwrap().display_name, "Bram");
    assert_eq!(view.display_name(&c.coordinator), "Dana");
    assert_eq!(view.display_name(&stranger), stranger.short());
    assert!(view.member(&stranger).is_none());
    assert_eq!(view.task(&task).unwrap().title, "Boodschappen");
    assert!(view.task(&TaskId::random()).is_none());
    assert_eq!(view.active_members().count(), 5);
}

// ==== members ==========================================================================

#[test]
fn add_member_shows_the_person_trimmed() {
    let mut c = circle();
    let id = c
        .plan
        .add_member(
            &c.coordinator,
            NewMember {
                display_name: "  Fatima ".into(),
                relation: Relation::Neighbour,
                role_label: " buurvrouw ".into(),
            },
            at(5),
        )
        .unwrap();
    let view = c.plan.view();
    let member = view.member(&id).expect("new member in view");
    assert_eq!(member.display_name, "Fatima");
    assert_eq!(member.relation, Relation::Neighbour);
    assert_eq!(member.role_label, "buurvrouw");
    assert_eq!((member.joined_at, member.removed_at), (at(5), None));
    assert!(member.is_active());
    assert_eq!(view.members.last().unwrap().id, id, "sorted by join time");
}

#[test]
fn add_member_with_id_uses_the_given_id_once() {
    let mut c = circle();
    let id = MemberId::random();
    let added = c
        .plan
        .add_member_with_id(
            &c.main,
            id.clone(),
            new_member("Gert", Relation::Other),
            at(1),
        )
        .unwrap();
    assert_eq!(added, id);
    assert_eq!(c.plan.view().member(&id).unwrap().relation, Relation::Other);
    assert_rejects!(
        c.plan,
        |p| p.add_member_with_id(
            &c.main,
            id.clone(),
            new_member("Gert", Relation::Other),
            at(2)
        ),
        Error::AlreadyExists(_)
    );
}

#[test]
fn add_member_with_the_id_of_a_removed_member_is_refused() {
    let mut c = circle();
    c.plan.remove_member(&c.main, &c.friend, at(1)).unwrap();
    assert_rejects!(
        c.plan,
        |p| p.add_member_with_id(
            &c.main,
            c.friend.clone(),
            new_member("X", Relation::Friend),
            at(2)
        ),
        Error::AlreadyExists(_)
    );
}

#[test]
fn add_member_validates_names_and_relation() {
    let mut c = circle();
    let add = |name: String, relation, role: String| {
        let by = c.main.clone();
        move |p: &mut CirclePlan| {
            let new = NewMember {
                display_name: name,
                relation,
                role_label: role,
            };
            p.add_member(&by, new, at(1))
        }
    };
    assert_rejects!(
        c.plan,
        add(" ".into(), Relation::Friend, String::new()),
        Error::EmptyText {
            field: "display name"
        }
    );
    assert_rejects!(
        c.plan,
        add(text_of(MAX_NAME_CHARS + 1), Relation::Friend, String::new()),
        Error::TextTooLong {
            field: "display name",
            ..
        }
    );
    assert_rejects!(
        c.plan,
        add("Gert".into(), Relation::Friend, text_of(MAX_NAME_CHARS + 1)),
        Error::TextTooLong {
            field: "role label",
            ..
        }
    );
    assert_rejects!(
        c.plan,
        add("Gert".into(), Relation::MainPerson, String::new()),
        Error::NotAllowed(_)
    );
}

#[test]
fn members_rename_themselves_and_those_in_charge_rename_anyone() {
    let mut c = circle();
    c.plan
        .update_member(
            &c.family,
            &c.family,
            Some(" Bram J. "),
            Some("broer"),
            at(1),
        )
        .unwrap();
    c.plan
        .update_member(&c.coordinator, &c.friend, Some("Chris B."), None, at(2))
        .unwrap();
    c.plan
        .update_member(&c.main, &c.professional, None, Some("wijkteam"), at(3))
        .unwrap();
    let view = c.plan.view();
    let shown = |id: &MemberId| {
        let m = view.member(id).unwrap();
        (m.display_name.clone(), m.role_label.clone())
    };
    assert_eq!(shown(&c.family), ("Bram J.".into(), "broer".into()));
    assert_eq!(shown(&c.friend), ("Chris B.".into(), String::new()));
    assert_eq!(shown(&c.professional), ("Eef".into(), "wijkteam".into()));
}

#[test]
fn update_member_with_nothing_to_change_changes_nothing() {
    let mut c = circle();
    let (heads, view) = (c.plan.heads(), c.plan.view());
    c.plan
        .update_member(&c.family, &c.family, None, None, at(1))
        .unwrap();
    assert_eq!((c.plan.heads(), c.plan.view()), (heads, view));
}

#[test]
fn update_member_errors() {
    let mut c = circle();
    assert_rejects!(
        c.plan,
        |p| p.update_member(&c.family, &c.friend, Some("Chris"), None, at(1)),
        Error::NotAllowed(_)
    );
    assert_rejects!(
        c.plan,
        |p| p.update_member(&c.professional, &c.main, None, Some("x"), at(1)),
        Error::NotAllowed(_)
    );
    let unknown = MemberId::random();
    assert_rejects!(
        c.plan,
        |p| p.update_member(&c.main, &unknown, Some("X"), None, at(1)),
        Error::UnknownMember(id) if id == unknown
    );
    assert_rejects!(
        c.plan,
        |p| p.update_member(&c.family, &c.family, Some("  "), None, at(1)),
        Error::EmptyText {
            field: "display name"
        }
    );
    assert_rejects!(
        c.plan,
        |p| p.update_member(
            &c.family,
            &c.family,
            None,
            Some(&text_of(MAX_NAME_CHARS + 1)),
            at(1)
        ),
        Error::TextTooLong {
            field: "role label",
            ..
        }
    );
    c.plan.remove_member(&c.main, &c.friend, at(2)).unwrap();
    assert_rejects!(
        c.plan,
        |p| p.update_member(&c.main, &c.friend, Some("Chris"), None, at(3)),
        Error::UnknownMember(id) if id == c.friend
    );
}

#[test]
fn remove_member_keeps_them_in_history_and_releases_their_claims() {
    let mut c = circle();
    let task = c.task_with_slots(2);
    c.claim(&c.friend.clone(), &task, at(1));
    c.claim(&c.family.clone(), &task, at(2));
    c.plan
        .remove_member(&c.coordinator, &c.friend, at(3))
        .unwrap();

    let view = c.plan.view();
    let removed = view
        .member(&c.friend)
        .expect("removed member stays in the view");
    assert_eq!(removed.removed_at, Some(at(3)));
    assert!(!removed.is_active());
    assert!(view.active_members().all(|m| m.id != c.friend));
    let task = view.task(&task).unwrap();
    assert_eq!(winners(task), vec![c.family.clone()]);
    assert_eq!(task.free_slots(), 1);
}

#[test]
fn remove_member_keeps_claims_on_finished_tasks() {
    let mut c = circle();
    let task = c.task_with_slots(1);
    c.claim(&c.friend.clone(), &task, at(1));
    c.plan
        .complete_task(&c.friend, &task, None, "gedaan", at(2))
        .unwrap();
    c.plan.remove_member(&c.main, &c.friend, at(3)).unwrap();
    assert_eq!(winners(&c.task(&task)), vec![c.friend.clone()]);
}

#[test]
fn members_may_leave_themselves() {
    let mut c = circle();
    c.plan
        .remove_member(&c.professional, &c.professional, at(1))
        .unwrap();
    assert_eq!(
        c.plan.view().member(&c.professional).unwrap().removed_at,
        Some(at(1))
    );
}

#[test]
fn remove_member_errors() {
    let mut c = circle();
    for by in [&c.main, &c.coordinator] {
        assert_rejects!(
            c.plan,
            |p| p.remove_member(by, &c.main, at(1)),
            Error::NotAllowed(_)
        );
    }
    assert_rejects!(
        c.plan,
        |p| p.remove_member(&c.family, &c.friend, at(1)),
        Error::NotAllowed(_)
    );
    let unknown = MemberId::random();
    assert_rejects!(
        c.plan,
        |p| p.remove_member(&c.main, &unknown, at(1)),
        Error::UnknownMember(id) if id == unknown
    );
    c.plan.remove_member(&c.main, &c.friend, at(2)).unwrap();
    assert_rejects!(
        c.plan,
        |p| p.remove_member(&c.main, &c.friend, at(3)),
        Error::UnknownMember(_)
    );
}

// ==== acting without being a member ======================================================

/// Ids of existing things, so that an operation can only fail because of who acts.
struct Targets {
    member: MemberId,
    task: TaskId,
    concern: EntryId,
    condition: EntryId,
    offer: EntryId,
    meeting: EntryId,
}

fn targets(c: &mut Circle) -> Targets {
    let task = c.task_with_slots(3);
    let plan = &mut c.plan;
    Targets {
        member: c.family.clone(),
        task,
        concern: plan
            .add_to_list(&c.main, PlanList::Concerns, "Eenzaamheid", NOW)
            .unwrap(),
        condition: plan
            .set_condition(&c.professional, "Kinderen slapen thuis", NOW)
            .unwrap(),
        offer: plan.add_offer(&c.family, "Rijden", "dinsdag", NOW).unwrap(),
        meeting: plan
            .schedule_meeting(&c.coordinator, at(60), "Thuis", "", NOW)
            .unwrap(),
    }
}

type Operation = fn(&mut CirclePlan, &MemberId, &Targets) -> kring_plan::Result<()>;

/// When the operations of [`every_operation`] happen.
const ACT: Timestamp = Timestamp(NOW.0 + 10 * MINUTE);

fn op(name: &'static str, f: Operation) -> (&'static str, Operation) {
    (name, f)
}

/// Every operation that someone performs, with valid arguments otherwise.
fn every_operation() -> Vec<(&'static str, Operation)> {
    vec![
        op("add_member", |p, by, _| {
            p.add_member(by, new_member("X", Relation::Friend), ACT)
                .map(drop)
        }),
        op("add_member_with_id", |p, by, _| {
            let new = new_member("X", Relation::Friend);
            p.add_member_with_id(by, MemberId::random(), new, ACT)
                .map(drop)
        }),
        op("update_member", |p, by, x| {
            p.update_member(by, &x.member, Some("X"), None, ACT)
        }),
        op("remove_member", |p, by, x| {
            p.remove_member(by, &x.member, ACT)
        }),
        op("set_question", |p, by, _| p.set_question(by, "Wat?", ACT)),
        op("add_to_list", |p, by, _| {
            p.add_to_list(by, PlanList::Goals, "Doel", ACT).map(drop)
        }),
        op("remove_from_list", |p, by, x| {
            p.remove_from_list(by, PlanList::Concerns, &x.concern, ACT)
        }),
        op("set_plan_status", |p, by, _| {
            p.set_plan_status(by, PlanStatus::Presented, ACT)
        }),
        op("approve_plan", |p, by, _| p.approve_plan(by, ACT)),
        op("set_next_review", |p, by, _| {
            p.set_next_review(by, Some(at(100)), ACT)
        }),
        op("record_review", |p, by, _| {
            p.record_review(by, "Goed", None, ACT).map(drop)
        }),
        op("record_handover", |p, by, _| {
            p.record_handover(by, "Wijkteam", HandoverFormat::Fhir, false, ACT)
                .map(drop)
        }),
        op("add_task", |p, by, _| {
            p.add_task(by, NewTask::simple("Koken"), ACT).map(drop)
        }),
        op("update_task", |p, by, x| {
            p.update_task(by, &x.task, TaskUpdate::default(), ACT)
        }),
        op("claim_task", |p, by, x| p.claim_task(by, &x.task, ACT)),
        op("unclaim_task", |p, by, x| p.unclaim_task(by, &x.task, ACT)),
        op("complete_task", |p, by, x| {
            p.complete_task(by, &x.task, None, "", ACT).map(drop)
        }),
        op("cancel_task", |p, by, x| p.cancel_task(by, &x.task, ACT)),
        op("set_condition", |p, by, _| {
            p.set_condition(by, "Voorwaarde", ACT).map(drop)
        }),
        op("accept_condition", |p, by, x| {
            p.accept_condition(by, &x.condition, ACT)
        }),
        op("add_offer", |p, by, _| {
            p.add_offer(by, "Koken", "", ACT).map(drop)
        }),
        op("withdraw_offer", |p, by, x| {
            p.withdraw_offer(by, &x.offer, ACT)
        }),
        op("post", |p, by, _| {
            p.post(by, LogKind::Update, "Hallo", ACT).map(drop)
        }),
        op("schedule_meeting", |p, by, _| {
            p.schedule_meeting(by, at(90), "", "", ACT).map(drop)
        }),
        op("rsvp", |p, by, x| p.rsvp(by, &x.meeting, Rsvp::Yes, ACT)),
    ]
}

fn assert_every_operation_refuses(c: &mut Circle, targets: &Targets, by: &MemberId) {
    for (name, op) in every_operation() {
        let err = rejected(&mut c.plan, |p| op(p, by, targets));
        assert!(
            matches!(&err, Error::NotAMember(id) if id == by),
            "{name}: expected NotAMember, got {err:?}"
        );
    }
}

#[test]
fn someone_who_never_was_a_member_can_do_nothing() {
    let mut c = circle();
    let targets = targets(&mut c);
    assert_every_operation_refuses(&mut c, &targets, &MemberId::random());
}

#[test]
fn a_removed_member_can_do_nothing() {
    let mut c = circle();
    let targets = targets(&mut c);
    let friend = c.friend.clone();
    c.plan.remove_member(&c.main, &friend, at(1)).unwrap();
    assert_every_operation_refuses(&mut c, &targets, &friend);
}

// ==== the plan section ===================================================================

#[test]
fn set_question_trims_and_may_clear() {
    let mut c = circle();
    c.plan
        .set_question(&c.main, "  Hoe blijf ik thuis wonen?  ", at(1))
        .unwrap();
    assert_eq!(c.plan.view().plan.question, "Hoe blijf ik thuis wonen?");
    assert_rejects!(
        c.plan,
        |p| p.set_question(&c.family, "Andere vraag", at(2)),
        Error::NotAllowed(_)
    );
    assert_rejects!(
        c.plan,
        |p| p.set_question(&c.coordinator, "Andere vraag", at(2)),
        Error::NotAllowed(_)
    );
    c.plan.set_question(&c.main, "", at(2)).unwrap();
    assert_eq!(c.plan.view().plan.question, "");
    assert_rejects!(
        c.plan,
        |p| p.set_question(&c.main, &text_of(MAX_TEXT_CHARS + 1), at(3)),
        Error::TextTooLong {
            field: "question",
            ..
        }
    );
    c.plan
        .set_question(&c.main, &text_of(MAX_TEXT_CHARS), at(4))
        .unwrap();
}

fn list_of(view: &PlanView, list: PlanList) -> &[kring_plan::plan::TextItem] {
    match list {
        PlanList::Concerns => &view.plan.concerns,
        PlanList::Goals => &view.plan.goals,
        PlanList::Contingencies => &view.plan.contingencies,
    }
}

const LISTS: [PlanList; 3] = [PlanList::Concerns, PlanList::Goals, PlanList::Contingencies];

#[test]
fn each_plan_list_adds_and_removes_its_own_items() {
    for list in LISTS {
        let mut c = circle();
        let first = c
            .plan
            .add_to_list(&c.coordinator, list, " Eerste ", at(2))
            .unwrap();
        let second = c.plan.add_to_list(&c.main, list, "Tweede", at(1)).unwrap();
        let view = c.plan.view();
        let items = list_of(&view, list);
        let shown: Vec<_> = items
            .iter()
            .map(|i| (&i.id, i.text.as_str(), &i.by, i.at))
            .collect();
        assert_eq!(
            shown,
            vec![
                (&second, "Tweede", &c.main, at(1)),
                (&first, "Eerste", &c.coordinator, at(2))
            ],
            "{list:?} sorted by time"
        );
        for other in LISTS.into_iter().filter(|l| *l != list) {
            assert!(
                list_of(&view, other).is_empty(),
                "{list:?} leaked into {other:?}"
            );
        }

        // Someone else's line of the plan is not a member's to remove.
        assert_rejects!(
            c.plan,
            |p| p.remove_from_list(&c.friend, list, &first, at(3)),
            Error::NotAllowed(_)
        );
        c.plan
            .remove_from_list(&c.coordinator, list, &first, at(3))
            .unwrap();
        let view = c.plan.view();
        assert_eq!(list_of(&view, list).len(), 1);
        assert_eq!(list_of(&view, list)[0].id, second);
    }
}

#[test]
fn members_share_worries_but_goals_are_the_main_persons_and_admins() {
    let mut c = circle();
    let worry = c
        .plan
        .add_to_list(&c.family, PlanList::Concerns, "Ik maak me zorgen", at(1))
        .unwrap();
    for list in [PlanList::Goals, PlanList::Contingencies] {
        assert_rejects!(
            c.plan,
            |p| p.add_to_list(&c.family, list, "Sanne moet stoppen", at(2)),
            Error::NotAllowed(_)
        );
    }
    // Who wrote a worry may take it back.
    c.plan
        .remove_from_list(&c.family, PlanList::Concerns, &worry, at(3))
        .unwrap();
    assert!(c.plan.view().plan.concerns.is_empty());
}

#[test]
fn plan_list_errors() {
    let mut c = circle();
    let goal = c
        .plan
        .add_to_list(&c.main, PlanList::Goals, "Doel", at(1))
        .unwrap();
    assert_rejects!(
        c.plan,
        |p| p.add_to_list(&c.main, PlanList::Concerns, " \n ", at(2)),
        Error::EmptyText { field: "text" }
    );
    assert_rejects!(
        c.plan,
        |p| p.add_to_list(
            &c.main,
            PlanList::Goals,
            &text_of(MAX_TEXT_CHARS + 1),
            at(2)
        ),
        Error::TextTooLong { field: "text", .. }
    );
    assert_rejects!(
        c.plan,
        |p| p.remove_from_list(&c.main, PlanList::Concerns, &goal, at(2)),
        Error::UnknownEntry(id) if id == goal
    );
    assert_rejects!(
        c.plan,
        |p| p.remove_from_list(&c.main, PlanList::Goals, &EntryId::random(), at(2)),
        Error::UnknownEntry(_)
    );
    c.plan
        .remove_from_list(&c.main, PlanList::Goals, &goal, at(3))
        .unwrap();
    assert_rejects!(
        c.plan,
        |p| p.remove_from_list(&c.main, PlanList::Goals, &goal, at(4)),
        Error::UnknownEntry(_)
    );
}

#[test]
fn plan_goes_through_its_life_cycle() {
    let mut c = circle();
    let steps = [
        (PlanStatus::Presented, at(1)),
        (PlanStatus::Draft, at(2)),
        (PlanStatus::Presented, at(3)),
    ];
    for (status, now) in steps {
        c.plan.set_plan_status(&c.main, status, now).unwrap();
        assert_eq!(c.plan.plan_status().unwrap(), status);
        assert_eq!(
            (
                c.plan.view().plan.status,
                c.plan.view().plan.status_changed_at
            ),
            (status, now)
        );
    }
    c.plan.approve_plan(&c.main, at(4)).unwrap();
    c.plan
        .set_plan_status(&c.main, PlanStatus::Accepted, at(5))
        .unwrap();
    // Archiving cannot be undone: not even an admin may do it for her.
    assert_rejects!(
        c.plan,
        |p| p.set_plan_status(&c.coordinator, PlanStatus::Archived, at(6)),
        Error::NotAllowed(_)
    );
    c.plan
        .set_plan_status(&c.main, PlanStatus::Archived, at(6))
        .unwrap();
    let plan = c.plan.view().plan;
    assert_eq!(
        (plan.status, plan.status_changed_at),
        (PlanStatus::Archived, at(6))
    );
}

#[test]
fn plan_status_refuses_transitions_outside_the_life_cycle() {
    use PlanStatus::*;
    let mut c = circle();
    c.plan.approve_plan(&c.main, at(1)).unwrap();
    let path = [Draft, Presented, Accepted, Archived];
    for (i, from) in path.into_iter().enumerate() {
        for to in PlanStatus::ALL.iter().copied() {
            let allowed = matches!(
                (from, to),
                (Draft, Presented)
                    | (Presented, Draft)
                    | (Presented, Accepted)
                    | (Accepted, Archived)
            );
            assert_eq!(from.can_move_to(to), allowed, "{from} -> {to}");
            if !allowed {
                assert_rejects!(
                    c.plan,
                    |p| p.set_plan_status(&c.main, to, at(2)),
                    Error::InvalidTransition { from: f, to: t } if f == from && t == to
                );
            }
        }
        if let Some(next) = path.get(i + 1) {
            c.plan.set_plan_status(&c.main, *next, at(3)).unwrap();
        }
    }
}

#[test]
fn accepting_needs_the_main_persons_approval() {
    let mut c = circle();
    c.plan
        .set_plan_status(&c.main, PlanStatus::Presented, at(1))
        .unwrap();
    for by in [&c.family, &c.coordinator, &c.professional] {
        c.plan.approve_plan(by, at(2)).unwrap();
    }
    assert_rejects!(
        c.plan,
        |p| p.set_plan_status(&c.main, PlanStatus::Accepted, at(3)),
        Error::MainPersonApprovalMissing
    );
    c.plan.approve_plan(&c.main, at(4)).unwrap();
    assert_rejects!(
        c.plan,
        |p| p.set_plan_status(&c.coordinator, PlanStatus::Accepted, at(5)),
        Error::NotAllowed(_)
    );
    c.plan
        .set_plan_status(&c.main, PlanStatus::Accepted, at(5))
        .unwrap();
    assert_eq!(c.plan.view().plan.status, PlanStatus::Accepted);
}

#[test]
fn approvals_are_listed_by_time_then_member_and_can_be_renewed() {
    let mut c = circle();
    c.plan.approve_plan(&c.family, at(2)).unwrap();
    c.plan.approve_plan(&c.friend, at(1)).unwrap();
    c.plan.approve_plan(&c.coordinator, at(1)).unwrap();
    let approvals = |plan: &CirclePlan| -> Vec<(MemberId, Timestamp)> {
        let view = plan.view();
        view.plan
            .approvals
            .iter()
            .map(|a| (a.member.clone(), a.at))
            .collect()
    };
    let (low, high) = if c.friend < c.coordinator {
        (c.friend.clone(), c.coordinator.clone())
    } else {
        (c.coordinator.clone(), c.friend.clone())
    };
    assert_eq!(
        approvals(&c.plan),
        vec![
            (low.clone(), at(1)),
            (high.clone(), at(1)),
            (c.family.clone(), at(2))
        ]
    );
    c.plan.approve_plan(&c.friend, at(3)).unwrap();
    let renewed = approvals(&c.plan);
    assert_eq!(renewed.len(), 3);
    assert_eq!(renewed[2], (c.friend.clone(), at(3)));
}

#[test]
fn an_archived_plan_cannot_be_approved() {
    let mut c = circle();
    c.plan
        .set_plan_status(&c.main, PlanStatus::Presented, at(1))
        .unwrap();
    c.plan.approve_plan(&c.main, at(2)).unwrap();
    c.plan
        .set_plan_status(&c.main, PlanStatus::Accepted, at(3))
        .unwrap();
    c.plan
        .set_plan_status(&c.main, PlanStatus::Archived, at(4))
        .unwrap();
    assert_rejects!(
        c.plan,
        |p| p.approve_plan(&c.family, at(5)),
        Error::InvalidTransition {
            from: PlanStatus::Archived,
            ..
        }
    );
}

#[test]
fn next_review_is_set_in_the_future_or_cleared() {
    let mut c = circle();
    c.plan
        .set_next_review(&c.coordinator, Some(at(60 * 24 * 30)), at(1))
        .unwrap();
    assert_eq!(c.plan.view().plan.next_review_at, Some(at(60 * 24 * 30)));
    c.plan.set_next_review(&c.coordinator, None, at(2)).unwrap();
    assert_eq!(c.plan.view().plan.next_review_at, None);
    c.plan.set_next_review(&c.main, Some(at(4)), at(3)).unwrap();
    for when in [at(3), at(2)] {
        assert_rejects!(
            c.plan,
            |p| p.set_next_review(&c.main, Some(when), at(3)),
            Error::DatesOutOfOrder(_)
        );
    }
}

#[test]
fn a_handover_is_recorded_by_the_main_person_or_an_admin_only() {
    let mut c = circle();
    let id = c
        .plan
        .record_handover(
            &c.main,
            " Wijkteam Noord ",
            HandoverFormat::Fhir,
            false,
            at(5),
        )
        .unwrap();
    c.plan
        .record_handover(
            &c.coordinator,
            "Jeugdzorg",
            HandoverFormat::Pdf,
            true,
            at(6),
        )
        .unwrap();
    let handovers = c.plan.view().plan.handovers;
    assert_eq!(handovers.len(), 2);
    let first = &handovers[0];
    assert_eq!(
        (
            &first.id,
            first.at,
            &first.by,
            first.to.as_str(),
            first.format,
            first.names
        ),
        (
            &id,
            at(5),
            &c.main,
            "Wijkteam Noord",
            HandoverFormat::Fhir,
            false
        )
    );
    assert!(handovers[1].names);
    for by in [&c.family, &c.professional] {
        assert_rejects!(
            c.plan,
            |p| p.record_handover(by, "Wijkteam", HandoverFormat::Pdf, false, at(7)),
            Error::NotAllowed(refusal::HANDOVER)
        );
    }
    assert_rejects!(
        c.plan,
        |p| p.record_handover(&c.main, "  ", HandoverFormat::Pdf, false, at(7)),
        Error::EmptyText { .. }
    );
}

#[test]
fn record_review_lists_the_review_and_sets_the_next_one() {
    let mut c = circle();
    c.plan
        .set_next_review(&c.main, Some(at(10)), at(1))
        .unwrap();
    let first = c
        .plan
        .record_review(&c.coordinator, " Gaat goed ", Some(at(100)), at(10))
        .unwrap();
    let view = c.plan.view();
    assert_eq!(view.plan.next_review_at, Some(at(100)));
    assert_eq!(view.plan.reviews.len(), 1);
    let review = &view.plan.reviews[0];
    assert_eq!(
        (&review.id, review.at, &review.by, review.summary.as_str()),
        (&first, at(10), &c.coordinator, "Gaat goed")
    );
    let second = c
        .plan
        .record_review(&c.main, "Afgerond", None, at(100))
        .unwrap();
    let view = c.plan.view();
    assert_eq!(
        view.plan.next_review_at,
        Some(at(100)),
        "recording a review without a next date keeps the planned one"
    );
    c.plan.set_next_review(&c.main, None, at(101)).unwrap();
    assert_eq!(
        c.plan.view().plan.next_review_at,
        None,
        "cleared only when asked"
    );
    let ids: Vec<_> = view.plan.reviews.iter().map(|r| &r.id).collect();
    assert_eq!(ids, vec![&first, &second]);
}

#[test]
fn record_review_errors() {
    let mut c = circle();
    assert_rejects!(
        c.plan,
        |p| p.record_review(&c.main, "   ", None, at(1)),
        Error::EmptyText { field: "summary" }
    );
    assert_rejects!(
        c.plan,
        |p| p.record_review(&c.main, &text_of(MAX_TEXT_CHARS + 1), None, at(1)),
        Error::TextTooLong {
            field: "summary",
            ..
        }
    );
    assert_rejects!(
        c.plan,
        |p| p.record_review(&c.main, "Goed", Some(at(1)), at(1)),
        Error::DatesOutOfOrder(_)
    );
}

// ==== tasks: adding and changing =========================================================

#[test]
fn add_task_shows_every_field() {
    let mut c = circle();
    let schedule = Schedule::Due { at: at(60) };
    let new = NewTask {
        title: "  Rit naar het ziekenhuis ".into(),
        notes: " Afspraak 10:00 ".into(),
        category: TaskCategory::Ride,
        owner_kind: OwnerKind::Professional,
        schedule: schedule.clone(),
        slots: 2,
        checker: Some(c.coordinator.clone()),
    };
    let id = c.plan.add_task(&c.family, new, at(1)).unwrap();
    let task = c.task(&id);
    assert_eq!(c.plan.task(&id).unwrap(), task, "task() and view() agree");
    assert_eq!(task.id, id);
    assert_eq!(
        (task.title.as_str(), task.notes.as_str()),
        ("Rit naar het ziekenhuis", "Afspraak 10:00")
    );
    assert_eq!(
        (task.category, task.owner_kind),
        (TaskCategory::Ride, OwnerKind::Professional)
    );
    assert_eq!(task.schedule, schedule);
    assert_eq!((task.slots, task.free_slots()), (2, 2));
    assert_eq!(task.checker.as_ref(), Some(&c.coordinator));
    assert!(task.claims.is_empty() && task.completions.is_empty() && !task.overbooked);
    assert_eq!(task.status, TaskStatus::Open);
    assert!(task.is_open() && !task.is_done());
    assert_eq!((&task.created_by, task.created_at), (&c.family, at(1)));
}

#[test]
fn add_task_accepts_the_limits() {
    let mut c = circle();
    let new = NewTask {
        title: text_of(MAX_TITLE_CHARS),
        slots: MAX_SLOTS,
        schedule: weekly(at(0), MAX_EVERY_WEEKS, Some(at(0))),
        ..NewTask::simple("")
    };
    let id = c.plan.add_task(&c.main, new, at(1)).unwrap();
    assert_eq!(c.task(&id).slots, MAX_SLOTS);
}

fn rejects_new_task(c: &mut Circle, new: NewTask) -> Error {
    let by = c.main.clone();
    rejected(&mut c.plan, |p| p.add_task(&by, new, at(1)))
}

/// Whether an error is the one a case expects.
type ErrorCheck = fn(&Error) -> bool;

#[test]
fn add_task_errors() {
    fn simple(title: &str) -> NewTask {
        NewTask::simple(title)
    }
    let mut c = circle();
    let cases: [(NewTask, ErrorCheck); 10] = [
        (simple(""), |e| {
            matches!(e, Error::EmptyText { field: "title" })
        }),
        (simple(" \t\n "), |e| {
            matches!(e, Error::EmptyText { field: "title" })
        }),
        (simple(&text_of(MAX_TITLE_CHARS + 1)), |e| {
            matches!(e, Error::TextTooLong { field: "title", len, max }
                if *len == MAX_TITLE_CHARS + 1 && *max == MAX_TITLE_CHARS)
        }),
        (
            NewTask {
                notes: text_of(MAX_TEXT_CHARS + 1),
                ..simple("Koken")
            },
            |e| matches!(e, Error::TextTooLong { field: "notes", .. }),
        ),
        (
            NewTask {
                slots: 0,
                ..simple("Koken")
            },
            |e| matches!(e, Error::InvalidSlots(0)),
        ),
        (
            NewTask {
                slots: MAX_SLOTS + 1,
                ..simple("Koken")
            },
            |e| matches!(e, Error::InvalidSlots(n) if *n == MAX_SLOTS + 1),
        ),
        (
            NewTask {
                schedule: weekly(at(10), 1, Some(at(9))),
                ..simple("Koken")
            },
            |e| matches!(e, Error::DatesOutOfOrder(_)),
        ),
        (
            NewTask {
                schedule: weekly(at(10), 0, None),
                ..simple("Koken")
            },
            |e| {
                matches!(
                    e,
                    Error::InvalidValue {
                        field: "every how many weeks",
                        ..
                    }
                )
            },
        ),
        (
            NewTask {
                schedule: weekly(at(10), MAX_EVERY_WEEKS + 1, None),
                ..simple("Koken")
            },
            |e| {
                matches!(
                    e,
                    Error::InvalidValue {
                        field: "every how many weeks",
                        ..
                    }
                )
            },
        ),
        (
            NewTask {
                checker: Some(MemberId::random()),
                ..simple("Koken")
            },
            |e| matches!(e, Error::UnknownMember(_)),
        ),
    ];
    for (new, expected) in cases {
        let description = format!("{new:?}");
        let err = rejects_new_task(&mut c, new);
        assert!(expected(&err), "{description}: got {err:?}");
    }
}

#[test]
fn a_removed_member_cannot_be_named_checker() {
    let mut c = circle();
    c.plan.remove_member(&c.main, &c.friend, at(1)).unwrap();
    let new = NewTask {
        checker: Some(c.friend.clone()),
        ..NewTask::simple("Koken")
    };
    let err = rejects_new_task(&mut c, new);
    assert!(
        matches!(&err, Error::UnknownMember(id) if *id == c.friend),
        "{err:?}"
    );
}

#[test]
fn unknown_task_ids_are_refused_everywhere() {
    let mut c = circle();
    let unknown = TaskId::random();
    assert!(matches!(c.plan.task(&unknown), Err(Error::UnknownTask(id)) if id == unknown));
    let ops: [(&str, Operation); 5] = [
        ("update_task", |p, by, x| {
            p.update_task(by, &x.task, TaskUpdate::default(), NOW)
        }),
        ("claim_task", |p, by, x| p.claim_task(by, &x.task, NOW)),
        ("unclaim_task", |p, by, x| p.unclaim_task(by, &x.task, NOW)),
        ("complete_task", |p, by, x| {
            p.complete_task(by, &x.task, None, "", NOW).map(drop)
        }),
        ("cancel_task", |p, by, x| p.cancel_task(by, &x.task, NOW)),
    ];
    let mut targets = targets(&mut c);
    targets.task = unknown.clone();
    for (name, op) in ops {
        let err = rejected(&mut c.plan, |p| op(p, &c.main, &targets));
        assert!(
            matches!(&err, Error::UnknownTask(id) if *id == unknown),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn update_task_changes_only_what_is_given() {
    let mut c = circle();
    let id = c.add_task(
        &c.family.clone(),
        NewTask {
            checker: Some(c.coordinator.clone()),
            notes: "oud".into(),
            ..NewTask::simple("Koken")
        },
    );
    let before = c.task(&id);
    let retitle = || TaskUpdate {
        title: Some(" Soep koken ".into()),
        ..TaskUpdate::default()
    };
    assert_rejects!(
        c.plan,
        |p| p.update_task(&c.friend, &id, retitle(), at(1)),
        Error::NotAllowed(_)
    );
    c.plan
        .update_task(&c.family, &id, retitle(), at(1))
        .unwrap();
    let after = c.task(&id);
    assert_eq!(after.title, "Soep koken");
    assert_eq!(
        TaskView {
            title: before.title.clone(),
            ..after
        },
        before
    );

    let schedule = weekly(at(60), 2, Some(at(60 * 24 * 70)));
    c.plan
        .update_task(
            &c.main,
            &id,
            TaskUpdate {
                notes: Some(String::new()),
                category: Some(TaskCategory::Meal),
                schedule: Some(schedule.clone()),
                slots: Some(3),
                checker: Some(Some(c.professional.clone())),
                ..TaskUpdate::default()
            },
            at(2),
        )
        .unwrap();
    let task = c.task(&id);
    assert_eq!(task.notes, "");
    assert_eq!(task.category, TaskCategory::Meal);
    assert_eq!(task.schedule, schedule);
    assert_eq!(task.slots, 3);
    assert_eq!(task.checker.as_ref(), Some(&c.professional));

    let clear_checker = TaskUpdate {
        checker: Some(None),
        ..TaskUpdate::default()
    };
    c.plan
        .update_task(&c.main, &id, clear_checker.clone(), at(3))
        .unwrap();
    assert_eq!(c.task(&id).checker, None);
    c.plan
        .update_task(&c.main, &id, clear_checker, at(4))
        .unwrap();
    assert_eq!(c.task(&id).checker, None);
}

#[test]
fn update_task_errors() {
    let mut c = circle();
    let id = c.task_with_slots(1);
    let update = |u: TaskUpdate| {
        let (by, id) = (c.main.clone(), id.clone());
        move |p: &mut CirclePlan| p.update_task(&by, &id, u, at(1))
    };
    let title = |t: &str| TaskUpdate {
        title: Some(t.into()),
        ..TaskUpdate::default()
    };
    assert_rejects!(
        c.plan,
        update(title("  ")),
        Error::EmptyText { field: "title" }
    );
    assert_rejects!(
        c.plan,
        update(title(&text_of(MAX_TITLE_CHARS + 1))),
        Error::TextTooLong { field: "title", .. }
    );
    assert_rejects!(
        c.plan,
        update(TaskUpdate {
            notes: Some(text_of(MAX_TEXT_CHARS + 1)),
            ..TaskUpdate::default()
        }),
        Error::TextTooLong { field: "notes", .. }
    );
    for slots in [0, MAX_SLOTS + 1] {
        assert_rejects!(
            c.plan,
            update(TaskUpdate { slots: Some(slots), ..TaskUpdate::default() }),
            Error::InvalidSlots(n) if n == slots
        );
    }
    assert_rejects!(
        c.plan,
        update(TaskUpdate {
            schedule: Some(weekly(at(5), 1, Some(at(4)))),
            ..TaskUpdate::default()
        }),
        Error::DatesOutOfOrder(_)
    );
    assert_rejects!(
        c.plan,
        update(TaskUpdate {
            schedule: Some(weekly(at(5), 0, None)),
            ..TaskUpdate::default()
        }),
        Error::InvalidValue {
            field: "every how many weeks",
            ..
        }
    );
    assert_rejects!(
        c.plan,
        update(TaskUpdate {
            checker: Some(Some(MemberId::random())),
            ..TaskUpdate::default()
        }),
        Error::UnknownMember(_)
    );
    c.plan.cancel_task(&c.main, &id, at(2)).unwrap();
    assert_rejects!(c.plan, update(title("Nieuw")), Error::TaskNotOpen(t) if t == id);
}

// ==== tasks: claims ======================================================================

#[test]
fn several_people_claim_a_task_until_it_is_full() {
    let mut c = circle();
    let id = c.task_with_slots(2);
    c.claim(&c.friend.clone(), &id, at(1));
    c.claim(&c.family.clone(), &id, at(2));
    let task = c.task(&id);
    let claims: Vec<_> = task
        .claims
        .iter()
        .map(|cl| (&cl.member, cl.at, cl.winner))
        .collect();
    assert_eq!(
        claims,
        vec![(&c.friend, at(1), true), (&c.family, at(2), true)],
        "sorted by time, all winners"
    );
    assert_eq!(task.free_slots(), 0);
    assert!(!task.overbooked);
    assert_rejects!(
        c.plan,
        |p| p.claim_task(&c.coordinator, &id, at(3)),
        Error::TaskFull { task, slots: 2 } if task == id
    );
    assert_rejects!(
        c.plan,
        |p| p.claim_task(&c.family, &id, at(3)),
        Error::AlreadyClaimed(t) if t == id
    );
}

#[test]
fn unclaim_gives_the_place_back() {
    let mut c = circle();
    let id = c.task_with_slots(1);
    c.claim(&c.family.clone(), &id, at(1));
    assert_rejects!(
        c.plan,
        |p| p.unclaim_task(&c.friend, &id, at(2)),
        Error::NotClaimed(t) if t == id
    );
    c.plan.unclaim_task(&c.family, &id, at(2)).unwrap();
    assert!(c.task(&id).claims.is_empty());
    assert_eq!(c.task(&id).free_slots(), 1);
    assert_rejects!(
        c.plan,
        |p| p.unclaim_task(&c.family, &id, at(3)),
        Error::NotClaimed(_)
    );
    c.claim(&c.friend.clone(), &id, at(4));
    assert_eq!(winners(&c.task(&id)), vec![c.friend.clone()]);
}

#[test]
fn cancelled_and_done_tasks_cannot_be_claimed() {
    let mut c = circle();
    let cancelled = c.task_with_slots(2);
    c.plan.cancel_task(&c.main, &cancelled, at(1)).unwrap();
    assert_rejects!(
        c.plan,
        |p| p.claim_task(&c.family, &cancelled, at(2)),
        Error::TaskNotOpen(t) if t == cancelled
    );
    let done = c.task_with_slots(2);
    c.claim(&c.family.clone(), &done, at(1));
    c.plan
        .complete_task(&c.family, &done, None, "", at(2))
        .unwrap();
    assert_rejects!(
        c.plan,
        |p| p.claim_task(&c.friend, &done, at(3)),
        Error::AlreadyDone(t) if t == done
    );
}

#[test]
fn can_be_claimed_by_agrees_with_claim_task() {
    let mut c = circle();
    let (family, friend, main) = (c.family.clone(), c.friend.clone(), c.main.clone());
    let open = c.task_with_slots(2);
    let full = c.task_with_slots(1);
    c.claim(&friend, &full, at(1));
    let mine = c.task_with_slots(2);
    c.claim(&family, &mine, at(1));
    let cancelled = c.task_with_slots(1);
    c.plan.cancel_task(&main, &cancelled, at(1)).unwrap();
    let done = c.task_with_slots(2);
    c.claim(&friend, &done, at(1));
    c.plan
        .complete_task(&friend, &done, None, "", at(2))
        .unwrap();
    for id in [&open, &full, &mine, &cancelled, &done] {
        let predicted = c.task(id).can_be_claimed_by(&family);
        let mut replica = CirclePlan::load(&c.plan.export(), ActorId::random()).unwrap();
        let actual = replica.claim_task(&family, id, at(3));
        assert_eq!(
            predicted,
            actual.is_ok(),
            "task {id}: claim_task said {actual:?}"
        );
    }
    assert!(c.task(&open).can_be_claimed_by(&family));
}

// ==== tasks: completing ==================================================================

#[test]
fn a_one_off_task_is_done_once_completed() {
    let mut c = circle();
    let id = c.add_task(
        &c.main.clone(),
        NewTask {
            schedule: Schedule::Due { at: at(30) },
            ..NewTask::simple("Apotheek")
        },
    );
    c.claim(&c.family.clone(), &id, at(1));
    let completion = c
        .plan
        .complete_task(&c.family, &id, None, "  Opgehaald ", at(20))
        .unwrap();
    let task = c.task(&id);
    assert!(task.is_done() && !task.is_open());
    assert_eq!(task.status, TaskStatus::Open, "done is derived, not stored");
    assert_eq!(task.completions.len(), 1);
    let done = &task.completions[0];
    assert_eq!(
        (
            &done.id,
            &done.by,
            done.at,
            done.occurrence,
            done.note.as_str()
        ),
        (&completion, &c.family, at(20), None, "Opgehaald")
    );
    assert_rejects!(
        c.plan,
        |p| p.complete_task(&c.main, &id, None, "", at(21)),
        Error::AlreadyDone(t) if t == id
    );
}

#[test]
fn the_checker_and_the_main_person_may_complete_without_claiming() {
    for who in ["checker", "main person"] {
        let mut c = circle();
        let id = c.add_task(
            &c.main.clone(),
            NewTask {
                checker: Some(c.professional.clone()),
                ..NewTask::simple("Formulier")
            },
        );
        let by = if who == "checker" {
            c.professional.clone()
        } else {
            c.main.clone()
        };
        c.plan.complete_task(&by, &id, None, "", at(1)).unwrap();
        assert_eq!(c.task(&id).completions[0].by, by, "{who}");
    }
}

#[test]
fn complete_task_errors() {
    let mut c = circle();
    let id = c.task_with_slots(1);
    c.claim(&c.family.clone(), &id, at(1));
    for by in [&c.friend, &c.coordinator] {
        assert_rejects!(
            c.plan,
            |p| p.complete_task(by, &id, None, "", at(2)),
            Error::NotAllowed(_)
        );
    }
    assert_rejects!(
        c.plan,
        |p| p.complete_task(&c.family, &id, None, &text_of(MAX_TEXT_CHARS + 1), at(2)),
        Error::TextTooLong { field: "note", .. }
    );
    c.plan.cancel_task(&c.main, &id, at(3)).unwrap();
    assert_rejects!(
        c.plan,
        |p| p.complete_task(&c.family, &id, None, "", at(4)),
        Error::TaskNotOpen(t) if t == id
    );
}

/// A weekly task starting a day after `NOW`, claimed by the family member.
fn weekly_task(c: &mut Circle, until: Option<Timestamp>) -> (TaskId, Timestamp) {
    let first = NOW.plus_days(1);
    let id = c.add_task(
        &c.main.clone(),
        NewTask {
            schedule: weekly(first, 1, until),
            ..NewTask::simple("Wekelijks koken")
        },
    );
    c.claim(&c.family.clone(), &id, at(1));
    (id, first)
}

#[test]
fn a_weekly_task_is_completed_per_occurrence() {
    let mut c = circle();
    let (id, first) = weekly_task(&mut c, None);
    let now = first.plus_days(10);
    c.plan.complete_task(&c.family, &id, None, "", now).unwrap();
    c.plan
        .complete_task(&c.family, &id, Some(first), "te laat", now.plus_millis(1))
        .unwrap();
    let task = c.task(&id);
    let occurrences: Vec<_> = task.completions.iter().map(|d| d.occurrence).collect();
    assert_eq!(
        occurrences,
        vec![Some(first.plus_days(7)), Some(first)],
        "default is the latest occurrence up to now"
    );
    assert!(
        task.is_open() && !task.is_done(),
        "a recurring task is never done as a whole"
    );
}

#[test]
fn a_weekly_task_counts_the_occurrence_exactly_at_now() {
    let mut c = circle();
    let (id, first) = weekly_task(&mut c, None);
    c.plan
        .complete_task(&c.family, &id, None, "", first)
        .unwrap();
    assert_eq!(c.task(&id).completions[0].occurrence, Some(first));
}

#[test]
fn weekly_completion_errors() {
    let mut c = circle();
    let (id, first) = weekly_task(&mut c, None);
    assert_rejects!(
        c.plan,
        |p| p.complete_task(&c.family, &id, None, "", first.plus_millis(-1)),
        Error::DatesOutOfOrder(_)
    );
    let later = first.plus_days(20);
    for wrong in [
        first.plus_millis(1),
        first.plus_days(-7),
        first.plus_days(3),
    ] {
        assert_rejects!(
            c.plan,
            |p| p.complete_task(&c.family, &id, Some(wrong), "", later),
            Error::InvalidValue {
                field: "occurrence",
                ..
            }
        );
    }
    c.plan
        .complete_task(&c.family, &id, Some(first), "", later)
        .unwrap();
    assert_rejects!(
        c.plan,
        |p| p.complete_task(&c.family, &id, Some(first), "", later),
        Error::AlreadyDone(t) if t == id
    );
    c.plan
        .complete_task(&c.family, &id, None, "", later)
        .unwrap();
    assert_rejects!(
        c.plan,
        |p| p.complete_task(&c.family, &id, None, "", later),
        Error::AlreadyDone(_)
    );
}

#[test]
fn a_finished_weekly_task_defaults_to_its_last_occurrence() {
    let mut c = circle();
    let until = NOW.plus_days(1 + 14);
    let (id, first) = weekly_task(&mut c, Some(until));
    c.plan
        .complete_task(&c.family, &id, None, "", first.plus_days(100))
        .unwrap();
    assert_eq!(c.task(&id).completions[0].occurrence, Some(until));
    assert_rejects!(
        c.plan,
        |p| p.complete_task(
            &c.family,
            &id,
            Some(first.plus_days(21)),
            "",
            first.plus_days(100)
        ),
        Error::InvalidValue {
            field: "occurrence",
            ..
        }
    );
}

// ==== tasks: cancelling ==================================================================

#[test]
fn the_creator_and_those_in_charge_may_cancel() {
    let mut c = circle();
    let family = c.family.clone();
    for by in [c.family.clone(), c.main.clone(), c.coordinator.clone()] {
        let id = c.add_task(&family, NewTask::simple("Koken"));
        c.plan.cancel_task(&by, &id, at(1)).unwrap();
        let task = c.task(&id);
        assert_eq!(task.status, TaskStatus::Cancelled);
        assert!(!task.is_open());
    }
}

#[test]
fn cancel_task_errors() {
    let mut c = circle();
    let id = c.add_task(&c.family.clone(), NewTask::simple("Koken"));
    for by in [&c.friend, &c.professional] {
        assert_rejects!(
            c.plan,
            |p| p.cancel_task(by, &id, at(1)),
            Error::NotAllowed(_)
        );
    }
    c.plan.cancel_task(&c.family, &id, at(2)).unwrap();
    assert_rejects!(
        c.plan,
        |p| p.cancel_task(&c.main, &id, at(3)),
        Error::TaskNotOpen(t) if t == id
    );
}

// ==== conditions, offers, log, meetings ===================================================

#[test]
fn professionals_set_conditions_and_the_main_person_accepts_them() {
    let mut c = circle();
    let id = c
        .plan
        .set_condition(&c.professional, " Kinderen slapen thuis ", at(1))
        .unwrap();
    let condition = c.plan.view().conditions[0].clone();
    assert_eq!(
        (
            &condition.id,
            condition.text.as_str(),
            &condition.set_by,
            condition.set_at
        ),
        (&id, "Kinderen slapen thuis", &c.professional, at(1))
    );
    assert_eq!(condition.accepted_at, None);
    c.plan.accept_condition(&c.main, &id, at(2)).unwrap();
    assert_eq!(c.plan.view().conditions[0].accepted_at, Some(at(2)));
}

#[test]
fn condition_errors() {
    let mut c = circle();
    for by in [&c.main, &c.family, &c.coordinator] {
        assert_rejects!(
            c.plan,
            |p| p.set_condition(by, "Voorwaarde", at(1)),
            Error::NotAllowed(_)
        );
    }
    assert_rejects!(
        c.plan,
        |p| p.set_condition(&c.professional, "  ", at(1)),
        Error::EmptyText { field: "condition" }
    );
    assert_rejects!(
        c.plan,
        |p| p.set_condition(&c.professional, &text_of(MAX_TEXT_CHARS + 1), at(1)),
        Error::TextTooLong {
            field: "condition",
            ..
        }
    );
    let id = c
        .plan
        .set_condition(&c.professional, "Voorwaarde", at(1))
        .unwrap();
    for by in [&c.professional, &c.coordinator] {
        assert_rejects!(
            c.plan,
            |p| p.accept_condition(by, &id, at(2)),
            Error::NotAllowed(_)
        );
    }
    let offer = c.plan.add_offer(&c.family, "Rijden", "", at(1)).unwrap();
    for unknown in [EntryId::random(), offer] {
        assert_rejects!(
            c.plan,
            |p| p.accept_condition(&c.main, &unknown, at(2)),
            Error::UnknownEntry(e) if e == unknown
        );
    }
}

#[test]
fn offers_are_listed_and_withdrawn_by_whoever_made_them() {
    let mut c = circle();
    let id = c
        .plan
        .add_offer(&c.friend, " Ik kan rijden ", " dinsdag ", at(1))
        .unwrap();
    let offer = c.plan.view().offers[0].clone();
    assert_eq!(
        (
            &offer.id,
            &offer.by,
            offer.text.as_str(),
            offer.availability.as_str()
        ),
        (&id, &c.friend, "Ik kan rijden", "dinsdag")
    );
    assert_eq!((offer.created_at, offer.withdrawn_at), (at(1), None));
    for by in [&c.main, &c.coordinator] {
        assert_rejects!(
            c.plan,
            |p| p.withdraw_offer(by, &id, at(2)),
            Error::NotAllowed(_)
        );
    }
    c.plan.withdraw_offer(&c.friend, &id, at(3)).unwrap();
    assert_eq!(c.plan.view().offers[0].withdrawn_at, Some(at(3)));
}

#[test]
fn offer_errors() {
    let mut c = circle();
    assert_rejects!(
        c.plan,
        |p| p.add_offer(&c.friend, "", "dinsdag", at(1)),
        Error::EmptyText { field: "offer" }
    );
    assert_rejects!(
        c.plan,
        |p| p.add_offer(&c.friend, &text_of(MAX_TEXT_CHARS + 1), "", at(1)),
        Error::TextTooLong { field: "offer", .. }
    );
    assert_rejects!(
        c.plan,
        |p| p.add_offer(&c.friend, "Rijden", &text_of(MAX_TITLE_CHARS + 1), at(1)),
        Error::TextTooLong {
            field: "availability",
            ..
        }
    );
    let meeting = c
        .plan
        .schedule_meeting(&c.main, at(60), "", "", at(1))
        .unwrap();
    for unknown in [EntryId::random(), meeting] {
        assert_rejects!(
            c.plan,
            |p| p.withdraw_offer(&c.friend, &unknown, at(2)),
            Error::UnknownEntry(e) if e == unknown
        );
    }
}

#[test]
fn log_posts_are_listed_by_time() {
    let mut c = circle();
    let kinds = [
        LogKind::Update,
        LogKind::Thanks,
        LogKind::Concern,
        LogKind::Checkin,
    ];
    let ids: Vec<EntryId> = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let minutes = 10 - i64::try_from(i).unwrap();
            c.plan
                .post(&c.family, *kind, &format!(" bericht {i} "), at(minutes))
                .unwrap()
        })
        .collect();
    let log = c.plan.view().log;
    let shown: Vec<_> = log
        .iter()
        .map(|e| (e.id.clone(), e.kind, e.text.clone(), e.by.clone()))
        .collect();
    let expected: Vec<_> = (0..kinds.len())
        .rev()
        .map(|i| {
            (
                ids[i].clone(),
                kinds[i],
                format!("bericht {i}"),
                c.family.clone(),
            )
        })
        .collect();
    assert_eq!(shown, expected, "sorted by time, text trimmed");
    assert_eq!(log[0].at, at(7));
}

#[test]
fn post_errors() {
    let mut c = circle();
    assert_rejects!(
        c.plan,
        |p| p.post(&c.family, LogKind::Thanks, " ", at(1)),
        Error::EmptyText { field: "message" }
    );
    assert_rejects!(
        c.plan,
        |p| p.post(
            &c.family,
            LogKind::Thanks,
            &text_of(MAX_TEXT_CHARS + 1),
            at(1)
        ),
        Error::TextTooLong {
            field: "message",
            ..
        }
    );
}

#[test]
fn meetings_are_planned_ahead_and_collect_rsvps() {
    let mut c = circle();
    let later = c
        .plan
        .schedule_meeting(&c.coordinator, at(120), " Buurthuis ", " Evaluatie ", at(1))
        .unwrap();
    let sooner = c
        .plan
        .schedule_meeting(&c.main, at(60), "", "", at(2))
        .unwrap();
    let view = c.plan.view();
    let ids: Vec<_> = view.meetings.iter().map(|m| &m.id).collect();
    assert_eq!(ids, vec![&sooner, &later], "sorted by meeting time");
    let meeting = &view.meetings[1];
    assert_eq!(
        (
            meeting.at,
            meeting.place.as_str(),
            meeting.agenda.as_str(),
            &meeting.created_by
        ),
        (at(120), "Buurthuis", "Evaluatie", &c.coordinator)
    );
    assert!(meeting.rsvps.is_empty());

    c.plan.rsvp(&c.family, &later, Rsvp::Maybe, at(3)).unwrap();
    c.plan.rsvp(&c.friend, &later, Rsvp::No, at(4)).unwrap();
    c.plan.rsvp(&c.family, &later, Rsvp::Yes, at(5)).unwrap();
    let view = c.plan.view();
    let rsvps: Vec<_> = view.meetings[1]
        .rsvps
        .iter()
        .map(|r| (r.member.clone(), r.answer))
        .collect();
    let mut expected = vec![(c.family.clone(), Rsvp::Yes), (c.friend.clone(), Rsvp::No)];
    expected.sort();
    assert_eq!(
        rsvps, expected,
        "one answer per member, sorted by member id"
    );
    assert!(view.meetings[0].rsvps.is_empty());
}

#[test]
fn meeting_errors() {
    let mut c = circle();
    for when in [at(1), at(0)] {
        assert_rejects!(
            c.plan,
            |p| p.schedule_meeting(&c.main, when, "", "", at(1)),
            Error::DatesOutOfOrder(_)
        );
    }
    assert_rejects!(
        c.plan,
        |p| p.schedule_meeting(&c.main, at(60), &text_of(MAX_TITLE_CHARS + 1), "", at(1)),
        Error::TextTooLong { field: "place", .. }
    );
    assert_rejects!(
        c.plan,
        |p| p.schedule_meeting(&c.main, at(60), "", &text_of(MAX_TEXT_CHARS + 1), at(1)),
        Error::TextTooLong {
            field: "agenda",
            ..
        }
    );
    let offer = c.plan.add_offer(&c.family, "Rijden", "", at(1)).unwrap();
    for unknown in [EntryId::random(), offer] {
        assert_rejects!(
            c.plan,
            |p| p.rsvp(&c.family, &unknown, Rsvp::Yes, at(2)),
            Error::UnknownEntry(e) if e == unknown
        );
    }
}

// ==== concurrent claims from offline replicas ============================================

fn fork(plan: &CirclePlan) -> CirclePlan {
    CirclePlan::load(&plan.export(), ActorId::random()).expect("load own export")
}

/// Exchanges everything both ways and checks the replicas converged.
fn sync(a: &mut CirclePlan, b: &mut CirclePlan) {
    a.merge_bytes(&b.export()).expect("merge b into a");
    b.merge_bytes(&a.export()).expect("merge a into b");
    assert_eq!(a.heads(), b.heads());
    assert_eq!(a.view(), b.view());
}

fn lower_then_higher(a: &MemberId, b: &MemberId) -> (MemberId, MemberId) {
    if a < b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

#[test]
fn offline_claims_on_the_last_place_overbook_and_the_earlier_claim_wins() {
    let mut c = circle();
    let id = c.task_with_slots(2);
    c.claim(&c.family.clone(), &id, at(1));
    let mut other = fork(&c.plan);
    // The member with the higher id claims earlier, so time (not id) must decide.
    let (low, high) = lower_then_higher(&c.friend, &c.coordinator);
    c.plan.claim_task(&low, &id, at(10)).unwrap();
    other.claim_task(&high, &id, at(5)).unwrap();
    assert_eq!(c.task(&id).free_slots(), 0);
    assert_eq!(task_in(&other, &id).free_slots(), 0);

    sync(&mut c.plan, &mut other);
    let task = c.task(&id);
    assert!(task.overbooked);
    assert_eq!(task.claims.len(), 3);
    assert_eq!(winners(&task), vec![c.family.clone(), high.clone()]);
    let loser = task.claims.iter().find(|cl| !cl.winner).unwrap();
    assert_eq!((&loser.member, loser.at), (&low, at(10)));

    // The loser sees "already taken": they cannot complete it, nor claim again.
    assert_rejects!(
        c.plan,
        |p| p.complete_task(&low, &id, None, "", at(11)),
        Error::NotAllowed(_)
    );
    assert_rejects!(
        c.plan,
        |p| p.claim_task(&low, &id, at(11)),
        Error::AlreadyClaimed(_)
    );
    assert_rejects!(
        c.plan,
        |p| p.claim_task(&c.professional, &id, at(11)),
        Error::TaskFull { slots: 2, .. }
    );
    // When a winner steps back, the loser moves up and the overbooking is gone.
    c.plan.unclaim_task(&high, &id, at(12)).unwrap();
    let task = c.task(&id);
    assert!(!task.overbooked);
    assert_eq!(winners(&task), vec![c.family.clone(), low.clone()]);
}

#[test]
fn offline_claims_at_the_same_time_go_to_the_lower_member_id() {
    let mut c = circle();
    let id = c.task_with_slots(1);
    let mut other = fork(&c.plan);
    let (low, high) = lower_then_higher(&c.friend, &c.coordinator);
    other.claim_task(&low, &id, at(5)).unwrap();
    c.plan.claim_task(&high, &id, at(5)).unwrap();
    sync(&mut c.plan, &mut other);
    for replica in [&c.plan, &other] {
        let task = task_in(replica, &id);
        assert!(task.overbooked);
        assert_eq!(winners(&task), vec![low.clone()]);
    }
}

#[test]
fn merging_reports_new_changes_and_is_idempotent() {
    let mut c = circle();
    let mut other = fork(&c.plan);
    other
        .post(&c.family, LogKind::Update, "Hallo", at(1))
        .unwrap();
    other
        .add_to_list(&c.main, PlanList::Goals, "Doel", at(2))
        .unwrap();
    assert_eq!(c.plan.merge_bytes(&other.export()).unwrap(), 2);
    assert_eq!(c.plan.view(), other.view());
    let heads = c.plan.heads();
    assert_eq!(c.plan.merge_bytes(&other.export()).unwrap(), 0);
    assert_eq!(c.plan.heads(), heads);
}

// ==== interchange: export, load, merge ===================================================

#[test]
fn merging_garbage_is_refused() {
    let mut c = circle();
    for bytes in [
        &b"not an automerge document"[..],
        &[0x85, 0x6f, 0x4a, 0x83, 1, 2, 3][..],
        &[][..],
    ] {
        assert_rejects!(
            c.plan,
            |p| p.merge_bytes(bytes),
            Error::MalformedDocument(_)
        );
    }
}

#[test]
fn merging_an_automerge_document_that_is_no_plan_is_refused() {
    let mut c = circle();
    let mut doc = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut doc, ROOT, "hello", "world").unwrap();
    let bytes = doc.save();
    assert_rejects!(
        c.plan,
        |p| p.merge_bytes(&bytes),
        Error::MalformedDocument(_)
    );
    assert!(matches!(
        CirclePlan::load(&bytes, ActorId::random()),
        Err(Error::MalformedDocument(_))
    ));
}

#[test]
fn merging_another_circles_plan_is_refused() {
    let mut c = circle();
    let (other, _) = new_circle("Kring voor Bob", "Bob").unwrap();
    let (expected_id, found_id) = (
        c.plan.circle_id().to_string(),
        other.circle_id().to_string(),
    );
    assert_rejects!(
        c.plan,
        |p| p.merge_bytes(&other.export()),
        Error::WrongCircle { expected, found } if expected == expected_id && found == found_id
    );
}

#[test]
fn loading_garbage_is_refused() {
    let err = CirclePlan::load(b"garbage", ActorId::random()).unwrap_err();
    assert!(matches!(err, Error::MalformedDocument(_)), "{err:?}");
}

#[test]
fn an_export_opens_with_plain_automerge() {
    let mut c = circle();
    c.task_with_slots(1);
    let doc = automerge::Automerge::load(&c.plan.export()).expect("plain automerge load");
    let get = |obj: &automerge::ObjId, key: &str| doc.get(obj, key).unwrap().expect(key);
    let (_, circle) = get(&ROOT, "circle");
    assert_eq!(get(&circle, "name").0.as_str(), Some(CIRCLE_NAME));
    assert_eq!(
        get(&circle, "id").0.as_str(),
        Some(c.plan.circle_id().as_str())
    );
    let (_, members) = get(&ROOT, "members");
    assert_eq!(doc.keys(&members).count(), 5);
    assert_eq!(doc.get_heads(), c.plan.heads());
}

#[test]
fn load_of_an_export_gives_the_same_plan() {
    let mut c = circle();
    let id = c.task_with_slots(2);
    c.claim(&c.family.clone(), &id, at(1));
    let actor = ActorId::random();
    let loaded = CirclePlan::load(&c.plan.export(), actor.clone()).unwrap();
    assert_eq!(loaded.circle_id(), c.plan.circle_id());
    assert_eq!(loaded.actor(), &actor);
    assert_eq!(loaded.heads(), c.plan.heads());
    assert_eq!(loaded.view(), c.plan.view());
    assert_eq!(loaded.change_count(), c.plan.change_count());
    assert!(loaded.is_saved(), "a loaded plan is what the store holds");
}

#[test]
fn unsaved_changes_hold_exactly_what_came_after_mark_saved() {
    let mut c = circle();
    assert!(!c.plan.is_saved());
    let full = c.plan.unsaved_changes();
    c.plan.mark_saved();
    assert!(c.plan.is_saved());
    assert!(c.plan.unsaved_changes().is_empty());

    c.plan
        .post(&c.family, LogKind::Thanks, "Dank", at(1))
        .unwrap();
    assert!(!c.plan.is_saved());
    let chunk = c.plan.unsaved_changes();
    assert!(!chunk.is_empty());
    let restored = CirclePlan::load(&[full, chunk].concat(), ActorId::random()).unwrap();
    assert_eq!(restored.view(), c.plan.view());
    assert_eq!(restored.heads(), c.plan.heads());
}

#[test]
fn merge_accepts_an_incremental_chunk_of_the_same_circle() {
    let mut c = circle();
    let mut other = fork(&c.plan);
    c.plan.mark_saved();
    c.plan
        .post(&c.family, LogKind::Update, "Nieuws", at(1))
        .unwrap();
    let chunk = c.plan.unsaved_changes();
    assert_eq!(other.merge_bytes(&chunk).unwrap(), 1);
    assert_eq!(other.view(), c.plan.view());
    assert_eq!(other.heads(), c.plan.heads());
}

#[test]
fn merge_refuses_a_chunk_that_builds_on_changes_it_lacks() {
    let mut c = circle();
    let mut other = fork(&c.plan);
    c.plan
        .post(&c.family, LogKind::Update, "Eerst", at(1))
        .unwrap();
    c.plan.mark_saved();
    c.plan
        .post(&c.family, LogKind::Update, "Dan", at(2))
        .unwrap();
    let chunk = c.plan.unsaved_changes();
    assert_rejects!(
        other,
        |p| p.merge_bytes(&chunk),
        Error::MalformedDocument(_)
    );
    let garbage = [&chunk[..chunk.len() / 2], b"garbage"].concat();
    assert_rejects!(
        other,
        |p| p.merge_bytes(&garbage),
        Error::MalformedDocument(_)
    );
}

// ==== schedules ==========================================================================

#[test]
fn unscheduled_has_no_occurrences() {
    let s = Schedule::Unscheduled;
    assert_eq!(s.next_occurrence(NOW), None);
    assert!(s
        .occurrences_between(Timestamp(i64::MIN), Timestamp(i64::MAX))
        .is_empty());
    assert_eq!(s.latest_occurrence_until(NOW), None);
    assert!(!s.has_occurrence(NOW));
    assert!(s.validate().is_ok());
}

#[test]
fn a_due_date_is_its_only_occurrence() {
    let due = at(60);
    let s = Schedule::Due { at: due };
    assert_eq!(s.next_occurrence(at(0)), Some(due));
    assert_eq!(s.next_occurrence(due), Some(due));
    assert_eq!(s.next_occurrence(due.plus_millis(1)), None);
    assert_eq!(
        s.occurrences_between(at(0), due),
        vec![],
        "window is half-open"
    );
    assert_eq!(s.occurrences_between(due, due.plus_millis(1)), vec![due]);
    assert_eq!(s.occurrences_between(at(0), at(1000)), vec![due]);
    assert_eq!(s.latest_occurrence_until(due), Some(due));
    assert_eq!(s.latest_occurrence_until(at(1000)), Some(due));
    assert_eq!(
        s.latest_occurrence_until(due.plus_millis(-1)),
        None,
        "not yet due"
    );
    assert!(s.has_occurrence(due) && !s.has_occurrence(at(0)));
}

#[test]
fn weekly_occurrences_respect_start_period_and_end() {
    let first = NOW;
    let until = first.plus_millis(4 * WEEK);
    let s = weekly(first, 2, Some(until));
    let second = first.plus_millis(2 * WEEK);

    assert_eq!(s.next_occurrence(Timestamp(i64::MIN)), Some(first));
    assert_eq!(s.next_occurrence(first.plus_millis(-1)), Some(first));
    assert_eq!(s.next_occurrence(first), Some(first));
    assert_eq!(s.next_occurrence(first.plus_millis(1)), Some(second));
    assert_eq!(s.next_occurrence(second), Some(second));
    assert_eq!(s.next_occurrence(until), Some(until));
    assert_eq!(s.next_occurrence(until.plus_millis(1)), None);

    assert_eq!(s.occurrences_between(first, until), vec![first, second]);
    assert_eq!(
        s.occurrences_between(Timestamp(0), Timestamp(i64::MAX)),
        vec![first, second, until]
    );
    assert_eq!(s.occurrences_between(first.plus_millis(1), second), vec![]);

    assert_eq!(s.latest_occurrence_until(first.plus_millis(-1)), None);
    assert_eq!(s.latest_occurrence_until(first), Some(first));
    assert_eq!(
        s.latest_occurrence_until(second.plus_millis(-1)),
        Some(first)
    );
    assert_eq!(s.latest_occurrence_until(second), Some(second));
    assert_eq!(s.latest_occurrence_until(Timestamp(i64::MAX)), Some(until));

    assert!(s.has_occurrence(second) && !s.has_occurrence(first.plus_millis(WEEK)));
    assert!(!s.has_occurrence(until.plus_millis(2 * WEEK)));
}

#[test]
fn an_endless_weekly_schedule_does_not_overflow_at_the_end_of_time() {
    let s = weekly(Timestamp(-WEEK), 1, None);
    assert_eq!(s.next_occurrence(Timestamp(i64::MAX)), None);
    assert!(!s.has_occurrence(Timestamp(i64::MAX)));
    assert_eq!(s.next_occurrence(Timestamp(0)), Some(Timestamp(0)));
}

#[test]
fn schedule_validation_boundaries() {
    assert!(weekly(NOW, 1, Some(NOW)).validate().is_ok());
    assert!(weekly(NOW, MAX_EVERY_WEEKS, None).validate().is_ok());
    assert!(Schedule::Due { at: Timestamp(0) }.validate().is_ok());
    let err = weekly(NOW, 1, Some(NOW.plus_millis(-1)))
        .validate()
        .unwrap_err();
    assert!(matches!(err, Error::DatesOutOfOrder(_)), "{err:?}");
    for every_weeks in [0, MAX_EVERY_WEEKS + 1] {
        let err = weekly(NOW, every_weeks, None).validate().unwrap_err();
        assert!(
            matches!(&err, Error::InvalidValue { field: "every how many weeks", value, .. }
                if *value == every_weeks.to_string()),
            "{err:?}"
        );
    }
}

mod review_findings {
    use super::*;

    #[test]
    fn slots_cannot_drop_below_the_people_who_claimed() {
        let mut c = circle();
        let task = c.task_with_slots(2);
        let (main, family) = (c.main.clone(), c.family.clone());
        c.claim(&main, &task, NOW);
        c.claim(&family, &task, NOW);
        let update = TaskUpdate {
            slots: Some(1),
            ..TaskUpdate::default()
        };
        let err = rejected(&mut c.plan, |p| p.update_task(&main, &task, update, NOW));
        assert!(matches!(err, Error::NotAllowed(_)), "{err:?}");
    }

    #[test]
    fn a_future_occurrence_cannot_be_marked_done() {
        let mut c = circle();
        let main = c.main.clone();
        let task = c.add_task(
            &main,
            NewTask {
                schedule: weekly(NOW, 1, None),
                ..NewTask::simple("Koken")
            },
        );
        c.claim(&main, &task, NOW);
        let err = rejected(&mut c.plan, |p| {
            p.complete_task(&main, &task, Some(NOW.plus_millis(WEEK)), "", NOW)
        });
        assert!(matches!(err, Error::DatesOutOfOrder(_)), "{err:?}");
    }
}

mod change_exchange {
    use super::*;

    #[test]
    fn own_changes_are_the_ones_this_device_made_since_the_last_seal() {
        let mut c = circle();
        let main = c.main.clone();
        let genesis_and_members = c.plan.own_changes_since(&[]);
        assert_eq!(
            genesis_and_members.len(),
            c.plan.change_count(),
            "everything so far is ours"
        );
        let sealed = c.plan.heads();
        let mut other = CirclePlan::load(&c.plan.export(), ActorId::random()).expect("fork");
        other
            .add_task(&main, NewTask::simple("Van een ander toestel"), NOW)
            .expect("task");
        c.plan.merge_bytes(&other.export()).expect("merge");
        c.add_task(&main, NewTask::simple("Van mij"));
        let mine = c.plan.own_changes_since(&sealed);
        assert_eq!(mine.len(), 1, "only my new task, not the merged one");
        assert_eq!(mine[0].actor_id(), c.plan.actor());
    }

    /// Changes by the main person, with the owner's rights.
    fn as_owner(c: &Circle, changes: Vec<automerge::Change>) -> Vec<(automerge::Change, Rights)> {
        let rights = Rights {
            member: c.main.clone(),
            capability: Capability::Owner,
            professional: false,
        };
        changes.into_iter().map(|ch| (ch, rights.clone())).collect()
    }

    #[test]
    fn a_joining_device_builds_the_plan_from_received_changes() {
        let c = circle();
        let changes = as_owner(&c, c.plan.own_changes_since(&[]));
        let (joined, checked) =
            CirclePlan::from_changes(c.plan.circle_id(), ActorId::random(), changes.clone())
                .expect("join");
        assert!(checked.refused.is_empty(), "{:?}", checked.refused);
        assert_eq!(joined.view(), c.plan.view());
        let err = CirclePlan::from_changes(&CircleId::random(), ActorId::random(), changes)
            .expect_err("other circle");
        assert!(matches!(err, Error::WrongCircle { .. }), "{err:?}");
    }

    #[test]
    fn changes_arriving_before_their_dependencies_wait_until_those_arrive() {
        let mut c = circle();
        let main = c.main.clone();
        let mut receiver = CirclePlan::load(&c.plan.export(), ActorId::random()).expect("fork");
        let base = c.plan.heads();
        c.add_task(&main, NewTask::simple("Eerste"));
        let middle = c.plan.heads();
        c.add_task(&main, NewTask::simple("Tweede"));
        let second = as_owner(&c, c.plan.own_changes_since(&middle));
        let first = as_owner(&c, c.plan.own_changes_since(&base));
        let checked = receiver.apply_checked(second.clone()).expect("queued");
        assert_eq!(checked.applied, 0, "waits for its dependency");
        assert_eq!(checked.waiting.len(), 1, "and says so");
        let both = first.into_iter().chain(second).collect();
        assert_eq!(receiver.apply_checked(both).expect("applied").applied, 2);
        assert_eq!(receiver.view(), c.plan.view());
    }
}

mod joining {
    use super::*;

    #[test]
    fn a_new_member_adds_their_own_record_once() {
        let mut c = circle();
        let newcomer = MemberId::random();
        c.plan
            .join(&newcomer, new_member("Fenna", Relation::Friend), NOW)
            .expect("join");
        let view = c.plan.view();
        assert_eq!(
            view.member(&newcomer).map(|m| m.display_name.as_str()),
            Some("Fenna")
        );
        let task = c.task_with_slots(1);
        c.claim(&newcomer, &task, NOW);
        let err = rejected(&mut c.plan, |p| {
            p.join(&newcomer, new_member("Fenna", Relation::Friend), NOW)
        });
        assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");
        let err = rejected(&mut c.plan, |p| {
            p.join(
                &MemberId::random(),
                new_member("X", Relation::MainPerson),
                NOW,
            )
        });
        assert!(matches!(err, Error::NotAllowed(_)), "{err:?}");
    }
}
