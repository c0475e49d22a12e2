//! Offline edits on 3–11 replicas, exchanged in any order, converge to identical plans
//! with identical claim winners (DESIGN §7) — also when some replicas run a modified
//! client that writes forbidden changes, and when one replica's clock is a month behind.
//!
//! Replicas exchange changes the way devices do: every change is judged by the plan's
//! rules with the rights of its author (`CirclePlan::apply_checked`), never merged raw.

use std::collections::{HashMap, HashSet};

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ReadDoc, ROOT};
use kring_plan::plan::recurrence::Recurrence;
use kring_plan::plan::{
    CircleId, CirclePlan, LogKind, MemberId, NewCircle, NewMember, NewTask, PlanList, PlanView,
    Relation, Rights, Schedule, TaskId, TaskUpdate,
};
use kring_trust::membership::Capability;
use kring_trust::Timestamp;
use proptest::prelude::*;

const START: Timestamp = Timestamp(1_780_000_000_000);

/// One user action on one replica. Indices pick a task among those the replica sees.
#[derive(Debug, Clone)]
enum Action {
    AddTask {
        slots: u32,
    },
    Claim(usize),
    Unclaim(usize),
    Complete(usize),
    Cancel(usize),
    Rename(usize),
    Post,
    AddGoal,
    /// Replica receives another replica's current state (a partial, one-way sync).
    MergeFrom(usize),
    /// A weekly series in the circle's time (Europe/Amsterdam, across the clock change).
    AddSeries {
        slots: u32,
    },
    /// One turn (the k-th occurrence) of a series, taken or handed over.
    ClaimTurn(usize, usize),
    HandOver(usize, usize),
    /// A modified client writes a forbidden change straight into its document: the
    /// question, archiving, or cancelling the first task (whoever made it).
    Tamper(u8),
}

#[derive(Debug, Clone)]
struct Step {
    replica: usize,
    action: Action,
    /// Minutes after START; small ranges make equal claim times (ties) likely.
    minute: i64,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => (1u32..=3).prop_map(|slots| Action::AddTask { slots }),
        4 => any::<usize>().prop_map(Action::Claim),
        1 => any::<usize>().prop_map(Action::Unclaim),
        1 => any::<usize>().prop_map(Action::Complete),
        1 => any::<usize>().prop_map(Action::Cancel),
        1 => any::<usize>().prop_map(Action::Rename),
        1 => Just(Action::Post),
        1 => Just(Action::AddGoal),
        2 => any::<usize>().prop_map(Action::MergeFrom),
        1 => (0u8..4).prop_map(Action::Tamper),
        1 => (1u32..=2).prop_map(|slots| Action::AddSeries { slots }),
        2 => (any::<usize>(), 0usize..4).prop_map(|(t, k)| Action::ClaimTurn(t, k)),
        1 => (any::<usize>(), 0usize..4).prop_map(|(t, k)| Action::HandOver(t, k)),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Step>, Vec<usize>)> {
    (3usize..=11).prop_flat_map(|replicas| {
        let step = (0..replicas, action(), 0i64..6).prop_map(|(replica, action, minute)| Step {
            replica,
            action,
            minute,
        });
        (
            Just(replicas),
            prop::collection::vec(step, 1..60),
            // The order in which replicas finally exchange everything.
            Just((0..replicas).collect::<Vec<_>>()).prop_shuffle(),
        )
    })
}

/// The series of the test: weekly on Wednesday 17:00 in Amsterdam, four times, across
/// the March 2027 clock change (the plan's "now" is earlier, so all are to come).
fn series() -> Schedule {
    Schedule::Repeat(Recurrence {
        start: "2027-03-17T17:00".into(),
        rule: Some("FREQ=WEEKLY;BYDAY=WE;COUNT=4".into()),
        skipped: vec![],
        moved: vec![],
        zone: "Europe/Amsterdam".into(),
    })
}

const SERIES_FROM: Timestamp = Timestamp(1_800_000_000_000);
const SERIES_TO: Timestamp = Timestamp(1_900_000_000_000);

/// The clock of replica 1 is a month behind.
const SKEW_MILLIS: i64 = -30 * Timestamp::MILLIS_PER_DAY;

/// A claim made (task, claimer) and the claims on that task its claimer saw then.
type SeenWhenClaiming = (TaskId, MemberId, Vec<(MemberId, Timestamp)>);

