//! The HTTP API of `docs/relay-api.md`: handlers, and the route table the router and
//! the OpenAPI test are both built from.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Json;
use kring_trust::envelope;
use kring_trust::ids::CircleId;
use kring_trust::membership::{Action, MembershipState, SignedEntry};
use kring_trust::protocol::{
    AppendEntry, Base64, CircleCreated, CreateCircle, LogHead, MembershipEntries, Pulled,
    PulledEnvelope, PushEnvelopes, PushRegistration, PushSubscription, Pushed, SnapshotStored,
    VapidKey, DEFAULT_PULL_LIMIT, HEADER_ADMISSION, MAX_GENESIS_BYTES, MAX_PULL_LIMIT,
    MAX_RELAY_ENTRY_BYTES,
};
use kring_trust::request_auth::MAX_CLOCK_SKEW_MS;
use kring_trust::snapshot;
use kring_trust::{Error, Result, Timestamp};

use crate::auth::{require_active, require_writer, SignedRequest, Signer};
use crate::error::{ApiError, ApiResult};
use crate::push::{Change, Subscription};
use crate::store::{CircleKey, NewEnvelope, RelayStore, Sharing};
use crate::{live, openapi, Relay};

/// Every route: method, path pattern, handler. The router is built from this list and
/// a test checks it against `openapi.json`, so the description stays true.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<Relay>)> {
    vec![
        (Method::GET, "/healthz", get(healthz)),
        (Method::GET, "/metrics", get(metrics)),
        (Method::GET, "/openapi.json", get(openapi::serve)),
        (Method::POST, "/v1/circles", post(create_circle)),
        (
            Method::GET,
            "/v1/circles/{circle}/membership",
            get(read_membership),
        ),
        (
            Method::POST,
            "/v1/circles/{circle}/membership",
            post(append_entry),
        ),
        (Method::POST, "/v1/circles/{circle}/envelopes", post(push)),
        (Method::GET, "/v1/circles/{circle}/envelopes", get(pull)),
        (
            Method::PUT,
            "/v1/circles/{circle}/snapshot",
            put(put_snapshot),
        ),
        (
            Method::GET,
            "/v1/circles/{circle}/snapshot",
            get(get_snapshot),
        ),
        (
            Method::POST,
            "/v1/circles/{circle}/close",
            post(close_circle),
        ),
        (Method::PUT, "/v1/circles/{circle}/push", put(register_push)),
        (
            Method::DELETE,
            "/v1/circles/{circle}/push",
            delete(unregister_push),
        ),
        (Method::GET, "/v1/push/vapid", get(vapid_key)),
        (Method::GET, "/v1/live", get(live::upgrade)),
    ]
}

/// The circle id in the path.
pub struct CirclePath(pub CircleId);

impl<S: Send + Sync> FromRequestParts<S> for CirclePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(circle) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::BadRequest(format!("path: {e}")))?;
        Ok(CirclePath(CircleId::parse(&circle)?))
    }
}

/// The value of query parameter `name` (percent-decoded), if present.
pub fn query_param<'q>(query: &'q str, name: &str) -> Option<Cow<'q, str>> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| percent_decode(value))
}

fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.contains('%') && !value.contains('+') {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// A numeric query parameter; `default` when absent.
fn query_u64(req: &SignedRequest, name: &'static str, default: u64) -> Result<u64> {
    match query_param(req.query(), name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|_| Error::InvalidValue {
            field: name,
            value: value.into_owned(),
            expected: "a whole number".to_owned(),
        }),
    }
}

/// Up, and whether the database answers: a load balancer takes a process whose
/// database is away out of rotation (503) while it keeps answering.
async fn healthz(State(relay): State<Relay>) -> Response {
    let backend = match relay.config().db {
        crate::config::Database::Sqlite(_) => "sqlite",
        crate::config::Database::Postgres(_) => "postgres",
    };
    let (status, state) = match relay.store().check().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    };
    let body = serde_json::json!({ "status": state, "database": state, "backend": backend });
    (status, Json(body)).into_response()
}

async fn metrics(State(relay): State<Relay>) -> Response {
    relay.refresh_gauges();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        relay.metrics().render(),
    )
        .into_response()
}

