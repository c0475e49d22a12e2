//! Validator tests: the rules of the membership log, tampering, forks, and random
//! valid histories.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::crypto::{EpochKey, SealedKey};
use crate::error::Error;
use crate::identity::DeviceIdentity;
use crate::ids::MemberId;
use crate::keyring::Keyring;
use crate::testkit::{single_byte_changes, Person, TestCircle};

fn none() -> BTreeMap<crate::identity::DeviceId, u64> {
    BTreeMap::new()
}

/// Signs an arbitrary action as `author` at the head, skipping the builders' checks:
/// what a malicious or buggy client could send.
fn forge(circle: &TestCircle, author: &DeviceIdentity, action: Action) -> SignedEntry {
    let body = circle.state.next_body(author.id(), action, circle.now);
    SignedEntry::sign(author, &body, None).unwrap()
}

#[test]
fn a_log_with_every_entry_kind_replays_to_the_same_state() {
    let (circle, people) = TestCircle::with_every_entry_kind();
    let replayed = MembershipState::from_log(&circle.log).unwrap();
    assert_eq!(replayed, circle.state);
    assert_eq!(replayed.len(), circle.log.len() as u64);
    assert_eq!(
        replayed.current_epoch(),
        3,
        "two removals and one explicit rotation"
    );
    // Every remaining device holds every epoch key, old ones through the history chain.
    for person in &people {
        let keys = circle.keys(&person.device);
        assert_eq!(keys.epochs().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    }
    // Entries survive a round trip through their stored bytes.
    for entry in &circle.log {
        assert_eq!(&SignedEntry::from_bytes(entry.as_bytes()).unwrap(), entry);
    }
}

#[test]
fn every_single_byte_change_of_any_entry_is_rejected() {
    let (circle, _) = TestCircle::with_every_entry_kind();
    for (i, entry) in circle.log.iter().enumerate() {
        let before = (i > 0).then(|| MembershipState::from_log(&circle.log[..i]).unwrap());
        for changed in single_byte_changes(entry.as_bytes()) {
            let result = SignedEntry::from_bytes(&changed).and_then(|e| match &before {
                Some(state) => state.apply(&e),
                None => MembershipState::genesis(&e),
            });
            assert!(
                result.is_err(),
                "entry {i} ({}) accepted a changed byte",
                entry.body().action.name()
            );
        }
    }
}

#[test]
fn two_admins_appending_on_the_same_head_is_a_fork() {
    let (mut circle, owner) = TestCircle::new();
    let admin = circle.join(&owner.device, Capability::Admin);
    let at = circle.tick();
    let by_owner = circle
        .state
        .add_member(
            &owner.device,
            &circle.keys(&owner.device),
            MemberId::random(),
            Capability::Member,
            &DeviceIdentity::generate().public(),
            at,
        )
        .unwrap();
    let by_admin = circle
        .state
        .add_member(
            &admin.device,
            &circle.keys(&admin.device),
            MemberId::random(),
            Capability::Reader,
            &DeviceIdentity::generate().public(),
            at,
        )
        .unwrap();
    circle.append(by_owner.clone());
    let before = circle.state.clone();

    let seq = by_admin.seq();
    assert!(
        matches!(circle.state.apply_mut(&by_admin), Err(Error::Fork { seq: s, .. }) if s == seq)
    );
    assert!(matches!(
        circle.state.apply(&by_owner),
        Err(Error::AlreadyApplied { .. })
    ));
    assert_eq!(circle.state, before, "a rejected entry changes nothing");

    // An entry two positions ahead (a gap) breaks the chain.
    let mut ahead = circle.state.clone();
    let at = circle.tick();
    let demote = |state: &MembershipState, to| {
        state
            .set_capability(&owner.device, &admin.member, to, &none(), at)
            .unwrap()
    };
    ahead
        .apply_mut(&demote(&ahead, Capability::Member))
        .unwrap();
    let after_next = demote(&ahead, Capability::Reader);
    assert!(matches!(
        circle.state.apply(&after_next),
        Err(Error::BrokenChain { .. })
    ));
}

#[test]
fn nobody_but_the_owner_touches_the_owner() {
    let (mut circle, owner) = TestCircle::new();
    let admin = circle.join(&owner.device, Capability::Admin);
    let second = circle.add_device(&owner.device, &owner.member);
    let keys = circle.keys(&admin.device);
    let at = circle.tick();
    let state = &circle.state;

    let remove = state.remove_member(&admin.device, &keys, &owner.member, &none(), at);
    assert!(matches!(remove, Err(Error::OwnerProtected)));
    let demote = state.set_capability(
        &admin.device,
        &owner.member,
        Capability::Member,
        &none(),
        at,
    );
    assert!(matches!(demote, Err(Error::OwnerProtected)));
    let remove_device = state.remove_device(&admin.device, &keys, &second.id(), &none(), at);
    assert!(matches!(remove_device, Err(Error::OwnerProtected)));
    let add_device = state.add_device(
        &admin.device,
        &keys,
        &owner.member,
        &DeviceIdentity::generate().public(),
        at,
    );
    assert!(matches!(add_device, Err(Error::OwnerProtected)));
    // The owner cannot step down either (a circle always has its main person) ...
    let self_demote =
        state.set_capability(&owner.device, &owner.member, Capability::Admin, &none(), at);
    assert!(matches!(self_demote, Err(Error::OwnerProtected)));
    // ... nor make a second owner.
    let second_owner =
        state.set_capability(&owner.device, &admin.member, Capability::Owner, &none(), at);
    assert!(matches!(second_owner, Err(Error::Unauthorized { .. })));
    // But the owner manages their own devices.
    let keys = circle.keys(&owner.device);
    circle.append(
        state
            .remove_device(&owner.device, &keys, &second.id(), &none(), at)
            .unwrap(),
    );
}

#[test]
fn only_the_owner_appoints_and_manages_admins() {
    let (mut circle, owner) = TestCircle::new();
    let admin = circle.join(&owner.device, Capability::Admin);
    let other_admin = circle.join(&owner.device, Capability::Admin);
    let member = circle.join(&admin.device, Capability::Member);
    let keys = circle.keys(&admin.device);
    let at = circle.tick();
    let state = &circle.state;

    let appoint = state.set_capability(
        &admin.device,
        &member.member,
        Capability::Admin,
        &none(),
        at,
    );
    assert!(matches!(appoint, Err(Error::Unauthorized { .. })));
    let add_admin = state.add_member(
        &admin.device,
        &keys,
        MemberId::random(),
        Capability::Admin,
        &DeviceIdentity::generate().public(),
        at,
    );
    assert!(matches!(add_admin, Err(Error::Unauthorized { .. })));
    let remove_admin = state.remove_member(&admin.device, &keys, &other_admin.member, &none(), at);
    assert!(matches!(remove_admin, Err(Error::Unauthorized { .. })));
    // Admins do manage members, and the owner manages admins.
    state
        .set_capability(
            &admin.device,
            &member.member,
            Capability::Reader,
            &none(),
            at,
        )
        .unwrap();
    state
        .remove_member(
            &owner.device,
            &circle.keys(&owner.device),
            &other_admin.member,
            &none(),
            at,
        )
        .unwrap();
}

#[test]
fn members_and_readers_cannot_change_membership() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let reader = circle.join(&owner.device, Capability::Reader);
    let at = circle.tick();
    for person in [&member, &reader] {
        let keys = circle.keys(&person.device);
        let add = circle.state.add_member(
            &person.device,
            &keys,
            MemberId::random(),
            Capability::Reader,
            &DeviceIdentity::generate().public(),
            at,
        );
        assert!(matches!(add, Err(Error::Unauthorized { .. })));
        let rotate = circle.state.rotate_key(&person.device, &keys, at);
        assert!(matches!(rotate, Err(Error::Unauthorized { .. })));
    }
    let stranger = DeviceIdentity::generate();
    let add = forge(
        &circle,
        &stranger,
        Action::SetCapability {
            member: reader.member.clone(),
            capability: Capability::Member,
            cutoffs: vec![],
        },
    );
    assert!(matches!(
        circle.state.apply(&add),
        Err(Error::UnknownDevice(_))
    ));
}

