//! The relay's HTTP API end to end: a real SQLite file, real HTTP on 127.0.0.1:0.

mod common;

use std::collections::BTreeMap;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use common::*;
use kring_trust::membership::Capability;
use kring_trust::request_auth::MAX_CLOCK_SKEW_MS;
use kring_trust::Timestamp;
use serde_json::json;

#[tokio::test]
async fn creating_a_circle() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let owner = Person::new();
    let (circle, genesis) = Circle::found(&owner);

    // Unsigned, or signed by someone else: refused, nothing created.
    let body = json!({ "genesis": B64.encode(genesis.as_bytes()) });
    let bytes = serde_json::to_vec(&body).unwrap();
    client
        .send_raw(None, "POST", "/v1/circles", bytes, Timestamp::now(), &[])
        .await
        .expect(401, "unauthenticated");
    let stranger = Person::new();
    client
        .send(&stranger.device, "POST", "/v1/circles", Some(&body))
        .await
        .expect(403, "forbidden");
    client
        .read_log(&owner.device, &circle.id(), 0)
        .await
        .expect(404, "unknown_circle");

    let created = client.create_circle(&owner.device, &genesis).await;
    let body = created.ok(201);
    assert_eq!(body["circle"], circle.id());
    assert_eq!(body["len"], 1);
    assert_eq!(body["head"], circle.state.head().to_string());

    client
        .create_circle(&owner.device, &genesis)
        .await
        .expect(409, "circle_exists");

    let log = client.read_log(&owner.device, &circle.id(), 0).await;
    let log = log.ok(200);
    assert_eq!(log["entries"][0], B64.encode(genesis.as_bytes()));
    assert_eq!(log["len"], 1);

    // Not an entry at all; garbage JSON.
    client
        .send(
            &owner.device,
            "POST",
            "/v1/circles",
            Some(&json!({ "genesis": "AAAA" })),
        )
        .await
        .expect(400, "malformed");
    client
        .send(
            &owner.device,
            "POST",
            "/v1/circles",
            Some(&json!({ "nope": 1 })),
        )
        .await
        .expect(400, "bad_request");
    relay.stop().await;
}

#[tokio::test]
async fn membership_appends_are_compare_and_swap() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let admin = join(&client, &mut circle, &owner.device, Capability::Admin).await;

    // Two admins build an entry on the same head; the second loses the race.
    let first = circle.add_member_entry(&owner.device, &Person::new(), Capability::Member);
    let second = circle.add_member_entry(&admin.device, &Person::new(), Capability::Member);
    let won = client.append(&owner.device, &circle.id(), &first).await;
    assert_eq!(won.ok(201)["len"], 3);
    circle.apply(&first);
    let lost = client.append(&admin.device, &circle.id(), &second).await;
    lost.expect(409, "head_moved");
    assert_eq!(lost.body["head"], circle.state.head().to_string());
    assert_eq!(lost.body["len"], 3);

    // A retry of an entry already in the log is fine.
    let again = client.append(&owner.device, &circle.id(), &first).await;
    assert_eq!(again.ok(200)["len"], 3);

    // Only the author signs its entry.
    let third = circle.add_member_entry(&admin.device, &Person::new(), Capability::Reader);
    client
        .append(&owner.device, &circle.id(), &third)
        .await
        .expect(403, "forbidden");

    // Reading after a position returns the rest.
    let log = client.read_log(&admin.device, &circle.id(), 2).await;
    let log = log.ok(200);
    assert_eq!(log["entries"].as_array().unwrap().len(), 1);
    assert_eq!(log["entries"][0], B64.encode(first.as_bytes()));
    assert_eq!(log["len"], 3);

    // A member relaying someone else's entry: the request must come from the author.
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let entry = circle.add_member_entry(&owner.device, &Person::new(), Capability::Reader);
    let by_member = client.append(&member.device, &circle.id(), &entry).await;
    by_member.expect(403, "forbidden");
    relay.stop().await;
}

#[tokio::test]
async fn entries_far_from_the_relay_clock_are_refused() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (circle, owner) = circle_on(&client).await;
    let person = Person::new();
    let future = Timestamp::now().plus_millis(MAX_CLOCK_SKEW_MS + 60_000);
    let entry = circle
        .state
        .add_member(
            &owner.device,
            &circle.keys(&owner.device),
            person.member.clone(),
            Capability::Member,
            &person.device.public(),
            future,
        )
        .unwrap();
    client
        .append(&owner.device, &circle.id(), &entry)
        .await
        .expect(409, "rejected");
    let log = client.read_log(&owner.device, &circle.id(), 0).await;
    assert_eq!(log.ok(200)["len"], 1);
    relay.stop().await;
}