/// The replicas, the rights of every actor, who tampered, and, per claim made, the
/// claims its author saw on that task when claiming.
struct World {
    replicas: Vec<(CirclePlan, MemberId)>,
    rights: HashMap<ActorId, Rights>,
    tampered: HashSet<usize>,
    seen_when_claiming: Vec<SeenWhenClaiming>,
}

/// A circle with `n` members (the main person plus n-1 others), one replica per member;
/// replica 0 is the main person's, so the genesis is hers.
fn circle(n: usize) -> World {
    let actors: Vec<ActorId> = (0..n).map(|_| ActorId::random()).collect();
    let (mut base, main) = CirclePlan::create(
        actors[0].clone(),
        CircleId::random(),
        NewCircle {
            name: "Circle".into(),
            language: kring_plan::plan::Language::En,
            main_person_name: "Main".into(),
        },
        START,
    )
    .expect("create");
    let mut members = vec![main.clone()];
    for i in 1..n {
        let new = NewMember {
            display_name: format!("Member {i}"),
            relation: Relation::Family,
            role_label: String::new(),
        };
        members.push(base.add_member(&main, new, START).expect("add member"));
    }
    let bytes = base.export();
    let rights = actors
        .iter()
        .zip(&members)
        .enumerate()
        .map(|(i, (actor, member))| {
            let capability = if i == 0 {
                Capability::Owner
            } else {
                Capability::Member
            };
            let rights = Rights {
                member: member.clone(),
                capability,
                professional: false,
            };
            (actor.clone(), rights)
        })
        .collect();
    let replicas = members
        .into_iter()
        .zip(actors)
        .map(|(m, actor)| (CirclePlan::load(&bytes, actor).expect("load"), m))
        .collect();
    World {
        replicas,
        rights,
        tampered: HashSet::new(),
        seen_when_claiming: Vec::new(),
    }
}

/// Every change of `from`, judged into `to` with the rights of each change's author.
fn exchange(world: &mut World, from: usize, to: usize) {
    let doc = Automerge::load(&world.replicas[from].0.export()).expect("load");
    let changes = doc
        .get_changes(&[])
        .into_iter()
        .map(|c| {
            let rights = world.rights[c.actor_id()].clone();
            (c.clone(), rights)
        })
        .collect();
    world.replicas[to]
        .0
        .apply_checked(changes)
        .expect("changes of a replica of the same circle");
}

/// A modified client's forbidden write, kept in its own document (merged raw, as such a
/// client would), so its later changes build on it.
fn tamper(world: &mut World, replica: usize, kind: u8, now: Timestamp) {
    if replica == 0 {
        return; // the owner may do all of these: not a forbidden change
    }
    let me = world.replicas[replica].1.to_string();
    let plan = &mut world.replicas[replica].0;
    let first_task = plan.view().tasks.first().map(|t| t.id.to_string());
    let mut doc = Automerge::load(&plan.export())
        .expect("load")
        .with_actor(plan.actor().clone());
    let get = |doc: &Automerge, keys: &[&str]| {
        keys.iter().fold(ROOT, |obj, key| {
            doc.get(&obj, *key).expect("read").expect("map").1
        })
    };
    let plan_map = get(&doc, &["plan"]);
    let handovers = get(&doc, &["plan", "handovers"]);
    let task_map = first_task.map(|t| get(&doc, &["tasks", &t]));
    let mut tx = doc.transaction();
    match (kind, task_map) {
        (0, _) => tx.put(&plan_map, "question", "tampered").expect("put"),
        (1, _) => tx.put(&plan_map, "status", "archived").expect("put"),
        // A hand-over recorded by someone who is not the main person or an admin.
        (3, _) => {
            let entry = tx
                .put_object(&handovers, "forged", automerge::ObjType::Map)
                .expect("map");
            tx.put(&entry, "by", me.as_str()).expect("put");
            tx.put(&entry, "to", "tampered").expect("put");
        }
        (_, Some(task)) => tx.put(&task, "status", "cancelled").expect("put"),
        (_, None) => return,
    }
    tx.commit_with(automerge::transaction::CommitOptions::default().with_time(now.0 / 1000));
    plan.merge_bytes(&doc.save()).expect("merge own tampering");
    world.tampered.insert(replica);
}

fn pick(view: &PlanView, index: usize) -> Option<TaskId> {
    (!view.tasks.is_empty()).then(|| view.tasks[index % view.tasks.len()].id.clone())
}

