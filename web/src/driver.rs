//! Joining and syncing as a state machine that returns IO as data: each step is a
//! relay [`Call`] the app carries with `fetch`, and the relay's answer moves the
//! machine on. The order is the native session's (`kring_client::device::net`):
//! membership → push → pull (→ complete a join → push its record); every decision in
//! it is `kring_sync::engine`'s. Nothing here waits, reads a clock or touches the
//! network; the app passes `now` and the answers in.

use std::collections::BTreeMap;

use kring_plan::plan::{CircleId, MemberId};
use kring_sync::engine::{self, Backoff, CircleTrust, Recovery, Standing};
use kring_sync::records::OwnEnvelope;
use kring_sync::request::{json_answer, normalize_relay_url, Call, Signer};
use kring_trust::identity::DeviceIdentity;
use kring_trust::invite::{InviteKind, InviteToken};
use kring_trust::membership::SignedEntry;
use kring_trust::protocol::{MembershipEntries, Pulled, Pushed, DEFAULT_PULL_LIMIT};
use kring_trust::time::Timestamp;
use kring_trust::Error as TrustError;

use crate::error::{Error, Result};
use crate::replica::{PendingJoin, Replica, SyncReport};

/// How many times one operation re-reads the log or rebuilds an entry on a moved head
/// before giving up (as the native session's `MAX_REFRESHES`).
const MAX_REFRESHES: u32 = 5;

/// Where an operation is. A join keeps its link (checked when the join began) and
/// reads the token from it where a step needs it.
#[derive(Clone)]
pub enum Step {
    /// Reading the log with the invite's key.
    JoinRead {
        link: String,
        pending: PendingJoin,
        attempts: u32,
    },
    /// Appending the redemption.
    JoinAppend {
        link: String,
        pending: PendingJoin,
        trust: Box<CircleTrust>,
        member: MemberId,
        entry: Box<SignedEntry>,
        attempts: u32,
    },
    /// Reading what is new in the log; then `then`.
    Membership { circle: CircleId, then: Then },
    Push {
        circle: CircleId,
        batch: Vec<OwnEnvelope>,
    },
    Pull {
        circle: CircleId,
        refreshed_for: Option<u64>,
    },
}

/// What follows a membership refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// The start of a sync: push, then pull.
    Push,
    /// Pulling stopped at the envelope at this cursor, which needs the newer log:
    /// pull again from there, refreshing for it at most once (an envelope citing a
    /// head the relay never serves is then counted as refused, as natively).
    Pull(Option<u64>),
}

/// A request for the app to carry, and the machine's word on when.
pub struct Outgoing {
    pub request: kring_sync::request::Request,
    /// Wait this long before sending (a retry with backoff).
    pub delay_ms: u64,
}

/// What the machine does next.
pub enum Next {
    Send(Outgoing),
    /// The operation is over; the circle it was about.
    Done(CircleId, SyncReport),
}

/// An operation in flight: the step, its attempt count for retries, the report.
pub struct Operation {
    step: Step,
    attempt: u32,
    refreshes: u32,
    pub report: SyncReport,
    last_timestamp: i64,
}

/// The device's circles, by id.
pub type Circles = BTreeMap<CircleId, Replica>;

fn replica<'a>(circles: &'a mut Circles, circle: &CircleId) -> Result<&'a mut Replica> {
    circles
        .get_mut(circle)
        .ok_or_else(|| Error::UnknownCircle(circle.to_string()))
}

impl Operation {
    /// Joins by the invite `link` (checked by the caller with `InviteToken::from_link`).
    pub fn join(link: String, pending: PendingJoin) -> Self {
        Self::new(Step::JoinRead {
            link,
            pending,
            attempts: 0,
        })
    }

    pub fn sync(circle: CircleId) -> Self {
        Self::new(Step::Membership {
            circle,
            then: Then::Push,
        })
    }

