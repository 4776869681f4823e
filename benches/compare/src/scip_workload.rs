//! The SCIP workload: replay a captured ingest batch by batch (fsync per batch, as the
//! store's default `SyncMode::Always` does), settle, then run the store's query mix.
//!
//! The query mix follows `format-spec/scip-schema.md` §Queries, drawn from the keys the
//! ingest wrote (fixed seed, the same list for every engine):
//! - point reads: `H(hash)` (every position query reads the document header), `T(hash)`
//!   (document symbols);
//! - short scans: seek `O(hash, line)` and read 2 chunks (occurrences at a position),
//!   `D(symbol)` (definition), `R(symbol)` (references), `I(symbol)` (hover), and a `N`
//!   scan on a 3-byte lowercase name prefix, limit 100 (workspace symbols).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand::seq::{IndexedRandom, SliceRandom};
use scipkv_engine::scip::store::DEFAULT_TENANT;

use crate::engines::{self, Result, Tuning};
use crate::measure::{Timings, dir_bytes, process_write_bytes};
use crate::report::Row;
use crate::scip_capture::Capture;

/// One query of the mix, labelled with what the store would be answering.
#[derive(Debug, Clone)]
pub struct Query {
    pub kind: &'static str,
    pub op: QueryOp,
}

#[derive(Debug, Clone)]
pub enum QueryOp {
    Get(Vec<u8>),
    Scan {
        start: Vec<u8>,
        prefix: Vec<u8>,
        limit: usize,
    },
}

/// `'S' "default" 0x00 0x01`: the tenant prefix of every key the CLI's tenant writes.
fn tenant_prefix() -> Vec<u8> {
    let mut p = vec![b'S'];
    p.extend_from_slice(DEFAULT_TENANT.as_bytes());
    p.extend_from_slice(&[0, 1]);
    p
}

