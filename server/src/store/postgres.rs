//! The shared store: PostgreSQL, for several relay processes serving the same circles
//! (`docs/relay.md`, "Several relays on PostgreSQL").
//!
//! Invariants, each held by the database rather than by any one process:
//! - **Cursors are gap-free and strictly increasing per circle.** A push takes the
//!   circle's row lock (`SELECT … FOR UPDATE`) and assigns `latest + 1, …` from the
//!   row itself, in the same transaction that inserts the envelopes. Two processes
//!   pushing to one circle queue on that row; a rolled-back push leaves no gap (a
//!   sequence would: `nextval` is not transactional).
//! - **Nothing is judged against an old membership log.** The circle's row holds the
//!   log's length; a push or an append under the row lock refuses with
//!   [`Error::LogMoved`] when the caller's state is behind, and the caller reads the
//!   log again. An append checks the entry's write cut-offs in that transaction too.
//! - **Acknowledged means committed.** Every write returns after `COMMIT` (with the
//!   server's `synchronous_commit`, on by default, that is durable).
//! - **Other processes hear of commits.** After each write that changes what devices
//!   see, a notice (positions only, never content) goes out with `NOTIFY` from a task
//!   of its own (`announce`, which says why not inside the transaction); the others
//!   `listen`.
//! - **The schema is versioned.** `migrate` runs under an advisory lock in one
//!   transaction: a half-created schema cannot exist, two starting processes do not
//!   race, and a schema from a newer relay is refused, not altered.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::StreamExt;
use kring_trust::envelope::EnvelopeHash;
use kring_trust::identity::DeviceId;
use kring_trust::ids::CircleId;
use kring_trust::membership::{MembershipState, SignedEntry};
use kring_trust::{Error as TrustError, Timestamp};
use tokio::sync::mpsc;
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

use super::push::{
    apply_push, charge, check_cutoffs, day_of, quota_account, write_cutoffs, PushTx, Quotas, Usage,
};
use super::{
    to_hash, to_i64, to_u64, Admitted, CircleKey, NewEnvelope, Notice, PulledPage, PushOutcome,
    RelayStore, Sharing, StoreFuture, StoredCircle,
};
use crate::error::{internal, Error, Result};
use crate::push::Subscription;

/// The schema this relay writes. Bump it and add a step to `MIGRATIONS` on any change.
pub const SCHEMA_VERSION: i32 = 1;

/// Step `n` takes the schema from version `n` to `n + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [MIGRATE_1];

const MIGRATE_1: &str = "
CREATE TABLE circles (
    num        bigserial PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    created_at bigint NOT NULL,
    -- When something was last stored (retention).
    active_at  bigint NOT NULL,
    -- Set when the circle was closed: the row is its tombstone, nothing else is kept.
    closed_at  bigint,
    -- The admission credential the circle was created with (credential mode).
    admission  text,
    -- Usage against the circle's quotas.
    envelopes  bigint NOT NULL DEFAULT 0,
    bytes      bigint NOT NULL DEFAULT 0,
    -- The newest cursor and the membership log's length, assigned under this row's lock.
    latest     bigint NOT NULL DEFAULT 0,
    log_len    bigint NOT NULL DEFAULT 0
-- Every push updates its circle's row: room on the page and no index on a column a
-- push changes keep that update in place (HOT). The hourly retention sweep reads
-- `active_at` without an index.
) WITH (fillfactor = 50);
CREATE INDEX circles_by_admission ON circles (admission) WHERE admission IS NOT NULL;
CREATE TABLE membership (
    circle bigint NOT NULL REFERENCES circles (num),
    seq    bigint NOT NULL,
    hash   bytea NOT NULL,
    bytes  bytea NOT NULL,
    PRIMARY KEY (circle, seq)
);
CREATE TABLE envelopes (
    circle     bigint NOT NULL REFERENCES circles (num),
    cursor     bigint NOT NULL,
    author     bytea NOT NULL,
    device_seq bigint NOT NULL,
    hash       bytea NOT NULL,
    stored_at  bigint NOT NULL,
    bytes      bytea NOT NULL,
    PRIMARY KEY (circle, cursor)
);
CREATE UNIQUE INDEX envelopes_by_author ON envelopes (circle, author, device_seq);
-- What each device stored per UTC day (the daily quota holds across processes).
CREATE TABLE device_days (
    device    bytea NOT NULL,
    day       bigint NOT NULL,
    envelopes bigint NOT NULL,
    bytes     bigint NOT NULL,
    PRIMARY KEY (device, day)
) WITH (fillfactor = 50);
CREATE TABLE admission_revoked (
    id         text PRIMARY KEY,
    revoked_at bigint NOT NULL
);
CREATE TABLE push_subscriptions (
    circle     bigint NOT NULL REFERENCES circles (num),
    device     bytea NOT NULL,
    endpoint   text NOT NULL,
    p256dh     bytea NOT NULL,
    auth       bytea NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (circle, device)
);
CREATE TABLE relay_secrets (
    name   text PRIMARY KEY,
    secret bytea NOT NULL
);
CREATE TABLE snapshots (
    circle    bigint PRIMARY KEY REFERENCES circles (num),
    covers    bigint NOT NULL,
    stored_at bigint NOT NULL,
    bytes     bytea NOT NULL
);
";

/// The channel every relay process listens on.
const CHANNEL: &str = "kring_relay";
/// Any key of our own for the migration's advisory lock.
const MIGRATION_LOCK: i64 = 0x6b72_696e_6700_0001;
/// How long a request waits for a pooled connection, or for a new one to open.
const POOL_WAIT: Duration = Duration::from_secs(5);
/// Pause between attempts to reach the database again for notices.
const LISTEN_RETRY: Duration = Duration::from_millis(500);
/// Notices waiting for the relay before the oldest are dropped for a resync.
const NOTICE_QUEUE: usize = 4096;

