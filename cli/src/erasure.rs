//! Ending a circle: `kring circle close` (for everyone, the main person's decision),
//! `kring circle delete --local` (this device only), and what the person is told
//! when a sync finds that a circle was closed or that they were removed from it, or
//! that the relay will close an inactive circle. The rules are in
//! `kring_client::device`; this file asks, calls and tells.

use std::io::BufRead;

use kring_client::Error as CoreError;
use kring_plan::plan::CircleId;

use crate::context::{unique_prefix, Context};
use crate::dates;
use crate::error::{CliError, CliResult};

/// `kring circle close`: asks unless `yes`, then closes the circle on the relay. The
/// device keeps a read-only archive.
pub fn close(ctx: &mut Context, yes: bool) -> CliResult {
    let circle = ctx.current()?.id;
    let name = ctx.device.view(&circle)?.circle.name;
    if !yes && !confirm(&t!("circle-close-confirm", circle = &name))? {
        return Err(CliError::Usage(t!("confirm-aborted")));
    }
    ctx.device.close_circle(&circle, ctx.now)?;
    say!("{}", t!("circle-closed", circle = &name));
    Ok(())
}

/// `kring circle delete --local`: asks unless `yes`, then erases the circle from this
/// device. Also takes a circle that is only a note (erased after a removal) or a
/// join still waiting for its plan.
pub fn delete_local(ctx: &mut Context, yes: bool) -> CliResult {
    let circle = erasable(ctx)?;
    let name = circle_name(ctx, &circle);
    if !yes && !confirm(&t!("circle-delete-confirm", circle = &name))? {
        return Err(CliError::Usage(t!("confirm-aborted")));
    }
    ctx.device.delete_local(&circle)?;
    say!("{}", t!("circle-deleted", circle = &name));
    Ok(())
}

/// The circle `--circle` names among everything this device holds of circles, else
/// the current one.
fn erasable(ctx: &Context) -> CliResult<CircleId> {
    let Some(arg) = ctx.circle_arg() else {
        return Ok(ctx.current()?.id);
    };
    let mut ids: Vec<CircleId> = ctx.device.circles()?.into_iter().map(|c| c.id).collect();
    ids.extend(
        ctx.device
            .store()
            .sync_records()?
            .into_iter()
            .map(|r| r.circle),
    );
    ids.extend(ctx.device.departures()?.into_iter().map(|d| d.circle));
    ids.sort();
    ids.dedup();
    Ok(unique_prefix(ids.iter().map(|c| (c.as_str(), c)), arg, "circle")?.clone())
}

/// The circle's name, or "circle 3f2a…" when its plan is not (or no longer) here.
pub fn circle_name(ctx: &Context, circle: &CircleId) -> String {
    ctx.device
        .view(circle)
        .map(|v| v.circle.name)
        .unwrap_or_else(|_| t!("circle-unnamed", id = circle.short()))
}

/// Asks a yes/no question on the terminal; only the word for "yes" (or its first
/// letter) says yes. No answer (end of input) is no.
fn confirm(question: &str) -> CliResult<bool> {
    eprint!("{} ", crate::terminal::safe(question));
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|source| CliError::File {
            path: "stdin".into(),
            source,
        })?;
    let answer = answer.trim().to_lowercase();
    let yes = t!("confirm-yes");
    Ok(!answer.is_empty() && (answer == yes || yes.starts_with(&answer) && answer.len() == 1))
}

/// What a failed sync of `circle` (called `name` before the sync) means for the
/// person, if it ended the circle here: the plain sentence to tell them. The circle
/// was closed (now a read-only archive) or this device was removed (now erased).
pub fn ending(error: &CoreError, circle: &CircleId, name: &str) -> Option<String> {
    match error {
        CoreError::Trust(kring_trust::Error::CircleClosed(_)) => {
            Some(t!("note-circle-closed", circle = name, id = circle.short()))
        }
        CoreError::Trust(kring_trust::Error::Removed(_)) => {
            Some(t!("note-removed-erased", circle = name))
        }
        _ => None,
    }
}

/// The relay's warning that it will close an inactive circle, if it gave one.
pub fn closing_warning(ctx: &Context, circle: &CircleId) -> CliResult<Option<String>> {
    Ok(ctx.device.status(circle)?.closes_at.map(|at| {
        t!(
            "note-closes-at",
            circle = circle_name(ctx, circle),
            date = dates::format(at)
        )
    }))
}
