//! Sorted string tables: immutable files of internal keys in `key::compare_internal` order.
//!
//! The on-disk format is specified in format-spec/sstable.md.

mod block;
mod block_iter;
mod blockio;
mod builder;
mod codec;
mod filter;
mod footer;
mod handle;
mod iter;
mod properties;
mod reader;
mod separator;

#[cfg(test)]
mod tests;

pub use builder::TableBuilder;
pub use codec::Codec;
pub use iter::TableIter;
pub use properties::TableProperties;
pub use reader::{Table, TableEntry};

/// How a table is written. Readers need none of it: everything is recorded in the file.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// Uncompressed data-block size at which a block is cut (clamped to 1 B..=64 MiB).
    pub block_size: usize,
    /// Entries between full keys in a data block: smaller seeks faster, larger packs tighter.
    pub restart_interval: usize,
    /// Bloom filter bits per distinct user key; 0 writes no filter.
    pub bloom_bits_per_key: u32,
    pub codec: Codec,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            block_size: 16 * 1024,
            restart_interval: 16,
            bloom_bits_per_key: 10,
            codec: Codec::Lz4,
        }
    }
}

/// What `TableBuilder::finish` reports, so the caller can record the table without reopening it.
#[derive(Debug, Clone)]
pub struct TableSummary {
    pub file_size: u64,
    pub props: TableProperties,
}
