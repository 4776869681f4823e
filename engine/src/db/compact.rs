//! Background compaction: picking, running and installing, plus write stalls.
//!
//! Install protocol: outputs are written and fsynced, then one manifest edit removes the
//! inputs and adds the outputs; the inputs' files disappear once the next edit is durable and
//! the last reader holding an older version lets go (see `VersionSet`). A crash before the
//! edit leaves orphaned outputs that the next open deletes.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::{DbInner, SuperVersion};
use crate::compaction::picker::{self, Task};
use crate::compaction::run;
use crate::version::edit::VersionEdit;
use crate::version::levels::{NUM_LEVELS, Version};
use crate::{Error, Result};

/// Wait before retrying a failed compaction.
const RETRY_AFTER: Duration = Duration::from_millis(200);
/// Idle work gives up once this many WAL bytes were written since it began: a burst of
/// writes is back, and a zstd-19 rewrite would share the cores with it. A trickle (a few
/// writes a second) stays far below it for the minutes a large idle step takes, so it does
/// not abandon idle work over and over (giving up at the first write did).
const IDLE_YIELD_BYTES: u64 = 1 << 20;
/// How often `wait_for_rest` looks at the poison flag, which nothing signals it about.
const POISON_CHECK: Duration = Duration::from_millis(100);
/// How long one write group waits while L0 is past its slowdown trigger.
const SLOWDOWN: Duration = Duration::from_millis(1);

/// Which tables are being compacted and where each level's round-robin left off.
#[derive(Debug)]
pub(crate) struct CompactState {
    pub busy: HashSet<u64>,
    pub cursor: Vec<Vec<u8>>,
    pub running: usize,
    pub error: Option<String>,
    /// Bumped after every compaction attempt.
    pub generation: u64,
    /// The last sequence number seen, and since when it has not moved (idle compaction).
    pub quiet: Option<(u64, Instant)>,
    /// The version in which idle compaction last found nothing to do (or failed): the store
    /// is at rest until its tables change. Writes that stay in the memtable give it no work.
    /// `Weak`, so a rested version's tables are not kept alive, while its allocation (and so
    /// its address) cannot be reused.
    pub rested: Option<Weak<Version>>,
}

impl Default for CompactState {
    fn default() -> Self {
        CompactState {
            busy: HashSet::new(),
            cursor: vec![Vec::new(); NUM_LEVELS],
            running: 0,
            error: None,
            generation: 0,
            quiet: None,
            rested: None,
        }
    }
}

/// Which compaction a thread looks for.
#[derive(Debug, Clone, Copy)]
enum Pick {
    /// A level over its target.
    Needed,
    /// Anything not yet in the last level (`Db::compact_all`).
    All,
    /// Idle compaction's next step (`picker::pick_idle`).
    Idle,
}

/// What idle compaction wants from a compaction thread.
enum Idle {
    Task(Task),
    /// Writes stopped less than `idle_after` ago: look again after this long.
    WaitFor(Duration),
    /// Disabled, at rest, or waiting for a running compaction (also one whose busy tables
    /// hold up needed work): sleep until woken.
    Nothing,
}

impl DbInner {
    /// A compaction thread's body.
    pub(crate) fn compaction_loop(self: &Arc<Self>) {
        loop {
            let task = {
                let mut c = self.compact.lock();
                loop {
                    if self.shutdown.load(Ordering::Acquire) {
                        return;
                    }
                    if !self.opts.compaction.auto {
                        self.compact_wake.wait(&mut c);
                        continue;
                    }
                    if let Some(t) = self.pick(&mut c, Pick::Needed) {
                        break t;
                    }
                    match self.idle_work(&mut c) {
                        Idle::Task(t) => break t,
                        Idle::WaitFor(d) => {
                            self.compact_wake.wait_for(&mut c, d);
                        }
                        Idle::Nothing => self.compact_wake.wait(&mut c),
                    }
                }
            };
            let idle = task.idle;
            let result = self.execute(&task);
            let failed = result.is_err();
            self.finish(task, result);
            if failed {
                let mut c = self.compact.lock();
                if idle {
                    // Not retried until the tables change: on a full disk or a damaged table
                    // it would fail again every retry, for nothing but tidiness.
                    self.rest(&mut c);
                }
                // Checked under the lock close() sets it under, or its wakeup could be missed
                // and close would wait out the whole retry delay.
                if !self.shutdown.load(Ordering::Acquire) {
                    self.compact_wake.wait_for(&mut c, RETRY_AFTER);
                }
            }
        }
    }

