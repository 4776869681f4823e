//! scipkv-engine: an embeddable LSM storage engine, and the SCIP layer built on it.

pub mod batch;
pub mod checksum;
pub mod coding;
pub mod error;
pub mod iter;
pub mod key;
pub mod log;
pub mod storage;
pub mod version;

pub use error::{Error, Result};
