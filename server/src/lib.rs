//! `kring-server`: the Kring relay.
//!
//! The relay stores and forwards; it holds no authority and cannot read plans. It
//! accepts only what `kring-core`'s validators accept (the same code clients run),
//! orders each circle's membership log by compare-and-swap, and gives each stored
//! envelope a per-circle cursor. The HTTP API is `docs/relay-api.md`.
//!
//! Modules by concept:
//! - [`config`]: flags and environment variables.
//! - [`store`]: the storage trait, the push rules and the SQLite backend.
//! - [`circles`]: the validated membership state of each circle, in memory.
//! - [`auth`]: signed requests, replay refusal, who may do what.
//! - [`api`]: the handlers and the route table; [`live`]: the WebSocket.
//! - [`limits`]: per-device rate limits; [`metrics`]; [`openapi`].
//! - [`push`]: content-free Web Push wake-ups to registered devices.
//!
//! Running one in-process (tests, `kring demo`):
//!
//! ```no_run
//! # async fn demo() -> kring_trust::Result<()> {
//! let relay = kring_server::spawn(kring_server::Config::local("/tmp/relay.db")).await?;
//! println!("relay at {}", relay.url());
//! relay.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod admission;
pub mod api;
pub mod auth;
pub mod body;
pub mod circles;
pub mod config;
pub mod conn;
pub mod error;
pub mod guard;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod peers;
pub mod push;
pub mod retention;
pub mod store;
pub mod stream;
pub mod web_app;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
pub use error::{Error, Result};
use kring_trust::identity::DeviceId;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use config::{Admission, Config, LogFormat};

use auth::ReplayCache;
use circles::Circles;
use error::internal;
use limits::{AddrKey, Fair, RateLimiter, Share, Slots};
use metrics::Metrics;
use store::sqlite::SqliteStore;
use store::RelayStore;

/// The relay's shared state: cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Arc<dyn RelayStore>,
    circles: Circles,
    replay: ReplayCache,
    rate: RateLimiter,
    /// `/v1/` requests per address.
    address_rate: RateLimiter<AddrKey>,
    /// Failed authentications per address: an empty bucket refuses the address,
    /// except for the signers in `vouched`.
    auth_failures: RateLimiter<AddrKey>,
    /// Signers that authenticated from each address recently, as devices of a circle.
    vouched: limits::Vouched,
    metrics: Arc<Metrics>,
    /// Every connection, per address and in total (see [`Relay::connection_cap`]).
    connections: Slots<AddrKey>,
    /// Live sockets per device and per address; the totals of both are the live cap.
    live_by_device: Slots<DeviceId>,
    live_by_address: Slots<AddrKey>,
    /// Pulls being assembled or sent (HTTP pulls, snapshot reads, live catch-ups),
    /// shared fairly by address ([`Relay::pull_permit`]): with the byte budget,
    /// bounds their memory.
    pulls: Fair<Option<AddrKey>>,
    /// Bytes of request bodies being received, shared fairly by address
    /// ([`Relay::body_budget`]).
    bodies: Fair<Option<AddrKey>>,
    /// Circles created per address (open mode).
    circle_creations: RateLimiter<AddrKey>,
    /// The operator's key in `credential` mode (`None`: open).
    operator_key: Option<ed25519_dalek::VerifyingKey>,
    /// HTTP pulls in flight (waiting or sending) per address.
    pulls_by_address: Slots<AddrKey>,
    /// Becomes `true` when shutdown starts (live sockets close on it).
    shutdown: watch::Receiver<bool>,
    /// Web Push wake-ups: requests hand their changes over, never waiting.
    pusher: push::Pusher,
    /// The operator's retention period for inactive circles, if any.
    retention: Option<retention::Retention>,
}

