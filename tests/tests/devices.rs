//! Every person, every device, through the real binaries and a real `kring-server`:
//! a link previewed before joining, used / expired / revoked invites each refused
//! with their own message, a second device of the same person that sees the same
//! plan, and a lost device removed (the key rotates, it is cut off).

use std::path::Path;

use kring_e2e::{create_sannes_circle, json, kring, refused, run, stdout, RelayProcess};
use serde_json::Value;

fn titles(dir: &Path) -> Vec<String> {
    let mut titles: Vec<String> = json(dir, &["task", "list"])
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["title"].as_str().map(str::to_owned))
        .collect();
    titles.sort();
    titles
}

fn circle_for_sanne(root: &Path, url: &str) -> std::path::PathBuf {
    let sanne = root.join("sanne");
    create_sannes_circle(&sanne, &["--relay", url]);
    run(&sanne, &["sync"]);
    sanne
}

#[test]
fn a_link_is_previewed_and_used_expired_and_revoked_invites_are_each_refused_plainly() {
    let root = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let sanne = circle_for_sanne(root.path(), &relay.url());
    let (jan, piet, kees) = (
        root.path().join("jan"),
        root.path().join("piet"),
        root.path().join("kees"),
    );

    let link = stdout(&sanne, &["invite"]);
    // Before joining: which circle, who sent it, as what — read from the link alone.
    let preview = json(&jan, &["preview", &link]);
    assert_eq!(preview["kind"], "person");
    assert_eq!(preview["circle_name"], "Kring van Sanne");
    assert_eq!(preview["inviter_name"], "Sanne");
    assert_eq!(preview["capability"], "member");
    assert_eq!(preview["expired"], false);
    let said = stdout(&jan, &["preview", &link]);
    assert!(said.contains("Kring van Sanne from Sanne"), "{said}");
    // The names travel encrypted: they are not in the link's bytes in the clear.
    assert!(!link.contains("Sanne"));

    run(&jan, &["join", &link, "--name", "Jan"]);
    let (code, err) = refused(&piet, &["join", &link, "--name", "Piet"]);
    assert_eq!(code, 3);
    assert!(err.contains("already used"), "{err}");
    assert_eq!(
        json(&piet, &["circle", "list"]),
        Value::Array(vec![]),
        "a refused join stores nothing"
    );

    // An invite made (by the clock of Sanne's device) a year ago expired long since.
    let old = String::from_utf8(
        kring(&sanne)
            .env("KRING_NOW", "2025-01-01 12:00")
            .args(["invite", "--expires-in-days", "7"])
            .output()
            .expect("run kring")
            .stdout,
    )
    .expect("utf-8");
    let (code, err) = refused(&piet, &["join", old.trim(), "--name", "Piet"]);
    assert_eq!(code, 3);
    assert!(err.contains("expired"), "{err}");

    // An invite made before someone was removed carries a key they knew: revoked.
    let before = stdout(&sanne, &["invite"]);
    run(&sanne, &["member", "remove", "Jan"]);
    let (code, err) = refused(&kees, &["join", &before, "--name", "Kees"]);
    assert_eq!(code, 3);
    assert!(err.contains("no longer works"), "{err}");
    // A fresh one works.
    let fresh = stdout(&sanne, &["invite"]);
    run(&kees, &["join", &fresh, "--name", "Kees"]);

    // A link sent to the wrong person is taken back: listed, revoked by its short
    // id, and the relay refuses it with the same plain sentence.
    let wrong = stdout(&sanne, &["invite", "--capability", "reader"]);
    run(&sanne, &["sync"]);
    let invites = json(&sanne, &["invite", "list"]);
    let open: Vec<&Value> = invites
        .as_array()
        .expect("invites")
        .iter()
        .filter(|i| i["state"] == "open")
        .collect();
    assert_eq!(open.len(), 1, "{invites}");
    assert_eq!(open[0]["capability"], "reader");
    let id = open[0]["id"].as_str().expect("id")[..8].to_owned();
    assert!(invites
        .as_array()
        .expect("invites")
        .iter()
        .any(|i| i["state"] == "used"));
    let said = stdout(&sanne, &["invite", "revoke", &id]);
    assert!(said.contains(&id), "{said}");
    let (code, err) = refused(&piet, &["join", &wrong, "--name", "Piet"]);
    assert_eq!(code, 3);
    assert!(err.contains("no longer works"), "{err}");
    let listed = stdout(&sanne, &["invite", "list"]);
    assert!(listed.contains("ingetrokken"), "{listed}");
    let (code, _) = refused(&sanne, &["invite", "revoke", "ffffffff"]);
    assert_eq!(code, 4, "an unknown id is not found");
}

