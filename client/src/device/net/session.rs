//! One sync of one circle: register → membership → push → pull (→ complete a join),
//! as a [`Session`] over a [`RelayClient`] (whose transport is the seam tests replace,
//! see `crate::sync::transport`). The decisions are `crate::sync::engine`'s; this is
//! the IO driver that asks for them and persists what they say. `docs/sync.md` has
//! the algorithm.

use kring_trust::Error as TrustError;
use std::collections::HashMap;
use std::future::Future;

use super::SyncReport;
use crate::device::require_writer;
use crate::envelope::{self, SealedFor};
use crate::error::{Error, Result};
use crate::snapshot::{self, SnapshotPolicy};
use crate::store::{DepartureReason, OwnEnvelope, Store, SyncRecord};
use crate::sync::engine::{self, Backoff, CircleTrust, Incoming, Received, Recovery, Standing};
use crate::sync::http::{RelayAccess, RelayClient, Signer};
use kring_plan::plan::{CircleId, CirclePlan, DeviceActor, MemberId};
use kring_trust::identity::{DeviceId, DeviceIdentity};
use kring_trust::protocol::DEFAULT_PULL_LIMIT;
use kring_trust::time::Timestamp;

/// How many times one sync re-reads the membership log or realigns the outbox with
/// the relay before giving up (each round trip makes progress; this only stops a
/// misbehaving relay from keeping a device busy forever).
pub(super) const MAX_REFRESHES: u32 = 5;

pub(super) async fn sync_circle(
    store: &mut Store,
    identity: &DeviceIdentity,
    access: &RelayAccess,
    circle: &CircleId,
    now: Timestamp,
) -> Result<SyncReport> {
    let result = match Session::open(store, identity, access, circle, now) {
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

/// What applying frames from the live channel needs: the device's store, identity and
/// relay access, and each circle's trust as validated for the previous frame (reused
/// by [`Session::open_with`] while the stored log is unchanged).
pub(super) struct LiveReceiver<'a> {
    pub store: &'a mut Store,
    pub identity: &'a DeviceIdentity,
    pub access: &'a RelayAccess,
    pub trusts: &'a mut HashMap<CircleId, CircleTrust>,
}

impl LiveReceiver<'_> {
    fn session(&mut self, circle: &CircleId, now: Timestamp) -> Result<Session<'_>> {
        let validated = self.trusts.remove(circle);
        Session::open_with(
            self.store,
            self.identity,
            self.access,
            circle,
            now,
            validated,
        )
    }

    /// Applies one envelope delivered at `cursor`, the next after this device's pull
    /// cursor, without a round trip: checked and applied exactly as a pulled one.
    /// `Ok(None)` when it needs what only a sync brings (a newer membership log, or it
    /// does not follow the cursor): the caller syncs.
    pub(super) fn envelope(
        &mut self,
        circle: &CircleId,
        cursor: u64,
        bytes: Vec<u8>,
        now: Timestamp,
    ) -> Result<Option<SyncReport>> {
        let mut session = self.session(circle, now)?;
        let record = session.record()?;
        if record.pending_join.is_some() || cursor != record.pull_cursor + 1 {
            return Ok(None);
        }
        let mut refreshed_for = None;
        let needs_log = session.absorb(
            record.pull_cursor,
            vec![(cursor, bytes)],
            record.closes_at,
            &mut refreshed_for,
        )?;
        let (trust, report) = (session.trust.clone(), session.report);
        self.trusts.insert(circle.clone(), trust);
        Ok((!needs_log).then_some(report))
    }

    /// The start of this device's outbox that can go on the live socket as it is (at
    /// most what one push frame takes). `None` when the outbox is empty, or when it
    /// first needs what only a sync does (a reseal after a key rotation or a lost
    /// acknowledgement, a join to complete, an envelope larger than a frame, no
    /// longer a writer): the caller syncs instead.
    pub(super) fn socket_batch(
        &mut self,
        circle: &CircleId,
        now: Timestamp,
    ) -> Result<Option<Vec<OwnEnvelope>>> {
        let session = self.session(circle, now)?;
        let me = session.me();
        let ready = session.record()?.pending_join.is_none()
            && matches!(session.trust.standing(&me), Standing::Writer(_));
        let pending = session.store.pending_envelopes(circle, &me)?;
        let last_acked = session.store.last_acked(circle, &me)?;
        let batch = if ready && !engine::needs_reseal(&pending, last_acked, session.trust.state())?
        {
            engine::socket_batch(&pending)
        } else {
            None
        };
        let trust = session.trust.clone();
        self.trusts.insert(circle.clone(), trust);
        Ok(batch.map(|range| pending[range].to_vec()))
    }

    /// Records the relay's answer to a push of `batch` sent on the live socket, as
    /// [`Session::push_batch`] does for one over HTTP.
    pub(super) fn acknowledged(
        &mut self,
        circle: &CircleId,
        batch: &[OwnEnvelope],
        cursors: &[u64],
    ) -> Result<()> {
        record_acks(self.store, circle, &self.identity.id(), batch, cursors)
    }

    /// Applies membership entries delivered from position `first`, without a round
    /// trip. `Ok(None)` when they do not follow this device's log, or change this
    /// device's own standing (a removal: the sync erases the circle), so the caller
    /// syncs instead.
    pub(super) fn entries(
        &mut self,
        circle: &CircleId,
        first: u64,
        entries: Vec<Vec<u8>>,
        now: Timestamp,
    ) -> Result<Option<SyncReport>> {
        let mut session = self.session(circle, now)?;
        if first != session.trust.len() {
            return Ok(None);
        }
        let before = session.trust.standing(&session.me());
        session.absorb_entries(&entries)?;
        let after = session.trust.standing(&session.me());
        let (trust, report) = (session.trust.clone(), session.report);
        self.trusts.insert(circle.clone(), trust);
        Ok((before == after).then_some(report))
    }
}

