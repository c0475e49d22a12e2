//! Benchmark: a circle with two years of history (~2,000 tasks, ~20,000 changes).
//!
//! Measures (1) claim + durable save, (2) opening the circle from disk, (3) building
//! the view, and (4) the peak RSS of a fresh process that opens it — each for an
//! unencrypted store and for the encrypted one devices keep — and (5) the device
//! façade's `change` (encrypted store, sealing into the outbox).
//! Targets (issue 2): claim + save ≤ 2 ms median, open ≤ 150 ms, peak RSS ≤ 50 MB.
//!
//! Run: `cargo bench -p kring-core --bench plan_history`

use std::time::{Duration, Instant};

use automerge::ActorId;
use kring_client::store::{Store, StoreKey};
use kring_plan::plan::{
    CircleId, CirclePlan, Language, LogKind, MemberId, NewCircle, NewMember, NewTask, Relation,
    Schedule, TaskId,
};
use kring_trust::Timestamp;

const TASKS: usize = 2_000;
const TARGET_CHANGES: usize = 20_000;
const CLAIM_SAMPLES: usize = 300;
const OPEN_SAMPLES: usize = 20;
const START: Timestamp = Timestamp(1_720_000_000_000);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--measure-open") {
        measure_open_child(&args[pos + 1], &args[pos + 2], args.get(pos + 3));
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--measure-first-screen") {
        measure_first_screen_child(&args[pos + 1], &args[pos + 2], args.get(pos + 3));
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let (plan, members, fresh_tasks) = two_years_of_history();
    println!(
        "fixture: {} tasks, {} changes, built in {:.1?}",
        plan.view().tasks.len(),
        plan.change_count(),
        started.elapsed()
    );
    let saved = plan.export();
    // The same circle in an unencrypted store (as before issue 13) and in the store a
    // device now keeps: SQLCipher, encrypted at rest.
    let key = StoreKey::generate();
    for (label, key) in [
        ("plain SQLite", None),
        ("encrypted (SQLCipher)", Some(&key)),
    ] {
        println!("-- store: {label}");
        let path = dir.path().join(format!("kring-{}.db", key.is_some()));
        let plan = CirclePlan::load(&saved, plan.actor().clone()).expect("fixture");
        store_section(&path, key, plan, &members, &fresh_tasks);
    }

    device_facade(&dir.path().join("device"));
}

fn open_store(path: &std::path::Path, key: Option<&StoreKey>) -> Store {
    match key {
        Some(key) => Store::open_encrypted(path, key),
        None => Store::open(path),
    }
    .expect("open store")
}

/// Claim + durable save, open from disk, build the view, and the peak RSS of a fresh
/// process opening it: for one kind of store.
fn store_section(
    path: &std::path::Path,
    key: Option<&StoreKey>,
    mut plan: CirclePlan,
    members: &[MemberId],
    fresh_tasks: &[TaskId],
) {
    let mut store = open_store(path, key);
    store
        .add_circle(&mut plan, &members[0], START)
        .expect("store circle");
    println!(
        "{} KiB on disk",
        ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
            .map(|m| m.len() / 1024)
            .sum::<u64>()
    );
    let mut plan = store
        .load(plan.circle_id(), plan.actor().clone())
        .expect("load");
    let mut samples = Vec::with_capacity(CLAIM_SAMPLES);
    for (i, task) in fresh_tasks.iter().enumerate() {
        let member = &members[i % members.len()];
        let now = START.plus_days(800).plus_millis(i as i64);
        let t = Instant::now();
        plan.claim_task(member, task, now).expect("claim");
        store.save(&mut plan).expect("save");
        samples.push(t.elapsed());
    }
    report("claim + durable save", &mut samples, "target ≤ 2 ms median");

    let id = plan.circle_id().clone();
    let mut opens = Vec::new();
    let mut views = Vec::new();
    for _ in 0..OPEN_SAMPLES {
        let t = Instant::now();
        let store = open_store(path, key);
        let plan = store.load(&id, ActorId::random()).expect("load");
        opens.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(plan.view());
        views.push(t.elapsed());
    }
    report("open circle from disk", &mut opens, "target ≤ 150 ms");
    report("build PlanView (2,000+ tasks)", &mut views, "");

    // The first screen as an app shows it: the view kept when the document was last
    // shown (`Device::view` keeps it), read without loading the document.
    let version = store.circle_version(&id).expect("version");
    let view = plan.view();
    // Once per version of the document (a second keep of the same one writes nothing).
    let t = Instant::now();
    store.keep_view(&id, version, &view).expect("keep view");
    println!(
        "keep the view (encode and store it; once per document version, when shown): {:.1?}",
        t.elapsed()
    );
    let mut screens = Vec::new();
    for _ in 0..OPEN_SAMPLES {
        let t = Instant::now();
        let store = open_store(path, key);
        let view = store.stored_view(&id).expect("read").expect("kept view");
        std::hint::black_box(view);
        screens.push(t.elapsed());
    }
    report(
        "first screen from disk (open the store, read the kept view)",
        &mut screens,
        "target ≤ 50 ms",
    );
    println!(
        "{}",
        measure_in_fresh_process("--measure-first-screen", path, &id, key)
    );

    let incremental_rss = measure_open_in_fresh_process(path, &id, key);
    store.compact(&mut plan).expect("compact");
    println!("as stored after the claims (full save + incremental chunks): {incremental_rss}");
    println!(
        "compacted: {}",
        measure_open_in_fresh_process(path, &id, key)
    );
}

