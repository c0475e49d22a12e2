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
//!
//! Running one in-process (tests, `kring demo`):
//!
//! ```no_run
//! # async fn demo() -> kring_core::Result<()> {
//! let relay = kring_server::spawn(kring_server::Config::local("/tmp/relay.db")).await?;
//! println!("relay at {}", relay.url());
//! relay.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod api;
pub mod auth;
pub mod circles;
pub mod config;
pub mod error;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use kring_core::Result;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use config::{Config, LogFormat};

use auth::ReplayCache;
use circles::Circles;
use error::internal;
use limits::RateLimiter;
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
    metrics: Arc<Metrics>,
    live_connections: AtomicUsize,
    /// Becomes `true` when shutdown starts (live sockets close on it).
    shutdown: watch::Receiver<bool>,
}

impl Relay {
    /// A relay over `store`; `shutdown` turning `true` closes live sockets.
    pub fn new(
        config: Config,
        store: Arc<dyn RelayStore>,
        metrics: Arc<Metrics>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let rate = RateLimiter::new(config.rate_per_sec, config.rate_burst);
        Relay {
            inner: Arc::new(Inner {
                config,
                store,
                circles: Circles::default(),
                replay: ReplayCache::default(),
                rate,
                metrics,
                live_connections: AtomicUsize::new(0),
                shutdown,
            }),
        }
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

    /// Updates the gauges that are sampled rather than counted.
    pub fn refresh_gauges(&self) {
        let metrics = self.metrics();
        metrics.circles_cached.set(self.circles().len() as i64);
        metrics.replay_cache.set(self.inner.replay.len() as i64);
        metrics.rate_buckets.set(self.inner.rate.tracked() as i64);
    }
}

/// The HTTP service: the routes of [`api::routes`], JSON errors for anything else,
/// metrics, request tracing, and a JSON 500 should a handler ever panic.
pub fn router(relay: Relay) -> Router {
    let mut router = Router::new();
    for (_, path, method_router) in api::routes() {
        router = router.route(path, method_router);
    }
    router
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            relay.clone(),
            metrics::track,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(relay)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    let (status, body) =
        kring_core::sync::protocol::ErrorBody::from_error(&internal("handler panicked"));
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let json = serde_json::to_string(&body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], json).into_response()
}

/// A relay bound to its address, not yet serving.
pub struct Server {
    listener: TcpListener,
    relay: Relay,
    store: Arc<SqliteStore>,
    shutdown: watch::Sender<bool>,
}

/// Opens the database and binds `config.listen` (port 0: a free port).
pub async fn bind(config: Config) -> Result<Server> {
    let metrics = Arc::new(Metrics::new().map_err(internal)?);
    let observer: store::sqlite::CommitObserver = {
        let metrics = Arc::clone(&metrics);
        Box::new(move |commands, seconds| {
            metrics.commit_group.observe(commands as f64);
            metrics.commit_seconds.observe(seconds);
        })
    };
    let store = {
        let db = config.db.clone();
        let readers = config.read_connections;
        tokio::task::spawn_blocking(move || SqliteStore::open(&db, readers, Some(observer)))
            .await
            .map_err(internal)??
    };
    let store = Arc::new(store);
    let listener = TcpListener::bind(config.listen).await?;
    let (shutdown, stopping) = watch::channel(false);
    let relay = Relay::new(config, store.clone(), metrics, stopping);
    Ok(Server {
        listener,
        relay,
        store,
        shutdown,
    })
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
        let app = router(relay);
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stopping.send(true);
        };
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await;
        // Flush the store whether or not serving ended in an error.
        store.close().await?;
        served?;
        tracing::info!("stopped");
        Ok(())
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
