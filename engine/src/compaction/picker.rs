//! Choosing the next compaction.
//!
//! Each level gets a score: L0 by table count against its trigger, deeper levels by size
//! against their target. The highest score at or above 1 wins. L0 compactions take every L0
//! table (they overlap, and leaving an older one behind would let it shadow newer data moved
//! to L1); deeper compactions take one table, chosen round-robin through the key space, plus
//! whatever overlaps it in the next level.

use std::collections::HashSet;
use std::sync::Arc;

use super::options::CompactionOptions;
use crate::key::{self, compare_internal};
use crate::version::levels::{NUM_LEVELS, TableFile, Version};

/// One unit of compaction work.
#[derive(Debug, Clone)]
pub struct Task {
    /// The level the inputs come from; outputs go to `level + 1`.
    pub level: usize,
    pub inputs: Vec<Arc<TableFile>>,
    /// Overlapping tables of `level + 1`.
    pub next: Vec<Arc<TableFile>>,
    /// Nothing in levels below `level + 1` overlaps the key range: tombstones can go.
    pub bottommost: bool,
    /// Move the single input down without rewriting it.
    pub trivial_move: bool,
    /// Idle compaction's work (`pick_idle`): given up once the tree needs ordinary
    /// compaction (checked every few thousand entries), so the work writes depend on never
    /// waits behind it.
    pub idle: bool,
}

impl Task {
    pub fn output_level(&self) -> usize {
        self.level + 1
    }

    pub fn all_inputs(&self) -> impl Iterator<Item = &Arc<TableFile>> {
        self.inputs.iter().chain(self.next.iter())
    }

    pub fn input_bytes(&self) -> u64 {
        self.all_inputs().map(|t| t.meta.file_size).sum()
    }
}

/// Level scores, for stats and the picker: `>= 1.0` means the level needs compaction.
pub fn scores(v: &Version, opts: &CompactionOptions) -> Vec<f64> {
    (0..NUM_LEVELS - 1)
        .map(|l| {
            if l == 0 {
                v.levels[0].len() as f64 / opts.l0_compaction_trigger as f64
            } else {
                let bytes: u64 = v.levels[l].iter().map(|t| t.meta.file_size).sum();
                bytes as f64 / opts.level_target(l) as f64
            }
        })
        .collect()
}

/// The next compaction, skipping tables already being compacted. `cursor[l]` is the largest
/// key of the last table compacted out of level `l` (for round-robin).
pub fn pick(
    v: &Version,
    opts: &CompactionOptions,
    busy: &HashSet<u64>,
    cursor: &[Vec<u8>],
    force: bool,
) -> Option<Task> {
    let s = scores(v, opts);
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|a, b| s[*b].total_cmp(&s[*a]));
    for level in order {
        let wanted = s[level] >= 1.0 || (force && !v.levels[level].is_empty());
        if !wanted {
            continue;
        }
        if let Some(t) = pick_level(v, opts, busy, cursor, level) {
            return Some(t);
        }
    }
    None
}

/// Work for a store whose writes have stopped (`CompactionOptions::idle_after`): the
/// shallowest step that moves data out of L0 (all its tables), or out of a level whose codec
/// differs from the last level's (the first of its tables, round-robin from `cursor`, that
/// qualifies), into the next level, when the next level's overlapping bytes are at most
/// `level_size_ratio` times the bytes moved: what a leveled compaction pays per byte anyway,
/// so a small table over a deep, wide level stays where it is. Levels already holding the
/// last level's codec are left alone: moving them further would cost writes and gain
/// nothing.
pub fn pick_idle(
    v: &Version,
    opts: &CompactionOptions,
    busy: &HashSet<u64>,
    cursor: &[Vec<u8>],
) -> Option<Task> {
    let cold = opts.compression(NUM_LEVELS - 1);
    let worth_it = |t: &Task| {
        let moved: u64 = t.inputs.iter().map(|f| f.meta.file_size).sum();
        let below: u64 = t.next.iter().map(|f| f.meta.file_size).sum();
        below <= moved.saturating_mul(opts.level_size_ratio)
    };
    for level in 0..NUM_LEVELS - 1 {
        if level > 0 && opts.compression(level) == cold {
            continue;
        }
        let found = if level == 0 {
            task_for(v, opts, busy, 0, v.levels[0].clone()).filter(worth_it)
        } else {
            let files = &v.levels[level];
            let start = round_robin_start(files, cursor, level);
            (0..files.len())
                .map(|i| &files[(start + i) % files.len()])
                .filter_map(|t| task_for(v, opts, busy, level, vec![Arc::clone(t)]))
                .find(worth_it)
        };
        if let Some(t) = found {
            return Some(Task { idle: true, ..t });
        }
    }
    None
}

