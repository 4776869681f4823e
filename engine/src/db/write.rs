//! Group commit: the one ordered write path.
//!
//! Writers queue up; the writer at the head becomes leader, frames every queued batch (up to
//! a byte budget) into one buffer, appends it to the WAL with one call, fsyncs once (in
//! `SyncMode::Always`), inserts the batches into the memtable in queue order, publishes the
//! last sequence number, wakes the group, and hands leadership to the next queued writer.
//! Sequence numbers therefore follow WAL order exactly, which is what replication will ship.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::{DbInner, SuperVersion, WalState};
use crate::batch::WriteBatch;
use crate::key::MAX_SEQNO;
use crate::log::{LogKind, LogWriter};
use crate::memtable::Memtable;
use crate::options::SyncMode;
use crate::version::names::wal_name;
use crate::{Error, Result};

/// A group stops growing past this many bytes so one leader's latency stays bounded.
const MAX_GROUP_BYTES: usize = 4 << 20;

/// The framing buffer is reused between groups up to this capacity (a typical group's).
const KEEP_FRAMED_BYTES: usize = 1 << 20;

#[derive(Debug)]
pub(crate) enum Request {
    Batch(WriteBatch),
    /// Switch to a new memtable (if the current one holds anything) so it can be flushed.
    SwitchMemtable,
}

#[derive(Debug)]
enum Slot {
    Waiting,
    Lead,
    Done(Result<()>),
}

#[derive(Debug)]
pub(crate) struct Writer {
    req: Mutex<Option<Request>>,
    slot: Mutex<Slot>,
    cv: Condvar,
}

thread_local! {
    /// This thread's last `Writer`, reused by its next write when nothing else holds it
    /// (a leader may still hold a follower's for a moment): one allocation less per write.
    static SPARE_WRITER: std::cell::Cell<Option<Arc<Writer>>> = const { std::cell::Cell::new(None) };
}

impl Writer {
    fn for_request(req: Request) -> Arc<Writer> {
        match SPARE_WRITER.with(|s| s.take()) {
            // No other reference exists, so none can appear: only the queue hands them out.
            Some(w) if Arc::strong_count(&w) == 1 => {
                *w.req.lock() = Some(req);
                *w.slot.lock() = Slot::Waiting;
                w
            }
            _ => Arc::new(Writer {
                req: Mutex::new(Some(req)),
                slot: Mutex::new(Slot::Waiting),
                cv: Condvar::new(),
            }),
        }
    }
}

/// The queue of writers waiting for their turn.
#[derive(Debug, Default)]
pub(crate) struct WriteQueue {
    q: Mutex<VecDeque<Arc<Writer>>>,
    /// An append failed for lack of space and the segment was cut back to its last whole
    /// record; its writer cannot append after the cut, so the next group starts a new one.
    roll_wal: AtomicBool,
    /// The last background flush failed for lack of space (set by the flush thread), so a
    /// writer held back by it gets an error whose `is_no_space()` is true.
    pub(crate) flush_no_space: AtomicBool,
    /// The leader's lists, kept between groups (only the leader locks it) so a group
    /// allocates nothing of its own.
    scratch: Mutex<Scratch>,
}

#[derive(Debug, Default)]
struct Scratch {
    group: Vec<Arc<Writer>>,
    reqs: Vec<Request>,
}

/// The write batches among a group's requests, in order.
fn batches(reqs: &[Request]) -> impl Iterator<Item = &WriteBatch> + Clone {
    reqs.iter().filter_map(|r| match r {
        Request::Batch(b) => Some(b),
        Request::SwitchMemtable => None,
    })
}

impl DbInner {
    /// Runs `req` through the write path; returns once it is durable per the sync mode.
    pub(crate) fn submit(&self, req: Request) -> Result<()> {
        self.check_writable()?;
        let me = Writer::for_request(req);
        let r = self.submit_as(&me);
        SPARE_WRITER.with(|s| s.set(Some(me)));
        r
    }

    fn submit_as(&self, me: &Arc<Writer>) -> Result<()> {
        let lead = {
            let mut q = self.writers.q.lock();
            q.push_back(Arc::clone(me));
            q.len() == 1
        };
        if !lead {
            let mut s = me.slot.lock();
            while matches!(*s, Slot::Waiting) {
                me.cv.wait(&mut s);
            }
            if let Slot::Done(_) = &*s {
                let Slot::Done(r) = std::mem::replace(&mut *s, Slot::Waiting) else {
                    unreachable!("checked above")
                };
                return r;
            }
        }
        self.lead_group(me)
    }

