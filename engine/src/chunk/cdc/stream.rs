//! Chunking a value that arrives in pieces, with memory bounded by `max` plus one piece.

use super::{Chunker, chunks};

/// Cuts a stream into the same chunks [`chunks`] would cut from the whole value.
///
/// A cut is only taken once at least `max` unconsumed bytes are buffered: the chunk starting
/// there then ends at or before `max`, and since the hash restarts at each chunk start nothing
/// pushed later can move that cut. Shorter tails wait for more bytes or for
/// [`finish`](Self::finish), which makes the result independent of how the input was split.
#[derive(Debug)]
pub struct StreamChunker<C> {
    chunker: C,
    buf: Vec<u8>,
    /// Start of the unconsumed tail in `buf`; compacted lazily so tiny pushes stay linear.
    start: usize,
}

impl<C: Chunker> StreamChunker<C> {
    pub fn new(chunker: C) -> Self {
        let cap = chunker.sizes().max * 2;
        StreamChunker {
            chunker,
            buf: Vec::with_capacity(cap),
            start: 0,
        }
    }

    /// Appends `data` and passes every chunk that is now final to `sink`, in order.
    pub fn push(&mut self, data: &[u8], mut sink: impl FnMut(&[u8])) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
        let max = self.chunker.sizes().max;
        while self.buf.len() - self.start >= max {
            let tail = &self.buf[self.start..];
            let len = self.chunker.next_boundary(tail);
            sink(&tail[..len]);
            self.start += len;
        }
    }

    /// Ends the stream, passing the remaining chunks (none if nothing is buffered) to `sink`.
    pub fn finish(self, mut sink: impl FnMut(&[u8])) {
        for chunk in chunks(&self.chunker, &self.buf[self.start..]) {
            sink(chunk);
        }
    }

    /// Bytes pushed but not yet emitted as chunks.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }
}
