//! Workspace symbol search over the `NAME` index.
//!
//! Ranking: exact name (case-sensitive), exact ignoring case, prefix ignoring case, substring
//! ignoring case, then a match in the symbol's descriptors; ties by shorter name, name,
//! symbol. Exact and prefix matches come from one range scan; only when they do not fill
//! `limit` is the tenant's whole name index scanned for substrings (cost grows with the
//! number of stored names: a trigram index is the next step if that matters).

use std::collections::HashMap;

use crate::scip::store::error::{StoreResult, decode};
use crate::scip::store::keys::{DocHash, tag, take_hash, take_str};
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
    for kv in r.snap.scan_prefix(prefix) {
        let (k, v) = kv?;
        let Some((lname, rest)) = take_str(&k[base..]) else {
            continue;
        };
        let Some((sym, rest)) = take_str(rest) else {
            continue;
        };
        let Some((hash, _)) = take_hash(rest) else {
            continue;
        };
        if !r.manifest.contains(hash as DocHash) {
            continue;
        }
        let (Ok(lname), Ok(sym)) = (String::from_utf8(lname), String::from_utf8(sym)) else {
            continue;
        };
        let (kind, name) = decode(&k, &v, decode_name)?;
        let rank = if name == query {
            0
        } else if lname == lower {
            1
        } else if lname.starts_with(lower) {
            2
        } else if lname.contains(lower) {
            3
        } else if descriptors(&sym).to_lowercase().contains(lower) {
            4
        } else {
            continue;
        };
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
