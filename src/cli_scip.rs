//! The SCIP subcommands of `scipkv`: ingest, query, projects, delete, gc.
//!
//! JSON on stdout, diagnostics on stderr, a non-zero exit status on failure. No answer is
//! `[]` or `null`, not an error. Queries and deletes go through `scipkv_server::scip_api`,
//! which the HTTP API uses too, so both print the same JSON. The CLI has no users, so it reads and writes the default
//! tenant unless `--tenant` says otherwise.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use scipkv_engine::scip::store::{DEFAULT_TENANT, ScipStore, StoreError, Target};
use scipkv_server::scip_api::{self, Query};
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum ScipCommand {
    /// Upload a SCIP index (raw, zstd or gzip) as one version of a project; prints a summary.
    Ingest(IngestArgs),
    /// Answer a code-intelligence query from a stored version.
    Query(QueryArgs),
    /// List projects, their versions and where `latest` points.
    Projects(StoreArgs),
    /// Delete one version of a project and reclaim its space.
    Delete(DeleteArgs),
    /// Reclaim documents no version references (left by deletes or failed uploads).
    Gc(StoreArgs),
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Data directory (created if missing)
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Tenant namespace
    #[arg(long, default_value = DEFAULT_TENANT)]
    tenant: String,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long)]
    project: String,
    #[arg(long)]
    version: String,
    /// The index file
    file: PathBuf,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long)]
    project: String,
    #[arg(long)]
    version: String,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long)]
    project: String,
    /// A version name or `latest` [default: latest]
    #[arg(long)]
    version: Option<String>,
    #[command(subcommand)]
    kind: QueryKind,
}

#[derive(Debug, Args)]
pub struct At {
    path: String,
    /// 0-based line
    line: u32,
    /// 0-based character, in the document's position encoding
    character: u32,
}

#[derive(Debug, Subcommand)]
pub enum QueryKind {
    Definition(At),
    References {
        #[command(flatten)]
        at: At,
        /// Include the definition itself
        #[arg(long)]
        include_declaration: bool,
    },
    Implementations(At),
    TypeDefinition(At),
    Hover(At),
    /// Occurrences at a position, innermost first
    Occurrences(At),
    DocumentSymbols {
        path: String,
    },
    Diagnostics {
        path: String,
    },
    WorkspaceSymbols {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    SymbolDefinition {
        symbol: String,
    },
    SymbolReferences {
        symbol: String,
        #[arg(long)]
        include_declaration: bool,
    },
    SymbolHover {
        symbol: String,
    },
}

/// Runs a SCIP subcommand.
pub fn run(cmd: ScipCommand) -> ExitCode {
    match execute(cmd) {
        Ok(json) => {
            // `println!` panics when the reader has gone (`| head`); a closed pipe is the
            // reader's choice, not our failure, and anything else is reported.
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{json}").and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("scipkv: writing the answer: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("scipkv: {e}");
            ExitCode::FAILURE
        }
    }
}

fn json(v: &impl Serialize) -> Result<String, StoreError> {
    scip_api::to_json(v, true)
}

/// An upload allocates and frees large buffers (documents, write batches) over and over.
/// mimalloc backs its memory with transparent huge pages and hands freed pages back to the
/// OS, so reusing them faulted in and zeroed whole 2 MiB pages again: ~25% of `scipkv
/// ingest`'s CPU was the kernel's `clear_page_erms` (`perf record`), and with ordinary pages
/// the command takes ~15% less CPU (benches/RESULTS.md §SCIP). Only this short-lived command
/// opts out; the server keeps the system's setting.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours; if it
    // fails (an old kernel) huge pages stay on, which is only slower.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn open(a: &StoreArgs) -> Result<ScipStore, StoreError> {
    ScipStore::open(&a.data)
}

fn execute(cmd: ScipCommand) -> Result<String, StoreError> {
    match cmd {
        ScipCommand::Ingest(a) => ingest(a),
        ScipCommand::Query(a) => query(a),
        ScipCommand::Projects(a) => json(&open(&a)?.projects(&a.tenant)?),
        ScipCommand::Delete(a) => {
            let store = open(&a.store)?;
            scip_api::delete(&store, &a.store.tenant, &a.project, &a.version, true)?.ok_or_else(
                || {
                    StoreError::InvalidArgument(format!(
                        "no version {:?} of project {:?}",
                        a.version, a.project
                    ))
                },
            )
        }
        ScipCommand::Gc(a) => json(&open(&a)?.gc(&a.tenant)?),
    }
}

fn ingest(a: IngestArgs) -> Result<String, StoreError> {
    without_transparent_huge_pages();
    let file = File::open(&a.file).map_err(|e| {
        StoreError::InvalidArgument(format!("cannot open {}: {e}", a.file.display()))
    })?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let store = open(&a.store)?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let summary = store.ingest_with_progress(
        &a.store.tenant,
        &a.project,
        &a.version,
        std::io::BufReader::with_capacity(1 << 20, file),
        &mut progress,
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    json(&summary?)
}

fn query(a: QueryArgs) -> Result<String, StoreError> {
    let store = open(&a.store)?;
    let t = Target {
        tenant: &a.store.tenant,
        project: &a.project,
        version: a.version.as_deref(),
    };
    let at = |p: At| scip_api::At {
        path: p.path,
        line: p.line,
        character: p.character,
    };
    let q = match a.kind {
        QueryKind::Definition(p) => Query::Definition(at(p)),
        QueryKind::References {
            at: p,
            include_declaration,
        } => Query::References {
            at: at(p),
            include_declaration,
        },
        QueryKind::Implementations(p) => Query::Implementations(at(p)),
        QueryKind::TypeDefinition(p) => Query::TypeDefinition(at(p)),
        QueryKind::Hover(p) => Query::Hover(at(p)),
        QueryKind::Occurrences(p) => Query::Occurrences(at(p)),
        QueryKind::DocumentSymbols { path } => Query::DocumentSymbols { path },
        QueryKind::Diagnostics { path } => Query::Diagnostics { path },
        QueryKind::WorkspaceSymbols { query, limit } => Query::WorkspaceSymbols { query, limit },
        QueryKind::SymbolDefinition { symbol } => Query::SymbolDefinition { symbol },
        QueryKind::SymbolReferences {
            symbol,
            include_declaration,
        } => Query::SymbolReferences {
            symbol,
            include_declaration,
        },
        QueryKind::SymbolHover { symbol } => Query::SymbolHover { symbol },
    };
    // As over HTTP (404): an unknown project or version is an error, while a known version
    // with nothing at the position answers `[]` or `null`.
    if store.resolve_version(&t)?.is_none() {
        let version = a.version.as_deref().unwrap_or("latest");
        return Err(StoreError::InvalidArgument(format!(
            "no version {version:?} of project {:?}",
            a.project
        )));
    }
    scip_api::run(&store, &t, &q, true)
}