/// PostgreSQL behind a connection pool, shared with other relay processes.
pub struct PostgresStore {
    pool: Pool,
    notices: std::sync::Mutex<Option<mpsc::Receiver<Notice>>>,
    listener: tokio::task::JoinHandle<()>,
    /// This process's commits, on their way to the others ([`announce`]).
    announcements: std::sync::Mutex<Option<mpsc::Sender<Announcement>>>,
    announcer: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A commit of this process that the others hear of: its kind (`e` envelopes, `m`
/// membership, `c` closed), the circle and the new cursor or log length.
type Announcement = (char, String, u64);

/// A `postgres://` URL as the relay logs it: without its password.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "postgres://(unparsable)".into(),
    }
}

/// Creates an empty database named `PREFIX_RANDOM` on the server `admin_url` points
/// at and returns its URL: each test and benchmark gets a relay database of its own
/// on one throwaway cluster (`scripts/with-postgres.sh`).
pub async fn fresh_database(admin_url: &str, prefix: &str) -> Result<String> {
    let (client, connection) = tokio_postgres::connect(admin_url, NoTls).await?;
    let driver = tokio::spawn(connection);
    let name = format!("{prefix}_{}", hex::encode(rand::random::<[u8; 6]>()));
    client
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    drop(client);
    let _ = driver.await;
    let mut url = url::Url::parse(admin_url)
        .map_err(|e| internal(format!("the admin URL does not parse: {e}")))?;
    url.set_path(&name);
    Ok(url.to_string())
}

impl PostgresStore {
    /// Connects to `url`, creates or migrates the schema, and starts listening for
    /// other processes' notices. One clear error, and nothing created, when the URL is
    /// wrong, the database unreachable or its schema newer than this relay's.
    pub async fn open(url: &str, connections: usize) -> Result<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| TrustError::InvalidValue {
            field: "--db",
            value: redacted(url),
            expected: format!("a postgres:// URL ({e})"),
        })?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(connections.max(2))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .recycle_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| Error::Pool(e.to_string()))?;
        {
            let mut client = pool
                .get()
                .await
                .map_err(|e| Error::Pool(format!("cannot connect to {}: {e}", redacted(url))))?;
            migrate(&mut client).await?;
        }
        let process = hex::encode(rand::random::<[u8; 8]>());
        let (sender, receiver) = mpsc::channel(NOTICE_QUEUE);
        let listener = tokio::spawn(listen(config.clone(), process.clone(), sender));
        let (announcements, outgoing) = mpsc::channel(ANNOUNCE_QUEUE);
        // The process's own id tells its notices from the others'.
        let announcer = tokio::spawn(announce(pool.clone(), process, outgoing));
        Ok(Self {
            pool,
            notices: std::sync::Mutex::new(Some(receiver)),
            listener,
            announcements: std::sync::Mutex::new(Some(announcements)),
            announcer: std::sync::Mutex::new(Some(announcer)),
        })
    }

    /// A pooled connection.
    pub(super) async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|e| Error::Pool(e.to_string()))
    }

    /// Tells the other processes of a commit (after it). Never waits: if the queue is
    /// full the notice is dropped, and the circle's next one covers it.
    fn announce(&self, kind: char, circle: &str, position: u64) {
        let sender = self.announcements.lock().ok().and_then(|s| s.clone());
        if let Some(sender) = sender {
            if sender
                .try_send((kind, circle.to_owned(), position))
                .is_err()
            {
                tracing::warn!(circle, "the notice queue is full; dropped a notice");
            }
        }
    }
}

/// Notices waiting to be sent before new ones are dropped.
const ANNOUNCE_QUEUE: usize = 65_536;
/// Most notices sent in one statement.
const ANNOUNCE_BATCH: usize = 1024;
/// Tries at sending one batch (backing off from 0.1 s to 2 s: about 15 s in all).
const ANNOUNCE_ATTEMPTS: u32 = 10;

/// Sends this process's notices, many per statement, from a task of its own, after
/// the commits they announce. A `NOTIFY` inside each writing transaction would put
/// every commit in the database behind one lock, each waiting for its own WAL flush
/// (measured: about 500 pushes/s in all on this machine); sent apart, commits group
/// as usual, a circle's notices waiting together collapse into its newest, and one
/// statement carries them all. Notices may so arrive out of commit order, which the
/// receiver allows for (it reads everything after what it has). A crash between a
/// commit and its notice delays that circle's live delivery on the other processes
/// until its next change or a device's pull: never a loss, the data is in the tables.
async fn announce(pool: Pool, process: String, mut outgoing: mpsc::Receiver<Announcement>) {
    while let Some(first) = outgoing.recv().await {
        let mut newest: std::collections::HashMap<(char, String), u64> = Default::default();
        let mut keep = |(kind, circle, position): Announcement| {
            let slot = newest.entry((kind, circle)).or_insert(position);
            *slot = (*slot).max(position);
        };
        keep(first);
        let mut taken = 1;
        while taken < ANNOUNCE_BATCH {
            match outgoing.try_recv() {
                Ok(next) => keep(next),
                Err(_) => break,
            }
            taken += 1;
        }
        let at = Timestamp::now().0;
        let payloads: Vec<String> = newest
            .into_iter()
            .map(|((kind, circle), position)| format!("{kind} {circle} {position} {at} {process}"))
            .collect();
        notify(&pool, &payloads).await;
    }
}

