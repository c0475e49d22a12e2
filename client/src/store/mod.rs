//! The local store: one SQLite file per device (data directory) holding its circles.
//!
//! Durability contract: when a `save*` call or a [`StoreTx::commit`] returns `Ok`, the
//! data is committed with `synchronous=FULL` in WAL mode, so it survives `kill -9` and
//! power loss.
//!
//! Documents are stored as a sequence of chunks: the first is a full automerge save,
//! each later one an incremental save of only the new changes (cheap on every user
//! action). Loading concatenates the chunks, which automerge accepts as one document.
//! After [`COMPACT_AFTER_CHUNKS`] chunks the store rewrites the circle as one full save.
//!
//! Besides documents the store keeps what sync needs (see `docs/sync.md`): each
//! circle's membership log, this device's own envelopes (the outbox), received
//! envelopes that wait for automerge dependencies, the last envelope seen per author,
//! and the per-circle sync state. This module is the only place with SQL.
//!
//! Several things that must change together (a document chunk and the envelope that
//! carries the same changes; applied changes and the pull cursor) are written through
//! one [`StoreTx`]. Transactions start `IMMEDIATE`, so two processes on one data
//! directory (say `kring watch` and a `kring task claim`) serialise instead of
//! interleaving a read-modify-write.

mod migrations;

use kring_trust::Error as TrustError;
use std::collections::BTreeMap;
use std::path::Path;

use automerge::{ActorId, ChangeHash};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::envelope::{EnvelopeHash, SealedEnvelope};
use crate::{Error, Result};
use kring_plan::plan::{CircleId, CirclePlan, MemberId};
use kring_trust::identity::DeviceId;
use kring_trust::time::Timestamp;

/// Incremental chunks kept before a circle is compacted into one full save.
pub const COMPACT_AFTER_CHUNKS: i64 = 64;

/// A circle held on this device, and who "I" am in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCircle {
    pub id: CircleId,
    /// The member this device acts as in the circle.
    pub me: MemberId,
    pub added_at: Timestamp,
}

/// One of this device's own envelopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnEnvelope {
    pub device_seq: u64,
    pub hash: EnvelopeHash,
    pub bytes: Vec<u8>,
    /// The relay has acknowledged it (it is committed there).
    pub acked: bool,
    /// The relay's cursor for it, once known.
    pub cursor: Option<u64>,
}

/// A received envelope that verified but whose changes wait for automerge
/// dependencies that have not arrived yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingEnvelope {
    pub cursor: u64,
    pub author: DeviceId,
    pub device_seq: u64,
    pub hash: EnvelopeHash,
    pub bytes: Vec<u8>,
}

/// The last envelope seen per author device: `(device_seq, hash)`.
pub type DeviceHeads = BTreeMap<DeviceId, (u64, EnvelopeHash)>;

/// Where a circle stands with its relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRecord {
    pub circle: CircleId,
    pub relay_url: Option<String>,
    /// The relay holds the circle's genesis (the founder registered it).
    pub registered: bool,
    /// The relay cursor up to which envelopes have been pulled and processed.
    pub pull_cursor: u64,
    /// The document heads at the last time this device sealed its own changes.
    pub sealed_heads: Vec<ChangeHash>,
    pub last_synced_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    /// Why the last attempt failed (`None` after a successful sync).
    pub last_error: Option<String>,
    /// The last attempt failed because the relay could not be reached.
    pub offline: bool,
    /// The relay refused this device as removed from the circle (a removed device
    /// may no longer read the log, so it learns this from the refusal).
    pub removed: bool,
    /// A join whose membership entry is in but whose plan could not be fetched yet
    /// (JSON, owned by the device façade).
    pub pending_join: Option<String>,
    /// When this device learned that the circle was closed on its relay (by its
    /// owner, or by the relay's retention of inactive circles). From then on the
    /// circle is a read-only archive here: it is never synced or written again.
    pub closed_at: Option<Timestamp>,
    /// The relay announced it will close the circle at this time for inactivity
    /// (its operator's retention period); any new change resets that clock.
    pub closes_at: Option<Timestamp>,
}

impl SyncRecord {
    pub fn new(circle: CircleId, relay_url: Option<String>) -> Self {
        Self {
            circle,
            relay_url,
            registered: false,
            pull_cursor: 0,
            sealed_heads: Vec::new(),
            last_synced_at: None,
            last_attempt_at: None,
            last_error: None,
            offline: false,
            removed: false,
            pending_join: None,
            closed_at: None,
            closes_at: None,
        }
    }
}

pub struct Store {
    conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.conn.path())
            .finish()
    }
}

/// The key a device's store is encrypted with at rest (SQLCipher: AES-256 per page,
/// with an HMAC per page). It lives in the device's `SecretStore` (Keystore, Keychain,
/// the CLI's 0600 file), never in the data directory, so a copied `kring.db` reveals
/// nothing without it. A raw 256-bit key: SQLCipher skips its passphrase derivation.
#[derive(Clone)]
pub struct StoreKey([u8; 32]);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl StoreKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        StoreKey(key)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::SecretStore("the store key is not 32 bytes".into()))?;
        Ok(StoreKey(key))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as SQLCipher takes a raw key: `x'<64 hex digits>'`, quoted.
    fn pragma_value(&self) -> String {
        format!("\"x'{}'\"", hex::encode(self.0))
    }
}

