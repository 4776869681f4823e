//! Block contents: prefix-compressed sorted entries plus a restart array.
//!
//! Entry: `shared varint | unshared varint | value_len varint | key[shared..] | value`.
//! Every `restart_interval`-th entry stores its whole key (`shared = 0`) and its offset goes to
//! the restart array, so a seek binary-searches restarts and then scans at most one interval.
//! The block ends with the restart offsets (u32 LE each) and their count (u32 LE).

use std::sync::Arc;

use crate::coding::put_varint;
use crate::error::{Error, Result};

/// Builds one block in memory.
#[derive(Debug)]
pub struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    counter: usize,
    restart_interval: usize,
    last_key: Vec<u8>,
}

impl BlockBuilder {
    pub fn new(restart_interval: usize) -> Self {
        BlockBuilder {
            buf: Vec::new(),
            restarts: vec![0],
            counter: 0,
            restart_interval: restart_interval.max(1),
            last_key: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Size of the block if finished now.
    pub fn estimated_size(&self) -> usize {
        self.buf.len() + 4 * self.restarts.len() + 4
    }

    /// Appends an entry; keys must arrive in table order (the table builder checks that).
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.counter >= self.restart_interval {
            self.restarts.push(self.buf.len() as u32);
            self.counter = 0;
            0
        } else {
            self.last_key
                .iter()
                .zip(key)
                .take_while(|(a, b)| a == b)
                .count()
        };
        let unshared = &key[shared..];
        put_varint(&mut self.buf, shared as u64);
        put_varint(&mut self.buf, unshared.len() as u64);
        put_varint(&mut self.buf, value.len() as u64);
        self.buf.extend_from_slice(unshared);
        self.buf.extend_from_slice(value);
        self.last_key.truncate(shared);
        self.last_key.extend_from_slice(unshared);
        self.counter += 1;
    }

    /// Returns the finished block bytes and resets the builder for the next block.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        out.reserve(4 * self.restarts.len() + 4);
        for r in &self.restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        self.restarts.clear();
        self.restarts.push(0);
        self.counter = 0;
        self.last_key.clear();
        out
    }
}

/// A decoded, verified block. Cheap to clone: iterators hold their own clone, so they outlive
/// the table's borrow and can later come from a shared block cache.
///
/// The restart array is read in place from `data` (validated once here): a block-cache hit
/// wraps the cached bytes without allocating.
#[derive(Debug, Clone)]
pub struct Block {
    pub(super) data: Arc<[u8]>,
    /// Start of the restart array: entries live in `data[..entries_end]`.
    pub(super) entries_end: usize,
    /// Number of restart points (at least 1).
    pub(super) num_restarts: usize,
    /// File and block offset, for corruption reports.
    pub(super) file: Arc<str>,
    pub(super) offset: u64,
}

impl Block {
    /// Validates the restart array; entries themselves are checked as they are decoded.
    pub fn new(data: Vec<u8>, file: Arc<str>, offset: u64) -> Result<Block> {
        Block::from_arc(data.into(), file, offset)
    }

    /// Like [`Block::new`] over shared bytes, without copying them.
    pub fn from_arc(data: Arc<[u8]>, file: Arc<str>, offset: u64) -> Result<Block> {
        let block = Block::from_cached(data, file, offset)?;
        let mut prev: Option<u32> = None;
        for c in block.data[block.entries_end..block.data.len() - 4].chunks_exact(4) {
            let r = u32::from_le_bytes(c.try_into().expect("4 bytes"));
            let ok = match prev {
                None => r == 0,
                Some(p) => r > p && (r as usize) < block.entries_end,
            };
            if !ok {
                return Err(Error::corruption(
                    &*block.file,
                    offset,
                    format!("bad restart offset {r}"),
                ));
            }
            prev = Some(r);
        }
        Ok(block)
    }

    /// A block-cache hit: wraps the cached `Arc` and skips the walk over the restart
    /// offsets, since only bytes [`Block::from_arc`] accepted enter the cache (reader.rs).
    /// The walk was ~6% of a server's samples under pipelined GETs (32 KiB blocks, ~60
    /// restarts each). The O(1) layout checks stay, and the iterator bounds-checks every
    /// offset it follows anyway.
    pub(crate) fn from_cached(data: Arc<[u8]>, file: Arc<str>, offset: u64) -> Result<Block> {
        let corrupt = |what: String| Error::corruption(&*file, offset, what);
        let len = data.len();
        let count_at = len
            .checked_sub(4)
            .ok_or_else(|| corrupt(format!("block of {len} bytes has no restart count")))?;
        let count = u32::from_le_bytes(data[count_at..].try_into().expect("4 bytes")) as usize;
        let entries_end = count
            .checked_mul(4)
            .and_then(|n| count_at.checked_sub(n))
            .ok_or_else(|| {
                corrupt(format!(
                    "restart count {count} does not fit a {len}-byte block"
                ))
            })?;
        if count == 0 || entries_end == 0 {
            return Err(corrupt("empty block".into()));
        }
        Ok(Block {
            data,
            entries_end,
            num_restarts: count,
            file,
            offset,
        })
    }

    /// Offset of restart point `i` (`i < num_restarts`). Validated by `from_arc` (bytes from
    /// the cache were, when they entered it); callers bounds-check what they read there.
    #[inline]
    pub(super) fn restart(&self, i: usize) -> usize {
        let at = self.entries_end + 4 * i;
        self.data.get(at..at + 4).map_or(0, |b| {
            u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize
        })
    }
}
