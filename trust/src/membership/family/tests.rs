//! Family time: who is given the family key, what the family seals, and what a
//! professional's device (honest or modified) can and cannot do with it.

use std::collections::BTreeMap;

use crate::crypto::EpochKey;
use crate::envelope::{self, SealedFor};
use crate::error::Error;
use crate::identity::DeviceIdentity;
use crate::membership::{Action, Capability, FamilyKeys, KeyWrap, SignedEntry};
use crate::testkit::{change_by, Person, TestCircle};

/// A circle with its main person, a family member and a marked professional, family
/// time open.
fn family_time() -> (TestCircle, Person, Person, Person) {
    let (mut circle, owner) = TestCircle::new();
    let family = circle.join(&owner.device, Capability::Member);
    let professional = circle.join(&owner.device, Capability::Member);
    let at = circle.tick();
    let marked = circle
        .state
        .mark_professional(&owner.device, &professional.member, true, at)
        .unwrap();
    circle.append(marked);
    let at = circle.tick();
    let opened = circle.state.open_family_time(&owner.device, at).unwrap();
    circle.append(opened);
    (circle, owner, family, professional)
}

fn forge(circle: &TestCircle, author: &DeviceIdentity, action: Action) -> SignedEntry {
    let body = circle.state.next_body(author.id(), action, circle.now);
    SignedEntry::sign(author, &body, None).unwrap()
}

fn family_envelope(circle: &TestCircle, author: &DeviceIdentity, text: &str) -> Vec<u8> {
    envelope::seal_for_family(
        author,
        &circle.state,
        &circle.keys(author),
        1,
        None,
        &[change_by(author, text)],
    )
    .unwrap()
    .into_bytes()
}

#[test]
fn the_family_holds_the_family_key_and_a_professionals_device_nothing() {
    let (circle, owner, family, professional) = family_time();
    for person in [&owner, &family] {
        assert_eq!(
            circle
                .keys(&person.device)
                .family_generations()
                .collect::<Vec<_>>(),
            [1]
        );
    }
    let keys = circle.keys(&professional.device);
    assert_eq!(keys.family_generations().count(), 0);
    assert!(matches!(keys.family_key(1), Err(Error::FamilyTime(_))));
    // Nothing in the log is even addressed to her device.
    let wrapped: Vec<_> = circle
        .log
        .iter()
        .filter_map(|e| e.body().action.family_keys())
        .flat_map(|f| f.keys.iter().map(|k| k.device))
        .collect();
    assert!(!wrapped.contains(&professional.device.id()));
    assert_eq!(
        wrapped.len(),
        2,
        "the main person's and the family member's devices"
    );
}

#[test]
fn what_the_family_seals_verifies_for_everyone_and_opens_only_for_the_family() {
    let (circle, _owner, family, professional) = family_time();
    let bytes = family_envelope(&circle, &family.device, "de familie kookt op woensdag");
    // The relay and every device check it without the key.
    let verified = envelope::verify(&bytes, &circle.state).unwrap();
    assert_eq!(verified.sealed_for(), SealedFor::Family { generation: 1 });
    let opened = verified
        .clone()
        .decrypt(&circle.keys(&family.device))
        .unwrap();
    assert_eq!(
        opened.changes(),
        [change_by(&family.device, "de familie kookt op woensdag")]
    );
    // The professional's device has nothing to open it with.
    assert!(matches!(
        verified.decrypt(&circle.keys(&professional.device)),
        Err(Error::FamilyTime(_))
    ));
    let text = b"de familie kookt";
    assert!(
        !bytes.windows(text.len()).any(|w| w == text),
        "no plaintext in the bytes"
    );
}

