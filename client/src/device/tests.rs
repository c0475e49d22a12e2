//! The device façade offline: identity, founding, sealing into the outbox, imported
//! circles, invites. (With a relay: the end-to-end tests in `tests/`.)

use super::*;
use crate::envelope;
use crate::secrets::FileSecretStore;
use crate::sync::engine::Connectivity;
use kring_plan::plan::NewTask;
use kring_plan::Error as PlanError;
use kring_trust::Error as TrustError;

const NOW: Timestamp = Timestamp(1_790_000_000_000);

fn founded(dir: &Path) -> (Device, CircleId) {
    let mut device = Device::open_in(dir).unwrap();
    let circle = device
        .create_circle("Kring van Sanne", Language::Nl, "Sanne", None, NOW)
        .unwrap();
    (device, circle)
}

#[test]
fn a_founded_circle_has_a_genesis_a_plan_and_its_first_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let (device, circle) = founded(dir.path());
    let trust = device.trust(&circle).unwrap().unwrap();
    assert_eq!(trust.circle(), &circle);
    assert_eq!(trust.len(), 1);
    // The log's owner and the plan's main person are the same member: this device's.
    let me = device.me(&circle).unwrap();
    assert_eq!(trust.state().owner(), &me);
    assert_eq!(device.plan(&circle).unwrap().main_person().unwrap(), me);
    assert_eq!(device.plan(&circle).unwrap().actor(), &device.actor());

    let pending = device
        .store()
        .pending_envelopes(&circle, &device.id())
        .unwrap();
    assert_eq!(pending.len(), 1);
    let opened = envelope::open(&pending[0].bytes, trust.state(), trust.keys()).unwrap();
    // The plan's genesis and its time zone.
    assert_eq!(opened.changes().len(), 2);
    assert_eq!(
        device.view(&circle).unwrap().circle.timezone,
        "Europe/Amsterdam"
    );
    let status = device.status(&circle).unwrap();
    assert_eq!(
        (status.connectivity, status.pending, status.epoch),
        (Connectivity::NoRelay, 1, Some(0))
    );
}

#[test]
fn every_change_is_sealed_into_the_outbox_in_order_and_a_failed_one_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut device, circle) = founded(dir.path());
    let task = device
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>({ plan.add_task(me, NewTask::simple("Boodschappen"), NOW) }?)
        })
        .unwrap();
    device
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>(plan.claim_task(me, &task, NOW)?)
        })
        .unwrap();
    let before = device.plan(&circle).unwrap().heads();
    let err = device
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>(plan.claim_task(me, &task, NOW)?)
        })
        .unwrap_err();
    assert!(
        matches!(err, Error::Plan(PlanError::AlreadyClaimed(_))),
        "{err:?}"
    );
    assert_eq!(device.plan(&circle).unwrap().heads(), before);

    let pending = device
        .store()
        .pending_envelopes(&circle, &device.id())
        .unwrap();
    assert_eq!(
        pending.iter().map(|e| e.device_seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let trust = device.trust(&circle).unwrap().unwrap();
    let mut prev = None;
    let mut changes = 0;
    for e in &pending {
        let header = envelope::read_header(&e.bytes).unwrap();
        assert_eq!(header.prev, prev);
        prev = Some(e.hash);
        changes += envelope::open(&e.bytes, trust.state(), trust.keys())
            .unwrap()
            .changes()
            .len();
    }
    // Everything this device wrote, exactly once.
    let plan = device.plan(&circle).unwrap();
    assert_eq!(changes, plan.own_changes_since(&[]).len());

    // A reopened device seals on from where it was.
    drop(device);
    let mut device = Device::open_in(dir.path()).unwrap();
    device
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>(plan.unclaim_task(me, &task, NOW)?)
        })
        .unwrap();
    assert_eq!(device.status(&circle).unwrap().pending, 4);
}

#[test]
fn a_data_directory_belongs_to_one_identity() {
    let dir = tempfile::tempdir().unwrap();
    let first = Device::open_in(dir.path()).unwrap();
    let id = first.id();
    drop(first);
    assert_eq!(Device::open_in(dir.path()).unwrap().id(), id);
    let other = FileSecretStore::open(dir.path().join("other-secrets")).unwrap();
    let err = Device::open(dir.path(), Box::new(other)).unwrap_err();
    assert!(matches!(err, Error::SecretStore(_)), "{err:?}");
}

