//! One memtable entry and the order the skiplist keeps entries in.
//!
//! An entry's user key and value sit back to back in the memtable's arena
//! (`arena.rs`), with the trailer `(seqno << 8) | kind` kept as a number. Keeping the
//! trailer out of the bytes lets a comparison be one bytewise compare of user keys and,
//! only on a tie, one integer compare, with no trailer decoding. The point-lookup index
//! shares the same bytes.
//!
//! Probes ([`Probe`]) borrow the caller's user key, so a seek allocates nothing: the
//! skiplist searches by `dyn EntryKey`, which both an entry and a probe are.

use std::borrow::Borrow;
use std::cmp::Ordering;

use super::arena::{Arena, EntryBytes};
use crate::key::{self, SeqNo, TRAILER_LEN};

const _: () = assert!(key::MAX_KEY_LEN <= u32::MAX as usize);

/// Bytes of the user key kept inline in every entry and probe (see [`Head`]).
const HEAD_LEN: usize = 32;
const HEAD_WORDS: usize = HEAD_LEN / 8;

/// The first [`HEAD_LEN`] bytes of a user key, zero-padded, as big-endian numbers, and the
/// key's length. A skiplist search compares keys at every level, and each entry's bytes
/// sit in a second allocation: comparing heads first decides most comparisons from the
/// node alone, one cache miss per level instead of two.
///
/// Why 32 bytes and not 16: keys in one store share long prefixes (a RESP key starts with
/// `'R'`, the tenant and two separator bytes, 10 bytes for the open tenant "default"; the
/// SCIP store's keys with its tenant and project). With 16 bytes, every redis-benchmark key
/// (`key:000000123456`) had the same head, so every comparison read the arena:
/// 38% of a `SET -P 16` server's samples were the skiplist search (benches/RESULTS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    words: [u64; HEAD_WORDS],
    len: u32,
}

impl Head {
    #[inline]
    fn of(user_key: &[u8]) -> Head {
        let mut b = [0u8; HEAD_LEN];
        let n = user_key.len().min(HEAD_LEN);
        b[..n].copy_from_slice(&user_key[..n]);
        let mut words = [0u64; HEAD_WORDS];
        for (w, chunk) in words.iter_mut().zip(b.chunks_exact(8)) {
            *w = u64::from_be_bytes(chunk.try_into().unwrap_or_default());
        }
        Head {
            words,
            // Keys are at most `key::MAX_KEY_LEN` bytes (batches are validated first).
            len: user_key.len() as u32,
        }
    }

    /// The user-key order when the heads decide it: zero padding sorts a key before any
    /// longer key it is a prefix of, exactly as bytewise order does, so unequal heads order
    /// their keys; equal heads of keys that both fit are equal keys or a prefix and its
    /// zero-extended self, which length orders.
    #[inline]
    fn decide(&self, other: &Head) -> Option<Ordering> {
        match self.words.cmp(&other.words) {
            Ordering::Equal => (self.len as usize <= HEAD_LEN && other.len as usize <= HEAD_LEN)
                .then(|| self.len.cmp(&other.len)),
            o => Some(o),
        }
    }
}

/// The memtable's key type: user key ++ value in the memtable's arena. Valid only while
/// that memtable lives; it never leaves it (see [`EntryBytes`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemKey {
    /// User key followed by the value.
    data: EntryBytes,
    trailer: u64,
    head: Head,
}

impl MemKey {
    /// Copies the entry into `arena`.
    pub(crate) fn new(arena: &Arena, user_key: &[u8], trailer: u64, value: &[u8]) -> MemKey {
        MemKey {
            data: arena.copy(&[user_key, value]),
            trailer,
            head: Head::of(user_key),
        }
    }

    #[inline]
    pub(crate) fn user_key(&self) -> &[u8] {
        &self.data.as_slice()[..self.head.len as usize]
    }

    #[inline]
    pub(crate) fn value(&self) -> &[u8] {
        &self.data.as_slice()[self.head.len as usize..]
    }

    #[inline]
    pub(crate) fn seq(&self) -> SeqNo {
        self.trailer >> 8
    }

    #[inline]
    pub(crate) fn kind(&self) -> u8 {
        self.trailer as u8
    }

    /// The entry's bytes, for the point index's slot (which keeps no head).
    pub(crate) fn data(&self) -> EntryBytes {
        self.data
    }

    /// Appends the internal key (user key ++ trailer, the engine's encoding) to `buf`.
    pub(crate) fn append_internal_key(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self.user_key());
        buf.extend_from_slice(&self.trailer.to_le_bytes());
    }

    /// Bytes the entry's data takes, as the engine counts an internal key plus its value.
    pub(crate) fn encoded_len(&self) -> usize {
        self.data.len() + TRAILER_LEN
    }
}

