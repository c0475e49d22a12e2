//! Envelope tests: what `open` accepts, and every way it refuses. That the changes
//! inside are automerge changes by the author is the client's check (its own tests).

use std::collections::BTreeMap;

use super::*;
use crate::membership::Capability;
use crate::testkit::{change_by, single_byte_changes, Person, TestCircle};

fn circle_with(capability: Capability) -> (TestCircle, Person, Person) {
    let (mut circle, owner) = TestCircle::new();
    let person = circle.join(&owner.device, capability);
    (circle, owner, person)
}

/// Seals as `author` without any of `seal`'s checks, citing `state`'s head and epoch:
/// what a malicious client could push.
fn forge(
    author: &DeviceIdentity,
    state: &MembershipState,
    keys: &Keyring,
    seq: u64,
    content: &[u8],
) -> Vec<u8> {
    let header = EnvelopeHeader {
        circle: state.circle().clone(),
        epoch: state.current_epoch(),
        author: author.id(),
        device_seq: seq,
        prev: (seq > 1).then(|| EnvelopeHash::from_bytes([1; 32])),
        membership_head: state.head(),
        nonce: crypto::random_nonce(),
    };
    encrypt_and_sign(
        author,
        &header,
        SealedFor::Circle,
        keys.current(state).unwrap(),
        content,
    )
}

fn content_of(chunks: &[&[u8]]) -> Vec<u8> {
    let raw: Vec<&Bytes> = chunks.iter().map(|c| Bytes::new(c)).collect();
    wire::encode(CONTENT_V1, &raw)
}

#[test]
fn sealed_changes_open_for_every_member_and_apply() {
    let (circle, owner, writer) = circle_with(Capability::Member);
    let reader = Person::new();
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
    assert_eq!(sealed.header().author, writer.device.id());
    assert_eq!(sealed.header().membership_head, circle.state.head());

    let opened = open(
        sealed.as_bytes(),
        &circle.state,
        &circle.keys(&owner.device),
    )
    .unwrap();
    assert_eq!(opened.hash(), sealed.hash());
    assert_eq!(opened.header(), sealed.header());
    assert_eq!(opened.into_changes(), vec![first]);

    // The relay can check it without any key, and it is current.
    let verified = verify(sealed.as_bytes(), &circle.state).unwrap();
    verified.check_current_epoch(&circle.state).unwrap();
    // A device that is not in the circle has no key.
    let outsider = Keyring::from_log(&reader.device, &circle.state, &circle.log).unwrap();
    assert!(matches!(
        open(sealed.as_bytes(), &circle.state, &outsider),
        Err(Error::UnknownEpoch(0))
    ));
}

#[test]
fn every_single_byte_change_of_an_envelope_is_rejected() {
    let (circle, owner, writer) = circle_with(Capability::Member);
    let changes = [
        change_by(&writer.device, "a"),
        change_by(&writer.device, "b"),
    ];
    let sealed = seal(
        &writer.device,
        &circle.state,
        &circle.keys(&writer.device),
        1,
        None,
        &changes,
    )
    .unwrap();
    let keys = circle.keys(&owner.device);
    for changed in single_byte_changes(sealed.as_bytes()) {
        assert!(open(&changed, &circle.state, &keys).is_err());
    }
}