/// Entries carry their author's clock; the relay refuses times far from its own, so a
/// redemption cannot be backdated before an invite's expiry (`docs/threat-model.md`).
fn check_entry_time(entry: &SignedEntry, now: Timestamp) -> Result<()> {
    let skew_ms = entry.body().at.0.saturating_sub(now.0);
    if skew_ms.saturating_abs() > MAX_CLOCK_SKEW_MS {
        return Err(Error::EntryClockSkew { skew_ms });
    }
    Ok(())
}

/// A genesis may be old: circles are founded offline and registered at the first sync
/// (local-first). Nothing can be backdated through it, since nothing precedes it; only
/// a time in the future is refused, as it would hold back every later entry.
fn check_genesis_time(genesis: &SignedEntry, now: Timestamp) -> Result<()> {
    let skew_ms = genesis.body().at.0.saturating_sub(now.0);
    if skew_ms > MAX_CLOCK_SKEW_MS {
        return Err(Error::EntryClockSkew { skew_ms });
    }
    Ok(())
}

fn log_head(state: &MembershipState) -> LogHead {
    LogHead {
        head: state.head().to_string(),
        len: state.len(),
    }
}

/// Refuses an entry larger than the relay takes, before parsing it.
fn check_entry_size(bytes: &[u8], max: usize, what: &'static str) -> Result<()> {
    if bytes.len() > max {
        return Err(Error::Oversized {
            what,
            len: bytes.len(),
            max,
        });
    }
    Ok(())
}

/// `POST /v1/circles`: signed by the device that signed the genesis entry; in
/// `credential` mode it must carry an admission credential with circles left.
async fn create_circle(
    State(relay): State<Relay>,
    req: SignedRequest,
) -> ApiResult<(StatusCode, Json<CircleCreated>)> {
    let signer = relay.authenticate(&req, None)?;
    let admission = relay.admit(&req).await?;
    if admission.is_none() {
        // Open mode: keys are free, so circle creation is limited per address.
        if let Some(peer) = req.peer {
            relay
                .inner
                .circle_creations
                .check(&peer, std::time::Instant::now())?;
        }
    }
    let body: CreateCircle = req.json()?;
    check_entry_size(&body.genesis.0, MAX_GENESIS_BYTES, "genesis entry")?;
    let genesis = SignedEntry::from_bytes(&body.genesis.0)?;
    let state = MembershipState::genesis(&genesis)?;
    if genesis.body().author != signer.0 {
        return Err(Error::Unauthorized {
            device: signer.0,
            action: "create a circle founded by another device",
        }
        .into());
    }
    check_genesis_time(&genesis, Timestamp::now())?;
    let circle = state.circle().clone();
    let head = log_head(&state);
    let key = relay
        .store()
        .create_circle(circle.clone(), genesis, admission)
        .await
        .inspect_err(|e| {
            if matches!(e, crate::Error::Trust(Error::QuotaExceeded { .. })) {
                relay.metrics().quota_refusals.inc();
            }
        })?;
    relay.circles().created(circle.clone(), key, state);
    relay.metrics().circles_created.inc();
    relay.metrics().entries_appended.inc();
    tracing::info!(%circle, "circle created");
    Ok((
        StatusCode::CREATED,
        Json(CircleCreated {
            circle: circle.to_string(),
            head,
        }),
    ))
}

impl Relay {
    /// In `credential` mode: the request's valid, unrevoked admission credential, if
    /// it has circles left now (the store counts again as it creates the circle, so
    /// concurrent creations cannot exceed it); `None` in `open` mode.
    async fn admit(&self, req: &SignedRequest) -> Result<Option<crate::store::Admitted>> {
        let Some(operator) = self.inner.operator_key.as_ref() else {
            return Ok(None);
        };
        let text = req.header(HEADER_ADMISSION).ok_or_else(|| {
            Error::AdmissionRequired(format!(
                "send the credential your organisation received as header {HEADER_ADMISSION}"
            ))
        })?;
        let credential = crate::admission::Credential::verify(text, operator, Timestamp::now())?;
        let (revoked, circles) = self
            .store()
            .admission_state(credential.body.id.clone())
            .await?;
        if revoked {
            return Err(Error::AdmissionRequired(format!(
                "the credential of {} was revoked",
                credential.body.holder
            )));
        }
        let admitted = crate::store::Admitted {
            credential: credential.body.id,
            max_circles: credential.body.max_circles,
        };
        admitted
            .check(circles)
            .inspect_err(|_| self.metrics().quota_refusals.inc())?;
        Ok(Some(admitted))
    }
}

