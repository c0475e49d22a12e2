//! Prometheus metrics, served as text at `/metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

use crate::error::ErrorCode;
use crate::Relay;

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    pub errors: IntCounterVec,
    pub envelopes_stored: IntCounter,
    pub envelope_bytes_stored: IntCounter,
    pub entries_appended: IntCounter,
    pub circles_created: IntCounter,
    pub live_connections: IntGauge,
    pub live_notices: IntCounter,
    pub live_frames: IntCounter,
    pub live_pushes: IntCounter,
    pub live_lagged: IntCounter,
    pub commit_seconds: Histogram,
    pub commit_group: Histogram,
    pub circles_cached: IntGauge,
    pub replay_cache: IntGauge,
    pub rate_buckets: IntGauge,
    pub accept_errors: IntCounter,
    pub connections_refused: IntCounter,
    pub connections_timed_out: IntCounter,
    pub body_timeouts: IntCounter,
    /// Connections closed because an answer was not taken within its deadline.
    pub answers_cut: IntCounter,
    /// Pull permits held (HTTP pulls, snapshot reads, live catch-ups).
    pub pulls_in_flight: IntGauge,
    /// Bytes of request bodies reserved against `--max-body-bytes-in-flight`.
    pub body_bytes_in_flight: IntGauge,
    /// Requests refused because the body budget (in total or the address's share) was full.
    pub body_budget_refusals: IntCounter,
    pub refused_after_auth_failures: IntCounter,
    pub live_refused: IntCounter,
    pub quota_refusals: IntCounter,
    pub circles_closed: IntCounter,
    pub connections_open: IntGauge,
    pub push_sent: IntCounter,
    pub push_failed: IntCounter,
    pub push_discarded: IntCounter,
    pub push_subscriptions_dropped: IntCounterVec,
    pub push_queue_depth: IntGauge,
    /// From another relay process's commit to this process hearing of it.
    pub notice_lag_seconds: Histogram,
    /// Times this process read every circle in memory again (notices were lost).
    pub notice_resyncs: IntCounter,
    /// PostgreSQL connections open and idle in this process's pool.
    pub db_connections: IntGauge,
    pub db_connections_idle: IntGauge,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

