//! What changed, seen by each member: the right news to the right people, in the
//! circle's words, and never who did not help.

use super::*;
use crate::fixtures::amsterdam::{circle, local, ZONE};
use crate::followup::Audience;
use crate::plan::recurrence::Recurrence;
use crate::plan::view::{Language, Schedule};
use crate::plan::{CirclePlan, NewMember, NewTask, Relation};

fn viewer(member: &MemberId, can_claim: bool) -> Viewer {
    Viewer {
        member: member.clone(),
        audience: Audience::Circle,
        can_claim,
        reading_in: None,
    }
}

fn texts(news: &[Notification]) -> Vec<&str> {
    news.iter().map(|n| n.text.as_str()).collect()
}

#[test]
fn a_ride_taken_is_news_to_everyone_but_the_one_who_took_it() {
    let mut c = circle(Language::Nl);
    let sanne = c.sanne.clone();
    let ride = c
        .plan
        .add_task(
            &sanne,
            NewTask {
                schedule: Schedule::Due {
                    at: local("2026-12-05T10:00"),
                },
                ..NewTask::simple("Naar het ziekenhuis rijden")
            },
            local("2026-12-01T09:00"),
        )
        .expect("task");
    let before = c.plan.view();
    let jan = c.jan.clone();
    c.plan
        .claim_task(&jan, &ride, local("2026-12-01T10:00"))
        .expect("claim");
    let after = c.plan.view();

    let for_piet = what_changed(&before, &after, &viewer(&c.piet, true));
    assert_eq!(
        texts(&for_piet),
        ["Jan doet Naar het ziekenhuis rijden op zaterdag 5 december om 10.00 uur."]
    );
    assert_eq!(for_piet[0].kind, NewsKind::Taken);
    assert_eq!(for_piet[0].title, "Kring van Sanne");
    assert_eq!(for_piet[0].task.as_ref(), Some(&ride));
    let for_sanne = what_changed(&before, &after, &viewer(&sanne, true));
    assert_eq!(texts(&for_sanne), texts(&for_piet));
    assert!(what_changed(&before, &after, &viewer(&jan, true)).is_empty());
    // Nothing changed: no news.
    assert!(what_changed(&after, &after, &viewer(&c.piet, true)).is_empty());
}

#[test]
fn a_new_task_that_needs_people_reaches_those_who_can_take_it_and_the_main_person() {
    let mut c = circle(Language::Nl);
    let before = c.plan.view();
    let jan = c.jan.clone();
    c.plan
        .add_task(
            &jan,
            NewTask {
                schedule: Schedule::Due {
                    at: local("2026-12-09T17:00"),
                },
                ..NewTask::simple("Koken")
            },
            local("2026-12-01T10:00"),
        )
        .expect("task");
    let after = c.plan.view();
    let expected =
        "Nieuw in het plan: Koken, woensdag 9 december om 17.00 uur. Er is nog iemand nodig.";
    assert_eq!(
        texts(&what_changed(&before, &after, &viewer(&c.piet, true))),
        [expected]
    );
    assert_eq!(
        texts(&what_changed(&before, &after, &viewer(&c.sanne, true))),
        [expected]
    );
    // A reader cannot take it; its author knows.
    assert!(what_changed(&before, &after, &viewer(&c.piet, false)).is_empty());
    assert!(what_changed(&before, &after, &viewer(&jan, true)).is_empty());
}

