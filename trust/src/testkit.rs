//! Test fixtures for the trust layer: a circle whose log the test grows step by step.
//! Public behind the `testkit` feature so the client's tests build on the same circles.

use std::collections::BTreeMap;

use crate::identity::DeviceIdentity;
use crate::ids::MemberId;
use crate::invite::InviteToken;
use crate::keyring::Keyring;
use crate::membership::{Capability, MembershipState, SignedEntry};
use crate::time::Timestamp;

pub const RELAY: &str = "https://relay.kring.example";

/// A person with one device.
pub struct Person {
    pub member: MemberId,
    pub device: DeviceIdentity,
}

impl Default for Person {
    fn default() -> Self {
        Self::new()
    }
}

impl Person {
    pub fn new() -> Self {
        Self {
            member: MemberId::random(),
            device: DeviceIdentity::generate(),
        }
    }
}

pub struct TestCircle {
    pub state: MembershipState,
    pub log: Vec<SignedEntry>,
    pub now: Timestamp,
}

impl TestCircle {
    /// A circle founded by a new owner.
    pub fn new() -> (Self, Person) {
        let owner = Person::new();
        let now = Timestamp(1_750_000_000_000);
        let (genesis, state) =
            MembershipState::create_circle(&owner.device, owner.member.clone(), now).unwrap();
        (
            Self {
                state,
                log: vec![genesis],
                now,
            },
            owner,
        )
    }

    pub fn tick(&mut self) -> Timestamp {
        self.now = self.now.plus_millis(1000);
        self.now
    }

    pub fn keys(&self, device: &DeviceIdentity) -> Keyring {
        Keyring::from_log(device, &self.state, &self.log).unwrap()
    }

    pub fn append(&mut self, entry: SignedEntry) {
        self.state.apply_mut(&entry).unwrap();
        self.log.push(entry);
    }

    /// Adds a new person with `capability`, by `by`.
    pub fn join(&mut self, by: &DeviceIdentity, capability: Capability) -> Person {
        let person = Person::new();
        let at = self.tick();
        let entry = self
            .state
            .add_member(
                by,
                &self.keys(by),
                person.member.clone(),
                capability,
                &person.device.public(),
                at,
            )
            .unwrap();
        self.append(entry);
        person
    }

    pub fn add_device(&mut self, by: &DeviceIdentity, member: &MemberId) -> DeviceIdentity {
        let device = DeviceIdentity::generate();
        let at = self.tick();
        let entry = self
            .state
            .add_device(by, &self.keys(by), member, &device.public(), at)
            .unwrap();
        self.append(entry);
        device
    }

    pub fn remove_member(
        &mut self,
        by: &DeviceIdentity,
        member: &MemberId,
        last_seqs: &BTreeMap<crate::identity::DeviceId, u64>,
    ) {
        let at = self.tick();
        let entry = self
            .state
            .remove_member(by, &self.keys(by), member, last_seqs, at)
            .unwrap();
        self.append(entry);
    }

    pub fn invite(
        &mut self,
        by: &DeviceIdentity,
        capability: Capability,
        days: i64,
    ) -> InviteToken {
        let now = self.tick();
        InviteToken::create(
            &self.state,
            by,
            &self.keys(by),
            RELAY,
            capability,
            now.plus_days(days),
            now,
        )
        .unwrap()
    }

    /// Every entry kind at least once (a device link's redemption included); returns the
    /// people still in the circle.
    pub fn with_every_entry_kind() -> (Self, Vec<Person>) {
        let (mut circle, owner) = Self::new();
        let admin = circle.join(&owner.device, Capability::Admin);
        let member = circle.join(&admin.device, Capability::Member);
        let leaving = circle.join(&admin.device, Capability::Reader);
        let second = circle.add_device(&admin.device, &member.member);

        let at = circle.tick();
        let entry = circle
            .state
            .set_capability(
                &admin.device,
                &member.member,
                Capability::Reader,
                &BTreeMap::new(),
                at,
            )
            .unwrap();
        circle.append(entry);
        let at = circle.tick();
        let keys = circle.keys(&admin.device);
        let entry = circle
            .state
            .remove_device(&admin.device, &keys, &second.id(), &BTreeMap::new(), at)
            .unwrap();
        circle.append(entry);
        circle.remove_member(&admin.device, &leaving.member, &BTreeMap::new());

        let token = circle.invite(&admin.device, Capability::Member, 7);
        let joiner = Person::new();
        let at = circle.tick();
        let entry = token
            .redeem(&circle.state, &joiner.device, joiner.member.clone(), at)
            .unwrap();
        circle.append(entry);

        // The joiner links a second device of theirs.
        let at = circle.tick();
        let keys = circle.keys(&joiner.device);
        let link = InviteToken::create_device_link(
            &circle.state,
            &joiner.device,
            &keys,
            RELAY,
            at.plus_millis(60_000),
            at,
        )
        .unwrap();
        let at = circle.tick();
        let entry = link
            .redeem_device(&circle.state, &DeviceIdentity::generate(), at)
            .unwrap();
        circle.append(entry);

        let at = circle.tick();
        let keys = circle.keys(&owner.device);
        let entry = circle.state.rotate_key(&owner.device, &keys, at).unwrap();
        circle.append(entry);

        // Family time: a professional marked, family time opened, its key rotated
        // after the mark is cleared, closed, opened again and presented.
        let professional = circle.join(&owner.device, Capability::Member);
        let at = circle.tick();
        let entry = circle
            .state
            .mark_professional(&owner.device, &professional.member, true, at)
            .unwrap();
        circle.append(entry);
        for step in 0..6 {
            let at = circle.tick();
            let state = &circle.state;
            let entry = match step {
                0 | 4 => state.open_family_time(&admin.device, at),
                1 => state.mark_professional(&admin.device, &professional.member, false, at),
                2 => state.rotate_family_key(&owner.device, at),
                3 => state.close_family_time(&owner.device, at),
                _ => state.present_family_time(&owner.device, &circle.keys(&owner.device), at),
            };
            circle.append(entry.unwrap());
        }
        // A reader gives the circle their name.
        let reader = circle.join(&owner.device, Capability::Reader);
        let at = circle.tick();
        let keys = circle.keys(&reader.device);
        let entry = circle
            .state
            .introduce(&reader.device, &keys, "Piet", at)
            .unwrap();
        circle.append(entry);
        // An invite taken back before it was used.
        let unused = circle.invite(&owner.device, Capability::Member, 7);
        let at = circle.tick();
        let entry = circle
            .state
            .revoke_invite(&owner.device, unused.invite().id(), at)
            .unwrap();
        circle.append(entry);
        (
            circle,
            vec![owner, admin, member, joiner, professional, reader],
        )
    }
}

/// Stand-in change bytes made on `device`: the trust layer carries changes without
/// looking inside (the client's tests use real automerge changes).
pub fn change_by(device: &DeviceIdentity, text: &str) -> Vec<u8> {
    format!("{}:{text}", device.id()).into_bytes()
}

/// Every single-byte change of `bytes`: each position, each of three deltas.
pub fn single_byte_changes(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..bytes.len()).flat_map(move |i| {
        [0x01u8, 0x80, 0xff].into_iter().map(move |delta| {
            let mut changed = bytes.to_vec();
            changed[i] ^= delta;
            changed
        })
    })
}
