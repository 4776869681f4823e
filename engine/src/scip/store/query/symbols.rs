//! Definition, references, implementations and type definition, by position or by symbol.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::scip::constants::role;
use crate::scip::store::answers::AnswerKey;
use crate::scip::store::error::{StoreResult, decode};
use crate::scip::store::keys::DocHash;
use crate::scip::store::keys::{tag, take_hash, take_str};
use crate::scip::store::records::{UploadRecord, decode_flags, decode_u64, rel};
use crate::scip::store::types::{Location, Span};
use crate::scip::store::{Resolved, ScipStore, Target, is_local};
use crate::scip::{Range, parse_symbol};

use super::{SymRef, canonical};

impl Resolved {
    /// Definitions in this version only.
    pub fn definitions_here(&self, s: &SymRef) -> StoreResult<Vec<Location>> {
        let mut out = Vec::new();
        for (h, ps) in self.postings(tag::DEFINITION, s)?.iter() {
            out.extend(ps.iter().filter_map(|p| self.location(*h, p.range)));
        }
        Ok(out)
    }

    /// Stored versions (of any project, this one included: callers skip their own) that
    /// define a package: `(project, version)` from the `PACKAGE` index, checked against
    /// their live `UPLOAD` records. Cached per generation of the store's metadata writes
    /// (`meta.rs`): another project's upload or delete changes the answer, and advances the
    /// generation.
    pub fn providers(&self, pkg: &PackageName) -> StoreResult<Arc<Providers>> {
        let mut name = String::new();
        for part in [&pkg.0, &pkg.1, &pkg.2] {
            push_part(&mut name, part);
        }
        let key = AnswerKey {
            tenant: self.tenant_id,
            // Not an upload: the generation this query's snapshot was taken at.
            upload: self.meta_gen,
            kind: KIND_PROVIDERS,
            symbol: name,
            scope: None,
        };
        self.answers
            .get_or_load(key, || self.load_providers(pkg), Vec::len)
    }

    fn load_providers(&self, (manager, name, version): &PackageName) -> StoreResult<Providers> {
        let prefix = self.keys.package_prefix(manager, name, version);
        let mut out = Vec::new();
        for kv in self.snap.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let rest = &k[prefix.len()..];
            let Some((p, rest)) = take_str(rest) else {
                continue;
            };
            let Some((ver, _)) = take_str(rest) else {
                continue;
            };
            let (Ok(p), Ok(ver)) = (String::from_utf8(p), String::from_utf8(ver)) else {
                continue;
            };
            let id = decode(&k, &v, decode_u64)?;
            let uk = self.keys.upload(&p, &ver);
            let live = match self.snap.get(&uk)? {
                Some(u) => decode(&uk, &u, UploadRecord::decode)?.upload_id == id,
                None => false,
            };
            if live {
                out.push((p, ver));
            }
        }
        Ok(out)
    }

    /// Symbols related to `s` by `flag`, both ways: targets of its own relationships and
    /// sources whose relationships point at it (the reverse index).
    pub fn related(
        &self,
        s: &SymRef,
        flag: u8,
        forward: bool,
        reverse: bool,
    ) -> StoreResult<Arc<BTreeSet<SymRef>>> {
        // Tags are ASCII, so kinds with the high bit set never collide with them.
        let kind = 0x80 | flag | (u8::from(forward) << 5) | (u8::from(reverse) << 6);
        self.answers.get_or_load(
            self.answer_key(kind, s),
            || self.load_related(s, flag, forward, reverse),
            BTreeSet::len,
        )
    }

    fn load_related(
        &self,
        s: &SymRef,
        flag: u8,
        forward: bool,
        reverse: bool,
    ) -> StoreResult<BTreeSet<SymRef>> {
        let mut out = BTreeSet::new();
        if forward {
            for (h, info) in self.infos(s)?.iter() {
                for r in &info.relationships {
                    if crate::scip::store::docwrite::relationship_flags(r) & flag != 0 {
                        out.insert(SymRef::new(&r.symbol, Some(*h)));
                    }
                }
            }
        }
        if reverse && !s.unresolvable() {
            let prefix = match s.scope {
                Some(h) => self.keys.symbol_doc(tag::REVERSE, &s.symbol, h),
                None => self.keys.by_symbol(tag::REVERSE, &s.symbol),
            };
            let base = self.keys.by_symbol(tag::REVERSE, &s.symbol).len();
            for kv in self.snap.scan_prefix(&prefix) {
                let (k, v) = kv?;
                let Some((h, rest)) = take_hash(&k[base..]) else {
                    continue;
                };
                if !self.manifest.contains(h) || decode(&k, &v, decode_flags)? & flag == 0 {
                    continue;
                }
                let Some((src, _)) = take_str(rest) else {
                    continue;
                };
                let Ok(src) = String::from_utf8(src) else {
                    continue;
                };
                out.insert(SymRef::new(&src, Some(h)));
            }
        }
        Ok(out)
    }
}