#[test]
fn an_unreadable_device_secret_is_the_secret_stores_error() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = FileSecretStore::open(dir.path().join(SECRETS_DIR)).unwrap();
    secrets.put(IDENTITY_SECRET, &[1, 2, 3]).unwrap();
    let err = Device::open(dir.path(), Box::new(secrets)).unwrap_err();
    assert!(matches!(err, Error::SecretStore(_)), "{err:?}");
}

#[test]
fn a_circle_is_imported_only_as_one_of_its_members() {
    let dir = tempfile::tempdir().unwrap();
    let (founder, circle) = founded(&dir.path().join("sanne"));
    let bytes = founder.plan(&circle).unwrap().export();
    let mut device = Device::open_in(&dir.path().join("copy")).unwrap();
    let stranger = MemberId::random();
    let err = device.import_circle(&bytes, &stranger, NOW).unwrap_err();
    assert!(
        matches!(err, Error::Trust(TrustError::UnknownMember(_))),
        "{err:?}"
    );
    assert!(device.circles().unwrap().is_empty());
}

#[test]
fn an_imported_circle_is_local_only() {
    let dir = tempfile::tempdir().unwrap();
    let (founder, circle) = founded(&dir.path().join("sanne"));
    let bytes = founder.plan(&circle).unwrap().export();
    let me = founder.me(&circle).unwrap();

    let mut device = Device::open_in(&dir.path().join("copy")).unwrap();
    assert_eq!(device.import_circle(&bytes, &me, NOW).unwrap(), circle);
    device
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>({ plan.add_task(me, NewTask::simple("Boodschappen"), NOW) }?)
        })
        .unwrap();
    let status = device.status(&circle).unwrap();
    assert_eq!(
        (status.connectivity, status.pending),
        (Connectivity::LocalOnly, 0)
    );
    assert!(matches!(
        device.invite(&circle, Capability::Member, NOW.plus_days(1), NOW),
        Err(Error::LocalOnly(_))
    ));
    assert!(matches!(
        device.sync(&circle, NOW),
        Err(Error::LocalOnly(_))
    ));
}

#[test]
fn invites_need_a_relay_and_carry_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut device, circle) = founded(dir.path());
    let err = device
        .invite(&circle, Capability::Member, NOW.plus_days(7), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::NoRelay(_)), "{err:?}");
    assert!(device.set_relay(&circle, "ftp://nope").is_err());
    device
        .set_relay(&circle, "https://relay.kring.example/")
        .unwrap();
    let link = device
        .invite(&circle, Capability::Reader, NOW.plus_days(7), NOW)
        .unwrap();
    let token = InviteToken::from_link(&link).unwrap();
    assert_eq!(token.invite().body().circle, circle);
    assert_eq!(
        token.invite().body().relay_url,
        "https://relay.kring.example"
    );
    assert_eq!(token.invite().body().capability, Capability::Reader);
    assert_eq!(
        device.status(&circle).unwrap().connectivity,
        Connectivity::NotSynced
    );
}

#[test]
fn joining_checks_the_name_before_touching_the_network() {
    use kring_plan::plan::Relation;
    let dir = tempfile::tempdir().unwrap();
    let (mut founder, circle) = founded(&dir.path().join("sanne"));
    founder.set_relay(&circle, "http://127.0.0.1:9").unwrap();
    let link = founder
        .invite(&circle, Capability::Member, NOW.plus_days(7), NOW)
        .unwrap();
    let mut device = Device::open_in(&dir.path().join("jan")).unwrap();
    assert!(matches!(
        device.join(&link, "  ", Relation::Family, NOW),
        Err(Error::Plan(PlanError::EmptyText { .. }))
    ));
    assert!(matches!(
        device.join(&link, "Jan", Relation::MainPerson, NOW),
        Err(Error::Trust(TrustError::NotAllowed(_)))
    ));
    assert!(matches!(
        device.join("kring://invite/garbage", "Jan", Relation::Family, NOW),
        Err(Error::Trust(TrustError::Malformed { .. }))
    ));
    // Nobody listens on port 9: a network error, and nothing stored.
    let err = device
        .join(&link, "Jan", Relation::Family, NOW)
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(device.store().sync_records().unwrap().is_empty());
}

