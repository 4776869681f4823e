//! Building blocks of stored values: ranges, strings, front-coded string lists, postings.
//! Byte layouts are in `format-spec/scip-schema.md` §Values.
//!
//! Every decoder reads through [`Reader`], which bounds each length by the bytes left, and
//! every count is checked against the bytes left before anything is allocated, so a corrupt
//! value is an error, never a panic or a huge allocation.

use crate::coding::{DecodeError, Reader, put_bytes, put_varint};
use crate::scip::Range;

/// The first byte of every value of schema version 1, and of the values schema version 2 did
/// not change.
pub const FORMAT_V1: u8 = 1;

/// The first byte of the values schema version 2 packed tighter: postings (`D`, `R`) and
/// chunks (`O`). Their readers still accept version 1, which stores written before may hold.
pub const FORMAT_V2: u8 = 2;

/// Reads and checks the leading format version byte.
pub fn version(r: &mut Reader<'_>, what: &str) -> Result<(), DecodeError> {
    let v = r.u8(what)?;
    if v != FORMAT_V1 {
        return Err(r.err(format!("{what}: unknown format version {v}")));
    }
    Ok(())
}

/// Reads the leading format version byte of a value with a version 1 and a version 2 layout.
pub fn version_1_or_2(r: &mut Reader<'_>, what: &str) -> Result<u8, DecodeError> {
    let v = r.u8(what)?;
    if v != FORMAT_V1 && v != FORMAT_V2 {
        return Err(r.err(format!("{what}: unknown format version {v}")));
    }
    Ok(v)
}

/// A count of items each at least `min_item_bytes` long: bounded by what is left.
pub fn count(r: &mut Reader<'_>, min_item_bytes: usize, what: &str) -> Result<usize, DecodeError> {
    let max = r.remaining() / min_item_bytes.max(1);
    Ok(r.varint_max(max as u64, what)? as usize)
}

pub fn put_u32(buf: &mut Vec<u8>, v: u32) {
    put_varint(buf, u64::from(v));
}

pub fn get_u32(r: &mut Reader<'_>, what: &str) -> Result<u32, DecodeError> {
    Ok(r.varint_max(u64::from(u32::MAX), what)? as u32)
}

/// SCIP enums and role bitsets are `i32`; stored as their two's-complement `u32`.
pub fn put_i32(buf: &mut Vec<u8>, v: i32) {
    put_u32(buf, v as u32);
}

pub fn get_i32(r: &mut Reader<'_>, what: &str) -> Result<i32, DecodeError> {
    Ok(get_u32(r, what)? as i32)
}

pub fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_bytes(buf, s.as_bytes());
}

pub fn get_str(r: &mut Reader<'_>, what: &str) -> Result<String, DecodeError> {
    let b = r.length_prefixed(what)?;
    String::from_utf8(b.to_vec()).map_err(|_| r.err(format!("{what}: not UTF-8")))
}

/// `start_line - base`, `start_char`, `end_line - start_line`, `end_char`. Deltas keep sorted
/// lists of ranges small.
pub fn put_range(buf: &mut Vec<u8>, r: &Range, base_line: u32) {
    put_u32(buf, r.start_line.wrapping_sub(base_line));
    put_u32(buf, r.start_char);
    put_u32(buf, r.end_line - r.start_line);
    put_u32(buf, r.end_char);
}

pub fn get_range(r: &mut Reader<'_>, base_line: u32, what: &str) -> Result<Range, DecodeError> {
    let start_line = base_line
        .checked_add(get_u32(r, what)?)
        .ok_or_else(|| r.err(format!("{what}: line overflows")))?;
    let start_char = get_u32(r, what)?;
    let end_line = start_line
        .checked_add(get_u32(r, what)?)
        .ok_or_else(|| r.err(format!("{what}: line overflows")))?;
    let end_char = get_u32(r, what)?;
    // Ingest rejects such ranges, so a stored one is damage; refusing it here also keeps
    // every decoded range re-encodable in the packed form (its span is `end - start`).
    if end_line == start_line && end_char < start_char {
        return Err(r.err(format!("{what}: range ends before it starts")));
    }
    Ok(Range {
        start_line,
        start_char,
        end_line,
        end_char,
    })
}

