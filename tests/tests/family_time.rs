//! Family time through a real relay and the real `kring` binary on three devices: the
//! main person opens it, the family member's device receives the family key through
//! the signed membership log, the marked professional's device receives nothing it
//! could open the family's writing with; a new mark puts the key out of date until it
//! is rotated without her; only the main person or an admin opens, rotates and closes.

use std::path::{Path, PathBuf};

use kring_e2e::{create_sannes_circle, json, refused, run, stdout, RelayProcess};

/// Sanne's circle on a real relay (in Dutch), with Jan (family) and Marloes, who calls
/// herself a professional — which grants nothing — and whom Sanne marks as one.
fn sannes_circle_with_a_professional(root: &Path) -> (RelayProcess, [PathBuf; 3]) {
    let relay = RelayProcess::start(&root.join("relay.db"));
    let [sanne, jan, marloes] = ["sanne", "jan", "marloes"].map(|name| root.join(name));
    create_sannes_circle(&sanne, &["--relay", &relay.url(), "--lang", "nl"]);
    run(&sanne, &["sync"]);
    for (who, name, relation) in [
        (&jan, "Jan", "family"),
        (&marloes, "Marloes", "professional"),
    ] {
        let link = stdout(&sanne, &["invite"]);
        run(
            who,
            &["join", &link, "--name", name, "--relation", relation],
        );
    }
    run(&sanne, &["sync"]);
    run(&sanne, &["member", "mark", "Marloes", "professional"]);
    (relay, [sanne, jan, marloes])
}

#[test]
fn the_family_key_reaches_the_family_and_never_a_professionals_device() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_relay, [sanne, jan, marloes]) = sannes_circle_with_a_professional(dir.path());
    run(&sanne, &["family-time", "open"]);
    let said = stdout(&sanne, &["family-time"]);
    assert!(said.contains("De familietijd is open"), "{said}");

    let status = |who: &Path| {
        run(who, &["sync"]);
        json(who, &["family-time"])
    };
    let (for_sanne, for_jan, for_marloes) = (status(&sanne), status(&jan), status(&marloes));
    assert_eq!(for_sanne["holds_key"], true);
    assert_eq!(for_jan["holds_key"], true, "{for_jan}");
    assert_eq!(for_marloes["open"], true);
    assert_eq!(for_marloes["professional"], true);
    assert_eq!(for_marloes["holds_key"], false, "{for_marloes}");
    let said = stdout(&marloes, &["family-time"]);
    assert!(said.contains("hulpverlener"), "{said}");

    // Only the main person or an admin opens, rotates and closes; twice open is refused.
    let (_, why) = refused(&jan, &["family-time", "close"]);
    assert!(
        !why.is_empty() && !why.contains("Error"),
        "a plain sentence: {why}"
    );
    let (_, why) = refused(&sanne, &["family-time", "open"]);
    assert!(!why.is_empty(), "{why}");
    assert_eq!(status(&jan)["open"], true, "nothing changed");

    // Jan is marked professional: the key is out of date until rotated, then his
    // device holds none of the new one.
    run(&sanne, &["member", "mark", "Jan", "professional"]);
    assert_eq!(status(&sanne)["key_current"], false);
    run(&sanne, &["family-time", "rotate"]);
    let (for_sanne, for_jan) = (status(&sanne), status(&jan));
    assert_eq!(
        (
            for_sanne["generation"].as_u64(),
            for_sanne["holds_key"].as_bool()
        ),
        (Some(2), Some(true))
    );
    assert_eq!(for_jan["holds_key"], false, "{for_jan}");

    run(&sanne, &["family-time", "close"]);
    assert_eq!(status(&marloes)["open"], false);
    let said = stdout(&marloes, &["family-time"]);
    assert!(said.contains("dicht"), "{said}");
}

/// Every way a device shows its plan, as text: the tables, the JSON, the news and the
/// Markdown export — what a person could recover from her own store.
fn everything_shown(who: &Path) -> String {
    let mut shown = String::new();
    for args in [
        &["show"][..],
        &["show", "--json"],
        &["news"],
        &["week"],
        &["export", "--format", "md"],
    ] {
        shown.push_str(&stdout(who, args));
    }
    shown
}

