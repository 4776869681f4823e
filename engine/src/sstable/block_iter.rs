//! Cursor over one [`Block`]: binary search on restart points, then a short linear scan.

use std::cmp::Ordering;

use super::block::Block;
use crate::coding::Reader;
use crate::error::{Error, Result};
use crate::iter::InternalIterator;
use crate::key::{TRAILER_LEN, compare_internal};

/// Iterator over a block's entries. Invalid when `current == block.entries_end`.
#[derive(Debug)]
pub struct BlockIter {
    block: Block,
    current: usize,
    next_off: usize,
    /// Restart interval containing `current`, so `prev` knows where to rescan from.
    restart_index: usize,
    key: Vec<u8>,
    value: (usize, usize),
}

/// An entry's header: shared key length, and where its key delta and value lie in the block.
struct Header {
    shared: usize,
    delta: (usize, usize),
    value: (usize, usize),
}

/// Where one decoded entry's value lies and where the next entry starts.
struct Entry {
    value: (usize, usize),
    next: usize,
}

impl BlockIter {
    pub fn new(block: Block) -> Self {
        let end = block.entries_end;
        BlockIter {
            block,
            current: end,
            next_off: end,
            restart_index: 0,
            key: Vec::new(),
            value: (0, 0),
        }
    }

    /// File offset of the block, for corruption reports by callers.
    pub fn block_offset(&self) -> u64 {
        self.block.offset
    }

    fn invalidate(&mut self) {
        self.current = self.block.entries_end;
        self.next_off = self.block.entries_end;
        self.key.clear();
        self.value = (0, 0);
    }

    fn corrupt(&self, pos: usize, what: impl std::fmt::Display) -> Error {
        Error::corruption(
            &*self.block.file,
            self.block.offset,
            format!("block entry at byte {pos}: {what}"),
        )
    }

    /// Decodes the header of the entry at `off`: (shared, key delta range, value range).
    /// Every length is bounded by the entries region; `shared` by `max_shared`.
    #[inline]
    fn decode_header(&self, off: usize, max_shared: usize) -> Result<Header> {
        // Fast path: all three lengths are one-byte varints (short keys and values, the
        // common case) and everything is in bounds; anything else takes the checked
        // decoder below, which also produces the error.
        if let Some(&[shared, unshared, vlen]) = self.block.data.get(off..off + 3)
            && (shared | unshared | vlen) < 0x80
            && off + 3 <= self.block.entries_end
        {
            let (shared, unshared, vlen) = (shared as usize, unshared as usize, vlen as usize);
            let kstart = off + 3;
            if shared <= max_shared && kstart + unshared + vlen <= self.block.entries_end {
                return Ok(Header {
                    shared,
                    delta: (kstart, kstart + unshared),
                    value: (kstart + unshared, kstart + unshared + vlen),
                });
            }
        }
        self.decode_header_checked(off, max_shared)
    }

    #[inline(never)]
    fn decode_header_checked(&self, off: usize, max_shared: usize) -> Result<Header> {
        let entries = self
            .block
            .data
            .get(off..self.block.entries_end)
            .ok_or_else(|| self.corrupt(off, "offset outside the entries"))?;
        let mut r = Reader::new(entries);
        let decoded = (|| {
            let shared = r.varint_max(max_shared as u64, "shared key length")? as usize;
            let unshared = r.varint_max(entries.len() as u64, "unshared key length")? as usize;
            let vlen = r.varint_max(entries.len() as u64, "value length")? as usize;
            let kstart = r.pos();
            r.bytes(unshared, "key delta")?;
            r.bytes(vlen, "value")?;
            Ok::<_, crate::coding::DecodeError>((shared, kstart, unshared, vlen))
        })();
        let (shared, kstart, unshared, vlen) =
            decoded.map_err(|e| self.corrupt(off + e.pos, e.what))?;
        let delta = (off + kstart, off + kstart + unshared);
        Ok(Header {
            shared,
            delta,
            value: (delta.1, delta.1 + vlen),
        })
    }

    /// Decodes the entry at `off`, applying its key delta to `key`.
    #[inline]
    fn decode_at(&self, off: usize, key: &mut Vec<u8>) -> Result<Entry> {
        let h = self.decode_header(off, key.len())?;
        key.truncate(h.shared);
        key.extend_from_slice(&self.block.data[h.delta.0..h.delta.1]);
        if key.len() < TRAILER_LEN {
            return Err(self.corrupt(off, "key shorter than the internal-key trailer"));
        }
        Ok(Entry {
            value: h.value,
            next: h.value.1,
        })
    }

