//! scipkv-engine: an embeddable LSM storage engine, and the SCIP layer built on it.

pub mod checksum;
pub mod coding;
pub mod error;
pub mod iter;
pub mod key;
pub mod scip;
pub mod storage;

pub use error::{Error, Result};
