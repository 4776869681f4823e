//! scipkv: a storage engine and server for SCIP code-intelligence indexes.
//!
//! This crate is a thin facade over [`scipkv_engine`]; embed it, or depend on the engine crate
//! directly.

pub use scipkv_engine::*;
