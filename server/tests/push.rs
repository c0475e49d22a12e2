//! Web Push wake-ups through the relay: registration (signed, checked, typed
//! refusals that store nothing), fan-out to the other devices of a circle with the
//! content-free payload, 410 and removal dropping subscriptions, closing deleting
//! them, and a hanging push service costing bounded memory while pushes to the relay
//! go on. The receiver here decrypts with web-push-native's own `decrypt`; the
//! end-to-end test (`tests/tests/push.rs`) checks against an independent
//! implementation (Python's http-ece and py-vapid).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use kring_trust::identity::DeviceIdentity;
use kring_trust::membership::Capability;
use serde_json::{json, Value};
use web_push_native::p256;

/// What a push service got.
#[derive(Debug, Clone)]
struct Got {
    name: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    /// Status to answer per endpoint name (201 otherwise).
    status: Arc<Mutex<HashMap<String, u16>>>,
    base: String,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let receiver = Receiver {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            ..Receiver::default()
        };
        let app = axum::Router::new()
            .route("/push/{name}", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn to(&self, name: &str) -> Vec<Got> {
        let got = self.got.lock().expect("lock");
        got.iter().filter(|g| g.name == name).cloned().collect()
    }

    fn answer(&self, name: &str, status: u16) {
        self.status
            .lock()
            .expect("lock")
            .insert(name.to_owned(), status);
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let status = receiver
        .status
        .lock()
        .expect("lock")
        .get(&name)
        .copied()
        .unwrap_or(201);
    receiver.got.lock().expect("lock").push(Got {
        name,
        headers,
        body: body.to_vec(),
    });
    axum::http::StatusCode::from_u16(status).expect("status")
}

/// A device's push keys, as the platform's push API would make them.
struct PushKeys {
    name: String,
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl PushKeys {
    fn new(name: &str) -> Self {
        PushKeys {
            name: name.to_owned(),
            secret: p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng),
            auth: rand::random(),
        }
    }

    fn subscription(&self, base: &str) -> Value {
        json!({
            "endpoint": format!("{base}/push/{}", self.name),
            "p256dh": URL_SAFE_NO_PAD.encode(self.secret.public_key().to_sec1_bytes()),
            "auth": URL_SAFE_NO_PAD.encode(self.auth),
        })
    }

    fn open(&self, got: &Got) -> Value {
        let plain = web_push_native::decrypt(
            got.body.clone(),
            &self.secret,
            web_push_native::Auth::from_slice(&self.auth),
        )
        .expect("decrypts");
        serde_json::from_slice(&plain).expect("json payload")
    }
}

async fn register(client: &Client, device: &DeviceIdentity, circle: &str, body: &Value) -> Reply {
    client
        .send(
            device,
            "PUT",
            &format!("/v1/circles/{circle}/push"),
            Some(body),
        )
        .await
}

/// Waits (at most ten seconds) until `check` holds.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn subscriptions_stored(relay: &TestRelay) -> i64 {
    relay.count("SELECT count(*) FROM push_subscriptions").await
}

fn open_to_loopback(config: &mut kring_server::Config) {
    config.push_allow_http = true;
    config.push_allow_private = true;
    config.push_coalesce_ms = 50;
}

#[tokio::test]
async fn registration_is_signed_checked_and_refusals_store_nothing() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let id = circle.id();
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let keys = PushKeys::new("p");
    let good = keys.subscription("https://push.example.net");
    let path = format!("/v1/circles/{id}/push");

