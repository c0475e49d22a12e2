//! The one error type of the FFI, mapped once from `kring_client::Error`.
//!
//! Core has a variant per rejection; apps need a handful of *kinds* they react to
//! differently (show "already taken", point at a field, offer a retry). Each kind is
//! its own Kotlin exception class (`KringException.TaskFull`, ...) and Swift enum
//! case, and carries core's human-readable `reason`.

use kring_client::Error as CoreError;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KringError {
    /// Input malformed on its face: a bad id, an empty or too long text, a value
    /// outside its set, zero slots, dates in the wrong order, an unreadable link.
    #[error("{reason}")]
    InvalidInput { reason: String },
    /// A member, task, entry or circle that does not exist (here).
    #[error("{reason}")]
    NotFound { reason: String },
    /// The plan's or the circle's rules do not let this member or device do this
    /// (not an active member, removed, read-only, not an admin).
    #[error("{reason}")]
    NotAllowed { reason: String },
    /// Every place of the task is taken.
    #[error("{reason}")]
    TaskFull { reason: String },
    /// This member already claimed the task.
    #[error("{reason}")]
    AlreadyClaimed { reason: String },
    /// This member has no claim on the task to give back.
    #[error("{reason}")]
    NotClaimed { reason: String },
    /// The task is cancelled, archived or already done.
    #[error("{reason}")]
    TaskClosed { reason: String },
    /// The plan cannot move to that status from where it is.
    #[error("{reason}")]
    InvalidTransition { reason: String },
    /// The plan cannot be accepted before the main person approved it.
    #[error("{reason}")]
    ApprovalMissing { reason: String },
    /// Something with this id is already there (a member, a circle on this device or
    /// on the relay).
    #[error("{reason}")]
    AlreadyExists { reason: String },
    /// Bytes that are not this circle's plan document (merge, import).
    #[error("{reason}")]
    InvalidDocument { reason: String },
    /// The local database or file system failed; nothing was changed.
    #[error("{reason}")]
    Storage { reason: String },
    /// Signed or encrypted data from elsewhere failed verification (bad signature,
    /// unknown device, forked or broken log, wrong key epoch, undecryptable): it was
    /// not taken in.
    #[error("{reason}")]
    Rejected { reason: String },
    /// The circle was closed on its relay (by its owner, or by the relay's retention
    /// of inactive circles): this device keeps a read-only archive, which can be read
    /// and exported, or erased with `CircleHandle.deleteLocal`.
    #[error("{reason}")]
    Closed { reason: String },
    /// The invite was already used (by someone else, or by this device): ask for a
    /// new one.
    #[error("{reason}")]
    InviteUsed { reason: String },
    /// The invite expired before it was used: ask for a new one.
    #[error("{reason}")]
    InviteExpired { reason: String },
    /// The circle no longer accepts the invite although it was neither used nor
    /// expired (whoever made it was removed or may no longer invite, or someone was
    /// removed since): ask for a new one.
    #[error("{reason}")]
    InviteRevoked { reason: String },
    /// A recovery code that is not one of this circle's, or was already used or
    /// replaced by a newer one. Nothing was changed.
    #[error("{reason}")]
    RecoveryRefused { reason: String },
    /// The app's `SecretStore` failed (threw), or holds a device secret Kring cannot
    /// read.
    #[error("{reason}")]
    SecretStore { reason: String },
    /// The relay cannot be reached (offline, timeout, the relay down or overloaded):
    /// try again later. What was done locally is kept; the outbox sends it with a
    /// later sync.
    #[error("{reason}")]
    Network { reason: String },
    /// Another device changed the circle at the same moment, every time this was
    /// tried (say, two admins removing people at once). Nothing was changed; trying
    /// again in a moment works.
    #[error("{reason}")]
    Busy { reason: String },
    /// The relay answered but refused (authentication, a clock more than five minutes
    /// off, a relay that lost envelopes it had acknowledged, or another reason it
    /// gives). Trying again unchanged will not help.
    #[error("{reason}")]
    Relay { reason: String },
    /// The circle has no relay yet (`CircleHandle.setRelay`), so it cannot sync or
    /// invite.
    #[error("{reason}")]
    NoRelay { reason: String },
    /// The circle came from a file (`importCircle`): it has no membership log here and
    /// never syncs; exchange exports instead.
    #[error("{reason}")]
    LocalOnly { reason: String },
    /// A joined circle whose plan is not here yet (the inviter has not synced):
    /// `syncAll` later, then open it.
    #[error("{reason}")]
    PlanNotAvailable { reason: String },
    /// A bug: a lock poisoned by an earlier panic, or similar.
    #[error("{reason}")]
    Internal { reason: String },
}

