//! The membership state of a circle and the pure validator that advances it.
//!
//! [`MembershipState`] is a function of the log: apply the entries in order and you get
//! the same state on every device and on the relay. Validation ([`MembershipState::check`])
//! never mutates; [`MembershipState::apply_mut`] validates first and then commits with
//! code that cannot fail, so an `Err` always leaves the state exactly as it was.
//!
//! Authority rules (see `docs/threat-model.md`):
//! - Only devices of the owner and of admins write membership entries (invite
//!   redemptions are written by the joining device, under an admin's invite), except
//!   that every member manages their own devices: a device of the member adds or
//!   removes another one, and a new device admits itself under a device link that
//!   one of the member's devices made (`Action::AddLinkedDevice`), with the member's
//!   own capability.
//! - Admins manage members and readers; only the owner manages admins and appoints
//!   them. Nobody can remove or change the owner, or manage the owner's devices,
//!   except the owner (who cannot remove or demote themselves: a circle always has
//!   its main person). There is never a second owner.
//! - Removed devices and members never come back (a new device or member id is needed),
//!   and nothing they sign afterwards is valid.
//! - Removing a member or device rotates the key in the same entry; the new key is
//!   wrapped for exactly the devices that remain.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ed25519_dalek::VerifyingKey;

use super::entry::{Action, Capability, EntryHash, FamilyKeys, Rotation, SignedEntry, WriteCutoff};
use super::family::{self, Family};
use crate::error::{Error, Result};
use crate::identity::{DeviceId, PublicDevice};
use crate::ids::{CircleId, MemberId};
use crate::invite::{InviteId, SignedInvite};
use crate::time::Timestamp;
use crate::wire;

/// Why an invite taken back does not work (`Error::InviteRevoked`).
pub const REVOKED: &str = "whoever made it took it back";
const LOG: &str = "membership log";

/// A person in the circle, as far as the log knows (names live in the encrypted plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    capability: Capability,
    /// Active devices only.
    devices: BTreeSet<DeviceId>,
    removed: bool,
    /// The member's own name, as their newest introduction sealed it (epoch, name).
    name: Option<(u64, crate::crypto::SealedName)>,
}

impl MemberRecord {
    pub fn capability(&self) -> Capability {
        self.capability
    }

    /// The name this member gave the circle, sealed (see [`Action::Introduce`];
    /// `Keyring::member_name` opens it).
    pub fn sealed_name(&self) -> Option<&(u64, crate::crypto::SealedName)> {
        self.name.as_ref()
    }

    pub fn devices(&self) -> impl Iterator<Item = &DeviceId> {
        self.devices.iter()
    }

    pub fn is_removed(&self) -> bool {
        self.removed
    }

    /// Which of `devices` (this member's) lose write access when the member's
    /// capability becomes `after` (`None`: removed). Those need a [`WriteCutoff`].
    pub fn losing_write(
        &self,
        devices: impl IntoIterator<Item = DeviceId>,
        after: Option<Capability>,
    ) -> BTreeSet<DeviceId> {
        if self.capability.can_write() && !after.is_some_and(Capability::can_write) {
            devices.into_iter().collect()
        } else {
            BTreeSet::new()
        }
    }
}

/// A device the log has ever admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    public: PublicDevice,
    /// Decompressed once, not on every signature check.
    verifying_key: VerifyingKey,
    member: MemberId,
    /// `(log position, capability from then on)`; `None` once removed. Lets envelopes be
    /// judged at the membership head they cite.
    history: Vec<(u64, Option<Capability>)>,
    /// Last valid `device_seq` after this device lost write access (see [`WriteCutoff`]).
    write_cutoff: Option<u64>,
}

impl DeviceRecord {
    pub fn public(&self) -> &PublicDevice {
        &self.public
    }

    pub fn member(&self) -> &MemberId {
        &self.member
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying_key
    }

    /// The current capability; `None` when removed.
    pub fn capability(&self) -> Option<Capability> {
        self.history.last().and_then(|(_, capability)| *capability)
    }

    pub fn is_removed(&self) -> bool {
        self.capability().is_none()
    }

    pub fn write_cutoff(&self) -> Option<u64> {
        self.write_cutoff
    }

    /// The log position of the entry that admitted the device.
    pub fn admitted_at(&self) -> u64 {
        self.history.first().map_or(0, |(position, _)| *position)
    }

