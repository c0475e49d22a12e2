//! The coordinator's view: every circle on the device, most urgent first.
//!
//! A coordinator follows many circles. This view answers "whom do I call first?":
//! circles are ordered by their number of urgent signals, then attention signals, then
//! by their most urgent signal's moment (older first), then by circle id, so the order
//! is the same on every run. `items` lists every signal of every circle in one queue,
//! ordered like the signals within a circle, ties broken by circle id.

use super::audience::Audience;
use super::signals::{circle_report, CircleReport, Signal};
use crate::plan::ids::CircleId;
use crate::plan::view::PlanView;
use kring_trust::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorOverview {
    pub generated_at: Timestamp,
    /// One report per circle, most urgent circle first.
    pub circles: Vec<CircleReport>,
    /// Every signal of every circle, most urgent first.
    pub items: Vec<CoordinatorItem>,
}

/// One signal, with the circle it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorItem {
    pub circle: CircleId,
    pub circle_name: String,
    /// The circle's IANA time zone (see [`Signal::describe`]).
    pub timezone: String,
    #[serde(flatten)]
    pub signal: Signal,
}

fn circle_cmp(a: &CircleReport, b: &CircleReport) -> Ordering {
    let first_at = |r: &CircleReport| r.signals.first().map(|s| s.at);
    // `None` (no signals) after any moment.
    let key = |r: &CircleReport| {
        (
            Reverse(r.urgent),
            Reverse(r.attention),
            first_at(r).is_none(),
            first_at(r),
        )
    };
    key(a).cmp(&key(b)).then_with(|| a.circle.cmp(&b.circle))
}

/// Full reports for all `plans` at `now`, most urgent first: for a follow-up audience
/// in every circle (see [`overview_for`]).
pub fn coordinator_overview(plans: &[PlanView], now: Timestamp) -> CoordinatorOverview {
    overview(plans.iter().map(|p| circle_report(p, now)).collect(), now)
}

/// Reports for all `plans` at `now`, most urgent first, each as `audience_of(plan)`
/// may see it: what a device shows its person across their circles.
pub fn overview_for(
    plans: &[PlanView],
    now: Timestamp,
    audience_of: impl Fn(&PlanView) -> Audience,
) -> CoordinatorOverview {
    let reports = plans
        .iter()
        .map(|p| circle_report(p, now).for_audience(audience_of(p)))
        .collect();
    overview(reports, now)
}

fn overview(mut circles: Vec<CircleReport>, now: Timestamp) -> CoordinatorOverview {
    circles.sort_by(circle_cmp);
    let mut items: Vec<CoordinatorItem> = circles
        .iter()
        .flat_map(|r| {
            r.signals.iter().map(|s| CoordinatorItem {
                circle: r.circle.clone(),
                circle_name: r.circle_name.clone(),
                timezone: r.timezone.clone(),
                signal: s.clone(),
            })
        })
        .collect();
    items.sort_by(|a, b| {
        a.signal
            .urgency_cmp(&b.signal)
            .then_with(|| a.circle.cmp(&b.circle))
    });
    CoordinatorOverview {
        generated_at: now,
        circles,
        items,
    }
}
