//! Bounded mutation fuzzing of every decoder the relay runs on untrusted input (and
//! the client-side ones it answers with), on stable Rust: proptest mutates valid seeds
//! (made here, plus the corpus kept in `tests/corpus/`) by flipping, setting,
//! inserting, removing and truncating bytes, with a fixed RNG seed and a fixed number
//! of cases per decoder (`KRING_FUZZ_CASES`, default 1000) so the test command is
//! bounded and repeatable.
//!
//! Properties, for each decoder:
//! - it never panics, and refuses with a typed input error (never `Io`/internal);
//! - for signed formats (membership entries, envelopes, invites, request signatures,
//!   admission credentials), a mutated input that is accepted carries exactly what
//!   the seed carried: nobody can change signed content, or get two encodings of it
//!   accepted (which would split idempotency on the relay).
//!
//! `KRING_FUZZ_WRITE_CORPUS=1` rewrites the corpus's `seed-*` lines from this run's
//! valid seeds.

mod common;

use std::path::PathBuf;

use common::*;
use kring_server::admission::{self, Credential};
use kring_trust::envelope;
use kring_trust::invite::{InviteToken, SignedInvite};
use kring_trust::membership::{Capability, SignedEntry};
use kring_trust::protocol::{CreateCircle, ErrorBody, LiveNotice, Pulled, PushEnvelopes};
use kring_trust::request_auth::{sign_request, verify_request, RequestAuth};
use kring_trust::{Error, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, bit)| Mutation::Flip(i, bit)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..24)
        )
            .prop_map(|(i, bytes)| Mutation::Insert(i, bytes)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Remove(i, n)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for m in mutations {
        let len = out.len();
        let at = |i: usize| if len == 0 { 0 } else { i % len };
        match m {
            Mutation::Flip(i, bit) if len > 0 => out[at(*i)] ^= 1 << bit,
            Mutation::Set(i, b) if len > 0 => out[at(*i)] = *b,
            Mutation::Truncate(i) => out.truncate(at(*i)),
            Mutation::Insert(i, bytes) => {
                let i = at(*i);
                out.splice(i..i, bytes.iter().copied());
            }
            Mutation::Remove(i, n) if len > 0 => {
                let i = at(*i);
                out.drain(i..(i + n).min(len));
            }
            Mutation::Duplicate(i, n) if len > 0 => {
                let i = at(*i);
                let piece: Vec<u8> = out[i..(i + n).min(len)].to_vec();
                out.splice(i..i, piece);
            }
            _ => {}
        }
    }
    out
}

