//! The live WebSocket: cursor and membership notices, removal, shutdown; and the
//! streaming socket that gets the stored data itself (order, reconnects, a slow reader);
//! pushes sent on the socket (stored, answered and refused as over HTTP).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use common::*;
use futures_util::{SinkExt, StreamExt};
use kring_trust::envelope;
use kring_trust::identity::DeviceIdentity;
use kring_trust::ids::CircleId;
use kring_trust::live::{LiveFrame, PushFrame};
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
    open(
        relay,
        device,
        &format!("/v1/live?circles={}", circles.join(",")),
    )
    .await
}

/// A signed upgrade to `path` (`/v1/live?…`).
async fn open(
    relay: &TestRelay,
    device: &DeviceIdentity,
    path: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let url = format!("{}{}", relay.base.replace("http://", "ws://"), path);
    let mut request = url.into_client_request().expect("request");
    let auth = sign_request(device, "GET", path, b"", fresh_timestamp());
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

/// A streaming connection: the device's positions (envelope cursor, log length) per
/// circle go with the upgrade.
async fn stream(
    relay: &TestRelay,
    device: &DeviceIdentity,
    circle: &str,
    after: u64,
    log: u64,
) -> Socket {
    let path = format!("/v1/live?circles={circle}&after={after}&log={log}");
    open(relay, device, &path)
        .await
        .expect("streaming socket connects")
}

/// What a streaming socket delivered: a frame, or a notice (as JSON).
#[derive(Debug)]
enum Delivered {
    Frame(LiveFrame),
    Notice(Value),
}

async fn delivered(socket: &mut Socket) -> Delivered {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("something within 5 s")
            .expect("socket open")
            .expect("message");
        match message {
            Message::Binary(bytes) => {
                return Delivered::Frame(LiveFrame::decode(&bytes).expect("a live frame"))
            }
            Message::Text(text) => {
                return Delivered::Notice(serde_json::from_str(&text).expect("json"))
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The next `n` envelope frames: their cursors, each envelope checked as a device
/// checks a pulled one (`envelope::verify` against the circle's membership).
async fn envelopes(socket: &mut Socket, circle: &Circle, n: usize) -> Vec<u64> {
    let mut cursors = Vec::new();
    while cursors.len() < n {
        match delivered(socket).await {
            Delivered::Frame(LiveFrame::Envelope { cursor, bytes, .. }) => {
                envelope::verify(&bytes, &circle.state).expect("a valid envelope");
                cursors.push(cursor);
            }
            other => panic!("expected an envelope frame, got {other:?}"),
        }
    }
    cursors
}

#[tokio::test]
async fn a_streaming_socket_gets_every_envelope_and_entry_in_order_across_reconnects() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    let mut writer = Writer::new();
    let early = writer.next(&circle, &owner.device, "before the socket");
    client.push(&owner.device, &id, &[&early]).await.ok(200);

    // Connected at cursor 0 and a log of 2: what is stored comes first, as data.
    let mut socket = stream(&relay, &member.device, &id, 0, 2).await;
    assert_eq!(envelopes(&mut socket, &circle, 1).await, [1]);

    // Then each envelope as it is stored: a batch of three, one more, and the member's
    // own, in cursor order with nothing missing or twice.
    let batch: Vec<_> = (0..3)
        .map(|n| writer.next(&circle, &owner.device, &format!("batch {n}")))
        .collect();
    client
        .push(&owner.device, &id, &batch.iter().collect::<Vec<_>>())
        .await
        .ok(200);
    let single = writer.next(&circle, &owner.device, "single");
    client.push(&owner.device, &id, &[&single]).await.ok(200);
    let mut own = Writer::new();
    let mine = own.next(&circle, &member.device, "mine");
    client.push(&member.device, &id, &[&mine]).await.ok(200);
    assert_eq!(envelopes(&mut socket, &circle, 5).await, [2, 3, 4, 5, 6]);

    // A membership entry comes as data too, at its position in the log.
    let _reader = join(&client, &mut circle, &owner.device, Capability::Reader).await;
    match delivered(&mut socket).await {
        Delivered::Frame(LiveFrame::Entry {
            position, bytes, ..
        }) => {
            assert_eq!(position, 2);
            assert_eq!(bytes, circle.log[2].as_bytes());
        }
        other => panic!("expected the entry, got {other:?}"),
    }

    // Disconnected; two more are stored meanwhile. Back with the device's position
    // (it had applied up to 4): 5 to 8 in order, then the next one live.
    drop(socket);
    for text in ["while away 1", "while away 2"] {
        let e = writer.next(&circle, &owner.device, text);
        client.push(&owner.device, &id, &[&e]).await.ok(200);
    }
    let mut socket = stream(&relay, &member.device, &id, 4, 3).await;
    assert_eq!(envelopes(&mut socket, &circle, 4).await, [5, 6, 7, 8]);
    let next = writer.next(&circle, &owner.device, "after the reconnect");
    client.push(&owner.device, &id, &[&next]).await.ok(200);
    assert_eq!(envelopes(&mut socket, &circle, 1).await, [9]);
    assert!(metric_at(&relay.http, &relay.base, "live_frames_total").await >= 12.0);

    // Positions that do not match the circles are a plain refusal.
    let path = format!("/v1/live?circles={id}&after=1,2&log=1");
    client
        .send(&member.device, "GET", &path, None)
        .await
        .expect(400, "bad_request");
    relay.stop().await;
}

/// Pushes `batches` × 50 envelopes of ~20 KB each (about 1 MB per batch: more than
/// socket buffers and the relay's bounded stream hold, a few batches on).
async fn push_bulk(
    client: &Client,
    circle: &Circle,
    owner: &Person,
    writer: &mut Writer,
    batches: u64,
) {
    let filler: String = (0..10_000)
        .map(|i| format!("{:x}", (i * 7919) % 16))
        .collect();
    for batch in 0..batches {
        let envelopes: Vec<_> = (0..50)
            .map(|n| writer.next(circle, &owner.device, &format!("{batch}/{n} {filler}")))
            .collect();
        client
            .push(
                &owner.device,
                &circle.id(),
                &envelopes.iter().collect::<Vec<_>>(),
            )
            .await
            .ok(200);
    }
}

#[tokio::test]
async fn a_subscriber_that_reads_too_slowly_is_switched_to_a_notice_not_buffered() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    // Connected, then not read while ~16 MB of envelopes are stored: far more than
    // the socket buffers and the relay's bounded stream hold.
    let mut socket = stream(&relay, &member.device, &id, 0, 2).await;
    let mut writer = Writer::new();
    let total = 800u64;
    push_bulk(&client, &circle, &owner, &mut writer, total / 50).await;
    // Now read: envelopes in order, and where the socket fell behind a notice that
    // says how far the circle is (the device pulls the rest).
    let mut last = 0;
    let mut notices = 0;
    while last < total {
        match delivered(&mut socket).await {
            Delivered::Frame(LiveFrame::Envelope { cursor, .. }) => {
                assert!(cursor > last, "{cursor} after {last}");
                if notices == 0 {
                    assert_eq!(cursor, last + 1, "no gap before the switch");
                }
                last = cursor;
            }
            Delivered::Notice(notice) => {
                assert_eq!(notice["type"], "cursor");
                let latest = notice["latest"].as_u64().expect("latest");
                assert!(latest > last);
                last = latest;
                notices += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(notices >= 1, "the slow socket was told to pull");
    assert!(metric_at(&relay.http, &relay.base, "live_lagged_total").await >= 1.0);
    relay.stop().await;
}

/// `owner` removes `member` from the circle (cutting off their writes from the start).
async fn remove(client: &Client, circle: &mut Circle, owner: &Person, member: &Person) {
    let cutoffs = BTreeMap::from([(member.device.id(), 0)]);
    let removal = circle.remove_member_entry(&owner.device, &member.member, &cutoffs);
    client
        .append(&owner.device, &circle.id(), &removal)
        .await
        .ok(201);
    circle.apply(&removal);
}

/// Reads everything `socket` still gives until it ends (closed as removed, or dropped
/// as too slow): never an envelope after cursor `last`.
async fn nothing_after(socket: &mut Socket, last: u64) {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("the socket ends");
        match next {
            Some(Ok(Message::Binary(bytes))) => {
                if let Ok(LiveFrame::Envelope { cursor, .. }) = LiveFrame::decode(&bytes) {
                    assert!(cursor <= last, "sent {cursor} after the removal");
                }
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_member_removed_while_their_socket_catches_up_gets_nothing_after_the_removal() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    // Enough stored that the catch-up cannot finish while the member does not read.
    let mut writer = Writer::new();
    push_bulk(&client, &circle, &owner, &mut writer, 12).await;
    let before_removal = 600;
    let mut socket = stream(&relay, &member.device, &id, 0, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    remove(&client, &mut circle, &owner, &member).await;
    let after = writer.next(&circle, &owner.device, "after the removal");
    client.push(&owner.device, &id, &[&after]).await.ok(200);
    // Now read everything the socket still gives: never the envelope sealed after the
    // removal, and the socket ends (closed as removed, or dropped as too slow).
    nothing_after(&mut socket, before_removal).await;
    relay.stop().await;
}

#[tokio::test]
async fn a_member_removed_while_their_socket_lags_behind_the_stream_gets_nothing_after_the_removal()
{
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    // Connected first, then it stops reading while far more than the stream keeps
    // is stored: its socket lags, and the removal entry is among what it misses.
    let mut socket = stream(&relay, &member.device, &id, 0, 2).await;
    let mut writer = Writer::new();
    push_bulk(&client, &circle, &owner, &mut writer, 4).await;
    let before_removal = 200;
    remove(&client, &mut circle, &owner, &member).await;
    // More after the removal than the stream keeps: the entry itself is gone from
    // what the lagging socket can still be sent.
    let after: Vec<_> = (0..70)
        .map(|n| writer.next(&circle, &owner.device, &format!("after the removal {n}")))
        .collect();
    client
        .push(&owner.device, &id, &after.iter().collect::<Vec<_>>())
        .await
        .ok(200);
    nothing_after(&mut socket, before_removal).await;
    relay.stop().await;
}

/// Sends a push of `envelopes` on `socket` with request id `id` and returns the
/// relay's answer to it (`pushed` or `push_refused`), skipping what the socket
/// streams meanwhile.
async fn push_on(socket: &mut Socket, circle: &str, id: u64, envelopes: &[&[u8]]) -> Value {
    let frame = PushFrame {
        circle: CircleId::parse(circle).expect("circle id"),
        id,
        envelopes: envelopes.iter().map(|e| e.to_vec()).collect(),
    };
    socket
        .send(Message::Binary(frame.encode().into()))
        .await
        .expect("push sent");
    answer_to(socket, id).await
}

/// The answer to push `id`, skipping frames and other notices.
async fn answer_to(socket: &mut Socket, id: u64) -> Value {
    loop {
        if let Delivered::Notice(notice) = delivered(socket).await {
            let answer = notice["type"] == "pushed" || notice["type"] == "push_refused";
            if answer && notice["id"] == id {
                return notice;
            }
        }
    }
}

#[tokio::test]
async fn a_push_on_the_live_socket_is_stored_acknowledged_and_streamed_like_an_http_push() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    let mut watching = stream(&relay, &member.device, &id, 0, 2).await;
    let mut owners = stream(&relay, &owner.device, &id, 0, 2).await;

    // A batch of two on the owner's socket: acknowledged with its cursors, and each
    // envelope reaches the member's socket as data.
    let mut writer = Writer::new();
    let first = writer.next(&circle, &owner.device, "first");
    let second = writer.next(&circle, &owner.device, "second");
    let answer = push_on(&mut owners, &id, 7, &[first.as_bytes(), second.as_bytes()]).await;
    assert_eq!(answer["type"], "pushed", "{answer}");
    assert_eq!(answer["cursors"], json!([1, 2]));
    assert_eq!(answer["latest"], 2);
    assert_eq!(envelopes(&mut watching, &circle, 2).await, [1, 2]);

    // The same push again (an answer lost): the original cursors, nothing stored twice.
    let again = push_on(&mut owners, &id, 8, &[first.as_bytes(), second.as_bytes()]).await;
    assert_eq!(again["cursors"], json!([1, 2]), "{again}");
    // The member pushes on its own socket; HTTP and socket pushes share one order.
    let mut own = Writer::new();
    let mine = own.next(&circle, &member.device, "mine");
    let answer = push_on(&mut watching, &id, 1, &[mine.as_bytes()]).await;
    assert_eq!(answer["cursors"], json!([3]), "{answer}");
    let later = writer.next(&circle, &owner.device, "over http");
    client.push(&owner.device, &id, &[&later]).await.ok(200);

    // What a pull returns is exactly what was pushed, in that order.
    let pulled = client.pull(&member.device, &id, 0, 10).await;
    let stored: Vec<Vec<u8>> = pulled.ok(200)["envelopes"]
        .as_array()
        .expect("envelopes")
        .iter()
        .map(|e| {
            B64.decode(e["envelope"].as_str().expect("b64"))
                .expect("b64")
        })
        .collect();
    let expected: Vec<Vec<u8>> = [&first, &second, &mine, &later]
        .iter()
        .map(|e| e.as_bytes().to_vec())
        .collect();
    assert_eq!(stored, expected);
    assert_eq!(
        metric_at(&relay.http, &relay.base, "live_pushes_total").await,
        3.0
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_push_on_the_socket_that_http_would_refuse_is_refused_the_same_way_and_stores_nothing() {
    let relay = TestRelay::start().await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let reader = join(&client, &mut circle, &owner.device, Capability::Reader).await;
    let (other, _) = circle_on(&client).await;
    let id = circle.id();
    let mut socket = stream(&relay, &member.device, &id, 0, 3).await;
    let mut readers = stream(&relay, &reader.device, &id, 0, 3).await;

    let own = Writer::new();
    let good = own.peek(&circle, &member.device, "fine");
    let mut tampered = good.as_bytes().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let owners = Writer::new().peek(&circle, &owner.device, "the owner's");
    let refusal = |answer: &Value| {
        assert_eq!(answer["type"], "push_refused", "{answer}");
        (
            answer["status"].as_u64().unwrap_or(0) as u16,
            answer["error"]["error"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        )
    };

    // A tampered envelope, and another device's envelope: the same status and code
    // as the same push over HTTP.
    for (n, bytes) in [(1, &tampered[..]), (2, owners.as_bytes())] {
        let on_socket = refusal(&push_on(&mut socket, &id, n, &[bytes]).await);
        let body = json!({ "envelopes": [B64.encode(bytes)] });
        let over_http = client
            .send(
                &member.device,
                "POST",
                &format!("/v1/circles/{id}/envelopes"),
                Some(&body),
            )
            .await;
        assert_eq!(
            on_socket,
            (over_http.status.as_u16(), over_http.code().to_owned()),
            "push {n}"
        );
        assert!(on_socket.0 >= 400);
    }
    // A reader may not write (refused before its envelopes are even looked at); a
    // circle this socket does not subscribe to; garbage.
    let answer = push_on(&mut readers, &id, 3, &[good.as_bytes()]).await;
    assert_eq!(refusal(&answer), (403, "read_only".to_owned()));
    let answer = push_on(&mut socket, &other.id(), 4, &[good.as_bytes()]).await;
    assert_eq!(refusal(&answer).0, 400);
    socket
        .send(Message::Binary(vec![3u8; 30].into()))
        .await
        .expect("sent");
    assert_eq!(
        refusal(&answer_to(&mut socket, 0x0303_0303_0303_0303).await).0,
        400
    );

    // Nothing of it was stored, and the socket still works: the good one goes through.
    let pulled = client.pull(&member.device, &id, 0, 10).await;
    assert_eq!(pulled.ok(200)["latest"], 0);
    let answer = push_on(&mut socket, &id, 5, &[good.as_bytes()]).await;
    assert_eq!(answer["cursors"], json!([1]), "{answer}");

    // A push larger than the socket takes closes the socket; nothing is stored.
    let big = vec![0u8; kring_trust::live::MAX_PUSH_FRAME_BYTES + 1];
    let _ = socket.send(Message::Binary(big.into())).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the relay closes a socket that sends too much"
    );
    let pulled = client.pull(&member.device, &id, 0, 10).await;
    assert_eq!(pulled.ok(200)["latest"], 1);
    relay.stop().await;
}