#[test]
fn a_professional_cannot_seal_for_the_family_even_with_a_modified_client() {
    let (circle, _owner, _family, professional) = family_time();
    // The honest client refuses.
    assert!(matches!(
        envelope::seal_for_family(
            &professional.device,
            &circle.state,
            &circle.keys(&professional.device),
            1,
            None,
            &[change_by(&professional.device, "zo moet het")],
        ),
        Err(Error::FamilyTime(_))
    ));
    // A modified one, sealing under a key of its own as if it were the family's, is
    // refused by everyone who verifies it: her device was never given generation 1.
    let forged = envelope::tests_support::seal_with(
        &professional.device,
        &circle.state,
        SealedFor::Family { generation: 1 },
        &EpochKey::generate(),
        &[change_by(&professional.device, "zo moet het")],
    );
    assert!(matches!(
        envelope::verify(&forged, &circle.state),
        Err(Error::FamilyTime(_))
    ));
}

#[test]
fn a_mark_a_leave_or_a_join_puts_the_family_key_out_of_date_until_it_is_rotated() {
    let (mut circle, owner, family, professional) = family_time();
    let before = family_envelope(&circle, &family.device, "eerste");
    // The family member is marked professional: nothing more may be sealed for the
    // family under generation 1, not even by the main person.
    let at = circle.tick();
    let marked = circle
        .state
        .mark_professional(&owner.device, &family.member, true, at)
        .unwrap();
    circle.append(marked);
    assert!(matches!(
        circle.state.family_generation(),
        Err(Error::FamilyTime(_))
    ));
    assert!(envelope::seal_for_family(
        &owner.device,
        &circle.state,
        &circle.keys(&owner.device),
        1,
        None,
        &[change_by(&owner.device, "tweede")],
    )
    .is_err());
    // What was sealed before still verifies (history), at its own head.
    envelope::verify(&before, &circle.state).unwrap();
    let at = circle.tick();
    let rotated = circle.state.rotate_family_key(&owner.device, at).unwrap();
    circle.append(rotated);
    assert_eq!(circle.state.family_generation().unwrap(), 2);
    assert_eq!(
        circle
            .keys(&family.device)
            .family_generations()
            .collect::<Vec<_>>(),
        [1],
        "marked professional: no key for what comes after"
    );
    assert_eq!(
        circle
            .keys(&professional.device)
            .family_generations()
            .count(),
        0
    );
    // Leaving and joining each put it out of date again.
    let at = circle.tick();
    let cleared = circle
        .state
        .mark_professional(&owner.device, &professional.member, false, at)
        .unwrap();
    circle.append(cleared);
    assert!(circle.state.family_generation().is_err(), "a mark cleared");
    let at = circle.tick();
    let rotated = circle.state.rotate_family_key(&owner.device, at).unwrap();
    circle.append(rotated);
    assert_eq!(
        circle
            .keys(&professional.device)
            .family_generations()
            .collect::<Vec<_>>(),
        [3]
    );
    circle.remove_member(&owner.device, &professional.member, &BTreeMap::new());
    assert!(circle.state.family_generation().is_err(), "someone left");
    let at = circle.tick();
    let rotated = circle.state.rotate_family_key(&owner.device, at).unwrap();
    circle.append(rotated);
    let newcomer = circle.join(&owner.device, Capability::Member);
    assert!(circle.state.family_generation().is_err(), "someone joined");
    assert_eq!(
        circle.keys(&newcomer.device).family_generations().count(),
        0
    );
}

