//! A device's content keys for one circle, learned from the membership log.
//!
//! The keyring is derived state: the membership log plus the device's identity always
//! rebuild it ([`Keyring::from_log`]), so it needs no storage of its own. A device
//! learns keys from entries that wrap a key for it (genesis, being added, redeeming
//! an invite, every rotation while it is a member) and walks back from any epoch key it
//! holds through the previous keys that rotations carry. It never learns a key from an
//! entry the membership state has not accepted.

use std::collections::BTreeMap;

use crate::crypto::{EpochKey, SealedKey, WrappedKey};
use crate::error::{Error, Result};
use crate::identity::{DeviceId, DeviceIdentity};
use crate::membership::{Action, MembershipState, SignedEntry};

#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: BTreeMap<u64, EpochKey>,
    /// Family keys by generation: only a device of the family (no professional's)
    /// is ever given one.
    family: BTreeMap<u64, EpochKey>,
    /// Family keys a presentation sealed under an epoch key (generation → epoch and
    /// sealed key), and those opened from there: every member's once presented.
    presented: BTreeMap<u64, (u64, SealedKey)>,
    revealed: BTreeMap<u64, EpochKey>,
    /// The key of `epoch - 1`, encrypted under the key of `epoch`, from every rotation.
    previous: BTreeMap<u64, SealedKey>,
}

impl Keyring {
    pub fn new() -> Self {
        Self::default()
    }

