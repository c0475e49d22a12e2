//! Entering a circle by a link: an invite for a new person ([`Device::join`]) or a
//! device link for another device of a member (`Device::add_device`, in `link`). Both
//! redeem the link on the relay's membership log the same way ([`enter_circle`]),
//! store a [`PendingJoin`], and let the next sync fetch the plan and finish the join
//! ([`Session::complete_join`]).

use kring_plan::plan::DeviceActor;
use kring_plan::Error as PlanError;
use kring_trust::Error as TrustError;
use serde::{Deserialize, Serialize};

use super::session::{sync_circle, with_retry, Session, MAX_REFRESHES};
use crate::device::{seal_own, Device};
use crate::error::{Error, Result};
use crate::store::{Store, SyncRecord};
use crate::sync::engine::{self, CircleTrust, Received, Standing};
use crate::sync::http::Signer;
use kring_plan::plan::rules::{required_text, MAX_NAME_CHARS};
use kring_plan::plan::{CircleId, CirclePlan, MemberId, NewMember, Relation};
use kring_trust::identity::DeviceIdentity;
use kring_trust::invite::InviteToken;
use kring_trust::membership::SignedEntry;
use kring_trust::time::Timestamp;

/// A join whose membership entry is in, waiting for the plan to arrive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PendingJoin {
    pub(super) member: MemberId,
    pub(super) name: String,
    pub(super) relation: Relation,
    /// Another device of an existing member (a device link): the member is in the
    /// plan already, so no record is added.
    #[serde(default)]
    pub(super) linked: bool,
}

impl Device {
    /// Joins the circle of an invite link as `my_name`: reads the membership log with
    /// the invite's key, appends the redemption (compare-and-swap, re-done on the new
    /// head if another entry came first), then syncs: pulls the plan, adds this
    /// person's own record to it and pushes that.
    ///
    /// Once the redemption is in, the join stands: if the plan cannot be fetched yet
    /// (the relay is unreachable, or the inviter has not synced), it is fetched by the
    /// next [`Device::sync`] (see [`Device::pending_joins`]). A reader does not
    /// write a record of their own (readers do not write).
    pub fn join(
        &mut self,
        link: &str,
        my_name: &str,
        relation: Relation,
        now: Timestamp,
    ) -> Result<CircleId> {
        let token = InviteToken::from_link(link)?;
        // An invite made for a person the plan has already names them there: the
        // name is theirs to keep (or to change, by giving another one).
        let named = token.invite().for_member().cloned();
        let name = match (&named, my_name.trim()) {
            (Some(_), "") => String::new(),
            _ => required_text("display name", my_name, MAX_NAME_CHARS)?,
        };
        if relation == Relation::MainPerson {
            return Err(Error::Trust(TrustError::NotAllowed(
                "a circle has exactly one main person",
            )));
        }
        let member = named.unwrap_or_else(MemberId::random);
        self.enter_circle(&token, now, |trust, identity| {
            let entry = token.redeem(trust.state(), identity, member.clone(), now)?;
            let pending = PendingJoin {
                member: member.clone(),
                name: name.clone(),
                relation,
                linked: false,
            };
            Ok((entry, pending))
        })
    }

    /// What joining by an invite and adding a device by a device link share: refuse a
    /// circle already here, read the log signed with the link's key, check the link
    /// is usable, append the entry `redeem` builds (rebuilt on a moved head), store
    /// the pending join, then sync to fetch the plan. Once the entry is in, the device
    /// is in: a failed fetch is the next sync's to retry (its error is in the status).
    pub(super) fn enter_circle(
        &mut self,
        token: &InviteToken,
        now: Timestamp,
        redeem: impl Fn(&CircleTrust, &DeviceIdentity) -> Result<(SignedEntry, PendingJoin)>,
    ) -> Result<CircleId> {
        let body = token.invite().body().clone();
        let circle = body.circle.clone();
        if self.store.sync_record(&circle)?.is_some() || self.store.circle(&circle).is_ok() {
            return Err(
                TrustError::AlreadyExists(format!("circle {circle} on this device")).into(),
            );
        }
        let relay = self.net.access.client(&body.relay_url)?;
        let Device {
            store,
            identity,
            net,
            ..
        } = self;
        let as_link_refusal =
            |e: Error| e.map_trust(|e| kring_trust::invite::refusal_of(e, token.invite(), now));
        net.runtime.block_on(async {
            let mut attempts = 0;
            let (trust, pending) = loop {
                let log = with_retry(|| relay.membership(Signer::Invite(token), &circle, 0))
                    .await
                    .map_err(as_link_refusal)?;
                let entries: Vec<Vec<u8>> = log.entries.into_iter().map(|e| e.0).collect();
                let mut trust = CircleTrust::from_log(identity, &entries)?;
                if trust.circle() != &circle {
                    return Err(Error::Trust(TrustError::WrongCircle {
                        expected: circle.to_string(),
                        found: trust.circle().to_string(),
                    }));
                }
                kring_trust::invite::check_usable(trust.state(), token.invite(), now)?;
                let (entry, pending) = redeem(&trust, identity)?;
                match with_retry(|| relay.append(identity, &circle, entry.as_bytes()))
                    .await
                    .map_err(as_link_refusal)
                {
                    Ok(_) => {
                        trust.push(identity, entry)?;
                        break (trust, pending);
                    }
                    Err(Error::Trust(TrustError::HeadMoved { .. })) if attempts < MAX_REFRESHES => {
                        attempts += 1
                    }
                    Err(e) => return Err(e),
                }
            };
            record_join(store, &trust, relay.base_url(), &pending)?;
            let _ = sync_circle(store, identity, &net.access, &circle, now).await;
            Ok(circle.clone())
        })
    }
}

