//! The one error type of `kring-core`.
//!
//! Every rejection has its own variant so callers (CLI exit codes, FFI exceptions, relay
//! JSON error codes) can react precisely. Invariant: an operation that returns `Err`
//! has changed nothing — not the document, not the store.

use crate::plan::ids::{EntryId, MemberId, TaskId};
use crate::plan::view::PlanStatus;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- input that is malformed on its face -------------------------------------
    #[error("{kind} must be 32 hex characters, got {value:?}")]
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
    #[error("no member {0} in this circle")]
    UnknownMember(MemberId),
    #[error("no task {0} in this circle")]
    UnknownTask(TaskId),
    #[error("no entry {0} in this circle")]
    UnknownEntry(EntryId),
    #[error("no circle {0} on this device")]
    UnknownCircle(String),

    // ---- rules of the plan -----------------------------------------------------------
    #[error("{0} is not an active member of this circle")]
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
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
