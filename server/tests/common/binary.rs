//! The real `kring-server` binary as a child process, for tests that need a process of
//! its own (memory, open-files limit, flags as an operator gives them).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::{Child, Command};

use super::Client;

pub struct RelayProcess {
    pub child: Child,
    pub addr: SocketAddr,
    pub database: kring_server::config::Database,
    pub dir: tempfile::TempDir,
}

impl RelayProcess {
    /// The real binary with `args` on top of `--listen 127.0.0.1:0`; `nofile` sets its
    /// open-files limit (soft and hard) before it starts.
    pub async fn start(args: &[&str], nofile: Option<u64>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = super::database(dir.path()).await;
        Self::start_on(database, dir, args, nofile).await
    }

    /// Like [`RelayProcess::start`], on a given database (another process's, when
    /// several relay processes share one PostgreSQL database).
    pub async fn start_on(
        database: kring_server::config::Database,
        dir: tempfile::TempDir,
        args: &[&str],
        nofile: Option<u64>,
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kring-server"));
        command
            .args(["--listen", "127.0.0.1:0", "--db"])
            .arg(database.as_flag())
            .args(args)
            .env(
                "KRING_LOG",
                std::env::var("KRING_TEST_RELAY_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(limit) = nofile {
            // SAFETY: only setrlimit (async-signal-safe) runs between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: limit as libc::rlim_t,
                        rlim_max: limit as libc::rlim_t,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = command.spawn().expect("kring-server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("listening within 30 s")
            .expect("stdout")
            .expect("a line");
        let addr = line
            .strip_prefix("listening on ")
            .expect("listening line")
            .parse()
            .expect("address");
        RelayProcess {
            child,
            addr,
            database,
            dir,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client connecting from 127.0.0.1 (the honest side).
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            base: self.base(),
        }
    }

    /// A client connecting from another loopback address.
    pub fn client_from(&self, ip: Ipv4Addr) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .local_address(IpAddr::V4(ip))
                .build()
                .expect("client"),
            base: self.base(),
        }
    }

    /// A raw TCP connection from `ip`.
    pub async fn raw_from(&self, ip: Ipv4Addr) -> std::io::Result<TcpStream> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(IpAddr::V4(ip), 0))?;
        socket.connect(self.addr).await
    }

    /// Resident memory of the relay in KiB, and its peak (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self) -> (u64, u64) {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    pub async fn metric(&self, name: &str) -> f64 {
        super::metric_at(&self.client().http, &self.base(), name).await
    }
}