/// The plan's and the trust layer's errors are classified as the client's are.
impl From<kring_plan::Error> for KringError {
    fn from(e: kring_plan::Error) -> Self {
        CoreError::from(e).into()
    }
}

impl From<kring_trust::Error> for KringError {
    fn from(e: kring_trust::Error) -> Self {
        CoreError::from(e).into()
    }
}

impl From<CoreError> for KringError {
    fn from(e: CoreError) -> Self {
        KringError::of_kind(e.kind(), e.to_string())
    }
}

/// A hand-over's refusal is the plan's; a document that could not be written is ours.
impl From<kring_handover::Error> for KringError {
    fn from(e: kring_handover::Error) -> Self {
        KringError::of_kind(e.class().kind, e.to_string())
    }
}

impl KringError {
    /// One exception type per kind of core error ([`CoreError::kind`]): the one place
    /// the FFI decides it.
    fn of_kind(kind: kring_trust::ErrorKind, reason: String) -> Self {
        use kring_trust::ErrorKind as K;
        match kind {
            K::InvalidInput => KringError::InvalidInput { reason },
            K::NotFound => KringError::NotFound { reason },
            K::NotAllowed => KringError::NotAllowed { reason },
            K::TaskFull => KringError::TaskFull { reason },
            K::AlreadyClaimed => KringError::AlreadyClaimed { reason },
            K::NotClaimed => KringError::NotClaimed { reason },
            K::TaskClosed => KringError::TaskClosed { reason },
            K::InvalidTransition => KringError::InvalidTransition { reason },
            K::ApprovalMissing => KringError::ApprovalMissing { reason },
            K::AlreadyExists => KringError::AlreadyExists { reason },
            K::InvalidDocument => KringError::InvalidDocument { reason },
            K::Storage => KringError::Storage { reason },
            K::Rejected => KringError::Rejected { reason },
            K::InviteUsed => KringError::InviteUsed { reason },
            K::InviteExpired => KringError::InviteExpired { reason },
            K::InviteRevoked => KringError::InviteRevoked { reason },
            K::RecoveryRefused => KringError::RecoveryRefused { reason },
            K::SecretStore => KringError::SecretStore { reason },
            K::Unreachable => KringError::Network { reason },
            K::Busy => KringError::Busy { reason },
            K::RelayRefused => KringError::Relay { reason },
            K::Closed => KringError::Closed { reason },
            K::NoRelay => KringError::NoRelay { reason },
            K::LocalOnly => KringError::LocalOnly { reason },
            K::PlanNotAvailable => KringError::PlanNotAvailable { reason },
            K::Internal => KringError::Internal { reason },
        }
    }
}

/// A foreign implementation threw an exception that is not a `KringException`. Only
/// `SecretStore` methods can get here (observer failures are ignored, see
/// [`crate::PlanObserver`]), hence the variant. (A `KringException` the app's store
/// throws also ends up as `SecretStore`: see `client::Bridge`.)
impl From<uniffi::UnexpectedUniFFICallbackError> for KringError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KringError::SecretStore { reason: e.reason }
    }
}

pub type Result<T, E = KringError> = std::result::Result<T, E>;
