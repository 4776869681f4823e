//! One seed source for every randomized test: `SCIPKV_SEED=<n>` reruns a failure exactly.

use std::hash::{BuildHasher, RandomState};

/// The seed for this run, printed so a failure can be replayed.
pub(crate) fn test_seed(test: &str) -> u64 {
    let seed = match std::env::var("SCIPKV_SEED") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("SCIPKV_SEED={v:?} is not a u64")),
        // RandomState is randomly keyed per process: a fresh seed without a clock.
        Err(_) => RandomState::new().hash_one(test),
    };
    println!("{test}: seed {seed} (rerun with SCIPKV_SEED={seed})");
    seed
}

/// A tiny deterministic generator (splitmix64); enough for fuzzing inputs in tests.
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
