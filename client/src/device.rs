//! The device façade: what an app (the CLI, the mobile bindings) does with Kring on
//! one device. Every business rule lives in the modules it wraps; this file strings
//! them together with the store and, with the `client` feature, the relay.
//!
//! - Identity: the device's keys come from a [`SecretStore`] (created on first use);
//!   its automerge actor is its signing key, so every change it makes can be checked
//!   against the envelope that carries it.
//! - Local-first: [`Device::change`] runs a plan operation as this device's member,
//!   then in **one** SQLite transaction saves the document chunk and seals the
//!   device's new changes into an envelope appended to the outbox. When it returns,
//!   the change is durable and will reach the relay with the next sync, whether the
//!   device is online now or not.
//! - Sync ([`Device::sync`]): membership log → push the outbox → pull, verify,
//!   decrypt, apply; see `docs/sync.md`. The decisions are made by the pure
//!   [`crate::sync::engine`]; this file is the driver that does the IO.
//!
//! Methods that talk to the relay block the calling thread (they run a small tokio
//! runtime of their own): call them from a plain thread, not from inside an async
//! runtime.

use kring_plan::plan::DeviceActor;
use kring_plan::Error as PlanError;
use kring_trust::Error as TrustError;
use std::collections::HashMap;
use std::path::Path;

use automerge::ActorId;

use crate::secrets::{FileSecretStore, SecretStore};
use crate::store::{CircleVersion, Departure, Store, StoreKey, StoreTx, StoredCircle, SyncRecord};
use crate::sync::engine::{self, CircleTrust, Standing, SyncStatus};
use crate::{Error, Result};
use kring_plan::followup::{self, Audience, CircleReport, CoordinatorOverview};
use kring_plan::plan::recurrence::DEFAULT_ZONE;
use kring_plan::plan::{CircleId, CirclePlan, Language, MemberId, NewCircle, PlanView};
use kring_trust::identity::{DeviceId, DeviceIdentity, PublicDevice};
use kring_trust::invite::InviteToken;
use kring_trust::membership::{Capability, MembershipState};
use kring_trust::time::Timestamp;

mod bundle;
mod family;
mod invites;
pub use family::FamilyTime;
mod net;
mod people;
mod reach;
pub use reach::Wakened;
mod receive;
mod views;
pub use bundle::{is_bundle, BundleReport, MAX_BUNDLE_BYTES};
pub use invites::{InviteInfo, InviteState};
pub use net::{DeviceInfo, FamilyTimeChange, LinkPreview, Recovered, SyncReport, WatchEvent};
pub use people::Person;

/// The name of the device's identity in its [`SecretStore`].
pub const IDENTITY_SECRET: &str = "device";
/// The name of the key the device's store is encrypted with, in its [`SecretStore`].
pub const STORE_KEY_SECRET: &str = "store-key";
/// The store file inside a data directory.
pub const STORE_FILE: &str = "kring.db";
/// The secrets directory inside a data directory (for [`Device::open_in`]).
pub const SECRETS_DIR: &str = "secrets";
const DEVICE_ID_SETTING: &str = "device_id";

