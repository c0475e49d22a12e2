//! Benchmark: expanding a year of occurrences for every task of a circle with two
//! years of tasks (2,000 series in civil time, Europe/Amsterdam), against the budget
//! of the follow-up report on the same view (issue 11: "stays within the follow-up
//! report's budget"), and the reminder schedule an app recomputes after every sync
//! (issue 15), for a member who could take any of them.
//!
//! Run: `cargo bench -p kring-core --bench occurrences`

use std::time::Instant;

use automerge::ActorId;
use kring_plan::followup::circle_report;
use kring_plan::plan::recurrence::{CivilStart, Recurrence};
use kring_plan::plan::{
    CircleId, CirclePlan, Language, NewCircle, NewMember, NewTask, Relation, Schedule,
};
use kring_plan::reminders::{schedule, ReminderSettings, Viewer};

const TASKS: usize = 2_000;
const ZONE: &str = "Europe/Amsterdam";

fn main() {
    let at = |s: &str| {
        CivilStart::parse(s)
            .expect("date")
            .instant(ZONE)
            .expect("instant")
    };
    let now = at("2026-12-01T09:00");
    let (mut plan, main) = CirclePlan::create(
        ActorId::random(),
        CircleId::random(),
        NewCircle {
            name: "Kring".into(),
            language: Language::Nl,
            main_person_name: "Sanne".into(),
        },
        at("2025-01-01T09:00"),
    )
    .expect("circle");
    plan.set_timezone(&main, ZONE, now).expect("zone");
    let jan = plan
        .add_member(
            &main,
            NewMember {
                display_name: "Jan".into(),
                relation: Relation::Family,
                role_label: String::new(),
            },
            now,
        )
        .expect("member");
    let rules = [
        "FREQ=WEEKLY;BYDAY=TU,TH",
        "FREQ=WEEKLY;BYDAY=WE",
        "FREQ=DAILY",
        "FREQ=MONTHLY;BYDAY=1MO",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
    ];
    let started = Instant::now();
    for i in 0..TASKS {
        let day = 1 + (i % 28);
        let schedule = Schedule::Repeat(Recurrence {
            start: format!("2025-{:02}-{day:02}T17:00", 1 + (i % 12)),
            rule: Some(rules[i % rules.len()].to_owned()),
            skipped: vec![],
            moved: vec![],
            zone: ZONE.into(),
        });
        let task = NewTask {
            schedule,
            ..NewTask::simple(format!("Taak {i}"))
        };
        plan.add_task(&main, task, at("2025-01-01T09:00"))
            .expect("task");
    }
    println!("fixture: {TASKS} series built in {:.1?}", started.elapsed());
    let view = plan.view();

    let viewer = Viewer {
        member: jan,
        audience: kring_plan::followup::Audience::Circle,
        can_claim: true,
        reading_in: None,
    };
    let settings = ReminderSettings::default();
    let mut expand = Vec::new();
    let mut reports = Vec::new();
    let mut reminders = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let n: usize = view
            .tasks
            .iter()
            .map(|task| {
                task.schedule
                    .occurrences_between(now, now.plus_days(365))
                    .len()
            })
            .sum();
        expand.push(t.elapsed());
        std::hint::black_box(n);
        let t = Instant::now();
        std::hint::black_box(circle_report(&view, now));
        reports.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(schedule(&view, &viewer, &settings, now, 7));
        reminders.push(t.elapsed());
    }
    expand.sort();
    reports.sort();
    reminders.sort();
    let occurrences: usize = view
        .tasks
        .iter()
        .map(|task| {
            task.schedule
                .occurrences_between(now, now.plus_days(365))
                .len()
        })
        .sum();
    println!(
        "expand a year of every task ({occurrences} occurrences): median {:.1?}",
        expand[expand.len() / 2]
    );
    println!(
        "follow-up report of the same view: median {:.1?}",
        reports[reports.len() / 2]
    );
    let count = schedule(&view, &viewer, &settings, now, 7).len();
    println!(
        "a member's reminders for the next 7 days ({count} reminders): median {:.1?}",
        reminders[reminders.len() / 2]
    );
}
