//! The device façade's networked half: join, sync, member removal and live watching.
//! The IO driver around [`crate::sync::engine`]; see `docs/sync.md` for the algorithm.

use kring_plan::plan::DeviceActor;
use kring_plan::Error as PlanError;
use kring_trust::Error as TrustError;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{require_writer, seal_own, Device};
use crate::envelope::{self, EnvelopeHash};
use crate::error::{Error, Result};
use crate::store::{DepartureReason, OwnEnvelope, Store, SyncRecord};
use crate::sync::engine::{self, Backoff, CircleTrust, Incoming, Received, Recovery, Standing};
use crate::sync::http::{system_clock, Clock, RelayClient, Signer};
use crate::sync::live::{LiveConnection, LiveEvent, PING_EVERY, SILENCE_LIMIT};
use kring_plan::plan::rules::{required_text, MAX_NAME_CHARS};
use kring_plan::plan::{CircleId, CirclePlan, MemberId, NewMember, Relation};
use kring_trust::identity::{DeviceId, DeviceIdentity};
use kring_trust::invite::InviteToken;
use kring_trust::membership::Capability;
use kring_trust::protocol::{LiveNotice, DEFAULT_PULL_LIMIT};
use kring_trust::time::Timestamp;

mod link;
mod push;
mod recovery;
pub use link::{DeviceInfo, LinkPreview};
pub use recovery::Recovered;

/// How many times one sync re-reads the membership log or realigns the outbox with
/// the relay before giving up (each round trip makes progress; this only stops a
/// misbehaving relay from keeping a device busy forever).
const MAX_REFRESHES: u32 = 5;
/// How often `watch` looks at the outbox (changes made by another process on the
/// same data directory, e.g. a CLI command while `kring watch` runs).
const WATCH_TICK: Duration = Duration::from_millis(500);

/// A join whose membership entry is in, waiting for the plan to arrive.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingJoin {
    member: MemberId,
    name: String,
    relation: Relation,
    /// Another device of an existing member (a device link): the member is in the
    /// plan already, so no record is added.
    #[serde(default)]
    linked: bool,
}

/// The runtime and clock behind the blocking network methods.
pub(super) struct Net {
    runtime: tokio::runtime::Runtime,
    clock: Clock,
}

impl Net {
    pub(super) fn new() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            runtime,
            clock: system_clock(),
        })
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// New membership log entries learned.
    pub membership_entries: usize,
    /// Own envelopes the relay acknowledged.
    pub pushed: usize,
    /// Envelopes pulled (including echoes of our own).
    pub pulled: usize,
    /// Changes of other devices that became part of the plan.
    pub applied_changes: usize,
    /// Received envelopes still waiting for changes they depend on.
    pub waiting: usize,
    /// Envelopes refused (never applied).
    pub rejected: usize,
    /// This sync completed a join: the plan arrived.
    pub joined: bool,
}

impl SyncReport {
    pub fn is_empty(&self) -> bool {
        self.membership_entries == 0
            && self.pushed == 0
            && self.applied_changes == 0
            && self.rejected == 0
            && !self.joined
    }
}

/// What `watch` reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The live connection is up.
    Connected {
        relay: String,
    },
    Synced {
        circle: CircleId,
        report: SyncReport,
    },
    SyncFailed {
        circle: CircleId,
        error: String,
    },
    /// The live connection failed or closed; the next attempt is in `retry_in`.
    Disconnected {
        error: String,
        retry_in: Duration,
    },
    /// A sync of `circle` starts (followed by `Synced` or `SyncFailed`), so a screen
    /// can show "syncing".
    Syncing {
        circle: CircleId,
    },
}

