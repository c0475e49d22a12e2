//! The device identity behind the FFI: kept in the app's `SecretStore`, and the actor
//! of every change the device makes (what lets envelopes be checked against their
//! signer). The journeys through the generated bindings are tested in Kotlin
//! (scripts/kotlin-tests.sh).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use kring_ffi::{KringClient, KringError, SecretStore, DEVICE_SECRET};
use kring_plan::plan::{Language, NewTask};
use kring_trust::identity::DeviceIdentity;

#[derive(Default)]
struct MemorySecrets(Mutex<HashMap<String, Vec<u8>>>);

impl SecretStore for MemorySecrets {
    fn get(&self, name: String) -> Result<Option<Vec<u8>>, KringError> {
        Ok(self.0.lock().unwrap().get(&name).cloned())
    }
    fn put(&self, name: String, value: Vec<u8>) -> Result<(), KringError> {
        self.0.lock().unwrap().insert(name, value);
        Ok(())
    }
    fn delete(&self, name: String) -> Result<(), KringError> {
        self.0.lock().unwrap().remove(&name);
        Ok(())
    }
}

fn open(dir: &std::path::Path, secrets: &Arc<MemorySecrets>) -> Arc<KringClient> {
    KringClient::open(dir.to_str().unwrap().to_owned(), secrets.clone()).unwrap()
}

/// The actors of every change in an exported document.
fn actors(document: &[u8]) -> BTreeSet<String> {
    automerge::Automerge::load(document)
        .unwrap()
        .get_changes(&[])
        .iter()
        .map(|c| c.actor_id().to_hex_string())
        .collect()
}

#[test]
fn every_change_carries_the_device_key_kept_in_the_secret_store() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecrets::default());
    let client = open(dir.path(), &secrets);

    let stored = secrets.get(DEVICE_SECRET.to_owned()).unwrap().unwrap();
    let identity = DeviceIdentity::from_secret_bytes(&stored).unwrap();
    assert_eq!(identity.id().to_string(), client.device_id());

    let circle = client
        .create_circle("Kring".into(), Language::Nl, "Anna".into(), None)
        .unwrap();
    circle.add_task(NewTask::simple("Boodschappen")).unwrap();
    assert_eq!(
        actors(&circle.export().unwrap()),
        BTreeSet::from([client.device_id()])
    );
}

#[test]
fn a_data_directory_refuses_a_secret_store_holding_another_device() {
    let dir = tempfile::tempdir().unwrap();
    let first_keys = Arc::new(MemorySecrets::default());
    let first = open(dir.path(), &first_keys);
    let circle_id = first
        .create_circle("Kring".into(), Language::En, "Anna".into(), None)
        .unwrap()
        .circle_id();
    drop(first);

    // The keystore was reset (a restored phone, say) but the data directory survived.
    // Its outbox and membership log are signed by the old identity, which a new one
    // cannot continue: the device refuses rather than writing under two identities.
    let second_keys = Arc::new(MemorySecrets::default());
    let error =
        KringClient::open(dir.path().to_str().unwrap().to_owned(), second_keys).unwrap_err();
    assert!(matches!(error, KringError::SecretStore { .. }), "{error:?}");

    // With its own keystore the directory opens as before.
    let again = open(dir.path(), &first_keys);
    assert_eq!(again.circles().unwrap()[0].id, circle_id);
}

#[test]
fn an_unreadable_device_secret_is_a_secret_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecrets::default());
    secrets
        .put(DEVICE_SECRET.to_owned(), vec![1, 2, 3])
        .unwrap();
    let error = KringClient::open(dir.path().to_str().unwrap().to_owned(), secrets).unwrap_err();
    assert!(matches!(error, KringError::SecretStore { .. }), "{error:?}");
}
