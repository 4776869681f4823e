//! A cursor over one sorted level: the concatenation of its non-overlapping tables.
//!
//! Only the table under the cursor is open for iteration, so a scan over a level of
//! thousands of tables costs one table cursor rather than thousands.

use std::sync::Arc;

use super::InternalIterator;
use crate::Result;
use crate::key::compare_internal;
use crate::sstable::TableIter;
use crate::version::levels::TableFile;

/// An [`InternalIterator`] over a level (L1 and deeper).
pub struct LevelIter {
    tables: Vec<Arc<TableFile>>,
    index: usize,
    cur: Option<TableIter>,
}

impl std::fmt::Debug for LevelIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelIter")
            .field("tables", &self.tables.len())
            .field("index", &self.index)
            .finish()
    }
}

impl LevelIter {
    /// `tables` sorted by key and non-overlapping.
    pub fn new(tables: Vec<Arc<TableFile>>) -> Self {
        LevelIter {
            tables,
            index: 0,
            cur: None,
        }
    }

    fn open(&mut self, i: usize) -> Option<&mut TableIter> {
        self.index = i;
        self.cur = self.tables.get(i).map(|t| t.table.iter());
        self.cur.as_mut()
    }

    /// Moves forward over exhausted tables.
    fn skip_forward(&mut self) -> Result<()> {
        while self.cur.as_ref().is_some_and(|c| !c.valid()) {
            let next = self.index + 1;
            match self.open(next) {
                Some(c) => c.seek_to_first()?,
                None => self.cur = None,
            }
        }
        Ok(())
    }

    /// Moves backward over exhausted tables.
    fn skip_backward(&mut self) -> Result<()> {
        while self.cur.as_ref().is_some_and(|c| !c.valid()) {
            if self.index == 0 {
                self.cur = None;
                break;
            }
            let prev = self.index - 1;
            if let Some(c) = self.open(prev) {
                c.seek_to_last()?;
            }
        }
        Ok(())
    }
}

impl InternalIterator for LevelIter {
    fn valid(&self) -> bool {
        self.cur.as_ref().is_some_and(|c| c.valid())
    }

    fn seek_to_first(&mut self) -> Result<()> {
        if let Some(c) = self.open(0) {
            c.seek_to_first()?;
        }
        self.skip_forward()
    }

    fn seek_to_last(&mut self) -> Result<()> {
        let last = self.tables.len().saturating_sub(1);
        if let Some(c) = self.open(last) {
            c.seek_to_last()?;
        }
        self.skip_backward()
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        let i = self
            .tables
            .partition_point(|t| compare_internal(&t.meta.largest, target).is_lt());
        match self.open(i) {
            Some(c) => c.seek(target)?,
            None => self.cur = None,
        }
        self.skip_forward()
    }

    fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        let i = self
            .tables
            .partition_point(|t| compare_internal(&t.meta.smallest, target).is_le());
        if i == 0 {
            self.cur = None;
            return Ok(());
        }
        if let Some(c) = self.open(i - 1) {
            c.seek_for_prev(target)?;
        }
        self.skip_backward()
    }

    fn next(&mut self) -> Result<()> {
        if let Some(c) = self.cur.as_mut() {
            c.next()?;
        }
        self.skip_forward()
    }

    fn prev(&mut self) -> Result<()> {
        if let Some(c) = self.cur.as_mut() {
            c.prev()?;
        }
        self.skip_backward()
    }

    fn key(&self) -> &[u8] {
        self.cur.as_ref().map_or(&[], |c| c.key())
    }

    fn value(&self) -> &[u8] {
        self.cur.as_ref().map_or(&[], |c| c.value())
    }
}