impl Device {
    /// Replaces the clock used to sign requests (tests move it; the default is the
    /// system clock).
    pub fn set_clock(&mut self, clock: Clock) {
        self.net.clock = clock;
    }

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
        let name = required_text("display name", my_name, MAX_NAME_CHARS)?;
        if relation == Relation::MainPerson {
            return Err(Error::Trust(TrustError::NotAllowed(
                "a circle has exactly one main person",
            )));
        }
        let body = token.invite().body().clone();
        let circle = body.circle.clone();
        if self.store.sync_record(&circle)?.is_some() || self.store.circle(&circle).is_ok() {
            return Err(
                TrustError::AlreadyExists(format!("circle {circle} on this device")).into(),
            );
        }
        let relay = RelayClient::new(&body.relay_url, self.net.clock.clone())?;
        let member = MemberId::random();
        let Device {
            store,
            identity,
            net,
            ..
        } = self;
        net.runtime.block_on(async {
            let mut attempts = 0;
            let trust = loop {
                let log = with_retry(|| relay.membership(Signer::Invite(&token), &circle, 0))
                    .await
                    .map_err(|e| {
                        e.map_trust(|e| kring_trust::invite::refusal_of(e, token.invite(), now))
                    })?;
                let entries: Vec<Vec<u8>> = log.entries.into_iter().map(|e| e.0).collect();
                let mut trust = CircleTrust::from_log(identity, &entries)?;
                if trust.circle() != &circle {
                    return Err(Error::Trust(TrustError::WrongCircle {
                        expected: circle.to_string(),
                        found: trust.circle().to_string(),
                    }));
                }
                kring_trust::invite::check_usable(trust.state(), token.invite(), now)?;
                let entry = token.redeem(trust.state(), identity, member.clone(), now)?;
                match with_retry(|| relay.append(identity, &circle, entry.as_bytes()))
                    .await
                    .map_err(|e| {
                        e.map_trust(|e| kring_trust::invite::refusal_of(e, token.invite(), now))
                    }) {
                    Ok(_) => {
                        trust.push(identity, entry)?;
                        break trust;
                    }
                    Err(Error::Trust(TrustError::HeadMoved { .. })) if attempts < MAX_REFRESHES => {
                        attempts += 1
                    }
                    Err(e) => return Err(e),
                }
            };
            let pending = PendingJoin {
                member,
                name,
                relation,
                linked: false,
            };
            record_join(store, &trust, relay.base_url(), &pending)?;
            // The join stands; fetching the plan is an ordinary sync that may fail
            // now and succeed later (its error is in the status).
            let _ = sync_circle(store, identity, &net.clock, &circle, now).await;
            Ok(circle.clone())
        })
    }

    /// Syncs one circle with its relay: membership log, push, pull. See
    /// `docs/sync.md`. On `Err` everything already done stays done and the outbox
    /// keeps what was not acknowledged; the error is also kept for [`Device::status`].
    ///
    /// A sync that learns the circle was closed on the relay turns it into a
    /// read-only archive ([`Error::CircleClosed`](kring_trust::Error::CircleClosed) is returned once; later writes get
    /// [`Error::Archived`]). A sync that learns this device was removed erases the
    /// circle's plaintext from this device, keeping only a note
    /// ([`Device::departures`]), and returns [`Error::Removed`](kring_trust::Error::Removed).
    pub fn sync(&mut self, circle: &CircleId, now: Timestamp) -> Result<SyncReport> {
        let Device {
            store,
            identity,
            net,
            cache,
        } = self;
        let result = net
            .runtime
            .block_on(sync_circle(store, identity, &net.clock, circle, now));
        if result.is_err() {
            cache.remove(circle);
        }
        result
    }

    /// Closes the circle on its relay for everyone (the owner's decision; the relay
    /// checks the owner's signature and deletes the envelopes and membership log,
    /// keeping a tombstone). This device keeps a read-only archive of the plan,
    /// which [`Device::delete_local`] erases. A circle that never reached its relay
    /// is only archived here. On `Err` nothing changed, here or on the relay.
    pub fn close_circle(&mut self, circle: &CircleId, now: Timestamp) -> Result<()> {
        let record = synced_record(&self.store, circle)?;
        super::require_open(Some(&record))?;
        let trust = self
            .trust(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        let me = self.identity.id();
        // The relay refuses anyone else too; asking first gives a clear error offline.
        if trust.state().capability_of(&me) != Some(Capability::Owner) {
            return Err(Error::Trust(TrustError::Unauthorized {
                device: me,
                action: "close the circle (only the owner may)",
            }));
        }
        if record.registered {
            let url = record
                .relay_url
                .as_deref()
                .ok_or_else(|| Error::NoRelay(circle.to_string()))?;
            let relay = RelayClient::new(url, self.net.clock.clone())?;
            let identity = &self.identity;
            match self
                .net
                .runtime
                .block_on(with_retry(|| relay.close_circle(identity, circle)))
            {
                // Closed already (an earlier answer was lost): the same end state.
                Ok(()) | Err(Error::Trust(TrustError::CircleClosed(_))) => {}
                Err(e) => return Err(e),
            }
        }
        self.cache.remove(circle);
        let tx = self.store.begin()?;
        tx.archive(circle, now)?;
        tx.commit()
    }

    /// Syncs every circle that has a relay (joins waiting for their plan included).
    pub fn sync_all(&mut self, now: Timestamp) -> Result<Vec<(CircleId, Result<SyncReport>)>> {
        let circles: Vec<CircleId> = self
            .store
            .sync_records()?
            .into_iter()
            .filter(|r| r.relay_url.is_some() && r.closed_at.is_none())
            .map(|r| r.circle)
            .collect();
        Ok(circles
            .into_iter()
            .map(|circle| {
                let result = self.sync(&circle, now);
                (circle, result)
            })
            .collect())
    }

    /// Removes `member` from the circle: from the membership log (online: sync first
    /// so the write cutoffs keep everything they wrote before, then append the removal,
    /// which rotates the key so they cannot read anything written afterwards) and from
    /// the plan (offline part, sealed under the new key). The plan's own rules are
    /// checked first, so a refusal changes nothing anywhere.
    pub fn remove_member(
        &mut self,
        circle: &CircleId,
        member: &MemberId,
        now: Timestamp,
    ) -> Result<()> {
        let trust = self.trust(circle)?;
        let in_log = trust
            .as_ref()
            .and_then(|t| t.state().member(member))
            .is_some_and(|record| !record.is_removed());
        let me = self.me(circle)?;
        let mut scratch = self.plan(circle)?;
        if let Some(trust) = &trust {
            scratch.set_authority(trust.authority());
        }
        let in_plan = match scratch.remove_member(&me, member, now) {
            Ok(()) => true,
            Err(PlanError::UnknownMember(_)) if in_log => false,
            Err(e) => return Err(e.into()),
        };
        if in_log {
            let Device {
                store,
                identity,
                net,
                ..
            } = self;
            net.runtime.block_on(async {
                let mut session = Session::open(store, identity, &net.clock, circle, now)?;
                session.run().await?;
                session.remove(member).await
            })?;
        }
        if in_plan {
            self.change(circle, now, |plan, me| -> Result<()> {
                Ok(plan.remove_member(me, member, now)?)
            })?;
        }
        if in_log {
            // Best effort: the plan's part is durable in the outbox either way.
            let _ = self.sync(circle, now);
        }
        Ok(())
    }

    /// Makes `member` an admin, a member or a reader (the owner's decision; the
    /// membership validator refuses anyone else, and the owner's own capability never
    /// changes). Online: syncs first so the write cutoffs of a member who becomes a
    /// reader keep everything they wrote before.
    pub fn set_capability(
        &mut self,
        circle: &CircleId,
        member: &MemberId,
        capability: Capability,
        now: Timestamp,
    ) -> Result<()> {
        let Device {
            store,
            identity,
            net,
            ..
        } = self;
        net.runtime.block_on(async {
            let mut session = Session::open(store, identity, &net.clock, circle, now)?;
            session.run().await?;
            session
                .append_entry("change of role", |state, identity, _, last_seqs, now| {
                    state.set_capability(identity, member, capability, last_seqs, now)
                })
                .await
        })
    }

    /// Keeps `circles` (all on one relay) in sync until `stop` is set: a catch-up
    /// sync, then the live WebSocket; every notice from the relay triggers a sync of
    /// its circle, and local changes (also made by other processes) are pushed within
    /// half a second. Reconnects with backoff when the connection drops. Returns
    /// `Err` only when no circle can be watched (all removed, no relay …).
    pub fn watch(
        &mut self,
        circles: &[CircleId],
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(WatchEvent),
    ) -> Result<()> {
        let mut relay_url = None;
        for circle in circles {
            let record = self
                .store
                .sync_record(circle)?
                .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
            let url = record
                .relay_url
                .ok_or_else(|| Error::NoRelay(circle.to_string()))?;
            match &relay_url {
                None => relay_url = Some(url),
                Some(first) if *first == url => {}
                Some(_) => {
                    return Err(Error::Trust(TrustError::NotAllowed(
                        "watch the circles of one relay at a time",
                    )))
                }
            }
        }
        let Some(relay_url) = relay_url else {
            return Err(Error::Trust(TrustError::NotAllowed("no circle to watch")));
        };
        let relay = RelayClient::new(&relay_url, self.net.clock.clone())?;
        let Device {
            store,
            identity,
            net,
            ..
        } = self;
        let mut watcher = Watcher {
            store,
            identity,
            clock: &net.clock,
            relay: &relay,
            circles: circles.to_vec(),
            stop,
            on_event,
        };
        net.runtime.block_on(watcher.run())
    }
}

