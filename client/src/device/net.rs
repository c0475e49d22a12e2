//! The device façade's networked half: join, sync, member removal and live watching,
//! one module per responsibility:
//!
//! - `session`: one sync of one circle, the IO driver around [`crate::sync::engine`]
//!   (`docs/sync.md` has the algorithm);
//! - `join` and `link`: entering a circle by an invite or a device link;
//! - `watch`: the live connection;
//! - `push` and `recovery`: Web Push wake-ups, recovery codes.
//!
//! Every request goes through the device's [`RelayAccess`], whose transport is the
//! seam tests replace with the relay's own router in-process.

use kring_plan::Error as PlanError;
use kring_trust::Error as TrustError;
use std::sync::Arc;

use serde::Serialize;

use super::Device;
use crate::error::{Error, Result};
use crate::sync::http::{Clock, RelayAccess};
use crate::sync::transport::Transport;
use kring_plan::plan::{CircleId, MemberId};
use kring_trust::membership::Capability;
use kring_trust::time::Timestamp;

mod join;
mod link;
mod push;
mod recovery;
mod session;
mod watch;
pub use link::{DeviceInfo, LinkPreview};
pub use recovery::Recovered;
use session::{sync_circle, synced_record, with_retry, Session};
pub use watch::WatchEvent;

/// The runtime and the relay access behind the blocking network methods.
pub(super) struct Net {
    runtime: tokio::runtime::Runtime,
    access: RelayAccess,
}

impl Net {
    pub(super) fn new() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            runtime,
            access: RelayAccess::new()?,
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
    /// The join started from the relay's snapshot, covering up to this cursor.
    pub started_from_snapshot: Option<u64>,
    /// Snapshots that failed a check and were ignored.
    pub snapshots_refused: usize,
    /// This device uploaded a snapshot covering up to this cursor.
    pub snapshot_made: Option<u64>,
    /// What this sync changed about this person's own places: a claim that lost the
    /// last place to an earlier one ("… jij staat op de wachtlijst"), or a waiting
    /// claim that now has one (see [`kring_plan::news::where_you_stand`]).
    pub standing: Vec<kring_plan::news::Notification>,
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

impl Device {
    /// Replaces the clock used to sign requests (tests move it; the default is the
    /// system clock).
    pub fn set_clock(&mut self, clock: Clock) {
        self.net.access.clock = clock;
    }

    /// Replaces how requests reach relays (the default is HTTP over rustls). Tests
    /// run the relay's router in-process behind it; an app could carry requests over
    /// its platform's HTTP stack.
    pub fn set_transport(&mut self, transport: Arc<dyn Transport>) {
        self.net.access.transport = transport;
    }

    /// When this device starts from and makes snapshots (docs/sync.md, "Snapshots");
    /// the default suits every app, tests and benchmarks change it.
    pub fn set_snapshot_policy(&mut self, policy: crate::snapshot::SnapshotPolicy) {
        self.net.access.snapshots = policy;
    }

