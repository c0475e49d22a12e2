//! The IO around [`fanout`](super::fanout): a bounded queue of changes, one
//! dispatcher that turns them into wake-ups, and a few workers that send them.
//!
//! ```text
//! push / append ──try_send──▶ [events: bounded] ──▶ dispatcher ──try_send──▶ [jobs: bounded] ──▶ N workers ──▶ push services
//!                                                   (subscriptions, recipients,
//!                                                    coalescing, stale cleanup)
//! ```
//!
//! Invariants:
//! - A request never waits for push: it hands its change over with `try_send`, and a
//!   full queue drops the change (counted in `push_discarded_total`); the device
//!   syncs anyway when it next opens the app or gets its next wake-up.
//! - Memory is bounded whatever push services do: two bounded queues, a bounded
//!   [`Coalescer`], at most `--push-concurrency` requests in flight, each cut off
//!   after `--push-timeout-secs` (connect, send and answer), and answers' bodies are
//!   never read.
//! - The relay sends only to addresses the [`EndpointPolicy`] allows: endpoints are
//!   checked when registered and again before each send, and host names resolve
//!   through `PolicyResolver`, which drops non-public addresses. Redirects are
//!   not followed.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Uri};
use kring_trust::identity::DeviceId;
use kring_trust::ids::CircleId;
use kring_trust::membership::MembershipState;
use kring_trust::{Error, Result};
use tokio::sync::{mpsc, watch, Mutex};
use web_push_native::{Auth, WebPushBuilder};

use super::fanout::{classify, payload, recipients, topic, Coalescer, Offer, Outcome, Wakeup};
use super::subscription::{check_endpoint, is_public, EndpointPolicy, AUTH_LEN};
use super::vapid::Vapid;
use crate::error::internal;
use crate::metrics::Metrics;
use crate::store::{CircleKey, RelayStore};

/// What the operator set (flags `--push-*`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub policy: EndpointPolicy,
    /// At most one push per device and circle this often.
    pub coalesce: Duration,
    /// Changes waiting for the dispatcher, and wake-ups waiting for a worker (each).
    pub queue: usize,
    /// Requests to push services in flight.
    pub concurrency: usize,
    /// Time for one request to a push service, from connecting to its status line.
    pub timeout: Duration,
    /// How long a push service keeps an undelivered push (`TTL`; also the VAPID
    /// token's lifetime, which RFC 8292 caps at 24 hours).
    pub ttl: Duration,
}

/// Something was stored in a circle by `author`; its newest cursor is `cursor`.
#[derive(Debug, Clone)]
pub struct Change {
    pub circle: CircleId,
    pub circle_key: CircleKey,
    pub author: DeviceId,
    pub cursor: u64,
    /// The membership state after the change (who is active).
    pub state: Arc<MembershipState>,
}

/// The handle requests use. Cheap to clone.
#[derive(Clone)]
pub struct Pusher {
    changes: mpsc::Sender<Change>,
    /// Wake-ups queued for the workers (the jobs channel has no length of its own
    /// for senders to read).
    jobs_waiting: Arc<AtomicUsize>,
    metrics: Arc<Metrics>,
    public_key: Arc<str>,
}