    /// What idle compaction wants now (caller holds the compaction lock and found no
    /// needed compaction). Quiet is judged by the visible sequence number, which every
    /// write moves, so the write path pays nothing for it.
    fn idle_work(&self, c: &mut CompactState) -> Idle {
        // Needed work blocked by another thread's busy tables: idle work would give way at
        // its first check, so it waits for that thread instead.
        if self.at_rest(c) || self.needs_compaction() {
            return Idle::Nothing;
        }
        let Some(after) = self.opts.compaction.idle_after else {
            return Idle::Nothing;
        };
        let seq = self.visible_seq.load(Ordering::Acquire);
        let now = Instant::now();
        let since = match c.quiet {
            Some((s, since)) if s == seq => since,
            _ => {
                c.quiet = Some((seq, now));
                now
            }
        };
        let quiet_for = now.duration_since(since);
        if quiet_for < after {
            return Idle::WaitFor(after - quiet_for);
        }
        if let Some(t) = self.pick(c, Pick::Idle) {
            self.stats.idle_compactions.fetch_add(1, Ordering::Relaxed);
            return Idle::Task(t);
        }
        if c.running == 0 {
            self.rest(c);
        }
        Idle::Nothing
    }

    /// Records that idle compaction is done with the current tables.
    fn rest(&self, c: &mut CompactState) {
        c.rested = Some(Arc::downgrade(&self.versions.current()));
        self.rest_wake.notify_all();
    }

    /// Whether idle compaction is done with the current tables.
    fn at_rest(&self, c: &CompactState) -> bool {
        c.rested
            .as_ref()
            .is_some_and(|v| std::ptr::eq(v.as_ptr(), Arc::as_ptr(&self.versions.current())))
    }

    /// Whether some level is over its target: idle work gives way to that.
    fn needs_compaction(&self) -> bool {
        picker::scores(&self.versions.current(), &self.opts.compaction)
            .iter()
            .any(|s| *s >= 1.0)
    }

    /// Blocks until background compaction has nothing left to do for the tables as they
    /// are: none running, no level over its target, and idle compaction (if on) done or
    /// failed, which is reported as its error. `false` if `timeout` passed first.
    pub(crate) fn wait_for_rest(&self, timeout: Duration) -> Result<bool> {
        if !self.opts.compaction.auto {
            return Err(Error::InvalidArgument(
                "background compaction is off (CompactionOptions::auto): nothing would move".into(),
            ));
        }
        // `None`: a timeout too long to represent, i.e. none.
        let deadline = Instant::now().checked_add(timeout);
        let mut c = self.compact.lock();
        // A compaction thread asleep on a stale judgement looks again.
        self.compact_wake.notify_all();
        loop {
            if self.shutdown.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            self.check_writable()?;
            let needed = picker::pick(
                &self.versions.current(),
                &self.opts.compaction,
                &c.busy,
                &c.cursor,
                false,
            )
            .is_some();
            let idle_done = self.opts.compaction.idle_after.is_none() || self.at_rest(&c);
            if c.running == 0 && !needed && idle_done {
                return match &c.error {
                    None => Ok(true),
                    Some(e) => Err(Error::io(
                        "background compaction",
                        std::io::Error::other(e.clone()),
                    )),
                };
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(false);
            }
            // Woken when a compaction finishes, idle compaction rests, or the database
            // closes. A poisoning (say, a failed flush) signals nothing here, so look again
            // at least every 100 ms.
            let slice = now + POISON_CHECK;
            let until = deadline.map_or(slice, |d| d.min(slice));
            self.rest_wake.wait_until(&mut c, until);
        }
    }

