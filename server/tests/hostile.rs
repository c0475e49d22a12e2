//! Hostile input: garbage bodies, headers, queries and ids on every route. Nothing may
//! be a 500 (or a panic), and the relay keeps serving.

mod common;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use common::*;
use kring_trust::membership::Capability;
use kring_trust::Timestamp;
use serde_json::json;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[tokio::test]
async fn garbage_never_makes_a_500() {
    // Rate limits off: this test sends thousands of refused requests from one address
    // on purpose (the limits have their own tests in abuse.rs).
    let relay = TestRelay::start_with(|c| {
        c.rate_per_sec = 0.0;
        c.address_rate_per_sec = 0.0;
        c.auth_failures_per_min = 0.0;
    })
    .await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);

    let paths = [
        "/v1/circles".to_owned(),
        format!("/v1/circles/{id}/membership"),
        format!("/v1/circles/{id}/envelopes"),
        "/v1/circles/not-an-id/envelopes".to_owned(),
        format!("/v1/circles/{}/membership", "0".repeat(32)),
        format!("/v1/circles/{id}/envelopes?after=99999999999999999999999&limit=-1"),
        format!("/v1/circles/{id}/envelopes?after=18446744073709551615&limit=0"),
        format!("/v1/circles/{id}/membership?after=18446744073709551615"),
        format!("/v1/circles/{id}/membership?after=%ZZ&after=1"),
        format!("/v1/live?circles={id},{id},zz"),
        "/v1/live".to_owned(),
        "/v1/circles/%00/envelopes".to_owned(),
    ];
    let mut bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"{".to_vec(),
        b"[]".to_vec(),
        "[".repeat(10_000).into_bytes(),
        json!({ "envelopes": "x" }).to_string().into_bytes(),
        json!({ "envelopes": [1, 2] }).to_string().into_bytes(),
        json!({ "envelopes": ["not base64"] })
            .to_string()
            .into_bytes(),
        json!({ "entry": B64.encode([1u8; 5]) })
            .to_string()
            .into_bytes(),
        json!({ "genesis": B64.encode([1u8; 70_000]) })
            .to_string()
            .into_bytes(),
    ];
    for _ in 0..20 {
        let len = (rng.next() % 600) as usize;
        bodies.push(rng.bytes(len));
        let envelopes: Vec<String> = (0..(rng.next() % 5))
            .map(|_| {
                let len = 1 + (rng.next() % 400) as usize;
                let mut bytes = rng.bytes(len);
                bytes[0] = 1; // the version byte, to get past the first check
                B64.encode(bytes)
            })
            .collect();
        bodies.push(json!({ "envelopes": envelopes, "entry": envelopes.first(), "genesis": envelopes.last() }).to_string().into_bytes());
    }

    let mut requests = 0;
    for path in &paths {
        for method in ["GET", "POST", "PUT"] {
            for body in &bodies {
                for signer in [Some(&member.device), None] {
                    let reply = client
                        .send_raw(
                            signer.map(|d| d as _),
                            method,
                            path,
                            body.clone(),
                            fresh_timestamp(),
                            &[],
                        )
                        .await;
                    assert!(
                        reply.status.as_u16() < 500,
                        "{method} {path} with {} body bytes: {reply:?}",
                        body.len()
                    );
                    assert!(reply.body["error"]["code"].is_string() || reply.status.is_success());
                    requests += 1;
                }
            }
        }
    }

    // Header garbage, including timestamps at the ends of the range.
    let path = format!("/v1/circles/{id}/envelopes");
    for (device, timestamp, signature) in [
        ("", "", ""),
        ("zz", "x", "y"),
        (&*"f".repeat(64), "-9223372036854775808", "AAAA"),
        (
            &*"0".repeat(64),
            "9223372036854775807",
            &*B64.encode([0u8; 64]),
        ),
        (
            &*member.device.id().to_string(),
            "99999999999999999999",
            &*B64.encode([0u8; 64]),
        ),
        (
            &*member.device.id().to_string(),
            &*Timestamp::now().0.to_string(),
            &*B64.encode([0u8; 63]),
        ),
        (
            &*member.device.id().to_string().to_uppercase(),
            &*Timestamp::now().0.to_string(),
            &*B64.encode([7u8; 64]),
        ),
    ] {
        let reply = client
            .send_raw(
                None,
                "GET",
                &path,
                Vec::new(),
                Timestamp::now(),
                &[
                    ("x-kring-device", device.to_owned()),
                    ("x-kring-timestamp", timestamp.to_owned()),
                    ("x-kring-signature", signature.to_owned()),
                    ("x-kring-invite", "%%%".to_owned()),
                ],
            )
            .await;
        assert_eq!(
            reply.status.as_u16(),
            401,
            "{device} {timestamp}: {reply:?}"
        );
        requests += 1;
    }
    assert!(requests > 1000);

    // Still serving, and nothing of all that was stored.
    client.pull(&member.device, &id, 0, 10).await.ok(200);
    assert_eq!(
        client.pull(&member.device, &id, 0, 10).await.ok(200)["latest"],
        0
    );
    assert_eq!(
        client.read_log(&owner.device, &id, 0).await.ok(200)["len"],
        2
    );
    relay.stop().await;
}
