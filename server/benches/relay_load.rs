//! Load benchmark of the relay: N circles × M members, every member with a live
//! WebSocket, members pushing envelopes at a fixed total rate.
//!
//! ```sh
//! cargo bench -p kring-server --bench relay_load -- --circles 1000 --rate 2000 --seconds 30
//! ```
//!
//! The relay runs as a separate process (the release `kring-server` binary) on a fresh
//! database: a SQLite file (`--db sqlite`, the default), or with `--db postgres` a
//! database created on the PostgreSQL of `KRING_TEST_POSTGRES` (an admin URL, as
//! `scripts/with-postgres.sh` sets it). `--instances N` (PostgreSQL only) starts N relay
//! processes on that database: circles are created through the first, and member `m`
//! of every circle keeps its live socket on, and pushes through, relay `m % N`, so part
//! of every circle's fan-out crosses processes (through LISTEN/NOTIFY):
//!
//! ```sh
//! cargo bench -p kring-server --bench relay_load -- --circles 1000 --rate 2000
//! scripts/with-postgres.sh cargo bench -p kring-server --bench relay_load -- --db postgres --circles 1000 --rate 2000
//! scripts/with-postgres.sh cargo bench -p kring-server --bench relay_load -- --db postgres --instances 2 --circles 1000 --rate 2000
//! ```
//!
//! Reported: pushes/s acknowledged, push round trip (send → ack), fan-out
//! latency — push *sent* → the envelope itself received by each other member of the
//! circle over its streaming live socket and checked with `envelope::verify` as a
//! device checks it (`--live stream`, the default: the job a user waits for), or → a
//! notice covering it (`--live notices`, the older path, after which a device still
//! has to pull) — deliveries missed, the relay's CPU per pushed change, and its RSS
//! (of all relay processes together). With PostgreSQL also the database's CPU (its
//! postmaster and the processes it started) and the WAL it wrote, per pushed change.
//!
//! Pushes go on each member's live socket (`--push socket`, the default: a
//! `PushFrame`, acknowledged by a `pushed` notice after the commit), as the anchor's
//! clients send their changes on their sockets; `--push http` signs and POSTs each
//! one instead.
//!
//! Pinned like the anchor (`../shared/anchors/automerge-repo`: server on CPU 0, load
//! on CPU 1): `--pin-relay 0 --pin-bench 1` (every relay process on CPU 0; the
//! database is not pinned).
//!
//! Every socket is an open file in both processes: the bench and the relay raise their
//! soft open-files limit to the hard limit; if the hard limit is below about
//! circles × members + 1000, raise it first (`ulimit -Hn`, as root).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use kring_client::envelope::{self, EnvelopeHash};
use kring_plan::plan::DeviceActor;
use kring_trust::identity::DeviceIdentity;
use kring_trust::ids::MemberId;
use kring_trust::keyring::Keyring;
use kring_trust::live::{LiveFrame, PushFrame};
use kring_trust::membership::{Capability, MembershipState, SignedEntry};
use kring_trust::protocol::LiveNotice;
use kring_trust::request_auth::sign_request;
use kring_trust::Timestamp;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug)]
struct Args {
    /// Circles.
    #[arg(long, default_value_t = 1000)]
    circles: usize,
    /// Members per circle (each with one device and one live socket).
    #[arg(long, default_value_t = 11)]
    members: usize,
    /// Target pushes per second, in total.
    #[arg(long, default_value_t = 2000)]
    rate: u64,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Warm-up seconds at the target rate, not measured.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Envelopes per push.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// How members push: `socket` (on their live socket) or `http` (signed POSTs).
    #[arg(long, default_value = "socket")]
    push: String,
    /// Connect to this relay instead of starting one (`http://host:port`).
    #[arg(long, conflicts_with_all = ["db", "instances"])]
    relay: Option<String>,
    /// The database of the relays started: a fresh SQLite file, or a fresh database
    /// on the PostgreSQL of `KRING_TEST_POSTGRES`.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    db: Backend,
    /// Relay processes on that database (more than one: PostgreSQL only).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// What the live sockets carry: `stream` (the envelopes themselves) or `notices`.
    #[arg(long, default_value = "stream")]
    live: String,
    /// Run the relay on this CPU only (`taskset -c`).
    #[arg(long)]
    pin_relay: Option<usize>,
    /// Run this bench (the load and the receivers) on this CPU only.
    #[arg(long)]
    pin_bench: Option<usize>,
    /// Verify one in N received envelopes (1: every one, as a device does). At
    /// thousands of changes per second the receivers' checks alone would need more
    /// cores than the machine has; a sample keeps them honest without that.
    #[arg(long, default_value_t = 1)]
    verify_every: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Now, strictly increasing across the process (no two identical signatures).
fn fresh() -> Timestamp {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = Timestamp::now().0 as u64;
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Timestamp(next as i64),
            Err(seen) => last = seen,
        }
    }
}

