//! Dates in the circle's own time: a series that stays at 17:00 across the clock
//! change, one turn at a time, handing a turn over, and every replica judging turns
//! like claims.

use automerge::ActorId;
use kring_plan::plan::recurrence::{CivilStart, Recurrence};
use kring_plan::plan::{
    CircleId, CirclePlan, Language, MemberId, NewCircle, NewMember, NewTask, Relation, Schedule,
    TaskId,
};
use kring_plan::Error;
use kring_trust::Timestamp;

const ZONE: &str = "Europe/Amsterdam";

fn local(s: &str) -> Timestamp {
    CivilStart::parse(s).unwrap().instant(ZONE).unwrap()
}

struct Circle {
    plan: CirclePlan,
    main: MemberId,
    jan: MemberId,
    piet: MemberId,
}

fn circle() -> Circle {
    let now = local("2027-03-01T10:00");
    let (mut plan, main) = CirclePlan::create(
        ActorId::random(),
        CircleId::random(),
        NewCircle {
            name: "Kring van Sanne".into(),
            language: Language::Nl,
            main_person_name: "Sanne".into(),
        },
        now,
    )
    .unwrap();
    plan.set_timezone(&main, ZONE, now).unwrap();
    let mut add = |name: &str| {
        let new = NewMember {
            display_name: name.into(),
            relation: Relation::Family,
            role_label: String::new(),
        };
        plan.add_member(&main, new, now).unwrap()
    };
    let (jan, piet) = (add("Jan"), add("Piet"));
    Circle {
        plan,
        main,
        jan,
        piet,
    }
}

fn cooking(c: &mut Circle) -> TaskId {
    let schedule = Schedule::Repeat(Recurrence {
        start: "2027-03-17T17:00".into(),
        rule: Some("FREQ=WEEKLY;BYDAY=WE;COUNT=3".into()),
        skipped: vec![],
        moved: vec![],
        zone: ZONE.into(),
    });
    let task = NewTask {
        schedule,
        ..NewTask::simple("Samen koken")
    };
    let main = c.main.clone();
    c.plan
        .add_task(&main, task, local("2027-03-01T10:00"))
        .unwrap()
}

#[test]
fn a_weekly_dinner_stays_at_five_across_the_clock_change_and_turns_are_claimed_alone() {
    let mut c = circle();
    let task = cooking(&mut c);
    let view = c.plan.task(&task).unwrap();
    let occurrences = view
        .schedule
        .occurrences_between(local("2027-03-01T00:00"), local("2027-05-01T00:00"));
    let Schedule::Repeat(r) = &view.schedule else {
        panic!("a repeat")
    };
    let keys: Vec<String> = occurrences.iter().map(|at| r.key_of(*at)).collect();
    assert_eq!(
        keys,
        ["2027-03-17T17:00", "2027-03-24T17:00", "2027-03-31T17:00"]
    );
    // The last one is after the clock change: one hour less from UTC.
    assert_eq!(
        occurrences[2].0 - occurrences[1].0,
        7 * 86_400_000 - 3_600_000
    );

    let now = local("2027-03-10T12:00");
    let jan = c.jan.clone();
    c.plan.claim_turn(&jan, &task, occurrences[1], now).unwrap();
    let view = c.plan.task(&task).unwrap();
    let on = |key: &str| -> Vec<MemberId> {
        view.people_on(key)
            .into_iter()
            .filter(|c| c.winner)
            .map(|c| c.member)
            .collect()
    };
    assert_eq!(on("2027-03-24T17:00"), vec![jan.clone()]);
    assert!(on("2027-03-17T17:00").is_empty(), "only that one turn");
    assert!(view.claims.is_empty(), "not the series");

    // The place on that turn is taken; the others are free.
    let piet = c.piet.clone();
    let err = c
        .plan
        .claim_turn(&piet, &task, occurrences[1], now)
        .unwrap_err();
    assert!(matches!(err, Error::TaskFull { .. }), "{err:?}");
    c.plan
        .claim_turn(&piet, &task, occurrences[0], now)
        .unwrap();
    // Not an occurrence: refused.
    let err = c
        .plan
        .claim_turn(&piet, &task, local("2027-03-18T17:00"), now)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidValue { .. }), "{err:?}");

    // Jan hands his turn over: it needs someone again, and Piet can take it.
    c.plan.hand_over(&jan, &task, occurrences[1], now).unwrap();
    let view = c.plan.task(&task).unwrap();
    assert!(view.handed_over("2027-03-24T17:00"));
    assert!(view
        .people_on("2027-03-24T17:00")
        .iter()
        .all(|c| c.member != jan));
    c.plan
        .claim_turn(&piet, &task, occurrences[1], now)
        .unwrap();
    let view = c.plan.task(&task).unwrap();
    let winners: Vec<MemberId> = view
        .people_on("2027-03-24T17:00")
        .into_iter()
        .filter(|c| c.winner)
        .map(|c| c.member)
        .collect();
    assert_eq!(winners, vec![piet.clone()]);
    // Nobody hands over a turn that is not theirs.
    let main = c.main.clone();
    let err = c
        .plan
        .hand_over(&main, &task, occurrences[2], now)
        .unwrap_err();
    assert!(matches!(err, Error::NotClaimed(_)), "{err:?}");
}

