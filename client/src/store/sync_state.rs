//! What sync keeps per circle besides the plan: the sync record (relay, cursor,
//! last outcome, a pending join), the membership log, the last envelope seen per
//! author, received envelopes waiting for their dependencies, and cut-off devices.

use super::*;

/// Per-circle settings name their circle in the key (see [`Store::delete_circle`]).
pub(super) fn cut_off_key(circle: &CircleId, device: &DeviceId) -> String {
    format!("cut_off/{circle}/{device}")
}

/// This device's first envelope sealed for the family (where to look for its own
/// family envelopes).
pub(super) fn family_from_key(circle: &CircleId) -> String {
    format!("family_from/{circle}")
}

/// The newest family key generation whose presentation this device has brought into
/// its plan.
pub(super) fn presented_key(circle: &CircleId) -> String {
    format!("presented/{circle}")
}

impl StoreTx<'_> {
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
                 closed_at, closes_at, snapshot_cursor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (circle_id) DO UPDATE SET
                 relay_url = excluded.relay_url, registered = excluded.registered,
                 pull_cursor = excluded.pull_cursor, sealed_heads = excluded.sealed_heads,
                 last_synced_at = excluded.last_synced_at,
                 last_attempt_at = excluded.last_attempt_at,
                 last_error = excluded.last_error, offline = excluded.offline,
                 removed = excluded.removed,
                 pending_join = excluded.pending_join,
                 closed_at = excluded.closed_at, closes_at = excluded.closes_at,
                 snapshot_cursor = excluded.snapshot_cursor",
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
                to_i64(record.snapshot_cursor)?,
            ],
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

    /// Notes that this device sealed envelope `device_seq` for the family (the first
    /// one noted stays: the search for its family envelopes starts there).
    pub fn note_family_envelope(&self, circle: &CircleId, device_seq: u64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            params![family_from_key(circle), device_seq.to_le_bytes().to_vec()],
        )?;
        Ok(())
    }

    /// Notes that the presentation of family key `generation` (and every one before)
    /// is part of this device's plan.
    pub fn note_presented(&self, circle: &CircleId, generation: u64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![presented_key(circle), generation.to_le_bytes().to_vec()],
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

    /// Drops every waiting envelope of `author` in `circle`.
    pub fn delete_waiting_of(&self, circle: &CircleId, author: &DeviceId) -> Result<()> {
        self.tx.execute(
            "DELETE FROM envelopes WHERE circle_id = ?1 AND author = ?2 AND state = 'waiting'",
            params![circle.as_str(), author.to_string()],
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
        self.tx
            .prepare_cached(
                "INSERT INTO device_heads (circle_id, device, last_seq, last_hash) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (circle_id, device) DO UPDATE
                     SET last_seq = excluded.last_seq, last_hash = excluded.last_hash",
            )?
            .execute(params![
                circle.as_str(),
                device.to_string(),
                to_i64(last_seq)?,
                &last_hash.as_bytes()[..],
            ])?;
        Ok(())
    }

    /// Keeps `envelope` (as stored on the relay), whose changes are all part of the
    /// plan now, as `device`'s attestation for snapshots made here — the envelope of
    /// the device's newest change in the plan. Refused or waiting envelopes never are.
    pub fn set_last_applied(
        &self,
        circle: &CircleId,
        device: &DeviceId,
        device_seq: u64,
        envelope: &[u8],
    ) -> Result<()> {
        // The head row is written with the envelope's classification, before it is
        // applied, in the same transaction.
        let updated = self
            .tx
            .prepare_cached(
                "UPDATE device_heads SET last_envelope = ?3 WHERE circle_id = ?1 AND device = ?2",
            )?
            .execute(params![circle.as_str(), device.to_string(), envelope])?;
        if updated != 1 {
            return Err(Error::CorruptStore(format!(
                "no device head for an applied envelope of {} (seq {device_seq})",
                device.short()
            )));
        }
        Ok(())
    }

    /// Keeps the checked snapshot document a pending join of `circle` starts from.
    pub fn put_snapshot_start(&self, circle: &CircleId, document: &[u8]) -> Result<()> {
        self.tx.execute(
            "INSERT OR REPLACE INTO snapshot_starts (circle_id, document) VALUES (?1, ?2)",
            params![circle.as_str(), document],
        )?;
        Ok(())
    }

    /// The document a pending join starts from, removed: the plan now holds it.
    pub fn take_snapshot_start(&self, circle: &CircleId) -> Result<Option<Vec<u8>>> {
        let document = read::snapshot_start(&self.tx, circle)?;
        self.tx.execute(
            "DELETE FROM snapshot_starts WHERE circle_id = ?1",
            [circle.as_str()],
        )?;
        Ok(document)
    }
}
