//! Every error a person can meet, in both languages: one plain sentence, without
//! internals, and no English inside a Dutch one.

use super::*;
use kring_plan::plan::{EntryId, Language, MemberId, PlanStatus, TaskId};
use kring_trust::identity::DeviceIdentity;
use kring_trust::invite::InviteId;
use kring_trust::membership::EntryHash;
use kring_trust::Timestamp;

#[test]
fn every_permit_refusal_has_its_own_sentence_in_both_languages() {
    for lang in [Language::Nl, Language::En] {
        for why in refusal::ALL {
            let key = refusal_key(why).unwrap_or_else(|| panic!("no message for {why:?}"));
            assert!(
                crate::i18n::has_message(lang, key),
                "{lang}: no {key} for {why:?}"
            );
        }
    }
}

#[test]
fn every_reason_core_gives_has_its_sentence_in_both_languages() {
    for lang in [Language::Nl, Language::En] {
        for (why, key) in REASONS {
            assert!(
                crate::i18n::has_message(lang, key),
                "{lang}: no {key} for {why:?}"
            );
        }
    }
    // Each is a reason core really gives: found word for word in the sources.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let sources: String = ["trust/src", "plan/src", "client/src", "sync/src"]
        .iter()
        .flat_map(|dir| walk(&std::path::Path::new(root).join(dir)))
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect();
    let sources = sources.split_whitespace().collect::<Vec<_>>().join(" ");
    for (why, _) in REASONS {
        assert!(sources.contains(why), "core no longer says {why:?}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| match e.path() {
            p if p.is_dir() => walk(&p),
            p => vec![p],
        })
        .collect()
}

/// What a detail looks like when it leaks: the relay's address, the OS's words, a
/// decoder's, an HTTP body.
const URL: &str = "http://127.0.0.1:9/v1/circles/0f3a/envelopes";
const OS: &str = "error sending request: tcp connect error: Connection refused (os error 111)";
const DECODER: &str = "unexpected end of input at byte 17, expected Vec<u8>";

/// The name of each variant of the trust layer's error. No wildcard: a new variant
/// does not compile until it is named here, and then the walk needs a sample of it.
fn trust_variant(e: &TrustError) -> &'static str {
    use TrustError as E;
    match e {
        E::InvalidId { .. } => "InvalidId",
        E::InvalidValue { .. } => "InvalidValue",
        E::DatesOutOfOrder(_) => "DatesOutOfOrder",
        E::RecoveryCode(_) => "RecoveryCode",
        E::UnknownMember(_) => "UnknownMember",
        E::UnknownCircle(_) => "UnknownCircle",
        E::NotAMember(_) => "NotAMember",
        E::NotAllowed(_) => "NotAllowed",
        E::AlreadyExists(_) => "AlreadyExists",
        E::WrongCircle { .. } => "WrongCircle",
        E::Oversized { .. } => "Oversized",
        E::Malformed { .. } => "Malformed",
        E::UnsupportedVersion { .. } => "UnsupportedVersion",
        E::BadSignature(_) => "BadSignature",
        E::UnknownDevice(_) => "UnknownDevice",
        E::DeviceNotMember(_) => "DeviceNotMember",
        E::Removed(_) => "Removed",
        E::ReadOnly(_) => "ReadOnly",
        E::Unauthorized { .. } => "Unauthorized",
        E::OwnerProtected => "OwnerProtected",
        E::BrokenChain { .. } => "BrokenChain",
        E::Fork { .. } => "Fork",
        E::AlreadyApplied { .. } => "AlreadyApplied",
        E::ClockRegression { .. } => "ClockRegression",
        E::UnknownHead(_) => "UnknownHead",
        E::StaleEpoch { .. } => "StaleEpoch",
        E::UnknownEpoch(_) => "UnknownEpoch",
        E::Decrypt(_) => "Decrypt",
        E::InviteExpired { .. } => "InviteExpired",
        E::InviteReused(_) => "InviteReused",
        E::InviteRevoked(_) => "InviteRevoked",
        E::RecoveryRefused(_) => "RecoveryRefused",
        E::Unauthenticated(_) => "Unauthenticated",
        E::StaleRequest { .. } => "StaleRequest",
        E::Replayed => "Replayed",
        E::HeadMoved { .. } => "HeadMoved",
        E::CircleExists(_) => "CircleExists",
        E::RateLimited { .. } => "RateLimited",
        E::Relay { .. } => "Relay",
        E::Network(_) => "Network",
        E::EntryClockSkew { .. } => "EntryClockSkew",
        E::BadRequest(_) => "BadRequest",
        E::NotFound(_) => "NotFound",
        E::RelayGap { .. } => "RelayGap",
        E::CutoffBehindRelay { .. } => "CutoffBehindRelay",
        E::QuotaExceeded { .. } => "QuotaExceeded",
        E::DailyQuotaExceeded { .. } => "DailyQuotaExceeded",
        E::CircleClosed(_) => "CircleClosed",
        E::AdmissionRequired(_) => "AdmissionRequired",
        E::InvalidPushSubscription(_) => "InvalidPushSubscription",
        E::Timeout(_) => "Timeout",
        E::UriTooLong { .. } => "UriTooLong",
        E::HeadersTooLarge { .. } => "HeadersTooLarge",
        E::Unavailable { .. } => "Unavailable",
        E::FamilyTime(_) => "FamilyTime",
        E::Internal(_) => "Internal",
    }
}

