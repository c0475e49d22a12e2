//! The sync engine without a network: every decision from constructed inputs.

use kring_plan::plan::DeviceActor;
use kring_trust::Error as TrustError;
use std::collections::BTreeMap;

use super::*;
use crate::envelope::seal;
use crate::records::SyncRecord;
use crate::testkit::change_by;
use kring_plan::plan::{Language, NewCircle, NewMember, Relation};
use kring_trust::membership::Capability;
use kring_trust::testkit::{Person, TestCircle};

fn own(sealed: &SealedEnvelope) -> OwnEnvelope {
    OwnEnvelope::pending(sealed)
}

fn log_bytes(circle: &TestCircle) -> Vec<Vec<u8>> {
    circle.log.iter().map(|e| e.as_bytes().to_vec()).collect()
}

/// `count` envelopes by `person`, chained from 1, each with one change.
fn sealed_chain(circle: &TestCircle, person: &Person, count: u64) -> Vec<SealedEnvelope> {
    let keys = circle.keys(&person.device);
    let mut prev = None;
    (1..=count)
        .map(|seq| {
            let change = change_by(&person.device, &format!("change {seq}"));
            let sealed = seal(&person.device, &circle.state, &keys, seq, prev, &[change]).unwrap();
            prev = Some(sealed.hash());
            sealed
        })
        .collect()
}

#[test]
fn trust_absorbs_new_entries_atomically_and_refuses_forks() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let reader = circle.join(&owner.device, Capability::Reader);
    let all = log_bytes(&circle);

    let mut trust = CircleTrust::from_log(&member.device, &all[..2]).unwrap();
    assert_eq!(trust.len(), 2);
    // Overlap is checked and skipped; only the new entry is returned.
    let added = trust.absorb(&member.device, &all[1..]).unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(trust.len(), 3);
    assert!(trust.absorb(&member.device, &all).unwrap().is_empty());

    // A different entry at a position we hold is a fork; nothing changes.
    let (other, _) = TestCircle::new();
    let err = trust
        .absorb(&member.device, &[other.log[0].as_bytes().to_vec()])
        .unwrap_err();
    assert!(
        matches!(err, Error::Trust(TrustError::Fork { seq: 0, .. })),
        "{err:?}"
    );
    assert_eq!(trust.len(), 3);

    // A bad entry after good ones: all or nothing.
    let mut longer = circle;
    longer.remove_member(&owner.device, &reader.member, &BTreeMap::new());
    let mut tampered = longer.log[3].as_bytes().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let before = trust.len();
    assert!(trust.absorb(&member.device, &[tampered]).is_err());
    assert_eq!(trust.len(), before);
    assert_eq!(trust.keys().epochs().collect::<Vec<_>>(), vec![0]);

    // The genuine removal rotates the key, and the member learns the new one.
    trust
        .absorb(&member.device, &log_bytes(&longer)[3..])
        .unwrap();
    assert_eq!(trust.keys().epochs().collect::<Vec<_>>(), vec![0, 1]);
}

#[test]
fn standing_follows_the_log() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let reader = circle.join(&owner.device, Capability::Reader);
    circle.remove_member(&owner.device, &member.member, &BTreeMap::new());
    let trust = CircleTrust::from_log(&owner.device, &log_bytes(&circle)).unwrap();
    assert_eq!(
        trust.standing(&owner.device.id()),
        Standing::Writer(Capability::Owner)
    );
    assert_eq!(trust.standing(&reader.device.id()), Standing::Reader);
    assert_eq!(trust.standing(&member.device.id()), Standing::Removed);
    assert_eq!(
        trust.standing(&Person::new().device.id()),
        Standing::NotMember
    );
}

