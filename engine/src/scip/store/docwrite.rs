//! Turns one validated document into its content-addressed records.
//!
//! Everything written here is keyed by the document's hash, never by upload: a document
//! unchanged between versions is written once and shared (see `format-spec/scip-schema.md`
//! §Sharing). [`super::gc`] derives the same keys back from the records when the document
//! is no longer referenced, so the two must change together.

use std::collections::BTreeSet;

use foldhash::HashMap;
use std::collections::hash_map::Entry;

use prost::Message;
use xxhash_rust::xxh3::xxh3_128;

use crate::WriteBatch;
use crate::scip::constants::role;
use crate::scip::docview::{DocumentView, OccurrenceView};
use crate::scip::{Document, SymbolInformation, parse_symbol};

use super::chunk::{CHUNK_OCCURRENCES, PreparedOccurrence, encode_chunk};
use super::codec::{Posting, encode_postings};
use super::diagnostics::encode_diagnostics;
use super::error::StoreResult;
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
pub fn infos_by_symbol(symbols: &[SymbolInformation]) -> HashMap<&str, &SymbolInformation> {
    let mut m = HashMap::with_capacity_and_hasher(symbols.len(), Default::default());
    for s in symbols {
        m.entry(s.symbol.as_str()).or_insert(s);
    }
    m
}

/// Positions of the document's occurrences, stably sorted by range: the order chunks and
/// postings store. Four bytes per occurrence (a sorted copy of the 40-byte views would be
/// ten times that, and stable sorting it would take half as much again in scratch space).
pub fn sorted_order(doc: &DocumentView<'_>) -> Vec<u32> {
    let mut order: Vec<u32> = (0..doc.occurrences.len() as u32).collect();
    // Unstable on (range, position) is the stable order without the stable sort's buffer.
    order.sort_unstable_by_key(|&i| (doc.occurrences[i as usize].range, i));
    order
}

