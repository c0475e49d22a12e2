//! `kring demo`: plays a small circle from start to finish so a newcomer sees Kring
//! work with one command. Every device is a real data directory with its own SQLite
//! store under a temporary folder; devices exchange the plan as automerge files, the
//! offline path that works without any server.

use std::path::{Path, PathBuf};

use kring_core::plan::{
    CircleId, CirclePlan, Language, LogKind, MemberId, NewCircle, NewMember, NewTask, OwnerKind,
    PlanList, PlanStatus, Relation, Schedule, TaskCategory,
};
use kring_core::store::Store;
use kring_core::Timestamp;

use crate::error::CliResult;
use crate::render;

/// One person's phone: their own store and their member id in the circle.
struct Device {
    name: &'static str,
    store: Store,
    plan: CirclePlan,
    me: MemberId,
}

impl Device {
    fn save(&mut self) -> CliResult {
        Ok(self.store.save(&mut self.plan)?)
    }

    /// Receives the plan as `from` has it now (a file passed over, or later the relay).
    fn receive_from(&mut self, from: &Device) -> CliResult<usize> {
        let added = self.plan.merge_bytes(&from.plan.export())?;
        self.save()?;
        Ok(added)
    }
}

fn step(text: &str) {
    println!("\n▶ {text}");
}

fn join(
    dir: &Path,
    name: &'static str,
    from: &Device,
    me: &MemberId,
    now: Timestamp,
) -> CliResult<Device> {
    let mut store = Store::open(&dir.join(name).join("kring.db"))?;
    let mut plan = CirclePlan::load(&from.plan.export(), store.actor_id()?)?;
    store.add_circle(&mut plan, me, now)?;
    Ok(Device {
        name,
        store,
        plan,
        me: me.clone(),
    })
}