/// Index of the first table of `files` after the cursor of `level` (0 past the end).
fn round_robin_start(files: &[Arc<TableFile>], cursor: &[Vec<u8>], level: usize) -> usize {
    let after = cursor.get(level).filter(|c| !c.is_empty());
    let start = after.map_or(0, |c| {
        files.partition_point(|t| compare_internal(&t.meta.largest, c).is_le())
    });
    if start >= files.len() { 0 } else { start }
}

/// A compaction out of `level`, if its tables are free.
pub fn pick_level(
    v: &Version,
    opts: &CompactionOptions,
    busy: &HashSet<u64>,
    cursor: &[Vec<u8>],
    level: usize,
) -> Option<Task> {
    if level + 1 >= NUM_LEVELS || v.levels[level].is_empty() {
        return None;
    }
    let inputs: Vec<Arc<TableFile>> = if level == 0 {
        v.levels[0].clone()
    } else {
        let files = &v.levels[level];
        vec![Arc::clone(&files[round_robin_start(files, cursor, level)])]
    };
    task_for(v, opts, busy, level, inputs)
}

/// The task moving `inputs` (tables of `level`) into `level + 1`, if no table involved is
/// busy.
fn task_for(
    v: &Version,
    opts: &CompactionOptions,
    busy: &HashSet<u64>,
    level: usize,
    inputs: Vec<Arc<TableFile>>,
) -> Option<Task> {
    if level + 1 >= NUM_LEVELS || inputs.is_empty() {
        return None;
    }
    if inputs.iter().any(|t| busy.contains(&t.meta.number)) {
        return None;
    }
    let (lo, hi) = user_range(&inputs);
    let next = overlapping(&v.levels[level + 1], &lo, &hi);
    if next.iter().any(|t| busy.contains(&t.meta.number)) {
        return None;
    }
    // The full range including the next level's tables decides what lies below.
    let mut all = inputs.clone();
    all.extend(next.iter().cloned());
    let (lo2, hi2) = user_range(&all);
    let bottommost = v.levels[level + 2..]
        .iter()
        .all(|l| overlapping(l, &lo2, &hi2).is_empty());
    // A move keeps the table's bytes; only allowed when that keeps each level's codec.
    let same_codec = level >= 1 && opts.compression(level) == opts.compression(level + 1);
    let trivial_move = level >= 1 && next.is_empty() && inputs.len() == 1 && same_codec;
    Some(Task {
        level,
        inputs,
        next,
        bottommost,
        trivial_move,
        idle: false,
    })
}

fn user_range(tables: &[Arc<TableFile>]) -> (Vec<u8>, Vec<u8>) {
    let lo = tables
        .iter()
        .map(|t| key::user_key(&t.meta.smallest))
        .min()
        .unwrap_or_default()
        .to_vec();
    let hi = tables
        .iter()
        .map(|t| key::user_key(&t.meta.largest))
        .max()
        .unwrap_or_default()
        .to_vec();
    (lo, hi)
}

/// Tables of a sorted level whose user-key range meets `[lo, hi]`.
pub fn overlapping(level: &[Arc<TableFile>], lo: &[u8], hi: &[u8]) -> Vec<Arc<TableFile>> {
    level
        .iter()
        .filter(|t| key::user_key(&t.meta.largest) >= lo && key::user_key(&t.meta.smallest) <= hi)
        .cloned()
        .collect()
}
