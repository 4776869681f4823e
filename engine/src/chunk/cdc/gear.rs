//! FastCDC (Xia et al., USENIX ATC 2016; TPDS 2020): a gear rolling hash with normalized
//! chunking. Chosen for production because it needs one shift, one add and one table load per
//! byte, and normalized chunking narrows the chunk size distribution around `avg`.

use super::table::GEAR;
use super::{ChunkSizes, Chunker};
use crate::Result;

/// Extra mask bits before `avg` and fewer after it ("normalization level 2" in the paper).
const NORMALIZATION_LEVEL: u32 = 2;

/// FastCDC chunker. Cut points are specified in `format-spec/chunking.md`.
#[derive(Debug, Clone)]
pub struct GearChunker {
    sizes: ChunkSizes,
    /// Used between `min` and `avg`: more bits, so early cuts are rarer.
    mask_small: u64,
    /// Used between `avg` and `max`: fewer bits, so late cuts come sooner.
    mask_large: u64,
}

/// `bits` ones at the top of a u64. The top bits because bit `k` of the gear hash only depends
/// on the last `k + 1` bytes, so the top bits see a 64-byte window while low bits would see
/// only a handful of bytes.
const fn top_bits(bits: u32) -> u64 {
    !(u64::MAX >> bits)
}

impl GearChunker {
    /// A chunker with custom sizes; fails with `InvalidArgument` on sizes `validate` rejects.
    pub fn new(sizes: ChunkSizes) -> Result<Self> {
        let sizes = sizes.validate()?;
        let bits = sizes.avg_bits();
        Ok(GearChunker {
            sizes,
            mask_small: top_bits(bits + NORMALIZATION_LEVEL),
            mask_large: top_bits(bits - NORMALIZATION_LEVEL),
        })
    }

    /// The two masks, exposed for the golden test and the spec.
    pub fn masks(&self) -> (u64, u64) {
        (self.mask_small, self.mask_large)
    }
}

impl Default for GearChunker {
    fn default() -> Self {
        GearChunker::new(ChunkSizes::DEFAULT).expect("default chunk sizes are valid")
    }
}

/// Rolls `h` over `bytes`; returns the index just past the first byte after which
/// `h & mask == 0`, or `None`. Iterating a slice keeps the loop free of bounds checks
/// (`GEAR[u8]` needs none either).
#[inline(always)]
fn scan(h: &mut u64, bytes: &[u8], mask: u64) -> Option<usize> {
    for (i, &b) in bytes.iter().enumerate() {
        *h = (*h << 1).wrapping_add(GEAR[b as usize]);
        if *h & mask == 0 {
            return Some(i + 1);
        }
    }
    None
}

impl Chunker for GearChunker {
    fn next_boundary(&self, data: &[u8]) -> usize {
        let ChunkSizes { min, avg, max } = self.sizes;
        if data.len() <= min {
            return data.len();
        }
        let end = data.len().min(max);
        let normal = avg.min(end);
        // The first `min` bytes are never hashed: no cut can fall there anyway.
        let mut h = 0u64;
        if let Some(n) = scan(&mut h, &data[min..normal], self.mask_small) {
            return min + n;
        }
        if let Some(n) = scan(&mut h, &data[normal..end], self.mask_large) {
            return normal + n;
        }
        end
    }

    fn sizes(&self) -> ChunkSizes {
        self.sizes
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        chunks,
        tests::{GOLDEN_SIZES, random_bytes},
    };
    use super::*;

    #[test]
    fn masks_have_level_two_bit_counts() {
        let (small, large) = GearChunker::default().masks();
        let bits = ChunkSizes::DEFAULT.avg.trailing_zeros();
        assert_eq!(small.count_ones(), bits + 2);
        assert_eq!(large.count_ones(), bits - 2);
        assert_eq!(small.leading_ones(), bits + 2);
        assert_eq!(large.leading_ones(), bits - 2);
    }

    /// The defaults and their masks are part of the chunking format (see the spec).
    #[test]
    fn default_sizes_and_masks_pinned() {
        let c = GearChunker::default();
        let sizes = ChunkSizes {
            min: 2048,
            avg: 8192,
            max: 65536,
        };
        assert_eq!(c.sizes(), sizes);
        assert_eq!(c.masks(), (0xFFFE_0000_0000_0000, 0xFFE0_0000_0000_0000));
    }

    /// Pins the cut points of the production chunker: a failure here means the chunking format
    /// changed, which needs a new `CHUNKING_FORMAT_VERSION`, not a new expected value.
    #[test]
    fn golden_cut_points() {
        let data = random_bytes(0x0060_1DE4, 256 * 1024);
        let lens: Vec<usize> = chunks(&GearChunker::new(GOLDEN_SIZES).unwrap(), &data)
            .map(<[u8]>::len)
            .collect();
        println!("gear golden lengths: {lens:?}");
        assert_eq!(
            lens,
            vec![
                10453, 7437, 15767, 8781, 8596, 9084, 10031, 10955, 16630, 7584, 12862, 8673, 8443,
                15092, 8949, 2549, 8206, 8420, 8337, 8962, 8614, 9246, 11981, 9197, 8272, 10967,
                8056
            ]
        );
    }
}
