//! The embedded store: one SQLite file in WAL mode with `synchronous=FULL`.
//!
//! Writes go through one dedicated thread that owns the only writing connection. It
//! drains whatever commands are waiting, runs each in its own savepoint (a refused
//! push rolls back alone) and commits them together: one fsync acknowledges many
//! pushes (group commit). Replies are sent only after the commit, so acknowledged
//! means durable. Reads use a small pool of read-only connections on the blocking
//! thread pool; WAL lets them run beside the writer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use kring_core::envelope::EnvelopeHash;
use kring_core::identity::DeviceId;
use kring_core::membership::{MembershipState, SignedEntry};
use kring_core::plan::ids::CircleId;
use kring_core::{Error, Result, Timestamp};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use super::push::{apply_push, PushTx};
use super::{
    CircleKey, NewEnvelope, PulledPage, PushOutcome, RelayStore, StoreFuture, StoredCircle,
};
use crate::error::internal;

const SCHEMA_VERSION: i64 = 1;
// Version 1 is the first released schema; bump it and migrate on any change.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS circles (
    num        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS membership (
    circle INTEGER NOT NULL REFERENCES circles(num),
    seq    INTEGER NOT NULL,
    hash   BLOB NOT NULL,
    bytes  BLOB NOT NULL,
    UNIQUE (circle, seq)
);
-- Clustered by (circle, cursor): a pull reads one contiguous range, and a push
-- touches the end of its circle's range and one index page.
CREATE TABLE IF NOT EXISTS envelopes (
    circle     INTEGER NOT NULL REFERENCES circles(num),
    cursor     INTEGER NOT NULL,
    author     BLOB NOT NULL,
    device_seq INTEGER NOT NULL,
    hash       BLOB NOT NULL,
    stored_at  INTEGER NOT NULL,
    bytes      BLOB NOT NULL,
    PRIMARY KEY (circle, cursor)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS envelopes_by_author
    ON envelopes (circle, author, device_seq);
";

/// How often the checkpointer moves committed pages from the WAL into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// WAL pages after which the writer checkpoints itself (only if the checkpointer lags).
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// Page cache of the writer: the index and table pages of active circles stay in it.
const WRITER_CACHE_KIB: u32 = 64 * 1024;

/// Most commands committed together.
const MAX_GROUP: usize = 256;
/// Commands waiting for the writer before senders wait.
const QUEUE: usize = 4096;

enum Message {
    Write(Box<Command>),
    /// Finish the current group, then stop.
    Close(oneshot::Sender<()>),
}

enum Command {
    Create {
        circle: CircleId,
        genesis: SignedEntry,
        reply: oneshot::Sender<Result<CircleKey>>,
    },
    Append {
        circle: CircleKey,
        entry: SignedEntry,
        reply: oneshot::Sender<Result<()>>,
    },
    Push {
        circle: CircleKey,
        state: Arc<MembershipState>,
        batch: Vec<NewEnvelope>,
        reply: oneshot::Sender<Result<PushOutcome>>,
    },
}

/// A command run inside the group transaction, waiting for the commit to reply.
enum Done {
    Create(oneshot::Sender<Result<CircleKey>>, Result<CircleKey>),
    Append(oneshot::Sender<Result<()>>, Result<()>),
    Push(oneshot::Sender<Result<PushOutcome>>, Result<PushOutcome>),
}

impl Done {
    fn succeeded(&self) -> bool {
        match self {
            Done::Create(_, r) => r.is_ok(),
            Done::Append(_, r) => r.is_ok(),
            Done::Push(_, r) => r.is_ok(),
        }
    }

    /// Replies; if the commit failed, successes become that failure.
    fn reply(self, commit: &std::result::Result<(), String>) {
        fn settle<T>(result: Result<T>, commit: &std::result::Result<(), String>) -> Result<T> {
            match (result, commit) {
                (Ok(_), Err(e)) => Err(internal(format!("commit failed: {e}"))),
                (result, _) => result,
            }
        }
        // A caller that gave up (dropped its receiver) needs no answer.
        match self {
            Done::Create(tx, r) => drop(tx.send(settle(r, commit))),
            Done::Append(tx, r) => drop(tx.send(settle(r, commit))),
            Done::Push(tx, r) => drop(tx.send(settle(r, commit))),
        }
    }
}

/// Observes group commits (for metrics): number of commands, seconds taken.
pub type CommitObserver = Box<dyn Fn(usize, f64) + Send + Sync>;

pub struct SqliteStore {
    writer: mpsc::Sender<Message>,
    thread: Mutex<Option<JoinHandle<()>>>,
    checkpointer: Mutex<Option<(std::sync::mpsc::Sender<()>, JoinHandle<()>)>>,
    readers: Arc<ReadPool>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(
        path: &Path,
        read_connections: usize,
        observer: Option<CommitObserver>,
    ) -> Result<Self> {
        let conn = open_writer(path)?;
        let checkpointer = spawn_checkpointer(path)?;
        let (writer, commands) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("kring-sqlite-writer".into())
            .spawn(move || write_loop(conn, commands, observer))?;
        let readers = Arc::new(ReadPool {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            max_idle: read_connections.max(1),
        });
        // Fail at start, not on the first read, if readers cannot open.
        readers.with(|_| Ok(()))?;
        Ok(Self {
            writer,
            thread: Mutex::new(Some(thread)),
            checkpointer: Mutex::new(Some(checkpointer)),
            readers,
        })
    }

    async fn send<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T>>) -> Command) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Message::Write(Box::new(make(reply))))
            .await
            .map_err(|_| internal("the store is closed"))?;
        answer
            .await
            .map_err(|_| internal("the store writer stopped"))?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || readers.with(f))
            .await
            .map_err(|e| internal(format!("read task failed: {e}")))?
    }
}

