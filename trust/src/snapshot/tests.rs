//! Snapshot tests: who may make one, and every way a receiver refuses one. That the
//! document inside holds only changes its authors signed is the client's check.

use std::collections::BTreeMap;

use super::*;
use crate::envelope;
use crate::membership::Capability;
use crate::testkit::{change_by, Person, TestCircle};

const DOC: &[u8] = b"the whole plan, as automerge saves it";

fn circle() -> (TestCircle, Person, Person) {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    (circle, owner, member)
}

/// The owner's snapshot of `circle`, covering `covers`.
fn by_owner(circle: &TestCircle, owner: &Person, covers: u64) -> Vec<u8> {
    seal(
        &owner.device,
        &circle.state,
        &circle.keys(&owner.device),
        covers,
        DOC,
        &[DOC],
    )
    .unwrap()
}

fn forge(maker: &DeviceIdentity, state: &MembershipState, keys: &Keyring) -> Vec<u8> {
    super::forge(maker, state, keys, 7, DOC)
}

#[test]
fn the_main_persons_snapshot_opens_for_every_member() {
    let (circle, owner, member) = circle();
    let attestation = change_by(&owner.device, "an envelope, as stored");
    let sealed = seal(
        &owner.device,
        &circle.state,
        &circle.keys(&owner.device),
        42,
        DOC,
        &[&attestation],
    )
    .unwrap();
    let opened = open(&sealed, &circle.state, &circle.keys(&member.device)).unwrap();
    assert_eq!(opened.header.covers, 42);
    assert_eq!(opened.header.maker, owner.device.id());
    assert_eq!(opened.document, DOC);
    assert_eq!(opened.attestations, vec![attestation]);
    verify(&sealed, &circle.state)
        .unwrap()
        .check_current_epoch(&circle.state)
        .unwrap();
}

#[test]
fn a_snapshot_by_anyone_but_the_main_person_is_refused() {
    let (circle, owner, member) = circle();
    let keys = circle.keys(&member.device);
    // The honest client does not make one...
    let refused = seal(&member.device, &circle.state, &keys, 1, DOC, &[DOC]);
    assert!(matches!(refused, Err(Error::NotAllowed(_))), "{refused:?}");
    // ...and what a modified client makes is refused by whoever receives it.
    let forged = forge(&member.device, &circle.state, &keys);
    assert!(matches!(
        verify(&forged, &circle.state),
        Err(Error::NotAllowed(_))
    ));
    // A device that is no member at all.
    let stranger = Person::new();
    let forged = forge(&stranger.device, &circle.state, &circle.keys(&owner.device));
    assert!(matches!(
        verify(&forged, &circle.state),
        Err(Error::UnknownDevice(_))
    ));
}

#[test]
fn a_tampered_snapshot_is_refused_at_every_byte_that_matters() {
    let (circle, owner, member) = circle();
    let sealed = by_owner(&circle, &owner, 3);
    let keys = circle.keys(&member.device);
    for at in (0..sealed.len()).step_by(7) {
        let mut tampered = sealed.clone();
        tampered[at] ^= 0x20;
        assert!(
            open(&tampered, &circle.state, &keys).is_err(),
            "byte {at} changed and still opened"
        );
    }
}

#[test]
fn a_snapshot_of_another_circle_is_refused() {
    let (circle, _, _) = circle();
    let (other, other_owner) = TestCircle::new();
    let theirs = by_owner(&other, &other_owner, 1);
    assert!(matches!(
        verify(&theirs, &circle.state),
        Err(Error::WrongCircle { .. })
    ));
    // Its own circle's state accepts it; ours never sees its key.
    assert!(verify(&theirs, &other.state).is_ok());
}

#[test]
fn snapshots_and_envelopes_cannot_pass_for_each_other() {
    let (circle, owner, _) = circle();
    let keys = circle.keys(&owner.device);
    let snapshot = seal(&owner.device, &circle.state, &keys, 1, DOC, &[DOC]).unwrap();
    assert!(envelope::open(&snapshot, &circle.state, &keys).is_err());
    let change = change_by(&owner.device, "Oma dinsdag naar de dokter");
    let sealed = envelope::seal(
        &owner.device,
        &circle.state,
        &keys,
        1,
        None,
        std::slice::from_ref(&change),
    )
    .unwrap();
    assert!(open(sealed.as_bytes(), &circle.state, &keys).is_err());
}

#[test]
fn after_a_removal_the_old_snapshot_still_opens_but_the_relay_wants_the_new_key() {
    let (mut circle, owner, member) = circle();
    let old = by_owner(&circle, &owner, 5);
    circle.remove_member(&owner.device, &member.member, &BTreeMap::new());
    let verified = verify(&old, &circle.state).unwrap();
    assert!(matches!(
        verified.check_current_epoch(&circle.state),
        Err(Error::StaleEpoch { .. })
    ));
    // The removed member's key never opens what is sealed after the removal.
    let new = by_owner(&circle, &owner, 6);
    let removed_keys = Keyring::from_log(&member.device, &circle.state, &circle.log);
    let opened = removed_keys.map(|k| open(&new, &circle.state, &k));
    assert!(!matches!(opened, Ok(Ok(_))));
}