    let unsigned = client
        .send_raw(
            None,
            "PUT",
            &path,
            serde_json::to_vec(&good).unwrap(),
            fresh_timestamp(),
            &[],
        )
        .await;
    unsigned.expect(401, "unauthenticated");
    let stranger = DeviceIdentity::generate();
    register(&client, &stranger, &id, &good)
        .await
        .expect(403, "not_a_member");
    client
        .send(&stranger, "DELETE", &path, None)
        .await
        .expect(403, "not_a_member");
    for (endpoint, p256dh, auth) in [
        // Default policy: https on public addresses only.
        ("http://push.example.net/x", None, None),
        ("https://10.0.0.7/x", None, None),
        ("https://127.0.0.1:9/x", None, None),
        ("file:///etc/passwd", None, None),
        (
            "https://push.example.net/x",
            Some(URL_SAFE_NO_PAD.encode([4u8; 64])),
            None,
        ),
        ("https://push.example.net/x", None, Some("AAEC".to_owned())),
    ] {
        let mut body = good.clone();
        body["endpoint"] = json!(endpoint);
        if let Some(p) = p256dh {
            body["p256dh"] = json!(p);
        }
        if let Some(a) = auth {
            body["auth"] = json!(a);
        }
        register(&client, &member.device, &id, &body)
            .await
            .expect(400, "invalid_subscription");
    }
    register(
        &client,
        &member.device,
        &id,
        &json!({"endpoint": "https://x"}),
    )
    .await
    .expect(400, "bad_request");
    let mut huge = good.clone();
    huge["endpoint"] = json!(format!("https://push.example.net/{}", "a".repeat(3000)));
    register(&client, &member.device, &id, &huge)
        .await
        .expect(413, "too_large");
    assert_eq!(
        subscriptions_stored(&relay).await,
        0,
        "refusals store nothing"
    );

    let ok = register(&client, &member.device, &id, &good).await;
    assert_eq!(ok.ok(200), &json!({"circle": id, "registered": true}));
    // Registering again replaces, it does not add.
    register(
        &client,
        &member.device,
        &id,
        &PushKeys::new("q").subscription("https://push.example.net"),
    )
    .await
    .ok(200);
    assert_eq!(subscriptions_stored(&relay).await, 1);
    let gone = client.send(&member.device, "DELETE", &path, None).await;
    assert_eq!(gone.ok(200), &json!({"circle": id, "registered": false}));
    client
        .send(&member.device, "DELETE", &path, None)
        .await
        .ok(200);
    assert_eq!(subscriptions_stored(&relay).await, 0);

    // A removed device may not register.
    let entry = circle.remove_member_entry(&owner.device, &member.member, &BTreeMap::new());
    client.append(&owner.device, &id, &entry).await.ok(201);
    register(&client, &member.device, &id, &good)
        .await
        .expect(403, "removed");
    assert_eq!(subscriptions_stored(&relay).await, 0);
    relay.stop().await;
}

#[tokio::test]
async fn the_vapid_key_is_made_once_and_kept_with_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = database(dir.path()).await;
    let mut keys = Vec::new();
    for _ in 0..2 {
        let relay = kring_server::spawn(kring_server::Config::local_on(db.clone()))
            .await
            .expect("relay");
        let answer: Value = reqwest::get(format!("{}/v1/push/vapid", relay.url()))
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let key = answer["public_key"].as_str().expect("key").to_owned();
        let point = URL_SAFE_NO_PAD.decode(&key).expect("base64url");
        assert_eq!((point.len(), point[0]), (65, 4));
        keys.push(key);
        relay.shutdown().await.expect("stop");
    }
    assert_eq!(keys[0], keys[1]);
}

