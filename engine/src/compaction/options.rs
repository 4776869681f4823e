//! Compaction tuning and per-level codecs.

use std::time::Duration;

use crate::version::levels::NUM_LEVELS;

/// How a level's tables are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Stored raw.
    None,
    /// LZ4: fast to write and read; for hot levels.
    Lz4,
    /// zstd at `level`.
    Zstd { level: i32 },
    /// zstd at `level` with a dictionary trained from sampled blocks of the compaction
    /// input, stored once per table: small blocks of repetitive data (SCIP) compress far
    /// better with it. Falls back to plain zstd when there is too little data to train on.
    ZstdDictionary { level: i32 },
}

/// When and how tables move down the levels.
#[derive(Debug, Clone)]
pub struct CompactionOptions {
    /// Compact L0 into L1 once it holds this many tables (default 4).
    pub l0_compaction_trigger: usize,
    /// Writes are slowed (each write group waits 1 ms) from this many L0 tables (default 8).
    pub l0_slowdown_trigger: usize,
    /// Writes wait for compaction from this many L0 tables (default 12).
    pub l0_stop_trigger: usize,
    /// Target size of L1 (default 256 MiB); each deeper level is `level_size_ratio` larger.
    pub l1_target_bytes: u64,
    /// Growth factor between levels (default 10).
    pub level_size_ratio: u64,
    /// Compaction outputs are cut near this size, always between two user keys (default 64 MiB).
    pub target_table_bytes: u64,
    /// Background compaction threads (default 1; this is a 2-core machine's sweet spot).
    pub threads: usize,
    /// Codec of L1, L2, ... (index 0 is L1); L0 uses `Options::table.codec`. Missing
    /// entries repeat the last. Default: zstd-3 at L1, zstd-19 with a dictionary below.
    pub level_compression: Vec<Compression>,
    /// Largest trained dictionary (default 64 KiB); never more than a sixteenth of
    /// `target_table_bytes`, since every table stores its own.
    pub max_dictionary_bytes: usize,
    /// Run compactions in the background (default true). Off, only `Db::compact` compacts.
    pub auto: bool,
    /// Once no write has arrived for this long, background compaction moves data that sits
    /// in L0 or in a level with a warmer codec than the last level's down the tree, as long
    /// as each step rewrites at most `level_size_ratio` bytes below per byte moved (default
    /// 10 s; `None`: never). Leveled compaction only moves data when a level is over its
    /// target, so a store whose writes stopped (a SCIP upload done, a bulk load) otherwise
    /// keeps its last tables in L0 with the hot codec for good: more tables per read, and
    /// ~25% more bytes than the cold levels' codec. Idle work gives way as soon as a level
    /// needs ordinary compaction. See `Db::wait_for_rest`.
    pub idle_after: Option<Duration>,
}

impl Default for CompactionOptions {
    fn default() -> Self {
        CompactionOptions {
            l0_compaction_trigger: 4,
            l0_slowdown_trigger: 8,
            l0_stop_trigger: 12,
            l1_target_bytes: 256 << 20,
            level_size_ratio: 10,
            target_table_bytes: 64 << 20,
            threads: 1,
            level_compression: vec![
                Compression::Zstd { level: 3 },
                Compression::ZstdDictionary { level: 19 },
            ],
            max_dictionary_bytes: 64 << 10,
            auto: true,
            idle_after: Some(Duration::from_secs(10)),
        }
    }
}

impl CompactionOptions {
    /// The codec of `level` (>= 1).
    pub fn compression(&self, level: usize) -> Compression {
        let i = level.saturating_sub(1);
        self.level_compression
            .get(i)
            .or(self.level_compression.last())
            .copied()
            .unwrap_or(Compression::Lz4)
    }

    /// Target size of `level` (>= 1).
    pub fn level_target(&self, level: usize) -> u64 {
        let mut t = self.l1_target_bytes;
        for _ in 1..level {
            t = t.saturating_mul(self.level_size_ratio);
        }
        t
    }

    pub(crate) fn validate(&self) -> crate::Result<()> {
        let bad = |m: &str| Err(crate::Error::InvalidArgument(m.into()));
        if self.l0_compaction_trigger == 0 {
            return bad("l0_compaction_trigger must be at least 1");
        }
        if self.l0_slowdown_trigger < self.l0_compaction_trigger
            || self.l0_stop_trigger < self.l0_slowdown_trigger
        {
            return bad("L0 triggers must satisfy compaction <= slowdown <= stop");
        }
        if self.level_size_ratio < 2 {
            return bad("level_size_ratio must be at least 2");
        }
        if self.threads == 0 {
            return bad("compaction threads must be at least 1");
        }
        if self.idle_after.is_some_and(|d| d.is_zero()) {
            return bad("idle_after must be positive (None turns idle compaction off)");
        }
        if self.level_compression.is_empty() {
            return bad("level_compression needs at least one entry");
        }
        if NUM_LEVELS < 2 {
            return bad("at least two levels are needed");
        }
        Ok(())
    }
}
