//! The web app's core (`kring-web`, built natively here; the browser runs the same
//! code as WebAssembly, `web/tests/browser.test.mjs`) against the real relay
//! in-process, beside native phones: it joins by an invite, claims, syncs, and its
//! changes and the phones' meet in one plan; what it stores reopens as it was; a
//! relay that refuses or cannot be reached changes nothing that was stored; a member
//! removed on the phones loses the circle in the browser too.

use std::sync::Arc;

use kring_e2e::browser::drive;
use kring_e2e::in_process::{Fault, InProcessRelay};
use kring_e2e::phone::Phone;
use kring_plan::plan::{CircleId, Language, PlanView, Relation, TaskId};
use kring_trust::membership::Capability;
use kring_trust::Timestamp;
use kring_web::device::WebDevice;
use kring_web::Error;

fn sync(web: &mut WebDevice, relay: &Arc<InProcessRelay>, circle: &CircleId) -> Result<(), Error> {
    let first = web.begin_sync(circle, Timestamp::now())?;
    drive(web, relay, first).map(|_| ())
}

/// Sanne's circle (a native phone) with one task for one person, and an invite.
fn sannes_circle(relay: &Arc<InProcessRelay>) -> (Phone, CircleId, TaskId, String) {
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
    let task = sanne
        .device
        .change_plan(&circle, now, |plan, me| {
            plan.add_task(
                me,
                kring_plan::plan::NewTask::simple("Boodschappen doen"),
                now,
            )
        })
        .expect("task");
    sanne.synced(&circle);
    let link = sanne
        .device
        .invite(&circle, Capability::Member, now.plus_days(2), now)
        .expect("invite");
    (sanne, circle, task, link)
}

fn joined(relay: &Arc<InProcessRelay>, link: &str, name: &str) -> (WebDevice, CircleId) {
    let mut web = WebDevice::generate();
    let first = web
        .begin_join(link, name, Relation::Family, Timestamp::now())
        .expect("begin join");
    let report = drive(&mut web, relay, first).expect("join");
    assert!(report.joined, "the plan came with the join");
    let circle = web.circles()[0].circle.clone();
    (web, circle)
}

fn winners(view: &PlanView, task: &TaskId) -> Vec<String> {
    let task = view.task(task).expect("task");
    task.claims
        .iter()
        .filter(|c| c.winner)
        .map(|c| view.display_name(&c.member))
        .collect()
}

#[test]
fn a_browser_member_joins_claims_and_the_phones_see_it() {
    let relay = InProcessRelay::start();
    let (mut sanne, circle, task, link) = sannes_circle(&relay);
    let (mut jan, joined_circle) = joined(&relay, &link, "Jan");
    assert_eq!(joined_circle, circle);
    assert_eq!(jan.view(&circle).unwrap().circle.name, "Kring van Sanne");

    // Offline: the claim is kept in the outbox, and the sync fails without losing it.
    jan.claim(&circle, task.as_str(), Timestamp::now())
        .expect("claim");
    relay.fault_next(|_| true, Fault::Unreachable);
    relay.fault_next(|_| true, Fault::Unreachable);
    relay.fault_next(|_| true, Fault::Unreachable);
    relay.fault_next(|_| true, Fault::Unreachable);
    relay.fault_next(|_| true, Fault::Unreachable);
    let offline = sync(&mut jan, &relay, &circle);
    assert!(offline.is_err(), "no relay, no sync");
    assert_eq!(jan.circles()[0].unsent, 1, "the claim waits in the outbox");

    sync(&mut jan, &relay, &circle).expect("sync");
    assert_eq!(jan.circles()[0].unsent, 0);
    sanne.synced(&circle);
    let on_phone = sanne.view(&circle);
    assert!(on_phone.members.iter().any(|m| m.display_name == "Jan"));
    assert_eq!(winners(&on_phone, &task), ["Jan"]);

    // And back: Sanne's post reaches the browser.
    sanne.post(&circle, "Dank je, Jan!");
    sanne.synced(&circle);
    sync(&mut jan, &relay, &circle).expect("sync");
    let texts: Vec<_> = jan
        .view(&circle)
        .unwrap()
        .log
        .iter()
        .map(|e| e.text.clone())
        .collect();
    assert!(texts.contains(&"Dank je, Jan!".to_owned()), "{texts:?}");
}

