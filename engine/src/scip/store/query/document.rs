//! Per-document answers: outline and diagnostics, one point read each.

use crate::scip::store::diagnostics::decode_diagnostics;
use crate::scip::store::error::{StoreResult, decode};
use crate::scip::store::outline::{decode_outline, nest};
use crate::scip::store::types::{DiagnosticInfo, DocumentSymbol};
use crate::scip::store::{ScipStore, Target};

impl ScipStore {
    /// The document's definitions (locals excluded) nested by enclosing range.
    pub fn document_symbols(&self, t: &Target<'_>, path: &str) -> StoreResult<Vec<DocumentSymbol>> {
        let Some(r) = self.resolve(t)? else {
            return Ok(Vec::new());
        };
        let Some(h) = r.doc(path) else {
            return Ok(Vec::new());
        };
        let k = r.keys.outline(h);
        match r.snap.get(&k)? {
            Some(v) => Ok(nest(decode(&k, &v, decode_outline)?)),
            None => Ok(Vec::new()),
        }
    }

    /// Every diagnostic attached to the document's occurrences, in range order.
    pub fn diagnostics(&self, t: &Target<'_>, path: &str) -> StoreResult<Vec<DiagnosticInfo>> {
        let Some(r) = self.resolve(t)? else {
            return Ok(Vec::new());
        };
        let Some(h) = r.doc(path) else {
            return Ok(Vec::new());
        };
        let k = r.keys.diagnostics(h);
        match r.snap.get(&k)? {
            Some(v) => decode(&k, &v, decode_diagnostics),
            None => Ok(Vec::new()),
        }
    }
}