    /// Picks a task and marks its tables busy (caller holds the compaction lock).
    fn pick(&self, c: &mut CompactState, what: Pick) -> Option<Task> {
        if self.poisoned.load(Ordering::Acquire) {
            return None;
        }
        let v = self.versions.current();
        let o = &self.opts.compaction;
        let t = match what {
            Pick::Needed => picker::pick(&v, o, &c.busy, &c.cursor, false),
            Pick::All => picker::pick(&v, o, &c.busy, &c.cursor, true),
            Pick::Idle => picker::pick_idle(&v, o, &c.busy, &c.cursor),
        }?;
        for f in t.all_inputs() {
            c.busy.insert(f.meta.number);
        }
        c.running += 1;
        Some(t)
    }

    /// Releases a task's tables and records how it went (`Ok(false)`: given up).
    fn finish(&self, task: Task, result: Result<bool>) {
        let inputs: Vec<u64> = task.all_inputs().map(|f| f.meta.number).collect();
        let level = task.level;
        let last = task
            .inputs
            .iter()
            .map(|t| &t.meta.largest)
            .max_by(|a, b| crate::key::compare_internal(a, b))
            .cloned();
        // The task's references are the last ones to its inputs: dropped here, before anyone
        // learns the compaction is done, an installed compaction's input files are already
        // deleted when `Db::compact` returns or a writer's stall ends.
        drop(task);
        {
            let mut c = self.compact.lock();
            for n in &inputs {
                c.busy.remove(n);
            }
            c.running -= 1;
            c.generation += 1;
            match result {
                Ok(true) => {
                    c.error = None;
                    if let Some(last) = last {
                        c.cursor[level] = last;
                    }
                }
                // Given up (closing; or idle work that gave way to needed compaction or to a
                // burst of writes): not a failure.
                Ok(false) => {}
                Err(e) => {
                    self.stats.compaction_errors.fetch_add(1, Ordering::Relaxed);
                    c.error = Some(e.to_string());
                }
            }
        }
        // Another level may now need work, stalled writers may proceed, and the store may
        // be at rest.
        self.compact_wake.notify_all();
        self.rest_wake.notify_all();
        let _f = self.flush.lock();
        self.flush_done.notify_all();
    }

    /// Runs one task and installs its result; `Ok(false)` if it gave up: the database is
    /// closing, or the task is idle work and the tree now needs ordinary compaction or a
    /// burst of writes arrived ([`IDLE_YIELD_BYTES`]).
    fn execute(&self, task: &Task) -> Result<bool> {
        let start = Instant::now();
        let written = || self.stats.wal_bytes.load(Ordering::Relaxed);
        let written_at_start = written();
        let stop = || {
            self.shutdown.load(Ordering::Acquire)
                || (task.idle
                    && (self.needs_compaction()
                        || written().saturating_sub(written_at_start) >= IDLE_YIELD_BYTES))
        };
        let mut edit = VersionEdit::default();
        for t in &task.inputs {
            edit.deleted_tables.push((task.level as u32, t.meta.number));
        }
        for t in &task.next {
            edit.deleted_tables
                .push((task.output_level() as u32, t.meta.number));
        }
        let outputs = if task.trivial_move {
            let t = &task.inputs[0];
            edit.new_tables
                .push((task.output_level() as u32, t.meta.clone()));
            self.stats.trivial_moves.fetch_add(1, Ordering::Relaxed);
            vec![Arc::clone(t)]
        } else {
            let (snapshots, _visible) = self.snapshots.seqnos(&self.visible_seq);
            let out = run::run(
                &self.cache,
                &self.storage,
                &self.versions,
                &self.opts,
                task,
                snapshots,
                &stop,
            )?;
            let Some(out) = out else {
                self.stats
                    .compactions_abandoned
                    .fetch_add(1, Ordering::Relaxed);
                return Ok(false);
            };
            for t in &out.outputs {
                edit.new_tables
                    .push((task.output_level() as u32, t.meta.clone()));
            }
            self.stats.compactions.fetch_add(1, Ordering::Relaxed);
            self.stats
                .compaction_bytes_in
                .fetch_add(task.input_bytes(), Ordering::Relaxed);
            self.stats
                .compaction_bytes_out
                .fetch_add(out.bytes_out, Ordering::Relaxed);
            self.stats
                .compaction_entries_dropped
                .fetch_add(out.entries_in - out.entries_out, Ordering::Relaxed);
            out.outputs
        };
        self.install(edit, outputs)?;
        self.stats
            .compaction_micros
            .fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
        Ok(true)
    }

