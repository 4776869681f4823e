//! File names in a data directory, specified in format-spec/manifest.md ("File names").
//!
//! Numbered names are zero-padded to six digits so a directory listing sorts by age, and
//! parsing accepts only the canonical spelling so two names never denote the same number.

/// The pointer to the live manifest.
pub const CURRENT: &str = "CURRENT";
/// Where a new CURRENT is written before it is renamed into place.
pub const CURRENT_TMP: &str = "CURRENT.tmp";
/// The directory lock file.
pub const LOCK: &str = "LOCK";

const MANIFEST_PREFIX: &str = "MANIFEST-";
const WAL_SUFFIX: &str = ".wal";
const TABLE_SUFFIX: &str = ".sst";
const TEMP_SUFFIX: &str = ".tmp";

/// What a file in the data directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Wal(u64),
    Table(u64),
    Manifest(u64),
    Current,
    CurrentTmp,
    Lock,
    /// Any other `*.tmp`: an unfinished write, safe to delete at open.
    Temp,
}

/// `MANIFEST-000123`.
pub fn manifest_name(number: u64) -> String {
    format!("{MANIFEST_PREFIX}{number:06}")
}

/// `000123.wal`.
pub fn wal_name(number: u64) -> String {
    format!("{number:06}{WAL_SUFFIX}")
}

/// `000123.sst`.
pub fn table_name(number: u64) -> String {
    format!("{number:06}{TABLE_SUFFIX}")
}

/// Classifies `name`; `None` for files the engine did not create (it leaves them alone).
pub fn parse_file_name(name: &str) -> Option<FileKind> {
    match name {
        CURRENT => return Some(FileKind::Current),
        CURRENT_TMP => return Some(FileKind::CurrentTmp),
        LOCK => return Some(FileKind::Lock),
        _ => {}
    }
    if let Some(n) = name.strip_prefix(MANIFEST_PREFIX) {
        return parse_number(n).map(FileKind::Manifest);
    }
    if let Some(n) = name.strip_suffix(WAL_SUFFIX) {
        return parse_number(n).map(FileKind::Wal);
    }
    if let Some(n) = name.strip_suffix(TABLE_SUFFIX) {
        return parse_number(n).map(FileKind::Table);
    }
    match name.strip_suffix(TEMP_SUFFIX) {
        Some(stem) if !stem.is_empty() => Some(FileKind::Temp),
        _ => None,
    }
}

/// Parses a canonical file number: at least six ASCII digits, zero-padded to exactly six.
fn parse_number(s: &str) -> Option<u64> {
    if s.len() < 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = s.parse().ok()?;
    (format!("{n:06}") == s).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_the_parser() {
        for n in [0, 1, 123, 999_999, 1_000_000, u64::MAX] {
            assert_eq!(parse_file_name(&wal_name(n)), Some(FileKind::Wal(n)));
            assert_eq!(parse_file_name(&table_name(n)), Some(FileKind::Table(n)));
            assert_eq!(
                parse_file_name(&manifest_name(n)),
                Some(FileKind::Manifest(n))
            );
        }
        assert_eq!(wal_name(123), "000123.wal");
        assert_eq!(table_name(123), "000123.sst");
        assert_eq!(manifest_name(123), "MANIFEST-000123");
    }

    #[test]
    fn fixed_names_and_temporaries_are_recognised() {
        assert_eq!(parse_file_name("CURRENT"), Some(FileKind::Current));
        assert_eq!(parse_file_name("CURRENT.tmp"), Some(FileKind::CurrentTmp));
        assert_eq!(parse_file_name("LOCK"), Some(FileKind::Lock));
        assert_eq!(parse_file_name("000123.sst.tmp"), Some(FileKind::Temp));
        assert_eq!(parse_file_name(".tmp"), None);
    }

    #[test]
    fn non_canonical_and_foreign_names_are_rejected() {
        for name in [
            "",
            "123.wal",
            "0000123.wal",
            "+00123.wal",
            "00012a.sst",
            "MANIFEST-",
            "MANIFEST-12",
            "MANIFEST-0000001",
            "000123.log",
            "manifest-000001",
            "current",
            "99999999999999999999.sst",
            "000123.wal ",
            "README",
        ] {
            assert_eq!(parse_file_name(name), None, "{name:?}");
        }
    }
}
