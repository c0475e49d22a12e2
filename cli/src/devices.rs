//! A person's devices and links: `kring device link|add|list|remove`, `kring preview`
//! and `kring qr`. Everything they decide is in `kring_client::device`; this file
//! parses, calls and prints.

use kring_client::device::{DeviceInfo, LinkPreview};
use kring_trust::invite::{InviteKind, DEFAULT_DEVICE_LINK_MILLIS};
use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;
use serde::Serialize;

use crate::args::DeviceCmd;
use crate::commands::output;
use crate::context::{unique_prefix, Context};
use crate::dates;
use crate::error::{CliError, CliResult};
use crate::i18n::word;

pub fn device(ctx: &mut Context, cmd: DeviceCmd) -> CliResult {
    match cmd {
        DeviceCmd::Link {
            minutes, all: true, ..
        } => link_all(ctx, minutes),
        DeviceCmd::Link { minutes, qr, .. } => link(ctx, minutes, qr),
        DeviceCmd::Add { links } => {
            for link in links {
                add(ctx, &link)?;
            }
            Ok(())
        }
        DeviceCmd::List => list(ctx),
        DeviceCmd::Remove { device } => remove(ctx, &device),
    }
}

#[derive(Serialize)]
struct Link {
    link: String,
    expires_at: kring_trust::Timestamp,
}

fn link(ctx: &mut Context, minutes: Option<u32>, qr: bool) -> CliResult {
    let circle = ctx.current()?.id;
    let millis = minutes.map_or(DEFAULT_DEVICE_LINK_MILLIS, |m| i64::from(m) * 60_000);
    let expires_at = ctx.now.plus_millis(millis);
    let link = ctx.device.device_link(&circle, expires_at, ctx.now)?;
    // The new device reads the circle from the relay, so make sure it is there.
    if let Err(e) = ctx.device.sync(&circle, ctx.now) {
        warn_user!(
            "kring: {}",
            t!("note-invite-not-synced", error = e.to_string())
        );
    }
    let out = Link { link, expires_at };
    output(ctx, &out, || format!("{}\n", out.link))?;
    if !ctx.json {
        if qr {
            print!("{}", qr_text(&out.link)?);
        }
        warn_user!(
            "{}",
            t!("device-link-hint", date = dates::format(out.expires_at))
        );
    }
    Ok(())
}

/// `kring device link --all`: a link for each circle with a relay, so a new device
/// can be added to every circle the person is in (`kring device add LINK…`).
fn link_all(ctx: &mut Context, minutes: Option<u32>) -> CliResult {
    let millis = minutes.map_or(DEFAULT_DEVICE_LINK_MILLIS, |m| i64::from(m) * 60_000);
    let expires_at = ctx.now.plus_millis(millis);
    let mut out = Vec::new();
    for stored in ctx.device.circles()? {
        let circle = stored.id;
        match ctx.device.device_link(&circle, expires_at, ctx.now) {
            Ok(link) => {
                if let Err(e) = ctx.device.sync(&circle, ctx.now) {
                    warn_user!(
                        "kring: {}",
                        t!(
                            "note-not-synced",
                            circle = circle.short(),
                            error = e.to_string()
                        )
                    );
                }
                let name = ctx.device.view(&circle)?.circle.name;
                out.push((link, name));
            }
            // Circles from files have no relay to add a device through.
            Err(kring_client::Error::LocalOnly(_) | kring_client::Error::NoRelay(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let links: Vec<Link> = out
        .iter()
        .map(|(link, _)| Link {
            link: link.clone(),
            expires_at,
        })
        .collect();
    output(ctx, &links, || {
        out.iter()
            .map(|(link, name)| format!("{link}\t{name}\n"))
            .collect()
    })?;
    if !ctx.json {
        warn_user!(
            "{}",
            t!("device-link-all-hint", date = dates::format(expires_at))
        );
    }
    Ok(())
}

fn add(ctx: &mut Context, link: &str) -> CliResult {
    let circle = ctx.device.add_device(link, ctx.now)?;
    ctx.set_current(&circle)?;
    if ctx.device.pending_joins()?.contains(&circle) {
        say!("{}", t!("device-added-pending", circle = circle.short()));
    } else {
        let view = ctx.device.view(&circle)?;
        crate::i18n::use_language(view.circle.language);
        let me = ctx.device.me(&circle)?;
        say!(
            "{}",
            t!(
                "device-added",
                name = view.display_name(&me),
                circle = &view.circle.name
            )
        );
    }
    Ok(())
}

fn list(ctx: &Context) -> CliResult {
    let circle = ctx.current()?.id;
    let devices = ctx.device.devices(&circle)?;
    output(ctx, &devices, || {
        devices
            .iter()
            .map(|d: &DeviceInfo| {
                let note = if d.this_device {
                    format!("  {}", t!("device-this"))
                } else if d.recovery_code {
                    format!("  {}", t!("device-recovery-code"))
                } else {
                    String::new()
                };
                let added = t!("device-added-at", date = dates::format(d.added_at));
                format!("{}  {added}{note}\n", d.id)
            })
            .collect()
    })
}

fn remove(ctx: &mut Context, typed: &str) -> CliResult {
    let circle = ctx.current()?.id;
    let ids: Vec<(String, kring_trust::identity::DeviceId)> = ctx
        .device
        .devices(&circle)?
        .into_iter()
        .map(|d| (d.id.to_string(), d.id))
        .collect();
    let target = *unique_prefix(ids.iter().map(|(s, id)| (s.as_str(), id)), typed, "device")?;
    ctx.device.remove_device(&circle, &target, ctx.now)?;
    say!("{}", t!("device-removed", id = target.short()));
    Ok(())
}

pub fn preview(ctx: &Context, link: &str) -> CliResult {
    let p: LinkPreview = ctx.device.preview_link(link, ctx.now)?;
    output(ctx, &p, || {
        let what = match p.kind {
            InviteKind::Person => t!(
                "preview-invite",
                role = word("capability", p.capability.as_str())
            ),
            InviteKind::Device => t!(
                "preview-device",
                name = p.inviter_name.clone().unwrap_or_else(|| t!("a-member"))
            ),
        };
        let circle = p
            .circle_name
            .clone()
            .unwrap_or_else(|| t!("circle-unnamed", id = p.circle.short()));
        let from = match (p.kind, p.inviter_name.as_deref()) {
            (InviteKind::Person, Some(n)) => t!("preview-from", name = n),
            _ => String::new(),
        };
        let when = if p.expired {
            t!("preview-expired", date = dates::format(p.expires_at))
        } else {
            t!("preview-valid", date = dates::format(p.expires_at))
        };
        let here = if p.already_here {
            t!("preview-already-here")
        } else {
            String::new()
        };
        let line = t!(
            "preview",
            what = what,
            circle = circle,
            from = from,
            relay = &p.relay_url
        );
        format!("{line}\n{when}{here}\n")
    })
}

/// Prints `text` as a QR code made of Unicode half blocks.
pub fn qr(text: &str) -> CliResult {
    print!("{}", qr_text(text)?);
    Ok(())
}

fn qr_text(text: &str) -> CliResult<String> {
    let code = QrCode::new(text.trim().as_bytes())
        .map_err(|e| CliError::Usage(t!("error-qr", error = e.to_string())))?;
    let mut out = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    out.push('\n');
    Ok(out)
}
