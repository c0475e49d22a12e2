//! Load per member: is one person carrying the plan?
//!
//! A member's **units** of work are the open circle tasks they are doing now (winning
//! claims; a weekly task counts once) plus their completions of circle tasks in the
//! last 30 days (each occurrence of a weekly task counts). A one-off task counts once:
//! while open as a claim, once done as a completion. Only circle tasks count:
//! professional contributions and the main person's own tasks are not the circle's load.
//!
//! **Helpers** are active members who are family, friends, neighbours or "other" — not
//! the main person, professionals or the coordinator. A member is **flagged** when the
//! circle has at least [`LOAD_MIN_HELPERS`] helpers and the member's units are strictly
//! more than [`LOAD_MAX_SHARE_PERCENT`] % of all active members' units.

use super::health::percent_of;
use super::signals::MemberRef;
use super::{LOAD_MAX_SHARE_PERCENT, LOAD_MIN_HELPERS, RECENT_WINDOW_DAYS};
use crate::plan::view::{MemberView, OwnerKind, PlanView, Relation, TaskStatus};
use kring_trust::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Load {
    /// The look-back window for completions, in days.
    pub window_days: i64,
    /// Active family, friends, neighbours and others (not main person, professionals
    /// or coordinator).
    pub helpers: u32,
    /// Sum of all active members' units.
    pub total_units: u32,
    /// Members with at least one unit, most units first (ties by member id).
    pub members: Vec<MemberLoad>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberLoad {
    pub member: MemberRef,
    /// Open circle tasks this member is doing now.
    pub claimed: u32,
    /// Completions of circle tasks in the window.
    pub completed: u32,
    pub units: u32,
    /// `units * 100 / total_units`, rounded down.
    pub share_percent: u32,
    /// Carries more than [`LOAD_MAX_SHARE_PERCENT`] % in a circle of at least
    /// [`LOAD_MIN_HELPERS`] helpers.
    pub flagged: bool,
}

fn is_helper(plan: &PlanView, member: &MemberView) -> bool {
    member.is_active()
        && member.id != plan.circle.main_person
        && matches!(
            member.relation,
            Relation::Family | Relation::Friend | Relation::Neighbour | Relation::Other
        )
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(super) fn load(plan: &PlanView, now: Timestamp) -> Load {
    let from = now.plus_days(-RECENT_WINDOW_DAYS);
    let circle_tasks = || {
        plan.tasks
            .iter()
            .filter(|t| t.owner_kind == OwnerKind::Circle)
    };
    let helpers = count(plan.members.iter().filter(|m| is_helper(plan, m)).count());

    let mut members: Vec<MemberLoad> = plan
        .active_members()
        .map(|m| {
            let claimed = count(
                circle_tasks()
                    .filter(|t| t.is_open() && t.winners().any(|w| w == &m.id))
                    .count(),
            );
            let completed = count(
                circle_tasks()
                    .filter(|t| t.status != TaskStatus::Cancelled)
                    .flat_map(|t| &t.completions)
                    .filter(|c| c.by == m.id && c.at >= from && c.at <= now)
                    .count(),
            );
            MemberLoad {
                member: MemberRef::of(plan, &m.id),
                claimed,
                completed,
                units: claimed.saturating_add(completed),
                share_percent: 0,
                flagged: false,
            }
        })
        .filter(|l| l.units > 0)
        .collect();

    let total_units = members
        .iter()
        .fold(0u32, |sum, l| sum.saturating_add(l.units));
    for l in &mut members {
        l.share_percent = percent_of(l.units, total_units);
        l.flagged = helpers >= LOAD_MIN_HELPERS
            && u64::from(l.units) * 100
                > u64::from(total_units) * u64::from(LOAD_MAX_SHARE_PERCENT);
    }
    members.sort_by(|a, b| {
        b.units
            .cmp(&a.units)
            .then_with(|| a.member.id.cmp(&b.member.id))
    });
    Load {
        window_days: RECENT_WINDOW_DAYS,
        helpers,
        total_units,
        members,
    }
}