    /// The capability right after the log entry at `position`.
    pub fn capability_at(&self, position: u64) -> Option<Capability> {
        self.history
            .iter()
            .rev()
            .find(|(from, _)| *from <= position)
            .and_then(|(_, c)| *c)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct LogPoint {
    hash: EntryHash,
    at: Timestamp,
    /// The key epoch in force after this entry.
    epoch: u64,
    /// The family key generation that may be sealed under after this entry.
    family: Option<u64>,
}

/// Everything the membership log says, at its head. Holds no secrets, so the relay uses
/// the very same type to authorise requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipState {
    circle: CircleId,
    owner: MemberId,
    log: Vec<LogPoint>,
    positions: HashMap<EntryHash, u64>,
    epoch: u64,
    members: BTreeMap<MemberId, MemberRecord>,
    devices: BTreeMap<DeviceId, DeviceRecord>,
    redeemed: BTreeSet<InviteId>,
    /// Invites and device links taken back before they were used.
    revoked: BTreeSet<InviteId>,
    family: Family,
}

// ---- building the state ----------------------------------------------------------------

impl MembershipState {
    /// The state right after a genesis entry.
    pub fn genesis(entry: &SignedEntry) -> Result<Self> {
        let body = entry.body();
        let (Action::Genesis { owner, device, .. }, Some(circle)) =
            (&body.action, entry.founded_circle())
        else {
            return Err(wire::malformed(
                LOG,
                "the first entry must be a genesis".into(),
            ));
        };
        if body.author != device.id {
            return Err(Error::Unauthorized {
                device: body.author,
                action: "found a circle for another device",
            });
        }
        let mut state = Self {
            circle,
            owner: owner.clone(),
            log: Vec::new(),
            positions: HashMap::new(),
            epoch: 0,
            members: BTreeMap::new(),
            devices: BTreeMap::new(),
            redeemed: BTreeSet::new(),
            revoked: BTreeSet::new(),
            family: Family::default(),
        };
        state.insert_member(owner, Capability::Owner);
        state.insert_device(0, owner, entry);
        state.push_log(entry);
        Ok(state)
    }

    /// Validates a whole log from genesis.
    pub fn from_log<'a>(entries: impl IntoIterator<Item = &'a SignedEntry>) -> Result<Self> {
        let mut entries = entries.into_iter();
        let first = entries
            .next()
            .ok_or_else(|| wire::malformed(LOG, "an empty log has no genesis".into()))?;
        let mut state = Self::genesis(first)?;
        for entry in entries {
            state.apply_mut(entry)?;
        }
        Ok(state)
    }

    /// The state after `entry`, or why `entry` is invalid here.
    pub fn apply(&self, entry: &SignedEntry) -> Result<Self> {
        self.check(entry)?;
        let mut next = self.clone();
        next.commit(entry);
        Ok(next)
    }

    /// Applies `entry` in place; on `Err` the state is unchanged.
    pub fn apply_mut(&mut self, entry: &SignedEntry) -> Result<()> {
        self.check(entry)?;
        self.commit(entry);
        Ok(())
    }

