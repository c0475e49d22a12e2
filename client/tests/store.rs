//! The local store keeps circles durably: reopening rebuilds identical views, saves are
//! incremental with periodic compaction, and an acknowledged save survives `kill -9`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use automerge::ActorId;
use kring_client::store::{Store, COMPACT_AFTER_CHUNKS};
use kring_client::Error;
use kring_plan::plan::{
    CircleId, CirclePlan, LogKind, MemberId, NewCircle, NewTask, PlanView, TaskId,
};
use kring_trust::Timestamp;

const NOW: Timestamp = Timestamp(1_780_000_000_000);

/// The device actor every test store writes as (a device's actor is its signing key;
/// the store itself does not choose one).
fn actor() -> ActorId {
    ActorId::from(&[7u8; 32][..])
}

fn new_circle(store: &mut Store) -> (CirclePlan, MemberId) {
    let (mut plan, me) = CirclePlan::create(
        actor(),
        CircleId::random(),
        NewCircle {
            name: "Kring van Sanne".into(),
            language: kring_plan::plan::Language::Nl,
            main_person_name: "Sanne".into(),
        },
        NOW,
    )
    .expect("create");
    store.add_circle(&mut plan, &me, NOW).expect("add circle");
    (plan, me)
}

fn reopened_view(path: &std::path::Path, id: &CircleId) -> PlanView {
    Store::open(path)
        .expect("reopen")
        .load(id, actor())
        .expect("load")
        .view()
}

#[test]
fn reopening_rebuilds_the_identical_plan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kring.db");
    let mut store = Store::open(&path).expect("open");
    let (mut plan, me) = new_circle(&mut store);
    let task = plan
        .add_task(&me, NewTask::simple("Boodschappen"), NOW)
        .expect("task");
    store.save(&mut plan).expect("save");
    plan.claim_task(&me, &task, NOW.plus_millis(1))
        .expect("claim");
    plan.post(&me, LogKind::Thanks, "Dank je!", NOW.plus_millis(2))
        .expect("post");
    store.save(&mut plan).expect("save");
    let expected = plan.view();
    drop(store);

    assert_eq!(reopened_view(&path, plan.circle_id()), expected);
    let stored = Store::open(&path)
        .expect("open")
        .circle(plan.circle_id())
        .expect("circle");
    assert_eq!(stored.me, me);
}

#[test]
fn the_device_actor_is_its_key_and_stable_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = kring_client::device::Device::open_in(dir.path()).expect("open");
    let (id, actor) = (first.id(), first.actor());
    drop(first);
    let second = kring_client::device::Device::open_in(dir.path()).expect("reopen");
    assert_eq!((second.id(), second.actor()), (id, actor.clone()));
    assert_eq!(actor.to_bytes(), id.as_bytes());
}

#[test]
fn saves_append_small_chunks_and_compact_periodically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kring.db");
    let mut store = Store::open(&path).expect("open");
    let (mut plan, me) = new_circle(&mut store);
    let id = plan.circle_id().clone();
    assert_eq!(store.chunk_count(&id).expect("count"), 1);

    store.save(&mut plan).expect("nothing to save is fine");
    assert_eq!(
        store.chunk_count(&id).expect("count"),
        1,
        "an empty save writes no chunk"
    );

    for i in 1..COMPACT_AFTER_CHUNKS {
        plan.post(
            &me,
            LogKind::Update,
            &format!("update {i}"),
            NOW.plus_millis(i),
        )
        .expect("post");
        store.save(&mut plan).expect("save");
        assert_eq!(store.chunk_count(&id).expect("count"), i + 1);
    }
    plan.post(&me, LogKind::Update, "one more", NOW.plus_millis(10_000))
        .expect("post");
    store.save(&mut plan).expect("save");
    assert_eq!(
        store.chunk_count(&id).expect("count"),
        1,
        "compacted into one full save"
    );
    assert_eq!(reopened_view(&path, &id), plan.view());
}

