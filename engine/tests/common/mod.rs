//! Shared helpers for the engine's integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

/// SplitMix64: tiny, seedable, and stable across platforms, so a printed seed reruns a failure.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// The seed for a randomized test: `SCIPKV_SEED` if set (to rerun a failure), else a fresh
/// one. Printed either way; the test harness shows it when the test fails.
pub fn seed(test: &str) -> u64 {
    let seed = match std::env::var("SCIPKV_SEED") {
        Ok(s) => s.parse().expect("SCIPKV_SEED must be a u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    eprintln!("{test}: seed {seed} (rerun with SCIPKV_SEED={seed})");
    seed
}

/// Key and value of the `i`-th of the numbered writes that the WAL regression tests make.
pub fn numbered(i: u32) -> (String, String) {
    (format!("k{i:03}"), format!("v{i}"))
}

/// Checks that the numbered writes `0..n` all survived a reopen.
pub fn assert_numbered_writes(db: &scipkv_engine::Db, n: u32) {
    for i in 0..n {
        let (k, v) = numbered(i);
        assert_eq!(
            db.get(&k).unwrap().as_deref(),
            Some(v.as_bytes()),
            "acknowledged write {k} lost"
        );
    }
}
