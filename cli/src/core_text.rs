//! What core's errors say, in the person's language. Core's own messages are plain
//! English for logs and developers; a Dutch circle hears Dutch (B1). The rules
//! people meet most — who may do what, a full task, an expired invite — each have
//! their own sentence; the technical refusals of the trust layer get one per kind,
//! with core's detail after it.

use kring_client::Error as CoreError;
use kring_plan::plan::authority::refusal;
use kring_plan::Error as PlanError;
use kring_trust::membership::family as family_time;
use kring_trust::{Error as TrustError, ErrorKind};

use crate::i18n::word;

/// The message for `e` in the process's language.
pub fn say(e: &CoreError) -> String {
    use CoreError as E;
    match e {
        E::Plan(e) => say_plan(e),
        E::Trust(e) => say_trust(e),
        E::UnknownCircle(id) => t!("core-unknown-circle", id = id),
        E::NoRelay(_) => t!("core-no-relay"),
        E::LocalOnly(_) => t!("core-local-only"),
        E::PlanNotAvailable(_) => t!("core-plan-not-available"),
        E::Archived(_) => t!("core-archived"),
        E::Contended(what) => t!("core-busy", what = *what),
        other => by_kind(other.kind(), other.to_string()),
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
        E::UnknownMember(id) => t!("core-unknown-member", id = id.short()),
        E::UnknownTask(id) => t!("core-unknown-task", id = id.short()),
        E::UnknownEntry(id) => t!("core-unknown-entry", id = id.short()),
        E::NotAMember(id) => t!("core-not-a-member", id = id.short()),
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
        E::Trust(e) => say_trust(e),
        other => by_kind(other.kind(), other.to_string()),
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
        E::UnknownMember(id) => t!("core-unknown-member", id = id.short()),
        E::UnknownCircle(id) => t!("core-unknown-circle", id = id),
        E::NotAMember(id) => t!("core-not-a-member", id = id.short()),
        E::NotAllowed(why) => refusal_text(why),
        E::Removed(_) => t!("core-removed"),
        E::ReadOnly(_) => t!("core-read-only"),
        E::InviteExpired { .. } => t!("core-invite-expired"),
        E::InviteReused(_) => t!("core-invite-used"),
        E::InviteRevoked(_) => t!("core-invite-revoked"),
        E::RecoveryRefused(why) => t!("core-recovery-refused", why = *why),
        E::Network(detail) => t!("core-network", detail = detail),
        E::RateLimited { retry_after_secs } => {
            t!("core-rate-limited", seconds = *retry_after_secs)
        }
        E::CircleClosed(_) => t!("core-circle-closed"),
        E::FamilyTime(why) => family_time_text(why),
        E::Unauthorized { action, .. } if *action == family_time::refusal::PRESENT => {
            t!("core-family-time-present-not-allowed")
        }
        E::Unauthorized { action, .. } if family_time::refusal::MANAGE.contains(action) => {
            t!("core-family-time-not-allowed")
        }
        E::QuotaExceeded { .. } | E::DailyQuotaExceeded { .. } => {
            t!("core-quota", detail = e.to_string())
        }
        other => by_kind(other.kind(), other.to_string()),
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

fn invalid_value(field: &str, value: &str, expected: &str) -> String {
    t!(
        "core-invalid-value",
        field = field_name(field),
        value = value,
        expected = expected
    )
}

/// The permit table's refusals ("only the main person …") in the person's language;
/// any other refusal (a tampered change, say) as core words it.
fn refusal_text(why: &str) -> String {
    match refusal_key(why) {
        Some(key) => crate::i18n::message(key, &[]),
        None => t!("core-not-allowed", why = why),
    }
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

/// One sentence per kind, with core's detail, for what has no sentence of its own.
fn by_kind(kind: ErrorKind, detail: String) -> String {
    match kind {
        ErrorKind::Rejected => t!("core-rejected", detail = detail),
        ErrorKind::Storage => t!("core-storage", detail = detail),
        ErrorKind::SecretStore => t!("core-secret-store", detail = detail),
        ErrorKind::InvalidDocument => t!("core-invalid-document", detail = detail),
        ErrorKind::RelayRefused => t!("core-relay-refused", detail = detail),
        ErrorKind::Unreachable => t!("core-network", detail = detail),
        ErrorKind::Internal => t!("core-internal", detail = detail),
        ErrorKind::InvalidInput
        | ErrorKind::NotFound
        | ErrorKind::NotAllowed
        | ErrorKind::TaskFull
        | ErrorKind::AlreadyClaimed
        | ErrorKind::NotClaimed
        | ErrorKind::TaskClosed
        | ErrorKind::InvalidTransition
        | ErrorKind::ApprovalMissing
        | ErrorKind::AlreadyExists
        | ErrorKind::InviteUsed
        | ErrorKind::InviteExpired
        | ErrorKind::InviteRevoked
        | ErrorKind::RecoveryRefused
        | ErrorKind::Busy
        | ErrorKind::Closed
        | ErrorKind::NoRelay
        | ErrorKind::LocalOnly
        | ErrorKind::PlanNotAvailable => detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kring_plan::plan::Language;

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
}
