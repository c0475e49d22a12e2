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

use crate::error::{Error, Result};
use kring_trust::envelope::EnvelopeHash;
use kring_trust::identity::DeviceId;
use kring_trust::ids::CircleId;
use kring_trust::membership::{MembershipState, SignedEntry};
use kring_trust::{Error as TrustError, Timestamp};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use super::push::{apply_push, charge, day_of, quota_account, PushTx, Quotas, Usage};
use super::{
    to_hash, to_i64, to_u64, Admitted, CircleKey, NewEnvelope, PulledPage, PushOutcome, RelayStore,
    StoreFuture, StoredCircle,
};
use crate::error::internal;
use crate::push::Subscription;

const SCHEMA_VERSION: i64 = 4;
// Version 1 is the first released schema; bump it and migrate on any change.
// Version 2 (`MIGRATE_2`): usage counters and the tombstone on circles, usage per
// device per day, the credential a circle was admitted with, revoked credentials.
// Version 3 (`MIGRATE_3`): push subscriptions and the relay's own secrets; when
// something was last stored in each circle (retention).
// Version 4 (`MIGRATE_4`): the newest snapshot of each circle.
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

/// From version 1 to 2. The counters of existing circles are computed once here.
const MIGRATE_2: &str = "
ALTER TABLE circles ADD COLUMN envelopes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE circles ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
-- Set when the owner closed the circle: the row is its tombstone, nothing else is kept.
ALTER TABLE circles ADD COLUMN closed_at INTEGER;
-- The admission credential the circle was created with (credential mode).
ALTER TABLE circles ADD COLUMN admission TEXT;
UPDATE circles SET
    envelopes = (SELECT count(*) FROM envelopes e WHERE e.circle = circles.num),
    bytes = (SELECT coalesce(sum(length(e.bytes)), 0) FROM envelopes e WHERE e.circle = circles.num);
CREATE INDEX IF NOT EXISTS circles_by_admission ON circles (admission) WHERE admission IS NOT NULL;
-- What each device stored per UTC day (for the daily quota); old days are pruned.
CREATE TABLE IF NOT EXISTS device_days (
    device    BLOB NOT NULL,
    day       INTEGER NOT NULL,
    envelopes INTEGER NOT NULL,
    bytes     INTEGER NOT NULL,
    PRIMARY KEY (device, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS admission_revoked (
    id         TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);
";

/// From version 2 to 3. A circle's last activity starts as its newest envelope's (or
/// its creation): membership entries carry no storage time of their own.
const MIGRATE_3: &str = "
-- One Web Push subscription per device per circle (docs/push.md).
CREATE TABLE IF NOT EXISTS push_subscriptions (
    circle     INTEGER NOT NULL REFERENCES circles(num),
    device     BLOB NOT NULL,
    endpoint   TEXT NOT NULL,
    p256dh     BLOB NOT NULL,
    auth       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (circle, device)
) WITHOUT ROWID;
-- The relay's own keys (the VAPID key), kept with the subscriptions bound to them.
CREATE TABLE IF NOT EXISTS relay_secrets (
    name   TEXT PRIMARY KEY,
    secret BLOB NOT NULL
);
ALTER TABLE circles ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0;
UPDATE circles SET active_at = max(created_at,
    coalesce((SELECT max(e.stored_at) FROM envelopes e WHERE e.circle = circles.num), 0));
CREATE INDEX IF NOT EXISTS circles_by_activity ON circles (active_at) WHERE closed_at IS NULL;
";

/// From version 3 to 4.
const MIGRATE_4: &str = "
-- The newest snapshot of each circle (docs/sync.md, Snapshots): opaque, signed by one
-- of the main person's devices, covering the envelopes up to `covers`.
CREATE TABLE IF NOT EXISTS snapshots (
    circle    INTEGER PRIMARY KEY REFERENCES circles(num),
    covers    INTEGER NOT NULL,
    stored_at INTEGER NOT NULL,
    bytes     BLOB NOT NULL
);
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
        admission: Option<Admitted>,
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
        quotas: Quotas,
        reply: oneshot::Sender<Result<PushOutcome>>,
    },
    Close {
        circle: CircleKey,
        /// Only if nothing was stored in it since (a retention close; `None`: the
        /// owner's, unconditional).
        inactive_before: Option<i64>,
        reply: oneshot::Sender<Result<bool>>,
    },
    Revoke {
        credential: String,
        reply: oneshot::Sender<Result<bool>>,
    },
    PutPush {
        circle: CircleKey,
        device: DeviceId,
        subscription: Subscription,
        reply: oneshot::Sender<Result<()>>,
    },
    DeletePush {
        circle: CircleKey,
        devices: Vec<DeviceId>,
        endpoint: Option<String>,
        reply: oneshot::Sender<Result<u64>>,
    },
    Secret {
        name: &'static str,
        generated: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>>>,
    },
    Snapshot {
        circle: CircleKey,
        covers: u64,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<bool>>,
    },
}