/// `POST /v1/circles/{circle}/close`: signed by an owner device. The relay deletes the
/// circle's envelopes and membership log and keeps only a tombstone; every later
/// request for it answers `410 circle_closed`, and live sockets on it close (4010).
async fn close_circle(
    State(relay): State<Relay>,
    CirclePath(circle): CirclePath,
    req: SignedRequest,
) -> ApiResult<Json<serde_json::Value>> {
    let slot = relay.circle(&circle, &req).await?;
    // Held for writing: no push or append is between its checks and its commit.
    let state = slot.state.write().await;
    slot.check_open()?;
    let signer = relay.authenticate(&req, Some(&state))?;
    if require_active(&state, &signer.0)? != kring_trust::membership::Capability::Owner {
        return Err(Error::Unauthorized {
            device: signer.0,
            action: "close the circle (only the owner may)",
        }
        .into());
    }
    relay.store().close_circle(slot.key, state.len()).await?;
    relay.circles().forget(&circle);
    drop(state);
    slot.closed();
    relay.metrics().circles_closed.inc();
    tracing::info!(%circle, "circle closed by its owner");
    Ok(Json(
        serde_json::json!({ "circle": circle.to_string(), "closed": true }),
    ))
}

/// `GET /v1/circles/{circle}/membership?after=N`: the entries from position N on.
async fn read_membership(
    State(relay): State<Relay>,
    CirclePath(circle): CirclePath,
    req: SignedRequest,
) -> ApiResult<Json<MembershipEntries>> {
    let slot = relay.circle(&circle, &req).await?;
    // Held while reading so the entries and the head agree.
    let state = slot.state.read().await;
    slot.check_open()?;
    relay.authenticate_reader(&req, &state)?;
    let from = query_u64(&req, "after", 0)?;
    let entries = relay.store().entries_from(slot.key, from).await?;
    Ok(Json(MembershipEntries {
        entries: entries.into_iter().map(Base64).collect(),
        head: log_head(&state),
    }))
}

/// `POST /v1/circles/{circle}/membership`: compare-and-swap on the head.
async fn append_entry(
    State(relay): State<Relay>,
    CirclePath(circle): CirclePath,
    req: SignedRequest,
) -> ApiResult<Response> {
    let signer = relay.authenticate(&req, None)?;
    let body: AppendEntry = req.json()?;
    check_entry_size(&body.entry.0, MAX_RELAY_ENTRY_BYTES, "membership entry")?;
    let entry = SignedEntry::from_bytes(&body.entry.0)?;
    check_entry_signer(&entry, signer)?;
    let slot = relay.circle(&circle, &req).await?;
    let mut state = slot.state.write().await;
    slot.check_open()?;
    if state.contains(&entry) {
        return Ok((StatusCode::OK, Json(log_head(&state))).into_response());
    }
    if entry.seq() == 0 {
        return Err(Error::Malformed {
            what: "membership entry",
            detail: "a genesis founds a new circle: POST /v1/circles".into(),
        }
        .into());
    }
    if entry.body().prev != Some(state.head()) {
        return Err(Error::HeadMoved {
            head: state.head(),
            len: state.len(),
        }
        .into());
    }
    let max_entries = relay.config().max_log_entries;
    if state.len() >= max_entries {
        relay.metrics().quota_refusals.inc();
        return Err(Error::QuotaExceeded {
            what: "membership entries in this circle",
            limit: max_entries,
        }
        .into());
    }
    let next = state.apply(&entry)?;
    check_entry_time(&entry, Timestamp::now())?;
    check_cutoffs(relay.store(), slot.key, &entry).await?;
    let action = entry.body().action.name();
    let author = entry.body().author;
    let entry_bytes = entry.as_bytes().to_vec();
    let position = entry.seq();
    match relay.store().append_entry(slot.key, entry.clone()).await {
        // Another relay process appended first: the device rebuilds on that head.
        Err(crate::Error::LogMoved) => {
            drop(state);
            let now = relay.circles().catch_up(relay.store(), &slot).await?;
            if now.contains(&entry) {
                return Ok((StatusCode::OK, Json(log_head(&now))).into_response());
            }
            return Err(Error::HeadMoved {
                head: now.head(),
                len: now.len(),
            }
            .into());
        }
        other => other?,
    }
    slot.stream.appended(position, &entry_bytes);
    let left: Vec<_> = state
        .active_devices()
        .filter(|device| !next.is_active(device))
        .collect();
    *state = Arc::new(next);
    if !left.is_empty() {
        // Still under the write lock, so no registration of theirs can come between.
        forget_push_subscriptions(&relay, slot.key, left).await;
    }
    let head = log_head(&state);
    let after = Arc::clone(&state);
    drop(state);
    slot.log_grew_to(head.len);
    relay.pusher().changed(Change {
        circle: circle.clone(),
        circle_key: slot.key,
        author,
        cursor: slot.latest(),
        state: after,
    });
    relay.metrics().entries_appended.inc();
    tracing::info!(%circle, len = head.len, action, "membership entry appended");
    Ok((StatusCode::CREATED, Json(head)).into_response())
}