impl Relay {
    /// A relay over `store`, waking devices through `pusher`; `shutdown` turning
    /// `true` closes live sockets. Fails if `credential` admission is asked for
    /// without a valid `--operator-key`.
    pub fn new(
        config: Config,
        store: Arc<dyn RelayStore>,
        metrics: Arc<Metrics>,
        pusher: push::Pusher,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self> {
        let operator_key = match (config.admission, &config.operator_key) {
            (Admission::Open, _) => None,
            (Admission::Credential, Some(key)) => Some(admission::parse_public_key(key)?),
            (Admission::Credential, None) => {
                return Err(Error::Trust(kring_trust::Error::InvalidValue {
                    field: "--operator-key",
                    value: String::new(),
                    expected: "the operator's public key (hex) with --admission credential".into(),
                }))
            }
        };
        let circle_creations = RateLimiter::new(
            config.circles_per_address_per_hour / 3600.0,
            config.circles_per_address_per_hour,
        );
        let rate = RateLimiter::new(config.rate_per_sec, config.rate_burst);
        let address_rate = RateLimiter::new(config.address_rate_per_sec, config.address_rate_burst);
        let auth_failures = RateLimiter::new(
            config.auth_failures_per_min / 60.0,
            config.auth_failures_per_min,
        );
        let connection_cap = connection_cap(&config);
        // Plain requests keep a tenth of the connections even when live sockets are
        // at their cap, so an honest device can always push and pull.
        let live_cap = config
            .max_live_connections
            .min(connection_cap - connection_cap / 10)
            .max(1);
        let connections = Slots::with_reserve(
            connection_cap,
            config.max_connections_per_address,
            connection_cap / 10,
        );
        let live_by_device = Slots::new(live_cap, config.max_live_per_device);
        let live_by_address = Slots::new(live_cap, config.max_live_per_address);
        let pulls = pull_permits(config.max_concurrent_pulls);
        let bodies = body_budget(config.max_body_bytes_in_flight, config.max_body_bytes);
        let config_retention = config.clone();
        Ok(Relay {
            inner: Arc::new(Inner {
                circles: Circles::new(config.circle_cache),
                config,
                store,
                replay: ReplayCache::default(),
                rate,
                address_rate,
                auth_failures,
                vouched: limits::Vouched::new(VOUCHED_FOR),
                metrics,
                connections,
                live_by_device,
                live_by_address,
                pulls,
                bodies,
                pulls_by_address: Slots::new(usize::MAX, PULLS_PER_ADDRESS),
                circle_creations,
                operator_key,
                shutdown,
                pusher,
                retention: retention::Retention::from_config(&config_retention),
            }),
        })
    }

    /// The storage quotas of `--max-circle-*` and `--max-device-*`.
    pub fn quotas(&self) -> store::push::Quotas {
        let c = self.config();
        store::push::Quotas {
            circle_bytes: c.max_circle_bytes,
            circle_envelopes: c.max_circle_envelopes,
            device_bytes_per_day: c.max_device_bytes_per_day,
            device_envelopes_per_day: c.max_device_envelopes_per_day,
        }
    }

    /// Most simultaneous connections: `--max-connections`, but never more than the
    /// open-files limit leaves room for (so the relay never fails to accept, or to
    /// open its database, for lack of file descriptors).
    pub fn connection_cap(&self) -> usize {
        self.inner.connections.total_max()
    }

    /// A pull permit for a pull from `peer`, once one is free for it: see
    /// `pull_permits` (below) for how they are shared. Held until the page is handed over.
    pub async fn pull_permit(
        &self,
        peer: Option<AddrKey>,
    ) -> kring_trust::Result<Share<Option<AddrKey>>> {
        // One permit is within every address's share, so `take` only waits.
        self.inner
            .pulls
            .take(peer, 1)
            .await
            .map_err(|_| internal("a pull permit was refused"))
    }

    /// Reserves `bytes` of the body budget for a request from `peer` before its body
    /// is read (see `body_budget`, below); held until the request is done with. Refused at
    /// once, never waited for: 429 when the address has its share, 503 when the
    /// relay is receiving all the bodies it holds.
    pub fn body_budget(
        &self,
        peer: Option<AddrKey>,
        bytes: usize,
    ) -> kring_trust::Result<Share<Option<AddrKey>>> {
        self.inner
            .bodies
            .try_take(peer, bytes as u64)
            .map_err(|full| {
                self.metrics().body_budget_refusals.inc();
                match full {
                    limits::Full::Key => kring_trust::Error::RateLimited {
                        retry_after_secs: 1,
                    },
                    limits::Full::Total => kring_trust::Error::Unavailable {
                        reason: "the relay is receiving as many request bodies as it holds",
                        retry_after_secs: 1,
                    },
                }
            })
    }

    /// Most simultaneous live sockets (below the connection cap).
    pub fn live_cap(&self) -> usize {
        self.inner.live_by_device.total_max()
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &dyn RelayStore {
        self.inner.store.as_ref()
    }

    pub fn circles(&self) -> &Circles {
        &self.inner.circles
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn pusher(&self) -> &push::Pusher {
        &self.inner.pusher
    }

    /// The operator's retention period for inactive circles (`None`: off).
    pub fn retention(&self) -> Option<retention::Retention> {
        self.inner.retention
    }

    /// Closes every circle the retention period says is due at `now` (the same
    /// tombstone as an owner's close; live sockets on it close with 4010) and returns
    /// how many. A no-op without a retention period. `now` is passed in so tests and
    /// the operator's `kring-server retention sweep --now` can move it.
    pub async fn sweep_retention(&self, now: kring_trust::Timestamp) -> Result<usize> {
        let Some(retention) = self.retention() else {
            return Ok(0);
        };
        sweep(self.store(), retention, now, |circle| {
            // A slot in memory is told, so its live sockets close and later requests
            // read the tombstone.
            if let Some(slot) = self.circles().take(circle) {
                slot.closed();
            }
            self.metrics().circles_closed.inc();
        })
        .await
    }

    /// Updates the gauges that are sampled rather than counted.
    pub fn refresh_gauges(&self) {
        let metrics = self.metrics();
        metrics.circles_cached.set(self.circles().len() as i64);
        metrics.replay_cache.set(self.inner.replay.len() as i64);
        metrics.rate_buckets.set(self.inner.rate.tracked() as i64);
        metrics
            .connections_open
            .set(self.inner.connections.taken() as i64);
        metrics.pulls_in_flight.set(self.inner.pulls.taken() as i64);
        metrics
            .body_bytes_in_flight
            .set(self.inner.bodies.taken() as i64);
        metrics
            .push_queue_depth
            .set(self.pusher().queue_depth() as i64);
        if let Some((open, idle)) = self.store().connections() {
            metrics.db_connections.set(open as i64);
            metrics.db_connections_idle.set(idle as i64);
        }
    }
}

/// The retention sweep over a store: lists the circles due at `now` and closes each
/// that is still inactive when the writer gets to it. `closed` is called for each.
pub async fn sweep(
    store: &dyn RelayStore,
    retention: retention::Retention,
    now: kring_trust::Timestamp,
    mut closed: impl FnMut(&kring_trust::ids::CircleId),
) -> Result<usize> {
    let before = retention.cutoff(now);
    let mut count = 0;
    for (circle, key) in store.inactive_circles(before).await? {
        if store.close_inactive(key, before).await? {
            tracing::info!(%circle, "circle closed by the retention period");
            closed(&circle);
            count += 1;
        }
    }
    Ok(count)
}

/// How long a signer that authenticated from an address stays exempt from that
/// address's refusal for failed authentications (each authentication renews it): a
/// day, so a device that syncs daily is still known when a NAT-mate misbehaves.
const VOUCHED_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// HTTP pulls one address may have in flight, waiting for a permit or holding one
/// (beyond: 429, retry in a second): bounds what an address can queue.
const PULLS_PER_ADDRESS: usize = 4;

/// `--max-concurrent-pulls` permits. The last quarter (at least one, once there are
/// two) go only to an address holding none: an address, however many pulls it sends
/// and however slowly it reads them, leaves a permit for another address, which is
/// then answered at once; and a permit that comes back goes to the waiting address
/// holding fewest. How long any one pull holds its permit is bounded by the send
/// deadline ([`Config::send_allowance`]).
fn pull_permits(max: usize) -> Fair<Option<AddrKey>> {
    let total = max.max(1) as u64;
    let reserve = if total >= 2 { (total / 4).max(1) } else { 0 };
    Fair::new(total, total, reserve)
}

/// `--max-body-bytes-in-flight` bytes (at least one largest body), of which an
/// address holds at most a quarter (at least one largest body), and the last eighth
/// only for an address holding none: forged-header bodies, which hold their bytes
/// until they are whole or time out, cannot take more memory than the budget, nor
/// one address the budget.
fn body_budget(max: usize, max_body: usize) -> Fair<Option<AddrKey>> {
    let total = max.max(max_body).max(1) as u64;
    let share = (total / 4).max(max_body as u64);
    Fair::new(total, share, total / 8)
}

fn connection_cap(config: &Config) -> usize {
    let from_files = limits::connections_from_open_files_limit().unwrap_or(usize::MAX);
    let cap = match config.max_connections {
        0 => from_files,
        flag => flag.min(from_files),
    };
    cap.clamp(16, 1 << 20)
}

/// The HTTP service: the routes of [`api::routes`], JSON errors for anything else,
/// metrics, request tracing, and a JSON 500 should a handler ever panic.
pub fn router(relay: Relay) -> Router {
    let mut router = Router::new();
    for (_, path, method_router) in api::routes() {
        router = router.route(path, method_router);
    }
    router = match &relay.config().web {
        Some(dir) => router.fallback_service(web_app::router(dir).with_state(relay.clone())),
        None => router.fallback(api::not_found),
    };
    router
        .method_not_allowed_fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            relay.clone(),
            guard::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            relay.clone(),
            metrics::track,
        ))
        // A 5xx answer is logged where it is made (an internal error as an error, a
        // 507 quota or a 503 refusal for debugging: `error.rs`), not again as a
        // failed response.
        .layer(
            TraceLayer::new_for_http().on_failure(
                tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG),
            ),
        )
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(relay)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    let (status, body) =
        kring_trust::protocol::ErrorBody::from_error(&internal("handler panicked"));
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let json = serde_json::to_string(&body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], json).into_response()
}