impl Command {
    /// The circle whose push subscriptions this command may change.
    fn subscriptions_written(&self) -> Option<i64> {
        match self {
            Command::PutPush { circle, .. }
            | Command::DeletePush { circle, .. }
            | Command::Close { circle, .. } => Some(circle.0),
            Command::Create { .. }
            | Command::Append { .. }
            | Command::Push { .. }
            | Command::Revoke { .. }
            | Command::Secret { .. }
            | Command::Snapshot { .. } => None,
        }
    }
}

/// A command run inside the group transaction, waiting for the commit to reply.
enum Done {
    Create(oneshot::Sender<Result<CircleKey>>, Result<CircleKey>),
    Append(oneshot::Sender<Result<()>>, Result<()>),
    Push(oneshot::Sender<Result<PushOutcome>>, Result<PushOutcome>),
    Close(oneshot::Sender<Result<bool>>, Result<bool>),
    Revoke(oneshot::Sender<Result<bool>>, Result<bool>),
    PutPush(oneshot::Sender<Result<()>>, Result<()>),
    DeletePush(oneshot::Sender<Result<u64>>, Result<u64>),
    Secret(oneshot::Sender<Result<Vec<u8>>>, Result<Vec<u8>>),
    Snapshot(oneshot::Sender<Result<bool>>, Result<bool>),
}

impl Done {
    fn succeeded(&self) -> bool {
        match self {
            Done::Create(_, r) => r.is_ok(),
            Done::Append(_, r) => r.is_ok(),
            Done::Push(_, r) => r.is_ok(),
            Done::Close(_, r) => r.is_ok(),
            Done::Revoke(_, r) => r.is_ok(),
            Done::PutPush(_, r) => r.is_ok(),
            Done::DeletePush(_, r) => r.is_ok(),
            Done::Secret(_, r) => r.is_ok(),
            Done::Snapshot(_, r) => r.is_ok(),
        }
    }

    /// Replies; if the commit failed, successes become that failure.
    fn reply(self, commit: &std::result::Result<(), String>) {
        fn settle<T>(result: Result<T>, commit: &std::result::Result<(), String>) -> Result<T> {
            match (result, commit) {
                (Ok(_), Err(e)) => Err(internal(format!("commit failed: {e}")).into()),
                (result, _) => result,
            }
        }
        // A caller that gave up (dropped its receiver) needs no answer.
        match self {
            Done::Create(tx, r) => drop(tx.send(settle(r, commit))),
            Done::Append(tx, r) => drop(tx.send(settle(r, commit))),
            Done::Push(tx, r) => drop(tx.send(settle(r, commit))),
            Done::Close(tx, r) => drop(tx.send(settle(r, commit))),
            Done::Revoke(tx, r) => drop(tx.send(settle(r, commit))),
            Done::PutPush(tx, r) => drop(tx.send(settle(r, commit))),
            Done::DeletePush(tx, r) => drop(tx.send(settle(r, commit))),
            Done::Secret(tx, r) => drop(tx.send(settle(r, commit))),
            Done::Snapshot(tx, r) => drop(tx.send(settle(r, commit))),
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
    subscriptions: Arc<SubscriptionCache>,
}

/// Each circle's Web Push subscriptions as last read, so the wake-up dispatcher does
/// not read SQLite for every stored envelope (most circles have none, and they
/// change only when a device registers, unregisters or leaves).
///
/// The writer invalidates a circle after committing anything that touches its
/// subscriptions, before it replies. A read caches what it found only if no
/// invalidation happened since it began ([`Self::generation`]), so a read that
/// overlapped a write can never leave the old list cached.
#[derive(Default)]
struct SubscriptionCache {
    generation: std::sync::atomic::AtomicU64,
    circles: Mutex<std::collections::HashMap<i64, Subscribed>>,
}

/// A circle's subscriptions: each device's.
type Subscribed = Arc<Vec<(DeviceId, Subscription)>>;

/// Circles whose subscriptions are kept in memory at most (then the cache starts over).
const CACHED_SUBSCRIPTION_CIRCLES: usize = 65_536;

impl SubscriptionCache {
    fn circles(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, Subscribed>> {
        self.circles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, circle: i64) -> Option<Subscribed> {
        self.circles().get(&circle).cloned()
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Keeps what a read that began at `generation` found, unless a write came since.
    fn keep(&self, circle: i64, generation: u64, found: Subscribed) {
        let mut circles = self.circles();
        if self.generation() != generation {
            return;
        }
        if circles.len() >= CACHED_SUBSCRIPTION_CIRCLES {
            circles.clear();
        }
        circles.insert(circle, found);
    }

    /// After a commit that may have changed `circle`'s subscriptions.
    fn invalidate(&self, circle: i64) {
        let mut circles = self.circles();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        circles.remove(&circle);
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(
        path: &Path,
        read_connections: usize,
        observer: Option<CommitObserver>,
    ) -> Result<Self> {
        restrict_files(path)?;
        let conn = open_writer(path)?;
        restrict_files(path)?;
        let checkpointer = spawn_checkpointer(path)?;
        let (writer, commands) = mpsc::channel(QUEUE);
        let subscriptions = Arc::new(SubscriptionCache::default());
        let written = Arc::clone(&subscriptions);
        let thread = std::thread::Builder::new()
            .name("kring-sqlite-writer".into())
            .spawn(move || write_loop(conn, commands, observer, &written))?;
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
            subscriptions,
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
    fn log_len(&self, circle: CircleKey) -> StoreFuture<'_, u64> {
        Box::pin(self.read(move |conn| {
            let (id, closed, len): (String, Option<i64>, i64) = conn
                .prepare_cached(
                    "SELECT id, closed_at, (SELECT count(*) FROM membership WHERE circle = ?1)
                     FROM circles WHERE num = ?1",
                )?
                .query_row([circle.0], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
            match closed {
                Some(_) => Err(TrustError::CircleClosed(id).into()),
                None => Ok(to_u64(len)),
            }
        }))
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.read(|conn| {
            conn.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?;
            Ok(())
        }))
    }

    fn create_circle(
        &self,
        circle: CircleId,
        genesis: SignedEntry,
        admission: Option<Admitted>,
    ) -> StoreFuture<'_, CircleKey> {
        Box::pin(self.send(move |reply| Command::Create {
            circle,
            genesis,
            admission,
            reply,
        }))
    }

    fn close_circle(&self, circle: CircleKey, _judged_at: u64) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.send(move |reply| Command::Close {
                circle,
                inactive_before: None,
                reply,
            })
            .await
            .map(drop)
        })
    }

    fn close_inactive(&self, circle: CircleKey, before: Timestamp) -> StoreFuture<'_, bool> {
        Box::pin(self.send(move |reply| Command::Close {
            circle,
            inactive_before: Some(before.0),
            reply,
        }))
    }