#[test]
fn pulled_envelopes_are_applied_acknowledged_skipped_or_refused() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let theirs = sealed_chain(&circle, &member, 2);
    let mine = sealed_chain(&circle, &owner, 1);
    let trust = CircleTrust::from_log(&owner.device, &log_bytes(&circle)).unwrap();
    let me = owner.device.id();
    let mut heads = DeviceHeads::new();

    match classify(theirs[0].as_bytes().to_vec(), 7, &trust, &me, &heads) {
        Incoming::Apply(received) => {
            assert_eq!((received.cursor, received.device_seq), (7, 1));
            assert_eq!(received.changes.len(), 1);
            heads.insert(received.author, (received.device_seq, received.hash));
        }
        other => panic!("{other:?}"),
    }
    // The same envelope again (a retried pull): a harmless duplicate.
    assert!(matches!(
        classify(theirs[0].as_bytes().to_vec(), 7, &trust, &me, &heads),
        Incoming::Duplicate
    ));
    // Our own comes back as an acknowledgement, not to apply.
    assert!(matches!(
        classify(mine[0].as_bytes().to_vec(), 8, &trust, &me, &heads),
        Incoming::Own {
            device_seq: 1,
            cursor: 8,
            ..
        }
    ));
    // A gap in an author's chain is the relay's fault: refused.
    let mut skipped = DeviceHeads::new();
    assert!(matches!(
        classify(theirs[1].as_bytes().to_vec(), 9, &trust, &me, &skipped),
        Incoming::Rejected(Error::Trust(TrustError::BrokenChain { .. }))
    ));
    skipped.insert(member.device.id(), (1, theirs[0].hash()));
    assert!(matches!(
        classify(theirs[1].as_bytes().to_vec(), 9, &trust, &me, &skipped),
        Incoming::Apply(_)
    ));
    // Tampered: refused, never applied.
    let mut tampered = theirs[0].as_bytes().to_vec();
    tampered[40] ^= 0x80;
    assert!(matches!(
        classify(tampered, 10, &trust, &me, &DeviceHeads::new()),
        Incoming::Rejected(_)
    ));

    // An envelope citing a membership head this device has not seen yet.
    let late = circle.join(&owner.device, Capability::Member);
    let newer = sealed_chain(&circle, &late, 1);
    assert!(matches!(
        classify(newer[0].as_bytes().to_vec(), 11, &trust, &me, &heads),
        Incoming::NeedMembership
    ));
}

/// A plan founded by `owner` as the main person (the log's owner member).
fn founded_by(owner: &Person) -> CirclePlan {
    CirclePlan::create_with_main_person(
        owner.device.actor_id(),
        CircleId::random(),
        owner.member.clone(),
        NewCircle {
            name: "Kring van Sanne".into(),
            language: Language::Nl,
            main_person_name: "Sanne".into(),
        },
        Timestamp(1_750_000_000_000),
    )
    .unwrap()
}

/// A plan founded by `owner`, and a copy of it on `member`'s device (as after a join).
fn plan_pair(owner: &Person, member: &Person) -> (CirclePlan, CirclePlan) {
    let plan = founded_by(owner);
    let copy = CirclePlan::load(&plan.export(), member.device.actor_id()).unwrap();
    (plan, copy)
}

#[test]
fn changes_whose_dependencies_are_missing_wait_and_apply_later() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let (mut plan, mut theirs) = plan_pair(&owner, &member);
    let now = Timestamp(1_750_000_100_000);
    // The member writes their own record: the plan's rules refuse one for anyone else.
    let who = member.member.clone();
    theirs
        .join(
            &who,
            NewMember {
                display_name: "Jan".into(),
                relation: Relation::Family,
                role_label: String::new(),
            },
            now,
        )
        .unwrap();
    let first = theirs.own_changes_since(&[]);
    let heads = theirs.heads();
    theirs
        .add_offer(&who, "Ik kan rijden", "dinsdag", now)
        .unwrap();
    let second = theirs.own_changes_since(&heads);
    let keys = circle.keys(&member.device);
    let e1 = seal(&member.device, &circle.state, &keys, 1, None, &first).unwrap();
    let e2 = seal(
        &member.device,
        &circle.state,
        &keys,
        2,
        Some(e1.hash()),
        &second,
    )
    .unwrap();
    let trust = CircleTrust::from_log(&owner.device, &log_bytes(&circle)).unwrap();
    let received = |sealed: &SealedEnvelope, cursor| match classify(
        sealed.as_bytes().to_vec(),
        cursor,
        &trust,
        &owner.device.id(),
        &if sealed.header().device_seq == 1 {
            DeviceHeads::new()
        } else {
            DeviceHeads::from([(member.device.id(), (1, e1.hash()))])
        },
    ) {
        Incoming::Apply(r) => r,
        other => panic!("{other:?}"),
    };

    // The second arrives alone: it waits (automerge holds it in memory only).
    let outcome = apply_received(&mut plan, &[received(&e2, 2)]);
    assert_eq!(outcome.applied_changes, 0);
    assert_eq!(outcome.waiting.len(), 1);
    assert!(outcome.complete.is_empty());

    // A fresh copy of the plan (as after a restart) gets the first and the stored
    // waiting one: both complete, in any order.
    let mut fresh_plan = CirclePlan::load(&plan.export(), owner.device.actor_id()).unwrap();
    let waiting = reopen(&outcome.waiting[0], &trust).unwrap();
    let outcome = apply_received(&mut fresh_plan, &[waiting, received(&e1, 1)]);
    assert_eq!(outcome.applied_changes, 2);
    assert_eq!(outcome.complete.len(), 2);
    assert!(outcome.waiting.is_empty());
    assert_eq!(fresh_plan.view(), theirs.view());
}