impl Pusher {
    /// Starts the dispatcher and the workers on the current tokio runtime; they stop
    /// when `shutdown` turns `true` (in-flight sends end within their timeout).
    pub fn start(
        store: Arc<dyn RelayStore>,
        metrics: Arc<Metrics>,
        vapid: Vapid,
        settings: Settings,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Pusher> {
        let queue = settings.queue.max(1);
        let (changes, changes_rx) = mpsc::channel(queue);
        let (jobs, jobs_rx) = mpsc::channel(queue);
        let jobs_waiting = Arc::new(AtomicUsize::new(0));
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(PolicyResolver {
                allow_private: settings.policy.allow_private,
            })
            .pool_max_idle_per_host(2)
            .user_agent(concat!("kring-relay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| internal(format!("push HTTP client: {e}")))?;
        let public_key: Arc<str> = vapid.public_key().into();
        let sender = Arc::new(Sender {
            http,
            vapid,
            settings,
            store: Arc::clone(&store),
            metrics: Arc::clone(&metrics),
        });
        let dispatcher = Dispatcher {
            store,
            metrics: Arc::clone(&metrics),
            coalescer: Coalescer::new(settings.coalesce, queue.saturating_mul(16)),
            jobs,
            jobs_waiting: Arc::clone(&jobs_waiting),
        };
        tokio::spawn(dispatcher.run(changes_rx, shutdown.clone()));
        let jobs_rx = Arc::new(Mutex::new(jobs_rx));
        for _ in 0..settings.concurrency.max(1) {
            tokio::spawn(work(
                Arc::clone(&jobs_rx),
                Arc::clone(&sender),
                Arc::clone(&jobs_waiting),
                shutdown.clone(),
            ));
        }
        Ok(Pusher {
            changes,
            jobs_waiting,
            metrics,
            public_key,
        })
    }

    /// Hands a change over without waiting; a full queue drops it (counted).
    pub fn changed(&self, change: Change) {
        if self.changes.try_send(change).is_err() {
            self.metrics.push_discarded.inc();
        }
    }

    /// Changes and wake-ups waiting (the `push_queue_depth` gauge).
    pub fn queue_depth(&self) -> usize {
        let changes = self.changes.max_capacity() - self.changes.capacity();
        changes + self.jobs_waiting.load(Ordering::Relaxed)
    }

    /// The VAPID public key, base64url.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }
}

struct Dispatcher {
    store: Arc<dyn RelayStore>,
    metrics: Arc<Metrics>,
    coalescer: Coalescer,
    jobs: mpsc::Sender<Wakeup>,
    jobs_waiting: Arc<AtomicUsize>,
}

impl Dispatcher {
    async fn run(
        mut self,
        mut changes: mpsc::Receiver<Change>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let next_due = self.coalescer.next_due();
            let due = async move {
                match next_due {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                change = changes.recv() => match change {
                    Some(change) => self.dispatch(change).await,
                    None => break,
                },
                () = due => {
                    for wakeup in self.coalescer.due(Instant::now()) {
                        self.enqueue(wakeup);
                    }
                    self.coalescer.forget_idle(Instant::now());
                }
                () = stopping(&mut shutdown) => break,
            }
        }
    }

    async fn dispatch(&mut self, change: Change) {
        let subscribed = match self.store.push_subscriptions(change.circle_key).await {
            Ok(subscribed) if subscribed.is_empty() => return,
            Ok(subscribed) => subscribed,
            Err(e) => {
                tracing::warn!(error = %e, "reading push subscriptions");
                return;
            }
        };
        let out = recipients(&change.state, &change.author, subscribed);
        if !out.stale.is_empty() {
            self.drop_stale(change.circle_key, out.stale).await;
        }
        let now = Instant::now();
        for (device, subscription) in out.wake {
            let wakeup = Wakeup {
                circle: change.circle.clone(),
                circle_key: change.circle_key,
                device,
                subscription,
                cursor: change.cursor,
            };
            match self.coalescer.offer(wakeup, now) {
                Offer::Now(wakeup) => self.enqueue(wakeup),
                Offer::Deferred => {}
                Offer::Dropped => self.metrics.push_discarded.inc(),
            }
        }
    }

    async fn drop_stale(&self, circle: CircleKey, devices: Vec<DeviceId>) {
        match self
            .store
            .delete_push_subscriptions(circle, devices, None)
            .await
        {
            Ok(n) => self
                .metrics
                .push_subscriptions_dropped
                .with_label_values(&["left"])
                .inc_by(n),
            Err(e) => tracing::warn!(error = %e, "deleting stale push subscriptions"),
        }
    }

    fn enqueue(&self, wakeup: Wakeup) {
        // Counted before the send so a worker's decrement never comes first.
        self.jobs_waiting.fetch_add(1, Ordering::Relaxed);
        if self.jobs.try_send(wakeup).is_err() {
            self.jobs_waiting.fetch_sub(1, Ordering::Relaxed);
            self.metrics.push_discarded.inc();
        }
    }
}

async fn work(
    jobs: Arc<Mutex<mpsc::Receiver<Wakeup>>>,
    sender: Arc<Sender>,
    waiting: Arc<AtomicUsize>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let next = tokio::select! {
            next = async { jobs.lock().await.recv().await } => next,
            () = stopping(&mut shutdown) => None,
        };
        let Some(wakeup) = next else { break };
        waiting.fetch_sub(1, Ordering::Relaxed);
        sender.deliver(wakeup).await;
    }
}

/// Resolves when shutdown starts (or the relay is gone).
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

struct Sender {
    http: reqwest::Client,
    vapid: Vapid,
    settings: Settings,
    store: Arc<dyn RelayStore>,
    metrics: Arc<Metrics>,
}

impl Sender {
    async fn deliver(&self, wakeup: Wakeup) {
        let outcome = match self.send(&wakeup).await {
            Ok(status) => classify(status),
            Err(e) => {
                tracing::debug!(error = %e, "push not sent");
                Outcome::Failed
            }
        };
        match outcome {
            Outcome::Delivered => self.metrics.push_sent.inc(),
            Outcome::Failed => self.metrics.push_failed.inc(),
            Outcome::Gone => {
                // Only if it is still the same subscription: the device may have
                // registered a new one meanwhile.
                let deleted = self
                    .store
                    .delete_push_subscriptions(
                        wakeup.circle_key,
                        vec![wakeup.device],
                        Some(wakeup.subscription.endpoint.clone()),
                    )
                    .await;
                match deleted {
                    Ok(n) => self
                        .metrics
                        .push_subscriptions_dropped
                        .with_label_values(&["gone"])
                        .inc_by(n),
                    Err(e) => tracing::warn!(error = %e, "deleting a gone push subscription"),
                }
            }
        }
    }

    /// One RFC 8030 push request: the payload encrypted for the subscription
    /// (RFC 8291, `aes128gcm`), signed with VAPID (RFC 8292), with TTL, Urgency and
    /// Topic. Returns the push service's status.
    async fn send(&self, wakeup: &Wakeup) -> Result<u16> {
        let subscription = &wakeup.subscription;
        let url = check_endpoint(&subscription.endpoint, self.settings.policy)?;
        let refused =
            |what: &str| Error::InvalidPushSubscription(format!("stored {what} unusable"));
        let uri: Uri = subscription
            .endpoint
            .parse()
            .map_err(|_| refused("endpoint"))?;
        let ua_public = web_push_native::p256::PublicKey::from_sec1_bytes(&subscription.p256dh)
            .map_err(|_| refused("p256dh"))?;
        if subscription.auth.len() != AUTH_LEN {
            return Err(refused("auth"));
        }
        let auth = Auth::clone_from_slice(&subscription.auth);
        let request = WebPushBuilder::new(uri, ua_public, auth)
            .with_valid_duration(self.settings.ttl)
            .build(payload(&wakeup.circle, wakeup.cursor))
            .map_err(|e| internal(format!("building a push: {e}")))?;
        let (mut parts, body) = request.into_parts();
        let authorization = self.vapid.authorization(&url, self.settings.ttl)?;
        parts.headers.insert(
            axum::http::header::AUTHORIZATION,
            HeaderValue::from_str(&authorization).map_err(internal)?,
        );
        parts
            .headers
            .insert("urgency", HeaderValue::from_static("normal"));
        if let Ok(topic) = HeaderValue::from_str(&topic(subscription, &wakeup.circle)) {
            parts.headers.insert("topic", topic);
        }
        let request = reqwest::Request::try_from(axum::http::Request::from_parts(parts, body))
            .map_err(|e| internal(format!("building a push: {e}")))?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| Error::Network(e.to_string()))?;
        Ok(response.status().as_u16())
    }
}

/// Resolves push service host names, keeping only the addresses the policy allows,
/// so a name pointing at the operator's own network is not a way in.
struct PolicyResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}