#[test]
fn removed_devices_sign_nothing_valid_afterwards() {
    let (mut circle, owner) = TestCircle::new();
    let admin = circle.join(&owner.device, Capability::Admin);
    circle.remove_member(&owner.device, &admin.member, &none());
    let at = circle.tick();

    let new = Person::new();
    let add = forge(
        &circle,
        &admin.device,
        Action::AddMember {
            member: new.member,
            capability: Capability::Member,
            device: new.device.public(),
            key: EpochKey::generate().wrap(1, &new.device.exchange_key()),
        },
    );
    let result = circle.state.apply(&add);
    assert!(matches!(result, Err(Error::Removed(d)) if d == admin.device.id()));
    // A removed device, or member, cannot be brought back under the same id.
    let back = circle.state.add_member(
        &owner.device,
        &circle.keys(&owner.device),
        MemberId::random(),
        Capability::Member,
        &admin.device.public(),
        at,
    );
    assert!(matches!(back, Err(Error::Removed(_))));
    let same_member = circle.state.add_member(
        &owner.device,
        &circle.keys(&owner.device),
        admin.member.clone(),
        Capability::Member,
        &DeviceIdentity::generate().public(),
        at,
    );
    assert!(matches!(same_member, Err(Error::AlreadyExists(_))));
    assert!(!circle.state.is_active(&admin.device.id()));
    assert_eq!(
        circle.state.member_of_device(&admin.device.id()),
        Some(&admin.member)
    );
}

