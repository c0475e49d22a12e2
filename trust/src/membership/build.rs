//! Making membership entries on a client device.
//!
//! Every builder signs the entry as the given device, then runs it through the same
//! validator the relay and the other devices use ([`MembershipState::check`]), so a
//! client never publishes an entry that will be rejected for its content. The entry is
//! not applied: the caller appends it at the relay (which may answer with a fork if
//! someone else appended first) and then applies it.
//!
//! Entry times are `max(at, time of the previous entry)`: the log's time never runs
//! backwards even when device clocks disagree a little.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::OsRng;
use rand::RngCore;

use super::entry::{
    Action, Capability, EntryBody, FamilyKeys, KeyWrap, PresentedKey, Rotation, SignedEntry,
    WriteCutoff,
};
use super::state::MembershipState;
use crate::crypto::EpochKey;
use crate::error::{Error, Result};
use crate::identity::{DeviceId, DeviceIdentity, PublicDevice};
use crate::ids::MemberId;
use crate::keyring::Keyring;
use crate::time::Timestamp;

/// The longest name a member gives the circle in the log (as the plan's names).
pub const MAX_INTRODUCED_NAME_CHARS: usize = 80;

/// The last `device_seq` this device has seen from other devices; write cutoffs are
/// taken from it (a device missing from the map has written nothing: cutoff 0). Sync
/// before removing someone, so that everything they wrote before is kept.
pub type LastSeqs = BTreeMap<DeviceId, u64>;

impl MembershipState {
    /// Founds a new circle with `owner_device` as the device of the main person
    /// `owner`. Returns the genesis entry and the state after it.
    pub fn create_circle(
        owner_device: &DeviceIdentity,
        owner: MemberId,
        at: Timestamp,
    ) -> Result<(SignedEntry, MembershipState)> {
        let mut nonce = [0u8; 16];
        OsRng.fill_bytes(&mut nonce);
        let action = Action::Genesis {
            owner,
            device: owner_device.public(),
            key: EpochKey::generate().wrap(0, &owner_device.exchange_key()),
            nonce,
        };
        let body = EntryBody {
            seq: 0,
            prev: None,
            author: owner_device.id(),
            at,
            action,
        };
        let entry = SignedEntry::sign(owner_device, &body, None)?;
        let state = MembershipState::genesis(&entry)?;
        Ok((entry, state))
    }

    /// The body of the next entry at the head.
    pub(crate) fn next_body(&self, author: DeviceId, action: Action, at: Timestamp) -> EntryBody {
        EntryBody {
            seq: self.len(),
            prev: Some(self.head()),
            author,
            at: at.max(self.last_at()),
            action,
        }
    }

    fn append(
        &self,
        author: &DeviceIdentity,
        action: Action,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let entry = SignedEntry::sign(author, &self.next_body(author.id(), action, at), None)?;
        self.check(&entry)?;
        Ok(entry)
    }

    pub fn add_member(
        &self,
        author: &DeviceIdentity,
        keys: &Keyring,
        member: MemberId,
        capability: Capability,
        device: &PublicDevice,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let key = keys
            .current(self)?
            .wrap(self.current_epoch(), &device.exchange_key);
        let action = Action::AddMember {
            member,
            capability,
            device: device.clone(),
            key,
        };
        self.append(author, action, at)
    }

    pub fn add_device(
        &self,
        author: &DeviceIdentity,
        keys: &Keyring,
        member: &MemberId,
        device: &PublicDevice,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let key = keys
            .current(self)?
            .wrap(self.current_epoch(), &device.exchange_key);
        let action = Action::AddDevice {
            member: member.clone(),
            device: device.clone(),
            key,
        };
        self.append(author, action, at)
    }

    pub fn set_capability(
        &self,
        author: &DeviceIdentity,
        member: &MemberId,
        capability: Capability,
        last_seqs: &LastSeqs,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let target = self
            .member(member)
            .ok_or_else(|| Error::UnknownMember(member.clone()))?;
        let cutoffs = cutoffs(
            &target.losing_write(target.devices().copied(), Some(capability)),
            last_seqs,
        );
        self.append(
            author,
            Action::SetCapability {
                member: member.clone(),
                capability,
                cutoffs,
            },
            at,
        )
    }

    /// Removes a member and all their devices, rotating the key for everyone else.
    pub fn remove_member(
        &self,
        author: &DeviceIdentity,
        keys: &Keyring,
        member: &MemberId,
        last_seqs: &LastSeqs,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let target = self
            .member(member)
            .ok_or_else(|| Error::UnknownMember(member.clone()))?;
        let leaving: BTreeSet<DeviceId> = target.devices().copied().collect();
        let action = Action::RemoveMember {
            member: member.clone(),
            cutoffs: cutoffs(
                &target.losing_write(leaving.iter().copied(), None),
                last_seqs,
            ),
            rotation: self.rotation(keys, &leaving)?,
        };
        self.append(author, action, at)
    }

    /// Removes one device (say a lost phone), rotating the key for everyone else.
    pub fn remove_device(
        &self,
        author: &DeviceIdentity,
        keys: &Keyring,
        device: &DeviceId,
        last_seqs: &LastSeqs,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let target = self
            .member_of_device(device)
            .and_then(|member| self.member(member))
            .ok_or(Error::UnknownDevice(*device))?;
        let action = Action::RemoveDevice {
            device: *device,
            cutoffs: cutoffs(&target.losing_write([*device], None), last_seqs),
            rotation: self.rotation(keys, &BTreeSet::from([*device]))?,
        };
        self.append(author, action, at)
    }