#[tokio::test]
async fn joining_with_an_invite() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let token = circle.invite(&owner.device, Capability::Member, &relay.base);

    // The joiner reads the log with the invite, rebuilds the state, redeems.
    let log = client.read_log_with_invite(&token, &circle.id()).await;
    let entries: Vec<_> = log.ok(200)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            kring_trust::membership::SignedEntry::from_bytes(
                &B64.decode(e.as_str().unwrap()).unwrap(),
            )
            .unwrap()
        })
        .collect();
    let state = kring_trust::membership::MembershipState::from_log(&entries).unwrap();
    let joiner = Person::new();
    let redemption = token
        .redeem(
            &state,
            &joiner.device,
            joiner.member.clone(),
            Timestamp::now(),
        )
        .unwrap();
    let appended = client
        .append(&joiner.device, &circle.id(), &redemption)
        .await;
    assert_eq!(appended.ok(201)["len"], 2);
    circle.apply(&redemption);

    // Now a member: reads with its device, and the invite is spent.
    client
        .read_log(&joiner.device, &circle.id(), 0)
        .await
        .ok(200);
    client
        .read_log_with_invite(&token, &circle.id())
        .await
        .expect(409, "invite_used");
    let other = Person::new();
    let reuse = token
        .redeem(
            &state,
            &other.device,
            other.member.clone(),
            Timestamp::now(),
        )
        .unwrap();
    client
        .append(&other.device, &circle.id(), &reuse)
        .await
        .expect(409, "head_moved");

    // An invite for another circle opens nothing here.
    let (elsewhere, elsewhere_owner) = circle_on(&client).await;
    let foreign = elsewhere.invite(&elsewhere_owner.device, Capability::Member, &relay.base);
    client
        .read_log_with_invite(&foreign, &circle.id())
        .await
        .expect(409, "rejected");
    // Signed with some other key than the invite's.
    let invite = B64.encode(token.invite().as_bytes());
    client
        .send_raw(
            Some(&other.device),
            "GET",
            &format!("/v1/circles/{}/membership", circle.id()),
            Vec::new(),
            Timestamp::now(),
            &[("x-kring-invite", invite)],
        )
        .await
        .expect(401, "bad_signature");
    relay.stop().await;
}

#[tokio::test]
async fn push_and_pull_with_cursors_and_idempotent_retries() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();

    let mut writer = Writer::new();
    let e1 = writer.next(&circle, &member.device, "one");
    let e2 = writer.next(&circle, &member.device, "two");
    let pushed = client.push(&member.device, &id, &[&e1, &e2]).await;
    assert_eq!(pushed.ok(200), &json!({ "cursors": [1, 2], "latest": 2 }));
    // The retry of a whole batch gets the same cursors back.
    let retried = client.push(&member.device, &id, &[&e1, &e2]).await;
    assert_eq!(retried.ok(200), &json!({ "cursors": [1, 2], "latest": 2 }));

    let mut owner_writer = Writer::new();
    let o1 = owner_writer.next(&circle, &owner.device, "owner");
    let e3 = writer.next(&circle, &member.device, "three");
    assert_eq!(
        client.push(&owner.device, &id, &[&o1]).await.ok(200)["cursors"],
        json!([3])
    );
    // A batch mixing a repeat and a new envelope.
    assert_eq!(
        client.push(&member.device, &id, &[&e2, &e3]).await.ok(200),
        &json!({ "cursors": [2, 4], "latest": 4 })
    );

    let page = client.pull(&owner.device, &id, 0, 3).await;
    let page = page.ok(200);
    assert_eq!(page["latest"], 4);
    assert_eq!(page["more"], true);
    let cursors: Vec<u64> = page["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_u64().unwrap())
        .collect();
    assert_eq!(cursors, [1, 2, 3]);
    assert_eq!(page["envelopes"][0]["envelope"], B64.encode(e1.as_bytes()));
    let rest = client.pull(&member.device, &id, 3, 500).await;
    let rest = rest.ok(200);
    assert_eq!(rest["more"], false);
    assert_eq!(rest["envelopes"][0]["envelope"], B64.encode(e3.as_bytes()));
    let none = client.pull(&member.device, &id, 4, 500).await;
    assert_eq!(
        none.ok(200),
        &json!({ "envelopes": [], "latest": 4, "more": false })
    );

    // Pulled envelopes open on another device: the bytes are exactly what was pushed.
    let owner_keys = circle.keys(&owner.device);
    let opened = kring_client::envelope::open(e3.as_bytes(), &circle.state, &owner_keys).unwrap();
    assert_eq!(opened.header().device_seq, 3);
    relay.stop().await;
}

