//! Named values of the SCIP enums and bitsets.
//!
//! The messages keep enums as plain `i32` (proto3 enums are open), so these are constants rather
//! than Rust enums: an unknown value from a newer indexer is carried through, not rejected.
//! Values are from upstream `scip.proto`; never renumber them.

/// `Occurrence.symbol_roles` bits.
pub mod role {
    pub const DEFINITION: i32 = 0x1;
    pub const IMPORT: i32 = 0x2;
    pub const WRITE_ACCESS: i32 = 0x4;
    pub const READ_ACCESS: i32 = 0x8;
    pub const GENERATED: i32 = 0x10;
    pub const TEST: i32 = 0x20;
    pub const FORWARD_DEFINITION: i32 = 0x40;
}

/// `Document.position_encoding`: what `character` offsets in ranges count.
pub mod position_encoding {
    pub const UNSPECIFIED: i32 = 0;
    pub const UTF8_CODE_UNIT_OFFSET_FROM_LINE_START: i32 = 1;
    pub const UTF16_CODE_UNIT_OFFSET_FROM_LINE_START: i32 = 2;
    pub const UTF32_CODE_UNIT_OFFSET_FROM_LINE_START: i32 = 3;
}

/// `Metadata.text_document_encoding`.
pub mod text_encoding {
    pub const UNSPECIFIED: i32 = 0;
    pub const UTF8: i32 = 1;
    pub const UTF16: i32 = 2;
}

/// `Diagnostic.severity`.
pub mod severity {
    pub const UNSPECIFIED: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const WARNING: i32 = 2;
    pub const INFORMATION: i32 = 3;
    pub const HINT: i32 = 4;
}

/// `Diagnostic.tags` values.
pub mod diagnostic_tag {
    pub const UNSPECIFIED: i32 = 0;
    pub const UNNECESSARY: i32 = 1;
    pub const DEPRECATED: i32 = 2;
}

/// `SymbolInformation.kind`. Upstream lists them alphabetically, so numbers are not in order;
/// 83 is the next free one.
pub mod kind {
    pub const UNSPECIFIED_KIND: i32 = 0;
    pub const ABSTRACT_METHOD: i32 = 66;
    pub const ACCESSOR: i32 = 72;
    pub const ARRAY: i32 = 1;
    pub const ASSERTION: i32 = 2;
    pub const ASSOCIATED_TYPE: i32 = 3;
    pub const ATTRIBUTE: i32 = 4;
    pub const AXIOM: i32 = 5;
    pub const BOOLEAN: i32 = 6;
    pub const CLASS: i32 = 7;
    pub const CONSTANT: i32 = 8;
    pub const CONSTRUCTOR: i32 = 9;
    pub const CONTRACT: i32 = 62;
    pub const DATA_FAMILY: i32 = 10;
    pub const DELEGATE: i32 = 73;
    pub const ENUM: i32 = 11;
    pub const ENUM_MEMBER: i32 = 12;
    pub const ERROR: i32 = 63;
    pub const EVENT: i32 = 13;
    pub const FACT: i32 = 14;
    pub const FIELD: i32 = 15;
    pub const FILE: i32 = 16;
    pub const FUNCTION: i32 = 17;
    pub const GETTER: i32 = 18;
    pub const GRAMMAR: i32 = 19;
    pub const INSTANCE: i32 = 20;
    pub const INTERFACE: i32 = 21;
    pub const KEY: i32 = 22;
    pub const LANG: i32 = 23;
    pub const LEMMA: i32 = 24;
    pub const LIBRARY: i32 = 64;
    pub const MACRO: i32 = 25;
    pub const METHOD: i32 = 26;
    pub const METHOD_ALIAS: i32 = 74;
    pub const METHOD_RECEIVER: i32 = 27;
    pub const METHOD_SPECIFICATION: i32 = 67;
    pub const MESSAGE: i32 = 28;
    pub const MODIFIER: i32 = 65;
    pub const MODULE: i32 = 29;
    pub const NAMESPACE: i32 = 30;
    pub const NULL: i32 = 31;
    pub const NUMBER: i32 = 32;
    pub const OBJECT: i32 = 33;
    pub const OPERATOR: i32 = 34;
    pub const PACKAGE: i32 = 35;
    pub const PACKAGE_OBJECT: i32 = 36;
    pub const PARAMETER: i32 = 37;
    pub const PARAMETER_LABEL: i32 = 38;
    pub const PATTERN: i32 = 39;
    pub const PREDICATE: i32 = 40;
    pub const PROPERTY: i32 = 41;
    pub const PROTOCOL: i32 = 42;
    pub const PROTOCOL_METHOD: i32 = 68;
    pub const PURE_VIRTUAL_METHOD: i32 = 69;
    pub const QUASIQUOTER: i32 = 43;
    pub const SELF_PARAMETER: i32 = 44;
    pub const SETTER: i32 = 45;
    pub const SIGNATURE: i32 = 46;
    pub const SINGLETON_CLASS: i32 = 75;
    pub const SINGLETON_METHOD: i32 = 76;
    pub const STATIC_DATA_MEMBER: i32 = 77;
    pub const STATIC_EVENT: i32 = 78;
    pub const STATIC_FIELD: i32 = 79;
    pub const STATIC_METHOD: i32 = 80;
    pub const STATIC_PROPERTY: i32 = 81;
    pub const STATIC_VARIABLE: i32 = 82;
    pub const STRING: i32 = 48;
    pub const STRUCT: i32 = 49;
    pub const SUBSCRIPT: i32 = 47;
    pub const TACTIC: i32 = 50;
    pub const THEOREM: i32 = 51;
    pub const THIS_PARAMETER: i32 = 52;
    pub const TRAIT: i32 = 53;
    pub const TRAIT_METHOD: i32 = 70;
    pub const TYPE: i32 = 54;
    pub const TYPE_ALIAS: i32 = 55;
    pub const TYPE_CLASS: i32 = 56;
    pub const TYPE_CLASS_METHOD: i32 = 71;
    pub const TYPE_FAMILY: i32 = 57;
    pub const TYPE_PARAMETER: i32 = 58;
    pub const UNION: i32 = 59;
    pub const VALUE: i32 = 60;
    pub const VARIABLE: i32 = 61;
}
