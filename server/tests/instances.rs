//! Several `kring-server` processes on one PostgreSQL database (docs/relay.md,
//! "Several relays on PostgreSQL"): what a device pushes through one is streamed live
//! by another, memberships changed through one hold in the other, and a `kill -9` of
//! one process during concurrent pushes loses no acknowledged envelope, reuses no
//! cursor and skips none, while its devices go on through the other.
//!
//! Needs a PostgreSQL server (`scripts/with-postgres.sh`, which the test command
//! uses); without one there is nothing to share and these tests say so and pass.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use common::*;
use futures_util::StreamExt;
use kring_trust::envelope::{self, SealedEnvelope};
use kring_trust::identity::DeviceIdentity;
use kring_trust::live::LiveFrame;
use kring_trust::membership::Capability;
use kring_trust::request_auth::sign_request;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Two relay processes on one fresh PostgreSQL database; `None` without PostgreSQL.
async fn two_processes(args: &[&str]) -> Option<(RelayProcess, RelayProcess)> {
    if postgres().is_none() {
        eprintln!("no KRING_TEST_POSTGRES: run under scripts/with-postgres.sh");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let database = database(dir.path()).await;
    let a = RelayProcess::start_on(database.clone(), dir, args, None).await;
    let b =
        RelayProcess::start_on(database, tempfile::tempdir().expect("tempdir"), args, None).await;
    Some((a, b))
}

/// A streaming socket on `relay` for `circle`, from the device's positions.
async fn stream(
    relay: &RelayProcess,
    device: &DeviceIdentity,
    circle: &str,
    after: u64,
    log: u64,
) -> Socket {
    stream_at(relay.addr, device, circle, after, log)
        .await
        .expect("streaming socket connects")
}

/// A streaming socket to whatever listens at `addr` (a relay, or nginx before them);
/// `None` if it does not connect.
async fn stream_at(
    addr: std::net::SocketAddr,
    device: &DeviceIdentity,
    circle: &str,
    after: u64,
    log: u64,
) -> Option<Socket> {
    let path = format!("/v1/live?circles={circle}&after={after}&log={log}");
    let url = format!("ws://{addr}{path}");
    let mut request = url.into_client_request().expect("request");
    let auth = sign_request(device, "GET", &path, b"", fresh_timestamp());
    for (name, value) in auth.headers() {
        request
            .headers_mut()
            .insert(name, value.parse().expect("header value"));
    }
    tokio_tungstenite::connect_async(request)
        .await
        .ok()
        .map(|(socket, _)| socket)
}

/// The next frame the socket delivers (notices and pings skipped), or how it closed.
async fn next_frame(socket: &mut Socket) -> Result<LiveFrame, Option<CloseCode>> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("something within 5 s");
        match message {
            Some(Ok(Message::Binary(bytes))) => {
                return Ok(LiveFrame::decode(&bytes).expect("a live frame"))
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| f.code)),
            None | Some(Err(_)) => return Err(None),
            Some(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn what_one_process_stores_the_other_streams_live_and_memberships_hold_in_both() {
    let Some((a, b)) = two_processes(&[]).await else {
        return;
    };
    let (through_a, through_b) = (a.client(), b.client());
    let (mut circle, owner) = circle_on(&through_a).await;
    let id = circle.id();
    // A member joins through B; A, which holds the circle in memory, takes their
    // first push at once.
    let member = join(&through_b, &mut circle, &owner.device, Capability::Member).await;
    let mut member_writer = Writer::new();
    let first = member_writer.next(&circle, &member.device, "via A, just after joining via B");
    through_a.push(&member.device, &id, &[&first]).await.ok(200);

    // The member streams from A; the owner pushes through B.
    let mut socket = stream(&a, &member.device, &id, 1, circle.log.len() as u64).await;
    let mut owner_writer = Writer::new();
    let mut sent = Vec::new();
    for n in 0..5 {
        let envelope = owner_writer.next(&circle, &owner.device, &format!("via B {n}"));
        sent.push(envelope.as_bytes().to_vec());
        through_b
            .push(&owner.device, &id, &[&envelope])
            .await
            .ok(200);
    }
    let mut streamed = Vec::new();
    while streamed.len() < sent.len() {
        match next_frame(&mut socket).await {
            Ok(LiveFrame::Envelope { cursor, bytes, .. }) => {
                envelope::verify(&bytes, &circle.state).expect("a valid envelope");
                streamed.push((cursor, bytes));
            }
            Ok(other) => panic!("expected an envelope, got {other:?}"),
            Err(code) => panic!("socket closed ({code:?})"),
        }
    }
    assert_eq!(
        streamed.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6],
        "in cursor order, after the member's own"
    );
    assert_eq!(
        streamed.into_iter().map(|(_, b)| b).collect::<Vec<_>>(),
        sent,
        "the exact bytes pushed through the other process"
    );
    assert!(a.metric("notice_lag_seconds_count").await >= 5.0);

    // The owner removes the member through B: A closes the member's socket, and A
    // refuses the member's next push.
    let late = member_writer.next(&circle, &member.device, "sealed before the removal");
    let cutoffs = BTreeMap::from([(member.device.id(), 1)]);
    let removal = circle.remove_member_entry(&owner.device, &member.member, &cutoffs);
    through_b.append(&owner.device, &id, &removal).await.ok(201);
    circle.apply(&removal);
    loop {
        match next_frame(&mut socket).await {
            Ok(LiveFrame::Entry { .. }) => continue,
            Ok(other) => panic!("nothing but the removal, got {other:?}"),
            Err(code) => {
                assert_eq!(code, Some(CloseCode::from(4003)), "closed as removed");
                break;
            }
        }
    }
    let refused = through_a.push(&member.device, &id, &[&late]).await;
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.body);
    assert_eq!(
        through_a.read_log(&owner.device, &id, 0).await.ok(200)["len"],
        circle.log.len(),
        "both processes serve the same log"
    );
}

