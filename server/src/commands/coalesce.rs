//! Write coalescing for pipelines: a run of plain `SET key value` and `MSET` requests at the
//! front of a connection's queue becomes one engine batch, handed to the write front
//! (`writer.rs`), which may gather it with other connections' runs into one engine write.
//!
//! Why: in `SyncMode::Always` every engine write waits for an fsync. Run one by one, a
//! pipeline of 16 SETs costs 16 sequential fsyncs (measured: under 1,000 SET/s with
//! `redis-benchmark -P 16 -c 50`); as one batch it costs one. Replies are unchanged: every
//! request in the run is acknowledged only after the batch is durable, in order. Requests
//! with options (NX, XX, GET) read before writing and are never coalesced; any other
//! request ends the run, so later reads in the pipeline see the writes.

use std::collections::VecDeque;
use std::time::Instant;

use scipkv_engine::WriteBatch;

use super::Session;
use crate::locks::KeyLocks;
use crate::resp::{Command, Value};
use crate::shared::{Shared, Stats};

/// Bounds one coalesced batch so a huge pipeline still makes progress in steps.
const MAX_RUN: usize = 1024;
const MAX_RUN_BYTES: usize = 16 << 20;

/// A `SET key value` without options, or a well-formed `MSET`: a write that reads nothing.
pub(crate) fn is_plain_write(args: &[Vec<u8>]) -> bool {
    let name = &args[0];
    (name.eq_ignore_ascii_case(b"SET") && args.len() == 3)
        || (name.eq_ignore_ascii_case(b"MSET") && args.len() >= 3 && args.len() % 2 == 1)
}

/// The plain writes at the head of a queue, as one engine batch.
pub(crate) struct PlainWrites {
    pub batch: WriteBatch,
    /// Lock stripes of the batch's engine keys.
    pub stripes: Vec<usize>,
    /// How many requests the batch holds.
    pub run: usize,
}

/// What heads a queue.
pub(crate) enum Gathered {
    /// A run of plain writes, as one batch.
    Run(PlainWrites),
    /// A run of this many plain writes (at least two) that must run one by one: the client
    /// may not write (each gets its error) or the batch breaks an engine limit (each gets its
    /// own result).
    OneByOne(usize),
    /// Not a run: the head is not a plain write, or a lone one.
    Nothing,
}

/// The run of plain writes heading `pending`. A lone write runs in `execute` on the
/// connection's worker (or the blocking pool), as it did before the write front existed:
/// handing it over costs a thread wake-up per request, more than its write
/// (`redis-benchmark -P 1` SET: 56k/s through the front, 69k inline).
pub(crate) fn gather(session: &Session, pending: &VecDeque<Command>) -> Gathered {
    let (run, bytes) = run_len(pending);
    if run < 2 {
        return Gathered::Nothing;
    }
    if !super::auth::may_write(session) {
        return Gathered::OneByOne(run);
    }
    let pairs: usize = pending.iter().take(run).map(|c| c.args.len() / 2).sum();
    let prefix = session.keyspace.prefix().len();
    let mut batch = WriteBatch::with_capacity(pairs, bytes + pairs * prefix);
    // Engine keys are built once in one buffer; their lock stripes are taken from it.
    let mut key = Vec::new();
    let mut stripes = Vec::with_capacity(pairs);
    for command in pending.iter().take(run) {
        for pair in command.args[1..].chunks_exact(2) {
            session.keyspace.key_into(&pair[0], &mut key);
            stripes.push(KeyLocks::stripe(&key));
            batch.put(&key, &pair[1]);
        }
    }
    if batch.validate().is_err() {
        return Gathered::OneByOne(run);
    }
    Gathered::Run(PlainWrites {
        batch,
        stripes,
        run,
    })
}

/// How many plain writes head `pending` (at most [`MAX_RUN`], about [`MAX_RUN_BYTES`]), and
/// the bytes of their keys and values.
fn run_len(pending: &VecDeque<Command>) -> (usize, usize) {
    let mut run = 0;
    let mut bytes = 0;
    for command in pending.iter().take(MAX_RUN) {
        if !is_plain_write(&command.args) || bytes > MAX_RUN_BYTES {
            break;
        }
        bytes += command.args[1..].iter().map(Vec::len).sum::<usize>();
        run += 1;
    }
    (run, bytes)
}

/// Where the next run of two or more plain writes after the head starts (`pending.len()` if
/// none): everything before it runs as one group, lone writes included.
pub(crate) fn next_run(pending: &VecDeque<Command>) -> usize {
    (1..pending.len())
        .find(|&i| {
            is_plain_write(&pending[i].args)
                && pending.get(i + 1).is_some_and(|c| is_plain_write(&c.args))
        })
        .unwrap_or(pending.len())
}

/// Accounts for a written run of `run` requests that started at `started`: counters, the
/// client's last command, per-command latency; moves them from `pending` to `spent`.
pub(crate) fn finish(
    shared: &Shared,
    session: &Session,
    pending: &mut VecDeque<Command>,
    spent: &mut Vec<Command>,
    run: usize,
    reply: &Value,
    started: Instant,
) {
    Stats::add(&shared.stats.commands_processed, run as u64);
    {
        let mut state = session.client.state.lock();
        state.last_command = "set";
        state.last_active = Some(started);
    }
    let each = started.elapsed() / u32::try_from(run).unwrap_or(u32::MAX);
    let error = matches!(reply, Value::Error(_));
    for command in pending.drain(..run) {
        let index = super::position(&command.args[0]);
        shared.metrics.resp_command(index, error, each);
        spent.push(command);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(args: &[&str]) -> Command {
        Command {
            args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        }
    }

    #[test]
    fn only_option_free_sets_and_well_formed_msets_qualify() {
        assert!(is_plain_write(&command(&["set", "k", "v"]).args));
        assert!(is_plain_write(&command(&["MSET", "a", "1", "b", "2"]).args));
        assert!(!is_plain_write(&command(&["SET", "k", "v", "NX"]).args));
        assert!(!is_plain_write(&command(&["MSET", "a", "1", "b"]).args));
        assert!(!is_plain_write(&command(&["GET", "k"]).args));
    }
}
