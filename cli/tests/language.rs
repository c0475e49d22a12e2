//! "A Dutch circle speaks Dutch": the same plan in a Dutch and in an English circle,
//! through the real binary, and what `kring show`, `task list`, `task occurrences`,
//! `followup`, `member list` and `whoami` say in each. `--lang` overrides for one
//! command; `--json` is the same in both.

use std::path::Path;

use assert_cmd::Command;

const AT: &str = "2026-11-02 10:00";

fn kring(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("kring").expect("kring binary");
    cmd.env("KRING_DATA_DIR", dir)
        .env("KRING_NOW", AT)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES");
    cmd
}

fn out(dir: &Path, args: &[&str]) -> String {
    let o = kring(dir).args(args).output().expect("run kring");
    assert!(
        o.status.success(),
        "kring {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

fn err(dir: &Path, args: &[&str]) -> String {
    let o = kring(dir).args(args).output().expect("run kring");
    assert!(!o.status.success(), "kring {args:?} should fail");
    String::from_utf8(o.stderr).expect("utf-8")
}

/// A circle in `lang`: Sanne, her brother Jan, a weekly meal Jan takes, a ride that
/// was due yesterday and nobody took, an evaluation date.
fn circle(dir: &Path, lang: &str) -> String {
    let created = out(
        dir,
        &[
            "circle",
            "create",
            "--name",
            "Kring van Sanne",
            "--me",
            "Sanne",
            "--lang",
            lang,
            "--timezone",
            "Europe/Amsterdam",
        ],
    );
    out(dir, &["member", "add", "Jan", "--relation", "family"]);
    out(
        dir,
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
            "2026-11-04",
            "--count",
            "3",
        ],
    );
    out(
        dir,
        &["task", "add", "Naar de dokter", "--due", "2026-11-01 09:00"],
    );
    out(dir, &["plan", "review-date", "2027-01-15"]);
    created
}

fn task_id(dir: &Path, title: &str) -> String {
    let tasks: serde_json::Value =
        serde_json::from_str(&out(dir, &["task", "list", "--json"])).expect("json");
    tasks
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["title"] == title))
        .and_then(|t| t["id"].as_str())
        .expect("task")
        .to_owned()
}

fn has_all(text: &str, words: &[&str]) {
    for w in words {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
}

fn has_none(text: &str, words: &[&str]) {
    for w in words {
        assert!(!text.contains(w), "unexpected {w:?} in:\n{text}");
    }
}

#[test]
fn a_dutch_circle_speaks_dutch_and_an_english_one_english() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (nl, en) = (tmp.path().join("nl"), tmp.path().join("en"));
    let made_nl = circle(&nl, "nl");
    let made_en = circle(&en, "en");
    has_all(&made_nl, &["Kring van Sanne is gemaakt", "Herstelcode"]);
    has_all(
        &made_en,
        &["Created circle Kring van Sanne", "Recovery code"],
    );

    // kring show
    let show = out(&nl, &["show"]);
    has_all(
        &show,
        &[
            "plan voor Sanne (Nederlands), status: concept",
            "Volgende evaluatie: 2027-01-15",
            "Wie doet wat?",
            "Wie doen er mee?",
            "| taak ",
            "| wanneer ",
            "uiterlijk 2026-11-01 09:00",
            "Elke week op woensdag",
            "open (1 van 1 vrij)",
            "hoofdpersoon",
            "familie",
            "Sanne (jij)",
        ],
    );
    has_none(
        &show,
        &[
            "plan for",
            "Next evaluation",
            "Tasks",
            "People",
            "| task ",
            "when needed",
            "of 1 free",
            "main_person",
            "(you)",
        ],
    );
    let show = out(&en, &["show"]);
    has_all(
        &show,
        &[
            "plan for Sanne (English), status: draft",
            "Next evaluation: 2027-01-15",
            "Tasks",
            "People",
            "| task ",
            "by 2026-11-01 09:00",
            "open (1 of 1 free)",
            "main person",
            "Sanne (you)",
        ],
    );
    has_none(
        &show,
        &[
            "plan voor",
            "Volgende evaluatie",
            "Wie doet wat?",
            "| taak ",
            "uiterlijk",
            "van 1 vrij",
            "hoofdpersoon",
            "(jij)",
        ],
    );

    // kring task claim, task list, task occurrences
    let meal_nl = task_id(&nl, "Samen koken");
    let said = out(&nl, &["task", "claim", &meal_nl, "--on", "2026-11-11"]);
    has_all(&said, &["Jij doet “Samen koken” op 2026-11-11 17:00."]);
    let meal_en = task_id(&en, "Samen koken");
    let said = out(&en, &["task", "claim", &meal_en, "--on", "2026-11-11"]);
    has_all(&said, &["You claimed “Samen koken” on 2026-11-11 17:00."]);

    let list = out(&nl, &["task", "list"]);
    has_all(&list, &["| id ", "| taak ", "| wie ", "| controleert "]);
    has_none(&list, &["| task ", "| who ", "| checks "]);
    let list = out(&en, &["task", "list"]);
    has_all(&list, &["| id ", "| task ", "| who ", "| checks "]);
    has_none(&list, &["| taak ", "| wie ", "controleert"]);

    let turns = out(&nl, &["task", "occurrences", &meal_nl]);
    has_all(
        &turns,
        &[
            "2026-11-04 17:00",
            "1 vrij",
            "Sanne",
            "(tijden in Europe/Amsterdam)",
        ],
    );
    has_none(&turns, &["free", "times in", "taken"]);
    let turns = out(&en, &["task", "occurrences", &meal_en]);
    has_all(&turns, &["1 free", "(times in Europe/Amsterdam)"]);
    has_none(&turns, &["vrij", "tijden in"]);

    // kring followup (the next day: the ride nobody took is late)
    let follow = out(&nl, &["followup"]);
    has_all(
        &follow,
        &[
            "| kring ",
            "dringend",
            "op tijd (30 dagen)",
            "laatst actief",
            "Te doen, het meest dringend eerst",
            "Naar de dokter",
        ],
    );
    has_none(
        &follow,
        &["| circle ", "on time", "last activity", "To do", "URGENT"],
    );
    let follow = out(&en, &["followup"]);
    has_all(
        &follow,
        &[
            "| circle ",
            "on time (30 days)",
            "last activity",
            "To do, most urgent first",
        ],
    );
    has_none(&follow, &["| kring ", "op tijd", "Te doen", "DRINGEND"]);

    // kring member list, whoami
    let members = out(&nl, &["member", "list"]);
    has_all(
        &members,
        &[
            "| naam ",
            "| apparaten ",
            "eigenaar",
            "hoofdpersoon",
            "familie",
        ],
    );
    has_none(&members, &["| name ", "| devices ", "owner", "main_person"]);
    let members = out(&en, &["member", "list"]);
    has_all(
        &members,
        &["| name ", "| devices ", "owner", "main person", "family"],
    );
    has_none(
        &members,
        &["| naam ", "eigenaar", "hoofdpersoon", "familie"],
    );
    assert_eq!(
        out(&nl, &["whoami"]),
        "Je bent Sanne (hoofdpersoon, eigenaar) in Kring van Sanne\n"
    );
    assert_eq!(
        out(&en, &["whoami"]),
        "You are Sanne (main person, owner) in Kring van Sanne\n"
    );

    // Success lines, the CLI's own errors and kring-core's, in the circle's language.
    has_all(&out(&nl, &["post", "Goed gegaan"]), &["Geplaatst."]);
    has_all(&out(&en, &["post", "Went well"]), &["Posted."]);
    has_all(
        &err(&nl, &["task", "add", "x", "--due", "next tuesday"]),
        &["deze datum snap ik niet"],
    );
    has_all(
        &err(&en, &["task", "add", "x", "--due", "next tuesday"]),
        &["cannot read the date"],
    );
    has_all(
        &err(&nl, &["task", "claim", "ffff"]),
        &["geen taak gevonden"],
    );
    has_all(&err(&nl, &["task", "add", "   "]), &["Vul een titel in"]);
    has_all(
        &err(&en, &["task", "add", "   "]),
        &["Fill in a title: it must not be empty."],
    );
}

