//! Model-checking harness for any [`InternalIterator`], plus a small seeded RNG.
//!
//! Every sorted layer (block, table, memtable, merge) is checked the same way: against a
//! sorted `Vec` of expected entries, with full scans in both directions and random seeks
//! followed by random steps, so each layer gets the same edge cases for free.

use std::cmp::Ordering;

use super::InternalIterator;
use crate::Result;
use crate::key::{MAX_KIND, MAX_SEQNO, compare_internal, make_internal_key, user_key};

/// SplitMix64: tiny, fast, and reproducible from one `u64`, which is all a test seed needs.
#[derive(Debug, Clone)]
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        TestRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform index into a non-empty collection of `len` elements.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// Random bytes of a random length below `max_len`.
    pub fn bytes_below(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.index(max_len);
        self.bytes(len)
    }
}

/// The seeds a randomized test runs: `SCIPKV_SEED` alone when set (to rerun a failure),
/// otherwise `defaults`. Each seed is printed so a failing run names it.
pub fn seeds(defaults: &[u64]) -> Vec<u64> {
    let seeds = match std::env::var("SCIPKV_SEED") {
        Ok(s) => vec![
            s.trim()
                .parse()
                .expect("SCIPKV_SEED must be an unsigned integer"),
        ],
        Err(_) => defaults.to_vec(),
    };
    for s in &seeds {
        println!("seed {s} (rerun with SCIPKV_SEED={s})");
    }
    seeds
}

/// A seek target near the expected keys: an exact key, another version of a present user
/// key, a user key just beside a present one, or one before/after everything.
pub fn random_target(rng: &mut TestRng, expected: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let seq = |rng: &mut TestRng| match rng.below(4) {
        0 => 0,
        1 => MAX_SEQNO,
        _ => rng.below(64),
    };
    let kind = |rng: &mut TestRng| {
        if rng.one_in(2) {
            MAX_KIND
        } else {
            rng.below(2) as u8
        }
    };
    if expected.is_empty() || rng.one_in(10) {
        let uk = match rng.below(3) {
            0 => Vec::new(),
            1 => vec![0xff; 1 + rng.index(4)],
            _ => rng.bytes_below(6),
        };
        let (s, k) = (seq(rng), kind(rng));
        return make_internal_key(&uk, s, k);
    }
    let base = &expected[rng.index(expected.len())].0;
    let uk = user_key(base).to_vec();
    match rng.below(5) {
        0 => base.clone(),
        1 => {
            let (s, k) = (seq(rng), kind(rng));
            make_internal_key(&uk, s, k)
        }
        2 => {
            let mut u = uk;
            u.push(rng.next_u64() as u8);
            make_internal_key(&u, seq(rng), MAX_KIND)
        }
        3 => {
            let mut u = uk;
            u.truncate(rng.index(u.len() + 1));
            make_internal_key(&u, seq(rng), kind(rng))
        }
        _ => {
            let mut u = uk;
            if let Some(last) = u.last_mut() {
                *last = last.wrapping_add(if rng.one_in(2) { 1 } else { 255 });
            }
            make_internal_key(&u, seq(rng), kind(rng))
        }
    }
}

fn assert_at(
    it: &dyn InternalIterator,
    expected: &[(Vec<u8>, Vec<u8>)],
    pos: Option<usize>,
    ctx: &str,
) {
    match pos.and_then(|p| expected.get(p)) {
        None => assert!(
            !it.valid(),
            "{ctx}: expected end, iterator at {:?}",
            it.key()
        ),
        Some((k, v)) => {
            assert!(it.valid(), "{ctx}: expected {k:?}, iterator invalid");
            assert_eq!(it.key(), &k[..], "{ctx}: key");
            assert_eq!(it.value(), &v[..], "{ctx}: value of {k:?}");
        }
    }
}

/// Takes up to `steps` random next/prev steps, checking each position against the model.
fn random_walk(
    it: &mut dyn InternalIterator,
    expected: &[(Vec<u8>, Vec<u8>)],
    mut pos: Option<usize>,
    rng: &mut TestRng,
    steps: usize,
    ctx: &str,
) -> Result<()> {
    for step in 0..steps {
        let Some(p) = pos else { break };
        if rng.one_in(2) {
            it.next()?;
            pos = Some(p + 1).filter(|&q| q < expected.len());
        } else {
            it.prev()?;
            pos = p.checked_sub(1);
        }
        assert_at(it, expected, pos, &format!("{ctx}, step {step}"));
    }
    Ok(())
}

/// Checks `it` against `expected` (strictly increasing by `compare_internal`): full forward
/// and backward scans, then `rounds` random `seek`/`seek_for_prev` each followed by a short
/// random walk. Panics on any mismatch; iterator errors are returned.
pub fn check_iterator(
    it: &mut dyn InternalIterator,
    expected: &[(Vec<u8>, Vec<u8>)],
    rng: &mut TestRng,
    rounds: usize,
) -> Result<()> {
    assert!(
        expected
            .windows(2)
            .all(|w| compare_internal(&w[0].0, &w[1].0) == Ordering::Less),
        "the expected entries must be strictly increasing"
    );

    it.seek_to_first()?;
    for (i, _) in expected.iter().enumerate() {
        assert_at(it, expected, Some(i), &format!("forward scan #{i}"));
        it.next()?;
    }
    assert_at(it, expected, None, "forward scan end");

    it.seek_to_last()?;
    for i in (0..expected.len()).rev() {
        assert_at(it, expected, Some(i), &format!("backward scan #{i}"));
        it.prev()?;
    }
    assert_at(it, expected, None, "backward scan end");

    for round in 0..rounds {
        let target = random_target(rng, expected);
        let ge = expected.partition_point(|(k, _)| compare_internal(k, &target) == Ordering::Less);
        let le = expected
            .partition_point(|(k, _)| compare_internal(k, &target) != Ordering::Greater)
            .checked_sub(1);
        if rng.one_in(2) {
            it.seek(&target)?;
            let ctx = format!("round {round}: seek({target:?})");
            let pos = Some(ge).filter(|&g| g < expected.len());
            assert_at(it, expected, pos, &ctx);
            random_walk(it, expected, pos, rng, 4, &ctx)?;
        } else {
            it.seek_for_prev(&target)?;
            let ctx = format!("round {round}: seek_for_prev({target:?})");
            assert_at(it, expected, le, &ctx);
            random_walk(it, expected, le, rng, 4, &ctx)?;
        }
    }
    Ok(())
}