// The entry's size is part of the flush trigger's per-entry overhead (`ENTRY_OVERHEAD`).
const _: () = assert!(std::mem::size_of::<MemKey>() == 64);

/// A search key borrowing its user key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe<'a> {
    user_key: &'a [u8],
    trailer: u64,
    head: Head,
}

impl<'a> Probe<'a> {
    pub(crate) fn new(user_key: &'a [u8], trailer: u64) -> Probe<'a> {
        Probe {
            user_key,
            trailer,
            head: Head::of(user_key),
        }
    }

    /// The probe for an encoded internal key, ordered exactly as
    /// [`key::compare_internal`] orders it (a key too short for a trailer has an empty user
    /// key and trailer 0, as there).
    pub(crate) fn from_internal(ikey: &'a [u8]) -> Probe<'a> {
        match key::parse_internal_key(ikey) {
            Some(p) => Probe::new(p.user_key, key::pack_trailer(p.seq, p.kind)),
            None => Probe::new(&[], 0),
        }
    }
}

/// What the skiplist compares: a user key (its inline head first) and a trailer.
pub(crate) trait EntryKey {
    fn head(&self) -> &Head;
    fn trailer(&self) -> u64;
    /// The whole user key; for an entry this reads its bytes in the arena.
    fn user_key_bytes(&self) -> &[u8];
}

impl EntryKey for MemKey {
    #[inline]
    fn head(&self) -> &Head {
        &self.head
    }
    #[inline]
    fn trailer(&self) -> u64 {
        self.trailer
    }
    #[inline]
    fn user_key_bytes(&self) -> &[u8] {
        self.user_key()
    }
}

impl EntryKey for Probe<'_> {
    #[inline]
    fn head(&self) -> &Head {
        &self.head
    }
    #[inline]
    fn trailer(&self) -> u64 {
        self.trailer
    }
    #[inline]
    fn user_key_bytes(&self) -> &[u8] {
        self.user_key
    }
}

/// The internal-key order: user key ascending, then trailer descending.
#[inline]
fn compare_keys<A: EntryKey + ?Sized, B: EntryKey + ?Sized>(a: &A, b: &B) -> Ordering {
    let user = match a.head().decide(b.head()) {
        Some(o) => o,
        None => key::compare_bytes(a.user_key_bytes(), b.user_key_bytes()),
    };
    user.then_with(|| b.trailer().cmp(&a.trailer()))
}

impl<'a> Borrow<dyn EntryKey + 'a> for MemKey {
    fn borrow(&self) -> &(dyn EntryKey + 'a) {
        self
    }
}

impl Ord for dyn EntryKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_keys(self, other)
    }
}

impl PartialOrd for dyn EntryKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for dyn EntryKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for dyn EntryKey + '_ {}

impl Ord for MemKey {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_keys(self, other)
    }
}

impl PartialOrd for MemKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MemKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MemKey {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{Kind, compare_internal, make_internal_key};

    /// The head shortcut must give exactly the engine's internal-key order, for keys around
    /// the head length, with zero bytes (the padding) and shared prefixes.
    #[test]
    fn entry_order_is_the_internal_key_order() {
        let mut rng = crate::log::tests::Rng::seeded("entry_order_is_the_internal_key_order");
        let alphabet = [0u8, 1, b'0', b'1', 0xff];
        let mut keys: Vec<(Vec<u8>, u64)> = Vec::new();
        for i in 0..500 {
            let len = rng.below(HEAD_LEN + 6);
            let mut k: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            if i % 5 == 0 {
                // Keys that share a head of zero bytes and then differ past it, so the
                // heads tie and the arena decides (`decide` returns `None`).
                let mut shared = vec![0u8; HEAD_LEN - rng.below(3)];
                shared.append(&mut k);
                k = shared;
            }
            keys.push((k, rng.below(4) as u64));
        }
        let arena = Arena::default();
        for (a, sa) in &keys {
            let ea = MemKey::new(&arena, a, key::pack_trailer(*sa, Kind::Put as u8), b"v");
            let ia = make_internal_key(a, *sa, Kind::Put as u8);
            for (b, sb) in &keys {
                let eb = MemKey::new(&arena, b, key::pack_trailer(*sb, Kind::Put as u8), b"");
                let pb = Probe::new(b, key::pack_trailer(*sb, Kind::Put as u8));
                let want = compare_internal(&ia, &make_internal_key(b, *sb, Kind::Put as u8));
                assert_eq!(ea.cmp(&eb), want, "{a:?}@{sa} vs {b:?}@{sb}");
                let (da, db): (&dyn EntryKey, &dyn EntryKey) = (&ea, &pb);
                assert_eq!(da.cmp(db), want, "{a:?}@{sa} vs probe {b:?}@{sb}");
            }
        }
    }
}