    /// All keys `identity` can learn from a validated log (`entries` in log order,
    /// each part of `state`).
    pub fn from_log<'a>(
        identity: &DeviceIdentity,
        state: &MembershipState,
        entries: impl IntoIterator<Item = &'a SignedEntry>,
    ) -> Result<Self> {
        let mut keyring = Self::new();
        for entry in entries {
            keyring.absorb(identity, state, entry)?;
        }
        Ok(keyring)
    }

    /// Learns what `entry` holds for `identity`. The entry must be part of `state`'s
    /// log (apply it first). On `Err` (e.g. the key wrapped for this device does not
    /// open) the keyring is unchanged.
    pub fn absorb(
        &mut self,
        identity: &DeviceIdentity,
        state: &MembershipState,
        entry: &SignedEntry,
    ) -> Result<()> {
        if !state.contains(entry) {
            return Err(Error::UnknownHead(entry.hash()));
        }
        let epoch = state.epoch_at(entry.seq()).unwrap_or(state.current_epoch());
        let grant = grant_for(&identity.id(), &entry.body().action, epoch);
        let key = match grant {
            Some((epoch, wrapped)) => Some((
                epoch,
                EpochKey::unwrap(wrapped, epoch, identity.exchange_secret())?,
            )),
            None => None,
        };
        if let Some(rotation) = entry.body().action.rotation() {
            self.previous
                .insert(rotation.epoch, rotation.previous.clone());
        }
        let family = match entry.body().action.family_keys() {
            Some(family) => family
                .keys
                .iter()
                .find(|wrap| wrap.device == identity.id())
                .map(|wrap| {
                    EpochKey::unwrap_family(
                        &wrap.key,
                        family.generation,
                        identity.exchange_secret(),
                    )
                    .map(|key| (family.generation, key))
                })
                .transpose()?,
            None => None,
        };
        if let Some((epoch, key)) = key {
            self.keys.insert(epoch, key);
        }
        if let Some((generation, key)) = family {
            self.family.insert(generation, key);
        }
        if let Action::PresentFamilyTime { epoch, keys } = &entry.body().action {
            for presented in keys {
                self.presented
                    .insert(presented.generation, (*epoch, presented.key.clone()));
            }
        }
        self.walk_back();
        self.open_presented();
        Ok(())
    }

    /// Opens the presented family keys whose epoch key this device holds (a member
    /// who joined later learns older epoch keys by walking back, so this runs after).
    /// One that does not open (a faulty presentation) stays unknown: its envelopes
    /// stay sealed, the rest keeps working.
    fn open_presented(&mut self) {
        for (generation, (epoch, sealed)) in &self.presented {
            if self.revealed.contains_key(generation) {
                continue;
            }
            let opened = self
                .keys
                .get(epoch)
                .and_then(|key| key.open_family(*generation, sealed).ok());
            if let Some(key) = opened {
                self.revealed.insert(*generation, key);
            }
        }
    }

    /// The family key of `generation`, if this device was given it or it was
    /// presented to the circle.
    pub fn family_key(&self, generation: u64) -> Result<&EpochKey> {
        self.family
            .get(&generation)
            .or_else(|| self.revealed.get(&generation))
            .ok_or(Error::FamilyTime(
                crate::membership::family::refusal::NO_KEY,
            ))
    }

    /// The family generations this device was given keys for (as one of the family),
    /// oldest first.
    pub fn family_generations(&self) -> impl Iterator<Item = u64> + '_ {
        self.family.keys().copied()
    }

    /// Recovers older keys from newer ones, as far as the chain goes. A previous key
    /// that does not decrypt (a faulty rotation) stays unknown: envelopes of that epoch
    /// then fail with [`Error::UnknownEpoch`], and the rest keeps working.
    fn walk_back(&mut self) {
        let Some(&newest) = self.keys.keys().next_back() else {
            return;
        };
        for epoch in (1..=newest).rev() {
            if self.keys.contains_key(&(epoch - 1)) {
                continue;
            }
            let older = match (self.keys.get(&epoch), self.previous.get(&epoch)) {
                (Some(key), Some(sealed)) => key.open_previous(epoch, sealed).ok(),
                _ => None,
            };
            if let Some(older) = older {
                self.keys.insert(epoch - 1, older);
            }
        }
    }

    /// The name `member` gave the circle ([`crate::membership::Action::Introduce`]),
    /// when this device holds the key it was sealed under and it opens to a name of
    /// the allowed length; `None` otherwise (nothing the relay could have altered is
    /// shown).
    pub fn member_name(
        &self,
        state: &crate::membership::MembershipState,
        member: &crate::ids::MemberId,
    ) -> Option<String> {
        let (epoch, sealed) = state.member(member)?.sealed_name()?;
        let name = self.key(*epoch)?.open_name(*epoch, member, sealed).ok()?;
        let fits = (1..=crate::membership::build::MAX_INTRODUCED_NAME_CHARS)
            .contains(&name.trim().chars().count());
        fits.then(|| name.trim().to_owned())
    }

    pub fn key(&self, epoch: u64) -> Option<&EpochKey> {
        self.keys.get(&epoch)
    }

    pub fn get(&self, epoch: u64) -> Result<&EpochKey> {
        self.key(epoch).ok_or(Error::UnknownEpoch(epoch))
    }

    /// The key of the circle's current epoch.
    pub fn current(&self, state: &MembershipState) -> Result<&EpochKey> {
        self.get(state.current_epoch())
    }

    /// The epochs this device holds keys for, oldest first.
    pub fn epochs(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.keys().copied()
    }
}

/// The key `action` wraps for `device`, with its epoch (`epoch` is the epoch in force
/// after the entry).
fn grant_for<'a>(
    device: &DeviceId,
    action: &'a Action,
    epoch: u64,
) -> Option<(u64, &'a WrappedKey)> {
    match action {
        Action::Genesis {
            device: new, key, ..
        }
        | Action::AddMember {
            device: new, key, ..
        }
        | Action::AddDevice {
            device: new, key, ..
        }
        | Action::RedeemInvite {
            device: new, key, ..
        }
        | Action::AddLinkedDevice {
            device: new, key, ..
        } => (new.id == *device).then_some((epoch, key)),
        _ => action.rotation().and_then(|r| {
            r.keys
                .iter()
                .find(|wrap| wrap.device == *device)
                .map(|wrap| (r.epoch, &wrap.key))
        }),
    }
}
