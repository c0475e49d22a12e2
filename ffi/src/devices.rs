//! Links and devices: a link's preview before it is used, a person's other devices
//! (`deviceLink` on a device already in the circle, `addDevice` on the new one,
//! `devices`, `removeDevice`), and live sync state for screens ([`SyncObserver`]).
//!
//! As everywhere in this crate, every rule is core's (`Device::preview_link`,
//! `device_link`, `add_device`, `remove_device`; the validator decides who may add
//! or remove which device); this file adds the wall clock, threads and
//! notification.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use kring_client::device::{
    DeviceInfo, InviteInfo, InviteState, LinkPreview, Person, Recovered, WatchEvent,
};
use kring_plan::plan::{CircleId, Language};
use kring_trust::identity::DeviceId;
use kring_trust::invite::{InviteId, InviteKind, DEFAULT_DEVICE_LINK_MILLIS};
use kring_trust::membership::Capability;
use kring_trust::recovery::RecoveryCode;
use kring_trust::Timestamp;

use crate::circle::CircleHandle;
use crate::client::{blocking, KringClient, Registry};
use crate::error::{KringError, Result};
use crate::lock;
use crate::types::{Joined, SyncReport};

uniffi::custom_type!(DeviceId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| DeviceId::parse(&s)
        .map_err(|e| uniffi::deps::anyhow::Error::new(KringError::from(e))),
});

uniffi::custom_type!(InviteId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| InviteId::parse(&s)
        .map_err(|e| uniffi::deps::anyhow::Error::new(KringError::from(e))),
});

/// Where an invite stands (core's `InviteState`).
#[uniffi::remote(Enum)]
pub enum InviteState {
    Open,
    Used,
    Expired,
    Revoked,
}

/// One of the circle's invites (core's `InviteInfo`): `invites()` lists them,
/// `revokeInvite(id)` takes an open one back.
#[uniffi::remote(Record)]
pub struct InviteInfo {
    pub id: InviteId,
    pub capability: Capability,
    pub for_member: Option<kring_plan::plan::MemberId>,
    pub made_by: Option<kring_plan::plan::MemberId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub state: InviteState,
}

/// One person in the circle (core's `Person`): the plan's record where there is one,
/// the membership log's standing, and for a reader the name they introduced
/// themselves with (sealed in the log).
#[uniffi::remote(Record)]
pub struct Person {
    pub id: kring_plan::plan::MemberId,
    pub name: Option<String>,
    pub relation: Option<kring_plan::plan::Relation>,
    pub role_label: String,
    pub designation: Option<kring_plan::plan::Designation>,
    pub capability: Option<kring_trust::membership::Capability>,
    pub devices: Vec<DeviceId>,
    pub joined_at: Option<kring_trust::Timestamp>,
    pub removed: bool,
}

/// What a link admits.
#[uniffi::remote(Enum)]
pub enum InviteKind {
    /// A new person (`kring://invite/…`).
    Person,
    /// Another device of the member who made it (`kring://device/…`).
    Device,
}

/// What a link says, read from the link alone (no network), before it is used.
#[uniffi::remote(Record)]
pub struct LinkPreview {
    pub kind: InviteKind,
    pub circle: CircleId,
    /// The circle's name as the sender's device put it in the link (encrypted in
    /// it); `null`/`nil` for links without names.
    pub circle_name: Option<String>,
    /// Who sent it (for a device link: whose device it adds).
    pub inviter_name: Option<String>,
    pub capability: Capability,
    pub relay_url: String,
    pub expires_at: Timestamp,
    /// Expired by this device's clock.
    pub expired: bool,
    /// This device is in that circle already.
    pub already_here: bool,
}

/// One device of this device's member in a circle.
#[uniffi::remote(Record)]
pub struct DeviceInfo {
    pub id: DeviceId,
    pub this_device: bool,
    /// The recovery code this device made (as far as this device knows).
    pub recovery_code: bool,
    pub added_at: Timestamp,
}

/// What `KringClient.recover` did.
#[uniffi::remote(Record)]
pub struct Recovered {
    pub circle: CircleId,
    /// The old devices removed, the used recovery code's device last.
    pub removed_devices: Vec<DeviceId>,
}

/// A circle just founded, and its main person's recovery code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CreatedCircle {
    pub circle_id: CircleId,
    /// Twelve words, one line: show once, for the person to write down. Never store
    /// or send it: whoever has it can take the main person's place.
    pub recovery_code: String,
}

