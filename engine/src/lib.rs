//! scipkv-engine: an embeddable LSM storage engine, and the SCIP layer built on it.

pub mod checksum;
pub mod chunk;
pub mod coding;
pub mod error;
pub mod iter;
pub mod key;
pub mod storage;

pub use error::{Error, Result};
