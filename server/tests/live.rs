//! The live WebSocket: cursor and membership notices, removal, shutdown.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use kring_trust::identity::DeviceIdentity;
use kring_trust::membership::Capability;
use kring_trust::request_auth::sign_request;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    relay: &TestRelay,
    device: &DeviceIdentity,
    circles: &[&str],
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let path = format!("/v1/live?circles={}", circles.join(","));
    let url = format!("{}{}", relay.base.replace("http://", "ws://"), path);
    let mut request = url.into_client_request().expect("request");
    let auth = sign_request(device, "GET", &path, b"", fresh_timestamp());
    for (name, value) in auth.headers() {
        request
            .headers_mut()
            .insert(name, value.parse().expect("header value"));
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

/// The next text notice, skipping pings.
async fn notice(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a notice within 5 s")
            .expect("socket open")
            .expect("message");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("json notice"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The close code the relay sends next (skipping notices).
async fn close_code(socket: &mut Socket) -> CloseCode {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("closed within 5 s");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code,
            Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("socket error {e}"),
        }
    }
}

#[tokio::test]
async fn live_sockets_get_cursor_and_membership_notices() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let (other, other_owner) = circle_on(&client).await;
    assert_ne!(other_owner.member, owner.member);
    let id = circle.id();

    let mut socket = connect(&relay, &member.device, &[&id])
        .await
        .expect("connects");
    assert_eq!(
        notice(&mut socket).await,
        json!({ "type": "cursor", "circle": id, "latest": 0 })
    );

    let mut writer = Writer::new();
    let e1 = writer.next(&circle, &owner.device, "one");
    client.push(&owner.device, &id, &[&e1]).await.ok(200);
    assert_eq!(
        notice(&mut socket).await,
        json!({ "type": "cursor", "circle": id, "latest": 1 })
    );

    let _reader = join(&client, &mut circle, &owner.device, Capability::Reader).await;
    assert_eq!(
        notice(&mut socket).await,
        json!({ "type": "membership", "circle": id, "len": 3 })
    );

    // One socket watches several circles: a notice per circle on connect, then
    // notices for whichever circle moves.
    let (second, genesis) = Circle::found(&owner);
    client.create_circle(&owner.device, &genesis).await.ok(201);
    let mut two = connect(&relay, &owner.device, &[&id, &second.id()])
        .await
        .expect("connects");
    let mut first_notices = vec![notice(&mut two).await, notice(&mut two).await];
    first_notices.sort_by_key(|n| n["latest"].as_u64());
    assert_eq!(
        first_notices,
        [
            json!({ "type": "cursor", "circle": second.id(), "latest": 0 }),
            json!({ "type": "cursor", "circle": id, "latest": 1 }),
        ]
    );
    let mut second_writer = Writer::new();
    let s1 = second_writer.next(&second, &owner.device, "second");
    client
        .push(&owner.device, &second.id(), &[&s1])
        .await
        .ok(200);
    assert_eq!(
        notice(&mut two).await,
        json!({ "type": "cursor", "circle": second.id(), "latest": 1 })
    );

    // Removed while connected: the socket closes with 4003.
    let cutoffs = BTreeMap::from([(member.device.id(), 0)]);
    let removal = circle.remove_member_entry(&owner.device, &member.member, &cutoffs);
    client.append(&owner.device, &id, &removal).await.ok(201);
    assert_eq!(close_code(&mut socket).await, CloseCode::from(4003));

    // And cannot come back.
    let refused = connect(&relay, &member.device, &[&id])
        .await
        .expect_err("refused");
    match refused {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status(), 403);
            let body: Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or(b"{}")).unwrap();
            assert_eq!(body["error"]["code"], "removed");
        }
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
    // Strangers, and members of one circle asking for another, are refused too.
    let stranger = Person::new();
    assert!(connect(&relay, &stranger.device, &[&id]).await.is_err());
    assert!(connect(&relay, &other_owner.device, &[&id, &other.id()])
        .await
        .is_err());

    // A signed GET that is not an upgrade.
    client
        .send(
            &owner.device,
            "GET",
            &format!("/v1/live?circles={id}"),
            None,
        )
        .await
        .expect(400, "bad_request");

    // Shutdown closes live sockets with 1001 ("going away").
    let _ = two.send(Message::Ping(Default::default())).await;
    let stopping = tokio::spawn(relay.stop());
    assert_eq!(close_code(&mut two).await, CloseCode::Away);
    drop(two);
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("relay stops")
        .expect("join");
}

#[tokio::test]
async fn many_subscribers_all_get_each_cursor() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let mut members = Vec::new();
    for _ in 0..10 {
        members.push(join(&client, &mut circle, &owner.device, Capability::Member).await);
    }
    let id = circle.id();
    let mut sockets = Vec::new();
    for member in &members {
        let mut socket = connect(&relay, &member.device, &[&id])
            .await
            .expect("connects");
        assert_eq!(notice(&mut socket).await["latest"], 0);
        sockets.push(socket);
    }
    let mut writer = Writer::new();
    for n in 1..=3u64 {
        let envelope = writer.next(&circle, &owner.device, &n.to_string());
        client.push(&owner.device, &id, &[&envelope]).await.ok(200);
        for socket in &mut sockets {
            // Notices coalesce: a socket sees the newest cursor, never an older one.
            let latest = notice(socket).await["latest"].as_u64().unwrap();
            assert!(latest <= n && latest >= 1);
            if latest < n {
                assert_eq!(notice(socket).await["latest"], n);
            }
        }
    }
    relay.stop().await;
}
