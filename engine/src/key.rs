//! Internal keys: a user key plus an 8-byte trailer `(seqno << 8) | kind`, little-endian.
//!
//! Order: user key ascending, then trailer descending, so the newest version of a key comes
//! first and a lookup at snapshot `s` seeks to `(key, s, MAX_KIND)`. The layout is specified in
//! format-spec/sstable.md ("Internal keys").

use std::cmp::Ordering;

/// Sequence numbers are 56 bits; the top value is reserved as "newest possible".
pub type SeqNo = u64;

/// Largest sequence number an entry may carry.
pub const MAX_SEQNO: SeqNo = (1 << 56) - 1;

/// Bytes of trailer after the user key.
pub const TRAILER_LEN: usize = 8;

/// Largest user key the engine accepts.
pub const MAX_KEY_LEN: usize = 64 * 1024;

/// Largest value the engine stores inline (bigger values belong to the chunk store).
pub const MAX_VALUE_LEN: usize = 256 * 1024 * 1024;

/// What an entry means. Numbers are on-disk values: never reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// A tombstone: the key is deleted as of this seqno.
    Delete = 0,
    /// A plain value.
    Put = 1,
    /// A value with an absolute expiry: the stored value is the expiry (unix milliseconds,
    /// 8 bytes little-endian) followed by the user's value. Once the clock reaches the expiry
    /// the entry reads exactly like a tombstone (it hides every older version).
    PutExpiring = 2,
}

/// The kind used in seek keys: sorts first among entries of the same seqno.
pub const MAX_KIND: u8 = 0xff;

impl Kind {
    pub fn from_u8(b: u8) -> Option<Kind> {
        match b {
            0 => Some(Kind::Delete),
            1 => Some(Kind::Put),
            2 => Some(Kind::PutExpiring),
            _ => None,
        }
    }
}

/// Bytes of the expiry prefix of a [`Kind::PutExpiring`] value.
pub const EXPIRY_LEN: usize = 8;

/// Splits a stored [`Kind::PutExpiring`] value into (expiry in unix ms, user value); `None`
/// if it is shorter than the prefix (decoders report that as corruption).
#[inline]
pub fn split_expiring(stored: &[u8]) -> Option<(u64, &[u8])> {
    if stored.len() < EXPIRY_LEN {
        return None;
    }
    let (t, v) = stored.split_at(EXPIRY_LEN);
    Some((u64::from_le_bytes(t.try_into().ok()?), v))
}

/// The stored form of an expiring value: `expires_at_ms` (8 bytes LE) ++ `value`.
pub fn encode_expiring(expires_at_ms: u64, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(EXPIRY_LEN + value.len());
    v.extend_from_slice(&expires_at_ms.to_le_bytes());
    v.extend_from_slice(value);
    v
}

/// Packs a seqno and a kind byte into a trailer value.
#[inline]
pub fn pack_trailer(seq: SeqNo, kind: u8) -> u64 {
    debug_assert!(seq <= MAX_SEQNO);
    (seq << 8) | u64::from(kind)
}

/// Builds the internal key `user_key ++ trailer`.
pub fn make_internal_key(user_key: &[u8], seq: SeqNo, kind: u8) -> Vec<u8> {
    let mut k = Vec::with_capacity(user_key.len() + TRAILER_LEN);
    k.extend_from_slice(user_key);
    k.extend_from_slice(&pack_trailer(seq, kind).to_le_bytes());
    k
}

/// Appends the internal key to `buf`.
pub fn append_internal_key(buf: &mut Vec<u8>, user_key: &[u8], seq: SeqNo, kind: u8) {
    buf.extend_from_slice(user_key);
    buf.extend_from_slice(&pack_trailer(seq, kind).to_le_bytes());
}

/// The key to seek to for reading `user_key` as of snapshot `seq`.
pub fn lookup_key(user_key: &[u8], seq: SeqNo) -> Vec<u8> {
    make_internal_key(user_key, seq, MAX_KIND)
}

/// A borrowed, validated internal key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    pub user_key: &'a [u8],
    pub seq: SeqNo,
    pub kind: u8,
}

