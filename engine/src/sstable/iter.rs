//! Two-level iterator: a cursor over the in-memory index picks data blocks, a block cursor
//! walks the current one.
//!
//! Readahead: on a table read with `O_DIRECT` the kernel reads nothing ahead, so a forward
//! scan reads the following data blocks itself, in one batched read: after the first step
//! from one block to the next, 2 blocks at a time, then 4, then [`MAX_READAHEAD_BLOCKS`].
//! Seeks and backward steps reset the window, so point-like use never reads ahead.

use std::collections::VecDeque;
use std::sync::Arc;

use super::block::Block;
use super::block_iter::BlockIter;
use super::reader::Table;
use crate::error::Result;
use crate::iter::InternalIterator;

/// Most data blocks one readahead reads (128 KiB with the default 16 KiB blocks, the
/// kernel's default readahead).
pub const MAX_READAHEAD_BLOCKS: usize = 8;

/// Iterator over a whole table; owns an `Arc<Table>` so it can outlive the caller's borrow.
#[derive(Debug)]
pub struct TableIter {
    table: Arc<Table>,
    index: BlockIter,
    data: Option<BlockIter>,
    /// Blocks read ahead, in file order, with their offsets.
    ahead: VecDeque<(u64, Block)>,
    /// Consecutive forward block-to-block steps (sizes the readahead window).
    sequential: u32,
}

impl TableIter {
    pub(super) fn new(table: Arc<Table>) -> Self {
        let index = table.index_iter();
        TableIter {
            table,
            index,
            data: None,
            ahead: VecDeque::new(),
            sequential: 0,
        }
    }

    /// Loads the data block the index cursor points at (or clears it when the index is
    /// done). `forward_step` is set when the cursor just moved to the next block.
    fn load_block(&mut self, forward_step: bool) -> Result<()> {
        self.data = None;
        if forward_step {
            self.sequential = self.sequential.saturating_add(1);
        } else {
            self.sequential = 0;
        }
        if !self.index.valid() {
            return Ok(());
        }
        let handle = self.table.data_handle(self.index.value())?;
        while let Some((offset, _)) = self.ahead.front()
            && *offset < handle.offset
            && forward_step
        {
            self.ahead.pop_front();
        }
        let block = match self.ahead.front() {
            Some((offset, _)) if *offset == handle.offset => self
                .ahead
                .pop_front()
                .map(|(_, b)| b)
                .expect("front exists"),
            _ => {
                self.ahead.clear();
                if forward_step && self.table.wants_readahead() {
                    self.read_ahead()?
                } else {
                    self.table.data_block(self.index.value())?
                }
            }
        };
        self.data = Some(BlockIter::new(block));
        Ok(())
    }

    /// Reads the current block and the next few in one batch; returns the current one and
    /// keeps the rest in `ahead`.
    fn read_ahead(&mut self) -> Result<Block> {
        let window = (1usize << self.sequential.min(3)).min(MAX_READAHEAD_BLOCKS);
        let mut handles = vec![self.table.data_handle(self.index.value())?];
        // A second cursor over the index, at the current entry (index keys are unique).
        let mut cursor = self.table.index_iter();
        cursor.seek(self.index.key())?;
        while cursor.valid() && handles.len() < window {
            cursor.next()?;
            if cursor.valid() {
                handles.push(self.table.data_handle(cursor.value())?);
            }
        }
        let reqs: Vec<_> = handles.iter().map(|&h| (&*self.table, h)).collect();
        let mut blocks = Table::read_blocks(&reqs).into_iter();
        let current = blocks.next().expect("one block per request")?;
        for (h, b) in handles.iter().skip(1).zip(blocks) {
            // A readahead block that fails is dropped here; reading it for real reports it.
            match b {
                Ok(b) => self.ahead.push_back((h.offset, b)),
                Err(_) => break,
            }
        }
        Ok(current)
    }

    fn data_valid(&self) -> bool {
        self.data.as_ref().is_some_and(|d| d.valid())
    }

    /// Moves forward over blocks until positioned on an entry or past the last block.
    fn skip_forward(&mut self) -> Result<()> {
        while self.data.is_some() && !self.data_valid() {
            self.index.next()?;
            self.load_block(true)?;
            if let Some(d) = &mut self.data {
                d.seek_to_first()?;
            }
        }
        Ok(())
    }

    /// Moves backward over blocks until positioned on an entry or before the first block.
    fn skip_backward(&mut self) -> Result<()> {
        while self.data.is_some() && !self.data_valid() {
            self.index.prev()?;
            self.load_block(false)?;
            if let Some(d) = &mut self.data {
                d.seek_to_last()?;
            }
        }
        Ok(())
    }

    /// Runs `f`, and on error leaves the iterator invalid rather than half-positioned.
    fn guarded(&mut self, f: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let r = f(self);
        if r.is_err() {
            self.data = None;
        }
        r
    }
}

impl InternalIterator for TableIter {
    fn valid(&self) -> bool {
        self.data_valid()
    }

    fn seek_to_first(&mut self) -> Result<()> {
        self.guarded(|s| {
            s.index.seek_to_first()?;
            s.load_block(false)?;
            if let Some(d) = &mut s.data {
                d.seek_to_first()?;
            }
            s.skip_forward()
        })
    }

    fn seek_to_last(&mut self) -> Result<()> {
        self.guarded(|s| {
            s.index.seek_to_last()?;
            s.load_block(false)?;
            if let Some(d) = &mut s.data {
                d.seek_to_last()?;
            }
            s.skip_backward()
        })
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.guarded(|s| {
            s.index.seek(target)?;
            s.load_block(false)?;
            if let Some(d) = &mut s.data {
                d.seek(target)?;
            }
            s.skip_forward()
        })
    }

    fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        self.guarded(|s| {
            // The first block whose separator is >= target holds the last key <= target, or
            // that key is at the end of an earlier block; past every separator it is the last.
            s.index.seek(target)?;
            if !s.index.valid() {
                s.index.seek_to_last()?;
            }
            s.load_block(false)?;
            if let Some(d) = &mut s.data {
                d.seek_for_prev(target)?;
            }
            s.skip_backward()
        })
    }

    fn next(&mut self) -> Result<()> {
        self.guarded(|s| {
            if let Some(d) = &mut s.data {
                d.next()?;
            }
            s.skip_forward()
        })
    }

    fn prev(&mut self) -> Result<()> {
        self.guarded(|s| {
            if let Some(d) = &mut s.data {
                d.prev()?;
            }
            s.skip_backward()
        })
    }

    fn key(&self) -> &[u8] {
        self.data.as_ref().map_or(&[], |d| d.key())
    }

    fn value(&self) -> &[u8] {
        self.data.as_ref().map_or(&[], |d| d.value())
    }
}
