//! `kring reminders` and `kring news`: what reaches a person, computed on this device
//! (`kring_plan::reminders`, `kring_plan::news`); this file picks the circles, parses
//! the choices and prints.

use std::collections::HashMap;

use kring_plan::news::Notification;
use kring_plan::plan::CircleId;
use kring_plan::reminders::{ClockTime, Reminder, ReminderSettings};
use kring_trust::Timestamp;
use serde::Serialize;

use crate::args::RemindersCmd;
use crate::commands::output;
use crate::context::Context;
use crate::error::{CliError, CliResult};

/// The circles a command is about: the one given with `--circle`, else all.
fn chosen(ctx: &Context) -> CliResult<Option<CircleId>> {
    Ok(match ctx.has_circle_arg() {
        true => Some(ctx.current()?.id),
        false => None,
    })
}

/// The time zone of each circle in `circles`, read once per circle.
fn zones<'a>(
    ctx: &Context,
    circles: impl IntoIterator<Item = &'a CircleId>,
) -> CliResult<HashMap<CircleId, String>> {
    let mut zones = HashMap::new();
    for circle in circles {
        if !zones.contains_key(circle) {
            let zone = ctx.device.view(circle)?.circle.timezone;
            zones.insert(circle.clone(), zone);
        }
    }
    Ok(zones)
}

/// One line per item: `2026-12-02 19:00  Kring van Sanne: …`, its time on the wall
/// clock of the circle it is from.
fn lines<'a>(
    zones: &HashMap<CircleId, String>,
    items: impl IntoIterator<Item = (&'a CircleId, Timestamp, &'a str, &'a str)>,
) -> String {
    let mut out = String::new();
    for (circle, at, title, text) in items {
        let zone = zones.get(circle).map_or("UTC", String::as_str);
        let at = crate::dates::format_in(at, zone);
        out.push_str(&format!("  {at}  {title}: {text}\n"));
    }
    out
}

/// `kring reminders [--days N]`, or `kring reminders set …`.
pub fn reminders(ctx: &Context, set: Option<RemindersCmd>, days: u32) -> CliResult {
    if let Some(RemindersCmd::Set {
        mute,
        digest,
        quiet,
    }) = set
    {
        return set_choices(ctx, mute, digest, quiet);
    }
    let only = chosen(ctx)?;
    let list = ctx.device.reminders(only.as_ref(), ctx.now, days)?;
    let zones = zones(ctx, list.iter().map(|r| &r.circle))?;
    output(ctx, &list, || render(&zones, &list, days))
}

fn render(zones: &HashMap<CircleId, String>, list: &[Reminder], days: u32) -> String {
    if list.is_empty() {
        return format!("{}\n", t!("reminders-none", days = days));
    }
    let items = list
        .iter()
        .map(|r| (&r.circle, r.at, r.title.as_str(), r.text.as_str()));
    format!(
        "{}\n{}",
        t!("reminders-heading", days = days),
        lines(zones, items)
    )
}

#[derive(Serialize)]
struct Choices<'a> {
    circle: &'a CircleId,
    #[serde(flatten)]
    settings: ReminderSettings,
}

fn set_choices(
    ctx: &Context,
    mute: Option<String>,
    digest: Option<String>,
    quiet: Option<String>,
) -> CliResult {
    let circle = ctx.current()?.id;
    let mut settings = ctx.device.reminder_settings(&circle)?;
    if let Some(mute) = mute {
        settings.muted = mute == "on";
    }
    if let Some(digest) = digest {
        settings.digest = digest == "on";
    }
    if let Some(quiet) = quiet {
        let (from, until) = quiet
            .split_once('-')
            .ok_or_else(|| CliError::Usage(t!("error-quiet-hours", typed = quiet.as_str())))?;
        settings.quiet_from = ClockTime::parse(from)?;
        settings.quiet_until = ClockTime::parse(until)?;
    }
    ctx.device.set_reminder_settings(&circle, &settings)?;
    let choices = Choices {
        circle: &circle,
        settings,
    };
    output(ctx, &choices, || {
        let state = |on: bool| if on { t!("word-on") } else { t!("word-off") };
        let text = t!(
            "reminders-set",
            mute = state(settings.muted),
            digest = state(settings.digest),
            from = settings.quiet_from.to_string(),
            until = settings.quiet_until.to_string()
        );
        format!("{text}\n")
    })
}

/// `kring news`: what changed since this device last looked, per circle.
pub fn news(ctx: &Context) -> CliResult {
    let circles = match chosen(ctx)? {
        Some(one) => vec![one],
        None => ctx.device.circles()?.into_iter().map(|c| c.id).collect(),
    };
    let mut all: Vec<Notification> = Vec::new();
    for circle in &circles {
        all.extend(ctx.device.what_changed(circle)?);
    }
    let zones = zones(ctx, &circles)?;
    output(ctx, &all, || {
        if all.is_empty() {
            return format!("{}\n", t!("news-none"));
        }
        let items = all
            .iter()
            .map(|n| (&n.circle, n.at, n.title.as_str(), n.text.as_str()));
        lines(&zones, items)
    })
}
