//! Dates read as people read them, through the real binary in an Amsterdam circle
//! around the clock changes of 25 October 2026 and 28 March 2027: whole days without
//! a clock time in `kring week`, `kring show`, the exports, claims and the follow-up,
//! and a time that does not exist refused with a plain sentence.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn kring(dir: &Path, now: &str) -> Command {
    let mut cmd = Command::cargo_bin("kring").expect("kring binary");
    cmd.env("KRING_DATA_DIR", dir)
        .env("KRING_NOW", now)
        .env_remove("KRING_CIRCLE");
    cmd
}

const NOW: &str = "2026-10-23 12:00";

fn ok(dir: &Path, now: &str, args: &[&str]) -> String {
    let out = kring(dir, now).args(args).output().expect("run kring");
    assert!(
        out.status.success(),
        "kring {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn task_id(dir: &Path, title: &str) -> String {
    let tasks: Value =
        serde_json::from_str(&ok(dir, NOW, &["task", "list", "--json"])).expect("json");
    tasks
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["title"] == title))
        .and_then(|t| t["id"].as_str())
        .expect("task")[..8]
        .to_owned()
}

/// Sanne's circle in Amsterdam, in `lang`: shopping on Saturday 24 October (all day),
/// a form due Monday 26 October (typed as a date), a ride at 10:00 on Sunday 25
/// October (the clocks go back that night), the evaluation on 27 October.
fn circle(dir: &Path, lang: &str) {
    ok(
        dir,
        NOW,
        &[
            "circle",
            "create",
            "--name",
            "Kring van Sanne",
            "--me",
            "Sanne",
            "--timezone",
            "Europe/Amsterdam",
            "--lang",
            lang,
        ],
    );
    ok(dir, NOW, &["member", "add", "Jan", "--relation", "family"]);
    ok(
        dir,
        NOW,
        &["task", "add", "Boodschappen", "--date", "2026-10-24"],
    );
    ok(
        dir,
        NOW,
        &["task", "add", "Formulier inleveren", "--due", "2026-10-26"],
    );
    ok(
        dir,
        NOW,
        &[
            "task",
            "add",
            "Naar het ziekenhuis",
            "--date",
            "2026-10-25",
            "--at",
            "10:00",
        ],
    );
    ok(dir, NOW, &["plan", "review-date", "2026-10-27"]);
}

#[test]
fn whole_days_show_without_a_clock_time_in_week_show_export_and_claims() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    circle(dir, "nl");

    let week = ok(dir, NOW, &["week"]);
    for line in [
        "Zaterdag 24 oktober: Boodschappen. Dit is nog niet geregeld.",
        "Zondag 25 oktober om 10.00 uur: Naar het ziekenhuis. Dit is nog niet geregeld.",
        "Maandag 26 oktober: Formulier inleveren. Dit is nog niet geregeld.",
        "Dinsdag 27 oktober: We kijken samen hoe het plan gaat (evaluatie).",
    ] {
        assert!(week.contains(line), "{line} in {week}");
    }
    assert!(!week.contains(" 0.00 uur"), "{week}");

    let show = ok(dir, NOW, &["show"]);
    for part in [
        "Volgende evaluatie: 2026-10-27\n",
        "uiterlijk 2026-10-26 ",
        "Op zaterdag 24 oktober 2026 ",
        "Op zondag 25 oktober 2026 om 10.00 uur",
    ] {
        assert!(show.contains(part), "{part:?} in {show}");
    }
    assert!(
        !show.contains("00:00") && !show.contains(" 0.00 uur"),
        "{show}"
    );

    for format in ["md", "html"] {
        let plan = ok(dir, NOW, &["export", "--format", format]);
        for part in [
            "Op zaterdag 24 oktober 2026",
            "Uiterlijk maandag 26 oktober 2026",
            "Op zondag 25 oktober 2026 om 10.00 uur",
            "dinsdag 27 oktober 2026",
        ] {
            assert!(plan.contains(part), "{part} in {plan}");
        }
        assert!(!plan.contains(" 0.00 uur"), "{plan}");
    }

    // One turn of an all-day series is named by its day.
    ok(
        dir,
        NOW,
        &[
            "task",
            "add",
            "Afval",
            "--repeat",
            "weekly",
            "--on",
            "mon",
            "--from",
            "2026-10-26",
            "--count",
            "2",
        ],
    );
    let bins = task_id(dir, "Afval");
    let said = ok(dir, NOW, &["task", "claim", &bins, "--on", "2026-11-02"]);
    assert!(said.contains("op 2026-11-02."), "{said}");
    let turns = ok(dir, NOW, &["task", "occurrences", &bins, "--json"]);
    let turns: Value = serde_json::from_str(&turns).expect("json");
    assert_eq!(turns[1]["when"], "2026-11-02");
    let deadline = task_id(dir, "Formulier inleveren");
    let turns = ok(dir, NOW, &["task", "occurrences", &deadline, "--json"]);
    let turns: Value = serde_json::from_str(&turns).expect("json");
    assert_eq!(turns[0]["when"], "2026-10-26");

    let en = tmp.path().join("en");
    circle(&en, "en");
    let week = ok(&en, NOW, &["week"]);
    assert!(
        week.contains("Monday 26 October: Formulier inleveren. This is not arranged yet."),
        "{week}"
    );
    let show = ok(&en, NOW, &["show"]);
    assert!(show.contains("Next evaluation: 2026-10-27\n"), "{show}");
    assert!(show.contains("by 2026-10-26 "), "{show}");
}

