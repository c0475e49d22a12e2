//! The circles' documents: each plan as a chain of automerge chunks (a full save,
//! then incremental saves, compacted every [`COMPACT_AFTER_CHUNKS`]), its archive
//! when the relay closed it, and its erasure.

use super::*;

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

/// Where a circle's stored state stands: the newest document chunk and the length of
/// its membership log. Every write to either changes it (chunk numbers only grow,
/// compaction included), so a copy held in memory is current exactly when its
/// version equals the stored one — also when another process wrote in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircleVersion {
    pub last_chunk: i64,
    pub log_len: i64,
}

impl Store {
    /// Keeps `view`, built from the circle's document at `version`, for the next
    /// [`Store::stored_view`] — only if the document still ends at that chunk (a
    /// circle erased or changed meanwhile, by another handle, keeps nothing) and no
    /// newer view is kept. It does not wait for another writer: keeping a view is a
    /// shortcut, and showing one must not stall behind a sync (`Error::Store` when
    /// the store is busy; the caller drops it).
    pub fn keep_view(
        &self,
        circle: &CircleId,
        version: CircleVersion,
        view: &PlanView,
    ) -> Result<()> {
        let bytes = serde_json::to_vec(view)
            .map_err(|e| Error::CorruptStore(format!("encoding a plan view: {e}")))?;
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let kept = self.conn.execute(
            "INSERT INTO plan_views (circle_id, last_chunk, built_by, view)
             SELECT ?1, ?2, ?3, ?4
             WHERE (SELECT MAX(seq) FROM doc_chunks WHERE circle_id = ?1) = ?2
             ON CONFLICT (circle_id) DO UPDATE SET
                 last_chunk = excluded.last_chunk, built_by = excluded.built_by,
                 view = excluded.view
             WHERE excluded.last_chunk > plan_views.last_chunk
                OR plan_views.built_by <> excluded.built_by",
            params![circle.as_str(), version.last_chunk, VIEW_BUILT_BY, bytes],
        );
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        kept?;
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
            "snapshot_starts",
            "departures",
            "plan_views",
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

impl StoreTx<'_> {
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
}