/// The packed range of schema version 2, with `flag_bits` (at most 4) caller flags folded
/// into its third varint: `start_line - base`, `start_char`, then
/// `head = span << (flag_bits + 1) | multi_line << flag_bits | flags`, where `span` is
/// `end_char - start_char` on one line and `end_char` otherwise; a multi-line range then has
/// `end_line - start_line`. Most occurrences are one identifier on one line, so a range is
/// usually three one-byte varints, flags included.
pub fn put_packed_range(buf: &mut Vec<u8>, r: &Range, base_line: u32, flags: u64, flag_bits: u32) {
    debug_assert!(flag_bits <= 4 && flags >> flag_bits == 0);
    put_u32(buf, r.start_line.wrapping_sub(base_line));
    put_u32(buf, r.start_char);
    let multi = r.end_line != r.start_line;
    let span = if multi {
        r.end_char
    } else {
        r.end_char - r.start_char
    };
    put_varint(
        buf,
        (u64::from(span) << (flag_bits + 1)) | (u64::from(multi) << flag_bits) | flags,
    );
    if multi {
        put_u32(buf, r.end_line - r.start_line);
    }
}

/// Reads a [`put_packed_range`] range and its flags.
pub fn get_packed_range(
    r: &mut Reader<'_>,
    base_line: u32,
    flag_bits: u32,
    what: &str,
) -> Result<(Range, u64), DecodeError> {
    let start_line = base_line
        .checked_add(get_u32(r, what)?)
        .ok_or_else(|| r.err(format!("{what}: line overflows")))?;
    let start_char = get_u32(r, what)?;
    let head = r.varint_max(
        u64::from(u32::MAX) << (flag_bits + 1) | ((2 << flag_bits) - 1),
        what,
    )?;
    let flags = head & ((1 << flag_bits) - 1);
    let span = (head >> (flag_bits + 1)) as u32;
    let range = if head >> flag_bits & 1 == 0 {
        Range {
            start_line,
            start_char,
            end_line: start_line,
            end_char: start_char
                .checked_add(span)
                .ok_or_else(|| r.err(format!("{what}: column overflows")))?,
        }
    } else {
        let lines = get_u32(r, what)?;
        if lines == 0 {
            return Err(r.err(format!("{what}: multi-line range ends on its first line")));
        }
        Range {
            start_line,
            start_char,
            end_line: start_line
                .checked_add(lines)
                .ok_or_else(|| r.err(format!("{what}: line overflows")))?,
            end_char: span,
        }
    };
    Ok((range, flags))
}

/// Front-coded list of strings, which the caller has sorted: each entry stores the length it
/// shares with the previous one and the rest. Symbols in one document share long prefixes
/// (`scip-typescript npm rxjs 8.0.0 src/internal/...`), so this is most of their size saved.
pub fn put_front_coded(buf: &mut Vec<u8>, sorted: &[&str]) {
    put_varint(buf, sorted.len() as u64);
    let mut prev: &[u8] = &[];
    for s in sorted {
        let s = s.as_bytes();
        let shared = prev.iter().zip(s).take_while(|(a, b)| a == b).count();
        put_varint(buf, shared as u64);
        put_bytes(buf, &s[shared..]);
        prev = s;
    }
}

pub fn get_front_coded(r: &mut Reader<'_>, what: &str) -> Result<Vec<String>, DecodeError> {
    let n = count(r, 2, what)?;
    let mut out: Vec<String> = Vec::with_capacity(n);
    let mut prev: Vec<u8> = Vec::new();
    for _ in 0..n {
        let shared = r.varint_max(prev.len() as u64, what)? as usize;
        let rest = r.length_prefixed(what)?;
        prev.truncate(shared);
        prev.extend_from_slice(rest);
        let s = std::str::from_utf8(&prev).map_err(|_| r.err(format!("{what}: not UTF-8")))?;
        out.push(s.to_owned());
    }
    Ok(out)
}

/// One occurrence of a symbol: where and in which roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub range: Range,
    pub roles: i32,
}

/// A `DEFINITION` or `REFERENCES` value: postings sorted by range, each a packed range whose
/// one flag says roles follow (most references have none).
pub fn encode_postings(postings: &[Posting]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(2 + postings.len() * 4);
    buf.push(FORMAT_V2);
    put_varint(&mut buf, postings.len() as u64);
    let mut base = 0;
    for p in postings {
        put_packed_range(&mut buf, &p.range, base, u64::from(p.roles != 0), 1);
        if p.roles != 0 {
            put_i32(&mut buf, p.roles);
        }
        base = p.range.start_line;
    }
    buf
}