/// Sends one batch of notices, trying again with backoff while the database is away
/// (the commits they announce are durable, and the other processes' sockets wait for
/// them); given up after [`ANNOUNCE_ATTEMPTS`], when the other processes have lost
/// their listening connections too and read everything again when it is back.
async fn notify(pool: &Pool, payloads: &[String]) {
    let mut wait = Duration::from_millis(100);
    for attempt in 1..=ANNOUNCE_ATTEMPTS {
        let sent = match pool.get().await {
            Ok(client) => client
                .execute(
                    "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
                    &[&CHANNEL, &payloads],
                )
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match sent {
            Ok(()) => return,
            Err(e) if attempt == ANNOUNCE_ATTEMPTS => {
                tracing::warn!(error = %e, notices = payloads.len(), "could not tell the other relay processes; gave up");
            }
            Err(e) => {
                tracing::debug!(error = %e, attempt, "could not tell the other relay processes; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
        if let Some(announcer) = self.announcer.lock().ok().and_then(|mut a| a.take()) {
            announcer.abort();
        }
    }
}

/// Creates or upgrades the schema; refuses one newer than [`SCHEMA_VERSION`].
async fn migrate(client: &mut deadpool_postgres::Object) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS kring_schema (version integer NOT NULL)")
        .await?;
    let version: i32 = match tx
        .query_opt("SELECT version FROM kring_schema", &[])
        .await?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO kring_schema (version) VALUES (0)", &[])
                .await?;
            0
        }
    };
    if version > SCHEMA_VERSION {
        return Err(TrustError::InvalidValue {
            field: "--db",
            value: format!("schema version {version}"),
            expected: format!(
                "a database of schema version {SCHEMA_VERSION} or older (this relay is older than the one that wrote it: upgrade the relay)"
            ),
        }
        .into());
    }
    for step in &MIGRATIONS[version as usize..] {
        tx.batch_execute(step).await?;
    }
    tx.execute("UPDATE kring_schema SET version = $1", &[&SCHEMA_VERSION])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Listens for notices on a connection of its own, reconnecting when it drops. Each
/// time `LISTEN` takes effect, the first included, it sends [`Notice::Resync`]:
/// whatever was committed before (while the connection was down, or between loading
/// a circle and listening) is read from the tables. A connection that goes silent
/// without failing (a half-open TCP connection) is found by a heartbeat query.
async fn listen(config: tokio_postgres::Config, process: String, out: mpsc::Sender<Notice>) {
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (messages, mut incoming) = mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut stream =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(message) = stream.next().await {
                        match message {
                            Ok(message) => {
                                if messages.send(message).is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "the notice connection failed");
                                return;
                            }
                        }
                    }
                });
                if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    tracing::warn!(error = %e, "cannot listen for other relays' notices");
                    driver.abort();
                    tokio::time::sleep(LISTEN_RETRY).await;
                    continue;
                }
                if out.send(Notice::Resync).await.is_err() {
                    return;
                }
                if !relay_notices(&client, &mut incoming, &process, &out).await {
                    return;
                }
                driver.abort();
                tracing::warn!("lost the notice connection to PostgreSQL; reconnecting");
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot reach PostgreSQL for notices");
            }
        }
        tokio::time::sleep(LISTEN_RETRY).await;
    }
}

/// How often the listening connection is asked whether it is alive, and how long
/// its answer may take.
const HEARTBEAT: Duration = Duration::from_secs(15);
const HEARTBEAT_ANSWER: Duration = Duration::from_secs(5);

/// Hands the listening connection's notices on until it ends or stops answering the
/// heartbeat; `false` when the relay is gone (nobody takes notices any more).
async fn relay_notices(
    client: &tokio_postgres::Client,
    incoming: &mut mpsc::UnboundedReceiver<tokio_postgres::AsyncMessage>,
    process: &str,
    out: &mpsc::Sender<Notice>,
) -> bool {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        let message = tokio::select! {
            message = incoming.recv() => message,
            _ = heartbeat.tick() => {
                match tokio::time::timeout(HEARTBEAT_ANSWER, client.simple_query("SELECT 1")).await {
                    Ok(Ok(_)) => continue,
                    _ => return true,
                }
            }
        };
        let Some(message) = message else {
            return true;
        };
        let tokio_postgres::AsyncMessage::Notification(note) = message else {
            continue;
        };
        let Some(notice) = parse_notice(note.payload(), process) else {
            continue;
        };
        if out.try_send(notice).is_err() {
            // The relay is behind: drop and have it read everything again.
            if out.send(Notice::Resync).await.is_err() {
                return false;
            }
        }
    }
}

/// `KIND CIRCLE POSITION AT PROCESS`; `None` for this process's own and for anything
/// unreadable (a notice is a hint: the data is read from the tables).
fn parse_notice(payload: &str, own: &str) -> Option<Notice> {
    let mut parts = payload.split(' ');
    let kind = parts.next()?;
    let circle = CircleId::parse(parts.next()?).ok()?;
    let position: u64 = parts.next()?.parse().ok()?;
    let at = Timestamp(parts.next()?.parse().ok()?);
    if parts.next()? == own {
        return None;
    }
    match kind {
        "e" => Some(Notice::Stored {
            circle,
            latest: position,
            at,
        }),
        "m" => Some(Notice::Appended {
            circle,
            len: position,
            at,
        }),
        "c" => Some(Notice::Closed { circle }),
        _ => None,
    }
}

/// The circle's row, locked until the transaction ends.
struct LockedCircle {
    id: String,
    usage: Usage,
    closed: bool,
    latest: i64,
    log_len: i64,
}