/// Two processes on one data directory (`kring watch` beside `kring task claim`): the
/// copy a device keeps in memory must never hide what the other one wrote.
#[test]
fn a_second_process_on_the_same_data_directory_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, circle) = founded(dir.path());
    let add = |device: &mut Device, title: &str| add_task(device, &circle, title);
    add(&mut first, "Eerste");
    let mut second = Device::open_in(dir.path()).unwrap();
    add(&mut second, "Tweede");
    assert_eq!(
        first.view(&circle).unwrap().tasks.len(),
        2,
        "a read sees the other process"
    );
    add(&mut first, "Derde");
    add(&mut second, "Vierde");
    let titles = |device: &Device| {
        let mut titles: Vec<String> = device
            .view(&circle)
            .unwrap()
            .tasks
            .into_iter()
            .map(|t| t.title)
            .collect();
        titles.sort();
        titles
    };
    assert_eq!(titles(&first), ["Derde", "Eerste", "Tweede", "Vierde"]);
    assert_eq!(titles(&first), titles(&second));
    let reopened = Device::open_in(dir.path()).unwrap();
    assert_eq!(titles(&reopened), titles(&first));
    let pending = reopened
        .store()
        .pending_envelopes(&circle, &reopened.id())
        .unwrap();
    assert_eq!(
        pending.len(),
        5,
        "the genesis envelope and one per task, none lost or doubled"
    );
}

#[test]
fn news_starts_from_the_first_look_and_tells_only_what_others_did() {
    use kring_plan::news::NewsKind;
    let dir = tempfile::tempdir().unwrap();
    let (mut founder, circle) = founded(&dir.path().join("sanne"));
    let jan = founder
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>({
                let new = kring_plan::plan::NewMember {
                    display_name: "Jan".into(),
                    relation: kring_plan::plan::Relation::Family,
                    role_label: String::new(),
                };
                plan.add_member(me, new, NOW)
            }?)
        })
        .unwrap();
    let piet = founder
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>({
                let new = kring_plan::plan::NewMember {
                    display_name: "Piet".into(),
                    relation: kring_plan::plan::Relation::Family,
                    role_label: String::new(),
                };
                plan.add_member(me, new, NOW)
            }?)
        })
        .unwrap();
    let ride = founder
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>({
                let task = NewTask {
                    schedule: kring_plan::plan::Schedule::Due {
                        at: NOW.plus_days(2),
                    },
                    ..NewTask::simple("Naar het ziekenhuis rijden")
                };
                plan.add_task(me, task, NOW)
            }?)
        })
        .unwrap();
    // Piet's device holds a copy of the plan (from a file, so no membership log).
    let mut device = Device::open_in(&dir.path().join("piet")).unwrap();
    let bytes = founder.plan(&circle).unwrap().export();
    device.import_circle(&bytes, &piet, NOW).unwrap();
    // The first look: nothing to announce, the whole plan is not news.
    assert!(device.what_changed(&circle).unwrap().is_empty());
    // The ride still needs someone, and Piet can take it: it is in his reminders.
    let reminders = device.reminders(None, NOW, 7).unwrap();
    assert!(
        reminders.iter().any(
            |r| r.kind == kring_plan::reminders::ReminderKind::NeedsPeople
                && r.task.as_ref() == Some(&ride)
        ),
        "{reminders:?}"
    );

    // Jan takes the ride on his own copy; it reaches Piet as a file.
    let mut jans = CirclePlan::load(&bytes, automerge::ActorId::random()).unwrap();
    jans.claim_task(&jan, &ride, NOW.plus_millis(5)).unwrap();
    device.merge_bytes(&circle, &jans.export()).unwrap();
    let news = device.what_changed(&circle).unwrap();
    assert_eq!(news.len(), 1, "{news:?}");
    assert_eq!(news[0].kind, NewsKind::Taken);
    assert!(
        news[0]
            .text
            .starts_with("Jan doet Naar het ziekenhuis rijden"),
        "{}",
        news[0].text
    );
    // Asked again: already seen.
    assert!(device.what_changed(&circle).unwrap().is_empty());
    // Piet's own change is not news to him, and his reminders no longer ask him.
    device
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>({ plan.post(me, kring_plan::plan::LogKind::Thanks, "Top Jan", NOW) }?)
        })
        .unwrap();
    assert!(device.what_changed(&circle).unwrap().is_empty());
    assert!(device
        .reminders(Some(&circle), NOW, 7)
        .unwrap()
        .iter()
        .all(|r| r.task.as_ref() != Some(&ride)));

    // Muted on this device: no reminders for the circle; the plan is untouched.
    let heads = device.plan(&circle).unwrap().heads();
    let muted = kring_plan::reminders::ReminderSettings {
        muted: true,
        ..device.reminder_settings(&circle).unwrap()
    };
    device.set_reminder_settings(&circle, &muted).unwrap();
    assert!(device.reminder_settings(&circle).unwrap().muted);
    assert_eq!(device.plan(&circle).unwrap().heads(), heads);
    let unknown = CircleId::random();
    assert!(matches!(
        device.reminder_settings(&unknown),
        Err(Error::UnknownCircle(_))
    ));
}

