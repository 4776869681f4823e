//! Crash-loop stress tester (db_stress style) with real SIGKILL.
//!
//! The parent runs rounds: it starts itself as a child that opens the database and runs
//! random operations (put, delete, batch, get, range iteration, snapshot reads, flush,
//! compaction, chunk-store garbage collection) from several threads in `SyncMode::Always`, kills it with SIGKILL at a random
//! point, reopens the database and verifies it against the expected state.
//!
//! Expected state: each thread owns the keys `k % threads == thread`, so each key has at most
//! one write in flight. Before a write the child prints `P <thread> <key>=<tag|-> ...` and
//! after it is acknowledged `A <thread>`, one line each, flushed, on stdout (the trace). The
//! parent reads the whole trace (lines written before the kill stay in the pipe), so it knows
//! every acknowledged write and, per thread, the one in flight: after reopen every key must
//! hold its last acknowledged value, except the keys of an in-flight write, which hold either
//! all old or all new values (batches are atomic). The child also checks its own reads
//! against what it knows of its keys (exit status 2 on a wrong read).
//!
//! The chunk store is on for every key: one value in twenty is above the 2 KiB threshold
//! (3 KiB, or 3 to 9 KiB) and built from a small palette of blocks, so its chunks are shared with
//! other values and the mark-and-sweep GC that thread 0 runs now and then has live, shared
//! and dead chunks to tell apart while the writers race it. After every reopen the parent
//! also checks that no live manifest references a missing or half-written chunk.
//!
//! Usage: `scipkv-stress [--dir D] [--kills N] [--seconds S] [--threads T] [--seed S]`.
//! Without `--dir` a temporary directory under /dev/shm (or the system temp dir) is used and
//! removed at the end. `--seconds` stops after that long even if fewer kills were done.
//! Prints the seed; `--seed` (or `SCIPKV_SEED`) reruns a failure's choices.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scipkv_engine::{
    CompactionOptions, Compression, Db, DedupOptions, Options, SyncMode, TableOptions, WriteBatch,
};

const KEYS: u64 = 2000;

/// SplitMix64, so a seed reproduces every choice made in one thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn options() -> Options {
    Options {
        sync: SyncMode::Always,
        memtable_size: 64 << 10,
        block_cache_bytes: 1 << 20,
        table: TableOptions {
            block_size: 1024,
            ..TableOptions::default()
        },
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            l1_target_bytes: 128 << 10,
            level_size_ratio: 4,
            target_table_bytes: 64 << 10,
            // The default codecs, dictionaries included, but zstd-3 where the default is
            // zstd-19: with tables this small a compaction runs every few writes, and
            // zstd-19 would take most of the run's CPU.
            level_compression: vec![
                Compression::Zstd { level: 3 },
                Compression::ZstdDictionary { level: 3 },
            ],
            // Idle compaction in every pause of the writers, given up at their next write:
            // kills land in both.
            idle_after: Some(std::time::Duration::from_millis(1)),
            ..CompactionOptions::default()
        },
        dedup: Some(DedupOptions {
            threshold: 2048,
            prefixes: Vec::new(),
        }),
        ..Options::default()
    }
}

fn key(k: u64) -> Vec<u8> {
    format!("key{k:05}").into_bytes()
}

fn parse_key(k: &[u8]) -> u64 {
    std::str::from_utf8(k)
        .ok()
        .and_then(|s| s.strip_prefix("key"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unexpected key {:?}", String::from_utf8_lossy(k)))
}

/// The value written for `tag`: the tag, then filler whose length depends on the tag.
fn value(tag: &str) -> Vec<u8> {
    let mut h = Rng(tag
        .bytes()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b.into())));
    let mut v = format!("{tag}|").into_bytes();
    match h.below(40) {
        0 | 1 => v.extend(std::iter::repeat_n(b'a' + (h.below(26) as u8), 3000)),
        2 => {
            // Chunked: a run of palette blocks, so chunks repeat across values.
            let palette = palette();
            for _ in 0..2 + h.below(5) {
                v.extend_from_slice(&palette[h.below(palette.len() as u64) as usize]);
            }
        }
        _ => {
            let len = h.below(200) as usize;
            v.extend(std::iter::repeat_n(b'a' + (h.below(26) as u8), len));
        }
    }
    v
}

