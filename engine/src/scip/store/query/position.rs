//! Occurrences at a position: one short scan of the document's chunks.

use std::cmp::Reverse;

use crate::scip::store::chunk::{ChunkOccurrence, decode_chunk};
use crate::scip::store::error::{StoreResult, decode};
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
        hash: DocHash,
        line: u32,
        character: u32,
    ) -> StoreResult<Vec<Found>> {
        let prefix = self.keys.chunks(hash);
        // Chunks are keyed by the running maximum of end lines: every chunk before the first
        // key >= line ends before the line.
        let start = self.keys.chunk(hash, line, 0);
        let mut out = Vec::new();
        for kv in self.snap.iter(start..) {
            let (k, v) = kv?;
            if !k.starts_with(&prefix) {
                break;
            }
            let chunk = decode(&k, &v, decode_chunk)?;
            if chunk
                .occurrences
                .first()
                .is_some_and(|o| o.range.start_line > line)
            {
                break;
            }
            for o in chunk.occurrences {
                if o.range.contains(line, character) {
                    out.push(Found {
                        symbol: chunk.symbols[o.symbol as usize].clone(),
                        occ: o,
                    });
                }
            }
        }
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
        let found = r.occurrences_at(h, line, character)?;
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