    fn inactive_circles(&self, before: Timestamp) -> StoreFuture<'_, Vec<(CircleId, CircleKey)>> {
        Box::pin(self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, num FROM circles WHERE closed_at IS NULL AND active_at < ?1
                 ORDER BY active_at",
            )?;
            let rows = statement
                .query_map([before.0], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(id, num)| Ok((CircleId::parse(&id)?, CircleKey(num))))
                .collect()
        }))
    }

    fn revoke_admission(&self, credential: String) -> StoreFuture<'_, bool> {
        Box::pin(self.send(move |reply| Command::Revoke { credential, reply }))
    }

    fn admission_state(&self, credential: String) -> StoreFuture<'_, (bool, u64)> {
        Box::pin(self.read(move |conn| {
            let revoked: bool = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM admission_revoked WHERE id = ?1)")?
                .query_row([&credential], |row| row.get(0))?;
            let circles: i64 = conn
                .prepare_cached("SELECT count(*) FROM circles WHERE admission = ?1")?
                .query_row([&credential], |row| row.get(0))?;
            Ok((revoked, to_u64(circles)))
        }))
    }

    fn load_circle(&self, circle: CircleId) -> StoreFuture<'_, Option<StoredCircle>> {
        Box::pin(self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let found = tx
                .query_row(
                    "SELECT num, closed_at FROM circles WHERE id = ?1",
                    [circle.as_str()],
                    |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?)),
                )
                .optional()?;
            let Some((num, closed_at)) = found else {
                return Ok(None);
            };
            if closed_at.is_some() {
                return Err(TrustError::CircleClosed(circle.to_string()).into());
            }
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
        quotas: Quotas,
    ) -> StoreFuture<'_, PushOutcome> {
        Box::pin(self.send(move |reply| Command::Push {
            circle,
            state,
            batch,
            quotas,
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
            let active_at: i64 = tx
                .prepare_cached("SELECT active_at FROM circles WHERE num = ?1")?
                .query_row([circle.0], |row| row.get(0))?;
            tx.finish()?;
            Ok(PulledPage {
                envelopes,
                latest: to_u64(latest),
                more,
                active_at: Timestamp(active_at),
            })
        }))
    }

    fn put_push_subscription(
        &self,
        circle: CircleKey,
        _judged_at: u64,
        device: DeviceId,
        subscription: Subscription,
    ) -> StoreFuture<'_, ()> {
        Box::pin(self.send(move |reply| Command::PutPush {
            circle,
            device,
            subscription,
            reply,
        }))
    }

    fn delete_push_subscriptions(
        &self,
        circle: CircleKey,
        devices: Vec<DeviceId>,
        endpoint: Option<String>,
    ) -> StoreFuture<'_, u64> {
        Box::pin(self.send(move |reply| Command::DeletePush {
            circle,
            devices,
            endpoint,
            reply,
        }))
    }

    fn push_subscriptions(
        &self,
        circle: CircleKey,
    ) -> StoreFuture<'_, Vec<(DeviceId, Subscription)>> {
        Box::pin(async move {
            if let Some(cached) = self.subscriptions.get(circle.0) {
                return Ok(cached.as_ref().clone());
            }
            let generation = self.subscriptions.generation();
            let found = Arc::new(
                self.read(move |conn| read_push_subscriptions(conn, circle.0))
                    .await?,
            );
            self.subscriptions
                .keep(circle.0, generation, Arc::clone(&found));
            Ok(found.as_ref().clone())
        })
    }

    fn put_snapshot(
        &self,
        circle: CircleKey,
        _judged_at: u64,
        covers: u64,
        bytes: Vec<u8>,
    ) -> StoreFuture<'_, bool> {
        Box::pin(self.send(move |reply| Command::Snapshot {
            circle,
            covers,
            bytes,
            reply,
        }))
    }

    fn snapshot(&self, circle: CircleKey) -> StoreFuture<'_, Option<Vec<u8>>> {
        Box::pin(self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT bytes FROM snapshots WHERE circle = ?1")?
                .query_row([circle.0], |row| row.get(0))
                .optional()?)
        }))
    }

    fn relay_secret(&self, name: &'static str, generated: Vec<u8>) -> StoreFuture<'_, Vec<u8>> {
        Box::pin(self.send(move |reply| Command::Secret {
            name,
            generated,
            reply,
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

/// The database holds who is in which circle and when they wrote: readable by the
/// relay's user only. A missing parent directory is created 0700; the database file
/// is created 0600 before SQLite opens it, and SQLite gives its `-wal` and `-shm`
/// files the database file's mode. Existing files that are readable by others are
/// tightened (and logged).
fn restrict_files(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)?;
            }
        }
        if !path.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = PathBuf::from(file);
            if let Ok(meta) = std::fs::metadata(&file) {
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(file = %file.display(), "tightening permissions to 0600");
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                }
            }
        }
    }
    Ok(())
}