#[test]
fn from_a_date_on_takes_the_rest_of_the_series() {
    let mut c = circle();
    let task = cooking(&mut c);
    let jan = c.jan.clone();
    c.plan
        .claim_from(
            &jan,
            &task,
            local("2027-03-24T17:00"),
            local("2027-03-10T12:00"),
        )
        .unwrap();
    let view = c.plan.task(&task).unwrap();
    let on = |key: &str| {
        view.people_on(key)
            .iter()
            .any(|c| c.winner && c.member == jan)
    };
    assert!(!on("2027-03-17T17:00"));
    assert!(on("2027-03-24T17:00") && on("2027-03-31T17:00"));
}

#[test]
fn only_the_main_person_sets_the_time_zone_and_a_bad_zone_changes_nothing() {
    let mut c = circle();
    let jan = c.jan.clone();
    let now = local("2027-03-10T12:00");
    let err = c.plan.set_timezone(&jan, "Europe/London", now).unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err:?}");
    let main = c.main.clone();
    let heads = c.plan.heads();
    assert!(c.plan.set_timezone(&main, "Europe/Amsterdm", now).is_err());
    assert_eq!(c.plan.heads(), heads);
    assert_eq!(c.plan.view().circle.timezone, ZONE);
}

#[test]
fn a_handed_over_turn_is_an_open_occurrence_for_the_follow_up() {
    use kring_plan::followup::{circle_report, SignalKind};
    let mut c = circle();
    let task = cooking(&mut c);
    let jan = c.jan.clone();
    let now = local("2027-03-15T12:00");
    c.plan.claim_task(&jan, &task, now).unwrap(); // the whole series
    let unclaimed = |plan: &CirclePlan| {
        circle_report(&plan.view(), now)
            .signals
            .into_iter()
            .any(|s| matches!(s.kind, SignalKind::UnclaimedTask { free_slots: 1, .. }))
    };
    assert!(!unclaimed(&c.plan), "Jan does the series");
    c.plan
        .hand_over(&jan, &task, local("2027-03-17T17:00"), now)
        .unwrap();
    assert!(unclaimed(&c.plan), "Wednesday's turn needs someone again");
    let piet = c.piet.clone();
    c.plan
        .claim_turn(&piet, &task, local("2027-03-17T17:00"), now)
        .unwrap();
    assert!(!unclaimed(&c.plan), "Piet took it over");
}

#[test]
fn an_occurrence_is_skipped_or_moved_and_a_member_may_not_change_her_series() {
    let mut c = circle();
    let task = cooking(&mut c);
    let now = local("2027-03-10T12:00");
    let jan = c.jan.clone();
    let err = c
        .plan
        .change_occurrence(&jan, &task, local("2027-03-24T17:00"), None, now)
        .unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err:?}");
    let main = c.main.clone();
    c.plan
        .change_occurrence(&main, &task, local("2027-03-24T17:00"), None, now)
        .unwrap();
    c.plan
        .change_occurrence(
            &main,
            &task,
            local("2027-03-31T17:00"),
            Some("2027-04-01T18:30"),
            now,
        )
        .unwrap();
    let view = c.plan.task(&task).unwrap();
    let Schedule::Repeat(r) = &view.schedule else {
        panic!("a repeat")
    };
    let keys: Vec<String> = view
        .schedule
        .occurrences_between(local("2027-03-01T00:00"), local("2027-05-01T00:00"))
        .into_iter()
        .map(|at| r.key_of(at))
        .collect();
    assert_eq!(keys, ["2027-03-17T17:00", "2027-04-01T18:30"]);
}
