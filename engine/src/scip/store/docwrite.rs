//! Turns one validated document into its content-addressed records.
//!
//! Everything written here is keyed by the document's hash, never by upload: a document
//! unchanged between versions is written once and shared (see `format-spec/scip-schema.md`
//! §Sharing). [`super::gc`] derives the same keys back from the records when the document
//! is no longer referenced, so the two must change together.

use std::collections::BTreeSet;

use foldhash::HashMap;

use prost::Message;
use xxhash_rust::xxh3::xxh3_128;

use crate::WriteBatch;
use crate::scip::constants::role;
use crate::scip::{Document, Range, SymbolInformation, parse_symbol};

use super::chunk::{CHUNK_OCCURRENCES, PreparedOccurrence, encode_chunk};
use super::codec::{Posting, encode_postings};
use super::diagnostics::encode_diagnostics;
use super::keys::{DocHash, Keys, PackageKey, tag};
use super::outline::{OutlineEntry, encode_outline};
use super::records::{Header, encode_flags, encode_info, encode_list, encode_name, rel};

/// Content address of a document read from an index: xxh3-128 of its protobuf bytes as the
/// index holds them ([`crate::scip::IndexReader::last_payload`]). Hashing what was read
/// avoids encoding every document again (4.7% of ingest's instructions).
pub fn payload_hash(payload: &[u8]) -> DocHash {
    xxh3_128(payload)
}

/// Content address of a document built in memory (a batch of external symbols): xxh3-128 of
/// its prost encoding.
pub fn document_hash(doc: &Document) -> DocHash {
    xxh3_128(&doc.encode_to_vec())
}

pub fn is_local(symbol: &str) -> bool {
    symbol.starts_with("local ")
}

/// The name a symbol is searched and outlined by: the indexer's display name, else the last
/// descriptor's name, else the symbol string itself.
pub fn symbol_name(symbol: &str, info: Option<&SymbolInformation>) -> String {
    if let Some(i) = info
        && !i.display_name.is_empty()
    {
        return i.display_name.clone();
    }
    match parse_symbol(symbol) {
        Ok(s) => s.display_name().unwrap_or(symbol).to_owned(),
        Err(_) => symbol.to_owned(),
    }
}

/// Relationship flags as stored in `REVERSE` values.
pub fn relationship_flags(r: &crate::scip::Relationship) -> u8 {
    let mut f = 0;
    if r.is_reference {
        f |= rel::IS_REFERENCE;
    }
    if r.is_implementation {
        f |= rel::IS_IMPLEMENTATION;
    }
    if r.is_type_definition {
        f |= rel::IS_TYPE_DEFINITION;
    }
    if r.is_definition {
        f |= rel::IS_DEFINITION;
    }
    f
}

/// The first `SymbolInformation` per symbol in document order; later duplicates are ignored
/// (queries and the spec agree on "first wins").
pub fn infos_by_symbol(doc: &Document) -> HashMap<&str, &SymbolInformation> {
    let mut m = HashMap::with_capacity_and_hasher(doc.symbols.len(), Default::default());
    for s in &doc.symbols {
        m.entry(s.symbol.as_str()).or_insert(s);
    }
    m
}

/// Occurrences with decoded ranges, stably sorted by range: the order chunks store.
/// The document must have passed `validate_document`, so ranges decode.
pub fn prepared_occurrences(doc: &Document) -> Vec<PreparedOccurrence<'_>> {
    let mut occs: Vec<_> = doc
        .occurrences
        .iter()
        .filter_map(|o| {
            Some(PreparedOccurrence {
                range: Range::from_scip(&o.range).ok()?,
                enclosing: if o.enclosing_range.is_empty() {
                    None
                } else {
                    Range::from_scip(&o.enclosing_range).ok()
                },
                occ: o,
            })
        })
        .collect();
    occs.sort_by_key(|o| o.range);
    occs
}

/// Adds the packages whose symbols `doc` defines (for cross-project resolution).
pub fn collect_packages(doc: &Document, out: &mut BTreeSet<PackageKey>) {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for o in &doc.occurrences {
        if o.symbol_roles & role::DEFINITION == 0 || is_local(&o.symbol) {
            continue;
        }
        // The package is the first four space-separated parts; skip symbols whose prefix was seen.
        let prefix_end = nth_part_end(&o.symbol, 4);
        if !seen.insert(&o.symbol[..prefix_end]) {
            continue;
        }
        if let Ok(sym) = parse_symbol(&o.symbol)
            && let Some((manager, name, version)) = sym.package_key()
        {
            out.insert(PackageKey {
                manager: manager.into(),
                name: name.into(),
                version: version.into(),
            });
        }
    }
}

/// Byte offset where the `n`-th space-separated part of a symbol ends (a doubled space is an
/// escaped space inside a part).
fn nth_part_end(s: &str, n: usize) -> usize {
    let b = s.as_bytes();
    let (mut i, mut parts) = (0, 0);
    while i < b.len() {
        if b[i] == b' ' {
            if b.get(i + 1) == Some(&b' ') {
                i += 2;
                continue;
            }
            parts += 1;
            if parts == n {
                return i;
            }
        }
        i += 1;
    }
    b.len()
}

