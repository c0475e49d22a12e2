//! The sync session against the real relay in-process (`kring_e2e::in_process`): the
//! relay's router, rules and SQLite file, no port, no process — and a network that
//! fails on purpose. Beside the end-to-end tests over real HTTP (`circle.rs`,
//! `devices.rs`), these cover each step of a sync and each way it can be interrupted:
//! register, push, pull, join, removal, retry after an unreachable relay, a lost
//! acknowledgement, and a relay restored from an older backup.

use std::sync::Arc;

use kring_client::Error;
use kring_e2e::in_process::{post_to, Fault, InProcessRelay};
use kring_e2e::phone::Phone;
use kring_plan::plan::{CircleId, Language, PlanView, Relation};
use kring_trust::membership::Capability;
use kring_trust::Error as TrustError;
use kring_trust::Timestamp;

/// A phone on the in-process relay.
fn phone(relay: &Arc<InProcessRelay>) -> Phone {
    Phone::over(relay.clone())
}

fn posts(view: &PlanView) -> Vec<&str> {
    view.log.iter().map(|e| e.text.as_str()).collect()
}

/// Sanne's circle on the in-process relay, registered by her first sync, and an
/// invite to it.
fn circle_and_invite(relay: &Arc<InProcessRelay>) -> (Phone, CircleId, String) {
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
    let link = sanne
        .device
        .invite(&circle, Capability::Member, now.plus_days(2), now)
        .expect("invite");
    (sanne, circle, link)
}

/// [`circle_and_invite`], and Jan in the circle by the invite.
fn circle_with_jan(relay: &Arc<InProcessRelay>) -> (Phone, Phone, CircleId) {
    let (mut sanne, circle, link) = circle_and_invite(relay);
    let mut jan = phone(relay);
    let joined = jan
        .device
        .join(&link, "Jan", Relation::Family, Timestamp::now())
        .expect("join");
    assert_eq!(joined, circle);
    assert!(
        jan.device.pending_joins().expect("pending").is_empty(),
        "the plan arrived with the join"
    );
    sanne.synced(&circle);
    // Jan's next pull then holds only what is new (not the echo of his own record).
    jan.synced(&circle);
    (sanne, jan, circle)
}

#[test]
fn register_push_pull_and_join_go_through_the_relays_rules() {
    let relay = InProcessRelay::start();
    let (mut sanne, mut jan, circle) = circle_with_jan(&relay);
    assert_eq!(relay.count("POST", "/v1/circles"), 1, "registered once");
    let names = sanne.member_names(&circle);
    assert!(
        names.contains(&"Jan".to_owned()),
        "Jan's record reached Sanne"
    );

    jan.post(&circle, "Ik rijd dinsdag");
    let report = jan.synced(&circle);
    assert_eq!(report.pushed, 1);
    let report = sanne.synced(&circle);
    assert_eq!(report.applied_changes, 1);
    assert_eq!(posts(&sanne.view(&circle)), ["Ik rijd dinsdag"]);
    assert_eq!(sanne.view(&circle), jan.view(&circle));
    // Every exchange was answered by the relay, and none was refused (Jan's phone
    // asked for a snapshot to start from: there was none yet).
    for seen in relay.seen() {
        assert!(seen.answered, "{seen:?}");
        let none_yet = seen.path.ends_with("/snapshot") && seen.status == Some(404);
        assert!(seen.status.is_some_and(|s| s < 300) || none_yet, "{seen:?}");
    }
}

#[test]
fn a_relay_that_cannot_be_reached_is_tried_again_and_nothing_is_lost() {
    let relay = InProcessRelay::start();
    let (mut sanne, mut jan, circle) = circle_with_jan(&relay);
    sanne.post(&circle, "Sleutel ligt bij de buren");
    let before = relay.count("POST", "/envelopes");
    relay.fault_next(post_to("/envelopes"), Fault::Unreachable);
    relay.fault_next(post_to("/envelopes"), Fault::Unreachable);
    let report = sanne.synced(&circle);
    assert_eq!(report.pushed, 1, "pushed on the third try");
    assert_eq!(relay.count("POST", "/envelopes") - before, 3);
    assert_eq!(sanne.pending(&circle), 0);
    jan.synced(&circle);
    assert_eq!(posts(&jan.view(&circle)), ["Sleutel ligt bij de buren"]);

    // Unreachable for longer than one sync tries: the sync fails as "offline", the
    // change waits in the outbox, and the next sync delivers it.
    sanne.post(&circle, "Morgen regent het");
    for _ in 0..4 {
        relay.fault_next(post_to("/envelopes"), Fault::Unreachable);
    }
    sanne.sync_fails_offline(&circle);
    assert!(sanne
        .device
        .status(&circle)
        .expect("status")
        .last_error
        .is_some());
    assert_eq!(sanne.pending(&circle), 1, "kept for later");
    sanne.synced(&circle);
    assert_eq!(sanne.pending(&circle), 0);
    jan.synced(&circle);
    assert_eq!(
        posts(&jan.view(&circle)),
        ["Sleutel ligt bij de buren", "Morgen regent het"]
    );
}