#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    async fn post(
        &self,
        device: &DeviceIdentity,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        let auth = sign_request(device, "POST", path, &bytes, fresh());
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(bytes);
        for (name, value) in auth.headers() {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let value: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(format!("{status}: {value}"))
        }
    }
}

struct Member {
    device: DeviceIdentity,
}

struct CircleSetup {
    id: String,
    members: Vec<Member>,
    state: MembershipState,
    log: Vec<SignedEntry>,
}

/// Keeps this process on `cpu` (the load beside a pinned relay): every thread it has
/// now (the runtime's workers exist already) and, by inheritance, every later one.
fn pin_to(cpu: usize) {
    let threads: Vec<i32> = std::fs::read_dir("/proc/self/task")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for tid in threads {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes within it,
        // and sched_setaffinity reads `size_of` bytes of it.
        let pinned = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
        };
        if !pinned {
            eprintln!("could not pin thread {tid} of the bench to CPU {cpu}");
        }
    }
}

#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
    }
    limit.rlim_cur as u64
}

/// The `--db` of the relays this bench starts: a fresh SQLite file in `dir`, or a fresh
/// database on the PostgreSQL of `KRING_TEST_POSTGRES`.
async fn fresh_db(backend: Backend, dir: &Path) -> OsString {
    match backend {
        Backend::Sqlite => dir.join("bench.db").into_os_string(),
        Backend::Postgres => {
            let Ok(admin) = std::env::var("KRING_TEST_POSTGRES") else {
                eprintln!(
                    "--db postgres needs KRING_TEST_POSTGRES, the admin URL of a PostgreSQL to create the bench's database on (run the bench under scripts/with-postgres.sh)"
                );
                std::process::exit(2);
            };
            match kring_server::store::postgres::fresh_database(&admin, "bench").await {
                Ok(url) => url.into(),
                Err(e) => {
                    eprintln!(
                        "could not create the bench's database from KRING_TEST_POSTGRES: {e}"
                    );
                    std::process::exit(1);
                }
            }
        }
    }
}

/// Starts one relay (the release `kring-server`) on `db`, on CPU `pin` when given;
/// its process and its base URL once it listens.
async fn start_relay(db: &OsStr, pin: Option<usize>) -> (Child, String) {
    let mut command = match pin {
        Some(cpu) => {
            let mut c = tokio::process::Command::new("taskset");
            c.args(["-c", &cpu.to_string(), env!("CARGO_BIN_EXE_kring-server")]);
            c
        }
        None => tokio::process::Command::new(env!("CARGO_BIN_EXE_kring-server")),
    };
    let mut process = command
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .env("KRING_LOG", "warn")
        // Every simulated device connects from 127.0.0.1: the per-address
        // limits (meant for one party's load) would cap the whole bench.
        .env("KRING_MAX_CONNECTIONS_PER_ADDRESS", "0")
        .env("KRING_MAX_LIVE_PER_ADDRESS", "0")
        .env("KRING_ADDRESS_RATE_PER_SEC", "0")
        .env("KRING_CIRCLES_PER_ADDRESS_PER_HOUR", "0")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start kring-server");
    let stdout = process.stdout.take().expect("stdout");
    let line = BufReader::new(stdout)
        .lines()
        .next_line()
        .await
        .expect("read")
        .expect("listening line");
    let addr = line.trim_start_matches("listening on ").to_owned();
    (process, format!("http://{addr}"))
}

/// The PostgreSQL the relays share, as measured around the load: the CPU of its
/// processes and the WAL it wrote.
struct PostgresProbe {
    client: tokio_postgres::Client,
    postmaster: u32,
}

/// What [`PostgresProbe::sample`] reads: CPU seconds so far of the cluster's processes
/// now, and the cluster's WAL position in bytes.
#[derive(Clone, Copy)]
struct DbSample {
    cpu: f64,
    wal: f64,
}