impl Session<'_> {
    /// Builds the plan of a pending join from what was pulled and adds this person's
    /// own record. `false` when the plan is not on the relay yet.
    pub(super) fn complete_join(&mut self) -> Result<Option<PendingJoin>> {
        let circle = self.circle.clone();
        let actor = self.identity.actor_id();
        let writer = matches!(self.trust.standing(&self.me()), Standing::Writer(_));
        let tx = self.store.begin()?;
        let mut record = tx
            .sync_record(&circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        let Some(pending) = record.pending_join.clone() else {
            return Ok(None);
        };
        let pending: PendingJoin = serde_json::from_str(&pending)
            .map_err(|e| PlanError::MalformedDocument(e.to_string()))?;
        let received: Vec<Received> = tx
            .waiting_envelopes(&circle)?
            .iter()
            .filter_map(|w| engine::reopen(w, &self.trust).ok())
            .collect();
        // A join that started from a checked snapshot builds on its document; the
        // envelopes after it are judged as any others, one by one if a batch fails,
        // and a refused one cuts its author off as in any sync.
        let built = match tx.take_snapshot_start(&circle)? {
            Some(document) => {
                let started = match self.started_from.take() {
                    Some(plan) => Ok(plan),
                    None => CirclePlan::load(&document, actor),
                };
                started.map(|mut plan| {
                    let outcome = engine::apply_received(&mut plan, &received);
                    self.report.applied_changes += outcome.applied_changes;
                    self.report.rejected += outcome.rejected.len();
                    (plan, outcome.rejected)
                })
            }
            None => {
                let changes = received
                    .iter()
                    .flat_map(|r| r.changes.iter().map(|c| (c.clone(), r.rights.clone())))
                    .collect();
                CirclePlan::from_changes(&circle, actor, changes)
                    .map(|(plan, _)| (plan, Vec::new()))
            }
        };
        let mut plan = match built {
            Ok((plan, rejected)) => {
                for (author, _, why) in &rejected {
                    crate::device::receive::cut_off(&tx, &circle, author, why)?;
                }
                plan
            }
            // No genesis among them yet: the inviter has not pushed the plan.
            Err(PlanError::MalformedDocument(_)) | Err(PlanError::Automerge(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut complete = Vec::new();
        for r in &received {
            if r.changes.iter().all(|c| plan.has_change(&c.hash())) {
                tx.delete_waiting(&circle, &r.author, r.device_seq)?;
                complete.push((r.author, r.device_seq));
            }
        }
        crate::device::receive::record_attestations(&tx, &circle, &received, &complete)?;
        if writer && !pending.linked {
            let me = NewMember {
                display_name: pending.name.clone(),
                relation: pending.relation,
                role_label: String::new(),
            };
            match plan.join(&pending.member, me, self.now) {
                Ok(()) => {}
                // Invited by name: the plan has this person already. A name they gave
                // themselves replaces the one they were added under.
                Err(PlanError::AlreadyExists(_)) => {
                    let known = plan
                        .view()
                        .member(&pending.member)
                        .map(|m| m.display_name.clone());
                    if !pending.name.is_empty() && known.as_deref() != Some(pending.name.as_str()) {
                        let me = &pending.member;
                        plan.update_member(me, me, Some(&pending.name), None, self.now)?;
                    }
                }
                // Invited by name, gave none, and the record is gone (removed before
                // the plan arrived): nothing of their own to write.
                Err(PlanError::EmptyText { .. }) if pending.name.is_empty() => {}
                Err(e) => return Err(e.into()),
            }
        }
        tx.add_circle(&plan, &pending.member, self.now)?;
        record.pending_join = None;
        tx.put_sync_record(&record)?;
        if writer {
            seal_own(&tx, self.identity, &self.trust, &plan, self.now)?;
        }
        tx.commit()?;
        Ok(Some(pending))
    }

    /// A reader has no record in the plan: the name they joined with goes to the
    /// circle in the log, sealed ([`kring_trust::membership::Action::Introduce`]).
    pub(super) async fn introduce(&mut self, name: &str) -> Result<()> {
        self.append_entry("introduction", |state, identity, keys, _, now| {
            state.introduce(identity, keys, name, now)
        })
        .await
    }
}

/// Stores a join whose membership entry the relay accepted: the whole log as learned,
/// and a sync record that waits for the plan (the next sync completes it).
fn record_join(
    store: &mut Store,
    trust: &CircleTrust,
    relay_url: &str,
    pending: &PendingJoin,
) -> Result<()> {
    let circle = trust.circle();
    let tx = store.begin()?;
    let entries: Vec<(u64, &[u8])> = trust
        .entries()
        .iter()
        .map(|e| (e.seq(), e.as_bytes()))
        .collect();
    tx.append_membership(circle, &entries)?;
    let mut record = SyncRecord::new(circle.clone(), Some(relay_url.to_owned()));
    record.registered = true;
    record.pending_join = Some(
        serde_json::to_string(pending).map_err(|e| PlanError::MalformedDocument(e.to_string()))?,
    );
    tx.put_sync_record(&record)?;
    tx.commit()
}
