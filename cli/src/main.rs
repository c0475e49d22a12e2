//! `kring`: the command-line client for Kring circles (coordinator desk, scripting,
//! demos). A thin shell over `kring-core`: parse, call, save, print.

#[macro_use]
mod terminal;
#[macro_use]
mod i18n;
mod args;
mod commands;
mod context;
mod core_text;
mod dates;
mod demo;
mod devices;
mod erasure;
mod error;
mod network;
mod reach;
mod recovery;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let result = choose_language(&cli)
        .and_then(|()| context::Context::open(&cli))
        .and_then(|mut ctx| commands::run(&mut ctx, cli.command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // An error already told in plain words has nothing left to say.
            if !matches!(e, error::CliError::Told(_)) {
                warn_user!("kring: {e}");
            }
            if let Some(hint) = e.hint() {
                warn_user!("{hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// `--lang` wins; a new circle speaks its own language (Dutch unless asked);
/// otherwise [`context::Context::open`] picks the current circle's.
fn choose_language(cli: &args::Cli) -> error::CliResult {
    use kring_plan::plan::Language;
    let creating = matches!(
        cli.command,
        args::Command::Circle(args::CircleCmd::Create { .. })
    );
    match &cli.lang {
        Some(lang) => i18n::use_language(commands::parse(lang)?),
        None if creating => i18n::use_language(Language::Nl),
        None => {}
    }
    Ok(())
}
