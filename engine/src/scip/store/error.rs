//! Errors of the SCIP store.
//!
//! Kept narrow so a server can map them to wire codes: the upload was bad (`Scip`, reject
//! it, nothing stored changed), the caller asked for something impossible (`InvalidArgument`),
//! stored bytes are damaged (`Corrupt`, never served), or the engine failed (`Db`).

use crate::coding::DecodeError;
use crate::scip::ScipError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The index is malformed or one of its documents is invalid; the upload was rejected.
    #[error("upload rejected: {0}")]
    Scip(#[from] ScipError),

    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A stored record failed to decode. `key` is the record's key, escaped for display.
    #[error("corrupt stored record {key}: {what}")]
    Corrupt { key: String, what: String },

    #[error(transparent)]
    Db(#[from] crate::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub(crate) fn corrupt(key: &[u8], e: DecodeError) -> Self {
        StoreError::Corrupt {
            key: key.escape_ascii().to_string(),
            what: e.to_string(),
        }
    }
}

/// Decodes a value, naming the key if it is corrupt.
pub(crate) fn decode<T>(
    key: &[u8],
    value: &[u8],
    f: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
) -> StoreResult<T> {
    f(value).map_err(|e| StoreError::corrupt(key, e))
}
