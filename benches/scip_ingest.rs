//! Ingest throughput and storage size of the SCIP store on the real indexes.
//! `cargo bench --bench scip_ingest` (SCIPKV_SHARED overrides the data location).

mod scip_common;

use std::time::Instant;

use scip_common::{full_run, raw_index, table_bytes};
use scipkv_engine::scip::store::ScipStore;

fn main() {
    let full = full_run();
    // Under `cargo test` (debug, smoke run) a third-size index keeps it quick.
    let rxjs = raw_index(if full {
        "rxjs.scip.zst"
    } else {
        "rxjs-01-be72ebf1a.scip.zst"
    });
    let runs = if full { 3 } else { 1 };
    let mut best = f64::MAX;
    let mut stored = 0;
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        // Default options: SyncMode::Always, so the upload is durable when ingest returns.
        let store = ScipStore::open(dir.path()).unwrap();
        let t = Instant::now();
        store.ingest("t", "rxjs", "v", &rxjs[..]).unwrap();
        store.db().flush().unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        stored = table_bytes(store.db());
    }
    let mb = rxjs.len() as f64 / 1e6;
    println!(
        "ingest: {mb:.1} MB raw in {best:.3} s = {:.1} MB/s (durable, incl. flush)",
        mb / best
    );
    println!(
        "stored bytes (tables after flush) / raw: {stored} / {} = {:.3}",
        rxjs.len(),
        stored as f64 / rxjs.len() as f64
    );

    if !full {
        return;
    }
    // Three consecutive commits, oldest first, vs the newest alone.
    let files = [
        "rxjs-03-c0ccc04b2.scip.zst",
        "rxjs-02-7a9407bbe.scip.zst",
        "rxjs-01-be72ebf1a.scip.zst",
    ];
    let one = tempfile::tempdir().unwrap();
    let single = ScipStore::open(one.path()).unwrap();
    single
        .ingest("t", "rxjs", "01", &raw_index(files[2])[..])
        .unwrap();
    single.db().flush().unwrap();
    let three = tempfile::tempdir().unwrap();
    let all = ScipStore::open(three.path()).unwrap();
    for (i, f) in files.iter().enumerate() {
        all.ingest("t", "rxjs", &format!("0{}", 3 - i), &raw_index(f)[..])
            .unwrap();
    }
    all.db().flush().unwrap();
    let (p1, p3) = (table_bytes(single.db()), table_bytes(all.db()));
    let (l1, l3) = (
        single.logical_bytes("t").unwrap(),
        all.logical_bytes("t").unwrap(),
    );
    println!(
        "rxjs-01..03 together / rxjs-01 alone: physical {p3} / {p1} = {:.3}, logical {l3} / {l1} = {:.3}",
        p3 as f64 / p1 as f64,
        l3 as f64 / l1 as f64
    );
}
