//! Shared by the `scip_store_*` tests: seeds, store setup, and a plain in-memory reference
//! implementation of the queries over a fully decoded index.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::path::Path;

use scipkv_engine::scip::constants::role;
use scipkv_engine::scip::store::{Hover, Location, ScipStore, Span, hover_markdown, is_local};
use scipkv_engine::scip::{Document, IndexItem, IndexReader, Range, SymbolInformation};
use scipkv_engine::sstable::Codec;
use scipkv_engine::{Db, Options, SyncMode};

/// `SCIPKV_SEED` or a fresh one, printed for replay.
pub fn seed(test: &str) -> u64 {
    let seed = match std::env::var("SCIPKV_SEED") {
        Ok(v) => v.parse().expect("SCIPKV_SEED must be a u64"),
        Err(_) => RandomState::new().hash_one(test),
    };
    println!("{test}: seed {seed} (rerun with SCIPKV_SEED={seed})");
    seed
}

/// splitmix64.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A store for tests: the store's recommended layout, WAL fsync off (tests do not crash).
pub fn open_store(dir: &Path) -> ScipStore {
    let mut o: Options = ScipStore::recommended_options();
    o.sync = SyncMode::Never;
    o.table.codec = Codec::Zstd { level: 1 };
    ScipStore::from_db(Db::open(dir, o).unwrap())
}

type Scoped = (String, Option<String>);

/// An occurrence: range, symbol, roles, override documentation.
pub type Occ = (Range, String, i32, Vec<String>);

fn scoped(sym: &str, path: &str) -> Scoped {
    (sym.to_owned(), is_local(sym).then(|| path.to_owned()))
}

/// The whole index in HashMaps, answering queries the obvious way.
pub struct Reference {
    pub project: String,
    pub version: String,
    pub docs: Vec<Document>,
    /// Per document path: occurrences `(range, symbol, roles, override docs)`, stably
    /// sorted by range.
    occs: HashMap<String, Vec<Occ>>,
    by_symbol: HashMap<Scoped, Vec<(String, Range, i32)>>,
    /// (path or None for external, info); first per document.
    infos: HashMap<Scoped, Vec<(Option<String>, SymbolInformation)>>,
    /// target → (source, flags of the relationship).
    reverse: HashMap<Scoped, Vec<(Scoped, SymbolInformationFlags)>>,
}

#[derive(Clone, Copy, Debug)]
pub struct SymbolInformationFlags {
    pub is_reference: bool,
    pub is_implementation: bool,
    pub is_type_definition: bool,
}

impl Reference {
    pub fn load(file: &Path, project: &str, version: &str) -> Reference {
        let mut docs = Vec::new();
        let mut externals = Vec::new();
        for item in IndexReader::new(File::open(file).unwrap()).unwrap() {
            match item.unwrap() {
                IndexItem::Document(d) => docs.push(d),
                IndexItem::ExternalSymbol(s) => externals.push(s),
                IndexItem::Metadata(_) => {}
            }
        }
        let mut r = Reference {
            project: project.into(),
            version: version.into(),
            docs: Vec::new(),
            occs: HashMap::new(),
            by_symbol: HashMap::new(),
            infos: HashMap::new(),
            reverse: HashMap::new(),
        };
        for d in &docs {
            let path = &d.relative_path;
            let mut list: Vec<_> = d
                .occurrences
                .iter()
                .map(|o| {
                    (
                        Range::from_scip(&o.range).unwrap(),
                        o.symbol.clone(),
                        o.symbol_roles,
                        o.override_documentation.clone(),
                    )
                })
                .collect();
            list.sort_by_key(|o| o.0);
            for (range, sym, roles, _) in &list {
                r.by_symbol.entry(scoped(sym, path)).or_default().push((
                    path.clone(),
                    *range,
                    *roles,
                ));
            }
            r.occs.insert(path.clone(), list);
            let mut seen = BTreeSet::new();
            for info in &d.symbols {
                if seen.insert(info.symbol.clone()) {
                    r.add_info(Some(path), info);
                }
            }
        }
        for info in &externals {
            r.add_info(None, info);
        }
        r.docs = docs;
        r
    }

    fn add_info(&mut self, path: Option<&str>, info: &SymbolInformation) {
        let scope = |s: &str| {
            (
                s.to_owned(),
                path.filter(|_| is_local(s)).map(str::to_owned),
            )
        };
        self.infos
            .entry(scope(&info.symbol))
            .or_default()
            .push((path.map(str::to_owned), info.clone()));
        let mut done = BTreeSet::new();
        for rel in &info.relationships {
            if rel.symbol.is_empty() || !done.insert(rel.symbol.clone()) {
                continue;
            }
            // Flags of repeated targets are OR-ed, as the store does.
            let all: Vec<_> = info
                .relationships
                .iter()
                .filter(|x| x.symbol == rel.symbol)
                .collect();
            let flags = SymbolInformationFlags {
                is_reference: all.iter().any(|x| x.is_reference),
                is_implementation: all.iter().any(|x| x.is_implementation),
                is_type_definition: all.iter().any(|x| x.is_type_definition),
            };
            self.reverse
                .entry(scope(&rel.symbol))
                .or_default()
                .push((scope(&info.symbol), flags));
        }
    }

