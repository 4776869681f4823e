//! db_bench-style workloads on 16-byte keys and 100-byte values (sizes from the flags):
//! fillrandom, fillseq, readrandom (hits and misses separately), seekrandom + next 10, and
//! readwhilewriting. WAL on, not fsynced per write, for every engine (db_bench's default).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::engines::{self, Engine, Result, Tuning};
use crate::measure::{Timings, dir_bytes, process_write_bytes};
use crate::report::Row;

#[derive(Debug, Clone, Copy)]
pub struct MicroConfig {
    pub keys: u64,
    pub key_len: usize,
    pub value_len: usize,
    pub reads: u64,
    pub readers: usize,
    pub seed: u64,
    pub tuning: Tuning,
}

/// Key `i`: decimal, zero-padded to `len` bytes, so byte order is numeric order.
pub fn key(i: u64, len: usize) -> Vec<u8> {
    let s = format!("{i:0len$}");
    s.into_bytes()
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Value of key `i`: the first half pseudo-random, the second a copy of it, so block codecs
/// see about 2x compressible data (db_bench's default `compression_ratio` 0.5).
pub fn value(i: u64, len: usize, out: &mut Vec<u8>) {
    out.clear();
    let half = len.div_ceil(2);
    let mut x = i;
    while out.len() < half {
        x = splitmix(x);
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(half);
    out.extend_from_within(..len - half);
}

fn row(w: &str, e: &dyn Engine, t: &mut Timings) -> Row {
    Row {
        workload: w.into(),
        engine: e.name(),
        ops_per_sec: t.ops_per_sec(),
        p50_us: t.quantile_us(0.5),
        p99_us: t.quantile_us(0.99),
        disk_bytes: None,
        wal_bytes: None,
        write_amp: None,
    }
}

/// Loads `order` (key indexes) one put at a time, then settles; a row with disk bytes and
/// write amplification.
fn fill(w: &str, e: &dyn Engine, dir: &Path, order: &[u64], c: &MicroConfig) -> Result<Row> {
    let mut t = Timings::with_capacity(order.len());
    let mut v = Vec::with_capacity(c.value_len);
    let written0 = process_write_bytes();
    let start = Instant::now();
    for &i in order {
        let k = key(i, c.key_len);
        value(i, c.value_len, &mut v);
        t.time(|| e.put(&k, &v))?;
    }
    t.wall = start.elapsed();
    t.ops = order.len() as u64;
    e.settle()?;
    let written = process_write_bytes() - written0;
    let user = order.len() as u64 * (c.key_len + c.value_len) as u64;
    let mut r = row(w, e, &mut t);
    let (disk, wal) = dir_bytes(dir);
    r.disk_bytes = Some(disk);
    r.wal_bytes = Some(wal);
    r.write_amp = Some(written as f64 / user as f64);
    Ok(r)
}

/// Every micro workload on one engine: a fresh store for fillrandom (then the reads on it)
/// and another for fillseq.
pub fn run(name: &str, root: &Path, c: &MicroConfig) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut rng = SmallRng::seed_from_u64(c.seed);
    let mut order: Vec<u64> = (0..c.keys).collect();
    order.shuffle(&mut rng);

    let dir = root.join(format!("{name}-random"));
    {
        let e = engines::open(name, &dir, c.tuning)?;
        let e = e.as_ref();
        rows.push(fill("fillrandom", e, &dir, &order, c)?);
        rows.push(read_random(e, c, &mut rng, true)?);
        rows.push(read_random(e, c, &mut rng, false)?);
        rows.push(seek_random(e, c, &mut rng)?);
        rows.push(read_while_writing(e, c)?);
    }
    std::fs::remove_dir_all(&dir).map_err(engines::err)?;

    let dir = root.join(format!("{name}-seq"));
    {
        let e = engines::open(name, &dir, c.tuning)?;
        order.sort_unstable();
        rows.push(fill("fillseq", e.as_ref(), &dir, &order, c)?);
    }
    std::fs::remove_dir_all(&dir).map_err(engines::err)?;
    Ok(rows)
}

/// Random point reads of present keys (`hit`) or of absent keys between them (`!hit`:
/// indexes past the loaded range share their prefix with present keys).
fn read_random(e: &dyn Engine, c: &MicroConfig, rng: &mut SmallRng, hit: bool) -> Result<Row> {
    let mut t = Timings::with_capacity(c.reads as usize);
    let probes: Vec<Vec<u8>> = (0..c.reads)
        .map(|_| {
            let i = rng.random_range(0..c.keys);
            key(if hit { i } else { c.keys + i }, c.key_len)
        })
        .collect();
    let start = Instant::now();
    for k in &probes {
        let got = t.time(|| e.get(k))?;
        if got.is_some() != hit {
            return Err(format!(
                "{}: key {} {} (expected {})",
                e.name(),
                String::from_utf8_lossy(k),
                if hit { "missing" } else { "found" },
                if hit { "present" } else { "absent" }
            ));
        }
    }
    t.wall = start.elapsed();
    t.ops = c.reads;
    let w = if hit {
        "readrandom_hit"
    } else {
        "readrandom_miss"
    };
    Ok(row(w, e, &mut t))
}

/// Seek to a random present key, then read it and the next 9 (10 entries in all).
fn seek_random(e: &dyn Engine, c: &MicroConfig, rng: &mut SmallRng) -> Result<Row> {
    let mut t = Timings::with_capacity(c.reads as usize);
    let starts: Vec<u64> = (0..c.reads).map(|_| rng.random_range(0..c.keys)).collect();
    let start = Instant::now();
    for &i in &starts {
        let k = key(i, c.key_len);
        let n = t.time(|| e.scan(&k, None, 10))?;
        let want = 10.min(c.keys - i) as usize;
        if n != want {
            return Err(format!(
                "{}: seek to {i} read {n} entries, want {want}",
                e.name()
            ));
        }
    }
    t.wall = start.elapsed();
    t.ops = c.reads;
    Ok(row("seekrandom_next10", e, &mut t))
}

/// `readers` threads each doing `reads / readers` random hits while one writer overwrites
/// random keys until they finish. The row is the readers' throughput and latency.
fn read_while_writing(e: &dyn Engine, c: &MicroConfig) -> Result<Row> {
    let done = AtomicBool::new(false);
    let per_reader = c.reads / c.readers as u64;
    let start = Instant::now();
    let (readers, writes) = std::thread::scope(|s| {
        let writer = s.spawn(|| -> Result<u64> {
            let mut rng = SmallRng::seed_from_u64(c.seed ^ 0x5752);
            let mut v = Vec::with_capacity(c.value_len);
            let mut n = 0;
            while !done.load(Ordering::Relaxed) {
                let i = rng.random_range(0..c.keys);
                value(i ^ 1, c.value_len, &mut v);
                e.put(&key(i, c.key_len), &v)?;
                n += 1;
            }
            Ok(n)
        });
        let readers: Vec<_> = (0..c.readers)
            .map(|r| {
                s.spawn(move || -> Result<Timings> {
                    let mut rng = SmallRng::seed_from_u64(c.seed ^ (r as u64 + 1) << 32);
                    let mut t = Timings::with_capacity(per_reader as usize);
                    for _ in 0..per_reader {
                        let k = key(rng.random_range(0..c.keys), c.key_len);
                        if t.time(|| e.get(&k))?.is_none() {
                            return Err(format!("{}: present key missing while writing", e.name()));
                        }
                    }
                    Ok(t)
                })
            })
            .collect();
        let readers: Vec<_> = readers
            .into_iter()
            .map(|h| h.join().expect("reader"))
            .collect();
        done.store(true, Ordering::Relaxed);
        (readers, writer.join().expect("writer"))
    });
    let wall = start.elapsed();
    let mut all = Timings::default();
    for t in readers {
        all.nanos.extend(t?.nanos);
    }
    let writes = writes?;
    all.wall = wall;
    all.ops = per_reader * c.readers as u64;
    eprintln!(
        "    readwhilewriting {}: writer did {writes} puts ({:.0}/s)",
        e.name(),
        writes as f64 / wall.as_secs_f64()
    );
    Ok(row("readwhilewriting", e, &mut all))
}