/// One device: its identity and its local store.
pub struct Device {
    store: Store,
    identity: DeviceIdentity,
    /// Circles as last written by this device, with their validated logs, so an action
    /// on a circle with years of history does not reload and re-verify it each time.
    /// Only used while its [`CircleVersion`] matches the store's.
    cache: HashMap<CircleId, CachedCircle>,
    net: net::Net,
    /// The language its person asked for (`kring --lang`, the app's setting) for what
    /// this device writes them: reminders and news. `None`: each circle's own.
    reading_in: Option<Language>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("id", &self.identity.id())
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Opens the device whose store lives in `data_dir`, with its keys in `secrets`
    /// (generated there on first use). A data directory belongs to one identity: the
    /// store remembers it, and a different secret store is refused.
    ///
    /// The store is encrypted at rest with a key kept in `secrets` beside the
    /// identity ([`STORE_KEY_SECRET`], made on first use); a store from before
    /// encryption is encrypted in place on first open (nothing is lost).
    pub fn open(data_dir: &Path, secrets: Box<dyn SecretStore>) -> Result<Self> {
        // A secret that is there but unreadable is the secret store's problem (a
        // keystore restored from elsewhere, a truncated file), not the caller's input.
        let identity = crate::secrets::load_or_create_identity(secrets.as_ref(), IDENTITY_SECRET)
            .map_err(|e| match e {
            Error::SecretStore(_) => e,
            other => Error::SecretStore(format!("the device secret cannot be read: {other}")),
        })?;
        let path = data_dir.join(STORE_FILE);
        let key = store_key(secrets.as_ref(), &path)?;
        let store = Store::open_encrypted(&path, &key)?;
        let id = identity.id().to_string();
        match store.setting(DEVICE_ID_SETTING)? {
            None => store.set_setting(DEVICE_ID_SETTING, id.as_bytes())?,
            Some(stored) if stored == id.as_bytes() => {}
            Some(stored) => {
                return Err(Error::SecretStore(format!(
                "this data directory belongs to device {}, but the secret store holds device {id}",
                String::from_utf8_lossy(&stored)
            )))
            }
        }
        Ok(Self {
            store,
            identity,
            cache: HashMap::new(),
            net: net::Net::new()?,
            reading_in: None,
        })
    }

    /// [`Device::open`] with a [`FileSecretStore`] in `<data_dir>/secrets` (0700
    /// directory, 0600 files): the CLI's and the tests' choice.
    pub fn open_in(data_dir: &Path) -> Result<Self> {
        let secrets = FileSecretStore::open(data_dir.join(SECRETS_DIR))?;
        Self::open(data_dir, Box::new(secrets))
    }

    pub fn id(&self) -> DeviceId {
        self.identity.id()
    }

    pub fn public(&self) -> PublicDevice {
        self.identity.public()
    }

    /// The automerge actor of every change this device makes.
    pub fn actor(&self) -> ActorId {
        self.identity.actor_id()
    }

    /// Read access to the store (listing circles, follow-up across circles …).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The circles whose plan is on this device.
    pub fn circles(&self) -> Result<Vec<StoredCircle>> {
        self.store.circles()
    }

    /// Circles this device joined whose plan has not arrived yet (the next sync
    /// completes them).
    pub fn pending_joins(&self) -> Result<Vec<CircleId>> {
        Ok(self
            .store
            .sync_records()?
            .into_iter()
            .filter(|r| r.pending_join.is_some())
            .map(|r| r.circle)
            .collect())
    }

    /// The circle's plan as this device reads it: as stored, opened as this device —
    /// or, on a device of the family during family time, the family's draft.
    pub fn plan(&self, circle: &CircleId) -> Result<CirclePlan> {
        let plan = self.store.load(circle, self.actor())?;
        Ok(self.draft_of(&plan)?.unwrap_or(plan))
    }

    pub fn view(&self, circle: &CircleId) -> Result<PlanView> {
        if let Some(trust) = self.trust(circle)? {
            if engine::writes_for_family(&trust, &self.identity.id()) {
                // The draft is derived from more than the document: never kept.
                return Ok(self.plan(circle)?.view());
            }
        }
        let (view, version) = match self.current_copy(circle)? {
            Some(cached) => (cached.plan.view(), cached.version),
            None => {
                // The first screen: the view kept when the plan was last shown, while
                // nothing was stored since — without loading the document.
                if let Some(view) = self.store.stored_view(circle)? {
                    return Ok(view);
                }
                // Read before the load: if another process stores meanwhile, the view
                // is kept under the older version, so it is never shown as newer
                // than it is.
                let version = self.store.circle_version(circle)?;
                (self.plan(circle)?.view(), version)
            }
        };
        // Kept once per version of the document, for the next time the app opens.
        // Only a shortcut: failing to keep it loses nothing.
        if self
            .store
            .kept_view_chunk(circle)?
            .is_none_or(|kept| kept < version.last_chunk)
        {
            let _ = self.store.keep_view(circle, version, &view);
        }
        Ok(view)
    }

    /// The in-memory copy of `circle`, if it still matches what is stored.
    fn current_copy(&self, circle: &CircleId) -> Result<Option<&CachedCircle>> {
        match self.cache.get(circle) {
            Some(cached) if cached.version == self.store.circle_version(circle)? => {
                Ok(Some(cached))
            }
            _ => Ok(None),
        }
    }

