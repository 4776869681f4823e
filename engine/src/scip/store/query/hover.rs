//! Hover: an occurrence's `override_documentation` wins; otherwise the symbol's signature
//! and documentation from the first `SymbolInformation` (documents by path, then externals)
//! that has any, else the same from the project defining the symbol's package.

use crate::scip::SymbolInformation;
use crate::scip::store::error::StoreResult;
use crate::scip::store::types::Hover;
use crate::scip::store::{Resolved, ScipStore, Target};

use super::SymRef;

/// The markdown shown for a symbol: its signature as a fenced code block, then each
/// documentation paragraph, separated by blank lines. `None` when it has neither.
pub fn hover_markdown(info: &SymbolInformation) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(sig) = &info.signature_documentation
        && !sig.text.is_empty()
    {
        parts.push(format!("```{}\n{}\n```", sig.language, sig.text));
    }
    parts.extend(info.documentation.iter().filter(|d| !d.is_empty()).cloned());
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

impl ScipStore {
    fn symbol_markdown(&self, r: &Resolved, s: &SymRef) -> StoreResult<Option<String>> {
        for (_, info) in r.infos(s)?.iter() {
            if let Some(md) = hover_markdown(info) {
                return Ok(Some(md));
            }
        }
        if s.scope.is_some() {
            return Ok(None);
        }
        for (p, v) in r.package_providers(&s.symbol)?.iter() {
            if *p == r.project {
                continue;
            }
            if let Some(other) = self.resolve(&Target::version(&r.tenant, p, v))? {
                for (_, info) in other.infos(s)?.iter() {
                    if let Some(md) = hover_markdown(info) {
                        return Ok(Some(md));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Hover for the innermost occurrence at a position that has something to show.
    pub fn hover(
        &self,
        t: &Target<'_>,
        path: &str,
        line: u32,
        character: u32,
    ) -> StoreResult<Option<Hover>> {
        let Some((r, h, found)) = self.at(t, path, line, character)? else {
            return Ok(None);
        };
        for f in found {
            let contents = if f.occ.override_documentation.is_empty() {
                self.symbol_markdown(&r, &SymRef::new(&f.symbol, Some(h)))?
            } else {
                Some(f.occ.override_documentation.join("\n\n"))
            };
            if let Some(contents) = contents {
                return Ok(Some(Hover {
                    contents,
                    range: Some(f.occ.range.into()),
                }));
            }
        }
        Ok(None)
    }

    /// Hover for a symbol given as a string; `range` is `null`.
    pub fn symbol_hover(&self, t: &Target<'_>, symbol: &str) -> StoreResult<Option<Hover>> {
        let Some(r) = self.resolve(t)? else {
            return Ok(None);
        };
        Ok(self
            .symbol_markdown(&r, &SymRef::new(symbol, None))?
            .map(|contents| Hover {
                contents,
                range: None,
            }))
    }
}
