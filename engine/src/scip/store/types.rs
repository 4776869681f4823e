//! What queries return, as `serde::Serialize` types whose JSON shapes are the API contract:
//! positions 0-based, in the document's own `position_encoding` (as SCIP stores them).

use serde::Serialize;

use crate::scip::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

/// `{"start": {...}, "end": {...}}`, end exclusive. Orders as [`Range`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

impl From<Range> for Span {
    fn from(r: Range) -> Self {
        Span {
            start: Position {
                line: r.start_line,
                character: r.start_char,
            },
            end: Position {
                line: r.end_line,
                character: r.end_char,
            },
        }
    }
}

/// A place in a stored document. Lists of locations are sorted by (project, version, path,
/// range) and free of duplicates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub project: String,
    pub version: String,
    pub path: String,
    pub range: Span,
}

/// Markdown hover text; `range` is the occurrence hovered, `null` for a hover by symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hover {
    pub contents: String,
    pub range: Option<Span>,
}

/// One entry of a document outline, children nested by enclosing range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentSymbol {
    pub symbol: String,
    pub name: String,
    /// `SymbolInformation.Kind` (0 when the indexer gave none).
    pub kind: i32,
    /// The enclosing range (the whole definition), or the name's range when absent.
    pub range: Span,
    /// The name at the definition site.
    pub selection_range: Span,
    pub children: Vec<DocumentSymbol>,
}

/// An occurrence as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OccurrenceInfo {
    pub symbol: String,
    pub range: Span,
    pub symbol_roles: i32,
    pub syntax_kind: i32,
    pub enclosing_range: Option<Span>,
    pub override_documentation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiagnosticInfo {
    pub range: Span,
    pub severity: i32,
    pub code: String,
    pub message: String,
    pub source: String,
    pub tags: Vec<i32>,
}

/// A workspace symbol search hit; `location` is its first definition, if stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceSymbol {
    pub symbol: String,
    pub name: String,
    pub kind: i32,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestSummary {
    pub project: String,
    pub version: String,
    pub upload_id: u64,
    pub documents: u64,
    /// Documents not already stored (the rest were deduplicated by content).
    pub new_documents: u64,
    pub occurrences: u64,
    pub symbols: u64,
    /// Decompressed index bytes read.
    pub input_bytes: u64,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub version: String,
    pub upload_id: u64,
    pub documents: u64,
    pub occurrences: u64,
    pub symbols: u64,
    pub input_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectInfo {
    pub project: String,
    /// The version `latest` resolves to.
    pub latest: Option<String>,
    /// Ordered by upload (oldest first).
    pub versions: Vec<VersionInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcSummary {
    pub documents_deleted: u64,
    pub keys_deleted: u64,
    pub stale_uploads_deleted: u64,
    /// Documents a crashed or failed upload left partly written (no header), swept.
    pub partial_documents_deleted: u64,
}