impl RelayStore for SqliteStore {
    fn create_circle(&self, circle: CircleId, genesis: SignedEntry) -> StoreFuture<'_, CircleKey> {
        Box::pin(self.send(move |reply| Command::Create {
            circle,
            genesis,
            reply,
        }))
    }

    fn load_circle(&self, circle: CircleId) -> StoreFuture<'_, Option<StoredCircle>> {
        Box::pin(self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let found = tx
                .query_row(
                    "SELECT num FROM circles WHERE id = ?1",
                    [circle.as_str()],
                    |row| row.get::<_, i64>(0),
                )
                .optional()?;
            let Some(num) = found else {
                return Ok(None);
            };
            let latest = latest_cursor(&tx, num)?;
            let log = entries_from(&tx, num, 0)?;
            tx.finish()?;
            Ok(Some(StoredCircle {
                key: CircleKey(num),
                log,
                latest: to_u64(latest),
            }))
        }))
    }

    fn append_entry(&self, circle: CircleKey, entry: SignedEntry) -> StoreFuture<'_, ()> {
        Box::pin(self.send(move |reply| Command::Append {
            circle,
            entry,
            reply,
        }))
    }

    fn entries_from(&self, circle: CircleKey, from: u64) -> StoreFuture<'_, Vec<Vec<u8>>> {
        Box::pin(self.read(move |conn| entries_from(conn, circle.0, from)))
    }

    fn push(
        &self,
        circle: CircleKey,
        state: Arc<MembershipState>,
        batch: Vec<NewEnvelope>,
    ) -> StoreFuture<'_, PushOutcome> {
        Box::pin(self.send(move |reply| Command::Push {
            circle,
            state,
            batch,
            reply,
        }))
    }

    fn last_seqs(
        &self,
        circle: CircleKey,
        devices: Vec<DeviceId>,
    ) -> StoreFuture<'_, Vec<(DeviceId, u64)>> {
        Box::pin(self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT MAX(device_seq) FROM envelopes WHERE circle = ?1 AND author = ?2",
            )?;
            let mut out = Vec::new();
            for device in devices {
                let last: Option<i64> = statement
                    .query_row(params![circle.0, &device.as_bytes()[..]], |row| row.get(0))?;
                if let Some(last) = last {
                    out.push((device, to_u64(last)));
                }
            }
            Ok(out)
        }))
    }

    fn pull(
        &self,
        circle: CircleKey,
        after: u64,
        limit: u32,
        budget: usize,
    ) -> StoreFuture<'_, PulledPage> {
        Box::pin(self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let latest = latest_cursor(&tx, circle.0)?;
            let mut statement = tx.prepare_cached(
                "SELECT cursor, bytes FROM envelopes WHERE circle = ?1 AND cursor > ?2
                 ORDER BY cursor LIMIT ?3",
            )?;
            let mut rows =
                statement.query(params![circle.0, to_i64(after), i64::from(limit) + 1])?;
            let mut envelopes = Vec::new();
            let mut bytes = 0usize;
            let mut more = false;
            // Rows are read one at a time, so a page never holds more than its budget
            // (plus one envelope) in memory, however large the circle is.
            while let Some(row) = rows.next()? {
                let size = row
                    .get_ref(1)?
                    .as_blob()
                    .map_err(rusqlite::Error::from)?
                    .len();
                let full = envelopes.len() >= limit as usize
                    || (!envelopes.is_empty() && bytes.saturating_add(size) > budget);
                if full {
                    more = true;
                    break;
                }
                bytes = bytes.saturating_add(size);
                envelopes.push((to_u64(row.get::<_, i64>(0)?), row.get::<_, Vec<u8>>(1)?));
            }
            drop(rows);
            drop(statement);
            tx.finish()?;
            Ok(PulledPage {
                envelopes,
                latest: to_u64(latest),
                more,
            })
        }))
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let checkpointer = self.checkpointer.lock().ok().and_then(|mut c| c.take());
            if let Some((stop, thread)) = checkpointer {
                let _ = stop.send(());
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            }
            let (reply, done) = oneshot::channel();
            if self.writer.send(Message::Close(reply)).await.is_ok() {
                let _ = done.await;
            }
            let thread = self.thread.lock().ok().and_then(|mut t| t.take());
            if let Some(thread) = thread {
                tokio::task::spawn_blocking(move || thread.join())
                    .await
                    .map_err(|e| internal(format!("joining the writer: {e}")))?
                    .map_err(|_| internal("the store writer panicked"))?;
            }
            Ok(())
        })
    }
}