/// One of each, with the kind of detail each carries in real life.
fn trust_samples(device: kring_trust::identity::DeviceId, member: &MemberId) -> Vec<TrustError> {
    use kring_trust::error::RecoveryCodeProblem as P;
    use TrustError as E;
    let at = Timestamp(1_790_000_000_000);
    vec![
        E::InvalidId {
            kind: "MemberId",
            value: "zz".into(),
        },
        E::InvalidValue {
            field: "DeviceId",
            value: "zz".into(),
            expected: "64 hex characters".into(),
        },
        E::InvalidValue {
            field: "relay URL",
            value: "ftp://nope".into(),
            expected: "an http:// or https:// URL".into(),
        },
        E::InvalidValue {
            field: "capability",
            value: "boss".into(),
            expected: "owner, admin, member or reader".into(),
        },
        E::DatesOutOfOrder("an invite must expire after it is made"),
        E::RecoveryCode(P::WordCount {
            found: 11,
            expected: 12,
        }),
        E::RecoveryCode(P::UnknownWord { position: 5 }),
        E::RecoveryCode(P::Checksum),
        E::UnknownMember(member.clone()),
        E::UnknownCircle(member.to_string()),
        E::NotAMember(member.clone()),
        E::NotAllowed("a device link admits another device of its member, not a new person"),
        E::AlreadyExists(format!("circle {member} on this device")),
        E::AlreadyExists(format!("member {member}")),
        E::WrongCircle {
            expected: member.to_string(),
            found: "0f3a".into(),
        },
        E::Oversized {
            what: "invite link",
            len: 4000,
            max: 2048,
        },
        E::Malformed {
            what: "invite link",
            detail: DECODER.into(),
        },
        E::Malformed {
            what: "membership entry",
            detail: DECODER.into(),
        },
        E::UnsupportedVersion {
            what: "envelope",
            version: 9,
        },
        E::BadSignature("invite"),
        E::UnknownDevice(device),
        E::DeviceNotMember(device),
        E::Removed(device),
        E::ReadOnly(device),
        E::Unauthorized {
            device,
            action: "issue invites",
        },
        E::Unauthorized {
            device,
            action: family_time::refusal::PRESENT,
        },
        E::OwnerProtected,
        E::BrokenChain {
            what: "membership log",
            expected_seq: 4,
            got_seq: 9,
        },
        E::Fork {
            what: "membership log",
            seq: 3,
        },
        E::AlreadyApplied {
            what: "membership log",
            seq: 3,
        },
        E::ClockRegression {
            previous: at,
            got: at,
        },
        E::UnknownHead(EntryHash::from_bytes([7; 32])),
        E::StaleEpoch {
            expected: 2,
            got: 1,
        },
        E::UnknownEpoch(3),
        E::Decrypt("envelope"),
        E::InviteExpired { expires_at: at, at },
        E::InviteReused(InviteId::from_bytes([9; 32])),
        E::InviteRevoked("its issuer may no longer invite"),
        E::RecoveryRefused("this recovery code was already used or replaced"),
        E::Unauthenticated("signature header"),
        E::StaleRequest { skew_ms: 600_000 },
        E::Replayed,
        E::HeadMoved {
            head: EntryHash::from_bytes([8; 32]),
            len: 5,
        },
        E::CircleExists(member.to_string()),
        E::RateLimited {
            retry_after_secs: 3,
        },
        E::Relay {
            status: 418,
            code: "teapot".into(),
            message: format!("{URL}: I'm a teapot"),
        },
        E::Network(format!("{URL}: {OS}")),
        E::EntryClockSkew { skew_ms: 900_000 },
        E::BadRequest("Failed to deserialize query string: missing field `after`".into()),
        E::NotFound("no route for GET /v1/nope".into()),
        E::RelayGap { expected_seq: 4 },
        E::CutoffBehindRelay {
            device,
            cutoff: 3,
            stored: 5,
        },
        E::QuotaExceeded {
            what: "envelopes of this circle",
            limit: 100_000,
        },
        E::DailyQuotaExceeded {
            what: "bytes per device",
            limit: 10,
            retry_after_secs: 3600,
        },
        E::CircleClosed(member.to_string()),
        E::AdmissionRequired("no x-kring-admission header".into()),
        E::InvalidPushSubscription("endpoint must be https".into()),
        E::Timeout("request body"),
        E::UriTooLong {
            len: 9000,
            max: 8192,
        },
        E::HeadersTooLarge {
            len: 90_000,
            max: 65_536,
        },
        E::Unavailable {
            reason: "database unreachable",
            retry_after_secs: 2,
        },
        E::FamilyTime(family_time::refusal::ALREADY_OPEN),
        E::Internal("the pull semaphore closed".into()),
    ]
}