    /// Whether `entry` may be appended at the head. Changes nothing.
    pub fn check(&self, entry: &SignedEntry) -> Result<()> {
        self.check_chain(entry)?;
        let body = entry.body();
        if body.at < self.last_at() {
            return Err(Error::ClockRegression {
                previous: self.last_at(),
                got: body.at,
            });
        }
        match &body.action {
            Action::Genesis { .. } => Err(wire::malformed(
                LOG,
                "genesis must come first, and only first".into(),
            )),
            Action::AddMember {
                member,
                capability,
                device,
                ..
            } => {
                let author = self.admin_author(&body.author, "add members")?;
                self.may_grant(&body.author, author, *capability)?;
                self.check_new(member, device)
            }
            Action::AddDevice { member, device, .. } => {
                self.check_device_authority(&body.author, member, "add devices")?;
                self.check_new_device(device)
            }
            Action::SetCapability {
                member,
                capability,
                cutoffs,
            } => {
                let (author, target) =
                    self.check_manage_member(&body.author, member, "change capabilities")?;
                self.may_grant(&body.author, author, *capability)?;
                let losing = target.losing_write(target.devices.iter().copied(), Some(*capability));
                check_cutoffs(cutoffs, &losing)
            }
            Action::RemoveMember {
                member,
                cutoffs,
                rotation,
            } => {
                let (_, target) =
                    self.check_manage_member(&body.author, member, "remove members")?;
                check_cutoffs(
                    cutoffs,
                    &target.losing_write(target.devices.iter().copied(), None),
                )?;
                self.check_rotation(rotation, &target.devices)
            }
            Action::RemoveDevice {
                device,
                cutoffs,
                rotation,
            } => {
                let target = self.check_remove_device(&body.author, device)?;
                check_cutoffs(cutoffs, &target.losing_write([*device], None))?;
                self.check_rotation(rotation, &BTreeSet::from([*device]))
            }
            Action::RedeemInvite { member, device, .. } => {
                let invite = entry
                    .invite()
                    .ok_or(Error::BadSignature("invite redemption"))?;
                if body.author != device.id {
                    return Err(Error::Unauthorized {
                        device: body.author,
                        action: "redeem an invite for another device",
                    });
                }
                self.check_invite(invite)?;
                if invite.for_member().is_some_and(|named| named != member) {
                    return Err(Error::Unauthorized {
                        device: body.author,
                        action: "join as another person than the invite names",
                    });
                }
                let invite = invite.body();
                if body.at > invite.expires_at {
                    return Err(Error::InviteExpired {
                        expires_at: invite.expires_at,
                        at: body.at,
                    });
                }
                self.check_new(member, device)
            }
            Action::RotateKey { rotation } => {
                self.admin_author(&body.author, "rotate the key")?;
                self.check_rotation(rotation, &BTreeSet::new())
            }
            Action::AddLinkedDevice { member, device, .. } => {
                let link = entry
                    .invite()
                    .ok_or(Error::BadSignature("device link redemption"))?;
                if body.author != device.id {
                    return Err(Error::Unauthorized {
                        device: body.author,
                        action: "redeem a device link for another device",
                    });
                }
                let issuers_member = self.check_device_link(link)?;
                if issuers_member != member {
                    return Err(Error::Unauthorized {
                        device: body.author,
                        action: "join as another member than the device link's",
                    });
                }
                let link = link.body();
                if body.at > link.expires_at {
                    return Err(Error::InviteExpired {
                        expires_at: link.expires_at,
                        at: body.at,
                    });
                }
                self.check_new_device(device)
            }
            Action::MarkProfessional {
                member,
                professional,
            } => {
                self.admin_author(&body.author, family::refusal::MARK)?;
                self.active_member(member)?;
                if *member == self.owner {
                    return Err(Error::OwnerProtected);
                }
                if self.family.professionals.contains(member) == *professional {
                    return Err(Error::AlreadyExists(format!(
                        "this mark on member {member}"
                    )));
                }
                Ok(())
            }
            Action::OpenFamilyTime { family } => {
                self.admin_author(&body.author, family::refusal::OPEN)?;
                if self.family.open {
                    return Err(Error::FamilyTime(family::refusal::ALREADY_OPEN));
                }
                self.check_family_keys(family)
            }
            Action::RotateFamilyKey { family } => {
                self.admin_author(&body.author, family::refusal::ROTATE)?;
                if !self.family.open {
                    return Err(Error::FamilyTime(family::refusal::NOT_OPEN));
                }
                self.check_family_keys(family)
            }
            Action::RevokeInvite { invite } => {
                self.admin_author(&body.author, "revoke invites")?;
                if self.redeemed.contains(invite) {
                    return Err(Error::InviteReused(*invite));
                }
                if self.revoked.contains(invite) {
                    return Err(Error::InviteRevoked(REVOKED));
                }
                Ok(())
            }
            Action::Introduce { epoch, name } => {
                // Any active device, readers too: it is the member's own name.
                self.active_capability(&body.author)?;
                if *epoch != self.current_epoch() {
                    return Err(Error::StaleEpoch {
                        expected: self.current_epoch(),
                        got: *epoch,
                    });
                }
                wire::check_size(
                    "member name",
                    name.ciphertext.len(),
                    crate::crypto::MAX_SEALED_NAME_BYTES,
                )
            }
            Action::CloseFamilyTime => {
                self.admin_author(&body.author, family::refusal::CLOSE)?;
                if !self.family.open {
                    return Err(Error::FamilyTime(family::refusal::NOT_OPEN));
                }
                Ok(())
            }
            Action::PresentFamilyTime { epoch, keys } => {
                if self.active_capability(&body.author)? != Capability::Owner {
                    return Err(Error::Unauthorized {
                        device: body.author,
                        action: family::refusal::PRESENT,
                    });
                }
                let Some(session) = self.family.session() else {
                    let presented = self.family.presented.contains_key(&self.family.generation);
                    return Err(Error::FamilyTime(if presented {
                        family::refusal::ALREADY_PRESENTED
                    } else {
                        family::refusal::NOT_OPEN
                    }));
                };
                if *epoch != self.current_epoch() {
                    return Err(Error::StaleEpoch {
                        expected: self.current_epoch(),
                        got: *epoch,
                    });
                }
                if !keys.iter().map(|k| k.generation).eq(session) {
                    return Err(wire::malformed(
                        LOG,
                        "a presentation must seal the family key of every generation since family time opened, once each, oldest first".into(),
                    ));
                }
                Ok(())
            }
        }
    }