/// The first bytes of every unencrypted SQLite file.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Whether the file at `path` is an unencrypted SQLite database (`false` if there is
/// no file).
pub fn is_plaintext(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut file) => Ok(file.read_exact(&mut header).is_ok() && &header == PLAIN_HEADER),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Rewrites the unencrypted store at `path` encrypted with `key`, in place and
/// losslessly (SQLCipher's `sqlcipher_export` copies every table, index and row; the
/// schema version is carried over). The encrypted copy is written next to it, synced,
/// then renamed over the original, so a crash leaves either the old file or the new
/// one, never a mix. The old file's blocks are released to the file system (which
/// may keep them until they are reused: encrypt the disk too).
fn encrypt_in_place(path: &Path, key: &StoreKey) -> Result<()> {
    let tmp = path.with_extension("db-encrypting");
    let _ = std::fs::remove_file(&tmp);
    {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Every committed page into the file first, so the export sees all of it.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        conn.execute(
            &format!("ATTACH DATABASE ?1 AS encrypted KEY {}", key.pragma_value()),
            [tmp.to_string_lossy()],
        )?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.execute_batch(&format!(
            "PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"
        ))?;
    }
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    // The old file's (empty) write-ahead log and index belong to it, not to the new.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) an **unencrypted** store at `path` and brings its
    /// schema up to date. Devices use [`Store::open_encrypted`]; this is for tests,
    /// benchmarks and tools that look inside.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with(path, None)
    }

    /// Opens (creating if needed) the store at `path`, encrypted at rest with `key`.
    /// An unencrypted store from before is encrypted in place first (nothing is
    /// lost). A store that does not open with `key` is refused with
    /// [`Error::SecretStore`] and left as it is.
    pub fn open_encrypted(path: &Path, key: &StoreKey) -> Result<Store> {
        if is_plaintext(path)? {
            encrypt_in_place(path, key)?;
        }
        Self::open_with(path, Some(key))
    }

    fn open_with(path: &Path, key: Option<&StoreKey>) -> Result<Store> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut conn = Connection::open(path)?;
        if let Some(key) = key {
            // A wrong key is reported as our typed error below, not logged by SQLCipher
            // on the terminal.
            conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
            conn.execute_batch(&format!("PRAGMA key = {};", key.pragma_value()))?;
            // The key is only tried on first use: read the schema to know now.
            let opened = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            });
            if let Err(e) = opened {
                return Err(Error::SecretStore(format!(
                    "the local store {} does not open with this device's store key ({e}); \
                     it was made with another key or is damaged",
                    path.display()
                )));
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten with zeros in the file, not just unlinked from
        // the b-tree: erasing a circle must not leave its plan readable in free pages.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        migrations::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`): nothing is written until
    /// [`StoreTx::commit`]; dropping it rolls back.
    pub fn begin(&mut self) -> Result<StoreTx<'_>> {
        Ok(StoreTx {
            tx: self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?,
        })
    }

    pub fn setting(&self, key: &str) -> Result<Option<Vec<u8>>> {
        read::setting(&self.conn, key)
    }

    pub fn set_setting(&self, key: &str, value: &[u8]) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Stores a circle this device did not hold yet, as one full save.
    pub fn add_circle(
        &mut self,
        plan: &mut CirclePlan,
        me: &MemberId,
        now: Timestamp,
    ) -> Result<()> {
        self.write_plan(plan, |tx, plan| tx.add_circle(plan, me, now))
    }

    /// Durably appends what changed in `plan` since it was last saved. A no-op when
    /// nothing changed. Compacts the circle now and then.
    pub fn save(&mut self, plan: &mut CirclePlan) -> Result<()> {
        self.write_plan(plan, |tx, plan| tx.save(plan))
    }

    /// Rewrites a circle as one full save (what [`Store::save`] does every
    /// [`COMPACT_AFTER_CHUNKS`] chunks). Opening a compacted circle is faster and
    /// needs less memory.
    pub fn compact(&mut self, plan: &mut CirclePlan) -> Result<()> {
        self.write_plan(plan, |tx, plan| tx.compact(plan))
    }

    /// Runs one write of `plan` in its own transaction; only once it is committed does
    /// the plan count as saved.
    fn write_plan(
        &mut self,
        plan: &mut CirclePlan,
        write: impl FnOnce(&StoreTx<'_>, &CirclePlan) -> Result<()>,
    ) -> Result<()> {
        let tx = self.begin()?;
        write(&tx, plan)?;
        tx.commit()?;
        plan.mark_saved();
        Ok(())
    }

    /// Opens a stored circle as `actor` (the device's automerge actor id, which every
    /// change this device makes carries). The result holds exactly what was saved.
    pub fn load(&self, id: &CircleId, actor: ActorId) -> Result<CirclePlan> {
        read::load(&self.conn, id, actor)
    }

    pub fn circles(&self) -> Result<Vec<StoredCircle>> {
        read::circles(&self.conn)
    }

    pub fn circle(&self, id: &CircleId) -> Result<StoredCircle> {
        read::circle(&self.conn, id)
    }

    /// How many chunks a circle is stored as (for tests and diagnostics).
    pub fn chunk_count(&self, id: &CircleId) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM doc_chunks WHERE circle_id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )?)
    }

    /// The circle's membership log as stored, in order (empty for circles that have
    /// none: plans imported from a file).
    pub fn membership_log(&self, circle: &CircleId) -> Result<Vec<Vec<u8>>> {
        read::membership_log(&self.conn, circle)
    }

    pub fn sync_record(&self, circle: &CircleId) -> Result<Option<SyncRecord>> {
        read::sync_record(&self.conn, circle)
    }

    /// Every circle with sync state, including joins still waiting for their plan.
    pub fn sync_records(&self) -> Result<Vec<SyncRecord>> {
        read::sync_records(&self.conn)
    }

    /// This device's envelopes the relay has not acknowledged, oldest first.
    pub fn pending_envelopes(&self, circle: &CircleId, me: &DeviceId) -> Result<Vec<OwnEnvelope>> {
        read::own_envelopes(&self.conn, circle, me, 1, true)
    }

    pub fn pending_count(&self, circle: &CircleId, me: &DeviceId) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM envelopes
             WHERE circle_id = ?1 AND author = ?2 AND state = 'pending'",
            params![circle.as_str(), me.to_string()],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// This device's envelopes from `from_seq` on, acknowledged or not (to re-push
    /// when a relay reports that it is missing some).
    pub fn own_envelopes_from(
        &self,
        circle: &CircleId,
        me: &DeviceId,
        from_seq: u64,
    ) -> Result<Vec<OwnEnvelope>> {
        read::own_envelopes(&self.conn, circle, me, from_seq, false)
    }

    pub fn waiting_envelopes(&self, circle: &CircleId) -> Result<Vec<WaitingEnvelope>> {
        read::waiting(&self.conn, circle)
    }

    pub fn waiting_count(&self, circle: &CircleId) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM envelopes WHERE circle_id = ?1 AND state = 'waiting'",
            [circle.as_str()],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// This device's newest envelope the relay has acknowledged: `(device_seq, hash)`.
    pub fn last_acked(
        &self,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Option<(u64, EnvelopeHash)>> {
        read::last_acked(&self.conn, circle, me)
    }

    pub fn device_heads(&self, circle: &CircleId) -> Result<DeviceHeads> {
        read::device_heads(&self.conn, circle)
    }

    /// This device's newest envelope in the circle: `(device_seq, hash)`.
    pub fn last_own(
        &self,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Option<(u64, EnvelopeHash)>> {
        read::last_own(&self.conn, circle, me)
    }
}

/// Why this device erased a circle on its own (see [`Store::delete_circle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartureReason {
    /// The device learned it was removed from the circle.
    Removed,
}

