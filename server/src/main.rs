//! `kring-server --listen 127.0.0.1:8470 --db ./kring-relay.db` (see `docs/relay.md`),
//! and `kring-server admission keygen|issue|revoke` and `retention sweep` for the
//! operator.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kring_server::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "kring-server", version, about)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Admission credentials for `--admission credential` (see docs/relay.md).
    #[command(subcommand)]
    Admission(AdmissionCommand),
    /// The retention period for inactive circles (`--retention-inactive-months`).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Copies a stopped relay's SQLite database into an empty PostgreSQL database,
    /// everything as stored (cursors, keys, tombstones), in one transaction; then
    /// start the relays with `--db` set to the PostgreSQL URL (docs/relay.md).
    Migrate {
        /// The SQLite file (`sqlite:PATH` or `PATH`).
        #[arg(long)]
        from: String,
        /// The PostgreSQL database (`postgres://USER:PASSWORD@HOST:PORT/DB`).
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// Closes the circles of `--db` that `--retention-inactive-months` says are due,
    /// as the running relay does every `--retention-sweep-secs`, and prints how many.
    /// Run it while the relay is stopped (a running relay sweeps by itself).
    Sweep {
        /// Sweep as if it were this moment (RFC 3339, e.g. 2027-01-01T00:00:00Z):
        /// what a sweep then would close. Default: now.
        #[arg(long)]
        now: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AdmissionCommand {
    /// Makes an operator key: writes its secret to FILE (mode 0600) and prints the
    /// public key to start the relay with (`--operator-key`).
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Issues a credential signed with the operator key and prints it.
    Issue {
        /// The operator key file (from `keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Who receives it, e.g. "Gemeente Utrecht" (kept in the credential).
        #[arg(long)]
        holder: String,
        /// Most circles created with it.
        #[arg(long, default_value_t = 100)]
        max_circles: u64,
        /// Days it is valid.
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Revokes a credential (its text or its id) in the relay's database (`--db`):
    /// circles made with it stay, no new ones can be. Works while the relay runs.
    Revoke { credential: String },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.config;
    if let Some(command) = cli.command {
        let done = match command {
            Command::Admission(command) => admission(command, &config).await,
            Command::Retention(RetentionCommand::Sweep { now }) => sweep(&config, now).await,
            Command::Migrate { from, to } => migrate(&from, &to).await,
        };
        return match done {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kring-server: {e}");
                ExitCode::FAILURE
            }
        };
    }
    init_tracing(&config);
    raise_open_files_limit();
    let db = config.db.to_string();
    let server = match kring_server::bind(config).await {
        Ok(server) => server,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            eprintln!("kring-server: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = match server.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("kring-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Tests and scripts wait for this line.
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, %db, "listening");
    match server.run(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "stopped with an error");
            eprintln!("kring-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn admission(command: AdmissionCommand, config: &Config) -> kring_server::Result<()> {
    use kring_server::admission;
    match command {
        AdmissionCommand::Keygen { out } => {
            let key = admission::generate_key();
            let mut file = {
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                options.open(&out)?
            };
            writeln!(file, "{}", hex::encode(key.to_bytes()))?;
            println!("{}", hex::encode(key.verifying_key().to_bytes()));
            eprintln!(
                "operator key written to {}; start the relay with --admission credential --operator-key <the line above>",
                out.display()
            );
            Ok(())
        }
        AdmissionCommand::Issue {
            key,
            holder,
            max_circles,
            days,
        } => {
            let key = admission::read_key(&std::fs::read_to_string(&key)?)?;
            let expires = kring_trust::Timestamp::now().plus_days(days.into());
            println!("{}", admission::issue(&key, &holder, max_circles, expires));
            Ok(())
        }
        AdmissionCommand::Revoke { credential } => {
            let id = admission::credential_id(&credential)?;
            let store = kring_server::open_store(config, None).await?;
            let newly = store.revoke_admission(id.clone()).await;
            store.close().await?;
            if newly? {
                println!("revoked {id}");
            } else {
                println!("{id} was already revoked");
            }
            Ok(())
        }
    }
}

async fn sweep(config: &Config, now: Option<String>) -> kring_server::Result<()> {
    let retention = kring_server::retention::Retention::from_config(config).ok_or(
        kring_trust::Error::InvalidValue {
            field: "--retention-inactive-months",
            value: String::new(),
            expected: "a number of months (retention is off without it)".into(),
        },
    )?;
    let now = match now {
        None => kring_trust::Timestamp::now(),
        Some(text) => chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|t| kring_trust::Timestamp(t.timestamp_millis()))
            .map_err(|_| kring_trust::Error::InvalidValue {
                field: "--now",
                value: text,
                expected: "an RFC 3339 time such as 2027-01-01T00:00:00Z".into(),
            })?,
    };
    let store = kring_server::open_store(config, None).await?;
    let swept = kring_server::sweep(store.as_ref(), retention, now, |_| {}).await;
    store.close().await?;
    println!("closed {} inactive circle(s)", swept?);
    Ok(())
}

async fn migrate(from: &str, to: &str) -> kring_server::Result<()> {
    use kring_server::config::Database;
    let invalid = |field: &'static str, value: &str, expected: &str| {
        kring_server::Error::from(kring_trust::Error::InvalidValue {
            field,
            value: value.to_owned(),
            expected: expected.to_owned(),
        })
    };
    let Ok(Database::Sqlite(source)) = Database::parse(from) else {
        return Err(invalid("--from", from, "a SQLite file (sqlite:PATH)"));
    };
    let Ok(Database::Postgres(target)) = Database::parse(to) else {
        return Err(invalid("--to", to, "a postgres:// URL"));
    };
    let mut shown = String::new();
    let copied =
        kring_server::store::migrate::sqlite_to_postgres(&source, &target, |table, done, total| {
            // One line per table, rewritten as it goes.
            if shown != table {
                if !shown.is_empty() {
                    eprintln!();
                }
                shown = table.to_owned();
            }
            eprint!("\r{table}: {done} of {total} rows");
        })
        .await?;
    if !shown.is_empty() {
        eprintln!();
    }
    let rows: u64 = copied.0.iter().map(|(_, n)| n).sum();
    println!(
        "copied {rows} rows ({}) from {} to {}; start the relays with --db set to it",
        copied
            .0
            .iter()
            .map(|(table, n)| format!("{table} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        source.display(),
        kring_server::store::postgres::redacted(&target)
    );
    Ok(())
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Every live WebSocket is an open file: lift the soft limit to the hard one.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                tracing::info!(
                    from = limit.rlim_cur,
                    to = limit.rlim_max,
                    "raised the open files limit"
                );
            }
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => tracing::info!("interrupted"),
                    _ = term.recv() => tracing::info!("SIGTERM"),
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
