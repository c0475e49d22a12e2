//! The CLI's error type and its mapping to exit codes, so shell scripts can tell
//! "you asked for something the plan does not allow" from "that does not exist" from
//! "the disk failed".

use kring_client::Error as CoreError;
use kring_trust::{Error as TrustError, ErrorKind};

/// Exit codes (documented in the README):
/// 0 ok · 2 usage (from clap) · 3 refused (by the plan's rules, the membership, the
/// relay) · 4 not found · 5 storage or file problem · 6 bad input file ·
/// 7 network: the relay could not be reached (the change is safe in the outbox) ·
/// 8 busy: the circle changed at the same moment, try again · 9 internal error.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Core's error, said in the person's language (`core_text`).
    #[error("{}", crate::core_text::say(.0))]
    Core(#[from] CoreError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{}", file_error(.path, .source))]
    File {
        path: String,
        source: std::io::Error,
    },
    /// Writing `--json` output failed: nothing a person did, so the kind's sentence.
    #[error("{}", t!("core-internal"))]
    Json(#[from] serde_json::Error),
    /// The person was already told what happened, in plain words; only the exit code
    /// of the underlying error is left to give.
    #[error("")]
    Told(Box<CliError>),
}

/// The plan's and the trust layer's errors reach the person as the client's do.
impl From<kring_plan::Error> for CliError {
    fn from(e: kring_plan::Error) -> Self {
        CliError::Core(e.into())
    }
}

/// A hand-over's refusal is the plan's; a PDF that could not be written is ours.
impl From<kring_handover::Error> for CliError {
    fn from(e: kring_handover::Error) -> Self {
        match e {
            kring_handover::Error::Plan(e) => e.into(),
            kring_handover::Error::Document(why) => kring_trust::Error::Internal(why).into(),
        }
    }
}

impl From<kring_trust::Error> for CliError {
    fn from(e: kring_trust::Error) -> Self {
        CliError::Core(e.into())
    }
}

/// The OS's own wording ("No such file or directory (os error 2)") is English and
/// technical: a person hears what kind of problem it is.
fn file_error(path: &str, source: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let why = match source.kind() {
        K::NotFound => t!("file-not-found"),
        K::PermissionDenied | K::ReadOnlyFilesystem => t!("file-permission"),
        K::AlreadyExists => t!("file-exists"),
        _ => t!("file-other"),
    };
    t!("error-file", path = path, why = why)
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Told(inner) => inner.exit_code(),
            CliError::Usage(_) => 2,
            CliError::NotFound(_) => 4,
            CliError::File { .. } | CliError::Json(_) => 5,
            CliError::Core(e) => exit_code_of(e.kind()),
        }
    }
}

/// The exit code of each kind of core error: the one place the CLI decides it.
fn exit_code_of(kind: ErrorKind) -> u8 {
    use ErrorKind as K;
    match kind {
        K::NoRelay => 2,
        K::InvalidInput
        | K::NotAllowed
        | K::TaskFull
        | K::AlreadyClaimed
        | K::NotClaimed
        | K::TaskClosed
        | K::InvalidTransition
        | K::ApprovalMissing
        | K::AlreadyExists
        | K::Rejected
        | K::InviteUsed
        | K::InviteExpired
        | K::InviteRevoked
        | K::RecoveryRefused
        | K::RelayRefused
        | K::Closed
        | K::LocalOnly
        | K::PlanNotAvailable => 3,
        K::NotFound => 4,
        K::Storage | K::SecretStore => 5,
        K::InvalidDocument => 6,
        K::Unreachable => 7,
        K::Busy => 8,
        K::Internal => 9,
    }
}

impl CliError {
    /// What the person can do about it, where there is one clear thing.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Core(CoreError::Trust(e)) => match e {
                TrustError::InviteReused(_) => Some(t!("hint-invite-reused")),
                TrustError::InviteExpired { .. } => Some(t!("hint-invite-expired")),
                TrustError::InviteRevoked(_) => Some(t!("hint-invite-revoked")),
                TrustError::RecoveryRefused(_) => Some(t!("hint-recovery-refused")),
                _ => None,
            },
            CliError::Core(CoreError::Archived(_)) => Some(t!("hint-archived")),
            _ => None,
        }
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_kind_of_error() {
        let code = |e: CoreError| CliError::Core(e).exit_code();
        assert_eq!(code(CoreError::Contended("removal")), 8);
        assert_eq!(code(CoreError::CorruptStore("hole".into())), 5);
        assert_eq!(
            code(kring_trust::Error::Internal("stopped".into()).into()),
            9
        );
        assert_eq!(code(kring_trust::Error::Network("down".into()).into()), 7);
        assert_eq!(
            code(kring_plan::Error::MalformedDocument("x".into()).into()),
            6
        );
        assert_eq!(code(CoreError::NoRelay("c".into())), 2);
        assert_eq!(code(CoreError::UnknownCircle("c".into())), 4);
        assert_eq!(code(kring_trust::Error::NotAllowed("no").into()), 3);
    }
}
