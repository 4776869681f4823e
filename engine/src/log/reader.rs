//! Reading a log back, telling a torn tail (expected after a crash) from corruption.
//!
//! The rules are specified in format-spec/wal.md ("Torn tails"). In short: damage is a torn
//! tail only where a crash can leave it: followed by nothing but zero bytes, or inside the
//! file's last sector (a partly written sector holds stale or random bytes) with no intact
//! record after it. Anything else is `Error::Corruption` and no later record is returned.

use std::io;
use std::sync::Arc;

use crate::checksum::xxh3;
use crate::error::{Error, Result};
use crate::storage::{RandomAccessFile, Storage};

use super::LogKind;
use super::format::{
    FILE_HEADER_LEN, FORMAT_VERSION, MAGIC, MAX_RECORD_LEN, RECORD_HEADER_LEN, TORN_SECTOR,
    file_header, parse_record_header,
};

/// How a log ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// The last record ends exactly at the end of the file.
    Clean,
    /// The bytes from `offset` to the end are an incomplete last write; the caller may
    /// truncate the file to `offset`.
    Torn { offset: u64, reason: String },
}

/// Streams the records of one log file.
#[derive(Debug)]
pub struct LogReader {
    file: Arc<dyn RandomAccessFile>,
    name: String,
    len: u64,
    /// Start of the next record; after the end, the end of the last good record.
    pos: u64,
    record_offset: u64,
    tail: Tail,
    state: State,
}

#[derive(Debug)]
enum State {
    Reading,
    Done,
    Failed { offset: u64, what: String },
}

/// Zero-scans read this much at a time so a huge zero-filled tail never sizes an allocation.
const SCAN_CHUNK: usize = 64 * 1024;

impl LogReader {
    /// Opens `name` and checks its file header against `kind`.
    pub fn open(storage: &dyn Storage, name: &str, kind: LogKind) -> Result<LogReader> {
        let file = storage
            .open_read(name)
            .map_err(|e| Error::io(format!("opening log {name}"), e))?;
        Self::from_file(name, file, kind)
    }

    /// Reads a log from an already opened file; `name` is used in errors only.
    pub fn from_file(
        name: &str,
        file: Arc<dyn RandomAccessFile>,
        kind: LogKind,
    ) -> Result<LogReader> {
        let len = file.len();
        let mut r = LogReader {
            file,
            name: name.to_string(),
            len,
            pos: 0,
            record_offset: 0,
            tail: Tail::Clean,
            state: State::Reading,
        };
        r.check_file_header(kind)?;
        Ok(r)
    }

    fn check_file_header(&mut self, kind: LogKind) -> Result<()> {
        let expected = file_header(kind);
        if self.len < FILE_HEADER_LEN as u64 {
            let got = self.read(0, self.len as usize)?;
            if got.iter().all(|&b| b == 0) || expected.starts_with(&got) {
                self.torn(0, "incomplete file header");
                return Ok(());
            }
            if !self.intact_record_from(1)? {
                self.torn(0, "damaged file header in a file shorter than the header");
                return Ok(());
            }
            return Err(self.corruption(0, "file shorter than the log header"));
        }
        let got = self.read(0, FILE_HEADER_LEN)?;
        if got.as_slice() == expected.as_slice() {
            self.pos = FILE_HEADER_LEN as u64;
            return Ok(());
        }
        if self.zeros_from(0)? {
            self.torn(0, "file is all zero bytes");
            return Ok(());
        }
        let (head, sum) = got.split_at(16);
        let damaged = head[..8] != MAGIC || xxh3(head).to_le_bytes() != sum;
        // A header that fails its check inside the file's only sector, with no intact record
        // after it, is a header write the power cut short (the last kept sector of an unsynced
        // file may hold stale or random bytes): the file was never synced, so it holds nothing
        // durable. A header with a valid checksum but a foreign version or kind was written
        // whole and is never torn.
        if damaged && self.last_sector_start() == 0 && !self.intact_record_from(1)? {
            self.torn(0, "damaged file header in the last sector");
            return Ok(());
        }
        let what = if head[..8] != MAGIC {
            "bad magic: not a scipkv log".to_string()
        } else if xxh3(head).to_le_bytes() != sum {
            "log header checksum mismatch".to_string()
        } else if head[8..12] != FORMAT_VERSION.to_le_bytes() {
            let v = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
            format!("unsupported log format version {v}")
        } else {
            let k = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
            format!("log kind {k}, expected {} ({kind:?})", kind.as_u32())
        };
        Err(self.corruption(0, what))
    }

