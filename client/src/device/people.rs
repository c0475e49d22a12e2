//! Everyone who can read a circle, as a person sees them: the names the plan holds
//! joined with the capabilities and devices of the signed membership log. Readers do
//! not write, so the plan has no record of them: they come from the log alone.

use serde::Serialize;

use super::Device;
use crate::error::Result;
use kring_plan::plan::{CircleId, Designation, MemberId, Relation};
use kring_trust::identity::DeviceId;
use kring_trust::membership::Capability;
use kring_trust::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: MemberId,
    /// From the plan; for a reader (whom the plan has no record of), the name they
    /// introduced themselves with in the log; `None` if they gave none.
    pub name: Option<String>,
    pub relation: Option<Relation>,
    pub role_label: String,
    /// Recorded by the main person or an admin.
    pub designation: Option<Designation>,
    /// From the membership log; `None` in a circle without one.
    pub capability: Option<Capability>,
    /// Active devices (from the log).
    pub devices: Vec<DeviceId>,
    pub joined_at: Option<Timestamp>,
    /// Removed from the circle (from the plan or the log).
    pub removed: bool,
}

impl Device {
    /// Everyone in the circle, current members first by when they joined, then those
    /// the log knows but the plan does not (readers), then removed people.
    pub fn people(&self, circle: &CircleId) -> Result<Vec<Person>> {
        let view = self.view(circle)?;
        let trust = self.trust(circle)?;
        let state = trust.as_ref().map(|t| t.state());
        let record = |id: &MemberId| state.and_then(|s| s.member(id));
        let mut people: Vec<Person> = view
            .members
            .iter()
            .map(|m| {
                let logged = record(&m.id);
                Person {
                    id: m.id.clone(),
                    name: Some(m.display_name.clone()),
                    relation: Some(m.relation),
                    role_label: m.role_label.clone(),
                    designation: m.designation,
                    capability: logged.filter(|r| !r.is_removed()).map(|r| r.capability()),
                    devices: logged
                        .map(|r| r.devices().copied().collect())
                        .unwrap_or_default(),
                    joined_at: Some(m.joined_at),
                    removed: !m.is_active() || logged.is_some_and(|r| r.is_removed()),
                }
            })
            .collect();
        if let Some(trust) = &trust {
            let state = trust.state();
            for (id, logged) in state.members() {
                if view.member(id).is_none() {
                    people.push(Person {
                        id: id.clone(),
                        // A reader's own name, from their introduction in the log.
                        name: trust.keys().member_name(state, id),
                        relation: None,
                        role_label: String::new(),
                        designation: None,
                        capability: (!logged.is_removed()).then(|| logged.capability()),
                        devices: logged.devices().copied().collect(),
                        joined_at: None,
                        removed: logged.is_removed(),
                    });
                }
            }
        }
        people.sort_by_key(|p| (p.removed, p.relation.is_none()));
        Ok(people)
    }
}