#[test]
fn lang_overrides_for_one_command_and_json_stays_the_same() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let nl = tmp.path().join("nl");
    circle(&nl, "nl");

    let show = out(&nl, &["show", "--lang", "en"]);
    has_all(&show, &["plan for Sanne (Dutch), status: draft", "Tasks"]);
    has_none(&show, &["Wie doet wat?"]);
    // The override is for that one command only.
    has_all(&out(&nl, &["show"]), &["Wie doet wat?"]);
    has_all(
        &out(&nl, &["--lang", "en", "member", "list"]),
        &["| name ", "main person"],
    );

    for args in [
        &["show", "--json"][..],
        &["task", "list", "--json"],
        &["member", "list", "--json"],
        &["followup", "--json"],
        &["whoami", "--json"],
    ] {
        let dutch = out(&nl, args);
        let english = out(&nl, &[args, &["--lang", "en"]].concat());
        assert_eq!(dutch, english, "kring {args:?}");
        assert!(dutch.contains("main_person") || !args.contains(&"show"));
    }

    // An unknown language is refused, like any unknown value.
    kring(&nl).args(["show", "--lang", "de"]).assert().code(3);
}

/// What a person meets most when something goes wrong — the relay away, a link cut
/// off in a chat app, a typo in a command — said once, in Dutch on a Dutch system
/// before there is any circle and in a Dutch circle, with no address, OS text or
/// decoder output in it.
#[test]
fn failures_are_said_once_in_plain_dutch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dutch = |args: &[&str]| -> String {
        let o = kring(dir.path())
            .env("LANG", "nl_NL.UTF-8")
            .args(args)
            .output()
            .expect("run kring");
        assert!(!o.status.success(), "kring {args:?} should fail");
        String::from_utf8(o.stderr).expect("utf-8")
    };
    let cut = dutch(&["join", "kring://invite/AQAAB3", "--name", "Jan"]);
    assert_eq!(
        cut.trim(),
        "kring: Deze link is niet compleet of is veranderd. Vraag om een nieuwe."
    );
    let typo = dutch(&["taak", "lijst"]);
    assert!(typo.contains("kring heeft geen opdracht taak"), "{typo}");
    let flag = dutch(&["show", "--kleur"]);
    assert!(flag.contains("kring kent --kleur niet"), "{flag}");

    // A Dutch circle on a relay that is not there: one line, no URL, no OS error,
    // and since nothing was changed, no "your change is kept".
    out(
        dir.path(),
        &[
            "circle",
            "create",
            "--name",
            "Kring van Sanne",
            "--me",
            "Sanne",
            "--lang",
            "nl",
            "--relay",
            "http://127.0.0.1:9",
        ],
    );
    let (first, second) = (err(dir.path(), &["sync"]), err(dir.path(), &["sync"]));
    for said in [&first, &second] {
        has_none(
            said,
            &[
                "127.0.0.1",
                "os error",
                "Connection",
                "error sending",
                "http",
            ],
        );
        assert_eq!(said.lines().count(), 1, "{said}");
    }
    // The circle's first sync would have sent the plan: that is kept, and it says so.
    assert!(
        first.contains("De relay is nu niet te bereiken."),
        "{first}"
    );
    assert!(first.contains("staat veilig op dit apparaat"), "{first}");
}