fn cases() -> u32 {
    std::env::var("KRING_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// A runner with a fixed seed: the same inputs every run.
fn runner(name: &str) -> TestRunner {
    let mut seed = [0u8; 32];
    let hash = blake3::hash(name.as_bytes());
    seed.copy_from_slice(hash.as_bytes());
    TestRunner::new_with_rng(
        Config {
            cases: cases(),
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    )
}

fn corpus_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(format!("{name}.hex"))
}

/// The corpus of `name`: one hex input per line (`#` comments).
fn corpus(name: &str) -> Vec<Vec<u8>> {
    std::fs::read_to_string(corpus_path(name))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .filter_map(|l| hex::decode(l.trim_start_matches("seed-")).ok())
        .collect()
}

fn maybe_write_corpus(name: &str, seeds: &[Vec<u8>]) {
    if std::env::var("KRING_FUZZ_WRITE_CORPUS").as_deref() != Ok("1") {
        return;
    }
    let path = corpus_path(name);
    let kept: Vec<String> = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with("seed-"))
        .map(str::to_owned)
        .collect();
    let mut text = kept.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    for seed in seeds {
        text.push_str(&format!("seed-{}\n", hex::encode(seed)));
    }
    std::fs::create_dir_all(path.parent().expect("dir")).expect("corpus dir");
    std::fs::write(path, text).expect("write corpus");
}

/// Errors that mean "this input is bad", as opposed to a failure of the decoder.
#[track_caller]
fn assert_typed(error: &Error, input: &[u8]) {
    assert!(
        !matches!(error, Error::Internal(_)),
        "untyped error {error:?} for {}",
        hex::encode(input)
    );
}

/// Runs `check` on every seed and corpus input and on `cases()` mutations of them;
/// `check` is told whether the input is one of those (a mutation can give back its
/// seed): only those may be accepted by a signed format.
fn fuzz(name: &str, seeds: Vec<Vec<u8>>, check: impl Fn(&[u8], bool)) {
    maybe_write_corpus(name, &seeds);
    let mut all = seeds;
    let stored = corpus(name);
    assert!(
        !stored.is_empty(),
        "corpus {name} is empty: run with KRING_FUZZ_WRITE_CORPUS=1"
    );
    all.extend(stored);
    for input in &all {
        check(input, true);
    }
    let count = all.len();
    let strategy = (
        0..count,
        proptest::collection::vec(mutation(), 1..6),
        any::<bool>(),
    );
    let mut runner = runner(name);
    runner
        .run(&strategy, |(seed, mutations, random)| {
            let input = if random && seed % 7 == 0 {
                // Now and then bytes with no seed at all.
                mutate(&[], &mutations)
            } else {
                mutate(&all[seed], &mutations)
            };
            let known = all.contains(&input);
            check(&input, known);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
}

/// A circle with an owner, an admin who invited, a member, envelopes and a removal:
/// the seeds.
struct World {
    circle: Circle,
    entries: Vec<SignedEntry>,
    envelopes: Vec<Vec<u8>>,
    invites: Vec<InviteToken>,
}

fn world() -> World {
    let owner = Person::new();
    let (mut circle, genesis) = Circle::found(&owner);
    let mut entries = vec![genesis];
    let admin = Person::new();
    let add = circle.add_member_entry(&owner.device, &admin, Capability::Admin);
    circle.apply(&add);
    entries.push(add);
    let invite = circle.invite(&admin.device, Capability::Member, "https://relay.example");
    let joiner = Person::new();
    let redeem = invite
        .redeem(
            &circle.state,
            &joiner.device,
            joiner.member.clone(),
            Timestamp::now(),
        )
        .expect("redeem");
    circle.apply(&redeem);
    entries.push(redeem);
    let mut writer = Writer::new();
    let mut envelopes = Vec::new();
    for text in ["a", "bb", "a longer note with more in it"] {
        envelopes.push(
            writer
                .next(&circle, &joiner.device, text)
                .as_bytes()
                .to_vec(),
        );
    }
    let reader = Person::new();
    let add = circle.add_member_entry(&owner.device, &reader, Capability::Reader);
    circle.apply(&add);
    entries.push(add);
    let invite2 = circle.invite(&owner.device, Capability::Reader, "https://relay.example");
    World {
        circle,
        entries,
        envelopes,
        invites: vec![invite, invite2],
    }
}

#[test]
fn membership_entries() {
    let world = world();
    let seeds: Vec<Vec<u8>> = world
        .entries
        .iter()
        .map(|e| e.as_bytes().to_vec())
        .collect();
    fuzz(
        "entries",
        seeds,
        |input, known| match SignedEntry::from_bytes(input) {
            Err(e) => assert_typed(&e, input),
            Ok(entry) => {
                assert!(
                    known,
                    "a changed entry was accepted: {}",
                    hex::encode(input)
                );
                // What the relay does next with it must not panic either.
                let _ = kring_trust::membership::MembershipState::genesis(&entry);
            }
        },
    );
}

#[test]
fn envelopes() {
    let world = world();
    let state = world.circle.state.clone();
    fuzz("envelopes", world.envelopes.clone(), |input, known| {
        let _ = envelope::read_header(input);
        match envelope::verify(input, &state) {
            Err(e) => assert_typed(&e, input),
            Ok(_) => assert!(
                known,
                "a changed envelope was accepted: {}",
                hex::encode(input)
            ),
        }
    });
}

#[test]
fn invites_and_links() {
    let world = world();
    let seeds: Vec<Vec<u8>> = world
        .invites
        .iter()
        .map(|t| t.invite().as_bytes().to_vec())
        .collect();
    let state = world.circle.state.clone();
    fuzz(
        "invites",
        seeds,
        |input, known| match SignedInvite::from_bytes(input) {
            Err(e) => assert_typed(&e, input),
            Ok(invite) => {
                assert!(
                    known,
                    "a changed invite was accepted: {}",
                    hex::encode(input)
                );
                let _ = state.check_invite(&invite);
            }
        },
    );
    let links: Vec<Vec<u8>> = world
        .invites
        .iter()
        .map(|t| t.to_link().into_bytes())
        .collect();
    fuzz("invite-links", links, |input, _| {
        let text = String::from_utf8_lossy(input);
        if let Err(e) = InviteToken::from_link(&text) {
            assert_typed(&e, input);
        }
    });
}

/// Request headers as the relay reads them: `device \n timestamp \n signature`.
#[test]
fn request_auth_headers() {
    let device = Person::new().device;
    let path = "/v1/circles/0123456789abcdef0123456789abcdef/envelopes?after=3";
    let now = Timestamp::now();
    let seeds: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            let auth = sign_request(&device, "GET", path, b"", Timestamp(now.0 + i));
            format!("{}\n{}\n{}", auth.signer, auth.timestamp.0, auth.signature).into_bytes()
        })
        .collect();
    let key = device.id().verifying_key().expect("key");
    let originals: Vec<RequestAuth> = (0..3)
        .map(|i| sign_request(&device, "GET", path, b"", Timestamp(now.0 + i)))
        .collect();
    fuzz("request-auth", seeds, |input, known| {
        let text = String::from_utf8_lossy(input);
        let mut parts = text.splitn(3, '\n');
        let (d, t, s) = (parts.next(), parts.next(), parts.next());
        let parsed = RequestAuth::from_headers(|name| match name {
            "x-kring-device" => d,
            "x-kring-timestamp" => t,
            "x-kring-signature" => s,
            _ => None,
        });
        let auth = match parsed {
            Err(e) => return assert_typed(&e, input),
            Ok(auth) => auth,
        };
        match verify_request(&auth, &key, "GET", path, b"", now) {
            Err(e) => assert_typed(&e, input),
            Ok(()) => assert!(
                known
                    || originals.iter().any(|o| {
                        o.timestamp == auth.timestamp
                            && o.signature == auth.signature
                            && o.signer == auth.signer
                    }),
                "a changed request signature was accepted: {text}"
            ),
        }
    });
}

/// Live frames (what a client decodes) and the relay's JSON bodies.
#[test]
fn live_frames_and_json_bodies() {
    let seeds: Vec<Vec<u8>> = [
        serde_json::to_vec(&LiveNotice::Cursor {
            circle: "0123456789abcdef0123456789abcdef".into(),
            latest: 42,
        }),
        serde_json::to_vec(&LiveNotice::Membership {
            circle: "0123456789abcdef0123456789abcdef".into(),
            len: 7,
        }),
        Ok(br#"{"envelopes":["AAEC/w==","AQ=="]}"#.to_vec()),
        Ok(br#"{"genesis":"AQID"}"#.to_vec()),
        Ok(br#"{"envelopes":[{"cursor":1,"envelope":"AQ=="}],"latest":1,"more":false}"#.to_vec()),
        Ok(br#"{"error":{"code":"head_moved","message":"m"},"head":"ab","len":2}"#.to_vec()),
    ]
    .into_iter()
    .map(|r| r.expect("json"))
    .collect();
    fuzz("json", seeds, |input, _| {
        if let Ok(notice) = serde_json::from_slice::<LiveNotice>(input) {
            let again = serde_json::to_vec(&notice).expect("re-encode");
            assert_eq!(
                serde_json::from_slice::<LiveNotice>(&again).ok(),
                Some(notice)
            );
        }
        let _ = serde_json::from_slice::<PushEnvelopes>(input);
        let _ = serde_json::from_slice::<CreateCircle>(input);
        let _ = serde_json::from_slice::<Pulled>(input);
        let _ = serde_json::from_slice::<ErrorBody>(input);
    });
}

/// The live socket's binary frames: the relay's data frames (a device decodes them)
/// and a device's push frames (the relay decodes them). Never a panic, and what
/// decodes is canonical: encoding it again gives the same bytes.
#[test]
fn live_data_and_push_frames() {
    let circle = kring_trust::ids::CircleId::parse("0123456789abcdef0123456789abcdef").expect("id");
    let seeds: Vec<Vec<u8>> = vec![
        kring_trust::live::envelope_frame(&circle, 7, &[1, 2, 3]),
        kring_trust::live::entry_frame(&circle, 0, &[9; 40]),
        kring_trust::live::PushFrame {
            circle: circle.clone(),
            id: 42,
            envelopes: vec![vec![5; 20], vec![6; 3]],
        }
        .encode(),
    ];
    fuzz("live-frames", seeds, |input, _| {
        if let Ok(frame) = kring_trust::live::LiveFrame::decode(input) {
            assert_eq!(frame.encode(), input);
        }
        if let Ok(push) = kring_trust::live::PushFrame::decode(input) {
            assert_eq!(push.encode(), input);
            assert!(!push.envelopes.is_empty());
        }
    });
}

#[test]
fn admission_credentials() {
    let operator = admission::generate_key();
    let now = Timestamp::now();
    let texts: Vec<String> = ["Gemeente A", "Stichting B met een langere naam"]
        .iter()
        .map(|holder| admission::issue(&operator, holder, 10, now.plus_days(30)))
        .collect();
    let seeds: Vec<Vec<u8>> = texts.iter().map(|t| t.clone().into_bytes()).collect();
    let public = operator.verifying_key();
    fuzz("admission", seeds, |input, _| {
        let text = String::from_utf8_lossy(input);
        let _ = admission::credential_id(&text);
        match Credential::verify(&text, &public, now) {
            Err(e) => assert!(matches!(e, Error::AdmissionRequired(_)), "{e:?}"),
            Ok(credential) => {
                assert!(
                    texts.iter().any(|t| Credential::verify(t, &public, now)
                        .map(|c| c.body == credential.body)
                        .unwrap_or(false)),
                    "a changed credential was accepted: {text}"
                );
            }
        }
    });
}