    /// The member this device acts as in the circle.
    pub fn me(&self, circle: &CircleId) -> Result<MemberId> {
        Ok(self.store.circle(circle)?.me)
    }

    /// Whether this device's person follows the circle up (and so sees signals about
    /// people) or is one of the circle (see [`Audience`]).
    pub fn audience(&self, circle: &CircleId, view: &PlanView) -> Result<Audience> {
        let me = self.me(circle)?;
        let capability = self.logged_capability(circle, &me)?.flatten();
        Ok(Audience::of(view, &me, capability))
    }

    /// `member`'s capability in the circle's membership log: `None` for a circle
    /// without a log (a plan from a file), `Some(None)` for someone the log does not
    /// hold as a current member.
    fn logged_capability(
        &self,
        circle: &CircleId,
        member: &MemberId,
    ) -> Result<Option<Option<Capability>>> {
        Ok(self.trust(circle)?.map(|trust| trust.capability_of(member)))
    }

    /// The follow-up of one circle, as this device's person may see it.
    pub fn circle_report(&self, circle: &CircleId, now: Timestamp) -> Result<CircleReport> {
        let view = self.view(circle)?;
        let audience = self.audience(circle, &view)?;
        Ok(followup::circle_report(&view, now).for_audience(audience))
    }

    /// The follow-up across every circle on this device, most urgent first, each as
    /// this device's person may see it.
    pub fn followup(&self, now: Timestamp) -> Result<CoordinatorOverview> {
        let mut views = Vec::new();
        let mut audiences = HashMap::new();
        for stored in self.circles()? {
            let view = self.view(&stored.id)?;
            audiences.insert(stored.id.clone(), self.audience(&stored.id, &view)?);
            views.push(view);
        }
        Ok(followup::overview_for(&views, now, |plan| {
            audiences
                .get(&plan.circle.id)
                .copied()
                .unwrap_or(Audience::Circle)
        }))
    }

    /// The circle's validated membership log with this device's keys; `None` for a
    /// plan imported from a file.
    pub fn trust(&self, circle: &CircleId) -> Result<Option<CircleTrust>> {
        if let Some(cached) = self.current_copy(circle)? {
            return Ok(cached.trust.clone());
        }
        let log = self.store.membership_log(circle)?;
        if log.is_empty() {
            return Ok(None);
        }
        Ok(Some(CircleTrust::from_log(&self.identity, &log)?))
    }

    /// Founds a circle with this device's person as its main person: the genesis of
    /// the membership log (which names the circle) and the plan, stored together with
    /// the plan's first envelope in the outbox. Works offline; the first sync
    /// registers the circle at `relay_url` (which can also be set later). The circle
    /// lives in [`DEFAULT_ZONE`] (see [`Device::create_circle_in_zone`]).
    pub fn create_circle(
        &mut self,
        name: &str,
        language: Language,
        my_name: &str,
        relay_url: Option<&str>,
        now: Timestamp,
    ) -> Result<CircleId> {
        self.create_circle_in_zone(name, language, my_name, relay_url, DEFAULT_ZONE, now)
    }

    /// [`Device::create_circle`] in the IANA time zone `zone` (the creating device's
    /// own, say), in which every date of the plan is read and shown.
    pub fn create_circle_in_zone(
        &mut self,
        name: &str,
        language: Language,
        my_name: &str,
        relay_url: Option<&str>,
        zone: &str,
        now: Timestamp,
    ) -> Result<CircleId> {
        let relay = relay_url.map(normalize_relay).transpose()?;
        let owner = MemberId::random();
        let (genesis, _) = MembershipState::create_circle(&self.identity, owner.clone(), now)?;
        let circle = genesis
            .founded_circle()
            .ok_or_else(|| PlanError::MalformedDocument("genesis names no circle".into()))?;
        let mut plan = CirclePlan::create_with_main_person(
            self.actor(),
            circle.clone(),
            owner.clone(),
            NewCircle {
                name: name.to_owned(),
                language,
                main_person_name: my_name.to_owned(),
            },
            now,
        )?;
        plan.set_timezone(&owner, zone, now)?;
        let log = [genesis.as_bytes().to_vec()];
        let trust = CircleTrust::from_log(&self.identity, &log)?;
        let tx = self.store.begin()?;
        tx.add_circle(&plan, &owner, now)?;
        tx.append_membership(&circle, &[(0, genesis.as_bytes())])?;
        tx.put_sync_record(&SyncRecord::new(circle.clone(), relay))?;
        seal_own(&tx, &self.identity, &trust, &plan, now)?;
        tx.commit()?;
        Ok(circle)
    }

