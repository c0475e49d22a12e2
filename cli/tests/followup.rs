//! `kring followup`, `kring week` and `kring export --format md|html` through the real
//! binary: two circles on one device, one with an overdue task, a fixed clock.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn kring(data_dir: &Path, now: &str) -> Command {
    let mut cmd = Command::cargo_bin("kring").expect("kring binary");
    cmd.env("KRING_DATA_DIR", data_dir).env("KRING_NOW", now);
    cmd
}

const SETUP: &str = "2026-11-02 10:00";
const LATER: &str = "2026-11-10 12:00";

/// Circle "Kring van Fatima" (a draft with one unscheduled task), then the current
/// circle "Kring van Sanne": accepted, "Naar de dokter" due 4 November and claimed by
/// Sanne, "Boodschappen" due 20 November and open, and a hostile task title.
fn two_circles(dir: &Path) {
    let run = |args: &[&str]| {
        kring(dir, SETUP).args(args).assert().success();
    };
    run(&[
        "circle",
        "create",
        "--name",
        "Kring van Fatima",
        "--me",
        "Fatima",
    ]);
    run(&["task", "add", "Koken"]);
    run(&[
        "circle",
        "create",
        "--name",
        "Kring van Sanne",
        "--me",
        "Sanne",
    ]);
    run(&["member", "add", "Jan", "--relation", "family"]);
    run(&["task", "add", "Naar de dokter", "--due", "2026-11-04 09:00"]);
    run(&["task", "add", "Boodschappen", "--due", "2026-11-20 10:00"]);
    run(&[
        "task",
        "add",
        "<script>alert(1)</script> [x](javascript:alert(1))",
    ]);
    let tasks: Value = serde_json::from_slice(
        &kring(dir, SETUP)
            .args(["task", "list", "--json"])
            .output()
            .expect("run")
            .stdout,
    )
    .expect("json");
    let doctor = tasks
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["title"] == "Naar de dokter"))
        .and_then(|t| t["id"].as_str())
        .expect("task")
        .to_owned();
    run(&["task", "claim", &doctor]);
    run(&["plan", "review-date", "2027-01-15"]);
    run(&["plan", "approve"]);
    run(&["plan", "status", "presented"]);
    run(&["plan", "status", "accepted"]);
}

#[test]
fn followup_lists_the_most_urgent_circle_first() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    two_circles(dir);

    let out = kring(dir, LATER)
        .args(["followup", "--json"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let overview: Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = overview["circles"]
        .as_array()
        .expect("circles")
        .iter()
        .filter_map(|c| c["circle_name"].as_str())
        .collect();
    assert_eq!(names, ["Kring van Sanne", "Kring van Fatima"]);
    let first = &overview["items"][0];
    assert_eq!(first["kind"], "overdue_task");
    assert_eq!(first["severity"], "urgent");
    assert_eq!(first["title"], "Naar de dokter");
    assert_eq!(first["days_overdue"], 6);
    assert_eq!(first["claimed_by"][0]["name"], "Sanne");

    // The current circle is Dutch, so follow-up speaks Dutch unless asked otherwise.
    kring(dir, LATER)
        .args(["followup", "--lang", "en"])
        .assert()
        .success()
        .stdout(predicate::str::contains("URGENT"))
        .stdout(predicate::str::contains(
            "6 days overdue: Naar de dokter — taken by Sanne",
        ))
        .stdout(predicate::str::contains("To do, most urgent first"));
    kring(dir, LATER)
        .arg("followup")
        .assert()
        .success()
        .stdout(predicate::str::contains("DRINGEND"))
        .stdout(predicate::str::contains("6 dagen te laat: Naar de dokter"))
        .stdout(predicate::str::contains(
            "Te doen, het meest dringend eerst",
        ))
        .stdout(predicate::str::contains("URGENT").not());
}

#[test]
fn followup_on_an_empty_device_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    kring(tmp.path(), LATER)
        .arg("followup")
        .assert()
        .success()
        .stdout(predicate::str::contains("No circles"));
}

#[test]
fn week_shows_the_main_persons_next_seven_days() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    two_circles(dir);
    kring(dir, "2026-11-03 08:00")
        .arg("week")
        .assert()
        .success()
        .stdout(predicate::str::contains("Je plan deze week"))
        .stdout(predicate::str::contains(
            "Woensdag 4 november om 9.00 uur: Naar de dokter. Sanne doet dit.",
        ));
    kring(dir, "2026-11-14 08:00")
        .args(["week", "--lang", "en"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Friday 20 November at 10:00: Boodschappen. This is not arranged yet.",
        ));
}

#[test]
fn export_writes_readable_plans_with_hostile_text_escaped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    two_circles(dir);

    // Markdown to standard output, in the circle's language by default.
    kring(dir, LATER)
        .args(["export", "--format", "md"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "# Familiegroepsplan: Kring van Sanne",
        ))
        .stdout(predicate::str::contains("## Wie doet wat?"))
        .stdout(predicate::str::contains(
            r"\<script\>alert\(1\)\<\/script\> \[x\]\(javascript\:alert\(1\)\)",
        ));
    kring(dir, LATER)
        .args(["export", "--format", "md", "--lang", "en"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| **Naar de dokter** | Sanne |"));

    // HTML to a file.
    let page = dir.join("plan.html");
    kring(dir, LATER)
        .args([
            "export",
            "--format",
            "html",
            "--lang",
            "en",
            "--out",
            page.to_str().expect("utf-8"),
        ])
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).expect("written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<h2>Who does what?</h2>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(!html.contains("<script"));

    // The automerge export still needs a file; unknown formats and languages are refused.
    kring(dir, LATER)
        .arg("export")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("geef een bestand"));
    kring(dir, LATER)
        .args(["export", "--lang", "en"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("give a file"));
    kring(dir, LATER)
        .args(["export", "--format", "pdf"])
        .assert()
        .code(2);
    kring(dir, LATER)
        .args(["export", "--format", "md", "--lang", "de"])
        .assert()
        .code(3);
}

/// Five weeks on, nobody did anything. Sanne (the main person, on this device) hears
/// Jan has been quiet, never that she has; a task she held is not "untaken".
#[test]
fn followup_never_tells_the_main_person_she_was_silent() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    two_circles(dir);
    let out = kring(dir, "2026-12-10 12:00")
        .arg("followup")
        .output()
        .expect("run");
    assert!(out.status.success());
    let said = String::from_utf8(out.stdout).expect("utf-8");
    assert!(said.contains("niets gehoord van Jan"), "{said}");
    assert!(!said.contains("niets gehoord van Sanne"), "{said}");
    assert!(
        said.contains("te laat: Boodschappen — niemand had het opgepakt"),
        "{said}"
    );
    assert!(
        said.contains("te laat: Naar de dokter — opgepakt door Sanne"),
        "{said}"
    );
}