async fn lock_circle(tx: &impl GenericClient, circle: i64) -> Result<LockedCircle> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT id, envelopes, bytes, closed_at, latest, log_len FROM circles
                 WHERE num = $1 FOR UPDATE",
            )
            .await?,
            &[&circle],
        )
        .await?
        .ok_or_else(|| internal(format!("circle #{circle} is not stored")))?;
    Ok(LockedCircle {
        id: row.get(0),
        usage: Usage {
            envelopes: to_u64(row.get(1)),
            bytes: to_u64(row.get(2)),
        },
        closed: row.get::<_, Option<i64>>(3).is_some(),
        latest: row.get(4),
        log_len: row.get(5),
    })
}

impl LockedCircle {
    fn refuse_closed(&self) -> Result<()> {
        if self.closed {
            Err(TrustError::CircleClosed(self.id.clone()).into())
        } else {
            Ok(())
        }
    }

    /// For a request judged against the first `judged_at` entries of the log: refused
    /// if another process appended since (the caller reads the log again).
    fn refuse_moved(&self, judged_at: u64) -> Result<()> {
        self.refuse_closed()?;
        if to_u64(self.log_len) != judged_at {
            return Err(Error::LogMoved);
        }
        Ok(())
    }
}

impl RelayStore for PostgresStore {
    fn sharing(&self) -> Sharing {
        Sharing::Shared
    }

    fn notices(&self) -> Option<mpsc::Receiver<Notice>> {
        self.notices.lock().ok().and_then(|mut n| n.take())
    }

    fn connections(&self) -> Option<(usize, usize)> {
        let status = self.pool.status();
        Some((status.size, status.available))
    }