/// An acknowledged envelope: its cursor and exact bytes.
type Acked = (u64, Vec<u8>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_a_kill_9_of_one_process_during_pushes_loses_nothing_and_its_devices_go_on() {
    let unlimited = [
        "--rate-per-sec",
        "0",
        "--address-rate-per-sec",
        "0",
        "--max-connections-per-address",
        "0",
        "--max-live-per-address",
        "0",
    ];
    let Some((mut a, b)) = two_processes(&unlimited).await else {
        return;
    };
    let Some(nginx) = Nginx::start(&[a.addr, b.addr]).await else {
        panic!("nginx is not installed (scripts/postgres-suites.sh installs it)");
    };
    let database = a.database.clone();
    let relay = nginx.client();
    let (mut circle, owner) = circle_on(&relay).await;
    let mut writers = Vec::new();
    for _ in 0..6 {
        writers.push(join(&relay, &mut circle, &owner.device, Capability::Member).await);
    }
    let circle = Arc::new(circle);
    let id = circle.id();

    // The owner watches on a streaming socket to the process that will be killed, and
    // reconnects through nginx from its last cursor whenever the socket ends (as the
    // apps do).
    let watched: Arc<Mutex<BTreeMap<u64, Vec<u8>>>> = Arc::default();
    let watching = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (watched, watching, id, doomed, nginx_addr) = (
            watched.clone(),
            watching.clone(),
            id.clone(),
            a.addr,
            nginx.addr,
        );
        let pulls = nginx.client();
        let device = DeviceIdentity::from_secret_bytes(&owner.device.to_secret_bytes())
            .expect("the owner's device");
        let log = circle.log.len() as u64;
        tokio::spawn(async move {
            let mut reconnects = 0;
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                let after = watched
                    .lock()
                    .expect("lock")
                    .keys()
                    .last()
                    .copied()
                    .unwrap_or(0);
                let to = if reconnects == 0 { doomed } else { nginx_addr };
                let Some(mut socket) = stream_at(to, &device, &id, after, log).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                reconnects += 1;
                loop {
                    let next =
                        tokio::time::timeout(Duration::from_millis(500), socket.next()).await;
                    match next {
                        Ok(Some(Ok(Message::Binary(bytes)))) => {
                            if let Ok(LiveFrame::Envelope { cursor, bytes, .. }) =
                                LiveFrame::decode(&bytes)
                            {
                                watched.lock().expect("lock").insert(cursor, bytes);
                            }
                        }
                        // A notice: the socket fell behind (or the catch-up was long),
                        // so the device pulls what it has not got, as the apps do.
                        Ok(Some(Ok(Message::Text(_)))) => {
                            let after = watched
                                .lock()
                                .expect("lock")
                                .keys()
                                .last()
                                .copied()
                                .unwrap_or(0);
                            let missing = pull_from(&pulls, &device, &id, after).await;
                            watched.lock().expect("lock").extend(missing);
                        }
                        Ok(Some(Ok(_))) => {}
                        // Ended: reconnect. Quiet: check whether to stop.
                        Ok(None | Some(Err(_))) => break,
                        Err(_) if !watching.load(std::sync::atomic::Ordering::Relaxed) => break,
                        Err(_) => {}
                    }
                }
            }
            reconnects
        })
    };

    // Every writer pushes through nginx as fast as it can; a push that fails (the
    // process behind it died) is sent again, as a device does.
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (n, person) in writers.into_iter().enumerate() {
        let (relay, circle, acked, id) = (relay.clone(), circle.clone(), acked.clone(), id.clone());
        let (killed, stop) = (killed.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut writer = Writer::new();
            let mut pending: Vec<SealedEnvelope> = Vec::new();
            let (mut retries, mut acked_after_kill, mut failing) = (0, 0, 0);
            for round in 0.. {
                if pending.is_empty() {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return (retries, acked_after_kill);
                    }
                    let size = 1 + (round + n) % 3;
                    pending = (0..size)
                        .map(|i| writer.next(&circle, &person.device, &format!("{n}/{round}/{i}")))
                        .collect();
                }
                let refs: Vec<_> = pending.iter().collect();
                let reply = tokio::time::timeout(
                    Duration::from_secs(5),
                    relay.push_quiet(&person.device, &id, &refs),
                )
                .await;
                if let Ok(Some(cursors)) = reply {
                    if killed.load(std::sync::atomic::Ordering::Relaxed) {
                        acked_after_kill += 1;
                    }
                    failing = 0;
                    let mut acked = acked.lock().expect("lock");
                    for (cursor, envelope) in cursors.into_iter().zip(pending.drain(..)) {
                        acked.push((cursor, envelope.into_bytes()));
                    }
                } else {
                    retries += 1;
                    failing += 1;
                    assert!(failing < 50, "writer {n}: the relay stayed unreachable");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            unreachable!()
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    killed.store(true, std::sync::atomic::Ordering::Relaxed);
    a.child.start_kill().expect("SIGKILL");
    a.child.wait().await.expect("killed");
    let acked_at_kill = acked.lock().expect("lock").len();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut retries = 0;
    for task in tasks {
        let (tried_again, after_kill) = task.await.expect("writer");
        assert!(
            after_kill > 0,
            "a writer got nothing through after the kill"
        );
        retries += tried_again;
    }
    let acked = Arc::try_unwrap(acked)
        .expect("writers done")
        .into_inner()
        .expect("lock");
    assert!(
        acked_at_kill > 20 && acked.len() > acked_at_kill,
        "{acked_at_kill} acknowledged at the kill, {} in all",
        acked.len()
    );
    eprintln!(
        "{acked_at_kill} envelopes acknowledged before kill -9 of one process, {} in all, {retries} pushes sent again",
        acked.len()
    );

    // The killed process starts again on the same database and serves everything.
    let a = RelayProcess::start_on(
        database,
        tempfile::tempdir().expect("tempdir"),
        &unlimited,
        None,
    )
    .await;
    let mut stored = BTreeMap::new();
    for relay in [&a, &b] {
        stored = pull_all(&relay.client(), &owner.device, &id).await;
        let cursors: Vec<u64> = stored.keys().copied().collect();
        assert_eq!(
            cursors,
            (1..=stored.len() as u64).collect::<Vec<_>>(),
            "cursors are 1..=N: none reused, none skipped"
        );
        for (cursor, bytes) in &acked {
            assert_eq!(
                stored.get(cursor),
                Some(bytes),
                "acknowledged cursor {cursor} lost or changed"
            );
        }
        // Every stored envelope was acknowledged, or sent again and acknowledged then.
        assert_eq!(stored.len(), acked.len(), "nothing stored twice");
    }
    // The watcher's socket, reconnected through nginx, caught up with all of it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while watched.lock().expect("lock").len() < stored.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "the watcher did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    let reconnects = watcher.await.expect("watcher");
    assert_eq!(
        *watched.lock().expect("lock"),
        stored,
        "the watcher saw it all"
    );
    assert!(
        reconnects >= 2,
        "the watcher was on the killed process and came back"
    );
}

/// Every envelope of the circle, by cursor.
async fn pull_all(client: &Client, device: &DeviceIdentity, id: &str) -> BTreeMap<u64, Vec<u8>> {
    pull_from(client, device, id, 0).await
}

/// The envelopes of the circle after cursor `after`, by cursor.
async fn pull_from(
    client: &Client,
    device: &DeviceIdentity,
    id: &str,
    mut after: u64,
) -> BTreeMap<u64, Vec<u8>> {
    let mut stored = BTreeMap::new();
    loop {
        let page = client.pull(device, id, after, 1000).await;
        let page = page.ok(200).clone();
        for e in page["envelopes"].as_array().expect("envelopes") {
            let cursor = e["cursor"].as_u64().expect("cursor");
            let bytes = B64
                .decode(e["envelope"].as_str().expect("envelope"))
                .expect("base64");
            stored.insert(cursor, bytes);
            after = cursor;
        }
        if page["more"] == false {
            return stored;
        }
    }
}

/// A PostgreSQL tool of the throwaway cluster (`scripts/with-postgres.sh`).
fn pg_tool(name: &str) -> std::process::Command {
    let bin = std::env::var("KRING_TEST_PG_BIN").unwrap_or_default();
    std::process::Command::new(std::path::Path::new(&bin).join(name))
}

#[tokio::test]
async fn a_pg_dump_of_a_live_relay_restores_and_devices_send_again_what_it_lost() {
    let Some(admin) = postgres() else {
        eprintln!("no KRING_TEST_POSTGRES: run under scripts/with-postgres.sh");
        return;
    };
    let relay = RelayProcess::start(&[], None).await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    let mut writer = Writer::new();
    let sent: Vec<SealedEnvelope> = (0..3)
        .map(|n| writer.next(&circle, &member.device, &format!("change {n}")))
        .collect();
    client
        .push(&member.device, &id, &[&sent[0], &sent[1]])
        .await
        .ok(200);

    // The backup is taken while the relay serves; then one more change arrives.
    let backups = tempfile::tempdir().expect("tempdir");
    let backup = backups.path().join("relay.dump");
    let dumped = pg_tool("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&backup)
        .arg(format!("--dbname={}", relay.database.as_flag()))
        .status()
        .expect("pg_dump runs");
    assert!(dumped.success(), "pg_dump of the live relay");
    client.push(&member.device, &id, &[&sent[2]]).await.ok(200);
    drop(relay);

    // Restored into a new database, served by a new relay process.
    let restored = kring_server::store::postgres::fresh_database(&admin, "restored")
        .await
        .expect("a database to restore into");
    let status = pg_tool("pg_restore")
        .args(["--no-owner", "--exit-on-error"])
        .arg(format!("--dbname={restored}"))
        .arg(&backup)
        .status()
        .expect("pg_restore runs");
    assert!(status.success(), "pg_restore");
    let relay = RelayProcess::start_on(
        kring_server::config::Database::Postgres(restored),
        tempfile::tempdir().expect("tempdir"),
        &[],
        None,
    )
    .await;
    let client = relay.client();
    assert_eq!(
        client.pull(&owner.device, &id, 0, 10).await.ok(200)["latest"],
        2,
        "the backup holds what was stored when it was taken"
    );
    // The device sends again everything the relay does not have (as a device does
    // after its relay lost data): the first two are already there, the third is new.
    let again = client
        .push(&member.device, &id, &sent.iter().collect::<Vec<_>>())
        .await;
    assert_eq!(again.ok(200)["cursors"], serde_json::json!([1, 2, 3]));
    let stored = pull_all(&client, &owner.device, &id).await;
    assert_eq!(
        stored.into_values().collect::<Vec<_>>(),
        sent.iter()
            .map(|e| e.as_bytes().to_vec())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_sqlite_relay_moved_to_postgres_keeps_serving_its_circles_where_they_were() {
    let Some(admin) = postgres() else {
        eprintln!("no KRING_TEST_POSTGRES: run under scripts/with-postgres.sh");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("relay.db");
    let sqlite = kring_server::config::Database::Sqlite(file.clone());
    let relay =
        RelayProcess::start_on(sqlite, tempfile::tempdir().expect("tempdir"), &[], None).await;
    let client = relay.client();
    let vapid_key = |client: Client| async move {
        let answer: serde_json::Value = client
            .http
            .get(format!("{}/v1/push/vapid", client.base))
            .send()
            .await
            .expect("vapid")
            .json()
            .await
            .expect("json");
        answer["public_key"].clone()
    };
    let key_before = vapid_key(client.clone()).await;
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    let mut writer = Writer::new();
    let sent: Vec<SealedEnvelope> = (0..3)
        .map(|n| writer.next(&circle, &member.device, &format!("on SQLite {n}")))
        .collect();
    client
        .push(&member.device, &id, &sent.iter().collect::<Vec<_>>())
        .await
        .ok(200);
    let before = pull_all(&client, &owner.device, &id).await;
    drop(relay);

    let target = kring_server::store::postgres::fresh_database(&admin, "migrated")
        .await
        .expect("a database to move to");
    let migrate = |target: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kring-server"))
            .args(["migrate", "--from"])
            .arg(format!("sqlite:{}", file.display()))
            .args(["--to", target])
            .output()
            .expect("kring-server migrate runs")
    };
    let moved = migrate(&target);
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(String::from_utf8_lossy(&moved.stdout).contains("envelopes 3"));

    let relay = RelayProcess::start_on(
        kring_server::config::Database::Postgres(target.clone()),
        tempfile::tempdir().expect("tempdir"),
        &[],
        None,
    )
    .await;
    let client = relay.client();
    assert_eq!(
        pull_all(&client, &owner.device, &id).await,
        before,
        "same cursors, same bytes"
    );
    assert_eq!(
        vapid_key(client.clone()).await,
        key_before,
        "the push key moved too"
    );
    // The circle goes on: a new change gets the next cursor, a new member joins at the
    // next position, and a new circle can be created.
    let next = writer.next(&circle, &member.device, "on PostgreSQL");
    assert_eq!(
        client.push(&member.device, &id, &[&next]).await.ok(200)["cursors"],
        serde_json::json!([4])
    );
    join(&client, &mut circle, &owner.device, Capability::Member).await;
    circle_on(&client).await;

    // A second migration into a database that holds circles is refused.
    let again = migrate(&target);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("empty relay database"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// `kring-server` started on `db`, expected to refuse: its exit status and stderr.
async fn refused_start(db: &str) -> (std::process::ExitStatus, String) {
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_kring-server"))
            .args(["--listen", "127.0.0.1:0", "--db", db])
            .env("KRING_LOG", "off")
            .output(),
    )
    .await
    .expect("it gives up within 30 s")
    .expect("kring-server runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_wrong_database_or_a_newer_schema_is_one_clear_sentence_and_changes_nothing() {
    let Some(admin) = postgres() else {
        eprintln!("no KRING_TEST_POSTGRES: run under scripts/with-postgres.sh");
        return;
    };
    // Nothing listens on port 1; a URL that does not parse; a database that does not
    // exist on a server that does.
    let missing = {
        let mut url = url_of(&admin);
        url.set_path("no_such_database");
        url.to_string()
    };
    for (db, says) in [
        (
            "postgres://kring:geheim@127.0.0.1:1/kring",
            "cannot connect",
        ),
        ("postgres://kring@[::1", "postgres:// URL"),
        (missing.as_str(), "cannot connect"),
    ] {
        let (status, stderr) = refused_start(db).await;
        assert!(!status.success(), "{db}");
        assert_eq!(stderr.trim().lines().count(), 1, "one sentence: {stderr}");
        assert!(stderr.contains(says), "{db}: {stderr}");
        assert!(
            !stderr.contains("geheim"),
            "no password in the message: {stderr}"
        );
    }

    // A database whose schema a newer relay wrote is refused and left as it is.
    let dir = tempfile::tempdir().expect("tempdir");
    let database = database(dir.path()).await;
    drop(RelayProcess::start_on(database.clone(), dir, &[], None).await);
    let url = database.as_flag();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .execute("UPDATE kring_schema SET version = 99", &[])
        .await
        .expect("pretend a newer relay wrote it");
    let (status, stderr) = refused_start(&url).await;
    assert!(!status.success());
    assert!(stderr.contains("schema version 99"), "{stderr}");
    let version: i32 = client
        .query_one("SELECT version FROM kring_schema", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, 99, "not altered");
}

fn url_of(text: &str) -> url::Url {
    url::Url::parse(text).expect("a URL")
}

/// What a process decided against an older log is refused by the store when another
/// process appended since: a subscription for a device removed there, a snapshot under
/// the key the removal replaced, the owner's close from a device removed there. Each
/// refusal is `LogMoved` (the API's `503 unavailable`, after which the next request
/// reads the log again), and none changes what is stored.
#[tokio::test]
async fn a_decision_against_an_older_log_is_refused_by_the_shared_store() {
    use kring_server::push::Subscription;
    use kring_server::store::{postgres::PostgresStore, RelayStore};
    let Some(admin) = postgres() else {
        eprintln!("no KRING_TEST_POSTGRES: run under scripts/with-postgres.sh");
        return;
    };
    let url = kring_server::store::postgres::fresh_database(&admin, "relay_test")
        .await
        .expect("a fresh database");
    let store = PostgresStore::open(&url, 2).await.expect("opened");
    let owner = Person::new();
    let member = Person::new();
    let (mut circle, genesis) = Circle::found(&owner);
    let key = store
        .create_circle(circle.state.circle().clone(), genesis, None)
        .await
        .expect("created");
    let added = circle.add_member_entry(&owner.device, &member, Capability::Member);
    store.append_entry(key, added.clone()).await.expect("added");
    circle.apply(&added);
    // Judged when the log had only the genesis entry: another process added since.
    let judged_before = 1;
    let subscription = Subscription {
        endpoint: "https://push.example/1".into(),
        p256dh: b"key".to_vec(),
        auth: b"auth".to_vec(),
    };
    fn moved<T>(result: Result<T, kring_server::Error>) {
        assert!(
            matches!(result, Err(kring_server::Error::LogMoved)),
            "refused as behind the log"
        )
    }
    moved(
        store
            .put_push_subscription(key, judged_before, member.device.id(), subscription.clone())
            .await,
    );
    moved(
        store
            .put_snapshot(key, judged_before, 0, b"x".to_vec())
            .await,
    );
    moved(store.close_circle(key, judged_before).await);
    assert!(store
        .push_subscriptions(key)
        .await
        .expect("read")
        .is_empty());
    assert_eq!(store.snapshot(key).await.expect("read"), None);
    assert_eq!(store.log_len(key).await.expect("still open"), 2);
    // Judged at the log as stored, the same requests are taken.
    store
        .put_push_subscription(key, 2, member.device.id(), subscription)
        .await
        .expect("registered");
    assert_eq!(store.push_subscriptions(key).await.expect("read").len(), 1);
    store.close_circle(key, 2).await.expect("closed");
    assert!(store.log_len(key).await.is_err(), "closed");
}