/// What live sync is doing for one circle, for a "live" / "offline" badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LiveState {
    /// The live connection to the circle's relay is up.
    Connected,
    /// The live connection failed or closed; live mode retries (`retry_in_millis`).
    Disconnected,
    /// A sync of the circle started.
    Syncing,
    /// A sync of the circle finished (`report`).
    Synced,
    /// A sync of the circle failed (`error`; `CircleHandle.status()` says more).
    Error,
}

/// One change of a circle's live sync state.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncEvent {
    pub circle_id: CircleId,
    pub state: LiveState,
    /// With `SYNCED`. `report.joined`: a pending join completed (the plan arrived;
    /// `openCircle` works now).
    pub report: Option<SyncReport>,
    /// With `DISCONNECTED` and `ERROR`.
    pub error: Option<String>,
    /// With `DISCONNECTED`: when live mode tries again.
    pub retry_in_millis: Option<u64>,
}

/// Told about sync state changes of every circle: from live mode (connected,
/// disconnected, syncing, synced, error; on the `kring-watch` thread) and from
/// `CircleHandle.sync` / `KringClient.syncAll` (on tokio's blocking pool). No lock of
/// Kring's is held; anything it throws is ignored. Keep it short.
#[uniffi::export(with_foreign)]
pub trait SyncObserver: Send + Sync {
    fn on_sync_event(&self, event: SyncEvent) -> Result<()>;
}

impl Registry {
    /// Tells every sync observer (none of Kring's locks held while they run).
    pub(crate) fn sync_event(&self, event: SyncEvent) {
        let observers: Vec<_> = match self.sync.lock() {
            Ok(list) => list.iter().map(|(_, o)| o.clone()).collect(),
            Err(_) => return,
        };
        for observer in observers {
            let _ = observer.on_sync_event(event.clone());
        }
    }