/// The key up to and including the terminator of its first string component after `from`.
fn through_first_string(k: &[u8], from: usize) -> Option<&[u8]> {
    let mut i = from;
    while i + 1 < k.len() {
        if k[i] == 0 {
            if k[i + 1] == 1 {
                return Some(&k[..i + 2]);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}

/// `count` queries drawn from the final key set of `cap`, shuffled with `seed`.
pub fn query_mix(cap: &Capture, count: usize, seed: u64) -> Result<Vec<Query>> {
    let mut live: BTreeMap<&[u8], bool> = BTreeMap::new();
    for op in cap.batches.iter().flatten() {
        live.insert(&op.key, op.value.is_some());
    }
    let tp = tenant_prefix();
    let t = tp.len();
    let mut by_tag: BTreeMap<u8, Vec<&[u8]>> = BTreeMap::new();
    for (k, present) in &live {
        if *present && k.len() > t && k.starts_with(&tp) {
            by_tag.entry(k[t]).or_default().push(k);
        }
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    let pick = |tag: u8, rng: &mut SmallRng| -> Result<&[u8]> {
        by_tag
            .get(&tag)
            .and_then(|v| v.choose(rng).copied())
            .ok_or_else(|| format!("{}: no {:?} keys in the capture", cap.project, tag as char))
    };
    let kinds = 7;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let kind = [
            "get_H", "get_T", "scan_O", "scan_D", "scan_R", "scan_I", "scan_N",
        ][i % kinds];
        let op = match i % kinds {
            0 => QueryOp::Get(pick(b'H', &mut rng)?.to_vec()),
            1 => QueryOp::Get(pick(b'T', &mut rng)?.to_vec()),
            2 => {
                let k = pick(b'O', &mut rng)?;
                // tenant, tag, 16-byte hash: the chunks of one document.
                let prefix = k[..t + 1 + 16].to_vec();
                QueryOp::Scan {
                    start: k.to_vec(),
                    prefix,
                    limit: 2,
                }
            }
            3..=5 => {
                let tag = [b'D', b'R', b'I'][i % kinds - 3];
                let k = pick(tag, &mut rng)?;
                let prefix = through_first_string(k, t + 1)
                    .ok_or_else(|| "symbol key without a terminated symbol".to_string())?
                    .to_vec();
                QueryOp::Scan {
                    start: prefix.clone(),
                    prefix,
                    limit: 1000,
                }
            }
            _ => {
                let k = pick(b'N', &mut rng)?;
                let end = (t + 1 + 3)
                    .min(through_first_string(k, t + 1).map_or(k.len(), |p| p.len() - 2));
                let prefix = k[..end].to_vec();
                QueryOp::Scan {
                    start: prefix.clone(),
                    prefix,
                    limit: 100,
                }
            }
        };
        out.push(Query { kind, op });
    }
    out.shuffle(&mut rng);
    Ok(out)
}

/// Replays `cap` into a fresh store of `engine`, settles, and runs `queries`. Returns the
/// ingest row, the query row, and the number of entries the queries read (which must be
/// the same for every engine).
pub fn run(
    engine: &str,
    root: &Path,
    cap: &Capture,
    queries: &[Query],
    tuning: Tuning,
) -> Result<(Vec<Row>, u64)> {
    let dir = root.join(format!("{engine}-scip-{}", cap.project));
    let mut rows = Vec::new();
    let mut read = 0u64;
    {
        let e = engines::open(engine, &dir, tuning)?;
        let e = e.as_ref();
        let mut t = Timings::with_capacity(cap.batches.len());
        let written0 = process_write_bytes();
        let start = Instant::now();
        for b in &cap.batches {
            t.time(|| e.write_batch(b))?;
        }
        t.wall = start.elapsed();
        t.ops = cap.entries() as u64;
        e.settle()?;
        let written = process_write_bytes() - written0;
        let (disk, wal) = dir_bytes(&dir);
        rows.push(Row {
            workload: format!("scip_ingest_{}", cap.project),
            engine: e.name(),
            ops_per_sec: t.ops_per_sec(),
            p50_us: t.quantile_us(0.5),
            p99_us: t.quantile_us(0.99),
            disk_bytes: Some(disk),
            wal_bytes: Some(wal),
            write_amp: Some(written as f64 / cap.user_bytes() as f64),
        });
        eprintln!(
            "    scip_ingest_{} {}: {:.1} MB/s of keys+values",
            cap.project,
            e.name(),
            cap.user_bytes() as f64 / 1e6 / t.wall.as_secs_f64()
        );

        // Two passes over the same queries: `cold` right after the load (blocks not yet in
        // the block cache), then `warm`. Only the warm pass's entry count is returned.
        for pass in ["cold", "warm"] {
            read = 0;
            let mut t = Timings::with_capacity(queries.len());
            let mut per_kind: BTreeMap<&str, Timings> = BTreeMap::new();
            let start = Instant::now();
            for q in queries {
                let before = t.nanos.len();
                match &q.op {
                    QueryOp::Get(k) => {
                        if t.time(|| e.get(k))?.is_none() {
                            return Err(format!("{engine}: SCIP key missing after replay"));
                        }
                        read += 1;
                    }
                    QueryOp::Scan {
                        start,
                        prefix,
                        limit,
                    } => {
                        let n = t.time(|| e.scan(start, Some(prefix), *limit))?;
                        if n == 0 {
                            return Err(format!("{engine}: SCIP scan found nothing"));
                        }
                        read += n as u64;
                    }
                }
                per_kind
                    .entry(q.kind)
                    .or_default()
                    .nanos
                    .push(t.nanos[before]);
            }
            t.wall = start.elapsed();
            for (kind, k) in &mut per_kind {
                let mean = k.nanos.iter().sum::<u64>() as f64 / k.nanos.len().max(1) as f64 / 1e3;
                eprintln!(
                    "    scip_query_{pass}_{} {} {kind}: n {} mean {mean:.1} us p50 {:.1} us p99 {:.1} us",
                    cap.project,
                    e.name(),
                    k.nanos.len(),
                    k.quantile_us(0.5),
                    k.quantile_us(0.99)
                );
            }
            t.ops = queries.len() as u64;
            rows.push(Row {
                workload: format!("scip_query_{pass}_{}", cap.project),
                engine: e.name(),
                ops_per_sec: t.ops_per_sec(),
                p50_us: t.quantile_us(0.5),
                p99_us: t.quantile_us(0.99),
                disk_bytes: None,
                wal_bytes: None,
                write_amp: None,
            });
        }
        // Data at rest: everything compacted into each engine's last level, whose codec is
        // its coldest (scipkv: zstd-19 with a trained dictionary; RocksDB: zstd bottommost;
        // fjall: LZ4). Only the bytes on disk are reported.
        let start = Instant::now();
        e.compact_full()?;
        let (disk, wal) = dir_bytes(&dir);
        rows.push(Row {
            workload: format!("scip_compacted_{}", cap.project),
            engine: e.name(),
            ops_per_sec: 1.0 / start.elapsed().as_secs_f64().max(1e-9),
            p50_us: 0.0,
            p99_us: 0.0,
            disk_bytes: Some(disk),
            wal_bytes: Some(wal),
            write_amp: None,
        });
    }
    std::fs::remove_dir_all(&dir).map_err(engines::err)?;
    Ok((rows, read))
}