/// A relay bound to its address, not yet serving.
pub struct Server {
    listener: TcpListener,
    relay: Relay,
    store: Arc<dyn RelayStore>,
    shutdown: watch::Sender<bool>,
}

/// Opens the database and binds `config.listen` (port 0: a free port).
pub async fn bind(config: Config) -> Result<Server> {
    let listen = config.listen;
    let Assembled {
        relay,
        store,
        shutdown,
    } = assemble(config).await?;
    let listener = TcpListener::bind(listen).await?;
    Ok(Server {
        listener,
        relay,
        store,
        shutdown,
    })
}

/// Opens the database `config.db` names: SQLite (its group commits reported to
/// `observer`) or PostgreSQL.
pub async fn open_store(
    config: &Config,
    observer: Option<store::sqlite::CommitObserver>,
) -> Result<Arc<dyn RelayStore>> {
    Ok(match &config.db {
        config::Database::Sqlite(path) => {
            let path = path.clone();
            let readers = config.read_connections;
            let store =
                tokio::task::spawn_blocking(move || SqliteStore::open(&path, readers, observer))
                    .await
                    .map_err(internal)??;
            Arc::new(store)
        }
        config::Database::Postgres(url) => {
            Arc::new(store::postgres::PostgresStore::open(url, config.db_connections).await?)
        }
    })
}

