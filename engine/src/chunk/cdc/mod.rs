//! Content-defined chunking: cut a value where its content says so, not at fixed offsets, so an
//! edit only changes the chunks around it and the rest dedup against earlier versions.
//!
//! Two chunkers, both specified in `format-spec/chunking.md`: [`GearChunker`] (FastCDC, the
//! production one) and [`RabinChunker`] (a classic Rabin fingerprint, kept for comparison).
//! Every constant they use is part of the chunking format ([`CHUNKING_FORMAT_VERSION`]).
//!
//! Both restart their hash at every chunk start, so a cut depends only on the bytes from the
//! chunk start up to the cut. That is what lets [`StreamChunker`] cut a value fed in pieces
//! exactly as [`chunks`] cuts it whole, holding only an unconsumed tail.

mod gear;
mod rabin;
mod sizes;
mod stream;
mod table;

#[cfg(test)]
mod tests;

pub use gear::GearChunker;
pub use rabin::{RABIN_POLYNOMIAL, RABIN_WINDOW, RabinChunker};
pub use sizes::{ChunkSizes, MAX_CHUNK_SIZE, MIN_AVG_SIZE, MIN_CHUNK_SIZE};
pub use stream::StreamChunker;
pub use table::{GEAR, GEAR_SEED, splitmix64};

/// Version of the chunking format: algorithm, tables, masks and default sizes. Stored with
/// chunked values so a reader knows how a writer cut them; bump it on any change to cut points.
pub const CHUNKING_FORMAT_VERSION: u32 = 1;

/// Finds cut points in a byte stream.
pub trait Chunker {
    /// Length of the chunk that starts at `data[0]`.
    ///
    /// The result is at least `min(sizes().min, data.len())` and at most `sizes().max`. When no
    /// cut point is found and `data` is shorter than `max`, it is `data.len()`: the caller
    /// decides whether that is the last chunk or whether more data may still follow (see
    /// [`StreamChunker`]). Returns 0 only for empty `data`.
    fn next_boundary(&self, data: &[u8]) -> usize;

    /// The bounds this chunker was built with.
    fn sizes(&self) -> ChunkSizes;
}

/// Iterator over the chunks of a whole value, see [`chunks`].
#[derive(Debug)]
pub struct Chunks<'a, C: ?Sized> {
    chunker: &'a C,
    rest: &'a [u8],
}

/// Cuts `data` into consecutive chunks; their concatenation is `data`, and empty input yields
/// no chunks.
pub fn chunks<'a, C: Chunker + ?Sized>(chunker: &'a C, data: &'a [u8]) -> Chunks<'a, C> {
    Chunks {
        chunker,
        rest: data,
    }
}

impl<'a, C: Chunker + ?Sized> Iterator for Chunks<'a, C> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let len = self.chunker.next_boundary(self.rest);
        let (chunk, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(chunk)
    }
}

impl<C: Chunker + ?Sized> std::iter::FusedIterator for Chunks<'_, C> {}
