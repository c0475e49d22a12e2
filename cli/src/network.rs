//! The commands that involve this device's identity or the relay: identity, relay,
//! invite, join, sync, watch, status. Everything they do is in `kring_client::device`;
//! this file parses, calls and prints.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kring_client::device::WatchEvent;
use kring_client::sync::engine::{Connectivity, SyncStatus};
use kring_plan::plan::{CircleId, Relation};
use kring_trust::membership::Capability;
use serde::Serialize;

use crate::args::{PushCmd, RelayCmd};
use crate::commands::{output, parse};
use crate::context::Context;
use crate::dates;
use crate::error::{CliError, CliResult};
use crate::i18n::word;

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
        t!(
            "identity",
            device = &identity.device,
            dir = &identity.data_dir
        ) + "\n"
    })
}

pub fn relay(ctx: &mut Context, cmd: RelayCmd) -> CliResult {
    let circle = ctx.current()?.id;
    match cmd {
        RelayCmd::Set { url } => {
            ctx.device.set_relay(&circle, &url)?;
            let status = ctx.device.status(&circle)?;
            say!(
                "{}",
                t!("relay-set", url = status.relay_url.unwrap_or_default())
            );
            Ok(())
        }
        RelayCmd::Show => {
            let status = ctx.device.status(&circle)?;
            output(ctx, &status.relay_url, || match &status.relay_url {
                Some(url) => format!("{url}\n"),
                None => t!("relay-none") + "\n",
            })
        }
    }
}

pub fn push(ctx: &mut Context, cmd: PushCmd) -> CliResult {
    let circle = ctx.current()?.id;
    match cmd {
        PushCmd::Register {
            endpoint,
            p256dh,
            auth,
        } => {
            let subscription = kring_trust::protocol::PushSubscription {
                endpoint,
                p256dh,
                auth,
            };
            ctx.device.register_push(&circle, &subscription)?;
            say!("{}", t!("push-registered"));
            Ok(())
        }
        PushCmd::Unregister => {
            ctx.device.unregister_push(&circle)?;
            say!("{}", t!("push-unregistered"));
            Ok(())
        }
        PushCmd::Key => {
            let key = ctx.device.push_key(&circle)?;
            output(ctx, &key, || format!("{}\n", key.public_key))
        }
    }
}

#[derive(Serialize)]
struct Invite {
    link: String,
    capability: Capability,
    expires_at: kring_trust::Timestamp,
}

pub fn invite(
    ctx: &mut Context,
    capability: &str,
    days: u32,
    qr: bool,
    for_person: Option<&str>,
) -> CliResult {
    let circle = ctx.current()?.id;
    let capability = Capability::parse(capability)?;
    let expires_at = ctx.now.plus_days(i64::from(days));
    let waiting = people_without_a_device(ctx, &circle)?;
    let link = match for_person {
        Some(name) => {
            let view = ctx.device.view(&circle)?;
            let member = crate::context::member(&view, name)?;
            if !waiting.iter().any(|(id, _)| id == &member) {
                return Err(CliError::Usage(t!(
                    "error-invite-for-joined",
                    name = name.trim()
                )));
            }
            ctx.device
                .invite_for(&circle, &member, capability, expires_at, ctx.now)?
        }
        None => {
            if !waiting.is_empty() && !ctx.json {
                let names: Vec<&str> = waiting.iter().map(|(_, name)| name.as_str()).collect();
                warn_user!(
                    "{}",
                    t!(
                        "invite-for-hint",
                        names = names.join(", "),
                        first = names[0]
                    )
                );
            }
            ctx.device
                .invite(&circle, capability, expires_at, ctx.now)?
        }
    };
    // The invitee reads the circle from the relay, so make sure it is there.
    if let Err(e) = ctx.device.sync(&circle, ctx.now) {
        warn_user!(
            "kring: {}",
            t!("note-invite-not-synced", error = crate::core_text::say(&e))
        );
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
            "{}",
            t!(
                "invite-share",
                role = word("capability", invite.capability.as_str()),
                date = dates::format(invite.expires_at)
            )
        );
    }
    Ok(())
}