fn plan_variant(e: &PlanError) -> &'static str {
    use PlanError as E;
    match e {
        E::InvalidValue { .. } => "InvalidValue",
        E::EmptyText { .. } => "EmptyText",
        E::TextTooLong { .. } => "TextTooLong",
        E::InvalidSlots(_) => "InvalidSlots",
        E::DatesOutOfOrder(_) => "DatesOutOfOrder",
        E::UnknownMember(_) => "UnknownMember",
        E::UnknownTask(_) => "UnknownTask",
        E::UnknownEntry(_) => "UnknownEntry",
        E::NotAMember(_) => "NotAMember",
        E::NotAllowed(_) => "NotAllowed",
        E::TaskNotOpen(_) => "TaskNotOpen",
        E::TaskFull { .. } => "TaskFull",
        E::AlreadyClaimed(_) => "AlreadyClaimed",
        E::NotClaimed(_) => "NotClaimed",
        E::AlreadyDone(_) => "AlreadyDone",
        E::InvalidTransition { .. } => "InvalidTransition",
        E::MainPersonApprovalMissing => "MainPersonApprovalMissing",
        E::AlreadyExists(_) => "AlreadyExists",
        E::MalformedDocument(_) => "MalformedDocument",
        E::WrongCircle { .. } => "WrongCircle",
        E::Unattested { .. } => "Unattested",
        E::Automerge(_) => "Automerge",
        E::Trust(_) => "Trust",
    }
}