/// The bytes of a data directory's store and its write-ahead log.
fn store_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(dir.join(STORE_FILE)).unwrap_or_default();
    bytes.extend(std::fs::read(dir.join("kring.db-wal")).unwrap_or_default());
    bytes
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

const SECRET_TITLE: &str = "Schuldhulp bellen over de huurachterstand";

#[test]
fn the_store_is_encrypted_at_rest_and_a_copy_opens_only_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (mut device, circle) = founded(dir.path());
    for i in 0..30 {
        device
            .change(&circle, NOW, |plan, me| {
                Ok::<_, Error>({
                    plan.add_task(me, NewTask::simple(format!("{SECRET_TITLE} {i}")), NOW)
                }?)
            })
            .unwrap();
    }
    drop(device);
    let bytes = store_bytes(dir.path());
    assert!(!bytes.starts_with(b"SQLite format 3\0"));
    for text in [SECRET_TITLE, "Kring van Sanne", "Sanne"] {
        assert!(!holds(&bytes, text), "{text:?} readable in kring.db");
    }

    // A copy of the file alone: not a database without the key, refused with another.
    let copy = dir.path().join("copy.db");
    std::fs::copy(dir.path().join(STORE_FILE), &copy).unwrap();
    assert!(Store::open(&copy).is_err());
    let wrong = Store::open_encrypted(&copy, &StoreKey::generate()).unwrap_err();
    assert!(matches!(wrong, Error::SecretStore(_)), "{wrong:?}");
    assert!(crate::store::is_plaintext(&copy).is_ok_and(|plain| !plain));

    // With the key from the device's secret store, everything is there.
    let secrets = FileSecretStore::open(dir.path().join(SECRETS_DIR)).unwrap();
    let key = StoreKey::from_bytes(&secrets.get(STORE_KEY_SECRET).unwrap().unwrap()).unwrap();
    let reopened = Device::open_in(dir.path()).unwrap();
    assert_eq!(reopened.view(&circle).unwrap().tasks.len(), 30);
    drop(reopened);
    assert!(Store::open_encrypted(&dir.path().join(STORE_FILE), &key).is_ok());
}

#[test]
fn a_plaintext_store_from_before_is_encrypted_on_first_open_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    // What an earlier version left: an identity and an unencrypted kring.db.
    let secrets = FileSecretStore::open(dir.path().join(SECRETS_DIR)).unwrap();
    let identity = crate::secrets::load_or_create_identity(&secrets, IDENTITY_SECRET).unwrap();
    let path = dir.path().join(STORE_FILE);
    let circle = {
        let mut store = Store::open(&path).unwrap();
        store
            .set_setting(DEVICE_ID_SETTING, identity.id().to_string().as_bytes())
            .unwrap();
        let (mut plan, me) = CirclePlan::create(
            identity.actor_id(),
            CircleId::random(),
            NewCircle {
                name: "Kring van Sanne".into(),
                language: Language::Nl,
                main_person_name: "Sanne".into(),
            },
            NOW,
        )
        .unwrap();
        plan.add_task(&me, NewTask::simple(SECRET_TITLE), NOW)
            .unwrap();
        store.add_circle(&mut plan, &me, NOW).unwrap();
        plan.circle_id().clone()
    };
    assert!(crate::store::is_plaintext(&path).unwrap());
    assert!(holds(&store_bytes(dir.path()), SECRET_TITLE));

    let device = Device::open_in(dir.path()).unwrap();
    let view = device.view(&circle).unwrap();
    assert_eq!(view.circle.name, "Kring van Sanne");
    assert_eq!(view.tasks[0].title, SECRET_TITLE);
    drop(device);
    assert!(!crate::store::is_plaintext(&path).unwrap());
    assert!(!holds(&store_bytes(dir.path()), SECRET_TITLE));
    assert!(!dir.path().join("kring.db-encrypting").exists());
    // Opened again: the same key, the same plan.
    let again = Device::open_in(dir.path()).unwrap();
    assert_eq!(again.view(&circle).unwrap(), view);
}

