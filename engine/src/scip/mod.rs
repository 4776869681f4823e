//! The SCIP layer: decoding, validating and writing SCIP indexes.
//!
//! SCIP indexes reach several GB, so nothing here holds a whole `Index`: [`IndexReader`] yields one
//! top-level item at a time, and every check works on one [`Document`].

pub mod compression;
pub mod constants;
pub mod dedup;
pub mod docview;
pub mod error;
pub mod proto;
pub mod range;
pub mod reader;
pub mod store;
pub mod symbol;
pub mod testdata;
pub mod validate;
mod wire;
pub mod writer;

#[cfg(test)]
mod tests;

pub use compression::Compression;
pub use dedup::DuplicateCheck;
pub use error::ScipError;
pub use proto::{
    Diagnostic, Document, Index, Metadata, Occurrence, Relationship, SymbolInformation, ToolInfo,
};
pub use range::Range;
pub use reader::{DEFAULT_MAX_MESSAGE_SIZE, IndexItem, IndexReader, RawItem};
pub use symbol::{Descriptor, Package, Suffix, Symbol, SymbolError, format_symbol, parse_symbol};
pub use validate::validate_document;
pub use writer::encode_index;
