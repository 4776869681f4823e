//! Executing a compaction: merge, drop invisible versions, write the next level's tables.

use std::sync::Arc;

use super::options::Compression;
use super::picker::Task;
use super::retain::Retainer;
use crate::cache::BlockCache;
use crate::iter::InternalIterator;
use crate::iter::merge::MergingIterator;
use crate::key::{self, SeqNo};
use crate::options::Options;
use crate::sstable::{
    Codec, MIN_DICTIONARY_LEN, TableBuilder, TableOptions, sample_blocks, train_dictionary,
};
use crate::storage::Storage;
use crate::version::levels::TableFile;
use crate::version::names::table_name;
use crate::version::set::VersionSet;
use crate::{Error, Result};

/// What a finished compaction produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub outputs: Vec<Arc<TableFile>>,
    pub entries_in: u64,
    pub entries_out: u64,
    pub bytes_out: u64,
}

/// Entries between two calls of the stop check: a zstd-19 compaction of a deep level runs
/// for minutes, and neither closing the database nor the ordinary compaction that idle work
/// gives way to should wait for it.
const STOP_CHECK_EVERY: u64 = 4096;
/// Or input bytes between two calls, for large values.
const STOP_CHECK_BYTES: usize = 4 << 20;

/// Blocks sampled from the compaction input to train a level's dictionary.
const DICTIONARY_SAMPLES: usize = 256;

/// Table options for writing `level`: the shared layout with the level's codec. For a
/// dictionary level the dictionary is trained on blocks sampled evenly from `inputs`; with
/// too little data to train on, plain zstd at the same level is used.
pub fn table_options(
    opts: &Options,
    level: usize,
    inputs: &[Arc<TableFile>],
) -> Result<TableOptions> {
    let mut t = opts.table.clone();
    t.dictionary = None;
    if level == 0 {
        return Ok(t);
    }
    t.codec = match opts.compaction.compression(level) {
        Compression::None => Codec::None,
        Compression::Lz4 => Codec::Lz4,
        Compression::Zstd { level } => Codec::Zstd { level },
        Compression::ZstdDictionary { level } => {
            // Every table stores its dictionary, and size-based cuts count it: a dictionary
            // near the target table size would leave room for one entry per table (tables
            // then multiply faster than compaction merges them). A sixteenth of the table
            // bounds the overhead; below the smallest useful dictionary, plain zstd.
            let max_dict = usize::try_from(opts.compaction.target_table_bytes / 16)
                .unwrap_or(usize::MAX)
                .min(opts.compaction.max_dictionary_bytes);
            if max_dict < MIN_DICTIONARY_LEN {
                t.codec = Codec::Zstd { level };
                return Ok(t);
            }
            let per_table = DICTIONARY_SAMPLES.div_ceil(inputs.len().max(1));
            let mut samples = Vec::new();
            for input in inputs {
                samples.extend(sample_blocks(&input.table, per_table)?);
            }
            if let Ok(dict) = train_dictionary(&samples, max_dict) {
                t.dictionary = Some(dict.into());
            }
            Codec::Zstd { level }
        }
    };
    Ok(t)
}

/// Runs `task` (not a trivial move): returns the opened output tables, already synced, or
/// `None` if `stop` said to give up. Then, as on an error, what it wrote is removed; the
/// inputs are untouched, so nothing is lost.
pub fn run(
    cache: &Arc<BlockCache>,
    storage: &Arc<dyn Storage>,
    versions: &VersionSet,
    opts: &Options,
    task: &Task,
    snapshots: Vec<SeqNo>,
    stop: &dyn Fn() -> bool,
) -> Result<Option<Outcome>> {
    let mut created = Vec::new();
    let env = Env {
        cache,
        storage,
        versions,
        opts,
        stop,
    };
    let r = write_outputs(&env, task, snapshots, &mut created);
    if !matches!(r, Ok(Some(_))) {
        for name in &created {
            let _ = storage.remove(name);
        }
    }
    r
}

/// What a compaction writes with, from the database.
struct Env<'a> {
    cache: &'a Arc<BlockCache>,
    storage: &'a Arc<dyn Storage>,
    versions: &'a VersionSet,
    opts: &'a Options,
    stop: &'a dyn Fn() -> bool,
}

