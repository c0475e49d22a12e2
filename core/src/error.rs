//! The one error type of `kring-core`.
//!
//! Every rejection has its own variant so callers (CLI exit codes, FFI exceptions, relay
//! JSON error codes) can react precisely. Invariant: an operation that returns `Err`
//! has changed nothing — not the document, not the store.

use crate::identity::DeviceId;
use crate::invite::InviteId;
use crate::membership::EntryHash;
use crate::plan::ids::{EntryId, MemberId, TaskId};
use crate::plan::view::PlanStatus;
use crate::time::Timestamp;

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
    #[error("{field} must not be empty")]
    EmptyText { field: &'static str },
    #[error("{field} is too long: {len} characters, at most {max}")]
    TextTooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("a task needs at least 1 person (slots), got {0}")]
    InvalidSlots(u32),
    #[error("dates are in the wrong order: {0}")]
    DatesOutOfOrder(&'static str),

    // ---- references to things that do not exist (here) ---------------------------
    #[error("no member {} in this circle", .0.short())]
    UnknownMember(MemberId),
    #[error("no task {} in this circle", .0.short())]
    UnknownTask(TaskId),
    #[error("no entry {} in this circle", .0.short())]
    UnknownEntry(EntryId),
    #[error("no circle {0} on this device")]
    UnknownCircle(String),

    // ---- rules of the plan -----------------------------------------------------------
    #[error("{} is not an active member of this circle", .0.short())]
    NotAMember(MemberId),
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    #[error("the task is cancelled or archived")]
    TaskNotOpen(TaskId),
    #[error("all {slots} places of this task are already taken")]
    TaskFull { task: TaskId, slots: u32 },
    #[error("you already claimed this task")]
    AlreadyClaimed(TaskId),
    #[error("you have not claimed this task")]
    NotClaimed(TaskId),
    #[error("this task is already done")]
    AlreadyDone(TaskId),
    #[error("the plan cannot go from {from} to {to}")]
    InvalidTransition { from: PlanStatus, to: PlanStatus },
    #[error("the main person has not approved the plan yet")]
    MainPersonApprovalMissing,
    #[error("{0} already exists")]
    AlreadyExists(String),

    // ---- documents and storage --------------------------------------------------------
    #[error("not a Kring plan document: {0}")]
    MalformedDocument(String),
    #[error("this document belongs to another circle ({found}, expected {expected})")]
    WrongCircle { expected: String, found: String },
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("local store: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),

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
    #[error(
        "an automerge change inside is by actor {found}, not the envelope's author {expected}"
    )]
    WrongActor { expected: String, found: String },
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
    #[error("secret store: {0}")]
    SecretStore(String),

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
    #[error("circle {0} has no relay set")]
    NoRelay(String),
    #[error("circle {0} came from a file and has no membership log here, so it cannot sync")]
    LocalOnly(String),
    #[error("the plan of circle {0} is not on the relay yet; sync again later")]
    PlanNotAvailable(String),
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
    /// The circle was closed on its relay and this device keeps it as a read-only
    /// archive: it can be read and exported, not changed or synced.
    #[error("circle {0} is closed; this device keeps a read-only archive of it")]
    Archived(String),
    /// The relay only lets holders of an admission credential create circles.
    #[error("this relay needs an admission credential to create a circle: {0}")]
    AdmissionRequired(String),
    /// The client took too long to send its request.
    #[error("the request took too long: {0}")]
    Timeout(&'static str),
    /// The request line is longer than the relay reads.
    #[error("the request target is too long: {len} bytes, at most {max}")]
    UriTooLong { len: usize, max: usize },
    /// The request headers are larger than the relay reads.
    #[error("the request headers are too large: {len}, at most {max}")]
    HeadersTooLarge { len: usize, max: usize },
}

impl Error {
    /// Whether trying the same request again later may succeed: the relay was
    /// unreachable, overloaded or failed internally. Refusals are not transient.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network(_) | Error::RateLimited { .. } | Error::Timeout(_) => true,
            Error::Relay { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