// ---- one sync ---------------------------------------------------------------------------

async fn sync_circle(
    store: &mut Store,
    identity: &DeviceIdentity,
    clock: &Clock,
    circle: &CircleId,
    now: Timestamp,
) -> Result<SyncReport> {
    let result = match Session::open(store, identity, clock, circle, now) {
        Ok(mut session) => session.run().await.map(|()| session.report),
        Err(e) => Err(e),
    };
    if matches!(result, Err(Error::Archived(_))) {
        // Nothing was attempted: an archive is not synced.
        return result;
    }
    // Remember how it went, for the status a UI shows.
    let removed =
        matches!(&result, Err(Error::Trust(TrustError::Removed(d))) if *d == identity.id());
    {
        let tx = store.begin()?;
        if let Some(mut record) = tx.sync_record(circle)? {
            record.last_attempt_at = Some(now);
            match &result {
                Ok(_) => {
                    record.last_synced_at = Some(now);
                    record.last_error = None;
                    record.offline = false;
                }
                Err(e) => {
                    record.last_error = Some(e.to_string());
                    record.offline = e.is_transient();
                    record.removed |= removed;
                }
            }
            tx.put_sync_record(&record)?;
            if matches!(result, Err(Error::Trust(TrustError::CircleClosed(_)))) {
                tx.archive(circle, now)?;
            }
            tx.commit()?;
        }
    }
    if removed {
        // Removed: the person may no longer hold the circle, and this device erases
        // what it has of it (the choice is in docs/data-retention.md).
        store.delete_circle(circle, Some((DepartureReason::Removed, now)))?;
    }
    result
}

