//! `ReadPath::IoUring`: table files opened with `O_DIRECT` and read through io_uring, many
//! reads per submission.
//!
//! # One ring per thread
//!
//! Each thread that reads gets its own ring (a `thread_local`, created on first use, 128
//! entries). A reader pushes the reads of a whole batch, enters the kernel once with
//! `submit_and_wait(n)` and reaps the n completions itself: no thread per read, no reactor
//! thread, no locks, and no cross-thread wakeup between the device completing a read and
//! the reader seeing it. A dedicated reactor thread would let many threads share one ring,
//! but every read would then pay two thread handoffs (to the reactor and back), which is of
//! the order of the device latency we are trying to hide, and it would become a serial
//! bottleneck; the engine's readers are a bounded set of threads (the server's worker and
//! blocking pools, compaction threads), so a ring each is cheap (a few KiB of queue memory).
//! Reads are synchronous from the caller's point of view: the batching is *within* a call
//! (`multi_get`, iterator readahead), which is where the engine has independent reads. A
//! single read (a `get`, a lone cache miss) is a plain aligned `pread(2)` on the same
//! `O_DIRECT` descriptor: one syscall either way, and measurably cheaper than the ring.
//!
//! # Fallback
//!
//! io_uring may be unavailable (kernel older than 5.6, seccomp filters as in default Docker
//! profiles, `kernel.io_uring_disabled`), and `O_DIRECT` may be refused by the filesystem
//! (tmpfs). Opening a table whose filesystem refuses `O_DIRECT` gives a plain buffered
//! [`super::fs`] pread file; a thread that cannot set up a ring reads its direct files
//! with aligned `pread(2)`. Either way one line goes to stderr (once per process) and
//! [`ReadPathStats::fallbacks`] counts it, so tests and operators can tell the fast path
//! from the fallback.
//!
//! # Safety
//!
//! The one `unsafe` operation is pushing a read into the submission queue: from then until
//! its completion is reaped the kernel may write into the buffer, so the buffer must stay
//! allocated and untouched. [`ring_read`] upholds this by owning the buffers (through an
//! exclusive borrow) for the whole call, reaping every completion it submitted before
//! returning, and — if the ring fails with reads in flight — leaking those buffers and the
//! ring instead of freeing them. The region between push and reap cannot panic.

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use io_uring::{IoUring, opcode, types};

use super::RandomAccessFile;
use super::aligned::{self, AlignedBuf};

/// Submission queue entries per thread's ring; larger batches go in several submissions.
const RING_ENTRIES: u32 = 128;

/// Process-wide counters of the direct read paths (all databases of the process).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadPathStats {
    /// Reads completed through io_uring.
    pub uring_reads: u64,
    /// `io_uring_enter` calls that submitted reads (`uring_reads / uring_submissions` is the
    /// average batch).
    pub uring_submissions: u64,
    /// Aligned `pread(2)` calls on `O_DIRECT` files (no ring on the thread, direct pread
    /// mode, or the tail of a short read).
    pub direct_preads: u64,
    /// Times io_uring or `O_DIRECT` was wanted but unavailable: table files opened without
    /// `O_DIRECT`, and threads that could not set up a ring.
    pub fallbacks: u64,
}

static URING_READS: AtomicU64 = AtomicU64::new(0);
static URING_SUBMISSIONS: AtomicU64 = AtomicU64::new(0);
static DIRECT_PREADS: AtomicU64 = AtomicU64::new(0);
static FALLBACKS: AtomicU64 = AtomicU64::new(0);
static FALLBACK_LOGGED: AtomicBool = AtomicBool::new(false);

/// A snapshot of the process-wide read-path counters.
pub fn read_path_stats() -> ReadPathStats {
    ReadPathStats {
        uring_reads: URING_READS.load(Relaxed),
        uring_submissions: URING_SUBMISSIONS.load(Relaxed),
        direct_preads: DIRECT_PREADS.load(Relaxed),
        fallbacks: FALLBACKS.load(Relaxed),
    }
}

/// Counts a fallback and logs the first one of the process.
pub(super) fn note_fallback(what: &str) {
    FALLBACKS.fetch_add(1, Relaxed);
    if !FALLBACK_LOGGED.swap(true, Relaxed) {
        eprintln!("scipkv: {what}; table reads fall back to pread (logged once per process)");
    }
}

/// Whether this process can set up a ring at all (probed once).
pub fn io_uring_available() -> bool {
    static PROBE: OnceLock<bool> = OnceLock::new();
    *PROBE.get_or_init(|| IoUring::new(2).is_ok())
}

#[allow(
    clippy::large_enum_variant,
    reason = "one per thread in a thread_local, never moved"
)]
enum RingState {
    Untried,
    Ready(IoUring),
    Unavailable,
}

thread_local! {
    static RING: RefCell<RingState> = const { RefCell::new(RingState::Untried) };
}

