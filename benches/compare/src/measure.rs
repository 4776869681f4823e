//! Latencies, bytes on disk and bytes written, measured the same way for every engine.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Per-operation latencies of one workload (nanoseconds), plus its wall time.
#[derive(Debug, Default)]
pub struct Timings {
    pub nanos: Vec<u64>,
    pub wall: Duration,
    /// Operations counted for ops/s (a batch counts its entries; a query counts once).
    pub ops: u64,
}

impl Timings {
    pub fn with_capacity(n: usize) -> Self {
        Timings {
            nanos: Vec::with_capacity(n),
            ..Default::default()
        }
    }

    /// Runs `f` once, recording its latency.
    #[inline]
    pub fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let r = f();
        self.nanos.push(t.elapsed().as_nanos() as u64);
        r
    }

    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile latency in microseconds (nearest rank).
    pub fn quantile_us(&mut self, q: f64) -> f64 {
        if self.nanos.is_empty() {
            return 0.0;
        }
        self.nanos.sort_unstable();
        let i = ((self.nanos.len() as f64 * q).ceil() as usize).clamp(1, self.nanos.len()) - 1;
        self.nanos[i] as f64 / 1000.0
    }
}

/// Bytes stored by every file under `dir` (WAL, tables, manifests, logs: all of it). A file
/// counts `min(length, allocated blocks)`: fjall sets a fresh journal's length to 64 MiB
/// without writing it (sparse), and RocksDB may `fallocate` past a WAL's end; neither is data.
///
/// Returns `(all files, write-ahead log files)`: WAL segments (scipkv `*.wal`, RocksDB `*.log`,
/// fjall `*.jnl`) whose data is already in tables may outlive a flush until the engine's next
/// log rotation or manifest edit (scipkv deletes a flushed segment only after a later manifest
/// edit), so the table data is reported apart from them.
pub fn dir_bytes(dir: &Path) -> (u64, u64) {
    let mut total = 0;
    let mut logs = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => {
                    let stored = m.len().min(m.blocks() * 512);
                    if std::env::var_os("SCIPKV_COMPARE_LIST_FILES").is_some() {
                        eprintln!("      {stored:>12} {}", e.path().display());
                    }
                    total += stored;
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    if [".wal", ".log", ".jnl"].iter().any(|x| name.ends_with(x)) {
                        logs += stored;
                    }
                }
                Err(_) => {}
            }
        }
    }
    (total, logs)
}

/// Bytes this process (all its threads, background ones included) has caused to be written
/// to storage so far: `write_bytes` of `/proc/self/io`. Buffered writes count when their page
/// is dirtied, so a WAL that is never fsynced still counts.
pub fn process_write_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/io") else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