/// Adds the packages whose symbols `doc` defines (for cross-project resolution).
pub fn collect_packages(doc: &DocumentView<'_>, out: &mut BTreeSet<PackageKey>) {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for o in &doc.occurrences {
        if o.roles & role::DEFINITION == 0 || is_local(o.symbol) {
            continue;
        }
        // The package is the first four space-separated parts; skip symbols whose prefix was seen.
        let prefix_end = nth_part_end(o.symbol, 4);
        if !seen.insert(&o.symbol[..prefix_end]) {
            continue;
        }
        if let Ok(sym) = parse_symbol(o.symbol)
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

/// Where a document's records go. Ingest's sink commits whenever it holds
/// [`super::ingest`]'s batch size, so a large document is written in several batches; the
/// header is put last, so a stored header still means the whole document is stored.
pub trait RecordSink {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> StoreResult<()>;
}

impl RecordSink for WriteBatch {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> StoreResult<()> {
        WriteBatch::put(self, key, value);
        Ok(())
    }
}

/// End of a symbol's posting list in [`write_document`]'s linked lists.
const END: u32 = u32::MAX;

/// Puts every record of `doc` under `hash`, the symbol list first and the header last. `external` marks a batch of
/// external symbols: no workspace-search names, no path.
pub fn write_document(
    keys: &Keys,
    hash: DocHash,
    doc: &DocumentView<'_>,
    external: bool,
    out: &mut dyn RecordSink,
) -> StoreResult<()> {
    let order = sorted_order(doc);
    let occ = |i: u32| &doc.occurrences[i as usize];
    let infos = infos_by_symbol(&doc.symbols);
    let mut info_syms: Vec<&str> = infos.keys().copied().collect();
    info_syms.sort_unstable();

    // The symbol list first, for every document (even empty): records reach the engine in
    // order, so any record of a document that a crashed or failed upload left without its
    // header implies this one, from which GC finds and sweeps the rest.
    out.put(keys.info_list(hash), encode_list(&info_syms))?;

    // Chunks, keyed by the running maximum end line.
    let mut max_end = 0u32;
    let mut chunks = 0u32;
    let mut group = Vec::with_capacity(CHUNK_OCCURRENCES.min(order.len()));
    for ids in order.chunks(CHUNK_OCCURRENCES) {
        group.clear();
        for &i in ids {
            let o = occ(i);
            max_end = max_end.max(o.range.end_line);
            group.push(prepared(doc, o));
        }
        out.put(keys.chunk(hash, max_end, chunks), encode_chunk(&group))?;
        chunks += 1;
    }
    drop(group);

    // Postings per symbol in range order, as linked lists through `next` (indexed like
    // `order`): a map entry per distinct symbol and four bytes per occurrence, instead of a
    // growing vector of postings per symbol.
    let mut lists: HashMap<&str, (u32, u32)> = HashMap::default();
    let mut next = vec![END; order.len()];
    let mut outline = Vec::new();
    let mut diagnostics = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let o = occ(i);
        let k = k as u32;
        match lists.entry(o.symbol) {
            Entry::Occupied(mut e) => {
                next[e.get().1 as usize] = k;
                e.get_mut().1 = k;
            }
            Entry::Vacant(e) => {
                e.insert((k, k));
            }
        }
        let extra = doc.extra(o);
        if o.roles & role::DEFINITION != 0 && !is_local(o.symbol) {
            let info = infos.get(o.symbol).copied();
            outline.push(OutlineEntry {
                symbol: o.symbol.to_owned(),
                name: symbol_name(o.symbol, info),
                kind: info.map_or(0, |i| i.kind),
                range: o.range,
                enclosing: extra.and_then(|x| x.enclosing),
            });
        }
        for d in extra.iter().flat_map(|x| &x.diagnostics) {
            diagnostics.push((o.range, d));
        }
    }
    let mut list: Vec<Posting> = Vec::new();
    let mut defs: Vec<Posting> = Vec::new();
    // Definitions without `SymbolInformation` (scip-python emits none for classes) are
    // searchable too, by their descriptor name.
    let mut defined: Vec<&str> = Vec::new();
    for (&sym, &(head, _)) in &lists {
        list.clear();
        let mut k = head;
        while k != END {
            let o = occ(order[k as usize]);
            list.push(Posting {
                range: o.range,
                roles: o.roles,
            });
            k = next[k as usize];
        }
        out.put(
            keys.symbol_doc(tag::REFERENCES, sym, hash),
            encode_postings(&list),
        )?;
        defs.clear();
        defs.extend(list.iter().filter(|p| p.roles & role::DEFINITION != 0));
        if !defs.is_empty() {
            out.put(
                keys.symbol_doc(tag::DEFINITION, sym, hash),
                encode_postings(&defs),
            )?;
            if !external && !is_local(sym) && !infos.contains_key(sym) {
                defined.push(sym);
            }
        }
    }
    drop((list, defs, next, lists));

    // Symbol information, the reverse relationship index and workspace-search names.
    for sym in &info_syms {
        let info = infos[sym];
        out.put(keys.symbol_doc(tag::INFO, sym, hash), encode_info(info))?;
        for (target, flags) in merged_relationships(info) {
            out.put(keys.reverse(target, hash, sym), encode_flags(flags))?;
        }
        if !external && !is_local(sym) {
            let name = symbol_name(sym, Some(info));
            out.put(
                keys.name(&name.to_lowercase(), sym, hash),
                encode_name(info.kind, &name),
            )?;
        }
    }
    defined.sort_unstable();
    for sym in defined {
        let name = symbol_name(sym, None);
        out.put(
            keys.name(&name.to_lowercase(), sym, hash),
            encode_name(0, &name),
        )?;
    }
    if !outline.is_empty() {
        out.put(keys.outline(hash), encode_outline(&outline))?;
    }
    if !diagnostics.is_empty() {
        out.put(keys.diagnostics(hash), encode_diagnostics(&diagnostics))?;
    }
    let header = Header {
        path: doc.relative_path.to_owned(),
        language: doc.language.to_owned(),
        position_encoding: doc.position_encoding,
        occurrences: order.len() as u64,
        chunks: u64::from(chunks),
    };
    out.put(keys.header(hash), header.encode())
}

/// The chunk encoder's form of one occurrence.
fn prepared<'a>(doc: &'a DocumentView<'a>, o: &OccurrenceView<'a>) -> PreparedOccurrence<'a> {
    let extra = doc.extra(o);
    PreparedOccurrence {
        range: o.range,
        enclosing: extra.and_then(|x| x.enclosing),
        symbol: o.symbol,
        roles: o.roles,
        syntax_kind: extra.map_or(0, |x| x.syntax_kind),
        override_documentation: extra.map_or_else(Vec::new, |x| x.override_documentation.clone()),
    }
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
