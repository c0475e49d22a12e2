//! The foundation's user journey through the real `kring` binary: a circle is made,
//! copied to a second device, both claim the last place offline, they merge both ways,
//! and both show the same plan with the same winner.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn kring(data_dir: &Path, now: &str) -> Command {
    let mut cmd = Command::cargo_bin("kring").expect("kring binary");
    cmd.env("KRING_DATA_DIR", data_dir)
        .env("KRING_NOW", now)
        .env_remove("KRING_CIRCLE");
    cmd
}

fn json(data_dir: &Path, args: &[&str]) -> Value {
    let out = kring(data_dir, "2026-11-22 12:00")
        .args(args)
        .arg("--json")
        .output()
        .expect("run kring");
    assert!(
        out.status.success(),
        "kring {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn task_id(dir: &Path, title: &str) -> String {
    let tasks = json(dir, &["task", "list"]);
    tasks
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["title"] == title))
        .and_then(|t| t["id"].as_str())
        .expect("task exists")
        .to_owned()
}

#[test]
fn two_devices_claim_the_last_place_offline_and_agree_on_the_winner() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (sanne, jan) = (tmp.path().join("sanne"), tmp.path().join("jan"));
    let at = "2026-11-22 10:00";

    kring(&sanne, at)
        .args([
            "circle",
            "create",
            "--name",
            "Kring van Sanne",
            "--me",
            "Sanne",
        ])
        .assert()
        .success();
    kring(&sanne, at)
        .args([
            "member",
            "add",
            "Jan",
            "--relation",
            "family",
            "--role",
            "broer",
        ])
        .assert()
        .success();
    kring(&sanne, at)
        .args([
            "task",
            "add",
            "Naar het ziekenhuis rijden",
            "--due",
            "2026-11-25 09:00",
            "--category",
            "ride",
            "--slots",
            "2",
        ])
        .assert()
        .success();
    kring(&sanne, at)
        .args([
            "task",
            "add",
            "Koken op woensdag",
            "--weekly-from",
            "2026-11-25 17:00",
        ])
        .assert()
        .success();
    let ride = task_id(&sanne, "Naar het ziekenhuis rijden");

    // Sanne takes one of the two places, then the plan goes to Jan's device.
    kring(&sanne, at)
        .args(["task", "claim", &ride[..8]])
        .assert()
        .success();
    let export = tmp.path().join("plan.automerge");
    kring(&sanne, at)
        .args(["export", export.to_str().expect("utf-8 path")])
        .assert()
        .success();
    kring(&jan, at)
        .args([
            "import",
            export.to_str().expect("utf-8 path"),
            "--as",
            "Jan",
        ])
        .assert()
        .success();
    kring(&jan, at)
        .arg("whoami")
        .assert()
        .success()
        .stdout(predicate::str::contains("Je bent Jan"));

    // Offline, both claim the one remaining place: Sanne's brother Piet (added on
    // Sanne's device) at 11:00, Jan at 10:30.
    kring(&sanne, at)
        .args(["member", "add", "Piet", "--relation", "family"])
        .assert()
        .success();
    let piet_dir = tmp.path().join("piet");
    kring(&sanne, at)
        .args(["export", export.to_str().expect("utf-8 path")])
        .assert()
        .success();
    kring(&piet_dir, at)
        .args([
            "import",
            export.to_str().expect("utf-8 path"),
            "--as",
            "Piet",
        ])
        .assert()
        .success();
    kring(&piet_dir, "2026-11-22 11:00")
        .args(["task", "claim", &ride])
        .assert()
        .success();
    kring(&jan, "2026-11-22 10:30")
        .args(["task", "claim", &ride])
        .assert()
        .success();
    // On Piet's own device the task is now full: a third claim is refused with a clear error.
    kring(&piet_dir, at)
        .args(["task", "claim", &ride])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("Je doet deze taak al."));

    // They merge both ways (via files).
    let from_piet = tmp.path().join("piet.automerge");
    let from_jan = tmp.path().join("jan.automerge");
    kring(&piet_dir, at)
        .args(["export", from_piet.to_str().expect("utf-8")])
        .assert()
        .success();
    kring(&jan, at)
        .args(["export", from_jan.to_str().expect("utf-8")])
        .assert()
        .success();
    kring(&jan, at)
        .args(["merge", from_piet.to_str().expect("utf-8")])
        .assert()
        .success();
    kring(&piet_dir, at)
        .args(["merge", from_jan.to_str().expect("utf-8")])
        .assert()
        .success();

    let (jan_view, piet_view) = (json(&jan, &["show"]), json(&piet_dir, &["show"]));
    assert_eq!(jan_view, piet_view, "both devices show the same plan");
    let task = jan_view["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == ride.as_str()))
        .expect("ride");
    let winners: Vec<&str> = task["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .filter(|c| c["winner"] == true)
        .filter_map(|c| c["member"].as_str())
        .collect();
    let name_of = |id: &str| {
        jan_view["members"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["id"] == id))
            .map(|m| m["display_name"].clone())
    };
    let names: Vec<Value> = winners.iter().filter_map(|w| name_of(w)).collect();
    assert_eq!(
        names,
        vec![Value::from("Sanne"), Value::from("Jan")],
        "the earlier claims win"
    );
    assert_eq!(
        task["overbooked"], true,
        "the coordinator sees the overbooking"
    );
    kring(&piet_dir, at)
        .args(["task", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "te veel mensen: Piet wilde dit ook doen",
        ));
}

#[test]
fn shell_users_get_clear_errors_and_exit_codes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let at = "2026-11-22 10:00";
    kring(dir, at)
        .arg("show")
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no circle on this device"));
    kring(dir, at)
        .args(["circle", "create", "--name", "K", "--me", "Sanne"])
        .assert()
        .success();
    kring(dir, at)
        .args(["task", "add", "   "])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("Vul een titel in"));
    kring(dir, at)
        .args(["task", "add", "x", "--slots", "0"])
        .assert()
        .code(3);
    kring(dir, at)
        .args(["task", "add", "x", "--due", "next tuesday"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("deze datum snap ik niet"));
    kring(dir, at)
        .args(["task", "claim", "ffff"])
        .assert()
        .code(4);
    kring(dir, at)
        .args(["member", "add", "Jan", "--relation", "uncle"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("family"));
    let garbage = dir.join("garbage.automerge");
    std::fs::write(&garbage, b"not a plan").expect("write");
    // A circle with a membership log takes only signed bundles, never raw bytes.
    kring(dir, at)
        .args(["merge", garbage.to_str().expect("utf-8")])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("zonder handtekening"));
    kring(dir, at)
        .args(["import", garbage.to_str().expect("utf-8"), "--as", "x"])
        .assert()
        .code(6);
    let plan = json(dir, &["show"]);
    assert_eq!(
        plan["tasks"].as_array().map(Vec::len),
        Some(0),
        "nothing was added by the failed commands"
    );
}
