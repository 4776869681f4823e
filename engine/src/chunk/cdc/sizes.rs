//! Chunk size bounds shared by every chunker, and their validation.

use crate::{Error, Result};

/// Largest `max` accepted: a chunk is read and hashed as one buffer, and bigger chunks would
/// waste the dedup that chunking exists for.
pub const MAX_CHUNK_SIZE: usize = 1 << 20;

/// Smallest `min` accepted: the Rabin window is 48 bytes and the gear hash's top bits depend on
/// the last 64 bytes, so a shorter minimum would let a cut depend on bytes before the chunk.
pub const MIN_CHUNK_SIZE: usize = 64;

/// Smallest `avg` accepted, so the normalized gear masks keep at least 6 bits.
pub const MIN_AVG_SIZE: usize = 256;

/// Minimum, target and maximum chunk length in bytes. All three are part of the chunking
/// format: the same data cut with other sizes shares no chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSizes {
    pub min: usize,
    pub avg: usize,
    pub max: usize,
}

impl ChunkSizes {
    /// Production sizes, chosen from the measurements in `format-spec/chunking.md`.
    pub const DEFAULT: ChunkSizes = ChunkSizes {
        min: 2 * 1024,
        avg: 8 * 1024,
        max: 64 * 1024,
    };

    /// Checks the bounds every chunker relies on, so `next_boundary` never has to.
    pub fn validate(self) -> Result<Self> {
        let ChunkSizes { min, avg, max } = self;
        let fail = |why: &str| {
            Err(Error::InvalidArgument(format!(
                "chunk sizes min={min} avg={avg} max={max}: {why}"
            )))
        };
        if !avg.is_power_of_two() {
            return fail("avg must be a power of two");
        }
        if !(min < avg && avg < max) {
            return fail("need min < avg < max");
        }
        if min < MIN_CHUNK_SIZE {
            return fail("min must be at least 64 bytes");
        }
        if avg < MIN_AVG_SIZE {
            return fail("avg must be at least 256 bytes");
        }
        if max > MAX_CHUNK_SIZE {
            return fail("max must be at most 1 MiB");
        }
        Ok(self)
    }

    /// log2 of `avg`; valid only after [`validate`](Self::validate).
    pub(crate) fn avg_bits(self) -> u32 {
        self.avg.trailing_zeros()
    }
}

impl Default for ChunkSizes {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(min: usize, avg: usize, max: usize) -> ChunkSizes {
        ChunkSizes { min, avg, max }
    }

    #[test]
    fn default_is_valid() {
        assert_eq!(ChunkSizes::DEFAULT.validate().unwrap(), ChunkSizes::DEFAULT);
    }

    #[test]
    fn rejects_bad_sizes() {
        for bad in [
            sizes(1024, 3000, 8192),          // avg not a power of two
            sizes(4096, 4096, 8192),          // min == avg
            sizes(1024, 4096, 4096),          // avg == max
            sizes(32, 4096, 8192),            // min below the window
            sizes(64, 128, 8192),             // avg too small for the masks
            sizes(1024, 4096, (1 << 20) + 1), // max above 1 MiB
        ] {
            let err = bad.validate().unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{bad:?}: {err}");
        }
    }

    #[test]
    fn accepts_edge_sizes() {
        assert!(sizes(64, 256, 1 << 20).validate().is_ok());
    }
}
