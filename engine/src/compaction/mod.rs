//! Leveled compaction (format-spec/compaction.md).
//!
//! L0 holds flushed memtables, newest first, possibly overlapping; L1 and deeper hold
//! non-overlapping tables sorted by key, each level `level_size_ratio` times the previous.
//! A compaction merges one level's chosen tables with the overlapping tables of the next,
//! drops versions no reader can see, and writes the result with the next level's codec.

mod options;
pub(crate) mod picker;
pub(crate) mod retain;
pub(crate) mod run;

pub use options::{CompactionOptions, Compression};