#[test]
fn forged_family_entries_are_refused_and_change_nothing() {
    let (circle, owner, family, professional) = family_time();
    let wrap = |device: &DeviceIdentity, generation| KeyWrap {
        device: device.id(),
        key: EpochKey::generate().wrap_family(generation, &device.exchange_key()),
    };
    let everyone = vec![
        wrap(&owner.device, 2),
        wrap(&family.device, 2),
        wrap(&professional.device, 2),
    ];
    let cases: Vec<(&str, &DeviceIdentity, Action)> = vec![
        (
            "a key for the professional too",
            &owner.device,
            Action::RotateFamilyKey {
                family: FamilyKeys {
                    generation: 2,
                    keys: everyone,
                },
            },
        ),
        (
            "a family device left out",
            &owner.device,
            Action::RotateFamilyKey {
                family: FamilyKeys {
                    generation: 2,
                    keys: vec![wrap(&owner.device, 2)],
                },
            },
        ),
        (
            "a generation skipped",
            &owner.device,
            Action::RotateFamilyKey {
                family: FamilyKeys {
                    generation: 5,
                    keys: vec![wrap(&owner.device, 5), wrap(&family.device, 5)],
                },
            },
        ),
        (
            "by a member who is not an admin",
            &family.device,
            Action::RotateFamilyKey {
                family: FamilyKeys {
                    generation: 2,
                    keys: vec![wrap(&owner.device, 2), wrap(&family.device, 2)],
                },
            },
        ),
        (
            "opened twice",
            &owner.device,
            Action::OpenFamilyTime {
                family: FamilyKeys {
                    generation: 2,
                    keys: vec![wrap(&owner.device, 2), wrap(&family.device, 2)],
                },
            },
        ),
        (
            "the main person marked professional",
            &owner.device,
            Action::MarkProfessional {
                member: owner.member.clone(),
                professional: true,
            },
        ),
        (
            "the professional clears her own mark",
            &professional.device,
            Action::MarkProfessional {
                member: professional.member.clone(),
                professional: false,
            },
        ),
    ];
    for (what, author, action) in cases {
        let entry = forge(&circle, author, action);
        assert!(circle.state.apply(&entry).is_err(), "{what}: refused");
    }
    // Closed, it cannot close again or be rotated.
    let mut closed = circle.state.clone();
    let at = circle.now.plus_millis(1000);
    closed
        .apply_mut(&closed.close_family_time(&owner.device, at).unwrap())
        .unwrap();
    assert!(matches!(
        closed.close_family_time(&owner.device, at),
        Err(Error::FamilyTime(_))
    ));
    assert!(matches!(
        closed.rotate_family_key(&owner.device, at),
        Err(Error::FamilyTime(_))
    ));
}

#[test]
fn a_family_keys_wrap_is_never_taken_for_an_epoch_keys() {
    let device = DeviceIdentity::generate();
    let key = EpochKey::generate();
    let family = key.wrap_family(1, &device.exchange_key());
    assert!(EpochKey::unwrap(&family, 1, device.exchange_secret()).is_err());
    let epoch = key.wrap(1, &device.exchange_key());
    assert!(EpochKey::unwrap_family(&epoch, 1, device.exchange_secret()).is_err());
    assert!(EpochKey::unwrap_family(&family, 1, device.exchange_secret()).is_ok());
}

fn present(circle: &mut TestCircle, by: &DeviceIdentity) -> crate::error::Result<()> {
    let at = circle.tick();
    let keys = circle.keys(by);
    let entry = circle.state.present_family_time(by, &keys, at)?;
    circle.append(entry);
    Ok(())
}

