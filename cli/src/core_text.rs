//! What core's errors say, in the person's language. Core's own messages are plain
//! English for logs and developers; a person hears one sentence in the circle's
//! language (B1 Dutch in a Dutch circle) that says what happened and what to do.
//!
//! Invariant: no sentence here carries core's detail. Details are decoder output,
//! HTTP bodies, URLs, OS errors, device ids and type names — internals that frighten
//! and tell a person nothing; `KRING_DEBUG=1` prints them for developers (see
//! `main`). Where an English detail *is* a sentence written for people (a refusal's
//! reason), only the English message shows it. `tests::every_error_kind_reads_plainly`
//! walks every variant of every layer in both languages.

use kring_client::Error as CoreError;
use kring_plan::plan::authority::refusal;
use kring_plan::Error as PlanError;
use kring_trust::error::RecoveryCodeProblem;
use kring_trust::membership::family as family_time;
use kring_trust::{Error as TrustError, ErrorKind};

use crate::i18n::word;

/// The message for `e` in the process's language.
pub fn say(e: &CoreError) -> String {
    use CoreError as E;
    match e {
        E::Plan(e) => say_plan(e),
        E::Trust(e) => say_trust(e),
        E::UnknownCircle(_) => t!("core-unknown-circle"),
        E::NoRelay(_) => t!("core-no-relay"),
        E::LocalOnly(_) => t!("core-local-only"),
        E::PlanNotAvailable(_) => t!("core-plan-not-available"),
        E::Archived(_) => t!("core-archived"),
        E::Contended(_) => t!("core-busy"),
        E::CorruptStore(_) => t!("core-corrupt-store"),
        E::WrongActor { .. } | E::Store(_) | E::Io(_) | E::SecretStore(_) => by_kind(e.kind()),
    }
}

/// The rules of the plan people meet.
fn say_plan(e: &PlanError) -> String {
    use PlanError as E;
    match e {
        E::InvalidValue {
            field,
            value,
            expected,
        } => invalid_value(field, value, expected),
        E::EmptyText { field } => t!("core-empty-text", field = field_name(field)),
        E::TextTooLong { field, len, max } => t!(
            "core-text-too-long",
            field = field_name(field),
            len = *len,
            max = *max
        ),
        E::InvalidSlots(_) => t!("core-invalid-slots"),
        E::DatesOutOfOrder(why) => t!("core-dates-out-of-order", why = *why),
        E::UnknownMember(_) => t!("core-unknown-member"),
        E::UnknownTask(id) => t!("core-unknown-task", id = id.short()),
        E::UnknownEntry(id) => t!("core-unknown-entry", id = id.short()),
        E::NotAMember(_) => t!("core-not-a-member"),
        E::NotAllowed(why) => refusal_text(why),
        E::TaskNotOpen(_) => t!("core-task-not-open"),
        E::TaskFull { slots, .. } => t!("core-task-full", slots = *slots),
        E::AlreadyClaimed(_) => t!("core-already-claimed"),
        E::NotClaimed(_) => t!("core-not-claimed"),
        E::AlreadyDone(_) => t!("core-already-done"),
        E::InvalidTransition { from, to } => t!(
            "core-invalid-transition",
            from = word("plan-status", from.as_str()),
            to = word("plan-status", to.as_str())
        ),
        E::MainPersonApprovalMissing => t!("core-approval-missing"),
        E::AlreadyExists(_) => t!("core-already-exists"),
        E::WrongCircle { .. } => t!("core-wrong-circle"),
        E::Trust(e) => say_trust(e),
        E::MalformedDocument(_) | E::Unattested { .. } | E::Automerge(_) => by_kind(e.kind()),
    }
}

