//! The local store: one SQLite file per device (data directory) holding its circles.
//!
//! Durability contract: when a `save*` call returns `Ok`, the data is committed with
//! `synchronous=FULL` in WAL mode, so it survives `kill -9` and power loss.
//!
//! Documents are stored as a sequence of chunks: the first is a full automerge save,
//! each later one an incremental save of only the new changes (cheap on every user
//! action). Loading concatenates the chunks, which automerge accepts as one document.
//! After [`COMPACT_AFTER_CHUNKS`] chunks the store rewrites the circle as one full save.

mod migrations;

use std::path::Path;

use automerge::ActorId;
use rusqlite::{params, Connection, OptionalExtension};

use crate::plan::{CircleId, CirclePlan, MemberId};
use crate::time::Timestamp;
use crate::{Error, Result};

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

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// This device's automerge actor id, created on first use.
    ///
    /// Every change this device makes carries it, so it must be stable for the
    /// lifetime of the data directory.
    pub fn actor_id(&self) -> Result<ActorId> {
        if let Some(bytes) = self.setting("actor_id")? {
            return Ok(ActorId::from(bytes));
        }
        let bytes: [u8; 32] = rand::random();
        self.set_setting("actor_id", &bytes)?;
        Ok(ActorId::from(bytes))
    }

    /// Makes `actor` this device's actor id from now on.
    ///
    /// For platforms that keep the device's identity in a key store (Android Keystore,
    /// iOS Keychain via the FFI's `SecretStore`) rather than in this database: the key
    /// store is then the source of truth and the database follows it. The actor must
    /// belong to this device alone; changes already stored keep their old actor.
    pub fn set_actor_id(&self, actor: &ActorId) -> Result<()> {
        self.set_setting("actor_id", actor.to_bytes())
    }

    pub fn setting(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
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
        let id = plan.circle_id().to_string();
        let bytes = plan.export();
        let tx = self.conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM circles WHERE id = ?1)",
            [&id],
            |r| r.get(0),
        )?;
        if exists {
            return Err(Error::AlreadyExists(format!("circle {id} on this device")));
        }
        tx.execute(
            "INSERT INTO circles (id, me, added_at) VALUES (?1, ?2, ?3)",
            params![id, me.as_str(), now.0],
        )?;
        tx.execute(
            "INSERT INTO doc_chunks (circle_id, seq, bytes) VALUES (?1, 0, ?2)",
            params![id, bytes],
        )?;
        tx.commit()?;
        plan.mark_saved();
        Ok(())
    }

    /// Durably appends what changed in `plan` since it was last saved. A no-op when
    /// nothing changed. Compacts the circle now and then.
    pub fn save(&mut self, plan: &mut CirclePlan) -> Result<()> {
        let chunk = plan.unsaved_changes();
        if chunk.is_empty() {
            return Ok(());
        }
        let id = plan.circle_id().to_string();
        let tx = self.conn.transaction()?;
        let (chunks, next_seq): (i64, Option<i64>) = tx.query_row(
            "SELECT COUNT(*), MAX(seq) + 1 FROM doc_chunks WHERE circle_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let Some(next_seq) = next_seq else {
            return Err(Error::UnknownCircle(id));
        };
        if chunks >= COMPACT_AFTER_CHUNKS {
            tx.execute("DELETE FROM doc_chunks WHERE circle_id = ?1", [&id])?;
            tx.execute(
                "INSERT INTO doc_chunks (circle_id, seq, bytes) VALUES (?1, ?2, ?3)",
                params![id, next_seq, plan.export()],
            )?;
        } else {
            tx.execute(
                "INSERT INTO doc_chunks (circle_id, seq, bytes) VALUES (?1, ?2, ?3)",
                params![id, next_seq, chunk],
            )?;
        }
        tx.commit()?;
        plan.mark_saved();
        Ok(())
    }

    /// Rewrites a circle as one full save (what [`Store::save`] does every
    /// [`COMPACT_AFTER_CHUNKS`] chunks). Opening a compacted circle is faster and
    /// needs less memory.
    pub fn compact(&mut self, plan: &mut CirclePlan) -> Result<()> {
        let id = plan.circle_id().to_string();
        let bytes = plan.export();
        let tx = self.conn.transaction()?;
        let next_seq: Option<i64> = tx.query_row(
            "SELECT MAX(seq) + 1 FROM doc_chunks WHERE circle_id = ?1",
            [&id],
            |r| r.get(0),
        )?;
        let Some(next_seq) = next_seq else {
            return Err(Error::UnknownCircle(id));
        };
        tx.execute("DELETE FROM doc_chunks WHERE circle_id = ?1", [&id])?;
        tx.execute(
            "INSERT INTO doc_chunks (circle_id, seq, bytes) VALUES (?1, ?2, ?3)",
            params![id, next_seq, bytes],
        )?;
        tx.commit()?;
        plan.mark_saved();
        Ok(())
    }

    /// Opens a stored circle. The result holds exactly what was saved.
    pub fn load(&self, id: &CircleId) -> Result<CirclePlan> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT bytes FROM doc_chunks WHERE circle_id = ?1 ORDER BY seq")?;
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
        CirclePlan::load(&bytes, self.actor_id()?)
    }

    pub fn circles(&self) -> Result<Vec<StoredCircle>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, me, added_at FROM circles ORDER BY added_at, id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, me, added_at) = row?;
            out.push(StoredCircle {
                id: CircleId::parse(&id)?,
                me: MemberId::parse(&me)?,
                added_at: Timestamp(added_at),
            });
        }
        Ok(out)
    }

    pub fn circle(&self, id: &CircleId) -> Result<StoredCircle> {
        self.circles()?
            .into_iter()
            .find(|c| &c.id == id)
            .ok_or_else(|| Error::UnknownCircle(id.to_string()))
    }

    /// How many chunks a circle is stored as (for tests and diagnostics).
    pub fn chunk_count(&self, id: &CircleId) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM doc_chunks WHERE circle_id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )?)
    }
}