/// Makes this thread read its direct files with pread, as if it could not set up a ring
/// (for tests of the fallback).
#[doc(hidden)]
pub fn disable_io_uring_on_this_thread() {
    RING.with(|r| {
        let mut r = r.borrow_mut();
        if let RingState::Ready(_) | RingState::Untried = *r {
            note_fallback("io_uring disabled on this thread");
        }
        *r = RingState::Unavailable;
    });
}

/// One aligned read of a direct file: `span` bytes at `offset` into `buf`.
#[derive(Debug)]
pub(super) struct ReadOp<'f> {
    file: &'f File,
    offset: u64,
    span: usize,
    buf: AlignedBuf,
    /// Bytes read, or a negative errno; `None` until the read ran.
    res: Option<i32>,
}

/// A table file opened with `O_DIRECT`, read through this thread's ring (or aligned pread).
#[derive(Debug)]
pub struct DirectFile {
    file: File,
    len: u64,
    /// False in direct-pread mode: `O_DIRECT` without io_uring (for fair cold benchmarks).
    use_ring: bool,
}

impl DirectFile {
    pub(super) fn new(file: File, len: u64, use_ring: bool) -> Self {
        DirectFile {
            file,
            len,
            use_ring,
        }
    }

    fn check_range(&self, offset: u64, len: usize) -> io::Result<()> {
        if offset.checked_add(len as u64).is_none_or(|e| e > self.len) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "read of {len} bytes at {offset} past the end ({})",
                    self.len
                ),
            ));
        }
        Ok(())
    }

    fn op(&self, offset: u64, len: usize) -> ReadOp<'_> {
        let (start, span) = aligned::covering(offset, len);
        ReadOp {
            file: &self.file,
            offset: start,
            span,
            buf: aligned::take(span),
            res: None,
        }
    }

    /// Completes `op` (whose read covers `len` bytes at `offset`) and copies those bytes
    /// into `out`: errors become `io::Error`, a short read is finished with pread.
    fn finish(&self, op: &mut ReadOp<'_>, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let skip = (offset - op.offset) as usize;
        let need = skip + out.len();
        let mut got = match op.res {
            Some(n) if n < 0 => return Err(io::Error::from_raw_os_error(-n)),
            Some(n) => n as usize,
            None => 0,
        };
        // A direct read stops at end of file (we checked the wanted range is inside it) and
        // may in principle stop early; read the rest with aligned preads.
        while got < need {
            // Keep offset and length aligned: restart from the last aligned point read.
            let from = got & !(aligned::ALIGN - 1);
            DIRECT_PREADS.fetch_add(1, Relaxed);
            let n = self.file.read_at(
                &mut op.buf.as_mut_slice()[from..op.span],
                op.offset + from as u64,
            )?;
            if n == 0 || from + n <= got {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "direct read of {} bytes at {offset} came up short",
                        out.len()
                    ),
                ));
            }
            got = from + n;
        }
        out.copy_from_slice(&op.buf.as_slice()[skip..need]);
        Ok(())
    }
}

impl RandomAccessFile for DirectFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.check_range(offset, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        let mut ops = [self.op(offset, buf.len())];
        run(&mut ops, self.use_ring);
        let [mut op] = ops;
        let r = self.finish(&mut op, offset, buf);
        aligned::give(op.buf);
        r
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn direct(&self) -> Option<&DirectFile> {
        Some(self)
    }
}

/// Reads `(file, offset, len)` ranges of direct files, all ring-capable ones in one
/// submission (or as few as the ring's size allows).
pub(super) fn read_direct(reqs: &[(&DirectFile, u64, usize)]) -> Vec<io::Result<Vec<u8>>> {
    let mut results: Vec<Option<io::Result<Vec<u8>>>> = Vec::with_capacity(reqs.len());
    let mut ring_ops = Vec::new();
    let mut ring_idx = Vec::new();
    let mut pread_ops = Vec::new();
    let mut pread_idx = Vec::new();
    for (i, &(f, offset, len)) in reqs.iter().enumerate() {
        match f.check_range(offset, len) {
            Err(e) => results.push(Some(Err(e))),
            Ok(()) if len == 0 => results.push(Some(Ok(Vec::new()))),
            Ok(()) => {
                results.push(None);
                if f.use_ring {
                    ring_ops.push(f.op(offset, len));
                    ring_idx.push(i);
                } else {
                    pread_ops.push(f.op(offset, len));
                    pread_idx.push(i);
                }
            }
        }
    }
    run(&mut ring_ops, true);
    run(&mut pread_ops, false);
    let done = ring_ops
        .into_iter()
        .zip(ring_idx)
        .chain(pread_ops.into_iter().zip(pread_idx));
    for (mut op, i) in done {
        let (f, offset, len) = reqs[i];
        let mut out = vec![0; len];
        let r = f.finish(&mut op, offset, &mut out).map(|()| out);
        aligned::give(op.buf);
        results[i] = Some(r);
    }
    results
        .into_iter()
        .map(|r| r.expect("every request was answered"))
        .collect()
}