impl Metrics {
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("kring".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new("http_errors_total", "Refused requests by stable error code"),
            &["code"],
        )?;
        let envelopes_stored = IntCounter::new("envelopes_stored_total", "Envelopes newly stored")?;
        let envelope_bytes_stored = IntCounter::new(
            "envelope_bytes_stored_total",
            "Bytes of envelopes newly stored",
        )?;
        let entries_appended = IntCounter::new(
            "membership_entries_appended_total",
            "Membership entries appended (genesis included)",
        )?;
        let circles_created = IntCounter::new("circles_created_total", "Circles created")?;
        let live_connections = IntGauge::new("live_connections", "Connected live WebSockets")?;
        let live_notices = IntCounter::new("live_notices_total", "Notices sent on live sockets")?;
        let live_frames = IntCounter::new(
            "live_frames_total",
            "Stored envelopes and entries sent on streaming live sockets",
        )?;
        let live_pushes = IntCounter::new(
            "live_pushes_total",
            "Pushes received on live sockets (answered `pushed` or `push_refused`)",
        )?;
        let live_lagged = IntCounter::new(
            "live_lagged_total",
            "Times a streaming socket fell behind and was sent a notice instead",
        )?;
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "store_commit_seconds",
                "Time to run and commit one write group",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        let commit_group = Histogram::with_opts(
            HistogramOpts::new("store_commit_group_size", "Write commands per commit")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )?;
        let circles_cached = IntGauge::new(
            "circles_cached",
            "Circles whose membership state is in memory",
        )?;
        let replay_cache = IntGauge::new(
            "replay_cache_signatures",
            "Request signatures remembered against replay",
        )?;
        let rate_buckets = IntGauge::new(
            "rate_limit_devices",
            "Devices with a rate-limit bucket in memory",
        )?;
        let accept_errors = IntCounter::new(
            "accept_errors_total",
            "Failed accepts (e.g. out of file descriptors)",
        )?;
        registry.register(Box::new(accept_errors.clone()))?;
        let connections_refused = IntCounter::new(
            "connections_refused_total",
            "Connections refused at the total or per-address cap",
        )?;
        registry.register(Box::new(connections_refused.clone()))?;
        let connections_timed_out = IntCounter::new(
            "connections_timed_out_total",
            "Connections closed for moving no byte within the idle timeout",
        )?;
        registry.register(Box::new(connections_timed_out.clone()))?;
        let body_timeouts = IntCounter::new(
            "body_timeouts_total",
            "Requests whose body did not arrive within the body timeout",
        )?;
        registry.register(Box::new(body_timeouts.clone()))?;
        let answers_cut = IntCounter::new(
            "answers_cut_total",
            "Connections closed because an answer (a pull page) was not taken within its deadline",
        )?;
        registry.register(Box::new(answers_cut.clone()))?;
        let pulls_in_flight = IntGauge::new(
            "pulls_in_flight",
            "Pull permits held by pulls, snapshot reads and live catch-ups",
        )?;
        registry.register(Box::new(pulls_in_flight.clone()))?;
        let body_bytes_in_flight = IntGauge::new(
            "body_bytes_in_flight",
            "Bytes of request bodies reserved against the body budget",
        )?;
        registry.register(Box::new(body_bytes_in_flight.clone()))?;
        let body_budget_refusals = IntCounter::new(
            "body_budget_refusals_total",
            "Requests refused because the body budget, in total or the address's share, was full",
        )?;
        registry.register(Box::new(body_budget_refusals.clone()))?;
        let refused_after_auth_failures = IntCounter::new(
            "refused_after_auth_failures_total",
            "Requests refused because their address failed authentication too often",
        )?;
        registry.register(Box::new(refused_after_auth_failures.clone()))?;
        let live_refused = IntCounter::new(
            "live_refused_total",
            "Live sockets refused at the per-device, per-address or total cap",
        )?;
        registry.register(Box::new(live_refused.clone()))?;
        let quota_refusals = IntCounter::new(
            "quota_refusals_total",
            "Pushes or circles refused by a quota",
        )?;
        registry.register(Box::new(quota_refusals.clone()))?;
        let circles_closed =
            IntCounter::new("circles_closed_total", "Circles closed by their owner")?;
        registry.register(Box::new(circles_closed.clone()))?;
        let connections_open = IntGauge::new(
            "connections_open",
            "Open connections (live sockets included)",
        )?;
        registry.register(Box::new(connections_open.clone()))?;
        let push_sent = IntCounter::new("push_sent_total", "Pushes a push service accepted (2xx)")?;
        registry.register(Box::new(push_sent.clone()))?;
        let push_failed = IntCounter::new(
            "push_failed_total",
            "Pushes not accepted: refused, failing or unreachable push service, timeout",
        )?;
        registry.register(Box::new(push_failed.clone()))?;
        let push_discarded = IntCounter::new(
            "push_discarded_total",
            "Wake-ups dropped because a push queue or the coalescer was full",
        )?;
        registry.register(Box::new(push_discarded.clone()))?;
        let push_subscriptions_dropped = IntCounterVec::new(
            Opts::new(
                "push_subscriptions_dropped_total",
                "Push subscriptions deleted by the relay: gone (the push service answered 404/410) or left (the device is no longer in the circle)",
            ),
            &["reason"],
        )?;
        registry.register(Box::new(push_subscriptions_dropped.clone()))?;
        let push_queue_depth = IntGauge::new(
            "push_queue_depth",
            "Changes and wake-ups waiting to be sent",
        )?;
        registry.register(Box::new(push_queue_depth.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_seconds.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(envelopes_stored.clone()))?;
        registry.register(Box::new(envelope_bytes_stored.clone()))?;
        registry.register(Box::new(entries_appended.clone()))?;
        registry.register(Box::new(circles_created.clone()))?;
        registry.register(Box::new(live_connections.clone()))?;
        registry.register(Box::new(live_notices.clone()))?;
        registry.register(Box::new(live_frames.clone()))?;
        registry.register(Box::new(live_pushes.clone()))?;
        registry.register(Box::new(live_lagged.clone()))?;
        let notice_lag_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "notice_lag_seconds",
                "From another relay process's commit to this process applying its notice",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        let notice_resyncs = IntCounter::new(
            "notice_resyncs_total",
            "Times every circle in memory was read again after notices were lost",
        )?;
        let db_connections =
            IntGauge::new("db_connections", "PostgreSQL connections open in the pool")?;
        let db_connections_idle = IntGauge::new(
            "db_connections_idle",
            "PostgreSQL connections idle in the pool",
        )?;
        registry.register(Box::new(notice_lag_seconds.clone()))?;
        registry.register(Box::new(notice_resyncs.clone()))?;
        registry.register(Box::new(db_connections.clone()))?;
        registry.register(Box::new(db_connections_idle.clone()))?;
        registry.register(Box::new(commit_seconds.clone()))?;
        registry.register(Box::new(commit_group.clone()))?;
        registry.register(Box::new(circles_cached.clone()))?;
        registry.register(Box::new(replay_cache.clone()))?;
        registry.register(Box::new(rate_buckets.clone()))?;
        Ok(Self {
            registry,
            requests,
            request_seconds,
            errors,
            envelopes_stored,
            envelope_bytes_stored,
            entries_appended,
            circles_created,
            live_connections,
            live_notices,
            live_frames,
            live_pushes,
            live_lagged,
            commit_seconds,
            commit_group,
            circles_cached,
            replay_cache,
            rate_buckets,
            accept_errors,
            connections_refused,
            connections_timed_out,
            body_timeouts,
            answers_cut,
            pulls_in_flight,
            body_bytes_in_flight,
            body_budget_refusals,
            refused_after_auth_failures,
            live_refused,
            quota_refusals,
            circles_closed,
            connections_open,
            push_sent,
            push_failed,
            push_discarded,
            push_subscriptions_dropped,
            push_queue_depth,
            notice_lag_seconds,
            notice_resyncs,
            db_connections,
            db_connections_idle,
        })
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Middleware: counts and times every request by its route pattern (not its path, so
/// circle ids do not explode the label set).
pub async fn track(State(relay): State<Relay>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let metrics = relay.metrics();
    metrics
        .request_seconds
        .with_label_values(&[&route])
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .with_label_values(&[&route, &method, response.status().as_str()])
        .inc();
    if let Some(ErrorCode(code)) = response.extensions().get::<ErrorCode>() {
        metrics.errors.with_label_values(&[code]).inc();
    }
    response
}
