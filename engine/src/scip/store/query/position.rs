//! Occurrences at a position: a binary search in the document's cached occurrence table.

use std::cmp::Reverse;

use crate::scip::store::chunk::ChunkOccurrence;
use crate::scip::store::doccache::DocCache;
use crate::scip::store::error::StoreResult;
use crate::scip::store::keys::DocHash;
use crate::scip::store::types::OccurrenceInfo;
use crate::scip::store::{Resolved, ScipStore, Target};

/// An occurrence found at a position, with its symbol string.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub symbol: String,
    pub occ: ChunkOccurrence,
}

impl Resolved {
    /// Occurrences whose range contains `(line, character)`, innermost first (latest start,
    /// then earliest end; ties in document range order).
    pub fn occurrences_at(
        &self,
        docs: &DocCache,
        hash: DocHash,
        line: u32,
        character: u32,
    ) -> StoreResult<Vec<Found>> {
        let d = docs.get(&self.snap, &self.keys, hash)?;
        let mut out: Vec<Found> = d
            .containing(line, character)
            .into_iter()
            .map(|i| {
                let o = &d.occurrences[i];
                Found {
                    // Not `to_string()`: formatting machinery on an `Arc<str>`.
                    symbol: String::from(&*d.symbols[o.symbol as usize]),
                    occ: o.clone(),
                }
            })
            .collect();
        out.sort_by_key(|f| {
            let r = f.occ.range;
            (
                Reverse((r.start_line, r.start_char)),
                (r.end_line, r.end_char),
            )
        });
        Ok(out)
    }
}

impl ScipStore {
    /// Resolves the target and the document, then finds the occurrences at the position.
    /// `None` when the version or document does not exist.
    pub(crate) fn at(
        &self,
        t: &Target<'_>,
        path: &str,
        line: u32,
        character: u32,
    ) -> StoreResult<Option<(Resolved, DocHash, Vec<Found>)>> {
        let Some(r) = self.resolve(t)? else {
            return Ok(None);
        };
        let Some(h) = r.doc(path) else {
            return Ok(None);
        };
        let found = r.occurrences_at(&self.docs, h, line, character)?;
        Ok(Some((r, h, found)))
    }

    /// The occurrences at a position, innermost first.
    pub fn occurrences(
        &self,
        t: &Target<'_>,
        path: &str,
        line: u32,
        character: u32,
    ) -> StoreResult<Vec<OccurrenceInfo>> {
        let Some((_, _, found)) = self.at(t, path, line, character)? else {
            return Ok(Vec::new());
        };
        Ok(found
            .into_iter()
            .map(|f| OccurrenceInfo {
                symbol: f.symbol,
                range: f.occ.range.into(),
                symbol_roles: f.occ.roles,
                syntax_kind: f.occ.syntax_kind,
                enclosing_range: f.occ.enclosing.map(Into::into),
                override_documentation: f.occ.override_documentation,
            })
            .collect())
    }
}
