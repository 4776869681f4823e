//! Protobuf wire primitives over a byte stream, for walking the top-level `Index` message
//! without holding it in memory. Every read reports truncation as `Malformed` at the offset
//! where the item started, so a cut-off upload is told apart from an I/O failure.

use std::io::{self, Read};

use super::error::ScipError;

/// A decompressed stream with its position, in bytes from the start of the `Index` message.
#[derive(Debug)]
pub(crate) struct WireReader<R> {
    inner: R,
    pos: u64,
}

/// Protobuf wire types (the low three bits of a tag).
pub(crate) const VARINT: u8 = 0;
pub(crate) const FIXED64: u8 = 1;
pub(crate) const LEN: u8 = 2;
pub(crate) const START_GROUP: u8 = 3;
pub(crate) const END_GROUP: u8 = 4;
pub(crate) const FIXED32: u8 = 5;

/// Bytes copied per step when reading or skipping a length-delimited payload, so the buffer
/// grows with the bytes that actually arrive and a lying length prefix costs nothing.
const CHUNK: usize = 64 * 1024;

impl<R: Read> WireReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        WireReader { inner, pos: 0 }
    }

    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    pub(crate) fn inner(&self) -> &R {
        &self.inner
    }

    /// One byte, or `None` at end of stream.
    fn byte(&mut self) -> Result<Option<u8>, ScipError> {
        let mut b = [0u8; 1];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    self.pos += 1;
                    return Ok(Some(b[0]));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// A varint; `None` only if the stream ends cleanly before its first byte.
    pub(crate) fn varint(&mut self, what: &str) -> Result<Option<u64>, ScipError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(b) = self.byte()? else {
                if i == 0 {
                    return Ok(None);
                }
                return Err(ScipError::malformed(
                    start,
                    format!("truncated {what} varint"),
                ));
            };
            let low = u64::from(b & 0x7F);
            if i == 9 && b > 1 {
                return Err(ScipError::malformed(
                    start,
                    format!("{what} varint overflows 64 bits"),
                ));
            }
            value |= low << (7 * i);
            if b & 0x80 == 0 {
                return Ok(Some(value));
            }
        }
        Err(ScipError::malformed(
            start,
            format!("{what} varint longer than 10 bytes"),
        ))
    }

    /// A varint that must be present (not at a clean end of stream).
    pub(crate) fn required_varint(&mut self, what: &str) -> Result<u64, ScipError> {
        let start = self.pos;
        self.varint(what)?
            .ok_or_else(|| ScipError::malformed(start, format!("stream ends before {what}")))
    }

    /// Reads exactly `len` bytes into `buf` (cleared first), growing it in chunks as they arrive.
    pub(crate) fn read_exact_into(
        &mut self,
        len: u64,
        buf: &mut Vec<u8>,
        what: &str,
    ) -> Result<(), ScipError> {
        let start = self.pos;
        buf.clear();
        let mut remaining = len;
        while remaining > 0 {
            let old = buf.len();
            // Double the step with what has arrived, so large items need few resizes.
            let step = remaining.min(CHUNK.max(old) as u64) as usize;
            // Exactly what this step needs: the buffer is reused for every item, so doubling
            // would keep up to twice the largest item for the rest of the stream. Large
            // reallocations are `mremap`s, so exact growth copies nothing.
            buf.reserve_exact(step);
            buf.resize(old + step, 0);
            let n = self.fill(&mut buf[old..])?;
            buf.truncate(old + n);
            if n < step {
                return Err(ScipError::malformed(
                    start,
                    format!(
                        "{what} truncated: length {len}, only {} bytes left",
                        buf.len()
                    ),
                ));
            }
            remaining -= step as u64;
        }
        Ok(())
    }

    /// Discards exactly `len` bytes without keeping them.
    pub(crate) fn skip(&mut self, len: u64, what: &str) -> Result<(), ScipError> {
        let start = self.pos;
        let mut scratch = [0u8; 4096];
        let mut remaining = len;
        while remaining > 0 {
            let step = remaining.min(scratch.len() as u64) as usize;
            let n = self.fill(&mut scratch[..step])?;
            if n < step {
                return Err(ScipError::malformed(
                    start,
                    format!(
                        "{what} truncated: length {len}, only {} bytes left",
                        len - remaining + n as u64
                    ),
                ));
            }
            remaining -= step as u64;
        }
        Ok(())
    }

    /// Fills `out` as far as the stream allows; returns how many bytes were read.
    fn fill(&mut self, out: &mut [u8]) -> Result<usize, ScipError> {
        let mut n = 0;
        while n < out.len() {
            match self.inner.read(&mut out[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}
