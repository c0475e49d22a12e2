//! The error type of the plan: the rules people meet when they change it, and
//! documents that are not (this circle's) plan.
//!
//! Trust-layer errors the plan passes on (an id that does not parse, a capability the
//! membership log does not give) are wrapped, not copied: [`Error::Trust`]. Every
//! variant has its line in [`Error::class`], the same classification the trust layer
//! and the client use. Invariant: an operation that returns `Err` changed nothing.

use kring_trust::error::{class, Class, ErrorKind};
use kring_trust::ids::MemberId;

use crate::plan::ids::{EntryId, TaskId};
use crate::plan::view::PlanStatus;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- input that is malformed on its face -------------------------------------
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

    // ---- references to things that are not in the plan ---------------------------
    #[error("no member {} in this circle", .0.short())]
    UnknownMember(MemberId),
    #[error("no task {} in this circle", .0.short())]
    UnknownTask(TaskId),
    #[error("no entry {} in this circle", .0.short())]
    UnknownEntry(EntryId),

    // ---- rules of the plan -----------------------------------------------------------
    #[error("{} is not an active member of this circle", .0.short())]
    NotAMember(MemberId),
    /// An [`authority`](crate::plan::authority) refusal; the reason is one of the
    /// `authority::refusal` constants, which the CLI and apps translate.
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

    // ---- documents ---------------------------------------------------------------------
    #[error("not a Kring plan document: {0}")]
    MalformedDocument(String),
    #[error("this document belongs to another circle ({found}, expected {expected})")]
    WrongCircle { expected: String, found: String },
    /// A document (a snapshot) holds a change its author's envelopes do not vouch for.
    #[error("the document holds changes of device {actor} it cannot show were theirs: {why}")]
    Unattested { actor: String, why: &'static str },
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),

    /// The trust layer refused (an id, a capability, a timestamp).
    #[error(transparent)]
    Trust(#[from] kring_trust::Error),
}

impl Error {
    /// This error's kind, HTTP status and stable code (see [`kring_trust::error`]).
    pub fn class(&self) -> Class {
        use kring_trust::error::codes::*;
        use ErrorKind as K;
        match self {
            Error::InvalidValue { .. }
            | Error::EmptyText { .. }
            | Error::TextTooLong { .. }
            | Error::InvalidSlots(_)
            | Error::DatesOutOfOrder(_) => class(K::InvalidInput, 400, MALFORMED),
            Error::UnknownMember(_) => class(K::NotFound, 409, REJECTED),
            Error::UnknownTask(_) | Error::UnknownEntry(_) => class(K::NotFound, 404, NOT_FOUND),
            Error::NotAMember(_) => class(K::NotAllowed, 403, NOT_A_MEMBER),
            Error::NotAllowed(_) => class(K::NotAllowed, 403, FORBIDDEN),
            Error::TaskNotOpen(_) | Error::AlreadyDone(_) => class(K::TaskClosed, 409, REJECTED),
            Error::TaskFull { .. } => class(K::TaskFull, 409, REJECTED),
            Error::AlreadyClaimed(_) => class(K::AlreadyClaimed, 409, REJECTED),
            Error::NotClaimed(_) => class(K::NotClaimed, 409, REJECTED),
            Error::InvalidTransition { .. } => class(K::InvalidTransition, 409, REJECTED),
            Error::MainPersonApprovalMissing => class(K::ApprovalMissing, 409, REJECTED),
            Error::AlreadyExists(_) => class(K::AlreadyExists, 409, REJECTED),
            // Automerge refuses bytes (a load, a merge, changes that do not apply):
            // the document is what is wrong.
            Error::MalformedDocument(_) | Error::Automerge(_) => {
                class(K::InvalidDocument, 400, MALFORMED)
            }
            Error::WrongCircle { .. } | Error::Unattested { .. } => {
                class(K::InvalidDocument, 409, REJECTED)
            }
            Error::Trust(e) => e.class(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.class().kind
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
