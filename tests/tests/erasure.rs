//! Data that can be erased, through the real binaries: the main person closes the
//! circle (`kring circle close`), a member's device learns it at its next sync and
//! keeps a read-only archive, which `kring circle delete --local` erases from the
//! file; a removed member's device erases the circle on its own; only the owner can
//! close (the relay checks, not just the app); and a relay with a retention period
//! warns before it closes an inactive circle, then closes it.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use kring_client::secrets::{load_identity, FileSecretStore};
use kring_client::sync::http::{system_clock, RelayClient};
use kring_client::Error;
use kring_e2e::{contains, workspace_binary, RelayProcess};
use kring_plan::plan::CircleId;
use kring_trust::identity::DeviceIdentity;
use serde_json::Value;

const TITLE: &str = "Medicijnen ophalen bij de apotheek";
const SECOND: &str = "Wekelijks de planten water geven";

fn kring(dir: &Path) -> Command {
    let mut cmd = Command::new(workspace_binary("kring-cli", "kring"));
    cmd.env("KRING_DATA_DIR", dir)
        .env_remove("KRING_NOW")
        .env_remove("KRING_CIRCLE")
        .stdin(Stdio::null());
    cmd
}

fn output(dir: &Path, args: &[&str]) -> Output {
    kring(dir).args(args).output().expect("run kring")
}

#[track_caller]
fn run(dir: &Path, args: &[&str]) -> String {
    let out = output(dir, args);
    assert!(
        out.status.success(),
        "kring {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[track_caller]
fn refused(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = output(dir, args);
    assert!(!out.status.success(), "kring {args:?} succeeded");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs kring with `answer` typed on standard input.
fn answering(dir: &Path, args: &[&str], answer: &str) -> Output {
    let mut child = kring(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kring");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answer.as_bytes())
        .expect("answer");
    child.wait_with_output().expect("kring ends")
}

#[track_caller]
fn json(dir: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&run(dir, &args)).expect("JSON")
}

/// The raw bytes of a data directory's store and its write-ahead log.
fn store_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for file in ["kring.db", "kring.db-wal"] {
        if let Ok(b) = std::fs::read(dir.join(file)) {
            bytes.extend(b);
        }
    }
    bytes
}

fn create(dir: &Path, url: &str) -> CircleId {
    run(
        dir,
        &[
            "circle",
            "create",
            "--name",
            "Kring van Sanne",
            "--me",
            "Sanne",
            "--relay",
            url,
        ],
    );
    run(dir, &["task", "add", TITLE]);
    run(dir, &["sync"]);
    let id = json(dir, &["status"])[0]["circle"]
        .as_str()
        .expect("circle id")
        .to_owned();
    CircleId::parse(&id).expect("id")
}

fn join(inviter: &Path, dir: &Path, name: &str) {
    let link = run(inviter, &["invite"]);
    run(dir, &["join", &link, "--name", name]);
}

fn identity(dir: &Path) -> DeviceIdentity {
    let secrets = FileSecretStore::open(dir.join("secrets")).expect("secrets");
    load_identity(&secrets, "device")
        .expect("load")
        .expect("identity")
}

#[test]
fn closing_archives_everywhere_removal_and_local_delete_erase_the_plan_from_the_file() {
    let root = tempfile::tempdir().expect("tempdir");
    let (sanne, jan, piet) = (
        root.path().join("sanne"),
        root.path().join("jan"),
        root.path().join("piet"),
    );
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let url = relay.url();
    let circle = create(&sanne, &url);
    join(&sanne, &jan, "Jan");
    join(&sanne, &piet, "Piet");
    run(&sanne, &["task", "add", SECOND]);
    run(&sanne, &["sync"]);
    for dir in [&jan, &piet] {
        run(dir, &["sync"]);
        // The check below means something: the plan is readable in the file before
        // (unless the store is encrypted at rest).
        let bytes = store_bytes(dir);
        assert!(
            [TITLE, SECOND].iter().any(|t| contains(&bytes, t)) || encrypted(dir),
            "no title in the store before"
        );
        assert!(run(dir, &["show"]).contains(SECOND));
    }

    // Piet is removed: at his next sync his device erases the circle and says so.
    run(&sanne, &["member", "remove", "Piet"]);
    let (code, said) = refused(&piet, &["sync"]);
    assert_eq!(code, 3);
    assert!(
        said.contains("Je bent uit de kring Kring van Sanne gehaald"),
        "{said}"
    );
    assert!(said.contains("gewist"), "{said}");
    let status = json(&piet, &["status"]);
    assert_eq!(status[0]["connectivity"], "removed", "{status}");
    assert_eq!(status[0]["erased"], true, "{status}");
    assert_eq!(refused(&piet, &["show"]).0, 4);
    let piet_bytes = store_bytes(&piet);
    for text in [TITLE, SECOND, "Kring van Sanne", "Sanne"] {
        assert!(
            !contains(&piet_bytes, text),
            "{text:?} is still in Piet's kring.db"
        );
    }

    // Only the owner closes: Jan's app refuses, and so does the relay when Jan's
    // device signs the close request itself.
    assert_eq!(refused(&jan, &["circle", "close", "--yes"]).0, 3);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = RelayClient::new(&url, system_clock()).expect("client");
    let by_jan = runtime.block_on(client.close_circle(&identity(&jan), &circle));
    assert!(
        matches!(&by_jan, Err(Error::Trust(kring_trust::Error::Relay { status: 403, code, .. })) if code == "forbidden"),
        "{by_jan:?}"
    );
    run(&jan, &["sync"]);

    // Sanne is asked first; anything but "ja" changes nothing.
    let out = answering(&sanne, &["circle", "close"], "nee\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Niets gedaan"));
    assert_eq!(json(&sanne, &["status"])[0]["connectivity"], "online");
    let out = answering(&sanne, &["circle", "close"], "ja\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is gesloten"));

    // Her device keeps a read-only archive: reads and exports work, writes do not.
    assert_eq!(json(&sanne, &["status"])[0]["connectivity"], "closed");
    assert!(run(&sanne, &["show"]).contains(TITLE));
    assert!(run(&sanne, &["export", "--format", "md"]).contains(TITLE));
    let (code, said) = refused(&sanne, &["task", "add", "Nog iets"]);
    assert_eq!(code, 3);
    assert!(said.contains("kring circle delete --local"), "{said}");
    // An archive is not synced again (nothing to sync leaves a usage error).
    assert_eq!(refused(&sanne, &["sync"]).0, 2);

    // Jan's device learns it at its next sync, and tells him plainly.
    let (code, said) = refused(&jan, &["sync"]);
    assert_eq!(code, 3);
    assert!(
        said.contains("De kring Kring van Sanne is gesloten"),
        "{said}"
    );
    assert!(said.contains("kring circle delete --local"), "{said}");
    assert_eq!(json(&jan, &["status"])[0]["connectivity"], "closed");
    assert!(run(&jan, &["show"]).contains(SECOND));
    assert_eq!(refused(&jan, &["task", "add", "Nog iets"]).0, 3);
    assert_eq!(json(&jan, &["circle", "list"])[0]["archived"], true);
    assert!(run(&jan, &["circle", "list"]).contains("gesloten, alleen om te lezen"));

    // Deleting locally asks too, then erases the plan from the file and its WAL.
    let out = answering(&jan, &["circle", "delete", "--local"], "\n");
    assert!(!out.status.success(), "no answer is no");
    assert!(run(&jan, &["show"]).contains(SECOND));
    run(&jan, &["circle", "delete", "--local", "--yes"]);
    let jan_bytes = store_bytes(&jan);
    for text in [TITLE, SECOND, "Kring van Sanne", "Sanne"] {
        assert!(
            !contains(&jan_bytes, text),
            "{text:?} is still in Jan's kring.db"
        );
    }
    assert_eq!(json(&jan, &["status"]), Value::Array(Vec::new()));
    run(&sanne, &["circle", "delete", "--local", "--yes"]);
    assert!(!contains(&store_bytes(&sanne), TITLE));
    // The relay keeps only the tombstone.
    assert!(!contains(&relay.database_bytes(), TITLE));
}