    /// A family key is the next generation, wrapped once for every device of the
    /// family as the log says now and for no other device (no professional's).
    fn check_family_keys(&self, family: &FamilyKeys) -> Result<()> {
        let expected = self.family.generation + 1;
        if family.generation != expected {
            return Err(Error::StaleEpoch {
                expected,
                got: family.generation,
            });
        }
        let wrapped: BTreeSet<DeviceId> = family.keys.iter().map(|k| k.device).collect();
        if wrapped.len() != family.keys.len() || wrapped != self.family_devices() {
            return Err(wire::malformed(
                LOG,
                "a family key must be wrapped once for every device of the family and for no professional's".into(),
            ));
        }
        Ok(())
    }

    /// Whether a device link (see [`crate::invite::InviteKind::Device`]) is (still)
    /// good, apart from its expiry: issued by an active device, for that device's
    /// member and the member's current capability, for the current key epoch, valid
    /// for at most [`crate::invite::MAX_DEVICE_LINK_MILLIS`], never used. Returns the
    /// member the link admits a device for.
    pub fn check_device_link(&self, link: &SignedInvite) -> Result<&MemberId> {
        let body = link.body();
        if link.kind() != crate::invite::InviteKind::Device {
            return Err(Error::NotAllowed(
                "an invite admits a new person, not another device",
            ));
        }
        if body.circle != self.circle {
            return Err(Error::WrongCircle {
                expected: self.circle.to_string(),
                found: body.circle.to_string(),
            });
        }
        let capability = self.active_capability(&body.issuer)?;
        let member = self
            .member_of_device(&body.issuer)
            .ok_or(Error::UnknownDevice(body.issuer))?;
        if capability != body.capability {
            // The member's capability changed since: the link would grant the old one.
            return Err(Error::InviteRevoked(
                "the member's capability changed after it was made",
            ));
        }
        if body.expires_at.0.saturating_sub(body.created_at.0)
            > crate::invite::MAX_DEVICE_LINK_MILLIS
        {
            return Err(Error::NotAllowed(
                "a device link is valid for at most an hour",
            ));
        }
        if body.epoch != self.epoch {
            return Err(Error::StaleEpoch {
                expected: self.epoch,
                got: body.epoch,
            });
        }
        if self.redeemed.contains(&link.id()) {
            return Err(Error::InviteReused(link.id()));
        }
        if self.revoked.contains(&link.id()) {
            return Err(Error::InviteRevoked(REVOKED));
        }
        Ok(member)
    }

    /// Whether an invite is (still) good for this circle, apart from its expiry, which
    /// depends on the redemption time: issued by an active admin who may grant its
    /// capability, for the current key epoch, never redeemed.
    pub fn check_invite(&self, invite: &SignedInvite) -> Result<()> {
        let body = invite.body();
        if invite.kind() != crate::invite::InviteKind::Person {
            return Err(Error::NotAllowed(
                "a device link admits another device of its member, not a new person",
            ));
        }
        if body.circle != self.circle {
            return Err(Error::WrongCircle {
                expected: self.circle.to_string(),
                found: body.circle.to_string(),
            });
        }
        let issuer = self.admin_author(&body.issuer, "issue invites")?;
        self.may_grant(&body.issuer, issuer, body.capability)?;
        if body.epoch != self.epoch {
            // The invite carries an old key; a member was removed since it was made.
            return Err(Error::StaleEpoch {
                expected: self.epoch,
                got: body.epoch,
            });
        }
        if self.redeemed.contains(&invite.id()) {
            return Err(Error::InviteReused(invite.id()));
        }
        if self.revoked.contains(&invite.id()) {
            return Err(Error::InviteRevoked(REVOKED));
        }
        if let Some(named) = invite.for_member() {
            if self.members.contains_key(named) {
                // They joined already (or were removed): a second device of theirs
                // comes by a device link from their own device, not by an invite.
                return Err(Error::AlreadyExists(format!("member {named}")));
            }
        }
        Ok(())
    }

    fn check_chain(&self, entry: &SignedEntry) -> Result<()> {
        let seq = entry.seq();
        let len = self.len();
        let broken = Error::BrokenChain {
            what: LOG,
            expected_seq: len,
            got_seq: seq,
        };
        if seq == len && entry.body().prev == Some(self.head()) {
            return Ok(());
        }
        if seq == 0 || seq > len {
            return Err(broken);
        }
        if self.hash_at(seq) == Some(entry.hash()) {
            return Err(Error::AlreadyApplied { what: LOG, seq });
        }
        if entry.body().prev == self.hash_at(seq - 1) {
            return Err(Error::Fork { what: LOG, seq });
        }
        Err(broken)
    }