#[tokio::test]
async fn others_get_the_content_free_wakeup_the_author_nothing_and_410_unregisters() {
    let receiver = Receiver::start().await;
    let relay = TestRelay::start_with(open_to_loopback).await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let id = circle.id();
    let writer = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let other = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let reader = join(&client, &mut circle, &owner.device, Capability::Reader).await;
    let keys: Vec<(PushKeys, &DeviceIdentity)> = [
        ("owner", &owner.device),
        ("writer", &writer.device),
        ("other", &other.device),
        ("reader", &reader.device),
    ]
    .into_iter()
    .map(|(name, device)| (PushKeys::new(name), device))
    .collect();
    for (k, device) in &keys {
        register(&client, device, &id, &k.subscription(&receiver.base))
            .await
            .ok(200);
    }

    let mut by_writer = Writer::new();
    let sealed = by_writer.next(&circle, &writer.device, "Naar het ziekenhuis rijden");
    client.push(&writer.device, &id, &[&sealed]).await.ok(200);
    eventually("owner, other and reader are woken", || {
        ["owner", "other", "reader"]
            .iter()
            .all(|n| !receiver.to(n).is_empty())
    })
    .await;
    for (k, _) in keys.iter().filter(|(k, _)| k.name != "writer") {
        let got = receiver.to(&k.name);
        assert_eq!(got.len(), 1, "{}: one push", k.name);
        let push = &got[0];
        assert_eq!(
            k.open(push),
            json!({"v": 1, "circle": id, "cursor": 1}),
            "{}",
            k.name
        );
        let header = |name: &str| push.headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("content-encoding"), Some("aes128gcm"));
        assert_eq!(header("urgency"), Some("normal"));
        assert_eq!(header("ttl"), Some("43200"));
        assert!(header("authorization").is_some_and(|a| a.starts_with("vapid t=")));
        assert_eq!(header("topic").map(str::len), Some(32));
        assert!(!contains_plain(&push.body, "ziekenhuis"));
    }

    // The writer is woken by someone else's change; by then, it got nothing else.
    let mut by_owner = Writer::new();
    receiver.answer("other", 410);
    let sealed = by_owner.next(&circle, &owner.device, "tweede");
    client.push(&owner.device, &id, &[&sealed]).await.ok(200);
    eventually("the writer is woken", || !receiver.to("writer").is_empty()).await;
    let to_writer = receiver.to("writer");
    assert_eq!(to_writer.len(), 1);
    assert_eq!(keys[1].0.open(&to_writer[0])["cursor"], 2);
    // "other" answered 410: its subscription is gone.
    let base = relay.base.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric_at(
        &reqwest::Client::new(),
        &base,
        "push_subscriptions_dropped_total{reason=\"gone\"}",
    )
    .await
        < 1.0
    {
        assert!(
            Instant::now() < deadline,
            "410 did not drop the subscription"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(subscriptions_stored(&relay).await, 3);
    let pushes_to_other = receiver.to("other").len();
    let sealed = by_writer.next(&circle, &writer.device, "derde");
    client.push(&writer.device, &id, &[&sealed]).await.ok(200);
    eventually("the owner hears of cursor 3", || {
        receiver
            .to("owner")
            .iter()
            .any(|g| keys[0].0.open(g)["cursor"] == 3)
    })
    .await;
    assert_eq!(
        receiver.to("other").len(),
        pushes_to_other,
        "no push after 410"
    );
    assert!(metric_at(&reqwest::Client::new(), &base, "push_sent_total").await >= 5.0);
    relay.stop().await;
}

/// Whether the (encrypted) body contains `needle` as plain bytes.
fn contains_plain(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn removal_and_closing_delete_subscriptions() {
    let receiver = Receiver::start().await;
    let relay = TestRelay::start_with(open_to_loopback).await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let id = circle.id();
    let stays = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let leaves = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let stays_keys = PushKeys::new("stays");
    let leaves_keys = PushKeys::new("leaves");
    register(
        &client,
        &stays.device,
        &id,
        &stays_keys.subscription(&receiver.base),
    )
    .await
    .ok(200);
    register(
        &client,
        &leaves.device,
        &id,
        &leaves_keys.subscription(&receiver.base),
    )
    .await
    .ok(200);
    assert_eq!(subscriptions_stored(&relay).await, 2);

    let entry = circle.remove_member_entry(&owner.device, &leaves.member, &BTreeMap::new());
    client.append(&owner.device, &id, &entry).await.ok(201);
    circle.apply(&entry);
    assert_eq!(
        subscriptions_stored(&relay).await,
        1,
        "the removed device's is deleted"
    );
    assert_eq!(
        metric_at(
            &reqwest::Client::new(),
            &relay.base,
            "push_subscriptions_dropped_total{reason=\"left\"}"
        )
        .await,
        1.0
    );
    // The removal itself wakes the one who stays, not the one removed.
    eventually("the member who stays hears of the removal", || {
        !receiver.to("stays").is_empty()
    })
    .await;
    let mut writer = Writer::new();
    let sealed = writer.next(&circle, &owner.device, "na de verwijdering");
    client.push(&owner.device, &id, &[&sealed]).await.ok(200);
    eventually("the member who stays hears of cursor 1", || {
        receiver
            .to("stays")
            .iter()
            .any(|g| stays_keys.open(g)["cursor"] == 1)
    })
    .await;
    assert!(
        receiver.to("leaves").is_empty(),
        "the removed device got nothing"
    );

    client
        .send(
            &owner.device,
            "POST",
            &format!("/v1/circles/{id}/close"),
            None,
        )
        .await
        .ok(200);
    assert_eq!(
        subscriptions_stored(&relay).await,
        0,
        "closing deletes them"
    );
    register(
        &client,
        &stays.device,
        &id,
        &stays_keys.subscription(&receiver.base),
    )
    .await
    .expect(410, "circle_closed");
    relay.stop().await;
}

/// A push service that accepts connections and never answers: pushes to the relay
/// keep being acknowledged at once, the push queues stay within their bounds (the
/// excess is dropped and counted), requests time out, and memory stays flat.
#[tokio::test]
async fn a_hanging_push_service_costs_bounded_memory_and_blocks_nothing() {
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hang_base = format!("http://{}", hang.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hang.accept().await {
            held.push(socket);
        }
    });
    let relay = RelayProcess::start(
        &[
            "--push-allow-http",
            "--push-allow-private",
            "--push-timeout-secs",
            "1",
            "--push-queue",
            "4",
            "--push-concurrency",
            "2",
            "--push-coalesce-ms",
            "0",
            "--rate-per-sec",
            "0",
            "--address-rate-per-sec",
            "0",
        ],
        None,
    )
    .await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let id = circle.id();
    let mut members = Vec::new();
    for i in 0..9 {
        let person = join(&client, &mut circle, &owner.device, Capability::Member).await;
        register(
            &client,
            &person.device,
            &id,
            &PushKeys::new(&format!("m{i}")).subscription(&hang_base),
        )
        .await
        .ok(200);
        members.push(person);
    }
    let (rss_before, _) = relay.memory_kib();
    let mut writer = Writer::new();
    let started = Instant::now();
    let mut max_depth = 0.0f64;
    for i in 0..60 {
        let sealed = writer.next(&circle, &owner.device, &format!("bericht {i}"));
        let took = Instant::now();
        client.push(&owner.device, &id, &[&sealed]).await.ok(200);
        assert!(took.elapsed() < Duration::from_secs(2), "push {i} waited");
        if i % 10 == 0 {
            max_depth = max_depth.max(relay.metric("push_queue_depth").await);
        }
    }
    let pushing = started.elapsed();
    max_depth = max_depth.max(relay.metric("push_queue_depth").await);
    assert!(
        max_depth <= 8.0,
        "queue depth {max_depth} beyond its bounds"
    );
    // 60 changes × 9 devices, two at a time, one second each: most are dropped.
    assert!(relay.metric("push_discarded_total").await > 100.0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while relay.metric("push_failed_total").await < 2.0 {
        assert!(
            Instant::now() < deadline,
            "hanging requests never timed out"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The relay still serves everything else.
    let pulled = client.pull(&members[0].device, &id, 0, 1000).await;
    assert_eq!(
        pulled.ok(200)["envelopes"].as_array().map(Vec::len),
        Some(60)
    );
    let (rss_after, peak) = relay.memory_kib();
    eprintln!(
        "hanging push service: 60 pushes in {pushing:?}, queue depth ≤ {max_depth}, \
         RSS {rss_before} → {rss_after} KiB (peak {peak})"
    );
    assert!(
        rss_after.saturating_sub(rss_before) < 32 * 1024,
        "memory grew {rss_before} → {rss_after} KiB"
    );
}
