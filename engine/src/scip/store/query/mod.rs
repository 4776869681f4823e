//! Queries. Each resolves the target version once, against one snapshot, then reads a
//! handful of keys: see `format-spec/scip-schema.md` §Queries for which.

mod document;
mod hover;
mod position;
mod projects;
mod symbols;
mod workspace;

use std::sync::Arc;

use prost::Message;

use crate::scip::store::answers::AnswerKey;

use crate::scip::store::codec::{Posting, decode_postings};
use crate::scip::store::error::{StoreResult, decode};
use crate::scip::store::keys::{DocHash, tag, take_hash};
use crate::scip::store::records::decode_info;
use crate::scip::store::types::Location;
use crate::scip::store::{Resolved, is_local};
use crate::scip::{Range, SymbolInformation};

pub use hover::hover_markdown;

/// A symbol's postings, per document of one version.
pub(crate) type DocPostings = Vec<(DocHash, Vec<Posting>)>;

/// A symbol and, for a local, the one document it lives in: a local never leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SymRef {
    pub symbol: String,
    pub scope: Option<DocHash>,
}

impl SymRef {
    /// `scope` is the document the symbol was seen in; kept only for locals.
    pub fn new(symbol: &str, seen_in: Option<DocHash>) -> Self {
        SymRef {
            symbol: symbol.to_owned(),
            scope: if is_local(symbol) { seen_in } else { None },
        }
    }

    /// A local symbol seen outside any document cannot be resolved.
    pub fn unresolvable(&self) -> bool {
        is_local(&self.symbol) && self.scope.is_none()
    }
}

impl Resolved {
    pub fn doc(&self, path: &str) -> Option<DocHash> {
        self.manifest.by_path.get(path).copied()
    }

    pub fn location(&self, hash: DocHash, range: Range) -> Option<Location> {
        Some(Location {
            project: self.project.clone(),
            version: self.version.clone(),
            // `String::from(&str)`, not `to_string()`: on an `Arc<str>` that goes through
            // the formatting machinery, ~300 instructions a location (callgrind).
            path: String::from(&**self.manifest.path(hash)?),
            range: range.into(),
        })
    }

    /// `(symbol, hash)` records of one kind for a symbol, restricted to this version's
    /// documents (and to its own document for a local).
    pub fn by_symbol(&self, tag: u8, s: &SymRef) -> StoreResult<Vec<(DocHash, Vec<u8>)>> {
        if s.unresolvable() {
            return Ok(Vec::new());
        }
        if let Some(h) = s.scope {
            if !self.manifest.contains(h) {
                return Ok(Vec::new());
            }
            let k = self.keys.symbol_doc(tag, &s.symbol, h);
            return Ok(self.snap.get(&k)?.map(|v| (h, v)).into_iter().collect());
        }
        let prefix = self.keys.by_symbol(tag, &s.symbol);
        let mut out = Vec::new();
        for kv in self.snap.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let Some((h, _)) = take_hash(&k[prefix.len()..]) else {
                continue;
            };
            if self.manifest.contains(h) {
                out.push((h, v));
            }
        }
        Ok(out)
    }

    /// Cache key of a per-symbol scan of this upload.
    pub fn answer_key(&self, kind: u8, s: &SymRef) -> AnswerKey {
        AnswerKey {
            tenant: self.tenant_id,
            upload: self.upload,
            kind,
            symbol: s.symbol.clone(),
            scope: s.scope,
        }
    }

    /// The symbol's `DEFINITION` or `REFERENCES` postings in this version, per document.
    pub fn postings(&self, tag: u8, s: &SymRef) -> StoreResult<Arc<DocPostings>> {
        self.answers.get_or_load(
            self.answer_key(tag, s),
            || {
                let key = self.keys.by_symbol(tag, &s.symbol);
                self.by_symbol(tag, s)?
                    .into_iter()
                    .map(|(h, v)| Ok((h, decode(&key, &v, decode_postings)?)))
                    .collect()
            },
            |v: &DocPostings| v.iter().map(|(_, p)| p.len() + 1).sum(),
        )
    }

    /// The symbol's `SymbolInformation` records in this version: documents by path, then
    /// external symbols. Hover and relationships read them in this order.
    pub fn infos(&self, s: &SymRef) -> StoreResult<Arc<Vec<(DocHash, SymbolInformation)>>> {
        self.answers.get_or_load(
            self.answer_key(tag::INFO, s),
            || self.load_infos(s),
            |v: &Vec<(DocHash, SymbolInformation)>| {
                v.iter().map(|(_, i)| 1 + i.encoded_len() / 16).sum()
            },
        )
    }

    fn load_infos(&self, s: &SymRef) -> StoreResult<Vec<(DocHash, SymbolInformation)>> {
        let key = self.keys.by_symbol(tag::INFO, &s.symbol);
        let mut v: Vec<(Option<Arc<str>>, DocHash, SymbolInformation)> = self
            .by_symbol(tag::INFO, s)?
            .into_iter()
            .map(|(h, v)| {
                Ok((
                    self.manifest.path(h).cloned(),
                    h,
                    decode(&key, &v, decode_info)?,
                ))
            })
            .collect::<StoreResult<_>>()?;
        v.sort_by(|a, b| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)));
        Ok(v.into_iter().map(|(_, h, i)| (h, i)).collect())
    }
}

/// Sorts and deduplicates locations: every list the API returns is in this canonical form.
pub(crate) fn canonical(mut v: Vec<Location>) -> Vec<Location> {
    v.sort();
    v.dedup();
    v
}