#[test]
fn unknown_circles_and_duplicate_adds_are_typed_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("kring.db")).expect("open");
    assert!(matches!(
        store.load(&CircleId::random(), actor()),
        Err(Error::UnknownCircle(_))
    ));
    let (mut plan, me) = new_circle(&mut store);
    assert!(matches!(
        store.add_circle(&mut plan, &me, NOW),
        Err(Error::Trust(kring_trust::Error::AlreadyExists(_)))
    ));
    assert_eq!(store.circles().expect("circles").len(), 1);
}

#[test]
fn merged_changes_from_another_device_are_saved_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kring.db");
    let mut store = Store::open(&path).expect("open");
    let (mut plan, me) = new_circle(&mut store);
    let mut other = CirclePlan::load(&plan.export(), automerge::ActorId::random()).expect("fork");
    other
        .add_task(&me, NewTask::simple("Elsewhere"), NOW)
        .expect("task");
    plan.merge_bytes(&other.export()).expect("merge");
    store.save(&mut plan).expect("save");
    let view = reopened_view(&path, plan.circle_id());
    assert_eq!(view.tasks.len(), 1);
    assert_eq!(view.tasks[0].title, "Elsewhere");
}

/// Child half of the crash test: adds tasks forever, printing each id once its save
/// returned. Only runs when the parent test starts it.
#[test]
#[ignore = "started as a child process by acknowledged_saves_survive_kill_9"]
fn crash_writer_child() {
    let Ok(dir) = std::env::var("KRING_CRASH_DIR") else {
        return;
    };
    let path = std::path::Path::new(&dir).join("kring.db");
    let mut store = Store::open(&path).expect("open");
    let (mut plan, me) = new_circle(&mut store);
    println!("circle {}", plan.circle_id());
    for i in 0.. {
        let task = plan
            .add_task(
                &me,
                NewTask::simple(format!("task {i}")),
                NOW.plus_millis(i),
            )
            .expect("task");
        store.save(&mut plan).expect("save");
        println!("acked {task}");
    }
}

#[test]
fn acknowledged_saves_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "crash_writer_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("KRING_CRASH_DIR", dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("stdout");
    let mut circle = None;
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        // libtest may print "test crash_writer_child ... " on the same line.
        if let Some((_, id)) = line.split_once("circle ") {
            circle = Some(CircleId::parse(id).expect("circle id"));
        } else if let Some(id) = line.strip_prefix("acked ") {
            acked.push(TaskId::parse(id).expect("task id"));
            if acked.len() == 150 {
                child.kill().expect("SIGKILL the writer");
                break;
            }
        }
    }
    child.wait().expect("reap");
    let circle = circle.expect("child printed its circle");
    let view = reopened_view(&dir.path().join("kring.db"), &circle);
    for id in &acked {
        assert!(view.task(id).is_some(), "acknowledged task {id} was lost");
    }
}

/// The bytes of a store file and its write-ahead log.
fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap_or_default();
    bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
    bytes
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn deleting_a_circle_erases_its_text_from_the_file_and_the_wal_and_keeps_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kring.db");
    let mut store = Store::open(&path).expect("open");
    let (mut gone, me) = new_circle(&mut store);
    let (mut kept, kept_me) = new_circle(&mut store);
    for i in 0..20 {
        gone.add_task(
            &me,
            NewTask::simple(format!("Geheime taak nummer {i}")),
            NOW,
        )
        .expect("task");
        store.save(&mut gone).expect("save");
    }
    kept.add_task(&kept_me, NewTask::simple("Blijvende afspraak"), NOW)
        .expect("task");
    store.save(&mut kept).expect("save");
    assert!(holds(&file_bytes(&path), "Geheime taak nummer 7"));

    store.delete_circle(gone.circle_id(), None).expect("delete");
    let bytes = file_bytes(&path);
    assert!(
        !holds(&bytes, "Geheime taak"),
        "erased text is still in the file"
    );
    assert!(holds(&bytes, "Blijvende afspraak"));
    assert!(matches!(
        store.load(gone.circle_id(), actor()),
        Err(Error::UnknownCircle(_))
    ));
    assert!(store.load(kept.circle_id(), actor()).is_ok());
    // Deleting what is not there is a clear error that changes nothing.
    assert!(matches!(
        store.delete_circle(gone.circle_id(), None),
        Err(Error::UnknownCircle(_))
    ));
    assert_eq!(store.circles().expect("circles").len(), 1);
}

