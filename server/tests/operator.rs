//! What an operator and a circle's owner rely on: admission credentials (made, used and
//! revoked with the real binary), quotas with clear codes, closing a circle so that
//! the relay keeps only a tombstone, and a bounded circle cache.

mod common;

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use common::*;
use kring_trust::membership::Capability;
use serde_json::json;

fn run(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kring-server"))
        .args(args)
        .output()
        .expect("kring-server runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// Creates a circle, with `credential` as the admission header if given.
async fn create(client: &Client, credential: Option<&str>) -> Reply {
    let owner = Person::new();
    let (_, genesis) = Circle::found(&owner);
    let body =
        serde_json::to_vec(&json!({ "genesis": B64.encode(genesis.as_bytes()) })).expect("json");
    let extra: Vec<(&str, String)> = credential
        .map(|c| vec![("x-kring-admission", c.to_owned())])
        .unwrap_or_default();
    client
        .send_raw(
            Some(&owner.device),
            "POST",
            "/v1/circles",
            body,
            fresh_timestamp(),
            &extra,
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_holders_of_an_unrevoked_credential_create_circles_in_credential_mode() {
    let keys = tempfile::tempdir().expect("tempdir");
    let key_file = keys.path().join("operator.key");
    let key_path = key_file.to_str().expect("utf-8 path");
    let public = run(&["admission", "keygen", "--out", key_path]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the operator key is private");
    }
    let credential = run(&[
        "admission",
        "issue",
        "--key",
        key_path,
        "--holder",
        "Gemeente Test",
        "--max-circles",
        "2",
    ]);
    let other_operator = keys.path().join("other.key");
    run(&[
        "admission",
        "keygen",
        "--out",
        other_operator.to_str().expect("path"),
    ]);
    let foreign = run(&[
        "admission",
        "issue",
        "--key",
        other_operator.to_str().expect("path"),
        "--holder",
        "Someone",
    ]);

    let relay = RelayProcess::start(
        &["--admission", "credential", "--operator-key", &public],
        None,
    )
    .await;
    let client = relay.client();
    create(&client, None)
        .await
        .expect(403, "admission_required");
    create(&client, Some("garbage"))
        .await
        .expect(403, "admission_required");
    create(&client, Some(&foreign))
        .await
        .expect(403, "admission_required");
    create(&client, Some(&credential)).await.ok(201);
    create(&client, Some(&credential)).await.ok(201);
    let full = create(&client, Some(&credential)).await;
    full.expect(507, "quota_exceeded");
    assert!(full.body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("circles for this admission credential"));

    // Revoked while the relay runs: no more circles with it.
    let second = run(&[
        "admission",
        "issue",
        "--key",
        key_path,
        "--holder",
        "Stichting Test",
    ]);
    create(&client, Some(&second)).await.ok(201);
    let db = relay.database.as_flag();
    let revoked = run(&["--db", &db, "admission", "revoke", &second]);
    assert!(revoked.starts_with("revoked "), "{revoked}");
    let refused = create(&client, Some(&second)).await;
    refused.expect(403, "admission_required");
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("revoked"));
}

#[tokio::test]
async fn open_mode_stays_the_default_for_a_local_relay() {
    let relay = TestRelay::start().await;
    create(&relay.client(), None).await.ok(201);
    relay.stop().await;
}

#[tokio::test]
async fn quotas_refuse_with_clear_codes_and_store_nothing_of_the_refused_push() {
    let relay = TestRelay::start_with(|c| {
        c.max_circle_envelopes = 3;
        c.max_device_envelopes_per_day = 5;
        c.max_log_entries = 3;
    })
    .await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    let mut writer = Writer::new();
    let first: Vec<_> = (0..2)
        .map(|i| writer.next(&circle, &member.device, &format!("{i}")))
        .collect();
    client
        .push(&member.device, &id, &first.iter().collect::<Vec<_>>())
        .await
        .ok(200);
    // A batch of two would pass the circle's quota of three: refused whole.
    let batch: Vec<_> = (0..2)
        .map(|i| writer.next(&circle, &member.device, &format!("more {i}")))
        .collect();
    let reply = client
        .push(&member.device, &id, &batch.iter().collect::<Vec<_>>())
        .await;
    reply.expect(507, "quota_exceeded");
    assert_eq!(
        client.pull(&member.device, &id, 0, 10).await.ok(200)["latest"],
        2
    );
    // The first of them alone still fits.
    client.push(&member.device, &id, &[&batch[0]]).await.ok(200);

    // The daily quota is per member (a_members_devices_share_one_daily_quota); here
    // another circle for the log's cap.
    let (mut other, other_owner) = circle_on(&client).await;
    let person = Person::new();
    let entry = other.add_member_entry(&other_owner.device, &person, Capability::Member);
    client
        .append(&other_owner.device, &other.id(), &entry)
        .await
        .ok(201);
    other.apply(&entry);

    // The membership log's length is capped too: genesis, member, and a third.
    let third = Person::new();
    let entry = other.add_member_entry(&other_owner.device, &third, Capability::Member);
    client
        .append(&other_owner.device, &other.id(), &entry)
        .await
        .ok(201);
    other.apply(&entry);
    let fourth = Person::new();
    let entry = other.add_member_entry(&other_owner.device, &fourth, Capability::Member);
    client
        .append(&other_owner.device, &other.id(), &entry)
        .await
        .expect(507, "quota_exceeded");

    // A padded genesis is refused before it is parsed.
    let padded = json!({ "genesis": B64.encode(vec![1u8; 5000]) });
    client
        .send(&Person::new().device, "POST", "/v1/circles", Some(&padded))
        .await
        .expect(413, "too_large");
    relay.stop().await;
}

#[tokio::test]
async fn an_owner_closes_a_circle_and_the_relay_keeps_only_a_tombstone() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let owner = Person::new();
    let (mut circle, genesis) = Circle::found(&owner);
    client.create_circle(&owner.device, &genesis).await.ok(201);
    let member = join(&client, &mut circle, &owner.device, Capability::Admin).await;
    let id = circle.id();
    let mut writer = Writer::new();
    let envelopes: Vec<_> = (0..3)
        .map(|i| writer.next(&circle, &member.device, &format!("care note {i}")))
        .collect();
    client
        .push(&member.device, &id, &envelopes.iter().collect::<Vec<_>>())
        .await
        .ok(200);
    let close = format!("/v1/circles/{id}/close");

    // Nobody but the owner: not an admin, not a stranger, not without a signature.
    client
        .send(&member.device, "POST", &close, None)
        .await
        .expect(403, "forbidden");
    client
        .send(&Person::new().device, "POST", &close, None)
        .await
        .expect(403, "not_a_member");
    client
        .send_raw(None, "POST", &close, Vec::new(), fresh_timestamp(), &[])
        .await
        .expect(401, "unauthenticated");
    assert_eq!(
        client.pull(&member.device, &id, 0, 10).await.ok(200)["latest"],
        3
    );

    let live_url = format!(
        "ws://{}/v1/live?circles={id}",
        relay.base.trim_start_matches("http://")
    );
    let mut live = live_socket(&member.device, &live_url).await;

    let reply = client.send(&owner.device, "POST", &close, None).await;
    assert_eq!(reply.ok(200)["closed"], true);

    // The live socket is closed with 4010.
    let code = tokio::time::timeout(Duration::from_secs(5), async {
        use futures_util::StreamExt;
        while let Some(Ok(message)) = live.next().await {
            if let tokio_tungstenite::tungstenite::Message::Close(Some(frame)) = message {
                return u16::from(frame.code);
            }
        }
        0
    })
    .await
    .expect("closed within 5 s");
    assert_eq!(code, 4010);

    // Every request for it now answers circle_closed (after authentication) ...
    client
        .pull(&member.device, &id, 0, 10)
        .await
        .expect(410, "circle_closed");
    client
        .read_log(&owner.device, &id, 0)
        .await
        .expect(410, "circle_closed");
    let next = writer.next(&circle, &member.device, "after the close");
    client
        .push(&member.device, &id, &[&next])
        .await
        .expect(410, "circle_closed");
    client
        .create_circle(&owner.device, &genesis)
        .await
        .expect(410, "circle_closed");
    client
        .send_raw(
            None,
            "GET",
            &format!("/v1/circles/{id}/envelopes"),
            Vec::new(),
            fresh_timestamp(),
            &[],
        )
        .await
        .expect(401, "unauthenticated");

    // ... and the database holds nothing of it but its id and when it was closed.
    let of_circle = |table: &str| {
        format!(
            "SELECT count(*) FROM {table} WHERE circle = (SELECT num FROM circles WHERE id = '{id}')"
        )
    };
    assert_eq!(relay.count(&of_circle("envelopes")).await, 0);
    assert_eq!(relay.count(&of_circle("membership")).await, 0);
    assert_eq!(
        relay
            .count(&format!(
                "SELECT count(*) FROM circles WHERE id = '{id}' AND closed_at IS NOT NULL"
            ))
            .await,
        1,
        "the tombstone"
    );
    relay.stop().await;
}

async fn live_socket(
    device: &kring_trust::identity::DeviceIdentity,
    url: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let path = url
        .split_once("/v1/")
        .map(|(_, p)| format!("/v1/{p}"))
        .expect("path");
    let auth =
        kring_trust::request_auth::sign_request(device, "GET", &path, b"", fresh_timestamp());
    let mut request = url.into_client_request().expect("request");
    for (name, value) in auth.headers() {
        request
            .headers_mut()
            .insert(name, value.parse().expect("header"));
    }
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("live");
    socket
}

#[tokio::test]
async fn the_circle_cache_is_bounded_and_evicted_circles_still_work() {
    let relay = TestRelay::start_with(|c| c.circle_cache = 10).await;
    let client = relay.client();
    let mut circles = Vec::new();
    for _ in 0..30 {
        circles.push(circle_on(&client).await);
    }
    let metrics = client
        .http
        .get(format!("{}/metrics", relay.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let cached: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("kring_circles_cached "))
        .and_then(|v| v.parse().ok())
        .expect("gauge");
    assert!(cached <= 10.0, "{cached} circles cached");
    // The first circle was evicted long ago; it is read back on use.
    let (first, owner) = &circles[0];
    assert_eq!(
        client.read_log(&owner.device, &first.id(), 0).await.ok(200)["len"],
        1
    );
    relay.stop().await;
}

/// Issue 27: the credential's count was read before the circle was stored, so
/// creations sent at once all saw room and together exceeded it. The store now
/// counts inside the creating transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creations_cannot_exceed_a_credentials_circles() {
    let keys = tempfile::tempdir().expect("tempdir");
    let key_file = keys.path().join("operator.key");
    let key_path = key_file.to_str().expect("utf-8 path");
    let public = run(&["admission", "keygen", "--out", key_path]);
    let credential = run(&[
        "admission",
        "issue",
        "--key",
        key_path,
        "--holder",
        "Gemeente Test",
        "--max-circles",
        "3",
    ]);
    let relay = RelayProcess::start(
        &["--admission", "credential", "--operator-key", &public],
        None,
    )
    .await;
    let client = relay.client();
    let replies =
        futures_util::future::join_all((0..12).map(|_| create(&client, Some(&credential)))).await;
    let mut created = 0;
    for reply in &replies {
        match reply.status.as_u16() {
            201 => created += 1,
            _ => reply.expect(507, "quota_exceeded"),
        }
    }
    assert_eq!(created, 3, "circles created with a credential for 3");
}

/// Issue 27: the daily quota was kept per device, so a member could multiply it by
/// linking more devices. It is kept per member of the circle now: the devices of one
/// member share it, while another member has their own.
#[tokio::test]
async fn a_members_devices_share_one_daily_quota() {
    let relay = TestRelay::start_with(|c| c.max_device_envelopes_per_day = 4).await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    let mut phone = Writer::new();
    let three: Vec<_> = (0..3)
        .map(|i| phone.next(&circle, &member.device, &format!("{i}")))
        .collect();
    client
        .push(&member.device, &id, &three.iter().collect::<Vec<_>>())
        .await
        .ok(200);
    // The member links a second device ...
    let tablet = kring_trust::identity::DeviceIdentity::generate();
    let entry = circle
        .state
        .add_device(
            &member.device,
            &circle.keys(&member.device),
            &member.member,
            &tablet.public(),
            kring_trust::Timestamp::now(),
        )
        .expect("add a device");
    client.append(&member.device, &id, &entry).await.ok(201);
    circle.apply(&entry);
    // ... which writes the member's fourth envelope today, but not a fifth.
    let mut writer = Writer::new();
    let fourth = writer.next(&circle, &tablet, "fourth");
    client.push(&tablet, &id, &[&fourth]).await.ok(200);
    let fifth = writer.next(&circle, &tablet, "fifth");
    let reply = client.push(&tablet, &id, &[&fifth]).await;
    reply.expect(429, "daily_quota_exceeded");
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("member's devices"),
        "{}",
        reply.body
    );
    let retry: u64 = reply.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=86_400).contains(&retry), "{retry}");
    // The owner, another member, still writes.
    let mut writer = Writer::new();
    let envelope = writer.next(&circle, &owner.device, "the owner's own");
    client.push(&owner.device, &id, &[&envelope]).await.ok(200);
    relay.stop().await;
}
