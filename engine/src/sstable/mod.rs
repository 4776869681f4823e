//! Sorted string tables: immutable files of internal keys in `key::compare_internal` order.
//!
//! The on-disk format is specified in format-spec/sstable.md.

mod block;
mod block_iter;
mod blockio;
mod builder;
mod codec;
mod dict;
mod filter;
mod footer;
mod handle;
mod iter;
mod properties;
mod reader;
mod separator;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use builder::TableBuilder;
pub use codec::{Codec, decompress as decompress_block};
pub use dict::{
    DictDecoder, DictEncoder, MAX_DICTIONARY_LEN, MIN_DICTIONARY_LEN, dictionary_id, sample_blocks,
    sample_entry_blocks, train_dictionary,
};
pub use iter::TableIter;
pub use properties::TableProperties;
pub use reader::{Table, TableEntry};

/// How a table is written. Readers need none of it: everything is recorded in the file.
#[derive(Clone)]
pub struct TableOptions {
    /// Uncompressed data-block size at which a block is cut (clamped to 1 B..=64 MiB).
    pub block_size: usize,
    /// Entries between full keys in a data block: smaller seeks faster, larger packs tighter.
    pub restart_interval: usize,
    /// Bloom filter bits per distinct user key; 0 writes no filter.
    pub bloom_bits_per_key: u32,
    pub codec: Codec,
    /// A zstd dictionary (from [`train_dictionary`]) for the data blocks; used only when
    /// `codec` is [`Codec::Zstd`], ignored otherwise. The table then stores it once as its
    /// own block and is written in format version 2. A dictionary that is too large or not
    /// a zstd dictionary makes the builder fail with `InvalidArgument`.
    pub dictionary: Option<Arc<[u8]>>,
}

/// Manual so a debug print shows the dictionary's size and id, not ~100 KB of bytes.
impl std::fmt::Debug for TableOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableOptions")
            .field("block_size", &self.block_size)
            .field("restart_interval", &self.restart_interval)
            .field("bloom_bits_per_key", &self.bloom_bits_per_key)
            .field("codec", &self.codec)
            .field(
                "dictionary",
                &self
                    .dictionary
                    .as_ref()
                    .map(|d| format!("{} bytes, id {:?}", d.len(), dictionary_id(d))),
            )
            .finish()
    }
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            block_size: 16 * 1024,
            restart_interval: 16,
            bloom_bits_per_key: 10,
            codec: Codec::Lz4,
            dictionary: None,
        }
    }
}

/// What `TableBuilder::finish` reports, so the caller can record the table without reopening it.
#[derive(Debug, Clone)]
pub struct TableSummary {
    pub file_size: u64,
    pub props: TableProperties,
}