    /// A fresh key for everyone, without removing anyone (e.g. a suspected leak).
    pub fn rotate_key(
        &self,
        author: &DeviceIdentity,
        keys: &Keyring,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let rotation = self.rotation(keys, &BTreeSet::new())?;
        self.append(author, Action::RotateKey { rotation }, at)
    }

    /// Marks `member` as a professional (or clears the mark): they hold no family key
    /// from the next family key on.
    pub fn mark_professional(
        &self,
        author: &DeviceIdentity,
        member: &MemberId,
        professional: bool,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let action = Action::MarkProfessional {
            member: member.clone(),
            professional,
        };
        self.append(author, action, at)
    }

    /// The author's member gives the circle their own name (trimmed, 1 to
    /// [`MAX_INTRODUCED_NAME_CHARS`] characters), sealed under the current key.
    pub fn introduce(
        &self,
        author: &DeviceIdentity,
        keys: &Keyring,
        name: &str,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_INTRODUCED_NAME_CHARS {
            return Err(Error::InvalidValue {
                field: "display name",
                value: name.chars().take(MAX_INTRODUCED_NAME_CHARS).collect(),
                expected: format!("1 to {MAX_INTRODUCED_NAME_CHARS} characters"),
            });
        }
        let member = self
            .member_of_device(&author.id())
            .ok_or(Error::UnknownDevice(author.id()))?;
        let epoch = self.current_epoch();
        let sealed = keys.current(self)?.seal_name(epoch, member, name);
        let action = Action::Introduce {
            epoch,
            name: sealed,
        };
        self.append(author, action, at)
    }

    /// Takes back the invite (or device link) `invite` before anyone uses it. Only
    /// admins (the owner included), as for making invites.
    pub fn revoke_invite(
        &self,
        author: &DeviceIdentity,
        invite: crate::invite::InviteId,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        self.append(author, Action::RevokeInvite { invite }, at)
    }

    /// Opens family time with a fresh family key for the family's devices.
    pub fn open_family_time(&self, author: &DeviceIdentity, at: Timestamp) -> Result<SignedEntry> {
        let family = self.family_keys();
        self.append(author, Action::OpenFamilyTime { family }, at)
    }

    /// A fresh family key for the family as it is now.
    pub fn rotate_family_key(&self, author: &DeviceIdentity, at: Timestamp) -> Result<SignedEntry> {
        let family = self.family_keys();
        self.append(author, Action::RotateFamilyKey { family }, at)
    }

    pub fn close_family_time(&self, author: &DeviceIdentity, at: Timestamp) -> Result<SignedEntry> {
        self.append(author, Action::CloseFamilyTime, at)
    }

    /// The main person presents what the family wrote: the family key of every
    /// generation since family time opened, sealed under the circle's current key.
    pub fn present_family_time(
        &self,
        author: &DeviceIdentity,
        keys: &Keyring,
        at: Timestamp,
    ) -> Result<SignedEntry> {
        // Who may comes first: a professional's device holds no family key to seal.
        if self.capability_of(&author.id()) != Some(Capability::Owner) {
            return Err(Error::Unauthorized {
                device: author.id(),
                action: super::family::refusal::PRESENT,
            });
        }
        let current = keys.current(self)?;
        let presented = self
            .family_session()
            .into_iter()
            .map(|generation| {
                Ok(PresentedKey {
                    generation,
                    key: current.seal_family(generation, keys.family_key(generation)?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let action = Action::PresentFamilyTime {
            epoch: self.current_epoch(),
            keys: presented,
        };
        self.append(author, action, at)
    }

    /// The next family key generation, wrapped for every device of the family.
    fn family_keys(&self) -> FamilyKeys {
        let family = self.family_devices();
        let generation = self.family_key_generation() + 1;
        let key = EpochKey::generate();
        let keys = self
            .devices()
            .filter(|device| family.contains(&device.id))
            .map(|device| KeyWrap {
                device: device.id,
                key: key.wrap_family(generation, &device.exchange_key),
            })
            .collect();
        FamilyKeys { generation, keys }
    }

    /// A new epoch key wrapped for every active device except `leaving`, carrying the
    /// current key for history.
    fn rotation(&self, keys: &Keyring, leaving: &BTreeSet<DeviceId>) -> Result<Rotation> {
        let current = keys.current(self)?;
        let epoch = self.current_epoch() + 1;
        let key = EpochKey::generate();
        let wraps = self
            .devices()
            .filter(|device| !leaving.contains(&device.id))
            .map(|device| KeyWrap {
                device: device.id,
                key: key.wrap(epoch, &device.exchange_key),
            })
            .collect();
        Ok(Rotation {
            epoch,
            keys: wraps,
            previous: key.seal_previous(epoch, current),
        })
    }
}

fn cutoffs(devices: &BTreeSet<DeviceId>, last_seqs: &LastSeqs) -> Vec<WriteCutoff> {
    devices
        .iter()
        .map(|device| WriteCutoff {
            device: *device,
            last_seq: last_seqs.get(device).copied().unwrap_or(0),
        })
        .collect()
}