    /// Makes a compaction's edit durable and current.
    fn install(
        &self,
        edit: VersionEdit,
        outputs: Vec<Arc<crate::version::levels::TableFile>>,
    ) -> Result<()> {
        let install = self.sv_install.lock();
        let version = match self.versions.log_and_apply(edit, outputs, Vec::new()) {
            Ok(v) => v,
            Err(e) => {
                // A full disk leaves the manifest as it was (see VersionSet::log_and_apply).
                if !e.is_no_space() {
                    self.poison(&e);
                }
                return Err(e);
            }
        };
        let cur = self.current_sv();
        *self.sv.write() = Arc::new(SuperVersion {
            mem: Arc::clone(&cur.mem),
            imms: cur.imms.clone(),
            version,
        });
        drop(install);
        // Inputs are deleted only once a later edit is durable (VersionSet); without one an
        // idle database kept them until its next flush: after a full compaction, the data
        // twice over on disk. As after a flush, a failure only keeps them until the next
        // edit (or open); a failed sync still poisons, like any manifest sync.
        if let Err(e) = self.versions.seal()
            && !e.is_no_space()
        {
            self.poison(&e);
        }
        Ok(())
    }

    /// Compacts in the caller's thread until no level needs it (`force`: until all data
    /// sits in the last level). Waits for background compactions to finish first.
    pub(crate) fn compact_now(&self, force: bool) -> Result<()> {
        loop {
            let task = {
                let mut c = self.compact.lock();
                while c.running > 0 {
                    self.compact_wake.wait(&mut c);
                }
                // Closed meanwhile (from another clone): no more manifest edits.
                if self.shutdown.load(Ordering::Acquire) {
                    return Err(Error::Closed);
                }
                let what = if force { Pick::All } else { Pick::Needed };
                match self.pick(&mut c, what) {
                    Some(t) => t,
                    None => return Ok(()),
                }
            };
            let r = self.execute(&task);
            let err = match &r {
                Ok(true) => None,
                // Only closing stops a compaction that is not idle work.
                Ok(false) => Some(Error::Closed),
                Err(e) => Some(super::write::clone_error(e)),
            };
            self.finish(task, r);
            if let Some(e) = err {
                return Err(e);
            }
        }
    }

    /// Called by the write leader before appending: slows writes while L0 is past its
    /// slowdown trigger and holds them while it is past its stop trigger. Not with
    /// background compaction off: nothing would ever bring L0 back down, and held writes
    /// would wait forever; that owner compacts (`Db::compact`) when it chooses.
    pub(crate) fn throttle_writes(&self) -> Result<()> {
        let o = &self.opts.compaction;
        if !o.auto {
            return Ok(());
        }
        let l0 = self.current_sv().version.levels[0].len();
        if l0 < o.l0_slowdown_trigger {
            return Ok(());
        }
        let start = Instant::now();
        let generation = self.compact.lock().generation;
        if l0 < o.l0_stop_trigger {
            self.stats.slowdowns.fetch_add(1, Ordering::Relaxed);
            self.compact_wake.notify_one();
            // Backpressure, not synchronization: give compaction a share of the disk.
            std::thread::sleep(SLOWDOWN);
        } else {
            self.stats.stops.fetch_add(1, Ordering::Relaxed);
            // Lock order: flush, then compact (never the reverse).
            let mut f = self.flush.lock();
            while self.current_sv().version.levels[0].len() >= o.l0_stop_trigger {
                if f.shutting_down {
                    return Err(Error::Closed);
                }
                {
                    let c = self.compact.lock();
                    if let Some(e) = &c.error
                        && c.generation >= generation + 2
                    {
                        return Err(Error::io(
                            "compacting L0 (writes are held until it succeeds)",
                            std::io::Error::other(e.clone()),
                        ));
                    }
                }
                self.compact_wake.notify_one();
                self.flush_done.wait_for(&mut f, Duration::from_millis(100));
            }
        }
        self.stats
            .stall_micros
            .fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
        Ok(())
    }
}