fn measure_open_in_fresh_process(
    path: &std::path::Path,
    id: &CircleId,
    key: Option<&StoreKey>,
) -> String {
    measure_in_fresh_process("--measure-open", path, id, key)
}

/// Runs this binary in `mode` on the circle and returns what it printed.
fn measure_in_fresh_process(
    mode: &str,
    path: &std::path::Path,
    id: &CircleId,
    key: Option<&StoreKey>,
) -> String {
    let exe = std::env::current_exe().expect("bench binary");
    let out = std::process::Command::new(exe)
        .args([mode, path.to_str().expect("utf-8 path"), id.as_str()])
        .args(key.map(|k| hex::encode(k.as_bytes())))
        .output()
        .expect("child");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The path a phone takes: `Device::change` runs the operation, saves the document
/// and seals the change into the outbox (signed, encrypted) in one transaction.
/// Measured on a founded circle (with a membership log) with ~20,000 changes.
fn device_facade(dir: &std::path::Path) {
    use kring_client::device::Device;
    let started = Instant::now();
    let mut device = Device::open_in(dir).expect("device");
    let circle = device
        .create_circle("Kring van Sanne", Language::Nl, "Sanne", None, START)
        .expect("circle");
    // Four changes per action (add, claim, complete, post) keep the fixture quick.
    for i in 0..(TARGET_CHANGES / 4) {
        let now = START.plus_millis(i as i64 * 60_000);
        device
            .change_plan(&circle, now, |plan, me| {
                let task = plan.add_task(me, NewTask::simple(format!("Taak {i}")), now)?;
                plan.claim_task(me, &task, now)?;
                plan.complete_task(me, &task, None, "gedaan", now)?;
                plan.post(me, LogKind::Update, "Het ging goed.", now)
                    .map(drop)
            })
            .expect("history");
    }
    let fresh: Vec<TaskId> = (0..CLAIM_SAMPLES)
        .map(|i| {
            device
                .change_plan(&circle, START.plus_days(800), |plan, me| {
                    plan.add_task(
                        me,
                        NewTask {
                            slots: 3,
                            ..NewTask::simple(format!("Nieuw {i}"))
                        },
                        START.plus_days(800),
                    )
                })
                .expect("task")
        })
        .collect();
    println!(
        "device fixture: ~{} changes in {:.1?}",
        TARGET_CHANGES + CLAIM_SAMPLES,
        started.elapsed()
    );
    let mut warm = Vec::new();
    for task in &fresh {
        let t = Instant::now();
        device
            .change_plan(&circle, START.plus_days(801), |plan, me| {
                plan.claim_task(me, task, START.plus_days(801))
            })
            .expect("claim");
        warm.push(t.elapsed());
    }
    report(
        "Device::change claim (save + seal into the outbox), circle open",
        &mut warm,
        "target ≤ 2 ms median",
    );
    let mut cold = Vec::new();
    for task in fresh.iter().take(OPEN_SAMPLES) {
        let mut reopened = Device::open_in(dir).expect("device");
        let t = Instant::now();
        reopened
            .change_plan(&circle, START.plus_days(802), |plan, me| {
                plan.unclaim_task(me, task, START.plus_days(802))
            })
            .expect("unclaim");
        cold.push(t.elapsed());
    }
    report("Device::change, first action after opening the device (loads the circle, verifies the log)", &mut cold, "");
}

/// Opens the circle in a fresh process and reports its peak resident memory.
fn measure_open_child(path: &str, id: &str, key: Option<&String>) {
    let at_start = peak_rss();
    let key = key.map(|k| StoreKey::from_bytes(&hex::decode(k).expect("hex")).expect("key"));
    let store = open_store(std::path::Path::new(path), key.as_ref());
    let plan = store
        .load(&CircleId::parse(id).expect("id"), ActorId::random())
        .expect("load");
    let after_open = peak_rss();
    let view = plan.view();
    println!(
        "peak RSS of a fresh process that opened the circle and built its view ({} tasks): {} (target ≤ 50 MB; {} at start, {} after opening)",
        view.tasks.len(),
        peak_rss(),
        at_start,
        after_open
    );
}

/// Shows the circle's first screen in a fresh process, as an app just opened does
/// (the kept view, no document), and reports the time and the peak resident memory.
fn measure_first_screen_child(path: &str, id: &str, key: Option<&String>) {
    let at_start = peak_rss();
    let started = Instant::now();
    let key = key.map(|k| StoreKey::from_bytes(&hex::decode(k).expect("hex")).expect("key"));
    let store = open_store(std::path::Path::new(path), key.as_ref());
    let view = store
        .stored_view(&CircleId::parse(id).expect("id"))
        .expect("read")
        .expect("kept view");
    let took = started.elapsed();
    println!(
        "fresh process, first screen from the kept view ({} tasks, {} log entries): {took:.1?}, peak RSS {} (target ≤ 40 MB; {} at start)",
        view.tasks.len(),
        view.log.len(),
        peak_rss(),
        at_start
    );
}

/// The process's peak resident set size so far, as the kernel reports it.
fn peak_rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown");
    hwm.trim_start_matches("VmHWM:").trim().to_owned()
}

