//! The reserved key space of the chunk store (layout: `format-spec/chunking.md`, "Keys").
//!
//! Internal records live under user keys that start with [`RESERVED_PREFIX`], eight `0xFF`
//! bytes. Every key at or above the prefix starts with it, so hiding the space from user
//! iteration is only an upper bound (`< RESERVED_PREFIX`), never a skip in the middle of a scan.

use xxhash_rust::xxh3::xxh3_128;

/// Keys starting with this belong to the engine while dedup is enabled.
pub const RESERVED_PREFIX: [u8; 8] = [0xFF; 8];

/// `prefix | 'c' | id`: the chunk's content.
pub const DATA_TAG: u8 = b'c';
/// `prefix | 'i' | id`, empty value: one small record per chunk, so the write path's existence
/// check, the filter built at open and GC's sweep read ~30 bytes per chunk, not the content.
pub const INDEX_TAG: u8 = b'i';
/// `prefix | 'o'`: the dedup prefixes the database was created with (see `options`).
pub const CONFIG_TAG: u8 = b'o';

/// Length of a data or index key: prefix, tag, 16-byte hash, 4-byte length.
pub const CHUNK_KEY_LEN: usize = RESERVED_PREFIX.len() + 1 + 16 + 4;

/// Whether `key` lies in the reserved space.
pub fn is_reserved(key: &[u8]) -> bool {
    key.starts_with(&RESERVED_PREFIX)
}

/// A chunk's identity: xxh3-128 of its content and its length. Two chunks are the same chunk
/// only if both match, so a hash collision would also need equal lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId {
    pub hash: u128,
    pub len: u32,
}

impl ChunkId {
    /// The id of `content` (at most `u32::MAX` bytes; chunks are at most 1 MiB).
    pub fn of(content: &[u8]) -> ChunkId {
        ChunkId {
            hash: xxh3_128(content),
            len: u32::try_from(content.len()).unwrap_or(u32::MAX),
        }
    }

    fn key(&self, tag: u8) -> Vec<u8> {
        let mut k = Vec::with_capacity(CHUNK_KEY_LEN);
        k.extend_from_slice(&RESERVED_PREFIX);
        k.push(tag);
        k.extend_from_slice(&self.hash.to_be_bytes());
        k.extend_from_slice(&self.len.to_be_bytes());
        k
    }

    /// Key of the record holding the content.
    pub fn data_key(&self) -> Vec<u8> {
        self.key(DATA_TAG)
    }

    /// Key of the chunk's index record.
    pub fn index_key(&self) -> Vec<u8> {
        self.key(INDEX_TAG)
    }

    /// Parses an index key; `None` for anything else.
    pub fn from_index_key(key: &[u8]) -> Option<ChunkId> {
        let rest = key
            .strip_prefix(&RESERVED_PREFIX)?
            .strip_prefix(&[INDEX_TAG])?;
        if rest.len() != 20 {
            return None;
        }
        Some(ChunkId {
            hash: u128::from_be_bytes(rest[..16].try_into().ok()?),
            len: u32::from_be_bytes(rest[16..].try_into().ok()?),
        })
    }

    /// 64 bits for the in-memory filter (the hash is already uniform).
    pub fn filter_hash(&self) -> u64 {
        (self.hash as u64) ^ ((self.hash >> 64) as u64) ^ u64::from(self.len)
    }
}

/// `[start, end)` of the index records.
pub fn index_range() -> (Vec<u8>, Vec<u8>) {
    tag_range(INDEX_TAG)
}

fn tag_range(tag: u8) -> (Vec<u8>, Vec<u8>) {
    let mut start = RESERVED_PREFIX.to_vec();
    start.push(tag);
    let mut end = RESERVED_PREFIX.to_vec();
    end.push(tag + 1);
    (start, end)
}

/// Key of the stored dedup configuration.
pub fn config_key() -> Vec<u8> {
    let mut k = RESERVED_PREFIX.to_vec();
    k.push(CONFIG_TAG);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_keys_round_trip_and_sort_inside_their_range() {
        let id = ChunkId::of(b"hello");
        let k = id.index_key();
        assert_eq!(k.len(), CHUNK_KEY_LEN);
        assert_eq!(ChunkId::from_index_key(&k), Some(id));
        assert_eq!(ChunkId::from_index_key(&id.data_key()), None);
        let (lo, hi) = index_range();
        assert!(lo.as_slice() <= k.as_slice() && k.as_slice() < hi.as_slice());
        assert!(is_reserved(&k) && is_reserved(&config_key()));
        // Everything at or above the prefix is inside the reserved space.
        assert!(!is_reserved(&[0xFF; 7]) && is_reserved(&[0xFF; 9]));
    }
}
