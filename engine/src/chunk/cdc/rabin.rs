//! A Rabin fingerprint rolling hash over a 48-byte window (as in LBFS and restic), kept as a
//! baseline for the gear chunker: it needs a pop table lookup and an extra xor per byte, and
//! its cut points depend only on the window, not on the bytes since the chunk start.

use super::{ChunkSizes, Chunker};
use crate::Result;

/// The irreducible polynomial over GF(2), degree 53 (restic's test polynomial). Part of the
/// chunking format; `tests::polynomial_is_irreducible` checks it.
pub const RABIN_POLYNOMIAL: u64 = 0x3D_A335_8B4D_C173;

/// Bytes in the rolling window.
pub const RABIN_WINDOW: usize = 48;

const DEGREE: u32 = 63 - RABIN_POLYNOMIAL.leading_zeros();
/// Shift that brings the 8 bits about to overflow the degree down to a table index.
const SHIFT: u32 = DEGREE - 8;

/// Remainder of `x` divided by `p` in GF(2)[x].
const fn pol_mod(mut x: u64, p: u64) -> u64 {
    let dp = 63 - p.leading_zeros();
    while x != 0 && 63 - x.leading_zeros() >= dp {
        x ^= p << (63 - x.leading_zeros() - dp);
    }
    x
}

/// `(h * x^8 + b) mod p`, the slow definition the tables speed up.
const fn append_byte(h: u64, b: u8, p: u64) -> u64 {
    pol_mod((h << 8) | b as u64, p)
}

struct Tables {
    /// `b * x^(8 * (WINDOW - 1)) mod P`: what the byte leaving the window contributes.
    out: [u64; 256],
    /// Reduction of the 8 bits that overflow the degree, plus those bits themselves so one xor
    /// both clears and reduces them.
    reduce: [u64; 256],
}

const fn tables() -> Tables {
    let mut out = [0u64; 256];
    let mut reduce = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut h = append_byte(0, b as u8, RABIN_POLYNOMIAL);
        let mut i = 1;
        while i < RABIN_WINDOW {
            h = append_byte(h, 0, RABIN_POLYNOMIAL);
            i += 1;
        }
        out[b] = h;
        let high = (b as u64) << DEGREE;
        reduce[b] = pol_mod(high, RABIN_POLYNOMIAL) | high;
        b += 1;
    }
    Tables { out, reduce }
}

static TABLES: Tables = tables();

#[inline(always)]
fn push(h: u64, b: u8) -> u64 {
    let idx = (h >> SHIFT) as u8;
    ((h << 8) | b as u64) ^ TABLES.reduce[idx as usize]
}

/// Rabin chunker: cut after a byte when the low `log2(avg)` bits of the window's fingerprint
/// are zero, once the chunk is longer than `min`.
#[derive(Debug, Clone)]
pub struct RabinChunker {
    sizes: ChunkSizes,
    mask: u64,
}

impl RabinChunker {
    /// A chunker with custom sizes; fails with `InvalidArgument` on sizes `validate` rejects.
    pub fn new(sizes: ChunkSizes) -> Result<Self> {
        let sizes = sizes.validate()?;
        Ok(RabinChunker {
            sizes,
            mask: sizes.avg as u64 - 1,
        })
    }
}

impl Default for RabinChunker {
    fn default() -> Self {
        RabinChunker::new(ChunkSizes::DEFAULT).expect("default chunk sizes are valid")
    }
}

impl Chunker for RabinChunker {
    fn next_boundary(&self, data: &[u8]) -> usize {
        let ChunkSizes { min, max, .. } = self.sizes;
        if data.len() <= min {
            return data.len();
        }
        let end = data.len().min(max);
        // Fill the window with the 48 bytes before the first candidate cut; `validate`
        // guarantees `min >= 64`, so they lie inside the chunk.
        let mut h = data[min - RABIN_WINDOW..min]
            .iter()
            .fold(0u64, |h, &b| push(h, b));
        let incoming = &data[min..end];
        let outgoing = &data[min - RABIN_WINDOW..end - RABIN_WINDOW];
        for (i, (&b, &old)) in incoming.iter().zip(outgoing).enumerate() {
            h = push(h ^ TABLES.out[old as usize], b);
            if h & self.mask == 0 {
                return min + i + 1;
            }
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

    /// `a * b mod p` in GF(2)[x], by shift-and-add.
    fn mul_mod(mut a: u64, mut b: u64, p: u64) -> u64 {
        let mut r = 0;
        a = pol_mod(a, p);
        while b != 0 {
            if b & 1 == 1 {
                r ^= a;
            }
            b >>= 1;
            a <<= 1;
            if a >> DEGREE & 1 == 1 {
                a ^= p;
            }
        }
        r
    }

    fn gcd(mut a: u64, mut b: u64) -> u64 {
        while b != 0 {
            (a, b) = (b, pol_mod(a, b));
        }
        a
    }

    /// Ben-Or's test: `p` of degree d is irreducible iff gcd(p, x^(2^i) - x) = 1 for i <= d/2.
    #[test]
    fn polynomial_is_irreducible() {
        assert_eq!(DEGREE, 53);
        let p = RABIN_POLYNOMIAL;
        let mut x_pow = 0b10; // x^(2^0)
        for i in 1..=DEGREE / 2 {
            x_pow = mul_mod(x_pow, x_pow, p);
            assert_eq!(gcd(p, x_pow ^ 0b10), 1, "factor of degree dividing {i}");
        }
    }

    #[test]
    fn ben_or_rejects_a_reducible_polynomial() {
        // (x^2 + x + 1) * (x^3 + x + 1) = x^5 + x^4 + 1
        let p = 0b11_0001;
        let mut x_pow = 0b10;
        x_pow = mul_mod(x_pow, x_pow, p);
        x_pow = mul_mod(x_pow, x_pow, p);
        let degree_two_factor = gcd(p, x_pow ^ 0b10);
        assert_ne!(degree_two_factor, 1);
    }

    #[test]
    fn rolling_equals_fingerprint_of_window() {
        let data = random_bytes(7, 300);
        let fingerprint = |w: &[u8]| {
            w.iter()
                .fold(0, |h, &b| append_byte(h, b, RABIN_POLYNOMIAL))
        };
        let mut h = data[..RABIN_WINDOW].iter().fold(0, |h, &b| push(h, b));
        assert_eq!(h, fingerprint(&data[..RABIN_WINDOW]));
        for i in RABIN_WINDOW..data.len() {
            h = push(h ^ TABLES.out[data[i - RABIN_WINDOW] as usize], data[i]);
            assert_eq!(h, fingerprint(&data[i + 1 - RABIN_WINDOW..=i]), "at {i}");
        }
    }

    /// Pins the cut points: a failure means the chunking format changed.
    #[test]
    fn golden_cut_points() {
        let data = random_bytes(0x0060_1DE4, 256 * 1024);
        let lens: Vec<usize> = chunks(&RabinChunker::new(GOLDEN_SIZES).unwrap(), &data)
            .map(<[u8]>::len)
            .collect();
        println!("rabin golden lengths: {lens:?}");
        assert_eq!(
            lens,
            vec![
                4071, 4383, 10416, 5499, 16479, 7636, 7574, 5712, 5016, 17427, 4749, 7900, 21538,
                4149, 9258, 5394, 2729, 4064, 5404, 10801, 6419, 10409, 3721, 5819, 8942, 4265,
                2752, 6761, 3730, 14822, 26472, 7833
            ]
        );
    }
}
