//! Occurrence ranges: SCIP's compact 3-or-4-int encoding, decoded and checked.

/// A half-open span `[start, end)` in a document, 0-based. Characters count in the document's
/// `position_encoding` units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Range {
    pub start_line: u32,
    pub start_char: u32,
    pub end_line: u32,
    pub end_char: u32,
}

impl Range {
    /// Decodes `[startLine, startChar, endLine, endChar]` or, for a single-line range,
    /// `[startLine, startChar, endChar]`. Rejects other lengths, negatives, and ends before
    /// starts; the error says which, for the caller to attach a field path to.
    pub fn from_scip(ints: &[i32]) -> Result<Range, String> {
        let (sl, sc, el, ec) = match *ints {
            [sl, sc, ec] => (sl, sc, sl, ec),
            [sl, sc, el, ec] => (sl, sc, el, ec),
            _ => return Err(format!("has {} ints, expected 3 or 4", ints.len())),
        };
        let non_neg =
            |v: i32| u32::try_from(v).map_err(|_| format!("negative value {v} in {ints:?}"));
        let r = Range {
            start_line: non_neg(sl)?,
            start_char: non_neg(sc)?,
            end_line: non_neg(el)?,
            end_char: non_neg(ec)?,
        };
        if (r.end_line, r.end_char) < (r.start_line, r.start_char) {
            return Err(format!("end before start in {ints:?}"));
        }
        Ok(r)
    }

    /// The SCIP encoding, using the 3-int form when the range stays on one line.
    pub fn to_scip(&self) -> Vec<i32> {
        // Values came from i32 or were built by the caller; saturate rather than wrap.
        let c = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        if self.start_line == self.end_line {
            vec![c(self.start_line), c(self.start_char), c(self.end_char)]
        } else {
            vec![
                c(self.start_line),
                c(self.start_char),
                c(self.end_line),
                c(self.end_char),
            ]
        }
    }

    /// Whether the position lies inside; the end is exclusive, as in LSP.
    pub fn contains(&self, line: u32, character: u32) -> bool {
        let p = (line, character);
        (self.start_line, self.start_char) <= p && p < (self.end_line, self.end_char)
    }

    /// Whether `other` lies entirely within `self` (an enclosing range contains its occurrence).
    pub fn encloses(&self, other: &Range) -> bool {
        (self.start_line, self.start_char) <= (other.start_line, other.start_char)
            && (other.end_line, other.end_char) <= (self.end_line, self.end_char)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_ints_stay_on_start_line() {
        let r = Range::from_scip(&[4, 2, 9]).unwrap();
        assert_eq!(
            r,
            Range {
                start_line: 4,
                start_char: 2,
                end_line: 4,
                end_char: 9
            }
        );
        assert_eq!(r.to_scip(), vec![4, 2, 9]);
    }

    #[test]
    fn four_ints_round_trip() {
        let r = Range::from_scip(&[1, 5, 3, 0]).unwrap();
        assert_eq!(r.end_line, 3);
        assert_eq!(r.to_scip(), vec![1, 5, 3, 0]);
    }

    #[test]
    fn empty_range_is_allowed_and_contains_nothing() {
        let r = Range::from_scip(&[2, 3, 3]).unwrap();
        assert!(!r.contains(2, 3));
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(Range::from_scip(&[]).is_err());
        assert!(Range::from_scip(&[1, 2]).is_err());
        assert!(Range::from_scip(&[1, 2, 3, 4, 5]).is_err());
        assert!(
            Range::from_scip(&[-1, 0, 3])
                .unwrap_err()
                .contains("negative")
        );
        assert!(
            Range::from_scip(&[0, 5, 4])
                .unwrap_err()
                .contains("end before start")
        );
        assert!(
            Range::from_scip(&[3, 0, 2, 9])
                .unwrap_err()
                .contains("end before start")
        );
    }

    #[test]
    fn contains_is_end_exclusive_across_lines() {
        let r = Range::from_scip(&[1, 5, 3, 2]).unwrap();
        assert!(r.contains(1, 5));
        assert!(!r.contains(1, 4));
        assert!(r.contains(2, 0));
        assert!(r.contains(2, 1000));
        assert!(r.contains(3, 1));
        assert!(!r.contains(3, 2));
        assert!(!r.contains(0, 9));
    }

    #[test]
    fn encloses_checks_both_ends() {
        let outer = Range::from_scip(&[1, 0, 10, 0]).unwrap();
        assert!(outer.encloses(&Range::from_scip(&[2, 4, 8]).unwrap()));
        assert!(outer.encloses(&outer));
        assert!(!outer.encloses(&Range::from_scip(&[0, 4, 2, 0]).unwrap()));
    }
}
