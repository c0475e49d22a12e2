//! The error type of the web core: sync's errors (the plan's and the trust layer's
//! inside), and what only the browser's device meets. Every variant has its line in
//! [`Error::class`]; the app shows a sentence per [`kring_trust::ErrorKind`] and the
//! relay's stable code, never this text.

use kring_trust::error::{class, codes, Class, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sync(#[from] kring_sync::Error),
    #[error("no circle {0} on this device")]
    UnknownCircle(String),
    /// The join is in but the plan has not arrived yet (the inviter has not synced).
    #[error("the plan of circle {0} is not on the relay yet; sync again later")]
    NotYetJoined(String),
    /// What the app stored cannot be read back (cleared or damaged storage).
    #[error("the stored device cannot be read: {0}")]
    CorruptState(String),
    /// An answer came while no operation was waiting for one (a second tab).
    #[error("no operation is waiting for an answer")]
    NoOperation,
    /// Input from the page that is not what it should be (an unknown task id).
    #[error("{0}")]
    Input(String),
}

impl From<kring_trust::Error> for Error {
    fn from(e: kring_trust::Error) -> Self {
        Error::Sync(e.into())
    }
}

impl From<kring_plan::Error> for Error {
    fn from(e: kring_plan::Error) -> Self {
        Error::Sync(e.into())
    }
}

impl Error {
    pub fn class(&self) -> Class {
        match self {
            Error::Sync(e) => e.class(),
            Error::UnknownCircle(_) => class(ErrorKind::NotFound, 404, codes::UNKNOWN_CIRCLE),
            Error::NotYetJoined(_) => Class::internal(ErrorKind::PlanNotAvailable),
            Error::CorruptState(_) => Class::internal(ErrorKind::Storage),
            Error::NoOperation => Class::internal(ErrorKind::Busy),
            Error::Input(_) => Class::internal(ErrorKind::InvalidInput),
        }
    }

    pub fn as_trust(&self) -> Option<&kring_trust::Error> {
        match self {
            Error::Sync(e) => e.as_trust(),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
