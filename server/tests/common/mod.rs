//! Shared test helpers: a relay on 127.0.0.1:0 over a real SQLite file, a signing HTTP
//! client, and a client-side model of a circle built with kring-core's own builders.
#![allow(dead_code)]

mod balancer;
mod binary;
#[allow(unused_imports)]
pub use balancer::Nginx;
#[allow(unused_imports)]
pub use binary::RelayProcess;

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, Change, ROOT};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use kring_client::envelope::{self, EnvelopeHash, SealedEnvelope};
use kring_plan::plan::DeviceActor;
use kring_trust::identity::DeviceIdentity;
use kring_trust::ids::MemberId;
use kring_trust::invite::InviteToken;
use kring_trust::keyring::Keyring;
use kring_trust::membership::{Capability, MembershipState, SignedEntry};
use kring_trust::request_auth::{sign_request, RequestSigner, HEADER_INVITE};
use kring_trust::Timestamp;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The value of `kring_<name>` (labels included in `name`) on the relay at `base`'s
/// `/metrics`, fetched with `http`; 0 when it is not there yet.
pub async fn metric_at(http: &reqwest::Client, base: &str, name: &str) -> f64 {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("kring_{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The PostgreSQL server the suites run against besides SQLite
/// (`scripts/with-postgres.sh` sets it), if any.
pub fn postgres() -> Option<String> {
    std::env::var("KRING_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A relay database of the backend under test: a fresh PostgreSQL database when
/// [`postgres`] is set, a SQLite file in `dir` otherwise.
pub async fn database(dir: &std::path::Path) -> kring_server::config::Database {
    match postgres() {
        Some(admin) => kring_server::config::Database::Postgres(
            kring_server::store::postgres::fresh_database(&admin, "relay_test")
                .await
                .expect("a fresh PostgreSQL database"),
        ),
        None => kring_server::config::Database::Sqlite(dir.join("relay.db")),
    }
}

pub struct TestRelay {
    pub relay: Option<kring_server::RunningRelay>,
    pub database: kring_server::config::Database,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    pub base: String,
}

impl TestRelay {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut kring_server::Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = database(dir.path()).await;
        let mut config = kring_server::Config::local_on(database.clone());
        adjust(&mut config);
        let relay = kring_server::spawn(config).await.expect("relay starts");
        let base = relay.url();
        TestRelay {
            relay: Some(relay),
            database,
            dir,
            http: reqwest::Client::new(),
            base,
        }
    }

    pub async fn stop(mut self) {
        if let Some(relay) = self.relay.take() {
            relay.shutdown().await.expect("clean shutdown");
        }
    }

    pub fn client(&self) -> Client {
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
        }
    }

    /// The single number a query (portable SQL, no parameters) finds in the relay's
    /// database, read beside the running relay.
    pub async fn count(&self, sql: &str) -> i64 {
        count_in(&self.database, sql).await
    }
}

/// The single number `sql` finds in `database` (SQLite or PostgreSQL).
pub async fn count_in(database: &kring_server::config::Database, sql: &str) -> i64 {
    match database {
        kring_server::config::Database::Sqlite(path) => {
            let conn = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .expect("open the relay's database");
            conn.query_row(sql, [], |r| r.get(0)).expect(sql)
        }
        kring_server::config::Database::Postgres(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connect to the relay's database");
            tokio::spawn(connection);
            client.query_one(sql, &[]).await.expect(sql).get(0)
        }
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "body: {}",
            self.body
        );
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }
}

impl Client {
    /// A request signed by `signer` now.
    pub async fn send(
        &self,
        signer: &(dyn RequestSigner + Sync),
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Reply {
        let bytes = body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default();
        self.send_raw(
            Some(signer),
            method,
            path_and_query,
            bytes,
            fresh_timestamp(),
            &[],
        )
        .await
    }

    /// Full control: unsigned (`None`), any timestamp, extra headers.
    pub async fn send_raw(
        &self,
        signer: Option<&(dyn RequestSigner + Sync)>,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
        at: Timestamp,
        extra: &[(&str, String)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path_and_query));
        if let Some(signer) = signer {
            let auth = sign_request(signer, method.as_str(), path_and_query, &body, at);
            for (name, value) in auth.headers() {
                request = request.header(name, value);
            }
        }
        for (name, value) in extra {
            request = request.header(*name, value);
        }
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn create_circle(&self, owner: &DeviceIdentity, genesis: &SignedEntry) -> Reply {
        self.send(
            owner,
            "POST",
            "/v1/circles",
            Some(&json!({ "genesis": B64.encode(genesis.as_bytes()) })),
        )
        .await
    }

    pub async fn append(
        &self,
        signer: &(dyn RequestSigner + Sync),
        circle: &str,
        entry: &SignedEntry,
    ) -> Reply {
        self.send(
            signer,
            "POST",
            &format!("/v1/circles/{circle}/membership"),
            Some(&json!({ "entry": B64.encode(entry.as_bytes()) })),
        )
        .await
    }

    pub async fn read_log(
        &self,
        signer: &(dyn RequestSigner + Sync),
        circle: &str,
        after: u64,
    ) -> Reply {
        self.send(
            signer,
            "GET",
            &format!("/v1/circles/{circle}/membership?after={after}"),
            None,
        )
        .await
    }

    pub async fn read_log_with_invite(&self, token: &InviteToken, circle: &str) -> Reply {
        let invite = B64.encode(token.invite().as_bytes());
        self.send_raw(
            Some(token),
            "GET",
            &format!("/v1/circles/{circle}/membership"),
            Vec::new(),
            fresh_timestamp(),
            &[(HEADER_INVITE, invite)],
        )
        .await
    }

    pub async fn push(
        &self,
        signer: &(dyn RequestSigner + Sync),
        circle: &str,
        envelopes: &[&SealedEnvelope],
    ) -> Reply {
        let envelopes: Vec<String> = envelopes.iter().map(|e| B64.encode(e.as_bytes())).collect();
        self.send(
            signer,
            "POST",
            &format!("/v1/circles/{circle}/envelopes"),
            Some(&json!({ "envelopes": envelopes })),
        )
        .await
    }

    /// A push that may fail at the transport (the relay being killed): the cursors if
    /// acknowledged, `None` otherwise. Refusals still fail the test.
    pub async fn push_quiet(
        &self,
        signer: &DeviceIdentity,
        circle: &str,
        envelopes: &[&SealedEnvelope],
    ) -> Option<Vec<u64>> {
        let envelopes: Vec<String> = envelopes.iter().map(|e| B64.encode(e.as_bytes())).collect();
        let path = format!("/v1/circles/{circle}/envelopes");
        let body = serde_json::to_vec(&json!({ "envelopes": envelopes })).expect("json");
        let auth = sign_request(signer, "POST", &path, &body, fresh_timestamp());
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        for (name, value) in auth.headers() {
            request = request.header(name, value);
        }
        let response = request.send().await.ok()?;
        let status = response.status();
        let value: Value = response.json().await.ok()?;
        assert_eq!(status.as_u16(), 200, "{value}");
        value["cursors"]
            .as_array()
            .map(|c| c.iter().filter_map(Value::as_u64).collect())
    }

    pub async fn pull(
        &self,
        signer: &(dyn RequestSigner + Sync),
        circle: &str,
        after: u64,
        limit: u32,
    ) -> Reply {
        self.send(
            signer,
            "GET",
            &format!("/v1/circles/{circle}/envelopes?after={after}&limit={limit}"),
            None,
        )
        .await
    }
}

/// Now, but strictly later than any timestamp handed out before: two identical
/// requests signed in the same millisecond would carry the same signature, and the
/// relay refuses the second as a replay. Real clients do the same.
pub fn fresh_timestamp() -> Timestamp {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = Timestamp::now().0;
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Timestamp(next),
            Err(seen) => last = seen,
        }
    }
}

