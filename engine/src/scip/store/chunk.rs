//! Chunks of a document's occurrences, sorted by range: what "occurrences at a position" reads.
//!
//! A document's occurrences are split into chunks of at most [`CHUNK_OCCURRENCES`], keyed by
//! the running maximum of their end lines, so a position lookup is one short range scan:
//! seek to the first chunk whose running maximum reaches the line, read until a chunk starts
//! after it. Byte layout: `format-spec/scip-schema.md` §CHUNK.

use crate::coding::{DecodeError, Reader, put_varint};
use crate::scip::{Occurrence, Range};

use super::codec::{
    FORMAT_V1, count, get_front_coded, get_i32, get_range, get_str, put_front_coded, put_i32,
    put_range, put_str, version,
};

/// Occurrences per chunk: small enough that decoding one is a few microseconds, large enough
/// that the per-chunk symbol table amortises.
pub const CHUNK_OCCURRENCES: usize = 128;

const FLAG_ENCLOSING: u64 = 1;
const FLAG_OVERRIDE_DOCS: u64 = 2;

/// An occurrence with its ranges decoded, borrowed from the document being ingested.
#[derive(Debug, Clone, Copy)]
pub struct PreparedOccurrence<'a> {
    pub range: Range,
    pub enclosing: Option<Range>,
    pub occ: &'a Occurrence,
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

/// Encodes occurrences already sorted by range.
pub fn encode_chunk(occs: &[PreparedOccurrence<'_>]) -> Vec<u8> {
    let mut syms: Vec<&str> = occs.iter().map(|o| o.occ.symbol.as_str()).collect();
    syms.sort_unstable();
    syms.dedup();
    let mut buf = Vec::with_capacity(occs.len() * 12 + syms.len() * 24);
    buf.push(FORMAT_V1);
    put_front_coded(&mut buf, &syms);
    put_varint(&mut buf, occs.len() as u64);
    let mut base = 0;
    for o in occs {
        put_range(&mut buf, &o.range, base);
        base = o.range.start_line;
        let idx = syms.binary_search(&o.occ.symbol.as_str()).unwrap_or(0);
        put_varint(&mut buf, idx as u64);
        put_i32(&mut buf, o.occ.symbol_roles);
        put_i32(&mut buf, o.occ.syntax_kind);
        let mut flags = 0;
        if o.enclosing.is_some() {
            flags |= FLAG_ENCLOSING;
        }
        if !o.occ.override_documentation.is_empty() {
            flags |= FLAG_OVERRIDE_DOCS;
        }
        put_varint(&mut buf, flags);
        if let Some(e) = &o.enclosing {
            put_range(&mut buf, e, 0);
        }
        if !o.occ.override_documentation.is_empty() {
            put_varint(&mut buf, o.occ.override_documentation.len() as u64);
            for d in &o.occ.override_documentation {
                put_str(&mut buf, d);
            }
        }
    }
    buf
}

pub fn decode_chunk(v: &[u8]) -> Result<DecodedChunk, DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "chunk")?;
    let symbols = get_front_coded(&mut r, "chunk symbols")?;
    let n = count(&mut r, 8, "chunk occurrence count")?;
    let mut occurrences = Vec::with_capacity(n);
    let mut base = 0;
    for _ in 0..n {
        let range = get_range(&mut r, base, "occurrence range")?;
        base = range.start_line;
        let symbol = r.varint_max(symbols.len().saturating_sub(1) as u64, "symbol index")? as u32;
        if symbols.is_empty() {
            return Err(r.err("occurrence in a chunk without symbols"));
        }
        let roles = get_i32(&mut r, "roles")?;
        let syntax_kind = get_i32(&mut r, "syntax kind")?;
        let flags = r.varint_max(3, "occurrence flags")?;
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
        let prepared: Vec<_> = [&a, &b]
            .iter()
            .map(|o| PreparedOccurrence {
                range: Range::from_scip(&o.range).unwrap(),
                enclosing: Range::from_scip(&o.enclosing_range).ok(),
                occ: o,
            })
            .collect();
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
}