/// Deletes the subscriptions of devices that left the circle. The entry is committed
/// already, so a failure is logged, not returned: the push dispatcher deletes any
/// subscription of an inactive device it meets, and never wakes one.
async fn forget_push_subscriptions(
    relay: &Relay,
    circle: CircleKey,
    devices: Vec<kring_trust::identity::DeviceId>,
) {
    match relay
        .store()
        .delete_push_subscriptions(circle, devices, None)
        .await
    {
        Ok(n) => relay
            .metrics()
            .push_subscriptions_dropped
            .with_label_values(&["left"])
            .inc_by(n),
        Err(e) => tracing::warn!(error = %e, "deleting push subscriptions of removed devices"),
    }
}

/// A removal or demotion cuts a device's writing off after a given envelope. If the
/// relay already stores a later one from that device, accepting the entry would turn
/// stored, acknowledged history invalid for every client: the remover must pull first.
/// Pushes hold the circle's state lock while they commit, and the caller holds it for
/// writing, so no envelope can slip in between this check and the append (a store
/// shared with other relay processes checks again inside its transaction).
async fn check_cutoffs(
    store: &dyn RelayStore,
    circle: CircleKey,
    entry: &SignedEntry,
) -> Result<()> {
    let cutoffs = crate::store::push::write_cutoffs(entry);
    if cutoffs.is_empty() {
        return Ok(());
    }
    let stored = store
        .last_seqs(circle, cutoffs.iter().map(|c| c.device).collect())
        .await?;
    crate::store::push::check_cutoffs(cutoffs, &stored)
}

/// The entry's author signs the request; a redemption may also be sent signed with the
/// invite key (the entry itself carries both signatures).
fn check_entry_signer(entry: &SignedEntry, signer: Signer) -> Result<()> {
    let body = entry.body();
    if body.author == signer.0 {
        return Ok(());
    }
    let by_invite = matches!(
        body.action,
        Action::RedeemInvite { .. } | Action::AddLinkedDevice { .. }
    ) && entry
        .invite()
        .is_some_and(|invite| invite.id().as_bytes() == signer.0.as_bytes());
    if by_invite {
        Ok(())
    } else {
        Err(Error::Unauthorized {
            device: signer.0,
            action: "append an entry signed by another device",
        })
    }
}

/// Above this many envelopes, signature checks leave the async executor.
const INLINE_VERIFY: usize = 8;

/// `POST /v1/circles/{circle}/envelopes`: store a batch, all or nothing.
async fn push(
    State(relay): State<Relay>,
    CirclePath(circle): CirclePath,
    req: SignedRequest,
) -> ApiResult<Json<Pushed>> {
    let slot = relay.circle(&circle, &req).await?;
    let signer = {
        let state = slot.state.read().await;
        slot.check_open()?;
        relay.authenticate(&req, Some(&state))?
    };
    let body: PushEnvelopes = req.json()?;
    let envelopes = body
        .envelopes
        .into_iter()
        .map(|Base64(bytes)| bytes)
        .collect();
    Ok(Json(store_at_head(&relay, &slot, signer, envelopes).await?))
}