/// 32 pseudo-random 1.5 KiB blocks (no '|', so the tag stays the first field).
fn palette() -> &'static [Vec<u8>] {
    static PALETTE: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    PALETTE.get_or_init(|| {
        let mut r = Rng(0x005E_ED0F_B10C);
        (0..32)
            .map(|_| (0..1536).map(|_| b'0' + r.below(64) as u8).collect())
            .collect()
    })
}

fn tag_of(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    s.split('|').next().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------- child

fn child(dir: &Path, seed: u64, threads: u64) -> ExitCode {
    let db = Db::open(dir, options()).expect("child: open");
    // What is in the database now (the parent has just verified it).
    let mut state: HashMap<u64, String> = HashMap::new();
    for item in db.iter::<&[u8]>(..) {
        let (k, v) = item.expect("child: initial scan");
        state.insert(parse_key(&k), tag_of(&v));
    }
    let out = Arc::new(Mutex::new(std::io::stdout()));
    {
        let mut o = out.lock().unwrap();
        writeln!(o, "R").unwrap();
        o.flush().unwrap();
    }
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let db = db.clone();
            let out = Arc::clone(&out);
            let mine: HashMap<u64, String> = state
                .iter()
                .filter(|(k, _)| *k % threads == t)
                .map(|(k, v)| (*k, v.clone()))
                .collect();
            std::thread::spawn(move || worker(db, out, seed, t, threads, mine))
        })
        .collect();
    for h in handles {
        if h.join().is_err() {
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn emit(out: &Mutex<std::io::Stdout>, line: &str) {
    let mut o = out.lock().unwrap();
    writeln!(o, "{line}").unwrap();
    o.flush().unwrap();
}

fn worker(
    db: Db,
    out: Arc<Mutex<std::io::Stdout>>,
    seed: u64,
    t: u64,
    threads: u64,
    mut mine: HashMap<u64, String>,
) {
    let pid = std::process::id();
    let mut rng = Rng(seed ^ (u64::from(pid) << 20) ^ t.wrapping_mul(0x1234_5678_9ABC));
    let own = |rng: &mut Rng| rng.below(KEYS / threads) * threads + t;
    for n in 0u64.. {
        match rng.below(100) {
            0..=59 => {
                // put, delete, or a batch of them over this thread's keys
                let count = if rng.below(4) == 0 {
                    2 + rng.below(6)
                } else {
                    1
                };
                let mut ops: BTreeMap<u64, Option<String>> = BTreeMap::new();
                for i in 0..count {
                    let k = own(&mut rng);
                    let v = (rng.below(8) != 0).then(|| format!("p{pid}t{t}n{n}i{i}"));
                    ops.insert(k, v);
                }
                let line: Vec<String> = ops
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("-")))
                    .collect();
                emit(&out, &format!("P {t} {}", line.join(" ")));
                let r = if ops.len() == 1 {
                    let (k, v) = ops.iter().next().unwrap();
                    match v {
                        Some(v) => db.put(key(*k), value(v)),
                        None => db.delete(key(*k)),
                    }
                } else {
                    let mut b = WriteBatch::new();
                    for (k, v) in &ops {
                        match v {
                            Some(v) => b.put(key(*k), value(v)),
                            None => b.delete(key(*k)),
                        }
                    }
                    db.write(b)
                };
                r.unwrap_or_else(|e| panic!("child: write failed: {e}"));
                emit(&out, &format!("A {t}"));
                for (k, v) in ops {
                    match v {
                        Some(v) => mine.insert(k, v),
                        None => mine.remove(&k),
                    };
                }
            }
            60..=79 => {
                let k = own(&mut rng);
                let got = db.get(key(k)).expect("child: get").map(|v| {
                    assert_eq!(v, value(&tag_of(&v)), "child: damaged value for {k}");
                    tag_of(&v)
                });
                assert_eq!(got.as_ref(), mine.get(&k), "child: get {k} in thread {t}");
            }
            80..=89 => {
                // A range scan: this thread's keys in it must match, others only be well formed.
                let lo = rng.below(KEYS);
                let snap = (rng.below(2) == 0).then(|| db.snapshot());
                let items: Vec<_> = match &snap {
                    Some(s) => s.iter(key(lo)..key(lo + 50)).collect(),
                    None => db.iter(key(lo)..key(lo + 50)).collect(),
                };
                let mut seen = HashMap::new();
                for item in items {
                    let (k, v) = item.expect("child: scan");
                    assert_eq!(v, value(&tag_of(&v)), "child: damaged value in scan");
                    seen.insert(parse_key(&k), tag_of(&v));
                }
                for k in lo..lo + 50 {
                    if k % threads == t {
                        assert_eq!(
                            seen.get(&k),
                            mine.get(&k),
                            "child: scan at {k} in thread {t}"
                        );
                    }
                }
            }
            90..=94 if t == 0 => db.flush().expect("child: flush"),
            95..=96 if t == 0 => db.compact().expect("child: compact"),
            97 if t == 0 => {
                db.gc().expect("child: chunk gc");
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- parent

/// Per key: the last acknowledged tag (None = absent).
type Expected = BTreeMap<u64, String>;

fn verify(
    dir: &Path,
    expected: &mut Expected,
    in_flight: &HashMap<u64, Vec<(u64, Option<String>)>>,
    round: u64,
) {
    let db = Db::open(dir, options()).unwrap_or_else(|e| panic!("round {round}: reopen: {e}"));
    let mut got: Expected = BTreeMap::new();
    for item in db.iter::<&[u8]>(..) {
        let (k, v) = item.unwrap_or_else(|e| panic!("round {round}: scan: {e}"));
        let tag = tag_of(&v);
        assert_eq!(v, value(&tag), "round {round}: damaged value for {k:?}");
        got.insert(parse_key(&k), tag);
    }
    let chunks = db
        .verify_chunks()
        .unwrap_or_else(|e| panic!("round {round}: verify_chunks: {e}"));
    assert!(
        chunks.missing_chunks == 0 && chunks.half_written_chunks == 0,
        "round {round}: chunk store damaged: {chunks:?}"
    );
    let mut pending_keys = std::collections::HashSet::new();
    for (t, ops) in in_flight {
        let applied = ops.iter().filter(|(k, v)| got.get(k) == v.as_ref()).count();
        let old = ops
            .iter()
            .filter(|(k, _)| got.get(k) == expected.get(k))
            .count();
        // All new or all old (a key whose old and new values agree counts for both).
        assert!(
            applied == ops.len() || old == ops.len(),
            "round {round}: thread {t}'s in-flight write is partly applied: {ops:?}"
        );
        pending_keys.extend(ops.iter().map(|(k, _)| *k));
    }
    for k in expected.keys().chain(got.keys()) {
        if !pending_keys.contains(k) {
            assert_eq!(
                got.get(k),
                expected.get(k),
                "round {round}: key {k}: recovered value is not the last acknowledged one"
            );
        }
    }
    *expected = got;
    db.close()
        .unwrap_or_else(|e| panic!("round {round}: close: {e}"));
}

struct Args {
    dir: Option<PathBuf>,
    kills: u64,
    seconds: u64,
    threads: u64,
    seed: u64,
}

const USAGE: &str =
    "usage: scipkv-stress [--dir D] [--kills N] [--seconds S] [--threads T] [--seed S]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        dir: None,
        kills: 100,
        seconds: u64::MAX,
        threads: 4,
        seed: std::env::var("SCIPKV_SEED").ok().map_or_else(
            || {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            },
            |s| s.parse().expect("SCIPKV_SEED must be a u64"),
        ),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let val = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = || val.parse::<u64>().map_err(|e| format!("{flag} {val}: {e}"));
        match flag.as_str() {
            "--dir" => a.dir = Some(PathBuf::from(&val)),
            "--kills" => a.kills = num()?,
            "--seconds" => a.seconds = num()?,
            "--threads" => a.threads = num()?.max(1),
            "--seed" => a.seed = num()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    if let Ok(dir) = std::env::var("SCIPKV_STRESS_CHILD_DIR") {
        let seed = std::env::var("SCIPKV_STRESS_CHILD_SEED")
            .unwrap()
            .parse()
            .unwrap();
        let threads = std::env::var("SCIPKV_STRESS_CHILD_THREADS")
            .unwrap()
            .parse()
            .unwrap();
        return child(Path::new(&dir), seed, threads);
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("scipkv-stress: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let seed = args.seed;
    eprintln!("scipkv-stress: seed {seed} (rerun with --seed {seed})");
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            let base = if Path::new("/dev/shm").is_dir() {
                PathBuf::from("/dev/shm")
            } else {
                std::env::temp_dir()
            };
            tmp = base.join(format!("scipkv-stress-{}-{seed}", std::process::id()));
            tmp.clone()
        }
    };
    let result = std::panic::catch_unwind(|| run(&dir, &args));
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => {
            eprintln!("scipkv-stress: FAILED, seed {seed} (rerun with --seed {seed})");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &Path, args: &Args) {
    let seed = args.seed;
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().unwrap();
    let start = Instant::now();
    let deadline = Duration::from_secs(args.seconds.min(u64::MAX / 4));
    let mut expected = Expected::new();
    if dir.join("CURRENT").exists() {
        // Continuing in an existing directory: take its state as the starting point.
        verify(dir, &mut expected, &HashMap::new(), 0);
    }
    let (mut kills, mut acks, mut in_flight_total) = (0u64, 0u64, 0u64);
    while kills < args.kills && start.elapsed() < deadline {
        let round = kills;
        let round_seed = rng.next();
        let mut child = Command::new(&exe)
            .env("SCIPKV_STRESS_CHILD_DIR", dir)
            .env("SCIPKV_STRESS_CHILD_SEED", round_seed.to_string())
            .env("SCIPKV_STRESS_CHILD_THREADS", args.threads.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning the child");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a random number of trace lines (one round in ten: during recovery).
        let budget = if rng.below(10) == 0 {
            0
        } else {
            1 + rng.below(3000)
        };
        let mut pending: HashMap<u64, Vec<(u64, Option<String>)>> = HashMap::new();
        let mut handle = |line: &str, pending: &mut HashMap<u64, Vec<(u64, Option<String>)>>| {
            let mut parts = line.split(' ');
            match parts.next() {
                Some("P") => {
                    let t: u64 = parts.next().unwrap().parse().unwrap();
                    let ops = parts
                        .map(|kv| {
                            let (k, v) = kv.split_once('=').unwrap();
                            (k.parse().unwrap(), (v != "-").then(|| v.to_string()))
                        })
                        .collect();
                    pending.insert(t, ops);
                }
                Some("A") => {
                    let t: u64 = parts.next().unwrap().parse().unwrap();
                    for (k, v) in pending.remove(&t).expect("ack without a pending write") {
                        match v {
                            Some(v) => expected.insert(k, v),
                            None => expected.remove(&k),
                        };
                    }
                    acks += 1;
                }
                Some("R") => {}
                _ => panic!("round {round}: bad trace line {line:?}"),
            }
        };
        for _ in 0..budget {
            match lines.next() {
                Some(l) => handle(&l.unwrap(), &mut pending),
                None => break,
            }
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        for l in lines {
            handle(&l.unwrap(), &mut pending);
        }
        // A child that exits by itself found a wrong read or failed a write.
        assert!(
            status.code().is_none(),
            "round {round}: child exited by itself with {status}"
        );
        in_flight_total += pending.len() as u64;
        verify(dir, &mut expected, &pending, round);
        kills += 1;
    }
    println!(
        "scipkv-stress: {kills} kills survived, {acks} acknowledged writes verified \
         ({in_flight_total} in flight at kills), {} keys at the end, {:.1} s, {} threads, seed {seed}",
        expected.len(),
        start.elapsed().as_secs_f64(),
        args.threads
    );
}