#[test]
fn a_second_device_of_the_same_person_sees_the_same_plan_and_a_lost_one_is_cut_off() {
    let root = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let phone = circle_for_sanne(root.path(), &relay.url());
    let (tablet, stranger) = (root.path().join("tablet"), root.path().join("stranger"));
    run(&phone, &["task", "add", "Boodschappen"]);

    let link = stdout(&phone, &["device", "link"]);
    assert!(link.starts_with("kring://device/"), "{link}");
    assert!(link.len() < 700, "QR-sized: {} characters", link.len());
    let preview = json(&tablet, &["preview", &link]);
    assert_eq!(preview["kind"], "device");
    assert_eq!(preview["capability"], "owner");
    // A device link is not an invite for a new person, and the other way round.
    let (code, _) = refused(&tablet, &["join", &link, "--name", "Sanne"]);
    assert_eq!(code, 3);

    let added = stdout(&tablet, &["device", "add", &link]);
    assert!(added.contains("Sanne"), "{added}");
    // The same person, the same plan, both ways.
    assert_eq!(titles(&tablet), vec!["Boodschappen"]);
    run(&tablet, &["task", "add", "Koken"]);
    run(&tablet, &["sync"]);
    run(&phone, &["sync"]);
    assert_eq!(titles(&phone), vec!["Boodschappen", "Koken"]);
    let people = json(&phone, &["member", "list"]);
    assert_eq!(
        people.as_array().map(Vec::len),
        Some(1),
        "no second Sanne: {people}"
    );
    // The tablet acts as the owner (the main person).
    let status = json(&tablet, &["status"]);
    assert_eq!(status[0]["standing"]["writer"], "owner", "{status}");

    // One use only.
    let (code, err) = refused(&stranger, &["device", "add", &link]);
    assert_eq!(code, 3);
    assert!(err.contains("already used"), "{err}");

    // The phone, its recovery code (made with the circle) and the tablet.
    let devices = json(&phone, &["device", "list"]);
    assert_eq!(devices.as_array().map(Vec::len), Some(3), "{devices}");
    let tablet_id = devices
        .as_array()
        .and_then(|ds| {
            ds.iter()
                .find(|d| d["this_device"] == false && d["recovery_code"] == false)
        })
        .and_then(|d| d["id"].as_str())
        .expect("the tablet")
        .to_owned();
    let epoch = json(&phone, &["status"])[0]["epoch"]
        .as_u64()
        .expect("epoch");
    let (code, _) = refused(&phone, &["device", "remove", &stdout_id(&phone)]);
    assert_eq!(code, 3, "a device does not remove itself");
    run(&phone, &["device", "remove", &tablet_id[..10]]);
    assert_eq!(
        json(&phone, &["status"])[0]["epoch"].as_u64(),
        Some(epoch + 1)
    );
    run(&phone, &["task", "add", "Na het verlies"]);
    run(&phone, &["sync"]);

    // The lost tablet is cut off: refused, nothing new arrives, its writes refused.
    let (code, _) = refused(&tablet, &["sync"]);
    assert_eq!(code, 3);
    assert_eq!(json(&tablet, &["status"])[0]["connectivity"], "removed");
    // The tablet learned it was removed: it erased the circle (only a note is left).
    assert_eq!(json(&tablet, &["status"])[0]["erased"], true);
    let (code, _) = refused(&tablet, &["task", "list"]);
    assert_eq!(code, 4);
    let (code, _) = refused(&tablet, &["task", "add", "Nog iets"]);
    assert_eq!(code, 4);
}

fn stdout_id(dir: &Path) -> String {
    json(dir, &["device", "list"])
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["this_device"] == true))
        .and_then(|d| d["id"].as_str())
        .expect("this device")
        .to_owned()
}

