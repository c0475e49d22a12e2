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

use std::collections::HashMap;

use automerge::iter::DocItem;
use automerge::{
    transaction::Transactable, ObjId, ObjType, ReadDoc, ScalarValue, ScalarValueRef, Value,
    ValueRef, ROOT,
};

type ExId = ObjId;

use crate::{Error, Result};
use kring_trust::time::Timestamp;

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
pub const HANDOVERS: &str = "handovers";
pub const CLAIMS: &str = "claims";
pub const COMPLETIONS: &str = "completions";
pub const RSVPS: &str = "rsvps";
pub const SCHEDULE: &str = "schedule";

/// The top-level maps, created once in the genesis change.
pub const TOP_LEVEL_MAPS: &[&str] = &[
    CIRCLE, MEMBERS, PLAN, TASKS, CONDITIONS, OFFERS, LOG, MEETINGS,
];
/// The maps inside `plan`, created once in the genesis change.
/// (`handovers` since the hand-over export: a plan made before has none, and records
/// no hand-over.)
pub const PLAN_MAPS: &[&str] = &[
    CONCERNS,
    GOALS,
    CONTINGENCIES,
    APPROVALS,
    REVIEWS,
    HANDOVERS,
];

/// A value as the plan reads it.
enum Field {
    Text(String),
    Int(i64),
    Map(ExId),
    Other,
}

/// A materialised part of the document: every map under one object, read in a single
/// pass with automerge's document iterator.
///
/// Per-key lookups, and even `hydrate`, cost several microseconds per object on a
/// document with years of history; one linear pass is several times faster, which is
/// what keeps building the whole [`PlanView`](super::view::PlanView) cheap.
pub struct Tree {
    top: ExId,
    objects: HashMap<ExId, Vec<(String, Field)>>,
}

fn field(value: &ValueRef<'_>, id: impl FnOnce() -> ExId) -> Field {
    match value {
        ValueRef::Object(ObjType::Map) => Field::Map(id()),
        ValueRef::Scalar(ScalarValueRef::Str(s)) => Field::Text(s.to_string()),
        ValueRef::Scalar(
            ScalarValueRef::Int(i) | ScalarValueRef::Timestamp(i) | ScalarValueRef::Counter(i),
        ) => Field::Int(*i),
        ValueRef::Scalar(ScalarValueRef::Uint(u)) => {
            i64::try_from(*u).map_or(Field::Other, Field::Int)
        }
        _ => Field::Other,
    }
}

impl Tree {
    /// The whole document in one linear pass over the op set.
    fn read_all<D: ReadDoc>(doc: &D) -> Tree {
        let mut objects: HashMap<ExId, Vec<(String, Field)>> = HashMap::new();
        let mut current: Option<(ExId, Vec<(String, Field)>)> = None;
        for item in doc.iter() {
            let DocItem::Map(entry) = &item.item else {
                continue;
            };
            // Items arrive grouped by object; only switch buckets when the object changes.
            if current
                .as_ref()
                .is_none_or(|(obj, _)| obj != item.obj.as_ref())
            {
                if let Some((obj, fields)) = current.take() {
                    objects.entry(obj).or_default().extend(fields);
                }
                current = Some((item.obj.as_ref().clone(), Vec::new()));
            }
            if let Some((_, fields)) = current.as_mut() {
                fields.push((entry.key.to_string(), field(&entry.value, || entry.id())));
            }
        }
        if let Some((obj, fields)) = current {
            objects.entry(obj).or_default().extend(fields);
        }
        Tree { top: ROOT, objects }
    }

    /// One (small) object and the maps below it, object by object.
    fn read_object<D: ReadDoc>(doc: &D, top: ExId) -> Tree {
        let mut objects = HashMap::new();
        let mut pending = vec![top.clone()];
        while let Some(obj) = pending.pop() {
            let fields: Vec<(String, Field)> = doc
                .map_range(&obj, ..)
                .map(|entry| (entry.key.to_string(), field(&entry.value, || entry.id())))
                .collect();
            pending.extend(fields.iter().filter_map(|(_, f)| match f {
                Field::Map(id) => Some(id.clone()),
                _ => None,
            }));
            objects.insert(obj, fields);
        }
        Tree { top, objects }
    }