#[tokio::test]
async fn gaps_forks_and_batches_are_refused_whole() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    let mut writer = Writer::new();
    let e1 = writer.next(&circle, &member.device, "one");
    client.push(&member.device, &id, &[&e1]).await.ok(200);

    // A different envelope at position 1: a fork.
    let mut other = Writer::new();
    let fork = other.next(&circle, &member.device, "other one");
    client
        .push(&member.device, &id, &[&fork])
        .await
        .expect(409, "fork");

    // Skipping position 2: a gap, with the position expected.
    let e2 = writer.next(&circle, &member.device, "two");
    let e3 = writer.next(&circle, &member.device, "three");
    let gap = client.push(&member.device, &id, &[&e3]).await;
    gap.expect(409, "gap");
    assert_eq!(gap.body["expected_seq"], 2);

    // All or nothing: a valid envelope in a refused batch is not stored.
    let mut stray = Writer {
        seq: 4,
        prev: Some(e3.hash()),
    };
    let e5 = stray.next(&circle, &member.device, "five");
    client
        .push(&member.device, &id, &[&e2, &e5])
        .await
        .expect(409, "gap");
    assert_eq!(
        client.pull(&member.device, &id, 0, 500).await.ok(200)["latest"],
        1
    );
    // Fixed, it goes through.
    assert_eq!(
        client.push(&member.device, &id, &[&e2, &e3]).await.ok(200)["cursors"],
        json!([2, 3])
    );

    // Somebody else's envelopes cannot be pushed.
    let mut owner_writer = Writer::new();
    let o1 = owner_writer.next(&circle, &owner.device, "owner");
    client
        .push(&member.device, &id, &[&o1])
        .await
        .expect(403, "forbidden");
    relay.stop().await;
}

#[tokio::test]
async fn tampered_envelopes_and_entries_are_refused_and_nothing_is_stored() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let id = circle.id();
    let mut writer = Writer::new();
    let e1 = writer.next(&circle, &owner.device, "one");
    let bytes = e1.as_bytes();
    for position in [bytes.len() - 1, bytes.len() / 2, 10, 1] {
        let mut tampered = bytes.to_vec();
        tampered[position] ^= 0x01;
        let reply = client
            .send(
                &owner.device,
                "POST",
                &format!("/v1/circles/{id}/envelopes"),
                Some(&json!({ "envelopes": [B64.encode(&tampered)] })),
            )
            .await;
        assert!(
            matches!(reply.status.as_u16(), 400 | 401 | 403 | 409),
            "position {position}: {reply:?}"
        );
        assert!(reply.code() != "internal");
    }
    assert_eq!(
        client.pull(&owner.device, &id, 0, 500).await.ok(200)["latest"],
        0
    );

    let entry = circle.add_member_entry(&owner.device, &Person::new(), Capability::Member);
    for position in [entry.as_bytes().len() - 2, entry.as_bytes().len() / 2, 3] {
        let mut tampered = entry.as_bytes().to_vec();
        tampered[position] ^= 0x01;
        let reply = client
            .send(
                &owner.device,
                "POST",
                &format!("/v1/circles/{id}/membership"),
                Some(&json!({ "entry": B64.encode(&tampered) })),
            )
            .await;
        assert!(
            matches!(reply.status.as_u16(), 400 | 401),
            "position {position}: {reply:?}"
        );
    }
    assert_eq!(
        client.read_log(&owner.device, &id, 0).await.ok(200)["len"],
        1
    );
    // The untampered one still goes in.
    client.append(&owner.device, &id, &entry).await.ok(201);
    circle.apply(&entry);
    relay.stop().await;
}

