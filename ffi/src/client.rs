//! [`KringClient`]: one device's data directory, its circles, and the platform key
//! store ([`SecretStore`]) that holds the device's identity.

use automerge::ActorId;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use kring_core::identity::{self, DeviceIdentity};
use kring_core::plan::{CircleId, CirclePlan, Language, MemberId, NewCircle};
use kring_core::store::{Store, StoredCircle};
use kring_core::Timestamp;

use crate::circle::CircleHandle;
use crate::error::{KringError, Result};
use crate::lock;

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
pub const DEVICE_SECRET: &str = "device";

/// The store's database file inside the data directory (the CLI uses the same name).
const DATABASE_FILE: &str = "kring.db";

/// A device's Kring: open once per data directory and process, share everywhere.
///
/// Every call blocks on local storage (SQLite, fsync): call it off the UI thread
/// (Kotlin: `Dispatchers.IO`; Swift: a background task).
#[derive(uniffi::Object)]
pub struct KringClient {
    store: Arc<Mutex<Store>>,
    device_id: String,
    /// The automerge actor of every change this device makes: its device key.
    actor: ActorId,
    /// Open handles, so every caller of a circle shares one in-memory plan (and one
    /// set of observers) instead of diverging copies.
    handles: Mutex<HashMap<CircleId, Weak<CircleHandle>>>,
}

impl std::fmt::Debug for KringClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KringClient")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl KringClient {
    /// Opens (creating if needed) the data directory `data_dir` and the device's
    /// identity in `secret_store`.
    ///
    /// The secret store is the source of truth for who this device is: a first open
    /// stores the identity there, later opens read it back (and the database follows
    /// it, e.g. after the app's data was cleared but the Keychain kept its items).
    #[uniffi::constructor]
    pub fn open(data_dir: String, secret_store: Arc<dyn SecretStore>) -> Result<Arc<Self>> {
        if data_dir.trim().is_empty() {
            return Err(KringError::InvalidInput {
                reason: "data directory must not be empty".into(),
            });
        }
        let store = Store::open(&PathBuf::from(data_dir).join(DATABASE_FILE))?;
        let identity = DeviceIdentity::load_or_create(&Bridge(secret_store), DEVICE_SECRET)
            .map_err(|e| KringError::SecretStore {
                reason: e.to_string(),
            })?;
        // Every change this device makes carries its actor id, so the signer of an
        // envelope can be checked against the changes inside (see DESIGN.md §3).
        Ok(Arc::new(KringClient {
            store: Arc::new(Mutex::new(store)),
            device_id: identity.id().to_string(),
            actor: identity.actor_id(),
            handles: Mutex::new(HashMap::new()),
        }))
    }

    /// This device's id: its ed25519 verifying key (64 hex characters), which is also
    /// the automerge actor id of every change it makes.
    pub fn device_id(&self) -> String {
        self.device_id.clone()
    }

    /// The circles on this device, oldest first.
    pub fn circles(&self) -> Result<Vec<StoredCircle>> {
        Ok(lock(&self.store)?.circles()?)
    }

    /// Creates a circle with this device's user as its main person.
    pub fn create_circle(
        &self,
        name: String,
        language: Language,
        main_person_name: String,
    ) -> Result<Arc<CircleHandle>> {
        let now = Timestamp::now();
        let (plan, me) = {
            let mut store = lock(&self.store)?;
            let (mut plan, me) = CirclePlan::create(
                self.actor.clone(),
                CircleId::random(),
                NewCircle {
                    name,
                    language,
                    main_person_name,
                },
                now,
            )?;
            store.add_circle(&mut plan, &me, now)?;
            (plan, me)
        };
        self.register(plan, me)
    }

    /// A handle on a circle of this device. Opening the same circle twice returns the
    /// same handle while it is alive.
    pub fn open_circle(&self, circle_id: CircleId) -> Result<Arc<CircleHandle>> {
        let mut handles = lock(&self.handles)?;
        if let Some(handle) = handles.get(&circle_id).and_then(Weak::upgrade) {
            return Ok(handle);
        }
        let (plan, stored) = {
            let store = lock(&self.store)?;
            (
                store.load(&circle_id, self.actor.clone())?,
                store.circle(&circle_id)?,
            )
        };
        let handle = Arc::new(CircleHandle::new(plan, stored.me, self.store.clone()));
        handles.insert(circle_id, Arc::downgrade(&handle));
        Ok(handle)
    }

    /// Adds a circle from an exported document (offline exchange: a file, a QR code),
    /// acting as the existing member `as_member`.
    ///
    /// Interim way for a second device to join, until invites land.
    pub fn import_circle(
        &self,
        document: Vec<u8>,
        as_member: MemberId,
    ) -> Result<Arc<CircleHandle>> {
        let plan = {
            let mut store = lock(&self.store)?;
            let mut plan = CirclePlan::load(&document, self.actor.clone())?;
            if plan.view().member(&as_member).is_none() {
                return Err(kring_core::Error::UnknownMember(as_member).into());
            }
            store.add_circle(&mut plan, &as_member, Timestamp::now())?;
            plan
        };
        self.register(plan, as_member)
    }
}

impl KringClient {
    fn register(&self, plan: CirclePlan, me: MemberId) -> Result<Arc<CircleHandle>> {
        let id = plan.circle_id().clone();
        let handle = Arc::new(CircleHandle::new(plan, me, self.store.clone()));
        lock(&self.handles)?.insert(id, Arc::downgrade(&handle));
        Ok(handle)
    }
}

/// Core's view of the app's [`SecretStore`]: whatever the app's store throws becomes
/// core's `SecretStore` error (and so `KringException.SecretStore`).
struct Bridge(Arc<dyn SecretStore>);

impl identity::SecretStore for Bridge {
    fn get(&self, name: &str) -> kring_core::Result<Option<Vec<u8>>> {
        self.0.get(name.to_owned()).map_err(foreign)
    }

    fn put(&self, name: &str, value: &[u8]) -> kring_core::Result<()> {
        self.0.put(name.to_owned(), value.to_vec()).map_err(foreign)
    }

    fn delete(&self, name: &str) -> kring_core::Result<()> {
        self.0.delete(name.to_owned()).map_err(foreign)
    }
}

fn foreign(e: KringError) -> kring_core::Error {
    kring_core::Error::SecretStore(e.to_string())
}
