//! scipkv-compare: identical workloads on scipkv-engine, RocksDB and fjall, engines
//! alternating within one run, several repetitions; prints ops/s, p50/p99, bytes on disk,
//! write amplification and the scipkv / peer ratios, then a markdown table.
//!
//! See `benches/README.md` ("Peer comparison") for how to build and run it.

mod child;
mod engines;
mod measure;
mod micro;
mod report;
mod scip_capture;
mod scip_workload;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use engines::{Result, Tuning};

#[derive(Debug, Parser)]
#[command(about = "Side-by-side workloads on scipkv-engine, RocksDB and fjall")]
struct Args {
    /// Engines, comma-separated, in first-repetition order (default: all compiled in).
    #[arg(long, value_delimiter = ',')]
    engines: Vec<String>,
    /// Workload groups: `micro` (fill/read/seek/readwhilewriting) and/or `scip`.
    #[arg(long, value_delimiter = ',', default_values = ["micro", "scip"])]
    workloads: Vec<String>,
    /// Keys loaded by fillrandom and fillseq.
    #[arg(long, default_value_t = 1_000_000)]
    keys: u64,
    #[arg(long, default_value_t = 16)]
    key_len: usize,
    #[arg(long, default_value_t = 100)]
    value_len: usize,
    /// Point reads / seeks per read workload (readwhilewriting splits them over the readers).
    #[arg(long, default_value_t = 500_000)]
    reads: u64,
    /// Reader threads of readwhilewriting (plus one writer).
    #[arg(long, default_value_t = 1)]
    readers: usize,
    /// Repetitions; the engine order rotates each repetition.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// SCIP projects (`<shared>/scip/<name>.scip.zst`; set SCIPKV_SHARED).
    #[arg(long, value_delimiter = ',', default_values = ["django", "rxjs"])]
    projects: Vec<String>,
    /// Queries of the SCIP query mix per project.
    #[arg(long, default_value_t = 70_000)]
    scip_queries: usize,
    /// Memtable size of every engine, MiB (scipkv's default).
    #[arg(long, default_value_t = 64)]
    memtable_mib: usize,
    /// Block cache of every engine, MiB (scipkv's default).
    #[arg(long, default_value_t = 256)]
    cache_mib: usize,
    /// Data block size of every engine for the micro workloads (scipkv's default).
    #[arg(long, default_value_t = 16384)]
    block_size: usize,
    /// Data block size for the SCIP workload (the SCIP store's recommended options).
    #[arg(long, default_value_t = 32768)]
    scip_block_size: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Scratch directory for the stores (default: a temporary directory under $TMPDIR).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also write the markdown table to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Tiny sizes, one repetition: checks every workload runs on every engine (CI smoke).
    #[arg(long)]
    smoke: bool,
    /// Internal: run one (engine, workload group) in this process and print its rows on
    /// stdout for the parent (see `child.rs`).
    #[arg(long, hide = true, value_names = ["ENGINE", "GROUP"], num_args = 2)]
    child: Vec<String>,
}