fn open_writer(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(internal(format!(
            "cannot switch {} to WAL (got {mode})",
            path.display()
        ))
        .into());
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;
         PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES};
         PRAGMA cache_size = -{WRITER_CACHE_KIB};"
    ))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(internal(format!(
            "{} has schema version {version}; this relay knows up to {SCHEMA_VERSION}",
            path.display()
        ))
        .into());
    }
    let migrate_2 = if version < 2 { MIGRATE_2 } else { "" };
    let migrate_3 = if version < 3 { MIGRATE_3 } else { "" };
    let migrate_4 = if version < 4 { MIGRATE_4 } else { "" };
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {SCHEMA} {migrate_2} {migrate_3} {migrate_4} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
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
    subscriptions: &SubscriptionCache,
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
        let mut subscriptions_written = Vec::new();
        // A command alone in its group needs no savepoint: if it fails, nothing
        // succeeded and the whole transaction is rolled back.
        let alone = group
            .iter()
            .filter(|m| matches!(m, Message::Write(_)))
            .count()
            == 1;
        let begin = run_sql(&conn, "BEGIN IMMEDIATE");
        for message in group {
            let command = match message {
                Message::Close(reply) => {
                    closing = Some(reply);
                    continue;
                }
                Message::Write(command) => *command,
            };
            subscriptions_written.extend(command.subscriptions_written());
            done.push(match &begin {
                Ok(()) if !poisoned => run_in_savepoint(&conn, command, alone, &mut poisoned),
                Ok(()) => refuse(command, "an earlier command could not be rolled back"),
                Err(e) => refuse(command, e),
            });
        }
        let commit = match begin {
            Err(e) => Err(e),
            Ok(()) if poisoned => {
                let _ = run_sql(&conn, "ROLLBACK");
                Err("a savepoint could not be closed; the group was rolled back".to_owned())
            }
            Ok(()) if !done.iter().any(Done::succeeded) => run_sql(&conn, "ROLLBACK"),
            Ok(()) => run_sql(&conn, "COMMIT").inspect_err(|_| {
                let _ = run_sql(&conn, "ROLLBACK");
            }),
        };
        if let Err(e) = &commit {
            tracing::error!(error = %e, "store commit failed");
        }
        for circle in subscriptions_written {
            subscriptions.invalidate(circle);
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
    let error = || Error::from(internal(format!("not run: {why}")));
    match command {
        Command::Create { reply, .. } => Done::Create(reply, Err(error())),
        Command::Append { reply, .. } => Done::Append(reply, Err(error())),
        Command::Push { reply, .. } => Done::Push(reply, Err(error())),
        Command::Close { reply, .. } => Done::Close(reply, Err(error())),
        Command::Revoke { reply, .. } => Done::Revoke(reply, Err(error())),
        Command::PutPush { reply, .. } => Done::PutPush(reply, Err(error())),
        Command::DeletePush { reply, .. } => Done::DeletePush(reply, Err(error())),
        Command::Secret { reply, .. } => Done::Secret(reply, Err(error())),
        Command::Snapshot { reply, .. } => Done::Snapshot(reply, Err(error())),
    }
}

