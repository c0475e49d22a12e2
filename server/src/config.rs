//! Configuration: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use kring_core::sync::protocol::{MAX_BODY_BYTES, MAX_PUSH_BATCH};

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

    /// The SQLite database file (created if missing; WAL mode, so `-wal` and `-shm`
    /// files appear next to it).
    #[arg(long, env = "KRING_DB", default_value = "./kring-relay.db")]
    pub db: PathBuf,

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

    /// Log format.
    #[arg(long, env = "KRING_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter (tracing's env-filter syntax), e.g. `info` or `kring_server=debug`.
    #[arg(long, env = "KRING_LOG", default_value = "info")]
    pub log: String,
}

impl Config {
    /// The defaults (ignoring flags and environment), with `db` as the database and
    /// `listen` as the address.
    pub fn new(db: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        Config {
            listen,
            db: db.into(),
            max_body_bytes: MAX_BODY_BYTES,
            max_batch: MAX_PUSH_BATCH,
            rate_per_sec: 20.0,
            rate_burst: 40.0,
            max_live_circles: 64,
            max_live_connections: 50_000,
            ping_secs: 30,
            read_connections: 4,
            log_format: LogFormat::Text,
            log: "info".to_owned(),
        }
    }

    /// The defaults on `127.0.0.1:0` (a free port): for tests and `kring demo`.
    pub fn local(db: impl Into<PathBuf>) -> Self {
        Self::new(db, SocketAddr::from(([127, 0, 0, 1], 0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_defaults_match_config_new() {
        let parsed = Config::try_parse_from(["kring-server"]).expect("defaults parse");
        let built = Config::new(parsed.db.clone(), parsed.listen);
        assert_eq!(format!("{parsed:?}"), format!("{built:?}"));
    }
}
