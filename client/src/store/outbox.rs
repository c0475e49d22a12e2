//! This device's own envelopes: the outbox until the relay acknowledges them, then
//! kept (acked) so a relay that lost them can be sent them again.

use super::*;

impl StoreTx<'_> {
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
}
