//! One browser device: its identity (keys made here, in the browser), its circles,
//! the operation in flight, and the whole of it as bytes for the app to store
//! (encrypted under a WebCrypto key the page cannot export, see `web/app/store.js`
//! and docs/threat-model.md). Plain Rust, so the tests run it natively too; the
//! `bindings` module is the thin JavaScript surface over it.

use kring_plan::export::{occurrence_phrase, schedule_phrase};
use std::rc::Rc;

use kring_plan::followup::{circle_report, my_week, overview_for, Audience, CircleReport, MyWeek};
use kring_plan::news::{self, Notification};
use kring_plan::plan::rules::{required_text, MAX_NAME_CHARS};
use kring_plan::plan::{
    CircleId, CirclePlan, Language, LogKind, MemberId, PlanStatus, PlanView, Relation, TaskId,
    TaskStatus,
};
use kring_plan::reminders::{self, Reminder, ReminderSettings, Viewer};
use kring_sync::engine::Standing;
use kring_trust::identity::DeviceIdentity;
use kring_trust::invite::{InviteKind, InviteToken, LINK_PREFIX};
use kring_trust::time::Timestamp;
use kring_trust::Error as TrustError;
use serde::{Deserialize, Serialize};

use crate::driver::{Answer, Circles, Next, Operation, Outgoing};
use crate::error::{Error, Result};
use crate::replica::{PendingJoin, Replica, StoredCircle};

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

/// The tabs of a circle's screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    Week,
    Tasks,
    Plan,
    News,
    Followup,
    Desk,
}

/// One tab of a circle's screen ([`WebDevice::screen`]); the tab's part is set, the
/// others are `None`.
#[derive(Debug, Clone, Serialize)]
pub struct Screen {
    pub circle_name: String,
    /// This person follows the circle up: the follow-up tab is theirs.
    pub follows_up: bool,
    /// Circles on this device (a desk is worth showing from two on).
    pub desk_circles: usize,
    pub week: Option<MyWeek>,
    pub tasks: Option<Vec<TaskCard>>,
    pub plan: Option<PlanScreen>,
    pub followup: Option<FollowUp>,
    pub desk: Option<Vec<FollowUp>>,
    pub reminders: Option<Vec<Reminder>>,
}

/// The plan as the main person reads it: her question, the goals, concerns, what to
/// do if it goes differently, the professionals' conditions, and who agreed.
#[derive(Debug, Clone, Serialize)]
pub struct PlanScreen {
    pub status: PlanStatus,
    pub question: String,
    pub goals: Vec<String>,
    pub concerns: Vec<String>,
    pub contingencies: Vec<String>,
    pub conditions: Vec<String>,
    /// The names of those who approved, in order.
    pub approved_by: Vec<String>,
    pub i_approved: bool,
}

impl PlanScreen {
    fn of(view: &PlanView, me: &MemberId) -> Self {
        let texts =
            |items: &[kring_plan::plan::TextItem]| items.iter().map(|i| i.text.clone()).collect();
        let plan = &view.plan;
        PlanScreen {
            status: plan.status,
            question: plan.question.clone(),
            goals: texts(&plan.goals),
            concerns: texts(&plan.concerns),
            contingencies: texts(&plan.contingencies),
            conditions: view.conditions.iter().map(|c| c.text.clone()).collect(),
            approved_by: plan
                .approvals
                .iter()
                .map(|a| view.display_name(&a.member))
                .collect(),
            i_approved: plan.approvals.iter().any(|a| a.member == *me),
        }
    }
}

/// How far ahead the tasks screen lists a series' turns, and at most how many.
const TURN_DAYS: i64 = 28;
const MAX_TURNS: usize = 6;

/// One task on the tasks screen, every word in the screen's language.
#[derive(Debug, Clone, Serialize)]
pub struct TaskCard {
    pub id: TaskId,
    pub title: String,
    pub notes: String,
    /// "Als het nodig is", "Elke woensdag om 17.00 uur, vanaf …".
    pub when: String,
    pub recurring: bool,
    pub done: bool,
    /// This person has a claim on the whole task (winning or not).
    pub claimed: bool,
    /// … and it is among the winners: they are doing it.
    pub doing_it: bool,
    pub free: u32,
    /// Who is doing it (the winners).
    pub doing: Vec<String>,
    /// For a series: its coming turns.
    pub turns: Vec<TurnCard>,
}

/// One turn of a series on the tasks screen.
#[derive(Debug, Clone, Serialize)]
pub struct TurnCard {
    pub at: Timestamp,
    pub when: String,
    pub mine: bool,
    pub doing: Vec<String>,
    pub free: u32,
    pub handed_over: bool,
}