    /// Adds a circle from an automerge file (the offline path), acting as `me`, who
    /// must be a member of that plan. Such a circle has no membership log here and
    /// does not sync; its changes travel as files (`export` / [`Device::merge_bytes`]).
    pub fn import_circle(
        &mut self,
        bytes: &[u8],
        me: &MemberId,
        now: Timestamp,
    ) -> Result<CircleId> {
        let mut plan = CirclePlan::load(bytes, self.actor())?;
        // Every caller acts as `me` afterwards; a stranger would fail on every change.
        if plan.view().member(me).is_none() {
            return Err(TrustError::UnknownMember(me.clone()).into());
        }
        self.store.add_circle(&mut plan, me, now)?;
        Ok(plan.circle_id().clone())
    }

    /// [`Device::change`] for one of the plan's own operations (`plan.claim_task(…)`),
    /// whose error is the plan's.
    pub fn change_plan<T>(
        &mut self,
        circle: &CircleId,
        now: Timestamp,
        op: impl FnOnce(&mut CirclePlan, &MemberId) -> kring_plan::Result<T>,
    ) -> Result<T> {
        self.change(circle, now, |plan, me| Ok(op(plan, me)?))
    }

    /// Runs a plan operation as this device's member and makes it durable: checks
    /// that the device may write (a reader gets `Removed` or `ReadOnly` from the trust
    /// layer), runs `op`, then in one transaction saves the document and seals the
    /// device's new changes into the outbox. On `Err` nothing is stored.
    ///
    /// `op` may fail with any error a client [`Error`] converts into (the CLI's own
    /// error type, say), so callers can resolve names to ids inside it.
    pub fn change<T, E: From<Error>>(
        &mut self,
        circle: &CircleId,
        now: Timestamp,
        op: impl FnOnce(&mut CirclePlan, &MemberId) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let actor = self.actor();
        let tx = self.store.begin()?;
        let stored = tx.circle(circle)?;
        let version = tx.circle_version(circle)?;
        // Taken out of the cache: any error below leaves it out, so the next action
        // reloads what is stored instead of trusting a half-changed copy.
        let CachedCircle {
            mut plan, trust, ..
        } = match self.cache.remove(circle) {
            Some(cached) if cached.version == version => cached,
            _ => CachedCircle {
                version,
                trust: trust_in(&tx, &self.identity, circle)?,
                plan: tx.load(circle, actor)?,
            },
        };
        let record = tx.sync_record(circle)?;
        require_open(record.as_ref())?;
        if let Some(trust) = &trust {
            if record.as_ref().is_some_and(|r| r.removed) {
                return Err(Error::from(TrustError::Removed(self.identity.id())).into());
            }
            require_writer(trust, &self.identity.id())?;
            plan.set_authority(trust.authority());
        }
        let for_family = trust
            .as_ref()
            .filter(|trust| engine::writes_for_family(trust, &self.identity.id()));
        let out = if let Some(trust) = for_family {
            family::write_draft(&tx, &self.identity, trust, &plan, now, |draft| {
                op(draft, &stored.me)
            })?
        } else {
            let out = op(&mut plan, &stored.me)?;
            tx.save(&plan)?;
            if let Some(trust) = &trust {
                seal_own(&tx, &self.identity, trust, &plan, now)?;
            }
            out
        };
        let version = tx.circle_version(circle)?;
        tx.commit()?;
        plan.mark_saved();
        self.cache.insert(
            circle.clone(),
            CachedCircle {
                version,
                plan,
                trust,
            },
        );
        Ok(out)
    }