    fn new(step: Step) -> Self {
        Self {
            step,
            attempt: 0,
            refreshes: 0,
            report: SyncReport::default(),
            last_timestamp: i64::MIN,
        }
    }

    /// The first request.
    pub fn start(
        &mut self,
        identity: &DeviceIdentity,
        circles: &mut Circles,
        now: Timestamp,
    ) -> Result<Outgoing> {
        self.request(identity, circles, now, 0)
    }

    /// The relay's answer to the last request (status, `Retry-After`, body).
    pub fn answer(
        &mut self,
        identity: &DeviceIdentity,
        circles: &mut Circles,
        answer: Answer,
        now: Timestamp,
    ) -> Result<Next> {
        let outcome = self
            .call(circles)
            .and_then(|(call, invite)| {
                let by = (!invite).then_some(identity.id());
                Ok(call.answer(by, answer.status, answer.retry_after, answer.body)?)
            })
            .and_then(|bytes| self.advance(identity, circles, bytes, now))
            .map_err(|e| self.as_link_refusal(e, now));
        match outcome {
            Ok(next) => {
                self.attempt = 0;
                Ok(next)
            }
            Err(e) => self.recover(identity, circles, e, now),
        }
    }

    /// While joining, a relay's refusal of the link read as the typed error it means
    /// (used, expired, revoked), as the native join does.
    fn as_link_refusal(&self, error: Error, now: Timestamp) -> Error {
        let (Step::JoinRead { link, .. } | Step::JoinAppend { link, .. }) = &self.step else {
            return error;
        };
        match (error, InviteToken::from_link(link)) {
            (Error::Sync(kring_sync::Error::Trust(e)), Ok(token)) => {
                kring_trust::invite::refusal_of(e, token.invite(), now).into()
            }
            (error, _) => error,
        }
    }

    /// The request never got an answer (offline, DNS, the connection dropped).
    pub fn unreachable(
        &mut self,
        identity: &DeviceIdentity,
        circles: &mut Circles,
        why: &str,
        now: Timestamp,
    ) -> Result<Next> {
        let error = TrustError::Network(why.to_owned()).into();
        self.recover(identity, circles, error, now)
    }

    /// What a failed exchange means: retry later, refresh and push again, rebuild the
    /// join on a moved head, or report it (a removal erases the circle first).
    fn recover(
        &mut self,
        identity: &DeviceIdentity,
        circles: &mut Circles,
        error: Error,
        now: Timestamp,
    ) -> Result<Next> {
        self.attempt += 1;
        let recovery = error.as_trust().map_or(Recovery::Fail, |e| {
            engine::recovery(e, self.attempt, &Backoff::SYNC, 0.5)
        });
        let retry_step = match (&recovery, &self.step) {
            (Recovery::Retry(_), step) => Some(step.clone()),
            (Recovery::Refresh, Step::Push { circle, .. }) if self.refreshes < MAX_REFRESHES => {
                // The key rotated or the log moved: learn it, pull, reseal, push again.
                self.refreshes += 1;
                Some(Step::Membership {
                    circle: circle.clone(),
                    then: Then::Push,
                })
            }
            (
                _,
                Step::JoinAppend {
                    link,
                    pending,
                    attempts,
                    ..
                },
            ) if matches!(error.as_trust(), Some(TrustError::HeadMoved { .. }))
                && *attempts < MAX_REFRESHES =>
            {
                Some(Step::JoinRead {
                    link: link.clone(),
                    pending: pending.clone(),
                    attempts: attempts + 1,
                })
            }
            _ => None,
        };
        let Some(step) = retry_step else {
            if let (Some(TrustError::Removed(_)), Some(circle)) =
                (error.as_trust(), self.step.circle())
            {
                circles.remove(circle);
            }
            return Err(error);
        };
        self.step = step;
        let delay = match recovery {
            Recovery::Retry(wait) => u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            _ => 0,
        };
        Ok(Next::Send(self.request(identity, circles, now, delay)?))
    }