#[test]
fn a_turn_given_back_says_it_is_free_and_not_who_gave_it_back() {
    let mut c = circle(Language::Nl);
    let sanne = c.sanne.clone();
    let cooking = c
        .plan
        .add_task(
            &sanne,
            NewTask {
                schedule: Schedule::Repeat(Recurrence {
                    start: "2026-12-02T17:00".into(),
                    rule: Some("FREQ=WEEKLY;COUNT=4".into()),
                    skipped: vec![],
                    moved: vec![],
                    zone: ZONE.into(),
                }),
                ..NewTask::simple("Koken bij Sanne")
            },
            local("2026-11-20T10:00"),
        )
        .expect("task");
    let jan = c.jan.clone();
    let t = local("2026-11-21T10:00");
    let before = c.plan.view();
    c.plan
        .claim_turn(&jan, &cooking, local("2026-12-09T17:00"), t)
        .expect("turn");
    let taken = c.plan.view();
    assert_eq!(
        texts(&what_changed(&before, &taken, &viewer(&c.piet, true))),
        ["Jan doet Koken bij Sanne op woensdag 9 december om 17.00 uur."]
    );
    c.plan
        .hand_over(&jan, &cooking, local("2026-12-09T17:00"), t.plus_millis(1))
        .expect("hand over");
    let after = c.plan.view();
    let for_piet = what_changed(&taken, &after, &viewer(&c.piet, true));
    assert_eq!(
        texts(&for_piet),
        ["Er is een beurt vrij: Koken bij Sanne, woensdag 9 december om 17.00 uur."]
    );
    assert!(!for_piet[0].text.contains("Jan"));
    assert_eq!(for_piet[0].occurrence, Some(local("2026-12-09T17:00")));
}

#[test]
fn thanks_joins_meetings_and_done_work_reach_whom_they_concern() {
    let mut c = circle(Language::Nl);
    let (sanne, jan, piet) = (c.sanne.clone(), c.jan.clone(), c.piet.clone());
    let shopping = c
        .plan
        .add_task(
            &sanne,
            NewTask::simple("Boodschappen"),
            local("2026-11-20T10:00"),
        )
        .expect("task");
    c.plan
        .claim_task(&jan, &shopping, local("2026-11-20T11:00"))
        .expect("claim");
    let before = c.plan.view();
    let t = local("2026-12-01T10:00");
    c.plan
        .complete_task(&jan, &shopping, None, "", t)
        .expect("done");
    c.plan
        .post(
            &sanne,
            LogKind::Thanks,
            "Dank je wel Jan, het was fijn!",
            t.plus_millis(1),
        )
        .expect("thanks");
    c.plan
        .post(
            &jan,
            LogKind::Update,
            "Alles staat in de koelkast",
            t.plus_millis(2),
        )
        .expect("update");
    c.plan
        .schedule_meeting(
            &sanne,
            local("2026-12-15T19:00"),
            "Bij Sanne",
            "Evaluatie",
            t.plus_millis(3),
        )
        .expect("meeting");
    c.plan
        .add_member(
            &sanne,
            NewMember {
                display_name: "Kees".into(),
                relation: Relation::Neighbour,
                role_label: String::new(),
            },
            t.plus_millis(4),
        )
        .expect("member");
    let after = c.plan.view();

    assert_eq!(
        texts(&what_changed(&before, &after, &viewer(&piet, true))),
        [
            "Sanne bedankt: \u{201c}Dank je wel Jan, het was fijn!\u{201d}",
            "Kees is nu ook in de kring.",
            "Nieuw overleg: dinsdag 15 december om 19.00 uur. Waar: Bij Sanne.",
        ],
        "Piet is not told about work he does not follow up, nor about an update"
    );
    let for_sanne = what_changed(&before, &after, &viewer(&sanne, true));
    assert_eq!(
        texts(&for_sanne),
        [
            "Jan heeft dit gedaan: Boodschappen.",
            "Kees is nu ook in de kring.",
        ]
    );
}

#[test]
fn a_week_of_changes_is_a_few_notifications_and_a_count() {
    let mut c = circle(Language::Nl);
    let before = c.plan.view();
    let jan = c.jan.clone();
    for day in 1..=9 {
        c.plan
            .add_task(
                &jan,
                NewTask::simple(format!("Klus {day}")),
                local("2026-12-01T10:00").plus_days(day),
            )
            .expect("task");
    }
    let after = c.plan.view();
    let news = what_changed(&before, &after, &viewer(&c.piet, true));
    assert_eq!(news.len(), MAX_NEWS);
    assert_eq!(news[MAX_NEWS - 1].kind, NewsKind::More);
    assert_eq!(
        news[MAX_NEWS - 1].text,
        "En nog 5 andere wijzigingen in het plan."
    );
    assert_eq!(
        news[0].text,
        "Nieuw in het plan: Klus 1. Er is nog iemand nodig."
    );
}

