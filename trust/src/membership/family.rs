//! Family time in the membership log (`docs/threat-model.md`, "Family time").
//!
//! In a family group conference the professionals leave the room while the family
//! makes its plan. The log makes that a cryptographic boundary: it marks who is a
//! professional ([`Action::MarkProfessional`](super::Action::MarkProfessional)), and
//! while family time is open the family key of the current generation is wrapped for
//! exactly the active devices of the members who are not — never for a professional's
//! device, which therefore holds nothing that opens what the family writes.
//!
//! A generation is *current* only while the devices it was wrapped for are exactly the
//! family as the log says now: a mark, a removal or a new device makes it out of date,
//! and nothing may be sealed for the family until an owner or admin rotates it
//! ([`Action::RotateFamilyKey`](super::Action::RotateFamilyKey)). So a member who
//! leaves, or is marked professional, never receives a key for what is written after.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use crate::time::Timestamp;

/// Why family time refuses ([`crate::Error::FamilyTime`]): constants, so a client can
/// say the same in the person's language.
pub mod refusal {
    pub const ALREADY_OPEN: &str = "family time is already open";
    pub const NOT_OPEN: &str = "family time is not open";
    pub const OUT_OF_DATE: &str =
        "the family key is out of date (someone joined, left or was marked): rotate it first";
    pub const NO_KEY: &str = "this device holds no family key of that generation";
    pub const NOT_CURRENT: &str =
        "not sealed under the family key that was current at its membership head";
    pub const NOT_HELD: &str = "the author's device did not hold this family key";
    pub const ALREADY_PRESENTED: &str = "what the family wrote has already been presented";
    pub const NOTHING_WRITTEN: &str = "nothing has been written in family time yet";
    pub const HANDOVER_DURING: &str =
        "family time is open: present the family's plan or close family time before handing the plan over";
    /// What only the owner or an admin does (the `action` of `Error::Unauthorized`).
    pub const MARK: &str = "mark professionals";
    pub const OPEN: &str = "open family time";
    pub const ROTATE: &str = "rotate the family key";
    pub const CLOSE: &str = "close family time";
    /// What only the main person does.
    pub const PRESENT: &str = "present the family's plan";
    pub const MANAGE: &[&str] = &[MARK, OPEN, ROTATE, CLOSE, PRESENT];
}

use crate::identity::DeviceId;
use crate::ids::MemberId;

/// What the log says about family time, at its head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Family {
    pub(super) professionals: BTreeSet<MemberId>,
    /// The newest generation handed out (0: never).
    pub(super) generation: u64,
    pub(super) open: bool,
    /// The devices each generation was wrapped for.
    pub(super) holders: BTreeMap<u64, BTreeSet<DeviceId>>,
    /// The generation family time last opened with: the open session's generations
    /// run from here to `generation`.
    pub(super) opened_with: u64,
    /// The generations a presentation made readable to the whole circle, and when.
    pub(super) presented: BTreeMap<u64, Timestamp>,
}

#[cfg(test)]
mod tests;

impl Family {
    /// The generation the family may seal under now, given the family's devices as the
    /// log says now: `None` when family time is closed or the key is out of date.
    pub(super) fn sealable(&self, family_devices: &BTreeSet<DeviceId>) -> Option<u64> {
        let holders = self.holders.get(&self.generation)?;
        (self.open && holders == family_devices).then_some(self.generation)
    }

    /// The generations of the family time that is open now (what a presentation
    /// reveals), oldest first.
    pub(super) fn session(&self) -> Option<RangeInclusive<u64>> {
        self.open.then_some(self.opened_with..=self.generation)
    }

    pub(super) fn holds(&self, generation: u64, device: &DeviceId) -> bool {
        self.holders
            .get(&generation)
            .is_some_and(|holders| holders.contains(device))
    }
}
