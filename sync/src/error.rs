//! The error type of sync: the plan's and the trust layer's errors, and the one
//! check that is sync's own (every change in an envelope is by its author). The
//! client's error wraps each variant into its own of the same name, so a layer above
//! sees one shape whichever crate raised it; every variant has its line in
//! [`Error::class`].

use kring_trust::error::{class, codes, Class, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan refused (its rules, a document that is not this circle's plan).
    #[error(transparent)]
    Plan(kring_plan::Error),
    /// The trust layer or the relay refused (signatures, membership, invites, the
    /// relay's answers, the network).
    #[error(transparent)]
    Trust(#[from] kring_trust::Error),
    #[error(
        "an automerge change inside is by actor {found}, not the envelope's author {expected}"
    )]
    WrongActor { expected: String, found: String },
}

impl From<kring_plan::Error> for Error {
    fn from(e: kring_plan::Error) -> Self {
        match e {
            kring_plan::Error::Trust(e) => Error::Trust(e),
            e => Error::Plan(e),
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
    pub fn class(&self) -> Class {
        match self {
            Error::Plan(e) => e.class(),
            Error::Trust(e) => e.class(),
            Error::WrongActor { .. } => class(ErrorKind::Rejected, 409, codes::REJECTED),
        }
    }

    /// The trust layer's error inside, if this is one.
    pub fn as_trust(&self) -> Option<&kring_trust::Error> {
        match self {
            Error::Trust(e) => Some(e),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