/// Attempts at a push or an append while other relay processes move the circle's log.
const LOG_MOVED_ATTEMPTS: usize = 4;

/// [`store_batch`] under the circle's read lock (the log cannot move under the batch,
/// nor the circle close). When the store is shared and another relay process appended
/// to the log meanwhile, the log is read again and the batch judged anew.
pub(crate) async fn store_at_head(
    relay: &Relay,
    slot: &Arc<crate::circles::CircleSlot>,
    signer: Signer,
    mut envelopes: Vec<Vec<u8>>,
) -> Result<Pushed> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let retry = (attempt < LOG_MOVED_ATTEMPTS && relay.store().sharing() == Sharing::Shared)
            .then(|| envelopes.clone());
        let state = slot.state.read().await;
        slot.check_open()?;
        match store_batch(relay, slot, &state, signer, envelopes).await {
            Err(crate::Error::LogMoved) if retry.is_some() => {
                drop(state);
                relay.circles().catch_up(relay.store(), slot).await?;
            }
            other => return other.map_err(Error::from),
        }
        envelopes = retry.unwrap_or_default();
    }
}

/// Stores a batch pushed by `signer` (over HTTP or on its live socket), all or
/// nothing, and hands what was stored to the live stream, the cursor watchers and
/// the wake-ups. The caller authenticated the signer and holds `state`'s read lock
/// until this returns (the log cannot move under the batch, nor the circle close).
async fn store_batch(
    relay: &Relay,
    slot: &Arc<crate::circles::CircleSlot>,
    state: &Arc<MembershipState>,
    signer: Signer,
    envelopes: Vec<Vec<u8>>,
) -> crate::Result<Pushed> {
    require_writer(state, &signer.0)?;
    let max = relay.config().max_batch;
    if envelopes.len() > max {
        return Err(Error::Oversized {
            what: "push batch (envelopes)",
            len: envelopes.len(),
            max,
        }
        .into());
    }
    let batch = if envelopes.len() <= INLINE_VERIFY {
        verify_batch(envelopes, state, signer)?
    } else {
        let snapshot = Arc::clone(state);
        tokio::task::spawn_blocking(move || verify_batch(envelopes, &snapshot, signer))
            .await
            .map_err(|e| crate::error::internal(format!("verify task: {e}")))??
    };
    let bytes: usize = batch.iter().map(|e| e.bytes.len()).sum();
    // Kept for the live stream only when a socket streams this circle.
    let streamed: Option<Vec<Vec<u8>>> = slot
        .stream
        .has_subscribers()
        .then(|| batch.iter().map(|e| e.bytes.clone()).collect());
    // Committing and announcing run as one task of their own: the store commits even
    // if the caller is dropped (the client went away), and what it committed must
    // still reach the stream, the live notices and the wake-ups — a cursor never
    // handed over would hold every later envelope of the circle back from streaming.
    let committed = {
        let (relay, slot, state) = (relay.clone(), Arc::clone(slot), Arc::clone(state));
        tokio::spawn(async move {
            let outcome = relay
                .store()
                .push(slot.key, Arc::clone(&state), batch, relay.quotas())
                .await
                .inspect_err(|e| {
                    if matches!(
                        e,
                        crate::Error::Trust(
                            Error::QuotaExceeded { .. } | Error::DailyQuotaExceeded { .. }
                        )
                    ) {
                        relay.metrics().quota_refusals.inc();
                    }
                })?;
            if outcome.stored > 0 {
                // Every stored cursor is handed over (with its bytes if anyone
                // streams), so the stream's order never waits for one not coming.
                let copies = streamed.unwrap_or_default();
                let handed: Vec<(u64, Option<&[u8]>)> = outcome
                    .cursors
                    .iter()
                    .enumerate()
                    .map(|(i, cursor)| (*cursor, copies.get(i).map(Vec::as_slice)))
                    .collect();
                // The cursor moves first: a socket that subscribes to the stream
                // after the hand-over then reads the new cursor when it catches up
                // from the store, so no envelope falls between the two.
                slot.stored_up_to(outcome.latest);
                slot.stream.stored(&handed);
                let metrics = relay.metrics();
                metrics.envelopes_stored.inc_by(outcome.stored as u64);
                metrics.envelope_bytes_stored.inc_by(bytes as u64);
                relay.pusher().changed(Change {
                    circle: slot.id.clone(),
                    circle_key: slot.key,
                    author: signer.0,
                    cursor: outcome.latest,
                    state,
                });
            }
            Ok::<_, crate::Error>(outcome)
        })
    };
    let outcome = committed
        .await
        .map_err(|e| crate::error::internal(format!("push task: {e}")))??;
    Ok(Pushed {
        cursors: outcome.cursors,
        latest: outcome.latest,
    })
}

