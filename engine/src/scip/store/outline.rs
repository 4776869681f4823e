//! `OUTLINE` record: a document's definitions with kinds and ranges, nested at query time.
//! Byte layout: `format-spec/scip-schema.md` §OUTLINE.

use crate::coding::{DecodeError, Reader, put_varint};
use crate::scip::Range;

use super::codec::{
    FORMAT_V1, count, get_i32, get_range, get_str, put_i32, put_range, put_str, version,
};
use super::types::DocumentSymbol;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineEntry {
    pub symbol: String,
    pub name: String,
    pub kind: i32,
    pub range: Range,
    pub enclosing: Option<Range>,
}

impl OutlineEntry {
    fn full(&self) -> Range {
        self.enclosing.unwrap_or(self.range)
    }
}

pub fn encode_outline(entries: &[OutlineEntry]) -> Vec<u8> {
    let mut b = vec![FORMAT_V1];
    put_varint(&mut b, entries.len() as u64);
    for e in entries {
        put_str(&mut b, &e.symbol);
        put_str(&mut b, &e.name);
        put_i32(&mut b, e.kind);
        put_range(&mut b, &e.range, 0);
        match &e.enclosing {
            Some(r) => {
                b.push(1);
                put_range(&mut b, r, 0);
            }
            None => b.push(0),
        }
    }
    b
}

pub fn decode_outline(v: &[u8]) -> Result<Vec<OutlineEntry>, DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "outline")?;
    let n = count(&mut r, 8, "outline count")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let symbol = get_str(&mut r, "outline symbol")?;
        let name = get_str(&mut r, "outline name")?;
        let kind = get_i32(&mut r, "outline kind")?;
        let range = get_range(&mut r, 0, "outline range")?;
        let enclosing = match r.u8("outline flag")? {
            0 => None,
            1 => Some(get_range(&mut r, 0, "outline enclosing range")?),
            f => return Err(r.err(format!("outline flag {f}"))),
        };
        out.push(OutlineEntry {
            symbol,
            name,
            kind,
            range,
            enclosing,
        });
    }
    Ok(out)
}

/// Nests entries: each becomes a child of the nearest earlier entry whose full range encloses
/// it. Built without recursion, so a deeply nested (or hostile) outline cannot overflow the
/// stack here.
pub fn nest(mut entries: Vec<OutlineEntry>) -> Vec<DocumentSymbol> {
    entries.sort_by(|a, b| {
        let (fa, fb) = (a.full(), b.full());
        (fa.start_line, fa.start_char)
            .cmp(&(fb.start_line, fb.start_char))
            .then((fb.end_line, fb.end_char).cmp(&(fa.end_line, fa.end_char)))
            .then(a.range.cmp(&b.range))
    });
    let n = entries.len();
    let mut parent: Vec<Option<usize>> = vec![None; n];
    let mut stack: Vec<usize> = Vec::new();
    for i in 0..n {
        let full = entries[i].full();
        while let Some(&top) = stack.last() {
            if entries[top].full().encloses(&full) {
                break;
            }
            stack.pop();
        }
        parent[i] = stack.last().copied();
        stack.push(i);
    }
    let mut children: Vec<Vec<DocumentSymbol>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    // Children have larger indices than their parent: build from the end.
    for i in (0..n).rev() {
        let e = &entries[i];
        let mut kids = std::mem::take(&mut children[i]);
        kids.reverse();
        let node = DocumentSymbol {
            symbol: e.symbol.clone(),
            name: e.name.clone(),
            kind: e.kind,
            range: e.full().into(),
            selection_range: e.range.into(),
            children: kids,
        };
        match parent[i] {
            Some(p) => children[p].push(node),
            None => roots.push(node),
        }
    }
    roots.reverse();
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(sym: &str, range: [i32; 3], enclosing: [i32; 4]) -> OutlineEntry {
        OutlineEntry {
            symbol: sym.into(),
            name: sym.into(),
            kind: 7,
            range: Range::from_scip(&range).unwrap(),
            enclosing: Some(Range::from_scip(&enclosing).unwrap()),
        }
    }

    #[test]
    fn nests_by_enclosing_range() {
        let entries = vec![
            e("m2", [5, 4, 6], [5, 0, 6, 0]),
            e("C", [1, 6, 7], [1, 0, 9, 0]),
            e("m1", [2, 4, 6], [2, 0, 4, 0]),
            e("f", [10, 0, 1], [10, 0, 11, 0]),
        ];
        let v = encode_outline(&entries);
        let out = nest(decode_outline(&v).unwrap());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].symbol, "C");
        let kids: Vec<_> = out[0].children.iter().map(|c| c.symbol.as_str()).collect();
        assert_eq!(kids, ["m1", "m2"]);
        assert_eq!(out[1].symbol, "f");
        for cut in 0..v.len() {
            assert!(decode_outline(&v[..cut]).is_err());
        }
    }
}