impl ScipStore {
    /// Definitions of a symbol: in the version itself, else (for a global symbol) in the
    /// stored projects that define its package.
    pub(crate) fn definitions(&self, r: &Resolved, s: &SymRef) -> StoreResult<Vec<Location>> {
        Ok(self
            .plan_locations(r, &definition_plan(r, std::slice::from_ref(s))?)?
            .0)
    }

    /// The locations of a plan: its own places, and the definitions of its external
    /// symbols in the other projects that currently provide their packages; and whether
    /// there were any of the latter (the list is then no longer canonical).
    fn plan_locations(
        &self,
        r: &Resolved,
        plan: &DefinitionPlan,
    ) -> StoreResult<(Vec<Location>, bool)> {
        let mut out: Vec<Location> = plan
            .places
            .iter()
            .filter_map(|&(h, range)| r.location(h, range))
            .collect();
        for (pkg, syms) in &plan.external {
            for (p, v) in r.providers(pkg)?.iter() {
                if *p == r.project {
                    continue;
                }
                if let Some(other) = self.resolve(&Target::version(&r.tenant, p, v))? {
                    for s in syms {
                        out.extend(other.definitions_here(s)?);
                    }
                }
            }
        }
        let extra = out.len() > plan.places.len();
        Ok((out, extra))
    }

    pub(crate) fn references_of(
        &self,
        r: &Resolved,
        s: &SymRef,
        include_declaration: bool,
    ) -> StoreResult<Vec<Location>> {
        self.references_of_all(r, std::slice::from_ref(s), include_declaration)
    }

    /// References of several symbols at once: the union of their `is_reference` families is
    /// read once (where declaration merging puts dozens of related symbols at one position,
    /// reading per symbol would read the same family dozens of times).
    pub(crate) fn references_of_all(
        &self,
        r: &Resolved,
        syms: &[SymRef],
        include_declaration: bool,
    ) -> StoreResult<Vec<Location>> {
        // The answer depends only on the upload (no cross-project part), so the places of a
        // whole family are cached: hot families come back at every use of a merged
        // declaration. Bit 4 of the kind is never set by `related`'s kinds.
        let mut family = String::new();
        for s in syms {
            push_part(&mut family, &s.symbol);
            match s.scope {
                // A local's scope (its document) is part of its identity.
                Some(h) => push_part(&mut family, &format!("{h:x}")),
                None => family.push(';'),
            }
        }
        let key = AnswerKey {
            tenant: r.tenant_id,
            upload: r.upload,
            kind: 0xF0 | u8::from(include_declaration),
            symbol: family,
            scope: None,
        };
        let places = r.answers.get_or_load(
            key,
            || reference_places(r, syms, include_declaration),
            Vec::len,
        )?;
        Ok(places
            .iter()
            .filter_map(|&(h, range)| r.location(h, range))
            .collect())
    }

    pub(crate) fn implementations_of(
        &self,
        r: &Resolved,
        s: &SymRef,
    ) -> StoreResult<Vec<Location>> {
        let mut out = Vec::new();
        for m in r.related(s, rel::IS_IMPLEMENTATION, false, true)?.iter() {
            out.extend(r.definitions_here(m)?);
        }
        Ok(out)
    }

    pub(crate) fn type_definitions_of(
        &self,
        r: &Resolved,
        s: &SymRef,
    ) -> StoreResult<Vec<Location>> {
        let mut out = Vec::new();
        for m in r.related(s, rel::IS_TYPE_DEFINITION, true, false)?.iter() {
            out.extend(self.definitions(r, m)?);
        }
        Ok(out)
    }

    /// Applies `f` to every symbol at a position and merges the answers.
    fn at_position(
        &self,
        t: &Target<'_>,
        path: &str,
        line: u32,
        character: u32,
        f: impl Fn(&Resolved, &SymRef) -> StoreResult<Vec<Location>>,
    ) -> StoreResult<Vec<Location>> {
        let Some((r, h, found)) = self.at(t, path, line, character)? else {
            return Ok(Vec::new());
        };
        let syms: BTreeSet<SymRef> = found
            .iter()
            .map(|o| SymRef::new(&o.symbol, Some(h)))
            .collect();
        let mut out = Vec::new();
        for s in &syms {
            out.extend(f(&r, s)?);
        }
        Ok(canonical(out))
    }

    fn by_symbol_string(
        &self,
        t: &Target<'_>,
        symbol: &str,
        f: impl Fn(&Resolved, &SymRef) -> StoreResult<Vec<Location>>,
    ) -> StoreResult<Vec<Location>> {
        let Some(r) = self.resolve(t)? else {
            return Ok(Vec::new());
        };
        Ok(canonical(f(&r, &SymRef::new(symbol, None))?))
    }

