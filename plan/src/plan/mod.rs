//! The circle's plan: one automerge document per circle, with a typed API.
//!
//! - [`document::CirclePlan`]: create / load / merge / export, and every operation
//!   (spread over `members`, `agreements`, `tasks`, `entries` by the part of the plan
//!   they change).
//! - [`view::PlanView`]: the typed snapshot callers read.
//! - `schema`: the document layout; the only place that knows automerge keys.

pub mod agreements;
pub mod authority;
mod authorship;
pub mod document;
pub mod entries;
pub mod ids;
pub mod members;
mod read;
pub mod recurrence;
pub mod rules;
mod schema;
pub mod tasks;
pub mod view;

pub use agreements::PlanList;
pub use authority::{Authority, Operation, Rights};
pub use document::{Checked, CirclePlan, NewCircle};
pub use entries::MeetingUpdate;
pub use ids::{CircleId, DeviceActor, EntryId, MemberId, TaskId};
pub use members::NewMember;
pub use tasks::{NewTask, TaskUpdate};
pub use view::*;