/// Appends every record of `doc` under `hash` to `batch`. `external` marks a batch of
/// external symbols: no workspace-search names, no path.
pub fn write_document(
    keys: &Keys,
    hash: DocHash,
    doc: &Document,
    external: bool,
    batch: &mut WriteBatch,
) {
    let occs = prepared_occurrences(doc);
    let infos = infos_by_symbol(doc);

    // Chunks, keyed by the running maximum end line.
    let mut max_end = 0u32;
    let mut chunks = 0u32;
    for group in occs.chunks(CHUNK_OCCURRENCES) {
        for o in group {
            max_end = max_end.max(o.range.end_line);
        }
        batch.put(keys.chunk(hash, max_end, chunks), encode_chunk(group));
        chunks += 1;
    }

    // Postings per symbol, in range order.
    let mut postings: HashMap<&str, Vec<Posting>> = HashMap::default();
    let mut outline = Vec::new();
    let mut diagnostics = Vec::new();
    for o in &occs {
        postings
            .entry(o.occ.symbol.as_str())
            .or_default()
            .push(Posting {
                range: o.range,
                roles: o.occ.symbol_roles,
            });
        if o.occ.symbol_roles & role::DEFINITION != 0 && !is_local(&o.occ.symbol) {
            let info = infos.get(o.occ.symbol.as_str()).copied();
            outline.push(OutlineEntry {
                symbol: o.occ.symbol.clone(),
                name: symbol_name(&o.occ.symbol, info),
                kind: info.map_or(0, |i| i.kind),
                range: o.range,
                enclosing: o.enclosing,
            });
        }
        for d in &o.occ.diagnostics {
            diagnostics.push((o.range, d));
        }
    }
    for (sym, list) in &postings {
        batch.put(
            keys.symbol_doc(tag::REFERENCES, sym, hash),
            encode_postings(list),
        );
        let defs: Vec<Posting> = list
            .iter()
            .filter(|p| p.roles & role::DEFINITION != 0)
            .copied()
            .collect();
        if !defs.is_empty() {
            batch.put(
                keys.symbol_doc(tag::DEFINITION, sym, hash),
                encode_postings(&defs),
            );
        }
    }

    // Symbol information, the reverse relationship index and workspace-search names.
    let mut info_syms: Vec<&str> = infos.keys().copied().collect();
    info_syms.sort_unstable();
    for sym in &info_syms {
        let info = infos[sym];
        batch.put(keys.symbol_doc(tag::INFO, sym, hash), encode_info(info));
        for (target, flags) in merged_relationships(info) {
            batch.put(keys.reverse(target, hash, sym), encode_flags(flags));
        }
        if !external && !is_local(sym) {
            let name = symbol_name(sym, Some(info));
            batch.put(
                keys.name(&name.to_lowercase(), sym, hash),
                encode_name(info.kind, &name),
            );
        }
    }
    // Definitions without `SymbolInformation` (scip-python emits none for classes) are
    // searchable too, by their descriptor name.
    if !external {
        let mut defined: Vec<&str> = postings
            .iter()
            .filter(|(sym, list)| {
                !is_local(sym)
                    && !infos.contains_key(*sym)
                    && list.iter().any(|p| p.roles & role::DEFINITION != 0)
            })
            .map(|(sym, _)| *sym)
            .collect();
        defined.sort_unstable();
        for sym in defined {
            let name = symbol_name(sym, None);
            batch.put(
                keys.name(&name.to_lowercase(), sym, hash),
                encode_name(0, &name),
            );
        }
    }
    if !info_syms.is_empty() {
        batch.put(keys.info_list(hash), encode_list(&info_syms));
    }
    if !outline.is_empty() {
        batch.put(keys.outline(hash), encode_outline(&outline));
    }
    if !diagnostics.is_empty() {
        batch.put(keys.diagnostics(hash), encode_diagnostics(&diagnostics));
    }
    let header = Header {
        path: doc.relative_path.clone(),
        language: doc.language.clone(),
        position_encoding: doc.position_encoding,
        occurrences: occs.len() as u64,
        chunks: u64::from(chunks),
    };
    batch.put(keys.header(hash), header.encode());
}

/// A symbol's relationships with the flags of repeated targets OR-ed together (one `REVERSE`
/// key per (target, source) pair).
pub fn merged_relationships(info: &SymbolInformation) -> Vec<(&str, u8)> {
    let mut m: Vec<(&str, u8)> = Vec::new();
    for r in &info.relationships {
        if r.symbol.is_empty() {
            continue;
        }
        match m.iter_mut().find(|(t, _)| *t == r.symbol) {
            Some(e) => e.1 |= relationship_flags(r),
            None => m.push((r.symbol.as_str(), relationship_flags(r))),
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_prefix_respects_escaped_spaces() {
        assert_eq!(nth_part_end("a b c d e#", 4), 7);
        assert_eq!(nth_part_end("a b  x c d e#", 4), 10);
        assert_eq!(nth_part_end("local 1", 4), 7);
    }
}