/// Whether a data directory's store is encrypted at rest (then no plaintext can be
/// found in its bytes at all).
fn encrypted(dir: &Path) -> bool {
    std::fs::read(dir.join("kring.db")).is_ok_and(|b| !b.starts_with(b"SQLite format 3\0"))
}

#[test]
fn an_inactive_circle_is_announced_then_closed_by_the_relays_retention_period() {
    let root = tempfile::tempdir().expect("tempdir");
    let (sanne, jan) = (root.path().join("sanne"), root.path().join("jan"));
    let db = root.path().join("relay.db");
    // One month of retention, warned about 31 days ahead: inside the warning window
    // from the start, so the real clock shows the warning path.
    let retention = [
        "--retention-inactive-months",
        "1",
        "--retention-warning-days",
        "31",
    ];
    let mut relay = RelayProcess::start_with(&db, &retention);
    let url = relay.url();
    create(&sanne, &url);
    join(&sanne, &jan, "Jan");

    let out = output(&sanne, &["sync"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("de relay sluit Kring van Sanne op"), "{said}");
    let status = json(&sanne, &["status"]);
    let closes_at = status[0]["closes_at"].as_i64().expect("closes_at");
    let text = run(&sanne, &["status"]);
    assert!(text.contains("de relay sluit deze kring op"), "{text}");
    let followup = output(&sanne, &["followup"]);
    assert!(String::from_utf8_lossy(&followup.stderr).contains("de relay sluit"));

    // The operator's sweep closes nothing before the period is over …
    relay.kill9();
    let sweep = |now: &str| -> String {
        let out = Command::new(workspace_binary("kring-server", "kring-server"))
            .arg("--db")
            .arg(&db)
            .args(retention)
            .args(["retention", "sweep", "--now", now])
            .output()
            .expect("sweep");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let day = 24 * 60 * 60 * 1000;
    let before = rfc3339(closes_at - day);
    assert_eq!(sweep(&before), "closed 0 inactive circle(s)");
    // … and closes the circle once it is (same tombstone as the owner's close).
    let after = rfc3339(closes_at + day);
    assert_eq!(sweep(&after), "closed 1 inactive circle(s)");
    relay.restart();

    let (code, said) = refused(&jan, &["sync"]);
    assert_eq!(code, 3);
    assert!(said.contains("is gesloten"), "{said}");
    assert_eq!(json(&jan, &["status"])[0]["connectivity"], "closed");
    assert!(run(&jan, &["show"]).contains(TITLE));
    assert!(!contains(&relay.database_bytes(), TITLE));
}

fn rfc3339(ms: i64) -> String {
    let at = kring_trust::Timestamp(ms).to_civil_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:00Z",
        at.year, at.month, at.day, at.hour, at.minute
    )
}
