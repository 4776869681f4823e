//! Warm query latency of the SCIP store on rxjs.scip, p50/p99 per kind.
//! `cargo bench --bench scip_query` (SCIPKV_SHARED overrides the data location).

mod scip_common;

use std::time::{Duration, Instant};

use scip_common::{full_run, percentile, raw_index};
use scipkv_engine::scip::store::{ScipStore, Target};
use scipkv_engine::scip::{IndexItem, IndexReader};

/// splitmix64, fixed seed: the same positions every run.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// A sampled position: (path, line, character, occurrences of its symbol in the index).
type Pos = (String, u32, u32, usize);

fn report(kind: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "{kind:<34} n={:<6} p50 {:>9.1?} p99 {:>9.1?}",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.99)
    );
}

fn main() {
    let full = full_run();
    let n = if full { 5000 } else { 50 };
    let raw = raw_index(if full {
        "rxjs.scip.zst"
    } else {
        "rxjs-01-be72ebf1a.scip.zst"
    });
    let dir = tempfile::tempdir().unwrap();
    let store = ScipStore::open(dir.path()).unwrap();
    store.ingest("t", "rxjs", "v", &raw[..]).unwrap();
    store.db().flush().unwrap();

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
    let t = Target::latest("t", "rxjs");
    let time = |f: &mut dyn FnMut(&Pos)| -> Vec<Duration> {
        for p in positions.iter().take(200) {
            f(p); // warm
        }
        positions
            .iter()
            .map(|p| {
                let s = Instant::now();
                f(p);
                s.elapsed()
            })
            .collect()
    };
    report(
        "definition",
        time(&mut |p| drop(store.definition(&t, &p.0, p.1, p.2).unwrap())),
    );
    report(
        "hover",
        time(&mut |p| drop(store.hover(&t, &p.0, p.1, p.2).unwrap())),
    );
    report(
        "occurrences at position",
        time(&mut |p| drop(store.occurrences(&t, &p.0, p.1, p.2).unwrap())),
    );
    let mut small = Vec::new();
    let mut all = Vec::new();
    for p in &positions {
        let s = Instant::now();
        let r = store.references(&t, &p.0, p.1, p.2, true).unwrap();
        let e = s.elapsed();
        all.push(e);
        if p.3 <= 1000 && r.len() <= 1000 {
            small.push(e);
        }
    }
    report("references (symbol <= 1000 occ.)", small);
    report("references (all)", all);
    report(
        "document symbols",
        time(&mut |p| drop(store.document_symbols(&t, &p.0).unwrap())),
    );
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
    for i in 0..n.min(2000) {
        let q = names[i % names.len()];
        let s = Instant::now();
        drop(store.workspace_symbols(&t, q, 20).unwrap());
        ws.push(s.elapsed());
    }
    report("workspace symbols (limit 20)", ws);
}
