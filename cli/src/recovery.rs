//! Recovery codes: printed when a main person creates a circle (`kring circle
//! create`), renewed with `kring recovery setup`, used with `kring recover` on a new
//! device. Everything they decide is in `kring_client::device` and
//! `kring_trust::recovery`; this file parses, calls and prints.

use kring_plan::plan::CircleId;
use kring_trust::recovery::RecoveryCode;
use serde::Serialize;

use crate::commands::output;
use crate::context::Context;
use crate::error::{CliError, CliResult};

/// Prints a recovery code once, with what is needed to use it.
pub fn print_code(ctx: &Context, circle: &CircleId, code: &RecoveryCode) -> CliResult {
    let relay = ctx.device.status(circle)?.relay_url;
    say!("{}", t!("recovery-code"));
    say!("");
    say!("    {}", code.words().as_str());
    say!("");
    say!(
        "{}",
        t!(
            "recovery-how",
            circle = circle.to_string(),
            relay = relay.as_deref().unwrap_or("URL")
        )
    );
    say!("{}", t!("recovery-warning"));
    Ok(())
}

/// `kring recovery setup`: a new code for me in the current circle (the old one
/// this device made stops working).
pub fn setup(ctx: &mut Context) -> CliResult {
    let circle = ctx.current()?.id;
    let code = ctx.device.setup_recovery(&circle, ctx.now)?;
    print_code(ctx, &circle, &code)
}

#[derive(Serialize)]
struct RecoveredOut {
    circle: CircleId,
    removed_devices: Vec<String>,
}

/// `kring recover --circle ID --relay URL --code "…"`.
pub fn recover(ctx: &mut Context, relay: &str, code: &str) -> CliResult {
    let circle = ctx
        .circle_arg()
        .ok_or_else(|| CliError::Usage(t!("error-recover-circle")))?;
    let circle = CircleId::parse(circle.trim())?;
    let code = RecoveryCode::parse(code)?;
    let recovered = ctx.device.recover(&circle, relay, &code, ctx.now)?;
    ctx.set_current(&circle)?;
    let out = RecoveredOut {
        circle: recovered.circle.clone(),
        removed_devices: recovered
            .removed_devices
            .iter()
            .map(ToString::to_string)
            .collect(),
    };
    if ctx.json {
        return output(ctx, &out, String::new);
    }
    let (name, language) = ctx.device.view(&circle).map_or_else(
        |_| (circle.to_string(), None),
        |v| (v.circle.name, Some(v.circle.language)),
    );
    if let Some(language) = language {
        crate::i18n::use_language(language);
    }
    say!(
        "{}",
        t!(
            "recovered",
            circle = name,
            devices = recovered.removed_devices.len().saturating_sub(1)
        )
    );
    // The code is spent: make the next one now.
    match ctx.device.setup_recovery(&circle, ctx.now) {
        Ok(code) => print_code(ctx, &circle, &code),
        Err(e) => {
            warn_user!("kring: {}", t!("note-no-new-code", error = e.to_string()));
            Ok(())
        }
    }
}
