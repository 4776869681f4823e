//! The framed, checksummed log shared by the WAL and the manifest.
//!
//! One framing for both keeps a single torn-tail policy, specified in format-spec/wal.md
//! ("Torn tails"): a crash may leave only the last write incomplete, so damage at the very end
//! is cut off and damage anywhere else is corruption.

pub mod format;
pub mod reader;
pub mod writer;

pub use format::{LogKind, MAX_RECORD_LEN};
pub use reader::{LogReader, Tail, decode_log};
pub use writer::LogWriter;

#[cfg(test)]
pub(crate) mod tests;