/// One statement without parameters, prepared once (the group's BEGIN and COMMIT).
fn run_sql(conn: &Connection, sql: &str) -> std::result::Result<(), String> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Runs one command in its own savepoint (none when it is `alone` in its group). If a
/// savepoint cannot be closed, the group is `poisoned`: the caller rolls everything
/// back rather than commit half a command.
fn run_in_savepoint(conn: &Connection, command: Command, alone: bool, poisoned: &mut bool) -> Done {
    fn savepoint<T>(
        conn: &Connection,
        alone: bool,
        poisoned: &mut bool,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        if alone {
            return f();
        }
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
            admission,
            reply,
        } => Done::Create(
            reply,
            savepoint(conn, alone, poisoned, || {
                create(conn, &circle, &genesis, admission.as_ref())
            }),
        ),
        Command::Append {
            circle,
            entry,
            reply,
        } => Done::Append(
            reply,
            savepoint(conn, alone, poisoned, || {
                refuse_closed(conn, circle.0)?;
                insert_entry(conn, circle.0, &entry)?;
                touch(conn, circle.0, Timestamp::now().0)
            }),
        ),
        Command::Push {
            circle,
            state,
            batch,
            quotas,
            reply,
        } => Done::Push(
            reply,
            savepoint(conn, alone, poisoned, || {
                push(conn, circle.0, &state, &batch, &quotas)
            }),
        ),
        Command::Close {
            circle,
            inactive_before,
            reply,
        } => Done::Close(
            reply,
            savepoint(conn, alone, poisoned, || {
                close_circle(conn, circle.0, inactive_before)
            }),
        ),
        Command::Revoke { credential, reply } => Done::Revoke(
            reply,
            savepoint(conn, alone, poisoned, || revoke(conn, &credential)),
        ),
        Command::PutPush {
            circle,
            device,
            subscription,
            reply,
        } => Done::PutPush(
            reply,
            savepoint(conn, alone, poisoned, || {
                refuse_closed(conn, circle.0)?;
                put_push(conn, circle.0, &device, &subscription)
            }),
        ),
        Command::DeletePush {
            circle,
            devices,
            endpoint,
            reply,
        } => Done::DeletePush(
            reply,
            savepoint(conn, alone, poisoned, || {
                delete_push(conn, circle.0, &devices, endpoint.as_deref())
            }),
        ),
        Command::Secret {
            name,
            generated,
            reply,
        } => Done::Secret(
            reply,
            savepoint(conn, alone, poisoned, || {
                relay_secret(conn, name, &generated)
            }),
        ),
        Command::Snapshot {
            circle,
            covers,
            bytes,
            reply,
        } => Done::Snapshot(
            reply,
            savepoint(conn, alone, poisoned, || {
                put_snapshot(conn, circle.0, covers, &bytes)
            }),
        ),
    }
}

fn create(
    conn: &Connection,
    circle: &CircleId,
    genesis: &SignedEntry,
    admission: Option<&Admitted>,
) -> Result<CircleKey> {
    // The one writer runs creations one at a time (a group's in one transaction, so
    // the count sees the group's earlier ones): the count and the insert cannot be
    // overtaken.
    if let Some(admitted) = admission {
        let created: i64 = conn
            .prepare_cached("SELECT count(*) FROM circles WHERE admission = ?1")?
            .query_row([&admitted.credential], |row| row.get(0))?;
        admitted.check(to_u64(created))?;
    }
    let inserted = conn.execute(
        "INSERT INTO circles (id, created_at, active_at, admission) VALUES (?1, ?2, ?2, ?3)",
        params![
            circle.as_str(),
            Timestamp::now().0,
            admission.map(|a| a.credential.as_str())
        ],
    );
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
            let closed: Option<i64> = conn
                .query_row(
                    "SELECT closed_at FROM circles WHERE id = ?1",
                    [circle.as_str()],
                    |row| row.get(0),
                )
                .optional()?
                .flatten();
            return Err(match closed {
                Some(_) => TrustError::CircleClosed(circle.to_string()),
                None => TrustError::CircleExists(circle.to_string()),
            }
            .into());
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
    quotas: &Quotas,
) -> Result<PushOutcome> {
    // The circle's usage, whether it is closed and its newest cursor, in one read.
    let (usage, closed, latest) = conn
        .prepare_cached(
            "SELECT envelopes, bytes, closed_at,
                    (SELECT coalesce(max(cursor), 0) FROM envelopes WHERE circle = ?1)
             FROM circles WHERE num = ?1",
        )?
        .query_row([circle], |row| {
            Ok((
                Usage {
                    envelopes: to_u64(row.get(0)?),
                    bytes: to_u64(row.get(1)?),
                },
                row.get::<_, Option<i64>>(2)?.is_some(),
                row.get::<_, i64>(3)?,
            ))
        })?;
    if closed {
        return Err(TrustError::CircleClosed(format!("#{circle}")).into());
    }
    let now = Timestamp::now().0;
    let mut tx = SqlPush {
        conn,
        state,
        circle,
        latest,
        now,
        quotas: *quotas,
        usage,
        days: Vec::new(),
    };
    let (cursors, stored) = apply_push(&mut tx, state, batch)?;
    if stored > 0 {
        // The usage, and the retention clock starts again (as `touch`).
        conn.prepare_cached(
            "UPDATE circles SET envelopes = ?2, bytes = ?3, active_at = ?4 WHERE num = ?1",
        )?
        .execute(params![
            circle,
            to_i64(tx.usage.envelopes),
            to_i64(tx.usage.bytes),
            now
        ])?;
        let day = day_of(now);
        for (account, used) in &tx.days {
            conn.prepare_cached(
                "INSERT INTO device_days (device, day, envelopes, bytes) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (device, day) DO UPDATE SET envelopes = ?3, bytes = ?4",
            )?
            .execute(params![
                &account[..],
                day,
                to_i64(used.envelopes),
                to_i64(used.bytes)
            ])?;
        }
    }
    Ok(PushOutcome {
        cursors,
        latest: to_u64(tx.latest),
        stored,
    })
}