#[test]
fn a_date_only_deadline_is_late_from_the_next_day_and_named_by_its_day() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    circle(dir, "nl");
    // Monday 26 October, 22:00 in Amsterdam (KRING_NOW is UTC): still that day, not late.
    let evening: Value =
        serde_json::from_str(&ok(dir, "2026-10-26 21:00", &["followup", "--json"])).expect("json");
    let late: Vec<&str> = evening["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["kind"] == "overdue_task")
        .filter_map(|i| i["title"].as_str())
        .collect();
    // Saturday's shopping and Sunday's ride (nobody took them) are late; the form,
    // due that day, is not yet.
    assert_eq!(late, ["Boodschappen", "Naar het ziekenhuis"], "{evening}");
    // Wednesday: late, and the follow-up names the day without 00:00.
    let later = ok(dir, "2026-10-28 12:00", &["followup"]);
    assert!(later.contains("te laat: Formulier inleveren"), "{later}");
    assert!(later.contains("2026-10-26 "), "{later}");
    assert!(!later.contains("00:00"), "{later}");
}

#[test]
fn a_time_that_does_not_exist_on_the_night_of_the_clock_change_is_refused_plainly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    circle(dir, "nl");
    let refused = |args: &[&str]| {
        let out = kring(dir, NOW).args(args).output().expect("run kring");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8(out.stderr).expect("utf-8")
    };
    for args in [
        &[
            "task",
            "add",
            "Medicijnen",
            "--date",
            "2027-03-28",
            "--at",
            "02:30",
        ][..],
        &["task", "add", "Medicijnen", "--due", "2027-03-28 02:30"],
        &[
            "task",
            "add",
            "Medicijnen",
            "--repeat",
            "daily",
            "--at",
            "02:30",
            "--from",
            "2027-03-28",
        ],
        &["meeting", "add", "--at", "2027-03-28 02:30"],
    ] {
        let said = refused(args);
        assert!(
            said.contains(
                "02:30 bestaat niet op 2027-03-28 in Europe/Amsterdam: die nacht gaat de klok \
                 vooruit. Kies een andere tijd. Bedoel je 03:30? Typ dan 03:30."
            ),
            "{args:?}: {said}"
        );
    }
    // Nothing was stored.
    let tasks: Value =
        serde_json::from_str(&ok(dir, NOW, &["task", "list", "--json"])).expect("json");
    assert_eq!(tasks.as_array().map(Vec::len), Some(3));

    // The hour that happens twice (25 October 2026) exists, and is the first of the two.
    ok(
        dir,
        NOW,
        &["task", "add", "Nachtdienst", "--due", "2026-10-25 02:30"],
    );
    let show = ok(dir, NOW, &["show"]);
    assert!(show.contains("uiterlijk 2026-10-25 02:30"), "{show}");

    // A daily series across the gap keeps its 02:30 and lists the night itself as the
    // time it is kept at.
    ok(
        dir,
        NOW,
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
    let pills = task_id(dir, "Medicijnen");
    let turns: Value = serde_json::from_str(&ok(
        dir,
        NOW,
        &[
            "task",
            "occurrences",
            &pills,
            "--from",
            "2027-03-01",
            "--json",
        ],
    ))
    .expect("json");
    let when: Vec<&str> = turns
        .as_array()
        .expect("turns")
        .iter()
        .filter_map(|t| t["when"].as_str())
        .collect();
    assert_eq!(
        when,
        ["2027-03-27 02:30", "2027-03-28 03:30", "2027-03-29 02:30"]
    );

    // In English too.
    let en = tmp.path().join("en");
    circle(&en, "en");
    let out = kring(&en, NOW)
        .args(["task", "add", "Pills", "--due", "2027-03-28 02:30"])
        .output()
        .expect("run kring");
    let said = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        said.contains(
            "02:30 does not exist on 2027-03-28 in Europe/Amsterdam: that night the clocks go \
             forward. Choose another time. Do you mean 03:30? Then type 03:30."
        ),
        "{said}"
    );
}
