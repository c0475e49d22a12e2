//! The commands that involve this device's identity or the relay: identity, relay,
//! invite, join, sync, watch, status. Everything they do is in `kring_core::device`;
//! this file parses, calls and prints.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kring_core::device::WatchEvent;
use kring_core::membership::Capability;
use kring_core::plan::{CircleId, Relation};
use kring_core::sync::engine::{Connectivity, SyncStatus};
use serde::Serialize;

use crate::args::RelayCmd;
use crate::commands::{output, parse};
use crate::context::Context;
use crate::dates;
use crate::error::{CliError, CliResult};

#[derive(Serialize)]
struct Identity {
    device: String,
    exchange_key: String,
    data_dir: String,
}

pub fn identity(ctx: &Context) -> CliResult {
    let public = ctx.device.public();
    let identity = Identity {
        device: public.id.to_string(),
        exchange_key: public.exchange_key.to_string(),
        data_dir: ctx.data_dir.display().to_string(),
    };
    output(ctx, &identity, || {
        format!(
            "Device {}\nData directory {}\n",
            identity.device, identity.data_dir
        )
    })
}

pub fn relay(ctx: &mut Context, cmd: RelayCmd) -> CliResult {
    let circle = ctx.current()?.id;
    match cmd {
        RelayCmd::Set { url } => {
            ctx.device.set_relay(&circle, &url)?;
            let status = ctx.device.status(&circle)?;
            say!(
                "Relay set to {}. `kring sync` puts the circle there.",
                status.relay_url.unwrap_or_default()
            );
            Ok(())
        }
        RelayCmd::Show => {
            let status = ctx.device.status(&circle)?;
            output(ctx, &status.relay_url, || match &status.relay_url {
                Some(url) => format!("{url}\n"),
                None => "No relay set: `kring relay set URL`.\n".into(),
            })
        }
    }
}

#[derive(Serialize)]
struct Invite {
    link: String,
    capability: Capability,
    expires_at: kring_core::Timestamp,
}

pub fn invite(ctx: &mut Context, capability: &str, days: u32, qr: bool) -> CliResult {
    let circle = ctx.current()?.id;
    let capability = Capability::parse(capability)?;
    let expires_at = ctx.now.plus_days(i64::from(days));
    let link = ctx
        .device
        .invite(&circle, capability, expires_at, ctx.now)?;
    // The invitee reads the circle from the relay, so make sure it is there.
    if let Err(e) = ctx.device.sync(&circle, ctx.now) {
        warn_user!("kring: note: could not sync ({e}); run `kring sync` before the link is used");
    }
    let invite = Invite {
        link,
        capability,
        expires_at,
    };
    output(ctx, &invite, || format!("{}\n", invite.link))?;
    if qr && !ctx.json {
        crate::devices::qr(&invite.link)?;
    }
    if !ctx.json {
        warn_user!(
            "Share this link privately: it lets one person join as {} until {}.",
            invite.capability,
            dates::format(invite.expires_at)
        );
    }
    Ok(())
}

pub fn join(ctx: &mut Context, link: &str, name: &str, relation: &str) -> CliResult {
    let relation: Relation = parse(relation)?;
    let circle = ctx.device.join(link, name, relation, ctx.now)?;
    ctx.set_current(&circle)?;
    if ctx.device.pending_joins()?.contains(&circle) {
        let why = ctx
            .device
            .status(&circle)?
            .last_error
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        say!(
            "You are in circle {}. Its plan is not here yet{why}; `kring sync` fetches it.",
            circle.short()
        );
    } else {
        let view = ctx.device.view(&circle)?;
        say!("You joined {} as {}.", view.circle.name, name.trim());
    }
    Ok(())
}

#[derive(Serialize)]
struct SyncRow {
    circle: CircleId,
    name: String,
    #[serde(flatten)]
    report: kring_core::device::SyncReport,
}

fn circle_name(ctx: &Context, circle: &CircleId) -> String {
    ctx.device
        .view(circle)
        .map(|v| v.circle.name)
        .unwrap_or_else(|_| format!("circle {}", circle.short()))
}