#[test]
fn a_removed_members_later_envelopes_are_rejected_and_new_ones_unreadable_to_them() {
    let (mut circle, owner, writer) = circle_with(Capability::Member);
    let writer_keys = circle.keys(&writer.device);
    let stale_state = circle.state.clone();
    let e1 = seal(
        &writer.device,
        &stale_state,
        &writer_keys,
        1,
        None,
        &[change_by(&writer.device, "1")],
    )
    .unwrap();
    let e2 = seal(
        &writer.device,
        &stale_state,
        &writer_keys,
        2,
        Some(e1.hash()),
        &[change_by(&writer.device, "2")],
    )
    .unwrap();

    // The owner had seen envelope 1 when removing the writer.
    let last_seqs = BTreeMap::from([(writer.device.id(), 1)]);
    circle.remove_member(&owner.device, &writer.member, &last_seqs);
    let owner_keys = circle.keys(&owner.device);

    // History stays readable; anything after the cutoff is rejected, even though it
    // cites a head at which the writer was a member.
    open(e1.as_bytes(), &circle.state, &owner_keys).unwrap();
    assert!(matches!(
        open(e2.as_bytes(), &circle.state, &owner_keys),
        Err(Error::Removed(_))
    ));
    let e3 = seal(
        &writer.device,
        &stale_state,
        &writer_keys,
        3,
        Some(e2.hash()),
        &[change_by(&writer.device, "3")],
    )
    .unwrap();
    assert!(matches!(
        verify(e3.as_bytes(), &circle.state),
        Err(Error::Removed(_))
    ));
    // The writer's own up-to-date view refuses to seal at all.
    let refused = seal(
        &writer.device,
        &circle.state,
        &writer_keys,
        3,
        Some(e2.hash()),
        &[change_by(&writer.device, "3")],
    );
    assert!(matches!(refused, Err(Error::Removed(_))));

    // After the rotation the removed device cannot read what the others write.
    let after = seal(
        &owner.device,
        &circle.state,
        &owner_keys,
        1,
        None,
        &[change_by(&owner.device, "new")],
    )
    .unwrap();
    assert_eq!(after.header().epoch, 1);
    let removed_keys = circle.keys(&writer.device);
    assert_eq!(removed_keys.epochs().collect::<Vec<_>>(), vec![0]);
    assert!(matches!(
        open(after.as_bytes(), &circle.state, &removed_keys),
        Err(Error::UnknownEpoch(1))
    ));
    // Not even by trying its old key on the new ciphertext.
    let verified = verify(after.as_bytes(), &circle.state).unwrap();
    let old_key = removed_keys.get(0).unwrap();
    let header = verified.header();
    assert!(old_key
        .decrypt(WHAT, &header.nonce, &header.aad(None), &verified.ciphertext)
        .is_err());
}

#[test]
fn a_readers_envelope_is_rejected() {
    let (circle, owner, reader) = circle_with(Capability::Reader);
    let keys = circle.keys(&reader.device);
    let refused = seal(
        &reader.device,
        &circle.state,
        &keys,
        1,
        None,
        &[change_by(&reader.device, "x")],
    );
    assert!(matches!(refused, Err(Error::ReadOnly(_))));
    let forged = forge(
        &reader.device,
        &circle.state,
        &keys,
        1,
        &content_of(&[&change_by(&reader.device, "x")]),
    );
    assert!(matches!(
        open(&forged, &circle.state, &circle.keys(&owner.device)),
        Err(Error::ReadOnly(_))
    ));
}

#[test]
fn a_demoted_writer_keeps_history_up_to_the_cutoff() {
    let (mut circle, owner, writer) = circle_with(Capability::Member);
    let keys = circle.keys(&writer.device);
    let before = circle.state.clone();
    let e1 = seal(
        &writer.device,
        &before,
        &keys,
        1,
        None,
        &[change_by(&writer.device, "1")],
    )
    .unwrap();
    let e2 = seal(
        &writer.device,
        &before,
        &keys,
        2,
        Some(e1.hash()),
        &[change_by(&writer.device, "2")],
    )
    .unwrap();
    let at = circle.tick();
    let last_seqs = BTreeMap::from([(writer.device.id(), 1)]);
    let demote = circle
        .state
        .set_capability(
            &owner.device,
            &writer.member,
            Capability::Reader,
            &last_seqs,
            at,
        )
        .unwrap();
    circle.append(demote);
    verify(e1.as_bytes(), &circle.state).unwrap();
    assert!(matches!(
        verify(e2.as_bytes(), &circle.state),
        Err(Error::ReadOnly(_))
    ));
}

#[test]
fn an_envelope_without_changes_is_refused() {
    let (circle, owner, writer) = circle_with(Capability::Member);
    let keys = circle.keys(&writer.device);
    let none: [&[u8]; 0] = [];
    assert!(matches!(
        seal(&writer.device, &circle.state, &keys, 1, None, &none),
        Err(Error::Malformed { .. })
    ));
    for content in [content_of(&[]), b"\x01\x01".to_vec()] {
        let forged = forge(&writer.device, &circle.state, &keys, 1, &content);
        assert!(matches!(
            open(&forged, &circle.state, &circle.keys(&owner.device)),
            Err(Error::Malformed { .. })
        ));
    }
}

