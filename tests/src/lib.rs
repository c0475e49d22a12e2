//! Helpers for the end-to-end tests: the real `kring-server` and `kring` binaries,
//! built through the workspace, and a relay process that can be killed with SIGKILL
//! and started again on the same database and address; and the relay in-process
//! behind the client's transport seam ([`in_process`]) for fast session tests; a
//! [`phone::Phone`] to drive a device with.

pub mod browser;
pub mod in_process;
pub mod phone;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A workspace binary, built (or found up to date) with the same cargo and target
/// directory as the test run: `cargo build --bin NAME` reports the executable's path,
/// which works under any `CARGO_TARGET_DIR`.
pub fn workspace_binary(package: &str, bin: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<(String, PathBuf)>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, path)) = built.iter().find(|(name, _)| name == bin) {
        return path.clone();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    // The caller's own profile: a benchmark (release) measures a release relay.
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    };
    let output = Command::new(cargo)
        .args([
            "build",
            "--profile",
            profile,
            "--quiet",
            "--message-format=json",
            "-p",
            package,
            "--bin",
            bin,
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(output.status.success(), "cargo build -p {package} failed");
    let path = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == bin)
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo did not report the {bin} executable"));
    built.push((bin.to_owned(), path.clone()));
    path
}

/// The PostgreSQL server the end-to-end tests also run on (`scripts/with-postgres.sh`
/// sets it), if any.
pub fn postgres() -> Option<String> {
    std::env::var("KRING_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The real relay as a child process, on a SQLite file or, when [`postgres`] is set, on
/// a fresh PostgreSQL database of its own.
pub struct RelayProcess {
    child: Option<Child>,
    db: PathBuf,
    /// `--db`: the file, or the PostgreSQL database's URL.
    database: String,
    addr: String,
    /// Flags on top of `--listen` and `--db`.
    args: Vec<String>,
}

impl RelayProcess {
    /// Starts `kring-server` on a free loopback port with its database at `db`.
    pub fn start(db: &Path) -> Self {
        Self::start_with(db, &[])
    }

    /// Like [`RelayProcess::start`], with more flags (e.g. `--push-allow-http`).
    pub fn start_with(db: &Path, args: &[&str]) -> Self {
        let database = match postgres() {
            Some(admin) => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(kring_server::store::postgres::fresh_database(
                    &admin,
                    "relay_e2e",
                ))
                .expect("a fresh PostgreSQL database"),
            None => db.display().to_string(),
        };
        let mut relay = Self {
            child: None,
            db: db.to_path_buf(),
            database,
            addr: "127.0.0.1:0".into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        };
        relay.spawn();
        relay
    }

    fn spawn(&mut self) {
        let bin = workspace_binary("kring-server", "kring-server");
        // The port is free again at once after a kill (listeners reuse the address),
        // but give a restarted relay a few tries anyway.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut child = Command::new(&bin)
                .args(["--listen", &self.addr])
                .arg("--db")
                .arg(&self.database)
                .args(&self.args)
                .env("KRING_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start kring-server");
            let stdout = child.stdout.take().expect("stdout");
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
            if let Some(addr) = first.strip_prefix("listening on ") {
                self.addr = addr.trim().to_owned();
                // Keep draining stdout so the relay never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
                self.child = Some(child);
                return;
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "kring-server did not start: {first:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn db(&self) -> &Path {
        &self.db
    }

    /// SIGKILL: no graceful shutdown, no flush beyond what was committed.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the relay again on the same database and address.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// The raw bytes of the relay's database and its write-ahead log; on PostgreSQL,
    /// a `pg_dump` of its database with every `bytea` value decoded to its bytes.
    pub fn database_bytes(&self) -> Vec<u8> {
        if self.database.starts_with("postgres") {
            return postgres_bytes(&self.database);
        }
        let mut bytes = Vec::new();
        for suffix in ["", "-wal"] {
            if let Ok(b) = std::fs::read(format!("{}{suffix}", self.db.display())) {
                bytes.extend(b);
            }
        }
        bytes
    }
}

/// Everything stored in the PostgreSQL database at `url`: the dump's text, then each
/// hex-encoded `bytea` value (`\\x…`) decoded, so a test can look for text inside
/// stored blobs as it does in a SQLite file.
fn postgres_bytes(url: &str) -> Vec<u8> {
    let pg_dump = std::env::var("KRING_TEST_PG_BIN")
        .map(|bin| PathBuf::from(bin).join("pg_dump"))
        .unwrap_or_else(|_| PathBuf::from("pg_dump"));
    let dump = Command::new(pg_dump)
        .args(["--data-only", "--no-owner", "--dbname", url])
        .output()
        .expect("run pg_dump");
    assert!(
        dump.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let text = dump.stdout;
    let mut bytes = text.clone();
    let mut i = 0;
    while i + 2 < text.len() {
        if text[i] == b'\\' && text[i + 1] == b'x' {
            let hex: Vec<u8> = text[i + 2..]
                .iter()
                .copied()
                .take_while(u8::is_ascii_hexdigit)
                .collect();
            for pair in hex.chunks_exact(2) {
                let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                bytes.push((digit(pair[0]) << 4) | digit(pair[1]));
            }
            i += 2 + hex.len();
        } else {
            i += 1;
        }
    }
    bytes
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The real `kring` binary on the data directory `dir`, with the real clock and no
/// circle chosen from the environment.
pub fn kring(dir: &Path) -> Command {
    let mut cmd = Command::new(workspace_binary("kring-cli", "kring"));
    // Before a circle decides, kring speaks the system's language: the tests' English.
    cmd.env("KRING_DATA_DIR", dir)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("KRING_NOW")
        .env_remove("KRING_CIRCLE");
    cmd
}

/// Runs `kring ARGS` on `dir` and insists it succeeds.
#[track_caller]
pub fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = kring(dir).args(args).output().expect("run kring");
    assert!(
        out.status.success(),
        "kring {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What `kring ARGS` printed, trimmed.
#[track_caller]
pub fn stdout(dir: &Path, args: &[&str]) -> String {
    String::from_utf8_lossy(&run(dir, args).stdout)
        .trim()
        .to_owned()
}

/// `kring ARGS --json`, parsed.
#[track_caller]
pub fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_slice(&run(dir, &args).stdout).expect("JSON")
}

/// Exit code and standard error of a command that is expected to fail.
#[track_caller]
pub fn refused(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = kring(dir).args(args).output().expect("run kring");
    assert!(!out.status.success(), "kring {args:?} should have failed");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kring circle create --name "Kring van Sanne" --me Sanne` on `dir`, with `extra`
/// flags (a relay, a time zone), as the main person's device.
#[track_caller]
pub fn create_sannes_circle(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "circle",
        "create",
        "--name",
        "Kring van Sanne",
        "--me",
        "Sanne",
    ];
    args.extend_from_slice(extra);
    run(dir, &args);
}
