//! Schema migrations, applied in order and recorded in SQLite's `user_version`.
//! Append new steps; never edit a shipped one.

use rusqlite::Connection;

use crate::Result;

const STEPS: &[&str] = &[
    // 1: circles and their document chunks, device settings.
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value BLOB NOT NULL);
     CREATE TABLE circles (id TEXT PRIMARY KEY, me TEXT NOT NULL, added_at INTEGER NOT NULL);
     CREATE TABLE doc_chunks (
         circle_id TEXT NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
         seq INTEGER NOT NULL,
         bytes BLOB NOT NULL,
         PRIMARY KEY (circle_id, seq)
     );",
];

pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, step) in STEPS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}
