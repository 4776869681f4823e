//! Which versions a compaction keeps.
//!
//! Readers exist at every live snapshot and at the newest sequence number. Between two
//! adjacent read points ("stripes"), all readers see the same newest version of a key, so
//! only the newest version in each stripe is kept. A tombstone is dropped too when the output
//! is the bottom of the tree for the key range (nothing older can lie below) and it sits in
//! the oldest stripe (no snapshot can see an older value it hides).
//!
//! An expired value ([`Kind::PutExpiring`] whose expiry has passed) reads as a tombstone to
//! every reader from now on, so compaction rewrites it as a tombstone at the same seqno (see
//! [`effective_kind`]) and then applies the tombstone rule. Dropping it outright would be
//! wrong above the bottom: an older version of the key in a lower level would resurface.

use crate::key::{Kind, SeqNo, split_expiring};
use crate::memtable::is_expired;

/// The kind compaction treats an entry as at `now_ms`: an expired value becomes
/// [`Kind::Delete`]. `Err` names what is malformed (unknown kind, missing expiry prefix).
pub fn effective_kind(kind: u8, value: &[u8], now_ms: u64) -> Result<u8, String> {
    match Kind::from_u8(kind) {
        Some(Kind::PutExpiring) => match split_expiring(value) {
            Some((t, _)) if is_expired(t, now_ms) => Ok(Kind::Delete as u8),
            Some(_) => Ok(kind),
            None => Err("expiring entry shorter than its 8-byte expiry".into()),
        },
        Some(_) => Ok(kind),
        None => Err(format!("entry has unknown kind {kind}")),
    }
}

/// Decides, entry by entry in internal-key order, whether to keep it.
#[derive(Debug)]
pub struct Retainer {
    /// Live snapshot seqnos, ascending.
    snapshots: Vec<SeqNo>,
    bottommost: bool,
    current_key: Option<Vec<u8>>,
    /// Stripe of the last kept entry of `current_key`.
    last_stripe: Option<usize>,
}

impl Retainer {
    pub fn new(mut snapshots: Vec<SeqNo>, bottommost: bool) -> Self {
        snapshots.sort_unstable();
        snapshots.dedup();
        Retainer {
            snapshots,
            bottommost,
            current_key: None,
            last_stripe: None,
        }
    }

    /// Index of the first snapshot that can see `seq` (snapshots.len() = only the latest).
    fn stripe(&self, seq: SeqNo) -> usize {
        self.snapshots.partition_point(|s| *s < seq)
    }