/// Deletes everything of a circle but its row, which stays as the tombstone (so the
/// id cannot be registered again and requests for it answer `circle_closed`). With
/// `inactive_before`, only if the circle is open and nothing was stored in it since
/// then (checked here, in the writer, so a push that just came in wins); `false`
/// when it was not closed for that reason.
fn close_circle(conn: &Connection, circle: i64, inactive_before: Option<i64>) -> Result<bool> {
    if let Some(before) = inactive_before {
        let due: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM circles
                 WHERE num = ?1 AND closed_at IS NULL AND active_at < ?2)",
            params![circle, before],
            |row| row.get(0),
        )?;
        if !due {
            return Ok(false);
        }
    }
    conn.execute("DELETE FROM envelopes WHERE circle = ?1", [circle])?;
    conn.execute("DELETE FROM membership WHERE circle = ?1", [circle])?;
    conn.execute("DELETE FROM push_subscriptions WHERE circle = ?1", [circle])?;
    conn.execute("DELETE FROM snapshots WHERE circle = ?1", [circle])?;
    conn.execute(
        "UPDATE circles SET closed_at = ?2, envelopes = 0, bytes = 0 WHERE num = ?1",
        params![circle, Timestamp::now().0],
    )?;
    Ok(true)
}

fn read_push_subscriptions(
    conn: &Connection,
    circle: i64,
) -> Result<Vec<(DeviceId, Subscription)>> {
    let mut statement = conn.prepare_cached(
        "SELECT device, endpoint, p256dh, auth FROM push_subscriptions WHERE circle = ?1",
    )?;
    let rows = statement
        .query_map([circle], |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                Subscription {
                    endpoint: row.get(1)?,
                    p256dh: row.get(2)?,
                    auth: row.get(3)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(device, subscription)| {
            let bytes: [u8; 32] = device
                .try_into()
                .map_err(|_| internal("a stored device id is not 32 bytes"))?;
            Ok((DeviceId::from_bytes(bytes), subscription))
        })
        .collect()
}

/// Something new was stored in the circle: its retention clock starts again.
fn touch(conn: &Connection, circle: i64, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE circles SET active_at = ?2 WHERE num = ?1")?
        .execute(params![circle, now])?;
    Ok(())
}

fn put_push(
    conn: &Connection,
    circle: i64,
    device: &DeviceId,
    subscription: &Subscription,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO push_subscriptions (circle, device, endpoint, p256dh, auth, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (circle, device) DO UPDATE SET
             endpoint = ?3, p256dh = ?4, auth = ?5, created_at = ?6",
    )?
    .execute(params![
        circle,
        &device.as_bytes()[..],
        subscription.endpoint,
        subscription.p256dh,
        subscription.auth,
        Timestamp::now().0
    ])?;
    Ok(())
}

fn delete_push(
    conn: &Connection,
    circle: i64,
    devices: &[DeviceId],
    endpoint: Option<&str>,
) -> Result<u64> {
    let mut deleted = 0;
    let mut statement = conn.prepare_cached(
        "DELETE FROM push_subscriptions
         WHERE circle = ?1 AND device = ?2 AND (?3 IS NULL OR endpoint = ?3)",
    )?;
    for device in devices {
        deleted += statement.execute(params![circle, &device.as_bytes()[..], endpoint])? as u64;
    }
    Ok(deleted)
}

fn relay_secret(conn: &Connection, name: &str, generated: &[u8]) -> Result<Vec<u8>> {
    conn.prepare_cached("INSERT OR IGNORE INTO relay_secrets (name, secret) VALUES (?1, ?2)")?
        .execute(params![name, generated])?;
    Ok(conn
        .prepare_cached("SELECT secret FROM relay_secrets WHERE name = ?1")?
        .query_row([name], |row| row.get(0))?)
}

/// Keeps `bytes` as the circle's snapshot if it covers more than the one stored (and
/// no more than is stored); returns whether it was kept.
fn put_snapshot(conn: &Connection, circle: i64, covers: u64, bytes: &[u8]) -> Result<bool> {
    refuse_closed(conn, circle)?;
    let latest = latest_cursor(conn, circle)?;
    let covers = to_i64(super::push::check_snapshot_covers(covers, to_u64(latest))?);
    let changed = conn
        .prepare_cached(
            "INSERT INTO snapshots (circle, covers, stored_at, bytes) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (circle) DO UPDATE SET
                 covers = excluded.covers, stored_at = excluded.stored_at, bytes = excluded.bytes
             WHERE excluded.covers > snapshots.covers",
        )?
        .execute(params![circle, covers, Timestamp::now().0, bytes])?;
    Ok(changed > 0)
}

/// A closed circle takes no more writes, even from a request that began before the
/// close (the API checks too; this is the store's own guarantee).
fn refuse_closed(conn: &Connection, circle: i64) -> Result<()> {
    let closed: Option<i64> = conn
        .prepare_cached("SELECT closed_at FROM circles WHERE num = ?1")?
        .query_row([circle], |row| row.get(0))?;
    match closed {
        Some(_) => Err(TrustError::CircleClosed(format!("#{circle}")).into()),
        None => Ok(()),
    }
}

/// Returns whether the credential was not revoked before.
fn revoke(conn: &Connection, credential: &str) -> Result<bool> {
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO admission_revoked (id, revoked_at) VALUES (?1, ?2)",
        params![credential, Timestamp::now().0],
    )?;
    Ok(inserted > 0)
}