#[test]
fn push_batches_respect_the_count_and_the_body_size() {
    let small = |seq| OwnEnvelope {
        device_seq: seq,
        hash: EnvelopeHash::from_bytes([0; 32]),
        bytes: vec![0; 300],
        acked: false,
        cursor: None,
    };
    let pending: Vec<_> = (1..=250).map(small).collect();
    let sizes: Vec<usize> = push_batches(&pending).iter().map(|r| r.len()).collect();
    assert_eq!(sizes, vec![100, 100, 50]);

    let large: Vec<_> = (1..=40)
        .map(|seq| OwnEnvelope {
            bytes: vec![0; 200 * 1024],
            ..small(seq)
        })
        .collect();
    let batches = push_batches(&large);
    assert!(batches.len() > 1);
    for range in &batches {
        let body: usize = large[range.clone()]
            .iter()
            .map(|e| e.bytes.len().div_ceil(3) * 4 + 3)
            .sum::<usize>()
            + 32;
        assert!(body <= MAX_BODY_BYTES, "{body}");
    }
    assert_eq!(batches.iter().map(|r| r.len()).sum::<usize>(), 40);
    assert!(push_batches(&[]).is_empty());
}

#[test]
fn a_socket_batch_fits_one_push_frame_and_a_too_large_envelope_goes_over_http() {
    use kring_trust::live::{PushFrame, MAX_PUSH_FRAME_BYTES, MAX_PUSH_FRAME_ENVELOPES};
    let sized = |seq, len| OwnEnvelope {
        device_seq: seq,
        hash: EnvelopeHash::from_bytes([0; 32]),
        bytes: vec![1; len],
        acked: false,
        cursor: None,
    };
    // What the batch takes encodes within the frame limit, and one more would not.
    let pending: Vec<_> = (1..=40).map(|seq| sized(seq, 3_000)).collect();
    let range = socket_batch(&pending).expect("a batch");
    let frame = |range: std::ops::Range<usize>| PushFrame {
        circle: kring_trust::ids::CircleId::random(),
        id: 1,
        envelopes: pending[range].iter().map(|e| e.bytes.clone()).collect(),
    };
    assert!(frame(range.clone()).encode().len() <= MAX_PUSH_FRAME_BYTES);
    assert!(frame(0..range.end + 1).encode().len() > MAX_PUSH_FRAME_BYTES);
    let many: Vec<_> = (1..=150).map(|seq| sized(seq, 10)).collect();
    assert_eq!(socket_batch(&many), Some(0..MAX_PUSH_FRAME_ENVELOPES));
    assert_eq!(socket_batch(&[sized(1, MAX_PUSH_FRAME_BYTES)]), None);
    assert_eq!(socket_batch(&[]), None);
}