/// A person with one device.
pub struct Person {
    pub member: MemberId,
    pub device: DeviceIdentity,
}

impl Person {
    pub fn new() -> Self {
        Person {
            member: MemberId::random(),
            device: DeviceIdentity::generate(),
        }
    }
}

/// A circle as one client sees it: the validated log, grown with core's builders.
pub struct Circle {
    pub state: MembershipState,
    pub log: Vec<SignedEntry>,
}

impl Circle {
    /// A new circle founded by `owner`; returns it and its genesis entry.
    pub fn found(owner: &Person) -> (Circle, SignedEntry) {
        let (genesis, state) =
            MembershipState::create_circle(&owner.device, owner.member.clone(), Timestamp::now())
                .expect("genesis");
        (
            Circle {
                state,
                log: vec![genesis.clone()],
            },
            genesis,
        )
    }

    pub fn id(&self) -> String {
        self.state.circle().to_string()
    }

    pub fn keys(&self, device: &DeviceIdentity) -> Keyring {
        Keyring::from_log(device, &self.state, &self.log).expect("keyring")
    }

    pub fn apply(&mut self, entry: &SignedEntry) {
        self.state.apply_mut(entry).expect("valid entry");
        self.log.push(entry.clone());
    }

    /// An entry adding a new person (not applied).
    pub fn add_member_entry(
        &self,
        by: &DeviceIdentity,
        person: &Person,
        capability: Capability,
    ) -> SignedEntry {
        self.state
            .add_member(
                by,
                &self.keys(by),
                person.member.clone(),
                capability,
                &person.device.public(),
                Timestamp::now(),
            )
            .expect("add member")
    }

