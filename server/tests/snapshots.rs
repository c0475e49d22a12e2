//! The relay's snapshot endpoints over real HTTP: who may upload one, what it must
//! be, and that every refusal leaves the stored snapshot as it was.

mod common;

use std::collections::BTreeMap;

use common::*;
use kring_trust::membership::Capability;
use kring_trust::snapshot;

const DOC: &[u8] = b"the plan, as automerge saves it (opaque to the relay)";

async fn put(
    client: &Client,
    signer: &kring_trust::identity::DeviceIdentity,
    circle: &Circle,
    bytes: Vec<u8>,
) -> Reply {
    client
        .send_raw(
            Some(signer),
            "PUT",
            &format!("/v1/circles/{}/snapshot", circle.id()),
            bytes,
            fresh_timestamp(),
            &[],
        )
        .await
}

/// The stored snapshot's bytes, fetched by `reader` over HTTP.
async fn fetch(
    relay: &TestRelay,
    reader: &kring_trust::identity::DeviceIdentity,
    circle: &Circle,
) -> (u16, Vec<u8>) {
    let path = format!("/v1/circles/{}/snapshot", circle.id());
    let auth =
        kring_trust::request_auth::sign_request(reader, "GET", &path, &[], fresh_timestamp());
    let mut request = relay
        .client()
        .http
        .get(format!("{}{path}", relay.client().base));
    for (name, value) in auth.headers() {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

fn seal(circle: &Circle, owner: &Person, covers: u64) -> Vec<u8> {
    snapshot::seal(
        &owner.device,
        &circle.state,
        &circle.keys(&owner.device),
        covers,
        DOC,
        &[DOC],
    )
    .expect("seal")
}

/// A circle with the owner and a member, and two envelopes stored.
async fn circle_with_history(relay: &TestRelay) -> (Circle, Person, Person) {
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let mut writer = Writer::new();
    for text in ["een", "twee"] {
        let envelope = writer.next(&circle, &owner.device, text);
        client
            .push(&owner.device, &circle.id(), &[&envelope])
            .await
            .ok(200);
    }
    (circle, owner, member)
}

#[tokio::test]
async fn the_main_persons_snapshot_is_kept_and_served_to_members() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (circle, owner, member) = circle_with_history(&relay).await;
    assert_eq!(
        fetch(&relay, &member.device, &circle).await.0,
        404,
        "none yet"
    );

    let first = seal(&circle, &owner, 1);
    let reply = put(&client, &owner.device, &circle, first.clone()).await;
    assert_eq!(reply.ok(200)["kept"], true);
    assert_eq!(
        fetch(&relay, &member.device, &circle).await,
        (200, first.clone())
    );

    // One covering no more is not kept; one covering more replaces it.
    let same = put(&client, &owner.device, &circle, seal(&circle, &owner, 1)).await;
    assert_eq!(same.ok(200)["kept"], false);
    let newer = seal(&circle, &owner, 2);
    assert_eq!(
        put(&client, &owner.device, &circle, newer.clone())
            .await
            .ok(200)["kept"],
        true
    );
    assert_eq!(
        fetch(&relay, &member.device, &circle).await,
        (200, newer.clone())
    );

    // Covering nothing, or beyond what is stored: refused.
    put(&client, &owner.device, &circle, seal(&circle, &owner, 0))
        .await
        .expect(400, "bad_request");
    put(&client, &owner.device, &circle, seal(&circle, &owner, 3))
        .await
        .expect(400, "bad_request");
    // A stranger reads nothing.
    assert_eq!(fetch(&relay, &Person::new().device, &circle).await.0, 403);
    assert_eq!(fetch(&relay, &member.device, &circle).await, (200, newer));
    relay.stop().await;
}

#[tokio::test]
async fn snapshots_by_anyone_else_or_tampered_or_under_an_old_key_are_refused_and_change_nothing() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner, member) = circle_with_history(&relay).await;
    let kept = seal(&circle, &owner, 1);
    put(&client, &owner.device, &circle, kept.clone())
        .await
        .ok(200);

    // A modified client of a member makes one and signs the upload itself.
    let forged = snapshot::forge(
        &member.device,
        &circle.state,
        &circle.keys(&member.device),
        2,
        DOC,
    );
    put(&client, &member.device, &circle, forged.clone())
        .await
        .expect(403, "forbidden");
    // The main person's snapshot uploaded by someone else.
    put(&client, &member.device, &circle, seal(&circle, &owner, 2))
        .await
        .expect(403, "forbidden");
    // Tampered on the way.
    let mut tampered = seal(&circle, &owner, 2);
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    let reply = put(&client, &owner.device, &circle, tampered).await;
    assert!(matches!(reply.status.as_u16(), 400 | 401), "{reply:?}");
    // Not a snapshot at all.
    put(&client, &owner.device, &circle, b"hello".to_vec())
        .await
        .expect(400, "malformed");

    // After a removal the key moved on: a snapshot under the old one is refused.
    let old_key = seal(&circle, &owner, 2);
    let removal = circle.remove_member_entry(&owner.device, &member.member, &BTreeMap::new());
    client
        .append(&owner.device, &circle.id(), &removal)
        .await
        .ok(201);
    circle.apply(&removal);
    put(&client, &owner.device, &circle, old_key)
        .await
        .expect(409, "stale_epoch");

    assert_eq!(fetch(&relay, &owner.device, &circle).await, (200, kept));
    relay.stop().await;
}