#[test]
fn a_lost_acknowledgement_is_repaired_by_the_next_push_and_the_envelope_is_stored_once() {
    let relay = InProcessRelay::start();
    let (mut sanne, mut jan, circle) = circle_with_jan(&relay);
    sanne.post(&circle, "Eerste");
    let before = relay.seen().len();
    // Every answer of this sync's pushes is lost: the relay stored the envelope, the
    // phone cannot know it.
    for _ in 0..4 {
        relay.fault_next(post_to("/envelopes"), Fault::AnswerLost);
    }
    sanne.sync_fails_offline(&circle);
    assert_eq!(
        sanne.pending(&circle),
        1,
        "not acknowledged, so still pending"
    );
    let pushes = relay.seen()[before..]
        .iter()
        .filter(|s| s.path.ends_with("/envelopes") && s.method == "POST")
        .filter(|s| s.status == Some(200) && !s.answered)
        .count();
    assert_eq!(
        pushes, 4,
        "the relay took each repeat (idempotent), no answer came back"
    );

    sanne.post(&circle, "Tweede");
    sanne.synced(&circle);
    assert_eq!(
        sanne.pending(&circle),
        0,
        "the repeat's cursor acknowledged the first"
    );
    let report = jan.synced(&circle);
    assert_eq!(report.pulled, 2, "two envelopes on the relay, not five");
    assert_eq!(posts(&jan.view(&circle)), ["Eerste", "Tweede"]);
}

#[test]
fn a_relay_restored_from_an_older_backup_gets_the_missing_envelopes_again() {
    let relay = InProcessRelay::start();
    let (mut sanne, mut jan, circle) = circle_with_jan(&relay);
    let backup = relay.backup();
    sanne.post(&circle, "Voor het herstel 1");
    sanne.post(&circle, "Voor het herstel 2");
    assert_eq!(sanne.synced(&circle).pushed, 2);
    // The operator restores last night's backup: the relay forgot both envelopes.
    relay.restore(&backup);
    sanne.post(&circle, "Na het herstel");
    sanne.synced(&circle);
    assert_eq!(sanne.pending(&circle), 0);
    jan.synced(&circle);
    assert_eq!(
        posts(&jan.view(&circle)),
        ["Voor het herstel 1", "Voor het herstel 2", "Na het herstel"],
        "the phone sent again what the relay had lost"
    );
}

#[test]
fn a_join_whose_answer_was_lost_still_stands() {
    let relay = InProcessRelay::start();
    let (mut sanne, circle, link) = circle_and_invite(&relay);
    let mut jan = phone(&relay);
    // The redemption reaches the relay; its answer does not reach Jan's phone.
    relay.fault_next(post_to("/membership"), Fault::AnswerLost);
    let joined = jan
        .device
        .join(&link, "Jan", Relation::Family, Timestamp::now())
        .expect("the join stands");
    assert_eq!(joined, circle);
    sanne.synced(&circle);
    let names = sanne.member_names(&circle);
    assert_eq!(names.iter().filter(|n| *n == "Jan").count(), 1, "{names:?}");
}

#[test]
fn a_removed_member_is_cut_off_and_their_phone_forgets_the_circle() {
    let relay = InProcessRelay::start();
    let (mut sanne, mut jan, circle) = circle_with_jan(&relay);
    let jan_id = jan.device.me(&circle).expect("me");
    sanne
        .device
        .remove_member(&circle, &jan_id, Timestamp::now())
        .expect("remove");
    sanne.post(&circle, "Na Jans vertrek");
    sanne.synced(&circle);
    let err = jan
        .device
        .sync(&circle, Timestamp::now())
        .expect_err("removed");
    assert!(matches!(err, Error::Trust(TrustError::Removed(_))), "{err}");
    assert!(jan.device.view(&circle).is_err(), "the plan is erased");
    assert_eq!(jan.device.departures().expect("departures").len(), 1);
}
