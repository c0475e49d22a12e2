//! Configuration: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use kring_trust::protocol::{DEFAULT_PULL_BYTES, MAX_BODY_BYTES, MAX_PUSH_BATCH};

/// Where the relay keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// One SQLite file, owned by this process (the embedded default).
    Sqlite(PathBuf),
    /// A PostgreSQL database (its connection URL), shared with other relay processes.
    Postgres(String),
}

impl Database {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite:PATH` or any other
    /// text is a SQLite file's path.
    pub fn parse(text: &str) -> Result<Database, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("give a SQLite file or a postgres:// URL".into());
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Database::Postgres(text.to_owned()));
        }
        Ok(Database::Sqlite(PathBuf::from(
            text.strip_prefix("sqlite:").unwrap_or(text),
        )))
    }
}

impl Database {
    /// As given on the command line (`--db`), password included: for starting another
    /// relay process on the same database, never for a log.
    pub fn as_flag(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => url.clone(),
        }
    }
}

/// Shown in logs and `--help` without a PostgreSQL password.
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&crate::store::postgres::redacted(url)),
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// Who may create circles on this relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Admission {
    /// Anyone with a device key (a local or private relay; the default).
    Open,
    /// Only holders of an admission credential signed by the operator key
    /// (`--operator-key`): what a public relay should run.
    Credential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The Kring relay: stores and forwards signed, end-to-end encrypted envelopes and
/// each circle's membership log. Zero setup: one SQLite file.
#[derive(Debug, Clone, Parser)]
#[command(name = "kring-server", version, about)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port; the bound address is printed
    /// as `listening on ADDR`).
    #[arg(long, env = "KRING_LISTEN", default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,

    /// The database: a SQLite file (created if missing; WAL mode, so `-wal` and
    /// `-shm` files appear next to it; `sqlite:PATH` also works), or
    /// `postgres://USER:PASSWORD@HOST:PORT/DB` to share one PostgreSQL database with
    /// other relay processes (docs/relay.md).
    #[arg(long, env = "KRING_DB", default_value = "./kring-relay.db", value_parser = Database::parse)]
    pub db: Database,

    /// Most connections to PostgreSQL this process keeps open (with `--db postgres://…`).
    #[arg(long, env = "KRING_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: usize,

    /// Largest request body in bytes.
    #[arg(long, env = "KRING_MAX_BODY_BYTES", default_value_t = MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Most envelopes in one push.
    #[arg(long, env = "KRING_MAX_BATCH", default_value_t = MAX_PUSH_BATCH)]
    pub max_batch: usize,

    /// Sustained requests per second per device (token bucket refill rate).
    #[arg(long, env = "KRING_RATE_PER_SEC", default_value_t = 20.0)]
    pub rate_per_sec: f64,

    /// Burst of requests per device (token bucket size).
    #[arg(long, env = "KRING_RATE_BURST", default_value_t = 40.0)]
    pub rate_burst: f64,

    /// Most circles one live WebSocket may subscribe to.
    #[arg(long, env = "KRING_MAX_LIVE_CIRCLES", default_value_t = 64)]
    pub max_live_circles: usize,

    /// Most simultaneous live WebSockets; further upgrades get 429.
    #[arg(long, env = "KRING_MAX_LIVE_CONNECTIONS", default_value_t = 50_000)]
    pub max_live_connections: usize,

    /// Seconds between pings on live WebSockets.
    #[arg(long, env = "KRING_PING_SECS", default_value_t = 30)]
    pub ping_secs: u64,

    /// Read-only SQLite connections kept open for pulls and log reads.
    #[arg(long, env = "KRING_READ_CONNECTIONS", default_value_t = 4)]
    pub read_connections: usize,

    /// Seconds a connection may take to send a request's headers; also how long an
    /// idle keep-alive connection is kept waiting for its next request.
    #[arg(long, env = "KRING_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Seconds a request's whole body may take to arrive (408 `timeout` beyond).
    #[arg(long, env = "KRING_BODY_TIMEOUT_SECS", default_value_t = 20)]
    pub body_timeout_secs: u64,

    /// Seconds a request may take from its headers to its answer (408 beyond).
    #[arg(long, env = "KRING_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Seconds a connection may go without a byte moving either way before it is
    /// closed (slow readers of an answer, stalled peers). Live sockets are kept alive
    /// by their pings instead.
    #[arg(long, env = "KRING_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,

    /// Most simultaneous connections (0: derived from the open-files limit, keeping
    /// room for the database files).
    #[arg(long, env = "KRING_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,

