//! The `scipkv` command.

mod cli_scip;
mod cli_volume;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scipkv_server::{Config, Listening};

/// Small, short-lived allocations dominate the request path (parsed arguments, reply
/// buffers, lookup keys); mimalloc serves them in a fraction of glibc's instructions.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Serve a data directory (or a raw volume) over the Redis protocol and HTTP/JSON until
    /// SIGTERM or SIGINT.
    ///
    /// Prints one JSON line to stdout once listening, e.g.
    /// {"event":"listening","resp":"127.0.0.1:6380","http":"127.0.0.1:7380",
    /// "data":"/abs/scipkv-data","backend":"directory"}.
    Serve(ServeArgs),
    /// Raw volumes: run the engine on a block device or preallocated file.
    #[command(subcommand)]
    Volume(cli_volume::VolumeCommand),
    #[command(flatten)]
    Scip(cli_scip::ScipCommand),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Data directory (created if missing) [default: ./scipkv-data]
    #[arg(long, value_name = "DIR", conflicts_with = "volume")]
    data: Option<PathBuf>,
    /// Raw volume (block device or file prepared by `scipkv volume format`) instead of a
    /// data directory
    #[arg(long, value_name = "PATH")]
    volume: Option<PathBuf>,
    /// Address for the Redis protocol (port 0 picks a free port) [default: 127.0.0.1:6380]
    #[arg(long, value_name = "ADDR")]
    resp: Option<String>,
    /// Address for the HTTP/JSON API (port 0 picks a free port) [default: 127.0.0.1:7380]
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// TOML configuration file; the flags above override it
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Volume(c) => cli_volume::run(c),
        Command::Scip(c) => cli_scip::run(c),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let mut config = match &args.config {
        Some(path) => match Config::from_file(path) {
            Ok(config) => config,
            Err(error) => return fail(&error),
        },
        None => Config::default(),
    };
    if let Some(data) = args.data {
        config.data_dir = data;
        config.volume = None;
    }
    if let Some(volume) = args.volume {
        config.volume = Some(volume);
    }
    if let Some(resp) = args.resp {
        config.resp_addr = resp;
    }
    if let Some(http) = args.http {
        config.http_addr = http;
    }
    let volume = config.volume.is_some();
    let announce = |listening: &Listening| {
        // Built by hand so "event" comes first, as a reader scanning the output expects.
        let line = format!(
            r#"{{"event":"listening","resp":{},"http":{},"data":{},"backend":{}}}"#,
            serde_json::Value::from(listening.resp.to_string()),
            serde_json::Value::from(listening.http.to_string()),
            serde_json::Value::from(listening.data_dir.display().to_string()),
            serde_json::Value::from(if volume { "volume" } else { "directory" }),
        );
        // Tests and supervisors wait for this line, so it is flushed at once.
        println!("{line}");
        eprintln!(
            "scipkv: serving {} over RESP on {} and HTTP on {}",
            listening.data_dir.display(),
            listening.resp,
            listening.http
        );
    };
    match scipkv_server::serve(config, announce) {
        Ok(()) => {
            eprintln!("scipkv: stopped cleanly");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

fn fail(error: &dyn std::error::Error) -> ExitCode {
    let mut message = format!("scipkv: error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(&format!(": {text}"));
        }
        source = cause.source();
    }
    eprintln!("{message}");
    ExitCode::FAILURE
}