impl DepartureReason {
    const ALL: [DepartureReason; 1] = [DepartureReason::Removed];

    fn as_str(self) -> &'static str {
        match self {
            DepartureReason::Removed => "removed",
        }
    }

    fn parse(s: &str) -> Option<DepartureReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The note a device keeps about a circle it erased on its own: the circle's random
/// id, why and when; nothing of what the circle wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Departure {
    pub circle: CircleId,
    pub reason: DepartureReason,
    pub at: Timestamp,
}

impl Store {
    /// Erases everything this device holds of `circle`: the plan, the membership log
    /// (from which its content keys are unwrapped), the outbox and received
    /// envelopes, the sync state and cut-offs — in one transaction. `departure`
    /// leaves a note of why (a device that was removed); without one, an earlier
    /// note is dropped too. Then the write-ahead log is checkpointed and truncated,
    /// so with `secure_delete` no copy of the erased pages stays in `kring.db` or its
    /// `-wal` (what the file system keeps of old blocks is the disk's business:
    /// encrypt it).
    ///
    /// [`Error::UnknownCircle`] (and nothing changed) if the device holds nothing of
    /// the circle.
    pub fn delete_circle(
        &mut self,
        circle: &CircleId,
        departure: Option<(DepartureReason, Timestamp)>,
    ) -> Result<()> {
        let tx = self.begin()?;
        let id = circle.as_str();
        let held: bool = tx.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM circles WHERE id = ?1)
                 OR EXISTS (SELECT 1 FROM sync_state WHERE circle_id = ?1)
                 OR EXISTS (SELECT 1 FROM membership_entries WHERE circle_id = ?1)
                 OR EXISTS (SELECT 1 FROM departures WHERE circle_id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if !held {
            return Err(Error::UnknownCircle(id.to_owned()));
        }
        for table in [
            "doc_chunks",
            "membership_entries",
            "envelopes",
            "device_heads",
            "sync_state",
            "departures",
        ] {
            tx.tx
                .execute(&format!("DELETE FROM {table} WHERE circle_id = ?1"), [id])?;
        }
        tx.tx.execute("DELETE FROM circles WHERE id = ?1", [id])?;
        // Every per-circle setting names its circle in its key (cut-offs, reminder
        // choices, what news was seen, the recovery device): all of them go.
        tx.tx
            .execute("DELETE FROM settings WHERE instr(key, ?1) > 0", [id])?;
        if let Some((reason, at)) = departure {
            tx.tx.execute(
                "INSERT INTO departures (circle_id, reason, at) VALUES (?1, ?2, ?3)",
                params![id, reason.as_str(), at.0],
            )?;
        }
        tx.commit()?;
        self.truncate_wal()
    }

