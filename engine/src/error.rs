//! The engine's error type.
//!
//! `Corruption` is kept apart from `Io`: an I/O error may be transient (a full disk, a pulled
//! cable), corruption means bytes on disk are not what we wrote and must never be served.

use std::io;

/// Every fallible engine call returns this.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused an operation. `context` names the file and the action.
    #[error("I/O error while {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// Stored bytes failed a checksum or structural check. Nothing from this region is served.
    #[error("corruption in {file} at offset {offset}: {what}")]
    Corruption {
        file: String,
        offset: u64,
        what: String,
    },

    /// A previous sync failed, so the durability of earlier writes is unknown; writes are
    /// refused until the database is reopened (reads still work).
    #[error("writes are disabled after an earlier failed sync: {0}")]
    Poisoned(String),

    /// The caller passed something the engine cannot accept (too large a key, bad option).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// Another process holds the data directory's lock.
    #[error("data directory is locked by another process: {0}")]
    Locked(String),

    /// The database is shutting down or was closed.
    #[error("database is closed")]
    Closed,
}

/// Engine result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an `io::Error` with what we were doing when it happened.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Builds a corruption error for `file` at `offset`.
    pub fn corruption(file: impl Into<String>, offset: u64, what: impl Into<String>) -> Self {
        Error::Corruption {
            file: file.into(),
            offset,
            what: what.into(),
        }
    }

    /// True for errors that mean stored data is damaged.
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }

    /// True when the underlying cause is a full disk, so a caller may retry after freeing space.
    pub fn is_no_space(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.raw_os_error() == Some(28 /* ENOSPC */)
            || source.kind() == io::ErrorKind::StorageFull)
    }
}

/// Adds file and action context to `io::Result`s.
pub(crate) trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}
