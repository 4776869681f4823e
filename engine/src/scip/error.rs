//! Errors of the SCIP layer.
//!
//! Three kinds, because callers react differently: `Io` may be transient and worth a retry,
//! `Malformed` means the bytes are not a SCIP index at all (reject the upload), `Invalid` means
//! the protobuf decoded but one document breaks a rule the store relies on (the message names the
//! document and field so the indexer's author can find it).

/// Every fallible call in [`crate::scip`] returns this.
#[derive(Debug, thiserror::Error)]
pub enum ScipError {
    /// Reading the underlying stream failed.
    #[error("I/O error reading SCIP index: {0}")]
    Io(#[from] std::io::Error),

    /// The byte stream breaks protobuf wire rules or the SCIP schema. `offset` counts
    /// decompressed bytes from the start of the `Index` message.
    #[error("malformed SCIP index at decompressed offset {offset}: {what}")]
    Malformed { offset: u64, what: String },

    /// A decoded document breaks a semantic rule; `field` is a path such as
    /// `occurrences[12].range`.
    #[error("invalid SCIP document {document:?}, field {field}: {what}")]
    Invalid {
        document: String,
        field: String,
        what: String,
    },
}

impl ScipError {
    pub(crate) fn malformed(offset: u64, what: impl Into<String>) -> Self {
        ScipError::Malformed {
            offset,
            what: what.into(),
        }
    }

    pub(crate) fn invalid(
        document: impl Into<String>,
        field: impl Into<String>,
        what: impl Into<String>,
    ) -> Self {
        ScipError::Invalid {
            document: document.into(),
            field: field.into(),
            what: what.into(),
        }
    }
}
