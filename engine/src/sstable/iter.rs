//! Two-level iterator: a cursor over the in-memory index picks data blocks, a block cursor
//! walks the current one.

use std::sync::Arc;

use super::block_iter::BlockIter;
use super::reader::Table;
use crate::error::Result;
use crate::iter::InternalIterator;

/// Iterator over a whole table; owns an `Arc<Table>` so it can outlive the caller's borrow.
#[derive(Debug)]
pub struct TableIter {
    table: Arc<Table>,
    index: BlockIter,
    data: Option<BlockIter>,
}

impl TableIter {
    pub(super) fn new(table: Arc<Table>) -> Self {
        let index = table.index_iter();
        TableIter {
            table,
            index,
            data: None,
        }
    }

    /// Loads the data block the index cursor points at (or clears it when the index is done).
    fn load_block(&mut self) -> Result<()> {
        self.data = None;
        if self.index.valid() {
            let block = self.table.data_block(self.index.value())?;
            self.data = Some(BlockIter::new(block));
        }
        Ok(())
    }

    fn data_valid(&self) -> bool {
        self.data.as_ref().is_some_and(|d| d.valid())
    }

    /// Moves forward over blocks until positioned on an entry or past the last block.
    fn skip_forward(&mut self) -> Result<()> {
        while self.data.is_some() && !self.data_valid() {
            self.index.next()?;
            self.load_block()?;
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
            self.load_block()?;
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
            s.load_block()?;
            if let Some(d) = &mut s.data {
                d.seek_to_first()?;
            }
            s.skip_forward()
        })
    }

    fn seek_to_last(&mut self) -> Result<()> {
        self.guarded(|s| {
            s.index.seek_to_last()?;
            s.load_block()?;
            if let Some(d) = &mut s.data {
                d.seek_to_last()?;
            }
            s.skip_backward()
        })
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.guarded(|s| {
            s.index.seek(target)?;
            s.load_block()?;
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
            s.load_block()?;
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
