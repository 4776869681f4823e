//! The SCIP API's operations and their JSON, in one place: the `scipkv` CLI and the HTTP
//! front-end both call these, so a query answers with the same bytes either way. Shapes:
//! locations `{"project","version","path","range"}`, hover `{"contents","range"}`, lists
//! as arrays; no answer is `[]` or `null`, not an error.

use scipkv_engine::scip::store::{Location, ScipStore, StoreError, StoreResult, Target};
use serde::Serialize;

/// One query against one stored version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Definition(At),
    References {
        at: At,
        include_declaration: bool,
    },
    Implementations(At),
    TypeDefinition(At),
    Hover(At),
    /// Occurrences at a position, innermost first.
    Occurrences(At),
    DocumentSymbols {
        path: String,
    },
    Diagnostics {
        path: String,
    },
    WorkspaceSymbols {
        query: String,
        limit: usize,
    },
    SymbolDefinition {
        symbol: String,
    },
    SymbolReferences {
        symbol: String,
        include_declaration: bool,
    },
    SymbolHover {
        symbol: String,
    },
}

/// A position in a document: 0-based line and character, in the document's encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    pub path: String,
    pub line: u32,
    pub character: u32,
}

/// JSON text of a value, pretty for people (the CLI) or compact for the wire.
pub fn to_json(v: &impl Serialize, pretty: bool) -> StoreResult<String> {
    let r = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    r.map_err(|e| StoreError::InvalidArgument(e.to_string()))
}

/// Runs a query and returns its JSON answer.
pub fn run(store: &ScipStore, t: &Target<'_>, q: &Query, pretty: bool) -> StoreResult<String> {
    let j = |v: &dyn erased::Json| v.json(pretty);
    // Location lists, the big answers, have a cheaper writer of the same compact bytes.
    let l = |v: &[Location]| -> StoreResult<String> {
        if pretty {
            to_json(&v, true)
        } else {
            Ok(crate::scip_json::locations(v))
        }
    };
    match q {
        Query::Definition(p) => l(&store.definition(t, &p.path, p.line, p.character)?),
        Query::References {
            at: p,
            include_declaration,
        } => l(&store.references(t, &p.path, p.line, p.character, *include_declaration)?),
        Query::Implementations(p) => l(&store.implementations(t, &p.path, p.line, p.character)?),
        Query::TypeDefinition(p) => l(&store.type_definition(t, &p.path, p.line, p.character)?),
        Query::Hover(p) => j(&store.hover(t, &p.path, p.line, p.character)?),
        Query::Occurrences(p) => j(&store.occurrences(t, &p.path, p.line, p.character)?),
        Query::DocumentSymbols { path } => j(&store.document_symbols(t, path)?),
        Query::Diagnostics { path } => j(&store.diagnostics(t, path)?),
        Query::WorkspaceSymbols { query, limit } => j(&store.workspace_symbols(t, query, *limit)?),
        Query::SymbolDefinition { symbol } => l(&store.symbol_definition(t, symbol)?),
        Query::SymbolReferences {
            symbol,
            include_declaration,
        } => l(&store.symbol_references(t, symbol, *include_declaration)?),
        Query::SymbolHover { symbol } => j(&store.symbol_hover(t, symbol)?),
    }
}

/// Definitions of a symbol across every project of the tenant, each at its `latest`
/// version: the answer to "where is this symbol defined" without naming a project.
pub fn symbol_definition_anywhere(
    store: &ScipStore,
    tenant: &str,
    symbol: &str,
) -> StoreResult<Vec<Location>> {
    let mut out = Vec::new();
    for p in store.projects(tenant)? {
        out.extend(store.symbol_definition(&Target::latest(tenant, &p.project), symbol)?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Deletes a version and reclaims what only it referenced. `None`: no such version.
pub fn delete(
    store: &ScipStore,
    tenant: &str,
    project: &str,
    version: &str,
    pretty: bool,
) -> StoreResult<Option<String>> {
    if !store.delete_version(tenant, project, version)? {
        return Ok(None);
    }
    let gc = store.gc(tenant)?;
    let v = serde_json::json!({"deleted": {"project": project, "version": version}, "gc": gc});
    to_json(&v, pretty).map(Some)
}

/// Serialising through `&dyn` keeps `run`'s match arms one line each.
mod erased {
    use super::*;

    pub trait Json {
        fn json(&self, pretty: bool) -> StoreResult<String>;
    }

    impl<T: Serialize> Json for T {
        fn json(&self, pretty: bool) -> StoreResult<String> {
            to_json(self, pretty)
        }
    }
}