/// The circle's and the relay's refusals people meet.
fn say_trust(e: &TrustError) -> String {
    use TrustError as E;
    match e {
        E::InvalidId { value, .. } => t!("core-invalid-id", value = value),
        E::InvalidValue {
            field,
            value,
            expected,
        } => invalid_value(field, value, expected),
        E::DatesOutOfOrder(why) => t!("core-dates-out-of-order", why = *why),
        E::RecoveryCode(problem) => recovery_code(*problem),
        E::UnknownMember(_) => t!("core-unknown-member"),
        E::UnknownCircle(_) => t!("core-unknown-circle"),
        E::NotAMember(_) => t!("core-not-a-member"),
        E::NotAllowed(why) => refusal_text(why),
        E::AlreadyExists(what) if what.starts_with("circle ") => t!("core-circle-here"),
        E::AlreadyExists(_) => t!("core-already-exists"),
        E::WrongCircle { .. } => t!("core-wrong-circle"),
        E::Malformed { what, .. }
        | E::Oversized { what, .. }
        | E::BadSignature(what)
        | E::UnsupportedVersion { what, .. }
            if is_link(what) =>
        {
            t!("core-link-incomplete")
        }
        E::UnsupportedVersion { .. } => t!("core-newer-version"),
        E::Malformed { .. } | E::Oversized { .. } | E::BadSignature(_) => t!("core-damaged"),
        E::UnknownDevice(_) | E::DeviceNotMember(_) => t!("core-not-a-member"),
        E::Removed(_) => t!("core-removed"),
        E::ReadOnly(_) => t!("core-read-only"),
        E::Unauthorized { action, .. } if *action == family_time::refusal::PRESENT => {
            t!("core-family-time-present-not-allowed")
        }
        E::Unauthorized { action, .. } if family_time::refusal::MANAGE.contains(action) => {
            t!("core-family-time-not-allowed")
        }
        E::Unauthorized { action, .. } => t!("core-unauthorized", why = *action),
        E::OwnerProtected => t!("core-owner-protected"),
        E::BrokenChain { .. }
        | E::Fork { .. }
        | E::AlreadyApplied { .. }
        | E::UnknownHead(_)
        | E::HeadMoved { .. }
        | E::RelayGap { .. }
        | E::CutoffBehindRelay { .. } => t!("core-out-of-step"),
        E::ClockRegression { .. } | E::StaleRequest { .. } | E::EntryClockSkew { .. } => {
            t!("core-clock")
        }
        E::StaleEpoch { .. } | E::UnknownEpoch(_) | E::Decrypt(_) => t!("core-no-key"),
        E::InviteExpired { .. } => t!("core-invite-expired"),
        E::InviteReused(_) => t!("core-invite-used"),
        E::InviteRevoked(_) => t!("core-invite-revoked"),
        E::RecoveryRefused(why) => t!("core-recovery-refused", why = *why),
        E::Unauthenticated(_) | E::Replayed => t!("core-unauthenticated"),
        E::CircleExists(_) => t!("core-circle-exists"),
        E::RateLimited { retry_after_secs } => {
            t!("core-rate-limited", seconds = *retry_after_secs)
        }
        E::Unavailable {
            retry_after_secs, ..
        } => t!("core-rate-limited", seconds = *retry_after_secs),
        E::Network(_) => t!("core-network"),
        E::Timeout(_) => t!("core-timeout"),
        E::QuotaExceeded { .. } => t!("core-quota"),
        E::DailyQuotaExceeded { .. } => t!("core-daily-quota"),
        E::CircleClosed(_) => t!("core-circle-closed"),
        E::AdmissionRequired(_) => t!("core-admission-required"),
        E::InvalidPushSubscription(_) => t!("core-push-subscription"),
        E::FamilyTime(why) => family_time_text(why),
        E::Relay { .. }
        | E::BadRequest(_)
        | E::NotFound(_)
        | E::UriTooLong { .. }
        | E::HeadersTooLarge { .. }
        | E::Internal(_) => by_kind(e.kind()),
    }
}

/// Whether what failed to read is a link a person was sent.
fn is_link(what: &str) -> bool {
    what.contains("invite") || what.contains("link")
}

