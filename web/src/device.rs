//! One browser device: its identity (keys made here, in the browser), its circles,
//! the operation in flight, and the whole of it as bytes for the app to store
//! (encrypted under a WebCrypto key the page cannot export, see `web/app/store.js`
//! and docs/threat-model.md). Plain Rust, so the tests run it natively too; the
//! `bindings` module is the thin JavaScript surface over it.

use kring_plan::followup::{my_week, MyWeek};
use kring_plan::plan::rules::{required_text, MAX_NAME_CHARS};
use kring_plan::plan::{
    CircleId, CirclePlan, Language, LogKind, MemberId, PlanView, Relation, TaskId,
};
use kring_sync::engine::Standing;
use kring_trust::identity::DeviceIdentity;
use kring_trust::invite::{InviteToken, LINK_PREFIX};
use kring_trust::time::Timestamp;
use kring_trust::Error as TrustError;
use serde::{Deserialize, Serialize};

use crate::driver::{Answer, Circles, Next, Operation, Outgoing};
use crate::error::{Error, Result};
use crate::replica::{PendingJoin, Replica, StoredCircle, SyncReport};

/// The stored form's version: a device saved by a later app is refused, not misread.
const FORMAT: u8 = 1;

#[derive(Serialize, Deserialize)]
struct StoredDevice {
    format: u8,
    secret: Vec<u8>,
    circles: Vec<StoredCircle>,
}

/// A circle as the app lists it.
#[derive(Debug, Clone, Serialize)]
pub struct CircleSummary {
    pub circle: CircleId,
    /// `None` while the join waits for the plan.
    pub name: Option<String>,
    pub me: MemberId,
    /// `owner`, `admin`, `member`, `reader`.
    pub standing: String,
    /// Own changes the relay has not acknowledged yet.
    pub unsent: usize,
    pub last_synced_at: Option<Timestamp>,
}

pub struct WebDevice {
    identity: DeviceIdentity,
    circles: Circles,
    operation: Option<Operation>,
}

impl WebDevice {
    /// A new device with fresh keys (from `crypto.getRandomValues` in a browser).
    pub fn generate() -> Self {
        Self {
            identity: DeviceIdentity::generate(),
            circles: Circles::new(),
            operation: None,
        }
    }