fn open_writer(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(internal(format!(
            "cannot switch {} to WAL (got {mode})",
            path.display()
        )));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
         PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES};
         PRAGMA cache_size = -{WRITER_CACHE_KIB};"
    ))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(internal(format!(
            "{} has schema version {version}; this relay knows up to {SCHEMA_VERSION}",
            path.display()
        )));
    }
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    ))?;
    Ok(conn)
}

/// Checkpoints from a connection of its own, so the writer does not stall on copying
/// pages and syncing the database file (a passive checkpoint never blocks writers).
fn spawn_checkpointer(path: &Path) -> Result<(std::sync::mpsc::Sender<()>, JoinHandle<()>)> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch("PRAGMA synchronous = FULL;")?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("kring-sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
        })?;
    Ok((stop, thread))
}

struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

impl ReadPool {
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.max_idle {
                idle.push(conn);
            }
        }
        result
    }
}

fn write_loop(
    conn: Connection,
    mut commands: mpsc::Receiver<Message>,
    observer: Option<CommitObserver>,
) {
    let mut closing: Option<oneshot::Sender<()>> = None;
    while closing.is_none() {
        let Some(first) = commands.blocking_recv() else {
            break;
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match commands.try_recv() {
                Ok(command) => group.push(command),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let count = group.len();
        let mut done = Vec::with_capacity(count);
        let mut poisoned = false;
        let begin = conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| e.to_string());
        for message in group {
            let command = match message {
                Message::Close(reply) => {
                    closing = Some(reply);
                    continue;
                }
                Message::Write(command) => *command,
            };
            done.push(match &begin {
                Ok(()) if !poisoned => run_in_savepoint(&conn, command, &mut poisoned),
                Ok(()) => refuse(command, "an earlier command could not be rolled back"),
                Err(e) => refuse(command, e),
            });
        }
        let commit = match begin {
            Err(e) => Err(e),
            Ok(()) if poisoned => {
                let _ = conn.execute_batch("ROLLBACK");
                Err("a savepoint could not be closed; the group was rolled back".to_owned())
            }
            Ok(()) if !done.iter().any(Done::succeeded) => {
                conn.execute_batch("ROLLBACK").map_err(|e| e.to_string())
            }
            Ok(()) => conn.execute_batch("COMMIT").map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                e.to_string()
            }),
        };
        if let Err(e) = &commit {
            tracing::error!(error = %e, "store commit failed");
        }
        for d in done {
            d.reply(&commit);
        }
        if let Some(observer) = &observer {
            observer(count, started.elapsed().as_secs_f64());
        }
    }
    // Anything still queued after Close is refused by dropping its reply sender.
    drop(commands);
    // Leave a small WAL behind (backups and moves copy one file).
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "final checkpoint failed");
    }
    drop(conn);
    if let Some(reply) = closing {
        let _ = reply.send(());
    }
}

