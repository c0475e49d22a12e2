//! Trust layer throughput: sealing and opening envelopes, validating membership logs.
//!
//! Run with `cargo bench -p kring-core --bench trust`; figures go in docs/benchmarks.md.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, Change, ROOT};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kring_client::envelope;
use kring_plan::plan::DeviceActor;
use kring_trust::identity::DeviceIdentity;
use kring_trust::ids::MemberId;
use kring_trust::keyring::Keyring;
use kring_trust::membership::{Capability, MembershipState, SignedEntry};
use kring_trust::Timestamp;

/// A typical edit: one task with a title and ~600 characters of notes (< 1 KB change).
fn typical_change(device: &DeviceIdentity) -> Change {
    let mut doc = AutoCommit::new().with_actor(device.actor_id());
    let task = doc
        .put_object(ROOT, "task", automerge::ObjType::Map)
        .unwrap();
    doc.put(&task, "title", "Boodschappen doen voor oma (dinsdag)")
        .unwrap();
    doc.put(
        &task,
        "notes",
        "Melk, brood, kaas en fruit; bonnetje in de la. ".repeat(13),
    )
    .unwrap();
    doc.put(&task, "slots", 1_i64).unwrap();
    doc.commit();
    doc.get_last_local_change().unwrap()
}

fn envelopes(c: &mut Criterion) {
    let owner = DeviceIdentity::generate();
    let writer = DeviceIdentity::generate();
    let now = Timestamp(1_750_000_000_000);
    let (genesis, mut state) =
        MembershipState::create_circle(&owner, MemberId::random(), now).unwrap();
    let owner_keys = Keyring::from_log(&owner, &state, [&genesis]).unwrap();
    let add = state
        .add_member(
            &owner,
            &owner_keys,
            MemberId::random(),
            Capability::Member,
            &writer.public(),
            now,
        )
        .unwrap();
    state.apply_mut(&add).unwrap();
    let keys = Keyring::from_log(&owner, &state, [&genesis, &add]).unwrap();
    let writer_keys = Keyring::from_log(&writer, &state, [&genesis, &add]).unwrap();

    let change = typical_change(&writer);
    let seal = || {
        envelope::seal(
            &writer,
            &state,
            &writer_keys,
            1,
            None,
            std::slice::from_ref(&change),
        )
        .unwrap()
    };
    let sealed = seal();
    println!(
        "typical change: {} bytes, envelope: {} bytes",
        change.raw_bytes().len(),
        sealed.as_bytes().len()
    );

    let mut group = c.benchmark_group("envelope");
    group.throughput(Throughput::Elements(1));
    // The floor: one ed25519 signature check over an envelope-sized message.
    let signer = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let message = sealed.as_bytes().to_vec();
    let signature = ed25519_dalek::Signer::sign(&signer, &message);
    let verifier = signer.verifying_key();
    group.bench_function("baseline: ed25519 verify_strict alone", |b| {
        b.iter(|| verifier.verify_strict(&message, &signature).unwrap())
    });
    group.bench_function("baseline: ed25519 verify alone", |b| {
        b.iter(|| ed25519_dalek::Verifier::verify(&verifier, &message, &signature).unwrap())
    });
    group.bench_function("seal", |b| b.iter(seal));
    group.bench_function("open", |b| {
        b.iter(|| envelope::open(sealed.as_bytes(), &state, &keys).unwrap())
    });
    group.bench_function("verify (relay, no key)", |b| {
        b.iter(|| envelope::verify(sealed.as_bytes(), &state).unwrap())
    });
    group.bench_function("seal+open", |b| {
        b.iter(|| envelope::open(seal().as_bytes(), &state, &keys).unwrap())
    });
    group.finish();
}

/// A 1,000-entry log shaped like a long-lived busy circle: members come and go (each
/// removal rotates the key), capabilities change, people add second devices.
fn long_log() -> Vec<SignedEntry> {
    let owner = DeviceIdentity::generate();
    let mut now = Timestamp(1_750_000_000_000);
    let (genesis, mut state) =
        MembershipState::create_circle(&owner, MemberId::random(), now).unwrap();
    let mut log = vec![genesis];
    let mut keys = Keyring::from_log(&owner, &state, &log).unwrap();
    let mut members: Vec<MemberId> = Vec::new();
    let none = BTreeMap::new();
    while log.len() < 1000 {
        now = now.plus_millis(60_000);
        let i = log.len();
        let entry = if members.len() < 12 || i % 7 == 0 {
            let member = MemberId::random();
            members.push(member.clone());
            let device = DeviceIdentity::generate().public();
            state.add_member(&owner, &keys, member, Capability::Member, &device, now)
        } else if i % 7 == 1 {
            let member = members.remove(i % members.len());
            state.remove_member(&owner, &keys, &member, &none, now)
        } else if i % 7 == 2 {
            let device = DeviceIdentity::generate().public();
            state.add_device(&owner, &keys, &members[i % members.len()], &device, now)
        } else {
            let capability = [Capability::Reader, Capability::Member, Capability::Admin][i % 3];
            state.set_capability(&owner, &members[i % members.len()], capability, &none, now)
        }
        .unwrap();
        state.apply_mut(&entry).unwrap();
        keys.absorb(&owner, &state, &entry).unwrap();
        log.push(entry);
    }
    log
}

fn membership(c: &mut Criterion) {
    let log = long_log();
    let bytes: Vec<Vec<u8>> = log.iter().map(|e| e.as_bytes().to_vec()).collect();
    println!(
        "1,000-entry log: {} bytes",
        bytes.iter().map(Vec::len).sum::<usize>()
    );
    let mut group = c.benchmark_group("membership");
    group.sample_size(20);
    group.bench_function("validate 1000-entry log (parse + verify + apply)", |b| {
        b.iter_batched(
            || bytes.clone(),
            |bytes| {
                let entries: Vec<SignedEntry> = bytes
                    .iter()
                    .map(|b| SignedEntry::from_bytes(b).unwrap())
                    .collect();
                MembershipState::from_log(&entries).unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("apply 1000 parsed entries", |b| {
        b.iter(|| MembershipState::from_log(&log).unwrap())
    });
    group.finish();
}

criterion_group!(benches, envelopes, membership);
criterion_main!(benches);
