//! Benchmark: a new phone joining a circle with two years of history (~20,000
//! changes as real envelopes from three members' devices, on the real relay over
//! loopback HTTP) — the time from accepting the invite to the complete plan on screen
//! (join, sync, view), with the main person's snapshot and without.
//!
//! Target (issue 12): ≤ 1 s with a snapshot.
//!
//! Run: `cargo bench -p kring-e2e --bench catch_up -- [--changes N]`
//! (the relay is built in the same profile as the bench: release).

use std::time::{Duration, Instant};

use kring_client::snapshot::SnapshotPolicy;
use kring_e2e::phone::Phone;
use kring_e2e::RelayProcess;
use kring_plan::plan::{CircleId, Language, NewTask, Relation, TaskId};
use kring_trust::membership::Capability;
use kring_trust::Timestamp;

/// Changes per round: the main person adds 20 tasks and 20 updates, each helper
/// claims and completes 10 of them and posts 10 updates.
const PER_ROUND: usize = 100;

/// A phone over HTTP with `policy`.
fn phone(policy: SnapshotPolicy) -> Phone {
    let mut phone = Phone::new();
    phone.device.set_snapshot_policy(policy);
    phone
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let changes: usize = args
        .iter()
        .position(|a| a == "--changes")
        .and_then(|i| args.get(i + 1))
        .map_or(20_000, |n| n.parse().expect("--changes N"));
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&dir.path().join("relay.db"));
    let started = Instant::now();
    let (mut sanne, circle) = history(&relay.url(), changes);
    let status = sanne.device.status(&circle).expect("status");
    let expected = sanne.device.view(&circle).expect("view");
    println!(
        "fixture: {} tasks, {} log entries, ~{changes} changes as envelopes, built in {:.1?} (pending {})",
        expected.tasks.len(),
        expected.log.len(),
        started.elapsed(),
        status.pending
    );
    for (label, start_from) in [("with the snapshot", true), ("whole history", false)] {
        let mut samples = Vec::new();
        for _ in 0..3 {
            let link = sanne
                .device
                .invite(
                    &circle,
                    Capability::Member,
                    Timestamp::now().plus_days(1),
                    Timestamp::now(),
                )
                .expect("invite");
            let mut phone = phone(SnapshotPolicy {
                start_from,
                make_every: 0,
            });
            let t = Instant::now();
            let joined = phone
                .device
                .join(&link, "Nieuw", Relation::Friend, Timestamp::now())
                .expect("join");
            assert!(phone.device.pending_joins().expect("pending").is_empty());
            let view = phone.device.view(&joined).expect("view");
            let took = t.elapsed();
            assert_eq!(view.tasks.len(), expected.tasks.len(), "the complete plan");
            assert_eq!(view.log.len(), expected.log.len(), "the complete plan");
            samples.push(took);
            // The newcomer's record reaches the others, as a real join's would.
            sanne.synced(&circle);
        }
        report(label, &mut samples);
    }
}

fn report(label: &str, samples: &mut [Duration]) {
    samples.sort();
    println!(
        "join → complete plan on screen, {label}: median {:.0?}, min {:.0?}, max {:.0?} ({} runs)",
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
        samples.len()
    );
}

/// The main person's phone (which makes snapshots as any would, every 1,000
/// envelopes) and two helpers' phones writing `changes` changes in rounds, each
/// round synced by all three.
fn history(relay: &str, changes: usize) -> (Phone, CircleId) {
    let mut sanne = phone(SnapshotPolicy::default());
    let now = Timestamp::now();
    let circle = sanne
        .device
        .create_circle("Kring van Sanne", Language::Nl, "Sanne", Some(relay), now)
        .expect("create");
    sanne.synced(&circle);
    let mut helpers: Vec<Phone> = ["Jan", "Piet"]
        .iter()
        .map(|name| {
            let link = sanne
                .device
                .invite(&circle, Capability::Member, now.plus_days(1), now)
                .expect("invite");
            let mut phone = phone(SnapshotPolicy::default());
            phone
                .device
                .join(&link, name, Relation::Family, Timestamp::now())
                .expect("join");
            phone
        })
        .collect();
    sanne.synced(&circle);
    let mut snapshots = 0;
    for round in 0..changes.div_ceil(PER_ROUND) {
        let mut tasks: Vec<TaskId> = Vec::new();
        for i in 0..20 {
            let task = sanne
                .device
                .change_plan(&circle, Timestamp::now(), |plan, me| {
                    plan.add_task(
                        me,
                        NewTask::simple(format!("Taak {round}.{i}: boodschappen")),
                        Timestamp::now(),
                    )
                })
                .expect("task");
            tasks.push(task);
            sanne.post(&circle, &format!("Ronde {round}: taak {i} staat klaar"));
        }
        if sanne.synced(&circle).snapshot_made.is_some() {
            snapshots += 1;
        }
        for (h, helper) in helpers.iter_mut().enumerate() {
            helper.synced(&circle);
            for task in &tasks[h * 10..h * 10 + 10] {
                helper
                    .device
                    .change_plan(&circle, Timestamp::now(), |plan, me| {
                        plan.claim_task(me, task, Timestamp::now())
                    })
                    .expect("claim");
                helper
                    .device
                    .change_plan(&circle, Timestamp::now(), |plan, me| {
                        plan.complete_task(me, task, None, "gedaan", Timestamp::now())
                            .map(drop)
                    })
                    .expect("complete");
                helper.post(&circle, "Boodschappen gebracht");
            }
            helper.synced(&circle);
        }
        if sanne.synced(&circle).snapshot_made.is_some() {
            snapshots += 1;
        }
        if round % 20 == 19 {
            eprintln!(
                "  … {} changes, {snapshots} snapshots",
                (round + 1) * PER_ROUND
            );
        }
    }
    (sanne, circle)
}