/// Applies one action; rejected actions must leave the replica unchanged.
fn apply(world: &mut World, step: &Step) {
    let skew = if step.replica == 1 { SKEW_MILLIS } else { 0 };
    let now = START.plus_millis(step.minute * 60_000 + skew);
    match step.action {
        Action::MergeFrom(from) => {
            let from = from % world.replicas.len();
            return exchange(world, from, step.replica);
        }
        Action::Tamper(kind) => return tamper(world, step.replica, kind, now),
        _ => {}
    }
    let (plan, me) = &mut world.replicas[step.replica];
    let view = plan.view();
    let heads_before = plan.heads();
    let result = match &step.action {
        Action::AddTask { slots } => plan
            .add_task(
                me,
                NewTask {
                    slots: *slots,
                    ..NewTask::simple("task")
                },
                now,
            )
            .map(drop),
        Action::Post => plan.post(me, LogKind::Update, "hello", now).map(drop),
        Action::AddGoal => plan.add_to_list(me, PlanList::Goals, "goal", now).map(drop),
        Action::AddSeries { slots } => plan
            .add_task(
                me,
                NewTask {
                    slots: *slots,
                    schedule: series(),
                    ..NewTask::simple("series")
                },
                now,
            )
            .map(drop),
        Action::ClaimTurn(t, k) | Action::HandOver(t, k) => {
            let series: Vec<&kring_plan::plan::TaskView> = view
                .tasks
                .iter()
                .filter(|task| matches!(task.schedule, Schedule::Repeat(_)))
                .collect();
            if series.is_empty() {
                return;
            }
            let task = series[t % series.len()];
            let Some(&at) = task
                .schedule
                .occurrences_between(SERIES_FROM, SERIES_TO)
                .get(*k)
            else {
                return;
            };
            let id = task.id.clone();
            if matches!(step.action, Action::ClaimTurn(..)) {
                plan.claim_turn(me, &id, at, now)
            } else {
                plan.hand_over(me, &id, at, now)
            }
        }
        action => {
            let index = match action {
                Action::Claim(i)
                | Action::Unclaim(i)
                | Action::Complete(i)
                | Action::Cancel(i)
                | Action::Rename(i) => *i,
                _ => unreachable!("handled above"),
            };
            let Some(task) = pick(&view, index) else {
                return;
            };
            match action {
                Action::Claim(_) => {
                    let seen = view
                        .task(&task)
                        .map(|t| t.claims.iter().map(|c| (c.member.clone(), c.at)).collect())
                        .unwrap_or_default();
                    let result = plan.claim_task(me, &task, now);
                    if result.is_ok() {
                        world
                            .seen_when_claiming
                            .push((task.clone(), me.clone(), seen));
                    }
                    result
                }
                Action::Unclaim(_) => plan.unclaim_task(me, &task, now),
                Action::Complete(_) => plan.complete_task(me, &task, None, "", now).map(drop),
                Action::Cancel(_) => plan.cancel_task(me, &task, now),
                _ => plan.update_task(
                    me,
                    &task,
                    TaskUpdate {
                        title: Some(format!("renamed {index}")),
                        ..TaskUpdate::default()
                    },
                    now,
                ),
            }
        }
    };
    if result.is_err() {
        assert_eq!(
            plan.heads(),
            heads_before,
            "a rejected {:?} changed the document",
            step.action
        );
    }
}

