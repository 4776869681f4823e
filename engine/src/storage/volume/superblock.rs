//! The superblock: the volume's geometry and which journal area is live.
//!
//! Two copies, in blocks 0 and 1. Generation `g` is written to block `g % 2`, so the copy
//! being overwritten is always the older one and a torn write leaves the newer intact. The
//! valid copy with the higher generation wins (format-spec/volume.md, "Superblock").

use crate::checksum::xxh3;

use super::device::BLOCK;

pub const MAGIC: [u8; 8] = *b"SCIPKVVL";
/// The only volume format version written and accepted.
pub const VERSION: u32 = 2;
/// Encoded bytes (the rest of the block is zero).
pub const ENCODED_LEN: usize = 64;
/// Journal areas start after the two superblock copies.
pub const JOURNAL_START: u64 = 2;
/// Smallest journal area, in blocks (256 KiB).
pub const MIN_JOURNAL_BLOCKS: u64 = 64;
/// Largest journal area, in blocks (64 MiB).
pub const MAX_JOURNAL_BLOCKS: u64 = 16_384;
/// Smallest data region a format accepts, in blocks.
pub const MIN_DATA_BLOCKS: u64 = 64;

/// One superblock copy, decoded and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Superblock {
    /// Bumped by every checkpoint; also the epoch of the live journal area's commits.
    pub generation: u64,
    pub volume_blocks: u64,
    /// Blocks per journal area (two areas, one after the other, from block 2).
    pub journal_blocks: u64,
}

impl Superblock {
    /// The geometry a volume of `len` bytes is formatted with, generation 1.
    pub fn for_volume(len: u64) -> Result<Superblock, String> {
        let volume_blocks = len / BLOCK;
        let journal_blocks = (volume_blocks / 64).clamp(MIN_JOURNAL_BLOCKS, MAX_JOURNAL_BLOCKS);
        let sb = Superblock {
            generation: 1,
            volume_blocks,
            journal_blocks,
        };
        if volume_blocks < sb.data_start() + MIN_DATA_BLOCKS {
            return Err(format!(
                "a volume needs at least {} bytes, this one has {len}",
                (sb.data_start() + MIN_DATA_BLOCKS) * BLOCK
            ));
        }
        Ok(sb)
    }

    /// First block of journal area `area` (0 or 1).
    pub fn area_start(&self, area: u64) -> u64 {
        JOURNAL_START + (area % 2) * self.journal_blocks
    }

    /// The journal area live at this generation.
    pub fn active_area(&self) -> u64 {
        self.generation % 2
    }

    /// First data block.
    pub fn data_start(&self) -> u64 {
        JOURNAL_START + 2 * self.journal_blocks
    }

    pub fn data_blocks(&self) -> u64 {
        self.volume_blocks - self.data_start()
    }

    /// The block this generation is stored in.
    pub fn slot(&self) -> u64 {
        self.generation % 2
    }

    pub fn encode(&self) -> [u8; ENCODED_LEN] {
        let mut b = [0u8; ENCODED_LEN];
        b[..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&(BLOCK as u32).to_le_bytes());
        b[16..24].copy_from_slice(&self.generation.to_le_bytes());
        b[24..32].copy_from_slice(&self.volume_blocks.to_le_bytes());
        b[32..40].copy_from_slice(&self.journal_blocks.to_le_bytes());
        b[40..48].copy_from_slice(&self.data_start().to_le_bytes());
        // 48..56 reserved, zero.
        let sum = xxh3(&b[..56]);
        b[56..64].copy_from_slice(&sum.to_le_bytes());
        b
    }

    /// Decodes one copy; `Err` says why it is not a valid superblock. `device_blocks` is the
    /// device's size: a volume larger than its device is rejected.
    pub fn decode(b: &[u8], device_blocks: u64) -> Result<Superblock, String> {
        if b.len() < ENCODED_LEN {
            return Err("short superblock".into());
        }
        if b[..8] != MAGIC {
            return Err("bad magic".into());
        }
        let u64_at = |o: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[o..o + 8]);
            u64::from_le_bytes(a)
        };
        if xxh3(&b[..56]) != u64_at(56) {
            return Err("checksum mismatch".into());
        }
        let version = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
        if version != VERSION {
            return Err(format!("unsupported volume format version {version}"));
        }
        let block = u32::from_le_bytes([b[12], b[13], b[14], b[15]]);
        if u64::from(block) != BLOCK {
            return Err(format!("unsupported block size {block}"));
        }
        let sb = Superblock {
            generation: u64_at(16),
            volume_blocks: u64_at(24),
            journal_blocks: u64_at(32),
        };
        if !(MIN_JOURNAL_BLOCKS..=MAX_JOURNAL_BLOCKS).contains(&sb.journal_blocks) {
            return Err(format!("journal area of {} blocks", sb.journal_blocks));
        }
        if u64_at(40) != sb.data_start() || u64_at(48) != 0 {
            return Err("inconsistent geometry".into());
        }
        if sb.volume_blocks < sb.data_start() + MIN_DATA_BLOCKS || sb.volume_blocks > device_blocks
        {
            return Err(format!(
                "volume of {} blocks on a device of {device_blocks}",
                sb.volume_blocks
            ));
        }
        if sb.generation == 0 {
            return Err("generation 0".into());
        }
        Ok(sb)
    }
}

