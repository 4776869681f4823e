//! Ingest throughput and storage size of the SCIP store on the real indexes.
//! `cargo bench --bench scip_ingest` (SCIPKV_SHARED overrides the data location);
//! `SCIPKV_INGEST_MEMORY_ONLY=1` runs only the memory figures (each ingest in a fresh child
//! process of this binary, for its RSS high-water mark); `SCIPKV_INGEST_CPU_ONLY=1` stops
//! after the ingest speed and stored-bytes lines.

mod scip_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use scip_common::{full_run, raw_index, scip_path, table_bytes};
use scipkv_engine::Db;
use scipkv_engine::scip::store::ScipStore;
use scipkv_engine::scip::{IndexReader, RawItem};

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

/// The largest document's protobuf bytes and the external symbols' protobuf bytes of an
/// index: the denominator of the memory target ("2x the largest document plus the symbol
/// table").
fn index_sizes(name: &str) -> (usize, usize) {
    let (mut largest, mut externals) = (0, 0);
    let f = std::fs::File::open(scip_path(name)).unwrap();
    let mut r = IndexReader::new(f).unwrap();
    while let Some(item) = r.next_raw().unwrap() {
        match item {
            RawItem::Document { payload, .. } => largest = largest.max(payload.len()),
            RawItem::ExternalSymbol(s) => externals += prost::Message::encoded_len(&s),
            RawItem::Metadata(_) => {}
        }
    }
    (largest, externals)
}

/// A line of /proc/self/status, in bytes (the kernel reports kB).
fn proc_status_bytes(field: &str) -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with(field)).unwrap();
    let kb: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Run in a child process (a fresh heap and RSS high-water mark): ingests `name`, streamed
/// from the .zst file or from its decompressed copy `raw` if given, with `memtable` bytes
/// of memtable (and no block cache when below the default). Prints peak Rust-heap growth
/// (the counting allocator) and peak RSS growth (VmHWM after the ingest, reset before it,
/// minus VmRSS before it: includes zstd's and the allocator's own memory).
fn memory_child(name: &str, raw: Option<&str>, memtable: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut o = ScipStore::recommended_options();
    o.memtable_size = memtable;
    if memtable < 64 << 20 {
        // The small configuration also drops the block cache, which fills with the blocks
        // the `HEADER` existence checks read: what is left is ingest's own working set.
        o.block_cache_bytes = 0;
    }
    let store = ScipStore::from_db(Db::open(dir.path(), o).unwrap());
    let f = std::fs::File::open(raw.map_or_else(|| scip_path(name), Into::into)).unwrap();
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let rss_before = proc_status_bytes("VmRSS:");
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    store.ingest("t", "p", "v", f).unwrap();
    let heap = PEAK.load(Ordering::Relaxed) - base;
    let rss = proc_status_bytes("VmHWM:") - rss_before;
    println!("{heap} {rss}");
}

/// Peak heap and RSS growth of one ingest configuration, measured in a fresh process.
fn ingest_memory(name: &str, raw: Option<&std::path::Path>, memtable: usize) -> (usize, usize) {
    let mut arg = format!("{name}|{memtable}|");
    if let Some(r) = raw {
        arg.push_str(r.to_str().unwrap());
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD, arg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut it = text.split_whitespace().map(|v| v.parse::<usize>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

/// Environment variable that turns this binary into [`memory_child`].
const CHILD: &str = "SCIPKV_INGEST_MEMORY_CHILD";

fn memory_report() {
    println!(
        "load average before the memory runs: {}",
        std::fs::read_to_string("/proc/loadavg").unwrap().trim()
    );
    for name in ["rxjs.scip.zst", "django.scip.zst"] {
        let (largest, externals) = index_sizes(name);
        let target = 2 * largest + externals;
        println!(
            "{name}: largest document {largest} B, external symbols {externals} B: \
             target 2 x {largest} + {externals} = {target} B"
        );
        let dir = tempfile::tempdir().unwrap();
        let raw_path = dir.path().join("index.scip");
        std::fs::write(&raw_path, raw_index(name)).unwrap();
        for (input, raw) in [(".zst", None), ("raw", Some(raw_path.as_path()))] {
            for (memtable, label) in [
                (64 << 20, "64 MiB memtable + 256 MiB block cache (default)"),
                (4 << 20, "4 MiB memtable, no block cache"),
                (1 << 20, "1 MiB memtable, no block cache"),
            ] {
                let (heap, rss) = ingest_memory(name, raw, memtable);
                println!(
                    "  from {input}, {label}: peak heap growth {heap} B = {:.2}x (largest \
                     document + external symbols), {:.2} of the target; peak RSS growth \
                     {rss} B = {:.2} of the target",
                    heap as f64 / (largest + externals) as f64,
                    heap as f64 / target as f64,
                    rss as f64 / target as f64,
                );
            }
        }
    }
}

fn main() {
    if let Ok(arg) = std::env::var(CHILD) {
        let mut parts = arg.splitn(3, '|');
        let name = parts.next().unwrap();
        let memtable = parts.next().unwrap().parse().unwrap();
        let raw = parts.next().filter(|r| !r.is_empty());
        memory_child(name, raw, memtable);
        return;
    }
    if std::env::var_os("SCIPKV_INGEST_MEMORY_ONLY").is_some() {
        memory_report();
        return;
    }
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

    if !full || std::env::var_os("SCIPKV_INGEST_CPU_ONLY").is_some() {
        return;
    }
    println!(
        "stored bytes (after flush + compact_all) / raw: {settled} / {} = {:.3}",
        rxjs.len(),
        settled as f64 / rxjs.len() as f64
    );
    memory_report();
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
