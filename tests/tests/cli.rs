//! The README's tour through the real binaries: three people, three data directories,
//! one `kring-server` started locally. Invite links, join, concurrent offline claims,
//! a relay that goes away (exit code 7) and comes back, live watching, and a removal.

use std::path::Path;
use std::time::Duration;

use kring_e2e::{create_sannes_circle, json, kring, refused, run, stdout, RelayProcess};
use serde_json::Value;

#[track_caller]
fn exit_code(dir: &Path, args: &[&str]) -> i32 {
    kring(dir)
        .args(args)
        .output()
        .expect("run kring")
        .status
        .code()
        .unwrap_or(-1)
}

fn task_id(dir: &Path, title: &str) -> String {
    json(dir, &["task", "list"])
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["title"] == title))
        .and_then(|t| t["id"].as_str())
        .map(|s| s[..8].to_owned())
        .unwrap_or_else(|| panic!("no task {title:?}"))
}

#[test]
fn three_people_in_three_data_dirs_through_a_local_relay() {
    let root = tempfile::tempdir().expect("tempdir");
    let (sanne, jan, piet) = (
        root.path().join("sanne"),
        root.path().join("jan"),
        root.path().join("piet"),
    );
    let mut relay = RelayProcess::start(&root.path().join("relay.db"));
    let url = relay.url();

    let identity = json(&sanne, &["identity"]);
    assert_eq!(identity["device"].as_str().map(str::len), Some(64));

    run(
        &sanne,
        &[
            "circle",
            "create",
            "--name",
            "Kring van Sanne",
            "--me",
            "Sanne",
            "--relay",
            &url,
        ],
    );
    run(
        &sanne,
        &[
            "task",
            "add",
            "Naar het ziekenhuis rijden",
            "--due",
            "2026-12-01 09:00",
            "--slots",
            "1",
        ],
    );
    assert_eq!(json(&sanne, &["status"])[0]["connectivity"], "not_synced");
    assert_eq!(json(&sanne, &["status"])[0]["pending"], 2);
    run(&sanne, &["sync"]);
    assert_eq!(json(&sanne, &["status"])[0]["connectivity"], "online");
    assert_eq!(json(&sanne, &["status"])[0]["pending"], 0);

    // Invites print only the link on standard output, so scripts can pass it on.
    let link = stdout(&sanne, &["invite"]);
    assert!(link.starts_with("kring://invite/"), "{link}");
    let joined = stdout(
        &jan,
        &["join", &link, "--name", "Jan", "--relation", "family"],
    );
    assert!(joined.contains("Kring van Sanne"), "{joined}");
    // A link is good for one person.
    assert_eq!(exit_code(&piet, &["join", &link, "--name", "Piet"]), 3);
    let link = stdout(&sanne, &["invite", "--expires-in-days", "1"]);
    run(
        &piet,
        &["join", &link, "--name", "Piet", "--relation", "neighbour"],
    );
    run(&sanne, &["sync"]);
    let people = json(&sanne, &["member", "list"]);
    assert_eq!(people.as_array().map(Vec::len), Some(3));

    // Offline, Jan and Piet both claim the only place (Jan first).
    let ride = task_id(&jan, "Naar het ziekenhuis rijden");
    run(&jan, &["task", "claim", &ride]);
    std::thread::sleep(Duration::from_millis(20));
    run(&piet, &["task", "claim", &ride]);

    // The relay goes away: sync fails with exit code 7, the claim stays in the outbox.
    relay.kill9();
    assert_eq!(exit_code(&jan, &["sync"]), 7);
    let status = json(&jan, &["status"]);
    assert_eq!(status[0]["connectivity"], "offline");
    assert_eq!(status[0]["pending"], 1);
    relay.restart();
    run(&jan, &["news"]); // Jan has looked: from here on, news is what changed.
    run(&piet, &["news"]);
    run(&jan, &["sync"]);
    // Piet's claim came after Jan's: his sync tells him at once, in the circle's words.
    let told = stdout(&piet, &["sync"]);
    assert!(
        told.contains("Jan doet dit: Naar het ziekenhuis rijden. Jij staat op de wachtlijst"),
        "{told}"
    );
    let news = stdout(&piet, &["news"]);
    assert!(news.contains("Jij staat op de wachtlijst"), "{news}");
    assert!(!stdout(&jan, &["news"]).contains("wachtlijst"));
    for dir in [&sanne, &jan, &piet] {
        run(dir, &["sync"]);
    }
    // Who is waiting is for those who follow up: the main person sees Piet's name.
    let followup = stdout(&sanne, &["followup"]);
    assert!(followup.contains("wachtlijst: Piet"), "{followup}");
    let lists: Vec<Value> = [&sanne, &jan, &piet]
        .iter()
        .map(|d| json(d, &["task", "list"]))
        .collect();
    assert_eq!(lists[0], lists[1]);
    assert_eq!(lists[0], lists[2]);
    let task = &lists[0][0];
    assert_eq!(task["overbooked"], true);
    let jan_me = json(&jan, &["whoami"])["id"].clone();
    assert_eq!(task["claims"][0]["member"], jan_me, "{task}");

    // Live: Jan watches while Sanne adds a task; it arrives without a manual sync.
    let watcher = kring(&jan)
        .args(["watch", "--seconds", "6"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("kring watch");
    std::thread::sleep(Duration::from_millis(1500));
    run(&sanne, &["task", "add", "Boodschappen doen"]);
    run(&sanne, &["sync"]);
    let out = watcher.wait_with_output().expect("watch ends");
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Verbonden met"), "{said}"); // a Dutch circle
    assert!(task_id(&jan, "Boodschappen doen").len() == 8);

    // Sanne removes Piet: he can no longer sync (exit code 3) and status says so.
    run(&sanne, &["member", "remove", "Piet"]);
    run(&jan, &["post", "Piet is verhuisd."]);
    run(&jan, &["sync"]);
    // Piet was watching: `kring watch` tells him in the circle's Dutch, as a plain
    // sentence (no core text), and stops watching that circle.
    let watched = kring(&piet)
        .args(["watch", "--seconds", "5"])
        .output()
        .expect("kring watch");
    let told = String::from_utf8_lossy(&watched.stderr);
    assert!(
        told.contains("Je telefoon is uit deze kring gehaald."),
        "{told}"
    );
    assert!(!told.to_lowercase().contains("removed"), "{told}");
    assert!(!watched.status.success(), "{told}");
    assert_eq!(json(&piet, &["status"])[0]["connectivity"], "removed");
    // His device erased the circle when it learned of the removal.
    assert_eq!(exit_code(&piet, &["post", "Ik ben er nog"]), 4);
    assert_eq!(exit_code(&piet, &["show"]), 4);
    run(&sanne, &["sync"]);
    let show = stdout(&sanne, &["show"]);
    assert!(show.contains("Piet is verhuisd."), "{show}");

    // The main person stays in charge: Sanne appoints Jan as admin and marks him as the
    // coordinator; even so, her question is hers alone.
    run(&sanne, &["member", "role", "Jan", "admin"]);
    run(&sanne, &["member", "mark", "Jan", "coordinator"]);
    run(&sanne, &["sync"]);
    run(&jan, &["sync"]);
    let people = json(&jan, &["member", "list"]);
    let jan_entry = people
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "Jan"))
        .cloned()
        .expect("Jan listed");
    assert_eq!(jan_entry["capability"], "admin", "{jan_entry}");
    assert_eq!(jan_entry["designation"], "coordinator", "{jan_entry}");
    assert_eq!(exit_code(&jan, &["plan", "question", "Andere vraag"]), 3);

    // Offline, with files: signed bundles carry what the relay would, checked the same.
    relay.kill9();
    run(&sanne, &["task", "add", "Apotheek"]);
    let bundle = root.path().join("sanne.kring");
    run(
        &sanne,
        &["export", "--signed", bundle.to_str().expect("utf-8")],
    );
    let merged = json(&jan, &["merge", bundle.to_str().expect("utf-8")]);
    assert_eq!(merged["rejected"], 0, "{merged}");
    assert!(task_id(&jan, "Apotheek").len() == 8, "arrived by file");
    // An unsigned file never gets into a circle with a membership log.
    let raw = root.path().join("jan.automerge");
    run(&jan, &["export", raw.to_str().expect("utf-8")]);
    assert_eq!(
        exit_code(&sanne, &["merge", raw.to_str().expect("utf-8")]),
        3
    );
    relay.restart();
    run(&sanne, &["sync"]);
    run(&jan, &["sync"]);
    assert_eq!(
        json(&sanne, &["task", "list"]),
        json(&jan, &["task", "list"]),
        "sync after the file exchange duplicates nothing"
    );
}

#[test]
fn a_dutch_circle_hears_the_plan_s_rules_in_dutch_and_an_english_one_in_english() {
    let root = tempfile::tempdir().expect("tempdir");
    let sanne = root.path().join("sanne");
    create_sannes_circle(&sanne, &[]);
    run(&sanne, &["member", "add", "Jan"]);
    run(&sanne, &["task", "add", "Boodschappen", "--slots", "1"]);
    let task = task_id(&sanne, "Boodschappen");
    run(&sanne, &["task", "claim", &task]);
    let (code, err) = refused(&sanne, &["task", "claim", &task]);
    assert_eq!(code, 3);
    assert!(err.contains("Je doet deze taak al."), "{err}");
    let (_, err) = refused(&sanne, &["task", "add", " "]);
    assert!(err.contains("Vul een titel in"), "{err}");
    // The same refusal for someone who asked for English.
    let (_, err) = refused(&sanne, &["--lang", "en", "task", "claim", &task]);
    assert!(err.contains("You already do this task."), "{err}");
}