    /// The author, which must be an active owner or admin device.
    fn admin_author(&self, author: &DeviceId, action: &'static str) -> Result<Capability> {
        let capability = self.active_capability(author)?;
        if !capability.is_admin() {
            return Err(Error::Unauthorized {
                device: *author,
                action,
            });
        }
        Ok(capability)
    }

    fn active_capability(&self, device: &DeviceId) -> Result<Capability> {
        let record = self
            .devices
            .get(device)
            .ok_or(Error::UnknownDevice(*device))?;
        record.capability().ok_or(Error::Removed(*device))
    }

    /// Who may hand out `capability`: admins give member or reader, only the owner
    /// appoints admins, and nobody creates a second owner.
    fn may_grant(
        &self,
        author: &DeviceId,
        author_cap: Capability,
        capability: Capability,
    ) -> Result<()> {
        let action = match capability {
            Capability::Owner => "make a second owner",
            Capability::Admin if author_cap != Capability::Owner => "appoint admins",
            _ => return Ok(()),
        };
        Err(Error::Unauthorized {
            device: *author,
            action,
        })
    }

    /// The author must be an admin who may manage `member`: the owner manages everyone
    /// else, admins manage members and readers. The owner is untouchable. Returns the
    /// author's capability and the member.
    fn check_manage_member(
        &self,
        author: &DeviceId,
        member: &MemberId,
        action: &'static str,
    ) -> Result<(Capability, &MemberRecord)> {
        let author_cap = self.admin_author(author, action)?;
        let target = self.active_member(member)?;
        if target.capability == Capability::Owner {
            return Err(Error::OwnerProtected);
        }
        if author_cap != Capability::Owner && target.capability.is_admin() {
            return Err(Error::Unauthorized {
                device: *author,
                action,
            });
        }
        Ok((author_cap, target))
    }

    fn active_member(&self, member: &MemberId) -> Result<&MemberRecord> {
        match self.members.get(member) {
            None => Err(Error::UnknownMember(member.clone())),
            Some(record) if record.removed => Err(Error::NotAMember(member.clone())),
            Some(record) => Ok(record),
        }
    }

    /// Devices are added and removed by whoever may manage their member; owners and
    /// admins also manage their own devices.
    fn check_device_authority(
        &self,
        author: &DeviceId,
        member: &MemberId,
        action: &'static str,
    ) -> Result<&MemberRecord> {
        let target = self.active_member(member)?;
        if target.devices.contains(author) {
            // A member manages their own devices (a lost phone, a new tablet), whatever
            // their capability: it grants nothing they do not have.
            self.active_capability(author)?;
            Ok(target)
        } else {
            self.check_manage_member(author, member, action)
                .map(|(_, target)| target)
        }
    }

    /// A device never removes itself (it would learn the new key), and a member's last
    /// device goes only with the member.
    fn check_remove_device(&self, author: &DeviceId, device: &DeviceId) -> Result<&MemberRecord> {
        self.active_capability(device)?;
        let member = self
            .member_of_device(device)
            .ok_or(Error::UnknownDevice(*device))?;
        let target = self.check_device_authority(author, member, "remove devices")?;
        if author == device {
            return Err(Error::Unauthorized {
                device: *author,
                action: "remove itself",
            });
        }
        if target.devices.len() == 1 {
            return Err(Error::Unauthorized {
                device: *author,
                action: "remove a member's last device (remove the member instead)",
            });
        }
        Ok(target)
    }

    fn check_new(&self, member: &MemberId, device: &PublicDevice) -> Result<()> {
        if self.members.contains_key(member) {
            return Err(Error::AlreadyExists(format!("member {member}")));
        }
        self.check_new_device(device)
    }

    fn check_new_device(&self, device: &PublicDevice) -> Result<()> {
        match self.devices.get(&device.id) {
            None => Ok(()),
            Some(record) if record.is_removed() => Err(Error::Removed(device.id)),
            Some(_) => Err(Error::AlreadyExists(format!("device {}", device.id))),
        }
    }

    /// A rotation moves to the next epoch and wraps the key for exactly the active
    /// devices that are not `leaving`.
    fn check_rotation(&self, rotation: &Rotation, leaving: &BTreeSet<DeviceId>) -> Result<()> {
        let expected = self.epoch + 1;
        if rotation.epoch != expected {
            return Err(Error::StaleEpoch {
                expected,
                got: rotation.epoch,
            });
        }
        let remaining: BTreeSet<DeviceId> = self
            .active_devices()
            .filter(|d| !leaving.contains(d))
            .collect();
        let wrapped: BTreeSet<DeviceId> = rotation.keys.iter().map(|k| k.device).collect();
        if wrapped.len() != rotation.keys.len() || wrapped != remaining {
            return Err(wire::malformed(
                LOG,
                "a rotation must wrap the new key once for every remaining device".into(),
            ));
        }
        Ok(())
    }
}

