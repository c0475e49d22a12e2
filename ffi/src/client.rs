//! [`KringClient`]: one device — its data directory, its identity (kept in the app's
//! [`SecretStore`]), its circles, joining circles, syncing them and live mode.
//!
//! Everything is `kring_client::device::Device`; this file adds the wall clock, the
//! threads the device's blocking calls need, and observer notification.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use kring_client::device::{Device, WatchEvent, IDENTITY_SECRET};
use kring_client::store::StoredCircle;
use kring_plan::followup::CoordinatorOverview;
use kring_plan::plan::{CircleId, Language, MemberId, Relation};
use kring_trust::Timestamp;

use crate::circle::{CircleHandle, Observers};
use crate::devices::SyncObserver;
use crate::error::{KringError, Result};
use crate::lock;
use crate::types::{ChangeOrigin, CircleSync, Joined, SyncReport};
use kring_plan::news::Notification;
use kring_plan::reminders::Reminder;

/// Where the app keeps the device's secrets: Android Keystore-backed storage, the
/// iOS Keychain. Implemented in Kotlin/Swift and handed to [`KringClient::open`].
///
/// Names are short ASCII identifiers chosen by Kring; values are opaque bytes.
/// Implementations must
/// - make `put` atomic (after a crash a name holds the old or the new value);
/// - keep secrets on this device only (iOS: a `...ThisDeviceOnly` accessibility, no
///   iCloud Keychain sync): two devices sharing a device secret would write changes
///   under one identity, which the plan document cannot tell apart;
/// - treat `delete` of a missing name as success.
///
/// Throwing any exception fails the Kring call with `KringException.SecretStore`,
/// carrying the exception's message.
#[uniffi::export(with_foreign)]
pub trait SecretStore: Send + Sync {
    /// The secret stored under `name`, or `null`/`nil` if there is none.
    fn get(&self, name: String) -> Result<Option<Vec<u8>>>;
    fn put(&self, name: String, value: Vec<u8>) -> Result<()>;
    fn delete(&self, name: String) -> Result<()>;
}

/// Secret name of the device's identity: its ed25519 signing key and X25519 key, in
/// core's `DeviceIdentity` format. The automerge actor id is derived from it.
pub const DEVICE_SECRET: &str = IDENTITY_SECRET;

/// A device's Kring: open once per data directory and process, share everywhere.
///
/// Local calls block on local storage (SQLite, fsync): call them off the UI thread
/// (Kotlin: `Dispatchers.IO`; Swift: a background task). Calls that talk to the relay
/// are `suspend`/`async`.
#[derive(uniffi::Object)]
pub struct KringClient {
    pub(crate) shared: Arc<Shared>,
}

/// What a client and its circle handles share.
pub(crate) struct Shared {
    data_dir: PathBuf,
    secrets: Arc<dyn SecretStore>,
    device_id: String,
    /// The device for everything local: reads, plan changes, invites, status.
    local: Mutex<Device>,
    /// A second `Device` on the same data directory for the calls that talk to the
    /// relay (sync, join, removal), opened on first use. Those can take seconds (or
    /// the retries of an unreachable relay), and a person claiming a task offline must
    /// not wait for them. Two connections on one store are safe: every write is an
    /// IMMEDIATE transaction (docs/sync.md), as with `kring watch` beside `kring`.
    net: Mutex<Option<Device>>,
    /// What [`KringClient::set_language`] chose, for the network device opened later.
    reading_in: Mutex<Option<Language>>,
    pub(crate) registry: Arc<Registry>,
    watchers: Mutex<Vec<Watcher>>,
}

/// The circle handles that are open, so each circle has one handle (and one set of
/// observers) however often it is opened.
///
/// The live-mode threads hold this, not [`Shared`]: they only ever reach the
/// observers, so they never own (or drop, inside their runtime) a device.
#[derive(Default)]
pub(crate) struct Registry {
    open: Mutex<HashMap<CircleId, OpenCircle>>,
    /// Sync state observers (see `devices::SyncObserver`), with ids.
    pub(crate) sync: Mutex<Vec<(u64, Arc<dyn SyncObserver>)>>,
    pub(crate) next_sync: std::sync::atomic::AtomicU64,
}

