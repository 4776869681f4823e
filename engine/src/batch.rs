//! WriteBatch: a group of puts and deletes applied atomically, and its WAL payload codec.
//!
//! The payload layout is specified in format-spec/wal.md ("Batch payload"). One WAL record
//! holds exactly one batch, so a batch is either fully replayed or (torn tail) not at all.

use crate::coding::{DecodeError, Reader, put_bytes, varint_len};
use crate::error::{Error, Result};
use crate::key::{EXPIRY_LEN, Kind, MAX_KEY_LEN, MAX_SEQNO, MAX_VALUE_LEN, SeqNo, split_expiring};
use crate::log::MAX_RECORD_LEN;

/// first seqno u64 | count u32.
pub const PAYLOAD_HEADER_LEN: usize = 12;

/// One operation of a batch, borrowed from it. `value` is empty for deletes and, for
/// [`Kind::PutExpiring`], the stored form (expiry prefix, then the user's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOp<'a> {
    pub kind: Kind,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

impl<'a> BatchOp<'a> {
    /// The user's value and its expiry (unix ms), for puts; `None` for deletes.
    pub fn user_value(&self) -> Option<(&'a [u8], Option<u64>)> {
        match self.kind {
            Kind::Delete => None,
            Kind::Put => Some((self.value, None)),
            // The builder and the decoder guarantee the prefix is there.
            Kind::PutExpiring => split_expiring(self.value).map(|(t, v)| (v, Some(t))),
        }
    }
}

/// Where one operation's bytes sit in [`WriteBatch::data`].
#[derive(Debug, Clone, Copy)]
struct OpRef {
    kind: Kind,
    start: usize,
    key_len: usize,
    value_len: usize,
}

/// Puts and deletes to apply atomically, in order (a later op on the same key wins).
///
/// Keys and values live back to back in one buffer so building a batch costs one growing
/// allocation, not two per entry.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch {
    data: Vec<u8>,
    ops: Vec<OpRef>,
    /// Size of the encoded entries, kept up to date so the size is O(1) to ask for.
    entries_size: usize,
}

impl WriteBatch {
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// An empty batch with room for `ops` operations holding `bytes` of keys and values,
    /// so filling it does not grow its buffers step by step (a single put used to cost
    /// three allocations here).
    pub fn with_capacity(ops: usize, bytes: usize) -> WriteBatch {
        WriteBatch {
            data: Vec::with_capacity(bytes),
            ops: Vec::with_capacity(ops),
            entries_size: 0,
        }
    }

    /// Stores `value` under `key`. Sizes are checked by [`WriteBatch::validate`].
    pub fn put(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.push(Kind::Put, key.as_ref(), value.as_ref());
    }

    /// Stores `value` under `key` until `expires_at_ms` (unix milliseconds, judged by the
    /// database's [`crate::Clock`]); from then on the key reads as deleted.
    pub fn put_with_expiry(
        &mut self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        expires_at_ms: u64,
    ) {
        self.push_parts(
            Kind::PutExpiring,
            key.as_ref(),
            &expires_at_ms.to_le_bytes(),
            value.as_ref(),
        );
    }

    /// Deletes `key`.
    pub fn delete(&mut self, key: impl AsRef<[u8]>) {
        self.push(Kind::Delete, key.as_ref(), &[]);
    }

    /// Appends every operation of `other` after this batch's, as if each had been added
    /// here: one copy of its buffer. A server front that gathers many clients' small batches
    /// into one engine write uses it, so the group costs one WAL record.
    pub fn append(&mut self, other: &WriteBatch) {
        let base = self.data.len();
        self.data.extend_from_slice(&other.data);
        self.ops.extend(other.ops.iter().map(|op| OpRef {
            start: op.start + base,
            ..*op
        }));
        self.entries_size += other.entries_size;
    }

