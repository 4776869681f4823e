//! Appending records to a log file.

use crate::error::{Error, IoContext, Result};
use crate::storage::{Storage, SyncHandle, WritableFile};

use super::LogKind;
use super::format::{MAX_RECORD_LEN, RECORD_HEADER_LEN, file_header, record_header};

/// Appends framed records to one log file.
///
/// After any failed append or sync the writer refuses further writes: a failed append may have
/// left a partial record in the file, and a record appended after it would sit behind damage
/// that recovery must treat as corruption, not as a torn tail.
#[derive(Debug)]
pub struct LogWriter {
    file: Box<dyn WritableFile>,
    name: String,
    failed: Option<String>,
}

impl LogWriter {
    /// Creates `name` (truncating any existing file) and writes the file header. The directory
    /// entry is not synced: the caller batches that with its other directory changes.
    pub fn create(storage: &dyn Storage, name: &str, kind: LogKind) -> Result<LogWriter> {
        let mut file = storage
            .create(name)
            .ctx(|| format!("creating log {name}"))?;
        file.append(&file_header(kind))
            .ctx(|| format!("writing the header of log {name}"))?;
        Ok(LogWriter {
            file,
            name: name.to_string(),
            failed: None,
        })
    }

    /// Appends one framed record for `payload` to `buf`. An associated function so group
    /// commit can frame many records into one buffer and write them with one call to
    /// [`LogWriter::append_encoded`].
    pub fn encode_record(buf: &mut Vec<u8>, payload: &[u8]) -> Result<()> {
        // Checked before copying, so a huge payload is never copied only to be refused.
        if payload.len() > MAX_RECORD_LEN {
            return Err(too_long(payload.len()));
        }
        buf.reserve(RECORD_HEADER_LEN + payload.len());
        Self::encode_record_with(buf, |b| b.extend_from_slice(payload))
    }

    /// Like [`LogWriter::encode_record`] for a payload that `write` appends to `buf`: the
    /// payload is produced in place behind a reserved header, so it is never copied. On an
    /// oversized payload `buf` is left as it was.
    pub fn encode_record_with(buf: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        let start = buf.len();
        buf.extend_from_slice(&[0; RECORD_HEADER_LEN]);
        write(buf);
        let payload = &buf[start + RECORD_HEADER_LEN..];
        if payload.len() > MAX_RECORD_LEN {
            let len = payload.len();
            buf.truncate(start);
            return Err(too_long(len));
        }
        let header = record_header(payload);
        buf[start..start + RECORD_HEADER_LEN].copy_from_slice(&header);
        Ok(())
    }

    /// Appends bytes produced by [`LogWriter::encode_record`] (one or more whole records).
    pub fn append_encoded(&mut self, framed: &[u8]) -> Result<()> {
        self.check_usable()?;
        if let Err(e) = self.file.append(framed) {
            self.failed = Some(format!("append to {} failed: {e}", self.name));
            return Err(Error::io(format!("appending to log {}", self.name), e));
        }
        Ok(())
    }

    /// Frames and appends one record.
    pub fn add_record(&mut self, payload: &[u8]) -> Result<()> {
        let mut buf = Vec::new();
        Self::encode_record(&mut buf, payload)?;
        self.append_encoded(&buf)
    }

    /// Makes every record appended so far durable.
    pub fn sync(&mut self) -> Result<()> {
        self.check_usable()?;
        if let Err(e) = self.file.sync() {
            self.failed = Some(format!("sync of {} failed: {e}", self.name));
            return Err(Error::io(format!("syncing log {}", self.name), e));
        }
        Ok(())
    }

    /// A handle that syncs the records appended so far while this writer goes on (see
    /// [`WritableFile::sync_handle`]); `None` if the file has none or the writer has failed.
    pub fn sync_handle(&self) -> Option<Box<dyn SyncHandle>> {
        if self.failed.is_some() {
            return None;
        }
        self.file.sync_handle()
    }

    /// Records that a sync through a [`LogWriter::sync_handle`] failed: like a failed
    /// [`LogWriter::sync`], the writer refuses further writes.
    pub fn sync_failed(&mut self, e: std::io::Error) -> Error {
        self.failed = Some(format!("sync of {} failed: {e}", self.name));
        Error::io(format!("syncing log {}", self.name), e)
    }

    /// Hands every record appended so far to the kernel or device (survives a process
    /// crash, not a power loss; see [`WritableFile::flush`]).
    pub fn flush(&mut self) -> Result<()> {
        self.check_usable()?;
        if let Err(e) = self.file.flush() {
            self.failed = Some(format!("flush of {} failed: {e}", self.name));
            return Err(Error::io(format!("writing log {} out", self.name), e));
        }
        Ok(())
    }

    /// Bytes in the file so far, header included.
    pub fn len(&self) -> u64 {
        self.file.len()
    }

    /// Never true: the file header is written at creation.
    pub fn is_empty(&self) -> bool {
        self.file.is_empty()
    }

    /// The file name this writer appends to.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn check_usable(&self) -> Result<()> {
        match &self.failed {
            Some(why) => Err(Error::Poisoned(why.clone())),
            None => Ok(()),
        }
    }
}

fn too_long(len: usize) -> Error {
    Error::InvalidArgument(format!(
        "log record of {len} bytes exceeds the limit of {MAX_RECORD_LEN}"
    ))
}