#[test]
fn presenting_makes_what_the_family_wrote_readable_to_the_whole_circle() {
    let (mut circle, owner, family, professional) = family_time();
    let before = family_envelope(&circle, &family.device, "oma wil thuis blijven");
    // A rotation during family time: the presentation reveals both generations.
    let at = circle.tick();
    let rotated = circle.state.rotate_family_key(&owner.device, at).unwrap();
    circle.append(rotated);
    let after = envelope::seal_for_family(
        &family.device,
        &circle.state,
        &circle.keys(&family.device),
        1,
        None,
        &[change_by(&family.device, "de buren doen de boodschappen")],
    )
    .unwrap()
    .into_bytes();
    assert!(envelope::open(&before, &circle.state, &circle.keys(&professional.device)).is_err());
    let during = circle.state.clone();

    present(&mut circle, &owner.device).unwrap();
    // With the presented key in hand, a professional's modified client still cannot
    // add to what the family wrote: not at a head within family time (her device
    // never held that generation), not at the head now (family time is closed).
    let revealed = circle.keys(&professional.device);
    let key = revealed.family_key(1).unwrap();
    for state in [&during, &circle.state] {
        let forged = envelope::tests_support::seal_with(
            &professional.device,
            state,
            SealedFor::Family { generation: 1 },
            key,
            &[change_by(&professional.device, "de familie wil dit ook")],
        );
        assert!(matches!(
            envelope::verify(&forged, &circle.state),
            Err(Error::FamilyTime(_))
        ));
    }
    assert!(!circle.state.family_time_open());
    assert_eq!(circle.state.family_presented_at(1), Some(circle.now));
    assert_eq!(circle.state.family_presented_at(2), Some(circle.now));
    assert_eq!(circle.state.last_presented_at(), Some(circle.now));
    let keys = circle.keys(&professional.device);
    assert_eq!(keys.family_generations().count(), 0, "still given nothing");
    for (bytes, text) in [
        (&before, "oma wil thuis blijven"),
        (&after, "de buren doen de boodschappen"),
    ] {
        let opened = envelope::open(bytes, &circle.state, &keys).unwrap();
        assert_eq!(opened.changes(), [change_by(&family.device, text)]);
    }
    // Someone who joins later reads it too (they walk back to the epoch it was
    // sealed under).
    let at = circle.tick();
    let rotation = circle
        .state
        .rotate_key(&owner.device, &circle.keys(&owner.device), at);
    circle.append(rotation.unwrap());
    let newcomer = circle.join(&owner.device, Capability::Member);
    assert!(envelope::open(&before, &circle.state, &circle.keys(&newcomer.device)).is_ok());
}

#[test]
fn only_the_main_person_presents_once_and_what_was_never_presented_stays_sealed() {
    let (mut circle, owner, family, professional) = family_time();
    // A family member (even an admin) and a professional may not present.
    let admin = circle.join(&owner.device, Capability::Admin);
    let at = circle.tick();
    let rotated = circle.state.rotate_family_key(&owner.device, at).unwrap();
    circle.append(rotated);
    let len = circle.state.len();
    assert!(matches!(
        present(&mut circle, &family.device),
        Err(Error::Unauthorized { .. })
    ));
    // Nor can an admin's or a professional's modified client.
    for person in [&admin, &professional] {
        let forged = forge(
            &circle,
            &person.device,
            Action::PresentFamilyTime {
                epoch: circle.state.current_epoch(),
                keys: vec![],
            },
        );
        assert!(matches!(
            circle.state.check(&forged),
            Err(Error::Unauthorized { .. })
        ));
    }
    // The main person's must name every generation of this family time.
    let partial = forge(
        &circle,
        &owner.device,
        Action::PresentFamilyTime {
            epoch: circle.state.current_epoch(),
            keys: vec![],
        },
    );
    assert!(matches!(
        circle.state.check(&partial),
        Err(Error::Malformed { .. })
    ));
    assert_eq!(circle.state.len(), len, "nothing was appended");

    present(&mut circle, &owner.device).unwrap();
    assert!(matches!(
        present(&mut circle, &owner.device),
        Err(Error::FamilyTime(
            crate::membership::family::refusal::ALREADY_PRESENTED
        ))
    ));
    // A next family time (a review meeting) starts sealed again, and closing it
    // without presenting keeps it the family's.
    let at = circle.tick();
    let opened = circle.state.open_family_time(&owner.device, at).unwrap();
    circle.append(opened);
    assert_eq!(circle.state.family_session(), [3]);
    let review = envelope::seal_for_family(
        &family.device,
        &circle.state,
        &circle.keys(&family.device),
        1,
        None,
        &[change_by(&family.device, "nog niet voor de wijkcoach")],
    )
    .unwrap()
    .into_bytes();
    let at = circle.tick();
    let closed = circle.state.close_family_time(&owner.device, at).unwrap();
    circle.append(closed);
    assert!(matches!(
        present(&mut circle, &owner.device),
        Err(Error::FamilyTime(
            crate::membership::family::refusal::NOT_OPEN
        ))
    ));
    assert_eq!(circle.state.family_presented_at(3), None);
    assert!(envelope::open(&review, &circle.state, &circle.keys(&professional.device)).is_err());
}