    /// The next record's payload, or `None` at the end (then see [`LogReader::tail`]).
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        match &self.state {
            State::Reading => {}
            State::Done => return Ok(None),
            State::Failed { offset, what } => {
                return Err(Error::corruption(&self.name, *offset, what.clone()));
            }
        }
        match self.read_record() {
            Ok(r) => Ok(r),
            Err(e) => {
                if let Error::Corruption { offset, what, .. } = &e {
                    self.state = State::Failed {
                        offset: *offset,
                        what: what.clone(),
                    };
                }
                Err(e)
            }
        }
    }

    fn read_record(&mut self) -> Result<Option<Vec<u8>>> {
        let pos = self.pos;
        let rest = self.len - pos;
        if rest == 0 {
            self.tail = Tail::Clean;
            self.state = State::Done;
            return Ok(None);
        }
        if rest < RECORD_HEADER_LEN as u64 {
            let partial = self.read(pos, rest as usize)?;
            let reason = if partial.iter().all(|&b| b == 0) {
                "zero-filled tail"
            } else {
                "incomplete record header at end of file"
            };
            self.torn(pos, reason);
            return Ok(None);
        }
        let mut h = [0u8; RECORD_HEADER_LEN];
        self.file
            .read_exact_at(&mut h, pos)
            .map_err(|e| self.io_err(pos, e))?;
        let body = pos + RECORD_HEADER_LEN as u64;
        // A record that looks damaged is read once more before it is judged: a transient
        // read error must not pass for a torn tail (which would drop an acknowledged
        // record) or for corruption.
        let header = match parse_record_header(&h) {
            Some(header) => Some(header),
            None => {
                self.file
                    .read_exact_at(&mut h, pos)
                    .map_err(|e| self.io_err(pos, e))?;
                parse_record_header(&h)
            }
        };
        let Some(header) = header else {
            // An all-zero header never passes its check (a test pins this), so a zero-filled
            // tail always lands here.
            if self.zeros_from(body)? {
                let reason = if h.iter().all(|&b| b == 0) {
                    "zero-filled tail"
                } else {
                    "damaged record header followed only by zero bytes"
                };
                self.torn(pos, reason);
                return Ok(None);
            }
            if body > self.last_sector_start() && !self.intact_record_from(pos + 1)? {
                self.torn(pos, "damaged record header in the last sector");
                return Ok(None);
            }
            return Err(self.corruption(pos, "record header checksum mismatch"));
        };
        if header.len as usize > MAX_RECORD_LEN {
            return Err(self.corruption(
                pos,
                format!(
                    "record length {} exceeds the limit {MAX_RECORD_LEN}",
                    header.len
                ),
            ));
        }
        let end = body + u64::from(header.len);
        if end > self.len {
            self.torn(pos, "record extends past the end of the file");
            return Ok(None);
        }
        let mut payload = self.read(body, header.len as usize)?;
        if xxh3(&payload) != header.payload_sum {
            payload = self.read(body, header.len as usize)?;
        }
        if xxh3(&payload) != header.payload_sum {
            if self.zeros_from(end)? {
                self.torn(pos, "payload checksum mismatch in the last record");
                return Ok(None);
            }
            if end > self.last_sector_start() && !self.intact_record_from(end)? {
                self.torn(
                    pos,
                    "payload checksum mismatch reaching into the last sector",
                );
                return Ok(None);
            }
            return Err(self.corruption(pos, "record payload checksum mismatch"));
        }
        self.pos = end;
        self.record_offset = body;
        Ok(Some(payload))
    }

    /// How the log ended; `Tail::Clean` until `next_record` has returned `None`.
    pub fn tail(&self) -> &Tail {
        &self.tail
    }

    /// End of the last good record (the length to truncate a torn log to). Final once
    /// `next_record` has returned `None`.
    pub fn valid_len(&self) -> u64 {
        self.pos
    }

    /// File offset of the payload last returned, so payload decoders can report where
    /// corruption sits.
    pub fn record_offset(&self) -> u64 {
        self.record_offset
    }

    /// The file name, as given to `open`.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn torn(&mut self, offset: u64, reason: &str) {
        self.pos = offset;
        self.tail = Tail::Torn {
            offset,
            reason: reason.to_string(),
        };
        self.state = State::Done;
    }

    /// Start of the sector holding the file's last byte: the one sector a crash may have left
    /// partly written with stale or random bytes (earlier unsynced sectors of an append are
    /// either fully written or cut off with the file's end).
    fn last_sector_start(&self) -> u64 {
        self.len.saturating_sub(1) / TORN_SECTOR * TORN_SECTOR
    }

    /// True when an intact record (valid header, payload within the file and matching its
    /// checksum) starts at some offset in `from..`. Damage followed by an intact record is
    /// not a torn write: the record after it was written, so the damage came later. Only
    /// called with `from` inside the last sector (or its preceding header's reach), so the
    /// scan covers at most a sector's worth of offsets.
    fn intact_record_from(&self, from: u64) -> Result<bool> {
        if from >= self.len {
            return Ok(false);
        }
        let rest = self.read(from, (self.len - from) as usize)?;
        for at in 0..rest.len() {
            let Some(h) = rest.get(at..at + RECORD_HEADER_LEN) else {
                break;
            };
            let mut header = [0u8; RECORD_HEADER_LEN];
            header.copy_from_slice(h);
            let Some(header) = parse_record_header(&header) else {
                continue;
            };
            let body = at + RECORD_HEADER_LEN;
            let fits = (header.len as usize) <= rest.len() - body;
            if fits && xxh3(&rest[body..body + header.len as usize]) == header.payload_sum {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// True when every byte from `from` to the end of the file is zero (or there are none).
    fn zeros_from(&self, from: u64) -> Result<bool> {
        let mut off = from;
        while off < self.len {
            let n = usize::try_from(self.len - off).map_or(SCAN_CHUNK, |r| r.min(SCAN_CHUNK));
            let chunk = self.read(off, n)?;
            if chunk.iter().any(|&b| b != 0) {
                return Ok(false);
            }
            off += n as u64;
        }
        Ok(true)
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        self.file
            .read_vec(offset, len)
            .map_err(|e| self.io_err(offset, e))
    }

    fn io_err(&self, offset: u64, e: io::Error) -> Error {
        Error::io(format!("reading log {} at offset {offset}", self.name), e)
    }

    fn corruption(&self, offset: u64, what: impl Into<String>) -> Error {
        Error::corruption(&self.name, offset, what)
    }
}

/// Decodes a whole log held in memory: its records, how it ended, and its valid length.
/// Pure, for fuzzing and tools; recovery streams with [`LogReader`] instead.
pub fn decode_log(name: &str, bytes: &[u8], kind: LogKind) -> Result<(Vec<Vec<u8>>, Tail, u64)> {
    let file = Arc::new(MemFile(bytes.to_vec()));
    let mut r = LogReader::from_file(name, file, kind)?;
    let mut records = Vec::new();
    while let Some(rec) = r.next_record()? {
        records.push(rec);
    }
    Ok((records, r.tail().clone(), r.valid_len()))
}

/// An in-memory file so [`decode_log`] shares the streaming reader's code path.
#[derive(Debug)]
struct MemFile(Vec<u8>);

impl RandomAccessFile for MemFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|s| Some(s..s.checked_add(buf.len())?))
            .and_then(|r| self.0.get(r));
        match src {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of an in-memory log",
            )),
        }
    }

    fn len(&self) -> u64 {
        self.0.len() as u64
    }
}