/// An open circle: its handle, and its observers (what sync and live mode reach).
type OpenCircle = (Weak<CircleHandle>, Weak<Observers>);

impl Registry {
    /// Tells the observers of `circle`, if it has an open handle. The registry's lock
    /// is released first, so observers may open circles.
    pub(crate) fn notify(&self, circle: &CircleId, origin: ChangeOrigin) {
        let observers = match self.open.lock() {
            Ok(open) => open.get(circle).and_then(|(_, o)| o.upgrade()),
            Err(_) => return,
        };
        if let Some(observers) = observers {
            observers.notify(circle, origin);
        }
    }
}

/// One live-mode thread: `Device::watch` on the circles of one relay.
struct Watcher {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Shared {
    /// Opens another `Device` on this client's data directory and identity.
    fn open_device(&self) -> Result<Device> {
        let mut device = open_device(&self.data_dir, &self.secrets)?;
        device.read_in(*lock(&self.reading_in)?);
        Ok(device)
    }

    /// Runs a local device call.
    pub(crate) fn local<T>(
        &self,
        call: impl FnOnce(&mut Device) -> kring_client::Result<T>,
    ) -> Result<T> {
        Ok(call(&mut *lock(&self.local)?)?)
    }

    /// Runs a blocking network call on the network device (one at a time).
    pub(crate) fn net<T>(
        &self,
        call: impl FnOnce(&mut Device) -> kring_client::Result<T>,
    ) -> Result<T> {
        let mut net = lock(&self.net)?;
        let device = match &mut *net {
            Some(device) => device,
            None => net.insert(self.open_device()?),
        };
        Ok(call(device)?)
    }

    /// Tells the circle's observers about a sync that brought other devices' changes.
    pub(crate) fn synced(&self, circle: &CircleId, report: &kring_client::device::SyncReport) {
        if report.applied_changes > 0 || report.joined {
            self.registry.notify(circle, ChangeOrigin::Remote);
        }
    }

    fn stop_watching(&self) -> Result<()> {
        for watcher in lock(&self.watchers)?.drain(..) {
            watcher.stop.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Live mode ends with the client (the threads hold no reference to it).
        if let Ok(watchers) = self.watchers.get_mut() {
            for watcher in watchers.drain(..) {
                watcher.stop.store(true, Ordering::Relaxed);
            }
        }
    }
}

fn open_device(data_dir: &Path, secrets: &Arc<dyn SecretStore>) -> Result<Device> {
    Ok(Device::open(data_dir, Box::new(Bridge(secrets.clone())))?)
}

/// Runs blocking work (the device's relay calls run a runtime of their own and must
/// not run on an async executor's thread) on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| KringError::Internal {
            reason: format!("a background call failed: {e}"),
        })?
}

