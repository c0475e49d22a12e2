//! Identifiers used inside a circle's plan document.
//!
//! All ids are random 128-bit values written as 32 lowercase hex characters. Random ids
//! (rather than counters) let offline replicas create members, tasks and offers without
//! coordinating, and never collide when their changes merge. A circle and its members
//! are known to the trust layer too, so their ids live there.

pub use kring_trust::ids::{CircleId, MemberId};

kring_trust::define_id!(
    /// A task (an agreement: who does what, when).
    TaskId
);
kring_trust::define_id!(
    /// Any other entry in the plan: concern, goal, contingency, condition, offer,
    /// log entry, meeting, review.
    EntryId
);

/// The automerge actor id of a device: its verifying key bytes, so every change in a
/// document can be checked against the device that signed the envelope carrying it.
pub trait DeviceActor {
    fn actor_id(&self) -> automerge::ActorId;
}

impl DeviceActor for kring_trust::identity::DeviceId {
    fn actor_id(&self) -> automerge::ActorId {
        automerge::ActorId::from(&self.as_bytes()[..])
    }
}

impl DeviceActor for kring_trust::identity::DeviceIdentity {
    fn actor_id(&self) -> automerge::ActorId {
        self.id().actor_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_devices_actor_id_is_its_verifying_key() {
        let identity = kring_trust::identity::DeviceIdentity::generate();
        assert_eq!(identity.actor_id().to_bytes(), identity.id().as_bytes());
    }
}
