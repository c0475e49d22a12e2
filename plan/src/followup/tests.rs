//! Every signal at its boundaries: exactly at a threshold, one millisecond before and
//! after, with a fixed `now` and plans built by hand.

use super::*;
use crate::fixtures::PlanBuilder;
use crate::plan::ids::{MemberId, TaskId};
use crate::plan::view::{
    Language, LogKind, OwnerKind, PlanStatus, PlanView, Relation, Schedule, TaskStatus,
};
use kring_trust::time::Timestamp;

/// Monday 6 May 2024, 09:00 UTC: the day of the family group conference.
fn t0() -> Timestamp {
    Timestamp::from_civil_utc(2024, 5, 6, 9, 0)
}

fn day(n: i64) -> Timestamp {
    t0().plus_days(n)
}

fn ms(t: Timestamp, millis: i64) -> Timestamp {
    t.plus_millis(millis)
}

fn due(at: Timestamp) -> Schedule {
    Schedule::Due { at }
}

fn weekly(first_at: Timestamp, every_weeks: u32, until: Option<Timestamp>) -> Schedule {
    Schedule::Weekly {
        first_at,
        every_weeks,
        until,
    }
}

/// A draft circle made at t0 with helper "Jan" (family).
fn circle() -> (PlanBuilder, MemberId) {
    let mut b = PlanBuilder::new("Kring van Fatima", "Fatima", t0());
    let jan = b.member("Jan", Relation::Family, t0());
    (b, jan)
}

fn signals(plan: &PlanView, now: Timestamp) -> Vec<Signal> {
    circle_report(plan, now).signals
}

fn overdue_of(plan: &PlanView, now: Timestamp, task: &TaskId) -> Option<Signal> {
    signals(plan, now)
        .into_iter()
        .find(|s| matches!(&s.kind, SignalKind::OverdueTask { task: t, .. } if t == task))
}

fn unclaimed_of(plan: &PlanView, now: Timestamp, task: &TaskId) -> Option<Signal> {
    signals(plan, now)
        .into_iter()
        .find(|s| matches!(&s.kind, SignalKind::UnclaimedTask { task: t, .. } if t == task))
}

fn find(plan: &PlanView, now: Timestamp, pred: impl Fn(&SignalKind) -> bool) -> Option<Signal> {
    signals(plan, now).into_iter().find(|s| pred(&s.kind))
}

// ---- overdue ---------------------------------------------------------------------