#[test]
fn authority_is_judged_at_the_cited_membership_head() {
    let (mut circle, owner, writer) = circle_with(Capability::Member);
    let early = circle.state.clone();
    let late = circle.join(&owner.device, Capability::Member);
    let late_keys = circle.keys(&late.device);
    // Citing a head from before it joined: not a member there.
    let mut header = seal(
        &late.device,
        &circle.state,
        &late_keys,
        1,
        None,
        &[change_by(&late.device, "x")],
    )
    .unwrap()
    .header()
    .clone();
    header.membership_head = early.head();
    let content = content_of(&[&change_by(&late.device, "x")]);
    let bytes = encrypt_and_sign(
        &late.device,
        &header,
        SealedFor::Circle,
        late_keys.get(0).unwrap(),
        &content,
    );
    assert!(matches!(
        verify(&bytes, &circle.state),
        Err(Error::DeviceNotMember(_))
    ));
    // Citing a head nobody knows.
    header.membership_head = EntryHash::from_bytes([9; 32]);
    let bytes = encrypt_and_sign(
        &late.device,
        &header,
        SealedFor::Circle,
        late_keys.get(0).unwrap(),
        &content,
    );
    assert!(matches!(
        verify(&bytes, &circle.state),
        Err(Error::UnknownHead(_))
    ));
    // Claiming an epoch that was not current at the cited head.
    header.membership_head = circle.state.head();
    header.epoch = 1;
    let bytes = encrypt_and_sign(
        &late.device,
        &header,
        SealedFor::Circle,
        late_keys.get(0).unwrap(),
        &content,
    );
    assert!(matches!(
        verify(&bytes, &circle.state),
        Err(Error::StaleEpoch {
            expected: 0,
            got: 1
        })
    ));

    // Envelopes from before a rotation still verify as history, but the relay refuses
    // new pushes under the old key.
    let old = seal(
        &writer.device,
        &circle.state,
        &circle.keys(&writer.device),
        1,
        None,
        &[change_by(&writer.device, "y")],
    )
    .unwrap();
    let at = circle.tick();
    let rotate = circle
        .state
        .rotate_key(&owner.device, &circle.keys(&owner.device), at)
        .unwrap();
    circle.append(rotate);
    let verified = verify(old.as_bytes(), &circle.state).unwrap();
    assert!(matches!(
        verified.check_current_epoch(&circle.state),
        Err(Error::StaleEpoch {
            expected: 1,
            got: 0
        })
    ));
}

#[test]
fn envelopes_of_another_circle_or_oversized_are_rejected() {
    let (circle, _, writer) = circle_with(Capability::Member);
    let (other, _, _) = circle_with(Capability::Member);
    let sealed = seal(
        &writer.device,
        &circle.state,
        &circle.keys(&writer.device),
        1,
        None,
        &[change_by(&writer.device, "x")],
    )
    .unwrap();
    assert!(matches!(
        verify(sealed.as_bytes(), &other.state),
        Err(Error::WrongCircle { .. })
    ));
    let huge = vec![ENVELOPE_V1; MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(
        verify(&huge, &circle.state),
        Err(Error::Oversized { .. })
    ));
    let bad_seq = seal(
        &writer.device,
        &circle.state,
        &circle.keys(&writer.device),
        0,
        None,
        &[change_by(&writer.device, "x")],
    );
    assert!(matches!(bad_seq, Err(Error::Malformed { .. })));
}

#[test]
fn each_device_writes_one_unbroken_chain() {
    let (circle, _, writer) = circle_with(Capability::Member);
    let keys = circle.keys(&writer.device);
    let e1 = seal(
        &writer.device,
        &circle.state,
        &keys,
        1,
        None,
        &[change_by(&writer.device, "1")],
    )
    .unwrap();
    let e2 = seal(
        &writer.device,
        &circle.state,
        &keys,
        2,
        Some(e1.hash()),
        &[change_by(&writer.device, "2")],
    )
    .unwrap();
    e1.header().check_follows(None).unwrap();
    e2.header().check_follows(Some((1, e1.hash()))).unwrap();
    assert!(matches!(
        e1.header().check_follows(Some((1, e1.hash()))),
        Err(Error::AlreadyApplied { .. })
    ));
    assert!(matches!(
        e2.header().check_follows(None),
        Err(Error::BrokenChain { .. })
    ));
    assert!(matches!(
        e2.header().check_follows(Some((1, e2.hash()))),
        Err(Error::BrokenChain { .. })
    ));
}
