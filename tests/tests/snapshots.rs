//! Snapshots end to end, on the real relay in-process (`kring_e2e::in_process`): the
//! main person's phone uploads one as the circle grows, a new member's phone starts
//! from it and fetches only what came after, and a snapshot that fails any check is
//! ignored for the whole history — never half used.

use std::sync::Arc;

use kring_client::device::SyncReport;
use kring_client::snapshot::SnapshotPolicy;
use kring_client::sync::transport::Request;
use kring_e2e::in_process::{get_of, Fault, InProcessRelay};
use kring_e2e::phone::Phone;
use kring_plan::plan::{CircleId, Language, Relation};
use kring_trust::membership::Capability;
use kring_trust::request_auth::HEADER_INVITE;
use kring_trust::Timestamp;

/// Snapshots after every 5 envelopes, so a test circle gets one quickly.
const OFTEN: SnapshotPolicy = SnapshotPolicy {
    start_from: true,
    make_every: 5,
};

/// A phone on the in-process relay that makes and uses snapshots [`OFTEN`].
fn phone(relay: &Arc<InProcessRelay>) -> Phone {
    let mut phone = Phone::over(relay.clone());
    phone.device.set_snapshot_policy(OFTEN);
    phone
}

/// Joins by `link`; the report of the sync that brought the plan. (The join's own
/// first sync is made to fail, as on a phone that lost its signal right after the
/// invite was accepted, so the next sync's report shows how the plan came.)
fn join(phone: &mut Phone, relay: &InProcessRelay, link: &str, name: &str) -> SyncReport {
    for _ in 0..4 {
        relay.fault_next(device_reads_the_log, Fault::Unreachable);
    }
    let circle = phone
        .device
        .join(link, name, Relation::Friend, Timestamp::now())
        .expect("join");
    assert_eq!(phone.device.pending_joins().expect("pending").len(), 1);
    let report = phone.synced(&circle);
    assert!(report.joined, "the plan arrived: {report:?}");
    report
}
/// A device's (not an invite's) read of the membership log: the first step of a sync.
fn device_reads_the_log(request: &Request) -> bool {
    request.method() == http::Method::GET
        && request.uri().path().ends_with("/membership")
        && !request.headers().contains_key(HEADER_INVITE)
}

/// Sanne's circle with Jan in it, 12 posts between them (more than two snapshots'
/// worth), everything synced both ways; and an invite for a third person.
fn busy_circle(relay: &Arc<InProcessRelay>) -> (Phone, Phone, CircleId, String) {
    let mut sanne = phone(relay);
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
    let invite = |sanne: &mut Phone| {
        sanne
            .device
            .invite(&circle, Capability::Member, now.plus_days(2), now)
            .expect("invite")
    };
    let mut jan = phone(relay);
    join(&mut jan, relay, &invite(&mut sanne), "Jan");
    for i in 0..6 {
        sanne.post(&circle, &format!("Sanne {i}"));
        sanne.synced(&circle);
        jan.post(&circle, &format!("Jan {i}"));
        jan.synced(&circle);
    }
    sanne.synced(&circle);
    jan.synced(&circle);
    assert_eq!(sanne.view(&circle), jan.view(&circle));
    let link = invite(&mut sanne);
    (sanne, jan, circle, link)
}

#[test]
fn a_new_phone_starts_from_the_main_persons_snapshot_and_ends_with_the_same_plan() {
    let relay = InProcessRelay::start();
    let (mut sanne, mut jan, circle, link) = busy_circle(&relay);
    assert!(
        relay.count("PUT", "/snapshot") >= 2,
        "Sanne's phone made snapshots"
    );
    let uploads: Vec<_> = relay
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT" && s.path.ends_with("/snapshot"))
        .collect();
    assert!(uploads.iter().all(|s| s.status == Some(200)), "{uploads:?}");

    let mut piet = phone(&relay);
    let report = join(&mut piet, &relay, &link, "Piet");
    let covers = report
        .started_from_snapshot
        .expect("Piet's phone started from the snapshot");
    assert!(
        covers >= 10,
        "the snapshot covers most of the history: {covers}"
    );
    assert!(
        report.pulled < 6,
        "only what came after the snapshot is pulled: {}",
        report.pulled
    );
    assert_eq!(report.snapshots_refused, 0);

    // The circle goes on as before: Piet's record and post reach the others, theirs
    // reach him, and all three plans are the same.
    piet.post(&circle, "Piet kookt vrijdag");
    piet.synced(&circle);
    sanne.post(&circle, "Dank je, Piet");
    sanne.synced(&circle);
    jan.synced(&circle);
    piet.synced(&circle);
    let view = sanne.view(&circle);
    assert_eq!(view, jan.view(&circle));
    assert_eq!(view, piet.view(&circle));
    assert!(view.members.iter().any(|m| m.display_name == "Piet"));
    assert_eq!(view.log.len(), 14);
}

#[test]
fn a_snapshot_that_fails_a_check_is_ignored_and_the_whole_history_fetched() {
    let relay = InProcessRelay::start();
    let (sanne, _jan, circle, link) = busy_circle(&relay);
    relay.fault_next(get_of("/snapshot"), Fault::Tampered);
    let mut piet = phone(&relay);
    let report = join(&mut piet, &relay, &link, "Piet");
    assert_eq!(report.snapshots_refused, 1);
    assert_eq!(report.started_from_snapshot, None);
    assert!(report.pulled >= 13, "the whole history: {}", report.pulled);
    let mut expected = sanne.view(&circle).log;
    expected.sort_by_key(|e| e.at);
    let mut got = piet.view(&circle).log;
    got.sort_by_key(|e| e.at);
    assert_eq!(got, expected);
}

#[test]
fn with_snapshots_off_a_phone_fetches_the_whole_history() {
    let relay = InProcessRelay::start();
    let (sanne, _jan, circle, link) = busy_circle(&relay);
    let mut piet = phone(&relay);
    piet.device.set_snapshot_policy(SnapshotPolicy {
        start_from: false,
        make_every: 0,
    });
    let asked = relay.count("GET", "/snapshot");
    let report = join(&mut piet, &relay, &link, "Piet");
    assert_eq!(report.started_from_snapshot, None);
    assert_eq!(
        relay.count("GET", "/snapshot"),
        asked,
        "never asked for one"
    );
    assert_eq!(piet.view(&circle).log, sanne.view(&circle).log);
}

#[test]
fn the_main_persons_new_phone_starts_from_her_snapshot_and_makes_the_next_one() {
    let relay = InProcessRelay::start();
    let (sanne, mut jan, circle, _) = busy_circle(&relay);
    let now = Timestamp::now();
    let link = sanne
        .device
        .device_link(&circle, now.plus_millis(600_000), now)
        .expect("device link");
    let mut second = phone(&relay);
    for _ in 0..4 {
        relay.fault_next(device_reads_the_log, Fault::Unreachable);
    }
    second.device.add_device(&link, now).expect("add device");
    let report = second.synced(&circle);
    assert!(report.joined, "{report:?}");
    assert!(report.started_from_snapshot.is_some(), "{report:?}");
    // The circle goes on; the new phone, one of the main person's, attests every
    // device from what it applied (the snapshot's envelopes and those after it) and
    // makes the next snapshot itself.
    let mut made = None;
    for i in 0..6 {
        jan.post(&circle, &format!("Jan later {i}"));
        jan.synced(&circle);
        made = made.or(second.synced(&circle).snapshot_made);
    }
    assert!(made.is_some(), "the new phone made a snapshot");
    assert_eq!(second.view(&circle), jan.view(&circle));
}
