//! The error type of the trust layer and the relay protocol, and the one
//! classification every boundary maps from.
//!
//! Every rejection has its own variant so callers (CLI exit codes, FFI exceptions, relay
//! JSON error codes) can react precisely. The plan (`kring-plan`) and the client
//! (`kring-client`) have their own error enums that wrap this one; all three classify
//! into the same [`ErrorKind`] and [`Class`] defined here, so an error keeps its kind,
//! status and code whichever layer it surfaces from. Invariant: an operation that
//! returns `Err` has changed nothing.

use crate::identity::DeviceId;
use crate::ids::MemberId;
use crate::invite::InviteId;
use crate::membership::EntryHash;
use crate::time::Timestamp;

/// What is wrong with a typed recovery code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryCodeProblem {
    #[error("{found} words, it has {expected}")]
    WordCount { found: usize, expected: usize },
    /// Word `position` (counted from 1, as a person counts) is not on the word list.
    #[error("word {position} is not on the word list")]
    UnknownWord { position: usize },
    /// Every word is on the list, but they do not belong together: one is mistyped
    /// into another word of the list, or two are swapped.
    #[error("the words do not belong together (a typo or two words swapped)")]
    Checksum,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- input that is malformed on its face -------------------------------------
    #[error("{kind} must be 32 hex characters (or a name), got {value:?}")]
    InvalidId { kind: &'static str, value: String },
    #[error("{field} must be one of {expected}, got {value:?}")]
    InvalidValue {
        field: &'static str,
        value: String,
        expected: String,
    },
    #[error("dates are in the wrong order: {0}")]
    DatesOutOfOrder(&'static str),
    /// A recovery code as typed that is not one: which word, so a person can look
    /// that one word up on their paper instead of typing all twelve again.
    #[error("recovery code: {0}")]
    RecoveryCode(RecoveryCodeProblem),

    // ---- references to things that do not exist (here) ---------------------------
    #[error("no member {} in this circle", .0.short())]
    UnknownMember(MemberId),
    #[error("unknown circle {0}")]
    UnknownCircle(String),

    // ---- rules of the circle -----------------------------------------------------------
    #[error("{} is not an active member of this circle", .0.short())]
    NotAMember(MemberId),
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    #[error("{0} already exists")]
    AlreadyExists(String),

    #[error("this document belongs to another circle ({found}, expected {expected})")]
    WrongCircle { expected: String, found: String },

    // ---- trust layer: identity, membership log, invites, envelopes -------------------
    // Every variant is one reason to reject signed input; the relay maps them to stable
    // JSON error codes, so do not merge or rename them lightly.
    #[error("{what} is too large: {len} bytes, at most {max}")]
    Oversized {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("malformed {what}: {detail}")]
    Malformed { what: &'static str, detail: String },
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion { what: &'static str, version: u8 },
    #[error("bad signature on {0}")]
    BadSignature(&'static str),
    #[error("unknown device {}", .0.short())]
    UnknownDevice(DeviceId),
    #[error("device {} was not a member of the circle at the cited membership head", .0.short())]
    DeviceNotMember(DeviceId),
    #[error("device {} has been removed from the circle", .0.short())]
    Removed(DeviceId),
    #[error("device {} may only read", .0.short())]
    ReadOnly(DeviceId),
    #[error("device {} may not {action}", .device.short())]
    Unauthorized {
        device: DeviceId,
        action: &'static str,
    },
    #[error("only the owner may change the owner or their devices")]
    OwnerProtected,
    #[error("{what}: expected position {expected_seq} after the current head, got {got_seq} on another head")]
    BrokenChain {
        what: &'static str,
        expected_seq: u64,
        got_seq: u64,
    },
    #[error("{what}: fork, another entry already holds position {seq}")]
    Fork { what: &'static str, seq: u64 },
    #[error("{what}: position {seq} is already applied")]
    AlreadyApplied { what: &'static str, seq: u64 },
    #[error("entry time {got} is before the previous entry's {previous}")]
    ClockRegression { previous: Timestamp, got: Timestamp },
    #[error("unknown membership head {0}")]
    UnknownHead(EntryHash),
    #[error("stale key epoch: expected {expected}, got {got}")]
    StaleEpoch { expected: u64, got: u64 },
    #[error("no key for epoch {0} on this device")]
    UnknownEpoch(u64),
    #[error("cannot decrypt {0}")]
    Decrypt(&'static str),
    #[error("the invite expired at {expires_at} (used at {at})")]
    InviteExpired {
        expires_at: Timestamp,
        at: Timestamp,
    },
    #[error("invite {0} was already redeemed")]
    InviteReused(InviteId),
    /// The invite has not expired and was not used, but the circle no longer accepts
    /// it: whoever made it was removed or may no longer invite, or someone was removed
    /// since it was made (the key it carries is stale). Ask for a new one.
    #[error("the invite was revoked: {0}")]
    InviteRevoked(&'static str),
    /// A recovery code that is not a device of the circle, or was already used or
    /// replaced by a newer one. Nothing was changed.
    #[error("recovery refused: {0}")]
    RecoveryRefused(&'static str),

    // ---- relay and sync -------------------------------------------------------------
    #[error("request not authenticated: missing or unreadable {0}")]
    Unauthenticated(&'static str),
    #[error("request timestamp is {skew_ms} ms away from the relay's clock")]
    StaleRequest { skew_ms: i64 },
    #[error("this request was already received (replay)")]
    Replayed,
    #[error("the membership log moved on: its head is now at length {len}")]
    HeadMoved { head: EntryHash, len: u64 },
    #[error("circle {0} already exists on the relay")]
    CircleExists(String),
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the relay refused: {message} ({code}, HTTP {status})")]
    Relay {
        status: u16,
        code: String,
        message: String,
    },
    #[error("cannot reach the relay: {0}")]
    Network(String),
    /// A membership entry's own time is too far from the relay's clock (it would let a
    /// redemption be backdated before an invite's expiry). Rebuild it with a fresh time.
    #[error("entry time is {skew_ms} ms away from the relay's clock")]
    EntryClockSkew { skew_ms: i64 },
    /// The HTTP request itself is wrong (query, JSON shape, not a WebSocket upgrade),
    /// as opposed to signed bytes that are [`Error::Malformed`].
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("the relay expects envelope {expected_seq} of this device next")]
    RelayGap { expected_seq: u64 },
    #[error("device {} already has envelope {stored} on the relay, after the cut-off {cutoff}; sync, then try again", .device.short())]
    CutoffBehindRelay {
        device: DeviceId,
        cutoff: u64,
        stored: u64,
    },
    /// The relay stores no more for this circle: its operator's quota is used up.
    /// Not transient: the circle's owner must ask the operator (or close the circle).
    #[error("the relay's quota for {what} is used up (at most {limit})")]
    QuotaExceeded { what: &'static str, limit: u64 },
    /// A device wrote as much as the relay takes from it in one day (UTC).
    #[error("the relay's daily quota for {what} is used up (at most {limit}); try again in {retry_after_secs} s")]
    DailyQuotaExceeded {
        what: &'static str,
        limit: u64,
        retry_after_secs: u64,
    },
    /// The circle's owner closed it on the relay; the relay keeps only a tombstone.
    #[error("circle {0} was closed by its owner; the relay keeps nothing of it")]
    CircleClosed(String),
    /// The relay only lets holders of an admission credential create circles.
    #[error("this relay needs an admission credential to create a circle: {0}")]
    AdmissionRequired(String),
    /// A Web Push subscription the relay does not take (endpoint scheme, address or
    /// length, key sizes); the message says which part.
    #[error("push subscription refused: {0}")]
    InvalidPushSubscription(String),
    /// The client took too long to send its request.
    #[error("the request took too long: {0}")]
    Timeout(&'static str),
    /// The request line is longer than the relay reads.
    #[error("the request target is too long: {len} bytes, at most {max}")]
    UriTooLong { len: usize, max: usize },
    /// The request headers are larger than the relay reads.
    #[error("the request headers are too large: {len}, at most {max}")]
    HeadersTooLarge { len: usize, max: usize },
    /// The relay cannot serve this now: its database is unreachable, restarting or
    /// full. Nothing was stored; the same request later may succeed.
    #[error("the relay is unavailable ({reason}); try again in {retry_after_secs} s")]
    Unavailable {
        reason: &'static str,
        retry_after_secs: u64,
    },
    /// Family time does not allow this now (already open, not open, the family key
    /// out of date, this device holds no family key); the reason says which.
    #[error("family time: {0}")]
    FamilyTime(&'static str),
    /// Something that should not fail did (a worker that stopped, a task that
    /// panicked): a bug or a dying process, never the caller's input.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What kind of failure an error is: the one classification every boundary maps
/// from — the CLI's exit codes, the FFI's exception types, the relay's HTTP statuses
/// and stable codes ([`Error::class`]). Adding an [`Error`] variant means choosing its
/// kind here once; no mapping elsewhere has a catch-all arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Input malformed on its face: a bad id, text, value, date order, size, encoding.
    InvalidInput,
    /// A member, task, entry or circle that does not exist (here).
    NotFound,
    /// The plan's or the circle's rules do not let this member or device do this.
    NotAllowed,
    TaskFull,
    AlreadyClaimed,
    NotClaimed,
    /// The task is cancelled, archived or already done.
    TaskClosed,
    InvalidTransition,
    ApprovalMissing,
    AlreadyExists,
    /// Bytes that are not (this circle's) plan document.
    InvalidDocument,
    /// The local database or file system failed, or the store is damaged.
    Storage,
    /// Signed or encrypted data from elsewhere failed verification: not taken in.
    Rejected,
    InviteUsed,
    InviteExpired,
    InviteRevoked,
    RecoveryRefused,
    /// The platform's secret store failed.
    SecretStore,
    /// The relay cannot be reached, is overloaded or failing: try again later.
    Unreachable,
    /// The circle changed at the same moment, every time: try again now.
    Busy,
    /// The relay answered and refused; trying again unchanged will not help.
    RelayRefused,
    /// The circle was closed on its relay.
    Closed,
    NoRelay,
    LocalOnly,
    PlanNotAvailable,
    /// A bug or a dying process.
    Internal,
}

/// The stable error codes of the relay API (`docs/relay-api.md`): clients match on
/// these, never on messages.
pub mod codes {
    pub const MALFORMED: &str = "malformed";
    pub const BAD_REQUEST: &str = "bad_request";
    pub const TOO_LARGE: &str = "too_large";
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    pub const BAD_SIGNATURE: &str = "bad_signature";
    pub const STALE_REQUEST: &str = "stale_request";
    pub const REPLAYED: &str = "replayed";
    pub const NOT_A_MEMBER: &str = "not_a_member";
    pub const REMOVED: &str = "removed";
    pub const READ_ONLY: &str = "read_only";
    pub const FORBIDDEN: &str = "forbidden";
    pub const UNKNOWN_CIRCLE: &str = "unknown_circle";
    pub const NOT_FOUND: &str = "not_found";
    pub const HEAD_MOVED: &str = "head_moved";
    pub const CIRCLE_EXISTS: &str = "circle_exists";
    pub const GAP: &str = "gap";
    pub const FORK: &str = "fork";
    pub const STALE_EPOCH: &str = "stale_epoch";
    pub const INVITE_USED: &str = "invite_used";
    pub const INVITE_EXPIRED: &str = "invite_expired";
    pub const INVITE_REVOKED: &str = "invite_revoked";
    pub const REJECTED: &str = "rejected";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const QUOTA_EXCEEDED: &str = "quota_exceeded";
    pub const DAILY_QUOTA_EXCEEDED: &str = "daily_quota_exceeded";
    pub const CIRCLE_CLOSED: &str = "circle_closed";
    pub const ADMISSION_REQUIRED: &str = "admission_required";
    pub const TIMEOUT: &str = "timeout";
    pub const URI_TOO_LONG: &str = "uri_too_long";
    pub const HEADERS_TOO_LARGE: &str = "headers_too_large";
    pub const INVALID_SUBSCRIPTION: &str = "invalid_subscription";
    pub const UNAVAILABLE: &str = "unavailable";
    pub const INTERNAL: &str = "internal";
}

/// An error's kind and how the relay reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    pub kind: ErrorKind,
    /// The HTTP status the relay answers with.
    pub status: u16,
    /// The stable code in the relay's error body (one of [`codes`]).
    pub code: &'static str,
}

/// A [`Class`] from its parts; the plan's and the client's classifications use it too.
pub const fn class(kind: ErrorKind, status: u16, code: &'static str) -> Class {
    Class { kind, status, code }
}

impl Class {
    /// A kind no relay answers with on purpose: a 500 `internal` should one ever be
    /// sent, its details kept in the relay's log.
    pub const fn internal(kind: ErrorKind) -> Class {
        class(kind, 500, codes::INTERNAL)
    }
}

impl Error {
    /// This error's kind, HTTP status and stable code — the one classification.
    ///
    /// Errors only a client can meet (the network, a relay's answer as received) are a
    /// 500 `internal` should a relay ever answer with one: their details stay in the
    /// relay's log.
    pub fn class(&self) -> Class {
        use codes::*;
        use ErrorKind as K;
        let internal = Class::internal;
        match self {
            Error::InvalidId { .. }
            | Error::InvalidValue { .. }
            | Error::DatesOutOfOrder(_)
            | Error::RecoveryCode(_)
            | Error::Malformed { .. }
            | Error::UnsupportedVersion { .. } => class(K::InvalidInput, 400, MALFORMED),
            Error::Oversized { .. } => class(K::InvalidInput, 413, TOO_LARGE),
            Error::InvalidPushSubscription(_) => class(K::InvalidInput, 400, INVALID_SUBSCRIPTION),
            Error::UnknownMember(_) => class(K::NotFound, 409, REJECTED),
            Error::NotFound(_) => class(K::NotFound, 404, NOT_FOUND),
            Error::UnknownCircle(_) => class(K::NotFound, 404, UNKNOWN_CIRCLE),
            Error::NotAMember(_) => class(K::NotAllowed, 403, NOT_A_MEMBER),
            Error::NotAllowed(_) | Error::Unauthorized { .. } | Error::OwnerProtected => {
                class(K::NotAllowed, 403, FORBIDDEN)
            }
            Error::Removed(_) => class(K::NotAllowed, 403, REMOVED),
            Error::ReadOnly(_) => class(K::NotAllowed, 403, READ_ONLY),
            Error::AlreadyExists(_) => class(K::AlreadyExists, 409, REJECTED),
            Error::CircleExists(_) => class(K::AlreadyExists, 409, CIRCLE_EXISTS),
            Error::WrongCircle { .. } => class(K::InvalidDocument, 409, REJECTED),
            Error::Internal(_) => internal(K::Internal),
            Error::FamilyTime(_) => class(K::InvalidTransition, 409, REJECTED),
            Error::BadSignature(_) => class(K::Rejected, 401, BAD_SIGNATURE),
            Error::UnknownDevice(_) | Error::DeviceNotMember(_) => {
                class(K::Rejected, 403, NOT_A_MEMBER)
            }
            Error::BrokenChain { .. } => class(K::Rejected, 409, GAP),
            Error::Fork { .. } => class(K::Rejected, 409, FORK),
            Error::StaleEpoch { .. } => class(K::Rejected, 409, STALE_EPOCH),
            Error::AlreadyApplied { .. }
            | Error::ClockRegression { .. }
            | Error::UnknownHead(_)
            | Error::UnknownEpoch(_)
            | Error::Decrypt(_) => class(K::Rejected, 409, REJECTED),
            Error::InviteReused(_) => class(K::InviteUsed, 409, INVITE_USED),
            Error::InviteExpired { .. } => class(K::InviteExpired, 409, INVITE_EXPIRED),
            Error::InviteRevoked(_) => class(K::InviteRevoked, 409, INVITE_REVOKED),
            Error::RecoveryRefused(_) => class(K::RecoveryRefused, 409, REJECTED),
            Error::Unauthenticated(_) => class(K::RelayRefused, 401, UNAUTHENTICATED),
            Error::StaleRequest { .. } => class(K::RelayRefused, 401, STALE_REQUEST),
            Error::Replayed => class(K::RelayRefused, 401, REPLAYED),
            Error::EntryClockSkew { .. } | Error::CutoffBehindRelay { .. } => {
                class(K::RelayRefused, 409, REJECTED)
            }
            Error::BadRequest(_) => class(K::RelayRefused, 400, BAD_REQUEST),
            Error::RelayGap { .. } => class(K::RelayRefused, 409, GAP),
            Error::QuotaExceeded { .. } => class(K::RelayRefused, 507, QUOTA_EXCEEDED),
            // "Try again tomorrow" is not a retry loop: refused until then.
            Error::DailyQuotaExceeded { .. } => class(K::RelayRefused, 429, DAILY_QUOTA_EXCEEDED),
            Error::AdmissionRequired(_) => class(K::RelayRefused, 403, ADMISSION_REQUIRED),
            Error::UriTooLong { .. } => class(K::RelayRefused, 414, URI_TOO_LONG),
            Error::HeadersTooLarge { .. } => class(K::RelayRefused, 431, HEADERS_TOO_LARGE),
            Error::HeadMoved { .. } => class(K::Busy, 409, HEAD_MOVED),
            Error::RateLimited { .. } => class(K::Unreachable, 429, RATE_LIMITED),
            Error::Timeout(_) => class(K::Unreachable, 408, TIMEOUT),
            Error::Unavailable { .. } => class(K::Unreachable, 503, UNAVAILABLE),
            Error::Network(_) => internal(K::Unreachable),
            // The relay's own refusal as a client received it: failing (5xx) is
            // "try later", anything else a refusal.
            Error::Relay { status, .. } if *status >= 500 => internal(K::Unreachable),
            Error::Relay { .. } => internal(K::RelayRefused),
            Error::CircleClosed(_) => class(K::Closed, 410, CIRCLE_CLOSED),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.class().kind
    }

    /// Whether trying the same request again later may succeed: the relay was
    /// unreachable, overloaded or failed internally. Refusals are not transient.
    pub fn is_transient(&self) -> bool {
        self.kind() == ErrorKind::Unreachable
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misleading_classifications_are_gone() {
        // A relay's internal failure is internal, and says nothing outside.
        let internal = Error::Internal("the store writer stopped".into());
        assert_eq!(internal.kind(), ErrorKind::Internal);
        assert_eq!(
            (internal.class().status, internal.class().code),
            (500, codes::INTERNAL)
        );
        // Unreachable, rate limited and a failing relay are the only "try later".
        for transient in [
            Error::Network("down".into()),
            Error::RateLimited {
                retry_after_secs: 1,
            },
            Error::Timeout("body"),
            Error::Unavailable {
                reason: "database unreachable",
                retry_after_secs: 2,
            },
            Error::Relay {
                status: 503,
                code: "x".into(),
                message: "m".into(),
            },
        ] {
            assert!(transient.is_transient(), "{transient:?}");
        }
        let refused = Error::Relay {
            status: 409,
            code: "x".into(),
            message: "m".into(),
        };
        assert_eq!(refused.kind(), ErrorKind::RelayRefused);
    }

    #[test]
    fn relay_statuses_and_codes_come_from_the_classification() {
        let cases: [(Error, u16, &str); 6] = [
            (Error::Replayed, 401, codes::REPLAYED),
            (Error::CircleClosed("c".into()), 410, codes::CIRCLE_CLOSED),
            (
                Error::QuotaExceeded {
                    what: "bytes",
                    limit: 1,
                },
                507,
                codes::QUOTA_EXCEEDED,
            ),
            (
                Error::Oversized {
                    what: "entry",
                    len: 2,
                    max: 1,
                },
                413,
                codes::TOO_LARGE,
            ),
            (Error::UnknownCircle("c".into()), 404, codes::UNKNOWN_CIRCLE),
            (
                Error::InvalidId {
                    kind: "circle",
                    value: "x".into(),
                },
                400,
                codes::MALFORMED,
            ),
        ];
        for (error, status, code) in cases {
            let class = error.class();
            assert_eq!((class.status, class.code), (status, code), "{error:?}");
        }
    }
}