#[test]
fn an_encrypted_store_whose_key_is_lost_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (device, _) = founded(dir.path());
    drop(device);
    let secrets = FileSecretStore::open(dir.path().join(SECRETS_DIR)).unwrap();
    secrets.delete(STORE_KEY_SECRET).unwrap();
    let err = Device::open_in(dir.path()).unwrap_err();
    assert!(matches!(err, Error::SecretStore(_)), "{err:?}");
    assert!(
        secrets.get(STORE_KEY_SECRET).unwrap().is_none(),
        "no new key made"
    );
}

#[test]
fn a_closed_circle_is_a_read_only_archive_until_it_is_deleted_here() {
    let dir = tempfile::tempdir().unwrap();
    let (mut device, circle) = founded(dir.path());
    device
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>({ plan.add_task(me, NewTask::simple(SECRET_TITLE), NOW) }?)
        })
        .unwrap();
    // Never on a relay: closing only archives it here.
    device.close_circle(&circle, NOW).unwrap();
    let status = device.status(&circle).unwrap();
    assert_eq!(status.connectivity, Connectivity::Closed);
    assert_eq!(status.closed_at, Some(NOW));
    assert_eq!(status.pending, 0, "the outbox went with the relay");
    let before = device.view(&circle).unwrap();
    let err = device
        .change(&circle, NOW, |plan, me| {
            Ok::<_, Error>({ plan.add_task(me, NewTask::simple("Nog iets"), NOW) }?)
        })
        .unwrap_err();
    assert!(matches!(err, Error::Archived(_)), "{err:?}");
    assert_eq!(device.view(&circle).unwrap(), before, "nothing changed");
    assert!(matches!(device.sync(&circle, NOW), Err(Error::Archived(_))));
    assert!(matches!(
        device.invite(&circle, Capability::Member, NOW.plus_days(1), NOW),
        Err(Error::Archived(_))
    ));
    assert!(matches!(
        device.close_circle(&circle, NOW),
        Err(Error::Archived(_))
    ));
    // Reads and exports still work.
    assert!(!device.plan(&circle).unwrap().export().is_empty());
    assert!(device.circle_report(&circle, NOW).is_ok());

    // This device's own choices about the circle go with it.
    device
        .set_reminder_settings(&circle, &kring_plan::reminders::ReminderSettings::default())
        .unwrap();
    device.what_changed(&circle).unwrap();
    device.delete_local(&circle).unwrap();
    for key in [reach::settings_key(&circle), reach::seen_key(&circle)] {
        assert_eq!(device.store().setting(&key).unwrap(), None, "{key}");
    }
    assert!(device.circles().unwrap().is_empty());
    assert!(matches!(device.view(&circle), Err(Error::UnknownCircle(_))));
    assert!(matches!(
        device.delete_local(&circle),
        Err(Error::UnknownCircle(_))
    ));
}

#[test]
fn a_reopened_device_shows_the_kept_view_until_the_plan_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, circle) = founded(dir.path());
    let add = |device: &mut Device, title: &str| add_task(device, &circle, title);
    add(&mut first, "Eerste");
    // A fresh device (an app just opened) builds the view once and keeps it.
    let reopened = Device::open_in(dir.path()).unwrap();
    let shown = reopened.view(&circle).unwrap();
    assert_eq!(shown.tasks.len(), 1);
    assert_eq!(reopened.store().stored_view(&circle).unwrap(), Some(shown));
    // Another handle changes the plan: the kept view is not shown any more.
    add(&mut first, "Tweede");
    assert_eq!(reopened.store().stored_view(&circle).unwrap(), None);
    assert_eq!(reopened.view(&circle).unwrap().tasks.len(), 2);
    assert_eq!(
        Device::open_in(dir.path())
            .unwrap()
            .store()
            .stored_view(&circle)
            .unwrap()
            .map(|v| v.tasks.len()),
        Some(2)
    );
    // The device that wrote shows its in-memory copy, and keeps that view too.
    add(&mut first, "Derde");
    assert_eq!(first.view(&circle).unwrap().tasks.len(), 3);
    let opened = Device::open_in(dir.path()).unwrap();
    assert_eq!(
        opened
            .store()
            .stored_view(&circle)
            .unwrap()
            .map(|v| v.tasks.len()),
        Some(3)
    );
}

/// Adds a task through the device façade, as an app does.
fn add_task(device: &mut Device, circle: &CircleId, title: &str) -> kring_plan::plan::TaskId {
    device
        .change(circle, NOW, |plan, me| {
            Ok::<_, Error>({ plan.add_task(me, NewTask::simple(title), NOW) }?)
        })
        .unwrap()
}
