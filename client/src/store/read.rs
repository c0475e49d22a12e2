//! Every read of the store, in one place: the SQL of reads lives here, and both
//! [`Store`] and [`StoreTx`] (a transaction derefs to a connection) read through
//! the same functions, so a read inside a transaction sees what it has written.

use super::*;

/// The one number a `SELECT COUNT(*) …` query gives.
pub fn count(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<u64> {
    let n: i64 = conn.query_row(sql, params, |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

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

/// The view kept for `id` if it was built from the document at `last_chunk`.
pub fn plan_view(conn: &Connection, id: &CircleId, last_chunk: i64) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT view FROM plan_views
             WHERE circle_id = ?1 AND last_chunk = ?2 AND built_by = ?3",
        )?
        .query_row(params![id.as_str(), last_chunk, VIEW_BUILT_BY], |r| {
            r.get(0)
        })
        .optional()?)
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
            snapshot_cursor: r.get(13)?,
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
    snapshot_cursor: i64,
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
        snapshot_cursor: to_u64(raw.snapshot_cursor),
    })
}

const SYNC_COLUMNS: &str = "SELECT circle_id, relay_url, registered, pull_cursor, sealed_heads,
     last_synced_at, last_attempt_at, last_error, offline, removed, pending_join, closed_at,
     closes_at, snapshot_cursor FROM sync_state";

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

/// A number kept in a setting (little-endian u64).
pub fn number_setting(conn: &Connection, key: &str) -> Result<Option<u64>> {
    Ok(setting(conn, key)?
        .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
        .map(u64::from_le_bytes))
}

/// This device's envelopes sealed for the family, in the form kept for received
/// ones (the family's draft and a presentation read them with the others').
pub fn own_family_envelopes(
    conn: &Connection,
    circle: &CircleId,
    me: &DeviceId,
) -> Result<Vec<WaitingEnvelope>> {
    let Some(from) = number_setting(conn, &sync_state::family_from_key(circle))? else {
        return Ok(Vec::new());
    };
    Ok(own_envelopes(conn, circle, me, from, false)?
        .into_iter()
        .filter(|own| crate::envelope::family_generation(&own.bytes).is_some())
        .map(|own| WaitingEnvelope {
            cursor: own.cursor.unwrap_or(0),
            author: *me,
            device_seq: own.device_seq,
            hash: own.hash,
            bytes: own.bytes,
        })
        .collect())
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

/// What a snapshot made here carries to show whose changes are in it: the last
/// envelope received from each other device, and this device's own last acknowledged.
pub fn attestations(conn: &Connection, circle: &CircleId, me: &DeviceId) -> Result<Vec<Vec<u8>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT last_envelope FROM device_heads
         WHERE circle_id = ?1 AND last_envelope IS NOT NULL
         UNION ALL
         SELECT * FROM (SELECT bytes FROM envelopes
             WHERE circle_id = ?1 AND author = ?2 AND state = 'acked'
             ORDER BY device_seq DESC LIMIT 1)",
    )?;
    let rows = stmt.query_map(params![circle.as_str(), me.to_string()], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn snapshot_start(conn: &Connection, circle: &CircleId) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT document FROM snapshot_starts WHERE circle_id = ?1",
            [circle.as_str()],
            |r| r.get(0),
        )
        .optional()?)
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

impl Store {
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
        read::count(
            &self.conn,
            "SELECT COUNT(*) FROM envelopes
             WHERE circle_id = ?1 AND author = ?2 AND state = 'pending'",
            params![circle.as_str(), me.to_string()],
        )
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

    /// The family envelopes this device keeps for `circle`: others' that wait, and
    /// its own.
    pub fn family_envelopes(
        &self,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Vec<WaitingEnvelope>> {
        family_envelopes(&self.conn, circle, me)
    }

    /// Received envelopes waiting for changes they build on — not counting the
    /// family's, kept sealed until a presentation (nothing is missing for those).
    pub fn waiting_for_changes(&self, circle: &CircleId) -> Result<u64> {
        let waiting = read::waiting(&self.conn, circle)?;
        let for_circle = waiting
            .iter()
            .filter(|w| crate::envelope::family_generation(&w.bytes).is_none());
        Ok(u64::try_from(for_circle.count()).unwrap_or(u64::MAX))
    }

    /// Every received envelope kept, the family's sealed ones included (a snapshot
    /// waits until none is left: it would leave them out).
    pub fn waiting_count(&self, circle: &CircleId) -> Result<u64> {
        read::count(
            &self.conn,
            "SELECT COUNT(*) FROM envelopes WHERE circle_id = ?1 AND state = 'waiting'",
            [circle.as_str()],
        )
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

    pub fn attestations(&self, circle: &CircleId, me: &DeviceId) -> Result<Vec<Vec<u8>>> {
        read::attestations(&self.conn, circle, me)
    }

    /// This device's newest envelope in the circle: `(device_seq, hash)`.
    pub fn last_own(
        &self,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Option<(u64, EnvelopeHash)>> {
        read::last_own(&self.conn, circle, me)
    }

    /// Whether `device` was cut off in `circle` (see [`StoreTx::cut_off`]).
    pub fn is_cut_off(&self, circle: &CircleId, device: &DeviceId) -> Result<bool> {
        Ok(read::setting(&self.conn, &sync_state::cut_off_key(circle, device))?.is_some())
    }

    /// See [`CircleVersion`].
    pub fn circle_version(&self, id: &CircleId) -> Result<CircleVersion> {
        read::version(&self.conn, id)
    }

    /// The document chunk the kept view of `id` was built from, if this code kept it.
    pub fn kept_view_chunk(&self, id: &CircleId) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT last_chunk FROM plan_views WHERE circle_id = ?1 AND built_by = ?2",
            )?
            .query_row(params![id.as_str(), VIEW_BUILT_BY], |r| r.get(0))
            .optional()?)
    }

    /// The circle's view as kept by [`Store::keep_view`], if it was built from the
    /// document as it is stored now; `None` otherwise (also when the kept bytes do not
    /// decode: the caller builds the view from the document).
    pub fn stored_view(&self, id: &CircleId) -> Result<Option<PlanView>> {
        let version = read::version(&self.conn, id)?;
        Ok(read::plan_view(&self.conn, id, version.last_chunk)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }
}

impl StoreTx<'_> {
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

    /// See [`Store::family_envelopes`].
    pub fn family_envelopes(
        &self,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Vec<WaitingEnvelope>> {
        family_envelopes(&self.tx, circle, me)
    }

    /// This device's own envelopes sealed for the family, in the form kept for
    /// received ones.
    pub fn own_family_envelopes(
        &self,
        circle: &CircleId,
        me: &DeviceId,
    ) -> Result<Vec<WaitingEnvelope>> {
        read::own_family_envelopes(&self.tx, circle, me)
    }

    /// The newest family key generation whose presentation is part of this device's
    /// plan (0: none).
    pub fn presented_generation(&self, circle: &CircleId) -> Result<u64> {
        Ok(read::number_setting(&self.tx, &sync_state::presented_key(circle))?.unwrap_or(0))
    }

    pub fn is_cut_off(&self, circle: &CircleId, device: &DeviceId) -> Result<bool> {
        Ok(read::setting(&self.tx, &sync_state::cut_off_key(circle, device))?.is_some())
    }

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

fn family_envelopes(
    conn: &Connection,
    circle: &CircleId,
    me: &DeviceId,
) -> Result<Vec<WaitingEnvelope>> {
    let mut kept = waiting(conn, circle)?;
    kept.extend(own_family_envelopes(conn, circle, me)?);
    Ok(kept)
}