#[test]
fn the_last_place_goes_to_the_same_member_in_the_browser_and_on_the_phone() {
    let relay = InProcessRelay::start();
    let (sanne, circle, task, link) = sannes_circle(&relay);
    let (mut jan, _) = joined(&relay, &link, "Jan");
    let mut piet = Phone::over(relay.clone());
    let link = sanne
        .device
        .invite(
            &circle,
            Capability::Member,
            Timestamp::now().plus_days(2),
            Timestamp::now(),
        )
        .expect("invite");
    piet.device
        .join(&link, "Piet", Relation::Neighbour, Timestamp::now())
        .expect("Piet joins");
    sync(&mut jan, &relay, &circle).expect("sync");

    // Both claim the one place before either syncs.
    jan.claim(&circle, task.as_str(), Timestamp::now())
        .expect("Jan claims");
    piet.device
        .change_plan(&circle, Timestamp::now(), |plan, me| {
            plan.claim_task(me, &task, Timestamp::now())
        })
        .expect("Piet claims");
    piet.synced(&circle);
    sync(&mut jan, &relay, &circle).expect("sync");
    piet.synced(&circle);

    let in_browser = winners(&jan.view(&circle).unwrap(), &task);
    let on_phone = winners(&piet.view(&circle), &task);
    assert_eq!(in_browser.len(), 1);
    assert_eq!(in_browser, on_phone);
    assert!(jan.view(&circle).unwrap().task(&task).unwrap().overbooked);
}

#[test]
fn what_the_browser_stores_reopens_as_it_was_and_a_garbled_store_is_refused() {
    let relay = InProcessRelay::start();
    let (_sanne, circle, task, link) = sannes_circle(&relay);
    let (mut jan, _) = joined(&relay, &link, "Jan");
    jan.claim(&circle, task.as_str(), Timestamp::now())
        .expect("claim");
    let bytes = jan.to_bytes().expect("save");
    let mut again = WebDevice::from_bytes(&bytes).expect("reopen");
    assert_eq!(again.identity().id(), jan.identity().id());
    assert_eq!(again.view(&circle).unwrap(), jan.view(&circle).unwrap());
    assert_eq!(again.circles()[0].unsent, 1, "the outbox survived");
    sync(&mut again, &relay, &circle).expect("the reopened device syncs");

    let mut garbled = bytes.clone();
    let middle = garbled.len() / 2;
    garbled[middle] ^= 0xff;
    garbled.truncate(middle + 1);
    assert!(matches!(
        WebDevice::from_bytes(&garbled),
        Err(Error::CorruptState(_)) | Err(Error::Sync(_))
    ));
}

#[test]
fn a_browser_reader_or_member_is_refused_what_only_the_main_person_may_and_nothing_changes() {
    let relay = InProcessRelay::start();
    let (_sanne, circle, _task, link) = sannes_circle(&relay);
    let (mut jan, _) = joined(&relay, &link, "Jan");
    let before = jan.to_bytes().expect("save");
    let refused = jan
        .change(&circle, |plan, me| {
            plan.set_question(me, "Een andere vraag", Timestamp::now())
        })
        .expect_err("only the main person sets her question");
    assert_eq!(refused.class().kind, kring_trust::ErrorKind::NotAllowed);
    assert_eq!(jan.to_bytes().expect("save"), before, "nothing changed");
    assert_eq!(jan.circles()[0].unsent, 0);
}

#[test]
fn a_member_removed_on_the_phones_loses_the_circle_in_the_browser() {
    let relay = InProcessRelay::start();
    let (mut sanne, circle, _task, link) = sannes_circle(&relay);
    let (mut jan, _) = joined(&relay, &link, "Jan");
    sanne.synced(&circle);
    let jan_id = sanne
        .view(&circle)
        .members
        .iter()
        .find(|m| m.display_name == "Jan")
        .expect("Jan")
        .id
        .clone();
    sanne
        .device
        .remove_member(&circle, &jan_id, Timestamp::now())
        .expect("remove");
    let err = sync(&mut jan, &relay, &circle).expect_err("removed");
    assert_eq!(
        err.class().code,
        kring_trust::error::codes::REMOVED,
        "{err:?}"
    );
    assert!(jan.circles().is_empty(), "the browser erased the circle");
}

#[test]
fn a_garbled_or_used_invite_changes_nothing() {
    let relay = InProcessRelay::start();
    let (_sanne, _circle, _task, link) = sannes_circle(&relay);
    let mut web = WebDevice::generate();
    let cut = &link[..link.len() - 12];
    assert!(web
        .begin_join(cut, "Kees", Relation::Friend, Timestamp::now())
        .is_err());
    let (_jan, _) = joined(&relay, &link, "Jan");
    let first = web
        .begin_join(&link, "Kees", Relation::Friend, Timestamp::now())
        .expect("the link reads");
    let used = drive(&mut web, &relay, first).expect_err("the invite was used");
    assert_eq!(
        used.class().kind,
        kring_trust::ErrorKind::InviteUsed,
        "{used:?}"
    );
    assert!(web.circles().is_empty());
    // The phone form of the link: the secret in the fragment.
    assert_eq!(
        kring_web::device::invite_link(&format!("https://relay.example/join#{link}")),
        link
    );
}