    fn fields(&self, obj: &ExId) -> &[(String, Field)] {
        self.objects.get(obj).map_or(&[], Vec::as_slice)
    }
}

/// Read access to one map of a [`Tree`].
///
/// Reads are lenient: a missing or mistyped field reads as `None`, so a document
/// written by a newer (or buggy) app still shows everything that can be understood.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    tree: &'a Tree,
    fields: &'a [(String, Field)],
}

impl<'a> Node<'a> {
    /// The map the tree was read from.
    pub fn new(tree: &'a Tree) -> Self {
        Node {
            tree,
            fields: tree.fields(&tree.top),
        }
    }

    fn field(&self, key: &str) -> Option<&'a Field> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, f)| f)
    }

    pub fn str(&self, key: &str) -> Option<String> {
        match self.field(key)? {
            Field::Text(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// A text field; missing reads as empty.
    pub fn text(&self, key: &str) -> String {
        self.str(key).unwrap_or_default()
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        match self.field(key)? {
            Field::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn time(&self, key: &str) -> Option<Timestamp> {
        self.int(key).map(Timestamp)
    }

    /// A child map, if `key` holds one (an empty map reads as a node without fields).
    pub fn map(&self, key: &str) -> Option<Node<'a>> {
        match self.field(key)? {
            Field::Map(id) => Some(Node {
                tree: self.tree,
                fields: self.tree.fields(id),
            }),
            _ => None,
        }
    }

    /// The keys of this map, sorted.
    pub fn keys(&self) -> Vec<&'a str> {
        let mut keys: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys
    }

    /// Every child map of this map with its key, sorted by key; other values are skipped.
    pub fn child_maps(&self) -> Vec<(&'a str, Node<'a>)> {
        let mut children: Vec<(&str, Node<'a>)> = self
            .fields
            .iter()
            .filter_map(|(k, f)| match f {
                Field::Map(id) => Some((
                    k.as_str(),
                    Node {
                        tree: self.tree,
                        fields: self.tree.fields(id),
                    },
                )),
                _ => None,
            })
            .collect();
        children.sort_unstable_by_key(|(k, _)| *k);
        children
    }

    /// Every timestamp value of this map with its key (e.g. `claims`, `approvals`).
    pub fn times(&self) -> Vec<(&'a str, Timestamp)> {
        let mut times: Vec<(&str, Timestamp)> = self
            .fields
            .iter()
            .filter_map(|(k, f)| match f {
                Field::Int(i) => Some((k.as_str(), Timestamp(*i))),
                _ => None,
            })
            .collect();
        times.sort_unstable_by_key(|(k, _)| *k);
        times
    }

    pub fn has(&self, key: &str) -> bool {
        self.field(key).is_some()
    }
}

/// Materialises the whole document.
pub fn whole_document<D: ReadDoc>(doc: &D) -> Tree {
    Tree::read_all(doc)
}

/// Materialises the map at `keys` (e.g. `["tasks", id]`). Meant for small objects;
/// use [`whole_document`] for everything.
pub fn snapshot<D: ReadDoc>(doc: &D, keys: &[&str]) -> Result<Tree> {
    Ok(Tree::read_object(doc, object_id(doc, keys)?))
}

/// The object id of the map at `keys`, for writing into it.
pub fn object_id<D: ReadDoc>(doc: &D, keys: &[&str]) -> Result<ObjId> {
    let mut id = ROOT;
    for key in keys {
        id = match doc.get(&id, *key)? {
            Some((Value::Object(ObjType::Map), child)) => child,
            _ => {
                return Err(Error::MalformedDocument(format!(
                    "missing map {}",
                    keys.join(".")
                )))
            }
        };
    }
    Ok(id)
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
