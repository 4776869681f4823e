//! Per-table bloom filter over user keys (fastbloom, hashed with xxh3 by us).
//!
//! We hash keys ourselves and use `insert_hash`/`contains_hash` so bit positions depend only
//! on the key bytes and the stored parameters, never on a per-process random hasher state.
//! Bit positions are derived by fastbloom 0.17's double hashing, which is why the crate is
//! pinned: a different derivation would make existing filters answer wrongly.
//!
//! Block payload: `num_hashes u32 LE | words u64 LE ...` (at least one word).

use fastbloom::BloomFilter;

use crate::coding::{DecodeError, Reader};

/// Seed handed to fastbloom. It only affects fastbloom's own item hashing, which we bypass,
/// but fixing it keeps the filter fully deterministic should that ever change.
pub const SEED: u128 = 0x7363_6970_6b76_2d62_6c6f_6f6d_2d76_3031; // "scipkv-bloom-v01"

/// Most hash functions a filter may declare; more would only add latency.
pub const MAX_HASHES: u32 = 32;

/// Largest bits-per-key a writer uses; beyond it the filter costs more than it saves.
pub const MAX_BITS_PER_KEY: u32 = 64;

/// The source hash of a user key.
pub fn key_hash(user_key: &[u8]) -> u64 {
    crate::checksum::xxh3(user_key)
}

/// Collects key hashes while a table is written; sized once the key count is known.
#[derive(Debug)]
pub struct FilterBuilder {
    bits_per_key: u32,
    hashes: Vec<u64>,
}

impl FilterBuilder {
    pub fn new(bits_per_key: u32) -> Self {
        FilterBuilder {
            bits_per_key: bits_per_key.min(MAX_BITS_PER_KEY),
            hashes: Vec::new(),
        }
    }

    /// Adds a user key (callers skip repeats of the previous key, so versions count once).
    pub fn add(&mut self, user_key: &[u8]) {
        self.hashes.push(key_hash(user_key));
    }

    /// Bytes of filter the keys so far would produce.
    pub fn estimated_size(&self) -> usize {
        4 + (self.hashes.len() * self.bits_per_key as usize).div_ceil(64) * 8
    }

    /// The encoded filter block payload.
    pub fn finish(&self) -> Vec<u8> {
        let bits = (self.hashes.len() * self.bits_per_key as usize).max(64);
        // ln 2 * bits/key minimises the false-positive rate.
        let k = ((f64::from(self.bits_per_key) * std::f64::consts::LN_2).round() as u32)
            .clamp(1, MAX_HASHES);
        let mut bloom = BloomFilter::with_num_bits(bits).seed(&SEED).hashes(k);
        for &h in &self.hashes {
            bloom.insert_hash(h);
        }
        let words = bloom.as_slice();
        let mut out = Vec::with_capacity(4 + words.len() * 8);
        out.extend_from_slice(&k.to_le_bytes());
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }
}

/// A filter loaded from a table.
#[derive(Debug)]
pub struct Filter {
    bloom: BloomFilter,
}

impl Filter {
    pub fn decode(payload: &[u8]) -> Result<Filter, DecodeError> {
        let mut r = Reader::new(payload);
        let k = r.u32("filter hash count")?;
        if k == 0 || k > MAX_HASHES {
            return Err(DecodeError::new(
                0,
                format!("filter hash count {k} out of range"),
            ));
        }
        if r.is_empty() || !r.remaining().is_multiple_of(8) {
            return Err(r.err(format!(
                "filter bit array of {} bytes is not a positive multiple of 8",
                r.remaining()
            )));
        }
        let words: Vec<u64> = r
            .bytes(r.remaining(), "filter words")?
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        Ok(Filter {
            bloom: BloomFilter::from_vec(words).seed(&SEED).hashes(k),
        })
    }

    pub fn may_contain(&self, user_key: &[u8]) -> bool {
        self.bloom.contains_hash(key_hash(user_key))
    }
}