    /// Orders the operations by key. The sort is stable, so each key's operations keep
    /// their order and the batch means exactly what it did (ops on different keys
    /// commute, and a later op on a key still wins). A bulk loader calls it for speed:
    /// applied in key order, consecutive memtable inserts follow nearly the same skiplist
    /// path, which is then in cache, where inserts in arbitrary order miss at most levels.
    pub fn sort_by_key(&mut self) {
        let data = &self.data;
        self.ops.sort_by(|a, b| {
            data[a.start..a.start + a.key_len].cmp(&data[b.start..b.start + b.key_len])
        });
    }

    /// Appends an operation whose value is already in stored form (an op of another batch).
    pub(crate) fn push_op(&mut self, op: &BatchOp<'_>) {
        self.push(op.kind, op.key, op.value);
    }

    fn push(&mut self, kind: Kind, key: &[u8], value: &[u8]) {
        self.push_parts(kind, key, &[], value);
    }

    fn push_parts(&mut self, kind: Kind, key: &[u8], prefix: &[u8], value: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(key);
        self.data.extend_from_slice(prefix);
        self.data.extend_from_slice(value);
        let value_len = prefix.len() + value.len();
        self.ops.push(OpRef {
            kind,
            start,
            key_len: key.len(),
            value_len,
        });
        self.entries_size += entry_size(kind, key.len(), value_len);
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Exact size of the WAL payload [`WriteBatch::encode_payload`] produces; "approximate"
    /// only in that callers should treat it as a cost estimate (memtable overhead differs).
    pub fn approximate_size(&self) -> usize {
        PAYLOAD_HEADER_LEN + self.entries_size
    }

    /// Empties the batch, keeping its buffers for reuse.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ops.clear();
        self.entries_size = 0;
    }

    /// The operations in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = BatchOp<'_>> {
        self.ops.iter().map(|op| {
            let key_end = op.start + op.key_len;
            BatchOp {
                kind: op.kind,
                key: &self.data[op.start..key_end],
                value: &self.data[key_end..key_end + op.value_len],
            }
        })
    }

    /// Checks the limits a batch must meet before it is given sequence numbers: key and value
    /// sizes (what the decoder accepts back) and a payload that fits one log record.
    pub fn validate(&self) -> Result<()> {
        self.validate_with(MAX_KEY_LEN, MAX_VALUE_LEN, MAX_RECORD_LEN)
    }

    fn validate_with(&self, max_key: usize, max_value: usize, max_payload: usize) -> Result<()> {
        for (i, op) in self.ops.iter().enumerate() {
            if op.key_len > max_key {
                return Err(Error::InvalidArgument(format!(
                    "key of operation {i} is {} bytes, the limit is {max_key}",
                    op.key_len
                )));
            }
            let user_len = match op.kind {
                Kind::PutExpiring => op.value_len - EXPIRY_LEN,
                _ => op.value_len,
            };
            if user_len > max_value {
                return Err(Error::InvalidArgument(format!(
                    "value of operation {i} is {user_len} bytes, the limit is {max_value}"
                )));
            }
        }
        if u32::try_from(self.ops.len()).is_err() {
            return Err(Error::InvalidArgument(format!(
                "batch of {} operations exceeds the limit of {}",
                self.ops.len(),
                u32::MAX
            )));
        }
        if self.approximate_size() > max_payload {
            return Err(Error::InvalidArgument(format!(
                "batch of {} bytes exceeds the limit of {max_payload}",
                self.approximate_size()
            )));
        }
        Ok(())
    }

    /// Appends the WAL payload: operation `i` gets seqno `first_seq + i`. Call
    /// [`WriteBatch::validate`] first; the caller also guarantees the seqnos fit
    /// (`first_seq + len - 1 <= MAX_SEQNO`).
    pub fn encode_payload(&self, first_seq: SeqNo, out: &mut Vec<u8>) {
        debug_assert!(self.validate().is_ok());
        out.reserve(self.approximate_size());
        out.extend_from_slice(&first_seq.to_le_bytes());
        // validate() bounds the count; saturating keeps an unvalidated batch undecodable
        // rather than silently truncated.
        let count = u32::try_from(self.ops.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_le_bytes());
        for op in self.iter() {
            out.push(op.kind as u8);
            put_bytes(out, op.key);
            if op.kind != Kind::Delete {
                put_bytes(out, op.value);
            }
        }
    }
}