#[test]
fn a_device_never_removes_itself_nor_a_members_last_device() {
    let (mut circle, owner) = TestCircle::new();
    let admin = circle.join(&owner.device, Capability::Admin);
    let member = circle.join(&admin.device, Capability::Member);
    let keys = circle.keys(&admin.device);
    let at = circle.tick();
    let own = circle
        .state
        .remove_device(&admin.device, &keys, &admin.device.id(), &none(), at);
    assert!(matches!(own, Err(Error::Unauthorized { .. })));
    let last = circle
        .state
        .remove_device(&admin.device, &keys, &member.device.id(), &none(), at);
    assert!(matches!(last, Err(Error::Unauthorized { .. })));
}

#[test]
fn rotations_wrap_for_exactly_the_remaining_devices_at_the_next_epoch() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let keys = circle.keys(&owner.device);
    let at = circle.tick();
    let good = circle
        .state
        .remove_member(&owner.device, &keys, &member.member, &none(), at)
        .unwrap();
    let Action::RemoveMember {
        cutoffs, rotation, ..
    } = good.body().action.clone()
    else {
        unreachable!()
    };

    // The removed member still gets the new key: rejected.
    let mut leaky = rotation.clone();
    leaky.keys.push(KeyWrap {
        device: member.device.id(),
        key: EpochKey::generate().wrap(1, &member.device.exchange_key()),
    });
    let entry = forge(
        &circle,
        &owner.device,
        Action::RemoveMember {
            member: member.member.clone(),
            cutoffs: cutoffs.clone(),
            rotation: leaky,
        },
    );
    assert!(matches!(
        circle.state.apply(&entry),
        Err(Error::Malformed { .. })
    ));
    // A remaining device is left out: rejected.
    let mut short = rotation.clone();
    short.keys.clear();
    let entry = forge(
        &circle,
        &owner.device,
        Action::RemoveMember {
            member: member.member.clone(),
            cutoffs: cutoffs.clone(),
            rotation: short,
        },
    );
    assert!(matches!(
        circle.state.apply(&entry),
        Err(Error::Malformed { .. })
    ));
    // Skipping an epoch: rejected.
    let skipping = Rotation {
        epoch: 2,
        ..rotation.clone()
    };
    let entry = forge(
        &circle,
        &owner.device,
        Action::RemoveMember {
            member: member.member.clone(),
            cutoffs: cutoffs.clone(),
            rotation: skipping,
        },
    );
    assert!(matches!(
        circle.state.apply(&entry),
        Err(Error::StaleEpoch {
            expected: 1,
            got: 2
        })
    ));
    // A removal without a cutoff for a device that could write: rejected.
    let entry = forge(
        &circle,
        &owner.device,
        Action::RemoveMember {
            member: member.member.clone(),
            cutoffs: vec![],
            rotation: rotation.clone(),
        },
    );
    assert!(matches!(
        circle.state.apply(&entry),
        Err(Error::Malformed { .. })
    ));
    circle.append(good);
}