/// `kring invite list` and `kring invite revoke ID`.
pub fn manage_invites(ctx: &mut Context, cmd: crate::args::InviteCmd) -> CliResult {
    let circle = ctx.current()?.id;
    let invites = ctx.device.invites(&circle, ctx.now)?;
    match cmd {
        crate::args::InviteCmd::List => {
            let people = ctx.device.people(&circle)?;
            let name = |id: &kring_plan::plan::MemberId| {
                people
                    .iter()
                    .find(|p| &p.id == id)
                    .and_then(|p| p.name.clone())
                    .unwrap_or_else(|| t!("name-none"))
            };
            output(ctx, &invites, || crate::render::invites(&invites, name))
        }
        crate::args::InviteCmd::Revoke { id } => {
            let ids: Vec<(String, kring_trust::invite::InviteId)> =
                invites.iter().map(|i| (i.id.to_string(), i.id)).collect();
            let found = *crate::context::unique_prefix(
                ids.iter().map(|(hex, id)| (hex.as_str(), id)),
                &id,
                "invite",
            )?;
            ctx.device.revoke_invite(&circle, found, ctx.now)?;
            say!("{}", t!("invite-revoked", id = found.short()));
            Ok(())
        }
    }
}

/// People the plan has by name (added with `member add`) who are not in the
/// membership log yet: an invite can be made for each of them.
fn people_without_a_device(
    ctx: &Context,
    circle: &CircleId,
) -> CliResult<Vec<(kring_plan::plan::MemberId, String)>> {
    let view = ctx.device.view(circle)?;
    let Some(trust) = ctx.device.trust(circle)? else {
        return Ok(Vec::new());
    };
    Ok(view
        .members
        .iter()
        .filter(|m| m.removed_at.is_none() && m.relation != Relation::MainPerson)
        .filter(|m| trust.state().member(&m.id).is_none())
        .map(|m| (m.id.clone(), m.display_name.clone()))
        .collect())
}

pub fn join(ctx: &mut Context, link: &str, name: Option<&str>, relation: &str) -> CliResult {
    let relation: Relation = parse(relation)?;
    let circle = match ctx.device.join(link, name.unwrap_or(""), relation, ctx.now) {
        Err(kring_client::Error::Plan(kring_plan::Error::EmptyText { .. })) if name.is_none() => {
            return Err(CliError::Usage(t!("error-join-name")))
        }
        joined => joined?,
    };
    ctx.set_current(&circle)?;
    if ctx.device.pending_joins()?.contains(&circle) {
        let why = ctx
            .device
            .status(&circle)?
            .last_error
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        say!(
            "{}",
            t!("joined-pending", circle = circle.short(), why = why)
        );
    } else {
        let view = ctx.device.view(&circle)?;
        // A device new to circles speaks the language of the one it just joined.
        crate::i18n::use_language(view.circle.language);
        let me = ctx.device.me(&circle)?;
        let name = view
            .member(&me)
            .map(|m| m.display_name.clone())
            .unwrap_or_else(|| name.unwrap_or_default().trim().to_owned());
        say!("{}", t!("joined", circle = &view.circle.name, name = name));
    }
    Ok(())
}

#[derive(Serialize)]
struct SyncRow {
    circle: CircleId,
    name: String,
    #[serde(flatten)]
    report: kring_client::device::SyncReport,
}

use crate::erasure::circle_name;

pub fn sync(ctx: &mut Context) -> CliResult {
    let circles = ctx.syncable()?;
    if circles.is_empty() {
        return Err(CliError::Usage(t!("error-no-relay-circle")));
    }
    let mut rows = Vec::new();
    let mut failure = None;
    for circle in circles {
        // Named before the sync: a removal erases the plan, name included.
        let name = circle_name(ctx, &circle);
        match ctx.device.sync(&circle, ctx.now) {
            Ok(report) => {
                if let Some(warning) = crate::erasure::closing_warning(ctx, &circle)? {
                    warn_user!("{warning}");
                }
                rows.push(SyncRow {
                    name,
                    circle,
                    report,
                })
            }
            Err(e) => {
                match crate::erasure::ending(&e, &circle, &name) {
                    Some(told) => warn_user!("{told}"),
                    None => warn_user!("kring: {name}: {}", failed_sync(ctx, &circle, &e)),
                }
                failure.get_or_insert(e);
            }
        }
    }
    output(ctx, &rows, || {
        rows.iter()
            .map(|r| {
                let mut line = t!(
                    "synced",
                    circle = &r.name,
                    sent = r.report.pushed,
                    received = r.report.applied_changes
                );
                if r.report.joined {
                    line.push_str(&t!("synced-plan-arrived"));
                    if r.report.started_from_snapshot.is_some() {
                        line.push_str(&t!("synced-from-snapshot", after = r.report.pulled));
                    }
                }
                if r.report.membership_entries > 0 {
                    line.push_str(&t!(
                        "synced-membership",
                        count = r.report.membership_entries
                    ));
                }
                if r.report.rejected > 0 {
                    line.push_str(&t!("synced-refused", count = r.report.rejected));
                }
                if r.report.waiting > 0 {
                    line.push_str(&t!("synced-waiting", count = r.report.waiting));
                }
                line.push('\n');
                for told in &r.report.standing {
                    line.push_str(&format!("  {}\n", crate::terminal::safe(&told.text)));
                }
                line
            })
            .collect()
    })?;
    // Each failure was told with its circle's name: only the exit code is left.
    match failure {
        Some(e) => Err(CliError::Told(Box::new(e.into()))),
        None => Ok(()),
    }
}

