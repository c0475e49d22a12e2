//! Builds the typed [`PlanView`] from the document.
//!
//! Lenient by design: an entry missing a required field (written by a buggy or newer
//! app) is skipped rather than failing the whole view; unknown enum strings fall back
//! to a documented default. Every list is sorted so equal documents give equal views.

use std::collections::HashMap;

use automerge::ReadDoc;

use super::ids::{CircleId, EntryId, MemberId, TaskId};
use super::recurrence::{Moved, Recurrence, LEGACY_ZONE};
use super::schema::{self, Node};
use super::view::*;
use kring_trust::time::Timestamp;

pub(super) fn plan_view<D: ReadDoc>(doc: &D, circle_id: &CircleId) -> PlanView {
    // The document invariant guarantees a root map; an empty one only reads as defaults.
    let root = schema::whole_document(doc);
    let root = Node::new(&root);
    let section = |key: &str| root.map(key);
    let circle = section(schema::CIRCLE);
    let circle = CircleInfo {
        id: circle_id.clone(),
        name: circle.as_ref().map(|c| c.text("name")).unwrap_or_default(),
        language: circle
            .as_ref()
            .and_then(|c| c.str("language"))
            .and_then(|l| Language::parse(&l))
            .unwrap_or(Language::Nl),
        timezone: circle
            .as_ref()
            .and_then(|c| c.str("timezone"))
            .unwrap_or_else(|| LEGACY_ZONE.to_owned()),
        main_person: circle
            .as_ref()
            .and_then(|c| member_id(c, "main_person"))
            .unwrap_or_else(|| MemberId::parse(&"0".repeat(32)).expect("valid literal id")),
        created_at: circle
            .as_ref()
            .and_then(|c| c.time("created_at"))
            .unwrap_or(Timestamp(0)),
    };
    let mut members = collect(section(schema::MEMBERS), member_view);
    members.sort_by(|a, b| (a.joined_at, &a.id).cmp(&(b.joined_at, &b.id)));
    let ctx = TaskContext {
        removed: removed_members(&members),
        zone: circle.timezone.clone(),
    };
    let removed = &ctx.removed;
    let mut tasks = collect(section(schema::TASKS), |k, n| task_view(k, n, &ctx));
    tasks.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let mut conditions = collect(section(schema::CONDITIONS), condition_view);
    conditions.sort_by(|a, b| (a.set_at, &a.id).cmp(&(b.set_at, &b.id)));
    let mut offers = collect(section(schema::OFFERS), offer_view);
    offers.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let mut log = collect(section(schema::LOG), log_entry);
    log.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut meetings = collect(section(schema::MEETINGS), meeting_view);
    meetings.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    // Someone removed from the circle no longer offers anything, and their approval
    // no longer counts: the view says so, whatever the document still holds.
    for offer in &mut offers {
        if let Some(&at) = removed.get(&offer.by) {
            offer.withdrawn_at = Some(offer.withdrawn_at.map_or(at, |w| w.min(at)));
        }
    }
    let mut plan = plan_section(section(schema::PLAN));
    plan.approvals.retain(|a| !removed.contains_key(&a.member));
    PlanView {
        circle,
        members,
        plan,
        tasks,
        conditions,
        offers,
        log,
        meetings,
    }
}

/// Members removed from the circle, with when.
pub(super) fn removed_members(members: &[MemberView]) -> HashMap<MemberId, Timestamp> {
    members
        .iter()
        .filter_map(|m| Some((m.id.clone(), m.removed_at?)))
        .collect()
}

/// Reads every child map of `parent` with `read`, skipping what cannot be read.
fn collect<'a, T>(parent: Option<Node<'a>>, read: impl Fn(&str, &Node<'a>) -> Option<T>) -> Vec<T> {
    parent
        .map(|p| {
            p.child_maps()
                .iter()
                .filter_map(|(k, n)| read(k, n))
                .collect()
        })
        .unwrap_or_default()
}

fn member_id(node: &Node<'_>, key: &str) -> Option<MemberId> {
    node.str(key).and_then(|s| MemberId::parse(&s).ok())
}

fn parse_enum<T>(node: &Node<'_>, key: &str, parse: fn(&str) -> Option<T>, default: T) -> T {
    node.str(key).and_then(|s| parse(&s)).unwrap_or(default)
}

fn member_view(key: &str, n: &Node<'_>) -> Option<MemberView> {
    Some(MemberView {
        id: MemberId::parse(key).ok()?,
        display_name: n.str("display_name")?,
        relation: parse_enum(n, "relation", Relation::parse, Relation::Other),
        role_label: n.text("role_label"),
        designation: n.str("designation").and_then(|d| Designation::parse(&d)),
        joined_at: n.time("joined_at")?,
        removed_at: n.time("removed_at"),
    })
}

