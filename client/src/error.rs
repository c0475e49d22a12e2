//! The error type of the client: what can go wrong on a device — its store, its files,
//! its secret store, a circle it keeps as an archive, a sync that kept being overtaken —
//! plus the plan's and the trust layer's errors, wrapped.
//!
//! A plan error that wraps a trust error is flattened into [`Error::Trust`] on the way
//! in, so each error has one shape here whichever layer raised it. Every variant has
//! its line in [`Error::class`], the classification the trust layer defines and the
//! CLI's exit codes, the FFI's exceptions and the relay's answers are derived from.
//! Invariant: an operation that returns `Err` changed nothing — not the document, not
//! the store.

use kring_trust::error::{Class, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan refused (its rules, a document that is not this circle's plan).
    #[error(transparent)]
    Plan(kring_plan::Error),
    /// The trust layer or the relay refused (signatures, membership, invites, the
    /// relay's answers, the network).
    #[error(transparent)]
    Trust(#[from] kring_trust::Error),

    #[error("no circle {0} on this device")]
    UnknownCircle(String),
    #[error(
        "an automerge change inside is by actor {found}, not the envelope's author {expected}"
    )]
    WrongActor { expected: String, found: String },
    #[error("local store: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    /// What this device stored earlier cannot be read back as it was written (a hole
    /// in a log, a hash of the wrong length): the store is damaged, not the input.
    #[error("the local store is damaged: {0}")]
    CorruptStore(String),
    #[error("secret store: {0}")]
    SecretStore(String),
    #[error("circle {0} has no relay set")]
    NoRelay(String),
    #[error("circle {0} came from a file and has no membership log here, so it cannot sync")]
    LocalOnly(String),
    #[error("the plan of circle {0} is not on the relay yet; sync again later")]
    PlanNotAvailable(String),
    /// The circle was closed on its relay and this device keeps it as a read-only
    /// archive: it can be read and exported, not changed or synced.
    #[error("circle {0} is closed; this device keeps a read-only archive of it")]
    Archived(String),
    /// Another device changed the circle's membership at the same moment, every time
    /// this was tried: nothing was changed; trying again in a moment will work.
    #[error("the circle's membership kept changing while this was tried; try the {0} again")]
    Contended(&'static str),
}

impl From<kring_plan::Error> for Error {
    /// Flattened as kring-sync flattens it.
    fn from(e: kring_plan::Error) -> Self {
        kring_sync::Error::from(e).into()
    }
}

impl From<kring_sync::Error> for Error {
    fn from(e: kring_sync::Error) -> Self {
        match e {
            kring_sync::Error::Plan(e) => Error::Plan(e),
            kring_sync::Error::Trust(e) => Error::Trust(e),
            kring_sync::Error::WrongActor { expected, found } => {
                Error::WrongActor { expected, found }
            }
        }
    }
}

impl From<automerge::AutomergeError> for Error {
    fn from(e: automerge::AutomergeError) -> Self {
        Error::Plan(e.into())
    }
}

impl Error {
    /// This error's kind, HTTP status and stable code (see [`kring_trust::error`]).
    /// Errors only a device meets are a 500 `internal` should a relay ever send one.
    pub fn class(&self) -> Class {
        use kring_trust::error::{class, codes};
        use ErrorKind as K;
        let internal = Class::internal;
        match self {
            Error::Plan(e) => e.class(),
            Error::Trust(e) => e.class(),
            Error::UnknownCircle(_) => class(K::NotFound, 404, codes::UNKNOWN_CIRCLE),
            Error::WrongActor { .. } => class(K::Rejected, 409, codes::REJECTED),
            Error::Store(_) | Error::Io(_) | Error::CorruptStore(_) => internal(K::Storage),
            Error::SecretStore(_) => internal(K::SecretStore),
            Error::NoRelay(_) => internal(K::NoRelay),
            Error::LocalOnly(_) => internal(K::LocalOnly),
            Error::PlanNotAvailable(_) => internal(K::PlanNotAvailable),
            Error::Archived(_) => internal(K::Closed),
            Error::Contended(_) => internal(K::Busy),
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

    /// The trust layer's error inside, if this is one.
    pub fn as_trust(&self) -> Option<&kring_trust::Error> {
        match self {
            Error::Trust(e) => Some(e),
            _ => None,
        }
    }

    /// The same error with the trust layer's error inside replaced by `f`'s (as a
    /// relay's refusal is read back into the typed error it was).
    pub fn map_trust(self, f: impl FnOnce(kring_trust::Error) -> kring_trust::Error) -> Error {
        match self {
            Error::Trust(e) => Error::Trust(f(e)),
            e => e,
        }
    }

    /// The plan's error inside, if this is one.
    pub fn as_plan(&self) -> Option<&kring_plan::Error> {
        match self {
            Error::Plan(e) => Some(e),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misleading_classifications_are_gone() {
        // A membership log that kept moving is "try again now", not "offline".
        let busy = Error::Contended("removal");
        assert_eq!(busy.kind(), ErrorKind::Busy);
        assert!(!busy.is_transient());
        assert!(busy.to_string().contains("try the removal again"));
        // A damaged store is storage, not "not a plan of this circle".
        assert_eq!(
            Error::CorruptStore("a hole".into()).kind(),
            ErrorKind::Storage
        );
    }

    #[test]
    fn a_wrapped_error_keeps_its_layers_classification() {
        let full: Error = kring_plan::Error::TaskFull {
            task: kring_plan::plan::TaskId::random(),
            slots: 1,
        }
        .into();
        assert_eq!(full.kind(), ErrorKind::TaskFull);
        // A trust error that came through the plan is the trust error, once.
        let via_plan: Error = kring_plan::Error::Trust(kring_trust::Error::Replayed).into();
        assert!(matches!(
            via_plan,
            Error::Trust(kring_trust::Error::Replayed)
        ));
        assert_eq!(via_plan.class().code, kring_trust::error::codes::REPLAYED);
    }
}