/// Why a circle did not sync, once: and when the relay was out of reach, whether
/// anything waits on this device (then it is safe and goes with the next sync) —
/// never "your change is kept" when nothing was changed.
fn failed_sync(ctx: &Context, circle: &CircleId, e: &kring_client::Error) -> String {
    let mut said = crate::core_text::say(e);
    let waiting = ctx.device.status(circle).map_or(0, |s| s.pending);
    if e.kind() == kring_trust::ErrorKind::Unreachable && waiting > 0 {
        said.push(' ');
        said.push_str(&t!("core-network-kept"));
    }
    said
}

pub fn watch(ctx: &mut Context, seconds: Option<u64>) -> CliResult {
    let circles = ctx.syncable()?;
    if circles.is_empty() {
        return Err(CliError::Usage(t!("error-no-relay-circle")));
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
                "{}",
                t!("watch-connected", relay = relay, circles = circles.len())
            ),
            WatchEvent::Synced { circle, report } if !report.is_empty() => say!(
                "{}",
                t!(
                    "synced",
                    circle = name(&circle),
                    sent = report.pushed,
                    received = report.applied_changes
                )
            ),
            WatchEvent::Synced { .. } | WatchEvent::Syncing { .. } => {}
            WatchEvent::SyncFailed { circle, error } => {
                warn_user!(
                    "kring: {}: {}",
                    name(&circle),
                    crate::core_text::say(&error)
                )
            }
            WatchEvent::Disconnected { error, retry_in } => warn_user!(
                "kring: {}",
                t!(
                    "watch-offline",
                    error = crate::core_text::say(&error),
                    seconds = retry_in.as_secs().max(1)
                )
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
    /// This device erased the circle (it was removed from it); only a note is left.
    erased: bool,
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
            erased: false,
        });
    }
    if !ctx.has_circle_arg() {
        for departure in ctx.device.departures()? {
            let mut status = kring_client::sync::engine::status(
                &departure.circle,
                None,
                Some(kring_client::sync::engine::Standing::Removed),
                None,
                0,
                0,
            );
            status.last_attempt_at = Some(departure.at);
            rows.push(StatusRow {
                name: circle_name(ctx, &departure.circle),
                status,
                erased: true,
            });
        }
    }
    output(ctx, &rows, || {
        if rows.is_empty() {
            return t!("no-circles") + "\n";
        }
        rows.iter().map(describe).collect()
    })
}

fn describe(row: &StatusRow) -> String {
    let s = &row.status;
    let state = match s.connectivity {
        Connectivity::LocalOnly => t!("status-local-only"),
        Connectivity::NoRelay => t!("status-no-relay"),
        Connectivity::NotSynced => t!("status-not-synced"),
        Connectivity::Online => t!("status-online"),
        Connectivity::Offline => t!("status-offline"),
        Connectivity::Error => t!("status-error"),
        Connectivity::Removed if row.erased => t!("status-erased"),
        Connectivity::Removed => t!("status-removed"),
        Connectivity::Closed => t!("status-closed"),
    };
    let mut out = format!("{} ({})\n  {state}", row.name, s.circle.short());
    if let Some(at) = s.last_synced_at {
        out.push_str(&t!("status-last-synced", date = dates::format(at)));
    }
    out.push('\n');
    if let Some(url) = &s.relay_url {
        out.push_str(&format!("  {}\n", t!("status-relay", url = url)));
    }
    if row.erased {
        return out;
    }
    if let Some(at) = s.closes_at {
        out.push_str(&format!(
            "  {}\n",
            t!("status-closes-at", date = dates::format(at))
        ));
    }
    out.push_str(&format!("  {}", t!("status-pending", count = s.pending)));
    if s.waiting > 0 {
        out.push_str(&t!("status-waiting", count = s.waiting));
    }
    out.push('\n');
    if let (Some(error), Connectivity::Offline | Connectivity::Error) =
        (&s.last_error, s.connectivity)
    {
        out.push_str(&format!(
            "  {}\n",
            t!("status-last-error", error = error.to_string())
        ));
    }
    out
}
