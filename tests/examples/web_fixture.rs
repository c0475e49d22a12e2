//! The web app benchmark's fixture (`web/tests/bench.mjs`): a browser device's stored
//! bytes (what `Kring.save()` returns) holding a circle with two years of history —
//! 2,000 tasks with claims, completions and updates and ~20,000 changes, as in
//! `client/benches/plan_history.rs` — built by a native phone (the main person's) on
//! the relay in-process and pulled, checked and applied by the web core, as a browser
//! member who was there all along would have it.
//!
//! Run: `cargo run --release -p kring-e2e --example web_fixture -- OUT.bin [PLAN.automerge]`
//! (the second file: the same plan as a standard automerge document, for the
//! benchmark's JS automerge beside it).

use std::time::Instant;

use kring_e2e::browser::drive;
use kring_e2e::in_process::InProcessRelay;
use kring_e2e::phone::Phone;
use kring_plan::plan::{Language, LogKind, NewTask, Relation, Schedule};
use kring_trust::membership::Capability;
use kring_trust::Timestamp;
use kring_web::device::WebDevice;

const TASKS: usize = 2_000;
/// Tasks written per envelope (one `change_plan` each), so the fixture builds in
/// seconds; the document's history is the same change by change.
const PER_CHANGE: usize = 20;
const UPDATES: usize = 12_000;

fn main() {
    let out = std::env::args()
        .nth(1)
        .expect("usage: web_fixture OUT.bin [PLAN.automerge]");
    let document_out = std::env::args().nth(2);
    let started = Instant::now();
    let relay = InProcessRelay::start();
    let mut sanne = Phone::over(relay.clone());
    let now = Timestamp::now();
    let circle = sanne
        .device
        .create_circle(
            "Kring van Sanne",
            Language::Nl,
            "Sanne",
            Some(InProcessRelay::URL),
            now,
        )
        .expect("create");
    sanne.synced(&circle);
    let link = sanne
        .device
        .invite(&circle, Capability::Member, now.plus_days(2), now)
        .expect("invite");
    let mut web = WebDevice::generate();
    let first = web
        .begin_join(&link, "Jan", Relation::Family, Timestamp::now())
        .expect("join");
    drive(&mut web, &relay, first).expect("the web core syncs");
    sanne.synced(&circle);

    let start = now.plus_days(-730);
    let per_task = 730 * 24 * 3600 * 1000 / TASKS as i64;
    for batch in 0..TASKS / PER_CHANGE {
        sanne
            .device
            .change_plan(&circle, Timestamp::now(), |plan, me| {
                for j in 0..PER_CHANGE {
                    let i = batch * PER_CHANGE + j;
                    let at = start.plus_millis(i as i64 * per_task);
                    let schedule = if i.is_multiple_of(10) {
                        Schedule::Weekly {
                            first_at: at,
                            every_weeks: 1,
                            until: Some(at.plus_days(56)),
                        }
                    } else {
                        Schedule::Due {
                            at: at.plus_days(3),
                        }
                    };
                    let new = NewTask {
                        slots: 1 + (i % 2) as u32,
                        schedule,
                        ..NewTask::simple(format!("Taak {i}: boodschappen doen"))
                    };
                    let task = plan.add_task(me, new, at)?;
                    plan.claim_task(me, &task, at.plus_millis(1000))?;
                    plan.complete_task(me, &task, None, "gedaan", at.plus_days(3))?;
                    plan.post(
                        me,
                        LogKind::Update,
                        "Het ging goed vandaag.",
                        at.plus_days(3),
                    )?;
                }
                Ok(())
            })
            .expect("tasks");
    }
    for batch in 0..UPDATES / 200 {
        sanne
            .device
            .change_plan(&circle, Timestamp::now(), |plan, me| {
                for j in 0..200 {
                    let at = now.plus_millis(-((batch * 200 + j) as i64) * 1000);
                    plan.post(me, LogKind::Thanks, "Even laten weten hoe het gaat.", at)?;
                }
                Ok(())
            })
            .expect("updates");
    }
    // Something open this week, for the first screen.
    sanne
        .device
        .change_plan(&circle, Timestamp::now(), |plan, me| {
            for i in 0..5 {
                let new = NewTask {
                    schedule: Schedule::Due {
                        at: now.plus_days(i + 1),
                    },
                    ..NewTask::simple(format!("Deze week {i}"))
                };
                plan.add_task(me, new, now)?;
            }
            Ok(())
        })
        .expect("this week");
    sanne.synced(&circle);
    let first = web.begin_sync(&circle, Timestamp::now()).expect("sync");
    drive(&mut web, &relay, first).expect("the web core syncs");
    let view = web.view(&circle).expect("view");
    let bytes = web.to_bytes().expect("save");
    std::fs::write(&out, &bytes).expect("write");
    if let Some(path) = document_out {
        let plan = sanne.device.plan(&circle).expect("plan");
        std::fs::write(path, plan.export()).expect("write the document");
    }
    let restore = Instant::now();
    let again = WebDevice::from_bytes(&bytes).expect("restore");
    let restored = restore.elapsed();
    let view_at = Instant::now();
    let _ = again.view(&circle).expect("view");
    println!(
        "web fixture: {} tasks, {} log entries, {} KiB stored, built in {:.1?}; natively: restore {:.0?}, view {:.0?}",
        view.tasks.len(),
        view.log.len(),
        bytes.len() / 1024,
        started.elapsed(),
        restored,
        view_at.elapsed()
    );
    println!("circle {circle}");
}