    pub fn remove_member_entry(
        &self,
        by: &DeviceIdentity,
        member: &MemberId,
        last_seqs: &BTreeMap<kring_trust::identity::DeviceId, u64>,
    ) -> SignedEntry {
        self.state
            .remove_member(by, &self.keys(by), member, last_seqs, Timestamp::now())
            .expect("remove member")
    }

    pub fn invite(&self, by: &DeviceIdentity, capability: Capability, relay: &str) -> InviteToken {
        let now = Timestamp::now();
        InviteToken::create(
            &self.state,
            by,
            &self.keys(by),
            relay,
            capability,
            now.plus_days(7),
            now,
        )
        .expect("invite")
    }
}

/// A device writing envelopes in order.
pub struct Writer {
    pub seq: u64,
    pub prev: Option<EnvelopeHash>,
}

impl Writer {
    pub fn new() -> Self {
        Writer { seq: 0, prev: None }
    }

    /// The device's next envelope, sealed at the circle's current head.
    pub fn next(&mut self, circle: &Circle, device: &DeviceIdentity, text: &str) -> SealedEnvelope {
        let sealed = self.peek(circle, device, text);
        self.seq += 1;
        self.prev = Some(sealed.hash());
        sealed
    }

    /// The next envelope without advancing (for forks and gaps).
    pub fn peek(&self, circle: &Circle, device: &DeviceIdentity, text: &str) -> SealedEnvelope {
        envelope::seal(
            device,
            &circle.state,
            &circle.keys(device),
            self.seq + 1,
            self.prev,
            &[change_by(device, text)],
        )
        .expect("seal")
    }
}

/// One automerge change made on `device`.
pub fn change_by(device: &DeviceIdentity, text: &str) -> Change {
    let mut doc = AutoCommit::new().with_actor(device.actor_id());
    doc.put(ROOT, "note", text).expect("put");
    doc.commit();
    doc.get_last_local_change().expect("change")
}

/// Creates a circle on the relay with an owner, returns (circle, owner).
pub async fn circle_on(client: &Client) -> (Circle, Person) {
    let owner = Person::new();
    let (circle, genesis) = Circle::found(&owner);
    client.create_circle(&owner.device, &genesis).await.ok(201);
    (circle, owner)
}

/// Adds a person with `capability` via the relay.
pub async fn join(
    client: &Client,
    circle: &mut Circle,
    by: &DeviceIdentity,
    capability: Capability,
) -> Person {
    let person = Person::new();
    let entry = circle.add_member_entry(by, &person, capability);
    client.append(by, &circle.id(), &entry).await.ok(201);
    circle.apply(&entry);
    person
}
