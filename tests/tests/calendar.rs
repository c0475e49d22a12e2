//! The "done when", through the real `kring` binary and an iCalendar parser no
//! one here wrote (Python `icalendar` + `recurring-ical-events`, installed by the test
//! command): a weekly dinner at 17:00 in Amsterdam, three times across the March clock
//! change, one turn claimed alone, and a calendar file that expands to exactly the
//! instants Kring lists — with skipped and moved occurrences, and one's own turns; and
//! deadlines around the March 2027 change that take no time, alarms whose ids survive
//! a second export, and a PRODID that names Kring.

use std::path::Path;
use std::process::Command;

use kring_e2e::workspace_binary;
use serde_json::Value;

fn kring(dir: &Path, args: &[&str]) -> Value {
    let out = Command::new(workspace_binary("kring-cli", "kring"))
        .env("KRING_DATA_DIR", dir)
        .env("KRING_NOW", "2027-03-01 10:00")
        .env_remove("KRING_CIRCLE")
        .args(args)
        .output()
        .expect("run kring");
    assert!(
        out.status.success(),
        "kring {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The occurrences as the independent parser expands them: (uid, start) pairs.
fn expand(ics: &Path, from: &str, to: &str) -> Vec<(String, Value)> {
    expand_all(ics, from, to)
        .iter()
        .map(|e| {
            (
                e["uid"].as_str().unwrap_or("").to_owned(),
                e["start_ms"].clone(),
            )
        })
        .collect()
}

/// Everything the independent parser says of each occurrence (see `expand_ics.py`).
fn expand_all(ics: &Path, from: &str, to: &str) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/expand_ics.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(ics)
        .args([from, to])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "the Python iCalendar parser failed (the test command installs it: pip install icalendar recurring-ical-events): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Value = serde_json::from_slice(&out.stdout).expect("JSON from Python");
    events.as_array().expect("a list").clone()
}

fn occurrence_instants(dir: &Path, task: &str, from: &str, to: &str) -> Vec<Value> {
    kring(
        dir,
        &[
            "task",
            "occurrences",
            task,
            "--from",
            from,
            "--to",
            to,
            "--json",
        ],
    )
    .as_array()
    .expect("occurrences")
    .iter()
    .map(|o| o["at"].clone())
    .collect()
}

#[test]
fn a_weekly_dinner_in_amsterdam_matches_an_independent_icalendar_expansion() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("sanne");
    kring(
        &dir,
        &[
            "circle",
            "create",
            "--name",
            "Kring van Sanne",
            "--me",
            "Sanne",
            "--timezone",
            "Europe/Amsterdam",
        ],
    );
    kring(
        &dir,
        &[
            "task",
            "add",
            "Samen koken",
            "--repeat",
            "weekly",
            "--on",
            "wed",
            "--at",
            "17:00",
            "--from",
            "2027-03-17",
            "--count",
            "3",
        ],
    );
    let tasks = kring(&dir, &["task", "list", "--json"]);
    let id = tasks[0]["id"].as_str().expect("id").to_owned();
    let listed = kring(
        &dir,
        &[
            "task",
            "occurrences",
            &id[..8],
            "--from",
            "2027-03-01",
            "--json",
        ],
    );
    let when: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["when"].as_str())
        .collect();
    assert_eq!(
        when,
        ["2027-03-17 17:00", "2027-03-24 17:00", "2027-03-31 17:00"]
    );

    // One of them is claimed alone.
    kring(&dir, &["task", "claim", &id[..8], "--on", "2027-03-24"]);
    let listed = kring(
        &dir,
        &[
            "task",
            "occurrences",
            &id[..8],
            "--from",
            "2027-03-01",
            "--json",
        ],
    );
    let people: Vec<usize> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|o| o["people"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(people, [0, 1, 0]);

    // The whole calendar expands to exactly the instants Kring lists.
    let ics = root.path().join("kring.ics");
    kring(&dir, &["calendar", "--out", ics.to_str().expect("utf-8")]);
    let expanded = expand(&ics, "2027-01-01T00:00:00", "2028-01-01T00:00:00");
    let theirs: Vec<Value> = expanded
        .iter()
        .filter(|(uid, _)| uid == &format!("{id}@kring"))
        .map(|(_, start)| start.clone())
        .collect();
    assert_eq!(
        theirs,
        occurrence_instants(&dir, &id[..8], "2027-01-01", "2028-01-01")
    );
    assert_eq!(theirs.len(), 3);

    // Exporting again keeps the UIDs (a re-import updates instead of duplicating).
    let again = root.path().join("again.ics");
    kring(&dir, &["calendar", "--out", again.to_str().expect("utf-8")]);
    let uids = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .expect("read")
            .lines()
            .filter(|l| l.starts_with("UID:"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(uids(&ics), uids(&again));

    // --mine: only Sanne's own turn, as its own entry.
    let mine = root.path().join("mine.ics");
    kring(
        &dir,
        &["calendar", "--mine", "--out", mine.to_str().expect("utf-8")],
    );
    let expanded = expand(&mine, "2027-01-01T00:00:00", "2028-01-01T00:00:00");
    assert_eq!(expanded.len(), 1, "{expanded:?}");
    assert_eq!(
        expanded[0].1,
        occurrence_instants(&dir, &id[..8], "2027-01-01", "2028-01-01")[1]
    );
    assert!(std::fs::read_to_string(&mine)
        .expect("read")
        .contains("BEGIN:VALARM"));

    // Exceptions: one skipped (EXDATE), one moved (RECURRENCE-ID), still the same.
    kring(&dir, &["task", "skip", &id[..8], "--on", "2027-03-17"]);
    kring(
        &dir,
        &[
            "task",
            "move",
            &id[..8],
            "--on",
            "2027-03-31",
            "--to",
            "2027-04-01 18:30",
        ],
    );
    let changed = root.path().join("changed.ics");
    kring(
        &dir,
        &["calendar", "--out", changed.to_str().expect("utf-8")],
    );
    let theirs: Vec<Value> = expand(&changed, "2027-01-01T00:00:00", "2028-01-01T00:00:00")
        .into_iter()
        .filter(|(uid, _)| uid == &format!("{id}@kring"))
        .map(|(_, start)| start)
        .collect();
    let ours = occurrence_instants(&dir, &id[..8], "2027-01-01", "2028-01-01");
    assert_eq!(ours.len(), 2);
    assert_eq!(theirs, ours);
}

#[test]
fn daily_rides_across_the_october_change_and_an_all_day_task_match_too() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("sanne");
    kring(
        &dir,
        &[
            "circle",
            "create",
            "--name",
            "K",
            "--me",
            "Sanne",
            "--timezone",
            "Europe/Amsterdam",
        ],
    );
    kring(
        &dir,
        &[
            "task",
            "add",
            "Ziekenhuis",
            "--repeat",
            "daily",
            "--at",
            "02:30",
            "--from",
            "2026-10-23",
            "--until",
            "2026-10-27",
        ],
    );
    kring(
        &dir,
        &["task", "add", "Boodschappen", "--date", "2026-10-24"],
    );
    let tasks = kring(&dir, &["task", "list", "--json"]);
    let ics = root.path().join("k.ics");
    kring(&dir, &["calendar", "--out", ics.to_str().expect("utf-8")]);
    let expanded = expand(&ics, "2026-10-01T00:00:00", "2026-11-01T00:00:00");
    for task in tasks.as_array().expect("tasks") {
        let id = task["id"].as_str().expect("id");
        let ours = occurrence_instants(&dir, &id[..8], "2026-10-01", "2026-11-01");
        let theirs: Vec<Value> = expanded
            .iter()
            .filter(|(uid, _)| uid == &format!("{id}@kring"))
            .map(|(_, start)| start.clone())
            .collect();
        if task["title"] == "Ziekenhuis" {
            // 23–27 October at 02:30, once on the day 02:30 happens twice.
            assert_eq!(theirs, ours, "{id}");
            assert_eq!(theirs.len(), 5);
        } else {
            // All day: the parser gives the date itself.
            assert_eq!(theirs, [Value::from("2026-10-24")]);
            assert_eq!(ours.len(), 1);
        }
    }
}

#[test]
fn deadlines_take_no_time_and_alarms_keep_their_ids_across_the_march_change() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("sanne");
    kring(
        &dir,
        &[
            "circle",
            "create",
            "--name",
            "K",
            "--me",
            "Sanne",
            "--timezone",
            "Europe/Amsterdam",
        ],
    );
    // Before the change (UTC+1), the day after it (UTC+2), and a daily 02:30 that
    // meets the hour that does not exist on 28 March.
    kring(
        &dir,
        &["task", "add", "Huur betalen", "--due", "2027-03-26 18:00"],
    );
    kring(
        &dir,
        &["task", "add", "Formulier inleveren", "--due", "2027-03-29"],
    );
    kring(
        &dir,
        &[
            "task",
            "add",
            "Medicijnen",
            "--repeat",
            "daily",
            "--at",
            "02:30",
            "--from",
            "2027-03-27",
            "--count",
            "3",
        ],
    );
    let tasks = kring(&dir, &["task", "list", "--json"]);
    let id_of = |title: &str| -> String {
        tasks
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["title"] == title))
            .and_then(|t| t["id"].as_str())
            .expect("task")
            .to_owned()
    };
    for title in ["Huur betalen", "Formulier inleveren", "Medicijnen"] {
        kring(&dir, &["task", "claim", &id_of(title)[..8]]);
    }

    let ics = root.path().join("mine.ics");
    kring(
        &dir,
        &["calendar", "--mine", "--out", ics.to_str().expect("utf-8")],
    );
    let events = expand_all(&ics, "2027-03-01T00:00:00", "2027-05-01T00:00:00");
    let of = |title: &str| -> Vec<&Value> {
        let uid = format!("{}@kring", id_of(title));
        events.iter().filter(|e| e["uid"] == uid.as_str()).collect()
    };
    assert!(
        events
            .iter()
            .all(|e| e["prodid"] == "-//Kring//Kring plan//NL"),
        "{events:?}"
    );

    // A deadline with a time: that moment, no length, not busy.
    let rent = of("Huur betalen");
    assert_eq!(rent.len(), 1, "{events:?}");
    assert_eq!(rent[0]["summary"], "Uiterlijk: Huur betalen");
    assert_eq!(rent[0]["start_ms"], rent[0]["end_ms"]);
    assert_eq!(
        rent[0]["start_ms"],
        occurrence_instants(
            &dir,
            &id_of("Huur betalen")[..8],
            "2027-03-01",
            "2027-05-01"
        )[0]
    );
    assert_eq!(rent[0]["transp"], "TRANSPARENT");
    // A deadline typed as a date: that whole day.
    let form = of("Formulier inleveren");
    assert_eq!(form.len(), 1, "{events:?}");
    assert_eq!(form[0]["start_ms"], "2027-03-29");
    assert_eq!(form[0]["end_ms"], "2027-03-30");
    assert_eq!(form[0]["transp"], "TRANSPARENT");
    // The series expands to the instants Kring lists, 28 March at 03:30 included.
    let pills = of("Medicijnen");
    let theirs: Vec<Value> = pills.iter().map(|e| e["start_ms"].clone()).collect();
    assert_eq!(
        theirs,
        occurrence_instants(&dir, &id_of("Medicijnen")[..8], "2027-03-01", "2027-05-01")
    );
    assert_eq!(theirs.len(), 3);

    // Every alarm has an id derived from its entry's UID, in both forms.
    for e in &events {
        let expected = format!("alarm-{}", e["uid"].as_str().expect("uid"));
        assert_eq!(e["alarms"], 1, "{e}");
        assert_eq!(
            e["alarm_uids"],
            serde_json::json!([[expected, expected]]),
            "{e}"
        );
    }
    // Exporting again gives the same entries and alarm ids (a re-import replaces them).
    let again = root.path().join("again.ics");
    kring(
        &dir,
        &[
            "calendar",
            "--mine",
            "--out",
            again.to_str().expect("utf-8"),
        ],
    );
    let ids = |events: &[Value]| -> Vec<(Value, Value)> {
        events
            .iter()
            .map(|e| (e["uid"].clone(), e["alarm_uids"].clone()))
            .collect()
    };
    assert_eq!(
        ids(&events),
        ids(&expand_all(
            &again,
            "2027-03-01T00:00:00",
            "2027-05-01T00:00:00"
        ))
    );
}