    /// Merges an automerge file of the same circle (the offline path, for circles
    /// without a membership log). Changes of other devices are not sealed here: each
    /// device relays its own changes.
    ///
    /// A circle with a membership log never merges such a file: nothing in it is
    /// signed, so anyone could have written it as anyone (its changes reach this
    /// device only through signed envelopes, by sync).
    pub fn merge_bytes(&mut self, circle: &CircleId, bytes: &[u8]) -> Result<usize> {
        let actor = self.actor();
        let tx = self.store.begin()?;
        if !tx.membership_log(circle)?.is_empty() {
            return Err(TrustError::NotAllowed(
                "this circle syncs through its relay with signed changes; an unsigned plan file cannot be merged into it (use `kring sync`)",
            ).into());
        }
        let mut plan = tx.load(circle, actor)?;
        let added = plan.merge_bytes(bytes)?;
        tx.save(&plan)?;
        tx.commit()?;
        Ok(added)
    }

    /// Sets the relay of a circle that is not on a relay yet.
    pub fn set_relay(&mut self, circle: &CircleId, url: &str) -> Result<()> {
        let url = normalize_relay(url)?;
        let tx = self.store.begin()?;
        let mut record = tx
            .sync_record(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        require_open(Some(&record))?;
        if record.registered && record.relay_url.as_deref() != Some(url.as_str()) {
            return Err(TrustError::NotAllowed(
                "this circle is already on another relay; moving circles is not supported",
            )
            .into());
        }
        record.relay_url = Some(url);
        tx.put_sync_record(&record)?;
        tx.commit()
    }

    /// An invite link (`kring://invite/…`) for one new person with `capability`,
    /// made offline. The circle must have a relay (the link names it) and must be
    /// registered there before the link is used: sync after inviting.
    pub fn invite(
        &self,
        circle: &CircleId,
        capability: Capability,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<String> {
        self.make_invite(circle, capability, None, expires_at, now)
    }

    /// An invite link for `member`, a person the plan has by name who has no device
    /// yet ("Jan", added with `member add`): the device that joins with it becomes
    /// that person, one entry in the member list, not a second "Jan". Refused for a
    /// person who is not in the plan, was removed, or joined already (their next
    /// device comes by a device link).
    pub fn invite_for(
        &self,
        circle: &CircleId,
        member: &MemberId,
        capability: Capability,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<String> {
        let view = self.view(circle)?;
        match view.members.iter().find(|m| &m.id == member) {
            Some(m) if m.removed_at.is_none() => {}
            _ => return Err(PlanError::UnknownMember(member.clone()).into()),
        }
        self.make_invite(circle, capability, Some(member), expires_at, now)
    }

    fn make_invite(
        &self,
        circle: &CircleId,
        capability: Capability,
        for_member: Option<&MemberId>,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<String> {
        let record = self
            .store
            .sync_record(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        require_open(Some(&record))?;
        let relay = record
            .relay_url
            .ok_or_else(|| Error::NoRelay(circle.to_string()))?;
        let trust = self
            .trust(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        let (state, keys) = (trust.state(), trust.keys());
        let token = match for_member {
            None => InviteToken::create(
                state,
                &self.identity,
                keys,
                &relay,
                capability,
                expires_at,
                now,
            ),
            Some(member) => InviteToken::create_for(
                state,
                &self.identity,
                keys,
                &relay,
                capability,
                member.clone(),
                expires_at,
                now,
            ),
        }?;
        self.note_invite(circle, token.invite())?;
        Ok(token.with_card(self.link_card(circle)?).to_link())
    }

    /// Erases the circle from this device: its plan, membership log and keys, outbox
    /// and sync state (see [`Store::delete_circle`]). Nothing is sent anywhere: the
    /// circle goes on for everyone else (an owner who wants it gone everywhere closes
    /// it first, [`Device::close_circle`]). Also forgets the note of a circle that was
    /// erased because this device was removed.
    pub fn delete_local(&mut self, circle: &CircleId) -> Result<()> {
        self.cache.remove(circle);
        self.store.delete_circle(circle, None)
    }

    /// Circles this device erased on its own because it was removed from them: only
    /// their ids, why and when are kept (see [`Store::departures`]).
    pub fn departures(&self) -> Result<Vec<Departure>> {
        self.store.departures()
    }

    /// Where the circle stands with its relay, for a UI: last synced, pending
    /// changes, online / offline / removed.
    pub fn status(&self, circle: &CircleId) -> Result<SyncStatus> {
        let record = self.store.sync_record(circle)?;
        if record.is_none() {
            // Unknown circles are an error, imported ones are "local only".
            self.store.circle(circle)?;
        }
        let trust = self.trust(circle)?;
        let me = self.identity.id();
        let standing = match (&trust, &record) {
            (_, Some(r)) if r.removed => Some(Standing::Removed),
            (Some(t), _) => Some(t.standing(&me)),
            (None, _) => None,
        };
        Ok(engine::status(
            circle,
            record.as_ref(),
            standing,
            trust.as_ref().map(|t| t.state().current_epoch()),
            self.store.pending_count(circle, &me)?,
            self.store.waiting_for_changes(circle)?,
        ))
    }
}

/// The store's key from `secrets`, made there if the store has none yet: no store
/// file, or one from before encryption. An encrypted store whose key is missing is
/// refused (a new key would not open it, and would hide that the old one is lost).
fn store_key(secrets: &dyn SecretStore, path: &Path) -> Result<StoreKey> {
    if let Some(bytes) = secrets.get(STORE_KEY_SECRET)? {
        return StoreKey::from_bytes(&bytes);
    }
    let holds_data = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
    if holds_data && !crate::store::is_plaintext(path)? {
        return Err(Error::SecretStore(format!(
            "the key of the encrypted store {} is missing from the secret store",
            path.display()
        )));
    }
    let key = StoreKey::generate();
    secrets.put(STORE_KEY_SECRET, key.as_bytes())?;
    Ok(key)
}

fn normalize_relay(url: &str) -> Result<String> {
    Ok(crate::sync::http::normalize_relay_url(url)?)
}

/// A circle as this device last wrote it (see [`Device::change`]).
struct CachedCircle {
    version: CircleVersion,
    plan: CirclePlan,
    trust: Option<CircleTrust>,
}

fn trust_in(
    tx: &StoreTx<'_>,
    identity: &DeviceIdentity,
    circle: &CircleId,
) -> Result<Option<CircleTrust>> {
    let log = tx.membership_log(circle)?;
    if log.is_empty() {
        return Ok(None);
    }
    Ok(Some(CircleTrust::from_log(identity, &log)?))
}

/// Refuses every write to a circle that was closed on its relay: this device keeps
/// it as a read-only archive ([`Error::Archived`]).
fn require_open(record: Option<&SyncRecord>) -> Result<()> {
    match record {
        Some(r) if r.closed_at.is_some() => Err(Error::Archived(r.circle.to_string())),
        _ => Ok(()),
    }
}

fn require_writer(trust: &CircleTrust, me: &DeviceId) -> Result<()> {
    match trust.standing(me) {
        Standing::Writer(_) => Ok(()),
        Standing::Reader => Err(TrustError::ReadOnly(*me).into()),
        Standing::Removed => Err(TrustError::Removed(*me).into()),
        Standing::NotMember => Err(TrustError::DeviceNotMember(*me).into()),
    }
}

/// Seals this device's changes made since the last seal into the outbox (inside the
/// caller's transaction, so the document chunk and its envelope commit together).
fn seal_own(
    tx: &StoreTx<'_>,
    identity: &DeviceIdentity,
    trust: &CircleTrust,
    plan: &CirclePlan,
    now: Timestamp,
) -> Result<()> {
    let circle = plan.circle_id();
    let mut record = tx
        .sync_record(circle)?
        .unwrap_or_else(|| SyncRecord::new(circle.clone(), None));
    let changes = plan.own_changes_since(&record.sealed_heads);
    if changes.is_empty() {
        return Ok(());
    }
    let me = identity.id();
    let last = tx.last_own(circle, &me)?;
    for sealed in engine::seal_changes(
        crate::envelope::Readers::Circle,
        identity,
        trust,
        &changes,
        last,
    )? {
        tx.push_own(&me, &sealed, now)?;
    }
    record.sealed_heads = plan.heads();
    tx.put_sync_record(&record)
}

#[cfg(test)]
mod tests;