    fn loc(&self, path: &str, r: Range) -> Location {
        Location {
            project: self.project.clone(),
            version: self.version.clone(),
            path: path.to_owned(),
            range: r.into(),
        }
    }

    /// Occurrences at a position, innermost first.
    pub fn at(&self, path: &str, line: u32, ch: u32) -> Vec<Occ> {
        let mut v: Vec<_> = self.occs[path]
            .iter()
            .filter(|o| o.0.contains(line, ch))
            .cloned()
            .collect();
        v.sort_by_key(|o| {
            (
                Reverse((o.0.start_line, o.0.start_char)),
                (o.0.end_line, o.0.end_char),
            )
        });
        v
    }

    pub fn sorted_infos(&self, s: &Scoped) -> Vec<SymbolInformation> {
        let mut v = self.infos.get(s).cloned().unwrap_or_default();
        v.sort_by(|a, b| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)));
        v.into_iter().map(|x| x.1).collect()
    }

    pub fn definitions_of(&self, s: &Scoped) -> Vec<Location> {
        self.by_symbol
            .get(s)
            .into_iter()
            .flatten()
            .filter(|o| o.2 & role::DEFINITION != 0)
            .map(|o| self.loc(&o.0, o.1))
            .collect()
    }

    /// `s`, the targets of its `is_reference` relationships and the symbols whose
    /// `is_reference` relationships point at it.
    pub fn reference_family(&self, s: &Scoped, set: &mut BTreeSet<Scoped>) {
        set.insert(s.clone());
        for (path_of_info, info) in self.infos.get(s).into_iter().flatten() {
            for rel in &info.relationships {
                if rel.is_reference {
                    let p = path_of_info.clone().unwrap_or_default();
                    set.insert(scoped(&rel.symbol, &p));
                }
            }
        }
        for (src, f) in self.reverse.get(s).into_iter().flatten() {
            if f.is_reference {
                set.insert(src.clone());
            }
        }
    }

    pub fn references_of(&self, s: &Scoped, include_decl: bool) -> Vec<Location> {
        let mut set = BTreeSet::new();
        self.reference_family(s, &mut set);
        self.occurrences_of(&set, include_decl)
    }

    fn occurrences_of(&self, set: &BTreeSet<Scoped>, include_decl: bool) -> Vec<Location> {
        let mut places = BTreeSet::new();
        for m in set {
            for o in self.by_symbol.get(m).into_iter().flatten() {
                if include_decl || o.2 & role::DEFINITION == 0 {
                    places.insert((o.0.as_str(), o.1));
                }
            }
        }
        places.into_iter().map(|(p, r)| self.loc(p, r)).collect()
    }

    pub fn implementations_of(&self, s: &Scoped) -> Vec<Location> {
        let mut out = Vec::new();
        for (src, f) in self.reverse.get(s).into_iter().flatten() {
            if f.is_implementation {
                out.extend(self.definitions_of(src));
            }
        }
        out
    }

    pub fn type_definitions_of(&self, s: &Scoped) -> Vec<Location> {
        let mut out = Vec::new();
        for (path_of_info, info) in self.infos.get(s).into_iter().flatten() {
            for rel in &info.relationships {
                if rel.is_type_definition {
                    let p = path_of_info.clone().unwrap_or_default();
                    out.extend(self.definitions_of(&scoped(&rel.symbol, &p)));
                }
            }
        }
        out
    }

    fn merged(
        &self,
        path: &str,
        line: u32,
        ch: u32,
        f: impl Fn(&Scoped) -> Vec<Location>,
    ) -> Vec<Location> {
        let syms: BTreeSet<Scoped> = self
            .at(path, line, ch)
            .iter()
            .map(|o| scoped(&o.1, path))
            .collect();
        let mut v: Vec<Location> = syms.iter().flat_map(f).collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn definition(&self, path: &str, line: u32, ch: u32) -> Vec<Location> {
        self.merged(path, line, ch, |s| self.definitions_of(s))
    }

    pub fn references(&self, path: &str, line: u32, ch: u32, incl: bool) -> Vec<Location> {
        let mut set = BTreeSet::new();
        for o in self.at(path, line, ch) {
            self.reference_family(&scoped(&o.1, path), &mut set);
        }
        let mut v = self.occurrences_of(&set, incl);
        v.sort();
        v.dedup();
        v
    }

    pub fn implementations(&self, path: &str, line: u32, ch: u32) -> Vec<Location> {
        self.merged(path, line, ch, |s| self.implementations_of(s))
    }

    pub fn type_definition(&self, path: &str, line: u32, ch: u32) -> Vec<Location> {
        self.merged(path, line, ch, |s| self.type_definitions_of(s))
    }

    pub fn hover(&self, path: &str, line: u32, ch: u32) -> Option<Hover> {
        for (range, sym, _, docs) in self.at(path, line, ch) {
            let contents = if docs.is_empty() {
                self.sorted_infos(&scoped(&sym, path))
                    .iter()
                    .find_map(hover_markdown)
            } else {
                Some(docs.join("\n\n"))
            };
            if let Some(contents) = contents {
                return Some(Hover {
                    contents,
                    range: Some(Span::from(range)),
                });
            }
        }
        None
    }
}