impl std::fmt::Debug for KringClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KringClient")
            .field("device_id", &self.shared.device_id)
            .finish_non_exhaustive()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl KringClient {
    /// Opens (creating if needed) the data directory `data_dir` and the device's
    /// identity in `secret_store`.
    ///
    /// The secret store is the source of truth for who this device is: a first open
    /// stores the identity there, later opens read it back. A data directory belongs
    /// to one identity (its outbox and circles are signed by it): opening it with a
    /// secret store that holds another identity fails with
    /// `KringException.SecretStore`.
    #[uniffi::constructor]
    pub fn open(data_dir: String, secret_store: Arc<dyn SecretStore>) -> Result<Arc<Self>> {
        if data_dir.trim().is_empty() {
            return Err(KringError::InvalidInput {
                reason: "data directory must not be empty".into(),
            });
        }
        let data_dir = PathBuf::from(data_dir);
        let device = open_device(&data_dir, &secret_store)?;
        Ok(Arc::new(KringClient {
            shared: Arc::new(Shared {
                device_id: device.id().to_string(),
                data_dir,
                secrets: secret_store,
                local: Mutex::new(device),
                net: Mutex::new(None),
                reading_in: Mutex::new(None),
                registry: Arc::default(),
                watchers: Mutex::new(Vec::new()),
            }),
        }))
    }

    /// This device's id: its ed25519 verifying key (64 hex characters), which is also
    /// the automerge actor id of every change it makes.
    pub fn device_id(&self) -> String {
        self.shared.device_id.clone()
    }

    /// The circles whose plan is on this device, oldest first.
    pub fn circles(&self) -> Result<Vec<StoredCircle>> {
        self.shared.local(|d| d.circles())
    }

    /// Circles this device joined whose plan has not arrived yet; `sync_all` fetches
    /// them (then they are in [`KringClient::circles`]).
    pub fn pending_joins(&self) -> Result<Vec<CircleId>> {
        self.shared.local(|d| d.pending_joins())
    }

    /// Circles this device erased on its own because it learned it was removed from
    /// them (at a sync): tell the person once ("you were removed from a circle; what
    /// this device had of it was erased"). Only the ids are kept, nothing the circle
    /// wrote; `forget_erased` drops a note.
    pub fn erased_circles(&self) -> Result<Vec<CircleId>> {
        Ok(self
            .shared
            .local(|d| d.departures())?
            .into_iter()
            .map(|d| d.circle)
            .collect())
    }

    /// Drops the note of an erased circle (see [`KringClient::erased_circles`]).
    pub fn forget_erased(&self, circle_id: CircleId) -> Result<()> {
        self.shared.local(|d| d.delete_local(&circle_id))
    }

    /// The coordinator's overview now: every circle on this device, most urgent
    /// first, and one queue of all their signals. Each circle is seen as this
    /// device's member of it (core decides what that member may see).
    pub fn coordinator_overview(&self) -> Result<CoordinatorOverview> {
        self.shared.local(|d| d.followup(Timestamp::now()))
    }

    /// Founds a circle with this device's user as its main person. Works offline.
    /// With `relay_url` the circle syncs there; the first `sync()` registers it (however
    /// much later). Without, it is on this device only until `CircleHandle.setRelay`.
    #[uniffi::method(default(relay_url = None))]
    pub fn create_circle(
        &self,
        name: String,
        language: Language,
        main_person_name: String,
        relay_url: Option<String>,
    ) -> Result<Arc<CircleHandle>> {
        let id = self.shared.local(|d| {
            d.create_circle(
                &name,
                language,
                &main_person_name,
                relay_url.as_deref(),
                Timestamp::now(),
            )
        })?;
        self.open_circle(id)
    }

    /// A handle on a circle of this device. Opening the same circle twice returns the
    /// same handle while it is alive. A joined circle whose plan has not arrived yet
    /// fails with `KringException.PlanNotAvailable` (sync, then open it again).
    pub fn open_circle(&self, circle_id: CircleId) -> Result<Arc<CircleHandle>> {
        let mut open = lock(&self.shared.registry.open)?;
        if let Some(handle) = open.get(&circle_id).and_then(|(h, _)| h.upgrade()) {
            return Ok(handle);
        }
        let me = self.shared.local(|d| match d.me(&circle_id) {
            Err(kring_client::Error::UnknownCircle(_))
                if d.pending_joins()?.contains(&circle_id) =>
            {
                Err(kring_client::Error::PlanNotAvailable(circle_id.to_string()))
            }
            other => other,
        })?;
        let observers = Arc::new(Observers::default());
        let handle = Arc::new(CircleHandle::new(
            circle_id.clone(),
            me,
            self.shared.clone(),
            observers.clone(),
        ));
        open.insert(
            circle_id,
            (Arc::downgrade(&handle), Arc::downgrade(&observers)),
        );
        Ok(handle)
    }

    /// Adds a circle from an exported document (offline exchange: a file, a QR code),
    /// acting as the existing member `as_member`. Such a circle has no membership log
    /// here and does not sync (`KringException.LocalOnly`); its changes travel as
    /// exports and `merge`.
    pub fn import_circle(
        &self,
        document: Vec<u8>,
        as_member: MemberId,
    ) -> Result<Arc<CircleHandle>> {
        let id = self.shared.local(|d| {
            let plan = kring_plan::plan::CirclePlan::load(&document, d.actor())?;
            if plan.view().member(&as_member).is_none() {
                return Err(kring_trust::Error::UnknownMember(as_member.clone()).into());
            }
            d.import_circle(&document, &as_member, Timestamp::now())
        })?;
        self.open_circle(id)
    }

    /// Joins the circle of an invite link (`kring://invite/…`, from
    /// `CircleHandle.invite`) as `my_name`. Needs the relay. Once it returns the join
    /// stands; if the plan could not be fetched yet (`plan_arrived` false: the inviter
    /// has not synced, or the relay went away halfway), `sync_all` fetches it later.
    pub async fn join(&self, link: String, my_name: String, relation: Relation) -> Result<Joined> {
        let shared = self.shared.clone();
        blocking(move || {
            let circle = shared.net(|d| d.join(&link, &my_name, relation, Timestamp::now()))?;
            let plan_arrived = !shared.local(|d| d.pending_joins())?.contains(&circle);
            Ok(Joined {
                circle_id: circle,
                plan_arrived,
            })
        })
        .await
    }

    /// Syncs every circle that has a relay (joins waiting for their plan included),
    /// one after the other; one circle failing does not stop the others. Observers of
    /// open circles hear `REMOTE` when other devices' changes arrived.
    pub async fn sync_all(&self) -> Result<Vec<CircleSync>> {
        let shared = self.shared.clone();
        blocking(move || {
            let results = shared.net(|d| d.sync_all(Timestamp::now()))?;
            Ok(results
                .into_iter()
                .map(|(circle, result)| match result {
                    Ok(report) => {
                        shared.synced(&circle, &report);
                        let report = SyncReport::from(report);
                        shared.registry.sync_outcome(&circle, Ok(&report));
                        CircleSync {
                            circle_id: circle,
                            report: Some(report),
                            error: None,
                        }
                    }
                    Err(e) => {
                        let e = KringError::from(e);
                        shared.registry.sync_outcome(&circle, Err(&e));
                        CircleSync {
                            circle_id: circle,
                            report: None,
                            error: Some(e.to_string()),
                        }
                    }
                })
                .collect())
        })
        .await
    }

    /// Writes reminders, news and where-you-stand messages in `language` from now on,
    /// in every circle (`null`: each circle's own language): the app's language
    /// setting. Not stored; call it each time the client is made.
    pub fn set_language(&self, language: Option<Language>) -> Result<()> {
        *lock(&self.shared.reading_in)? = language;
        self.shared.local(|d| {
            d.read_in(language);
            Ok(())
        })?;
        if let Some(net) = lock(&self.shared.net)?.as_mut() {
            net.read_in(language);
        }
        Ok(())
    }

    /// Every reminder of every circle on this device for the next `days` days (7 by
    /// default), sorted by time: what an app schedules as local notifications.
    #[uniffi::method(default(days = 7))]
    pub fn reminders(&self, days: u32) -> Result<Vec<Reminder>> {
        self.shared
            .local(|d| d.reminders(None, Timestamp::now(), days))
    }

    /// A push arrived: `payload` is its decrypted content (the Web Push library or
    /// UnifiedPush connector decrypts it; it holds only a circle id and a cursor).
    /// Syncs that circle and returns the notifications to show, written on this
    /// device. A payload that is not a Kring wake-up is `KringException.InvalidInput`;
    /// an unreachable relay `KringException.Network` (nothing is lost: sync later).
    pub async fn on_push(&self, payload: Vec<u8>) -> Result<Vec<Notification>> {
        let shared = self.shared.clone();
        blocking(move || {
            let wakened = shared.net(|d| d.on_push(&payload, Timestamp::now()))?;
            shared.synced(&wakened.circle, &wakened.report);
            let report = SyncReport::from(wakened.report);
            shared.registry.sync_outcome(&wakened.circle, Ok(&report));
            Ok(wakened.news)
        })
        .await
    }

    /// Live mode: keeps every circle that has a relay in sync until
    /// [`KringClient::stop_watching`] — a catch-up sync, then the relay's live
    /// connection; other devices' changes arrive within moments (observers hear
    /// `REMOTE`) and this device's changes are sent within a second. Runs on
    /// background threads (one per relay), reconnecting with backoff while offline.
    /// Calling it again restarts it (say, after joining or creating a circle).
    /// Returns how many circles are watched. Foreground only: on Android tie it to
    /// the app's visible lifecycle (or a foreground service), on iOS stop it when the
    /// app goes to the background.
    pub fn start_watching(&self) -> Result<u32> {
        self.shared.stop_watching()?;
        let mut by_relay: BTreeMap<String, Vec<CircleId>> = BTreeMap::new();
        for record in self.shared.local(|d| d.store().sync_records())? {
            if let (Some(url), false) = (record.relay_url, record.removed) {
                by_relay.entry(url).or_default().push(record.circle);
            }
        }
        let mut watchers = Vec::new();
        let mut watched = 0;
        for circles in by_relay.into_values() {
            // Its own device: `watch` holds it for as long as it runs.
            let mut device = self.shared.open_device()?;
            let stop = Arc::new(AtomicBool::new(false));
            let registry = self.shared.registry.clone();
            watched += circles.len();
            let flag = stop.clone();
            let watched_here = circles.clone();
            let thread = std::thread::Builder::new()
                .name("kring-watch".into())
                .spawn(move || {
                    let mut on_event = |event: WatchEvent| {
                        registry.watch_event(&watched_here, &event);
                        if let WatchEvent::Synced { circle, report } = event {
                            if report.applied_changes > 0 || report.joined {
                                registry.notify(&circle, ChangeOrigin::Remote);
                            }
                        }
                    };
                    // Ends when stopped, or when none of its circles can be watched
                    // any more (all removed): nothing to report to anyone then.
                    let _ = device.watch(&circles, &flag, &mut on_event);
                })
                .map_err(|e| KringError::Internal {
                    reason: format!("cannot start live mode: {e}"),
                })?;
            watchers.push(Watcher { stop, thread });
        }
        lock(&self.shared.watchers)?.extend(watchers);
        Ok(u32::try_from(watched).unwrap_or(u32::MAX))
    }

    /// Ends live mode. Returns at once; the background threads finish within about a
    /// second (or when a sync in progress ends).
    pub fn stop_watching(&self) -> Result<()> {
        self.shared.stop_watching()
    }

    /// Whether live mode is running.
    pub fn is_watching(&self) -> Result<bool> {
        Ok(lock(&self.shared.watchers)?
            .iter()
            .any(|w| !w.thread.is_finished()))
    }
}

/// Core's view of the app's [`SecretStore`]: whatever the app's store throws becomes
/// core's `SecretStore` error (and so `KringException.SecretStore`).
struct Bridge(Arc<dyn SecretStore>);

impl kring_client::secrets::SecretStore for Bridge {
    fn get(&self, name: &str) -> kring_client::Result<Option<Vec<u8>>> {
        self.0.get(name.to_owned()).map_err(foreign)
    }

    fn put(&self, name: &str, value: &[u8]) -> kring_client::Result<()> {
        self.0.put(name.to_owned(), value.to_vec()).map_err(foreign)
    }

    fn delete(&self, name: &str) -> kring_client::Result<()> {
        self.0.delete(name.to_owned()).map_err(foreign)
    }
}

fn foreign(e: KringError) -> kring_client::Error {
    kring_client::Error::SecretStore(e.to_string())
}
