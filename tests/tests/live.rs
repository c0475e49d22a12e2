//! Live sync over the WebSocket, and readers, against the real relay binary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kring_client::device::{Device, WatchEvent};
use kring_client::sync::engine::Standing;
use kring_client::Error;
use kring_e2e::RelayProcess;
use kring_plan::plan::{CircleId, Language, NewTask, Relation};
use kring_trust::membership::Capability;
use kring_trust::Timestamp;

fn founded(root: &std::path::Path, url: &str) -> (Device, CircleId) {
    let mut sanne = Device::open_in(&root.join("sanne")).expect("device");
    let circle = sanne
        .create_circle(
            "Kring van Sanne",
            Language::Nl,
            "Sanne",
            Some(url),
            Timestamp::now(),
        )
        .expect("create");
    sanne.sync(&circle, Timestamp::now()).expect("sync");
    (sanne, circle)
}

fn joined(
    root: &std::path::Path,
    name: &str,
    sanne: &Device,
    circle: &CircleId,
    capability: Capability,
) -> Device {
    let now = Timestamp::now();
    let link = sanne
        .invite(circle, capability, now.plus_days(1), now)
        .expect("invite");
    let mut device = Device::open_in(&root.join(name)).expect("device");
    device
        .join(&link, name, Relation::Family, Timestamp::now())
        .expect("join");
    device
}

fn add_task(device: &mut Device, circle: &CircleId, title: &str) {
    let now = Timestamp::now();
    device
        .change_plan(circle, now, |plan, me| {
            plan.add_task(me, NewTask::simple(title), now)
        })
        .expect("add task");
}

/// Waits until `check` holds, for at most ten seconds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_watching_device_receives_and_sends_changes_without_being_asked() {
    let root = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let (mut sanne, circle) = founded(root.path(), &relay.url());
    drop(joined(
        root.path(),
        "jan",
        &sanne,
        &circle,
        Capability::Member,
    ));

    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let watcher = {
        let (stop, events, circle) = (Arc::clone(&stop), Arc::clone(&events), circle.clone());
        let dir = root.path().join("jan");
        std::thread::spawn(move || {
            let mut jan = Device::open_in(&dir).expect("device");
            jan.watch(&[circle], &stop, &mut |event| {
                events.lock().expect("events").push(event);
            })
        })
    };
    eventually("Jan's phone is connected", || {
        events
            .lock()
            .expect("events")
            .iter()
            .any(|e| matches!(e, WatchEvent::Connected { .. }))
    });

    // Sanne's change reaches Jan's store over the live socket itself: the envelope
    // comes as a frame and is applied without a sync (no pull, no "syncing").
    let connected_at = events.lock().expect("events").len();
    add_task(&mut sanne, &circle, "Boodschappen doen");
    sanne.sync(&circle, Timestamp::now()).expect("sync");
    let jan_reader = Device::open_in(&root.path().join("jan")).expect("second handle");
    eventually("the task is on Jan's phone", || {
        jan_reader
            .view(&circle)
            .is_ok_and(|v| v.tasks.iter().any(|t| t.title == "Boodschappen doen"))
    });
    eventually("the watcher reported it", || {
        events.lock().expect("events")[connected_at..]
            .iter()
            .any(|e| matches!(e, WatchEvent::Synced { report, .. } if report.applied_changes >= 1))
    });
    {
        let events = events.lock().expect("events");
        let after = &events[connected_at..];
        let applied = after
            .iter()
            .position(
                |e| matches!(e, WatchEvent::Synced { report, .. } if report.applied_changes >= 1),
            )
            .expect("applied");
        assert!(
            !after[..applied]
                .iter()
                .any(|e| matches!(e, WatchEvent::Syncing { .. })),
            "applied from the live frame, not by a sync: {after:?}"
        );
    }

    // A change made on Jan's data directory by another process (here: another
    // handle) is pushed by the watcher from the outbox, on the live socket itself:
    // acknowledged there, with no sync.
    let before_push = events.lock().expect("events").len();
    let mut jan_cli = jan_reader;
    add_task(&mut jan_cli, &circle, "Samen wandelen");
    eventually("Sanne has Jan's task", || {
        sanne.sync(&circle, Timestamp::now()).is_ok()
            && sanne
                .view(&circle)
                .is_ok_and(|v| v.tasks.iter().any(|t| t.title == "Samen wandelen"))
    });
    eventually("the watcher reported the push", || {
        events.lock().expect("events")[before_push..]
            .iter()
            .any(|e| matches!(e, WatchEvent::Synced { report, .. } if report.pushed >= 1))
    });
    {
        let events = events.lock().expect("events");
        let after = &events[before_push..];
        let pushed = after
            .iter()
            .position(|e| matches!(e, WatchEvent::Synced { report, .. } if report.pushed >= 1))
            .expect("pushed");
        assert!(
            !after[..=pushed]
                .iter()
                .any(|e| matches!(e, WatchEvent::Syncing { .. })),
            "pushed on the socket, not by a sync: {after:?}"
        );
    }
    let outbox = Device::open_in(&root.path().join("jan")).expect("third handle");
    assert_eq!(
        outbox.status(&circle).expect("status").pending,
        0,
        "the socket's answer acknowledged the outbox"
    );

    stop.store(true, Ordering::Relaxed);
    watcher
        .join()
        .expect("watcher thread")
        .expect("watch ends cleanly");
}

