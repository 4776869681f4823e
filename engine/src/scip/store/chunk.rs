//! Chunks of a document's occurrences, sorted by range: what "occurrences at a position" reads.
//!
//! A document's occurrences are split into chunks of at most [`CHUNK_OCCURRENCES`], keyed by
//! the running maximum of their end lines, so a position lookup is one short range scan:
//! seek to the first chunk whose running maximum reaches the line, read until a chunk starts
//! after it. Byte layout: `format-spec/scip-schema.md` §CHUNK.

use crate::coding::{DecodeError, Reader, put_varint};
use crate::scip::{Occurrence, Range};

use super::codec::{
    FORMAT_V2, count, get_front_coded, get_i32, get_packed_range, get_range, get_str,
    put_front_coded, put_i32, put_packed_range, put_range, put_str, version_1_or_2,
};

/// Occurrences per chunk: small enough that decoding one is a few microseconds, large enough
/// that the per-chunk symbol table amortises.
pub const CHUNK_OCCURRENCES: usize = 128;

const FLAG_ENCLOSING: u64 = 1;
const FLAG_OVERRIDE_DOCS: u64 = 2;

/// Flags of a version 2 occurrence's packed range: roles follow; the rare fields (syntax
/// kind, enclosing range, override documentation) follow.
const PACKED_ROLES: u64 = 1;
const PACKED_EXTRA: u64 = 2;
const PACKED_FLAG_BITS: u32 = 2;

/// An occurrence with its ranges decoded, borrowed from the document being ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedOccurrence<'a> {
    pub range: Range,
    pub enclosing: Option<Range>,
    pub symbol: &'a str,
    pub roles: i32,
    pub syntax_kind: i32,
    /// Almost always empty (no allocation).
    pub override_documentation: Vec<&'a str>,
}

impl<'a> PreparedOccurrence<'a> {
    /// From a prost occurrence, if its range decodes (tests and fuzz seeds build these).
    pub fn from_occurrence(o: &'a Occurrence) -> Option<Self> {
        Some(PreparedOccurrence {
            range: Range::from_scip(&o.range).ok()?,
            enclosing: Range::from_scip(&o.enclosing_range).ok(),
            symbol: &o.symbol,
            roles: o.symbol_roles,
            syntax_kind: o.syntax_kind,
            override_documentation: o
                .override_documentation
                .iter()
                .map(|d| d.as_str())
                .collect(),
        })
    }
}

/// An occurrence read back from a chunk; `symbol` indexes [`DecodedChunk::symbols`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkOccurrence {
    pub range: Range,
    pub symbol: u32,
    pub roles: i32,
    pub syntax_kind: i32,
    pub enclosing: Option<Range>,
    pub override_documentation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedChunk {
    pub symbols: Vec<String>,
    pub occurrences: Vec<ChunkOccurrence>,
}

