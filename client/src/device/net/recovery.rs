//! Recovery codes on a device (see [`kring_trust::recovery`]): made with a new circle or
//! later (`setup_recovery`), and used on a new device (`recover`) when every device
//! of the member is lost.

use kring_plan::Error as PlanError;
use kring_trust::Error as TrustError;
use serde::Serialize;

use super::join::PendingJoin;
use super::session::{with_retry, Session, MAX_REFRESHES};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::store::SyncRecord;
use crate::sync::engine::CircleTrust;
use crate::sync::http::Signer;
use kring_plan::plan::{CircleId, Language, LogKind, Relation};
use kring_trust::identity::DeviceId;
use kring_trust::recovery::RecoveryCode;
use kring_trust::time::Timestamp;

/// The setting under which a device remembers the paper device of a circle (only to
/// mark it in device lists and to replace it with a new code).
fn paper_setting(circle: &CircleId) -> String {
    format!("recovery_device:{circle}")
}

/// What [`Device::recover`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovered {
    pub circle: CircleId,
    /// The member's old devices that were removed (the recovery device included).
    pub removed_devices: Vec<DeviceId>,
}

impl Device {
    /// The paper device of `circle` this device made, if any.
    pub fn recovery_device(&self, circle: &CircleId) -> Result<Option<DeviceId>> {
        match self.store.setting(&paper_setting(circle))? {
            None => Ok(None),
            Some(bytes) => Ok(DeviceId::parse(&String::from_utf8_lossy(&bytes)).ok()),
        }
    }

    /// Founds a circle like [`Device::create_circle`] and makes its main person a
    /// recovery code at once: the paper device's `AddDevice` entry is stored after
    /// the genesis and goes to the relay with it at the first sync. Works offline.
    /// Print the words once; they are not stored.
    pub fn create_circle_with_recovery(
        &mut self,
        name: &str,
        language: Language,
        my_name: &str,
        relay_url: Option<&str>,
        now: Timestamp,
    ) -> Result<(CircleId, RecoveryCode)> {
        let circle = self.create_circle(name, language, my_name, relay_url, now)?;
        let trust = self
            .trust(&circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        let me = self.me(&circle)?;
        let code = RecoveryCode::generate();
        let paper = code.device();
        let entry =
            trust
                .state()
                .add_device(&self.identity, trust.keys(), &me, &paper.public(), now)?;
        let tx = self.store.begin()?;
        tx.append_membership(&circle, &[(entry.seq(), entry.as_bytes())])?;
        tx.commit()?;
        self.store
            .set_setting(&paper_setting(&circle), paper.id().to_string().as_bytes())?;
        Ok((circle, code))
    }

    /// A new recovery code for this device's member in `circle` (online): admits its
    /// paper device, then removes the one this device made before, if any (that code
    /// stops working). Print the words once; they are not stored.
    pub fn setup_recovery(&mut self, circle: &CircleId, now: Timestamp) -> Result<RecoveryCode> {
        let code = RecoveryCode::generate();
        let paper = code.device();
        let old = self.recovery_device(circle)?;
        let Device {
            store,
            identity,
            net,
            ..
        } = self;
        net.runtime.block_on(async {
            let mut session = Session::open(store, identity, &net.access, circle, now)?;
            session.run().await?;
            session.add_own_device(&paper).await?;
            if let Some(old) = old.filter(|old| session.trust.state().is_active(old)) {
                session.remove_device(&old).await?;
            }
            Ok::<_, Error>(())
        })?;
        self.store
            .set_setting(&paper_setting(circle), paper.id().to_string().as_bytes())?;
        Ok(code)
    }

    /// On a new device, with the words of a recovery code: takes over the place in
    /// `circle` of the member the code belongs to. The code's paper device admits this
    /// device for the member; this device then removes the member's other devices
    /// (the lost ones) and finally the paper device, each removal rotating the key, so
    /// the lost devices can read nothing written afterwards and the code is spent. It
    /// posts a line in the plan's log so the others see it happen.
    ///
    /// A code that is not a device of the circle, or was spent or replaced, is
    /// [`Error::RecoveryRefused`](kring_trust::Error::RecoveryRefused) with nothing stored. Make a new code afterwards
    /// ([`Device::setup_recovery`]).
    pub fn recover(
        &mut self,
        circle: &CircleId,
        relay_url: &str,
        code: &RecoveryCode,
        now: Timestamp,
    ) -> Result<Recovered> {
        if self.store.sync_record(circle)?.is_some() || self.store.circle(circle).is_ok() {
            return Err(
                TrustError::AlreadyExists(format!("circle {circle} on this device")).into(),
            );
        }
        let relay = self.net.access.client(relay_url)?;
        let paper = code.device();
        let Device {
            store,
            identity,
            net,
            ..
        } = &mut *self;
        let removed = net.runtime.block_on(async {
            // 1. The paper device admits this device for its member.
            let mut attempts = 0;
            let (entries, member) = loop {
                let log = with_retry(|| relay.membership(Signer::Device(&paper), circle, 0))
                    .await
                    .map_err(refused)?;
                let entries: Vec<Vec<u8>> = log.entries.into_iter().map(|e| e.0).collect();
                // Built with the paper device's keys: it holds the current key.
                let mut trust = CircleTrust::from_log(&paper, &entries)?;
                if trust.circle() != circle {
                    return Err(Error::Trust(TrustError::WrongCircle {
                        expected: circle.to_string(),
                        found: trust.circle().to_string(),
                    }));
                }
                let member = trust.state().member_of_device(&paper.id()).cloned().ok_or(
                    TrustError::RecoveryRefused(
                        "this recovery code does not belong to this circle",
                    ),
                )?;
                if !trust.state().is_active(&paper.id()) {
                    return Err(TrustError::RecoveryRefused(
                        "this recovery code was already used or replaced",
                    )
                    .into());
                }
                let entry = trust.state().add_device(
                    &paper,
                    trust.keys(),
                    &member,
                    &identity.public(),
                    now,
                )?;
                match with_retry(|| relay.append(&paper, circle, entry.as_bytes())).await {
                    Ok(_) => {
                        trust.push(&paper, entry)?;
                        let entries: Vec<(u64, Vec<u8>)> = trust
                            .entries()
                            .iter()
                            .map(|e| (e.seq(), e.as_bytes().to_vec()))
                            .collect();
                        break (entries, member);
                    }
                    Err(Error::Trust(TrustError::HeadMoved { .. })) if attempts < MAX_REFRESHES => {
                        attempts += 1
                    }
                    Err(e) => return Err(refused(e)),
                }
            };
            // 2. This device is in: stored like a linked device waiting for its plan.
            let tx = store.begin()?;
            let rows: Vec<(u64, &[u8])> = entries.iter().map(|(s, b)| (*s, b.as_slice())).collect();
            tx.append_membership(circle, &rows)?;
            let mut record = SyncRecord::new(circle.clone(), Some(relay.base_url().to_owned()));
            record.registered = true;
            record.pending_join = Some(
                serde_json::to_string(&PendingJoin {
                    member: member.clone(),
                    name: String::new(),
                    relation: Relation::Other,
                    linked: true,
                })
                .map_err(|e| PlanError::MalformedDocument(e.to_string()))?,
            );
            tx.put_sync_record(&record)?;
            tx.commit()?;
            // 3. The plan comes with a sync; then the lost devices go, the paper last.
            let mut session = Session::open(store, identity, &net.access, circle, now)?;
            session.run().await?;
            let mut removed: Vec<DeviceId> = session
                .trust
                .state()
                .member(&member)
                .map(|m| {
                    m.devices()
                        .copied()
                        .filter(|d| *d != identity.id() && *d != paper.id())
                        .collect()
                })
                .unwrap_or_default();
            for device in &removed {
                session.remove_device(device).await?;
            }
            session.remove_device(&paper.id()).await?;
            removed.push(paper.id());
            Ok::<_, Error>(removed)
        })?;
        // 4. The others see it happen, in the plan's own language.
        if self.store.circle(circle).is_ok() {
            let text = match self.view(circle)?.circle.language {
                Language::Nl => "Nieuw toestel: mijn oude toestel is uit de kring gehaald.",
                Language::En => "New device: my old device was removed from the circle.",
            };
            self.change(circle, now, |plan, me| -> Result<()> {
                plan.post(me, LogKind::Update, text, now)?;
                Ok(())
            })?;
            // Best effort: the line is in the outbox either way.
            let _ = self.sync(circle, now);
        }
        Ok(Recovered {
            circle: circle.clone(),
            removed_devices: removed,
        })
    }
}

impl Session<'_> {
    /// Appends an `AddDevice` for this device's own member (the paper device of a
    /// recovery code), rebuilt on the new head if another entry came first.
    async fn add_own_device(
        &mut self,
        device: &kring_trust::identity::DeviceIdentity,
    ) -> Result<()> {
        self.append_entry("recovery", |state, identity, keys, _, now| {
            let me = identity.id();
            let member = state
                .member_of_device(&me)
                .cloned()
                .ok_or(TrustError::DeviceNotMember(me))?;
            state.add_device(identity, keys, &member, &device.public(), now)
        })
        .await
    }

