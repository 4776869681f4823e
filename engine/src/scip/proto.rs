//! The SCIP schema (`scip.proto`, proto3, package `scip`) as hand-written prost messages.
//!
//! Written by hand rather than with prost-build so the build needs no `protoc`. Field numbers
//! follow `/work/shared/NOTES.md` §1 and upstream `scip.proto`; enums stay `i32` because proto3
//! enums are open and newer indexers emit values this code does not know yet. prost accepts
//! both packed and unpacked encodings of repeated scalars, as the protobuf spec requires.
//! Named constants for the enum values live in [`super::constants`].

/// A whole index. Never decode this from a real file: use [`super::IndexReader`], which yields
/// one field at a time. Kept for completeness and for small test fixtures.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Index {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<Metadata>,
    #[prost(message, repeated, tag = "2")]
    pub documents: Vec<Document>,
    #[prost(message, repeated, tag = "3")]
    pub external_symbols: Vec<SymbolInformation>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Metadata {
    /// `ProtocolVersion`; only 0 is defined.
    #[prost(int32, tag = "1")]
    pub version: i32,
    #[prost(message, optional, tag = "2")]
    pub tool_info: Option<ToolInfo>,
    /// URI of the indexed root, e.g. `file:///src/django`.
    #[prost(string, tag = "3")]
    pub project_root: String,
    /// `TextEncoding` of the files on disk, see [`super::constants::text_encoding`].
    #[prost(int32, tag = "4")]
    pub text_document_encoding: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ToolInfo {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub version: String,
    #[prost(string, repeated, tag = "3")]
    pub arguments: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Document {
    /// Relative to `Metadata.project_root`, `/`-separated, canonical.
    #[prost(string, tag = "1")]
    pub relative_path: String,
    #[prost(message, repeated, tag = "2")]
    pub occurrences: Vec<Occurrence>,
    #[prost(message, repeated, tag = "3")]
    pub symbols: Vec<SymbolInformation>,
    #[prost(string, tag = "4")]
    pub language: String,
    /// Usually empty: indexers leave the source on disk.
    #[prost(string, tag = "5")]
    pub text: String,
    /// `PositionEncoding`, see [`super::constants::position_encoding`].
    #[prost(int32, tag = "6")]
    pub position_encoding: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Occurrence {
    /// 3 or 4 ints, see [`super::Range::from_scip`].
    #[prost(int32, repeated, tag = "1")]
    pub range: Vec<i32>,
    #[prost(string, tag = "2")]
    pub symbol: String,
    /// Bitset of [`super::constants::role`] flags.
    #[prost(int32, tag = "3")]
    pub symbol_roles: i32,
    #[prost(string, repeated, tag = "4")]
    pub override_documentation: Vec<String>,
    /// `SyntaxKind`, only used for highlighting.
    #[prost(int32, tag = "5")]
    pub syntax_kind: i32,
    #[prost(message, repeated, tag = "6")]
    pub diagnostics: Vec<Diagnostic>,
    /// Same 3/4-int encoding as `range`; empty when absent.
    #[prost(int32, repeated, tag = "7")]
    pub enclosing_range: Vec<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SymbolInformation {
    #[prost(string, tag = "1")]
    pub symbol: String,
    /// Markdown paragraphs (hover text).
    #[prost(string, repeated, tag = "3")]
    pub documentation: Vec<String>,
    #[prost(message, repeated, tag = "4")]
    pub relationships: Vec<Relationship>,
    /// `SymbolInformation.Kind`, see [`super::constants::kind`].
    #[prost(int32, tag = "5")]
    pub kind: i32,
    #[prost(string, tag = "6")]
    pub display_name: String,
    /// Only `language` and `text` are normally set.
    #[prost(message, optional, tag = "7")]
    pub signature_documentation: Option<Document>,
    #[prost(string, tag = "8")]
    pub enclosing_symbol: String,
}

/// Recorded on one side only (the implementing or overriding symbol); a store must index the
/// reverse direction itself.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Relationship {
    #[prost(string, tag = "1")]
    pub symbol: String,
    #[prost(bool, tag = "2")]
    pub is_reference: bool,
    #[prost(bool, tag = "3")]
    pub is_implementation: bool,
    #[prost(bool, tag = "4")]
    pub is_type_definition: bool,
    #[prost(bool, tag = "5")]
    pub is_definition: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Diagnostic {
    /// `Severity`, see [`super::constants::severity`].
    #[prost(int32, tag = "1")]
    pub severity: i32,
    #[prost(string, tag = "2")]
    pub code: String,
    #[prost(string, tag = "3")]
    pub message: String,
    #[prost(string, tag = "4")]
    pub source: String,
    /// `DiagnosticTag` values, see [`super::constants::diagnostic_tag`].
    #[prost(int32, repeated, tag = "5")]
    pub tags: Vec<i32>,
}
