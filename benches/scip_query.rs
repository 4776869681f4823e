//! Warm query latency of the SCIP store on rxjs.scip, p50/p99 per kind.
//! `cargo bench --bench scip_query` (SCIPKV_SHARED overrides the data location).
//!
//! Knobs for profiling (e.g. under `valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect='*run_queries*'`): `SCIPKV_QUERY_INDEX` (a file in the shared scip
//! folder), `SCIPKV_QUERY_N` (positions), `SCIPKV_QUERY_KINDS` (comma-separated subset of
//! definition,hover,occurrences,references,symbols,workspace), `SCIPKV_QUERY_COMPACT=0`
//! (measure right after the flush instead of after `compact_all`; the default under
//! `cargo bench`).

mod scip_common;

use std::time::{Duration, Instant};

use scip_common::{Rng, full_run, percentile, raw_index, thread_cpu};
use scipkv_engine::scip::store::{ScipStore, Target};
use scipkv_engine::scip::{IndexItem, IndexReader};

/// A sampled position: (path, line, character, occurrences of its symbol in the index).
type Pos = (String, u32, u32, usize);

/// One timed query: wall clock, and CPU time of this thread (which excludes the time the
/// thread waited for a core: on the shared 2-core machine, with load averages of 10+, a
/// descheduling of several ms lands in about 1% of wall-clock samples).
type Sample = (Duration, Duration);

fn report(kind: &str, v: Vec<Sample>) {
    let (mut wall, mut cpu): (Vec<Duration>, Vec<Duration>) = v.into_iter().unzip();
    wall.sort();
    cpu.sort();
    println!(
        "{kind:<34} n={:<6} wall p50 {:>9.1?} p99 {:>9.1?} | cpu p50 {:>9.1?} p99 {:>9.1?}",
        wall.len(),
        percentile(&wall, 0.5),
        percentile(&wall, 0.99),
        percentile(&cpu, 0.5),
        percentile(&cpu, 0.99)
    );
}

/// Times `f` on the wall clock and in thread CPU time.
fn timed<R>(f: impl FnOnce() -> R) -> (R, Sample) {
    let (s, c) = (Instant::now(), thread_cpu());
    let r = f();
    let e = (s.elapsed(), thread_cpu().saturating_sub(c));
    (r, e)
}

fn main() {
    let full = full_run();
    let env = |k: &str| std::env::var(k).ok();
    let n = env("SCIPKV_QUERY_N")
        .map(|v| v.parse().unwrap())
        .unwrap_or(if full { 5000 } else { 50 });
    let index = env("SCIPKV_QUERY_INDEX").unwrap_or_else(|| {
        if full {
            "rxjs.scip.zst"
        } else {
            "rxjs-01-be72ebf1a.scip.zst"
        }
        .to_owned()
    });
    let kinds = env("SCIPKV_QUERY_KINDS")
        .unwrap_or_else(|| "definition,hover,occurrences,references,symbols,workspace".into());
    // The smoke run under `cargo test` (debug) skips the zstd-19 compaction.
    let compact = env("SCIPKV_QUERY_COMPACT").map_or(full, |v| v != "0");
    let raw = raw_index(&index);
    let dir = tempfile::tempdir().unwrap();
    let store = ScipStore::open(dir.path()).unwrap();
    store.ingest("t", "rxjs", "v", &raw[..]).unwrap();
    store.db().flush().unwrap();
    if compact {
        store.db().compact_all().unwrap();
    }
    let tables: Vec<String> = store
        .db()
        .stats()
        .levels
        .iter()
        .enumerate()
        .filter(|(_, l)| l.files > 0)
        .map(|(i, l)| format!("L{i}: {} tables", l.files))
        .collect();
    println!(
        "{index}, {} ({})",
        if compact {
            "after flush + compact_all"
        } else {
            "after flush"
        },
        tables.join(", ")
    );

    // Positions: (path, line, char, symbol occurrence count).
    let mut positions = Vec::new();
    let mut counts = std::collections::HashMap::<String, usize>::new();
    let mut docs = Vec::new();
    for item in IndexReader::new(&raw[..]).unwrap() {
        if let IndexItem::Document(d) = item.unwrap() {
            for o in &d.occurrences {
                *counts.entry(o.symbol.clone()).or_default() += 1;
            }
            docs.push(d);
        }
    }
    let mut rng = Rng(42);
    while positions.len() < n {
        let d = &docs[rng.below(docs.len())];
        if d.occurrences.is_empty() {
            continue;
        }
        let o = &d.occurrences[rng.below(d.occurrences.len())];
        positions.push((
            d.relative_path.clone(),
            o.range[0] as u32,
            o.range[1] as u32,
            counts[&o.symbol],
        ));
    }
    run_queries(&store, &positions, &kinds, n);
}

/// Everything timed, in one function so a profiler can collect just this part.
#[inline(never)]
fn run_queries(store: &ScipStore, positions: &[Pos], kinds: &str, n: usize) {
    let want = |k: &str| kinds.split(',').any(|x| x == k);
    let t = Target::latest("t", "rxjs");
    // Warm means every cache has seen the workload once: a first pass over all positions
    // (reported separately), then the timed pass.
    let time = |kind: &str, f: &mut dyn FnMut(&Pos)| {
        let first: Vec<Sample> = positions.iter().map(|p| timed(|| f(p)).1).collect();
        report(&format!("{kind} (first pass)"), first);
        let warm: Vec<Sample> = positions.iter().map(|p| timed(|| f(p)).1).collect();
        report(kind, warm);
    };
    if want("definition") {
        time("definition", &mut |p| {
            drop(store.definition(&t, &p.0, p.1, p.2).unwrap())
        });
    }
    if want("hover") {
        time("hover", &mut |p| {
            drop(store.hover(&t, &p.0, p.1, p.2).unwrap())
        });
    }
    if want("occurrences") {
        time("occurrences at position", &mut |p| {
            drop(store.occurrences(&t, &p.0, p.1, p.2).unwrap())
        });
    }
    if want("references") {
        let mut small = Vec::new();
        let mut all = Vec::new();
        for p in positions {
            drop(store.references(&t, &p.0, p.1, p.2, true).unwrap()); // warm
        }
        for p in positions {
            let (r, e) = timed(|| store.references(&t, &p.0, p.1, p.2, true).unwrap());
            all.push(e);
            if p.3 <= 1000 && r.len() <= 1000 {
                small.push(e);
            }
        }
        report("references (symbol <= 1000 occ.)", small);
        report("references (all)", all);
    }
    if want("symbols") {
        time("document symbols", &mut |p| {
            drop(store.document_symbols(&t, &p.0).unwrap())
        });
    }
    if !want("workspace") {
        return;
    }
    let names = [
        "Observable",
        "map",
        "subscr",
        "pipe",
        "Subject",
        "mergeMap",
        "xyzzy",
    ];
    let mut ws = Vec::new();
    for q in names {
        drop(store.workspace_symbols(&t, q, 20).unwrap()); // warm
    }
    for i in 0..n.min(2000) {
        let q = names[i % names.len()];
        ws.push(timed(|| drop(store.workspace_symbols(&t, q, 20).unwrap())).1);
    }
    report("workspace symbols (limit 20)", ws);
}
