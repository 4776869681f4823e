//! The `scipkv` command.

mod cli_scip;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "scipkv",
    version,
    about = "A storage engine and server for SCIP code-intelligence indexes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Scip(cli_scip::ScipCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Scip(c) => cli_scip::run(c),
    }
}