fn refuse(command: Command, why: &str) -> Done {
    let error = || internal(format!("not run: {why}"));
    match command {
        Command::Create { reply, .. } => Done::Create(reply, Err(error())),
        Command::Append { reply, .. } => Done::Append(reply, Err(error())),
        Command::Push { reply, .. } => Done::Push(reply, Err(error())),
    }
}

/// Runs one command in its own savepoint. If a savepoint cannot be closed, the group
/// is `poisoned`: the caller rolls everything back rather than commit half a command.
fn run_in_savepoint(conn: &Connection, command: Command, poisoned: &mut bool) -> Done {
    fn savepoint<T>(
        conn: &Connection,
        poisoned: &mut bool,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        conn.prepare_cached("SAVEPOINT command")?.execute([])?;
        let result = f();
        let end = |sql: &str| conn.prepare_cached(sql).and_then(|mut s| s.execute([]));
        let closed = match &result {
            Ok(_) => end("RELEASE command"),
            Err(_) => end("ROLLBACK TO command").and_then(|_| end("RELEASE command")),
        };
        if let Err(e) = closed {
            *poisoned = true;
            return Err(e.into());
        }
        result
    }
    match command {
        Command::Create {
            circle,
            genesis,
            reply,
        } => Done::Create(
            reply,
            savepoint(conn, poisoned, || create(conn, &circle, &genesis)),
        ),
        Command::Append {
            circle,
            entry,
            reply,
        } => Done::Append(
            reply,
            savepoint(conn, poisoned, || insert_entry(conn, circle.0, &entry)),
        ),
        Command::Push {
            circle,
            state,
            batch,
            reply,
        } => Done::Push(
            reply,
            savepoint(conn, poisoned, || push(conn, circle.0, &state, &batch)),
        ),
    }
}

fn create(conn: &Connection, circle: &CircleId, genesis: &SignedEntry) -> Result<CircleKey> {
    let inserted = conn.execute(
        "INSERT INTO circles (id, created_at) VALUES (?1, ?2)",
        params![circle.as_str(), Timestamp::now().0],
    );
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
            return Err(Error::CircleExists(circle.to_string()));
        }
        other => other?,
    };
    let num = conn.last_insert_rowid();
    insert_entry(conn, num, genesis)?;
    Ok(CircleKey(num))
}

fn insert_entry(conn: &Connection, circle: i64, entry: &SignedEntry) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO membership (circle, seq, hash, bytes) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        circle,
        to_i64(entry.seq()),
        &entry.hash().as_bytes()[..],
        entry.as_bytes()
    ])?;
    Ok(())
}

