use std::sync::Arc;

use super::*;
use crate::iter::InternalIterator;
use crate::iter::merge::MergingIterator;
use crate::key::Kind;

fn ikey(k: &[u8], seq: u64) -> Vec<u8> {
    key::make_internal_key(k, seq, Kind::Put as u8)
}

#[test]
fn get_sees_newest_version_at_or_below_snapshot() {
    let m = Memtable::new(1);
    m.insert(b"a", 1, Kind::Put as u8, b"v1");
    m.insert(b"a", 3, Kind::Delete as u8, b"");
    m.insert(b"a", 5, Kind::Put as u8, b"v5");
    m.insert(b"ab", 2, Kind::Put as u8, b"x");
    assert_eq!(m.get(b"a", 0), None);
    assert_eq!(m.get(b"a", 1), Some(Lookup::Value(b"v1".to_vec())));
    assert_eq!(m.get(b"a", 4), Some(Lookup::Deleted));
    assert_eq!(m.get(b"a", 99), Some(Lookup::Value(b"v5".to_vec())));
    assert_eq!(m.get(b"", 99), None);
    assert_eq!(m.get(b"ab", 1), None);
    assert_eq!(m.get(b"ab", 2), Some(Lookup::Value(b"x".to_vec())));
    assert_eq!(m.len(), 4);
}

#[test]
fn cursor_walks_both_ways_and_seeks() {
    let m = Arc::new(Memtable::new(1));
    for (i, k) in [&b"b"[..], b"a", b"c"].iter().enumerate() {
        m.insert(k, i as u64 + 1, Kind::Put as u8, k);
    }
    m.insert(b"b", 10, Kind::Put as u8, b"b10");
    let mut it = m.iter();
    let all = collect_all(&mut it).unwrap();
    let keys: Vec<_> = all.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(
        keys,
        vec![ikey(b"a", 2), ikey(b"b", 10), ikey(b"b", 1), ikey(b"c", 3)]
    );
    it.seek_to_last().unwrap();
    let mut back = Vec::new();
    while it.valid() {
        back.push(it.key().to_vec());
        it.prev().unwrap();
    }
    back.reverse();
    assert_eq!(back, keys);
    it.seek(&key::lookup_key(b"b", 5)).unwrap();
    assert_eq!(it.key(), &ikey(b"b", 1)[..]);
    it.seek_for_prev(&key::lookup_key(b"b", 5)).unwrap();
    assert_eq!(it.key(), &ikey(b"b", 10)[..]);
}

#[test]
fn merging_iterator_interleaves_and_switches_direction() {
    let a = Arc::new(Memtable::new(1));
    let b = Arc::new(Memtable::new(2));
    for i in 0..50u64 {
        let m = if i % 3 == 0 { &a } else { &b };
        m.insert(
            format!("k{:03}", i).as_bytes(),
            i + 1,
            Kind::Put as u8,
            b"v",
        );
    }
    let mut it = MergingIterator::new(vec![Box::new(a.iter()), Box::new(b.iter())]);
    let all = collect_all(&mut it).unwrap();
    assert_eq!(all.len(), 50);
    assert!(
        all.windows(2)
            .all(|w| compare_internal(&w[0].0, &w[1].0).is_lt())
    );
    // Zig-zag: next, prev, next must revisit the same keys.
    it.seek(&key::lookup_key(b"k010", u64::MAX >> 8)).unwrap();
    let k10 = it.key().to_vec();
    it.next().unwrap();
    let k11 = it.key().to_vec();
    it.prev().unwrap();
    assert_eq!(it.key(), &k10[..]);
    it.prev().unwrap();
    assert_eq!(key::user_key(it.key()), b"k009");
    it.next().unwrap();
    it.next().unwrap();
    assert_eq!(it.key(), &k11[..]);
}

/// The cursor copies runs of up to `MAX_RUN` entries (and at most 256 KiB): check it against
/// the model on memtables far larger than one run, with values big enough to cut runs by
/// size too, so every run boundary is crossed in both directions and after seeks.
#[test]
fn cursor_runs_match_the_model_across_run_boundaries() {
    use crate::iter::testing::{TestRng, check_iterator, seeds};
    for seed in seeds(&[21, 22, 23]) {
        let mut rng = TestRng::new(seed);
        let m = Arc::new(Memtable::new(1));
        let mut entries = Vec::new();
        let n = iter::MAX_RUN * 5 + rng.index(iter::MAX_RUN);
        for seq in 1..=n as u64 {
            let user = rng.bytes_below(12);
            let value = if rng.one_in(20) {
                rng.bytes(40_000)
            } else {
                rng.bytes_below(30)
            };
            m.insert(&user, seq, Kind::Put as u8, &value);
            entries.push((ikey(&user, seq), value));
        }
        entries.sort_by(|a, b| key::compare_internal(&a.0, &b.0));
        let mut it = m.iter();
        check_iterator(&mut it, &entries, &mut rng, 300).unwrap();
    }
}