/// Splits an internal key; `None` if it is shorter than the trailer.
#[inline]
pub fn parse_internal_key(ikey: &[u8]) -> Option<ParsedKey<'_>> {
    if ikey.len() < TRAILER_LEN {
        return None;
    }
    let (user_key, t) = ikey.split_at(ikey.len() - TRAILER_LEN);
    let trailer = u64::from_le_bytes(t.try_into().ok()?);
    Some(ParsedKey {
        user_key,
        seq: trailer >> 8,
        kind: trailer as u8,
    })
}

/// The user-key part of an internal key (the whole slice if it is too short to have a trailer).
#[inline]
pub fn user_key(ikey: &[u8]) -> &[u8] {
    &ikey[..ikey.len().saturating_sub(TRAILER_LEN)]
}

#[inline]
fn trailer(ikey: &[u8]) -> u64 {
    if ikey.len() < TRAILER_LEN {
        return 0;
    }
    let t = &ikey[ikey.len() - TRAILER_LEN..];
    u64::from_le_bytes(t.try_into().expect("8 bytes"))
}

/// Total order on internal keys: user key ascending, then trailer (seqno, kind) descending.
/// Keys too short to hold a trailer compare as if their trailer were 0 (they never come from
/// a valid table: decoders reject them).
#[inline]
pub fn compare_internal(a: &[u8], b: &[u8]) -> Ordering {
    compare_bytes(user_key(a), user_key(b)).then_with(|| trailer(b).cmp(&trailer(a)))
}

/// Bytewise order, the same as `<[u8]>::cmp`, eight bytes per step. Memtable and block
/// searches compare short keys millions of times a second; a libc `memcmp` call per compare
/// was ~10% of the server's instructions under redis-benchmark (callgrind).
#[inline]
pub fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    let (mut ca, mut cb) = (a[..n].chunks_exact(8), b[..n].chunks_exact(8));
    for (x, y) in (&mut ca).zip(&mut cb) {
        let x = u64::from_be_bytes(x.try_into().expect("8 bytes"));
        let y = u64::from_be_bytes(y.try_into().expect("8 bytes"));
        if x != y {
            return x.cmp(&y);
        }
    }
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_versions_sort_first_and_user_keys_dominate() {
        let a5 = make_internal_key(b"a", 5, Kind::Put as u8);
        let a3 = make_internal_key(b"a", 3, Kind::Put as u8);
        let ab1 = make_internal_key(b"ab", 1, Kind::Put as u8);
        assert_eq!(compare_internal(&a5, &a3), Ordering::Less);
        assert_eq!(compare_internal(&a3, &ab1), Ordering::Less);
        assert_eq!(compare_internal(&lookup_key(b"a", 4), &a3), Ordering::Less);
        assert_eq!(
            compare_internal(&lookup_key(b"a", 4), &a5),
            Ordering::Greater
        );
        let p = parse_internal_key(&a5).unwrap();
        assert_eq!((p.user_key, p.seq, p.kind), (&b"a"[..], 5, 1));
    }

    #[test]
    fn compare_bytes_agrees_with_slice_order() {
        let mut rng = crate::log::tests::Rng::seeded("compare_bytes_agrees_with_slice_order");
        for _ in 0..20_000 {
            let la = rng.below(40);
            let a = rng.bytes(la);
            let mut b = a.clone();
            // Mostly near-equal pairs: a shared prefix, then a change, truncation or growth.
            let (n, pick) = (rng.below(40), rng.below(4));
            match pick {
                0 => b = rng.bytes(n),
                1 if !b.is_empty() => {
                    let i = n % b.len();
                    b[i] = rng.bytes(1)[0];
                }
                2 => b.truncate(n % (la + 1)),
                _ => b.extend(rng.bytes(n % 10)),
            }
            assert_eq!(compare_bytes(&a, &b), a.cmp(&b), "{a:?} {b:?}");
            assert_eq!(compare_bytes(&b, &a), b.cmp(&a), "{b:?} {a:?}");
        }
    }
}