    fn log_len(&self, circle: CircleKey) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let client = self.client().await?;
            let row = client
                .query_one(
                    &client
                        .prepare_cached("SELECT id, closed_at, log_len FROM circles WHERE num = $1")
                        .await?,
                    &[&circle.0],
                )
                .await?;
            if row.get::<_, Option<i64>>(1).is_some() {
                return Err(TrustError::CircleClosed(row.get(0)).into());
            }
            Ok(to_u64(row.get(2)))
        })
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.client().await?;
            client.simple_query("SELECT 1").await?;
            Ok(())
        })
    }

    fn create_circle(
        &self,
        circle: CircleId,
        genesis: SignedEntry,
        admission: Option<Admitted>,
    ) -> StoreFuture<'_, CircleKey> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let now = Timestamp::now().0;
            if let Some(admitted) = &admission {
                // Creations with one credential, in any relay process, take turns
                // from here to their commit: the count cannot be overtaken. (Counted
                // in a statement of its own, so its snapshot is taken after the lock.)
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 27))",
                    &[&admitted.credential],
                )
                .await?;
                let created: i64 = tx
                    .query_one(
                        "SELECT count(*) FROM circles WHERE admission = $1",
                        &[&admitted.credential],
                    )
                    .await?
                    .get(0);
                admitted.check(to_u64(created))?;
            }
            let credential = admission.map(|a| a.credential);
            let inserted = tx
                .query_opt(
                    &tx.prepare_cached(
                        "INSERT INTO circles (id, created_at, active_at, admission, log_len)
                         VALUES ($1, $2, $2, $3, 1) ON CONFLICT (id) DO NOTHING RETURNING num",
                    )
                    .await?,
                    &[&circle.as_str(), &now, &credential],
                )
                .await?;
            let Some(row) = inserted else {
                let closed: Option<i64> = tx
                    .query_one(
                        "SELECT closed_at FROM circles WHERE id = $1",
                        &[&circle.as_str()],
                    )
                    .await?
                    .get(0);
                return Err(match closed {
                    Some(_) => TrustError::CircleClosed(circle.to_string()),
                    None => TrustError::CircleExists(circle.to_string()),
                }
                .into());
            };
            let num: i64 = row.get(0);
            insert_entry(&tx, num, &genesis).await?;
            tx.commit().await?;
            Ok(CircleKey(num))
        })
    }

    fn close_circle(&self, circle: CircleKey, judged_at: u64) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.close(circle, Closing::ByOwner { judged_at })
                .await
                .map(drop)
        })
    }

    fn close_inactive(&self, circle: CircleKey, before: Timestamp) -> StoreFuture<'_, bool> {
        Box::pin(self.close(circle, Closing::Inactive { before: before.0 }))
    }

    fn inactive_circles(&self, before: Timestamp) -> StoreFuture<'_, Vec<(CircleId, CircleKey)>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT id, num FROM circles WHERE closed_at IS NULL AND active_at < $1
                     ORDER BY active_at",
                    &[&before.0],
                )
                .await?;
            rows.iter()
                .map(|row| Ok((CircleId::parse(row.get(0))?, CircleKey(row.get(1)))))
                .collect()
        })
    }

    fn revoke_admission(&self, credential: String) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let client = self.client().await?;
            let inserted = client
                .execute(
                    "INSERT INTO admission_revoked (id, revoked_at) VALUES ($1, $2)
                     ON CONFLICT (id) DO NOTHING",
                    &[&credential, &Timestamp::now().0],
                )
                .await?;
            Ok(inserted > 0)
        })
    }

    fn admission_state(&self, credential: String) -> StoreFuture<'_, (bool, u64)> {
        Box::pin(async move {
            let client = self.client().await?;
            let row = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM admission_revoked WHERE id = $1),
                            (SELECT count(*) FROM circles WHERE admission = $1)",
                    &[&credential],
                )
                .await?;
            Ok((row.get(0), to_u64(row.get(1))))
        })
    }

    fn load_circle(&self, circle: CircleId) -> StoreFuture<'_, Option<StoredCircle>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let found = tx
                .query_opt(
                    &tx.prepare_cached("SELECT num, closed_at, latest FROM circles WHERE id = $1")
                        .await?,
                    &[&circle.as_str()],
                )
                .await?;
            let Some(row) = found else {
                return Ok(None);
            };
            if row.get::<_, Option<i64>>(1).is_some() {
                return Err(TrustError::CircleClosed(circle.to_string()).into());
            }
            let num: i64 = row.get(0);
            let log = entries_from(&tx, num, 0).await?;
            tx.commit().await?;
            Ok(Some(StoredCircle {
                key: CircleKey(num),
                log,
                latest: to_u64(row.get(2)),
            }))
        })
    }

    fn append_entry(&self, circle: CircleKey, entry: SignedEntry) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let locked = lock_circle(&tx, circle.0).await?;
            locked.refuse_closed()?;
            if to_u64(locked.log_len) != entry.seq() {
                return Err(Error::LogMoved);
            }
            let cutoffs = write_cutoffs(&entry);
            if !cutoffs.is_empty() {
                let devices: Vec<DeviceId> = cutoffs.iter().map(|c| c.device).collect();
                let stored = last_seqs(&tx, circle.0, &devices).await?;
                check_cutoffs(cutoffs, &stored)?;
            }
            insert_entry(&tx, circle.0, &entry).await?;
            tx.execute(
                &tx.prepare_cached(
                    "UPDATE circles SET log_len = $2, active_at = $3 WHERE num = $1",
                )
                .await?,
                &[&circle.0, &(locked.log_len + 1), &Timestamp::now().0],
            )
            .await?;
            tx.commit().await?;
            self.announce('m', &locked.id, entry.seq() + 1);
            Ok(())
        })
    }

    fn entries_from(&self, circle: CircleKey, from: u64) -> StoreFuture<'_, Vec<Vec<u8>>> {
        Box::pin(async move {
            let client = self.client().await?;
            entries_from(&client, circle.0, from).await
        })
    }

    fn push(
        &self,
        circle: CircleKey,
        state: Arc<MembershipState>,
        batch: Vec<NewEnvelope>,
        quotas: Quotas,
    ) -> StoreFuture<'_, PushOutcome> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let locked = lock_circle(&tx, circle.0).await?;
            locked.refuse_closed()?;
            if to_u64(locked.log_len) != state.len() {
                return Err(Error::LogMoved);
            }
            let now = Timestamp::now().0;
            let mut staged = StagedPush::read(
                &tx,
                circle.0,
                &state,
                &batch,
                locked.latest,
                locked.usage,
                now,
                quotas,
            )
            .await?;
            let (cursors, stored) = apply_push(&mut staged, &state, &batch)?;
            if stored > 0 {
                staged.write(&tx, circle.0, &batch).await?;
            }
            tx.commit().await?;
            if stored > 0 {
                self.announce('e', &locked.id, to_u64(staged.latest));
            }
            Ok(PushOutcome {
                cursors,
                latest: to_u64(staged.latest),
                stored,
            })
        })
    }

    fn last_seqs(
        &self,
        circle: CircleKey,
        devices: Vec<DeviceId>,
    ) -> StoreFuture<'_, Vec<(DeviceId, u64)>> {
        Box::pin(async move {
            let client = self.client().await?;
            last_seqs(&client, circle.0, &devices).await
        })
    }

    fn pull(
        &self,
        circle: CircleKey,
        after: u64,
        limit: u32,
        budget: usize,
    ) -> StoreFuture<'_, PulledPage> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let head = tx
                .query_one(
                    &tx.prepare_cached("SELECT latest, active_at FROM circles WHERE num = $1")
                        .await?,
                    &[&circle.0],
                )
                .await?;
            let statement = tx
                .prepare_cached(
                    "SELECT cursor, bytes FROM envelopes WHERE circle = $1 AND cursor > $2
                     ORDER BY cursor LIMIT $3",
                )
                .await?;
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
                [&circle.0, &to_i64(after), &(i64::from(limit) + 1)];
            // Boxed so that dropping it below ends it: an unread stream would hold the
            // connection's answers back, and the commit after it would never come.
            let mut rows = Box::pin(tx.query_raw(&statement, params).await?);
            let mut envelopes = Vec::new();
            let mut bytes = 0usize;
            let mut more = false;
            // Rows arrive one at a time: a page holds at most its budget (plus one
            // envelope) in memory, however large the circle is.
            while let Some(row) = rows.next().await {
                let row = row?;
                let data: Vec<u8> = row.get(1);
                let full = envelopes.len() >= limit as usize
                    || (!envelopes.is_empty() && bytes.saturating_add(data.len()) > budget);
                if full {
                    more = true;
                    break;
                }
                bytes = bytes.saturating_add(data.len());
                envelopes.push((to_u64(row.get(0)), data));
            }
            drop(rows);
            tx.commit().await?;
            Ok(PulledPage {
                envelopes,
                latest: to_u64(head.get(0)),
                more,
                active_at: Timestamp(head.get(1)),
            })
        })
    }

    fn put_push_subscription(
        &self,
        circle: CircleKey,
        judged_at: u64,
        device: DeviceId,
        subscription: Subscription,
    ) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // Under the circle's lock: a removal (which deletes the device's
            // subscriptions) is wholly before or after, and one after the request was
            // judged refuses it.
            lock_circle(&tx, circle.0).await?.refuse_moved(judged_at)?;
            tx.execute(
                &tx.prepare_cached(
                    "INSERT INTO push_subscriptions (circle, device, endpoint, p256dh, auth, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (circle, device) DO UPDATE SET
                         endpoint = $3, p256dh = $4, auth = $5, created_at = $6",
                )
                .await?,
                &[
                    &circle.0,
                    &&device.as_bytes()[..],
                    &subscription.endpoint,
                    &subscription.p256dh,
                    &subscription.auth,
                    &Timestamp::now().0,
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn delete_push_subscriptions(
        &self,
        circle: CircleKey,
        devices: Vec<DeviceId>,
        endpoint: Option<String>,
    ) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let client = self.client().await?;
            let devices: Vec<&[u8]> = devices.iter().map(|d| &d.as_bytes()[..]).collect();
            Ok(client
                .execute(
                    "DELETE FROM push_subscriptions
                     WHERE circle = $1 AND device = ANY($2) AND ($3::text IS NULL OR endpoint = $3)",
                    &[&circle.0, &devices, &endpoint],
                )
                .await?)
        })
    }

    fn push_subscriptions(
        &self,
        circle: CircleKey,
    ) -> StoreFuture<'_, Vec<(DeviceId, Subscription)>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query(
                    &client
                        .prepare_cached(
                            "SELECT device, endpoint, p256dh, auth FROM push_subscriptions
                             WHERE circle = $1",
                        )
                        .await?,
                    &[&circle.0],
                )
                .await?;
            rows.iter()
                .map(|row| {
                    Ok((
                        to_device(row.get(0))?,
                        Subscription {
                            endpoint: row.get(1),
                            p256dh: row.get(2),
                            auth: row.get(3),
                        },
                    ))
                })
                .collect()
        })
    }

    fn put_snapshot(
        &self,
        circle: CircleKey,
        judged_at: u64,
        covers: u64,
        bytes: Vec<u8>,
    ) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let locked = lock_circle(&tx, circle.0).await?;
            locked.refuse_moved(judged_at)?;
            let covers = super::push::check_snapshot_covers(covers, to_u64(locked.latest))?;
            let changed = tx
                .execute(
                    "INSERT INTO snapshots (circle, covers, stored_at, bytes) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (circle) DO UPDATE SET
                         covers = excluded.covers, stored_at = excluded.stored_at,
                         bytes = excluded.bytes
                     WHERE excluded.covers > snapshots.covers",
                    &[&circle.0, &to_i64(covers), &Timestamp::now().0, &bytes],
                )
                .await?;
            tx.commit().await?;
            Ok(changed > 0)
        })
    }

    fn snapshot(&self, circle: CircleKey) -> StoreFuture<'_, Option<Vec<u8>>> {
        Box::pin(async move {
            let client = self.client().await?;
            Ok(client
                .query_opt(
                    "SELECT bytes FROM snapshots WHERE circle = $1",
                    &[&circle.0],
                )
                .await?
                .map(|row| row.get(0)))
        })
    }

    fn relay_secret(&self, name: &'static str, generated: Vec<u8>) -> StoreFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .execute(
                    "INSERT INTO relay_secrets (name, secret) VALUES ($1, $2)
                     ON CONFLICT (name) DO NOTHING",
                    &[&name, &generated],
                )
                .await?;
            Ok(client
                .query_one("SELECT secret FROM relay_secrets WHERE name = $1", &[&name])
                .await?
                .get(0))
        })
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            // What was committed is announced before the pool closes.
            drop(self.announcements.lock().ok().and_then(|mut s| s.take()));
            let announcer = self.announcer.lock().ok().and_then(|mut a| a.take());
            if let Some(announcer) = announcer {
                let _ = tokio::time::timeout(Duration::from_secs(2), announcer).await;
            }
            self.listener.abort();
            self.pool.close();
            Ok(())
        })
    }
}