    fn lead_group(&self, me: &Arc<Writer>) -> Result<()> {
        let mut scratch = self.writers.scratch.lock();
        let Scratch { group, reqs } = &mut *scratch;
        // Empty after every group; cleared anyway so a group that unwound cannot leak
        // into the next.
        group.clear();
        reqs.clear();
        {
            let q = self.writers.q.lock();
            let mut bytes = 0usize;
            for w in q.iter() {
                let size = match &*w.req.lock() {
                    Some(Request::Batch(b)) => b.approximate_size(),
                    _ => 0,
                };
                if !group.is_empty() && bytes + size > MAX_GROUP_BYTES {
                    break;
                }
                bytes += size;
                group.push(Arc::clone(w));
            }
        }
        debug_assert!(Arc::ptr_eq(&group[0], me));
        reqs.extend(group.iter().filter_map(|w| w.req.lock().take()));
        let result = self.commit_group(reqs);
        reqs.clear();

        let mut q = self.writers.q.lock();
        for w in group.drain(..) {
            let front = q.pop_front();
            debug_assert!(front.is_some_and(|f| Arc::ptr_eq(&f, &w)));
            if !Arc::ptr_eq(&w, me) {
                *w.slot.lock() = Slot::Done(clone_result(&result));
                w.cv.notify_one();
            }
        }
        if let Some(next) = q.front() {
            *next.slot.lock() = Slot::Lead;
            next.cv.notify_one();
        }
        result
    }

    fn commit_group(&self, reqs: &[Request]) -> Result<()> {
        self.check_writable()?;
        let mut wal = self.wal.lock();
        let switch = reqs.iter().any(|r| matches!(r, Request::SwitchMemtable));
        if batches(reqs).next().is_some() {
            self.throttle_writes()?;
            if self.writers.roll_wal.load(Ordering::Acquire) {
                self.wait_for_imm_slot()?;
                self.switch_memtable(&mut wal)?;
                self.writers.roll_wal.store(false, Ordering::Release);
            }
            self.make_room(&mut wal)?;
            self.append_batches(&mut wal, reqs)?;
        }
        if switch && !self.current_sv().mem.is_empty() {
            self.switch_memtable(&mut wal)?;
        }
        Ok(())
    }

    fn append_batches(&self, wal: &mut WalState, reqs: &[Request]) -> Result<()> {
        let total: u64 = batches(reqs).map(|b| b.len() as u64).sum();
        if wal.next_seq.saturating_add(total) > MAX_SEQNO {
            return Err(Error::InvalidArgument("sequence numbers exhausted".into()));
        }
        let mut framed = std::mem::take(&mut wal.framed);
        framed.clear();
        let mut seq = wal.next_seq;
        for b in batches(reqs) {
            if let Err(e) =
                LogWriter::encode_record_with(&mut framed, |buf| b.encode_payload(seq, buf))
            {
                wal.framed = framed;
                return Err(e);
            }
            seq += b.len() as u64;
        }
        let r = self.append_framed(wal, reqs, &framed);
        // The buffer is kept for the next group unless one huge group grew it.
        if framed.capacity() <= KEEP_FRAMED_BYTES {
            wal.framed = framed;
        }
        r
    }