/// Runs `ops`: through this thread's ring when `ring` is set, there are several, and a ring
/// can be had; else with aligned preads. Fills every op's `res`.
fn run(ops: &mut [ReadOp<'_>], ring: bool) {
    if ops.is_empty() {
        return;
    }
    // A lone read goes by pread on the same O_DIRECT descriptor: the ring hides no latency
    // there and costs ~12 µs more per read (p50 70 µs against 57 µs in benches/read_path.rs).
    if ring && ops.len() > 1 {
        let submitted = RING.with(|r| {
            let mut state = r.borrow_mut();
            if let RingState::Untried = *state {
                *state = match IoUring::new(RING_ENTRIES) {
                    Ok(ring) => RingState::Ready(ring),
                    Err(e) => {
                        note_fallback(&format!("io_uring unavailable ({e})"));
                        RingState::Unavailable
                    }
                };
            }
            let RingState::Ready(ring) = &mut *state else {
                return false;
            };
            if let Err(e) = ring_read(ring, ops) {
                // Reads may still be in flight into buffers `ring_read` leaked: the ring is
                // leaked too, never entered again.
                note_fallback(&format!("io_uring failed ({e})"));
                let old = std::mem::replace(&mut *state, RingState::Unavailable);
                std::mem::forget(old);
            }
            true
        });
        if submitted {
            // Ops a failed ring left unanswered (`res == None`) are read by `finish`'s pread.
            return;
        }
    }
    for op in ops.iter_mut() {
        DIRECT_PREADS.fetch_add(1, Relaxed);
        let span = op.span;
        // `finish` completes short reads.
        let r = pread(op.file, &mut op.buf.as_mut_slice()[..span], op.offset);
        op.res = Some(match r {
            Ok(n) => n.min(i32::MAX as usize) as i32,
            Err(e) => -e.raw_os_error().unwrap_or(libc::EIO),
        });
    }
}

/// `pread(2)`, retried on EINTR.
fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// Submits every op's read through `ring` (in chunks of the queue's size) and reaps all
/// completions. On an error other than EINTR/EBUSY from the kernel, the buffers of reads
/// possibly still in flight are leaked (so the kernel can never write into freed memory)
/// and the error is returned; the caller must then abandon the ring.
fn ring_read(ring: &mut IoUring, ops: &mut [ReadOp<'_>]) -> io::Result<()> {
    let cap = ring.params().sq_entries() as usize;
    for chunk in ops.chunks_mut(cap.max(1)) {
        let mut pushed = 0;
        {
            let mut sq = ring.submission();
            for (i, op) in chunk.iter_mut().enumerate() {
                let entry = opcode::Read::new(
                    types::Fd(op.file.as_raw_fd()),
                    op.buf.as_mut_ptr(),
                    // Blocks are at most MAX_BLOCK_LEN (1 GiB) plus framing, so this fits; were
                    // it cut, `finish` would read the rest as after any short read.
                    u32::try_from(op.span).unwrap_or(!(aligned::ALIGN as u32 - 1)),
                )
                .offset(op.offset)
                .build()
                .user_data(i as u64);
                // SAFETY: the entry points at `op.buf`, `op.span` bytes (≤ its capacity) of
                // memory owned by `ops`, which this function borrows exclusively until it
                // returns; nothing reads or frees it before the entry's completion is reaped
                // below, or, if the ring fails first, the buffer is leaked (never freed). The
                // descriptor belongs to the `File` that `op` borrows, open for the whole call.
                // No code between this push and the reaping loop can panic.
                if unsafe { sq.push(&entry) }.is_err() {
                    break;
                }
                pushed += 1;
            }
        }
        let mut reaped = 0;
        while reaped < pushed {
            match ring.submit_and_wait(pushed - reaped) {
                Ok(_) => {}
                Err(e)
                    if e.raw_os_error() == Some(libc::EINTR)
                        || e.raw_os_error() == Some(libc::EBUSY)
                        || e.raw_os_error() == Some(libc::EAGAIN) => {}
                Err(e) => {
                    for op in chunk.iter_mut().filter(|op| op.res.is_none()) {
                        // The kernel may still write the old buffer: leak it, read anew.
                        let fresh = AlignedBuf::new(op.span);
                        std::mem::forget(std::mem::replace(&mut op.buf, fresh));
                    }
                    return Err(e);
                }
            }
            URING_SUBMISSIONS.fetch_add(1, Relaxed);
            for cqe in ring.completion() {
                if let Some(op) = usize::try_from(cqe.user_data())
                    .ok()
                    .and_then(|i| chunk.get_mut(i))
                    && op.res.is_none()
                {
                    op.res = Some(cqe.result());
                    reaped += 1;
                }
            }
        }
        URING_READS.fetch_add(pushed as u64, Relaxed);
        // Anything the queue refused (cannot happen: chunks fit the queue, which is empty
        // between calls) stays `None` and is read by pread in `finish`.
    }
    Ok(())
}
