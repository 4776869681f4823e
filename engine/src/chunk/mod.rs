//! Content-addressed chunk storage for large values (see `format-spec/chunking.md`).
//!
//! [`cdc`] cuts values into content-defined chunks; [`keys`] places chunk records in a
//! reserved key space; [`manifest`] is the small value stored under the user's key in place of
//! a large one; `store` ties them to the database (write path, reads, garbage collection).

pub mod cdc;
pub mod keys;
pub mod manifest;
pub mod options;
pub(crate) mod store;

pub use keys::ChunkId;
pub use manifest::{Manifest, Stored};
pub use options::{DedupOptions, DedupStats, GcReport, VerifyReport};