    /// The call the current step makes, and whether the invite signs it.
    fn call(&self, circles: &mut Circles) -> Result<(Call, bool)> {
        Ok(match &self.step {
            Step::JoinRead { link, .. } => {
                let token = InviteToken::from_link(link)?;
                (Call::membership(&token.invite().body().circle, 0), true)
            }
            Step::JoinAppend { trust, entry, .. } => {
                (Call::append(trust.circle(), entry.as_bytes())?, false)
            }
            Step::Membership { circle, .. } => {
                let after = replica(circles, circle)?.trust.len();
                (Call::membership(circle, after), false)
            }
            Step::Push { circle, batch } => (
                Call::push(circle, batch.iter().map(|e| e.bytes.as_slice()))?,
                false,
            ),
            Step::Pull { circle, .. } => {
                let cursor = replica(circles, circle)?.stored.record.pull_cursor;
                (Call::pull(circle, cursor, DEFAULT_PULL_LIMIT), false)
            }
        })
    }

    fn request(
        &mut self,
        identity: &DeviceIdentity,
        circles: &mut Circles,
        now: Timestamp,
        delay_ms: u64,
    ) -> Result<Outgoing> {
        let (call, invite) = self.call(circles)?;
        // Each request of a device carries a later timestamp (the relay refuses replays).
        let timestamp = Timestamp(now.0.max(self.last_timestamp.saturating_add(1)));
        self.last_timestamp = timestamp.0;
        let request = match &self.step {
            Step::JoinRead { link, .. } | Step::JoinAppend { link, .. } => {
                let token = InviteToken::from_link(link)?;
                let relay = normalize_relay_url(&token.invite().body().relay_url)?;
                let signer = if invite {
                    Signer::Invite(&token)
                } else {
                    Signer::Device(identity)
                };
                call.signed(&relay, signer, timestamp)?
            }
            Step::Membership { circle, .. }
            | Step::Push { circle, .. }
            | Step::Pull { circle, .. } => {
                let relay = replica(circles, circle)?.stored.relay_url.clone();
                call.signed(&relay, Signer::Device(identity), timestamp)?
            }
        };
        Ok(Outgoing { request, delay_ms })
    }