/// Why a circle is closed, and so what is checked under its row's lock first.
enum Closing {
    /// By an owner's device, judged against the first `judged_at` log entries.
    ByOwner { judged_at: u64 },
    /// By the retention period: only if nothing was stored since `before`.
    Inactive { before: i64 },
}

impl PostgresStore {
    /// Deletes everything of a circle but its row, which stays as the tombstone;
    /// checked under the row's lock, so a push that just came in wins over the
    /// retention period and a removal of the owner's device over her request.
    async fn close(&self, circle: CircleKey, closing: Closing) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let locked = lock_circle(&tx, circle.0).await?;
        match closing {
            Closing::ByOwner { judged_at } => locked.refuse_moved(judged_at)?,
            Closing::Inactive { before } => {
                let active_at: i64 = tx
                    .query_one("SELECT active_at FROM circles WHERE num = $1", &[&circle.0])
                    .await?
                    .get(0);
                if locked.closed || active_at >= before {
                    return Ok(false);
                }
            }
        }
        for table in ["envelopes", "membership", "push_subscriptions", "snapshots"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE circle = $1"),
                &[&circle.0],
            )
            .await?;
        }
        tx.execute(
            "UPDATE circles SET closed_at = $2, envelopes = 0, bytes = 0 WHERE num = $1",
            &[&circle.0, &Timestamp::now().0],
        )
        .await?;
        tx.commit().await?;
        self.announce('c', &locked.id, 0);
        Ok(true)
    }
}

async fn insert_entry(tx: &impl GenericClient, circle: i64, entry: &SignedEntry) -> Result<()> {
    let inserted = tx
        .execute(
            &tx.prepare_cached(
                "INSERT INTO membership (circle, seq, hash, bytes) VALUES ($1, $2, $3, $4)",
            )
            .await?,
            &[
                &circle,
                &to_i64(entry.seq()),
                &&entry.hash().as_bytes()[..],
                &entry.as_bytes(),
            ],
        )
        .await;
    match inserted {
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(Error::LogMoved),
        other => other.map(drop).map_err(Error::from),
    }
}