fn write_outputs(
    env: &Env<'_>,
    task: &Task,
    snapshots: Vec<SeqNo>,
    created: &mut Vec<String>,
) -> Result<Option<Outcome>> {
    let Env {
        cache,
        storage,
        versions,
        opts,
        stop,
    } = *env;
    let inputs: Vec<Arc<TableFile>> = task.all_inputs().cloned().collect();
    let children: Vec<Box<dyn InternalIterator>> = inputs
        .iter()
        .map(|t| Box::new(t.table.iter()) as Box<dyn InternalIterator>)
        .collect();
    let mut it = MergingIterator::new(children);
    let mut retain = Retainer::new(snapshots, task.bottommost);
    let topts = table_options(opts, task.output_level(), &inputs)?;
    let target = opts.compaction.target_table_bytes;
    let mut out = Outcome::default();
    let mut builder: Option<(u64, String, TableBuilder)> = None;
    let mut finished: Vec<(u64, String, crate::sstable::TableSummary)> = Vec::new();
    let mut last_user_key: Vec<u8> = Vec::new();
    let mut tombstone: Vec<u8> = Vec::new();
    // One moment for the whole compaction: every expiry is judged against the same time.
    let now_ms = opts.clock.now_ms();

    let mut since_check = 0usize;
    it.seek_to_first()?;
    while it.valid() {
        let p = key::parse_internal_key(it.key()).ok_or_else(|| {
            Error::corruption(
                "compaction input",
                0,
                "internal key shorter than its trailer",
            )
        })?;
        out.entries_in += 1;
        since_check += it.key().len() + it.value().len();
        if out.entries_in % STOP_CHECK_EVERY == 0 || since_check >= STOP_CHECK_BYTES {
            since_check = 0;
            if stop() {
                return Ok(None);
            }
        }
        let kind = super::retain::effective_kind(p.kind, it.value(), now_ms)
            .map_err(|what| Error::corruption("compaction input", 0, what))?;
        if retain.keep(p.user_key, p.seq, kind) {
            let new_user_key = builder.is_none() || p.user_key != last_user_key.as_slice();
            // Cut only between user keys, so every version of a key stays in one table and
            // the level's tables never overlap.
            if new_user_key
                && let Some((_, _, b)) = &builder
                && b.estimated_size() >= target
            {
                let (n, name, b) = builder.take().expect("checked");
                finished.push((n, name, b.finish()?));
            }
            if builder.is_none() {
                let number = versions.new_file_number();
                let name = table_name(number);
                let file = storage
                    .create(&name)
                    .map_err(|e| Error::io(format!("creating {name}"), e))?;
                created.push(name.clone());
                builder = Some((
                    number,
                    name.clone(),
                    TableBuilder::new(file, name, topts.clone()),
                ));
            }
            if let Some((_, _, b)) = &mut builder {
                if kind == p.kind {
                    b.add(it.key(), it.value())?;
                } else {
                    // An expired value, kept as the tombstone it now is.
                    tombstone.clear();
                    key::append_internal_key(&mut tombstone, p.user_key, p.seq, kind);
                    b.add(&tombstone, &[])?;
                }
            }
            if new_user_key {
                last_user_key.clear();
                last_user_key.extend_from_slice(p.user_key);
            }
            out.entries_out += 1;
        }
        it.next()?;
    }
    if let Some((n, name, b)) = builder.take() {
        finished.push((n, name, b.finish()?));
    }
    // Last chance, before the outputs are opened and handed over for installing.
    if stop() {
        return Ok(None);
    }
    if !finished.is_empty() {
        storage
            .sync_dir()
            .map_err(|e| Error::io("syncing the directory after compaction", e))?;
    }
    for (number, name, summary) in finished {
        let (meta, table) = crate::db::open_written(&**storage, &name, number, &summary, cache)?;
        out.bytes_out += summary.file_size;
        out.outputs.push(Arc::new(TableFile::new(
            meta,
            table,
            name,
            Arc::clone(storage),
        )));
    }
    Ok(Some(out))
}
