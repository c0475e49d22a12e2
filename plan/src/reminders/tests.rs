//! The reminder rules, each at its boundary, in an Amsterdam circle across the clock
//! change.

use super::*;
use crate::fixtures::amsterdam::{circle, local, Circle, ZONE};
use crate::plan::recurrence::Recurrence;
use crate::plan::view::{Language, PlanStatus, Schedule};
use crate::plan::NewTask;

/// The wall-clock time of `at` in Amsterdam, as `2026-12-02T19:00`.
fn clock(at: Timestamp) -> String {
    crate::plan::recurrence::civil(at, ZONE)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

impl Circle {
    fn task(&mut self, title: &str, schedule: Schedule, slots: u32) -> TaskId {
        let new = NewTask {
            schedule,
            slots,
            ..NewTask::simple(title)
        };
        let sanne = self.sanne.clone();
        self.plan
            .add_task(&sanne, new, local("2026-10-01T10:00"))
            .expect("task")
    }

    fn viewer(&self, member: &MemberId) -> Viewer {
        let audience = if *member == self.sanne {
            Audience::MainPerson
        } else {
            Audience::Circle
        };
        Viewer {
            member: member.clone(),
            audience,
            can_claim: true,
            reading_in: None,
        }
    }

    fn reminders(&self, member: &MemberId, now: &str, days: u32) -> Vec<Reminder> {
        self.reminders_with(member, now, days, &ReminderSettings::default())
    }

    fn reminders_with(
        &self,
        member: &MemberId,
        now: &str,
        days: u32,
        settings: &ReminderSettings,
    ) -> Vec<Reminder> {
        schedule(
            &self.plan.view(),
            &self.viewer(member),
            settings,
            local(now),
            days,
        )
    }
}

fn once(at: &str) -> Schedule {
    Schedule::Due { at: local(at) }
}

fn weekly(start: &str, rule: &str) -> Schedule {
    Schedule::Repeat(Recurrence {
        start: start.into(),
        rule: Some(rule.into()),
        skipped: vec![],
        moved: vec![],
        zone: ZONE.into(),
    })
}

fn summary(rs: &[Reminder]) -> Vec<(ReminderKind, String)> {
    rs.iter().map(|r| (r.kind, clock(r.at))).collect()
}

#[test]
fn a_claimed_ride_tomorrow_is_reminded_the_evening_before_and_an_hour_before() {
    let mut c = circle(Language::Nl);
    let ride = c.task("Naar het ziekenhuis rijden", once("2026-12-03T09:00"), 1);
    let jan = c.jan.clone();
    c.plan
        .claim_task(&jan, &ride, local("2026-12-01T12:00"))
        .expect("claim");

    let rs = c.reminders(&jan, "2026-12-02T12:00", 7);
    assert_eq!(
        summary(&rs),
        [
            (ReminderKind::TurnTomorrow, "2026-12-02T19:00".to_owned()),
            (ReminderKind::TurnSoon, "2026-12-03T08:00".to_owned()),
        ]
    );
    assert_eq!(
        rs[0].text,
        "Morgen om 9.00 uur: Naar het ziekenhuis rijden. Jij doet dit."
    );
    assert_eq!(rs[0].title, "Kring van Sanne");
    assert_eq!(rs[0].task.as_ref(), Some(&ride));
    assert_eq!(rs[0].occurrence, Some(local("2026-12-03T09:00")));
    // Past the evening: only the one before it starts is left.
    let later = c.reminders(&jan, "2026-12-02T20:00", 7);
    assert_eq!(
        summary(&later),
        [(ReminderKind::TurnSoon, "2026-12-03T08:00".to_owned())]
    );
    // Piet is not on it and it needs nobody else: nothing for him.
    let piet = c.piet.clone();
    assert!(c.reminders(&piet, "2026-12-02T12:00", 7).is_empty());
    // The same schedule twice has the same ids (an app replaces, not duplicates).
    assert_eq!(rs, c.reminders(&jan, "2026-12-02T12:00", 7));
    // Jan reads in English (`--lang en`) in this Dutch circle: the same reminders,
    // in his words.
    let english = Viewer {
        reading_in: Some(Language::En),
        ..c.viewer(&jan)
    };
    let view = c.plan.view();
    let settings = ReminderSettings::default();
    let en = schedule(&view, &english, &settings, local("2026-12-02T12:00"), 7);
    assert_eq!(summary(&en), summary(&rs));
    assert_eq!(
        en[0].text,
        "Tomorrow at 9:00: Naar het ziekenhuis rijden. You are doing this."
    );
}

#[test]
fn a_weekly_turn_is_reminded_at_the_same_clock_time_on_both_sides_of_the_clock_change() {
    let mut c = circle(Language::En);
    let cooking = c.task(
        "Cooking at Sanne's",
        weekly("2026-10-21T17:00", "FREQ=WEEKLY;BYDAY=WE;COUNT=2"),
        1,
    );
    let jan = c.jan.clone();
    c.plan
        .claim_from(
            &jan,
            &cooking,
            local("2026-10-21T17:00"),
            local("2026-10-01T12:00"),
        )
        .expect("claim the series");
    let rs = c.reminders(&jan, "2026-10-19T12:00", 14);
    assert_eq!(
        summary(&rs),
        [
            (ReminderKind::TurnTomorrow, "2026-10-20T19:00".to_owned()),
            (ReminderKind::TurnSoon, "2026-10-21T16:00".to_owned()),
            (ReminderKind::TurnTomorrow, "2026-10-27T19:00".to_owned()),
            (ReminderKind::TurnSoon, "2026-10-28T16:00".to_owned()),
        ]
    );
    // 19:00 is 17:00 UTC in summer time and 18:00 UTC after 25 October.
    assert_eq!(rs[0].at.to_civil_utc().hour, 17);
    assert_eq!(rs[2].at.to_civil_utc().hour, 18);
    assert_eq!(
        rs[1].text,
        "At 17:00: Cooking at Sanne's. You are doing this."
    );
}

#[test]
fn quiet_hours_move_a_reminder_or_drop_one_that_would_come_too_late() {
    let mut c = circle(Language::Nl);
    let early = c.task("Vroege rit", once("2026-12-03T07:30"), 1);
    let jan = c.jan.clone();
    c.plan
        .claim_task(&jan, &early, local("2026-12-01T12:00"))
        .expect("claim");
    // 06:30 is quiet and 08:00 is after the ride: only the evening before is left.
    let rs = c.reminders(&jan, "2026-12-02T12:00", 7);
    assert_eq!(
        summary(&rs),
        [(ReminderKind::TurnTomorrow, "2026-12-02T19:00".to_owned())]
    );

    // Someone who wants quiet from 18:00: the evening reminder waits for the morning,
    // which is too late, and the one before the ride comes at 07:00.
    let settings = ReminderSettings {
        quiet_from: ClockTime::parse("18:00").expect("time"),
        quiet_until: ClockTime::parse("07:00").expect("time"),
        ..ReminderSettings::default()
    };
    let rs = c.reminders_with(&jan, "2026-12-02T12:00", 7, &settings);
    assert_eq!(
        summary(&rs),
        [(ReminderKind::TurnSoon, "2026-12-03T07:00".to_owned())]
    );
}

#[test]
fn an_open_ride_soon_is_asked_of_those_who_can_take_it_once_a_day_without_naming_anyone() {
    let mut c = circle(Language::Nl);
    let ride = c.task("Naar de schuldhulp rijden", once("2026-12-03T14:00"), 2);
    let (jan, piet, sanne) = (c.jan.clone(), c.piet.clone(), c.sanne.clone());

    let rs = c.reminders(&jan, "2026-12-01T09:00", 7);
    assert_eq!(
        summary(&rs),
        [
            (ReminderKind::NeedsPeople, "2026-12-01T10:00".to_owned()),
            (ReminderKind::NeedsPeople, "2026-12-02T10:00".to_owned()),
            (ReminderKind::NeedsPeople, "2026-12-03T10:00".to_owned()),
        ],
        "each day from two days before, at 10:00"
    );
    assert_eq!(
        rs[0].text,
        "Naar de schuldhulp rijden, donderdag 3 december om 14.00 uur: er zijn nog 2 mensen nodig. Kun jij?"
    );
    // The main person is not asked to chase her own help.
    assert!(c.reminders(&sanne, "2026-12-01T09:00", 7).is_empty());
    // A reader cannot take it.
    let reader = Viewer {
        can_claim: false,
        ..c.viewer(&piet)
    };
    let view = c.plan.view();
    let rs = schedule(
        &view,
        &reader,
        &ReminderSettings::default(),
        local("2026-12-01T09:00"),
        7,
    );
    assert!(rs.is_empty());

    // Jan takes one place: Piet is asked for the one left, Jan gets his own turn, and
    // nothing anyone reads says who has not taken it.
    c.plan
        .claim_task(&jan, &ride, local("2026-12-01T09:30"))
        .expect("claim");
    let for_piet = c.reminders(&piet, "2026-12-02T09:00", 7);
    assert_eq!(for_piet.len(), 2);
    assert!(
        for_piet[0].text.contains("er is nog iemand nodig"),
        "{}",
        for_piet[0].text
    );
    let for_jan = c.reminders(&jan, "2026-12-02T09:00", 7);
    assert!(for_jan.iter().all(|r| r.kind != ReminderKind::NeedsPeople));
    for r in for_piet.iter().chain(&for_jan) {
        for name in ["Jan", "Piet", "Sanne"] {
            assert!(!r.text.contains(name), "{name} named in {:?}", r.text);
        }
    }
    // Full: nobody is asked any more.
    c.plan
        .claim_task(&piet, &ride, local("2026-12-02T09:30"))
        .expect("claim");
    assert!(c
        .reminders(&piet, "2026-12-02T09:40", 7)
        .iter()
        .all(|r| r.kind != ReminderKind::NeedsPeople));
}

#[test]
fn a_daily_series_is_nudged_about_at_most_once_per_day() {
    let mut c = circle(Language::En);
    c.task(
        "Walk the dog",
        weekly("2026-12-01T08:00", "FREQ=DAILY;COUNT=10"),
        1,
    );
    let jan = c.jan.clone();
    let rs = c.reminders(&jan, "2026-12-01T09:00", 3);
    let days: Vec<String> = rs.iter().map(|r| clock(r.at)).collect();
    assert_eq!(
        days,
        ["2026-12-01T10:00", "2026-12-02T10:00", "2026-12-03T10:00"]
    );
    // Each about the first open walk after the nudge.
    assert_eq!(rs[0].occurrence, Some(local("2026-12-02T08:00")));
}

#[test]
fn a_turn_given_back_is_offered_to_the_others_and_no_longer_reminded_to_its_giver() {
    let mut c = circle(Language::Nl);
    let cooking = c.task(
        "Koken bij Sanne",
        weekly("2026-12-02T17:00", "FREQ=WEEKLY;BYDAY=WE;COUNT=4"),
        1,
    );
    let (jan, piet) = (c.jan.clone(), c.piet.clone());
    let t = local("2026-11-20T12:00");
    c.plan
        .claim_from(&jan, &cooking, local("2026-12-02T17:00"), t)
        .expect("series");
    c.plan
        .hand_over(&jan, &cooking, local("2026-12-09T17:00"), t)
        .expect("hand over");

    let for_piet = c.reminders(&piet, "2026-12-06T12:00", 7);
    assert_eq!(
        summary(&for_piet),
        [
            (ReminderKind::TurnHandedOver, "2026-12-07T10:00".to_owned()),
            (ReminderKind::TurnHandedOver, "2026-12-08T10:00".to_owned()),
            (ReminderKind::TurnHandedOver, "2026-12-09T10:00".to_owned()),
        ]
    );
    assert_eq!(
        for_piet[0].text,
        "Er is een beurt vrij: Koken bij Sanne, woensdag 9 december om 17.00 uur. Kun jij?"
    );
    let for_jan = c.reminders(&jan, "2026-12-06T12:00", 14);
    let jan_turns: Vec<Option<Timestamp>> = for_jan.iter().map(|r| r.occurrence).collect();
    assert!(!jan_turns.contains(&Some(local("2026-12-09T17:00"))));
    assert!(jan_turns.contains(&Some(local("2026-12-16T17:00"))));
}

#[test]
fn the_evaluation_and_the_check_in_reach_those_who_follow_up_and_nobody_else() {
    let mut c = circle(Language::Nl);
    let sanne = c.sanne.clone();
    let accepted = local("2026-11-04T10:00");
    c.plan
        .set_plan_status(&sanne, PlanStatus::Presented, accepted)
        .expect("present");
    c.plan.approve_plan(&sanne, accepted).expect("approve");
    c.plan
        .set_plan_status(&sanne, PlanStatus::Accepted, accepted)
        .expect("accept");
    c.plan
        .set_next_review(&sanne, Some(local("2026-12-15T19:00")), accepted)
        .expect("review date");

    let rs = c.reminders(&sanne, "2026-11-30T12:00", 21);
    assert_eq!(
        summary(&rs),
        [
            (ReminderKind::Checkin, "2026-12-02T10:00".to_owned()),
            (ReminderKind::Review, "2026-12-14T10:00".to_owned()),
        ]
    );
    assert!(
        rs[1].text.starts_with("Morgen (Dinsdag 15 december)"),
        "{}",
        rs[1].text
    );
    let jan = c.jan.clone();
    assert!(c.reminders(&jan, "2026-11-30T12:00", 21).is_empty());
    let coordinator = Viewer {
        audience: Audience::FollowUp,
        ..c.viewer(&jan)
    };
    let view = c.plan.view();
    let rs = schedule(
        &view,
        &coordinator,
        &ReminderSettings::default(),
        local("2026-11-30T12:00"),
        21,
    );
    assert_eq!(rs.len(), 2);

    // A check-in recorded: no check-in reminder.
    c.plan
        .post(
            &jan,
            crate::plan::view::LogKind::Checkin,
            "Het gaat goed",
            local("2026-11-30T13:00"),
        )
        .expect("check-in");
    let kinds: Vec<ReminderKind> = c
        .reminders(&sanne, "2026-11-30T14:00", 21)
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(kinds, [ReminderKind::Review]);
}

#[test]
fn the_digest_comes_on_monday_mornings_only_when_asked_and_muting_silences_everything() {
    let mut c = circle(Language::Nl);
    let ride = c.task("Boodschappen", once("2026-12-08T11:00"), 1);
    c.task("Koken", once("2026-12-09T17:00"), 1);
    let jan = c.jan.clone();
    c.plan
        .claim_task(&jan, &ride, local("2026-12-01T12:00"))
        .expect("claim");
    let digest = ReminderSettings {
        digest: true,
        ..ReminderSettings::default()
    };
    let rs: Vec<Reminder> = c
        .reminders_with(&jan, "2026-12-02T12:00", 7, &digest)
        .into_iter()
        .filter(|r| r.kind == ReminderKind::Digest)
        .collect();
    assert_eq!(
        summary(&rs),
        [(ReminderKind::Digest, "2026-12-07T09:00".to_owned())]
    );
    assert_eq!(
        rs[0].text,
        "Deze week staan er 2 afspraken in het plan. Bij 1 is nog iemand nodig. Jij doet er 1."
    );
    assert!(c
        .reminders(&jan, "2026-12-02T12:00", 7)
        .iter()
        .all(|r| r.kind != ReminderKind::Digest));
    let muted = ReminderSettings {
        muted: true,
        ..digest
    };
    assert!(c
        .reminders_with(&jan, "2026-12-02T12:00", 7, &muted)
        .is_empty());
}

#[test]
fn done_cancelled_and_archived_are_not_reminded() {
    let mut c = circle(Language::Nl);
    let ride = c.task("Rit", once("2026-12-03T09:00"), 1);
    let other = c.task("Andere rit", once("2026-12-03T15:00"), 1);
    let (jan, sanne) = (c.jan.clone(), c.sanne.clone());
    let t = local("2026-12-01T12:00");
    c.plan.claim_task(&jan, &ride, t).expect("claim");
    c.plan
        .complete_task(&jan, &ride, None, "", t)
        .expect("done early");
    c.plan.cancel_task(&sanne, &other, t).expect("cancel");
    assert!(c.reminders(&jan, "2026-12-02T12:00", 7).is_empty());

    let again = c.task("Nog een rit", once("2026-12-03T11:00"), 1);
    c.plan.claim_task(&jan, &again, t).expect("claim");
    assert!(!c.reminders(&jan, "2026-12-02T12:00", 7).is_empty());
    for status in [
        PlanStatus::Presented,
        PlanStatus::Accepted,
        PlanStatus::Archived,
    ] {
        if status == PlanStatus::Accepted {
            c.plan.approve_plan(&sanne, t).expect("approve");
        }
        c.plan.set_plan_status(&sanne, status, t).expect("status");
    }
    assert!(c.reminders(&jan, "2026-12-02T12:00", 7).is_empty());
}

#[test]
fn the_main_person_is_reminded_of_what_she_does_herself() {
    let mut c = circle(Language::Nl);
    let sanne = c.sanne.clone();
    let new = NewTask {
        schedule: Schedule::Repeat(Recurrence {
            start: "2026-12-05".into(),
            rule: None,
            skipped: vec![],
            moved: vec![],
            zone: ZONE.into(),
        }),
        owner_kind: crate::plan::view::OwnerKind::MainPerson,
        ..NewTask::simple("Post openen")
    };
    c.plan
        .add_task(&sanne, new, local("2026-12-01T10:00"))
        .expect("task");
    let rs = c.reminders(&sanne, "2026-12-02T12:00", 7);
    assert_eq!(
        summary(&rs),
        [
            (ReminderKind::TurnTomorrow, "2026-12-04T19:00".to_owned()),
            (ReminderKind::TurnSoon, "2026-12-05T09:00".to_owned()),
        ]
    );
    assert_eq!(rs[0].text, "Morgen: Post openen. Jij doet dit.");
    assert_eq!(rs[1].text, "Vandaag: Post openen. Jij doet dit.");
}