    /// Moves every committed page into the database file and empties the `-wal`
    /// (which otherwise keeps copies of pages written earlier, erased rows included).
    /// Best effort when another process reads at the same time: SQLite then leaves
    /// the rest for the next checkpoint.
    fn truncate_wal(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The notes of circles this device erased on its own, oldest first.
    pub fn departures(&self) -> Result<Vec<Departure>> {
        let mut stmt = self
            .conn
            .prepare("SELECT circle_id, reason, at FROM departures ORDER BY at, circle_id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (circle, reason, at) = row?;
            let reason = DepartureReason::parse(&reason).ok_or_else(|| {
                Error::CorruptStore(format!("unknown departure reason {reason:?}"))
            })?;
            out.push(Departure {
                circle: CircleId::parse(&circle)?,
                reason,
                at: Timestamp(at),
            });
        }
        Ok(out)
    }
}

/// Where a circle's stored state stands: the newest document chunk and the length of
/// its membership log. Every write to either changes it (chunk numbers only grow,
/// compaction included), so a copy held in memory is current exactly when its
/// version equals the stored one — also when another process wrote in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircleVersion {
    pub last_chunk: i64,
    pub log_len: i64,
}

/// Per-circle settings name their circle in the key (see [`Store::delete_circle`]).
fn cut_off_key(circle: &CircleId, device: &DeviceId) -> String {
    format!("cut_off/{circle}/{device}")
}

impl Store {
    /// Whether `device` was cut off in `circle` (see [`StoreTx::cut_off`]).
    pub fn is_cut_off(&self, circle: &CircleId, device: &DeviceId) -> Result<bool> {
        Ok(read::setting(&self.conn, &cut_off_key(circle, device))?.is_some())
    }

    /// See [`CircleVersion`].
    pub fn circle_version(&self, id: &CircleId) -> Result<CircleVersion> {
        read::version(&self.conn, id)
    }
}

