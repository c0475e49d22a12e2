//! The real relay in this process, behind the sync client's transport seam: fast tests
//! of the sync session (register, push, realign, pull, join, removal, retry) that run
//! every rule of `kring-server` — its router, its SQLite store on a real file — with
//! no port and no process, and that can make the network misbehave on purpose.
//!
//! A device is pointed at it with [`Device::set_transport`](kring_client::device::Device::set_transport);
//! circles then use [`InProcessRelay::URL`] as their relay.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kring_client::sync::transport::{Exchange, Request, Response, Transport};
use kring_trust::Error as TrustError;

/// What happens to one exchange, in the order they are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request never reaches the relay (no connection).
    Unreachable,
    /// The relay handles the request, but its answer is lost on the way back (a
    /// phone that went into a tunnel): the client cannot know it was done.
    AnswerLost,
    /// The answer arrives with one byte of its body changed (a relay, or anything
    /// between, that alters what it serves).
    Tampered,
}

/// One exchange as the relay saw it (or did not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The relay's status; `None` when the request never reached it.
    pub status: Option<u16>,
    /// The client got the answer.
    pub answered: bool,
}

/// Which exchanges a fault applies to.
type Matcher = Box<dyn Fn(&Request) -> bool + Send>;

/// The relay's database copied while it was stopped (a backup an operator restores).
pub struct Backup {
    _dir: tempfile::TempDir,
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
}

/// `kring-server` in-process, on its own runtime, over a SQLite file in a temporary
/// directory.
pub struct InProcessRelay {
    runtime: tokio::runtime::Runtime,
    relay: Mutex<Option<Arc<kring_server::InProcessRelay>>>,
    db: PathBuf,
    _dir: tempfile::TempDir,
    faults: Mutex<VecDeque<(Matcher, Fault)>>,
    seen: Mutex<Vec<Seen>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InProcessRelay {
    /// The relay URL circles name (never dialled: the transport carries the request).
    pub const URL: &'static str = "http://relay.in-process.kring.test";

    pub fn start() -> Arc<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let db = dir.path().join("relay.db");
        let relay = Self {
            runtime,
            relay: Mutex::new(None),
            db,
            _dir: dir,
            faults: Mutex::new(VecDeque::new()),
            seen: Mutex::new(Vec::new()),
        };
        relay.open();
        Arc::new(relay)
    }

    fn open(&self) {
        let config = kring_server::Config::local(&self.db);
        let opened = self
            .runtime
            .block_on(kring_server::InProcessRelay::open(config))
            .expect("relay opens");
        *lock(&self.relay) = Some(Arc::new(opened));
    }

    fn close(&self) {
        if let Some(relay) = lock(&self.relay).take() {
            self.runtime.block_on(relay.close()).expect("relay closes");
        }
    }

    /// Stops the relay and starts it again on the same database (what a restart or a
    /// crash-and-restart of the relay process looks like to clients).
    pub fn restart(&self) {
        self.close();
        self.open();
    }

    fn files(&self) -> Vec<PathBuf> {
        ["", "-wal", "-shm"]
            .iter()
            .map(|suffix| PathBuf::from(format!("{}{suffix}", self.db.display())))
            .collect()
    }

    /// A copy of the database as it is now (the relay is restarted to take it).
    pub fn backup(&self) -> Backup {
        self.close();
        let dir = tempfile::tempdir().expect("tempdir");
        let files = self
            .files()
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).ok();
                (path, bytes)
            })
            .collect();
        self.open();
        Backup { _dir: dir, files }
    }

    /// Puts `backup` back and restarts: everything stored since is gone from the
    /// relay (but not from the devices).
    pub fn restore(&self, backup: &Backup) {
        self.close();
        for (path, bytes) in &backup.files {
            match bytes {
                Some(bytes) => std::fs::write(path, bytes).expect("restore"),
                None => drop(std::fs::remove_file(path)),
            }
        }
        self.open();
    }

    /// The next exchange matching `which` meets `fault` (faults apply in the order
    /// they were added, each once).
    pub fn fault_next(&self, which: impl Fn(&Request) -> bool + Send + 'static, fault: Fault) {
        lock(&self.faults).push_back((Box::new(which), fault));
    }

    /// Every exchange so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }

    /// Exchanges so far to `method` on a path ending in `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        lock(&self.seen)
            .iter()
            .filter(|s| s.method == method && s.path.ends_with(suffix))
            .count()
    }

    pub fn db(&self) -> &Path {
        &self.db
    }

    fn fault_for(&self, request: &Request) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let position = faults.iter().position(|(which, _)| which(request))?;
        faults.remove(position).map(|(_, fault)| fault)
    }
}

impl Drop for InProcessRelay {
    fn drop(&mut self) {
        self.close();
    }
}

/// `POST` to a path ending in `suffix` (e.g. `/envelopes`, `/membership`).
pub fn post_to(suffix: &'static str) -> impl Fn(&Request) -> bool + Send + 'static {
    move |r: &Request| r.method() == http::Method::POST && r.uri().path().ends_with(suffix)
}

/// `GET` of a path ending in `suffix`.
pub fn get_of(suffix: &'static str) -> impl Fn(&Request) -> bool + Send + 'static {
    move |r: &Request| r.method() == http::Method::GET && r.uri().path().ends_with(suffix)
}

/// `response` with the middle byte of its body flipped.
fn tamper(response: Response) -> Response {
    let (parts, mut body) = response.into_parts();
    let middle = body.len() / 2;
    if let Some(byte) = body.get_mut(middle) {
        *byte ^= 0x01;
    }
    Response::from_parts(parts, body)
}

impl Transport for InProcessRelay {
    fn send(&self, request: Request) -> Exchange<'_> {
        let fault = self.fault_for(&request);
        let mut seen = Seen {
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            status: None,
            answered: false,
        };
        let relay = lock(&self.relay).clone();
        // The relay's own runtime serves it, as its process would; the device's
        // runtime only waits for the answer.
        let handled = match (fault, relay) {
            (Some(Fault::Unreachable), _) | (_, None) => None,
            (_, Some(relay)) => Some(
                self.runtime
                    .spawn(async move { relay.handle(request).await }),
            ),
        };
        Box::pin(async move {
            let answer = match handled {
                Some(task) => Some(task.await.map_err(|e| TrustError::Network(e.to_string()))?),
                None => None,
            };
            seen.status = answer.as_ref().map(|a: &Response| a.status().as_u16());
            let delivered = match fault {
                Some(Fault::Tampered) => answer.map(tamper),
                Some(_) => None,
                None => answer,
            };
            seen.answered = delivered.is_some();
            lock(&self.seen).push(seen);
            delivered.ok_or_else(|| {
                TrustError::Network(format!("in-process relay: {fault:?} (test fault)")).into()
            })
        })
    }
}
