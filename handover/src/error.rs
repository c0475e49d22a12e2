//! The hand-over's error type: what the plan refused, and a document that could not be
//! written. Classified once, like every crate's ([`Error::class`]).

use kring_trust::error::{class, Class, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The document could not be written (krilla's PDF/A-2b validator refused, a font
    /// could not be read, the JSON could not be encoded): a fault of this program, not
    /// of the plan.
    #[error("the hand-over document could not be written: {0}")]
    Document(String),
    #[error(transparent)]
    Plan(#[from] kring_plan::Error),
}

impl Error {
    /// This error's kind, HTTP status and stable code (see [`kring_trust::error`]).
    pub fn class(&self) -> Class {
        match self {
            Error::Document(_) => class(
                ErrorKind::Internal,
                500,
                kring_trust::error::codes::INTERNAL,
            ),
            Error::Plan(e) => e.class(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
