//! What the client adds to the trust layer's envelope checks: the changes inside are
//! automerge changes by the envelope's author. A tampered client can seal anything with
//! the trust layer directly; these tests do exactly that.

use automerge::{AutoCommit, ReadDoc, ROOT};
use kring_trust::membership::Capability;
use kring_trust::testkit::{Person, TestCircle};

use super::*;
use crate::testkit::change_by;

fn circle_with(capability: Capability) -> (TestCircle, Person, Person) {
    let (mut circle, owner) = TestCircle::new();
    let person = circle.join(&owner.device, capability);
    (circle, owner, person)
}

/// What a tampered client pushes: the trust layer's seal with no check of the content.
fn forge(writer: &Person, circle: &TestCircle, content: &[&[u8]]) -> Vec<u8> {
    let keys = circle.keys(&writer.device);
    kring_trust::envelope::seal(&writer.device, &circle.state, &keys, 1, None, content)
        .unwrap()
        .into_bytes()
}

#[test]
fn sealed_changes_open_and_apply() {
    let (circle, owner, writer) = circle_with(Capability::Member);
    let first = change_by(&writer.device, "Oma dinsdag naar de dokter");
    let keys = circle.keys(&writer.device);
    let sealed = seal(
        &writer.device,
        &circle.state,
        &keys,
        1,
        None,
        std::slice::from_ref(&first),
    )
    .unwrap();
    let opened = open(
        sealed.as_bytes(),
        &circle.state,
        &circle.keys(&owner.device),
    )
    .unwrap();
    assert_eq!(opened.hash(), sealed.hash());
    assert_eq!(opened.header().author, writer.device.id());
    let mut doc = AutoCommit::new();
    doc.apply_changes(opened.into_changes()).unwrap();
    let (value, _) = doc.get(ROOT, "note").unwrap().unwrap();
    assert_eq!(value.as_str(), Some("Oma dinsdag naar de dokter"));
}

#[test]
fn changes_by_another_actor_are_rejected() {
    let (circle, owner, writer) = circle_with(Capability::Member);
    let keys = circle.keys(&writer.device);
    let foreign = change_by(&owner.device, "written by the owner");
    let refused = seal(
        &writer.device,
        &circle.state,
        &keys,
        1,
        None,
        &[change_by(&writer.device, "ok"), foreign.clone()],
    );
    assert!(matches!(refused, Err(Error::WrongActor { .. })));
    let own = change_by(&writer.device, "mine");
    let forged = forge(&writer, &circle, &[own.raw_bytes(), foreign.raw_bytes()]);
    assert!(matches!(
        open(&forged, &circle.state, &circle.keys(&owner.device)),
        Err(Error::WrongActor { .. })
    ));
}

#[test]
fn content_that_is_not_plain_automerge_changes_is_rejected() {
    let (circle, owner, writer) = circle_with(Capability::Member);
    let owner_keys = circle.keys(&owner.device);
    let mut big = change_by(&writer.device, &"lange notitie ".repeat(200));
    let compressed = big.bytes().into_owned();
    assert_ne!(
        compressed.as_slice(),
        big.raw_bytes(),
        "large changes compress"
    );
    for content in [&compressed[..], b"not automerge at all"] {
        let forged = forge(&writer, &circle, &[content]);
        assert!(matches!(
            open(&forged, &circle.state, &owner_keys),
            Err(Error::Trust(kring_trust::Error::Malformed { .. }))
        ));
    }
}