/// A sync of one circle in progress.
pub(super) struct Session<'a> {
    pub(super) store: &'a mut Store,
    pub(super) identity: &'a DeviceIdentity,
    pub(super) relay: RelayClient,
    pub(super) circle: CircleId,
    pub(super) trust: CircleTrust,
    pub(super) now: Timestamp,
    pub(super) report: SyncReport,
    snapshots: SnapshotPolicy,
    /// The plan of a checked snapshot this sync started a join from (also kept in the
    /// store), so completing the join does not load it again.
    pub(super) started_from: Option<CirclePlan>,
}

impl<'a> Session<'a> {
    pub(super) fn open(
        store: &'a mut Store,
        identity: &'a DeviceIdentity,
        access: &RelayAccess,
        circle: &CircleId,
        now: Timestamp,
    ) -> Result<Self> {
        Self::open_with(store, identity, access, circle, now, None)
    }

    /// [`Session::open`], reusing `validated` — this circle's trust as validated
    /// earlier — when it is still the stored log's (same length, same last entry), so a
    /// stream of frames does not re-check every signature of the log for each one.
    pub(super) fn open_with(
        store: &'a mut Store,
        identity: &'a DeviceIdentity,
        access: &RelayAccess,
        circle: &CircleId,
        now: Timestamp,
        validated: Option<CircleTrust>,
    ) -> Result<Self> {
        let record = synced_record(store, circle)?;
        crate::device::require_open(Some(&record))?;
        let url = record
            .relay_url
            .ok_or_else(|| Error::NoRelay(circle.to_string()))?;
        let log = store.membership_log(circle)?;
        if log.is_empty() {
            return Err(Error::LocalOnly(circle.to_string()));
        }
        let current = |t: &CircleTrust| {
            t.len() == log.len() as u64
                && t.entries().last().map(|e| e.as_bytes()) == log.last().map(Vec::as_slice)
        };
        let trust = match validated {
            Some(trust) if current(&trust) => trust,
            _ => CircleTrust::from_log(identity, &log)?,
        };
        Ok(Self {
            relay: access.client(&url)?,
            store,
            identity,
            circle: circle.clone(),
            trust,
            now,
            report: SyncReport::default(),
            snapshots: access.snapshots,
            started_from: None,
        })
    }

    pub(super) fn me(&self) -> DeviceId {
        self.identity.id()
    }

    pub(super) fn record(&self) -> Result<SyncRecord> {
        self.store
            .sync_record(&self.circle)?
            .ok_or_else(|| Error::LocalOnly(self.circle.to_string()))
    }

    /// Membership → push → pull (→ complete a pending join → push its record).
    pub(super) async fn run(&mut self) -> Result<()> {
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
        if self.record()?.pending_join.is_some() {
            if let Some(joined) = self.complete_join()? {
                self.report.joined = true;
                match self.trust.standing(&self.me()) {
                    Standing::Writer(_) => self.push().await?,
                    _ if !joined.name.is_empty() => self.introduce(&joined.name).await?,
                    _ => {}
                }
            }
        }
        self.report.waiting =
            usize::try_from(self.store.waiting_for_changes(&self.circle)?).unwrap_or(0);
        self.offer_snapshot().await;
        Ok(())
    }

