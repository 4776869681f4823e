//! Incremental request parsing for one connection's input buffer.

use std::mem;

use super::ProtocolError;
use super::inline::split_inline;
use super::number::parse_i64;

/// Bounds on what one request may claim, so a hostile header costs an error
/// reply instead of memory. Defaults are Redis's (`proto-max-bulk-len`, the
/// historical multibulk cap, `PROTO_INLINE_MAX_SIZE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bulk_len: usize,
    pub max_array_len: usize,
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_array_len: 1024 * 1024,
            max_inline_len: 64 * 1024,
        }
    }
}

/// One request; never empty (empty requests are skipped by the parser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub args: Vec<Vec<u8>>,
}

/// Parses requests from the front of a connection's input buffer.
///
/// The caller keeps unconsumed bytes and appends new ones, then calls
/// [`RequestParser::parse`] again with the whole unconsumed buffer. The parser
/// remembers how far it got, so a large request arriving in many pieces is
/// scanned once overall rather than once per piece. Passing a buffer that does
/// not start with the same bytes as last time is a caller bug; a buffer shorter
/// than what was already examined is detected and parsing restarts from the
/// beginning of it.
#[derive(Debug, Default)]
pub struct RequestParser {
    limits: Limits,
    /// Bytes at the front of the buffer that held only empty requests (`*0`,
    /// blank lines). They are reported as part of the next command's length.
    skipped: usize,
    state: State,
    /// Argument lists of executed commands, handed back with [`RequestParser::recycle`]:
    /// the fast path refills them instead of allocating a list and every argument anew.
    pool: Vec<Vec<Vec<u8>>>,
}

/// Most argument lists kept for reuse (one pipeline's worth).
const POOL_LISTS: usize = 16;
/// Argument lists holding more than this much capacity are freed, not kept, so an idle
/// connection holds at most `POOL_LISTS` times this.
const POOL_LIST_BYTES: usize = 1024;

#[derive(Debug, Default)]
enum State {
    /// At the start of a request (at offset `skipped`).
    #[default]
    Start,
    /// In an inline request; no newline occurs before `scanned`.
    Inline { scanned: usize },
    /// In a multibulk request; `pos` is the next unread byte.
    Array {
        pos: usize,
        remaining: usize,
        args: Vec<Vec<u8>>,
        /// Length from a `$` header already read, when the data is pending.
        bulk_len: Option<usize>,
    },
}

enum Step {
    NeedMore,
    /// An empty request ended at this offset.
    Skip(usize),
    /// A command ended at this offset.
    Done(Command, usize),
}

/// `-9223372036854775808` is the longest header `string2ll` accepts; anything
/// longer without a CR is certain to be rejected, so we do not wait for more.
const MAX_HEADER_DIGITS: usize = 20;

/// Arguments are pushed as they arrive; this only saves early reallocations
/// without trusting the client's claimed count.
const INITIAL_ARGS: usize = 16;

impl RequestParser {
    pub fn new(limits: Limits) -> Self {
        RequestParser {
            limits,
            skipped: 0,
            state: State::Start,
            pool: Vec::new(),
        }
    }