/// Everything a relay is but its listener: the database, the push sender, the state.
struct Assembled {
    relay: Relay,
    store: Arc<dyn RelayStore>,
    shutdown: watch::Sender<bool>,
}

async fn assemble(config: Config) -> Result<Assembled> {
    let metrics = Arc::new(Metrics::new().map_err(internal)?);
    let observer: store::sqlite::CommitObserver = {
        let metrics = Arc::clone(&metrics);
        Box::new(move |commands, seconds| {
            metrics.commit_group.observe(commands as f64);
            metrics.commit_seconds.observe(seconds);
        })
    };
    let store = open_store(&config, Some(observer)).await?;
    let (shutdown, stopping) = watch::channel(false);
    let vapid = load_vapid(&config, store.as_ref()).await?;
    tracing::info!(public_key = vapid.public_key(), "VAPID key for push");
    let pusher = push::Pusher::start(
        store.clone(),
        Arc::clone(&metrics),
        vapid,
        config.push_settings(),
        stopping.clone(),
    )?;
    let relay = Relay::new(config, store.clone(), metrics, pusher, stopping)?;
    if let Some(notices) = store.notices() {
        tokio::spawn(peers::follow(relay.clone(), notices));
    }
    Ok(Assembled {
        relay,
        store,
        shutdown,
    })
}