#[test]
fn pending_envelopes_are_resealed_after_a_rotation_at_the_same_positions() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let leaving = circle.join(&owner.device, Capability::Member);
    let chain = sealed_chain(&circle, &member, 3);
    let pending: Vec<OwnEnvelope> = chain.iter().map(own).collect();
    let acked = Some((1, chain[0].hash()));

    let trust = CircleTrust::from_log(&member.device, &log_bytes(&circle)).unwrap();
    assert!(!needs_reseal(&pending[1..], acked, trust.state()).unwrap());
    // Not following what the relay has: reseal.
    assert!(needs_reseal(
        &pending[1..],
        Some((1, EnvelopeHash::from_bytes([9; 32]))),
        trust.state()
    )
    .unwrap());

    circle.remove_member(&owner.device, &leaving.member, &BTreeMap::new());
    let trust = CircleTrust::from_log(&member.device, &log_bytes(&circle)).unwrap();
    assert!(needs_reseal(&pending[1..], acked, trust.state()).unwrap());
    let resealed = reseal(&member.device, &trust, &pending[1..], acked).unwrap();
    assert_eq!(resealed.len(), 2);
    assert_eq!(resealed[0].header().device_seq, 2);
    assert_eq!(resealed[0].header().prev, Some(chain[0].hash()));
    assert_eq!(resealed[1].header().prev, Some(resealed[0].hash()));
    assert!(resealed.iter().all(|e| e.header().epoch == 1));
    let resealed_own: Vec<OwnEnvelope> = resealed.iter().map(own).collect();
    assert!(!needs_reseal(&resealed_own, acked, trust.state()).unwrap());

    // Same changes inside, now readable only with the new key.
    let reader = CircleTrust::from_log(&owner.device, &log_bytes(&circle)).unwrap();
    for (old, new) in chain[1..].iter().zip(&resealed) {
        let a = envelope::open(old.as_bytes(), reader.state(), reader.keys()).unwrap();
        let b = envelope::open(new.as_bytes(), reader.state(), reader.keys()).unwrap();
        assert_eq!(a.changes(), b.changes());
    }
    let left = CircleTrust::from_log(&leaving.device, &log_bytes(&circle)).unwrap();
    assert!(envelope::open(resealed[0].as_bytes(), left.state(), left.keys()).is_err());

    // A hole in the outbox is refused rather than papered over.
    let err = reseal(&member.device, &trust, &pending[2..], acked).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Trust(TrustError::BrokenChain {
                expected_seq: 2,
                got_seq: 3,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn failures_are_retried_refreshed_realigned_or_reported() {
    let b = Backoff::SYNC;
    let network = TrustError::Network("connection refused".into());
    assert!(matches!(recovery(&network, 1, &b, 0.0), Recovery::Retry(_)));
    assert_eq!(recovery(&network, b.attempts, &b, 0.0), Recovery::Fail);
    assert_eq!(
        recovery(
            &TrustError::RateLimited {
                retry_after_secs: 3
            },
            1,
            &b,
            0.0
        ),
        Recovery::Retry(Duration::from_secs(3))
    );
    let server = TrustError::Relay {
        status: 503,
        code: "internal".into(),
        message: String::new(),
    };
    assert!(matches!(recovery(&server, 2, &b, 0.5), Recovery::Retry(_)));
    let stale = TrustError::Relay {
        status: 409,
        code: "stale_epoch".into(),
        message: String::new(),
    };
    assert_eq!(recovery(&stale, 1, &b, 0.0), Recovery::Refresh);
    assert_eq!(
        recovery(&TrustError::RelayGap { expected_seq: 4 }, 1, &b, 0.0),
        Recovery::Gap { expected_seq: 4 }
    );
    let removed = TrustError::Removed(Person::new().device.id());
    assert_eq!(recovery(&removed, 1, &b, 0.0), Recovery::Fail);
    let forbidden = TrustError::Relay {
        status: 403,
        code: "forbidden".into(),
        message: String::new(),
    };
    assert_eq!(recovery(&forbidden, 1, &b, 0.0), Recovery::Fail);
}

#[test]
fn backoff_grows_is_capped_and_jittered() {
    let b = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        attempts: 10,
    };
    assert_eq!(b.delay(1, 1.0), Duration::from_millis(100));
    assert_eq!(b.delay(2, 1.0), Duration::from_millis(200));
    assert_eq!(b.delay(3, 0.0), Duration::from_millis(200));
    assert_eq!(b.delay(30, 1.0), Duration::from_secs(1));
    assert_eq!(b.delay(30, 0.0), Duration::from_millis(500));
    assert_eq!(Backoff::LIVE.delay(u32::MAX, 1.0), Backoff::LIVE.max);
}

#[test]
fn status_says_online_offline_removed_or_local() {
    let circle = CircleId::random();
    let mut record = SyncRecord::new(circle.clone(), None);
    let s =
        |record: Option<&SyncRecord>, standing| status(&circle, record, standing, Some(0), 2, 0);
    assert_eq!(s(None, None).connectivity, Connectivity::LocalOnly);
    assert_eq!(s(Some(&record), None).connectivity, Connectivity::NoRelay);
    record.relay_url = Some("http://127.0.0.1:1".into());
    assert_eq!(s(Some(&record), None).connectivity, Connectivity::NotSynced);
    record.last_attempt_at = Some(Timestamp(5));
    record.last_error = Some("cannot reach the relay".into());
    record.offline = true;
    let offline = s(Some(&record), None);
    assert_eq!(
        (offline.connectivity, offline.pending),
        (Connectivity::Offline, 2)
    );
    record.offline = false;
    assert_eq!(s(Some(&record), None).connectivity, Connectivity::Error);
    record.last_error = None;
    record.last_synced_at = Some(Timestamp(5));
    let online = s(Some(&record), Some(Standing::Writer(Capability::Member)));
    assert_eq!(online.connectivity, Connectivity::Online);
    assert_eq!(online.last_synced_at, Some(Timestamp(5)));
    assert_eq!(
        s(Some(&record), Some(Standing::Removed)).connectivity,
        Connectivity::Removed
    );
    record.removed = true;
    assert_eq!(s(Some(&record), None).connectivity, Connectivity::Removed);
}

/// A circle with its main person, a family member and a marked professional, family
/// time open.
fn in_family_time() -> (TestCircle, Person, Person, Person) {
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

/// During family time the family's envelopes verify on a professional's device, carry
/// nothing for her plan, and keep their author's chain going: the family member's next
/// envelope for the whole circle applies as usual.
#[test]
fn a_family_envelope_is_taken_with_no_plan_changes_and_the_authors_chain_goes_on() {
    let (circle, _owner, family, professional) = in_family_time();

    let keys = circle.keys(&family.device);
    let draft = change_by(&family.device, "ons eigen plan");
    let for_family = kring_trust::envelope::seal_for_family(
        &family.device,
        &circle.state,
        &keys,
        1,
        None,
        &[draft.raw_bytes()],
    )
    .unwrap();
    let change = change_by(&family.device, "voor iedereen");
    let for_all = seal(
        &family.device,
        &circle.state,
        &keys,
        2,
        Some(for_family.hash()),
        &[change],
    )
    .unwrap();

    let trust = CircleTrust::from_log(&professional.device, &log_bytes(&circle)).unwrap();
    let me = professional.device.id();
    let mut heads = DeviceHeads::new();
    match classify(for_family.as_bytes().to_vec(), 1, &trust, &me, &heads) {
        Incoming::Apply(received) => {
            assert!(received.changes.is_empty(), "nothing for the plan");
            heads.insert(received.author, (received.device_seq, received.hash));
        }
        other => panic!("the family's envelope is taken, not {other:?}"),
    }
    match classify(for_all.as_bytes().to_vec(), 2, &trust, &me, &heads) {
        Incoming::Apply(received) => assert_eq!(received.changes.len(), 1),
        other => panic!("the next envelope applies, not {other:?}"),
    }
    // Waiting and opened again later: the same.
    let waiting = WaitingEnvelope {
        cursor: 1,
        author: family.device.id(),
        device_seq: 1,
        hash: for_family.hash(),
        bytes: for_family.as_bytes().to_vec(),
    };
    assert!(reopen(&waiting, &trust).unwrap().changes.is_empty());
}

/// The family's draft is read by the family alone — a professional's device keeps the
/// envelope with nothing for her plan and reads no draft — resealing keeps it the
/// family's, and once the main person presents, the kept envelope opens and applies
/// on the professional's device: she then holds exactly what the family wrote.
#[test]
fn the_familys_draft_stays_the_familys_until_the_main_person_presents_it() {
    use kring_plan::plan::PlanList;
    let (mut circle, owner, family, professional) = in_family_time();
    let main = owner.member.clone();
    let plan = founded_by(&owner);
    let copy_for = |p: &Person| CirclePlan::load(&plan.export(), p.device.actor_id()).unwrap();
    let trust_of = |circle: &TestCircle, p: &Person| {
        CircleTrust::from_log(&p.device, &log_bytes(circle)).unwrap()
    };
    let goal = "De zolderkamer is voor de winter leeg";

    // The main person writes a goal into the draft, sealed for the family.
    let trust = trust_of(&circle, &owner);
    let mut draft = family_draft(&plan, &trust, &[]).expect("the family reads a draft");
    let before = draft.heads();
    draft
        .add_to_list(&main, PlanList::Goals, goal, Timestamp(1_750_000_100_000))
        .unwrap();
    let changes = draft.own_changes_since(&before);
    let sealed = seal_changes(Readers::Family, &owner.device, &trust, &changes, None).unwrap();
    let bytes = sealed[0].as_bytes().to_vec();
    assert!(
        plan.view().plan.goals.is_empty(),
        "the plan itself is untouched"
    );

    // On the professional's device: kept, nothing for her plan, no draft to read.
    let pro_trust = trust_of(&circle, &professional);
    let mut hers = copy_for(&professional);
    let me = professional.device.id();
    let Incoming::Apply(received) =
        classify(bytes.clone(), 1, &pro_trust, &me, &DeviceHeads::new())
    else {
        panic!("the family's envelope is taken");
    };
    assert_eq!((received.family, received.changes.len()), (Some(1), 0));
    let kept = apply_received(&mut hers, &[received]);
    assert_eq!((kept.waiting.len(), kept.complete.len()), (1, 0));
    assert!(hers.view().plan.goals.is_empty());
    assert!(family_draft(&hers, &pro_trust, &kept.waiting).is_none());

    // The family member reads it in the draft; the stored plan stays as it was.
    let fam_trust = trust_of(&circle, &family);
    let mut his = copy_for(&family);
    let Incoming::Apply(received) = classify(
        bytes.clone(),
        1,
        &fam_trust,
        &family.device.id(),
        &DeviceHeads::new(),
    ) else {
        panic!("the family's envelope is taken");
    };
    let his_kept = apply_received(&mut his, &[received]);
    assert!(his.view().plan.goals.is_empty());
    let his_draft = family_draft(&his, &fam_trust, &his_kept.waiting).unwrap();
    assert_eq!(his_draft.view().plan.goals[0].text, goal);

    // Resealed after the circle's key rotates: still for the family alone.
    let at = circle.tick();
    let keys = circle.keys(&owner.device);
    let rotation = circle.state.rotate_key(&owner.device, &keys, at).unwrap();
    circle.append(rotation);
    let trust = trust_of(&circle, &owner);
    let resealed = reseal(&owner.device, &trust, &[own(&sealed[0])], None).unwrap();
    let verified = envelope::verify(resealed[0].as_bytes(), trust.state()).unwrap();
    assert_eq!(verified.sealed_for(), SealedFor::Family { generation: 1 });

    // Presented: the kept envelope opens on her device and applies.
    let at = circle.tick();
    let presented = circle
        .state
        .present_family_time(&owner.device, &circle.keys(&owner.device), at)
        .unwrap();
    circle.append(presented);
    let pro_trust = trust_of(&circle, &professional);
    let reopened = reopen(&kept.waiting[0], &pro_trust).unwrap();
    assert_eq!(reopened.family, None);
    let outcome = apply_received(&mut hers, &[reopened]);
    assert_eq!(outcome.complete.len(), 1);
    assert_eq!(hers.view().plan.goals, his_draft.view().plan.goals);
    assert!(
        family_draft(&hers, &pro_trust, &[]).is_none(),
        "family time is over"
    );
}