    /// Entries this device made offline after its genesis (a recovery code's paper
    /// device, made with the circle) go to the relay right after the genesis.
    pub(super) async fn push_offline_entries(&mut self) -> Result<()> {
        if self.trust.len() <= 1 {
            return Ok(());
        }
        let fetched = with_retry(|| {
            self.relay
                .membership(Signer::Device(self.identity), &self.circle, 0)
        })
        .await?;
        let on_relay = usize::try_from(fetched.head.len).unwrap_or(usize::MAX);
        let local: Vec<Vec<u8>> = self
            .trust
            .entries()
            .iter()
            .map(|e| e.as_bytes().to_vec())
            .collect();
        if fetched.entries.len() > local.len()
            || fetched
                .entries
                .iter()
                .zip(&local)
                .any(|(remote, mine)| &remote.0 != mine)
        {
            // Not what this device made: leave it to the ordinary checks.
            return Ok(());
        }
        for entry in local.iter().skip(on_relay) {
            with_retry(|| self.relay.append(self.identity, &self.circle, entry)).await?;
        }
        Ok(())
    }
}

/// The relay's answers to a paper device that is not (or no longer) in the circle.
fn refused(e: Error) -> Error {
    const NOT_OURS: &str = "this recovery code does not belong to this circle";
    const USED: &str = "this recovery code was already used or replaced";
    let reason = match &e {
        Error::Trust(TrustError::Relay { code, .. }) if code == "not_a_member" => NOT_OURS,
        Error::Trust(TrustError::Relay { code, .. }) if code == "removed" => USED,
        Error::Trust(
            TrustError::UnknownDevice(_)
            | TrustError::DeviceNotMember(_)
            | TrustError::UnknownCircle(_),
        )
        | Error::UnknownCircle(_) => NOT_OURS,
        Error::Trust(TrustError::Removed(_)) => USED,
        _ => return e,
    };
    TrustError::RecoveryRefused(reason).into()
}