    /// Gives an executed command's buffers back for the next requests to reuse.
    pub fn recycle(&mut self, command: Command) {
        let args = command.args;
        let bytes = args.iter().map(Vec::capacity).sum::<usize>()
            + args.capacity() * std::mem::size_of::<Vec<u8>>();
        if self.pool.len() < POOL_LISTS && bytes <= POOL_LIST_BYTES {
            self.pool.push(args);
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Returns the next complete command and how many bytes (including any
    /// skipped empty requests before it) to drop from the buffer, `Ok(None)`
    /// when more bytes are needed, or the error to reply with before closing.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Option<(Command, usize)>, ProtocolError> {
        if buf.len() < self.examined() {
            self.reset();
        }
        if matches!(self.state, State::Start) && buf.get(self.skipped) == Some(&b'*') {
            let mut args = self.pool.pop().unwrap_or_default();
            if let Some(end) = complete_array(buf, self.skipped, &self.limits, &mut args) {
                self.reset();
                return Ok(Some((Command { args }, end)));
            }
            self.pool.push(args);
        }
        loop {
            match self.step(buf) {
                Ok(Step::NeedMore) => return Ok(None),
                Ok(Step::Skip(end)) => {
                    self.skipped = end;
                    self.state = State::Start;
                }
                Ok(Step::Done(command, end)) => {
                    self.reset();
                    return Ok(Some((command, end)));
                }
                Err(error) => {
                    self.reset();
                    return Err(error);
                }
            }
        }
    }

    /// Hands back the bytes at the front of the buffer that held only empty
    /// requests, which the caller must drop. Optional for correctness, but a
    /// client streaming nothing except `*0\r\n` would otherwise make the
    /// buffer grow without bound while no command completes.
    pub fn take_skipped(&mut self) -> usize {
        let skipped = mem::take(&mut self.skipped);
        match &mut self.state {
            State::Start => {}
            State::Inline { scanned } => *scanned -= skipped,
            State::Array { pos, .. } => *pos -= skipped,
        }
        skipped
    }

    /// Forgets any partial request, e.g. after the caller cleared its buffer.
    pub fn reset(&mut self) {
        self.skipped = 0;
        self.state = State::Start;
    }

    /// How much of the buffer the saved state relies on.
    fn examined(&self) -> usize {
        match &self.state {
            State::Start => self.skipped,
            State::Inline { scanned } => *scanned,
            State::Array { pos, .. } => *pos,
        }
    }

    fn step(&mut self, buf: &[u8]) -> Result<Step, ProtocolError> {
        let start = self.skipped;
        let limits = self.limits;
        match &mut self.state {
            State::Start => match buf.get(start) {
                None => Ok(Step::NeedMore),
                Some(b'*') => self.array_header(buf, start),
                Some(_) => {
                    self.state = State::Inline { scanned: start };
                    self.step(buf)
                }
            },
            State::Inline { scanned } => inline(buf, start, scanned, limits.max_inline_len),
            State::Array {
                pos,
                remaining,
                args,
                bulk_len,
            } => array_body(buf, pos, remaining, args, bulk_len, limits.max_bulk_len),
        }
    }

    fn array_header(&mut self, buf: &[u8], start: usize) -> Result<Step, ProtocolError> {
        let Some((count, next)) =
            header(buf, start + 1).map_err(|()| ProtocolError::InvalidMultibulkLength)?
        else {
            return Ok(Step::NeedMore);
        };
        // Redis consumes `*0`, `*-1` and any other non-positive count silently.
        let Ok(count) = usize::try_from(count) else {
            return Ok(Step::Skip(next));
        };
        if count == 0 {
            return Ok(Step::Skip(next));
        }
        if count > self.limits.max_array_len {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        self.state = State::Array {
            pos: next,
            remaining: count,
            args: Vec::with_capacity(count.min(INITIAL_ARGS)),
            bulk_len: None,
        };
        self.step(buf)
    }
}

fn inline(
    buf: &[u8],
    start: usize,
    scanned: &mut usize,
    max_len: usize,
) -> Result<Step, ProtocolError> {
    // Never look further than the longest line allowed, so a huge buffer of
    // garbage costs at most `max_len` bytes of scanning.
    let window_end = buf
        .len()
        .min(start.saturating_add(max_len).saturating_add(1));
    let from = (*scanned).max(start).min(window_end);
    let Some(newline) = buf[from..window_end]
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| from + i)
    else {
        if buf.len() - start > max_len {
            return Err(ProtocolError::InlineTooBig);
        }
        *scanned = buf.len();
        return Ok(Step::NeedMore);
    };
    if newline - start > max_len {
        return Err(ProtocolError::InlineTooBig);
    }
    let line = &buf[start..newline];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let args = split_inline(line).ok_or(ProtocolError::UnbalancedQuotes)?;
    if args.is_empty() {
        Ok(Step::Skip(newline + 1))
    } else {
        Ok(Step::Done(Command { args }, newline + 1))
    }
}

fn array_body(
    buf: &[u8],
    pos: &mut usize,
    remaining: &mut usize,
    args: &mut Vec<Vec<u8>>,
    bulk_len: &mut Option<usize>,
    max_bulk_len: usize,
) -> Result<Step, ProtocolError> {
    while *remaining > 0 {
        match *bulk_len {
            None => {
                let Some(&marker) = buf.get(*pos) else {
                    return Ok(Step::NeedMore);
                };
                if marker != b'$' {
                    return Err(ProtocolError::ExpectedBulk { got: marker });
                }
                let Some((len, next)) =
                    header(buf, *pos + 1).map_err(|()| ProtocolError::InvalidBulkLength)?
                else {
                    return Ok(Step::NeedMore);
                };
                // Checked here, at the header, so an oversized claim is refused
                // before a single payload byte is buffered.
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&len| len <= max_bulk_len)
                    .ok_or(ProtocolError::InvalidBulkLength)?;
                *bulk_len = Some(len);
                *pos = next;
            }
            Some(len) => {
                // Payload bytes are only copied once all of them are present,
                // so memory follows what arrived, never what was claimed.
                let end = pos.saturating_add(len);
                let Some(terminator) = end.checked_add(2).and_then(|stop| buf.get(end..stop))
                else {
                    return Ok(Step::NeedMore);
                };
                if terminator != b"\r\n" {
                    return Err(ProtocolError::MissingBulkTerminator);
                }
                args.push(buf[*pos..end].to_vec());
                *pos = end + 2;
                *remaining -= 1;
                *bulk_len = None;
            }
        }
    }
    Ok(Step::Done(
        Command {
            args: mem::take(args),
        },
        *pos,
    ))
}

/// The fast path for the usual case, a whole well-formed multibulk request already in
/// the buffer: one pass, no state saved. `None` for anything else (incomplete, empty,
/// malformed, over a limit), which the state machine then handles, errors included, so
/// this never changes what is accepted. Callgrind (redis-benchmark GET/SET -P 16): the
/// state machine cost about 1,000 instructions per request.
fn complete_array(
    buf: &[u8],
    start: usize,
    limits: &Limits,
    args: &mut Vec<Vec<u8>>,
) -> Option<usize> {
    let (count, mut pos) = header(buf, start + 1).ok()??;
    let count = usize::try_from(count)
        .ok()
        .filter(|&count| count > 0 && count <= limits.max_array_len)?;
    // Every argument takes at least 6 bytes (`$0\r\n\r\n`): a claimed count the buffer
    // cannot hold is incomplete, and the allocation below stays within what arrived.
    if (buf.len() - pos) / 6 < count {
        return None;
    }
    args.reserve(count.saturating_sub(args.len()));
    for i in 0..count {
        if buf.get(pos) != Some(&b'$') {
            return None;
        }
        let (len, next) = header(buf, pos + 1).ok()??;
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= limits.max_bulk_len)?;
        let end = next.checked_add(len)?;
        if buf.get(end..end.checked_add(2)?)? != b"\r\n" {
            return None;
        }
        let data = &buf[next..end];
        match args.get_mut(i) {
            Some(arg) => {
                arg.clear();
                arg.extend_from_slice(data);
            }
            None => args.push(data.to_vec()),
        }
        pos = end + 2;
    }
    args.truncate(count);
    Some(pos)
}