fn check_cutoffs(cutoffs: &[WriteCutoff], losing: &BTreeSet<DeviceId>) -> Result<()> {
    let named: BTreeSet<DeviceId> = cutoffs.iter().map(|c| c.device).collect();
    if named.len() != cutoffs.len() || &named != losing {
        return Err(wire::malformed(
            LOG,
            "write cutoffs must name exactly the devices that lose write access".into(),
        ));
    }
    Ok(())
}

// ---- committing (only after `check`; cannot fail) ------------------------------------------

impl MembershipState {
    fn commit(&mut self, entry: &SignedEntry) {
        let body = entry.body();
        let seq = body.seq;
        match &body.action {
            Action::Genesis { .. } | Action::RotateKey { .. } => {}
            Action::MarkProfessional {
                member,
                professional,
            } => {
                if *professional {
                    self.family.professionals.insert(member.clone());
                } else {
                    self.family.professionals.remove(member);
                }
            }
            Action::PresentFamilyTime { keys, .. } => {
                self.family.open = false;
                for key in keys {
                    self.family.presented.insert(key.generation, body.at);
                }
            }
            Action::OpenFamilyTime { family } | Action::RotateFamilyKey { family } => {
                if !self.family.open {
                    self.family.opened_with = family.generation;
                }
                self.family.open = true;
                self.family.generation = family.generation;
                let holders = family.keys.iter().map(|k| k.device).collect();
                self.family.holders.insert(family.generation, holders);
            }
            Action::CloseFamilyTime => self.family.open = false,
            Action::RevokeInvite { invite } => {
                self.revoked.insert(*invite);
            }
            Action::Introduce { epoch, name } => {
                let member = self
                    .devices
                    .get(&entry.body().author)
                    .map(|d| d.member.clone());
                if let Some(record) = member.and_then(|m| self.members.get_mut(&m)) {
                    record.name = Some((*epoch, name.clone()));
                }
            }
            Action::AddMember {
                member, capability, ..
            } => {
                self.insert_member(member, *capability);
                self.insert_device(seq, member, entry);
            }
            Action::AddDevice { member, .. } => self.insert_device(seq, member, entry),
            Action::AddLinkedDevice { member, .. } => {
                if let Some(link) = entry.invite() {
                    self.redeemed.insert(link.id());
                }
                self.insert_device(seq, member, entry);
            }
            Action::RedeemInvite { member, .. } => {
                if let Some(invite) = entry.invite() {
                    self.redeemed.insert(invite.id());
                    self.insert_member(member, invite.body().capability);
                }
                self.insert_device(seq, member, entry);
            }
            Action::SetCapability {
                member,
                capability,
                cutoffs,
            } => {
                let devices = self.members.get_mut(member).map(|record| {
                    record.capability = *capability;
                    record.devices.clone()
                });
                for device in devices.unwrap_or_default() {
                    self.set_device_capability(seq, &device, Some(*capability));
                }
                self.set_cutoffs(cutoffs);
            }
            Action::RemoveMember {
                member, cutoffs, ..
            } => {
                let devices = self.members.get_mut(member).map(|record| {
                    record.removed = true;
                    std::mem::take(&mut record.devices)
                });
                for device in devices.unwrap_or_default() {
                    self.set_device_capability(seq, &device, None);
                }
                self.set_cutoffs(cutoffs);
            }
            Action::RemoveDevice {
                device, cutoffs, ..
            } => {
                let member = self.devices.get(device).map(|d| d.member.clone());
                if let Some(record) = member.and_then(|m| self.members.get_mut(&m)) {
                    record.devices.remove(device);
                }
                self.set_device_capability(seq, device, None);
                self.set_cutoffs(cutoffs);
            }
        }
        if let Some(rotation) = body.action.rotation() {
            self.epoch = rotation.epoch;
        }
        self.push_log(entry);
    }

    fn insert_member(&mut self, member: &MemberId, capability: Capability) {
        let record = MemberRecord {
            capability,
            devices: BTreeSet::new(),
            removed: false,
            name: None,
        };
        self.members.insert(member.clone(), record);
    }

    /// Admits the device that `entry` brings in, for `member`.
    fn insert_device(&mut self, seq: u64, member: &MemberId, entry: &SignedEntry) {
        let (Some(record), Some((device, verifying_key))) =
            (self.members.get_mut(member), entry.new_device())
        else {
            return;
        };
        record.devices.insert(device.id);
        let history = vec![(seq, Some(record.capability))];
        let device_record = DeviceRecord {
            public: device.clone(),
            verifying_key,
            member: member.clone(),
            history,
            write_cutoff: None,
        };
        self.devices.insert(device.id, device_record);
    }

