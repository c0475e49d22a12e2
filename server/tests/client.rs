//! The relay's new refusals and endpoints through kring-core's own sync client (what
//! the CLI and the apps use): a coordinator's credential from `KRING_ADMISSION`, and
//! closing a circle. A file of its own: it sets an environment variable.

mod common;

use std::sync::Arc;

use common::*;
use kring_client::sync::http::{RelayClient, ADMISSION_ENV};
use kring_trust::{Error, Timestamp};

fn run(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kring-server"))
        .args(args)
        .output()
        .expect("kring-server runs");
    assert!(output.status.success(), "{args:?}");
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_client_sends_its_credential_and_closes_circles() {
    let keys = tempfile::tempdir().expect("tempdir");
    let key = keys.path().join("operator.key");
    let key = key.to_str().expect("path");
    let public = run(&["admission", "keygen", "--out", key]);
    let credential = run(&["admission", "issue", "--key", key, "--holder", "Test"]);
    let relay = RelayProcess::start(
        &["--admission", "credential", "--operator-key", &public],
        None,
    )
    .await;
    let client = RelayClient::new(&relay.base(), Arc::new(Timestamp::now)).expect("client");
    let owner = Person::new();
    let (circle, genesis) = Circle::found(&owner);

    std::env::remove_var(ADMISSION_ENV);
    match client
        .create_circle(&owner.device, genesis.as_bytes())
        .await
    {
        Err(kring_client::Error::Trust(Error::Relay { status, code, .. })) => {
            assert_eq!((status, code.as_str()), (403, "admission_required"))
        }
        other => panic!("{other:?}"),
    }
    std::env::set_var(ADMISSION_ENV, &credential);
    client
        .create_circle(&owner.device, genesis.as_bytes())
        .await
        .expect("created with the credential");

    let id = circle.state.circle().clone();
    client
        .close_circle(&owner.device, &id)
        .await
        .expect("closed");
    match client
        .membership(
            kring_client::sync::http::Signer::Device(&owner.device),
            &id,
            0,
        )
        .await
    {
        Err(kring_client::Error::Trust(Error::CircleClosed(closed))) => {
            assert_eq!(closed, id.to_string())
        }
        other => panic!("{other:?}"),
    }
}