/// A claim made on a device whose clock is behind the task's own creation is dated
/// after what the device had seen, so every replica accepts it and they agree.
#[test]
fn a_claim_from_a_clock_behind_the_plan_is_accepted_everywhere() {
    let steps = vec![
        Step {
            replica: 0,
            action: Action::AddTask { slots: 1 },
            minute: 5,
        },
        Step {
            replica: 0,
            action: Action::Claim(0),
            minute: 4,
        },
    ];
    let order = [2, 5, 1, 0, 4, 3];
    let n = 6;
    let mut world = circle(n);
    for step in &steps {
        apply(&mut world, step);
    }
    for i in 0..n {
        for &j in order.iter().cycle().skip(i).take(order.len()) {
            exchange(&mut world, j, i);
        }
    }
    let first = world.replicas[0].0.view();
    assert_eq!(first.tasks[0].claims.len(), 1);
    assert!(first.tasks[0].claims[0].at >= first.tasks[0].created_at);
    for (plan, _) in &world.replicas[1..] {
        assert_eq!(plan.view(), first);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_to_identical_plans_and_winners((n, steps, order) in scenario()) {
        let mut world = circle(n);
        for step in &steps {
            apply(&mut world, step);
        }
        // Everyone exchanges everything, each replica receiving the others in its own order.
        for i in 0..n {
            for &j in order.iter().cycle().skip(i).take(order.len()) {
                exchange(&mut world, j, i);
            }
        }
        // A modified client keeps its own forbidden change: it has cut itself off. All
        // the others agree, and none of them shows any forbidden change.
        let honest: Vec<usize> = (0..n).filter(|i| !world.tampered.contains(i)).collect();
        let first = world.replicas[honest[0]].0.view();
        for &i in &honest[1..] {
            let view = world.replicas[i].0.view();
            prop_assert_eq!(&view, &first);
        }
        prop_assert_ne!(first.plan.question.as_str(), "tampered");
        prop_assert_ne!(first.plan.status, kring_plan::plan::PlanStatus::Archived);
        for task in &first.tasks {
            let winners = task.winners().count();
            prop_assert_eq!(winners, task.claims.len().min(task.slots as usize));
            prop_assert_eq!(task.overbooked, task.claims.len() > task.slots as usize);
            // Winners are exactly the first `slots` claims by (time, member id).
            let mut sorted = task.claims.clone();
            sorted.sort_by(|a, b| (a.at, &a.member).cmp(&(b.at, &b.member)));
            prop_assert_eq!(&sorted, &task.claims);
            for (rank, claim) in task.claims.iter().enumerate() {
                prop_assert_eq!(claim.winner, rank < task.slots as usize);
            }
        }
        // Per occurrence: at most `slots` people do a turn, and nobody who handed it over.
        for task in first.tasks.iter().filter(|t| matches!(t.schedule, Schedule::Repeat(_))) {
            let Schedule::Repeat(r) = &task.schedule else { continue };
            for at in task.schedule.occurrences_between(SERIES_FROM, SERIES_TO) {
                let key = r.key_of(at);
                let on = task.people_on(&key);
                prop_assert!(on.iter().filter(|c| c.winner).count() <= task.slots as usize);
                for c in &on {
                    let handed = task.turns.iter().any(|t| {
                        t.member == c.member
                            && t.occurrence == key
                            && t.kind == kring_plan::plan::TurnKind::HandedOver
                    });
                    prop_assert!(!handed, "someone who handed a turn over is still on it");
                }
            }
        }
        // Fair claims: a claim never ranks before one its author had already seen on
        // that task, whatever the author's clock said (replica 1 is a month behind).
        for (task, claimer, seen) in &world.seen_when_claiming {
            let Some(task) = first.task(task) else { continue };
            let Some(mine) = task.claims.iter().position(|c| &c.member == claimer) else {
                continue;
            };
            for (other, at) in seen {
                // The same claim as seen (not one given back and made again later).
                let same = |c: &&kring_plan::plan::Claim| &c.member == other && c.at == *at;
                if let Some(theirs) = task.claims.iter().position(|c| same(&c)) {
                    prop_assert!(theirs < mine, "a claim overtook one its author had seen");
                }
            }
        }
    }
}

/// A claim made right after a merge whose newest change came from a clock a month
/// behind: automerge also makes the claim depend on its author's own last change (a
/// rename dated later than the claim), so the claim must be dated after that change
/// too, or every other replica refuses it and the circle no longer agrees on who does
/// the turn (found by the property test above).
#[test]
fn a_turn_claimed_after_merging_a_slow_clock_is_accepted_everywhere() {
    let steps = vec![
        Step {
            replica: 0,
            action: Action::AddSeries { slots: 1 },
            minute: 0,
        },
        Step {
            replica: 0,
            action: Action::Rename(0),
            minute: 4,
        },
        Step {
            replica: 1,
            action: Action::MergeFrom(0),
            minute: 0,
        },
        Step {
            replica: 1,
            action: Action::AddSeries { slots: 1 },
            minute: 2,
        },
        Step {
            replica: 0,
            action: Action::MergeFrom(1),
            minute: 5,
        },
        // Replica 0 takes the last turn of its own series, its clock at minute 3.
        Step {
            replica: 0,
            action: Action::ClaimTurn(1, 3),
            minute: 3,
        },
    ];
    let n = 3;
    let mut world = circle(n);
    for step in &steps {
        apply(&mut world, step);
    }
    for i in 0..n {
        for j in 0..n {
            exchange(&mut world, j, i);
        }
    }
    let first = world.replicas[0].0.view();
    let turns: usize = first.tasks.iter().map(|t| t.turns.len()).sum();
    assert_eq!(turns, 1, "the turn claim stays on the replica that made it");
    for (plan, _) in &world.replicas[1..] {
        assert_eq!(plan.view(), first);
    }
}