pub fn sync(ctx: &mut Context) -> CliResult {
    let circles = ctx.syncable()?;
    if circles.is_empty() {
        return Err(CliError::Usage(
            "no circle with a relay on this device: `kring relay set URL` first".into(),
        ));
    }
    let mut rows = Vec::new();
    let mut failure = None;
    for circle in circles {
        match ctx.device.sync(&circle, ctx.now) {
            Ok(report) => rows.push(SyncRow {
                name: circle_name(ctx, &circle),
                circle,
                report,
            }),
            Err(e) => {
                warn_user!("kring: {}: {e}", circle_name(ctx, &circle));
                failure.get_or_insert(e);
            }
        }
    }
    output(ctx, &rows, || {
        rows.iter()
            .map(|r| {
                let mut line = format!(
                    "{}: sent {}, received {} change(s)",
                    r.name, r.report.pushed, r.report.applied_changes
                );
                if r.report.joined {
                    line.push_str("; the plan arrived");
                }
                if r.report.membership_entries > 0 {
                    line.push_str(&format!(
                        "; {} membership update(s)",
                        r.report.membership_entries
                    ));
                }
                if r.report.rejected > 0 {
                    line.push_str(&format!("; {} refused", r.report.rejected));
                }
                if r.report.waiting > 0 {
                    line.push_str(&format!("; {} waiting", r.report.waiting));
                }
                line + "\n"
            })
            .collect()
    })?;
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

pub fn watch(ctx: &mut Context, seconds: Option<u64>) -> CliResult {
    let circles = ctx.syncable()?;
    if circles.is_empty() {
        return Err(CliError::Usage(
            "no circle with a relay on this device: `kring relay set URL` first".into(),
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    if let Some(seconds) = seconds {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(seconds));
            stop.store(true, Ordering::Relaxed);
        });
    }
    let names: Vec<(CircleId, String)> = circles
        .iter()
        .map(|c| (c.clone(), circle_name(ctx, c)))
        .collect();
    let name = |c: &CircleId| {
        names
            .iter()
            .find(|(id, _)| id == c)
            .map_or_else(|| c.short().to_owned(), |(_, n)| n.clone())
    };
    let mut on_event = |event: WatchEvent| {
        match event {
            WatchEvent::Connected { relay } => say!(
                "Connected to {relay}; watching {} circle(s). Ctrl-C to stop.",
                circles.len()
            ),
            WatchEvent::Synced { circle, report } if !report.is_empty() => say!(
                "{}: sent {}, received {} change(s)",
                name(&circle),
                report.pushed,
                report.applied_changes
            ),
            WatchEvent::Synced { .. } | WatchEvent::Syncing { .. } => {}
            WatchEvent::SyncFailed { circle, error } => {
                warn_user!("kring: {}: {error}", name(&circle))
            }
            WatchEvent::Disconnected { error, retry_in } => warn_user!(
                "kring: offline ({error}); trying again in {} s",
                retry_in.as_secs().max(1)
            ),
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    };
    ctx.device.watch(&circles, &stop, &mut on_event)?;
    Ok(())
}

#[derive(Serialize)]
struct StatusRow {
    name: String,
    #[serde(flatten)]
    status: SyncStatus,
}

pub fn status(ctx: &mut Context) -> CliResult {
    let circles: Vec<CircleId> = match ctx.current() {
        Ok(current) if ctx.has_circle_arg() => vec![current.id],
        _ => {
            let mut all: Vec<CircleId> = ctx.device.circles()?.into_iter().map(|c| c.id).collect();
            all.extend(ctx.device.pending_joins()?);
            all
        }
    };
    let mut rows = Vec::new();
    for circle in circles {
        rows.push(StatusRow {
            name: circle_name(ctx, &circle),
            status: ctx.device.status(&circle)?,
        });
    }
    output(ctx, &rows, || {
        if rows.is_empty() {
            return "No circles yet.\n".into();
        }
        rows.iter().map(describe).collect()
    })
}

fn describe(row: &StatusRow) -> String {
    let s = &row.status;
    let state = match s.connectivity {
        Connectivity::LocalOnly => "local only (from a file; does not sync)",
        Connectivity::NoRelay => "no relay set",
        Connectivity::NotSynced => "not synced yet",
        Connectivity::Online => "online",
        Connectivity::Offline => "offline",
        Connectivity::Error => "sync failed",
        Connectivity::Removed => "removed from this circle",
    };
    let mut out = format!("{} ({})\n  {state}", row.name, s.circle.short());
    if let Some(at) = s.last_synced_at {
        out.push_str(&format!(", last synced {}", dates::format(at)));
    }
    out.push('\n');
    if let Some(url) = &s.relay_url {
        out.push_str(&format!("  relay {url}\n"));
    }
    out.push_str(&format!("  {} change(s) waiting to be sent", s.pending));
    if s.waiting > 0 {
        out.push_str(&format!(
            ", {} received change(s) waiting for others",
            s.waiting
        ));
    }
    out.push('\n');
    if let (Some(error), Connectivity::Offline | Connectivity::Error) =
        (&s.last_error, s.connectivity)
    {
        out.push_str(&format!("  last error: {error}\n"));
    }
    out
}
