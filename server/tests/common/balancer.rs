//! nginx in front of several relay processes, configured as docs/relay.md shows
//! ("In front of them"), on a loopback port: what devices reach when a relay runs as
//! more than one process.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::Client;

pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// The `http { … }` part of docs/relay.md's setup, for `upstreams`, listening on `listen`.
fn config(dir: &std::path::Path, listen: SocketAddr, upstreams: &[SocketAddr]) -> String {
    let dir = dir.display();
    // As root, nginx's workers would run as `nobody` and could not use the temp dir.
    let user = if unsafe { libc::geteuid() } == 0 {
        "user root;"
    } else {
        ""
    };
    let servers: String = upstreams
        .iter()
        .map(|a| format!("server {a} max_fails=1 fail_timeout=5s; "))
        .collect();
    format!(
        "{user}
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 8m;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    upstream kring {{ {servers} keepalive 32; }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://kring;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_next_upstream error timeout;
            proxy_read_timeout 90s;
        }}
    }}
}}
"
    )
}

impl Nginx {
    /// nginx (Debian's, `/usr/sbin/nginx`; scripts/postgres-suites.sh installs it)
    /// balancing over `upstreams`; `None` when it is not installed.
    pub async fn start(upstreams: &[SocketAddr]) -> Option<Nginx> {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())?;
        let dir = tempfile::tempdir().expect("tempdir");
        let listen = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config(dir.path(), listen, upstreams)).expect("nginx.conf");
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .spawn()
            .expect("nginx starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(listen).await.is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(Nginx {
            child,
            addr: listen,
            _dir: dir,
        })
    }

    /// A client of the relay as devices reach it: through nginx.
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            base: format!("http://{}", self.addr),
        }
    }
}

impl Drop for Nginx {
    /// SIGTERM (nginx's fast shutdown), which takes its worker along; a SIGKILL of the
    /// master would leave the worker behind.
    fn drop(&mut self) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a pid of our own child and a plain signal.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
}