/// `PUT /v1/circles/{circle}/push`: the signing device, active in the circle,
/// registers its Web Push subscription there (replacing its earlier one).
async fn register_push(
    State(relay): State<Relay>,
    CirclePath(circle): CirclePath,
    req: SignedRequest,
) -> ApiResult<Json<PushRegistration>> {
    let slot = relay.circle(&circle, &req).await?;
    // Held until stored: a removal (which deletes the device's subscriptions under
    // the write lock) is either before this check or after this store.
    let state = slot.state.read().await;
    slot.check_open()?;
    let signer = relay.authenticate(&req, Some(&state))?;
    require_active(&state, &signer.0)?;
    let body: PushSubscription = req.json()?;
    let subscription = Subscription::parse(&body, relay.config().push_settings().policy)?;
    relay
        .store()
        .put_push_subscription(slot.key, state.len(), signer.0, subscription)
        .await?;
    drop(state);
    tracing::debug!(%circle, device = %signer.0, "push subscription registered");
    Ok(Json(PushRegistration {
        circle: circle.to_string(),
        registered: true,
    }))
}

/// `DELETE /v1/circles/{circle}/push`: the signing device's subscription is deleted
/// (a success also when there was none).
async fn unregister_push(
    State(relay): State<Relay>,
    CirclePath(circle): CirclePath,
    req: SignedRequest,
) -> ApiResult<Json<PushRegistration>> {
    let slot = relay.circle(&circle, &req).await?;
    let state = slot.state.read().await;
    slot.check_open()?;
    let signer = relay.authenticate(&req, Some(&state))?;
    require_active(&state, &signer.0)?;
    relay
        .store()
        .delete_push_subscriptions(slot.key, vec![signer.0], None)
        .await?;
    drop(state);
    Ok(Json(PushRegistration {
        circle: circle.to_string(),
        registered: false,
    }))
}

/// `GET /v1/push/vapid`: the relay's VAPID public key. Public (it is in every push
/// the relay sends), so not signed.
async fn vapid_key(State(relay): State<Relay>) -> Json<VapidKey> {
    Json(VapidKey {
        public_key: relay.pusher().public_key().to_owned(),
    })
}

/// `envelope::verify` for each envelope, which the signer must have written.
fn verify_batch(
    envelopes: Vec<Vec<u8>>,
    state: &MembershipState,
    signer: Signer,
) -> Result<Vec<NewEnvelope>> {
    envelopes
        .into_iter()
        .map(|bytes| {
            let verified = envelope::verify(&bytes, state)?;
            if verified.header().author != signer.0 {
                return Err(Error::Unauthorized {
                    device: signer.0,
                    action: "push another device's envelopes",
                });
            }
            Ok(NewEnvelope { bytes, verified })
        })
        .collect()
}

/// `GET /v1/circles/{circle}/envelopes?after=C&limit=L`.
///
/// A page stops at `limit` envelopes or at the byte budget, whichever comes first. At
/// most `--max-concurrent-pulls` pages exist at once: a pull holds its permit from
/// reading the page until its answer is handed to the socket (or dropped), so the
/// memory of pulls stays under permits × (budget + its base64 JSON) however many
/// devices pull at once.
async fn pull_permits(relay: &Relay, req: &SignedRequest) -> ApiResult<PullPermits> {
    let in_flight =
        match req.peer {
            Some(peer) => Some(relay.inner.pulls_by_address.try_take(peer).map_err(|_| {
                Error::RateLimited {
                    retry_after_secs: 1,
                }
            })?),
            None => None,
        };
    let permit = relay.pull_permit(req.peer).await?;
    Ok(PullPermits {
        _permit: permit,
        _in_flight: in_flight,
        _deadline: None,
    })
}

