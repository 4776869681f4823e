//! Hover: an occurrence's `override_documentation` wins; otherwise the symbol's signature
//! and documentation from the first `SymbolInformation` (documents by path, then externals)
//! that has any, else the same from the project defining the symbol's package.

use crate::scip::SymbolInformation;
use crate::scip::store::error::StoreResult;
use crate::scip::store::types::Hover;
use crate::scip::store::{Resolved, ScipStore, Target};

use super::SymRef;
use super::symbols::{KIND_HOVER_PLAN, PackageName, package_of, position_key};
use crate::scip::store::answers::AnswerKey;
use crate::scip::store::keys::DocHash;
use crate::scip::store::types::Span;

/// What one upload shows at a position: the innermost occurrence with something to show
/// (`own`), and before it, innermost first, the global symbols with nothing to show here,
/// whose package's other providers are asked first.
#[derive(Debug, Default)]
struct HoverPlan {
    external: Vec<(PackageName, SymRef, Span)>,
    own: Option<Hover>,
}

impl HoverPlan {
    fn weight(&self) -> usize {
        1 + self.external.len() + self.own.as_ref().map_or(0, |h| h.contents.len() / 16)
    }
}

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
        if let Some(md) = self.own_markdown(r, s)? {
            return Ok(Some(md));
        }
        if s.scope.is_some() {
            return Ok(None);
        }
        match package_of(&s.symbol) {
            Some(pkg) => self.provided_markdown(r, &pkg, s),
            None => Ok(None),
        }
    }

    /// From this version's `SymbolInformation`s.
    fn own_markdown(&self, r: &Resolved, s: &SymRef) -> StoreResult<Option<String>> {
        Ok(r.infos(s)?
            .iter()
            .find_map(|(_, info)| hover_markdown(info)))
    }

    /// From the other stored projects that currently provide the symbol's package.
    fn provided_markdown(
        &self,
        r: &Resolved,
        pkg: &PackageName,
        s: &SymRef,
    ) -> StoreResult<Option<String>> {
        for (p, v) in r.providers(pkg)?.iter() {
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
        let Some(r) = self.resolve(t)? else {
            return Ok(None);
        };
        let Some(h) = r.doc(path) else {
            return Ok(None);
        };
        // What this upload shows at the position never changes, so it is cached (on a hit
        // the occurrence table is not searched and no markdown is built); only the other
        // projects' part is looked up per query.
        let key = AnswerKey {
            tenant: r.tenant_id,
            upload: r.upload,
            kind: KIND_HOVER_PLAN,
            symbol: position_key(line, character),
            scope: Some(h),
        };
        let plan = r.answers.get_or_load(
            key,
            || self.hover_plan(&r, h, line, character),
            HoverPlan::weight,
        )?;
        for (pkg, s, range) in &plan.external {
            if let Some(contents) = self.provided_markdown(&r, pkg, s)? {
                return Ok(Some(Hover {
                    contents,
                    range: Some(*range),
                }));
            }
        }
        Ok(plan.own.clone())
    }

    fn hover_plan(
        &self,
        r: &Resolved,
        h: DocHash,
        line: u32,
        character: u32,
    ) -> StoreResult<HoverPlan> {
        let mut plan = HoverPlan::default();
        for f in r.occurrences_at(&self.docs, h, line, character)? {
            let s = SymRef::new(&f.symbol, Some(h));
            let contents = if f.occ.override_documentation.is_empty() {
                self.own_markdown(r, &s)?
            } else {
                Some(f.occ.override_documentation.join("\n\n"))
            };
            if let Some(contents) = contents {
                plan.own = Some(Hover {
                    contents,
                    range: Some(f.occ.range.into()),
                });
                break;
            }
            if s.scope.is_none()
                && let Some(pkg) = package_of(&s.symbol)
            {
                plan.external.push((pkg, s, f.occ.range.into()));
            }
        }
        Ok(plan)
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