/// A sync of one circle in progress.
struct Session<'a> {
    store: &'a mut Store,
    identity: &'a DeviceIdentity,
    relay: RelayClient,
    circle: CircleId,
    trust: CircleTrust,
    now: Timestamp,
    report: SyncReport,
}

impl<'a> Session<'a> {
    fn open(
        store: &'a mut Store,
        identity: &'a DeviceIdentity,
        clock: &Clock,
        circle: &CircleId,
        now: Timestamp,
    ) -> Result<Self> {
        let record = synced_record(store, circle)?;
        super::require_open(Some(&record))?;
        let url = record
            .relay_url
            .ok_or_else(|| Error::NoRelay(circle.to_string()))?;
        let log = store.membership_log(circle)?;
        if log.is_empty() {
            return Err(Error::LocalOnly(circle.to_string()));
        }
        let trust = CircleTrust::from_log(identity, &log)?;
        Ok(Self {
            relay: RelayClient::new(&url, clock.clone())?,
            store,
            identity,
            circle: circle.clone(),
            trust,
            now,
            report: SyncReport::default(),
        })
    }

    fn me(&self) -> DeviceId {
        self.identity.id()
    }

    fn record(&self) -> Result<SyncRecord> {
        self.store
            .sync_record(&self.circle)?
            .ok_or_else(|| Error::LocalOnly(self.circle.to_string()))
    }

    /// Membership → push → pull (→ complete a pending join → push its record).
    async fn run(&mut self) -> Result<()> {
        if !self.record()?.registered {
            self.register().await?;
        }
        self.refresh_membership().await?;
        match self.trust.standing(&self.me()) {
            Standing::Removed => return Err(TrustError::Removed(self.me()).into()),
            Standing::NotMember => return Err(TrustError::DeviceNotMember(self.me()).into()),
            Standing::Writer(_) => self.push().await?,
            Standing::Reader => {}
        }
        self.pull().await?;
        if self.record()?.pending_join.is_some() && self.complete_join()? {
            self.report.joined = true;
            if matches!(self.trust.standing(&self.me()), Standing::Writer(_)) {
                self.push().await?;
            }
        }
        self.report.waiting = usize::try_from(self.store.waiting_count(&self.circle)?).unwrap_or(0);
        Ok(())
    }

    /// The founder's first sync puts the genesis on the relay.
    async fn register(&mut self) -> Result<()> {
        let genesis = self
            .trust
            .genesis()
            .ok_or_else(|| Error::LocalOnly(self.circle.to_string()))?
            .clone();
        if genesis.body().author == self.me() {
            match with_retry(|| self.relay.create_circle(self.identity, genesis.as_bytes())).await {
                // Already there (an earlier attempt whose answer was lost): the log
                // read that follows checks it is our genesis.
                Ok(_) | Err(Error::Trust(TrustError::CircleExists(_))) => {}
                Err(e) => return Err(e),
            }
            self.push_offline_entries().await?;
        }
        let tx = self.store.begin()?;
        let mut record = tx
            .sync_record(&self.circle)?
            .ok_or_else(|| Error::LocalOnly(self.circle.to_string()))?;
        record.registered = true;
        tx.put_sync_record(&record)?;
        tx.commit()
    }

