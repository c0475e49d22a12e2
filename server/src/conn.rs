//! Accepting and serving connections, with the limits that must hold before any
//! request is parsed: a cap on connections in total (derived from the open-files
//! limit) and per address, a deadline for each request's headers (which is also the
//! keep-alive idle limit), an idle cut-off for connections on which no byte moves
//! (a peer that stopped reading its answer, a stalled body), and a deadline for
//! handing over a large answer (a pull page: [`Deadlines`]), so a peer that reads just
//! fast enough not to be idle still cannot keep the answer, and its permit, for long.
//!
//! Served with hyper's HTTP/1.1 connection (with upgrades, for the live WebSocket);
//! the relay speaks HTTP/1.1 to its reverse proxy or its clients.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use kring_trust::protocol::ErrorBody;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

use crate::limits::{AddrKey, Full, Slot};
use crate::Relay;

/// The peer's address, put on every request (per-address limits read it).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Peer {
    pub fn key(&self) -> AddrKey {
        AddrKey::of(self.0.ip())
    }
}

/// Largest request head (request line and headers) hyper buffers. The relay's own
/// refusals with a JSON body ([`crate::guard`]) start well below it.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Headers hyper parses; more is a 431 without a body from hyper itself.
const MAX_HEADERS: usize = 128;
/// How long a connection asked to close (shutdown) may take to finish its request.
const GRACE: Duration = Duration::from_secs(10);

/// Accepts until `stopping` turns true, then waits (up to a grace period) for the
/// connections to finish.
pub async fn serve(
    listener: TcpListener,
    relay: Relay,
    app: Router,
    mut stopping: watch::Receiver<bool>,
) {
    let (done, mut all_done) = mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors (or a similar resource): back off instead
                // of spinning; connections that finish free some.
                tracing::warn!(error = %e, "accept error");
                relay.metrics().accept_errors.inc();
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let peer = Peer(peer);
        let slot = match relay.inner.connections.try_take(peer.key()) {
            Ok(slot) => slot,
            Err(full) => {
                relay.metrics().connections_refused.inc();
                tracing::debug!(peer = %peer.0, ?full, "connection refused");
                tokio::spawn(refuse(stream, full));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let task = Connection {
            relay: relay.clone(),
            app: app.clone(),
            peer,
            stopping: stopping.clone(),
            _done: done.clone(),
        };
        tokio::spawn(task.run(stream, slot));
    }
    drop(done);
    drop(listener);
    let _ = tokio::time::timeout(GRACE + Duration::from_secs(1), all_done.recv()).await;
}

/// Answers a connection over its share with a 429 (best effort, without reading the
/// request: nothing of it is parsed) and closes it.
async fn refuse(stream: TcpStream, full: Full) {
    let what = match full {
        Full::Total => "the relay is at its connection limit",
        Full::Key => "too many connections from your address",
    };
    let (_, body) = ErrorBody::from_error(&kring_trust::Error::RateLimited {
        retry_after_secs: 5,
    });
    let mut body = body;
    body.error.message = format!("{what}; try again in 5 s");
    let json = serde_json::to_string(&body).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 5\r\nconnection: close\r\n\r\n{json}",
        json.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.writable().await;
        let _ = stream.try_write(response.as_bytes());
    })
    .await;
}

struct Connection {
    relay: Relay,
    app: Router,
    peer: Peer,
    stopping: watch::Receiver<bool>,
    /// Dropped when the connection ends: shutdown waits for all of them.
    _done: mpsc::Sender<()>,
}

impl Connection {
    async fn run(mut self, stream: TcpStream, slot: Slot<AddrKey>) {
        let config = self.relay.config();
        let header_timeout = Duration::from_secs(config.header_timeout_secs.max(1));
        let idle_timeout = Duration::from_secs(config.idle_timeout_secs.max(1));
        let progress = Arc::new(Progress::new());
        let io = TokioIo::new(Watched {
            inner: stream,
            progress: Arc::clone(&progress),
            _slot: slot,
        });
        let app = self.app.clone();
        let peer = self.peer;
        let deadlines = Deadlines(Arc::clone(&progress));
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(peer);
            req.extensions_mut().insert(deadlines.clone());
            app.clone().oneshot(req)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .max_buf_size(MAX_HEAD_BYTES)
            .max_headers(MAX_HEADERS);
        let conn = builder.serve_connection(io, service).with_upgrades();
        tokio::pin!(conn);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut closing: Option<Instant> = None;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(peer = %self.peer.0, error = %e, "connection ended");
                    }
                    break;
                }
                _ = self.stopping.wait_for(|stop| *stop), if closing.is_none() => {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
                _ = tick.tick() => {
                    if closing.is_some_and(|since| since.elapsed() > GRACE) {
                        break;
                    }
                    if progress.idle_for() > idle_timeout {
                        tracing::debug!(peer = %self.peer.0, "idle connection closed");
                        self.relay.metrics().connections_timed_out.inc();
                        break;
                    }
                    if progress.overdue() {
                        tracing::debug!(peer = %self.peer.0, "answer not taken in time; connection closed");
                        self.relay.metrics().answers_cut.inc();
                        break;
                    }
                }
            }
        }
    }
}

/// When a byte last moved on a connection, and by when the answer being sent must be
/// handed over (milliseconds since `start`; [`NO_DEADLINE`] when none is set).
struct Progress {
    start: Instant,
    last_ms: AtomicU64,
    deadline_ms: AtomicU64,
}

const NO_DEADLINE: u64 = u64::MAX;

impl Progress {
    fn new() -> Self {
        Progress {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            deadline_ms: AtomicU64::new(NO_DEADLINE),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn overdue(&self) -> bool {
        self.now_ms() > self.deadline_ms.load(Ordering::Relaxed)
    }

    fn moved(&self) {
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// The connection's deadline for handing over the answer being sent, on every request
/// from a socket (absent in-process). A handler whose answer is large and holds a
/// shared resource while it is sent (a pull page under its permit) starts one; the
/// connection is closed, dropping the answer and what it holds, if the deadline passes
/// before the [`Deadline`] is dropped. HTTP/1.1 sends one answer at a time, so one
/// deadline per connection is enough. Checked once a second.
#[derive(Clone)]
pub struct Deadlines(Arc<Progress>);

impl Deadlines {
    /// The answer must be handed over within `within`, counted from now.
    pub fn start(&self, within: Duration) -> Deadline {
        let within = u64::try_from(within.as_millis()).unwrap_or(u64::MAX);
        let by = self.0.now_ms().saturating_add(within).min(NO_DEADLINE - 1);
        self.0.deadline_ms.store(by, Ordering::Relaxed);
        Deadline(Arc::clone(&self.0))
    }
}

/// A running [`Deadlines::start`]; dropping it (the answer was handed over) lifts it.
pub struct Deadline(Arc<Progress>);

impl Drop for Deadline {
    fn drop(&mut self) {
        self.0.deadline_ms.store(NO_DEADLINE, Ordering::Relaxed);
    }
}

/// A TCP stream that records progress and holds its connection slot for as long as it
/// lives (also after an upgrade to a WebSocket, which keeps the stream).
struct Watched {
    inner: TcpStream,
    progress: Arc<Progress>,
    _slot: Slot<AddrKey>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.progress.moved();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.progress.moved();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.progress.moved();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
