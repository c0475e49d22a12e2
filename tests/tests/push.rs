//! Web Push wake-ups end to end, checked by an implementation no one here wrote: the
//! real relay binary, five people with the real `kring` binary in five data
//! directories, and a push service on loopback in Python (`tests/python/
//! push_receiver.py`: `http_ece` decrypts, `py_vapid` checks the VAPID signature
//! against the relay's published key).
//!
//! Asserted: the other devices of the circle get exactly `{"v":1,"circle","cursor"}`,
//! nobody gets plaintext, the author gets nothing for their own change, a removed
//! device gets nothing, a 410 from the push service unregisters the subscription,
//! and `kring push unregister` stops the wake-ups.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kring_e2e::{contains, create_sannes_circle, run, stdout, RelayProcess};
use serde_json::Value;

/// Words that are in the plan and must never be in a push.
const PLAINTEXT: [&str; 6] = [
    "Sanne",
    "ziekenhuis",
    "Boodschappen",
    "Kring van",
    "Piet",
    "Anna",
];

/// One HTTP/1.0 request to a loopback server: status and body.
fn http(addr: &str, method: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The Python push service, stopped when dropped.
struct PushService {
    child: Child,
    addr: String,
}

impl PushService {
    fn start(vapid_key: &str) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/push_receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--vapid-key", vapid_key])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the push receiver (pip install http-ece py-vapid)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let addr = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("push receiver did not start: {line:?}"))
            .trim()
            .to_owned();
        PushService { child, addr }
    }

    /// A new subscription for `name`: (endpoint, p256dh, auth).
    fn subscribe(&self, name: &str) -> (String, String, String) {
        let (status, body) = http(&self.addr, "POST", &format!("/devices/{name}"));
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        let field = |k: &str| v[k].as_str().expect(k).to_owned();
        (field("endpoint"), field("p256dh"), field("auth"))
    }

    fn answer(&self, name: &str, status: u16) {
        assert_eq!(
            http(&self.addr, "POST", &format!("/answer/{name}/{status}")).0,
            200
        );
    }

    fn received(&self) -> Vec<Value> {
        let (status, body) = http(&self.addr, "GET", "/received");
        assert_eq!(status, 200);
        serde_json::from_str::<Value>(&body)
            .expect("json")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Cursors of the pushes `name` got, in order of arrival.
    fn cursors_of(&self, name: &str) -> Vec<u64> {
        self.received()
            .iter()
            .filter(|r| r["device"] == name)
            .map(|r| payload(r)["cursor"].as_u64().expect("cursor"))
            .collect()
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn payload(record: &Value) -> Value {
    serde_json::from_str(record["payload"].as_str().expect("decrypted payload")).expect("json")
}

/// Waits (at most 15 s) until `check` holds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn metric(relay: &RelayProcess, name: &str) -> f64 {
    let addr = relay.url().trim_start_matches("http://").to_owned();
    let (_, text) = http(&addr, "GET", "/metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("kring_{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn web_push_wakes_the_other_devices_with_nothing_but_circle_and_cursor() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = |name: &str| -> PathBuf { root.path().join(name) };
    let relay = RelayProcess::start_with(
        &root.path().join("relay.db"),
        &[
            "--push-allow-http",
            "--push-allow-private",
            "--push-coalesce-ms",
            "200",
        ],
    );
    let url = relay.url();
    let sanne = dir("sanne");
    create_sannes_circle(&sanne, &["--relay", &url]);
    run(&sanne, &["sync"]);
    let circle: Value =
        serde_json::from_str(&stdout(&sanne, &["circle", "list", "--json"])).expect("json");
    let circle = circle[0]["id"].as_str().expect("id").to_owned();
    for (name, capability) in [
        ("Jan", "member"),
        ("Piet", "member"),
        ("Anna", "reader"),
        ("Kees", "member"),
    ] {
        let link = stdout(&sanne, &["invite", "--capability", capability]);
        run(&dir(name), &["join", &link, "--name", name]);
    }
    let (jan, piet, anna, kees) = (dir("Jan"), dir("Piet"), dir("Anna"), dir("Kees"));

    let vapid = stdout(&sanne, &["push", "key"]);
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&vapid).map(|k| k.len()).ok(),
        Some(65)
    );
    let service = PushService::start(&vapid);
    for (name, home) in [
        ("sanne", &sanne),
        ("jan", &jan),
        ("piet", &piet),
        ("anna", &anna),
        ("kees", &kees),
    ] {
        let (endpoint, p256dh, auth) = service.subscribe(name);
        let said = stdout(
            home,
            &[
                "push", "register", &endpoint, "--p256dh", &p256dh, "--auth", &auth,
            ],
        );
        assert!(!said.is_empty());
    }

    // One circle on the relay: its newest cursor is the number of envelopes stored.
    let newest = || metric(&relay, "envelopes_stored_total") as u64;
    let latest = |name: &str| service.cursors_of(name).last().copied().unwrap_or(0);
    let woken_up_to = |names: &[&str], cursor: u64| {
        let what = format!("{names:?} are woken with cursor {cursor}");
        eventually(&what, || names.iter().all(|n| latest(n) == cursor));
    };

    // Sanne removes Kees: the others hear of the change, Kees does not.
    run(&sanne, &["sync"]);
    run(&sanne, &["member", "remove", "Kees"]);
    woken_up_to(&["jan", "piet", "anna"], newest());
    assert!(
        service.cursors_of("sanne").is_empty(),
        "the author is not woken"
    );
    let before = service.cursors_of("jan").len();

    // Jan adds a task and syncs: everyone else is woken with the newest cursor.
    run(&jan, &["task", "add", "Naar het ziekenhuis rijden"]);
    run(&jan, &["sync"]);
    let task_cursor = newest();
    woken_up_to(&["sanne", "piet", "anna"], task_cursor);

    // Piet posts: Jan is woken for that, and got nothing for his own task.
    run(&piet, &["post", "Boodschappen gedaan"]);
    run(&piet, &["sync"]);
    woken_up_to(&["jan"], newest());
    let to_jan = service.cursors_of("jan");
    assert!(
        to_jan[before..].iter().all(|c| *c > task_cursor),
        "Jan was woken for his own change: {to_jan:?} (task at {task_cursor})"
    );

    // Piet's push service says the subscription is gone: the relay drops it.
    service.answer("piet", 410);
    let to_piet = service.cursors_of("piet").len();
    run(&jan, &["task", "add", "Boodschappen doen"]);
    run(&jan, &["sync"]);
    woken_up_to(&["sanne", "piet", "anna"], newest());
    eventually("the 410 unregisters Piet", || {
        metric(&relay, "push_subscriptions_dropped_total{reason=\"gone\"}") >= 1.0
    });
    assert_eq!(
        service.cursors_of("piet").len(),
        to_piet + 1,
        "one push, answered 410"
    );
    // Anna unregisters herself.
    run(&anna, &["push", "unregister"]);
    let (to_piet, to_anna) = (
        service.cursors_of("piet").len(),
        service.cursors_of("anna").len(),
    );
    run(&jan, &["post", "Nog een bericht"]);
    run(&jan, &["sync"]);
    woken_up_to(&["sanne"], newest());
    assert_eq!(
        service.cursors_of("piet").len(),
        to_piet,
        "no push after 410"
    );
    assert_eq!(
        service.cursors_of("anna").len(),
        to_anna,
        "no push after unregister"
    );

    // What every push was: checked by py_vapid and http_ece, content-free.
    let received = service.received();
    assert!(received.len() >= 10, "{received:?}");
    assert!(
        received.iter().all(|r| r["device"] != "kees"),
        "the removed device got a push"
    );
    for record in &received {
        assert_eq!(record["checks"], Value::Array(vec![]), "{record}");
        let p = payload(record);
        let keys: Vec<&String> = p.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["circle", "cursor", "v"], "{record}");
        assert_eq!(
            (p["v"].as_u64(), p["circle"].as_str()),
            (Some(1), Some(circle.as_str()))
        );
        assert_eq!(record["urgency"], "normal");
        let text = record["payload"].as_str().unwrap_or_default();
        for word in PLAINTEXT {
            assert!(!text.contains(word), "{word} in {text}");
        }
        assert!(record["bytes"].as_u64().unwrap_or(0) < 200, "{record}");
    }
    // And the relay's database holds no plaintext either (nor does the push).
    let db = relay.database_bytes();
    assert!(!contains(&db, "ziekenhuis"));
    assert!(metric(&relay, "push_sent_total") >= 10.0);
}