/// What a page being read holds until it is handed over: one of the relay's pull
/// permits (shared fairly by address, [`Relay::pull_permit`]), the address's place
/// among its pulls in flight, and, once the page is read, its send deadline
/// ([`PullPermits::answer`]): a reader that takes the page slower than
/// `--pull-min-bytes-per-sec` loses its connection, and the permit comes back.
struct PullPermits {
    _permit: crate::limits::Share<Option<crate::limits::AddrKey>>,
    _in_flight: Option<crate::limits::Slot<crate::limits::AddrKey>>,
    _deadline: Option<crate::conn::Deadline>,
}

impl PullPermits {
    /// `bytes` as the answer's body, to be handed over within
    /// [`crate::config::Config::send_allowance`] under these permits.
    fn answer(mut self, relay: &Relay, req: &SignedRequest, bytes: Vec<u8>) -> axum::body::Body {
        let within = relay.config().send_allowance(bytes.len());
        self._deadline = req.deadlines.as_ref().map(|d| d.start(within));
        axum::body::Body::new(crate::body::Guarded::new(bytes, self))
    }
}

/// `PUT /v1/circles/{circle}/snapshot`: the body is a snapshot (raw bytes) made and
/// signed by the signing device, one of the main person's, under the current key and
/// covering no more than is stored. Kept when it covers more than the stored one.
async fn put_snapshot(
    State(relay): State<Relay>,
    CirclePath(circle): CirclePath,
    req: SignedRequest,
) -> ApiResult<Json<SnapshotStored>> {
    let slot = relay.circle(&circle, &req).await?;
    // Held until stored: a removal re-keys the circle, and a snapshot under the old
    // key must not land after it.
    let state = slot.state.read().await;
    slot.check_open()?;
    let signer = relay.authenticate(&req, Some(&state))?;
    require_active(&state, &signer.0)?;
    let snapshot = Arc::clone(&state);
    let bytes = req.body.to_vec();
    let (verified, bytes) = tokio::task::spawn_blocking(move || {
        snapshot::verify(&bytes, &snapshot).map(|v| (v, bytes))
    })
    .await
    .map_err(|e| crate::error::internal(format!("verify task: {e}")))??;
    verified.check_current_epoch(&state)?;
    if verified.header().maker != signer.0 {
        return Err(Error::NotAllowed("a device uploads only the snapshots it made").into());
    }
    let covers = verified.header().covers;
    let kept = relay
        .store()
        .put_snapshot(slot.key, state.len(), covers, bytes)
        .await?;
    drop(state);
    tracing::debug!(%circle, covers, kept, "snapshot uploaded");
    Ok(Json(SnapshotStored {
        circle: circle.to_string(),
        covers,
        kept,
    }))
}

/// `GET /v1/circles/{circle}/snapshot`: the newest snapshot, as uploaded (the device
/// checks it as it would an envelope); 404 `not_found` when there is none.
async fn get_snapshot(
    State(relay): State<Relay>,
    CirclePath(circle): CirclePath,
    req: SignedRequest,
) -> ApiResult<Response> {
    let slot = relay.circle(&circle, &req).await?;
    {
        let state = slot.state.read().await;
        slot.check_open()?;
        let signer = relay.authenticate(&req, Some(&state))?;
        require_active(&state, &signer.0)?;
    }
    let permits = pull_permits(&relay, &req).await?;
    let bytes = relay
        .store()
        .snapshot(slot.key)
        .await?
        .ok_or_else(|| Error::NotFound("no snapshot of this circle yet".into()))?;
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        permits.answer(&relay, &req, bytes),
    )
        .into_response())
}