fn text_items(plan: Option<&Node<'_>>, key: &str) -> Vec<TextItem> {
    let mut items = collect(plan.and_then(|p| p.map(key)), |k, n| {
        Some(TextItem {
            id: EntryId::parse(k).ok()?,
            text: n.str("text")?,
            by: member_id(n, "by")?,
            at: n.time("at")?,
        })
    });
    items.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    items
}

fn plan_section(plan: Option<Node<'_>>) -> PlanSection {
    let p = plan.as_ref();
    let mut approvals: Vec<Approval> = p
        .and_then(|p| p.map(schema::APPROVALS))
        .map(|a| a.times())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, at)| {
            Some(Approval {
                member: MemberId::parse(k).ok()?,
                at,
            })
        })
        .collect();
    approvals.sort_by(|a, b| (a.at, &a.member).cmp(&(b.at, &b.member)));
    let mut reviews = collect(p.and_then(|p| p.map(schema::REVIEWS)), |k, n| {
        Some(Review {
            id: EntryId::parse(k).ok()?,
            at: n.time("at")?,
            by: member_id(n, "by")?,
            summary: n.text("summary"),
        })
    });
    reviews.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut handovers = collect(p.and_then(|p| p.map(schema::HANDOVERS)), |k, n| {
        Some(Handover {
            id: EntryId::parse(k).ok()?,
            at: n.time("at")?,
            by: member_id(n, "by")?,
            to: n.text("to"),
            format: HandoverFormat::parse(&n.text("format"))?,
            names: n.str("names").as_deref() == Some("yes"),
        })
    });
    handovers.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    PlanSection {
        status: p.map_or(PlanStatus::Draft, |p| {
            parse_enum(p, "status", PlanStatus::parse, PlanStatus::Draft)
        }),
        status_changed_at: p
            .and_then(|p| p.time("status_changed_at"))
            .unwrap_or(Timestamp(0)),
        question: p.map(|p| p.text("question")).unwrap_or_default(),
        concerns: text_items(p, schema::CONCERNS),
        goals: text_items(p, schema::GOALS),
        contingencies: text_items(p, schema::CONTINGENCIES),
        approvals,
        next_review_at: p.and_then(|p| p.time("next_review_at")),
        reviews,
        handovers,
    }
}

fn schedule(task: &Node<'_>, zone: &str) -> Schedule {
    let Some(s) = task.map(schema::SCHEDULE) else {
        return Schedule::Unscheduled;
    };
    match s.str("kind").as_deref() {
        Some("repeat") => match s.str("start") {
            Some(start) => Schedule::Repeat(Recurrence {
                start,
                rule: s.str("rule"),
                skipped: s.map("skipped").map_or_else(Vec::new, |m| {
                    m.keys().into_iter().map(str::to_owned).collect()
                }),
                moved: s.map("moved").map_or_else(Vec::new, |m| {
                    m.keys()
                        .into_iter()
                        .filter_map(|k| {
                            Some(Moved {
                                from: k.to_owned(),
                                to: m.str(k)?,
                            })
                        })
                        .collect()
                }),
                zone: zone.to_owned(),
            }),
            None => Schedule::Unscheduled,
        },
        Some("due") => s
            .time("at")
            .map_or(Schedule::Unscheduled, |at| Schedule::Due { at }),
        Some("weekly") => match (s.time("first_at"), s.int("every_weeks")) {
            (Some(first_at), Some(every)) => Schedule::Weekly {
                first_at,
                every_weeks: u32::try_from(every).unwrap_or(1).max(1),
                until: s.time("until"),
            },
            _ => Schedule::Unscheduled,
        },
        _ => Schedule::Unscheduled,
    }
}

/// Claims sorted by `(time, member)`; the first `slots` are the winners. This ordering
/// is the whole conflict rule for concurrent claims, so it must never depend on
/// anything replica-local.
pub(super) fn ranked_claims(mut claims: Vec<(MemberId, Timestamp)>, slots: u32) -> Vec<Claim> {
    claims.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    claims
        .into_iter()
        .enumerate()
        .map(|(rank, (member, at))| Claim {
            member,
            at,
            winner: u32::try_from(rank).is_ok_and(|r| r < slots),
        })
        .collect()
}

/// What reading a task needs from the rest of the plan.
#[derive(Debug, Clone, Default)]
pub(super) struct TaskContext {
    /// Members removed from the circle, with when.
    pub removed: HashMap<MemberId, Timestamp>,
    /// The circle's time zone.
    pub zone: String,
}

