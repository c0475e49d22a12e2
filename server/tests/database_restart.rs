//! PostgreSQL restarted under a running relay (its own test binary: the restart cuts
//! every connection to the cluster, so nothing else may run beside it). While the
//! database is away the relay answers `503 unavailable` with `Retry-After` and
//! `/healthz` says so; when it is back the relay recovers by itself, with nothing
//! acknowledged lost and the pushes refused meanwhile stored once when sent again.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kring_trust::membership::Capability;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_is_503_with_retry_after_then_the_relay_recovers_by_itself() {
    let (Some(_), Ok(pg_ctl)) = (postgres(), std::env::var("KRING_TEST_PG_CTL")) else {
        eprintln!("no KRING_TEST_POSTGRES / KRING_TEST_PG_CTL: run under scripts/with-postgres.sh");
        return;
    };
    let relay = RelayProcess::start(&["--rate-per-sec", "0"], None).await;
    let client = relay.client();
    let (mut circle, owner) = circle_on(&client).await;
    let member = join(&client, &mut circle, &owner.device, Capability::Member).await;
    let id = circle.id();
    let mut writer = Writer::new();
    let before = writer.next(&circle, &member.device, "before the restart");
    client.push(&member.device, &id, &[&before]).await.ok(200);

    let stop = |action: &str| {
        let status = std::process::Command::new(&pg_ctl)
            .arg(action)
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "pg_ctl {action}");
    };
    stop("stop");
    let during = writer.next(&circle, &member.device, "while the database is away");
    let refused = client.push(&member.device, &id, &[&during]).await;
    refused.expect(503, "unavailable");
    let retry_after: u64 = refused
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header");
    assert!(
        (1..=10).contains(&retry_after),
        "retry after {retry_after} s"
    );
    let health = client
        .http
        .get(format!("{}/healthz", relay.base()))
        .send()
        .await
        .expect("the relay still answers");
    assert_eq!(health.status().as_u16(), 503);

    stop("start");
    // Back by itself: the same push, sent again as a device would after Retry-After.
    let deadline = Instant::now() + Duration::from_secs(30);
    let stored = loop {
        let reply = client.push(&member.device, &id, &[&during]).await;
        if reply.status.as_u16() == 200 {
            break reply;
        }
        reply.expect(503, "unavailable");
        assert!(Instant::now() < deadline, "the relay did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(stored.body["cursors"], serde_json::json!([2]));
    let page = client.pull(&owner.device, &id, 0, 100).await;
    assert_eq!(page.ok(200)["latest"], 2, "nothing lost, nothing twice");
}