    /// A device as [`WebDevice::to_bytes`] stored it; every circle's log is validated
    /// again from its genesis.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let stored: StoredDevice =
            postcard::from_bytes(bytes).map_err(|e| Error::CorruptState(e.to_string()))?;
        if stored.format != FORMAT {
            return Err(Error::CorruptState(format!(
                "stored by format {}, this app reads {FORMAT}",
                stored.format
            )));
        }
        let identity = DeviceIdentity::from_secret_bytes(&stored.secret)?;
        let mut circles = Circles::new();
        for circle in stored.circles {
            let replica = Replica::open(&identity, circle)?;
            circles.insert(replica.circle().clone(), replica);
        }
        Ok(Self {
            identity,
            circles,
            operation: None,
        })
    }

    /// Everything to store, secrets included (the app encrypts it before it is
    /// written anywhere).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let stored = StoredDevice {
            format: FORMAT,
            secret: self.identity.to_secret_bytes().to_vec(),
            circles: self.circles.values().map(Replica::to_stored).collect(),
        };
        postcard::to_allocvec(&stored).map_err(|e| Error::CorruptState(e.to_string()))
    }

    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    pub fn circles(&self) -> Vec<CircleSummary> {
        self.circles
            .values()
            .map(|replica| {
                let standing = match replica.standing(&self.identity.id()) {
                    Standing::Writer(capability) => format!("{capability:?}").to_lowercase(),
                    Standing::Reader => "reader".into(),
                    Standing::Removed => "removed".into(),
                    Standing::NotMember => "not_member".into(),
                };
                CircleSummary {
                    circle: replica.circle().clone(),
                    name: replica.plan().ok().map(|p| p.view().circle.name),
                    me: replica.stored.member.clone(),
                    standing,
                    unsent: replica.stored.outbox.len(),
                    last_synced_at: replica.stored.record.last_synced_at,
                }
            })
            .collect()
    }

    fn replica(&self, circle: &CircleId) -> Result<&Replica> {
        self.circles
            .get(circle)
            .ok_or_else(|| Error::UnknownCircle(circle.to_string()))
    }

    fn replica_mut(&mut self, circle: &CircleId) -> Result<&mut Replica> {
        self.circles
            .get_mut(circle)
            .ok_or_else(|| Error::UnknownCircle(circle.to_string()))
    }

    /// Forgets a circle on this device ("forget this device" erases them all).
    pub fn forget(&mut self, circle: &CircleId) -> Result<()> {
        self.circles
            .remove(circle)
            .map(|_| ())
            .ok_or_else(|| Error::UnknownCircle(circle.to_string()))
    }

    // ---- reading --------------------------------------------------------------------

    pub fn view(&self, circle: &CircleId) -> Result<PlanView> {
        Ok(self.replica(circle)?.plan()?.view())
    }

    /// "What can I do this week", in the circle's time zone and `lang`.
    pub fn week(&self, circle: &CircleId, now: Timestamp, lang: Language) -> Result<MyWeek> {
        let view = self.view(circle)?;
        Ok(my_week(&view, now, lang))
    }

    pub fn me(&self, circle: &CircleId) -> Result<MemberId> {
        Ok(self.replica(circle)?.stored.member.clone())
    }

    // ---- writing (durable once the app stored `to_bytes`) ---------------------------

    /// Runs a plan operation as this device's member; its changes wait in the outbox
    /// for the next sync.
    pub fn change<T>(
        &mut self,
        circle: &CircleId,
        op: impl FnOnce(&mut CirclePlan, &MemberId) -> kring_plan::Result<T>,
    ) -> Result<T> {
        let identity = &self.identity;
        let replica = self
            .circles
            .get_mut(circle)
            .ok_or_else(|| Error::UnknownCircle(circle.to_string()))?;
        replica.change(identity, op)
    }

    pub fn claim(&mut self, circle: &CircleId, task: &str, now: Timestamp) -> Result<()> {
        let task = task_id(task)?;
        self.change(circle, |plan, me| plan.claim_task(me, &task, now))
    }

    pub fn unclaim(&mut self, circle: &CircleId, task: &str, now: Timestamp) -> Result<()> {
        let task = task_id(task)?;
        self.change(circle, |plan, me| plan.unclaim_task(me, &task, now))
    }

    pub fn claim_turn(
        &mut self,
        circle: &CircleId,
        task: &str,
        on: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let task = task_id(task)?;
        self.change(circle, |plan, me| plan.claim_turn(me, &task, on, now))
    }

    pub fn hand_over(
        &mut self,
        circle: &CircleId,
        task: &str,
        on: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let task = task_id(task)?;
        self.change(circle, |plan, me| plan.hand_over(me, &task, on, now))
    }

    pub fn complete(
        &mut self,
        circle: &CircleId,
        task: &str,
        on: Option<Timestamp>,
        note: &str,
        now: Timestamp,
    ) -> Result<()> {
        let task = task_id(task)?;
        self.change(circle, |plan, me| {
            plan.complete_task(me, &task, on, note, now)
        })
        .map(|_| ())
    }

    pub fn thank(&mut self, circle: &CircleId, text: &str, now: Timestamp) -> Result<()> {
        self.change(circle, |plan, me| plan.post(me, LogKind::Thanks, text, now))
            .map(|_| ())
    }

    pub fn approve(&mut self, circle: &CircleId, now: Timestamp) -> Result<()> {
        self.change(circle, |plan, me| plan.approve_plan(me, now))
    }

    // ---- joining and syncing: requests out, answers in ------------------------------

    /// Starts joining by an invite link (`kring://invite/…`, or the `…/join#…` form a
    /// phone opens) as `name`; the first request to carry.
    pub fn begin_join(
        &mut self,
        link: &str,
        name: &str,
        relation: Relation,
        now: Timestamp,
    ) -> Result<Outgoing> {
        let link = invite_link(link);
        let token = InviteToken::from_link(&link)?;
        let name = required_text("display name", name, MAX_NAME_CHARS)?;
        if relation == Relation::MainPerson {
            return Err(TrustError::NotAllowed("a circle has exactly one main person").into());
        }
        let circle = &token.invite().body().circle;
        if self.circles.contains_key(circle) {
            return Err(
                TrustError::AlreadyExists(format!("circle {circle} on this device")).into(),
            );
        }
        self.begin(Operation::join(link, PendingJoin { name, relation }), now)
    }

    /// Starts a sync of `circle`; the first request to carry.
    pub fn begin_sync(&mut self, circle: &CircleId, now: Timestamp) -> Result<Outgoing> {
        self.replica(circle)?;
        self.begin(Operation::sync(circle.clone()), now)
    }

    fn begin(&mut self, mut operation: Operation, now: Timestamp) -> Result<Outgoing> {
        let first = operation.start(&self.identity, &mut self.circles, now)?;
        self.operation = Some(operation);
        Ok(first)
    }

    /// The relay's answer to the request last handed out: the next request, or the
    /// end of the operation. An `Err` ends it too (what was done before stays: every
    /// step is idempotent on the relay).
    pub fn answer(&mut self, answer: Answer, now: Timestamp) -> Result<Next> {
        let mut operation = self.operation.take().ok_or(Error::NoOperation)?;
        let next = operation.answer(&self.identity, &mut self.circles, answer, now);
        self.finish(operation, next, now)
    }

    /// The request last handed out got no answer.
    pub fn unreachable(&mut self, why: &str, now: Timestamp) -> Result<Next> {
        let mut operation = self.operation.take().ok_or(Error::NoOperation)?;
        let next = operation.unreachable(&self.identity, &mut self.circles, why, now);
        self.finish(operation, next, now)
    }

    fn finish(&mut self, operation: Operation, next: Result<Next>, now: Timestamp) -> Result<Next> {
        match &next {
            Ok(Next::Send(_)) => self.operation = Some(operation),
            Ok(Next::Done(circle, _)) => {
                if let Ok(replica) = self.replica_mut(circle) {
                    replica.stored.record.last_synced_at = Some(now);
                    replica.stored.record.last_error = None;
                    replica.stored.record.offline = false;
                }
            }
            Err(_) => {}
        }
        next
    }

    /// The report of a finished operation (for the screen).
    pub fn last_report(next: &Next) -> Option<SyncReport> {
        match next {
            Next::Done(_, report) => Some(*report),
            Next::Send(_) => None,
        }
    }
}

fn task_id(text: &str) -> Result<TaskId> {
    Ok(TaskId::parse(text)?)
}

/// The `kring://invite/…` link inside what a person pasted or opened: the link
/// itself, or an `https://relay/join#kring://invite/…` address whose fragment (never
/// sent to a server) carries it.
pub fn invite_link(text: &str) -> String {
    let text = text.trim();
    match text.split_once('#') {
        Some((_, fragment)) if fragment.starts_with("kring://") => fragment.to_owned(),
        Some((_, fragment)) if !fragment.is_empty() && !text.starts_with("kring://") => {
            format!("{LINK_PREFIX}{fragment}")
        }
        _ => text.to_owned(),
    }
}