    /// Whether to keep this entry. Entries must arrive in internal-key order (user key
    /// ascending, seqno descending).
    pub fn keep(&mut self, user_key: &[u8], seq: SeqNo, kind: u8) -> bool {
        if self.current_key.as_deref() != Some(user_key) {
            self.current_key = Some(user_key.to_vec());
            self.last_stripe = None;
        }
        let stripe = self.stripe(seq);
        if self.last_stripe == Some(stripe) {
            // A newer version in the same stripe hides this one from every reader.
            return false;
        }
        self.last_stripe = Some(stripe);
        !(kind == Kind::Delete as u8 && self.bottommost && stripe == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u8 = Kind::Put as u8;
    const D: u8 = Kind::Delete as u8;

    fn run(snaps: &[u64], bottom: bool, entries: &[(&str, u64, u8)]) -> Vec<(String, u64)> {
        let mut r = Retainer::new(snaps.to_vec(), bottom);
        entries
            .iter()
            .filter(|(k, s, kind)| r.keep(k.as_bytes(), *s, *kind))
            .map(|(k, s, _)| (k.to_string(), *s))
            .collect()
    }

    #[test]
    fn without_snapshots_only_the_newest_version_survives() {
        let kept = run(
            &[],
            false,
            &[("a", 9, P), ("a", 5, P), ("a", 2, D), ("b", 3, P)],
        );
        assert_eq!(kept, vec![("a".into(), 9), ("b".into(), 3)]);
    }

    #[test]
    fn each_snapshot_keeps_the_version_it_sees() {
        // Snapshot at 6 sees a@5; snapshot at 2 sees a@2; latest sees a@9.
        let kept = run(
            &[2, 6],
            false,
            &[
                ("a", 9, P),
                ("a", 7, P),
                ("a", 5, P),
                ("a", 3, P),
                ("a", 2, P),
                ("a", 1, P),
            ],
        );
        assert_eq!(
            kept,
            vec![("a".into(), 9), ("a".into(), 5), ("a".into(), 2)]
        );
    }

    #[test]
    fn tombstones_vanish_only_at_the_bottom_and_below_every_snapshot() {
        let entries = [("a", 8, D), ("a", 4, P)];
        assert_eq!(run(&[], false, &entries), vec![("a".into(), 8)]);
        assert_eq!(run(&[], true, &entries), vec![]);
        // A snapshot at 5 still sees a@4 and the latest reader must see the delete.
        assert_eq!(
            run(&[5], true, &entries),
            vec![("a".into(), 8), ("a".into(), 4)]
        );
        // A tombstone older than every snapshot, at the bottom, goes.
        assert_eq!(run(&[9], true, &[("a", 8, D), ("a", 4, P)]), vec![]);
    }

    const X: u8 = Kind::PutExpiring as u8;

    /// Like `run`, with values: expiring entries carry their expiry, judged at `now`.
    /// Returns the kept entries with the kind they are written as.
    fn run_at(
        now: u64,
        snaps: &[u64],
        bottom: bool,
        entries: &[(&str, u64, u8, u64)],
    ) -> Vec<(String, u64, u8)> {
        let mut r = Retainer::new(snaps.to_vec(), bottom);
        let mut out = Vec::new();
        for &(k, s, kind, expiry) in entries {
            let value = crate::key::encode_expiring(expiry, b"v");
            let v: &[u8] = if kind == X { &value } else { b"v" };
            let kind = effective_kind(kind, v, now).unwrap();
            if r.keep(k.as_bytes(), s, kind) {
                out.push((k.to_string(), s, kind));
            }
        }
        out
    }

    #[test]
    fn an_expired_value_above_the_bottom_becomes_a_tombstone_not_nothing() {
        // The resurrection case: an expiring a@9 over an older a@4 that sits in a lower
        // level (not part of this compaction). Dropping a@9 would bring a@4 back.
        assert_eq!(
            run_at(100, &[], false, &[("a", 9, X, 50)]),
            vec![("a".into(), 9, D)]
        );
        // Both in the compaction, not at the bottom: the tombstone stays, a@4 goes.
        assert_eq!(
            run_at(100, &[], false, &[("a", 9, X, 50), ("a", 4, P, 0)]),
            vec![("a".into(), 9, D)]
        );
        // At the bottom with no snapshot: nothing is left.
        assert_eq!(
            run_at(100, &[], true, &[("a", 9, X, 50), ("a", 4, P, 0)]),
            vec![]
        );
        // Not yet expired: kept as it is, and it hides a@4 as any newer value does.
        assert_eq!(
            run_at(49, &[], true, &[("a", 9, X, 50), ("a", 4, P, 0)]),
            vec![("a".into(), 9, X)]
        );
    }

    #[test]
    fn an_expired_value_respects_the_snapshot_stripes() {
        // A snapshot at 6 sees a@4 (the expired a@9 is newer than it): a@4 must survive,
        // and so must the tombstone that hides it from the latest reader.
        assert_eq!(
            run_at(100, &[6], true, &[("a", 9, X, 50), ("a", 4, P, 0)]),
            vec![("a".into(), 9, D), ("a".into(), 4, P)]
        );
        // A snapshot at 10 reads a@9 as expired too: everything goes at the bottom.
        assert_eq!(
            run_at(100, &[10], true, &[("a", 9, X, 50), ("a", 4, P, 0)]),
            vec![]
        );
    }

    #[test]
    fn malformed_entries_are_reported() {
        assert!(effective_kind(X, b"short", 0).is_err());
        assert!(effective_kind(7, b"", 0).is_err());
    }

    #[test]
    fn a_snapshot_between_a_put_and_its_tombstone_keeps_both() {
        assert_eq!(
            run(&[6], true, &[("k", 7, D), ("k", 5, P), ("k", 3, D)]),
            vec![("k".into(), 7), ("k".into(), 5)]
        );
    }
}