/// Which word, counted from 1: a person checks that word on the paper.
fn recovery_code(problem: RecoveryCodeProblem) -> String {
    match problem {
        RecoveryCodeProblem::WordCount { found, expected } => {
            t!(
                "core-recovery-word-count",
                found = found,
                expected = expected
            )
        }
        RecoveryCodeProblem::UnknownWord { position } => {
            t!("core-recovery-unknown-word", position = position)
        }
        RecoveryCodeProblem::Checksum => t!("core-recovery-checksum"),
    }
}

/// Family time's refusals in the person's language.
fn family_time_text(why: &str) -> String {
    use family_time::refusal::*;
    let key = match why {
        ALREADY_OPEN => "core-family-time-already-open",
        NOT_OPEN => "core-family-time-not-open",
        OUT_OF_DATE => "core-family-time-out-of-date",
        ALREADY_PRESENTED => "core-family-time-already-presented",
        NOTHING_WRITTEN => "core-family-time-nothing-written",
        HANDOVER_DURING => "core-family-time-handover",
        _ => "core-family-time-no-key",
    };
    crate::i18n::message(key, &[])
}

/// A value that does not fit its field: the field's own sentence where it has one
/// (`value-<field>`: what to write instead, in the person's words), the choices where
/// core lists them, else one plain sentence. Core's `expected` is English for
/// developers and is never shown.
fn invalid_value(field: &str, value: &str, expected: &str) -> String {
    let key = format!("value-{}", field.replace(' ', "-"));
    if crate::i18n::has_message(crate::i18n::language(), &key) {
        return crate::i18n::message(&key, &[("value", value.into())]);
    }
    if expected.contains('|') {
        return t!(
            "core-invalid-choice",
            value = value,
            choices = expected.replace('|', ", ")
        );
    }
    t!("core-invalid-value", value = value)
}

/// The permit table's refusals ("only the main person …") and core's other reasons
/// in the person's language; a reason without a sentence of its own (a tampered
/// change, say) in one plain sentence (English also gives core's reason, which is
/// written for people).
fn refusal_text(why: &str) -> String {
    match refusal_key(why).or_else(|| reason_key(why)) {
        Some(key) => crate::i18n::message(key, &[]),
        None => t!("core-not-allowed", why = why),
    }
}

/// Core's reasons for a `NotAllowed` outside the permit table, each with its
/// sentence.
pub(crate) const REASONS: &[(&str, &str)] = &[
        ("an invite admits a new person, not another device", "reason-invite-not-device"),
        ("a device link is valid for at most an hour", "reason-device-link-hour"),
        ("a device link admits another device of its member, not a new person", "reason-device-link-not-person"),
        ("only the main person's devices make snapshots of her plan", "reason-snapshot"),
        ("a circle has exactly one main person", "reason-one-main-person"),
        ("watch the circles of one relay at a time", "reason-watch-one-relay"),
        ("none of the circles can be watched", "reason-watch-none"),
        ("no circle to watch", "reason-watch-no-circle"),
        ("this is an invite for a new person: join with it instead", "reason-link-is-invite"),
        ("this circle syncs through its relay with signed changes; an unsigned plan file cannot be merged into it (use `kring sync`)", "reason-unsigned-merge"),
        ("this circle is already on another relay; moving circles is not supported", "reason-other-relay"),
        ("fewer places than people who already claimed the task; someone must unclaim first", "reason-fewer-places"),
        ("turns need a task repeating in the circle's time (edit its schedule first)", "reason-turns-need-series"),
        ("only a series in the circle's time has occurrences to change", "reason-occurrences-need-series"),
        ("only the main person founds the circle's plan", "reason-founds"),
        ("this device sent a change the plan's rules refuse", "reason-device-cut-off"),
        ("the change builds on a change that was refused", "reason-builds-on-refused"),
];