struct SqlPush<'c> {
    conn: &'c Connection,
    state: &'c MembershipState,
    circle: i64,
    latest: i64,
    now: i64,
    quotas: Quotas,
    /// The circle's usage, counting this batch so far.
    usage: Usage,
    /// Today's usage of each quota account (an author's member) in the batch,
    /// counting this batch so far (`device_days.device` holds the account).
    days: Vec<([u8; 32], Usage)>,
}

impl SqlPush<'_> {
    fn day_usage(&mut self, author: &DeviceId) -> Result<usize> {
        let account = quota_account(self.state, author);
        if let Some(i) = self.days.iter().position(|(a, _)| *a == account) {
            return Ok(i);
        }
        let used = self
            .conn
            .prepare_cached(
                "SELECT envelopes, bytes FROM device_days WHERE device = ?1 AND day = ?2",
            )?
            .query_row(params![&account[..], day_of(self.now)], |row| {
                Ok(Usage {
                    envelopes: to_u64(row.get(0)?),
                    bytes: to_u64(row.get(1)?),
                })
            })
            .optional()?;
        if used.is_none() {
            // The account's first write today: forget days before yesterday (the
            // quota needs only today; yesterday is kept for a day's overlap).
            self.conn
                .prepare_cached("DELETE FROM device_days WHERE device = ?1 AND day < ?2")?
                .execute(params![&account[..], day_of(self.now) - 1])?;
        }
        self.days.push((account, used.unwrap_or_default()));
        Ok(self.days.len() - 1)
    }
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
        let day = self.day_usage(&header.author)?;
        charge(
            &self.quotas,
            &mut self.usage,
            &mut self.days[day].1,
            envelope.bytes.len(),
            self.now,
        )?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The queries on the push and pull paths must seek, never scan: a scan would make
    /// every push slower as the relay fills.
    #[cfg(unix)]
    #[test]
    fn database_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("new-dir").join("relay.db");
        let store = SqliteStore::open(&db, 1, None).expect("open");
        let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(db.parent().expect("dir")), 0o700);
        for suffix in ["", "-wal", "-shm"] {
            let mut file = db.as_os_str().to_owned();
            file.push(suffix);
            assert_eq!(mode(Path::new(&file)), 0o600, "{suffix}");
        }
        drop(store);
        // A database left readable by others is tightened on open.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let _store = SqliteStore::open(&db, 1, None).expect("reopen");
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn a_version_1_database_is_migrated_with_its_usage_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("relay.db");
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(&format!(
                "{SCHEMA} PRAGMA user_version = 1;
                 INSERT INTO circles (num, id, created_at) VALUES (1, 'c', 0);
                 INSERT INTO envelopes VALUES (1, 1, x'00', 1, x'00', 0, x'0102030405');
                 INSERT INTO envelopes VALUES (1, 2, x'00', 2, x'00', 0, x'010203');"
            ))
            .expect("v1");
        }
        let conn = open_writer(&path).expect("migrate");
        let (envelopes, bytes, version): (i64, i64, i64) = conn
            .query_row(
                "SELECT envelopes, bytes, (SELECT user_version FROM pragma_user_version) FROM circles",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("row");
        assert_eq!((envelopes, bytes, version), (2, 8, SCHEMA_VERSION));
    }

    /// A new circle: its owner, genesis entry and membership.
    fn new_circle() -> (
        kring_trust::identity::DeviceIdentity,
        SignedEntry,
        MembershipState,
    ) {
        let owner = kring_trust::identity::DeviceIdentity::generate();
        let (genesis, state) = MembershipState::create_circle(
            &owner,
            kring_trust::ids::MemberId::random(),
            Timestamp::now(),
        )
        .expect("genesis");
        (owner, genesis, state)
    }

    /// The dispatcher reads a circle's subscriptions for every stored envelope, from
    /// memory after the first read: what it reads must follow every register,
    /// unregister and close at once.
    #[tokio::test]
    async fn cached_push_subscriptions_follow_every_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("relay.db"), 1, None).expect("open");
        let (owner, genesis, state) = new_circle();
        let key = store
            .create_circle(state.circle().clone(), genesis, None)
            .await
            .expect("created");
        let device = owner.id();
        let subscription = |n: u8| Subscription {
            endpoint: format!("https://push.example/{n}"),
            p256dh: "key".into(),
            auth: "auth".into(),
        };
        async fn listed(store: &SqliteStore, key: CircleKey) -> Vec<String> {
            let found = store.push_subscriptions(key).await.expect("read");
            found.into_iter().map(|(_, s)| s.endpoint).collect()
        }
        let none: Vec<String> = Vec::new();
        // Read twice: the second answer comes from the cache.
        assert_eq!(listed(&store, key).await, none);
        assert_eq!(listed(&store, key).await, none);
        store
            .put_push_subscription(key, 1, device, subscription(1))
            .await
            .expect("put");
        assert_eq!(listed(&store, key).await, ["https://push.example/1"]);
        assert_eq!(listed(&store, key).await, ["https://push.example/1"]);
        store
            .put_push_subscription(key, 1, device, subscription(2))
            .await
            .expect("replace");
        assert_eq!(listed(&store, key).await, ["https://push.example/2"]);
        store
            .delete_push_subscriptions(key, vec![device], None)
            .await
            .expect("delete");
        assert_eq!(listed(&store, key).await, none);
        store
            .put_push_subscription(key, 1, device, subscription(3))
            .await
            .expect("put again");
        assert_eq!(listed(&store, key).await, ["https://push.example/3"]);
        store.close_circle(key, 1).await.expect("closed");
        assert_eq!(listed(&store, key).await, none);
        store.close().await.expect("close store");
    }

    #[tokio::test]
    async fn a_closed_circle_takes_no_more_writes_and_keeps_its_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("relay.db"), 1, None).expect("open");
        let (_owner, genesis, state) = new_circle();
        let circle = state.circle().clone();
        let key = store
            .create_circle(circle.clone(), genesis.clone(), None)
            .await
            .expect("created");
        store.close_circle(key, 1).await.expect("closed");
        let state = Arc::new(state);
        assert!(matches!(
            store.push(key, state, Vec::new(), Quotas::NONE).await,
            Err(Error::Trust(TrustError::CircleClosed(_)))
        ));
        assert!(matches!(
            store.create_circle(circle.clone(), genesis, None).await,
            Err(Error::Trust(TrustError::CircleClosed(_)))
        ));
        assert!(matches!(
            store.load_circle(circle).await,
            Err(Error::Trust(TrustError::CircleClosed(_)))
        ));
        store.close().await.expect("close store");
    }

    #[tokio::test]
    async fn the_retention_sweep_closes_only_circles_inactive_for_the_whole_period() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("relay.db"), 1, None).expect("open");
        let mut circles = Vec::new();
        for _ in 0..2 {
            let owner = kring_trust::identity::DeviceIdentity::generate();
            let (genesis, state) = MembershipState::create_circle(
                &owner,
                kring_trust::ids::MemberId::random(),
                Timestamp::now(),
            )
            .expect("genesis");
            let key = store
                .create_circle(state.circle().clone(), genesis, None)
                .await
                .expect("created");
            circles.push((state.circle().clone(), key));
        }
        let retention = crate::retention::Retention {
            inactive_ms: 30 * 24 * 3600 * 1000,
            warning_ms: 7 * 24 * 3600 * 1000,
        };
        let now = Timestamp::now();
        // Just created: nothing due today or in 29 days.
        for later in [0, 29] {
            let swept = crate::sweep(&store, retention, now.plus_days(later), |_| {})
                .await
                .expect("sweep");
            assert_eq!(swept, 0);
        }
        // One circle becomes active again in between (a fake "push" moves its clock).
        let (active, active_key) = circles[1].clone();
        let later = now.plus_days(20);
        store
            .send(move |reply| Command::Close {
                circle: active_key,
                inactive_before: Some(0),
                reply,
            })
            .await
            .expect("a close of a circle active since is a no-op");
        let side = Connection::open(dir.path().join("relay.db")).expect("side connection");
        side.busy_timeout(std::time::Duration::from_secs(5))
            .expect("busy timeout");
        side.execute(
            "UPDATE circles SET active_at = ?2 WHERE num = ?1",
            params![active_key.0, later.0],
        )
        .expect("touch");
        let mut closed = Vec::new();
        let swept = crate::sweep(&store, retention, now.plus_days(31), |c| {
            closed.push(c.clone())
        })
        .await
        .expect("sweep");
        assert_eq!((swept, closed), (1, vec![circles[0].0.clone()]));
        assert!(matches!(
            store.load_circle(circles[0].0.clone()).await,
            Err(Error::Trust(TrustError::CircleClosed(_)))
        ));
        assert!(store.load_circle(active).await.expect("open").is_some());
        store.close().await.expect("close store");
    }

    #[test]
    fn hot_queries_use_indexes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = open_writer(&dir.path().join("relay.db")).expect("open");
        for sql in [
            "SELECT coalesce(max(cursor), 0) FROM envelopes WHERE circle = 1",
            "SELECT envelopes, bytes, closed_at,
                    (SELECT coalesce(max(cursor), 0) FROM envelopes WHERE circle = 1)
             FROM circles WHERE num = 1",
            "SELECT cursor, hash FROM envelopes WHERE circle = 1 AND author = x'00' AND device_seq = 2",
            "SELECT device_seq, hash FROM envelopes WHERE circle = 1 AND author = x'00'
             ORDER BY device_seq DESC LIMIT 1",
            "SELECT cursor, bytes FROM envelopes WHERE circle = 1 AND cursor > 5 ORDER BY cursor LIMIT 10",
            "SELECT bytes FROM membership WHERE circle = 1 AND seq >= 0 ORDER BY seq",
            "SELECT num FROM circles WHERE id = 'x'",
            "SELECT device, endpoint, p256dh, auth FROM push_subscriptions WHERE circle = 1",
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