    /// A joining device with nothing pulled yet starts from the relay's newest
    /// snapshot, if it passes every check ([`crate::snapshot::open`]): the document
    /// becomes the plan the join completes from, each attested device's envelope its
    /// device head, and the pull goes on after the cursor it covers. A snapshot that
    /// fails a check is ignored (the device fetches the whole history as before) and
    /// counted in [`SyncReport::snapshots_refused`].
    async fn start_from_snapshot(&mut self) -> Result<()> {
        let record = self.record()?;
        if !self.snapshots.start_from || record.pending_join.is_none() || record.pull_cursor > 0 {
            return Ok(());
        }
        let bytes = match with_retry(|| self.relay.snapshot(self.identity, &self.circle)).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(()),
            // Offline: the pull that follows would fail the same way.
            Err(e) if e.is_transient() => return Err(e),
            Err(_) => {
                self.report.snapshots_refused += 1;
                return Ok(());
            }
        };
        let checked = match snapshot::open(
            &bytes,
            &self.circle,
            self.trust.state(),
            self.trust.keys(),
            self.identity.actor_id(),
        ) {
            Ok(checked) => checked,
            Err(_) => {
                self.report.snapshots_refused += 1;
                return Ok(());
            }
        };
        let me = self.me();
        let tx = self.store.begin()?;
        let mut record = tx
            .sync_record(&self.circle)?
            .ok_or_else(|| Error::LocalOnly(self.circle.to_string()))?;
        tx.put_snapshot_start(&self.circle, &checked.document)?;
        for (device, seq, hash, bytes) in &checked.heads {
            if *device != me {
                tx.set_device_head(&self.circle, device, *seq, hash)?;
                tx.set_last_applied(&self.circle, device, *seq, bytes)?;
            }
        }
        record.pull_cursor = checked.covers;
        record.snapshot_cursor = checked.covers;
        tx.put_sync_record(&record)?;
        tx.commit()?;
        self.report.started_from_snapshot = Some(checked.covers);
        self.started_from = Some(checked.plan);
        Ok(())
    }

    /// On a device of the main person, uploads a snapshot once the circle has moved
    /// [`SnapshotPolicy::make_every`] envelopes past the last one. Best effort: a
    /// snapshot that cannot be made now (something still waiting or unsent, a change
    /// no attestation covers yet) or is refused leaves the sync as it was.
    async fn offer_snapshot(&mut self) {
        if let Ok(Some(covers)) = self.make_snapshot().await {
            self.report.snapshot_made = Some(covers);
        }
    }

    async fn make_snapshot(&mut self) -> Result<Option<u64>> {
        let me = self.me();
        let state = self.trust.state();
        let mut record = self.record()?;
        let due = self.snapshots.make_every > 0
            && record.pending_join.is_none()
            && record.pull_cursor
                >= record
                    .snapshot_cursor
                    .saturating_add(self.snapshots.make_every)
            && state.is_active(&me)
            && state.member_of_device(&me) == Some(state.owner());
        if !due
            || self.store.pending_count(&self.circle, &me)? > 0
            || self.store.waiting_count(&self.circle)? > 0
        {
            return Ok(None);
        }
        let plan = self.store.load(&self.circle, self.identity.actor_id())?;
        let attestations = self.store.attestations(&self.circle, &me)?;
        let covers = record.pull_cursor;
        let outcome = match snapshot::make(
            self.identity,
            state,
            self.trust.keys(),
            &plan,
            covers,
            &attestations,
        ) {
            Ok(bytes) => {
                with_retry(|| {
                    self.relay
                        .put_snapshot(self.identity, &self.circle, bytes.clone())
                })
                .await
            }
            Err(e) => Err(e.into()),
        };
        if outcome.as_ref().is_err_and(Error::is_transient) {
            return outcome.map(|_| None);
        }
        record = self.record()?;
        record.snapshot_cursor = match &outcome {
            // The relay's word on what it holds, never past what this device has seen.
            Ok(stored) => record.snapshot_cursor.max(stored.covers.min(covers)),
            // Not possible now (an attestation missing, a refusal): tried again only
            // after as many envelopes more, not on every sync.
            Err(_) => covers,
        };
        let tx = self.store.begin()?;
        tx.put_sync_record(&record)?;
        tx.commit()?;
        outcome.map(|stored| stored.kept.then_some(covers))
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
    pub(super) async fn refresh_membership(&mut self) -> Result<()> {
        for _ in 0..MAX_REFRESHES * 20 {
            // `after` counts the entries already held (positions >= after come back).
            let after = self.trust.len();
            let fetched = with_retry(|| {
                self.relay
                    .membership(Signer::Device(self.identity), &self.circle, after)
            })
            .await?;
            let entries: Vec<Vec<u8>> = fetched.entries.into_iter().map(|e| e.0).collect();
            let added = self.absorb_entries(&entries)?;
            if added == 0 || self.trust.len() >= fetched.head.len {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Validates membership entries that follow this device's log and stores them;
    /// returns how many were new.
    pub(super) fn absorb_entries(&mut self, entries: &[Vec<u8>]) -> Result<usize> {
        let added = self.trust.absorb(self.identity, entries)?;
        if !added.is_empty() {
            let tx = self.store.begin()?;
            let rows: Vec<(u64, &[u8])> = added.iter().map(|e| (e.seq(), e.as_bytes())).collect();
            tx.append_membership(&self.circle, &rows)?;
            tx.commit()?;
            self.report.membership_entries += added.len();
        }
        Ok(added.len())
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
            match self.push_batch(batch).await {
                Ok(()) => {}
                Err(e) => {
                    refreshes += 1;
                    if refreshes > MAX_REFRESHES {
                        return Err(e);
                    }
                    match recovery(&e, u32::MAX, 0.0) {
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
    async fn realign(&mut self, expected_seq: u64, pending: &[OwnEnvelope]) -> Result<()> {
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
            self.push_batch(&missing[range]).await?;
        }
        Ok(())
    }

    /// Pushes one batch of own envelopes and records the relay's acknowledgement: one
    /// cursor per envelope, committed in one transaction. The only place envelopes
    /// are pushed, so the answer is checked the same way whatever the reason to push.
    async fn push_batch(&mut self, batch: &[OwnEnvelope]) -> Result<()> {
        let me = self.me();
        let bytes: Vec<&[u8]> = batch.iter().map(|e| e.bytes.as_slice()).collect();
        let pushed = with_retry(|| self.relay.push(self.identity, &self.circle, &bytes)).await?;
        record_acks(self.store, &self.circle, &me, batch, &pushed.cursors)?;
        self.report.pushed += batch.len();
        Ok(())
    }

    /// Pulls pages after the cursor until the relay has no more; each page is applied
    /// and its cursor persisted in one transaction.
    pub(super) async fn pull(&mut self) -> Result<()> {
        self.start_from_snapshot().await?;
        let mut refreshed_for: Option<u64> = None;
        loop {
            let cursor = self.record()?.pull_cursor;
            let page = with_retry(|| {
                self.relay
                    .pull(self.identity, &self.circle, cursor, DEFAULT_PULL_LIMIT)
            })
            .await?;
            let items = page
                .envelopes
                .into_iter()
                .map(|item| (item.cursor, item.envelope.0))
                .collect();
            if self.absorb(cursor, items, page.closes_at, &mut refreshed_for)? {
                self.refresh_membership().await?;
                continue;
            }
            if !page.more {
                return Ok(());
            }
        }
    }

    /// Classifies envelopes received after `cursor` (in cursor order, pulled or
    /// streamed) and commits what they bring with the new cursor in one transaction.
    /// Stops before an envelope that needs a newer membership log than this device
    /// has, once per cursor (`refreshed_for`), and returns `true` then: the caller
    /// refreshes the log and goes on from there.
    pub(super) fn absorb(
        &mut self,
        cursor: u64,
        items: Vec<(u64, Vec<u8>)>,
        closes_at: Option<Timestamp>,
        refreshed_for: &mut Option<u64>,
    ) -> Result<bool> {
        let me = self.me();
        let mut heads = self.store.device_heads(&self.circle)?;
        let mut page = Page {
            cursor,
            closes_at,
            ..Page::default()
        };
        let mut need_refresh = false;
        for (item_cursor, bytes) in items {
            if item_cursor <= page.cursor {
                continue;
            }
            let incoming = crate::device::receive::classify(
                self.store,
                bytes,
                item_cursor,
                &self.trust,
                &me,
                &heads,
            )?;
            match incoming {
                Incoming::Apply(received) => {
                    heads.insert(received.author, (received.device_seq, received.hash));
                    page.received.push(received);
                }
                Incoming::Own {
                    device_seq,
                    hash,
                    cursor,
                    bytes,
                } => page.echoes.push(OwnEnvelope {
                    device_seq,
                    hash,
                    bytes,
                    acked: true,
                    cursor: Some(cursor),
                }),
                Incoming::Duplicate => {}
                Incoming::NeedMembership if *refreshed_for != Some(item_cursor) => {
                    *refreshed_for = Some(item_cursor);
                    need_refresh = true;
                    break;
                }
                Incoming::NeedMembership | Incoming::Rejected(_) => self.report.rejected += 1,
            }
            self.report.pulled += 1;
            page.cursor = item_cursor;
        }
        self.commit_page(page)?;
        Ok(need_refresh)
    }

    fn commit_page(&mut self, page: Page) -> Result<()> {
        let me = self.me();
        let circle = self.circle.clone();
        let tx = self.store.begin()?;
        // Echoes of our own envelopes: acknowledged. One that differs from the outbox
        // (or is missing from it) carries changes this copy may lack: apply them —
        // unless it is the family's (the plan takes those only when presented).
        let mut own_changes = Vec::new();
        for echo in &page.echoes {
            let for_circle = matches!(
                envelope::read_sealed_for(&echo.bytes),
                Ok(SealedFor::Circle)
            );
            if for_circle && tx.own_hash(&circle, &me, echo.device_seq)? != Some(echo.hash) {
                if let Ok(opened) =
                    envelope::open(&echo.bytes, self.trust.state(), self.trust.keys())
                {
                    own_changes.extend(opened.into_changes());
                }
            }
            tx.record_own_echo(&circle, &me, echo, self.now)?;
        }
        for r in &page.received {
            tx.set_device_head(&circle, &r.author, r.device_seq, &r.hash)?;
        }
        let outcome = crate::device::receive::apply_envelopes(
            &tx,
            self.identity,
            &self.trust,
            page.received,
            own_changes,
            self.now,
        )?;
        self.report.applied_changes += outcome.applied_changes;
        self.report.rejected += outcome.rejected.len();
        // Read after applying, which may have moved what is sealed (a presentation).
        let mut record = tx
            .sync_record(&circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        record.pull_cursor = page.cursor;
        record.closes_at = page.closes_at;
        tx.put_sync_record(&record)?;
        tx.commit()
    }
    /// Appends the removal of `member` (after a full sync, so the cutoffs are right).
    pub(super) async fn remove(&mut self, member: &MemberId) -> Result<()> {
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
pub(super) fn synced_record(store: &Store, circle: &CircleId) -> Result<SyncRecord> {
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
}

fn bad_answer(what: &str) -> Error {
    Error::Trust(TrustError::Relay {
        status: 200,
        code: "bad_response".into(),
        message: format!("the relay's answer lacks {what}"),
    })
}

/// Runs `request` again (freshly signed) after transient failures, with backoff.
pub(super) async fn with_retry<T, F, Fut>(mut request: F) -> Result<T>
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
                match recovery(&e, attempt, rand::random()) {
                    Recovery::Retry(wait) => tokio::time::sleep(wait).await,
                    _ => return Err(e),
                }
            }
        }
    }
}

/// What a failed request of a sync means (the engine's [`engine::recovery`]; an
/// error that is not the relay's or the network's is reported, not retried).
fn recovery(error: &Error, attempt: u32, jitter: f64) -> Recovery {
    error.as_trust().map_or(Recovery::Fail, |e| {
        engine::recovery(e, attempt, &Backoff::SYNC, jitter)
    })
}

/// Records the relay's acknowledgement of a pushed `batch` (over HTTP or on the live
/// socket): one cursor per envelope, committed in one transaction, or nothing.
fn record_acks(
    store: &mut Store,
    circle: &CircleId,
    me: &DeviceId,
    batch: &[OwnEnvelope],
    cursors: &[u64],
) -> Result<()> {
    if cursors.len() != batch.len() {
        return Err(bad_answer("one cursor per pushed envelope"));
    }
    let tx = store.begin()?;
    for (envelope, cursor) in batch.iter().zip(cursors) {
        tx.mark_acked(circle, me, envelope.device_seq, Some(*cursor))?;
    }
    tx.commit()
}
