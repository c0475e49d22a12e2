//! The CLI's error type and its mapping to exit codes, so shell scripts can tell
//! "you asked for something the plan does not allow" from "that does not exist" from
//! "the disk failed".

use kring_core::Error as CoreError;

/// Exit codes (documented in the README):
/// 0 ok · 2 usage (from clap) · 3 refused (by the plan's rules, the membership, the
/// relay) · 4 not found · 5 storage or file problem · 6 bad input file ·
/// 7 network: the relay could not be reached (the change is safe in the outbox).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
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
    #[error("{}", t!("error-json", error = .0.to_string()))]
    Json(#[from] serde_json::Error),
    /// The person was already told what happened, in plain words; only the exit code
    /// of the underlying error is left to give.
    #[error("")]
    Told(Box<CliError>),
}

fn file_error(path: &str, source: &std::io::Error) -> String {
    t!("error-file", path = path, error = source.to_string())
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Told(inner) => inner.exit_code(),
            CliError::Usage(_) => 2,
            CliError::NotFound(_) => 4,
            CliError::File { .. } | CliError::Json(_) => 5,
            CliError::Core(e) => match e {
                CoreError::UnknownMember(_)
                | CoreError::UnknownTask(_)
                | CoreError::UnknownEntry(_)
                | CoreError::UnknownCircle(_) => 4,
                CoreError::Store(_) | CoreError::Io(_) | CoreError::SecretStore(_) => 5,
                CoreError::MalformedDocument(_) | CoreError::WrongCircle { .. } => 6,
                CoreError::NoRelay(_) => 2,
                e if e.is_transient() => 7,
                _ => 3,
            },
        }
    }
}

impl CliError {
    /// What the person can do about it, where there is one clear thing.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Core(CoreError::InviteReused(_)) => Some(t!("hint-invite-reused")),
            CliError::Core(CoreError::InviteExpired { .. }) => Some(t!("hint-invite-expired")),
            CliError::Core(CoreError::InviteRevoked(_)) => Some(t!("hint-invite-revoked")),
            CliError::Core(CoreError::RecoveryRefused(_)) => Some(t!("hint-recovery-refused")),
            CliError::Core(CoreError::Archived(_)) => Some(t!("hint-archived")),
            _ => None,
        }
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
