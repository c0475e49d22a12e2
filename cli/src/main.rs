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
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_error(e),
    };
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
            // What a developer needs and a person must not be shown: core's own words.
            if std::env::var_os("KRING_DEBUG").is_some() {
                warn_user!("kring: debug: {e:?}");
            }
            if let Some(hint) = e.hint() {
                warn_user!("{hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// What the command line's parser says when a command is typed wrong, in the
/// person's language: clap's own text is English (and its help stays so), so a
/// Dutch speaker hears one Dutch sentence naming what was wrong and `kring --help`.
/// Help and version are printed as clap has them.
fn parse_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ErrorKind as K};
    let asked = std::env::args()
        .skip_while(|a| a != "--lang")
        .nth(1)
        .and_then(|lang| commands::parse::<kring_plan::plan::Language>(&lang).ok());
    if let Some(lang) = asked {
        i18n::use_language(lang);
    }
    if matches!(
        e.kind(),
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
    ) || i18n::language() == kring_plan::plan::Language::En
    {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
    }
    let what = e
        .get(ContextKind::InvalidArg)
        .or_else(|| e.get(ContextKind::InvalidSubcommand))
        .map(ToString::to_string)
        .unwrap_or_default();
    let value = e
        .get(ContextKind::InvalidValue)
        .map(ToString::to_string)
        .unwrap_or_default();
    let said = match e.kind() {
        K::UnknownArgument => t!("parse-unknown-argument", what = what),
        K::InvalidSubcommand => t!("parse-unknown-command", what = what),
        K::InvalidValue | K::ValueValidation => {
            t!("parse-invalid-value", what = what, value = value)
        }
        K::MissingRequiredArgument => t!("parse-missing", what = what),
        K::MissingSubcommand => t!("parse-missing-command"),
        _ => t!("parse-other"),
    };
    warn_user!("kring: {}", terminal::safe(&said));
    ExitCode::from(2)
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