fn plan_samples(member: &MemberId) -> Vec<PlanError> {
    use PlanError as E;
    let task = TaskId::random();
    let automerge =
        automerge::Automerge::load(b"not a document").expect_err("garbage does not load");
    vec![
        E::InvalidValue {
            field: "date",
            value: "31-02-2027".into(),
            expected: "YYYY-MM-DD or YYYY-MM-DDTHH:MM".into(),
        },
        E::InvalidValue {
            field: "time zone",
            value: "Mars/Olympus".into(),
            expected: "an IANA time zone such as Europe/Amsterdam".into(),
        },
        E::InvalidValue {
            field: "Relation",
            value: "cousin".into(),
            expected: "family|friend|neighbour".into(),
        },
        E::InvalidValue {
            field: "occurrence",
            value: "2027-03-28T02:30".into(),
            expected: "one of the task's occurrences".into(),
        },
        E::InvalidValue {
            field: "repeat rule",
            value: "FREQ=SOMETIMES".into(),
            expected: "an RFC 5545 RRULE (invalid FREQ)".into(),
        },
        E::EmptyText { field: "title" },
        E::TextTooLong {
            field: "title",
            len: 300,
            max: 200,
        },
        E::InvalidSlots(0),
        E::DatesOutOfOrder("the end must come after the start"),
        E::UnknownMember(member.clone()),
        E::UnknownTask(task.clone()),
        E::UnknownEntry(EntryId::random()),
        E::NotAMember(member.clone()),
        E::NotAllowed(refusal::SET_QUESTION),
        E::NotAllowed("a circle has exactly one main person"),
        E::TaskNotOpen(task.clone()),
        E::TaskFull {
            task: task.clone(),
            slots: 1,
        },
        E::AlreadyClaimed(task.clone()),
        E::NotClaimed(task.clone()),
        E::AlreadyDone(task),
        E::InvalidTransition {
            from: PlanStatus::Draft,
            to: PlanStatus::Archived,
        },
        E::MainPersonApprovalMissing,
        E::AlreadyExists(format!("member {member}")),
        E::MalformedDocument(DECODER.into()),
        E::WrongCircle {
            expected: member.to_string(),
            found: "0f3a".into(),
        },
        E::Unattested {
            actor: member.to_string(),
            why: "no envelope of theirs holds it",
        },
        E::Automerge(automerge),
        E::Trust(TrustError::Network(format!("{URL}: {OS}"))),
    ]
}

fn client_variant(e: &CoreError) -> &'static str {
    use CoreError as E;
    match e {
        E::Plan(_) => "Plan",
        E::Trust(_) => "Trust",
        E::UnknownCircle(_) => "UnknownCircle",
        E::WrongActor { .. } => "WrongActor",
        E::Store(_) => "Store",
        E::Io(_) => "Io",
        E::CorruptStore(_) => "CorruptStore",
        E::SecretStore(_) => "SecretStore",
        E::NoRelay(_) => "NoRelay",
        E::LocalOnly(_) => "LocalOnly",
        E::PlanNotAvailable(_) => "PlanNotAvailable",
        E::Archived(_) => "Archived",
        E::Contended(_) => "Contended",
    }
}

fn client_samples(member: &MemberId) -> Vec<CoreError> {
    use CoreError as E;
    let circle = member.to_string();
    vec![
        E::UnknownCircle(circle.clone()),
        E::WrongActor {
            expected: "a1b2c3d4e5f6".into(),
            found: "f6e5d4c3b2a1".into(),
        },
        E::Store(rusqlite::Error::QueryReturnedNoRows),
        E::Io(std::io::Error::other(OS)),
        E::CorruptStore("hole in the membership log at 4".into()),
        E::SecretStore("org.freedesktop.Secret.Error.IsLocked".into()),
        E::NoRelay(circle.clone()),
        E::LocalOnly(circle.clone()),
        E::PlanNotAvailable(circle.clone()),
        E::Archived(circle),
        E::Contended("removal"),
    ]
}

/// A link cut off in a chat app, or with a character changed: each reads as the one
/// sentence a person can act on, whatever the decoder found.
#[test]
fn a_cut_off_or_garbled_link_asks_for_a_new_one() {
    let garbled = [
        "kring://invite/AAAB",
        "kring://invite/",
        "kring://invite/!!!!",
        "https://example.org/join",
        "kring://device/AQID",
    ];
    for lang in [Language::Nl, Language::En] {
        crate::i18n::speak_in_test(lang);
        let expected = t!("core-link-incomplete");
        for link in garbled {
            let e = kring_trust::invite::InviteToken::from_link(link).expect_err(link);
            assert_eq!(say(&CoreError::Trust(e)), expected, "{link}");
        }
    }
}

