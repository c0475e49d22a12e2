//! `kring`: the command-line client for Kring circles (coordinator desk, scripting,
//! demos). A thin shell over `kring-core`: parse, call, save, print.

#[macro_use]
mod terminal;
mod args;
mod commands;
mod context;
mod dates;
mod demo;
mod devices;
mod error;
mod network;
mod recovery;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let result =
        context::Context::open(&cli).and_then(|mut ctx| commands::run(&mut ctx, cli.command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            warn_user!("kring: {e}");
            if let Some(hint) = e.hint() {
                warn_user!("{hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
