//! Test helpers on top of the trust layer's test circles: real automerge changes.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, Change, ROOT};
use kring_plan::plan::DeviceActor;
use kring_trust::identity::DeviceIdentity;

/// One automerge change made on `device`.
pub(crate) fn change_by(device: &DeviceIdentity, text: &str) -> Change {
    let mut doc = AutoCommit::new().with_actor(device.actor_id());
    doc.put(ROOT, "note", text).unwrap();
    doc.commit();
    doc.get_last_local_change().unwrap()
}