    fn set_device_capability(
        &mut self,
        seq: u64,
        device: &DeviceId,
        capability: Option<Capability>,
    ) {
        if let Some(record) = self.devices.get_mut(device) {
            record.history.push((seq, capability));
        }
    }

    fn set_cutoffs(&mut self, cutoffs: &[WriteCutoff]) {
        for cutoff in cutoffs {
            if let Some(record) = self.devices.get_mut(&cutoff.device) {
                record.write_cutoff = Some(cutoff.last_seq);
            }
        }
    }

    fn push_log(&mut self, entry: &SignedEntry) {
        let point = LogPoint {
            hash: entry.hash(),
            at: entry.body().at,
            epoch: self.epoch,
            family: self.family.sealable(&self.family_devices()),
        };
        self.positions.insert(point.hash, self.log.len() as u64);
        self.log.push(point);
    }
}

// ---- queries ---------------------------------------------------------------------------

impl MembershipState {
    pub fn circle(&self) -> &CircleId {
        &self.circle
    }

    /// The main person.
    pub fn owner(&self) -> &MemberId {
        &self.owner
    }

    /// Hash of the last entry: what the next entry cites as `prev`.
    pub fn head(&self) -> EntryHash {
        self.log
            .last()
            .map(|p| p.hash)
            .unwrap_or(EntryHash::from_bytes([0; 32]))
    }

    /// Number of entries; also the `seq` of the next one.
    pub fn len(&self) -> u64 {
        self.log.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    /// Time of the last entry; the next entry may not be earlier.
    pub fn last_at(&self) -> Timestamp {
        self.log.last().map(|p| p.at).unwrap_or(Timestamp(i64::MIN))
    }

    pub fn current_epoch(&self) -> u64 {
        self.epoch
    }

    /// [`Error::StaleEpoch`] unless `epoch` is the current one: what the relay asks of
    /// everything newly stored, so nothing written after a removal is readable with a
    /// key the removed device holds.
    pub fn check_current_epoch(&self, epoch: u64) -> Result<()> {
        if epoch != self.epoch {
            return Err(Error::StaleEpoch {
                expected: self.epoch,
                got: epoch,
            });
        }
        Ok(())
    }

    /// Position in the log of the entry with hash `head`.
    pub fn position_of(&self, head: &EntryHash) -> Option<u64> {
        self.positions.get(head).copied()
    }

    pub fn hash_at(&self, position: u64) -> Option<EntryHash> {
        self.log
            .get(usize::try_from(position).ok()?)
            .map(|p| p.hash)
    }

    /// The key epoch in force right after the entry at `position`.
    pub fn epoch_at(&self, position: u64) -> Option<u64> {
        self.log
            .get(usize::try_from(position).ok()?)
            .map(|p| p.epoch)
    }

    /// Whether the log marks `member` as a professional.
    pub fn is_professional(&self, member: &MemberId) -> bool {
        self.family.professionals.contains(member)
    }

    /// The active devices of the members not marked professional: who a family key
    /// is for.
    pub fn family_devices(&self) -> BTreeSet<DeviceId> {
        self.members
            .iter()
            .filter(|(member, _)| !self.family.professionals.contains(*member))
            .flat_map(|(_, record)| record.devices.iter().copied())
            .collect()
    }

    /// Whether family time is open.
    pub fn family_time_open(&self) -> bool {
        self.family.open
    }

    /// When what was written under family key `generation` was presented to the whole
    /// circle; `None` while it is the family's alone.
    pub fn family_presented_at(&self, generation: u64) -> Option<Timestamp> {
        self.family.presented.get(&generation).copied()
    }

    /// The family key generations presented to the whole circle, oldest first.
    pub fn presented_generations(&self) -> impl Iterator<Item = u64> + '_ {
        self.family.presented.keys().copied()
    }

    /// When the family's plan was last presented, if ever.
    pub fn last_presented_at(&self) -> Option<Timestamp> {
        self.family.presented.values().max().copied()
    }

    /// The family key generations of the family time that is open now (what a
    /// presentation reveals), oldest first; empty when it is closed.
    pub fn family_session(&self) -> Vec<u64> {
        self.family.session().into_iter().flatten().collect()
    }

    /// The newest family key generation handed out (0: never).
    pub fn family_key_generation(&self) -> u64 {
        self.family.generation
    }

    /// The family key generation to seal under now; [`Error::FamilyTime`] when family
    /// time is closed or its key is out of date (rotate it first).
    pub fn family_generation(&self) -> Result<u64> {
        if !self.family.open {
            return Err(Error::FamilyTime(family::refusal::NOT_OPEN));
        }
        self.family
            .sealable(&self.family_devices())
            .ok_or(Error::FamilyTime(
            "the family key is out of date (someone joined, left or was marked): rotate it first",
        ))
    }