impl PostgresProbe {
    async fn connect(url: &str) -> Self {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the bench's database");
        tokio::spawn(connection);
        let backend: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .expect("backend pid")
            .get(0);
        let postmaster = parent_pid(backend as u32).expect("the postmaster of the bench's backend");
        Self { client, postmaster }
    }

    /// The cluster's processes: its postmaster and the `postgres` processes it started
    /// (backends, WAL writer, checkpointer, …) — not another cluster's on this machine.
    fn pids(&self) -> Vec<u32> {
        let children = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|&pid| {
                parent_pid(pid) == Some(self.postmaster)
                    && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .is_ok_and(|comm| comm.trim_end() == "postgres")
            });
        std::iter::once(self.postmaster).chain(children).collect()
    }

    async fn sample(&self) -> DbSample {
        let cpu = cpu_total(&self.pids()).unwrap_or(f64::NAN);
        let wal: f64 = self
            .client
            .query_one(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8",
                &[],
            )
            .await
            .expect("WAL position")
            .get(0);
        DbSample { cpu, wal }
    }
}

/// A numeric field of `/proc/PID/status` (`name` with its colon), 0 when absent.
fn status_field(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn process_status(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default()
}

fn parent_pid(pid: u32) -> Option<u32> {
    let status = process_status(pid);
    (!status.is_empty()).then(|| status_field(&status, "PPid:") as u32)
}

fn rss_kib(pid: u32) -> (u64, u64) {
    let status = process_status(pid);
    (
        status_field(&status, "VmRSS:"),
        status_field(&status, "VmHWM:"),
    )
}

/// RSS and peak RSS (KiB) of `pids` together; none when there are none to measure (a
/// relay started elsewhere).
fn rss_total(pids: &[u32]) -> Option<(u64, u64)> {
    (!pids.is_empty()).then(|| {
        pids.iter()
            .map(|&pid| rss_kib(pid))
            .fold((0, 0), |(rss, hwm), (r, h)| (rss + r, hwm + h))
    })
}

/// CPU seconds of `pids` together; none when there are none to measure.
fn cpu_total(pids: &[u32]) -> Option<f64> {
    (!pids.is_empty()).then(|| pids.iter().map(|&pid| cpu_secs(pid)).sum())
}

fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the name).
    (ticks(11) + ticks(12)) / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

struct PushRecord {
    circle: usize,
    author: usize,
    cursor: u64,
    sent: Instant,
    acked: Instant,
}

/// A push sent on a member's socket, waiting for its `pushed` notice.
struct SocketPush {
    circle: usize,
    author: usize,
    id: u64,
    sent: Instant,
}