#[test]
fn one_off_task_is_overdue_one_ms_after_its_grace() {
    let (mut b, jan) = circle();
    let task = b.task("Naar de dokter", due(day(3)), t0());
    b.claim(&task, &jan, t0());
    let plan = b.build();
    let deadline = ms(day(3), GRACE_MILLIS);

    assert!(
        overdue_of(&plan, deadline, &task).is_none(),
        "not late at the deadline itself"
    );
    let s = overdue_of(&plan, ms(deadline, 1), &task).expect("late 1 ms after the deadline");
    assert_eq!(s.severity, Severity::Urgent);
    assert_eq!(s.at, day(3));
    match s.kind {
        SignalKind::OverdueTask {
            due_at,
            days_overdue,
            missed_occurrences,
            claimed_by,
            ..
        } => {
            assert_eq!(due_at, day(3));
            assert_eq!(days_overdue, 1);
            assert_eq!(missed_occurrences, 1);
            assert_eq!(claimed_by.len(), 1);
            assert_eq!(claimed_by[0].name, "Jan");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Still overdue long after: one-off tasks do not age out.
    assert!(overdue_of(&plan, day(300), &task).is_some());
}

#[test]
fn done_cancelled_or_unscheduled_tasks_are_never_overdue() {
    let (mut b, jan) = circle();
    let done = b.task("Gedaan", due(day(1)), t0());
    b.complete(&done, &jan, day(9), None); // late, but done
    let cancelled = b.task("Geschrapt", due(day(1)), t0());
    b.task_mut(&cancelled).status = TaskStatus::Cancelled;
    let whenever = b.task("Als het nodig is", Schedule::Unscheduled, t0());
    let plan = b.build();
    let now = day(10);
    for task in [&done, &cancelled, &whenever] {
        assert!(overdue_of(&plan, now, task).is_none());
    }
}

#[test]
fn overdue_unclaimed_task_reports_nobody_and_no_separate_unclaimed_signal() {
    let (mut b, _) = circle();
    let task = b.task("Boodschappen", due(day(1)), t0());
    let plan = b.build();
    let now = day(20);
    match overdue_of(&plan, now, &task).map(|s| s.kind) {
        Some(SignalKind::OverdueTask {
            claimed_by,
            days_overdue,
            ..
        }) => {
            assert!(claimed_by.is_empty());
            assert_eq!(days_overdue, 19);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(unclaimed_of(&plan, now, &task).is_none());
}

#[test]
fn weekly_task_counts_each_missed_occurrence_and_reports_the_earliest() {
    let (mut b, jan) = circle();
    let task = b.task("Koken op dinsdag", weekly(day(1), 1, None), t0());
    b.claim(&task, &jan, t0());
    // Done for the second week only; a completion without occurrence covers nothing.
    b.complete(&task, &jan, day(8), Some(day(8)));
    b.complete(&task, &jan, day(2), None);
    let plan = b.build();
    let now = ms(ms(day(15), GRACE_MILLIS), 1); // day 15 is late by 1 ms
    match overdue_of(&plan, now, &task).map(|s| s.kind) {
        Some(SignalKind::OverdueTask {
            due_at,
            missed_occurrences,
            days_overdue,
            ..
        }) => {
            assert_eq!(due_at, day(1));
            assert_eq!(missed_occurrences, 2, "day 1 and day 15 missed, day 8 done");
            assert_eq!(days_overdue, 15);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn weekly_misses_age_out_of_the_overdue_window() {
    let (mut b, _) = circle();
    // A single occurrence (until = first) so only one deadline is in play.
    let task = b.task("Eenmalig wekelijks", weekly(day(1), 1, Some(day(1))), t0());
    let plan = b.build();
    let edge = ms(day(1), GRACE_MILLIS).plus_days(RECENT_WINDOW_DAYS);
    assert!(
        overdue_of(&plan, edge, &task).is_some(),
        "deadline exactly 30 days ago still counts"
    );
    assert!(
        overdue_of(&plan, ms(edge, 1), &task).is_none(),
        "one ms older ages out"
    );
}

#[test]
fn weekly_occurrences_before_the_task_existed_are_not_agreements() {
    let (mut b, jan) = circle();
    let task = b.task("Wandelen", weekly(day(0), 1, None), day(10));
    b.claim(&task, &jan, day(10));
    let plan = b.build();
    // Day 0 and day 7 happened before the task was created on day 10.
    assert!(overdue_of(&plan, day(12), &task).is_none());
    assert!(overdue_of(&plan, ms(ms(day(14), GRACE_MILLIS), 1), &task).is_some());
}

// ---- unclaimed -------------------------------------------------------------------

#[test]
fn unclaimed_due_soon_boundaries() {
    let now = day(1);
    let at_edge = now.plus_days(UNCLAIMED_DUE_SOON_DAYS);
    let (mut b, _) = circle();
    let on_edge = b.task("Op de grens", due(at_edge), now);
    let beyond = b.task("Net te laat", due(ms(at_edge, 1)), now);
    let plan = b.build();

    let s = unclaimed_of(&plan, now, &on_edge).expect("due exactly 7 days out is due soon");
    assert_eq!(s.severity, Severity::Attention);
    match s.kind {
        SignalKind::UnclaimedTask {
            reason,
            next_due_at,
            days_until_due,
            free_slots,
            ..
        } => {
            assert_eq!(reason, UnclaimedReason::DueSoon);
            assert_eq!(next_due_at, Some(at_edge));
            assert_eq!(days_until_due, Some(7));
            assert_eq!(free_slots, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        unclaimed_of(&plan, now, &beyond).is_none(),
        "7 days + 1 ms is not soon (and not old)"
    );
}

#[test]
fn unclaimed_becomes_urgent_within_two_days() {
    let now = day(1);
    let edge = now.plus_days(UNCLAIMED_URGENT_DAYS);
    let (mut b, _) = circle();
    let urgent = b.task("Morgen", due(edge), now);
    let later = b.task("Overmorgen en iets", due(ms(edge, 1)), now);
    let plan = b.build();
    assert_eq!(
        unclaimed_of(&plan, now, &urgent).map(|s| s.severity),
        Some(Severity::Urgent)
    );
    assert_eq!(
        unclaimed_of(&plan, now, &later).map(|s| s.severity),
        Some(Severity::Attention)
    );
}

#[test]
fn unclaimed_within_grace_after_due_is_still_due_soon() {
    let (mut b, _) = circle();
    let task = b.task("Net geweest", due(day(5)), day(4));
    let plan = b.build();
    let now = ms(day(5), GRACE_MILLIS); // deadline: not late yet
    let s = unclaimed_of(&plan, now, &task).expect("still unclaimed");
    assert_eq!(s.severity, Severity::Urgent);
    assert!(overdue_of(&plan, now, &task).is_none());
}

#[test]
fn unclaimed_open_long_boundaries() {
    let created = day(0);
    let (mut b, _) = circle();
    let task = b.task("Klusjes", Schedule::Unscheduled, created);
    let plan = b.build();
    let edge = created.plus_days(UNCLAIMED_OPEN_LONG_DAYS);
    assert!(unclaimed_of(&plan, ms(edge, -1), &task).is_none());
    let s = unclaimed_of(&plan, edge, &task).expect("open exactly 14 days");
    assert_eq!(s.severity, Severity::Attention);
    assert_eq!(s.at, created);
    match s.kind {
        SignalKind::UnclaimedTask {
            reason,
            open_days,
            next_due_at,
            ..
        } => {
            assert_eq!(reason, UnclaimedReason::OpenLong);
            assert_eq!(open_days, 14);
            assert_eq!(next_due_at, None);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unclaimed_counts_free_places_and_only_circle_tasks() {
    let (mut b, jan) = circle();
    let two = b.task("Verhuizen", due(day(3)), t0());
    b.task_mut(&two).slots = 2;
    b.claim(&two, &jan, t0());
    let full = b.task("Vol", due(day(3)), t0());
    b.claim(&full, &jan, t0());
    let professional = b.task("Schuldhulp", due(day(3)), t0());
    b.task_mut(&professional).owner_kind = OwnerKind::Professional;
    let own = b.task("Zelf bellen", due(day(3)), t0());
    b.task_mut(&own).owner_kind = OwnerKind::MainPerson;
    let plan = b.build();
    let now = day(1);
    match unclaimed_of(&plan, now, &two).map(|s| s.kind) {
        Some(SignalKind::UnclaimedTask { free_slots, .. }) => assert_eq!(free_slots, 1),
        other => panic!("unexpected {other:?}"),
    }
    for task in [&full, &professional, &own] {
        assert!(unclaimed_of(&plan, now, task).is_none());
    }
}

#[test]
fn unclaimed_weekly_task_uses_its_next_occurrence() {
    let (mut b, _) = circle();
    let task = b.task("Elke week", weekly(day(0), 1, None), day(0));
    let plan = b.build();
    // On day 2 the day-0 occurrence is late (overdue wins); check on day 0 + grace.
    let now = ms(day(0), GRACE_MILLIS);
    match unclaimed_of(&plan, now, &task).map(|s| s.kind) {
        Some(SignalKind::UnclaimedTask { next_due_at, .. }) => {
            assert_eq!(next_due_at, Some(day(0)))
        }
        other => panic!("unexpected {other:?}"),
    }
    match unclaimed_of(&plan, ms(now, 1), &task) {
        None => assert!(overdue_of(&plan, ms(now, 1), &task).is_some()),
        Some(s) => panic!("overdue should win, got {s:?}"),
    }
}

// ---- overbooked ------------------------------------------------------------------

#[test]
fn overbooked_names_the_claims_beyond_the_slots() {
    let (mut b, jan) = circle();
    let piet = b.member("Piet", Relation::Friend, t0());
    let task = b.task("Rijden", due(day(5)), t0());
    b.claim(&task, &piet, day(1));
    b.claim(&task, &jan, ms(day(1), 1));
    let exact = b.task("Precies vol", due(day(5)), t0());
    b.claim(&exact, &jan, day(1));
    let plan = b.build();

    let s = find(
        &plan,
        day(2),
        |k| matches!(k, SignalKind::OverbookedTask { task: t, .. } if *t == task),
    )
    .expect("overbooked");
    assert_eq!(s.severity, Severity::Attention);
    assert_eq!(s.at, ms(day(1), 1));
    match s.kind {
        SignalKind::OverbookedTask {
            slots,
            claims,
            not_needed,
            ..
        } => {
            assert_eq!((slots, claims), (1, 2));
            assert_eq!(
                not_needed
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>(),
                ["Jan"]
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(find(
        &plan,
        day(2),
        |k| matches!(k, SignalKind::OverbookedTask { task: t, .. } if *t == exact)
    )
    .is_none());

    // Once done, the collision no longer matters.
    let mut b2 = b;
    b2.complete(&task, &piet, day(5), None);
    assert!(find(&b2.build(), day(6), |k| matches!(
        k,
        SignalKind::OverbookedTask { .. }
    ))
    .is_none());
}

// ---- evaluation ------------------------------------------------------------------

fn accepted(review_at: Option<Timestamp>) -> PlanBuilder {
    let (mut b, _) = circle();
    b.accept(day(0)).review_at(review_at);
    b
}

fn review_signal(plan: &PlanView, now: Timestamp) -> Option<Signal> {
    find(plan, now, |k| {
        matches!(
            k,
            SignalKind::ReviewDue { .. }
                | SignalKind::ReviewOverdue { .. }
                | SignalKind::ReviewNotScheduled { .. }
        )
    })
}

#[test]
fn review_due_and_overdue_boundaries() {
    let r = day(90);
    let plan = accepted(Some(r)).build();
    let window = r.plus_days(-REVIEW_DUE_SOON_DAYS);

    assert!(review_signal(&plan, ms(window, -1)).is_none());
    let s = review_signal(&plan, window).expect("due 14 days before");
    assert_eq!(s.severity, Severity::Attention);
    assert_eq!(
        s.kind,
        SignalKind::ReviewDue {
            review_at: r,
            days_left: 14
        }
    );
    assert_eq!(
        review_signal(&plan, r).map(|s| s.kind),
        Some(SignalKind::ReviewDue {
            review_at: r,
            days_left: 0
        })
    );
    let s = review_signal(&plan, ms(r, 1)).expect("overdue 1 ms after");
    assert_eq!(s.severity, Severity::Urgent);
    assert_eq!(
        s.kind,
        SignalKind::ReviewOverdue {
            review_at: r,
            days_overdue: 0
        }
    );
    assert_eq!(
        review_signal(&plan, r.plus_days(3)).map(|s| s.kind),
        Some(SignalKind::ReviewOverdue {
            review_at: r,
            days_overdue: 3
        })
    );
}

#[test]
fn a_held_review_silences_the_evaluation_signal() {
    let r = day(90);
    let window = r.plus_days(-REVIEW_DUE_SOON_DAYS);
    let mut held = accepted(Some(r));
    let main = held.main_person();
    held.held_review(&main, window, "Gaat goed");
    assert!(review_signal(&held.build(), r.plus_days(5)).is_none());

    let mut too_early = accepted(Some(r));
    too_early.held_review(&main, ms(window, -1), "Te vroeg");
    assert!(matches!(
        review_signal(&too_early.build(), r.plus_days(5)).map(|s| s.kind),
        Some(SignalKind::ReviewOverdue { .. })
    ));
}

#[test]
fn accepted_plan_without_evaluation_date_is_flagged_and_drafts_are_not() {
    let plan = accepted(None).build();
    let s = review_signal(&plan, day(1)).expect("no date");
    assert_eq!(
        s.kind,
        SignalKind::ReviewNotScheduled {
            accepted_at: day(0)
        }
    );
    assert_eq!(s.severity, Severity::Attention);

    let (draft, _) = circle();
    assert!(review_signal(&draft.build(), day(1)).is_none());
}

// ---- four-week check-in -----------------------------------------------------------

fn checkin_signal(plan: &PlanView, now: Timestamp) -> Option<Signal> {
    find(plan, now, |k| {
        matches!(
            k,
            SignalKind::CheckinDue { .. } | SignalKind::CheckinOverdue { .. }
        )
    })
}

#[test]
fn checkin_due_and_overdue_boundaries() {
    let mut b = accepted(Some(day(200)));
    b.status(PlanStatus::Accepted, day(2));
    let plan = b.build();
    let d = day(2).plus_days(CHECKIN_AFTER_DAYS);
    let window = d.plus_days(-CHECKIN_DUE_SOON_DAYS);

    assert!(checkin_signal(&plan, ms(window, -1)).is_none());
    assert_eq!(
        checkin_signal(&plan, window).map(|s| (s.severity, s.kind)),
        Some((
            Severity::Attention,
            SignalKind::CheckinDue {
                due_at: d,
                days_left: 7
            }
        ))
    );
    assert_eq!(
        checkin_signal(&plan, d).map(|s| s.kind),
        Some(SignalKind::CheckinDue {
            due_at: d,
            days_left: 0
        })
    );
    assert_eq!(
        checkin_signal(&plan, ms(d, 1)).map(|s| (s.severity, s.kind)),
        Some((
            Severity::Urgent,
            SignalKind::CheckinOverdue {
                due_at: d,
                days_overdue: 0
            }
        ))
    );
}

#[test]
fn a_checkin_log_entry_or_review_in_the_window_counts() {
    let d = day(0).plus_days(CHECKIN_AFTER_DAYS);
    let window = d.plus_days(-CHECKIN_DUE_SOON_DAYS);
    let later = d.plus_days(10);

    let mut b = accepted(Some(day(200)));
    let main = b.main_person();
    b.log(&main, window, LogKind::Checkin, "Even bijgepraat");
    assert!(checkin_signal(&b.build(), later).is_none());

    let mut b = accepted(Some(day(200)));
    b.log(&main, ms(window, -1), LogKind::Checkin, "Te vroeg");
    b.log(&main, d, LogKind::Update, "Geen check-in");
    assert!(matches!(
        checkin_signal(&b.build(), later).map(|s| s.kind),
        Some(SignalKind::CheckinOverdue { .. })
    ));

    let mut b = accepted(Some(day(200)));
    b.held_review(&main, window, "Evaluatie");
    assert!(checkin_signal(&b.build(), later).is_none());
}

// ---- silent members and quiet circles -----------------------------------------------

fn silent_names(plan: &PlanView, now: Timestamp) -> Vec<String> {
    signals(plan, now)
        .into_iter()
        .filter_map(|s| match s.kind {
            SignalKind::SilentMember { member, .. } => Some(member.name),
            _ => None,
        })
        .collect()
}

#[test]
fn silent_member_boundaries_and_who_is_never_silent() {
    let mut b = accepted(Some(day(365)));
    let joined = day(1);
    let kees = b.member("Kees", Relation::Neighbour, joined);
    let anna = b.member("Anna", Relation::Professional, joined);
    let cor = b.member("Cor", Relation::Coordinator, joined);
    let gone = b.member("Weg", Relation::Friend, joined);
    b.member_mut(&gone).removed_at = Some(day(2));
    let _ = (anna, cor);
    // Kees posts something in the future (a fast clock): it must not count.
    b.log(&kees, day(100), LogKind::Update, "Uit de toekomst");
    let plan = b.build();
    let edge = joined.plus_days(SILENT_AFTER_DAYS);

    assert!(!silent_names(&plan, ms(edge, -1)).contains(&"Kees".to_owned()));
    let names = silent_names(&plan, edge);
    assert!(names.contains(&"Kees".to_owned()));
    for never in ["Anna", "Cor", "Weg"] {
        assert!(
            !names.contains(&never.to_owned()),
            "{never} must not be reported"
        );
    }
    let s = find(
        &plan,
        edge,
        |k| matches!(k, SignalKind::SilentMember { member, .. } if member.id == kees),
    )
    .unwrap();
    assert_eq!(s.severity, Severity::Attention);
    assert_eq!(
        s.kind,
        SignalKind::SilentMember {
            member: MemberRef {
                id: kees.clone(),
                name: "Kees".into()
            },
            last_activity_at: joined,
            silent_days: 21,
        }
    );
}

#[test]
fn any_act_resets_silence() {
    let mut b = accepted(Some(day(365)));
    let kees = b.member("Kees", Relation::Neighbour, day(0));
    let task = b.task("Gras maaien", Schedule::Unscheduled, day(0));
    b.claim(&task, &kees, day(10));
    let plan = b.build();
    assert!(!silent_names(&plan, ms(day(31), -1)).contains(&"Kees".to_owned()));
    assert!(silent_names(&plan, day(31)).contains(&"Kees".to_owned()));
}

#[test]
fn quiet_circle_boundaries() {
    let plan = accepted(Some(day(365))).build(); // last act: acceptance on day 0
    let edge = day(0).plus_days(QUIET_AFTER_DAYS);
    let quiet = |now| find(&plan, now, |k| matches!(k, SignalKind::CircleQuiet { .. }));
    assert!(quiet(ms(edge, -1)).is_none());
    assert_eq!(
        quiet(edge).map(|s| (s.severity, s.kind)),
        Some((
            Severity::Attention,
            SignalKind::CircleQuiet {
                last_activity_at: day(0),
                quiet_days: 14
            }
        ))
    );
    let report = circle_report(&plan, day(20));
    assert_eq!(report.last_activity_at, Some(day(0)));
    assert_eq!(report.days_since_last_activity, Some(20));
}

// ---- load --------------------------------------------------------------------------

/// Accepted circle with four helpers (one of each helper relation), a professional
/// and the main person. Each helper claims `units[i]` open unscheduled circle tasks.
fn loaded(units: [u32; 4]) -> (PlanBuilder, Vec<MemberId>) {
    let mut b = PlanBuilder::new("Kring van Fatima", "Fatima", t0());
    b.accept(day(0)).review_at(Some(day(365)));
    let relations = [
        Relation::Family,
        Relation::Friend,
        Relation::Neighbour,
        Relation::Other,
    ];
    let mut helpers = Vec::new();
    for (i, relation) in relations.into_iter().enumerate() {
        let m = b.member(&format!("Helper{i}"), relation, day(0));
        for k in 0..units[i] {
            let task = b.task(&format!("Taak {i}-{k}"), Schedule::Unscheduled, day(0));
            b.claim(&task, &m, day(1));
        }
        helpers.push(m);
    }
    b.member("Anna", Relation::Professional, day(0));
    (b, helpers)
}

fn flagged(plan: &PlanView, now: Timestamp) -> Vec<String> {
    circle_report(plan, now)
        .load
        .members
        .into_iter()
        .filter(|l| l.flagged)
        .map(|l| l.member.name)
        .collect()
}

#[test]
fn load_flags_strictly_more_than_forty_percent() {
    // 2 of 5 = 40%: not flagged.
    let (b, _) = loaded([2, 1, 1, 1]);
    let plan = b.build();
    let load = circle_report(&plan, day(2)).load;
    assert_eq!((load.helpers, load.total_units), (4, 5));
    assert_eq!(load.members[0].member.name, "Helper0");
    assert_eq!(load.members[0].share_percent, 40);
    assert!(flagged(&plan, day(2)).is_empty());

    // 3 of 7 = 42%: flagged, and a signal.
    let (b, _) = loaded([3, 2, 1, 1]);
    let plan = b.build();
    assert_eq!(flagged(&plan, day(2)), ["Helper0"]);
    let s = find(&plan, day(2), |k| {
        matches!(k, SignalKind::LoadImbalance { .. })
    })
    .unwrap();
    assert_eq!(
        s.kind,
        SignalKind::LoadImbalance {
            member: circle_report(&plan, day(2)).load.members[0].member.clone(),
            units: 3,
            total_units: 7,
            share_percent: 42,
        }
    );
}

#[test]
fn load_is_not_flagged_with_fewer_than_four_helpers() {
    let (mut b, helpers) = loaded([5, 0, 0, 0]);
    assert!(
        !flagged(&b.build(), day(2)).is_empty(),
        "4 helpers: 100% is flagged"
    );
    b.member_mut(&helpers[3]).removed_at = Some(day(1));
    assert!(
        flagged(&b.build(), day(2)).is_empty(),
        "3 active helpers: never flagged"
    );
}

#[test]
fn load_counts_recent_completions_of_circle_tasks_only() {
    let (mut b, helpers) = loaded([0, 1, 1, 1]);
    let h0 = helpers[0].clone();
    let now = day(60);
    // A weekly task: the claim counts once, each completion in the window once.
    let weekly_task = b.task("Koken", weekly(day(0), 1, None), day(0));
    b.claim(&weekly_task, &h0, day(0));
    b.complete(
        &weekly_task,
        &h0,
        now.plus_days(-RECENT_WINDOW_DAYS),
        Some(day(28)),
    ); // on the edge: counts
    b.complete(
        &weekly_task,
        &h0,
        ms(now.plus_days(-RECENT_WINDOW_DAYS), -1),
        Some(day(21)),
    ); // too old
       // A one-off task done: counts as a completion, not as a claim too.
    let once = b.task("Eenmalig", due(day(50)), day(0));
    b.claim(&once, &h0, day(1));
    b.complete(&once, &h0, day(50), None);
    // A professional task done by h0 does not count.
    let prof = b.task("Hulpverlening", due(day(50)), day(0));
    b.task_mut(&prof).owner_kind = OwnerKind::Professional;
    b.complete(&prof, &h0, day(50), None);
    let plan = b.build();
    let load = circle_report(&plan, now).load;
    let h0_load = load.members.iter().find(|l| l.member.id == h0).unwrap();
    assert_eq!(
        (h0_load.claimed, h0_load.completed, h0_load.units),
        (1, 2, 3)
    );
    assert_eq!(load.total_units, 6);
}

// ---- plan health -----------------------------------------------------------------

#[test]
fn plan_health_window_and_on_time_boundaries() {
    let now = day(60);
    let (mut b, jan) = circle();
    b.accept(day(0)).review_at(Some(day(365)));
    // Deadline exactly now: not yet due (window is [now - 30d, now)).
    b.task("Nog niet", due(ms(now, -GRACE_MILLIS)), day(0));
    // Deadline 1 ms before now: due, not done.
    b.task("Net verlopen", due(ms(now, -GRACE_MILLIS - 1)), day(0));
    // Deadline exactly 30 days ago: due; done exactly at the deadline = on time.
    let edge_at = ms(now.plus_days(-RECENT_WINDOW_DAYS), -GRACE_MILLIS);
    let on_time = b.task("Op tijd", due(edge_at), day(0));
    b.complete(&on_time, &jan, ms(edge_at, GRACE_MILLIS), None);
    // Deadline 30 days + 1 ms ago: outside.
    b.task("Te oud", due(ms(edge_at, -1)), day(0));
    // Done 1 ms after the deadline: due, late.
    let late = b.task("Te laat gedaan", due(day(50)), day(0));
    b.complete(&late, &jan, ms(ms(day(50), GRACE_MILLIS), 1), None);
    // Cancelled tasks do not count.
    let cancelled = b.task("Geschrapt", due(day(50)), day(0));
    b.task_mut(&cancelled).status = TaskStatus::Cancelled;
    let plan = b.build();

    let health = circle_report(&plan, now).health;
    assert_eq!(
        (health.due, health.on_time, health.percent),
        (3, 1, Some(33))
    );
    let s = find(&plan, now, |k| {
        matches!(k, SignalKind::PlanHealthLow { .. })
    })
    .expect("33% is low");
    assert_eq!(
        s.kind,
        SignalKind::PlanHealthLow {
            percent: 33,
            due: 3,
            on_time: 1
        }
    );
}

#[test]
fn plan_health_needs_enough_due_agreements_and_flags_below_sixty_percent() {
    let now = day(60);
    let build = |due_count: u32, done_count: u32| {
        let (mut b, jan) = circle();
        b.accept(day(0)).review_at(Some(day(365)));
        for i in 0..due_count {
            let task = b.task(&format!("Taak {i}"), due(day(40)), day(0));
            if i < done_count {
                b.complete(&task, &jan, day(40), None);
            }
        }
        b.build()
    };
    let low = |plan: &PlanView| {
        find(plan, now, |k| matches!(k, SignalKind::PlanHealthLow { .. })).is_some()
    };
    assert!(!low(&build(2, 0)), "2 due agreements are too few to judge");
    assert!(low(&build(3, 0)));
    assert!(!low(&build(5, 3)), "exactly 60% is not low");
    assert!(low(&build(10, 5)));
    assert_eq!(circle_report(&build(0, 0), now).health.percent, None);
}

#[test]
fn weekly_tasks_contribute_one_agreement_per_occurrence() {
    let now = day(29);
    let (mut b, jan) = circle();
    b.accept(day(0)).review_at(Some(day(365)));
    let task = b.task("Elke week", weekly(day(0), 1, None), day(0));
    b.complete(&task, &jan, day(0), Some(day(0)));
    b.complete(&task, &jan, day(7), Some(day(7)));
    b.complete(&task, &jan, ms(day(15), 1), Some(day(14))); // 1 ms after its deadline: late
    let health = circle_report(&b.build(), now).health;
    // Occurrences 0, 7, 14, 21 have passed their deadline; 28's deadline is day 29: not yet.
    assert_eq!((health.due, health.on_time), (4, 2));
}

// ---- report, ordering, plan status ------------------------------------------------

#[test]
fn archived_plans_have_no_signals_and_drafts_only_task_signals() {
    let (mut b, _) = circle();
    b.task("Vergeten", due(day(1)), t0());
    b.status(PlanStatus::Archived, day(2));
    assert!(signals(&b.build(), day(100)).is_empty());

    b.status(PlanStatus::Draft, day(2));
    let kinds: Vec<_> = signals(&b.build(), day(100))
        .into_iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(kinds.len(), 1);
    assert!(matches!(kinds[0], SignalKind::OverdueTask { .. }));
}

#[test]
fn signals_are_sorted_by_severity_then_moment_then_kind_then_id() {
    let (mut b, jan) = circle();
    b.accept(day(0)); // no review date: attention, at day 0
    let later = b.task("Later te laat", due(day(5)), t0());
    let first_b = b.task("Eerst B", due(day(3)), t0());
    let first_a = b.task("Eerst A", due(day(3)), t0());
    for t in [&later, &first_b, &first_a] {
        b.claim(t, &jan, t0());
    }
    let plan = b.build();
    let report = circle_report(&plan, day(10));
    let head: Vec<(Severity, Timestamp)> =
        report.signals.iter().map(|s| (s.severity, s.at)).collect();
    assert!(
        head.windows(2)
            .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 <= w[1].1)),
        "{head:?}"
    );
    let overdue: Vec<&TaskId> = report
        .signals
        .iter()
        .filter_map(|s| match &s.kind {
            SignalKind::OverdueTask { task, .. } => Some(task),
            _ => None,
        })
        .collect();
    // Same due moment: lower task id first (first_b was created before first_a).
    assert_eq!(overdue, [&first_b, &first_a, &later]);
    assert_eq!(report.urgent, 3);
    assert_eq!(
        report.attention,
        u32::try_from(report.signals.len()).unwrap() - 3
    );
}

#[test]
fn signals_serialize_with_a_kind_tag() {
    let (mut b, _) = circle();
    b.task("Boodschappen", due(day(1)), t0());
    let report = circle_report(&b.build(), day(5));
    let json = serde_json::to_value(&report.signals[0]).unwrap();
    assert_eq!(json["kind"], "overdue_task");
    assert_eq!(json["severity"], "urgent");
    assert_eq!(json["title"], "Boodschappen");
    let back: Signal = serde_json::from_value(json).unwrap();
    assert_eq!(back, report.signals[0]);
}

#[test]
fn describe_reads_as_plain_language() {
    let (mut b, jan) = circle();
    let task = b.task("Boodschappen", due(day(1)), t0());
    b.claim(&task, &jan, t0());
    let s = &circle_report(&b.build(), day(4)).signals[0];
    assert_eq!(
        s.describe(Language::Nl, "UTC"),
        "3 dagen te laat: Boodschappen — opgepakt door Jan"
    );
    assert_eq!(
        s.describe(Language::En, "UTC"),
        "3 days overdue: Boodschappen — taken by Jan"
    );

    let (mut b, _) = circle();
    b.task("Rijden", due(day(2)), t0());
    let s = &circle_report(&b.build(), day(1)).signals[0];
    assert_eq!(
        s.describe(Language::Nl, "UTC"),
        "Nog niemand voor: Rijden (woensdag 8 mei)"
    );
    assert_eq!(
        s.describe(Language::En, "UTC"),
        "Nobody yet for: Rijden (Wednesday 8 May)"
    );

    // 23:00 UTC on Wednesday is already Thursday on an Amsterdam clock: the day named
    // is the circle's.
    let (mut b, _) = circle();
    b.task("Laat rijden", due(day(2).plus_millis(14 * 3_600_000)), t0());
    let s = &circle_report(&b.build(), day(1)).signals[0];
    assert_eq!(
        s.describe(Language::Nl, "UTC"),
        "Nog niemand voor: Laat rijden (woensdag 8 mei)"
    );
    assert_eq!(
        s.describe(Language::Nl, "Europe/Amsterdam"),
        "Nog niemand voor: Laat rijden (donderdag 9 mei)"
    );
}

// ---- coordinator ---------------------------------------------------------------------

/// A circle with id `n` and `overdue` overdue tasks due on `due_day`.
fn circle_with(n: u64, name: &str, overdue: usize, due_day: i64) -> PlanView {
    let mut b = PlanBuilder::new(name, "Hoofdpersoon", t0()).circle_id(n);
    for i in 0..overdue {
        b.task(&format!("Taak {i}"), due(day(due_day)), t0());
    }
    b.build()
}

#[test]
fn coordinator_overview_puts_the_most_urgent_circle_first() {
    let now = day(20);
    let one_recent = circle_with(0xa, "A: 1 recent", 1, 15);
    let two = circle_with(0xb, "B: 2 urgent", 2, 15);
    let one_old = circle_with(0xc, "C: 1 old", 1, 5);
    let calm = circle_with(0xd, "D: calm", 0, 0);
    let tie = circle_with(0x9, "E: same as A", 1, 15);

    let overview = coordinator_overview(
        &[
            calm.clone(),
            one_recent.clone(),
            tie.clone(),
            two.clone(),
            one_old.clone(),
        ],
        now,
    );
    let order: Vec<&str> = overview
        .circles
        .iter()
        .map(|c| c.circle_name.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "B: 2 urgent",
            "C: 1 old",
            "E: same as A",
            "A: 1 recent",
            "D: calm"
        ]
    );

    // Same answer whatever order the circles come in.
    let again = coordinator_overview(&[two, one_old, one_recent, calm, tie], now);
    assert_eq!(again, overview);

    // The queue of items: the oldest overdue first, ties by task id then circle id.
    assert_eq!(overview.items.len(), 5);
    assert_eq!(overview.items[0].circle_name, "C: 1 old");
    assert!(overview
        .items
        .windows(2)
        .all(|w| w[0].signal.at <= w[1].signal.at));
    let json = serde_json::to_value(&overview.items[0]).unwrap();
    assert_eq!(json["kind"], "overdue_task");
    assert_eq!(json["circle_name"], "C: 1 old");
}

// ---- my week -------------------------------------------------------------------------

/// Friday 10 May 2024, 12:00 UTC.
fn friday() -> Timestamp {
    Timestamp::from_civil_utc(2024, 5, 10, 12, 0)
}

#[test]
fn my_week_window_is_now_up_to_seven_days() {
    let now = friday();
    let (mut b, _) = circle();
    b.task("Vorige", due(ms(now, -1)), t0());
    b.task("Nu", due(now), t0());
    b.task("Laatste", due(ms(now.plus_days(MY_WEEK_DAYS), -1)), t0());
    b.task("Volgende week", due(now.plus_days(MY_WEEK_DAYS)), t0());
    let week = my_week(&b.build(), now, Language::Nl);
    let titles: Vec<&str> = week
        .items
        .iter()
        .map(|i| match &i.kind {
            WeekItemKind::Task { title, .. } => title.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(titles, ["Nu", "Laatste"]);
    assert_eq!((week.from, week.to), (now, now.plus_days(7)));
}

#[test]
fn my_week_says_who_does_what_in_dutch_and_english() {
    let now = friday();
    let (mut b, jan) = circle();
    let piet = b.member("Piet", Relation::Friend, t0());
    let anna = b.member("Anna", Relation::Professional, t0());
    let _ = anna;
    let tuesday = Timestamp::from_civil_utc(2024, 5, 14, 10, 0);
    let doctor = b.task("Naar de dokter.", due(tuesday), t0());
    b.claim(&doctor, &jan, t0());
    let moving = b.task("Verhuizen", due(tuesday.plus_days(1)), t0());
    b.task_mut(&moving).slots = 3;
    b.claim(&moving, &jan, t0()).claim(&moving, &piet, t0());
    let meal = b.task(
        "Koken",
        weekly(Timestamp::from_civil_utc(2024, 5, 3, 17, 30), 1, None),
        t0(),
    );
    b.complete(
        &meal,
        &piet,
        ms(friday(), -1),
        Some(Timestamp::from_civil_utc(2024, 5, 10, 17, 30)),
    );
    let open = b.task("Boodschappen", due(tuesday.plus_days(2)), t0());
    let own = b.task("Bellen met de school", due(tuesday.plus_days(3)), t0());
    b.task_mut(&own).owner_kind = OwnerKind::MainPerson;
    let debt = b.task("Gesprek over schulden", due(ms(tuesday, 60_000)), t0());
    b.task_mut(&debt).owner_kind = OwnerKind::Professional;
    let cancelled = b.task("Geschrapt", due(tuesday), t0());
    b.task_mut(&cancelled).status = TaskStatus::Cancelled;
    let main = b.main_person();
    b.meeting(
        &main,
        Timestamp::from_civil_utc(2024, 5, 13, 19, 0),
        "Buurthuis De Kring",
        "",
    );
    b.review_at(Some(Timestamp::from_civil_utc(2024, 5, 16, 15, 0)));
    let _ = open;
    let plan = b.build();

    let nl = my_week(&plan, now, Language::Nl);
    let sentences: Vec<&str> = nl.items.iter().map(|i| i.sentence.as_str()).collect();
    assert_eq!(sentences, [
        "Vrijdag 10 mei om 17.30 uur: Koken. Piet heeft dit al gedaan.",
        "Maandag 13 mei om 19.00 uur: Overleg met je kring. Waar: Buurthuis De Kring.",
        "Dinsdag 14 mei om 10.00 uur: Naar de dokter. Jan doet dit.",
        "Dinsdag 14 mei om 10.01 uur: Gesprek over schulden. Een hulpverlener doet dit.",
        "Woensdag 15 mei om 10.00 uur: Verhuizen. Jan en Piet doen dit. Er is nog 1 persoon nodig.",
        "Donderdag 16 mei om 10.00 uur: Boodschappen. Dit is nog niet geregeld.",
        "Donderdag 16 mei om 15.00 uur: We kijken samen hoe het plan gaat (evaluatie).",
        "Vrijdag 17 mei om 10.00 uur: Bellen met de school. Dit doe je zelf.",
    ]);
    assert_eq!(nl.heading, "Je plan deze week");
    assert_eq!(nl.open_count, 2, "Verhuizen (1 place) and Boodschappen");
    assert_eq!(
        nl.summary,
        "Deze week staan er 8 dingen in je plan. 2 daarvan zijn nog niet geregeld."
    );
    assert_eq!(nl.main_person.name, "Fatima");

    let en = my_week(&plan, now, Language::En);
    let sentences: Vec<&str> = en.items.iter().map(|i| i.sentence.as_str()).collect();
    assert_eq!(sentences, [
        "Friday 10 May at 17:30: Koken. Piet has already done this.",
        "Monday 13 May at 19:00: Meeting with your circle. Where: Buurthuis De Kring.",
        "Tuesday 14 May at 10:00: Naar de dokter. Jan will do this.",
        "Tuesday 14 May at 10:01: Gesprek over schulden. A professional does this.",
        "Wednesday 15 May at 10:00: Verhuizen. Jan and Piet will do this. 1 more person is needed.",
        "Thursday 16 May at 10:00: Boodschappen. This is not arranged yet.",
        "Thursday 16 May at 15:00: Together we look at how the plan is going (evaluation).",
        "Friday 17 May at 10:00: Bellen met de school. You do this yourself.",
    ]);
    assert_eq!(
        en.summary,
        "Your plan has 8 things this week. 2 of them are not arranged yet."
    );
    match &en.items[4].kind {
        WeekItemKind::Task {
            helpers,
            free_slots,
            done_by,
            ..
        } => {
            assert_eq!(
                helpers.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
                ["Jan", "Piet"]
            );
            assert_eq!(*free_slots, 1);
            assert!(done_by.is_none());
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn an_empty_week_says_so() {
    let (b, _) = circle();
    let week = my_week(&b.build(), friday(), Language::Nl);
    assert!(week.items.is_empty());
    assert_eq!(week.summary, "Deze week staat er niets in je plan.");
    assert_eq!(
        my_week(&b.build(), friday(), Language::En).summary,
        "Nothing is planned for you this week."
    );
}

// ---- who sees signals about people ---------------------------------------------------

#[test]
fn only_the_main_person_admins_and_the_coordinator_see_who_is_not_helping() {
    use kring_trust::membership::Capability;
    let mut b = accepted(Some(day(365)));
    let kees = b.member("Kees", Relation::Neighbour, day(0));
    let els = b.member("Els", Relation::Friend, day(0));
    let cor = b.member("Cor", Relation::Coordinator, day(0));
    let late = b.task("Naar de huisarts", due(day(25)), day(0));
    b.claim(&late, &kees, day(1));
    let plan = b.build();
    let now = day(40);
    let full = circle_report(&plan, now);
    let about_people = |r: &CircleReport| {
        r.signals.iter().any(|s| {
            matches!(
                &s.kind,
                SignalKind::SilentMember { .. } | SignalKind::LoadImbalance { .. }
            ) || matches!(&s.kind, SignalKind::OverdueTask { claimed_by, .. } if !claimed_by.is_empty())
        }) || !r.load.members.is_empty()
    };
    assert!(
        about_people(&full),
        "the full report names people: {full:?}"
    );

    let main = plan.circle.main_person.clone();
    for (who, capability, expected) in [
        (&main, Some(Capability::Owner), Audience::MainPerson),
        (&cor, Some(Capability::Member), Audience::FollowUp),
        (&els, Some(Capability::Admin), Audience::FollowUp),
        (&els, Some(Capability::Member), Audience::Circle),
        (&kees, None, Audience::Circle),
        (&els, Some(Capability::Reader), Audience::Circle),
    ] {
        assert_eq!(
            Audience::of(&plan, who, capability),
            expected,
            "{who:?} {capability:?}"
        );
    }
    let seen_by_els = full.clone().for_audience(Audience::Circle);
    assert!(!about_people(&seen_by_els), "{seen_by_els:?}");
    // What the circle needs stays: the late task itself, the evaluation, the counts.
    assert!(seen_by_els
        .signals
        .iter()
        .any(|s| matches!(&s.kind, SignalKind::OverdueTask { task, .. } if *task == late)));
    assert_eq!(
        seen_by_els.urgent + seen_by_els.attention,
        u32::try_from(seen_by_els.signals.len()).unwrap()
    );
    assert_eq!(full.clone().for_audience(Audience::FollowUp), full);
}

#[test]
fn whole_days_in_my_week_have_no_clock_time_and_ten_stays_ten_across_the_change() {
    let (c, now) = crate::fixtures::amsterdam::whole_days(Language::Nl);
    let plan = c.plan.view();
    let sentences = |lang| -> Vec<String> {
        my_week(&plan, now, lang)
            .items
            .into_iter()
            .map(|i| i.sentence)
            .collect()
    };
    assert_eq!(
        sentences(Language::Nl),
        [
            "Zaterdag 24 oktober: Boodschappen. Dit is nog niet geregeld.",
            "Zondag 25 oktober om 10.00 uur: Naar het ziekenhuis. Jan doet dit.",
            "Maandag 26 oktober: Formulier inleveren. Dit is nog niet geregeld.",
            "Dinsdag 27 oktober: We kijken samen hoe het plan gaat (evaluatie).",
        ]
    );
    assert_eq!(
        sentences(Language::En),
        [
            "Saturday 24 October: Boodschappen. This is not arranged yet.",
            "Sunday 25 October at 10:00: Naar het ziekenhuis. Jan will do this.",
            "Monday 26 October: Formulier inleveren. This is not arranged yet.",
            "Tuesday 27 October: Together we look at how the plan is going (evaluation).",
        ]
    );
}

/// The sentence the follow-up shows for the late task `title`, as `audience` sees it.
fn late_line(plan: &PlanView, now: Timestamp, title: &str, audience: Audience) -> String {
    circle_report(plan, now)
        .for_audience(audience)
        .signals
        .iter()
        .find(|s| matches!(&s.kind, SignalKind::OverdueTask { title: t, .. } if t == title))
        .map(|s| s.describe(Language::Nl, &plan.circle.timezone))
        .unwrap_or_else(|| panic!("{title} is late"))
}

#[test]
fn a_late_task_someone_held_never_reads_as_nobody_took_it() {
    let mut b = accepted(Some(day(365)));
    let kees = b.member("Kees", Relation::Neighbour, day(0));
    let claimed = b.task("Naar de huisarts", due(day(2)), day(0));
    b.claim(&claimed, &kees, day(1));
    let own = b.task("Bellen met de school", due(day(2)), day(0));
    b.task_mut(&own).owner_kind = OwnerKind::MainPerson;
    let pro = b.task("Gesprek over schulden", due(day(2)), day(0));
    b.task_mut(&pro).owner_kind = OwnerKind::Professional;
    b.task("Boodschappen", due(day(2)), day(0));
    let plan = b.build();
    let now = day(5);
    for audience in [Audience::MainPerson, Audience::FollowUp, Audience::Circle] {
        for title in [
            "Naar de huisarts",
            "Bellen met de school",
            "Gesprek over schulden",
        ] {
            let line = late_line(&plan, now, title, audience);
            assert!(!line.contains("niemand"), "{audience:?}: {line}");
        }
        assert_eq!(
            late_line(&plan, now, "Boodschappen", audience),
            "3 dagen te laat: Boodschappen — niemand had het opgepakt"
        );
    }
    assert_eq!(
        late_line(&plan, now, "Naar de huisarts", Audience::FollowUp),
        "3 dagen te laat: Naar de huisarts — opgepakt door Kees"
    );
    // The circle may know it was taken, not by whom.
    assert_eq!(
        late_line(&plan, now, "Naar de huisarts", Audience::Circle),
        "3 dagen te laat: Naar de huisarts"
    );
}

/// A turn on the night of each clock change, held by Jan: the follow-up finds him on
/// it (the turn's key is the occurrence's local start, 03:30 in March).
#[test]
fn turns_held_across_both_clock_changes_are_not_called_untaken() {
    use crate::fixtures::amsterdam::{circle, local, ZONE};
    use crate::plan::recurrence::Recurrence;
    use crate::plan::NewTask;
    let mut c = circle(Language::Nl);
    let then = local("2026-10-01T10:00");
    let series = |start: &str, rule: Option<&str>| {
        Schedule::Repeat(Recurrence {
            start: start.into(),
            rule: rule.map(str::to_owned),
            skipped: vec![],
            moved: vec![],
            zone: ZONE.into(),
        })
    };
    let add = |c: &mut crate::fixtures::amsterdam::Circle, title: &str, schedule| {
        let new = NewTask {
            schedule,
            ..NewTask::simple(title)
        };
        c.plan.add_task(&c.sanne, new, then).expect("task")
    };
    // 02:30 on 25 October happens twice: the first.
    let night = add(&mut c, "Nachtdienst", series("2026-10-25T02:30", None));
    c.plan.claim_task(&c.jan, &night, then).expect("claim");
    // Daily at 02:30 from 27 March: the 28th is at 03:30 summer time. The 27th is done,
    // so the 28th is the first late turn; Jan took it alone.
    let pills = add(
        &mut c,
        "Medicijnen",
        series("2027-03-27T02:30", Some("FREQ=DAILY;COUNT=3")),
    );
    let (first, gap) = (local("2027-03-27T02:30"), local("2027-03-28T03:30"));
    assert_eq!(
        gap,
        local("2027-03-28T02:30"),
        "02:30 does not exist: 03:30"
    );
    c.plan
        .claim_turn(&c.jan, &pills, gap, then)
        .expect("Jan takes the night of the change");
    c.plan
        .complete_task(&c.sanne, &pills, Some(first), "", local("2027-03-27T08:00"))
        .expect("done");
    let plan = c.plan.view();

    let autumn = local("2026-10-27T12:00");
    assert_eq!(
        late_line(&plan, autumn, "Nachtdienst", Audience::MainPerson),
        "2 dagen te laat: Nachtdienst — opgepakt door Jan"
    );
    let spring = local("2027-03-30T12:00");
    assert_eq!(
        late_line(&plan, spring, "Medicijnen", Audience::MainPerson),
        "2 dagen te laat: Medicijnen (2 keer niet gedaan) — opgepakt door Jan"
    );
    for (now, title) in [(autumn, "Nachtdienst"), (spring, "Medicijnen")] {
        let line = late_line(&plan, now, title, Audience::Circle);
        assert!(!line.contains("niemand") && !line.contains("Jan"), "{line}");
    }
}

#[test]
fn the_main_person_is_never_told_she_has_been_silent() {
    // Fatima (the main person) and Jan have done nothing since the meeting.
    let plan = accepted(Some(day(365))).build();
    let now = day(30);
    let silent = |audience: Audience| -> Vec<String> {
        circle_report(&plan, now)
            .for_audience(audience)
            .signals
            .iter()
            .filter(|s| matches!(s.kind, SignalKind::SilentMember { .. }))
            .map(|s| s.describe(Language::Nl, "UTC"))
            .collect()
    };
    let main = plan.circle.main_person.clone();
    assert_eq!(
        Audience::of(&plan, &main, None),
        Audience::MainPerson,
        "Fatima looks at her own plan"
    );
    assert_eq!(
        silent(Audience::MainPerson),
        ["Al 30 dagen niets gehoord van Jan"]
    );
    // Whoever follows her up still sees both.
    let mut seen = silent(Audience::FollowUp);
    seen.sort();
    assert_eq!(
        seen,
        [
            "Al 30 dagen niets gehoord van Fatima",
            "Al 30 dagen niets gehoord van Jan"
        ]
    );
    let report = circle_report(&plan, now).for_audience(Audience::MainPerson);
    assert_eq!(
        report.urgent + report.attention,
        u32::try_from(report.signals.len()).unwrap()
    );
}
