//! The layout of the plan document and typed access to it.
//!
//! This is the only module that knows automerge keys. The layout (all maps keyed by
//! random ids, so concurrent offline additions never collide):
//!
//! ```text
//! circle        { id, name, language, main_person, created_at }
//! members       { MemberId: { display_name, relation, role_label, joined_at, removed_at? } }
//! plan          { status, status_changed_at, question, next_review_at?,
//!                 concerns | goals | contingencies { EntryId: { text, by, at } },
//!                 approvals { MemberId: at }, reviews { EntryId: { at, by, summary } } }
//! tasks         { TaskId: { title, notes, category, owner_kind, schedule { kind, at | first_at,
//!                 every_weeks, until? }, slots, checker?, claims { MemberId: at },
//!                 completions { EntryId: { by, at, occurrence?, note } }, status,
//!                 created_by, created_at } }
//! conditions    { EntryId: { text, set_by, set_at, accepted_at? } }
//! offers        { EntryId: { by, text, availability, created_at, withdrawn_at? } }
//! log           { EntryId: { by, at, kind, text } }
//! meetings      { EntryId: { at, place, agenda, created_by, rsvps { MemberId: answer } } }
//! ```
//!
//! Every nested map is created together with its parent, by one replica, so two
//! replicas never create the same object concurrently (which would hide one of them).
//! Key names are a wire format: never rename them once shipped.

use automerge::{transaction::Transactable, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};

use crate::time::Timestamp;
use crate::{Error, Result};

pub const CIRCLE: &str = "circle";
pub const MEMBERS: &str = "members";
pub const PLAN: &str = "plan";
pub const TASKS: &str = "tasks";
pub const CONDITIONS: &str = "conditions";
pub const OFFERS: &str = "offers";
pub const LOG: &str = "log";
pub const MEETINGS: &str = "meetings";

pub const CONCERNS: &str = "concerns";
pub const GOALS: &str = "goals";
pub const CONTINGENCIES: &str = "contingencies";
pub const APPROVALS: &str = "approvals";
pub const REVIEWS: &str = "reviews";
pub const CLAIMS: &str = "claims";
pub const COMPLETIONS: &str = "completions";
pub const RSVPS: &str = "rsvps";
pub const SCHEDULE: &str = "schedule";

/// The top-level maps, created once in the genesis change.
pub const TOP_LEVEL_MAPS: &[&str] = &[
    CIRCLE, MEMBERS, PLAN, TASKS, CONDITIONS, OFFERS, LOG, MEETINGS,
];
/// The maps inside `plan`, created once in the genesis change.
pub const PLAN_MAPS: &[&str] = &[CONCERNS, GOALS, CONTINGENCIES, APPROVALS, REVIEWS];

/// Read access to one map object of the document.
///
/// Reads are lenient: a missing or mistyped field reads as `None`, so a document
/// written by a newer (or buggy) app still shows everything that can be understood.
#[derive(Clone)]
pub struct Node<'a, D: ReadDoc> {
    doc: &'a D,
    id: ObjId,
}

impl<'a, D: ReadDoc> Node<'a, D> {
    pub fn root(doc: &'a D) -> Self {
        Node { doc, id: ROOT }
    }

    pub fn id(&self) -> &ObjId {
        &self.id
    }

    fn scalar(&self, key: &str) -> Option<ScalarValue> {
        match self.doc.get(&self.id, key) {
            Ok(Some((Value::Scalar(s), _))) => Some(s.into_owned()),
            _ => None,
        }
    }

    pub fn str(&self, key: &str) -> Option<String> {
        self.scalar(key).and_then(|s| s.as_str().map(str::to_owned))
    }

    /// A text field; missing reads as empty.
    pub fn text(&self, key: &str) -> String {
        self.str(key).unwrap_or_default()
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        match self.scalar(key)? {
            ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(i),
            ScalarValue::Uint(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    pub fn time(&self, key: &str) -> Option<Timestamp> {
        self.int(key).map(Timestamp)
    }

    /// A child map, if `key` holds one.
    pub fn map(&self, key: &str) -> Option<Node<'a, D>> {
        match self.doc.get(&self.id, key) {
            Ok(Some((Value::Object(ObjType::Map), id))) => Some(Node { doc: self.doc, id }),
            _ => None,
        }
    }

    /// The keys of this map, in automerge's (lexicographic) order.
    pub fn keys(&self) -> Vec<String> {
        self.doc.keys(&self.id).collect()
    }

    /// Every child map of this map with its key; non-map values are skipped.
    pub fn child_maps(&self) -> Vec<(String, Node<'a, D>)> {
        self.keys()
            .into_iter()
            .filter_map(|k| self.map(&k).map(|n| (k, n)))
            .collect()
    }

    /// Every timestamp value of this map with its key (e.g. `claims`, `approvals`).
    pub fn times(&self) -> Vec<(String, Timestamp)> {
        self.keys()
            .into_iter()
            .filter_map(|k| self.time(&k).map(|t| (k, t)))
            .collect()
    }

    pub fn has(&self, key: &str) -> bool {
        matches!(self.doc.get(&self.id, key), Ok(Some(_)))
    }
}

/// Writes a timestamp as an automerge timestamp scalar (other automerge tools show it as a date).
pub fn put_time<T: Transactable>(tx: &mut T, obj: &ObjId, key: &str, at: Timestamp) -> Result<()> {
    tx.put(obj, key, ScalarValue::Timestamp(at.0))?;
    Ok(())
}

pub fn put_optional_time<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    at: Option<Timestamp>,
) -> Result<()> {
    match at {
        Some(at) => put_time(tx, obj, key, at),
        None => {
            if tx.get(obj, key)?.is_some() {
                tx.delete(obj, key)?;
            }
            Ok(())
        }
    }
}

pub fn put_str<T: Transactable>(tx: &mut T, obj: &ObjId, key: &str, value: &str) -> Result<()> {
    tx.put(obj, key, value)?;
    Ok(())
}

pub fn new_map<T: Transactable>(tx: &mut T, parent: &ObjId, key: &str) -> Result<ObjId> {
    Ok(tx.put_object(parent, key, ObjType::Map)?)
}

/// Finds a top-level map by path from the root, e.g. `["plan", "goals"]`.
pub fn path<'a, D: ReadDoc>(doc: &'a D, keys: &[&str]) -> Result<Node<'a, D>> {
    let mut node = Node::root(doc);
    for key in keys {
        node = node
            .map(key)
            .ok_or_else(|| Error::MalformedDocument(format!("missing map {}", keys.join("."))))?;
    }
    Ok(node)
}