/// Which copy a volume opens with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    /// The valid copy with the higher generation; `other_valid` tells whether the older copy
    /// was valid too.
    Use { sb: Superblock, other_valid: bool },
    /// Both blocks are all zeros: never formatted.
    Unformatted,
    /// Neither copy is valid (the reasons for each).
    Invalid(String),
}

/// Picks the superblock from the two copies' blocks.
pub fn select(copies: [&[u8]; 2], device_blocks: u64) -> Selected {
    let decoded = copies.map(|c| Superblock::decode(c, device_blocks));
    match decoded {
        [Ok(a), Ok(b)] => {
            if a.volume_blocks != b.volume_blocks || a.journal_blocks != b.journal_blocks {
                return Selected::Invalid("the two superblock copies disagree on geometry".into());
            }
            if a.generation == b.generation {
                return Selected::Invalid(format!(
                    "both superblock copies claim generation {}",
                    a.generation
                ));
            }
            let sb = if a.generation > b.generation { a } else { b };
            Selected::Use {
                sb,
                other_valid: true,
            }
        }
        [Ok(sb), Err(_)] | [Err(_), Ok(sb)] => Selected::Use {
            sb,
            other_valid: false,
        },
        [Err(a), Err(b)] => {
            if copies.iter().all(|c| c.iter().all(|&x| x == 0)) {
                Selected::Unformatted
            } else {
                Selected::Invalid(format!("copy 0: {a}; copy 1: {b}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(sb: &Superblock) -> Vec<u8> {
        let mut b = vec![0u8; BLOCK as usize];
        b[..ENCODED_LEN].copy_from_slice(&sb.encode());
        b
    }

    #[test]
    fn round_trip_and_geometry() {
        let sb = Superblock::for_volume(64 << 20).unwrap();
        assert_eq!(sb.volume_blocks, 16_384);
        assert_eq!(sb.journal_blocks, 256);
        assert_eq!(sb.data_start(), 2 + 512);
        let b = block(&sb);
        assert_eq!(Superblock::decode(&b, sb.volume_blocks), Ok(sb));
        assert!(Superblock::decode(&b, sb.volume_blocks - 1).is_err());
        assert!(Superblock::for_volume(100 * BLOCK).is_err());
    }

    #[test]
    fn the_newer_valid_copy_wins() {
        let s1 = Superblock::for_volume(8 << 20).unwrap();
        let s2 = Superblock {
            generation: 2,
            ..s1
        };
        let s3 = Superblock {
            generation: 3,
            ..s1
        };
        let n = s1.volume_blocks;
        let zero = vec![0u8; BLOCK as usize];
        assert_eq!(select([&zero, &zero], n), Selected::Unformatted);
        let (b2, b3) = (block(&s2), block(&s3));
        // Slot order does not matter; the higher generation wins.
        for copies in [[&b2[..], &b3[..]], [&b3[..], &b2[..]]] {
            assert_eq!(
                select(copies, n),
                Selected::Use {
                    sb: s3,
                    other_valid: true
                }
            );
        }
        // Every single-byte flip of the newer copy (in its encoded part) makes the older win.
        for i in 0..ENCODED_LEN {
            let mut bad = b3.clone();
            bad[i] ^= 0x10;
            assert_eq!(
                select([&b2, &bad], n),
                Selected::Use {
                    sb: s2,
                    other_valid: false
                },
                "flip at {i}"
            );
            let mut bad2 = b2.clone();
            bad2[i] ^= 0x01;
            assert!(matches!(select([&bad2, &bad], n), Selected::Invalid(_)));
        }
        let b1 = block(&s1);
        let other_geometry = block(&Superblock {
            generation: 2,
            journal_blocks: s1.journal_blocks + 1,
            ..s1
        });
        assert!(matches!(
            select([&other_geometry, &b1], n),
            Selected::Invalid(_)
        ));
        assert!(matches!(select([&b1, &b1], n), Selected::Invalid(_)));
    }
}