    /// Where the symbols at a position are defined.
    pub fn definition(
        &self,
        t: &Target<'_>,
        path: &str,
        line: u32,
        character: u32,
    ) -> StoreResult<Vec<Location>> {
        let Some(r) = self.resolve(t)? else {
            return Ok(Vec::new());
        };
        let Some(h) = r.doc(path) else {
            return Ok(Vec::new());
        };
        // Two levels: the position's entry (on a hit the occurrence table is not searched)
        // points at its symbol set's plan, shared by every position of the set.
        let key = AnswerKey {
            tenant: r.tenant_id,
            upload: r.upload,
            kind: KIND_DEFINITION_AT,
            symbol: position_key(line, character),
            scope: Some(h),
        };
        let plan = r.answers.get_or_load(
            key,
            || self.definition_plan_at(&r, h, line, character),
            // The plan's full weight although the set's entry counts it too: the position
            // keeps the plan alive after that entry is evicted, and the bound must hold.
            |p: &Arc<DefinitionPlan>| p.weight(),
        )?;
        let (out, extra) = self.plan_locations(&r, &plan)?;
        // The plan's own places are already in canonical order.
        Ok(if extra { canonical(out) } else { out })
    }

    fn definition_plan_at(
        &self,
        r: &Resolved,
        h: DocHash,
        line: u32,
        character: u32,
    ) -> StoreResult<Arc<DefinitionPlan>> {
        let found = r.occurrences_at(&self.docs, h, line, character)?;
        // scip-typescript puts one occurrence per merged declaration at a position (~30
        // symbols on average in rxjs), so the whole set's plan is cached: on a hit no
        // symbol is looked up. A set's symbols are distinct strings; its locals are scoped
        // to this document, so the key carries the document only when there are locals.
        let mut names: Vec<&str> = found.iter().map(|f| f.symbol.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut family = String::new();
        for n in &names {
            push_part(&mut family, n);
        }
        let key = AnswerKey {
            tenant: r.tenant_id,
            upload: r.upload,
            kind: KIND_DEFINITION_PLAN,
            symbol: family,
            scope: names.iter().any(|n| is_local(n)).then_some(h),
        };
        r.answers.get_or_load(
            key,
            || {
                let syms: Vec<SymRef> = names.iter().map(|n| SymRef::new(n, Some(h))).collect();
                definition_plan(r, &syms)
            },
            DefinitionPlan::weight,
        )
    }

    /// Every occurrence of the symbols at a position, and of the symbols they share
    /// references with (`Relationship.is_reference`, both ways).
    pub fn references(
        &self,
        t: &Target<'_>,
        path: &str,
        line: u32,
        character: u32,
        include_declaration: bool,
    ) -> StoreResult<Vec<Location>> {
        let Some((r, h, found)) = self.at(t, path, line, character)? else {
            return Ok(Vec::new());
        };
        let syms: BTreeSet<SymRef> = found
            .iter()
            .map(|o| SymRef::new(&o.symbol, Some(h)))
            .collect();
        let syms: Vec<SymRef> = syms.into_iter().collect();
        Ok(canonical(self.references_of_all(
            &r,
            &syms,
            include_declaration,
        )?))
    }

    /// Definitions of the symbols that implement the symbols at a position.
    pub fn implementations(
        &self,
        t: &Target<'_>,
        path: &str,
        line: u32,
        character: u32,
    ) -> StoreResult<Vec<Location>> {
        self.at_position(t, path, line, character, |r, s| {
            self.implementations_of(r, s)
        })
    }

    /// Definitions of the types of the symbols at a position (`is_type_definition`).
    pub fn type_definition(
        &self,
        t: &Target<'_>,
        path: &str,
        line: u32,
        character: u32,
    ) -> StoreResult<Vec<Location>> {
        self.at_position(t, path, line, character, |r, s| {
            self.type_definitions_of(r, s)
        })
    }

    /// Definitions of a symbol given as a string (a local symbol has no document: `[]`).
    pub fn symbol_definition(&self, t: &Target<'_>, symbol: &str) -> StoreResult<Vec<Location>> {
        self.by_symbol_string(t, symbol, |r, s| self.definitions(r, s))
    }

    pub fn symbol_references(
        &self,
        t: &Target<'_>,
        symbol: &str,
        include_declaration: bool,
    ) -> StoreResult<Vec<Location>> {
        self.by_symbol_string(t, symbol, |r, s| {
            self.references_of(r, s, include_declaration)
        })
    }

    pub fn symbol_implementations(
        &self,
        t: &Target<'_>,
        symbol: &str,
    ) -> StoreResult<Vec<Location>> {
        self.by_symbol_string(t, symbol, |r, s| self.implementations_of(r, s))
    }

    pub fn symbol_type_definition(
        &self,
        t: &Target<'_>,
        symbol: &str,
    ) -> StoreResult<Vec<Location>> {
        self.by_symbol_string(t, symbol, |r, s| self.type_definitions_of(r, s))
    }
}

/// Every place (document, range) where the symbols or their `is_reference` relatives occur,
/// sorted and deduplicated.
fn reference_places(
    r: &Resolved,
    syms: &[SymRef],
    include_declaration: bool,
) -> StoreResult<Vec<(DocHash, Range)>> {
    let mut set = BTreeSet::new();
    for s in syms {
        set.extend(r.related(s, rel::IS_REFERENCE, true, true)?.iter().cloned());
        set.insert(s.clone());
    }
    // Merged declarations put one occurrence per declaration at the same range, so the raw
    // list repeats each place many times: deduplicate on (document, range) before building
    // locations.
    let mut places = Vec::new();
    for m in &set {
        for (h, ps) in r.postings(tag::REFERENCES, m)?.iter() {
            places.extend(
                ps.iter()
                    .filter(|p| include_declaration || p.roles & role::DEFINITION == 0)
                    .map(|p| (*h, p.range)),
            );
        }
    }
    places.sort_unstable();
    places.dedup();
    Ok(places)
}

/// Kinds of `AnswerKey`s for whole answers: bit 4 is never set by `related`'s kinds, and
/// references use `0xF0 | include_declaration`.
const KIND_DEFINITION_PLAN: u8 = 0xF2;
const KIND_PROVIDERS: u8 = 0xF3;
pub(super) const KIND_HOVER_PLAN: u8 = 0xF4;
const KIND_DEFINITION_AT: u8 = 0xF5;

/// A position as a cache key part: its eight little-endian bytes, one char each.
pub(super) fn position_key(line: u32, character: u32) -> String {
    line.to_le_bytes()
        .into_iter()
        .chain(character.to_le_bytes())
        .map(char::from)
        .collect()
}

/// A package named by global symbols: `(manager, name, version)`.
pub(crate) type PackageName = (String, String, String);

/// Stored `(project, version)`s that define a package.
pub(crate) type Providers = Vec<(String, String)>;

/// The package of a global symbol; `None` for a local or a symbol that does not parse.
pub(super) fn package_of(symbol: &str) -> Option<PackageName> {
    if is_local(symbol) {
        return None;
    }
    let sym = parse_symbol(symbol).ok()?;
    let (manager, name, version) = sym.package_key()?;
    Some((manager.to_owned(), name.to_owned(), version.to_owned()))
}

/// Appends `part` to a cache key so that the parts can be told apart: its length in hex
/// (least significant digit first), `:`, the part.
fn push_part(key: &mut String, part: &str) {
    let mut n = part.len();
    loop {
        key.push(char::from(b"0123456789abcdef"[n & 15]));
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    key.push(':');
    key.push_str(part);
}

/// What a set of symbols defines, for one upload: the places the upload itself defines
/// them, and the global symbols it does not define, grouped by package. Immutable per
/// upload; which projects provide those packages is not, so it is looked up per query.
#[derive(Debug, Default)]
pub(crate) struct DefinitionPlan {
    places: Vec<(DocHash, Range)>,
    external: Vec<(PackageName, Vec<SymRef>)>,
}

impl DefinitionPlan {
    fn weight(&self) -> usize {
        self.places.len()
            + self
                .external
                .iter()
                .map(|(_, s)| 1 + s.len())
                .sum::<usize>()
    }
}

fn definition_plan(r: &Resolved, syms: &[SymRef]) -> StoreResult<DefinitionPlan> {
    let mut places = Vec::new();
    let mut external: BTreeMap<PackageName, Vec<SymRef>> = BTreeMap::new();
    for s in syms {
        let before = places.len();
        for (h, ps) in r.postings(tag::DEFINITION, s)?.iter() {
            // Same filter as `Resolved::location`: only documents with a path count.
            if r.manifest.path(*h).is_some() {
                places.extend(ps.iter().map(|p| (*h, p.range)));
            }
        }
        if places.len() == before
            && s.scope.is_none()
            && let Some(pkg) = package_of(&s.symbol)
        {
            external.entry(pkg).or_default().push(s.clone());
        }
    }
    // Merged declarations share ranges: one place per (document, range). Sorted as
    // `canonical` sorts their locations (a document has one path in a version), so an
    // answer without other projects' part needs no sort.
    places.sort_unstable_by(|a, b| {
        (r.manifest.path(a.0), Span::from(a.1)).cmp(&(r.manifest.path(b.0), Span::from(b.1)))
    });
    places.dedup();
    Ok(DefinitionPlan {
        places,
        external: external.into_iter().collect(),
    })
}
