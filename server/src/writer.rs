//! The RESP write front: one thread applies every connection's plain `SET`/`MSET` runs,
//! gathering whatever is queued into one engine write.
//!
//! Why a thread of its own: the engine's group commit merges only writes that wait at the
//! same time, and with one or two async workers that is one or two batches; worse, a worker
//! that is not the group's leader blocks on the leader's memtable inserts, and with it every
//! connection it serves. Handing the batch over costs a channel send and a wake-up; the
//! worker goes on serving other connections, and one WAL record (one `write`, one fsync in
//! `sync = "always"`) covers every client's writes queued meanwhile, as Redis's one AOF
//! write per event-loop turn does. Order is unchanged: a connection waits for its run's
//! reply before it runs its next request, and the engine's WAL order is the order the
//! thread wrote in.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;

use scipkv_engine::{Db, WriteBatch};
use tokio::sync::oneshot;

use crate::commands::error_reply;
use crate::locks::KeyLocks;
use crate::resp::Value;

/// A gathered write stops growing past this many payload bytes, so one client's huge MSET
/// does not hold many others' replies much longer than its own write takes.
const MAX_GATHER_BYTES: usize = 4 << 20;

/// One connection's run of plain writes.
struct Job {
    batch: WriteBatch,
    /// Lock stripes of the batch's keys (see `locks.rs`): a gathered write holds them all, so
    /// no read-modify-write command can see half of it or slip between its read and write.
    stripes: Vec<usize>,
    reply: oneshot::Sender<Value>,
}

enum Msg {
    Job(Job),
    /// Sent once at shutdown, after the connections drained or the drain timed out and the
    /// runtime stopped (so no connection can send more): everything queued before it is
    /// written, then the thread ends.
    Stop,
}

/// The sending side, shared by every connection.
#[derive(Debug)]
pub(crate) struct WriteFront {
    tx: Sender<Msg>,
}

/// Ends the writer thread: see [`WriteFront::start`].
#[derive(Debug)]
pub(crate) struct WriterThread {
    tx: Sender<Msg>,
    handle: JoinHandle<()>,
}

impl WriteFront {
    /// Starts the thread. The returned [`WriterThread`] must be [`WriterThread::stop`]ped
    /// before the database closes.
    pub(crate) fn start(
        db: Db,
        locks: Arc<KeyLocks>,
    ) -> std::io::Result<(WriteFront, WriterThread)> {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("scipkv-resp-writer".into())
            .spawn(move || run(&rx, &db, &locks))?;
        Ok((WriteFront { tx: tx.clone() }, WriterThread { tx, handle }))
    }

    /// Writes `batch` (holding `stripes`) and returns the reply every request of the run
    /// gets: `+OK`, or the engine's error.
    pub(crate) async fn write(&self, batch: WriteBatch, stripes: Vec<usize>) -> Value {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            batch,
            stripes,
            reply,
        };
        if self.tx.send(Msg::Job(job)).is_err() {
            return closed();
        }
        // The thread drops a job unanswered only when it has stopped.
        answer.await.unwrap_or_else(|_| closed())
    }
}

impl WriterThread {
    /// Writes everything queued so far, then ends the thread and waits for it.
    pub(crate) fn stop(self) {
        // An error means the thread is gone already (it only ends on `Stop`).
        let _ = self.tx.send(Msg::Stop);
        let _ = self.handle.join();
    }
}

fn closed() -> Value {
    Value::Error("ERR server is shutting down".into())
}

fn run(rx: &Receiver<Msg>, db: &Db, locks: &KeyLocks) {
    let mut jobs: Vec<Job> = Vec::new();
    // A job that did not fit the previous gathering: it starts the next one.
    let mut carried: Option<Job> = None;
    let mut stop = false;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None if stop => return,
            None => match rx.recv() {
                Ok(Msg::Job(job)) => job,
                Ok(Msg::Stop) | Err(_) => return,
            },
        };
        let mut bytes = first.batch.approximate_size();
        jobs.push(first);
        while !stop && bytes < MAX_GATHER_BYTES {
            match rx.try_recv() {
                Ok(Msg::Job(job)) => {
                    let size = job.batch.approximate_size();
                    if bytes + size > MAX_GATHER_BYTES {
                        carried = Some(job);
                        break;
                    }
                    bytes += size;
                    jobs.push(job);
                }
                Ok(Msg::Stop) => stop = true,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        // A panic in the engine is a bug; it fails this group's writes, not every later one
        // (the stripes' guards are released as it unwinds).
        let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write_jobs(db, locks, &mut jobs)
        }))
        .unwrap_or_else(|_| {
            eprintln!(
                "scipkv: the RESP write front panicked writing a batch; its clients got an error"
            );
            Value::Error("ERR internal error while writing".into())
        });
        for job in jobs.drain(..) {
            // A connection that went away no longer waits for its reply.
            let _ = job.reply.send(reply.clone());
        }
    }
}

/// One engine write for all `jobs`: a single job's batch as it is, several appended into
/// one. It is sorted by key first (stably, so a key's writes keep their order and the batch
/// means the same): consecutive memtable inserts then share the skiplist's upper path, in
/// cache, where random ones miss at most levels (-P 16 SETs: mean +12%, benches/RESULTS.md
/// "Redis protocol", session 8). Each job's batch was validated alone, and several together
/// stay under [`MAX_GATHER_BYTES`], far below the engine's payload bound, so together they
/// are valid too.
///
/// The key stripes are taken only around the engine write, after the batch is built: a
/// gathered batch holds many of them, and a lone SET or a read-modify-write command running
/// on an async worker waits (blocking that worker) for any stripe it shares.
fn write_jobs(db: &Db, locks: &KeyLocks, jobs: &mut [Job]) -> Value {
    let mut stripes = Vec::with_capacity(jobs.iter().map(|j| j.stripes.len()).sum());
    for job in jobs.iter_mut() {
        stripes.append(&mut job.stripes);
    }
    let mut batch = if let [only] = jobs {
        std::mem::take(&mut only.batch)
    } else {
        let bytes: usize = jobs.iter().map(|j| j.batch.approximate_size()).sum();
        let ops: usize = jobs.iter().map(|j| j.batch.len()).sum();
        let mut gathered = WriteBatch::with_capacity(ops, bytes);
        for job in jobs.iter() {
            gathered.append(&job.batch);
        }
        gathered
    };
    batch.sort_by_key();
    let result = {
        let _guard = locks.lock_stripes(stripes);
        db.write(batch)
    };
    match result {
        Ok(()) => Value::ok(),
        Err(error) => error_reply(&error.into()),
    }
}