#[test]
fn the_family_writes_alone_and_the_professional_reads_exactly_what_is_presented() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (relay, [sanne, jan, marloes]) = sannes_circle_with_a_professional(dir.path());
    run(&sanne, &["plan", "question", "Hoe blijf ik thuis wonen?"]);
    run(&sanne, &["family-time", "open"]);
    // Presenting before anything is written is a plain refusal.
    let (_, why) = refused(&sanne, &["family-time", "present"]);
    assert!(why.contains("nog niets geschreven"), "{why}");

    // The family writes; the professional writes her own part meanwhile.
    const DRAFT: [&str; 3] = ["zolderkamer", "Oom Kees", "pinpas"];
    run(
        &sanne,
        &["plan", "goal", "De zolderkamer is voor de winter leeg."],
    );
    run(&jan, &["sync"]);
    run(
        &jan,
        &[
            "task",
            "add",
            "Oom Kees bellen over de pinpas",
            "--slots",
            "1",
        ],
    );
    run(&marloes, &["sync"]);
    run(
        &marloes,
        &["task", "add", "Intake wijkteam", "--slots", "1"],
    );
    for who in [&jan, &sanne, &marloes, &jan, &sanne] {
        run(who, &["sync"]);
    }

    // The family reads the draft, and the professional's task beside it.
    for who in [&sanne, &jan] {
        let shown = everything_shown(who);
        for word in DRAFT.iter().chain(&["Intake wijkteam"]) {
            assert!(shown.contains(word), "{word} missing for the family");
        }
        assert!(shown.contains("Familietijd"), "the draft is labelled");
    }
    // The professional: nothing of the draft, from what her device shows or holds,
    // nor from the relay's bytes; her own part is there.
    let shown = everything_shown(&marloes);
    assert!(shown.contains("Intake wijkteam"));
    let relay_bytes = relay.database_bytes();
    for word in DRAFT {
        assert!(!shown.contains(word), "{word} shown to the professional");
        assert!(
            !kring_e2e::contains(&relay_bytes, word),
            "{word} at the relay"
        );
        for file in std::fs::read_dir(&marloes).expect("her data dir").flatten() {
            let bytes = std::fs::read(file.path()).unwrap_or_default();
            assert!(!kring_e2e::contains(&bytes, word), "{word} in her files");
        }
    }
    assert_eq!(json(&marloes, &["family-time"])["written"], 0);

    // No hand-over of the draft to professionals' systems before it is presented.
    let out = dir.path().join("plan.json");
    let out_arg = out.to_str().expect("a path");
    let (_, why) = refused(
        &sanne,
        &[
            "export", "--format", "fhir", "--to", "Wijkteam", "--out", out_arg,
        ],
    );
    assert!(why.contains("Presenteer eerst"), "{why}");
    assert!(!out.exists(), "no file");

    // Only the main person presents: not the family member, not the professional.
    for who in [&jan, &marloes] {
        let (_, why) = refused(who, &["family-time", "present"]);
        assert!(why.contains("Alleen de hoofdpersoon"), "{why}");
    }
    let said = stdout(&sanne, &["family-time", "present"]);
    assert!(said.contains("gepresenteerd op"), "{said}");
    let (_, why) = refused(&sanne, &["family-time", "present"]);
    assert!(why.contains("al gepresenteerd"), "{why}");

    // From now on the whole circle reads it: the professional sees exactly the plan
    // the main person presented.
    for who in [&marloes, &jan] {
        run(who, &["sync"]);
    }
    let presented = json(&sanne, &["show"]);
    let for_marloes = json(&marloes, &["show"]);
    assert_eq!(for_marloes, presented);
    assert_eq!(json(&jan, &["show"]), presented);
    let shown = stdout(&marloes, &["show"]);
    for word in DRAFT {
        assert!(shown.contains(word), "{word} missing after presenting");
    }
    assert!(shown.contains("gepresenteerd op"), "{shown}");
    // Later changes follow the usual rules: she claims the family's task.
    let task = presented["tasks"]
        .as_array()
        .and_then(|tasks| {
            tasks
                .iter()
                .find(|t| t["title"] == "Oom Kees bellen over de pinpas")
        })
        .and_then(|t| t["id"].as_str())
        .expect("the family's task")
        .to_owned();
    run(&marloes, &["task", "claim", &task[..8]]);
    run(&marloes, &["sync"]);
    run(&sanne, &["sync"]);
    assert_eq!(json(&sanne, &["show"]), json(&marloes, &["show"]));

    // A next family time (a review): what is written and then closed without
    // presenting stays the family's, and is put aside on their devices too.
    run(&sanne, &["family-time", "open"]);
    run(&jan, &["sync"]);
    run(
        &jan,
        &["task", "add", "Jan belt de huisarts", "--slots", "1"],
    );
    run(&jan, &["sync"]);
    run(&sanne, &["sync"]);
    assert!(stdout(&sanne, &["show"]).contains("huisarts"));
    run(&sanne, &["family-time", "close"]);
    for who in [&jan, &marloes, &sanne] {
        run(who, &["sync"]);
        assert!(!stdout(who, &["show"]).contains("huisarts"));
    }
}