/// Reads a `<integer>\r\n` header starting at `from`. `Err` when it can never
/// become valid, `Ok(None)` when it is not complete yet.
fn header(buf: &[u8], from: usize) -> Result<Option<(i64, usize)>, ()> {
    let available = buf.get(from..).unwrap_or_default();
    let window = &available[..available.len().min(MAX_HEADER_DIGITS + 1)];
    let Some(cr) = window.iter().position(|&b| b == b'\r') else {
        return if available.len() > MAX_HEADER_DIGITS {
            Err(())
        } else {
            Ok(None)
        };
    };
    match available.get(cr + 1) {
        None => Ok(None),
        Some(b'\n') => {
            let value = parse_i64(&available[..cr]).ok_or(())?;
            Ok(Some((value, from + cr + 2)))
        }
        Some(_) => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(command: &Command) -> Vec<&[u8]> {
        command.args.iter().map(Vec::as_slice).collect()
    }

    #[test]
    fn recycled_buffers_never_leak_old_arguments() {
        let mut parser = RequestParser::default();
        let first = b"*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$10\r\nvalue-long\r\n";
        let (command, used) = parser.parse(first).unwrap().unwrap();
        assert_eq!(used, first.len());
        assert_eq!(args(&command), [&b"SET"[..], b"key:1", b"value-long"]);
        parser.recycle(command);
        // Fewer and shorter arguments into the recycled lists.
        let second = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        let (command, used) = parser.parse(second).unwrap().unwrap();
        assert_eq!(used, second.len());
        assert_eq!(args(&command), [&b"GET"[..], b"k"]);
        parser.recycle(command);
        // More arguments than the recycled list held.
        let third = b"*4\r\n$4\r\nMSET\r\n$1\r\na\r\n$0\r\n\r\n$2\r\nbb\r\n";
        let (command, _) = parser.parse(third).unwrap().unwrap();
        assert_eq!(args(&command), [&b"MSET"[..], b"a", b"", b"bb"]);
        parser.recycle(command);
        // A request cut short falls back to the state machine and completes later.
        let whole = b"*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n";
        assert!(parser.parse(&whole[..20]).unwrap().is_none());
        let (command, used) = parser.parse(whole).unwrap().unwrap();
        assert_eq!(
            (args(&command), used),
            (vec![&b"ECHO"[..], b"abc"], whole.len())
        );
        // Big buffers are not kept.
        parser.recycle(Command {
            args: vec![vec![0; POOL_LIST_BYTES + 1]],
        });
        assert!(
            parser
                .pool
                .iter()
                .all(|a| a.iter().all(|v| v.capacity() <= POOL_LIST_BYTES))
        );
    }
}
