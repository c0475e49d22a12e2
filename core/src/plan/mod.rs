//! The circle's plan: one automerge document per circle.

pub mod ids;
pub mod view;
