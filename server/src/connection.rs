//! One client connection: read, parse, execute in order, reply.
//!
//! Pipelining: every complete request in the input buffer is parsed and run in order, and
//! the replies go out in one write. Runs of plain SETs go to the write front (`writer.rs`)
//! and are awaited; the rest run on the worker when cheap (point reads, small writes that
//! do not wait for an fsync), else on the blocking pool.
//! Backpressure is natural: while replies are being written nothing more is read, so a
//! client that never reads stalls only itself.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::clients::Registration;
use scipkv_engine::SyncMode;

use crate::commands::{
    Gathered, Session, execute, finish_plain_writes, gather_plain_writes, is_point_read,
    is_small_plain_write, next_run,
};
use crate::resp::{Command, ProtocolError, RequestParser, Value, encode};
use crate::shared::{Shared, Stats};

/// Bytes asked of the socket per read; the buffer grows only with bytes actually received.
const READ_CHUNK: usize = 16 * 1024;
/// Replies buffered before they are written even if requests remain, so a pipeline of
/// large GETs never holds more than about this much output at once.
const MAX_OUTPUT: usize = 1 << 20;

/// Everything a connection task needs besides its socket.
#[derive(Debug)]
pub(crate) struct ConnectionContext {
    pub shared: Arc<Shared>,
    pub registration: Registration,
    pub shutdown: watch::Receiver<bool>,
    /// Dropped when the task ends; the server waits for all of these before closing.
    pub _alive: mpsc::Sender<()>,
}

/// Why reading stopped.
enum Input {
    Data,
    Closed,
}

pub(crate) async fn run(mut stream: TcpStream, mut ctx: ConnectionContext) {
    serve(&mut stream, &mut ctx).await;
    // Leave the client table before the peer can see the connection close, so a client
    // that reconnects at once is never refused for a slot this connection still held.
    drop(ctx);
    drop(stream);
}

async fn serve(stream: &mut TcpStream, ctx: &mut ConnectionContext) {
    // Replies are written once per group already; Nagle would only add latency.
    let _ = stream.set_nodelay(true);
    let shared = Arc::clone(&ctx.shared);
    let limits = shared.config.limits;
    let mut parser = RequestParser::new(limits.parser_limits());
    let mut input: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut pending: VecDeque<Command> = VecDeque::new();
    let open = shared.tokens.is_open();
    let mut session = Some(Session::new(Arc::clone(&ctx.registration.info), open));
    // One shutdown future for the connection's life, not one per read: a fresh
    // `changed()` registers with (and on drop leaves) the channel's waiter list under its
    // lock, on every request of every connection.
    let mut shutdown_rx = ctx.shutdown.clone();
    let shutdown = async move {
        // An error means the server dropped the sender: shutting down as well.
        let _ = shutdown_rx.wait_for(|&stop| stop).await;
    };
    let mut shutdown = std::pin::pin!(shutdown);
    let mut protocol_error: Option<ProtocolError> = None;
    // When the oldest queued request arrived: the request deadline counts from here.
    let mut arrived = Instant::now();
    loop {
        let mut more_buffered = false;
        if protocol_error.is_none() {
            if pending.is_empty() {
                arrived = Instant::now();
            }
            match parse_pending(&mut parser, &mut input, &mut pending, limits.max_pipeline) {
                Ok(full) => more_buffered = full,
                Err(error) => protocol_error = Some(error),
            }
        }
        if !pending.is_empty() {
            let Some(state) = session.take() else { return };
            let deadline = limits.resp_request_timeout.map(|t| arrived + t);
            let Some((state, rest, output, spent)) =
                execute_pending(&shared, state, pending, deadline).await
            else {
                return;
            };
            pending = rest;
            for command in spent {
                parser.recycle(command);
            }
            let quit = state.quit;
            session = Some(state);
            if write(stream, &shared, &output).await.is_err() || quit {
                return;
            }
            // Finish what was already received before reading (or closing) again.
            if !pending.is_empty() || more_buffered {
                continue;
            }
        }
        if let Some(error) = protocol_error {
            let _ = write_value(stream, &shared, &error.to_reply()).await;
            return;
        }
        if input.len() > limits.max_query_buffer {
            let reply =
                Value::Error("ERR Protocol error: client query buffer limit exceeded".into());
            let _ = write_value(stream, &shared, &reply).await;
            return;
        }
        match read(
            stream,
            &mut input,
            &shared,
            shutdown.as_mut(),
            limits.idle_timeout,
        )
        .await
        {
            Input::Data => {}
            Input::Closed => return,
        }
    }
}