/// A write transaction on the store (see [`Store::begin`]).
///
/// Methods that save a [`CirclePlan`] do not call [`CirclePlan::mark_saved`]: the
/// caller does that after [`StoreTx::commit`] succeeds, so a rolled-back save is
/// written again next time.
pub struct StoreTx<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl StoreTx<'_> {
    pub fn commit(self) -> Result<()> {
        self.tx.commit()?;
        Ok(())
    }

    pub fn load(&self, id: &CircleId, actor: ActorId) -> Result<CirclePlan> {
        read::load(&self.tx, id, actor)
    }

    /// See [`CircleVersion`].
    pub fn circle_version(&self, id: &CircleId) -> Result<CircleVersion> {
        read::version(&self.tx, id)
    }

    pub fn circle(&self, id: &CircleId) -> Result<StoredCircle> {
        read::circle(&self.tx, id)
    }

    pub fn membership_log(&self, circle: &CircleId) -> Result<Vec<Vec<u8>>> {
        read::membership_log(&self.tx, circle)
    }

    pub fn sync_record(&self, circle: &CircleId) -> Result<Option<SyncRecord>> {
        read::sync_record(&self.tx, circle)
    }

    pub fn last_own(
        &self,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Option<(u64, EnvelopeHash)>> {
        read::last_own(&self.tx, circle, me)
    }

    pub fn waiting_envelopes(&self, circle: &CircleId) -> Result<Vec<WaitingEnvelope>> {
        read::waiting(&self.tx, circle)
    }

    pub fn pending_envelopes(&self, circle: &CircleId, me: &DeviceId) -> Result<Vec<OwnEnvelope>> {
        read::own_envelopes(&self.tx, circle, me, 1, true)
    }

    /// Adds a circle this device did not hold yet, as one full save.
    pub fn add_circle(&self, plan: &CirclePlan, me: &MemberId, now: Timestamp) -> Result<()> {
        let id = plan.circle_id().to_string();
        let exists: bool = self.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM circles WHERE id = ?1)",
            [&id],
            |r| r.get(0),
        )?;
        if exists {
            return Err(TrustError::AlreadyExists(format!("circle {id} on this device")).into());
        }
        self.tx.execute(
            "INSERT INTO circles (id, me, added_at) VALUES (?1, ?2, ?3)",
            params![id, me.as_str(), now.0],
        )?;
        self.tx.execute(
            "INSERT INTO doc_chunks (circle_id, seq, bytes) VALUES (?1, 0, ?2)",
            params![id, plan.export()],
        )?;
        Ok(())
    }

    /// Appends what changed in `plan` since it was last saved (compacting now and
    /// then); a no-op when nothing changed.
    pub fn save(&self, plan: &CirclePlan) -> Result<()> {
        let chunk = plan.unsaved_changes();
        if chunk.is_empty() {
            return Ok(());
        }
        let id = plan.circle_id().to_string();
        let (chunks, next_seq) = self.chunk_stats(&id)?;
        let bytes = if chunks >= COMPACT_AFTER_CHUNKS {
            self.tx
                .execute("DELETE FROM doc_chunks WHERE circle_id = ?1", [&id])?;
            plan.export()
        } else {
            chunk
        };
        self.tx.execute(
            "INSERT INTO doc_chunks (circle_id, seq, bytes) VALUES (?1, ?2, ?3)",
            params![id, next_seq, bytes],
        )?;
        Ok(())
    }

    /// Rewrites the circle as one full save.
    pub fn compact(&self, plan: &CirclePlan) -> Result<()> {
        let id = plan.circle_id().to_string();
        let (_, next_seq) = self.chunk_stats(&id)?;
        self.tx
            .execute("DELETE FROM doc_chunks WHERE circle_id = ?1", [&id])?;
        self.tx.execute(
            "INSERT INTO doc_chunks (circle_id, seq, bytes) VALUES (?1, ?2, ?3)",
            params![id, next_seq, plan.export()],
        )?;
        Ok(())
    }

    fn chunk_stats(&self, id: &str) -> Result<(i64, i64)> {
        let (chunks, next_seq): (i64, Option<i64>) = self.tx.query_row(
            "SELECT COUNT(*), MAX(seq) + 1 FROM doc_chunks WHERE circle_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let next_seq = next_seq.ok_or_else(|| Error::UnknownCircle(id.to_owned()))?;
        Ok((chunks, next_seq))
    }

    /// Appends validated membership entries (`(seq, bytes)`, in order). An entry
    /// already stored at its position must be identical; anything else is a fork.
    pub fn append_membership(&self, circle: &CircleId, entries: &[(u64, &[u8])]) -> Result<()> {
        for (seq, bytes) in entries {
            let seq_i = to_i64(*seq)?;
            let existing: Option<Vec<u8>> = self
                .tx
                .query_row(
                    "SELECT bytes FROM membership_entries WHERE circle_id = ?1 AND seq = ?2",
                    params![circle.as_str(), seq_i],
                    |r| r.get(0),
                )
                .optional()?;
            match existing {
                Some(old) if old == *bytes => {}
                Some(_) => {
                    return Err(Error::Trust(TrustError::Fork {
                        what: "membership log",
                        seq: *seq,
                    }))
                }
                None => {
                    self.tx.execute(
                        "INSERT INTO membership_entries (circle_id, seq, bytes) VALUES (?1, ?2, ?3)",
                        params![circle.as_str(), seq_i, bytes],
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Creates or replaces a circle's sync state.
    pub fn put_sync_record(&self, record: &SyncRecord) -> Result<()> {
        let heads: Vec<u8> = record
            .sealed_heads
            .iter()
            .flat_map(|h| h.0.iter().copied())
            .collect();
        self.tx.execute(
            "INSERT INTO sync_state (circle_id, relay_url, registered, pull_cursor, sealed_heads,
                 last_synced_at, last_attempt_at, last_error, offline, removed, pending_join,
                 closed_at, closes_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (circle_id) DO UPDATE SET
                 relay_url = excluded.relay_url, registered = excluded.registered,
                 pull_cursor = excluded.pull_cursor, sealed_heads = excluded.sealed_heads,
                 last_synced_at = excluded.last_synced_at,
                 last_attempt_at = excluded.last_attempt_at,
                 last_error = excluded.last_error, offline = excluded.offline,
                 removed = excluded.removed,
                 pending_join = excluded.pending_join,
                 closed_at = excluded.closed_at, closes_at = excluded.closes_at",
            params![
                record.circle.as_str(),
                record.relay_url,
                record.registered,
                to_i64(record.pull_cursor)?,
                heads,
                record.last_synced_at.map(|t| t.0),
                record.last_attempt_at.map(|t| t.0),
                record.last_error,
                record.offline,
                record.removed,
                record.pending_join,
                record.closed_at.map(|t| t.0),
                record.closes_at.map(|t| t.0),
            ],
        )?;
        Ok(())
    }

    /// Appends one of this device's envelopes to the outbox (pending).
    pub fn push_own(&self, me: &DeviceId, envelope: &SealedEnvelope, now: Timestamp) -> Result<()> {
        let header = envelope.header();
        self.tx.execute(
            "INSERT INTO envelopes (circle_id, author, device_seq, hash, bytes, state, cursor, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', NULL, ?6)",
            params![
                header.circle.as_str(),
                me.to_string(),
                to_i64(header.device_seq)?,
                &envelope.hash().as_bytes()[..],
                envelope.as_bytes(),
                now.0,
            ],
        )?;
        Ok(())
    }

    /// Replaces a pending envelope by a resealed one at the same position (after a
    /// key rotation the relay refuses envelopes under the old key).
    pub fn replace_pending(&self, me: &DeviceId, envelope: &SealedEnvelope) -> Result<()> {
        let header = envelope.header();
        let changed = self.tx.execute(
            "UPDATE envelopes SET hash = ?4, bytes = ?5
             WHERE circle_id = ?1 AND author = ?2 AND device_seq = ?3 AND state = 'pending'",
            params![
                header.circle.as_str(),
                me.to_string(),
                to_i64(header.device_seq)?,
                &envelope.hash().as_bytes()[..],
                envelope.as_bytes(),
            ],
        )?;
        if changed != 1 {
            return Err(Error::Trust(TrustError::AlreadyApplied {
                what: "outbox",
                seq: header.device_seq,
            }));
        }
        Ok(())
    }

    /// Records that the relay committed this device's envelope `device_seq` (and so
    /// every earlier one). `cursor` is kept when known.
    pub fn mark_acked(
        &self,
        circle: &CircleId,
        me: &DeviceId,
        device_seq: u64,
        cursor: Option<u64>,
    ) -> Result<()> {
        let seq = to_i64(device_seq)?;
        self.tx.execute(
            "UPDATE envelopes SET state = 'acked'
             WHERE circle_id = ?1 AND author = ?2 AND device_seq <= ?3 AND state = 'pending'",
            params![circle.as_str(), me.to_string(), seq],
        )?;
        if let Some(cursor) = cursor {
            self.tx.execute(
                "UPDATE envelopes SET cursor = ?4
                 WHERE circle_id = ?1 AND author = ?2 AND device_seq = ?3",
                params![circle.as_str(), me.to_string(), seq, to_i64(cursor)?],
            )?;
        }
        Ok(())
    }

    /// The relay sent back one of this device's own envelopes: it is committed there.
    /// Normally it is the one in the outbox; if the outbox holds another version (or
    /// none, say after the data directory was restored from a backup), the relay's
    /// version wins, since that is what every other device sees.
    pub fn record_own_echo(
        &self,
        circle: &CircleId,
        me: &DeviceId,
        echo: &OwnEnvelope,
        now: Timestamp,
    ) -> Result<()> {
        self.mark_acked(circle, me, echo.device_seq, None)?;
        self.tx.execute(
            "INSERT INTO envelopes (circle_id, author, device_seq, hash, bytes, state, cursor, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'acked', ?6, ?7)
             ON CONFLICT (circle_id, author, device_seq) DO UPDATE SET
                 hash = excluded.hash, bytes = excluded.bytes, state = 'acked',
                 cursor = excluded.cursor",
            params![
                circle.as_str(),
                me.to_string(),
                to_i64(echo.device_seq)?,
                &echo.hash.as_bytes()[..],
                echo.bytes,
                echo.cursor.map(to_i64).transpose()?,
                now.0,
            ],
        )?;
        Ok(())
    }

    /// Turns the circle into a read-only archive: it was closed on its relay. The
    /// plan and the membership log stay (reads and exports keep working); the outbox
    /// and waiting envelopes go, since no relay will take or complete them any more.
    pub fn archive(&self, circle: &CircleId, now: Timestamp) -> Result<()> {
        let mut record = self
            .sync_record(circle)?
            .ok_or_else(|| Error::LocalOnly(circle.to_string()))?;
        if record.closed_at.is_none() {
            record.closed_at = Some(now);
        }
        record.closes_at = None;
        record.pending_join = None;
        self.put_sync_record(&record)?;
        self.tx.execute(
            "DELETE FROM envelopes WHERE circle_id = ?1",
            [circle.as_str()],
        )?;
        Ok(())
    }

    pub fn put_waiting(
        &self,
        circle: &CircleId,
        waiting: &WaitingEnvelope,
        now: Timestamp,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT INTO envelopes (circle_id, author, device_seq, hash, bytes, state, cursor, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'waiting', ?6, ?7)
             ON CONFLICT (circle_id, author, device_seq) DO NOTHING",
            params![
                circle.as_str(),
                waiting.author.to_string(),
                to_i64(waiting.device_seq)?,
                &waiting.hash.as_bytes()[..],
                waiting.bytes,
                to_i64(waiting.cursor)?,
                now.0,
            ],
        )?;
        Ok(())
    }

    /// Records that `device` sent a change the plan's rules refuse: its later
    /// envelopes build on that change and are refused without being opened, until the
    /// device is removed (see `docs/permissions.md`).
    pub fn cut_off(&self, circle: &CircleId, device: &DeviceId, why: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![cut_off_key(circle, device), why.as_bytes()],
        )?;
        Ok(())
    }

    pub fn is_cut_off(&self, circle: &CircleId, device: &DeviceId) -> Result<bool> {
        Ok(read::setting(&self.tx, &cut_off_key(circle, device))?.is_some())
    }

    pub fn delete_waiting(
        &self,
        circle: &CircleId,
        author: &DeviceId,
        device_seq: u64,
    ) -> Result<()> {
        self.tx.execute(
            "DELETE FROM envelopes
             WHERE circle_id = ?1 AND author = ?2 AND device_seq = ?3 AND state = 'waiting'",
            params![circle.as_str(), author.to_string(), to_i64(device_seq)?],
        )?;
        Ok(())
    }

    pub fn set_device_head(
        &self,
        circle: &CircleId,
        device: &DeviceId,
        last_seq: u64,
        last_hash: &EnvelopeHash,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT INTO device_heads (circle_id, device, last_seq, last_hash) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (circle_id, device) DO UPDATE
                 SET last_seq = excluded.last_seq, last_hash = excluded.last_hash",
            params![
                circle.as_str(),
                device.to_string(),
                to_i64(last_seq)?,
                &last_hash.as_bytes()[..],
            ],
        )?;
        Ok(())
    }
}

fn to_i64(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| {
        Error::Trust(TrustError::InvalidValue {
            field: "sequence number",
            value: n.to_string(),
            expected: "at most 2^63 - 1".into(),
        })
    })
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn hash32(bytes: &[u8]) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| Error::CorruptStore("a stored hash is not 32 bytes".into()))
}