    /// Reads the log from the relay and absorbs what is new.
    async fn refresh_membership(&mut self) -> Result<()> {
        for _ in 0..MAX_REFRESHES * 20 {
            // `after` counts the entries already held (positions >= after come back).
            let after = self.trust.len();
            let fetched = with_retry(|| {
                self.relay
                    .membership(Signer::Device(self.identity), &self.circle, after)
            })
            .await?;
            let entries: Vec<Vec<u8>> = fetched.entries.into_iter().map(|e| e.0).collect();
            let added = self.trust.absorb(self.identity, &entries)?;
            if !added.is_empty() {
                let tx = self.store.begin()?;
                let rows: Vec<(u64, &[u8])> =
                    added.iter().map(|e| (e.seq(), e.as_bytes())).collect();
                tx.append_membership(&self.circle, &rows)?;
                tx.commit()?;
                self.report.membership_entries += added.len();
            }
            if added.is_empty() || self.trust.len() >= fetched.head.len {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Pushes the outbox in batches until it is empty.
    async fn push(&mut self) -> Result<()> {
        let me = self.me();
        let mut refreshes = 0;
        loop {
            let pending = self.store.pending_envelopes(&self.circle, &me)?;
            if pending.is_empty() {
                return Ok(());
            }
            let last_acked = self.store.last_acked(&self.circle, &me)?;
            if engine::needs_reseal(&pending, last_acked, self.trust.state())? {
                let resealed = engine::reseal(self.identity, &self.trust, &pending, last_acked)?;
                let tx = self.store.begin()?;
                for envelope in &resealed {
                    tx.replace_pending(&me, envelope)?;
                }
                tx.commit()?;
                continue;
            }
            let batch = engine::push_batches(&pending)
                .into_iter()
                .next()
                .map(|range| &pending[range])
                .unwrap_or(&[]);
            let bytes: Vec<&[u8]> = batch.iter().map(|e| e.bytes.as_slice()).collect();
            match with_retry(|| self.relay.push(self.identity, &self.circle, &bytes)).await {
                Ok(pushed) => {
                    if pushed.cursors.len() != batch.len() {
                        return Err(bad_answer("one cursor per pushed envelope"));
                    }
                    let tx = self.store.begin()?;
                    for (envelope, cursor) in batch.iter().zip(&pushed.cursors) {
                        tx.mark_acked(&self.circle, &me, envelope.device_seq, Some(*cursor))?;
                    }
                    tx.commit()?;
                    self.report.pushed += batch.len();
                }
                Err(e) => {
                    refreshes += 1;
                    if refreshes > MAX_REFRESHES {
                        return Err(e);
                    }
                    match engine::recovery(&e, u32::MAX, &Backoff::SYNC, 0.0) {
                        Recovery::Refresh => {
                            // The key rotated or the log moved: learn it, record echoes
                            // of envelopes that did arrive, then reseal the rest.
                            self.refresh_membership().await?;
                            self.pull().await?;
                            if !matches!(self.trust.standing(&me), Standing::Writer(_)) {
                                return Err(e);
                            }
                        }
                        Recovery::Gap { expected_seq } => {
                            self.realign(expected_seq, &pending).await?
                        }
                        Recovery::Retry(_) | Recovery::Fail => return Err(e),
                    }
                }
            }
        }
    }

    /// The relay expects `expected_seq` next while the outbox starts elsewhere.
    async fn realign(
        &mut self,
        expected_seq: u64,
        pending: &[crate::store::OwnEnvelope],
    ) -> Result<()> {
        let me = self.me();
        let first = pending.first().map_or(expected_seq, |e| e.device_seq);
        if expected_seq > first {
            // The relay has them (acknowledgements were lost).
            let tx = self.store.begin()?;
            tx.mark_acked(&self.circle, &me, expected_seq - 1, None)?;
            return tx.commit();
        }
        // The relay misses envelopes it once acknowledged (restored from a backup?):
        // send them again, they are still in the outbox.
        let missing: Vec<_> = self
            .store
            .own_envelopes_from(&self.circle, &me, expected_seq)?
            .into_iter()
            .filter(|e| e.device_seq < first)
            .collect();
        if missing.is_empty() {
            return Err(Error::Trust(TrustError::RelayGap { expected_seq }));
        }
        for range in engine::push_batches(&missing) {
            let batch = &missing[range];
            let bytes: Vec<&[u8]> = batch.iter().map(|e| e.bytes.as_slice()).collect();
            let pushed =
                with_retry(|| self.relay.push(self.identity, &self.circle, &bytes)).await?;
            let tx = self.store.begin()?;
            for (envelope, cursor) in batch.iter().zip(&pushed.cursors) {
                tx.mark_acked(&self.circle, &me, envelope.device_seq, Some(*cursor))?;
            }
            tx.commit()?;
        }
        Ok(())
    }

    /// Pulls pages after the cursor until the relay has no more; each page is applied
    /// and its cursor persisted in one transaction.
    async fn pull(&mut self) -> Result<()> {
        let me = self.me();
        let mut refreshed_for: Option<u64> = None;
        loop {
            let cursor = self.record()?.pull_cursor;
            let page = with_retry(|| {
                self.relay
                    .pull(self.identity, &self.circle, cursor, DEFAULT_PULL_LIMIT)
            })
            .await?;
            let mut heads = self.store.device_heads(&self.circle)?;
            let mut page_result = Page {
                cursor,
                closes_at: page.closes_at,
                ..Page::default()
            };
            let mut need_refresh = false;
            for item in page.envelopes {
                if item.cursor <= page_result.cursor {
                    continue;
                }
                let incoming = super::receive::classify(
                    self.store,
                    item.envelope.0,
                    item.cursor,
                    &self.trust,
                    &me,
                    &heads,
                )?;
                match incoming {
                    Incoming::Apply(received) => {
                        heads.insert(received.author, (received.device_seq, received.hash));
                        page_result.heads.push((
                            received.author,
                            received.device_seq,
                            received.hash,
                        ));
                        page_result.received.push(received);
                    }
                    Incoming::Own {
                        device_seq,
                        hash,
                        cursor,
                        bytes,
                    } => page_result.echoes.push(OwnEnvelope {
                        device_seq,
                        hash,
                        bytes,
                        acked: true,
                        cursor: Some(cursor),
                    }),
                    Incoming::Duplicate => {}
                    Incoming::NeedMembership if refreshed_for != Some(item.cursor) => {
                        refreshed_for = Some(item.cursor);
                        need_refresh = true;
                        break;
                    }
                    Incoming::NeedMembership | Incoming::Rejected(_) => self.report.rejected += 1,
                }
                self.report.pulled += 1;
                page_result.cursor = item.cursor;
            }
            self.commit_page(page_result)?;
            if need_refresh {
                self.refresh_membership().await?;
                continue;
            }
            if !page.more {
                return Ok(());
            }
        }
    }

    fn commit_page(&mut self, page: Page) -> Result<()> {
        let me = self.me();
        let circle = self.circle.clone();
        let tx = self.store.begin()?;
        let mut record = tx
            .sync_record(&circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        // Echoes of our own envelopes: acknowledged. One that differs from the outbox
        // (or is missing from it) carries changes this copy may lack: apply them.
        let mut own_changes = Vec::new();
        for echo in &page.echoes {
            if tx.own_hash(&circle, &me, echo.device_seq)? != Some(echo.hash) {
                if let Ok(opened) =
                    envelope::open(&echo.bytes, self.trust.state(), self.trust.keys())
                {
                    own_changes.extend(opened.into_changes());
                }
            }
            tx.record_own_echo(&circle, &me, echo, self.now)?;
        }
        let outcome = super::receive::apply_envelopes(
            &tx,
            self.identity,
            &self.trust,
            page.received,
            own_changes,
            self.now,
        )?;
        self.report.applied_changes += outcome.applied_changes;
        self.report.rejected += outcome.rejected.len();
        for (device, seq, hash) in &page.heads {
            tx.set_device_head(&circle, device, *seq, hash)?;
        }
        record.pull_cursor = page.cursor;
        record.closes_at = page.closes_at;
        tx.put_sync_record(&record)?;
        tx.commit()
    }

    /// Builds the plan of a pending join from what was pulled and adds this person's
    /// own record. `false` when the plan is not on the relay yet.
    fn complete_join(&mut self) -> Result<bool> {
        let circle = self.circle.clone();
        let actor = self.identity.actor_id();
        let writer = matches!(self.trust.standing(&self.me()), Standing::Writer(_));
        let tx = self.store.begin()?;
        let mut record = tx
            .sync_record(&circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        let Some(pending) = record.pending_join.clone() else {
            return Ok(false);
        };
        let pending: PendingJoin = serde_json::from_str(&pending)
            .map_err(|e| PlanError::MalformedDocument(e.to_string()))?;
        let received: Vec<Received> = tx
            .waiting_envelopes(&circle)?
            .iter()
            .filter_map(|w| engine::reopen(w, &self.trust).ok())
            .collect();
        let changes = received
            .iter()
            .flat_map(|r| r.changes.iter().map(|c| (c.clone(), r.rights.clone())))
            .collect();
        let mut plan = match CirclePlan::from_changes(&circle, actor, changes) {
            Ok((plan, _)) => plan,
            // No genesis among them yet: the inviter has not pushed the plan.
            Err(PlanError::MalformedDocument(_)) | Err(PlanError::Automerge(_)) => {
                return Ok(false)
            }
            Err(e) => return Err(e.into()),
        };
        for r in &received {
            if r.changes.iter().all(|c| plan.has_change(&c.hash())) {
                tx.delete_waiting(&circle, &r.author, r.device_seq)?;
            }
        }
        if writer && !pending.linked {
            let me = NewMember {
                display_name: pending.name.clone(),
                relation: pending.relation,
                role_label: String::new(),
            };
            match plan.join(&pending.member, me, self.now) {
                Ok(()) | Err(PlanError::AlreadyExists(_)) => {}
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
        Ok(true)
    }

    /// Appends the removal of `member` (after a full sync, so the cutoffs are right).
    async fn remove(&mut self, member: &MemberId) -> Result<()> {
        require_writer(&self.trust, &self.me())?;
        self.append_entry("removal", |state, identity, keys, last_seqs, now| {
            state.remove_member(identity, keys, member, last_seqs, now)
        })
        .await
    }

    /// Appends the entry `build` makes from the current log (after a full sync, so
    /// write cutoffs are right), rebuilding it on the new head if another entry came
    /// first. `what` names it for the error when the log keeps moving. Who may append
    /// it is the membership validator's to say (the relay runs the same).
    pub(super) async fn append_entry(
        &mut self,
        what: &'static str,
        build: impl Fn(
            &kring_trust::membership::MembershipState,
            &DeviceIdentity,
            &kring_trust::keyring::Keyring,
            &kring_trust::membership::build::LastSeqs,
            Timestamp,
        ) -> kring_trust::Result<kring_trust::membership::SignedEntry>,
    ) -> Result<()> {
        for _ in 0..MAX_REFRESHES {
            let last_seqs = engine::last_seqs(&self.store.device_heads(&self.circle)?);
            let entry = build(
                self.trust.state(),
                self.identity,
                self.trust.keys(),
                &last_seqs,
                self.now,
            )?;
            match with_retry(|| {
                self.relay
                    .append(self.identity, &self.circle, entry.as_bytes())
            })
            .await
            {
                Ok(_) => {
                    self.trust.push(self.identity, entry.clone())?;
                    let tx = self.store.begin()?;
                    tx.append_membership(&self.circle, &[(entry.seq(), entry.as_bytes())])?;
                    return tx.commit();
                }
                Err(Error::Trust(TrustError::HeadMoved { .. })) => {
                    self.refresh_membership().await?;
                    self.pull().await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Contended(what))
    }
}

/// The sync state of a circle that syncs: [`Error::LocalOnly`] for a circle that came
/// from a file, [`Error::UnknownCircle`] for one that is not on this device.
fn synced_record(store: &Store, circle: &CircleId) -> Result<SyncRecord> {
    store
        .sync_record(circle)?
        .ok_or_else(|| match store.circle(circle) {
            Ok(_) => Error::LocalOnly(circle.to_string()),
            Err(e) => e,
        })
}

/// One pulled page, ready to commit.
#[derive(Default)]
struct Page {
    cursor: u64,
    /// The relay's retention warning on this page (see [`kring_trust::protocol::Pulled`]).
    closes_at: Option<Timestamp>,
    received: Vec<Received>,
    echoes: Vec<OwnEnvelope>,
    heads: Vec<(DeviceId, u64, EnvelopeHash)>,
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

fn bad_answer(what: &str) -> Error {
    Error::Trust(TrustError::Relay {
        status: 200,
        code: "bad_response".into(),
        message: format!("the relay's answer lacks {what}"),
    })
}

/// Runs `request` again (freshly signed) after transient failures, with backoff.
async fn with_retry<T, F, Fut>(mut request: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        match request().await {
            Ok(value) => return Ok(value),
            Err(e) => {
                attempt += 1;
                match engine::recovery(&e, attempt, &Backoff::SYNC, rand::random()) {
                    Recovery::Retry(wait) => tokio::time::sleep(wait).await,
                    _ => return Err(e),
                }
            }
        }
    }
}

// ---- watching ---------------------------------------------------------------------------

struct Watcher<'a> {
    store: &'a mut Store,
    identity: &'a DeviceIdentity,
    clock: &'a Clock,
    relay: &'a RelayClient,
    circles: Vec<CircleId>,
    stop: &'a AtomicBool,
    on_event: &'a mut dyn FnMut(WatchEvent),
}

impl Watcher<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    async fn sync(&mut self, circle: &CircleId) {
        (self.on_event)(WatchEvent::Syncing {
            circle: circle.clone(),
        });
        let now = (self.clock)();
        match sync_circle(self.store, self.identity, self.clock, circle, now).await {
            Ok(report) => (self.on_event)(WatchEvent::Synced {
                circle: circle.clone(),
                report,
            }),
            Err(e) => {
                if matches!(
                    e,
                    Error::Trust(
                        TrustError::Removed(_)
                            | TrustError::DeviceNotMember(_)
                            | TrustError::CircleClosed(_)
                    ) | Error::Archived(_)
                ) {
                    self.circles.retain(|c| c != circle);
                }
                (self.on_event)(WatchEvent::SyncFailed {
                    circle: circle.clone(),
                    error: e.to_string(),
                });
            }
        }
    }

    async fn run(&mut self) -> Result<()> {
        let mut failures = 0u32;
        while !self.stopped() {
            for circle in self.circles.clone() {
                self.sync(&circle).await;
            }
            if self.circles.is_empty() {
                return Err(Error::Trust(TrustError::NotAllowed(
                    "none of the circles can be watched",
                )));
            }
            let error =
                match LiveConnection::connect(self.relay, self.identity, &self.circles).await {
                    Ok(connection) => {
                        failures = 0;
                        (self.on_event)(WatchEvent::Connected {
                            relay: self.relay.base_url().to_owned(),
                        });
                        match self.listen(connection).await? {
                            None => return Ok(()),
                            Some(error) => error,
                        }
                    }
                    Err(e) => e,
                };
            failures += 1;
            let wait = Backoff::LIVE.delay(failures, rand::random());
            (self.on_event)(WatchEvent::Disconnected {
                error: error.to_string(),
                retry_in: wait,
            });
            let until = tokio::time::Instant::now() + wait;
            while tokio::time::Instant::now() < until && !self.stopped() {
                tokio::time::sleep(WATCH_TICK).await;
            }
        }
        Ok(())
    }

    /// Serves one live connection. `Ok(None)`: stopped; `Ok(Some(e))`: reconnect.
    async fn listen(&mut self, mut connection: LiveConnection) -> Result<Option<Error>> {
        let mut last_frame = tokio::time::Instant::now();
        let mut last_ping = last_frame;
        loop {
            if self.stopped() {
                connection.close().await;
                return Ok(None);
            }
            let event = tokio::select! {
                event = connection.recv() => Some(event),
                () = tokio::time::sleep(WATCH_TICK) => None,
            };
            match event {
                Some(Ok(LiveEvent::Notice(notice))) => {
                    last_frame = tokio::time::Instant::now();
                    let (circle, newer) = match &notice {
                        LiveNotice::Cursor { circle, latest } => (circle.clone(), Some(*latest)),
                        LiveNotice::Membership { circle, .. } => (circle.clone(), None),
                    };
                    let Some(circle) = self.circles.iter().find(|c| c.as_str() == circle).cloned()
                    else {
                        continue;
                    };
                    let behind = match newer {
                        Some(latest) => self
                            .store
                            .sync_record(&circle)?
                            .is_none_or(|r| r.pull_cursor < latest),
                        None => true,
                    };
                    if behind {
                        self.sync(&circle).await;
                    }
                }
                Some(Ok(LiveEvent::Other)) => last_frame = tokio::time::Instant::now(),
                Some(Ok(LiveEvent::Closed)) => {
                    return Ok(Some(
                        TrustError::Network("the relay closed the live connection".into()).into(),
                    ))
                }
                Some(Err(e)) => return Ok(Some(e)),
                None => {
                    let me = self.identity.id();
                    for circle in self.circles.clone() {
                        if self.store.pending_count(&circle, &me)? > 0 {
                            self.sync(&circle).await;
                        }
                    }
                    let now = tokio::time::Instant::now();
                    if now.duration_since(last_frame) >= SILENCE_LIMIT {
                        return Ok(Some(
                            TrustError::Network("the live connection went silent".into()).into(),
                        ));
                    }
                    if now.duration_since(last_ping) >= PING_EVERY {
                        last_ping = now;
                        if let Err(e) = connection.ping().await {
                            return Ok(Some(e));
                        }
                    }
                }
            }
            if self.circles.is_empty() {
                return Err(Error::Trust(TrustError::NotAllowed(
                    "none of the circles can be watched",
                )));
            }
        }
    }
}