async fn entries_from(client: &impl GenericClient, circle: i64, from: u64) -> Result<Vec<Vec<u8>>> {
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT bytes FROM membership WHERE circle = $1 AND seq >= $2 ORDER BY seq",
                )
                .await?,
            &[&circle, &to_i64(from)],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

async fn last_seqs(
    client: &impl GenericClient,
    circle: i64,
    devices: &[DeviceId],
) -> Result<Vec<(DeviceId, u64)>> {
    let ids: Vec<&[u8]> = devices.iter().map(|d| &d.as_bytes()[..]).collect();
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT author, max(device_seq) FROM envelopes
                     WHERE circle = $1 AND author = ANY($2) GROUP BY author",
                )
                .await?,
            &[&circle, &ids],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((to_device(row.get(0))?, to_u64(row.get(1)))))
        .collect()
}

/// A push read up front and decided in memory by [`apply_push`]: what is stored at the
/// batch's positions, each author's newest envelope and today's usage (its row locked,
/// so the daily quota holds across processes). The in-memory view follows the
/// batch's own inserts, as a transaction would.
struct StagedPush {
    stored: Vec<((DeviceId, u64), (u64, EnvelopeHash))>,
    last: Vec<(DeviceId, Option<(u64, EnvelopeHash)>)>,
    latest: i64,
    now: i64,
    quotas: Quotas,
    usage: Usage,
    /// Each author's quota account ([`quota_account`]: its member's).
    accounts: Vec<(DeviceId, [u8; 32])>,
    /// Today's usage of each account, counting the batch so far
    /// (`device_days.device` holds the account).
    days: Vec<([u8; 32], Usage)>,
    /// The new envelopes' cursors, by author and position.
    inserted: Vec<(i64, DeviceId, u64)>,
}

impl StagedPush {
    #[allow(clippy::too_many_arguments)]
    async fn read(
        tx: &deadpool_postgres::Transaction<'_>,
        circle: i64,
        state: &MembershipState,
        batch: &[NewEnvelope],
        latest: i64,
        usage: Usage,
        now: i64,
        quotas: Quotas,
    ) -> Result<Self> {
        let mut authors: Vec<DeviceId> = batch.iter().map(|e| e.verified.header().author).collect();
        authors.sort_unstable_by_key(|a| *a.as_bytes());
        authors.dedup();
        let mut stored = Vec::new();
        let mut last = Vec::new();
        let mut days: Vec<([u8; 32], Usage)> = Vec::new();
        let mut accounts = Vec::new();
        let day = day_of(now);
        // One statement per author (a batch has one: its signer): today's usage, its
        // row locked by the upsert (the daily quota holds across processes), the
        // author's newest envelope, and what is stored at the batch's positions.
        let read = tx
            .prepare_cached(
                "WITH today AS (
                     INSERT INTO device_days (device, day, envelopes, bytes) VALUES ($5, $3, 0, 0)
                     ON CONFLICT (device, day) DO UPDATE SET envelopes = device_days.envelopes
                     RETURNING envelopes, bytes, xmax = 0 AS fresh),
                 newest AS (
                     SELECT device_seq, hash FROM envelopes WHERE circle = $1 AND author = $2
                     ORDER BY device_seq DESC LIMIT 1),
                 taken AS (
                     SELECT device_seq, cursor, hash FROM envelopes
                     WHERE circle = $1 AND author = $2 AND device_seq = ANY($4))
                 SELECT today.envelopes, today.bytes, today.fresh,
                        (SELECT device_seq FROM newest), (SELECT hash FROM newest),
                        ARRAY(SELECT device_seq FROM taken ORDER BY device_seq),
                        ARRAY(SELECT cursor FROM taken ORDER BY device_seq),
                        ARRAY(SELECT hash FROM taken ORDER BY device_seq)
                 FROM today",
            )
            .await?;
        for author in &authors {
            let id = &author.as_bytes()[..];
            let seqs: Vec<i64> = batch
                .iter()
                .map(|e| e.verified.header())
                .filter(|h| h.author == *author)
                .map(|h| to_i64(h.device_seq))
                .collect();
            let account = quota_account(state, author);
            let key = &account[..];
            let row = tx
                .query_one(&read, &[&circle, &id, &day, &seqs, &key])
                .await?;
            accounts.push((*author, account));
            // Two authors of one member read the same row (locked by the first).
            if !days.iter().any(|(a, _)| *a == account) {
                days.push((
                    account,
                    Usage {
                        envelopes: to_u64(row.get(0)),
                        bytes: to_u64(row.get(1)),
                    },
                ));
            }
            if row.get::<_, bool>(2) {
                // The account's first write today: forget days before yesterday.
                tx.execute(
                    "DELETE FROM device_days WHERE device = $1 AND day < $2",
                    &[&key, &(day - 1)],
                )
                .await?;
            }
            let newest = match (
                row.get::<_, Option<i64>>(3),
                row.get::<_, Option<Vec<u8>>>(4),
            ) {
                (Some(seq), Some(hash)) => Some((to_u64(seq), to_hash(hash)?)),
                _ => None,
            };
            last.push((*author, newest));
            let positions: Vec<i64> = row.get(5);
            let cursors: Vec<i64> = row.get(6);
            let hashes: Vec<Vec<u8>> = row.get(7);
            for ((seq, cursor), hash) in positions.into_iter().zip(cursors).zip(hashes) {
                stored.push(((*author, to_u64(seq)), (to_u64(cursor), to_hash(hash)?)));
            }
        }
        Ok(Self {
            stored,
            last,
            latest,
            now,
            quotas,
            usage,
            accounts,
            days,
            inserted: Vec::new(),
        })
    }

    /// Inserts the new envelopes in one statement and records the usage.
    async fn write(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        circle: i64,
        batch: &[NewEnvelope],
    ) -> Result<()> {
        let mut cursors = Vec::new();
        let mut authors: Vec<&[u8]> = Vec::new();
        let mut seqs = Vec::new();
        let mut hashes: Vec<Vec<u8>> = Vec::new();
        let mut bytes: Vec<&[u8]> = Vec::new();
        for (cursor, author, seq) in &self.inserted {
            let envelope = batch
                .iter()
                .find(|e| {
                    let header = e.verified.header();
                    header.author == *author && header.device_seq == *seq
                })
                .ok_or_else(|| internal("a staged envelope is not in the batch"))?;
            cursors.push(*cursor);
            authors.push(&author.as_bytes()[..]);
            seqs.push(to_i64(*seq));
            hashes.push(envelope.verified.hash().as_bytes().to_vec());
            bytes.push(&envelope.bytes);
        }
        let day = day_of(self.now);
        let day_devices: Vec<&[u8]> = self.days.iter().map(|(a, _)| &a[..]).collect();
        let day_envelopes: Vec<i64> = self.days.iter().map(|(_, u)| to_i64(u.envelopes)).collect();
        let day_bytes: Vec<i64> = self.days.iter().map(|(_, u)| to_i64(u.bytes)).collect();
        // One statement: the envelopes, the circle's usage and newest cursor, and the
        // authors' usage today.
        tx.execute(
            &tx.prepare_cached(
                "WITH stored AS (
                     INSERT INTO envelopes (circle, cursor, author, device_seq, hash, stored_at, bytes)
                     SELECT $1, c, a, s, h, $2, b
                     FROM unnest($3::bigint[], $4::bytea[], $5::bigint[], $6::bytea[], $7::bytea[])
                         AS t (c, a, s, h, b)),
                 circle AS (
                     UPDATE circles SET envelopes = $8, bytes = $9, active_at = $2, latest = $10
                     WHERE num = $1),
                 usage AS (
                     UPDATE device_days SET envelopes = u.e, bytes = u.b
                     FROM unnest($11::bytea[], $12::bigint[], $13::bigint[]) AS u (d, e, b)
                     WHERE device = u.d AND day = $14)
                 SELECT 1",
            )
            .await?,
            &[
                &circle,
                &self.now,
                &cursors,
                &authors,
                &seqs,
                &hashes,
                &bytes,
                &to_i64(self.usage.envelopes),
                &to_i64(self.usage.bytes),
                &self.latest,
                &day_devices,
                &day_envelopes,
                &day_bytes,
                &day,
            ],
        )
        .await?;
        Ok(())
    }
}