pub fn run(keep: Option<PathBuf>) -> CliResult {
    let temp = tempfile::tempdir().map_err(kring_core::Error::Io)?;
    let dir = keep.unwrap_or_else(|| temp.path().to_path_buf());
    // Monday 7 December 2026, 09:00 UTC.
    let day = |d: i64| Timestamp(1_796_634_000_000).plus_days(d);
    let now = day(0);

    step("Sanne's circle meets. Sanne is the main person: she creates the circle on her phone.");
    let store = Store::open(&dir.join("sanne").join("kring.db"))?;
    let new = NewCircle {
        name: "Kring van Sanne".into(),
        language: Language::Nl,
        main_person_name: "Sanne".into(),
    };
    let (plan, me) = CirclePlan::create(store.actor_id()?, CircleId::random(), new, now)?;
    let mut sanne = Device {
        name: "sanne",
        store,
        plan,
        me,
    };
    sanne
        .store
        .add_circle(&mut sanne.plan, &sanne.me.clone(), now)?;

    let member = |name: &str, relation, role: &str| NewMember {
        display_name: name.into(),
        relation,
        role_label: role.into(),
    };
    let s = sanne.me.clone();
    let fatima = sanne.plan.add_member(
        &s,
        member("Fatima", Relation::Coordinator, "coördinator"),
        now,
    )?;
    let jan = sanne
        .plan
        .add_member(&s, member("Jan", Relation::Family, "broer"), now)?;
    let piet = sanne
        .plan
        .add_member(&s, member("Piet", Relation::Neighbour, "buurman"), now)?;
    let marloes = sanne.plan.add_member(
        &s,
        member("Marloes", Relation::Professional, "schuldhulpverlener"),
        now,
    )?;
    println!("  members: Sanne (main person), Fatima (coordinator), Jan (brother), Piet (neighbour), Marloes (debt counsellor)");

    step("Together they write the plan: the question, a goal, what to do if it goes differently, and tasks.");
    sanne
        .plan
        .set_question(&s, "Hoe houd ik mijn huis en kom ik uit de schulden?", now)?;
    sanne.plan.add_to_list(
        &s,
        PlanList::Goals,
        "Over drie maanden zijn alle rekeningen op tijd betaald.",
        now,
    )?;
    sanne.plan.add_to_list(
        &s,
        PlanList::Contingencies,
        "Als Sanne een brief niet snapt, belt ze Jan dezelfde dag.",
        now,
    )?;
    let ride = sanne.plan.add_task(
        &s,
        NewTask {
            category: TaskCategory::Ride,
            schedule: Schedule::Due { at: day(3) },
            slots: 1,
            checker: Some(fatima.clone()),
            ..NewTask::simple("Sanne naar het spreekuur van de schuldhulp brengen")
        },
        now,
    )?;
    sanne.plan.add_task(
        &s,
        NewTask {
            category: TaskCategory::Meal,
            schedule: Schedule::Weekly {
                first_at: day(2),
                every_weeks: 1,
                until: None,
            },
            ..NewTask::simple("Woensdag samen koken")
        },
        now,
    )?;
    sanne.plan.add_task(
        &s,
        NewTask {
            owner_kind: OwnerKind::Professional,
            category: TaskCategory::Professional,
            ..NewTask::simple("Budgetplan maken")
        },
        now,
    )?;
    sanne.save()?;

    step(
        "The plan goes to Jan's and Piet's phones (each its own data directory and SQLite store).",
    );
    let mut jan_phone = join(&dir, "jan", &sanne, &jan, now)?;
    let mut piet_phone = join(&dir, "piet", &sanne, &piet, now)?;

    step(
        "Offline, Jan and Piet both claim the only place on the ride. Neither knows of the other.",
    );
    jan_phone
        .plan
        .claim_task(&jan, &ride, day(1).plus_millis(9 * 3_600_000))?;
    jan_phone.save()?;
    piet_phone
        .plan
        .claim_task(&piet, &ride, day(1).plus_millis(10 * 3_600_000))?;
    piet_phone.save()?;
    println!("  Jan claimed at 09:00, Piet at 10:00 (each on their own phone)");

    step("Back online, their phones exchange changes, in both directions.");
    let (jan_gets, piet_gets) = (
        jan_phone.receive_from(&piet_phone)?,
        piet_phone.receive_from(&jan_phone)?,
    );
    println!(
        "  {}'s phone received {jan_gets} change(s), {}'s phone {piet_gets}",
        jan_phone.name, piet_phone.name
    );
    let (jan_view, piet_view) = (jan_phone.plan.view(), piet_phone.plan.view());
    let task = jan_view.task(&ride).cloned();
    let winner = task.as_ref().and_then(|t| t.winners().next().cloned());
    println!(
        "  both phones show the same plan: {}; the ride goes to {} (the earlier claim); overbooked: {}",
        if jan_view == piet_view { "yes" } else { "NO" },
        winner.as_ref().map_or_else(|| "nobody".into(), |w| jan_view.display_name(w)),
        task.is_some_and(|t| t.overbooked),
    );

    step("Piet sees the ride is taken, gives his place back and offers to drive on Tuesdays instead.");
    piet_phone
        .plan
        .unclaim_task(&piet, &ride, day(1).plus_millis(11 * 3_600_000))?;
    piet_phone
        .plan
        .add_offer(&piet, "Ik kan rijden", "dinsdag", day(1))?;
    piet_phone.save()?;

    step("The professional's safety condition, the main person's approval, and the ride is done.");
    sanne.receive_from(&jan_phone)?;
    sanne.receive_from(&piet_phone)?;
    let mut marloes_phone = join(&dir, "marloes", &sanne, &marloes, day(1))?;
    let condition = marloes_phone.plan.set_condition(
        &marloes,
        "Post wordt elke week samen geopend.",
        day(1),
    )?;
    marloes_phone.save()?;
    sanne.receive_from(&marloes_phone)?;
    sanne.plan.accept_condition(&s, &condition, day(1))?;
    sanne
        .plan
        .set_plan_status(&s, PlanStatus::Presented, day(1))?;
    sanne.plan.approve_plan(&s, day(1))?;
    sanne
        .plan
        .set_plan_status(&s, PlanStatus::Accepted, day(1))?;
    sanne.save()?;
    jan_phone.receive_from(&sanne)?;
    jan_phone
        .plan
        .complete_task(&jan, &ride, None, "Goed gesprek gehad.", day(3))?;
    jan_phone.plan.post(
        &jan,
        LogKind::Update,
        "Afspraak bij de schuldhulp ging goed.",
        day(3),
    )?;
    jan_phone.save()?;
    sanne.receive_from(&jan_phone)?;

    step("Sanne's phone now shows the whole plan:");
    println!("{}", render::plan(&sanne.plan.view(), &s));
    println!(
        "The stores are in {} ({}).",
        dir.display(),
        if dir == temp.path() {
            "removed when the demo ends; keep them with --keep DIR"
        } else {
            "kept"
        }
    );
    Ok(())
}