fn reason_key(why: &str) -> Option<&'static str> {
    REASONS
        .iter()
        .find(|(text, _)| *text == why)
        .map(|(_, key)| *key)
}

/// The message id of each of core's permit refusals.
fn refusal_key(why: &str) -> Option<&'static str> {
    const KEYS: &[(&str, &str)] = &[
        (refusal::READER, "refusal-reader"),
        (refusal::CHANGE_CIRCLE, "refusal-change-circle"),
        (refusal::ADD_PERSON, "refusal-add-person"),
        (refusal::EDIT_MEMBER, "refusal-edit-member"),
        (refusal::DESIGNATE, "refusal-designate"),
        (refusal::REMOVE_MAIN_PERSON, "refusal-remove-main-person"),
        (refusal::REMOVE_MEMBER, "refusal-remove-member"),
        (refusal::SET_QUESTION, "refusal-set-question"),
        (refusal::SET_STATUS, "refusal-set-status"),
        (refusal::APPROVE, "refusal-approve"),
        (refusal::ADD_LIST_ITEM, "refusal-add-list-item"),
        (refusal::REMOVE_LIST_ITEM, "refusal-remove-list-item"),
        (refusal::REVIEW, "refusal-review"),
        (refusal::HANDOVER, "refusal-handover"),
        (refusal::EDIT_TASK, "refusal-edit-task"),
        (refusal::CLAIM, "refusal-claim"),
        (refusal::COMPLETE, "refusal-complete"),
        (refusal::SET_CONDITION, "refusal-set-condition"),
        (refusal::ACCEPT_CONDITION, "refusal-accept-condition"),
        (refusal::WITHDRAW_OFFER, "refusal-withdraw-offer"),
        (refusal::EDIT_MEETING, "refusal-edit-meeting"),
        (refusal::RSVP, "refusal-rsvp"),
    ];
    KEYS.iter()
        .find(|(text, _)| *text == why)
        .map(|(_, key)| *key)
}

/// A field name as a person says it ("titel"), or as core names it.
fn field_name(field: &str) -> String {
    word("field", &field.replace(' ', "-"))
}

/// One sentence per kind, for what has no sentence of its own.
fn by_kind(kind: ErrorKind) -> String {
    let key = match kind {
        ErrorKind::InvalidInput => "kind-invalid-input",
        ErrorKind::NotFound => "kind-not-found",
        ErrorKind::NotAllowed => "kind-not-allowed",
        ErrorKind::Rejected => "core-rejected",
        ErrorKind::Storage => "core-storage",
        ErrorKind::SecretStore => "core-secret-store",
        ErrorKind::InvalidDocument => "core-invalid-document",
        ErrorKind::RelayRefused => "core-relay-refused",
        ErrorKind::Unreachable => "core-network",
        ErrorKind::Internal => "core-internal",
        ErrorKind::TaskFull => "kind-task-full",
        ErrorKind::AlreadyClaimed => "core-already-claimed",
        ErrorKind::NotClaimed => "core-not-claimed",
        ErrorKind::TaskClosed => "core-task-not-open",
        ErrorKind::InvalidTransition => "kind-invalid-transition",
        ErrorKind::ApprovalMissing => "core-approval-missing",
        ErrorKind::AlreadyExists => "core-already-exists",
        ErrorKind::InviteUsed => "core-invite-used",
        ErrorKind::InviteExpired => "core-invite-expired",
        ErrorKind::InviteRevoked => "core-invite-revoked",
        ErrorKind::RecoveryRefused => "kind-recovery-refused",
        ErrorKind::Busy => "core-busy",
        ErrorKind::Closed => "core-archived",
        ErrorKind::NoRelay => "core-no-relay",
        ErrorKind::LocalOnly => "core-local-only",
        ErrorKind::PlanNotAvailable => "core-plan-not-available",
    };
    crate::i18n::message(key, &[])
}

#[cfg(test)]
mod tests;