#[tokio::test]
async fn requests_must_be_signed_fresh_and_once() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (circle, owner) = circle_on(&client).await;
    let path = format!("/v1/circles/{}/envelopes?after=0", circle.id());

    client
        .send_raw(None, "GET", &path, Vec::new(), Timestamp::now(), &[])
        .await
        .expect(401, "unauthenticated");

    // A signature for another path.
    let auth = kring_trust::request_auth::sign_request(
        &owner.device,
        "GET",
        "/v1/circles/other",
        b"",
        Timestamp::now(),
    );
    let headers: Vec<(&str, String)> = auth.headers().into_iter().collect();
    client
        .send_raw(None, "GET", &path, Vec::new(), Timestamp::now(), &headers)
        .await
        .expect(401, "bad_signature");

    // Garbage in the headers.
    client
        .send_raw(
            None,
            "GET",
            &path,
            Vec::new(),
            Timestamp::now(),
            &[
                ("x-kring-device", "zz".into()),
                ("x-kring-timestamp", "1".into()),
                ("x-kring-signature", "!!".into()),
            ],
        )
        .await
        .expect(401, "unauthenticated");

    let stale = Timestamp::now().plus_millis(-(MAX_CLOCK_SKEW_MS + 1000));
    client
        .send_raw(Some(&owner.device), "GET", &path, Vec::new(), stale, &[])
        .await
        .expect(401, "stale_request");

    // The same signed request twice: the second is a replay.
    let at = Timestamp::now();
    let auth = kring_trust::request_auth::sign_request(&owner.device, "GET", &path, b"", at);
    let headers: Vec<(&str, String)> = auth.headers().into_iter().collect();
    client
        .send_raw(None, "GET", &path, Vec::new(), at, &headers)
        .await
        .ok(200);
    client
        .send_raw(None, "GET", &path, Vec::new(), at, &headers)
        .await
        .expect(401, "replayed");

    // Strangers are not members.
    let stranger = Person::new();
    client
        .pull(&stranger.device, &circle.id(), 0, 10)
        .await
        .expect(403, "not_a_member");
    relay.stop().await;
}

#[tokio::test]
async fn removed_members_and_readers() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let id = circle.id();
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let reader = join(&client, &mut circle, &owner.device, Capability::Reader).await;

    // The builder refuses to seal a reader's envelope: the reader pushes a member's
    // envelope instead, and is refused for being a reader before anything else.
    let mut member_writer = Writer::new();
    let m1 = member_writer.next(&circle, &member.device, "m1");
    client
        .push(&reader.device, &id, &[&m1])
        .await
        .expect(403, "read_only");
    client.pull(&reader.device, &id, 0, 10).await.ok(200);
    client.push(&member.device, &id, &[&m1]).await.ok(200);

    let cutoffs = BTreeMap::from([(member.device.id(), 1)]);
    let removal = circle.remove_member_entry(&owner.device, &member.member, &cutoffs);
    client.append(&owner.device, &id, &removal).await.ok(201);
    circle.apply(&removal);

    client
        .pull(&member.device, &id, 0, 10)
        .await
        .expect(403, "removed");
    client
        .read_log(&member.device, &id, 0)
        .await
        .expect(403, "removed");
    client
        .push(&member.device, &id, &[&m1])
        .await
        .expect(403, "removed");

    // An envelope under the old epoch from a remaining member is stale.
    let mut owner_writer = Writer::new();
    let before = {
        // Sealed against the log before the removal.
        let old = Circle {
            state: kring_trust::membership::MembershipState::from_log(
                &circle.log[..circle.log.len() - 1],
            )
            .unwrap(),
            log: circle.log[..circle.log.len() - 1].to_vec(),
        };
        owner_writer.peek(&old, &owner.device, "late")
    };
    client
        .push(&owner.device, &id, &[&before])
        .await
        .expect(409, "stale_epoch");
    let fresh = owner_writer.next(&circle, &owner.device, "fresh");
    client.push(&owner.device, &id, &[&fresh]).await.ok(200);
    relay.stop().await;
}