fn entries_from(conn: &Connection, circle: i64, from: u64) -> Result<Vec<Vec<u8>>> {
    let mut statement = conn.prepare_cached(
        "SELECT bytes FROM membership WHERE circle = ?1 AND seq >= ?2 ORDER BY seq",
    )?;
    let rows = statement
        .query_map(params![circle, to_i64(from)], |row| {
            row.get::<_, Vec<u8>>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn push(
    conn: &Connection,
    circle: i64,
    state: &MembershipState,
    batch: &[NewEnvelope],
) -> Result<PushOutcome> {
    let latest = latest_cursor(conn, circle)?;
    let mut tx = SqlPush {
        conn,
        circle,
        latest,
        now: Timestamp::now().0,
    };
    let (cursors, stored) = apply_push(&mut tx, state, batch)?;
    Ok(PushOutcome {
        cursors,
        latest: to_u64(tx.latest),
        stored,
    })
}

struct SqlPush<'c> {
    conn: &'c Connection,
    circle: i64,
    latest: i64,
    now: i64,
}

impl PushTx for SqlPush<'_> {
    fn stored_at(
        &mut self,
        author: &DeviceId,
        device_seq: u64,
    ) -> Result<Option<(u64, EnvelopeHash)>> {
        let Ok(device_seq) = i64::try_from(device_seq) else {
            return Ok(None);
        };
        let row = self
            .conn
            .prepare_cached(
                "SELECT cursor, hash FROM envelopes WHERE circle = ?1 AND author = ?2 AND device_seq = ?3",
            )?
            .query_row(params![self.circle, &author.as_bytes()[..], device_seq], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        row.map(|(cursor, hash)| Ok((to_u64(cursor), to_hash(hash)?)))
            .transpose()
    }

    fn last_of(&mut self, author: &DeviceId) -> Result<Option<(u64, EnvelopeHash)>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT device_seq, hash FROM envelopes WHERE circle = ?1 AND author = ?2
                 ORDER BY device_seq DESC LIMIT 1",
            )?
            .query_row(params![self.circle, &author.as_bytes()[..]], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        row.map(|(seq, hash)| Ok((to_u64(seq), to_hash(hash)?)))
            .transpose()
    }

    fn insert(&mut self, envelope: &NewEnvelope) -> Result<u64> {
        let header = envelope.verified.header();
        let device_seq = i64::try_from(header.device_seq)
            .map_err(|_| internal("device_seq beyond the store's range"))?;
        let cursor = self.latest + 1;
        self.conn
            .prepare_cached(
                "INSERT INTO envelopes (circle, cursor, author, device_seq, hash, bytes, stored_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                self.circle,
                cursor,
                &header.author.as_bytes()[..],
                device_seq,
                &envelope.verified.hash().as_bytes()[..],
                &envelope.bytes,
                self.now
            ])?;
        self.latest = cursor;
        Ok(to_u64(cursor))
    }
}

/// The circle's newest cursor (0 before its first envelope).
fn latest_cursor(conn: &Connection, circle: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(cursor), 0) FROM envelopes WHERE circle = ?1")?
        .query_row([circle], |row| row.get(0))?)
}

fn to_hash(bytes: Vec<u8>) -> Result<EnvelopeHash> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| internal("a stored envelope hash is not 32 bytes"))?;
    Ok(EnvelopeHash::from_bytes(bytes))
}

/// Cursors, positions and sequence numbers are stored as SQLite integers (i64).
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queries on the push and pull paths must seek, never scan: a scan would make
    /// every push slower as the relay fills.
    #[test]
    fn hot_queries_use_indexes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = open_writer(&dir.path().join("relay.db")).expect("open");
        for sql in [
            "SELECT coalesce(max(cursor), 0) FROM envelopes WHERE circle = 1",
            "SELECT cursor, hash FROM envelopes WHERE circle = 1 AND author = x'00' AND device_seq = 2",
            "SELECT device_seq, hash FROM envelopes WHERE circle = 1 AND author = x'00'
             ORDER BY device_seq DESC LIMIT 1",
            "SELECT cursor, bytes FROM envelopes WHERE circle = 1 AND cursor > 5 ORDER BY cursor LIMIT 10",
            "SELECT bytes FROM membership WHERE circle = 1 AND seq >= 0 ORDER BY seq",
            "SELECT num FROM circles WHERE id = 'x'",
        ] {
            let mut plan = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("explain");
            let details: Vec<String> = plan
                .query_map([], |row| row.get::<_, String>(3))
                .expect("query")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            assert!(
                details.iter().all(|d| !d.starts_with("SCAN") && !d.contains("TEMP B-TREE")),
                "{sql}: {details:?}"
            );
        }
    }
}
