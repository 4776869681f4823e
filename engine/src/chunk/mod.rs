//! Content-addressed chunk storage for large values (see `format-spec/chunking.md`).

pub mod cdc;