#[tokio::test]
async fn limits_body_batch_and_rate() {
    let relay = TestRelay::start_with(|c| {
        c.max_body_bytes = 64 * 1024;
        c.max_batch = 3;
        c.rate_per_sec = 1.0;
        c.rate_burst = 8.0;
    })
    .await;
    let client = relay.client();
    let (circle, owner) = circle_on(&client).await;
    let id = circle.id();

    let big = json!({ "envelopes": ["A".repeat(100 * 1024)] });
    let reply = client
        .send(
            &owner.device,
            "POST",
            &format!("/v1/circles/{id}/envelopes"),
            Some(&big),
        )
        .await;
    reply.expect(413, "too_large");

    let mut writer = Writer::new();
    let batch: Vec<_> = (0..4)
        .map(|i| writer.next(&circle, &owner.device, &format!("{i}")))
        .collect();
    let refs: Vec<_> = batch.iter().collect();
    client
        .push(&owner.device, &id, &refs)
        .await
        .expect(413, "too_large");

    // The burst is 8 requests (3 used above, counting creation); then 429.
    let mut limited = None;
    for _ in 0..10 {
        let reply = client.pull(&owner.device, &id, 0, 1).await;
        if reply.status.as_u16() == 429 {
            limited = Some(reply);
            break;
        }
        reply.ok(200);
    }
    let limited = limited.expect("rate limited within the burst");
    limited.expect(429, "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // Other devices are not affected.
    let other = Person::new();
    client
        .pull(&other.device, &id, 0, 1)
        .await
        .expect(403, "not_a_member");
    relay.stop().await;
}

#[tokio::test]
async fn health_metrics_openapi_and_unknown_routes() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let http = &relay.http;
    let health: serde_json::Value = http
        .get(format!("{}/healthz", relay.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let backend = if postgres().is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(
        health,
        json!({ "status": "ok", "database": "ok", "backend": backend })
    );

    let (circle, owner) = circle_on(&client).await;
    let mut writer = Writer::new();
    let e1 = writer.next(&circle, &owner.device, "x");
    client
        .push(&owner.device, &circle.id(), &[&e1])
        .await
        .ok(200);
    client
        .pull(&Person::new().device, &circle.id(), 0, 1)
        .await
        .expect(403, "not_a_member");

    let metrics = http
        .get(format!("{}/metrics", relay.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "kring_envelopes_stored_total 1",
        "kring_circles_created_total 1",
        "kring_live_connections 0",
        "kring_http_request_duration_seconds_bucket{route=\"/v1/circles/{circle}/envelopes\"",
        "kring_http_requests_total{method=\"POST\",route=\"/v1/circles\",status=\"201\"} 1",
        "kring_http_errors_total{code=\"not_a_member\"} 1",
        "kring_store_commit_seconds_count",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }

    // Every path and method of the description is served (not the fallback).
    let spec: serde_json::Value = http
        .get(format!("{}/openapi.json", relay.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut probed = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let path = path.replace("{circle}", &circle.id());
        for method in item.as_object().unwrap().keys() {
            let reply = client
                .send_raw(
                    None,
                    &method.to_uppercase(),
                    &path,
                    Vec::new(),
                    Timestamp::now(),
                    &[],
                )
                .await;
            assert_ne!(reply.code(), "not_found", "{method} {path}: {reply:?}");
            probed += 1;
        }
    }
    assert_eq!(probed, kring_server::api::routes().len());

    let missing = client
        .send_raw(
            None,
            "GET",
            "/v1/nothing",
            Vec::new(),
            Timestamp::now(),
            &[],
        )
        .await;
    missing.expect(404, "not_found");
    let wrong_method = client
        .send_raw(
            None,
            "DELETE",
            "/v1/circles",
            Vec::new(),
            Timestamp::now(),
            &[],
        )
        .await;
    wrong_method.expect(404, "not_found");
    relay.stop().await;
}

/// Circles are founded offline and registered at the first sync, possibly days later.
#[tokio::test]
async fn a_circle_founded_offline_days_ago_registers_but_not_one_from_the_future() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let found_at = |at: Timestamp| {
        let owner = Person::new();
        let (genesis, _) = kring_trust::membership::MembershipState::create_circle(
            &owner.device,
            owner.member.clone(),
            at,
        )
        .expect("genesis");
        (owner, genesis)
    };
    let (owner, genesis) = found_at(Timestamp::now().plus_days(-3));
    client.create_circle(&owner.device, &genesis).await.ok(201);
    let (owner, genesis) = found_at(Timestamp::now().plus_millis(MAX_CLOCK_SKEW_MS + 60_000));
    client
        .create_circle(&owner.device, &genesis)
        .await
        .expect(409, "rejected");
}

/// A removal may not invalidate envelopes the relay already acknowledged: the remover
/// must pull first and cut off after what is stored.
#[tokio::test]
async fn a_removal_that_would_cut_off_stored_history_is_refused() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let id = circle.id();
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let mut writer = Writer::new();
    let first = writer.next(&circle, &member.device, "one");
    let second = writer.next(&circle, &member.device, "two");
    client
        .push(&member.device, &id, &[&first, &second])
        .await
        .ok(200);

    let stale = BTreeMap::from([(member.device.id(), 1)]);
    let removal = circle.remove_member_entry(&owner.device, &member.member, &stale);
    let refused = client.append(&owner.device, &id, &removal).await;
    refused.expect(409, "rejected");
    client.read_log(&owner.device, &id, 0).await.ok(200);
    assert_eq!(
        client.read_log(&owner.device, &id, 0).await.ok(200)["len"],
        circle.log.len()
    );

    let current = BTreeMap::from([(member.device.id(), 2)]);
    let removal = circle.remove_member_entry(&owner.device, &member.member, &current);
    client.append(&owner.device, &id, &removal).await.ok(201);
}