/// Two replicas that claimed the last place offline: Piet at 10:00, Jan at 11:00.
fn claimed_apart(
    c: &mut crate::fixtures::amsterdam::Circle,
    claim: impl Fn(&mut CirclePlan, &MemberId, Timestamp),
) -> (CirclePlan, PlanView) {
    let mut piets =
        CirclePlan::load(&c.plan.export(), automerge::ActorId::random()).expect("replica");
    claim(&mut piets, &c.piet.clone(), local("2026-12-01T10:00"));
    claim(&mut c.plan, &c.jan.clone(), local("2026-12-01T11:00"));
    let jans_before = c.plan.view();
    c.plan.merge_bytes(&piets.export()).expect("merge");
    (piets, jans_before)
}

#[test]
fn the_one_who_lost_the_last_place_offline_is_told_and_told_again_when_it_opens() {
    let mut c = circle(Language::Nl);
    let sanne = c.sanne.clone();
    let ride = c
        .plan
        .add_task(
            &sanne,
            NewTask {
                schedule: Schedule::Due {
                    at: local("2026-12-05T10:00"),
                },
                ..NewTask::simple("Naar het ziekenhuis rijden")
            },
            local("2026-11-30T09:00"),
        )
        .expect("task");
    let (mut piets, jans_before) = claimed_apart(&mut c, |plan, who, at| {
        plan.claim_task(who, &ride, at).expect("claim")
    });
    let merged = c.plan.view();

    let for_jan = where_you_stand(&jans_before, &merged, &viewer(&c.jan, true));
    assert_eq!(
        texts(&for_jan),
        ["Piet doet dit: Naar het ziekenhuis rijden. Jij staat op de wachtlijst; komt er een plek vrij, dan hoor je het."]
    );
    assert_eq!(for_jan[0].kind, NewsKind::Waitlisted);
    // The news says it too; Piet is told nothing about Jan.
    let news = what_changed(&jans_before, &merged, &viewer(&c.jan, true));
    assert!(
        news.iter().any(|n| n.kind == NewsKind::Waitlisted),
        "{news:?}"
    );
    assert!(where_you_stand(&jans_before, &merged, &viewer(&c.piet, true)).is_empty());
    // Said once: the next look has nothing new.
    assert!(where_you_stand(&merged, &merged, &viewer(&c.jan, true)).is_empty());

    // Piet steps back: Jan moves up, and is told so — not who stepped back.
    piets.merge_bytes(&c.plan.export()).expect("merge");
    let piet = c.piet.clone();
    piets
        .unclaim_task(&piet, &ride, local("2026-12-02T08:00"))
        .expect("unclaim");
    c.plan.merge_bytes(&piets.export()).expect("merge");
    let moved = where_you_stand(&merged, &c.plan.view(), &viewer(&c.jan, true));
    assert_eq!(
        texts(&moved),
        ["Er is een plek vrij gekomen: jij doet nu Naar het ziekenhuis rijden."]
    );
    assert_eq!(moved[0].kind, NewsKind::MovedUp);
    assert!(!moved[0].text.contains("Piet"));
}

#[test]
fn the_same_for_one_turn_of_a_series_in_english() {
    let mut c = circle(Language::En);
    let sanne = c.sanne.clone();
    let cooking = c
        .plan
        .add_task(
            &sanne,
            NewTask {
                schedule: Schedule::Repeat(Recurrence {
                    start: "2026-12-02T17:00".into(),
                    rule: Some("FREQ=WEEKLY;COUNT=4".into()),
                    skipped: vec![],
                    moved: vec![],
                    zone: ZONE.into(),
                }),
                ..NewTask::simple("Cooking at Sanne's")
            },
            local("2026-11-20T10:00"),
        )
        .expect("task");
    let turn = local("2026-12-09T17:00");
    let (_, jans_before) = claimed_apart(&mut c, |plan, who, at| {
        plan.claim_turn(who, &cooking, turn, at).expect("turn")
    });
    let for_jan = where_you_stand(&jans_before, &c.plan.view(), &viewer(&c.jan, true));
    assert_eq!(
        texts(&for_jan),
        ["Piet is doing Cooking at Sanne's on Wednesday 9 December at 17:00. You are on the waiting list; if a place opens up, you will hear."]
    );
    assert_eq!(for_jan[0].occurrence, Some(turn));
}