/// A relay without a socket: the same router, store and rules as a served relay,
/// handed whole requests in this process. The sync client's fast tests run against it
/// (through its `Transport` seam), so they exercise every rule of the real relay
/// without a port or a process. Requests carry no peer address, so the per-address
/// limits do not apply; the fairly shared budgets (pull permits, request bodies)
/// count them all as one address, and no answer has a send deadline.
pub struct InProcessRelay {
    relay: Relay,
    router: Router,
    store: Arc<dyn RelayStore>,
    shutdown: watch::Sender<bool>,
}

impl InProcessRelay {
    /// Opens `config.db` (created if missing); `config.listen` is not used.
    pub async fn open(config: Config) -> Result<Self> {
        let Assembled {
            relay,
            store,
            shutdown,
        } = assemble(config).await?;
        Ok(Self {
            router: router(relay.clone()),
            relay,
            store,
            shutdown,
        })
    }

    pub fn relay(&self) -> &Relay {
        &self.relay
    }

    /// Serves one request as the listener would (without a peer address).
    pub async fn handle(&self, request: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        use tower::ServiceExt;
        let request = request.map(axum::body::Body::from);
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        // The answer is whole before it is handed on, as a client reading it would
        // have it; a body that fails to read is the relay's failure.
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => http::Response::from_parts(parts, bytes.to_vec()),
            Err(e) => {
                let (status, body) =
                    kring_trust::protocol::ErrorBody::from_error(&internal(e.to_string()));
                let json = serde_json::to_vec(&body).unwrap_or_default();
                let mut answer = http::Response::new(json);
                *answer.status_mut() =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                answer
            }
        }
    }

    /// Stops the push sender and flushes and closes the database (a restart of the
    /// relay is a new `open` on the same file).
    pub async fn close(&self) -> Result<()> {
        let _ = self.shutdown.send(true);
        self.store.close().await
    }
}

/// The VAPID key: `--vapid-key`'s file, or the one generated on first start and kept
/// in the database (see [`push::vapid`]).
async fn load_vapid(config: &Config, store: &dyn RelayStore) -> Result<push::Vapid> {
    push::vapid::check_subject(&config.push_subject)?;
    let secret = match &config.vapid_key {
        Some(path) => push::Vapid::read_secret(path)?,
        None => {
            store
                .relay_secret(push::vapid::STORE_NAME, push::Vapid::generate_secret())
                .await?
        }
    };
    push::Vapid::from_secret(&secret, &config.push_subject)
}

impl Server {
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn relay(&self) -> &Relay {
        &self.relay
    }

    /// Serves until `shutdown` resolves, then stops taking connections, closes live
    /// sockets, lets in-flight requests finish and flushes the store.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let Server {
            listener,
            relay,
            store,
            shutdown: stopping,
        } = self;
        let app = router(relay.clone());
        tracing::info!(
            connections = relay.connection_cap(),
            live = relay.live_cap(),
            "connection limits"
        );
        let watching = relay.inner.shutdown.clone();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stopping.send(true);
        };
        let signal = tokio::spawn(signal);
        let sweeper = relay
            .retention()
            .map(|_| tokio::spawn(sweep_periodically(relay.clone())));
        conn::serve(listener, relay, app, watching).await;
        signal.abort();
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        store.close().await?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The retention sweep every `--retention-sweep-secs`, on the system clock (the edge).
async fn sweep_periodically(relay: Relay) {
    let every = std::time::Duration::from_secs(relay.config().retention_sweep_secs.max(1));
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match relay.sweep_retention(kring_trust::Timestamp::now()).await {
            Ok(0) => {}
            Ok(closed) => tracing::info!(closed, "retention sweep"),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
    }
}

/// Binds and serves until `shutdown` resolves.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    bind(config).await?.run(shutdown).await
}

/// A relay serving on a background task.
pub struct RunningRelay {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<()>>,
}

/// Starts a relay in this process (on the current tokio runtime) and returns once it
/// listens. Use `Config::local(db)` for a free port on 127.0.0.1.
pub async fn spawn(config: Config) -> Result<RunningRelay> {
    let server = bind(config).await?;
    let addr = server.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Ok(RunningRelay {
        addr,
        stop: Some(stop),
        task,
    })
}

impl RunningRelay {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful shutdown; returns when the relay has stopped and the store is flushed.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(internal)?
    }
}