#[test]
fn a_reader_reads_everything_and_writes_nothing() {
    let root = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let (mut sanne, circle) = founded(root.path(), &relay.url());
    add_task(&mut sanne, &circle, "Boodschappen doen");
    sanne.sync(&circle, Timestamp::now()).expect("sync");

    let mut reader = joined(root.path(), "oma", &sanne, &circle, Capability::Reader);
    let status = reader.status(&circle).expect("status");
    assert_eq!(status.standing, Some(Standing::Reader));
    assert!(reader
        .view(&circle)
        .expect("view")
        .tasks
        .iter()
        .any(|t| t.title == "Boodschappen doen"));
    let now = Timestamp::now();
    let err = reader
        .change_plan(&circle, now, |plan, me| {
            plan.add_task(me, NewTask::simple("x"), now)
        })
        .expect_err("readers do not write");
    assert!(
        matches!(err, Error::Trust(kring_trust::Error::ReadOnly(_))),
        "{err:?}"
    );
    assert_eq!(reader.status(&circle).expect("status").pending, 0);

    // Later changes keep reaching the reader.
    add_task(&mut sanne, &circle, "Samen koken");
    sanne.sync(&circle, Timestamp::now()).expect("sync");
    reader
        .sync(&circle, Timestamp::now())
        .expect("reader syncs");
    assert_eq!(
        reader.view(&circle).expect("view"),
        sanne.view(&circle).expect("view")
    );
}

/// The whole circle over the live data path: ten members each keep `watch` running
/// (as their phones would), the main person's and each member's changes reach all the
/// others as streamed envelopes, and every replica ends identical — the same plan as
/// the eleven-person test over pull alone (`circle.rs`) reaches.
#[test]
fn eleven_people_stay_in_step_over_the_live_data_path() {
    let root = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let (mut sanne, circle) = founded(root.path(), &relay.url());
    let names: Vec<String> = (1..=10).map(|i| format!("member{i}")).collect();
    for name in &names {
        drop(joined(
            root.path(),
            name,
            &sanne,
            &circle,
            Capability::Member,
        ));
    }
    sanne.sync(&circle, Timestamp::now()).expect("sync");

    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let watchers: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (stop, events, circle) = (Arc::clone(&stop), Arc::clone(&events), circle.clone());
            let dir = root.path().join(name);
            std::thread::spawn(move || {
                let mut device = Device::open_in(&dir).expect("device");
                device.watch(&[circle], &stop, &mut |event| {
                    events.lock().expect("events").push((i, event));
                })
            })
        })
        .collect();
    eventually("every phone is connected", || {
        let events = events.lock().expect("events");
        events
            .iter()
            .filter(|(_, e)| matches!(e, WatchEvent::Connected { .. }))
            .count()
            >= names.len()
    });
    let handles: Vec<Device> = names
        .iter()
        .map(|name| Device::open_in(&root.path().join(name)).expect("second handle"))
        .collect();
    let titles = |device: &Device| -> Vec<String> {
        let mut titles: Vec<String> = device
            .view(&circle)
            .map(|v| v.tasks.into_iter().map(|t| t.title).collect())
            .unwrap_or_default();
        titles.sort();
        titles
    };

    // The main person adds three tasks: every watching phone has them.
    for title in ["Boodschappen", "Ziekenhuis rijden", "Samen koken"] {
        add_task(&mut sanne, &circle, title);
    }
    sanne.sync(&circle, Timestamp::now()).expect("sync");
    eventually("the ten phones have the three tasks", || {
        handles.iter().all(|h| titles(h).len() == 3)
    });

    // Each member adds a task on their own phone (another process on its data, as the
    // CLI would); the watchers push them and stream them to one another.
    let mut handles = handles;
    for (handle, name) in handles.iter_mut().zip(&names) {
        add_task(handle, &circle, &format!("Taak van {name}"));
    }
    eventually("every phone has all thirteen tasks", || {
        handles.iter().all(|h| titles(h).len() == 13)
    });
    eventually("the main person has them too", || {
        sanne.sync(&circle, Timestamp::now()).is_ok() && titles(&sanne).len() == 13
    });
    let first = sanne.view(&circle).expect("view");
    for handle in &handles {
        assert_eq!(handle.view(&circle).expect("view"), first);
    }
    // The changes came as frames: on every phone, at least the main person's three
    // were applied straight from the socket (a "synced" with no "syncing" before it).
    let events = events.lock().expect("events");
    for (i, name) in names.iter().enumerate() {
        let mine: Vec<&WatchEvent> = events
            .iter()
            .filter(|(w, _)| *w == i)
            .map(|(_, e)| e)
            .collect();
        let from_frames = mine
            .windows(2)
            .filter(|pair| {
                matches!(pair[1], WatchEvent::Synced { report, .. } if report.applied_changes >= 1)
                    && !matches!(pair[0], WatchEvent::Syncing { .. })
            })
            .count();
        assert!(
            from_frames >= 3,
            "{name}: {from_frames} arrivals from frames"
        );
    }
    drop(events);

    stop.store(true, Ordering::Relaxed);
    for watcher in watchers {
        watcher
            .join()
            .expect("watcher thread")
            .expect("watch ends cleanly");
    }
}
