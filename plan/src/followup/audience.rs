//! Who is looking decides what a report says about people.
//!
//! "Nobody is shamed": signals about people — who has been silent, who carries most of
//! the work, who had claimed a task that is now late, whose claim lost an overbooking —
//! are for the people whose job it is to follow up: the main person, the admins she
//! appointed and the member marked as coordinator. Everyone else sees what the circle
//! needs (open and late tasks, what is due, the evaluation), never who did not help.
//! The main person sees all of that except signals about her own silence.
//! The rule lives here, once; the CLI and the mobile bindings only pass the viewer.

use serde::{Deserialize, Serialize};

use super::signals::{CircleReport, SignalKind};
use crate::plan::ids::MemberId;
use crate::plan::view::{Designation, PlanView};
use kring_trust::membership::Capability;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The main person: everything except signals about her own silence. It is her
    /// plan; being told she has been quiet does not help her, and the people who
    /// follow her up (an admin, the coordinator) still see it.
    MainPerson,
    /// An admin or the coordinator: everything.
    FollowUp,
    /// Any other member or reader: what the circle needs, no signals about people.
    Circle,
}

impl Audience {
    /// The audience of `viewer` in `plan`, with their capability from the membership
    /// log (`None` for a circle without one: then the plan's main person and marked
    /// coordinator follow up).
    pub fn of(plan: &PlanView, viewer: &MemberId, capability: Option<Capability>) -> Audience {
        let coordinator = plan
            .member(viewer)
            .is_some_and(|m| m.is_active() && m.designation == Some(Designation::Coordinator));
        if *viewer == plan.circle.main_person {
            Audience::MainPerson
        } else if coordinator || capability.is_some_and(Capability::is_admin) {
            Audience::FollowUp
        } else {
            Audience::Circle
        }
    }

    /// Whether this audience follows the circle up: sees the follow-up, the signals
    /// about people and the reminders of plan dates.
    pub fn follows_up(self) -> bool {
        self != Audience::Circle
    }
}

impl CircleReport {
    /// This report as `audience` may see it.
    pub fn for_audience(mut self, audience: Audience) -> CircleReport {
        match audience {
            Audience::FollowUp => return self,
            Audience::MainPerson => {
                let her = self.main_person.id.clone();
                self.signals.retain(
                    |s| !matches!(&s.kind, SignalKind::SilentMember { member, .. } if member.id == her),
                );
                self.recount();
                return self;
            }
            Audience::Circle => {}
        }
        self.signals.retain(|s| {
            !matches!(
                s.kind,
                SignalKind::SilentMember { .. } | SignalKind::LoadImbalance { .. }
            )
        });
        for signal in &mut self.signals {
            match &mut signal.kind {
                // `held` stays: the circle may know a late task was taken, not by whom.
                SignalKind::OverdueTask { claimed_by, .. } => claimed_by.clear(),
                SignalKind::OverbookedTask { not_needed, .. } => not_needed.clear(),
                _ => {}
            }
        }
        self.load.members.clear();
        self.recount();
        self
    }
}