async fn pull(
    State(relay): State<Relay>,
    CirclePath(circle): CirclePath,
    req: SignedRequest,
) -> ApiResult<Response> {
    let slot = relay.circle(&circle, &req).await?;
    {
        let state = slot.state.read().await;
        slot.check_open()?;
        let signer = relay.authenticate(&req, Some(&state))?;
        require_active(&state, &signer.0)?;
    }
    let after = query_u64(&req, "after", 0)?;
    let limit = query_u64(&req, "limit", u64::from(DEFAULT_PULL_LIMIT))?
        .clamp(1, u64::from(MAX_PULL_LIMIT));
    let limit = u32::try_from(limit).unwrap_or(MAX_PULL_LIMIT);
    let permits = pull_permits(&relay, &req).await?;
    let budget = relay.config().pull_budget_bytes.max(1);
    let page = relay.store().pull(slot.key, after, limit, budget).await?;
    let pulled = Pulled {
        envelopes: page
            .envelopes
            .into_iter()
            .map(|(cursor, bytes)| PulledEnvelope {
                cursor,
                envelope: Base64(bytes),
            })
            .collect(),
        latest: page.latest,
        more: page.more,
        closes_at: relay
            .retention()
            .and_then(|r| r.warning(page.active_at, kring_trust::Timestamp::now())),
    };
    // Sized up front (base64 is 4/3, plus a little per envelope): growing the buffer
    // by doubling would hold two copies of it at once.
    let raw: usize = pulled.envelopes.iter().map(|e| e.envelope.0.len()).sum();
    let mut json = Vec::with_capacity(raw / 3 * 4 + 4 + pulled.envelopes.len() * 48 + 64);
    serde_json::to_writer(&mut json, &pulled).map_err(crate::error::internal)?;
    drop(pulled);
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        permits.answer(&relay, &req, json),
    )
        .into_response())
}

impl Relay {
    /// The circle, loaded on first use. For a circle the relay does not have (or only
    /// has the tombstone of), the request must still authenticate (with the key its signer id names) before it is
    /// told `unknown_circle`, so circle ids cannot be probed without a key.
    pub async fn circle(
        &self,
        circle: &CircleId,
        req: &SignedRequest,
    ) -> Result<Arc<crate::circles::CircleSlot>> {
        let found = match self.circles().get(self.store(), circle).await {
            Ok(slot) => self.current(slot).await,
            other => other,
        };
        match found {
            Err(e @ (Error::UnknownCircle(_) | Error::CircleClosed(_))) => {
                self.authenticate(req, None)?;
                Err(e)
            }
            other => other,
        }
    }

    /// With a store shared by several relay processes, the slot as stored now: the
    /// membership appended through another process is applied before this request is
    /// judged, and a circle closed there is closed here. (A request that follows
    /// another process's answer, such as a push after a join, sees what it did.)
    pub(crate) async fn current(
        &self,
        slot: Arc<crate::circles::CircleSlot>,
    ) -> Result<Arc<crate::circles::CircleSlot>> {
        if self.store().sharing() == Sharing::Alone {
            return Ok(slot);
        }
        match self.store().log_len(slot.key).await {
            Ok(len) if len > slot.state.read().await.len() => {
                self.circles().catch_up(self.store(), &slot).await?;
            }
            Ok(_) => {}
            Err(crate::Error::Trust(e @ Error::CircleClosed(_))) => {
                if let Some(slot) = self.circles().take(&slot.id) {
                    slot.closed();
                }
                return Err(e);
            }
            Err(e) => return Err(e.into()),
        }
        Ok(slot)
    }
}

/// Unknown routes and methods.
pub async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    Error::NotFound(format!("no route for {method} {}", uri.path())).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_found_and_decoded() {
        let q = "after=5&circles=ab%2Ccd&empty&x=a+b";
        assert_eq!(query_param(q, "after").as_deref(), Some("5"));
        assert_eq!(query_param(q, "circles").as_deref(), Some("ab,cd"));
        assert_eq!(query_param(q, "empty").as_deref(), Some(""));
        assert_eq!(query_param(q, "x").as_deref(), Some("a b"));
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(query_param("a=%", "a").as_deref(), Some("%"));
        assert_eq!(query_param("a=%4", "a").as_deref(), Some("%4"));
        assert_eq!(query_param("a=%zz%41", "a").as_deref(), Some("%zzA"));
        assert_eq!(query_param("a=%ff", "a").as_deref(), Some("\u{fffd}"));
    }
}