#[test]
fn a_bad_wrap_for_one_device_leaves_its_keyring_unchanged() {
    let (mut circle, owner) = TestCircle::new();
    let member = circle.join(&owner.device, Capability::Member);
    let mut keys = circle.keys(&member.device);
    let before: Vec<u64> = keys.epochs().collect();
    let other = DeviceIdentity::generate();
    let garbage = EpochKey::generate().wrap(1, &other.exchange_key());
    let previous = SealedKey {
        nonce: [0; 24],
        ciphertext: vec![0; 48],
    };
    let rotation = Rotation {
        epoch: 1,
        keys: vec![
            KeyWrap {
                device: owner.device.id(),
                key: garbage.clone(),
            },
            KeyWrap {
                device: member.device.id(),
                key: garbage,
            },
        ],
        previous,
    };
    let entry = forge(&circle, &owner.device, Action::RotateKey { rotation });
    circle.append(entry.clone());
    assert!(matches!(
        keys.absorb(&member.device, &circle.state, &entry),
        Err(Error::Decrypt(_))
    ));
    assert_eq!(keys.epochs().collect::<Vec<_>>(), before);
    // Keys are only learned from entries the state has accepted.
    let stranger_log = TestCircle::new().0;
    assert!(matches!(
        keys.absorb(&member.device, &circle.state, &stranger_log.log[0]),
        Err(Error::UnknownHead(_))
    ));
}

#[test]
fn time_never_runs_backwards_in_the_log() {
    let (mut circle, owner) = TestCircle::new();
    circle.join(&owner.device, Capability::Member);
    let mut body = circle.state.next_body(
        owner.device.id(),
        Action::RotateKey {
            rotation: Rotation {
                epoch: 1,
                keys: vec![],
                previous: SealedKey {
                    nonce: [0; 24],
                    ciphertext: vec![],
                },
            },
        },
        circle.now,
    );
    body.at = circle.now.plus_millis(-1);
    let entry = SignedEntry::sign(&owner.device, &body, None).unwrap();
    assert!(matches!(
        circle.state.apply(&entry),
        Err(Error::ClockRegression { .. })
    ));
}

#[test]
fn oversized_and_foreign_input_is_rejected_before_parsing() {
    let huge = vec![1u8; MAX_ENTRY_BYTES + 1];
    assert!(matches!(
        SignedEntry::from_bytes(&huge),
        Err(Error::Oversized { .. })
    ));
    assert!(matches!(
        SignedEntry::from_bytes(&[]),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        SignedEntry::from_bytes(&[9, 0]),
        Err(Error::UnsupportedVersion { version: 9, .. })
    ));
    // Another circle's genesis is not a continuation of this one.
    let (circle, _) = TestCircle::new();
    let (other, _) = TestCircle::new();
    assert!(matches!(
        circle.state.apply(&other.log[0]),
        Err(Error::BrokenChain { .. })
    ));
    assert_ne!(circle.state.circle(), other.state.circle());
    assert_eq!(
        circle.log[0].founded_circle().as_ref(),
        Some(circle.state.circle())
    );
}

// ---- random valid histories ------------------------------------------------------------

/// One step of a random history; indices pick among whoever exists at that point.
#[derive(Debug, Clone)]
enum Step {
    AddMember {
        by: usize,
        capability: Capability,
    },
    AddDevice {
        by: usize,
        member: usize,
    },
    SetCapability {
        by: usize,
        member: usize,
        capability: Capability,
    },
    RemoveMember {
        by: usize,
        member: usize,
    },
    RemoveDevice {
        by: usize,
        device: usize,
    },
    Rotate {
        by: usize,
    },
    Invite {
        by: usize,
        capability: Capability,
    },
}

fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        Just(Capability::Reader),
        Just(Capability::Member),
        Just(Capability::Admin)
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let i = || 0usize..16;
    prop_oneof![
        3 => (i(), capability()).prop_map(|(by, capability)| Step::AddMember { by, capability }),
        1 => (i(), i()).prop_map(|(by, member)| Step::AddDevice { by, member }),
        2 => (i(), i(), capability()).prop_map(|(by, member, capability)| Step::SetCapability { by, member, capability }),
        1 => (i(), i()).prop_map(|(by, member)| Step::RemoveMember { by, member }),
        1 => (i(), i()).prop_map(|(by, device)| Step::RemoveDevice { by, device }),
        1 => i().prop_map(|by| Step::Rotate { by }),
        1 => (i(), capability()).prop_map(|(by, capability)| Step::Invite { by, capability }),
    ]
}

/// Every device ever admitted, with its member.
struct World {
    circle: TestCircle,
    devices: Vec<(MemberId, DeviceIdentity)>,
}