/// A link as the join screen shows it before anything is sent.
#[derive(Debug, Clone, Serialize)]
pub struct LinkPreview {
    /// One more device of a member (`kring device link`), not a new person.
    pub device_link: bool,
    pub circle_name: Option<String>,
    pub inviter_name: Option<String>,
    pub capability: String,
    pub expires_at: Timestamp,
    pub expired: bool,
    pub already_here: bool,
}

/// A circle's follow-up as its screen shows it: the report, and each signal in a
/// sentence of the screen's language, its days named in the circle's zone.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    pub report: CircleReport,
    pub lines: Vec<String>,
}

impl FollowUp {
    fn of(report: CircleReport, lang: Language) -> Self {
        let lines = report
            .signals
            .iter()
            .map(|s| s.describe(lang, &report.timezone))
            .collect();
        Self { report, lines }
    }
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
    pub fn to_bytes(&mut self) -> Result<Vec<u8>> {
        let stored = StoredDevice {
            format: FORMAT,
            secret: self.identity.to_secret_bytes().to_vec(),
            circles: self.circles.values_mut().map(Replica::to_stored).collect(),
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
                    name: replica.view().ok().map(|v| v.circle.name.clone()),
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

    pub fn view(&self, circle: &CircleId) -> Result<Rc<PlanView>> {
        self.replica(circle)?.view()
    }

    /// "What can I do this week", in the circle's time zone and `lang`.
    pub fn week(&self, circle: &CircleId, now: Timestamp, lang: Language) -> Result<MyWeek> {
        let view = self.view(circle)?;
        Ok(my_week(&view, now, lang))
    }

    /// Everything one tab of the circle's screen shows, and nothing more (a two-year
    /// plan is megabytes as JSON): the header, and the tab's own part.
    pub fn screen(
        &self,
        circle: &CircleId,
        tab: Tab,
        now: Timestamp,
        lang: Language,
    ) -> Result<Screen> {
        let view = self.view(circle)?;
        let me = self.me(circle)?;
        let follows_up = self.viewer(circle)?.audience.follows_up();
        let mut screen = Screen {
            circle_name: view.circle.name.clone(),
            follows_up,
            desk_circles: self.circles.len(),
            week: None,
            tasks: None,
            plan: None,
            followup: None,
            desk: None,
            reminders: None,
        };
        match tab {
            Tab::Week => screen.week = Some(my_week(&view, now, lang)),
            Tab::Tasks => screen.tasks = Some(self.tasks(circle, now, lang)?),
            Tab::Plan => screen.plan = Some(PlanScreen::of(&view, &me)),
            Tab::News => {
                let mut reminders = self.reminders(now, 7)?;
                reminders.retain(|r| r.circle == *circle);
                screen.reminders = Some(reminders);
            }
            Tab::Followup => screen.followup = self.followup(circle, now, lang)?,
            Tab::Desk => screen.desk = Some(self.desk(now, lang)?),
        }
        Ok(screen)
    }

    pub fn me(&self, circle: &CircleId) -> Result<MemberId> {
        Ok(self.replica(circle)?.stored.member.clone())
    }

    /// Who this device's person is in `circle`, from the signed log: whether they
    /// follow the circle up and may claim.
    pub fn viewer(&self, circle: &CircleId) -> Result<Viewer> {
        let replica = self.replica(circle)?;
        let view = replica.view()?;
        let me = &replica.stored.member;
        Ok(Viewer::of(&view, me, Some(replica.trust.capability_of(me))))
    }

    /// The follow-up of `circle`, only for those whose job it is (the main person,
    /// admins, the coordinator): `None` for everyone else, who never see signals
    /// about people nor a screen of what is slipping.
    pub fn followup(
        &self,
        circle: &CircleId,
        now: Timestamp,
        lang: Language,
    ) -> Result<Option<FollowUp>> {
        let audience = self.viewer(circle)?.audience;
        if !audience.follows_up() {
            return Ok(None);
        }
        let report = circle_report(&*self.view(circle)?, now).for_audience(audience);
        Ok(Some(FollowUp::of(report, lang)))
    }

    /// The coordinator's desk: the follow-up of every circle on this device she
    /// follows up, most urgent first.
    pub fn desk(&self, now: Timestamp, lang: Language) -> Result<Vec<FollowUp>> {
        let mut views = Vec::new();
        let mut audiences = std::collections::HashMap::new();
        for (id, replica) in &self.circles {
            let audience = self.viewer(id)?.audience;
            if replica.plan().is_ok() && audience.follows_up() {
                views.push(PlanView::clone(&*self.view(id)?));
                audiences.insert(id.clone(), audience);
            }
        }
        let overview = overview_for(&views, now, |plan| {
            audiences
                .get(&plan.circle.id)
                .copied()
                .unwrap_or(Audience::Circle)
        });
        Ok(overview
            .circles
            .into_iter()
            .map(|report| FollowUp::of(report, lang))
            .collect())
    }

    /// This person's reminders in `[now, now + days)` across the device's circles.
    pub fn reminders(&self, now: Timestamp, days: u32) -> Result<Vec<Reminder>> {
        let mut all = Vec::new();
        for (id, replica) in &self.circles {
            if replica.plan().is_err() {
                continue;
            }
            let view = self.view(id)?;
            let viewer = self.viewer(id)?;
            all.extend(reminders::schedule(
                &view,
                &viewer,
                &ReminderSettings::default(),
                now,
                days,
            ));
        }
        all.sort_by(|a, b| (a.at, a.kind, &a.id).cmp(&(b.at, b.kind, &b.id)));
        Ok(all)
    }

    /// What changed in `circle` since this device last asked (nothing the first
    /// time), and remember that it was seen.
    pub fn news(&mut self, circle: &CircleId) -> Result<Vec<Notification>> {
        let viewer = self.viewer(circle)?;
        let after = self.view(circle)?;
        let replica = self.replica_mut(circle)?;
        let plan = replica.plan()?;
        let heads = plan.heads();
        let news = match &replica.stored.seen_heads {
            Some(seen) if *seen != heads => match plan.view_at(seen) {
                Ok(before) => news::what_changed(&before, &after, &viewer),
                // Heads this document no longer knows: start over from here.
                Err(_) => Vec::new(),
            },
            _ => Vec::new(),
        };
        replica.stored.seen_heads = Some(heads);
        Ok(news)
    }

    /// The tasks screen: every open task as a card, in `lang`, with who is on it and
    /// (for a series) its turns in the next four weeks, in the circle's time zone.
    pub fn tasks(
        &self,
        circle: &CircleId,
        now: Timestamp,
        lang: Language,
    ) -> Result<Vec<TaskCard>> {
        let view = self.view(circle)?;
        let me = self.me(circle)?;
        let zone = view.circle.timezone.clone();
        let names = |members: &[MemberId]| members.iter().map(|m| view.display_name(m)).collect();
        let cards = view
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open)
            .map(|task| {
                let winners: Vec<MemberId> = task.winners().cloned().collect();
                let recurring = task.schedule.is_recurring();
                let turns = if recurring {
                    task.turns_between(now, now.plus_days(TURN_DAYS))
                        .into_iter()
                        .take(MAX_TURNS)
                        .map(|turn| TurnCard {
                            at: turn.at,
                            when: occurrence_phrase(lang, &zone, task, turn.at),
                            mine: turn.people.contains(&me),
                            doing: names(&turn.people),
                            free: turn.free,
                            handed_over: turn.handed_over,
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                TaskCard {
                    id: task.id.clone(),
                    title: task.title.clone(),
                    notes: task.notes.clone(),
                    when: schedule_phrase(lang, &zone, &task.schedule),
                    recurring,
                    done: task.is_done(),
                    claimed: task.claims.iter().any(|c| c.member == me),
                    doing_it: winners.contains(&me),
                    free: task
                        .slots
                        .saturating_sub(u32::try_from(winners.len()).unwrap_or(u32::MAX)),
                    doing: names(&winners),
                    turns,
                }
            })
            .collect();
        Ok(cards)
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

    /// What a link is before joining by it: which circle, from whom, until when.
    pub fn preview(&self, link: &str, now: Timestamp) -> Result<LinkPreview> {
        let token = InviteToken::from_link(&invite_link(link))?;
        let body = token.invite().body();
        Ok(LinkPreview {
            device_link: token.invite().kind() == InviteKind::Device,
            circle_name: token.card().map(|c| c.circle_name.clone()),
            inviter_name: token.card().map(|c| c.inviter_name.clone()),
            capability: format!("{:?}", body.capability).to_lowercase(),
            expires_at: body.expires_at,
            expired: now > body.expires_at,
            already_here: self.circles.contains_key(&body.circle),
        })
    }

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
        let linked = token.invite().kind() == InviteKind::Device;
        // A device link joins as the member it was made for: no name of its own.
        let name = if linked {
            String::new()
        } else {
            required_text("display name", name, MAX_NAME_CHARS)?
        };
        if relation == Relation::MainPerson && !linked {
            return Err(TrustError::NotAllowed("a circle has exactly one main person").into());
        }
        let circle = &token.invite().body().circle;
        if self.circles.contains_key(circle) {
            return Err(
                TrustError::AlreadyExists(format!("circle {circle} on this device")).into(),
            );
        }
        let pending = PendingJoin {
            name,
            relation,
            linked,
        };
        self.begin(Operation::join(link, pending), now)
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
}

fn task_id(text: &str) -> Result<TaskId> {
    Ok(TaskId::parse(text)?)
}

/// The `kring://invite/…` (or `kring://device/…`) link inside what a person pasted or
/// opened: the link itself, or an `https://relay/join#kring://…` address whose
/// fragment (never sent to a server) carries it.
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