    /// The relay of a circle that syncs: [`Error::LocalOnly`] for a circle without
    /// sync state (from a file), [`Error::NoRelay`] for one that has none.
    fn relay_url(&self, circle: &CircleId) -> Result<String> {
        self.store
            .sync_record(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?
            .relay_url
            .ok_or_else(|| Error::NoRelay(circle.to_string()))
    }

    /// Syncs one circle with its relay: membership log, push, pull. See
    /// `docs/sync.md`. On `Err` everything already done stays done and the outbox
    /// keeps what was not acknowledged; the error is also kept for [`Device::status`].
    ///
    /// A sync that learns the circle was closed on the relay turns it into a
    /// read-only archive ([`Error::CircleClosed`](kring_trust::Error::CircleClosed) is returned once; later writes get
    /// [`Error::Archived`]). A sync that learns this device was removed erases the
    /// ([`Device::departures`]), and returns [`Error::Removed`](kring_trust::Error::Removed).
    pub fn sync(&mut self, circle: &CircleId, now: Timestamp) -> Result<SyncReport> {
        // Where the plan stood, to tell its person what the sync changed about them
        // (none before a join completes).
        let before = self.view(circle).ok();
        let Device {
            store,
            identity,
            net,
            cache,
            ..
        } = self;
        let result = net
            .runtime
            .block_on(sync_circle(store, identity, &net.access, circle, now));
        if result.is_err() {
            cache.remove(circle);
        }
        let mut report = result?;
        // Telling is a courtesy on top of a sync that stands: a view that cannot be
        // read now (the circle just ended here) tells nothing rather than fail it.
        if let (Some(before), true) = (before, report.applied_changes > 0) {
            if let Ok(after) = self.view(circle) {
                let viewer = self.viewer(circle, &after)?;
                report.standing = kring_plan::news::where_you_stand(&before, &after, &viewer);
            }
        }
        Ok(report)
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
            let relay = self.net.access.client(url)?;
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
                let mut session = Session::open(store, identity, &net.access, circle, now)?;
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
        self.append_after_sync(
            circle,
            now,
            "change of role",
            |state, identity, _, last_seqs, now| {
                state.set_capability(identity, member, capability, last_seqs, now)
            },
        )
    }

    /// Syncs, then appends the entry `build` makes from the log as it then is
    /// ([`Session::append_entry`], which rebuilds it if another entry came first).
    pub(super) fn append_after_sync(
        &mut self,
        circle: &CircleId,
        now: Timestamp,
        what: &'static str,
        build: impl Fn(
            &kring_trust::membership::MembershipState,
            &kring_trust::identity::DeviceIdentity,
            &kring_trust::keyring::Keyring,
            &kring_trust::membership::build::LastSeqs,
            Timestamp,
        ) -> kring_trust::Result<kring_trust::membership::SignedEntry>,
    ) -> Result<()> {
        let Device {
            store,
            identity,
            net,
            ..
        } = self;
        net.runtime.block_on(async {
            let mut session = Session::open(store, identity, &net.access, circle, now)?;
            session.run().await?;
            session.append_entry(what, build).await?;
            // What the entry changes for the plan (a presentation) comes in with the
            // next page, even an empty one.
            session.pull().await
        })
    }
}

/// A change to family time, appended to the membership log (`docs/threat-model.md`,
/// "Family time"): who may make it is the membership validator's to say (the owner
/// or an admin), the relay and every device run the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FamilyTimeChange {
    /// Opens family time with a family key for everyone not marked professional.
    Open,
    Close,
    /// A fresh family key for the family as it is now (after a mark, a leave, a join).
    RotateKey,
    /// The main person presents what the family wrote: family time closes and the
    /// whole circle reads it from then on, as part of the plan.
    Present,
    /// Marks a member as professional in the log (or clears it): no family key for
    /// them from the next one on.
    Mark {
        member: MemberId,
        professional: bool,
    },
}

impl Device {
    /// Appends `change` to the circle's membership log (online: syncs first).
    pub fn change_family_time(
        &mut self,
        circle: &CircleId,
        change: FamilyTimeChange,
        now: Timestamp,
    ) -> Result<()> {
        if change == FamilyTimeChange::Present {
            self.require_written(circle)?;
        }
        self.append_after_sync(
            circle,
            now,
            "family time",
            |state, identity, keys, _, now| match &change {
                FamilyTimeChange::Open => state.open_family_time(identity, now),
                FamilyTimeChange::Present => state.present_family_time(identity, keys, now),
                FamilyTimeChange::Close => state.close_family_time(identity, now),
                FamilyTimeChange::RotateKey => state.rotate_family_key(identity, now),
                FamilyTimeChange::Mark {
                    member,
                    professional,
                } => state.mark_professional(identity, member, *professional, now),
            },
        )
    }
}
