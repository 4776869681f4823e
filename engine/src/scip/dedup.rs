//! Detects a relative path repeated across the documents of one index.
//!
//! Two documents with one path would silently overwrite each other in a store keyed by path.
//! Only 16-byte hashes are kept, so the check costs O(documents) memory however long the paths.

use std::collections::HashSet;

use xxhash_rust::xxh3::xxh3_128;

use super::error::ScipError;

/// Feed it every document's path during ingest. A 128-bit hash makes a false duplicate
/// (collision) practically impossible at any realistic document count.
#[derive(Debug, Default, Clone)]
pub struct DuplicateCheck {
    seen: HashSet<u128>,
}

impl DuplicateCheck {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `path`; fails if it was seen before.
    pub fn check(&mut self, path: &str) -> Result<(), ScipError> {
        if self.seen.insert(xxh3_128(path.as_bytes())) {
            Ok(())
        } else {
            Err(ScipError::invalid(
                path,
                "relative_path",
                "another document in this index has the same path",
            ))
        }
    }

    /// Number of distinct paths seen.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_occurrence_of_a_path_is_rejected() {
        let mut d = DuplicateCheck::new();
        d.check("src/a.ts").unwrap();
        d.check("src/b.ts").unwrap();
        let err = d.check("src/a.ts").unwrap_err();
        assert!(matches!(err, ScipError::Invalid { ref document, .. } if document == "src/a.ts"));
        assert_eq!(d.len(), 2);
    }
}