impl PushTx for StagedPush {
    fn stored_at(
        &mut self,
        author: &DeviceId,
        device_seq: u64,
    ) -> Result<Option<(u64, EnvelopeHash)>> {
        Ok(self
            .stored
            .iter()
            .find(|((a, s), _)| a == author && *s == device_seq)
            .map(|(_, found)| *found))
    }

    fn last_of(&mut self, author: &DeviceId) -> Result<Option<(u64, EnvelopeHash)>> {
        Ok(self
            .last
            .iter()
            .find(|(a, _)| a == author)
            .and_then(|(_, last)| *last))
    }

    fn insert(&mut self, envelope: &NewEnvelope) -> Result<u64> {
        let header = envelope.verified.header();
        let day = self
            .accounts
            .iter()
            .find(|(author, _)| *author == header.author)
            .and_then(|(_, account)| self.days.iter().position(|(a, _)| a == account))
            .ok_or_else(|| internal("an author of the batch was not read"))?;
        charge(
            &self.quotas,
            &mut self.usage,
            &mut self.days[day].1,
            envelope.bytes.len(),
            self.now,
        )?;
        let hash = envelope.verified.hash();
        let cursor = self.latest + 1;
        self.latest = cursor;
        self.inserted
            .push((cursor, header.author, header.device_seq));
        let found = (to_u64(cursor), hash);
        self.stored
            .push(((header.author, header.device_seq), found));
        match self.last.iter_mut().find(|(a, _)| *a == header.author) {
            Some((_, last)) => *last = Some((header.device_seq, hash)),
            None => self
                .last
                .push((header.author, Some((header.device_seq, hash)))),
        }
        Ok(to_u64(cursor))
    }
}

fn to_device(bytes: Vec<u8>) -> Result<DeviceId> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| internal("a stored device id is not 32 bytes"))?;
    Ok(DeviceId::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_their_process_and_own_ones_are_skipped() {
        let circle = "0123456789abcdef0123456789abcdef";
        let other = parse_notice(&format!("e {circle} 7 1780000000000 bbbb"), "aaaa");
        assert_eq!(
            other,
            Some(Notice::Stored {
                circle: CircleId::parse(circle).expect("id"),
                latest: 7,
                at: Timestamp(1_780_000_000_000),
            })
        );
        assert_eq!(
            parse_notice(&format!("m {circle} 3 1780000000000 aaaa"), "aaaa"),
            None
        );
        for garbled in [
            "",
            "e",
            "x {circle} 1 1 b",
            "e nothex 1 1 b",
            "e {circle} -1 1 b",
        ] {
            assert_eq!(
                parse_notice(&garbled.replace("{circle}", circle), "aaaa"),
                None
            );
        }
    }

    #[test]
    fn passwords_never_reach_the_log() {
        let shown = redacted("postgres://kring:s3cret@db.example:5432/kring");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example"), "{shown}");
    }
}