/// The first screen comes from the view kept for the stored document: identical to
/// the one built from it, never shown once the document changed (also by another
/// handle), not after the circle is erased, and a kept view that does not decode is
/// ignored rather than shown or failed on.
#[test]
fn a_kept_view_is_shown_only_for_the_document_it_was_built_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kring.db");
    let mut store = Store::open(&path).expect("open");
    let (mut plan, me) = new_circle(&mut store);
    // Claimed tasks and a thank-you: a view with more than titles in it.
    for (i, title) in ["Boodschappen", "Koken"].into_iter().enumerate() {
        let at = NOW.plus_millis(i as i64);
        let task = plan
            .add_task(&me, NewTask::simple(title), at)
            .expect("task");
        plan.claim_task(&me, &task, at).expect("claim");
    }
    plan.post(&me, LogKind::Thanks, "Dank je!", NOW.plus_millis(2))
        .expect("post");
    store.save(&mut plan).expect("save");
    let id = plan.circle_id().clone();
    assert_eq!(
        store.stored_view(&id).expect("read"),
        None,
        "nothing kept yet"
    );

    let version = store.circle_version(&id).expect("version");
    let built = plan.view();
    store.keep_view(&id, version, &built).expect("keep");
    let reopened = Store::open(&path).expect("reopen");
    assert_eq!(
        reopened.stored_view(&id).expect("read"),
        Some(built.clone())
    );

    // Another handle stores a change: the kept view is stale, whoever asks.
    let mut other = reopened.load(&id, actor()).expect("load");
    other
        .add_task(&me, NewTask::simple("Wandelen"), NOW.plus_millis(3))
        .expect("task");
    let mut writer = Store::open(&path).expect("second handle");
    writer.save(&mut other).expect("save");
    assert_eq!(store.stored_view(&id).expect("read"), None);
    assert_eq!(reopened.stored_view(&id).expect("read"), None);
    // A view built before that change (a handle that loaded the document earlier)
    // is not kept as if it were current.
    store.keep_view(&id, version, &built).expect("keep");
    assert_eq!(store.stored_view(&id).expect("read"), None);

    // Kept again for the new document; bytes that do not decode are ignored.
    let version = store.circle_version(&id).expect("version");
    store.keep_view(&id, version, &other.view()).expect("keep");
    assert_eq!(
        store.stored_view(&id).expect("read").map(|v| v.tasks.len()),
        Some(3)
    );
    let raw = rusqlite::Connection::open(&path).expect("raw");
    // Kept by another version of the app: not shown (it may read the plan otherwise).
    raw.execute("UPDATE plan_views SET built_by = 'kring-client 0.0.0'", [])
        .expect("older app");
    assert_eq!(store.stored_view(&id).expect("read"), None);
    store.keep_view(&id, version, &other.view()).expect("keep");
    assert!(store.stored_view(&id).expect("read").is_some(), "replaced");
    raw.execute("UPDATE plan_views SET view = x'7b7b'", [])
        .expect("garble");
    assert_eq!(store.stored_view(&id).expect("read"), None);

    store.keep_view(&id, version, &other.view()).expect("keep");
    store.delete_circle(&id, None).expect("erase");
    let count = || -> i64 {
        raw.query_row("SELECT COUNT(*) FROM plan_views", [], |r| r.get(0))
            .expect("count")
    };
    assert_eq!(count(), 0, "an erased circle leaves no view behind");
    // A view built before the erasure and kept after it (another handle) is not.
    store.keep_view(&id, version, &other.view()).expect("keep");
    assert_eq!(count(), 0, "nor can one be kept for it afterwards");
}
