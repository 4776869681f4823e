//! The value envelope and the value manifest (layout: `format-spec/chunking.md`,
//! "Value envelope" and "Value manifest").
//!
//! Under a dedup prefix every stored value starts with a one-byte envelope tag: the rest is
//! either the value itself (small values) or a manifest listing the value's chunks. A tag on
//! every value, rather than a guess from the bytes, means no user value can be mistaken for a
//! manifest. The decoder bounds every length by the input and never panics: a damaged value
//! is `Error::Corruption`.

use super::cdc::{CHUNKING_FORMAT_VERSION, MAX_CHUNK_SIZE};
use super::keys::ChunkId;
use crate::{Error, Result};

/// Envelope tag: the rest of the stored value is the value.
pub const TAG_INLINE: u8 = 0;
/// Envelope tag: the rest is a [`Manifest`].
pub const TAG_CHUNKED: u8 = 1;

/// Manifest layout version (the first byte after the tag).
pub const MANIFEST_VERSION: u8 = 1;

/// version u8 | chunking u8 | total length u64 | chunk count u32.
pub const MANIFEST_HEADER_LEN: usize = 14;
/// hash u128 | length u32, little-endian.
pub const MANIFEST_ENTRY_LEN: usize = 20;

/// Largest value the chunk store accepts: 4 GiB. Past `MAX_VALUE_LEN` (256 MiB) because only
/// the manifest (20 bytes per chunk) goes through the WAL record and memtable as one value.
pub const MAX_DEDUP_VALUE_LEN: u64 = 1 << 32;

/// The chunks of one value, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub total_len: u64,
    pub chunks: Vec<ChunkId>,
}

/// A decoded stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored<'a> {
    Inline(&'a [u8]),
    Chunked(Manifest),
}

/// Appends the envelope of a small value.
pub fn encode_inline(value: &[u8], out: &mut Vec<u8>) {
    out.reserve(1 + value.len());
    out.push(TAG_INLINE);
    out.extend_from_slice(value);
}

impl Manifest {
    /// Appends the envelope and manifest.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(1 + MANIFEST_HEADER_LEN + self.chunks.len() * MANIFEST_ENTRY_LEN);
        out.push(TAG_CHUNKED);
        out.push(MANIFEST_VERSION);
        out.push(CHUNKING_FORMAT_VERSION as u8);
        out.extend_from_slice(&self.total_len.to_le_bytes());
        out.extend_from_slice(&(self.chunks.len() as u32).to_le_bytes());
        for c in &self.chunks {
            out.extend_from_slice(&c.hash.to_le_bytes());
            out.extend_from_slice(&c.len.to_le_bytes());
        }
    }

    /// Decodes a manifest body (after the envelope tag).
    pub fn decode(b: &[u8]) -> Result<Manifest> {
        let bad = |what: String| Error::corruption("value manifest", 0, what);
        if b.len() < MANIFEST_HEADER_LEN {
            return Err(bad(format!("{} bytes, shorter than the header", b.len())));
        }
        if b[0] != MANIFEST_VERSION {
            return Err(bad(format!("unknown manifest version {}", b[0])));
        }
        if u32::from(b[1]) != CHUNKING_FORMAT_VERSION {
            return Err(bad(format!("unknown chunking format version {}", b[1])));
        }
        let total_len = u64::from_le_bytes(b[2..10].try_into().expect("8 bytes"));
        let count = u32::from_le_bytes(b[10..14].try_into().expect("4 bytes")) as usize;
        if total_len > MAX_DEDUP_VALUE_LEN {
            return Err(bad(format!("total length {total_len} over the limit")));
        }
        let body = &b[MANIFEST_HEADER_LEN..];
        // Checked against the actual bytes before anything is allocated.
        if count.checked_mul(MANIFEST_ENTRY_LEN) != Some(body.len()) {
            return Err(bad(format!(
                "{count} chunks need {} bytes of entries, found {}",
                count.saturating_mul(MANIFEST_ENTRY_LEN),
                body.len()
            )));
        }
        let mut chunks = Vec::with_capacity(count);
        let mut sum = 0u64;
        for e in body.chunks_exact(MANIFEST_ENTRY_LEN) {
            let hash = u128::from_le_bytes(e[..16].try_into().expect("16 bytes"));
            let len = u32::from_le_bytes(e[16..].try_into().expect("4 bytes"));
            if len == 0 || len as usize > MAX_CHUNK_SIZE {
                return Err(bad(format!(
                    "chunk length {len} outside 1..={MAX_CHUNK_SIZE}"
                )));
            }
            sum += u64::from(len);
            chunks.push(ChunkId { hash, len });
        }
        if sum != total_len {
            return Err(bad(format!(
                "chunks add up to {sum}, header says {total_len}"
            )));
        }
        Ok(Manifest { total_len, chunks })
    }
}

/// Decodes a stored value's envelope.
pub fn decode(stored: &[u8]) -> Result<Stored<'_>> {
    match stored.split_first() {
        Some((&TAG_INLINE, rest)) => Ok(Stored::Inline(rest)),
        Some((&TAG_CHUNKED, rest)) => Ok(Stored::Chunked(Manifest::decode(rest)?)),
        Some((t, _)) => Err(Error::corruption(
            "value envelope",
            0,
            format!("unknown tag {t}"),
        )),
        None => Err(Error::corruption("value envelope", 0, "empty stored value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            total_len: 10_000,
            chunks: vec![ChunkId::of(&[1; 4000]), ChunkId::of(&[2; 6000])],
        }
    }

    #[test]
    fn manifests_round_trip_through_the_envelope() {
        let m = sample();
        let mut out = Vec::new();
        m.encode(&mut out);
        assert_eq!(out.len(), 1 + MANIFEST_HEADER_LEN + 2 * MANIFEST_ENTRY_LEN);
        assert_eq!(decode(&out).unwrap(), Stored::Chunked(m));
        let mut small = Vec::new();
        encode_inline(b"abc", &mut small);
        assert_eq!(decode(&small).unwrap(), Stored::Inline(b"abc"));
        assert_eq!(decode(&[TAG_INLINE]).unwrap(), Stored::Inline(b""));
    }

    #[test]
    fn worked_example_of_the_spec() {
        let chunks = [10_453u32, 7_437, 15_767]
            .map(|len| ChunkId { hash: 7, len })
            .to_vec();
        let mut out = Vec::new();
        Manifest {
            total_len: 33_657,
            chunks,
        }
        .encode(&mut out);
        assert_eq!(out.len(), 75);
        assert_eq!(
            &out[..15],
            &[1, 1, 1, 0x79, 0x83, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]
        );
    }

    #[test]
    fn every_damaged_manifest_is_corruption() {
        let mut good = Vec::new();
        sample().encode(&mut good);
        // Every truncation, and every single-byte change of the header, tag or lengths.
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        for i in (0..15).chain([31, 32, 34, 51, 52]) {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            assert!(decode(&bad).unwrap_err().is_corruption(), "byte {i}");
        }
        // A count that would overflow the entry size is rejected before allocating.
        let mut huge = good[..15].to_vec();
        huge[11..15].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).is_err());
    }
}