fn report(what: &str, samples: &mut [Duration], target: &str) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p95 = samples[samples.len() * 95 / 100];
    println!(
        "{what}: median {median:.2?}, p95 {p95:.2?} over {} runs  {target}",
        samples.len()
    );
}

/// Two years of a busy circle: 11 members, weekly and one-off tasks with claims and
/// completions, updates and thanks in the log, until the history holds ~20,000 changes.
/// Returns the plan, its members and `CLAIM_SAMPLES` open tasks to claim in the bench.
fn two_years_of_history() -> (CirclePlan, Vec<MemberId>, Vec<TaskId>) {
    let (mut plan, main) = CirclePlan::create(
        ActorId::random(),
        CircleId::random(),
        NewCircle {
            name: "Kring van Sanne".into(),
            language: Language::Nl,
            main_person_name: "Sanne".into(),
        },
        START,
    )
    .expect("create");
    let mut members = vec![main.clone()];
    for i in 1..11 {
        let relation = if i == 10 {
            Relation::Professional
        } else {
            Relation::Family
        };
        let new = NewMember {
            display_name: format!("Lid {i}"),
            relation,
            role_label: "familie".into(),
        };
        members.push(plan.add_member(&main, new, START).expect("member"));
    }
    let per_task = Duration::from_secs(2 * 365 * 24 * 3600 / TASKS as u64).as_millis() as i64;
    let mut changes = 11;
    for i in 0..TASKS {
        let now = START.plus_millis(i as i64 * per_task);
        let by = &members[i % members.len()];
        let schedule = if i % 10 == 0 {
            Schedule::Weekly {
                first_at: now,
                every_weeks: 1,
                until: Some(now.plus_days(56)),
            }
        } else {
            Schedule::Due {
                at: now.plus_days(3),
            }
        };
        let new = NewTask {
            slots: 1 + (i % 2) as u32,
            schedule,
            ..NewTask::simple(format!("Taak {i}: boodschappen doen"))
        };
        let task = plan.add_task(by, new, now).expect("task");
        let helper = &members[(i * 7 + 3) % members.len()];
        plan.claim_task(helper, &task, now.plus_millis(1000))
            .expect("claim");
        plan.complete_task(helper, &task, None, "gedaan", now.plus_days(3))
            .expect("complete");
        plan.post(
            helper,
            LogKind::Update,
            "Het ging goed vandaag, dank jullie wel.",
            now.plus_days(3),
        )
        .expect("post");
        changes += 4;
    }
    let mut i = 0;
    while changes < TARGET_CHANGES - CLAIM_SAMPLES {
        let by = &members[i % members.len()];
        let kind = if i % 3 == 0 {
            LogKind::Thanks
        } else {
            LogKind::Update
        };
        plan.post(
            by,
            kind,
            "Even laten weten hoe het gaat.",
            START.plus_days(700).plus_millis(i as i64),
        )
        .expect("post");
        changes += 1;
        i += 1;
    }
    let fresh = (0..CLAIM_SAMPLES)
        .map(|i| {
            let new = NewTask {
                slots: 3,
                ..NewTask::simple(format!("Nieuwe taak {i}"))
            };
            plan.add_task(&main, new, START.plus_days(730))
                .expect("task")
        })
        .collect();
    (plan, members, fresh)
}
