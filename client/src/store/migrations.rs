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
    // 2: the trust layer and sync. Membership log entries as received (validated on
    // load); envelopes: this device's own (pending until the relay acknowledges them,
    // then acked) and received ones that wait for automerge dependencies; the last
    // envelope seen per author (chain checks and write cutoffs); per-circle sync state.
    "CREATE TABLE membership_entries (
         circle_id TEXT NOT NULL,
         seq INTEGER NOT NULL,
         bytes BLOB NOT NULL,
         PRIMARY KEY (circle_id, seq)
     );
     CREATE TABLE envelopes (
         circle_id TEXT NOT NULL,
         author TEXT NOT NULL,
         device_seq INTEGER NOT NULL,
         hash BLOB NOT NULL,
         bytes BLOB NOT NULL,
         state TEXT NOT NULL CHECK (state IN ('pending', 'acked', 'waiting')),
         cursor INTEGER,
         stored_at INTEGER NOT NULL,
         PRIMARY KEY (circle_id, author, device_seq)
     );
     CREATE INDEX envelopes_by_state ON envelopes (circle_id, state, device_seq);
     CREATE TABLE device_heads (
         circle_id TEXT NOT NULL,
         device TEXT NOT NULL,
         last_seq INTEGER NOT NULL,
         last_hash BLOB NOT NULL,
         PRIMARY KEY (circle_id, device)
     );
     CREATE TABLE sync_state (
         circle_id TEXT PRIMARY KEY,
         relay_url TEXT,
         registered INTEGER NOT NULL DEFAULT 0,
         pull_cursor INTEGER NOT NULL DEFAULT 0,
         sealed_heads BLOB NOT NULL DEFAULT x'',
         last_synced_at INTEGER,
         last_attempt_at INTEGER,
         last_error TEXT,
         offline INTEGER NOT NULL DEFAULT 0,
         removed INTEGER NOT NULL DEFAULT 0,
         pending_join TEXT
     );",
    // 3: erasure. `closed_at`: when this device learned the circle was closed on its
    // relay (the circle is a read-only archive from then on); `closes_at`: the relay's
    // announced retention close of an inactive circle. `departures`: a note, without
    // any of the circle's contents, that this device erased a circle because it was
    // removed from it (so the person can be told why it is gone).
    "ALTER TABLE sync_state ADD COLUMN closed_at INTEGER;
     ALTER TABLE sync_state ADD COLUMN closes_at INTEGER;
     CREATE TABLE departures (
         circle_id TEXT PRIMARY KEY,
         reason TEXT NOT NULL CHECK (reason IN ('removed')),
         at INTEGER NOT NULL
     );",
    // 4: snapshots (docs/sync.md). `last_envelope`: each device's last envelope as
    // received, the attestation a snapshot made here carries for that device;
    // `snapshot_cursor`: the cursor the newest snapshot made or started from here
    // covers; `snapshot_starts`: the checked document a pending join starts from.
    "ALTER TABLE device_heads ADD COLUMN last_envelope BLOB;
     ALTER TABLE sync_state ADD COLUMN snapshot_cursor INTEGER NOT NULL DEFAULT 0;
     CREATE TABLE snapshot_starts (
         circle_id TEXT PRIMARY KEY,
         document BLOB NOT NULL
     );",
    // 5: the first screen. Each circle's `PlanView` as last built, with the newest
    // document chunk it was built from and the version of the code that built it:
    // opening a circle shows it without loading the document while nothing was
    // stored since and the app was not updated (docs/benchmarks.md).
    "CREATE TABLE plan_views (
         circle_id TEXT PRIMARY KEY,
         last_chunk INTEGER NOT NULL,
         built_by TEXT NOT NULL,
         view BLOB NOT NULL
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