fn main() -> ExitCode {
    let mut a = Args::parse();
    if a.smoke {
        a.keys = 5_000;
        a.reads = 2_000;
        a.reps = 1;
        a.scip_queries = 700;
    }
    match run(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn header(a: &Args) -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "engines: {}\nmachine: {cpus} CPUs, load average {}\nkeys {} x ({} B key + {} B value), reads {}, \
         readers {}, reps {}, memtable {} MiB, block cache {} MiB, blocks {} B (SCIP {} B)",
        engines::versions(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        a.keys,
        a.key_len,
        a.value_len,
        a.reads,
        a.readers,
        a.reps,
        a.memtable_mib,
        a.cache_mib,
        a.block_size,
        a.scip_block_size
    )
}

fn run(a: Args) -> Result<()> {
    let engines: Vec<&'static str> = if a.engines.is_empty() {
        engines::available()
    } else {
        let avail = engines::available();
        a.engines
            .iter()
            .map(|e| {
                avail
                    .iter()
                    .copied()
                    .find(|x| x == e)
                    .ok_or_else(|| format!("engine {e:?} not available (compiled: {avail:?})"))
            })
            .collect::<Result<_>>()?
    };
    for w in &a.workloads {
        if w != "micro" && w != "scip" {
            return Err(format!("unknown workload group {w:?} (micro, scip)"));
        }
    }
    let root = match &a.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(engines::err)?;
            tempfile::tempdir_in(d).map_err(engines::err)?
        }
        None => tempfile::tempdir().map_err(engines::err)?,
    };
    let tmp = root.path().to_path_buf();
    if a.child.is_empty() {
        eprintln!("{}", header(&a));
        eprintln!("scratch: {}", tmp.display());
    }

    let base = Tuning {
        sync: false,
        memtable_bytes: a.memtable_mib << 20,
        block_cache_bytes: a.cache_mib << 20,
        block_size: a.block_size,
        scip: false,
    };
    let micro_cfg = micro::MicroConfig {
        keys: a.keys,
        key_len: a.key_len,
        value_len: a.value_len,
        reads: a.reads,
        readers: a.readers.max(1),
        seed: a.seed,
        tuning: base,
    };
    let scip_tuning = Tuning {
        sync: true,
        block_size: a.scip_block_size,
        scip: true,
        ..base
    };

    if let [engine, group] = a.child.as_slice() {
        let e = engines
            .iter()
            .copied()
            .find(|e| e == engine)
            .ok_or_else(|| format!("engine {engine:?} not available"))?;
        let o = run_child(&a, e, group, &tmp, micro_cfg, scip_tuning)?;
        print!("{}", child::encode(&o));
        return Ok(());
    }

    let mut rows = Vec::new();
    // Entries read by each project's query mix, per engine: must agree.
    let mut scip_reads: BTreeMap<String, Vec<(&str, u64)>> = BTreeMap::new();
    for rep in 0..a.reps {
        let mut order = engines.clone();
        order.rotate_left(rep % engines.len());
        for &e in &order {
            for group in ["micro", "scip"] {
                if !a.workloads.iter().any(|w| w == group) {
                    continue;
                }
                eprintln!("rep {rep}: {e} {group}");
                let o = child::spawn(&child_args(&a, &tmp, e, group), &engines)?;
                for (p, n) in o.reads {
                    scip_reads.entry(p).or_default().push((e, n));
                }
                for r in &o.rows {
                    r.print(rep);
                }
                rows.extend(o.rows);
            }
        }
    }
    for (project, reads) in &scip_reads {
        if let Some(&(_, first)) = reads.first()
            && reads.iter().any(|&(_, n)| n != first)
        {
            return Err(format!(
                "{project}: engines read different entry counts for the same queries: {reads:?}"
            ));
        }
    }

    let md = report::markdown(&rows, &engines);
    println!("{}\n", header(&a));
    println!("{md}");
    if let Some(p) = &a.markdown {
        std::fs::write(p, format!("{}\n\n{md}", header(&a))).map_err(engines::err)?;
    }
    Ok(())
}

/// The flags of a child measuring `group` on `engine`: the parent's resolved settings (after
/// `--smoke`), its scratch directory, and nothing that writes output files.
fn child_args(a: &Args, scratch: &std::path::Path, engine: &str, group: &str) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "--workloads".into(),
        group.into(),
        "--keys".into(),
        a.keys.to_string(),
        "--key-len".into(),
        a.key_len.to_string(),
        "--value-len".into(),
        a.value_len.to_string(),
        "--reads".into(),
        a.reads.to_string(),
        "--readers".into(),
        a.readers.to_string(),
        "--scip-queries".into(),
        a.scip_queries.to_string(),
        "--memtable-mib".into(),
        a.memtable_mib.to_string(),
        "--cache-mib".into(),
        a.cache_mib.to_string(),
        "--block-size".into(),
        a.block_size.to_string(),
        "--scip-block-size".into(),
        a.scip_block_size.to_string(),
        "--seed".into(),
        a.seed.to_string(),
        "--reps".into(),
        "1".into(),
        "--dir".into(),
        scratch.display().to_string(),
    ];
    if !a.projects.is_empty() {
        v.push("--projects".into());
        v.push(a.projects.join(","));
    }
    v.extend(["--child".into(), engine.into(), group.into()]);
    v
}

/// One child's measurement. The SCIP group captures its projects' write streams itself
/// (deterministic: the same ingest and seed give every engine the same batches and queries),
/// so no engine runs after another's heap or threads.
fn run_child(
    a: &Args,
    engine: &'static str,
    group: &str,
    tmp: &std::path::Path,
    micro_cfg: micro::MicroConfig,
    scip_tuning: Tuning,
) -> Result<child::Outcome> {
    let mut o = child::Outcome::default();
    match group {
        "micro" => o.rows = micro::run(engine, tmp, &micro_cfg)?,
        "scip" => {
            for p in &a.projects {
                let c = scip_capture::capture(p, tmp)?;
                let q = scip_workload::query_mix(&c, a.scip_queries, a.seed)?;
                eprintln!(
                    "captured {p}: {} batches, {} entries, {:.1} MB keys+values (SCIP input {:.1} MB)",
                    c.batches.len(),
                    c.entries(),
                    c.user_bytes() as f64 / 1e6,
                    c.input_bytes as f64 / 1e6
                );
                let (r, n) = scip_workload::run(engine, tmp, &c, &q, scip_tuning)?;
                o.rows.extend(r);
                o.reads.push((p.clone(), n));
            }
        }
        other => return Err(format!("unknown workload group {other:?}")),
    }
    Ok(o)
}