    /// Most simultaneous connections from one address (an IPv6 /64 counts as one
    /// address); 0 disables. Behind a reverse proxy every connection comes from the
    /// proxy: set this to 0 there and limit per client in the proxy.
    #[arg(long, env = "KRING_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256)]
    pub max_connections_per_address: usize,

    /// Sustained `/v1/` requests per second from one address; 0 disables.
    #[arg(long, env = "KRING_ADDRESS_RATE_PER_SEC", default_value_t = 100.0)]
    pub address_rate_per_sec: f64,

    /// Burst of `/v1/` requests from one address.
    #[arg(long, env = "KRING_ADDRESS_RATE_BURST", default_value_t = 200.0)]
    pub address_rate_burst: f64,

    /// Failed authentications (401) one address may have per minute before all its
    /// requests are refused with 429 for a while; 0 disables.
    #[arg(long, env = "KRING_AUTH_FAILURES_PER_MIN", default_value_t = 30.0)]
    pub auth_failures_per_min: f64,

    /// Most live WebSockets of one device.
    #[arg(long, env = "KRING_MAX_LIVE_PER_DEVICE", default_value_t = 4)]
    pub max_live_per_device: usize,

    /// Most live WebSockets from one address; 0 disables.
    #[arg(long, env = "KRING_MAX_LIVE_PER_ADDRESS", default_value_t = 128)]
    pub max_live_per_address: usize,

    /// Most envelope bytes in one pull page (it always holds at least one envelope).
    #[arg(long, env = "KRING_PULL_BUDGET_BYTES", default_value_t = DEFAULT_PULL_BYTES)]
    pub pull_budget_bytes: usize,

    /// Most pulls assembled or being sent at once (live catch-ups and snapshot reads
    /// included); further pulls wait their turn, fairly by address. With the byte
    /// budget this bounds the memory pulls can take.
    #[arg(long, env = "KRING_MAX_CONCURRENT_PULLS", default_value_t = 4)]
    pub max_concurrent_pulls: usize,

    /// Seconds a pull page may take to be handed to the connection beyond what its
    /// size takes at `--pull-min-bytes-per-sec`; the connection is closed beyond (and
    /// the page's permit comes back).
    #[arg(long, env = "KRING_PULL_SEND_SECS", default_value_t = 10)]
    pub pull_send_secs: u64,

    /// The slowest a reader may take a pull page (bytes per second, over the page).
    #[arg(long, env = "KRING_PULL_MIN_BYTES_PER_SEC", default_value_t = 65_536)]
    pub pull_min_bytes_per_sec: u64,

    /// Most bytes of request bodies being received at once (each request reserves its
    /// declared length before its body is read; 503 `unavailable` beyond); one address
    /// holds at most a quarter of it. At least `--max-body-bytes`.
    #[arg(long, env = "KRING_MAX_BODY_BYTES_IN_FLIGHT", default_value_t = 64 << 20)]
    pub max_body_bytes_in_flight: usize,

    /// Most envelope bytes stored per circle (507 `quota_exceeded` beyond).
    #[arg(long, env = "KRING_MAX_CIRCLE_BYTES", default_value_t = 1 << 30)]
    pub max_circle_bytes: u64,

    /// Most envelopes stored per circle.
    #[arg(long, env = "KRING_MAX_CIRCLE_ENVELOPES", default_value_t = 1_000_000)]
    pub max_circle_envelopes: u64,

    /// Most membership entries per circle (the relay keeps each log in memory).
    #[arg(long, env = "KRING_MAX_LOG_ENTRIES", default_value_t = 10_000)]
    pub max_log_entries: u64,

    /// Most envelope bytes one device may store per UTC day, over all its circles
    /// (429 `daily_quota_exceeded` beyond).
    #[arg(long, env = "KRING_MAX_DEVICE_BYTES_PER_DAY", default_value_t = 64 << 20)]
    pub max_device_bytes_per_day: u64,