/// Reads shared by [`Store`] and [`StoreTx`] (a transaction derefs to a connection).
mod read {
    use super::*;

    pub fn setting(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn version(conn: &Connection, id: &CircleId) -> Result<CircleVersion> {
        Ok(conn.query_row(
            "SELECT (SELECT COALESCE(MAX(seq), -1) FROM doc_chunks WHERE circle_id = ?1),
                    (SELECT COUNT(*) FROM membership_entries WHERE circle_id = ?1)",
            [id.as_str()],
            |r| {
                Ok(CircleVersion {
                    last_chunk: r.get(0)?,
                    log_len: r.get(1)?,
                })
            },
        )?)
    }

    pub fn load(conn: &Connection, id: &CircleId, actor: ActorId) -> Result<CirclePlan> {
        let mut stmt =
            conn.prepare_cached("SELECT bytes FROM doc_chunks WHERE circle_id = ?1 ORDER BY seq")?;
        let mut bytes = Vec::new();
        let mut rows = stmt.query([id.as_str()])?;
        let mut any = false;
        while let Some(row) = rows.next()? {
            any = true;
            let chunk: Vec<u8> = row.get(0)?;
            bytes.extend_from_slice(&chunk);
        }
        if !any {
            return Err(Error::UnknownCircle(id.to_string()));
        }
        Ok(CirclePlan::load(&bytes, actor)?)
    }

    /// The columns [`stored_circle`] reads, in its order.
    const CIRCLE_COLUMNS: &str = "SELECT id, me, added_at FROM circles";

    fn stored_circle(row: &rusqlite::Row<'_>) -> Result<StoredCircle> {
        Ok(StoredCircle {
            id: CircleId::parse(&row.get::<_, String>(0)?)?,
            me: MemberId::parse(&row.get::<_, String>(1)?)?,
            added_at: Timestamp(row.get(2)?),
        })
    }

    pub fn circles(conn: &Connection) -> Result<Vec<StoredCircle>> {
        let mut stmt = conn.prepare(&format!("{CIRCLE_COLUMNS} ORDER BY added_at, id"))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(stored_circle(row)?);
        }
        Ok(out)
    }

