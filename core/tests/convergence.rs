//! Offline edits on 3–11 replicas, merged in any order, converge to identical plans
//! with identical claim winners (DESIGN §7).

use automerge::ActorId;
use kring_core::plan::{
    CircleId, CirclePlan, LogKind, MemberId, NewCircle, NewMember, NewTask, PlanList, PlanView,
    Relation, TaskUpdate,
};
use kring_core::Timestamp;
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

/// A circle with `n` members (the main person plus n-1 others), one replica per member.
fn circle(n: usize) -> Vec<(CirclePlan, MemberId)> {
    let (mut base, main) = CirclePlan::create(
        ActorId::random(),
        CircleId::random(),
        NewCircle {
            name: "Circle".into(),
            language: kring_core::plan::Language::En,
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
    members
        .into_iter()
        .map(|m| {
            (
                CirclePlan::load(&bytes, ActorId::random()).expect("load"),
                m,
            )
        })
        .collect()
}

fn pick(view: &PlanView, index: usize) -> Option<kring_core::plan::TaskId> {
    (!view.tasks.is_empty()).then(|| view.tasks[index % view.tasks.len()].id.clone())
}

/// Applies one action; rejected actions must leave the replica unchanged.
fn apply(replicas: &mut [(CirclePlan, MemberId)], step: &Step) {
    let now = START.plus_millis(step.minute * 60_000);
    if let Action::MergeFrom(from) = step.action {
        let from = from % replicas.len();
        let bytes = replicas[from].0.export();
        replicas[step.replica]
            .0
            .merge_bytes(&bytes)
            .expect("merge of a replica of the same circle");
        return;
    }
    let (plan, me) = &mut replicas[step.replica];
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
                Action::Claim(_) => plan.claim_task(me, &task, now),
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_to_identical_plans_and_winners((n, steps, order) in scenario()) {
        let mut replicas = circle(n);
        for step in &steps {
            apply(&mut replicas, step);
        }
        // Everyone exchanges everything, each replica merging the others in its own order.
        let exports: Vec<Vec<u8>> = replicas.iter().map(|(p, _)| p.export()).collect();
        for (i, (plan, _)) in replicas.iter_mut().enumerate() {
            for &j in order.iter().cycle().skip(i).take(order.len()) {
                plan.merge_bytes(&exports[j]).expect("merge");
            }
        }
        let first = replicas[0].0.view();
        for (plan, _) in &replicas[1..] {
            let view = plan.view();
            prop_assert_eq!(&view, &first);
        }
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
    }
}