/// Everything the walk checks one sentence for; `None` when it reads plainly.
fn what_is_wrong(lang: Language, said: &str, ids: &[String]) -> Option<String> {
    let lower = said.to_lowercase();
    if said.trim().is_empty() {
        return Some("empty".into());
    }
    if said.contains("{ $") || said.contains("core-") || said.contains("kind-") {
        return Some("an unfilled message".into());
    }
    for internal in [
        "127.0.0.1",
        "/v1/",
        "os error",
        "connection refused",
        "byte 17",
    ] {
        if lower.contains(internal) {
            return Some(format!("an internal detail: {internal}"));
        }
    }
    for id in ids {
        if said.contains(id.as_str()) {
            return Some(format!("an id: {id}"));
        }
    }
    if said.contains("::") || said.contains("Vec<") {
        return Some("Rust".into());
    }
    // A type name: a word with a capital inside it (MemberId, InviteReused).
    let camel = said.split(|c: char| !c.is_alphanumeric()).find(|w| {
        let mut chars = w.chars();
        chars.next().is_some_and(char::is_uppercase)
            && chars.clone().any(char::is_lowercase)
            && chars.any(char::is_uppercase)
    });
    if let Some(word) = camel {
        return Some(format!("a type name: {word}"));
    }
    if lang == Language::Nl {
        let english = [
            " the ",
            "the ",
            " not ",
            " is too",
            " must ",
            "expected",
            "cannot",
            "failed",
            "invalid",
            " already ",
            "device ",
            "refused",
            " wrong ",
            " missing ",
            "header",
        ];
        for word in english {
            if lower.starts_with(word.trim_start()) || lower.contains(word) {
                return Some(format!("English in Dutch: {word:?}"));
            }
        }
    }
    None
}

#[test]
fn every_error_kind_reads_plainly_in_both_languages() {
    let device = DeviceIdentity::generate().id();
    let member = MemberId::random();
    let trust = trust_samples(device, &member);
    let plan = plan_samples(&member);
    let client = client_samples(&member);

    // Every variant of every layer has a sample (a new one must be added here).
    let names = |v: Vec<&'static str>| v.into_iter().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(
        names(trust.iter().map(trust_variant).collect()).len(),
        56,
        "a trust variant without a sample"
    );
    assert_eq!(names(plan.iter().map(plan_variant).collect()).len(), 23);
    let mut errors: Vec<CoreError> = Vec::new();
    errors.extend(trust.into_iter().map(CoreError::Trust));
    errors.extend(plan.into_iter().map(CoreError::Plan));
    errors.extend(client);
    let client_names: Vec<&str> = errors.iter().map(client_variant).collect();
    assert_eq!(
        names(client_names).len(),
        13,
        "a client variant without a sample"
    );

    let ids = [
        device.short(),
        member.short().to_owned(),
        member.to_string(),
        "a1b2c3d4e5f6".into(),
    ];
    let mut wrong = Vec::new();
    for lang in [Language::Nl, Language::En] {
        crate::i18n::speak_in_test(lang);
        for e in &errors {
            let said = say(e);
            let told = CliError::Core(clone_of(e)).hint();
            for line in std::iter::once(said).chain(told) {
                if let Some(why) = what_is_wrong(lang, &line, &ids) {
                    wrong.push(format!("{lang} {e:?}\n    {line}\n    → {why}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} messages:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The hint is asked of a `CliError`, which owns its error: the variants with hints
/// are cheap to rebuild; the rest have none.
fn clone_of(e: &CoreError) -> CoreError {
    match e {
        CoreError::Trust(TrustError::InviteReused(id)) => TrustError::InviteReused(*id).into(),
        CoreError::Trust(TrustError::InviteExpired { expires_at, at }) => {
            TrustError::InviteExpired {
                expires_at: *expires_at,
                at: *at,
            }
            .into()
        }
        CoreError::Trust(TrustError::InviteRevoked(why)) => TrustError::InviteRevoked(why).into(),
        CoreError::Trust(TrustError::RecoveryRefused(why)) => {
            TrustError::RecoveryRefused(why).into()
        }
        CoreError::Archived(c) => CoreError::Archived(c.clone()),
        _ => CoreError::Contended("none"),
    }
}

use crate::error::CliError;