type SocketSink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let streaming = match args.live.as_str() {
        "stream" => true,
        "notices" => false,
        other => {
            eprintln!("--live is stream or notices, not {other:?}");
            std::process::exit(2);
        }
    };
    let on_socket = match args.push.as_str() {
        "socket" => true,
        "http" => false,
        other => {
            eprintln!("--push is socket or http, not {other:?}");
            std::process::exit(2);
        }
    };
    if args.instances == 0 || (args.instances > 1 && args.db != Backend::Postgres) {
        eprintln!(
            "--instances is 1, or more with --db postgres (relays share a PostgreSQL database, not a SQLite file), not {}",
            args.instances
        );
        std::process::exit(2);
    }
    if let Some(cpu) = args.pin_bench {
        pin_to(cpu);
    }
    let fds = raise_open_files_limit();
    let sockets = (args.circles * args.members) as u64;
    if fds < sockets + 512 {
        eprintln!(
            "open-files limit {fds} is too low for {sockets} sockets: raise the hard limit (ulimit -Hn) first"
        );
        std::process::exit(2);
    }

    // ---- the relays ------------------------------------------------------------------
    let dir = tempfile::tempdir().expect("tempdir");
    let mut children = Vec::new();
    let mut probe = None;
    let bases: Vec<String> = match &args.relay {
        Some(base) => vec![base.clone()],
        None => {
            let db = fresh_db(args.db, dir.path()).await;
            if args.db == Backend::Postgres {
                probe = Some(PostgresProbe::connect(&db.to_string_lossy()).await);
            }
            let mut bases = Vec::new();
            for _ in 0..args.instances {
                let (child, base) = start_relay(&db, args.pin_relay).await;
                children.push(child);
                bases.push(base);
            }
            bases
        }
    };
    let relay_pids: Vec<u32> = children.iter().filter_map(Child::id).collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    // One per relay; member `m` of every circle uses relay `m % instances`.
    let relays: Vec<Http> = bases
        .iter()
        .map(|base| Http {
            client: client.clone(),
            base: base.clone(),
        })
        .collect();
    let instances = relays.len();
    eprintln!("relay at {}; open-files limit {fds}", bases.join(", "));

    // ---- circles and members ----------------------------------------------------------
    let started = Instant::now();
    let setups: Vec<CircleSetup> = futures_util::stream::iter(0..args.circles)
        .map(|_| {
            let http = relays[0].clone();
            let members = args.members;
            async move { make_circle(&http, members).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    eprintln!(
        "{} circles × {} members created in {:.1} s",
        setups.len(),
        args.members,
        started.elapsed().as_secs_f64()
    );

    // ---- envelopes, sealed ahead so the measurement is the relay's work -------------------
    let started = Instant::now();
    let total_pushes = (args.rate * (args.seconds + args.warmup)) as usize + args.rate as usize;
    let per_member = total_pushes.div_ceil(args.circles * args.members) + 1;
    let setups = Arc::new(setups);
    let chains: Vec<Vec<Vec<Vec<u8>>>> = {
        let threads = 2;
        let chunks: Vec<Vec<usize>> = (0..threads)
            .map(|t| (0..args.circles).filter(|c| c % threads == t).collect())
            .collect();
        let mut chains: Vec<Vec<Vec<Vec<u8>>>> = (0..args.circles).map(|_| Vec::new()).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|circles| {
                    let setups = Arc::clone(&setups);
                    let batch = args.batch;
                    scope.spawn(move || {
                        circles
                            .into_iter()
                            .map(|c| (c, seal_chains(&setups[c], per_member * batch)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                for (c, chain) in handle.join().expect("sealing thread") {
                    chains[c] = chain;
                }
            }
        });
        chains
    };
    eprintln!(
        "{} envelopes sealed in {:.1} s",
        args.circles * args.members * per_member * args.batch,
        started.elapsed().as_secs_f64()
    );

    // ---- live sockets -------------------------------------------------------------------
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before_sockets = rss_total(&relay_pids);
    let started = Instant::now();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ws_bases: Vec<String> = bases
        .iter()
        .map(|base| base.replace("http://", "ws://"))
        .collect();
    let mut connects = Vec::new();
    for (c, setup) in setups.iter().enumerate() {
        for (m, member) in setup.members.iter().enumerate() {
            // Streaming from the start: nothing stored yet, a log of one entry per member.
            let path = if streaming {
                format!(
                    "/v1/live?circles={}&after=0&log={}",
                    setup.id,
                    setup.log.len()
                )
            } else {
                format!("/v1/live?circles={}", setup.id)
            };
            let mut request = format!("{}{path}", ws_bases[m % instances])
                .into_client_request()
                .expect("request");
            let auth = sign_request(&member.device, "GET", &path, b"", fresh());
            for (name, value) in auth.headers() {
                request
                    .headers_mut()
                    .insert(name, value.parse().expect("header"));
            }
            connects.push((c, m, request));
        }
    }
    let sockets: Vec<_> = futures_util::stream::iter(connects)
        .map(|(c, m, request)| async move {
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(4096);
            for attempt in 0..5 {
                match tokio_tungstenite::connect_async_with_config(
                    request.clone(),
                    Some(config),
                    true,
                )
                .await
                {
                    Ok((socket, _)) => return (c, m, socket),
                    Err(e) if attempt < 4 => {
                        eprintln!("connect {c}/{m}: {e}; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => panic!("connect {c}/{m}: {e}"),
                }
            }
            unreachable!()
        })
        .buffer_unordered(128)
        .collect()
        .await;
    let invalid = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(AtomicU64::new(0));
    // Each member's sending half, for pushes on the socket.
    let mut senders: Vec<Vec<Option<Arc<tokio::sync::Mutex<SocketSink>>>>> = (0..args.circles)
        .map(|_| vec![None; args.members])
        .collect();
    let subscribers: Vec<_> = sockets
        .into_iter()
        .map(|(c, m, socket)| {
            let (sink, mut socket) = socket.split();
            let sink = Arc::new(tokio::sync::Mutex::new(sink));
            senders[c][m] = Some(Arc::clone(&sink));
            let mut stop = stop_rx.clone();
            let setups = Arc::clone(&setups);
            let invalid = Arc::clone(&invalid);
            let errors = Arc::clone(&errors);
            let in_flight = Arc::clone(&in_flight);
            let verify_every = args.verify_every.max(1);
            tokio::spawn(async move {
                // (newest cursor covered, when it arrived)
                let mut notices: Vec<(u64, Instant)> = Vec::new();
                // Pushes of this member acknowledged on its socket: (request id, last
                // cursor, when).
                let mut acks: Vec<(u64, u64, Instant)> = Vec::new();
                loop {
                    tokio::select! {
                        message = socket.next() => match message {
                            Some(Ok(Message::Text(text))) => {
                                match serde_json::from_str(&text) {
                                    Ok(LiveNotice::Cursor { latest, .. }) => notices.push((latest, Instant::now())),
                                    Ok(LiveNotice::Pushed { id, cursors, .. }) => {
                                        in_flight.fetch_sub(1, Ordering::Relaxed);
                                        match cursors.last() {
                                            Some(last) => acks.push((id, *last, Instant::now())),
                                            None => drop(errors.fetch_add(1, Ordering::Relaxed)),
                                        }
                                    }
                                    Ok(LiveNotice::PushRefused { .. }) => {
                                        in_flight.fetch_sub(1, Ordering::Relaxed);
                                        errors.fetch_add(1, Ordering::Relaxed);
                                    }
                                    _ => {}
                                }
                            }
                            // The envelope itself: checked as a device checks it.
                            Some(Ok(Message::Binary(bytes))) => {
                                let at = Instant::now();
                                match LiveFrame::decode(&bytes) {
                                    Ok(LiveFrame::Envelope { cursor, bytes, .. }) => {
                                        let checked = cursor % verify_every != 0
                                            || kring_trust::envelope::verify(&bytes, &setups[c].state).is_ok();
                                        if checked {
                                            notices.push((cursor, at));
                                        } else {
                                            invalid.fetch_add(1, Ordering::Relaxed);
                                        }
                                    }
                                    Ok(LiveFrame::Entry { .. }) => {}
                                    Err(_) => {
                                        invalid.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                            }
                            Some(Ok(_)) => {}
                            _ => break,
                        },
                        _ = stop.changed() => break,
                    }
                }
                let _ = sink.lock().await.close().await;
                (c, m, notices, acks)
            })
        })
        .collect();
    let senders = Arc::new(senders);
    let connect_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} live sockets connected in {connect_secs:.1} s",
        subscribers.len()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_connected = rss_total(&relay_pids);

    // ---- load: an open loop at the target rate ----------------------------------------------
    let chains = Arc::new(chains);
    let records: Arc<Mutex<Vec<PushRecord>>> = Arc::default();
    // Pushes sent on sockets, matched with their acknowledgements after the run.
    let sent_on_sockets: Arc<Mutex<Vec<SocketPush>>> = Arc::default();
    let request_ids = Arc::new(AtomicU64::new(1));
    let next_chain: Arc<Vec<Vec<AtomicU64>>> = Arc::new(
        (0..args.circles)
            .map(|_| (0..args.members).map(|_| AtomicU64::new(0)).collect())
            .collect(),
    );
    let load_start = Instant::now();
    let measure_from = load_start + Duration::from_secs(args.warmup);
    let load_end = measure_from + Duration::from_secs(args.seconds);
    let cpu_before = cpu_total(&relay_pids);
    let mut bench_cpu_before = cpu_secs(std::process::id());
    let mut issued: u64 = 0;
    let mut skipped: u64 = 0;
    let mut pushers = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut measure_cpu = None;
    let mut db_before = None;
    let mut measuring = false;
    loop {
        tick.tick().await;
        let now = Instant::now();
        if now >= load_end {
            break;
        }
        if !measuring && now >= measure_from {
            measuring = true;
            measure_cpu = cpu_total(&relay_pids);
            bench_cpu_before = cpu_secs(std::process::id());
            if let Some(probe) = &probe {
                db_before = Some(probe.sample().await);
            }
        }
        let due = (now.duration_since(load_start).as_secs_f64() * args.rate as f64) as u64;
        while issued < due {
            let i = issued as usize;
            issued += 1;
            if in_flight.load(Ordering::Relaxed) > 4 * args.rate {
                skipped += 1;
                continue;
            }
            let circle = i % args.circles;
            let author = (i / args.circles) % args.members;
            let (http, setups, chains, records, errors, in_flight, next_chain) = (
                relays[author % instances].clone(),
                setups.clone(),
                chains.clone(),
                records.clone(),
                errors.clone(),
                in_flight.clone(),
                next_chain.clone(),
            );
            let (senders, sent_on_sockets, request_ids) = (
                senders.clone(),
                sent_on_sockets.clone(),
                request_ids.clone(),
            );
            let batch = args.batch;
            in_flight.fetch_add(1, Ordering::Relaxed);
            pushers.push(tokio::spawn(async move {
                let position =
                    next_chain[circle][author].fetch_add(batch as u64, Ordering::Relaxed) as usize;
                let sealed = &chains[circle][author][position..position + batch];
                let setup = &setups[circle];
                if on_socket {
                    let Some(sink) = &senders[circle][author] else {
                        return;
                    };
                    let id = request_ids.fetch_add(1, Ordering::Relaxed);
                    let frame = PushFrame {
                        circle: kring_trust::ids::CircleId::parse(&setup.id).expect("circle id"),
                        id,
                        envelopes: sealed.to_vec(),
                    }
                    .encode();
                    let mut sink = sink.lock().await;
                    let sent = Instant::now();
                    if sink.send(Message::Binary(frame.into())).await.is_err() {
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                        errors.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    drop(sink);
                    sent_on_sockets.lock().unwrap().push(SocketPush {
                        circle,
                        author,
                        id,
                        sent,
                    });
                    return;
                }
                let envelopes: Vec<String> = sealed.iter().map(|bytes| B64.encode(bytes)).collect();
                let path = format!("/v1/circles/{}/envelopes", setup.id);
                let sent = Instant::now();
                let reply = http
                    .post(
                        &setup.members[author].device,
                        &path,
                        json!({ "envelopes": envelopes }),
                    )
                    .await;
                let acked = Instant::now();
                in_flight.fetch_sub(1, Ordering::Relaxed);
                match reply.ok().and_then(|r| {
                    r["cursors"]
                        .as_array()
                        .and_then(|c| c.last())
                        .and_then(|c| c.as_u64())
                }) {
                    Some(cursor) => records.lock().unwrap().push(PushRecord {
                        circle,
                        author,
                        cursor,
                        sent,
                        acked,
                    }),
                    None => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    for pusher in pushers {
        let _ = pusher.await;
    }
    let load_secs = load_start.elapsed().as_secs_f64() - args.warmup as f64;
    let cpu_after = cpu_total(&relay_pids);
    let bench_cpu_after = cpu_secs(std::process::id());
    let db_after = match &probe {
        Some(probe) => Some(probe.sample().await),
        None => None,
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_loaded = rss_total(&relay_pids);
    let rss_each: Vec<(u64, u64)> = relay_pids.iter().map(|&pid| rss_kib(pid)).collect();
    let _ = stop_tx.send(true);
    let mut notices = Vec::new();
    let mut acks: HashMap<u64, (u64, Instant)> = HashMap::new();
    for subscriber in subscribers {
        let (c, m, seen, acked) = subscriber.await.expect("subscriber");
        notices.push((c, m, seen));
        acks.extend(acked.into_iter().map(|(id, cursor, at)| (id, (cursor, at))));
    }
    // A push on a socket counts once its acknowledgement came back.
    for push in sent_on_sockets.lock().unwrap().drain(..) {
        if let Some((cursor, acked)) = acks.get(&push.id) {
            records.lock().unwrap().push(PushRecord {
                circle: push.circle,
                author: push.author,
                cursor: *cursor,
                sent: push.sent,
                acked: *acked,
            });
        }
    }

    // ---- figures ------------------------------------------------------------------------
    let records = Arc::try_unwrap(records)
        .ok()
        .expect("records")
        .into_inner()
        .unwrap();
    let measured: Vec<&PushRecord> = records
        .iter()
        .filter(|r| r.sent >= measure_from && r.sent < load_end)
        .collect();
    let mut round_trips: Vec<f64> = measured
        .iter()
        .map(|r| r.acked.duration_since(r.sent).as_secs_f64() * 1000.0)
        .collect();
    round_trips.sort_by(f64::total_cmp);
    let by_cursor: HashMap<(usize, u64), &PushRecord> =
        records.iter().map(|r| ((r.circle, r.cursor), r)).collect();
    let mut fan_out = Vec::new();
    for (circle, member, list) in &notices {
        let mut seen = 0u64;
        for (latest, at) in list {
            for cursor in seen + 1..=*latest {
                if let Some(push) = by_cursor.get(&(*circle, cursor)) {
                    if push.author != *member && push.sent >= measure_from && push.sent < load_end {
                        fan_out
                            .push(at.saturating_duration_since(push.sent).as_secs_f64() * 1000.0);
                    }
                }
            }
            seen = seen.max(*latest);
        }
    }
    fan_out.sort_by(f64::total_cmp);
    let expected_deliveries = measured.len() * (args.members - 1);
    let pushes_per_sec = measured.len() as f64 / load_secs;
    let pushes = measured.len().max(1) as f64;
    let relay_cpu = match (measure_cpu.or(cpu_before), cpu_after) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let (cpu, cpu_per_change) = match relay_cpu {
        Some(secs) => (
            format!("{:.0} %", secs / load_secs * 100.0),
            format!("{:.3} ms", secs * 1000.0 / pushes),
        ),
        None => ("n/a".into(), "n/a".into()),
    };
    let mib = |kib: u64| kib as f64 / 1024.0;
    // Several relays: their RSS and CPU figures are sums.
    let summed = if relay_pids.len() > 1 {
        format!(" (sum of {} processes)", relay_pids.len())
    } else {
        String::new()
    };
    println!("## relay_load");
    println!();
    match &args.relay {
        Some(base) => println!("backend: the relay at {base}, started elsewhere"),
        None => println!(
            "backend: {}, {instances} relay process{}",
            args.db.name(),
            if instances == 1 { "" } else { "es" }
        ),
    }
    println!();
    println!(
        "circles {} × members {} = {} live sockets (connected in {connect_secs:.1} s); target {} pushes/s × {} envelope(s) over {}, {} s measured after {} s warm-up",
        args.circles, args.members, args.circles * args.members, args.rate, args.batch, if on_socket { "the live sockets" } else { "HTTP" }, args.seconds, args.warmup
    );
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| pushes acknowledged | {} ({pushes_per_sec:.0}/s) |",
        measured.len()
    );
    println!(
        "| push errors / skipped (relay behind) | {} / {skipped} |",
        errors.load(Ordering::Relaxed)
    );
    println!(
        "| push round trip p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        percentile(&round_trips, 50.0),
        percentile(&round_trips, 99.0),
        round_trips.last().copied().unwrap_or(f64::NAN)
    );
    let delivered = if streaming {
        "envelope received and verified by"
    } else {
        "notice received by"
    };
    println!(
        "| fan-out push sent → {delivered} each other member p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        percentile(&fan_out, 50.0),
        percentile(&fan_out, 99.0),
        fan_out.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "| deliveries observed / expected | {} / {expected_deliveries} |",
        fan_out.len()
    );
    if let (Some((before, _)), Some((connected, _))) = (rss_before_sockets, rss_connected) {
        let sockets = (args.circles * args.members).max(1) as f64;
        println!(
            "| relay memory per idle live socket (RSS connected − before, ÷ sockets){summed} | {:.1} KiB |",
            connected.saturating_sub(before) as f64 / sockets
        );
    }
    if let (Some((rss_c, _)), Some((rss_l, hwm))) = (rss_connected, rss_loaded) {
        println!(
            "| relay RSS connected / after load / peak{summed} | {:.0} / {:.0} / {:.0} MiB |",
            mib(rss_c),
            mib(rss_l),
            mib(hwm)
        );
    }
    if rss_each.len() > 1 {
        let each: Vec<String> = rss_each
            .iter()
            .map(|&(rss, hwm)| format!("{:.0} / {:.0}", mib(rss), mib(hwm)))
            .collect();
        println!(
            "| relay RSS after load / peak, each process | {} MiB |",
            each.join(", ")
        );
    }
    println!("| relay CPU during load (of 1 core){summed} | {cpu} |");
    println!(
        "| relay CPU per pushed change (fanned out to {} others){summed} | {cpu_per_change} |",
        args.members - 1
    );
    if let (Some(before), Some(after)) = (db_before, db_after) {
        print_database(before, after, load_secs, pushes, relay_cpu);
    }
    println!(
        "| frames that failed to decode or verify | {} |",
        invalid.load(Ordering::Relaxed)
    );
    println!(
        "| bench process CPU during load (of 1 core) | {:.0} % |",
        (bench_cpu_after - bench_cpu_before) / load_secs * 100.0
    );
    let texts = metrics_texts(&relays).await;
    let total = |name: &str| texts.iter().map(|text| metric(text, name)).sum::<f64>();
    let commits = total("kring_store_commit_seconds_count");
    // Counted by the SQLite store's writer; none on PostgreSQL.
    if commits > 0.0 {
        println!(
            "| relay write groups: commits, mean commands per commit, mean commit time | {:.0}, {:.1}, {:.2} ms |",
            commits,
            total("kring_store_commit_group_size_sum") / commits,
            total("kring_store_commit_seconds_sum") / commits * 1000.0
        );
    }
    for mut child in children {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}

/// The database's lines: its CPU and the WAL it wrote over the measured window, per
/// pushed change, and with the relays' CPU (`relay_cpu` seconds) the whole CPU cost.
fn print_database(
    before: DbSample,
    after: DbSample,
    load_secs: f64,
    pushes: f64,
    relay_cpu: Option<f64>,
) {
    let cpu = after.cpu - before.cpu;
    let wal = after.wal - before.wal;
    println!(
        "| database CPU during load (of 1 core) | {:.0} % |",
        cpu / load_secs * 100.0
    );
    println!(
        "| database CPU per pushed change | {:.3} ms |",
        cpu * 1000.0 / pushes
    );
    if let Some(relay) = relay_cpu {
        println!(
            "| relays + database CPU per pushed change | {:.3} ms |",
            (relay + cpu) * 1000.0 / pushes
        );
    }
    println!(
        "| WAL written per pushed change | {:.0} bytes ({:.1} MiB in all) |",
        wal / pushes,
        wal / (1024.0 * 1024.0)
    );
}

/// The `/metrics` texts of the relays that answered.
async fn metrics_texts(relays: &[Http]) -> Vec<String> {
    let mut texts = Vec::new();
    for relay in relays {
        let text = async {
            relay
                .client
                .get(format!("{}/metrics", relay.base))
                .send()
                .await?
                .text()
                .await
        };
        if let Ok(text) = text.await {
            texts.push(text);
        }
    }
    texts
}

/// `name`'s value in a `/metrics` text (NaN when absent).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// A circle with an owner and `members - 1` members, created on the relay.
async fn make_circle(http: &Http, members: usize) -> CircleSetup {
    let owner = DeviceIdentity::generate();
    let (genesis, mut state) =
        MembershipState::create_circle(&owner, MemberId::random(), Timestamp::now())
            .expect("genesis");
    http.post(
        &owner,
        "/v1/circles",
        json!({ "genesis": B64.encode(genesis.as_bytes()) }),
    )
    .await
    .expect("create circle");
    let id = state.circle().to_string();
    let mut log = vec![genesis];
    let keys = Keyring::from_log(&owner, &state, &log).expect("keys");
    let mut devices = vec![Member { device: owner }];
    for _ in 1..members {
        let device = DeviceIdentity::generate();
        let entry = state
            .add_member(
                &devices[0].device,
                &keys,
                MemberId::random(),
                Capability::Member,
                &device.public(),
                Timestamp::now(),
            )
            .expect("add member");
        http.post(
            &devices[0].device,
            &format!("/v1/circles/{id}/membership"),
            json!({ "entry": B64.encode(entry.as_bytes()) }),
        )
        .await
        .expect("append");
        state.apply_mut(&entry).expect("apply");
        log.push(entry);
        devices.push(Member { device });
    }
    CircleSetup {
        id,
        members: devices,
        state,
        log,
    }
}

/// `count` envelopes for each member, chained.
fn seal_chains(setup: &CircleSetup, count: usize) -> Vec<Vec<Vec<u8>>> {
    setup
        .members
        .iter()
        .map(|member| {
            let keys = Keyring::from_log(&member.device, &setup.state, &setup.log).expect("keys");
            let mut doc = AutoCommit::new().with_actor(member.device.actor_id());
            let mut prev: Option<EnvelopeHash> = None;
            (1..=count as u64)
                .map(|seq| {
                    doc.put(ROOT, "n", seq).expect("put");
                    doc.commit();
                    let change = doc.get_last_local_change().expect("change");
                    let sealed =
                        envelope::seal(&member.device, &setup.state, &keys, seq, prev, &[change])
                            .expect("seal");
                    prev = Some(sealed.hash());
                    sealed.into_bytes()
                })
                .collect()
        })
        .collect()
}