    /// Moves on after a successful answer. On `Err` the step is as it was.
    fn advance(
        &mut self,
        identity: &DeviceIdentity,
        circles: &mut Circles,
        body: Vec<u8>,
        now: Timestamp,
    ) -> Result<Next> {
        let next = match self.step.clone() {
            Step::JoinRead {
                link,
                pending,
                attempts,
            } => {
                let log: MembershipEntries = json_answer(&body)?;
                let entries: Vec<Vec<u8>> = log.entries.into_iter().map(|e| e.0).collect();
                let trust = CircleTrust::from_log(identity, &entries)?;
                let token = InviteToken::from_link(&link)?;
                let circle = &token.invite().body().circle;
                if trust.circle() != circle {
                    return Err(Error::from(TrustError::WrongCircle {
                        expected: circle.to_string(),
                        found: trust.circle().to_string(),
                    }));
                }
                if circles.contains_key(circle) {
                    return Err(TrustError::AlreadyExists(format!(
                        "circle {circle} on this device"
                    ))
                    .into());
                }
                kring_trust::invite::check_usable(trust.state(), token.invite(), now)?;
                let (member, entry) = match token.invite().kind() {
                    InviteKind::Person => {
                        let member = MemberId::random();
                        let entry = token.redeem(trust.state(), identity, member.clone(), now)?;
                        (member, entry)
                    }
                    // One more device of the member the link was made for.
                    InviteKind::Device => {
                        let member = trust.state().check_device_link(token.invite())?.clone();
                        (member, token.redeem_device(trust.state(), identity, now)?)
                    }
                };
                Step::JoinAppend {
                    link,
                    pending,
                    trust: Box::new(trust),
                    member,
                    entry: Box::new(entry),
                    attempts,
                }
            }
            Step::JoinAppend {
                link,
                pending,
                mut trust,
                member,
                entry,
                ..
            } => {
                trust.push(identity, *entry)?;
                let circle = trust.circle().clone();
                let token = InviteToken::from_link(&link)?;
                let relay = normalize_relay_url(&token.invite().body().relay_url)?;
                circles.insert(
                    circle.clone(),
                    Replica::joined(*trust, relay, member, pending),
                );
                Step::Membership {
                    circle,
                    then: Then::Push,
                }
            }
            Step::Membership { circle, then } => {
                let fetched: MembershipEntries = json_answer(&body)?;
                let entries: Vec<Vec<u8>> = fetched.entries.into_iter().map(|e| e.0).collect();
                let replica = replica(circles, &circle)?;
                let added = replica.absorb_entries(identity, &entries)?;
                if added > 0 && replica.trust.len() < fetched.head.len {
                    Step::Membership { circle, then }
                } else {
                    match (replica.standing(&identity.id()), then) {
                        (Standing::Removed, _) => {
                            circles.remove(&circle);
                            return Err(TrustError::Removed(identity.id()).into());
                        }
                        (Standing::NotMember, _) => {
                            return Err(TrustError::DeviceNotMember(identity.id()).into())
                        }
                        (Standing::Writer(_), Then::Push) => {
                            push_or_pull(identity, replica, circle)?
                        }
                        (_, Then::Pull(refreshed_for)) => Step::Pull {
                            circle,
                            refreshed_for,
                        },
                        _ => Step::Pull {
                            circle,
                            refreshed_for: None,
                        },
                    }
                }
            }
            Step::Push { circle, batch } => {
                let pushed: Pushed = json_answer(&body)?;
                let replica = replica(circles, &circle)?;
                replica.acknowledged(&batch, &pushed.cursors)?;
                self.report.pushed += batch.len();
                push_or_pull(identity, replica, circle)?
            }
            Step::Pull {
                circle,
                mut refreshed_for,
            } => {
                let page: Pulled = json_answer(&body)?;
                let items = page
                    .envelopes
                    .into_iter()
                    .map(|item| (item.cursor, item.envelope.0))
                    .collect();
                let replica = replica(circles, &circle)?;
                let need_log = replica.absorb_envelopes(
                    identity,
                    items,
                    &mut refreshed_for,
                    &mut self.report,
                )?;
                if need_log {
                    Step::Membership {
                        circle,
                        then: Then::Pull(refreshed_for),
                    }
                } else if page.more {
                    Step::Pull {
                        circle,
                        refreshed_for,
                    }
                } else if replica.complete_join(identity, now)? {
                    // Push this person's record; the pull after it ends the sync.
                    self.report.joined = true;
                    push_or_pull(identity, replica, circle)?
                } else {
                    return Ok(Next::Done(circle, self.report));
                }
            }
        };
        self.step = next;
        Ok(Next::Send(self.request(identity, circles, now, 0)?))
    }
}

/// After a push (or at the start): the outbox's next batch, or the pull.
fn push_or_pull(
    identity: &DeviceIdentity,
    replica: &mut Replica,
    circle: CircleId,
) -> Result<Step> {
    Ok(match replica.next_push(identity)? {
        Some(batch) => Step::Push { circle, batch },
        None => Step::Pull {
            circle,
            refreshed_for: None,
        },
    })
}

impl Step {
    fn circle(&self) -> Option<&CircleId> {
        match self {
            Step::Membership { circle, .. }
            | Step::Push { circle, .. }
            | Step::Pull { circle, .. } => Some(circle),
            Step::JoinRead { .. } | Step::JoinAppend { .. } => None,
        }
    }
}

/// The relay's answer as the app read it.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: Vec<u8>,
}