    /// Most envelopes one device may store per UTC day.
    #[arg(
        long,
        env = "KRING_MAX_DEVICE_ENVELOPES_PER_DAY",
        default_value_t = 20_000
    )]
    pub max_device_envelopes_per_day: u64,

    /// Circles one address may create per hour in `open` mode (keys are free, so
    /// this is what stops a circle flood); 0 disables.
    #[arg(
        long,
        env = "KRING_CIRCLES_PER_ADDRESS_PER_HOUR",
        default_value_t = 60.0
    )]
    pub circles_per_address_per_hour: f64,

    /// Circles whose membership state is kept in memory (least recently used ones
    /// not in use are dropped beyond this; they are re-read on their next request).
    #[arg(long, env = "KRING_CIRCLE_CACHE", default_value_t = 10_000)]
    pub circle_cache: usize,

    /// Who may create circles: `open` (anyone; a local relay) or `credential` (holders
    /// of an admission credential signed by `--operator-key`; a public relay).
    #[arg(long, env = "KRING_ADMISSION", value_enum, default_value_t = Admission::Open)]
    pub admission: Admission,

    /// The operator's public key (hex) that signs admission credentials
    /// (`kring-server admission keygen`).
    #[arg(long, env = "KRING_OPERATOR_KEY")]
    pub operator_key: Option<String>,

    /// Contact of this relay's operator for push services (RFC 8292 `sub`): a
    /// `mailto:` or `https://` URI. Set it on a public relay; some push services
    /// refuse placeholder addresses.
    #[arg(long, env = "KRING_PUSH_SUBJECT", default_value = DEFAULT_PUSH_SUBJECT)]
    pub push_subject: String,

    /// The VAPID key file (PEM, or the 32-byte secret in base64url). Without one the
    /// relay generates a key on first start and keeps it in the database.
    #[arg(long, env = "KRING_VAPID_KEY")]
    pub vapid_key: Option<PathBuf>,

    /// Accept `http://` push endpoints (default: `https://` only).
    #[arg(long, env = "KRING_PUSH_ALLOW_HTTP")]
    pub push_allow_http: bool,

    /// Send pushes to loopback, private and link-local addresses too (a test
    /// receiver, a gateway on the operator's network). Default: public addresses only.
    #[arg(long, env = "KRING_PUSH_ALLOW_PRIVATE")]
    pub push_allow_private: bool,

    /// At most one push per device and circle per this many milliseconds.
    #[arg(long, env = "KRING_PUSH_COALESCE_MS", default_value_t = 2000)]
    pub push_coalesce_ms: u64,

    /// Changes waiting to be turned into pushes, and pushes waiting to be sent (each
    /// queue); beyond, wake-ups are dropped and counted.
    #[arg(long, env = "KRING_PUSH_QUEUE", default_value_t = 1024)]
    pub push_queue: usize,

    /// Requests to push services in flight at once.
    #[arg(long, env = "KRING_PUSH_CONCURRENCY", default_value_t = 8)]
    pub push_concurrency: usize,

    /// Seconds one request to a push service may take (connect to answer).
    #[arg(long, env = "KRING_PUSH_TIMEOUT_SECS", default_value_t = 10)]
    pub push_timeout_secs: u64,

    /// Seconds a push service keeps an undelivered push (TTL, 60 to 86000).
    #[arg(long, env = "KRING_PUSH_TTL_SECS", default_value_t = 43_200)]
    pub push_ttl_secs: u64,
    /// Close circles in which nothing new was stored for this many months (30 days
    /// each); off unless set. The same close as an owner's: only a tombstone stays.
    #[arg(long, env = "KRING_RETENTION_INACTIVE_MONTHS")]
    pub retention_inactive_months: Option<u32>,

    /// Days before a retention close during which pull answers carry `closes_at`, so
    /// the owner's device can warn them.
    #[arg(long, env = "KRING_RETENTION_WARNING_DAYS", default_value_t = 30)]
    pub retention_warning_days: u32,

    /// How often the relay looks for circles its retention period closes.
    #[arg(long, env = "KRING_RETENTION_SWEEP_SECS", default_value_t = 3600)]
    pub retention_sweep_secs: u64,

    /// A folder of static files served beside the API: the web app (`web/app`, with
    /// its WebAssembly core built by `scripts/build-web.sh`). `/` is its
    /// `index.html`, and so is `/join` (an invite opened on a phone). Off when unset.
    #[arg(long, env = "KRING_WEB_DIR")]
    pub web: Option<PathBuf>,

    /// Log format.
    #[arg(long, env = "KRING_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter (tracing's env-filter syntax), e.g. `info` or `kring_server=debug`.
    #[arg(long, env = "KRING_LOG", default_value = "info")]
    pub log: String,
}

/// The push contact until the operator sets `--push-subject`.
pub const DEFAULT_PUSH_SUBJECT: &str = "mailto:operator@kring-relay.invalid";

impl Config {
    /// The defaults (ignoring flags and environment), with `db` as the database and
    /// `listen` as the address.
    pub fn new(db: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        Self::with_database(Database::Sqlite(db.into()), listen)
    }