pub fn decode_postings(v: &[u8]) -> Result<Vec<Posting>, DecodeError> {
    let mut r = Reader::new(v);
    let format = version_1_or_2(&mut r, "postings")?;
    let min_bytes = if format == FORMAT_V1 { 5 } else { 3 };
    let n = count(&mut r, min_bytes, "postings count")?;
    let mut out = Vec::with_capacity(n);
    let mut base = 0;
    for _ in 0..n {
        let (range, roles) = if format == FORMAT_V1 {
            let range = get_range(&mut r, base, "posting range")?;
            (range, get_i32(&mut r, "posting roles")?)
        } else {
            let (range, has_roles) = get_packed_range(&mut r, base, 1, "posting range")?;
            let roles = if has_roles != 0 {
                get_i32(&mut r, "posting roles")?
            } else {
                0
            };
            (range, roles)
        };
        base = range.start_line;
        out.push(Posting { range, roles });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_coding_round_trips() {
        let list = ["a b c", "a b d", "a bz", "x"];
        let mut buf = Vec::new();
        put_front_coded(&mut buf, &list);
        let got = get_front_coded(&mut Reader::new(&buf), "t").unwrap();
        assert_eq!(got, list);
    }

    #[test]
    fn postings_round_trip_and_reject_garbage() {
        let p = vec![
            Posting {
                range: Range::from_scip(&[3, 1, 4]).unwrap(),
                roles: 1,
            },
            Posting {
                range: Range::from_scip(&[9, 0, 12, 2]).unwrap(),
                roles: -1,
            },
        ];
        let v = encode_postings(&p);
        assert_eq!(decode_postings(&v).unwrap(), p);
        for cut in 0..v.len() {
            assert!(decode_postings(&v[..cut]).is_err(), "cut {cut}");
        }
        // A huge count is rejected before allocating.
        assert!(decode_postings(&[2, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(decode_postings(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(decode_postings(&[3, 0]).is_err());
    }

    #[test]
    fn version_1_postings_still_decode() {
        let p = vec![
            Posting {
                range: Range::from_scip(&[3, 1, 4]).unwrap(),
                roles: 0,
            },
            Posting {
                range: Range::from_scip(&[9, 200, 12, 2]).unwrap(),
                roles: 1,
            },
        ];
        let mut v1 = vec![FORMAT_V1];
        put_varint(&mut v1, 2);
        let mut base = 0;
        for q in &p {
            put_range(&mut v1, &q.range, base);
            put_i32(&mut v1, q.roles);
            base = q.range.start_line;
        }
        assert_eq!(decode_postings(&v1).unwrap(), p);
        let v2 = encode_postings(&p);
        assert!(v2.len() < v1.len());
        assert_eq!(decode_postings(&v2).unwrap(), p);
    }

    #[test]
    fn a_stored_range_ending_before_it_starts_is_an_error() {
        // Found by the `scip_store_records` fuzz target: a version 1 range on one line whose
        // end column is before its start decoded, and re-encoding it packed overflowed.
        let mut buf = Vec::new();
        for v in [3, 9, 0, 4] {
            put_u32(&mut buf, v);
        }
        let e = get_range(&mut Reader::new(&buf), 0, "t").unwrap_err();
        assert!(e.to_string().contains("ends before it starts"), "{e}");
        let mut buf = Vec::new();
        for v in [3, 9, 0, 9] {
            put_u32(&mut buf, v);
        }
        assert!(get_range(&mut Reader::new(&buf), 0, "t").is_ok());
    }

    #[test]
    fn packed_ranges_round_trip_with_flags_and_reject_overflow() {
        let ranges = [
            [0, 0, 0, 0],
            [5, 7, 5, 12],
            [5, 7, 6, 0],
            [u32::MAX, u32::MAX, u32::MAX, u32::MAX],
            [1, 0, u32::MAX, u32::MAX],
        ];
        for bits in 0..=4u32 {
            for (i, [sl, sc, el, ec]) in ranges.into_iter().enumerate() {
                let r = Range {
                    start_line: sl,
                    start_char: sc,
                    end_line: el,
                    end_char: ec,
                };
                let flags = (i as u64) & ((1 << bits) - 1);
                let mut buf = Vec::new();
                put_packed_range(&mut buf, &r, 1.min(sl), flags, bits);
                let mut rd = Reader::new(&buf);
                assert_eq!(
                    get_packed_range(&mut rd, 1.min(sl), bits, "t").unwrap(),
                    (r, flags)
                );
                assert!(rd.is_empty());
            }
        }
        // One-line span past u32::MAX columns; a "multi-line" range of zero lines.
        let mut buf = Vec::new();
        put_u32(&mut buf, 0);
        put_u32(&mut buf, u32::MAX);
        put_varint(&mut buf, 1 << 1);
        assert!(get_packed_range(&mut Reader::new(&buf), 0, 0, "t").is_err());
        let mut buf = Vec::new();
        put_u32(&mut buf, 0);
        put_u32(&mut buf, 0);
        put_varint(&mut buf, 1);
        put_u32(&mut buf, 0);
        assert!(get_packed_range(&mut Reader::new(&buf), 0, 0, "t").is_err());
    }
}