fn entry_size(kind: Kind, key_len: usize, value_len: usize) -> usize {
    let value = match kind {
        Kind::Put | Kind::PutExpiring => varint_len(value_len as u64) + value_len,
        Kind::Delete => 0,
    };
    1 + varint_len(key_len as u64) + key_len + value
}

/// A decoded WAL payload. Operations borrow from the payload, which avoids copying every key
/// and value during replay; the whole payload is validated before it is returned, so a
/// damaged batch is never partially applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedBatch<'a> {
    /// Seqno of `ops[0]`; `ops[i]` has `first_seq + i`.
    pub first_seq: SeqNo,
    pub ops: Vec<BatchOp<'a>>,
}

impl DecodedBatch<'_> {
    /// The seqno after the batch's last operation (`first_seq` for an empty batch).
    pub fn next_seq(&self) -> SeqNo {
        self.first_seq + self.ops.len() as u64
    }
}

/// Decodes a WAL payload. `file` and `offset` (of the payload's first byte) only locate
/// errors: every rejection is `Error::Corruption` at `offset` plus the failing byte.
pub fn decode_payload<'a>(payload: &'a [u8], file: &str, offset: u64) -> Result<DecodedBatch<'a>> {
    decode(payload).map_err(|e| {
        Error::corruption(
            file,
            offset.saturating_add(e.pos as u64),
            format!("write batch: {}", e.what),
        )
    })
}