#[test]
fn a_new_phone_with_the_recovery_code_becomes_the_main_person_and_the_old_one_is_cut_off() {
    let root = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let url = relay.url();
    let (old_phone, new_phone, jan, piet, thief) = (
        root.path().join("old"),
        root.path().join("new"),
        root.path().join("jan"),
        root.path().join("piet"),
        root.path().join("thief"),
    );
    // Creating a circle prints its recovery code once: twelve words on one line.
    let created = stdout(
        &old_phone,
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
    let code = created
        .lines()
        .map(str::trim)
        .find(|l| l.split(' ').count() == 12)
        .unwrap_or_else(|| panic!("no recovery code in {created}"))
        .to_owned();
    let circle = json(&old_phone, &["circle", "list"])[0]["id"]
        .as_str()
        .expect("circle id")
        .to_owned();
    run(&old_phone, &["task", "add", "Boodschappen"]);
    run(&old_phone, &["sync"]);
    for (dir, name) in [(&jan, "Jan"), (&piet, "Piet")] {
        let link = stdout(&old_phone, &["invite"]);
        run(dir, &["join", &link, "--name", name]);
    }
    run(&old_phone, &["sync"]);

    // Wrong words, and a well-formed code that is not this circle's, change nothing.
    let (code_wrong, err) = refused(
        &new_phone,
        &[
            "recover",
            "--circle",
            &circle,
            "--relay",
            &url,
            "--code",
            "een twee drie",
        ],
    );
    assert_eq!(code_wrong, 3, "{err}");
    let stranger = kring_trust::recovery::RecoveryCode::generate();
    let (code_other, err) = refused(
        &new_phone,
        &[
            "recover",
            "--circle",
            &circle,
            "--relay",
            &url,
            "--code",
            &stranger.words(),
        ],
    );
    assert_eq!(code_other, 3);
    assert!(err.contains("does not belong"), "{err}");
    assert_eq!(json(&new_phone, &["circle", "list"]), Value::Array(vec![]));

    // The phone is lost. The new one, with the words, takes Sanne's place.
    let recovered = stdout(
        &new_phone,
        &[
            "recover", "--circle", &circle, "--relay", &url, "--code", &code,
        ],
    );
    assert!(recovered.contains("Kring van Sanne"), "{recovered}");
    assert_eq!(titles(&new_phone), vec!["Boodschappen"]);
    assert_eq!(
        json(&new_phone, &["status"])[0]["standing"]["writer"],
        "owner"
    );
    // As the main person it removes someone, which only an admin or the owner may.
    run(&new_phone, &["member", "remove", "Piet"]);
    // The others see it happen.
    run(&jan, &["sync"]);
    let show = stdout(&jan, &["show"]);
    assert!(show.contains("Nieuw toestel"), "{show}");

    // The old phone is cut off; the code is spent.
    let (code_old, _) = refused(&old_phone, &["sync"]);
    assert_eq!(code_old, 3);
    assert_eq!(json(&old_phone, &["status"])[0]["connectivity"], "removed");
    let (code_spent, err) = refused(
        &thief,
        &[
            "recover", "--circle", &circle, "--relay", &url, "--code", &code,
        ],
    );
    assert_eq!(code_spent, 3);
    assert!(err.contains("already used"), "{err}");
}

#[test]
fn one_command_links_a_new_device_into_every_circle_of_the_person() {
    let root = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let url = relay.url();
    let sanne = circle_for_sanne(root.path(), &url);
    let (jan, tablet) = (root.path().join("jan"), root.path().join("tablet"));
    // Sanne is also a member of Jan's circle.
    run(
        &jan,
        &[
            "circle",
            "create",
            "--name",
            "Kring van Jan",
            "--me",
            "Jan",
            "--relay",
            &url,
        ],
    );
    run(&jan, &["sync"]);
    let invite = stdout(&jan, &["invite"]);
    run(&sanne, &["join", &invite, "--name", "Sanne"]);

    let links = json(&sanne, &["device", "link", "--all"]);
    let links: Vec<String> = links
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|l| l["link"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(links.len(), 2);
    let mut args = vec!["device", "add"];
    args.extend(links.iter().map(String::as_str));
    run(&tablet, &args);

    let mut on_tablet: Vec<String> = json(&tablet, &["circle", "list"])
        .as_array()
        .expect("circles")
        .iter()
        .map(|c| {
            format!(
                "{} as {}",
                c["name"].as_str().unwrap_or(""),
                c["me"].as_str().unwrap_or("")
            )
        })
        .collect();
    on_tablet.sort();
    assert_eq!(
        on_tablet,
        vec!["Kring van Jan as Sanne", "Kring van Sanne as Sanne"]
    );
}

/// The README's order: Sanne adds Jan by name (he has no phone yet) and makes him the
/// checker of a task; later she invites him by name. The device that joins with that
/// link is that same Jan — one entry in the member list, still the checker — and a
/// link for him cannot be used twice, nor made again once he is in.
#[test]
fn a_person_added_by_name_and_the_device_that_joins_for_them_are_one_person() {
    let root = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let sanne = circle_for_sanne(root.path(), &relay.url());
    let (jan, piet) = (root.path().join("jan"), root.path().join("piet"));
    run(
        &sanne,
        &[
            "member",
            "add",
            "Jan",
            "--relation",
            "family",
            "--role",
            "broer",
        ],
    );
    run(&sanne, &["task", "add", "Boodschappen", "--checker", "Jan"]);

    // An invite without a name asks whether it is for Jan.
    let out = run(&sanne, &["invite"]);
    let asked = String::from_utf8_lossy(&out.stderr);
    assert!(asked.contains("kring invite --for Jan"), "{asked}");
    let for_someone_new = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    let link = stdout(&sanne, &["invite", "--for", "jan"]);
    let said = stdout(&jan, &["join", &link]);
    assert!(said.contains("als Jan"), "{said}");
    run(&sanne, &["sync"]);

    let people = json(&sanne, &["member", "list"]);
    let jans: Vec<&Value> = people
        .as_array()
        .expect("people")
        .iter()
        .filter(|p| p["name"] == "Jan")
        .collect();
    assert_eq!(jans.len(), 1, "one Jan: {people}");
    let jan_id = jans[0]["id"].clone();
    assert_eq!(json(&jan, &["whoami"])["id"], jan_id);
    assert_eq!(
        jans[0]["role_label"], "broer",
        "what Sanne wrote about him stays"
    );
    let tasks = json(&jan, &["task", "list"]);
    assert_eq!(tasks[0]["checker"], jan_id, "{tasks}");

    // The link was for Jan and is used; Jan cannot be invited again.
    let (code, err) = refused(&piet, &["join", &link, "--name", "Piet"]);
    assert_eq!(code, 3);
    assert!(err.contains("already used"), "{err}");
    let (code, err) = refused(&sanne, &["invite", "--for", "Jan"]);
    assert_eq!(code, 2);
    assert!(err.contains("kring device link"), "{err}");
    // The link for someone new makes someone new.
    run(&piet, &["join", &for_someone_new, "--name", "Piet"]);
    run(&sanne, &["sync"]);
    let names: Vec<String> = json(&sanne, &["member", "list"])
        .as_array()
        .expect("people")
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "Jan").count(), 1, "{names:?}");
    assert!(names.contains(&"Piet".to_owned()), "{names:?}");

    // A reader writes nothing in the plan; the name she joined with still reaches
    // the main person (sealed in the log), and works wherever a name is typed.
    let kees = root.path().join("kees");
    let for_reader = stdout(&sanne, &["invite", "--capability", "reader"]);
    run(&kees, &["join", &for_reader, "--name", "Kees"]);
    run(&sanne, &["sync"]);
    let people = json(&sanne, &["member", "list"]);
    let kees_entry = people
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "Kees"))
        .cloned()
        .unwrap_or_else(|| panic!("Kees named: {people}"));
    assert_eq!(kees_entry["capability"], "reader", "{kees_entry}");
    let table = stdout(&sanne, &["member", "list"]);
    assert!(
        table
            .lines()
            .any(|l| l.contains("Kees") && l.contains("lezer")),
        "{table}"
    );
    assert!(!relay.database_bytes().windows(4).any(|w| w == b"Kees"));
    run(&sanne, &["member", "remove", "Kees"]); // by her name, as for members
    let (code, _) = refused(&kees, &["sync"]);
    assert_eq!(code, 3, "removed");
}
