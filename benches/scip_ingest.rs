//! Ingest throughput and storage size of the SCIP store on the real indexes.
//! `cargo bench --bench scip_ingest` (SCIPKV_SHARED overrides the data location).

mod scip_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use scip_common::{full_run, raw_index, scip_path, table_bytes};
use scipkv_engine::Db;
use scipkv_engine::scip::store::ScipStore;
use scipkv_engine::scip::{IndexItem, IndexReader};

/// Counts live heap bytes and their peak, for the memory figure of ingest (RSS would also
/// count the page cache of mapped tables and freed-but-retained allocator pages).
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// User + system CPU seconds of the whole process (every thread: ingest, flush, WAL).
fn process_cpu() -> f64 {
    // SAFETY: an all-zero rusage is a valid value; getrusage writes into it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable rusage.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) }, 0);
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Physical table bytes after flush and a full compaction (data at the bottom level, with
/// its codec: zstd-19 and a trained dictionary by default).
fn settled_bytes(db: &Db) -> u64 {
    db.flush().unwrap();
    db.compact_all().unwrap();
    table_bytes(db)
}

/// Peak heap growth while ingesting `name` streamed from its compressed file, with the given
/// memtable size; and the largest encoded document and the external symbols' bytes.
fn ingest_memory(name: &str, memtable: usize) -> (usize, usize, usize) {
    let (mut largest, mut externals) = (0, 0);
    let f = std::fs::File::open(scip_path(name)).unwrap();
    for item in IndexReader::new(f).unwrap() {
        match item.unwrap() {
            IndexItem::Document(d) => largest = largest.max(prost::Message::encoded_len(&d)),
            IndexItem::ExternalSymbol(s) => externals += prost::Message::encoded_len(&s),
            IndexItem::Metadata(_) => {}
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut o = ScipStore::recommended_options();
    o.memtable_size = memtable;
    if memtable < 64 << 20 {
        // The small configuration also drops the block cache, which fills with the blocks
        // the `HEADER` existence checks read: what is left is ingest's own working set.
        o.block_cache_bytes = 0;
    }
    let store = ScipStore::from_db(Db::open(dir.path(), o).unwrap());
    let f = std::fs::File::open(scip_path(name)).unwrap();
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    store.ingest("t", "rxjs", "v", f).unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    (peak, largest, externals)
}

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
    let mut settled = 0;
    let mut best_cpu = f64::MAX;
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        // Default options: SyncMode::Always, so the upload is durable when ingest returns.
        let store = ScipStore::open(dir.path()).unwrap();
        let (t, c) = (Instant::now(), process_cpu());
        store.ingest("t", "rxjs", "v", &rxjs[..]).unwrap();
        store.db().flush().unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(process_cpu() - c);
        stored = table_bytes(store.db());
        if full {
            settled = settled_bytes(store.db());
        }
    }
    let mb = rxjs.len() as f64 / 1e6;
    println!(
        "ingest: {mb:.1} MB raw in {best:.3} s = {:.1} MB/s (durable, incl. flush); \
         CPU time of all threads {best_cpu:.3} s = {:.1} MB per CPU-second",
        mb / best,
        mb / best_cpu
    );
    println!(
        "stored bytes (tables after flush) / raw: {stored} / {} = {:.3}",
        rxjs.len(),
        stored as f64 / rxjs.len() as f64
    );

    if !full {
        return;
    }
    println!(
        "stored bytes (after flush + compact_all) / raw: {settled} / {} = {:.3}",
        rxjs.len(),
        settled as f64 / rxjs.len() as f64
    );
    for memtable in [64 << 20, 4 << 20] {
        let (peak, largest, externals) = ingest_memory("rxjs.scip.zst", memtable);
        println!(
            "peak heap growth during ingest (streamed from the .zst file, memtable {}): {peak} bytes; \
             largest document {largest} bytes, external symbols {externals} bytes: \
             {:.2}x (largest document + external symbols)",
            if memtable < 64 << 20 {
                "4 MiB, no block cache"
            } else {
                "64 MiB (default)"
            },
            peak as f64 / (largest + externals) as f64
        );
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
    let (s1, s3) = (settled_bytes(single.db()), settled_bytes(all.db()));
    let (l1, l3) = (
        single.logical_bytes("t").unwrap(),
        all.logical_bytes("t").unwrap(),
    );
    println!(
        "rxjs-01..03 together / rxjs-01 alone: physical {p3} / {p1} = {:.3}, logical {l3} / {l1} = {:.3}",
        p3 as f64 / p1 as f64,
        l3 as f64 / l1 as f64
    );
    println!(
        "same after flush + compact_all: physical {s3} / {s1} = {:.3}; rxjs-01 alone / its raw bytes: {:.3}",
        s3 as f64 / s1 as f64,
        s1 as f64 / raw_index(files[2]).len() as f64
    );
}