fn decode(payload: &[u8]) -> Result<DecodedBatch<'_>, DecodeError> {
    let mut r = Reader::new(payload);
    let first_seq = r.u64("first seqno")?;
    let count = r.u32("operation count")?;
    if first_seq > MAX_SEQNO {
        return Err(DecodeError::new(
            0,
            format!("first seqno {first_seq} exceeds {MAX_SEQNO}"),
        ));
    }
    // first_seq < 2^56 and count < 2^32, so the sum cannot overflow a u64.
    if count > 0 && first_seq + u64::from(count - 1) > MAX_SEQNO {
        return Err(DecodeError::new(
            0,
            format!("{count} operations from seqno {first_seq} run past {MAX_SEQNO}"),
        ));
    }
    // Every operation takes at least two bytes, which bounds the allocation by the input.
    let mut ops = Vec::with_capacity((count as usize).min(r.remaining() / 2));
    for _ in 0..count {
        let at = r.pos();
        let kind_byte = r.u8("operation kind")?;
        let kind = Kind::from_u8(kind_byte)
            .ok_or_else(|| DecodeError::new(at, format!("unknown operation kind {kind_byte}")))?;
        let key_len = r.varint_max(MAX_KEY_LEN as u64, "key length")?;
        let key = r.bytes(key_len as usize, "key")?;
        let value = match kind {
            Kind::Put => {
                let value_len = r.varint_max(MAX_VALUE_LEN as u64, "value length")?;
                r.bytes(value_len as usize, "value")?
            }
            Kind::PutExpiring => {
                let at = r.pos();
                let value_len =
                    r.varint_max((MAX_VALUE_LEN + EXPIRY_LEN) as u64, "value length")?;
                if (value_len as usize) < EXPIRY_LEN {
                    return Err(DecodeError::new(
                        at,
                        format!("expiring value of {value_len} bytes has no 8-byte expiry"),
                    ));
                }
                r.bytes(value_len as usize, "value")?
            }
            Kind::Delete => &[],
        };
        ops.push(BatchOp { kind, key, value });
    }
    if !r.is_empty() {
        return Err(r.err(format!(
            "{} bytes after the {count} operations the header announces",
            r.remaining()
        )));
    }
    Ok(DecodedBatch { first_seq, ops })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coding::put_varint;
    use crate::log::tests::Rng;

    fn random_batch(rng: &mut Rng) -> WriteBatch {
        let mut b = WriteBatch::new();
        for _ in 0..rng.below(20) {
            let klen = rng.below(40);
            let key = rng.bytes(klen);
            if rng.below(3) == 0 {
                b.delete(&key);
            } else {
                let vlen = if rng.below(10) == 0 {
                    rng.below(5000)
                } else {
                    rng.below(30)
                };
                let value = rng.bytes(vlen);
                if rng.below(4) == 0 {
                    b.put_with_expiry(&key, &value, rng.next());
                } else {
                    b.put(&key, &value);
                }
            }
        }
        b
    }

    fn corruption_at(payload: &[u8]) -> (u64, String) {
        match decode_payload(payload, "000007.wal", 1000) {
            Err(Error::Corruption { file, offset, what }) => {
                assert_eq!(file, "000007.wal");
                (offset, what)
            }
            other => panic!("expected corruption, got {other:?}"),
        }
    }

    fn header(first_seq: u64, count: u32) -> Vec<u8> {
        let mut p = first_seq.to_le_bytes().to_vec();
        p.extend_from_slice(&count.to_le_bytes());
        p
    }

    #[test]
    fn batches_round_trip_with_exact_sizes() {
        let mut rng = Rng::seeded("batches_round_trip_with_exact_sizes");
        for _ in 0..500 {
            let b = random_batch(&mut rng);
            b.validate().unwrap();
            let first_seq = rng.next() % (MAX_SEQNO - 100);
            let mut out = vec![0xee; 3];
            b.encode_payload(first_seq, &mut out);
            let payload = &out[3..];
            assert_eq!(payload.len(), b.approximate_size());
            let d = decode_payload(payload, "w", 0).unwrap();
            assert_eq!(d.first_seq, first_seq);
            assert_eq!(d.ops, b.iter().collect::<Vec<_>>());
            assert_eq!(d.next_seq(), first_seq + b.len() as u64);
        }
    }

    #[test]
    fn append_is_the_same_as_adding_each_operation() {
        let mut a = WriteBatch::new();
        a.put(b"k1", b"v1");
        a.delete(b"k2");
        let mut b = WriteBatch::new();
        b.put_with_expiry(b"k3", b"v3", 77);
        b.put(b"k1", b"later");
        let mut want = a.clone();
        for op in b.iter() {
            want.push_op(&op);
        }
        let mut got = a.clone();
        got.append(&b);
        got.append(&WriteBatch::new());
        assert_eq!(got.len(), 4);
        assert_eq!(got.approximate_size(), want.approximate_size());
        let (mut enc_got, mut enc_want) = (Vec::new(), Vec::new());
        got.encode_payload(9, &mut enc_got);
        want.encode_payload(9, &mut enc_want);
        assert_eq!(enc_got, enc_want);
    }

    #[test]
    fn builder_keeps_order_and_clears() {
        let mut b = WriteBatch::new();
        assert!(b.is_empty());
        assert_eq!(b.approximate_size(), PAYLOAD_HEADER_LEN);
        b.put("k1", "v1");
        b.delete(b"k2");
        let owned_key: Vec<u8> = Vec::from("k1");
        b.put(owned_key, b"");
        let ops: Vec<_> = b.iter().collect();
        assert_eq!(b.len(), 3);
        assert_eq!(
            ops,
            [
                BatchOp {
                    kind: Kind::Put,
                    key: b"k1",
                    value: b"v1"
                },
                BatchOp {
                    kind: Kind::Delete,
                    key: b"k2",
                    value: b""
                },
                BatchOp {
                    kind: Kind::Put,
                    key: b"k1",
                    value: b""
                },
            ]
        );
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.iter().count(), 0);
        assert_eq!(b.approximate_size(), PAYLOAD_HEADER_LEN);
    }

    /// Sorting must not change what a batch does: each key's operations keep their order
    /// (so the last one still wins), keys come out ascending, sizes are unchanged.
    #[test]
    fn sorting_by_key_keeps_each_keys_operations_in_order() {
        let mut rng = Rng::seeded("sorting_by_key_keeps_each_keys_operations_in_order");
        for _ in 0..500 {
            let mut b = WriteBatch::new();
            for i in 0..rng.below(40) {
                // Few distinct keys, so most batches repeat some.
                let key = [b'k', rng.below(6) as u8];
                match rng.below(3) {
                    0 => b.delete(key),
                    1 => b.put_with_expiry(key, i.to_string(), 7),
                    _ => b.put(key, i.to_string()),
                }
            }
            let per_key = |b: &WriteBatch| {
                let mut m: std::collections::BTreeMap<Vec<u8>, Vec<(Kind, Vec<u8>)>> =
                    Default::default();
                for op in b.iter() {
                    m.entry(op.key.to_vec())
                        .or_default()
                        .push((op.kind, op.value.to_vec()));
                }
                m
            };
            let (before, size) = (per_key(&b), b.approximate_size());
            b.sort_by_key();
            let keys: Vec<&[u8]> = b.iter().map(|op| op.key).collect();
            assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
            assert_eq!(per_key(&b), before);
            assert_eq!(b.approximate_size(), size);
            let mut payload = Vec::new();
            b.encode_payload(1, &mut payload);
            assert_eq!(payload.len(), size);
            let decoded = decode_payload(&payload, "000001.wal", 0).unwrap();
            assert_eq!(decoded.ops, b.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn validate_rejects_oversized_keys_values_and_batches() {
        let mut b = WriteBatch::new();
        b.put([1u8; 5], [2u8; 7]);
        b.validate_with(5, 7, 100).unwrap();
        let invalid = |r: Result<()>| matches!(r, Err(Error::InvalidArgument(_)));
        assert!(invalid(b.validate_with(4, 7, 100)));
        assert!(invalid(b.validate_with(5, 6, 100)));
        assert!(invalid(b.validate_with(5, 7, b.approximate_size() - 1)));
        let mut big = WriteBatch::new();
        big.delete(vec![0u8; MAX_KEY_LEN + 1]);
        assert!(invalid(big.validate()));
    }

    #[test]
    fn expiring_puts_carry_their_expiry() {
        let mut b = WriteBatch::new();
        b.put_with_expiry("k", "v", 1234);
        b.put("p", "w");
        let ops: Vec<_> = b.iter().collect();
        assert_eq!(ops[0].kind, Kind::PutExpiring);
        assert_eq!(ops[0].user_value(), Some((&b"v"[..], Some(1234))));
        assert_eq!(ops[1].user_value(), Some((&b"w"[..], None)));
        let mut max = WriteBatch::new();
        max.put_with_expiry("k", vec![0u8; 7], 1);
        max.validate_with(1, 7, 100).unwrap();
        assert!(max.validate_with(1, 6, 100).is_err());
    }

    #[test]
    fn empty_batch_round_trips() {
        let mut out = Vec::new();
        WriteBatch::new().encode_payload(MAX_SEQNO, &mut out);
        let d = decode_payload(&out, "w", 0).unwrap();
        assert_eq!((d.first_seq, d.ops.len()), (MAX_SEQNO, 0));
    }

    #[test]
    fn decoder_rejects_every_malformed_payload() {
        // Truncated header: reported where the count should start.
        assert_eq!(corruption_at(&[0; 11]).0, 1008);
        // Unknown kind, reported at the kind byte.
        let mut p = header(5, 1);
        p.extend_from_slice(&[7, 0]);
        let (off, what) = corruption_at(&p);
        assert_eq!(off, 1012);
        assert!(what.contains("unknown operation kind 7"), "{what}");
        // Key and value lengths over the limits.
        let mut p = header(5, 1);
        p.push(Kind::Delete as u8);
        put_varint(&mut p, MAX_KEY_LEN as u64 + 1);
        assert!(corruption_at(&p).1.contains("key length"));
        let mut p = header(5, 1);
        p.push(Kind::Put as u8);
        put_bytes(&mut p, b"k");
        put_varint(&mut p, MAX_VALUE_LEN as u64 + 1);
        assert!(corruption_at(&p).1.contains("value length"));
        // An expiring value too short to hold its expiry.
        let mut p = header(5, 1);
        p.push(Kind::PutExpiring as u8);
        put_bytes(&mut p, b"k");
        put_bytes(&mut p, b"1234567");
        assert!(corruption_at(&p).1.contains("no 8-byte expiry"));
        // A key length that runs past the payload.
        let mut p = header(5, 1);
        p.push(Kind::Delete as u8);
        put_varint(&mut p, 10);
        p.extend_from_slice(b"abc");
        assert!(corruption_at(&p).1.contains("key"));
        // Count larger and smaller than the entries present.
        let mut b = WriteBatch::new();
        b.put("a", "1");
        b.delete("b");
        let mut good = Vec::new();
        b.encode_payload(9, &mut good);
        let mut p = good.clone();
        p[8] = 3;
        assert!(corruption_at(&p).1.contains("operation kind"));
        let mut p = good.clone();
        p[8] = 1;
        assert!(corruption_at(&p).1.contains("bytes after"));
        // Trailing bytes.
        let mut p = good.clone();
        p.push(0);
        assert!(corruption_at(&p).1.contains("bytes after"));
        // Seqnos past MAX_SEQNO.
        assert!(
            corruption_at(&header(MAX_SEQNO + 1, 0))
                .1
                .contains("exceeds")
        );
        let mut p = good.clone();
        p[..8].copy_from_slice(&MAX_SEQNO.to_le_bytes());
        assert!(corruption_at(&p).1.contains("run past"));
        let mut p = good;
        p[..8].copy_from_slice(&(MAX_SEQNO - 1).to_le_bytes());
        assert_eq!(
            decode_payload(&p, "w", 0).unwrap().next_seq(),
            MAX_SEQNO + 1
        );
        // A huge count with no entries must fail without a huge allocation.
        assert!(
            corruption_at(&header(1, u32::MAX))
                .1
                .contains("operation kind")
        );
    }

    #[test]
    fn mutated_payloads_never_panic() {
        let mut rng = Rng::seeded("mutated_payloads_never_panic");
        for _ in 0..5000 {
            let b = random_batch(&mut rng);
            let mut p = Vec::new();
            b.encode_payload(rng.next() % MAX_SEQNO, &mut p);
            for _ in 0..1 + rng.below(4) {
                let len = p.len();
                match rng.below(4) {
                    0 => p[rng.below(len)] ^= 1 << rng.below(8),
                    1 => p.truncate(rng.below(len)),
                    2 => {
                        let at = rng.below(len + 1);
                        let n = 1 + rng.below(8);
                        let extra = rng.bytes(n);
                        p.splice(at..at, extra);
                    }
                    _ => p[rng.below(len)] = 0xff,
                }
                if p.is_empty() {
                    break;
                }
            }
            if let Ok(d) = decode_payload(&p, "w", 0) {
                assert!(d.first_seq <= MAX_SEQNO);
                assert!(d.ops.iter().all(|op| op.key.len() <= MAX_KEY_LEN));
            }
        }
        for _ in 0..2000 {
            let n = rng.below(64);
            let _ = decode_payload(&rng.bytes(n), "w", u64::MAX);
        }
    }
}