    /// Live mode's event for the circles of one relay, as per-circle events.
    pub(crate) fn watch_event(&self, circles: &[CircleId], event: &WatchEvent) {
        let one = |circle: &CircleId, state| SyncEvent {
            circle_id: circle.clone(),
            state,
            report: None,
            error: None,
            retry_in_millis: None,
        };
        let events: Vec<SyncEvent> = match event {
            WatchEvent::Connected { .. } => circles
                .iter()
                .map(|c| one(c, LiveState::Connected))
                .collect(),
            WatchEvent::Disconnected { error, retry_in } => circles
                .iter()
                .map(|c| SyncEvent {
                    error: Some(error.to_string()),
                    retry_in_millis: Some(u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX)),
                    ..one(c, LiveState::Disconnected)
                })
                .collect(),
            WatchEvent::Syncing { circle } => vec![one(circle, LiveState::Syncing)],
            WatchEvent::Synced { circle, report } => vec![SyncEvent {
                report: Some(SyncReport::from(report.clone())),
                ..one(circle, LiveState::Synced)
            }],
            WatchEvent::SyncFailed { circle, error } => vec![SyncEvent {
                error: Some(error.to_string()),
                ..one(circle, LiveState::Error)
            }],
        };
        for event in events {
            self.sync_event(event);
        }
    }

    /// The outcome of one sync call.
    pub(crate) fn sync_outcome(
        &self,
        circle: &CircleId,
        outcome: std::result::Result<&SyncReport, &KringError>,
    ) {
        let (state, report, error) = match outcome {
            Ok(report) => (LiveState::Synced, Some(report.clone()), None),
            Err(e) => (LiveState::Error, None, Some(e.to_string())),
        };
        self.sync_event(SyncEvent {
            circle_id: circle.clone(),
            state,
            report,
            error,
            retry_in_millis: None,
        });
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl KringClient {
    /// What `link` (an invite or a device link) says — circle, its name, who sent it,
    /// capability, expiry — from the link alone, before joining. Changes nothing;
    /// `KringException.InvalidInput` for a link that is not one.
    pub fn preview_link(&self, link: String) -> Result<LinkPreview> {
        self.shared
            .local(|d| d.preview_link(&link, Timestamp::now()))
    }

    /// On a new device: joins the circle of a device link (`kring://device/…`, from
    /// `CircleHandle.deviceLink` on another device of the same person) as that
    /// person, with their capability. Needs the relay. A used, expired or revoked
    /// link arrives as `InviteUsed` / `InviteExpired` / `InviteRevoked`, with nothing
    /// stored.
    pub async fn add_device(&self, link: String) -> Result<Joined> {
        let shared = self.shared.clone();
        blocking(move || {
            let circle = shared.net(|d| d.add_device(&link, Timestamp::now()))?;
            let plan_arrived = !shared.local(|d| d.pending_joins())?.contains(&circle);
            Ok(Joined {
                circle_id: circle,
                plan_arrived,
            })
        })
        .await
    }

    /// Founds a circle like `createCircle` and makes the main person's recovery code
    /// with it (works offline; the code's public half reaches the relay with the
    /// first sync). Open it with `openCircle(circleId)`.
    #[uniffi::method(default(relay_url = None))]
    pub fn create_circle_with_recovery(
        &self,
        name: String,
        language: Language,
        main_person_name: String,
        relay_url: Option<String>,
    ) -> Result<CreatedCircle> {
        let (circle_id, code) = self.shared.local(|d| {
            d.create_circle_with_recovery(
                &name,
                language,
                &main_person_name,
                relay_url.as_deref(),
                Timestamp::now(),
            )
        })?;
        Ok(CreatedCircle {
            circle_id,
            recovery_code: code.words().to_string(),
        })
    }

    /// On a new device, with the words of a recovery code: takes the place in
    /// `circle_id` (at `relay_url`) of the person the code belongs to. Their old
    /// devices and the code are removed and the key rotates; the others see a line
    /// in the plan's log. Make a new code afterwards (`CircleHandle.setupRecovery`).
    /// A wrong, spent or replaced code is `RecoveryRefused`, badly typed words
    /// `InvalidInput`; nothing is stored then.
    pub async fn recover(
        &self,
        circle_id: CircleId,
        relay_url: String,
        code: String,
    ) -> Result<Recovered> {
        let shared = self.shared.clone();
        blocking(move || {
            let code = RecoveryCode::parse(&code)?;
            shared.net(|d| d.recover(&circle_id, &relay_url, &code, Timestamp::now()))
        })
        .await
    }

    /// Registers `observer` for every circle's sync state; returns an id for
    /// [`KringClient::remove_sync_observer`].
    pub fn add_sync_observer(&self, observer: Arc<dyn SyncObserver>) -> Result<u64> {
        let registry = &self.shared.registry;
        let id = registry.next_sync.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&registry.sync)?.push((id, observer));
        Ok(id)
    }

    /// Returns whether an observer with this id was registered.
    pub fn remove_sync_observer(&self, observer_id: u64) -> Result<bool> {
        let mut observers = lock(&self.shared.registry.sync)?;
        let before = observers.len();
        observers.retain(|(id, _)| *id != observer_id);
        Ok(observers.len() != before)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl CircleHandle {
    /// A one-time link (`kring://device/…`, QR-sized) that admits one more device of
    /// mine to this circle, with my capability, until `expires_at` (`null`/`nil`: ten
    /// minutes; at most an hour). Made offline; `sync()` so the circle is on the relay
    /// before the other device uses it.
    #[uniffi::method(default(expires_at = None))]
    pub fn device_link(&self, expires_at: Option<Timestamp>) -> Result<String> {
        let now = Timestamp::now();
        let expires_at = expires_at.unwrap_or(now.plus_millis(DEFAULT_DEVICE_LINK_MILLIS));
        self.shared
            .local(|d| d.device_link(&self.id, expires_at, now))
    }

    /// A new recovery code for me in this circle (through the relay); the previous
    /// one made on this device stops working. Show the words once.
    pub async fn setup_recovery(&self) -> Result<String> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || {
            let code = shared.net(|d| d.setup_recovery(&id, Timestamp::now()))?;
            Ok(code.words().to_string())
        })
        .await
    }

    /// My devices in this circle, as the membership log here says (sync first for
    /// the latest), oldest first.
    pub fn devices(&self) -> Result<Vec<DeviceInfo>> {
        self.shared.local(|d| d.devices(&self.id))
    }

    /// Removes another device of mine (a lost phone) through the relay; the circle's
    /// key rotates, so it cannot read anything written afterwards. A device never
    /// removes itself, and my last device goes only with me (`NotAllowed`).
    pub async fn remove_device(&self, device_id: DeviceId) -> Result<()> {
        let (shared, id) = (self.shared.clone(), self.id.clone());
        blocking(move || shared.net(|d| d.remove_device(&id, &device_id, Timestamp::now()))).await
    }
}