/// Encodes occurrences already sorted by range (layout version 2).
pub fn encode_chunk(occs: &[PreparedOccurrence<'_>]) -> Vec<u8> {
    // Distinct symbols first, then sort only those: occurrences repeat symbols with long
    // shared prefixes, and sorting and binary-searching all of them was 9% of ingest.
    let mut index: foldhash::HashMap<&str, usize> =
        foldhash::HashMap::with_capacity_and_hasher(occs.len(), Default::default());
    for o in occs {
        index.entry(o.symbol).or_insert(0);
    }
    let mut syms: Vec<&str> = index.keys().copied().collect();
    syms.sort_unstable();
    for (i, s) in syms.iter().enumerate() {
        index.insert(s, i);
    }
    let mut buf = Vec::with_capacity(occs.len() * 6 + syms.len() * 24);
    buf.push(FORMAT_V2);
    put_front_coded(&mut buf, &syms);
    put_varint(&mut buf, occs.len() as u64);
    let mut base = 0;
    for o in occs {
        let mut flags = 0;
        if o.enclosing.is_some() {
            flags |= FLAG_ENCLOSING;
        }
        if !o.override_documentation.is_empty() {
            flags |= FLAG_OVERRIDE_DOCS;
        }
        let extra = flags != 0 || o.syntax_kind != 0;
        let mut packed = 0;
        if o.roles != 0 {
            packed |= PACKED_ROLES;
        }
        if extra {
            packed |= PACKED_EXTRA;
        }
        put_packed_range(&mut buf, &o.range, base, packed, PACKED_FLAG_BITS);
        base = o.range.start_line;
        let idx = index.get(o.symbol).copied().unwrap_or(0);
        put_varint(&mut buf, idx as u64);
        if o.roles != 0 {
            put_i32(&mut buf, o.roles);
        }
        if !extra {
            continue;
        }
        put_i32(&mut buf, o.syntax_kind);
        put_varint(&mut buf, flags);
        if let Some(e) = &o.enclosing {
            put_range(&mut buf, e, 0);
        }
        if !o.override_documentation.is_empty() {
            put_varint(&mut buf, o.override_documentation.len() as u64);
            for d in &o.override_documentation {
                put_str(&mut buf, d);
            }
        }
    }
    buf
}

pub fn decode_chunk(v: &[u8]) -> Result<DecodedChunk, DecodeError> {
    let mut r = Reader::new(v);
    let format = version_1_or_2(&mut r, "chunk")?;
    let symbols = get_front_coded(&mut r, "chunk symbols")?;
    let min_bytes = if format == FORMAT_V2 { 4 } else { 8 };
    let n = count(&mut r, min_bytes, "chunk occurrence count")?;
    let mut occurrences = Vec::with_capacity(n);
    let mut base = 0;
    for _ in 0..n {
        let (range, packed) = if format == FORMAT_V2 {
            get_packed_range(&mut r, base, PACKED_FLAG_BITS, "occurrence range")?
        } else {
            // Version 1: the plain range, then roles and the rare fields, always.
            let range = get_range(&mut r, base, "occurrence range")?;
            (range, PACKED_ROLES | PACKED_EXTRA)
        };
        base = range.start_line;
        let symbol = r.varint_max(symbols.len().saturating_sub(1) as u64, "symbol index")? as u32;
        if symbols.is_empty() {
            return Err(r.err("occurrence in a chunk without symbols"));
        }
        let roles = if packed & PACKED_ROLES != 0 {
            get_i32(&mut r, "roles")?
        } else {
            0
        };
        let (syntax_kind, flags) = if packed & PACKED_EXTRA != 0 {
            (
                get_i32(&mut r, "syntax kind")?,
                r.varint_max(3, "occurrence flags")?,
            )
        } else {
            (0, 0)
        };
        let enclosing = if flags & FLAG_ENCLOSING != 0 {
            Some(get_range(&mut r, 0, "enclosing range")?)
        } else {
            None
        };
        let mut override_documentation = Vec::new();
        if flags & FLAG_OVERRIDE_DOCS != 0 {
            let m = count(&mut r, 1, "override documentation count")?;
            for _ in 0..m {
                override_documentation.push(get_str(&mut r, "override documentation")?);
            }
        }
        occurrences.push(ChunkOccurrence {
            range,
            symbol,
            roles,
            syntax_kind,
            enclosing,
            override_documentation,
        });
    }
    if !r.is_empty() {
        return Err(r.err("trailing bytes after chunk"));
    }
    Ok(DecodedChunk {
        symbols,
        occurrences,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scip::store::codec::FORMAT_V1;

    /// Occurrences as ingest hands them to the chunk encoder.
    fn prepare<'a>(occs: impl IntoIterator<Item = &'a Occurrence>) -> Vec<PreparedOccurrence<'a>> {
        occs.into_iter()
            .map(|o| PreparedOccurrence::from_occurrence(o).unwrap())
            .collect()
    }

    #[test]
    fn chunk_round_trips_and_truncations_fail() {
        let a = Occurrence {
            range: vec![1, 2, 5],
            symbol: "scip-ts npm x 1 a.".into(),
            symbol_roles: 1,
            override_documentation: vec!["doc".into()],
            enclosing_range: vec![0, 0, 9, 1],
            ..Default::default()
        };
        let b = Occurrence {
            range: vec![4, 0, 6, 3],
            symbol: "local 3".into(),
            syntax_kind: 7,
            ..Default::default()
        };
        let prepared = prepare([&a, &b]);
        let v = encode_chunk(&prepared);
        let d = decode_chunk(&v).unwrap();
        assert_eq!(d.symbols.len(), 2);
        assert_eq!(d.occurrences.len(), 2);
        assert_eq!(d.symbols[d.occurrences[0].symbol as usize], a.symbol);
        assert_eq!(d.occurrences[0].override_documentation, vec!["doc"]);
        assert_eq!(
            d.occurrences[0].enclosing,
            Range::from_scip(&[0, 0, 9, 1]).ok()
        );
        assert_eq!(d.symbols[d.occurrences[1].symbol as usize], b.symbol);
        assert_eq!(
            d.occurrences[1].range,
            Range::from_scip(&[4, 0, 6, 3]).unwrap()
        );
        for cut in 0..v.len() {
            assert!(decode_chunk(&v[..cut]).is_err(), "cut {cut}");
        }
    }

    /// The version 1 layout, as stores written before schema version 2 hold it.
    fn encode_chunk_v1(occs: &[PreparedOccurrence<'_>]) -> Vec<u8> {
        let mut syms: Vec<&str> = occs.iter().map(|o| o.symbol).collect();
        syms.sort_unstable();
        syms.dedup();
        let mut buf = vec![FORMAT_V1];
        put_front_coded(&mut buf, &syms);
        put_varint(&mut buf, occs.len() as u64);
        let mut base = 0;
        for o in occs {
            put_range(&mut buf, &o.range, base);
            base = o.range.start_line;
            let idx = syms.binary_search(&o.symbol).unwrap();
            put_varint(&mut buf, idx as u64);
            put_i32(&mut buf, o.roles);
            put_i32(&mut buf, o.syntax_kind);
            let flags = u64::from(o.enclosing.is_some())
                | u64::from(!o.override_documentation.is_empty()) << 1;
            put_varint(&mut buf, flags);
            if let Some(e) = &o.enclosing {
                put_range(&mut buf, e, 0);
            }
            if flags & FLAG_OVERRIDE_DOCS != 0 {
                put_varint(&mut buf, o.override_documentation.len() as u64);
                for d in &o.override_documentation {
                    put_str(&mut buf, d);
                }
            }
        }
        buf
    }

    #[test]
    fn version_1_chunks_decode_as_version_2_ones() {
        let occs = [
            Occurrence {
                range: vec![0, 0, 3],
                symbol: "s a.".into(),
                ..Default::default()
            },
            Occurrence {
                range: vec![0, 5, 2, 1],
                symbol: "s b.".into(),
                symbol_roles: 9,
                ..Default::default()
            },
            Occurrence {
                range: vec![7, 300, 7, 4000],
                symbol: "s a.".into(),
                syntax_kind: 3,
                enclosing_range: vec![6, 0, 9, 0],
                ..Default::default()
            },
            Occurrence {
                range: vec![100_000, 1, 100_001, 0],
                symbol: "local 1".into(),
                symbol_roles: -1,
                override_documentation: vec!["x".into(), String::new()],
                ..Default::default()
            },
        ];
        let prepared = prepare(&occs);
        let v1 = encode_chunk_v1(&prepared);
        let v2 = encode_chunk(&prepared);
        assert_eq!(v2[0], FORMAT_V2);
        assert!(v2.len() < v1.len(), "{} >= {}", v2.len(), v1.len());
        let d = decode_chunk(&v2).unwrap();
        assert_eq!(decode_chunk(&v1).unwrap(), d);
        for (o, p) in d.occurrences.iter().zip(&prepared) {
            assert_eq!(o.range, p.range);
            assert_eq!(o.roles, p.roles);
            assert_eq!(o.syntax_kind, p.syntax_kind);
            assert_eq!(o.enclosing, p.enclosing);
            assert_eq!(o.override_documentation, p.override_documentation);
            assert_eq!(d.symbols[o.symbol as usize], p.symbol);
        }
        let mut v3 = v2.clone();
        v3[0] = 3;
        assert!(decode_chunk(&v3).is_err());
    }
}
