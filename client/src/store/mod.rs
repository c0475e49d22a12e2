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
//! and the per-circle sync state. This module is the only place with SQL, one file
//! per responsibility, each with the one write path of its tables:
//!
//! - `documents`: the plans' chunks, the view last built from each, archive and
//!   erasure;
//! - `outbox`: this device's own envelopes;
//! - `sync_state`: sync records, membership logs, heads, waiting envelopes, cut-offs;
//! - `read`: every read, shared by [`Store`] and [`StoreTx`];
//! - `encryption`: SQLCipher keys and the plaintext migration; `migrations`: schema.
//!
//! Several things that must change together (a document chunk and the envelope that
//! carries the same changes; applied changes and the pull cursor) are written through
//! one [`StoreTx`]. Transactions start `IMMEDIATE`, so two processes on one data
//! directory (say `kring watch` and a `kring task claim`) serialise instead of
//! interleaving a read-modify-write.

/// How long a write waits for another process's transaction on the same file.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What built a kept view: a view kept by another version of this code is not shown
/// (the view's shape or how it is read from the document may have changed).
const VIEW_BUILT_BY: &str = concat!("kring-client ", env!("CARGO_PKG_VERSION"));

mod documents;
mod encryption;
mod migrations;
mod outbox;
mod read;
mod sync_state;

use std::path::Path;

use automerge::{ActorId, ChangeHash};
use kring_trust::Error as TrustError;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::envelope::{EnvelopeHash, SealedEnvelope};
use crate::{Error, Result};
use kring_plan::plan::{CircleId, CirclePlan, MemberId, PlanView};
use kring_trust::identity::DeviceId;
use kring_trust::time::Timestamp;

pub use documents::{
    CircleVersion, Departure, DepartureReason, StoredCircle, COMPACT_AFTER_CHUNKS,
};
use encryption::encrypt_in_place;
pub use encryption::{is_plaintext, StoreKey};
pub use kring_sync::records::{DeviceHeads, OwnEnvelope, SyncRecord, WaitingEnvelope};

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

/// A write transaction on the store (see [`Store::begin`]).
///
/// Methods that save a [`CirclePlan`] do not call [`CirclePlan::mark_saved`]: the
/// caller does that after [`StoreTx::commit`] succeeds, so a rolled-back save is
/// written again next time.
pub struct StoreTx<'a> {
    tx: rusqlite::Transaction<'a>,
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
        conn.busy_timeout(BUSY_TIMEOUT)?;
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
}

impl StoreTx<'_> {
    pub fn commit(self) -> Result<()> {
        self.tx.commit()?;
        Ok(())
    }
}