/// One task. Claims of removed members on a task that is still open are withdrawn
/// (their place is free again); on a finished task they stay as history.
pub(super) fn task_view(key: &str, n: &Node<'_>, ctx: &TaskContext) -> Option<TaskView> {
    let removed = &ctx.removed;
    let slots = n
        .int("slots")
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(1)
        .max(1);
    let all_claims = n.map(schema::CLAIMS).map(|c| c.times()).unwrap_or_default();
    let raw_claims = all_claims
        .iter()
        .filter_map(|(k, at)| Some((MemberId::parse(k).ok()?, *at)))
        .collect::<Vec<_>>();
    let mut turns: Vec<TurnClaim> = all_claims
        .iter()
        .filter_map(|(k, at)| turn_claim(k, *at))
        .filter(|t| !removed.contains_key(&t.member))
        .collect();
    turns.sort_by(|a, b| (&a.occurrence, a.at, &a.member).cmp(&(&b.occurrence, b.at, &b.member)));
    let status = parse_enum(n, "status", TaskStatus::parse, TaskStatus::Open);
    let mut completions = collect(n.map(schema::COMPLETIONS), |k, c| {
        Some(Completion {
            id: EntryId::parse(k).ok()?,
            by: member_id(c, "by")?,
            at: c.time("at")?,
            occurrence: c.time("occurrence"),
            note: c.text("note"),
        })
    });
    completions.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let schedule = schedule(n, &ctx.zone);
    let recurring = schedule.is_recurring();
    let finished = status != TaskStatus::Open || (!recurring && !completions.is_empty());
    let raw_claims = raw_claims
        .into_iter()
        .filter(|(member, _)| finished || !removed.contains_key(member))
        .collect();
    let claims = ranked_claims(raw_claims, slots);
    Some(TaskView {
        id: TaskId::parse(key).ok()?,
        title: n.str("title")?,
        notes: n.text("notes"),
        category: parse_enum(n, "category", TaskCategory::parse, TaskCategory::Other),
        owner_kind: parse_enum(n, "owner_kind", OwnerKind::parse, OwnerKind::Circle),
        schedule,
        slots,
        checker: member_id(n, "checker"),
        overbooked: claims.len() > slots as usize,
        claims,
        turns,
        completions,
        status,
        created_by: member_id(n, "created_by")?,
        created_at: n.time("created_at")?,
    })
}

/// A stored claim key `<member><mark><occurrence>` (see [`TurnKind::mark`]).
pub(super) fn turn_claim(key: &str, at: Timestamp) -> Option<TurnClaim> {
    let (split, mark) = key
        .char_indices()
        .find(|(_, c)| TurnKind::from_mark(*c).is_some())?;
    let member = MemberId::parse(&key[..split]).ok()?;
    let occurrence = key[split + mark.len_utf8()..].to_owned();
    super::recurrence::CivilStart::parse(&occurrence).ok()?;
    Some(TurnClaim {
        member,
        occurrence,
        kind: TurnKind::from_mark(mark)?,
        at,
    })
}

fn condition_view(key: &str, n: &Node<'_>) -> Option<ConditionView> {
    Some(ConditionView {
        id: EntryId::parse(key).ok()?,
        text: n.str("text")?,
        set_by: member_id(n, "set_by")?,
        set_at: n.time("set_at")?,
        accepted_at: n.time("accepted_at"),
    })
}

fn offer_view(key: &str, n: &Node<'_>) -> Option<OfferView> {
    Some(OfferView {
        id: EntryId::parse(key).ok()?,
        by: member_id(n, "by")?,
        text: n.str("text")?,
        availability: n.text("availability"),
        created_at: n.time("created_at")?,
        withdrawn_at: n.time("withdrawn_at"),
    })
}

fn log_entry(key: &str, n: &Node<'_>) -> Option<LogEntry> {
    Some(LogEntry {
        id: EntryId::parse(key).ok()?,
        by: member_id(n, "by")?,
        at: n.time("at")?,
        kind: parse_enum(n, "kind", LogKind::parse, LogKind::Update),
        text: n.str("text")?,
    })
}

fn meeting_view(key: &str, n: &Node<'_>) -> Option<MeetingView> {
    let rsvps = n
        .map(schema::RSVPS)
        .map(|r| {
            r.keys()
                .into_iter()
                .filter_map(|k| {
                    Some(RsvpView {
                        member: MemberId::parse(k).ok()?,
                        answer: Rsvp::parse(&r.str(k)?)?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(MeetingView {
        id: EntryId::parse(key).ok()?,
        at: n.time("at")?,
        place: n.text("place"),
        agenda: n.text("agenda"),
        created_by: member_id(n, "created_by")?,
        cancelled_at: n.time("cancelled_at"),
        rsvps,
    })
}
