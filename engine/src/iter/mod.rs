//! Iteration over internal keys, shared by every sorted layer (block, table, memtable, merge).

use crate::Result;

/// A positioned cursor over entries sorted by [`crate::key::compare_internal`].
///
/// One trait for every layer lets the merging iterator and the test harness treat blocks,
/// tables and memtables alike. Movement returns `Result` because table-backed cursors read
/// blocks, and a checksum failure must surface as an error rather than an early end.
pub trait InternalIterator: Send {
    /// True when positioned on an entry.
    fn valid(&self) -> bool;
    /// Positions on the first entry.
    fn seek_to_first(&mut self) -> Result<()>;
    /// Positions on the last entry.
    fn seek_to_last(&mut self) -> Result<()>;
    /// Positions on the first entry whose internal key is `>= target`.
    fn seek(&mut self, target: &[u8]) -> Result<()>;
    /// Positions on the last entry whose internal key is `<= target`.
    fn seek_for_prev(&mut self, target: &[u8]) -> Result<()>;
    /// Moves to the next entry (invalid past the end). Requires `valid()`.
    fn next(&mut self) -> Result<()>;
    /// Moves to the previous entry (invalid before the start). Requires `valid()`.
    fn prev(&mut self) -> Result<()>;
    /// The current internal key. Requires `valid()`.
    fn key(&self) -> &[u8];
    /// The current value. Requires `valid()`.
    fn value(&self) -> &[u8];
}

pub mod level;
pub mod merge;
#[cfg(test)]
pub mod testing;