/// Moves complete requests from the front of `input` to `pending`, up to `max_pipeline`
/// (which bounds the per-argument overhead of parsed requests, many times their size on the
/// wire for tiny inline arguments). `Ok(true)` when it stopped at that cap, so the buffer
/// may hold more complete requests.
fn parse_pending(
    parser: &mut RequestParser,
    input: &mut Vec<u8>,
    pending: &mut VecDeque<Command>,
    max_pipeline: usize,
) -> Result<bool, ProtocolError> {
    let mut offset = 0;
    let result = loop {
        if pending.len() >= max_pipeline {
            break Ok(true);
        }
        match parser.parse(&input[offset..]) {
            Ok(Some((command, consumed))) => {
                offset += consumed;
                pending.push_back(command);
            }
            Ok(None) => {
                offset += parser.take_skipped();
                break Ok(false);
            }
            Err(error) => break Err(error),
        }
    };
    input.drain(..offset);
    result
}

/// Runs queued requests in order until they are done, the output cap is hit or the client
/// quits: runs of plain writes through the write front (`writer.rs`), awaited without
/// holding the worker; everything else through [`execute_group`]. Same results as
/// [`execute_group`]; `None` if a blocking task died.
async fn execute_pending(
    shared: &Arc<Shared>,
    mut session: Session,
    mut pending: VecDeque<Command>,
    deadline: Option<Instant>,
) -> Option<Executed> {
    let mut output = Vec::new();
    let mut spent = Vec::with_capacity(pending.len());
    while !pending.is_empty() && !session.quit && output.len() < MAX_OUTPUT {
        // Past the deadline, `run_queue` answers everything left with the timeout error.
        let late = deadline.is_some_and(|d| Instant::now() >= d);
        let gathered = match late {
            true => None,
            false => Some(gather_plain_writes(&session, &pending)),
        };
        let upto = match gathered {
            None => pending.len(),
            Some(Gathered::Run(writes)) => {
                let started = Instant::now();
                let reply = shared.writes.write(writes.batch, writes.stripes).await;
                let run = writes.run;
                finish_plain_writes(
                    shared,
                    &session,
                    &mut pending,
                    &mut spent,
                    run,
                    &reply,
                    started,
                );
                // Every request of the run gets the same reply: encode it once, copy the
                // rest.
                let start = output.len();
                encode(&reply, session.protocol, &mut output);
                let end = output.len();
                for _ in 1..run {
                    output.extend_from_within(start..end);
                }
                continue;
            }
            Some(Gathered::OneByOne(run)) => run,
            // Up to the next run of plain writes: reads and lone writes run as one group.
            Some(Gathered::Nothing) => next_run(&pending),
        };
        let rest = pending.split_off(upto);
        let (state, mut left, out, ran) =
            execute_group(shared, session, pending, deadline, output).await?;
        session = state;
        output = out;
        spent.extend(ran);
        left.extend(rest);
        pending = left;
        if session.quit {
            pending.clear();
        }
    }
    Some((session, pending, output, spent))
}

