//! Dedup options, the stored configuration, and the reports the chunk store hands back.

use super::keys::RESERVED_PREFIX;
use crate::{Error, Result};

/// Default size above which a value is chunked: below a few KiB a value is about one chunk,
/// so chunking would only add a manifest and a lookup.
pub const DEFAULT_THRESHOLD: usize = 4096;

/// Turns on the chunk store for values under some key prefixes (`Options::dedup`).
///
/// The prefixes are fixed when dedup is first enabled on a database and stored in it (under
/// dedup every stored value carries an envelope byte, so a reader must know which keys have
/// one): reopening with other prefixes fails, reopening with `dedup: None` keeps the stored
/// ones. The threshold may change between opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupOptions {
    /// Values longer than this are stored as chunks (default 4 KiB).
    pub threshold: usize,
    /// Keys starting with any of these are deduplicated; empty means every key.
    pub prefixes: Vec<Vec<u8>>,
}

impl Default for DedupOptions {
    fn default() -> Self {
        DedupOptions {
            threshold: DEFAULT_THRESHOLD,
            prefixes: Vec::new(),
        }
    }
}

impl DedupOptions {
    /// Whether values under `key` go through the chunk store.
    pub fn applies_to(&self, key: &[u8]) -> bool {
        self.prefixes.is_empty() || self.prefixes.iter().any(|p| key.starts_with(p))
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.threshold > crate::key::MAX_VALUE_LEN {
            return Err(Error::InvalidArgument(
                "dedup threshold above the largest inline value".into(),
            ));
        }
        if self.prefixes.iter().any(|p| p.is_empty() || p.len() > 1024) {
            return Err(Error::InvalidArgument(
                "dedup prefixes must be 1 to 1024 bytes (use an empty list for all keys)".into(),
            ));
        }
        if self
            .prefixes
            .iter()
            .any(|p| p.starts_with(&RESERVED_PREFIX))
        {
            return Err(Error::InvalidArgument(
                "a dedup prefix lies in the reserved key space".into(),
            ));
        }
        Ok(())
    }

    /// Sorted, without prefixes covered by a shorter one: the canonical form that is stored,
    /// compared at open and scanned by GC (so no key is visited twice).
    pub(crate) fn normalized_prefixes(&self) -> Vec<Vec<u8>> {
        let mut p = self.prefixes.clone();
        p.sort();
        p.dedup();
        let mut out: Vec<Vec<u8>> = Vec::new();
        for x in p {
            if !out.iter().any(|o| x.starts_with(o)) {
                out.push(x);
            }
        }
        out
    }
}

/// Stored configuration: `version u8 (1) | count u32 | (len u32 | bytes)*`, little-endian.
pub(crate) fn encode_config(prefixes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![1];
    out.extend_from_slice(&(prefixes.len() as u32).to_le_bytes());
    for p in prefixes {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

pub(crate) fn decode_config(b: &[u8]) -> Result<Vec<Vec<u8>>> {
    let bad = |what: &str| Error::corruption("dedup config", 0, what);
    let (&version, mut rest) = b.split_first().ok_or_else(|| bad("empty"))?;
    if version != 1 {
        return Err(bad("unknown version"));
    }
    let mut take = |n: usize| -> Result<&[u8]> {
        if rest.len() < n {
            return Err(bad("truncated"));
        }
        let (h, t) = rest.split_at(n);
        rest = t;
        Ok(h)
    };
    let count = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes"));
    let mut out = Vec::new();
    for _ in 0..count {
        let len = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        out.push(take(len)?.to_vec());
    }
    if !rest.is_empty() {
        return Err(bad("trailing bytes"));
    }
    Ok(out)
}

/// Chunk-store figures in `DbStats::dedup`.
///
/// `live_*` fields are exact as of the last GC pass or `Db::verify_chunks` (0 before the
/// first); `chunks` and `chunk_bytes` are kept current between passes (a chunk two concurrent
/// uploads both wrote counts twice until the next pass recounts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DedupStats {
    /// Distinct chunks stored.
    pub chunks: u64,
    /// Bytes of chunk content stored (before table compression).
    pub chunk_bytes: u64,
    /// Total length of the chunked values live at the last pass.
    pub live_logical_bytes: u64,
    /// `live_logical_bytes / live_chunk_bytes` at the last pass (1.0 when unknown).
    pub dedup_ratio: f64,
    /// Chunk bytes referenced at the last pass.
    pub live_chunk_bytes: u64,
    /// Bytes of chunked values written since open.
    pub logical_bytes_written: u64,
    /// Chunks written since open, and chunks found already stored (not written again).
    pub chunks_written: u64,
    pub chunks_reused: u64,
    pub chunk_bytes_written: u64,
    /// GC passes since open and what they reclaimed.
    pub gc_runs: u64,
    pub gc_chunks_reclaimed: u64,
    pub gc_bytes_reclaimed: u64,
}

/// What one GC pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Sequence number the pass read at.
    pub seqno: u64,
    /// Manifests and index records scanned.
    pub manifests: u64,
    pub chunks_scanned: u64,
    /// Unreferenced chunks deleted, and their content bytes.
    pub chunks_deleted: u64,
    pub bytes_deleted: u64,
    /// Unreferenced at the scan but claimed by an upload that ran during the pass: kept.
    pub chunks_kept_in_flight: u64,
}

/// A consistency check of the chunk store at one sequence number (`Db::verify_chunks`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub seqno: u64,
    pub manifests: u64,
    /// Distinct chunks referenced by live manifests.
    pub referenced_chunks: u64,
    /// Referenced chunks with no index or data record: must be 0.
    pub missing_chunks: u64,
    /// Stored chunks no live manifest references (garbage for the next GC).
    pub unreferenced_chunks: u64,
    /// Chunks with an index record but no data record, or the reverse: must be 0.
    pub half_written_chunks: u64,
    pub logical_bytes: u64,
    pub referenced_chunk_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_normalize_and_the_config_round_trips() {
        let o = DedupOptions {
            prefixes: vec![b"doc/a".to_vec(), b"doc/".to_vec(), b"blob".to_vec()],
            ..Default::default()
        };
        let n = o.normalized_prefixes();
        assert_eq!(n, vec![b"blob".to_vec(), b"doc/".to_vec()]);
        assert_eq!(decode_config(&encode_config(&n)).unwrap(), n);
        let enc = encode_config(&n);
        for cut in 0..enc.len() {
            assert!(decode_config(&enc[..cut]).is_err());
        }
        assert!(o.applies_to(b"doc/x") && !o.applies_to(b"other"));
    }
}
