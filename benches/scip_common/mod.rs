//! Shared by the SCIP benches: locating data, decompressing, percentiles.

#![allow(dead_code, reason = "each bench uses a subset")]

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

/// `$SCIPKV_SHARED/scip/<name>`, else `../shared/scip/<name>` relative to the workspace root.
pub fn scip_path(name: &str) -> PathBuf {
    let root = std::env::var_os("SCIPKV_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("shared")
        });
    let p = root.join("scip").join(name);
    assert!(p.is_file(), "missing {}: set SCIPKV_SHARED", p.display());
    p
}

/// The raw (decompressed) index bytes.
pub fn raw_index(name: &str) -> Vec<u8> {
    let f = std::fs::File::open(scip_path(name)).unwrap();
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(f)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Full run under `cargo bench`; a quick smoke run under `cargo test --benches`.
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// Physical bytes of every table after a flush (WAL excluded: it is recycled).
pub fn table_bytes(db: &scipkv_engine::Db) -> u64 {
    db.stats().levels.iter().map(|l| l.bytes).sum()
}

/// CPU time consumed by the calling thread so far.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// splitmix64 with a fixed seed, so a bench draws the same positions every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (query parameters).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
