//! The `kring-server` binary as a process: durability across `kill -9`, and graceful
//! shutdown on SIGTERM that finishes the request in flight.

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use common::*;
use kring_trust::envelope::SealedEnvelope;
use kring_trust::membership::Capability;
use kring_trust::request_auth::sign_request;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// An acknowledged envelope: its cursor and exact bytes.
type Acked = (u64, Vec<u8>);

struct Process {
    child: Child,
    base: String,
}

async fn start(db: &kring_server::config::Database) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kring-server"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(db.as_flag())
        .env("KRING_RATE_PER_SEC", "0")
        .env("KRING_ADDRESS_RATE_PER_SEC", "0")
        .env("KRING_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("kring-server starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("listening within 30 s")
        .expect("read stdout")
        .expect("a line");
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Process {
        child,
        base: format!("http://{addr}"),
    }
}

fn client(process: &Process) -> Client {
    Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client"),
        base: process.base.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_that_was_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = database(dir.path()).await;
    let mut relay = start(&db).await;
    let http = client(&relay);
    let (mut circle, owner) = circle_on(&http).await;
    let mut writers = Vec::new();
    for _ in 0..5 {
        writers.push(join(&http, &mut circle, &owner.device, Capability::Member).await);
    }
    let circle = Arc::new(circle);
    let id = circle.id();

    // Each member pushes its own chain as fast as it can; acknowledged envelopes are
    // recorded with their cursors.
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut tasks = Vec::new();
    for (n, person) in writers.into_iter().enumerate() {
        let (http, circle, acked, id) = (http.clone(), circle.clone(), acked.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let mut writer = Writer::new();
            let mut pending: Vec<SealedEnvelope> = Vec::new();
            for round in 0.. {
                if pending.is_empty() {
                    let size = 1 + (round + n) % 3;
                    pending = (0..size)
                        .map(|i| writer.next(&circle, &person.device, &format!("{n}/{round}/{i}")))
                        .collect();
                }
                let refs: Vec<_> = pending.iter().collect();
                let reply = tokio::time::timeout(
                    Duration::from_secs(5),
                    http.push_quiet(&person.device, &id, &refs),
                )
                .await;
                match reply {
                    Ok(Some(cursors)) => {
                        let mut acked = acked.lock().unwrap();
                        for (cursor, envelope) in cursors.into_iter().zip(pending.drain(..)) {
                            acked.push((cursor, envelope.into_bytes()));
                        }
                    }
                    // The relay is gone: keep the unacknowledged batch for a retry.
                    _ => return (person, writer, pending),
                }
            }
            unreachable!()
        }));
    }
    // Let them push, then kill the relay mid-flight.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    relay.child.start_kill().expect("SIGKILL");
    relay.child.wait().await.expect("killed");
    let mut leftovers = Vec::new();
    for task in tasks {
        leftovers.push(task.await.expect("task"));
    }
    let acked = Arc::try_unwrap(acked).unwrap().into_inner().unwrap();
    assert!(acked.len() > 20, "only {} pushes acknowledged", acked.len());
    eprintln!(
        "{} envelopes acknowledged before kill -9, {} in flight",
        acked.len(),
        leftovers.iter().map(|(_, _, p)| p.len()).sum::<usize>()
    );

    // Same database, new process: everything acknowledged is there, byte for byte.
    let relay = start(&db).await;
    let http = client(&relay);
    let mut stored = std::collections::BTreeMap::new();
    let mut after = 0;
    loop {
        let page = http.pull(&owner.device, &id, after, 1000).await;
        let page = page.ok(200).clone();
        for e in page["envelopes"].as_array().unwrap() {
            let cursor = e["cursor"].as_u64().unwrap();
            stored.insert(cursor, B64.decode(e["envelope"].as_str().unwrap()).unwrap());
            after = cursor;
        }
        if page["more"] == false {
            break;
        }
    }
    for (cursor, bytes) in &acked {
        assert_eq!(
            stored.get(cursor),
            Some(bytes),
            "acknowledged cursor {cursor} lost"
        );
    }
    assert_eq!(
        http.read_log(&owner.device, &id, 0).await.ok(200)["len"],
        circle.log.len()
    );

    // The unacknowledged batches can be retried: stored ones get their cursor back,
    // the rest are stored now; nothing is duplicated.
    for (person, _writer, pending) in &leftovers {
        if pending.is_empty() {
            continue;
        }
        let refs: Vec<_> = pending.iter().collect();
        let cursors = http.push(&person.device, &id, &refs).await.ok(200)["cursors"].clone();
        for (cursor, envelope) in cursors.as_array().unwrap().iter().zip(pending) {
            let cursor = cursor.as_u64().unwrap();
            if let Some(bytes) = stored.get(&cursor) {
                assert_eq!(bytes, envelope.as_bytes());
            }
        }
    }
    let total = http.pull(&owner.device, &id, 0, 1).await.ok(200)["latest"]
        .as_u64()
        .unwrap();
    let expected = acked.len() as u64
        + leftovers
            .iter()
            .map(|(_, _, p)| p.len() as u64)
            .sum::<u64>();
    assert_eq!(total, expected, "every envelope stored exactly once");
    drop(relay);
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_then_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = database(dir.path()).await;
    let mut relay = start(&db).await;
    let http = client(&relay);
    let (circle, owner) = circle_on(&http).await;
    let id = circle.id();

    // A push whose body arrives in two halves, with SIGTERM in between.
    let envelope = Writer::new().next(&circle, &owner.device, "in flight");
    let path = format!("/v1/circles/{id}/envelopes");
    let body =
        serde_json::to_vec(&json!({ "envelopes": [B64.encode(envelope.as_bytes())] })).unwrap();
    let auth = sign_request(&owner.device, "POST", &path, &body, fresh_timestamp());
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: relay\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in auth.headers() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let addr = relay.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.unwrap();
    let half = body.len() / 2;
    stream.write_all(&body[..half]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pid = relay.child.id().expect("pid") as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        relay.child.try_wait().unwrap().is_none(),
        "still finishing the request"
    );

    stream.write_all(&body[half..]).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("response within 10 s")
        .expect("read");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""cursors":[1]"#), "{response}");

    let status = tokio::time::timeout(Duration::from_secs(10), relay.child.wait())
        .await
        .expect("exits within 10 s")
        .expect("wait");
    assert!(status.success(), "{status:?}");

    let relay = start(&db).await;
    let http = client(&relay);
    let page = http.pull(&owner.device, &id, 0, 10).await;
    assert_eq!(page.ok(200)["latest"], 1);
}