    /// The defaults with `db` (SQLite or PostgreSQL) as the database.
    pub fn with_database(db: Database, listen: SocketAddr) -> Self {
        Config {
            listen,
            db,
            db_connections: 16,
            max_body_bytes: MAX_BODY_BYTES,
            max_batch: MAX_PUSH_BATCH,
            rate_per_sec: 20.0,
            rate_burst: 40.0,
            max_live_circles: 64,
            max_live_connections: 50_000,
            ping_secs: 30,
            read_connections: 4,
            header_timeout_secs: 10,
            body_timeout_secs: 20,
            request_timeout_secs: 30,
            idle_timeout_secs: 60,
            max_connections: 0,
            max_connections_per_address: 256,
            address_rate_per_sec: 100.0,
            address_rate_burst: 200.0,
            auth_failures_per_min: 30.0,
            max_live_per_device: 4,
            max_live_per_address: 128,
            pull_budget_bytes: DEFAULT_PULL_BYTES,
            max_concurrent_pulls: 4,
            pull_send_secs: 10,
            pull_min_bytes_per_sec: 65_536,
            max_body_bytes_in_flight: 64 << 20,
            max_circle_bytes: 1 << 30,
            max_circle_envelopes: 1_000_000,
            max_log_entries: 10_000,
            max_device_bytes_per_day: 64 << 20,
            max_device_envelopes_per_day: 20_000,
            circles_per_address_per_hour: 60.0,
            circle_cache: 10_000,
            admission: Admission::Open,
            operator_key: None,
            push_subject: DEFAULT_PUSH_SUBJECT.to_owned(),
            vapid_key: None,
            push_allow_http: false,
            push_allow_private: false,
            push_coalesce_ms: 2000,
            push_queue: 1024,
            push_concurrency: 8,
            push_timeout_secs: 10,
            push_ttl_secs: 43_200,
            retention_inactive_months: None,
            retention_warning_days: 30,
            retention_sweep_secs: 3600,
            web: None,
            log_format: LogFormat::Text,
            log: "info".to_owned(),
        }
    }

    /// The push settings of these flags (the TTL within what RFC 8292 allows a
    /// VAPID token: at most 24 hours).
    pub fn push_settings(&self) -> crate::push::Settings {
        crate::push::Settings {
            policy: crate::push::EndpointPolicy {
                allow_http: self.push_allow_http,
                allow_private: self.push_allow_private,
            },
            coalesce: std::time::Duration::from_millis(self.push_coalesce_ms),
            queue: self.push_queue.max(1),
            concurrency: self.push_concurrency.max(1),
            timeout: std::time::Duration::from_secs(self.push_timeout_secs.max(1)),
            ttl: std::time::Duration::from_secs(self.push_ttl_secs.clamp(60, 86_000)),
        }
    }

    /// How long an answer of `bytes` (a pull page, a snapshot, a catch-up page) may
    /// take to be handed to the connection: `--pull-send-secs` plus its size at
    /// `--pull-min-bytes-per-sec`. Bounds how long a slow reader holds a pull permit.
    pub fn send_allowance(&self, bytes: usize) -> std::time::Duration {
        let rate = self.pull_min_bytes_per_sec.max(1) as f64;
        let secs = self.pull_send_secs.max(1) as f64 + bytes as f64 / rate;
        std::time::Duration::from_secs_f64(secs.min(86_400.0))
    }

    /// The defaults on `127.0.0.1:0` (a free port): for tests and `kring demo`.
    pub fn local(db: impl Into<PathBuf>) -> Self {
        Self::new(db, SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The defaults on `127.0.0.1:0` over `db`, SQLite or PostgreSQL.
    pub fn local_on(db: Database) -> Self {
        Self::with_database(db, SocketAddr::from(([127, 0, 0, 1], 0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_defaults_match_config_new() {
        let parsed = Config::try_parse_from(["kring-server"]).expect("defaults parse");
        let built = Config::with_database(parsed.db.clone(), parsed.listen);
        assert_eq!(format!("{parsed:?}"), format!("{built:?}"));
    }

    #[test]
    fn a_database_is_a_file_or_a_postgres_url() {
        assert_eq!(
            Database::parse("./relay.db"),
            Ok(Database::Sqlite("./relay.db".into()))
        );
        assert_eq!(
            Database::parse("sqlite:/var/lib/kring/relay.db"),
            Ok(Database::Sqlite("/var/lib/kring/relay.db".into()))
        );
        let pg = Database::parse("postgres://kring:geheim@db:5432/kring").expect("url");
        assert!(matches!(pg, Database::Postgres(_)));
        assert!(!format!("{pg:?} {pg}").contains("geheim"));
        assert!(Database::parse(" ").is_err());
    }
}