impl World {
    fn pick<T>(items: &[T], i: usize) -> Option<&T> {
        (!items.is_empty()).then(|| &items[i % items.len()])
    }

    fn active(&self) -> Vec<usize> {
        (0..self.devices.len())
            .filter(|&i| self.circle.state.is_active(&self.devices[i].1.id()))
            .collect()
    }

    fn admins(&self) -> Vec<usize> {
        self.active()
            .into_iter()
            .filter(|&i| {
                self.circle
                    .state
                    .capability_of(&self.devices[i].1.id())
                    .is_some_and(Capability::is_admin)
            })
            .collect()
    }

    fn members(&self) -> Vec<MemberId> {
        self.circle
            .state
            .members()
            .map(|(m, _)| m.clone())
            .collect()
    }

    /// Builds the step's entry; `None` when the step does not apply (nobody to act on,
    /// or the rules forbid it, which the builder reports).
    fn entry(&mut self, step: &Step) -> Option<(SignedEntry, Option<(MemberId, DeviceIdentity)>)> {
        let admins = self.admins();
        let by_index = |by: usize| *Self::pick(&admins, by).expect("the owner is always an admin");
        let at = self.circle.tick();
        let state = &self.circle.state;
        let result = match step {
            Step::AddMember { by, capability } => {
                let author = &self.devices[by_index(*by)].1;
                let new = Person::new();
                let entry = state.add_member(
                    author,
                    &self.circle.keys(author),
                    new.member.clone(),
                    *capability,
                    &new.device.public(),
                    at,
                );
                entry.map(|e| (e, Some((new.member, new.device))))
            }
            Step::AddDevice { by, member } => {
                let author = &self.devices[by_index(*by)].1;
                let member = Self::pick(&self.members(), *member)?.clone();
                let device = DeviceIdentity::generate();
                let entry = state.add_device(
                    author,
                    &self.circle.keys(author),
                    &member,
                    &device.public(),
                    at,
                );
                entry.map(|e| (e, Some((member, device))))
            }
            Step::SetCapability {
                by,
                member,
                capability,
            } => {
                let author = &self.devices[by_index(*by)].1;
                let member = Self::pick(&self.members(), *member)?.clone();
                state
                    .set_capability(author, &member, *capability, &BTreeMap::new(), at)
                    .map(|e| (e, None))
            }
            Step::RemoveMember { by, member } => {
                let author = &self.devices[by_index(*by)].1;
                let member = Self::pick(&self.members(), *member)?.clone();
                state
                    .remove_member(
                        author,
                        &self.circle.keys(author),
                        &member,
                        &BTreeMap::new(),
                        at,
                    )
                    .map(|e| (e, None))
            }
            Step::RemoveDevice { by, device } => {
                let author = &self.devices[by_index(*by)].1;
                let device = self.devices[*Self::pick(&self.active(), *device)?].1.id();
                state
                    .remove_device(
                        author,
                        &self.circle.keys(author),
                        &device,
                        &BTreeMap::new(),
                        at,
                    )
                    .map(|e| (e, None))
            }
            Step::Rotate { by } => {
                let author = &self.devices[by_index(*by)].1;
                state
                    .rotate_key(author, &self.circle.keys(author), at)
                    .map(|e| (e, None))
            }
            Step::Invite { by, capability } => {
                let author = &self.devices[by_index(*by)].1;
                let keys = self.circle.keys(author);
                let new = Person::new();
                crate::invite::InviteToken::create(
                    state,
                    author,
                    &keys,
                    crate::testkit::RELAY,
                    *capability,
                    at.plus_days(1),
                    at,
                )
                .and_then(|token| token.redeem(state, &new.device, new.member.clone(), at))
                .map(|e| (e, Some((new.member, new.device))))
            }
        };
        match result {
            Ok(built) => Some(built),
            // The builders run the validator: these are the rules saying no.
            Err(Error::Unauthorized { .. } | Error::OwnerProtected) => None,
            Err(other) => panic!("{step:?} failed unexpectedly: {other}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_valid_histories_validate(steps in prop::collection::vec(step(), 1..24)) {
        let (circle, owner) = TestCircle::new();
        let mut world = World { circle, devices: vec![(owner.member.clone(), owner.device)] };
        for step in &steps {
            if let Some((entry, new_device)) = world.entry(step) {
                world.circle.append(entry);
                world.devices.extend(new_device);
            }
        }
        let circle = &world.circle;
        let state = &circle.state;

        // The whole log validates from scratch to the same state, also from its bytes.
        let parsed: Vec<SignedEntry> = circle.log.iter().map(|e| SignedEntry::from_bytes(e.as_bytes()).unwrap()).collect();
        prop_assert_eq!(&MembershipState::from_log(&parsed).unwrap(), state);

        // Invariants: one owner, still there; every active member has a device.
        prop_assert_eq!(state.member(&owner.member).map(MemberRecord::capability), Some(Capability::Owner));
        prop_assert_eq!(state.members().filter(|(_, r)| r.capability() == Capability::Owner).count(), 1);
        for (_, record) in state.members() {
            prop_assert!(record.devices().next().is_some());
        }

        // Active devices hold every epoch key; removed ones nothing after their removal.
        let all_epochs: Vec<u64> = (0..=state.current_epoch()).collect();
        for (_, device) in &world.devices {
            let keys = Keyring::from_log(device, state, &circle.log).unwrap();
            if state.is_active(&device.id()) {
                prop_assert_eq!(keys.epochs().collect::<Vec<_>>(), all_epochs.clone());
            } else {
                let removed_at = state.device(&device.id()).unwrap();
                let last_epoch = (0..state.len()).filter(|&p| removed_at.capability_at(p).is_some()).map(|p| state.epoch_at(p).unwrap()).max().unwrap();
                prop_assert!(keys.epochs().all(|e| e <= last_epoch));
            }
        }

        // Replaying any earlier entry is refused, and changes nothing.
        for entry in &circle.log[1..] {
            prop_assert!(state.apply(entry).is_err());
        }
    }
}

/// A reader writes nothing in the plan, so the name they join with travels in the
/// log, sealed: the circle reads "Piet", the relay (which stores the log) reads no
/// name, a removed member cannot read the name of someone who introduced themselves
/// after the removal, and one member's sealed name does not open as another's.
#[test]
fn a_member_introduces_themselves_to_the_circle_and_not_to_the_relay() {
    let (mut circle, owner) = TestCircle::new();
    let piet = circle.join(&owner.device, Capability::Reader);
    let leaving = circle.join(&owner.device, Capability::Member);
    circle.remove_member(&owner.device, &leaving.member, &BTreeMap::new());

    let at = circle.tick();
    let entry = circle
        .state
        .introduce(&piet.device, &circle.keys(&piet.device), "  Piet  ", at)
        .unwrap();
    assert!(
        !entry.as_bytes().windows(4).any(|w| w == b"Piet"),
        "the relay stores the log: no name in the clear"
    );
    circle.append(entry.clone());
    let owners = circle.keys(&owner.device);
    assert_eq!(
        owners.member_name(&circle.state, &piet.member),
        Some("Piet".into())
    );
    assert_eq!(
        MembershipState::from_log(&circle.log).unwrap(),
        circle.state,
        "a replay reads the same"
    );
    // The member removed before sees the sealed bytes but holds no key for them.
    let old_keys = circle.keys(&leaving.device);
    assert_eq!(old_keys.epochs().max(), Some(0), "it never got the new key");
    assert_eq!(old_keys.member_name(&circle.state, &piet.member), None);
    // Only the author's own member is named, whatever a modified client puts in.
    let record = circle
        .state
        .member(&piet.member)
        .unwrap()
        .sealed_name()
        .cloned();
    let (epoch, sealed) = record.unwrap();
    let owner_member = circle
        .state
        .member_of_device(&owner.device.id())
        .unwrap()
        .clone();
    let as_owner = owners
        .key(epoch)
        .unwrap()
        .open_name(epoch, &owner_member, &sealed);
    assert!(as_owner.is_err(), "bound to Piet's member id");

    // Too long, empty, or by a removed device: refused, nothing appended.
    let keys = circle.keys(&piet.device);
    let long = "P".repeat(81);
    for name in ["", "   ", long.as_str()] {
        assert!(matches!(
            circle.state.introduce(&piet.device, &keys, name, at),
            Err(Error::InvalidValue { .. })
        ));
    }
    assert!(circle
        .state
        .introduce(&leaving.device, &keys, "Kees", at)
        .is_err());
}
