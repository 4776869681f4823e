//! Decoded occurrence tables of documents, cached by content hash.
//!
//! A position query used to scan and decode every chunk whose running maximum end line
//! reached the line, and one multi-line occurrence early in a document (a template literal, a
//! long call) made that most of the document. Documents are content-addressed and immutable,
//! so a decoded table never goes stale: it is built once from all chunks of the document and
//! then answers a position with two binary searches. The cache is bounded by the number of
//! occurrences it holds (about 80 bytes each), evicting the least recently used documents.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use xxhash_rust::xxh3::xxh3_128;

use crate::Snapshot;

use super::chunk::{ChunkOccurrence, decode_chunk};
use super::error::{StoreResult, decode};
use super::evict::evict_oldest;
use super::keys::{DocHash, Keys};

/// Default bound: about 80 MB of decoded occurrences, the whole of a 1M-occurrence project.
pub const DEFAULT_CACHED_OCCURRENCES: usize = 1 << 20;

/// Every occurrence of one document, sorted by range as the chunks store them, with a
/// document-wide symbol table.
#[derive(Debug, Default)]
pub struct DocOccurrences {
    pub symbols: Vec<Arc<str>>,
    /// `symbol` indexes [`DocOccurrences::symbols`].
    pub occurrences: Vec<ChunkOccurrence>,
    /// Indexes of the multi-line occurrences (few); all others start and end on one line.
    multi_line: Vec<u32>,
}

impl DocOccurrences {
    /// Decodes every chunk of the document (one prefix scan).
    pub fn load(snap: &Snapshot, keys: &Keys, hash: DocHash) -> StoreResult<Self> {
        let mut d = DocOccurrences::default();
        let mut ids: HashMap<String, u32> = HashMap::new();
        for kv in snap.scan_prefix(keys.chunks(hash)) {
            let (k, v) = kv?;
            let chunk = decode(&k, &v, decode_chunk)?;
            let map: Vec<u32> = chunk
                .symbols
                .into_iter()
                .map(|s| {
                    let next = d.symbols.len() as u32;
                    *ids.entry(s).or_insert_with_key(|s| {
                        d.symbols.push(Arc::from(s.as_str()));
                        next
                    })
                })
                .collect();
            for mut o in chunk.occurrences {
                // decode_chunk bounds the index by the chunk's table.
                o.symbol = map[o.symbol as usize];
                if o.range.start_line != o.range.end_line {
                    d.multi_line.push(d.occurrences.len() as u32);
                }
                d.occurrences.push(o);
            }
        }
        Ok(d)
    }

    /// Indexes of the occurrences containing the position, ascending (document range order).
    pub fn containing(&self, line: u32, character: u32) -> Vec<usize> {
        let occ = &self.occurrences;
        // Sorted by range, so by start line: the single-line occurrences of `line` are in
        // the run of occurrences starting on it.
        let from = occ.partition_point(|o| o.range.start_line < line);
        let to = from + occ[from..].partition_point(|o| o.range.start_line == line);
        let mut out: Vec<usize> = (from..to)
            .filter(|&i| occ[i].range.start_line == occ[i].range.end_line)
            .filter(|&i| occ[i].range.contains(line, character))
            .collect();
        let before = out.len();
        out.extend(
            self.multi_line
                .iter()
                .map(|&i| i as usize)
                .filter(|&i| occ[i].range.contains(line, character)),
        );
        if out.len() != before {
            out.sort_unstable();
        }
        out
    }

    fn weight(&self) -> usize {
        self.occurrences.len() + 1
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// `(tenant id, hash)` → (table, last use).
    map: HashMap<(u128, DocHash), (Arc<DocOccurrences>, u64)>,
    clock: u64,
    weight: usize,
}

/// LRU of [`DocOccurrences`] bounded by total occurrences.
#[derive(Debug)]
pub struct DocCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl Default for DocCache {
    fn default() -> Self {
        DocCache::new(DEFAULT_CACHED_OCCURRENCES)
    }
}

impl DocCache {
    /// `capacity` in occurrences; 0 disables caching.
    pub fn new(capacity: usize) -> Self {
        DocCache {
            inner: Mutex::new(Inner::default()),
            capacity,
        }
    }

    pub fn get(
        &self,
        snap: &Snapshot,
        keys: &Keys,
        hash: DocHash,
    ) -> StoreResult<Arc<DocOccurrences>> {
        // Tenants never share hashes' records (hashes live under the tenant prefix).
        let id = (xxh3_128(keys.tenant_prefix()), hash);
        {
            let mut g = self.inner.lock();
            g.clock += 1;
            let now = g.clock;
            if let Some((d, used)) = g.map.get_mut(&id) {
                *used = now;
                return Ok(Arc::clone(d));
            }
        }
        let d = Arc::new(DocOccurrences::load(snap, keys, hash)?);
        if d.weight() > self.capacity {
            return Ok(d);
        }
        let mut g = self.inner.lock();
        g.clock += 1;
        let now = g.clock;
        if let Some(old) = g.map.insert(id, (Arc::clone(&d), now)) {
            g.weight -= old.0.weight();
        }
        g.weight += d.weight();
        let g = &mut *g;
        evict_oldest(
            &mut g.map,
            &mut g.weight,
            self.capacity,
            |(_, used)| *used,
            |(d, _)| d.weight(),
        );
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scip::Range;

    fn occ(r: [u32; 4]) -> ChunkOccurrence {
        ChunkOccurrence {
            range: Range {
                start_line: r[0],
                start_char: r[1],
                end_line: r[2],
                end_char: r[3],
            },
            symbol: 0,
            roles: 0,
            syntax_kind: 0,
            enclosing: None,
            override_documentation: Vec::new(),
        }
    }

    #[test]
    fn containing_matches_a_linear_scan() {
        let mut d = DocOccurrences {
            symbols: vec![Arc::from("s")],
            ..Default::default()
        };
        let mut ranges = vec![
            [0, 0, 40, 1],
            [1, 2, 1, 5],
            [1, 4, 1, 9],
            [1, 4, 3, 0],
            [2, 0, 2, 3],
            [2, 0, 2, 3],
            [5, 1, 5, 1],
            [5, 1, 5, 2],
        ];
        ranges.sort();
        for r in ranges {
            if r[0] != r[2] {
                d.multi_line.push(d.occurrences.len() as u32);
            }
            d.occurrences.push(occ(r));
        }
        for line in 0..7 {
            for ch in 0..10 {
                let want: Vec<usize> = (0..d.occurrences.len())
                    .filter(|&i| d.occurrences[i].range.contains(line, ch))
                    .collect();
                assert_eq!(d.containing(line, ch), want, "{line}:{ch}");
            }
        }
    }
}
