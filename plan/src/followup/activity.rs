//! Activity: every timestamped act recorded in the plan, and who did it.
//!
//! An **act** is anything a person did that the plan records with a time: joining,
//! writing a concern/goal/contingency, approving, recording a review, creating,
//! claiming or completing a task, setting or accepting a safety condition, posting or
//! withdrawing an offer, writing a log entry (update, thanks, concern, check-in), and a
//! change of plan status. Meetings and RSVPs carry no time of writing and do not count.
//!
//! Acts dated after `now` (a device with a fast clock) are ignored, so a wrong clock
//! cannot hide silence.

use crate::plan::ids::MemberId;
use crate::plan::view::PlanView;
use kring_trust::time::Timestamp;
use std::collections::HashMap;

/// Every act in the plan with its actor, where the plan records one.
fn acts(plan: &PlanView) -> Vec<(Option<&MemberId>, Timestamp)> {
    let mut acts: Vec<(Option<&MemberId>, Timestamp)> = Vec::new();
    acts.push((None, plan.circle.created_at));
    acts.push((None, plan.plan.status_changed_at));
    acts.extend(plan.members.iter().map(|m| (Some(&m.id), m.joined_at)));
    let section = &plan.plan;
    for item in section
        .concerns
        .iter()
        .chain(&section.goals)
        .chain(&section.contingencies)
    {
        acts.push((Some(&item.by), item.at));
    }
    acts.extend(section.approvals.iter().map(|a| (Some(&a.member), a.at)));
    acts.extend(section.reviews.iter().map(|r| (Some(&r.by), r.at)));
    for task in &plan.tasks {
        acts.push((Some(&task.created_by), task.created_at));
        acts.extend(task.claims.iter().map(|c| (Some(&c.member), c.at)));
        acts.extend(task.completions.iter().map(|c| (Some(&c.by), c.at)));
    }
    for condition in &plan.conditions {
        acts.push((Some(&condition.set_by), condition.set_at));
        // Safety conditions are accepted by the main person.
        if let Some(at) = condition.accepted_at {
            acts.push((Some(&plan.circle.main_person), at));
        }
    }
    for offer in &plan.offers {
        acts.push((Some(&offer.by), offer.created_at));
        if let Some(at) = offer.withdrawn_at {
            acts.push((Some(&offer.by), at));
        }
    }
    acts.extend(plan.log.iter().map(|e| (Some(&e.by), e.at)));
    acts
}

/// The latest act by anyone at or before `now`.
pub(super) fn last_activity(plan: &PlanView, now: Timestamp) -> Option<Timestamp> {
    acts(plan)
        .into_iter()
        .map(|(_, at)| at)
        .filter(|&at| at <= now)
        .max()
}

/// The latest act of each member at or before `now` (joining counts, so a new member
/// is never silent on their first day).
pub(super) fn last_activity_by_member(
    plan: &PlanView,
    now: Timestamp,
) -> HashMap<&MemberId, Timestamp> {
    let mut last: HashMap<&MemberId, Timestamp> = HashMap::new();
    for (by, at) in acts(plan) {
        if let Some(by) = by.filter(|_| at <= now) {
            let entry = last.entry(by).or_insert(at);
            *entry = (*entry).max(at);
        }
    }
    last
}