    /// Whether `device` may seal for the family under `generation` at the membership
    /// head `head` (the one its envelope cites): family time was open there with that
    /// generation current, and the generation was wrapped for the device. What it says
    /// holds on every replica, as [`check_writer`](Self::check_writer) does.
    pub fn check_family_writer(
        &self,
        device: &DeviceId,
        head: &EntryHash,
        generation: u64,
    ) -> Result<()> {
        let position = self.position_of(head).ok_or(Error::UnknownHead(*head))?;
        let sealable = self
            .log
            .get(usize::try_from(position).unwrap_or(usize::MAX))
            .and_then(|p| p.family);
        if sealable != Some(generation) {
            return Err(Error::FamilyTime(family::refusal::NOT_CURRENT));
        }
        if !self.family.holds(generation, device) {
            return Err(Error::FamilyTime(family::refusal::NOT_HELD));
        }
        Ok(())
    }

    /// Whether `entry` is (exactly) part of this log.
    pub fn contains(&self, entry: &SignedEntry) -> bool {
        self.hash_at(entry.seq()) == Some(entry.hash())
    }

    pub fn member(&self, member: &MemberId) -> Option<&MemberRecord> {
        self.members.get(member)
    }

    /// Active members with their records.
    pub fn members(&self) -> impl Iterator<Item = (&MemberId, &MemberRecord)> {
        self.members.iter().filter(|(_, r)| !r.removed)
    }

    pub fn device(&self, device: &DeviceId) -> Option<&DeviceRecord> {
        self.devices.get(device)
    }

    /// Active devices, in id order.
    pub fn active_devices(&self) -> impl Iterator<Item = DeviceId> + '_ {
        self.devices
            .iter()
            .filter(|(_, r)| !r.is_removed())
            .map(|(id, _)| *id)
    }

    /// Active devices with their public keys.
    pub fn devices(&self) -> impl Iterator<Item = &PublicDevice> {
        self.devices
            .values()
            .filter(|r| !r.is_removed())
            .map(|r| &r.public)
    }

    /// The capability of an active device; `None` for unknown or removed devices.
    pub fn capability_of(&self, device: &DeviceId) -> Option<Capability> {
        self.devices.get(device).and_then(DeviceRecord::capability)
    }

    pub fn is_active(&self, device: &DeviceId) -> bool {
        self.capability_of(device).is_some()
    }

    /// The member a device belongs (or belonged) to.
    pub fn member_of_device(&self, device: &DeviceId) -> Option<&MemberId> {
        self.devices.get(device).map(|r| &r.member)
    }

    pub fn is_redeemed(&self, invite: &InviteId) -> bool {
        self.redeemed.contains(invite)
    }

    /// Whether `invite` was taken back ([`Action::RevokeInvite`]).
    pub fn is_revoked(&self, invite: &InviteId) -> bool {
        self.revoked.contains(invite)
    }

    /// Whether `device` may have written an envelope numbered `device_seq` under key
    /// `epoch`, citing membership head `head`:
    /// - it could write (member, admin or owner) right after `head`, and `epoch` was
    ///   the key epoch then;
    /// - if it has since been removed or demoted to reader, `device_seq` is within the
    ///   write cutoff recorded when that happened.
    ///
    /// This accepts history written before a removal forever, and nothing after it.
    /// Returns the device's record (with its cached verifying key) for the signature
    /// check that follows.
    pub fn check_writer(
        &self,
        device: &DeviceId,
        head: &EntryHash,
        epoch: u64,
        device_seq: u64,
    ) -> Result<&DeviceRecord> {
        let position = self.position_of(head).ok_or(Error::UnknownHead(*head))?;
        let record = self
            .devices
            .get(device)
            .ok_or(Error::UnknownDevice(*device))?;
        match record.capability_at(position) {
            None if record.admitted_at() <= position => return Err(Error::Removed(*device)),
            None => return Err(Error::DeviceNotMember(*device)),
            Some(capability) if !capability.can_write() => return Err(Error::ReadOnly(*device)),
            Some(_) => {}
        }
        let expected = self.epoch_at(position).unwrap_or(self.epoch);
        if epoch != expected {
            return Err(Error::StaleEpoch {
                expected,
                got: epoch,
            });
        }
        let beyond_cutoff = device_seq > record.write_cutoff.unwrap_or(0);
        match record.capability() {
            None if beyond_cutoff => Err(Error::Removed(*device)),
            Some(capability) if !capability.can_write() && beyond_cutoff => {
                Err(Error::ReadOnly(*device))
            }
            _ => Ok(record),
        }
    }
}