    /// The whole key of the restart entry `i`, borrowed from the block (restart entries
    /// carry whole keys: decoding with `max_shared` 0 enforces it).
    #[inline]
    fn restart_key(&self, i: usize) -> Result<&[u8]> {
        let off = self.restart_offset(i);
        let h = self.decode_header(off, 0)?;
        let key = &self.block.data[h.delta.0..h.delta.1];
        if key.len() < TRAILER_LEN {
            return Err(self.corrupt(off, "key shorter than the internal-key trailer"));
        }
        Ok(key)
    }

    /// Steps to the entry at `next_off`; false at the end of the block.
    fn parse_next(&mut self) -> Result<bool> {
        let off = self.next_off;
        if off >= self.block.entries_end {
            self.invalidate();
            return Ok(false);
        }
        let mut key = std::mem::take(&mut self.key);
        let decoded = self.decode_at(off, &mut key);
        self.key = key;
        match decoded {
            Ok(e) => {
                self.current = off;
                self.next_off = e.next;
                self.value = e.value;
                while self.restart_index + 1 < self.block.num_restarts
                    && self.block.restart(self.restart_index + 1) <= off
                {
                    self.restart_index += 1;
                }
                Ok(true)
            }
            Err(e) => {
                self.invalidate();
                Err(e)
            }
        }
    }

    #[inline]
    fn restart_offset(&self, i: usize) -> usize {
        // `i` is always below `num_restarts`, which Block::new guarantees is at least 1.
        self.block.restart(i)
    }

    fn seek_to_restart(&mut self, i: usize) {
        self.key.clear();
        self.restart_index = i;
        self.next_off = self.restart_offset(i);
        self.current = self.block.entries_end;
    }

    /// Index of the last restart whose key is `< target` (0 if none). Compares the keys
    /// in place, without copying them.
    fn find_restart(&self, target: &[u8]) -> Result<usize> {
        let (mut lo, mut hi) = (0, self.block.num_restarts - 1);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if compare_internal(self.restart_key(mid)?, target) == Ordering::Less {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(lo)
    }

    fn do_seek(&mut self, target: &[u8]) -> Result<()> {
        let start = match self.find_restart(target) {
            Ok(i) => i,
            Err(e) => {
                self.invalidate();
                return Err(e);
            }
        };
        self.seek_to_restart(start);
        if self.key.capacity() == 0 {
            // One allocation for the scan instead of growth steps.
            self.key.reserve(target.len() + 16);
        }
        while self.parse_next()? {
            if compare_internal(&self.key, target) != Ordering::Less {
                break;
            }
        }
        Ok(())
    }
}

impl InternalIterator for BlockIter {
    fn valid(&self) -> bool {
        self.current < self.block.entries_end
    }

    fn seek_to_first(&mut self) -> Result<()> {
        self.seek_to_restart(0);
        self.parse_next()?;
        Ok(())
    }

    fn seek_to_last(&mut self) -> Result<()> {
        self.seek_to_restart(self.block.num_restarts - 1);
        while self.parse_next()? && self.next_off < self.block.entries_end {}
        Ok(())
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.do_seek(target)
    }

    fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        self.do_seek(target)?;
        if !self.valid() {
            self.seek_to_last()
        } else if compare_internal(&self.key, target) == Ordering::Greater {
            self.prev()
        } else {
            Ok(())
        }
    }

    fn next(&mut self) -> Result<()> {
        debug_assert!(self.valid());
        self.parse_next()?;
        Ok(())
    }

    fn prev(&mut self) -> Result<()> {
        debug_assert!(self.valid());
        let original = self.current;
        let mut ri = self.restart_index;
        while self.restart_offset(ri) >= original {
            if ri == 0 {
                self.invalidate();
                return Ok(());
            }
            ri -= 1;
        }
        self.seek_to_restart(ri);
        while self.parse_next()? && self.next_off < original {}
        Ok(())
    }

    fn key(&self) -> &[u8] {
        &self.key
    }

    fn value(&self) -> &[u8] {
        self.block
            .data
            .get(self.value.0..self.value.1)
            .unwrap_or_default()
    }
}