/// Runs queued requests (on the blocking pool unless all are point reads) until they are
/// done, the output cap is hit or the client quits. Returns the session, the requests not
/// yet run, the encoded replies and the requests that ran (their buffers go back to the
/// parser); `None` if the blocking task died (a bug: the connection is closed rather than
/// wedged).
async fn execute_group(
    shared: &Arc<Shared>,
    session: Session,
    pending: VecDeque<Command>,
    deadline: Option<Instant>,
    output: Vec<u8>,
) -> Option<Executed> {
    // Point reads run on the async worker itself. Measured with redis-benchmark (GET,
    // 50 clients, 2 cores): 53-57k req/s inline against 32-33k through spawn_blocking and
    // 34k through block_in_place; the thread hand-off costs more than the read. The price:
    // a read that misses the page cache stalls this worker's other connections for one
    // disk read. Scans (unbounded work) always go to the blocking pool, and so do writes
    // when every write waits for an fsync (`sync = "always"`). Without that wait a plain
    // SET/MSET is a WAL append to the page cache plus a memtable insert, cheaper than the
    // hand-off (redis-benchmark SET -P 1 -c 50: see benches/RESULTS.md, "Redis protocol");
    // the price is that a memtable switch (file create, directory fsync) or a write stall
    // holds this worker's other connections for its duration.
    let inline_writes = shared.config.sync != SyncMode::Always;
    if pending
        .iter()
        .all(|c| (inline_writes && is_small_plain_write(&c.args)) || is_point_read(&c.args))
    {
        return Some(run_queue(shared, session, pending, deadline, output));
    }
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || run_queue(&shared, session, pending, deadline, output))
        .await
        .ok()
}

/// The reply to a request whose deadline passed before it could start.
fn timed_out() -> Value {
    Value::Error(
        "ERR request timed out before it could run (limits.resp_request_timeout_ms)".into(),
    )
}

/// What [`run_queue`] hands back: the session, the requests not yet run, the encoded
/// replies and the requests that ran.
type Executed = (Session, VecDeque<Command>, Vec<u8>, Vec<Command>);

/// Appends the replies to `output` (what earlier parts of the same pipeline produced), so
/// the [`MAX_OUTPUT`] cap counts them all.
fn run_queue(
    shared: &Shared,
    mut session: Session,
    mut pending: VecDeque<Command>,
    deadline: Option<Instant>,
    mut output: Vec<u8>,
) -> Executed {
    let mut spent = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            // Every request still queued arrived no later than the deadline's start: none
            // of them runs, each gets the error in order.
            Stats::add(&shared.stats.commands_processed, pending.len() as u64);
            for _ in pending.drain(..) {
                encode(&timed_out(), session.protocol, &mut output);
            }
            break;
        }
        let Some(command) = pending.pop_front() else {
            break;
        };
        let reply = execute(shared, &mut session, &command.args);
        spent.push(command);
        encode(&reply, session.protocol, &mut output);
        if session.quit {
            pending.clear();
            break;
        }
        if output.len() >= MAX_OUTPUT {
            break;
        }
    }
    (session, pending, output, spent)
}

async fn write(stream: &mut TcpStream, shared: &Shared, bytes: &[u8]) -> std::io::Result<()> {
    Stats::add(&shared.stats.output_bytes, bytes.len() as u64);
    stream.write_all(bytes).await
}

async fn write_value(
    stream: &mut TcpStream,
    shared: &Shared,
    value: &Value,
) -> std::io::Result<()> {
    let mut out = Vec::new();
    encode(value, crate::resp::Protocol::Resp2, &mut out);
    write(stream, shared, &out).await
}

/// Waits for input, the end of the idle timeout, or server shutdown (which closes idle
/// connections; requests already received have been answered by then). `shutdown` must
/// not have completed before: the caller stops reading once this returns `Closed`.
async fn read(
    stream: &mut TcpStream,
    input: &mut Vec<u8>,
    shared: &Shared,
    shutdown: Pin<&mut impl Future<Output = ()>>,
    idle_timeout: Option<Duration>,
) -> Input {
    input.reserve(READ_CHUNK);
    // Shutdown first, so a closing server stops reading even from a busy client.
    tokio::select! {
        biased;
        () = shutdown => Input::Closed,
        result = stream.read_buf(input) => match result {
            Ok(0) | Err(_) => Input::Closed,
            Ok(n) => {
                Stats::add(&shared.stats.input_bytes, n as u64);
                Input::Data
            }
        },
        () = idle(idle_timeout) => Input::Closed,
    }
}

async fn idle(timeout: Option<Duration>) {
    match timeout {
        Some(duration) => tokio::time::sleep(duration).await,
        None => std::future::pending().await,
    }
}
