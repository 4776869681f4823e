//! xxh3 checksums: one function so every format hashes the same way.

/// 64-bit xxh3 of `data`, the checksum of every block, record and footer.
#[inline]
pub fn xxh3(data: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(data)
}

/// xxh3 over several slices as if they were concatenated, without copying them.
pub fn xxh3_parts(parts: &[&[u8]]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in parts {
        h.update(p);
    }
    h.digest()
}