    fn append_framed(&self, wal: &mut WalState, reqs: &[Request], framed: &[u8]) -> Result<()> {
        let good_len = wal.writer.len();
        // Without a sync per write, the records still reach the kernel (or a raw volume's
        // device) before the write is acknowledged: a process crash loses nothing.
        let appended = wal.writer.append_encoded(framed).and_then(|()| {
            if self.opts.sync == SyncMode::Always {
                Ok(())
            } else {
                wal.writer.flush()
            }
        });
        if let Err(e) = appended {
            return Err(self.failed_append(wal, good_len, e));
        }
        wal.dirty = true;
        self.stats
            .wal_bytes
            .fetch_add(framed.len() as u64, Ordering::Relaxed);
        if self.opts.sync == SyncMode::Always {
            if let Err(e) = wal.writer.sync() {
                self.poison(&e);
                return Err(e);
            }
            wal.dirty = false;
            self.stats.wal_syncs.fetch_add(1, Ordering::Relaxed);
        }
        let mem = Arc::clone(&self.current_sv().mem);
        let mut seq = wal.next_seq;
        let mut writes = 0u64;
        for b in batches(reqs) {
            writes += 1;
            for op in b.iter() {
                mem.insert(op.key, seq, op.kind as u8, op.value);
                seq += 1;
            }
        }
        wal.next_seq = seq;
        self.visible_seq.store(seq - 1, Ordering::Release);
        self.stats.writes.fetch_add(writes, Ordering::Relaxed);
        self.stats.write_groups.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// A failed append may have left part of a record at the segment's tail. On a full disk
    /// the tail is cut back to the last whole record (`Storage::truncate` also syncs it, so
    /// every earlier record is durable) and the next write starts a new segment: the write
    /// fails with an error whose `is_no_space()` is true, nothing is poisoned, and writes
    /// resume once space returns. Any other failure, or a failed cut, leaves the tail unknown:
    /// writes stop until reopen.
    fn failed_append(&self, wal: &mut WalState, good_len: u64, e: Error) -> Error {
        if !e.is_no_space() {
            self.poison(&e);
            return e;
        }
        let name = wal.writer.name().to_string();
        if let Err(te) = self.storage.truncate(&name, good_len) {
            let te = Error::io(
                format!("cutting {name} back to {good_len} bytes after a failed append"),
                te,
            );
            self.poison(&te);
            return te;
        }
        wal.dirty = false;
        self.writers.roll_wal.store(true, Ordering::Release);
        match e {
            Error::Io { context, source } => Error::Io {
                context: format!("{context} (disk full: the write was not applied)"),
                source,
            },
            e => e,
        }
    }

    /// Switches memtables when the current one is full, first waiting (a write stall) while
    /// too many immutable memtables are queued for flush.
    fn make_room(&self, wal: &mut WalState) -> Result<()> {
        if self.current_sv().mem.approximate_bytes() < self.opts.memtable_size {
            return Ok(());
        }
        self.wait_for_imm_slot()?;
        self.switch_memtable(wal)
    }

    fn wait_for_imm_slot(&self) -> Result<()> {
        let mut f = self.flush.lock();
        if self.current_sv().imms.len() < self.opts.max_immutable_memtables {
            return Ok(());
        }
        let start = Instant::now();
        self.stats.stalls.fetch_add(1, Ordering::Relaxed);
        let generation = f.generation;
        while self.current_sv().imms.len() >= self.opts.max_immutable_memtables {
            if f.shutting_down {
                return Err(Error::Closed);
            }
            // An attempt already running when we started waiting may have failed before the
            // disk had room again: only a failure of an attempt that began after we started
            // (two generations on; attempts run one at a time) is this write's answer.
            if let Some(e) = &f.error
                && f.generation >= generation + 2
            {
                let kind = if self.writers.flush_no_space.load(Ordering::Acquire) {
                    std::io::ErrorKind::StorageFull
                } else {
                    std::io::ErrorKind::Other
                };
                return Err(Error::io(
                    "flushing memtables (writes are held until a flush succeeds)",
                    std::io::Error::new(kind, e.clone()),
                ));
            }
            self.flush_wake.notify_one();
            self.flush_done.wait(&mut f);
        }
        self.stats
            .stall_micros
            .fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Starts a new WAL segment and memtable; the old memtable joins the flush queue.
    pub(crate) fn switch_memtable(&self, wal: &mut WalState) -> Result<()> {
        let number = self.versions.new_file_number();
        let name = wal_name(number);
        let created = LogWriter::create(&*self.storage, &name, LogKind::Wal).and_then(|mut w| {
            w.sync()?;
            self.storage.sync_dir().map_err(|e| {
                Error::io(format!("syncing the directory after creating {name}"), e)
            })?;
            Ok(w)
        });
        let writer = match created {
            Ok(w) => w,
            Err(e) => {
                // An empty or headerless segment left behind would read as a torn log at
                // the next open, and replay stops at a torn log: later segments would be lost.
                let _ = self.storage.remove(&name);
                return Err(e);
            }
        };
        if wal.dirty && self.opts.sync != SyncMode::Never {
            // Keep segments a durable prefix: the old one is complete before the new one is used.
            if let Err(e) = wal.writer.sync() {
                self.poison(&e);
                return Err(e);
            }
        }
        wal.writer = writer;
        wal.dirty = false;
        {
            let _g = self.sv_install.lock();
            let cur = self.current_sv();
            let mut imms = Vec::with_capacity(cur.imms.len() + 1);
            imms.push(Arc::clone(&cur.mem));
            imms.extend(cur.imms.iter().cloned());
            *self.sv.write() = Arc::new(SuperVersion {
                mem: Arc::new(Memtable::new(number)),
                imms,
                version: Arc::clone(&cur.version),
            });
        }
        self.flush_wake.notify_one();
        Ok(())
    }
}

/// Followers get a copy of the leader's outcome; `io::Error` is not `Clone`, so it is rebuilt
/// with the same kind and message.
fn clone_result(r: &Result<()>) -> Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(e) => Err(clone_error(e)),
    }
}

pub(crate) fn clone_error(e: &Error) -> Error {
    match e {
        Error::Io { context, source } => Error::Io {
            context: context.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        Error::Corruption { file, offset, what } => Error::Corruption {
            file: file.clone(),
            offset: *offset,
            what: what.clone(),
        },
        Error::Poisoned(s) => Error::Poisoned(s.clone()),
        Error::InvalidArgument(s) => Error::InvalidArgument(s.clone()),
        Error::Locked(s) => Error::Locked(s.clone()),
        Error::Closed => Error::Closed,
    }
}