    /// One circle by id (every device action asks for its circle: no full scan).
    pub fn circle(conn: &Connection, id: &CircleId) -> Result<StoredCircle> {
        let mut stmt = conn.prepare_cached(&format!("{CIRCLE_COLUMNS} WHERE id = ?1"))?;
        let mut rows = stmt.query([id.as_str()])?;
        match rows.next()? {
            Some(row) => stored_circle(row),
            None => Err(Error::UnknownCircle(id.to_string())),
        }
    }

    pub fn membership_log(conn: &Connection, circle: &CircleId) -> Result<Vec<Vec<u8>>> {
        let mut stmt = conn.prepare_cached(
            "SELECT seq, bytes FROM membership_entries WHERE circle_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([circle.as_str()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, bytes) = row?;
            if to_u64(seq) != out.len() as u64 {
                return Err(Error::CorruptStore(format!(
                    "membership log of {circle} has a hole before entry {seq}"
                )));
            }
            out.push(bytes);
        }
        Ok(out)
    }

    fn sync_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, SyncRecordRaw)> {
        Ok((
            r.get(0)?,
            SyncRecordRaw {
                relay_url: r.get(1)?,
                registered: r.get(2)?,
                pull_cursor: r.get(3)?,
                sealed_heads: r.get(4)?,
                last_synced_at: r.get(5)?,
                last_attempt_at: r.get(6)?,
                last_error: r.get(7)?,
                offline: r.get(8)?,
                removed: r.get(9)?,
                pending_join: r.get(10)?,
                closed_at: r.get(11)?,
                closes_at: r.get(12)?,
            },
        ))
    }

    pub struct SyncRecordRaw {
        relay_url: Option<String>,
        registered: bool,
        pull_cursor: i64,
        sealed_heads: Vec<u8>,
        last_synced_at: Option<i64>,
        last_attempt_at: Option<i64>,
        last_error: Option<String>,
        offline: bool,
        removed: bool,
        pending_join: Option<String>,
        closed_at: Option<i64>,
        closes_at: Option<i64>,
    }

    fn to_record(id: String, raw: SyncRecordRaw) -> Result<SyncRecord> {
        if !raw.sealed_heads.len().is_multiple_of(32) {
            return Err(Error::CorruptStore("stored sealed heads".into()));
        }
        let sealed_heads = raw
            .sealed_heads
            .chunks(32)
            .map(|c| hash32(c).map(ChangeHash))
            .collect::<Result<_>>()?;
        Ok(SyncRecord {
            circle: CircleId::parse(&id)?,
            relay_url: raw.relay_url,
            registered: raw.registered,
            pull_cursor: to_u64(raw.pull_cursor),
            sealed_heads,
            last_synced_at: raw.last_synced_at.map(Timestamp),
            last_attempt_at: raw.last_attempt_at.map(Timestamp),
            last_error: raw.last_error,
            offline: raw.offline,
            removed: raw.removed,
            pending_join: raw.pending_join,
            closed_at: raw.closed_at.map(Timestamp),
            closes_at: raw.closes_at.map(Timestamp),
        })
    }

    const SYNC_COLUMNS: &str = "SELECT circle_id, relay_url, registered, pull_cursor, sealed_heads,
         last_synced_at, last_attempt_at, last_error, offline, removed, pending_join, closed_at,
         closes_at FROM sync_state";

    pub fn sync_record(conn: &Connection, circle: &CircleId) -> Result<Option<SyncRecord>> {
        let row = conn
            .query_row(
                &format!("{SYNC_COLUMNS} WHERE circle_id = ?1"),
                [circle.as_str()],
                sync_row,
            )
            .optional()?;
        row.map(|(id, raw)| to_record(id, raw)).transpose()
    }

    pub fn sync_records(conn: &Connection) -> Result<Vec<SyncRecord>> {
        let mut stmt = conn.prepare(&format!("{SYNC_COLUMNS} ORDER BY circle_id"))?;
        let rows = stmt.query_map([], sync_row)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, raw) = row?;
            out.push(to_record(id, raw)?);
        }
        Ok(out)
    }

    pub fn own_envelopes(
        conn: &Connection,
        circle: &CircleId,
        me: &DeviceId,
        from_seq: u64,
        pending_only: bool,
    ) -> Result<Vec<OwnEnvelope>> {
        let mut stmt = conn.prepare_cached(
            "SELECT device_seq, hash, bytes, state, cursor FROM envelopes
             WHERE circle_id = ?1 AND author = ?2 AND device_seq >= ?3
               AND state IN ('pending', 'acked') AND (?4 = 0 OR state = 'pending')
             ORDER BY device_seq",
        )?;
        let rows = stmt.query_map(
            params![
                circle.as_str(),
                me.to_string(),
                to_i64(from_seq)?,
                pending_only
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, hash, bytes, state, cursor) = row?;
            out.push(OwnEnvelope {
                device_seq: to_u64(seq),
                hash: EnvelopeHash::from_bytes(hash32(&hash)?),
                bytes,
                acked: state == "acked",
                cursor: cursor.map(to_u64),
            });
        }
        Ok(out)
    }

    pub fn last_own(
        conn: &Connection,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Option<(u64, EnvelopeHash)>> {
        let row: Option<(i64, Vec<u8>)> = conn
            .query_row(
                "SELECT device_seq, hash FROM envelopes
                 WHERE circle_id = ?1 AND author = ?2 AND state IN ('pending', 'acked')
                 ORDER BY device_seq DESC LIMIT 1",
                params![circle.as_str(), me.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(seq, hash)| Ok((to_u64(seq), EnvelopeHash::from_bytes(hash32(&hash)?))))
            .transpose()
    }

    pub fn last_acked(
        conn: &Connection,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Option<(u64, EnvelopeHash)>> {
        let row: Option<(i64, Vec<u8>)> = conn
            .query_row(
                "SELECT device_seq, hash FROM envelopes
                 WHERE circle_id = ?1 AND author = ?2 AND state = 'acked'
                 ORDER BY device_seq DESC LIMIT 1",
                params![circle.as_str(), me.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(seq, hash)| Ok((to_u64(seq), EnvelopeHash::from_bytes(hash32(&hash)?))))
            .transpose()
    }

    pub fn waiting(conn: &Connection, circle: &CircleId) -> Result<Vec<WaitingEnvelope>> {
        let mut stmt = conn.prepare_cached(
            "SELECT cursor, author, device_seq, hash, bytes FROM envelopes
             WHERE circle_id = ?1 AND state = 'waiting' ORDER BY cursor",
        )?;
        let rows = stmt.query_map([circle.as_str()], |r| {
            Ok((
                r.get::<_, Option<i64>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, Vec<u8>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (cursor, author, seq, hash, bytes) = row?;
            out.push(WaitingEnvelope {
                cursor: cursor.map_or(0, to_u64),
                author: DeviceId::parse(&author)?,
                device_seq: to_u64(seq),
                hash: EnvelopeHash::from_bytes(hash32(&hash)?),
                bytes,
            });
        }
        Ok(out)
    }

    pub fn device_heads(conn: &Connection, circle: &CircleId) -> Result<DeviceHeads> {
        let mut stmt = conn.prepare_cached(
            "SELECT device, last_seq, last_hash FROM device_heads WHERE circle_id = ?1",
        )?;
        let rows = stmt.query_map([circle.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = DeviceHeads::new();
        for row in rows {
            let (device, seq, hash) = row?;
            out.insert(
                DeviceId::parse(&device)?,
                (to_u64(seq), EnvelopeHash::from_bytes(hash32(&hash)?)),
            );
        }
        Ok(out)
    }
}

impl StoreTx<'_> {
    /// The hash of this device's envelope `device_seq`, if the outbox has it.
    pub fn own_hash(
        &self,
        circle: &CircleId,
        me: &DeviceId,
        device_seq: u64,
    ) -> Result<Option<EnvelopeHash>> {
        let hash: Option<Vec<u8>> = self
            .tx
            .query_row(
                "SELECT hash FROM envelopes
                 WHERE circle_id = ?1 AND author = ?2 AND device_seq = ?3
                   AND state IN ('pending', 'acked')",
                params![circle.as_str(), me.to_string(), to_i64(device_seq)?],
                |r| r.get(0),
            )
            .optional()?;
        hash.map(|h| hash32(&h).map(EnvelopeHash::from_bytes))
            .transpose()
    }

    pub fn last_acked(
        &self,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Option<(u64, EnvelopeHash)>> {
        read::last_acked(&self.tx, circle, me)
    }

    pub fn device_heads(&self, circle: &CircleId) -> Result<DeviceHeads> {
        read::device_heads(&self.tx, circle)
    }
}
