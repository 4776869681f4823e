//! The gear table and the PRNG that generates it, both part of the on-disk format.
//!
//! The table is computed at compile time from a fixed seed rather than pasted as 256 literals so
//! the spec can state it in one line and a reader can regenerate it; `tests::gear_table_pinned`
//! fails if either the generator or the seed changes.

/// Seed of the SplitMix64 stream that fills [`GEAR`]: the ASCII bytes `scipkvCD` read
/// little-endian. Changing it changes every cut point, i.e. the chunking format.
pub const GEAR_SEED: u64 = u64::from_le_bytes(*b"scipkvCD");

/// One SplitMix64 step (Steele, Lea, Flood 2014), chosen because it is tiny, well known and
/// passes BigCrush, so the table is reproducible from the spec alone.
pub const fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const fn gear_table(seed: u64) -> [u64; 256] {
    let mut state = seed;
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = splitmix64(&mut state);
        i += 1;
    }
    table
}

/// Random 64-bit value added to the gear hash for each byte value.
pub static GEAR: [u64; 256] = gear_table(GEAR_SEED);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gear_table_pinned() {
        assert_eq!(GEAR_SEED, 0x4443_766b_7069_6373);
        // The first values are repeated in format-spec/chunking.md as a check for other
        // implementations.
        let first: Vec<String> = GEAR[..4].iter().map(|v| format!("{v:#018x}")).collect();
        println!("GEAR[0..4] = {first:?}");
        let bytes: Vec<u8> = GEAR.iter().flat_map(|v| v.to_le_bytes()).collect();
        let digest = crate::checksum::xxh3(&bytes);
        println!("xxh3(GEAR as little-endian bytes) = {digest:#018x}");
        assert_eq!(digest, 0xc937_1e97_614e_f4b4);
        assert_eq!(GEAR[0], 0xb838_a41d_b43c_3836);
    }

    #[test]
    fn splitmix64_matches_reference_vector() {
        // Reference output of SplitMix64 seeded with 0 (first value of the C reference code).
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
    }
}
