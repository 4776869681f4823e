//! Workspace symbol search over the `NAME` index.
//!
//! Ranking: exact name (case-sensitive), exact ignoring case, prefix ignoring case, substring
//! ignoring case, then a match in the symbol's descriptors; ties by shorter name, name,
//! symbol. Exact and prefix matches come from one range scan; only when they do not fill
//! `limit` is the tenant's whole name index scanned for substrings (cost grows with the
//! number of stored names: a trigram index is the next step if that matters).

use std::collections::HashMap;

use crate::scip::store::error::{StoreResult, decode};
use crate::scip::store::keys::{DocHash, tag, take_hash, take_str_into};
use crate::scip::store::records::decode_name;
use crate::scip::store::types::WorkspaceSymbol;
use crate::scip::store::{Resolved, ScipStore, Target};

use super::SymRef;

#[derive(Debug)]
struct Hit {
    rank: u8,
    name: String,
    kind: i32,
}

impl ScipStore {
    pub fn workspace_symbols(
        &self,
        t: &Target<'_>,
        query: &str,
        limit: usize,
    ) -> StoreResult<Vec<WorkspaceSymbol>> {
        if query.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let Some(r) = self.resolve(t)? else {
            return Ok(Vec::new());
        };
        let lower = query.to_lowercase();
        let mut hits: HashMap<String, Hit> = HashMap::new();
        scan(&r, &r.keys.name_prefix(&lower), query, &lower, &mut hits)?;
        if hits.len() < limit {
            scan(&r, &r.keys.tag(tag::NAME), query, &lower, &mut hits)?;
        }
        let mut v: Vec<(String, Hit)> = hits.into_iter().collect();
        v.sort_by(|a, b| {
            (a.1.rank, a.1.name.len(), &a.1.name, &a.0).cmp(&(
                b.1.rank,
                b.1.name.len(),
                &b.1.name,
                &b.0,
            ))
        });
        v.truncate(limit);
        v.into_iter()
            .map(|(symbol, hit)| {
                let location = super::canonical(r.definitions_here(&SymRef::new(&symbol, None))?)
                    .into_iter()
                    .next();
                Ok(WorkspaceSymbol {
                    symbol,
                    name: hit.name,
                    kind: hit.kind,
                    location,
                })
            })
            .collect()
    }
}

fn scan(
    r: &Resolved,
    prefix: &[u8],
    query: &str,
    lower: &str,
    hits: &mut HashMap<String, Hit>,
) -> StoreResult<()> {
    let base = r.keys.tag(tag::NAME).len();
    let needle = lower.as_bytes();
    // Most entries of a substring scan match nothing: they are judged on the key's bytes,
    // unescaped into reused buffers, and only a match allocates, checks UTF-8 and decodes
    // the value (each entry used to cost two strings, a lowercased copy of its descriptors
    // and a decoded value).
    let (mut lname, mut sym, mut buf) = (Vec::new(), Vec::new(), Vec::new());
    for kv in r.snap.scan_prefix(prefix) {
        let (k, v) = kv?;
        let Some(rest) = take_str_into(&k[base..], &mut lname) else {
            continue;
        };
        let Some(rest) = take_str_into(rest, &mut sym) else {
            continue;
        };
        let Some((hash, _)) = take_hash(rest) else {
            continue;
        };
        if !r.manifest.contains(hash as DocHash) {
            continue;
        }
        // `lname` is the display name lowercased, so an exact match (rank 0) is among
        // the entries whose `lname` equals the lowercased query (rank 1).
        let rank = if lname == needle {
            1
        } else if lname.starts_with(needle) {
            2
        } else if contains(&lname, needle) {
            3
        } else if descriptors_contain(&sym, lower, &mut buf) {
            4
        } else {
            continue;
        };
        let (Ok(sym), Ok(_)) = (String::from_utf8(sym.clone()), std::str::from_utf8(&lname)) else {
            continue;
        };
        let (kind, name) = decode(&k, &v, decode_name)?;
        let rank = if rank == 1 && name == query { 0 } else { rank };
        let e = hits.entry(sym).or_insert(Hit {
            rank,
            name: name.clone(),
            kind,
        });
        if rank < e.rank {
            *e = Hit { rank, name, kind };
        }
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((first, rest)) = needle.split_first() else {
        return true;
    };
    // The first byte rejects nearly every position without a call to `memcmp`.
    haystack.len() >= needle.len()
        && (0..=haystack.len() - needle.len())
            .any(|i| haystack[i] == *first && haystack[i + 1..i + needle.len()] == *rest)
}

/// Whether the lowercased descriptors of `sym` contain `lower`. ASCII symbols (nearly all)
/// are lowercased byte by byte on the fly; others go through `str::to_lowercase`, whose
/// Unicode rules can turn a non-ASCII character into an ASCII one (the Kelvin sign into
/// `k`).
fn descriptors_contain(sym: &[u8], lower: &str, buf: &mut Vec<u8>) -> bool {
    let Ok(sym) = std::str::from_utf8(sym) else {
        return false;
    };
    let d = descriptors(sym);
    if !d.is_ascii() {
        return d.to_lowercase().contains(lower);
    }
    buf.clear();
    buf.extend(d.bytes().map(|b| b.to_ascii_lowercase()));
    contains(buf, lower.as_bytes())
}

/// The descriptor part of a global symbol (after scheme and package), e.g.
/// `django/db/models/query/QuerySet#filter().`.
fn descriptors(sym: &str) -> &str {
    let b = sym.as_bytes();
    let (mut i, mut parts) = (0, 0);
    while i < b.len() {
        if b[i] == b' ' {
            if b.get(i + 1) == Some(&b' ') {
                i += 2;
                continue;
            }
            parts += 1;
            if parts == 4 {
                return &sym[i + 1..];
            }
        }
        i += 1;
    }
    sym
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-level matching must agree with the plain definition on every input,
    /// including non-ASCII symbols whose lowercase gains ASCII letters.
    #[test]
    fn descriptor_match_agrees_with_lowercasing_the_descriptors() {
        let syms = [
            "scip-python python django 5.1.4 django/db/models/QuerySet#filter().",
            "scip-typescript npm rxjs 7.8.1 src/`Observable.ts`/Observable#pipe().",
            "local 3",
            "a b c d E\u{212A}elvin#",
            "a b c d Ünïcödé#Straße.",
            "a  b c d e#",
            "",
        ];
        let queries = [
            "",
            "q",
            "queryset#f",
            "observable#pipe",
            "kelvin",
            "e\u{212A}",
            "ünï",
            "straße",
            "c d e",
            "#",
            "zzz",
        ];
        for sym in syms {
            for q in queries {
                let lower = q.to_lowercase();
                let want = descriptors(sym).to_lowercase().contains(&lower);
                assert_eq!(
                    descriptors_contain(sym.as_bytes(), &lower, &mut Vec::new()),
                    want,
                    "{sym:?} / {q:?}"
                );
                assert_eq!(
                    contains(sym.as_bytes(), lower.as_bytes()),
                    sym.contains(&lower),
                    "{sym:?} / {q:?}"
                );
            }
        }
    }
}
