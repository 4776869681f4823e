use std::sync::Arc;

use super::*;
use crate::iter::InternalIterator;
use crate::iter::merge::MergingIterator;
use crate::key::{Kind, compare_internal};

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

/// The point index answers reads at the newest entry, the skiplist the rest: check `get` at
/// every kind of snapshot against a model of all versions, with few distinct keys (many
/// versions each, keys that are prefixes of others, the empty key) and reads interleaved with
/// the inserts. The skiplist-only path is checked on the same reads.
#[test]
fn get_matches_the_model_at_every_snapshot() {
    use std::collections::BTreeMap;

    use crate::iter::testing::{TestRng, seeds};
    for seed in seeds(&[31, 32, 33, 34]) {
        let mut rng = TestRng::new(seed);
        let pool: Vec<Vec<u8>> = (0..1 + rng.index(40))
            .map(|_| {
                let mut k = rng.bytes_below(4);
                k.iter_mut().for_each(|b| *b %= 3);
                k
            })
            .collect();
        let m = Memtable::new(1);
        // user key -> seq -> what a read at that seq or later (until the next version) finds.
        let mut model: BTreeMap<Vec<u8>, BTreeMap<u64, Lookup>> = BTreeMap::new();
        let n = 1 + rng.index(2_000) as u64;
        for seq in 1..=n {
            let user = &pool[rng.index(pool.len())];
            let value = rng.bytes_below(20);
            let (kind, stored, l) = match rng.below(3) {
                0 => (Kind::Delete, Vec::new(), Lookup::Deleted),
                1 => (Kind::Put, value.clone(), Lookup::Value(value)),
                _ => {
                    let at = rng.next_u64();
                    let l = Lookup::Expiring {
                        expires_at_ms: at,
                        value: value.clone(),
                    };
                    (Kind::PutExpiring, key::encode_expiring(at, &value), l)
                }
            };
            m.insert(user, seq, kind as u8, &stored);
            model.entry(user.clone()).or_default().insert(seq, l);
            for _ in 0..rng.index(4) {
                let probe = if rng.one_in(10) {
                    rng.bytes_below(5)
                } else {
                    pool[rng.index(pool.len())].clone()
                };
                let snapshot = match rng.below(3) {
                    0 => seq,
                    1 => rng.below(seq + 2),
                    _ => key::MAX_SEQNO,
                };
                let want = model
                    .get(&probe)
                    .and_then(|vs| vs.range(..=snapshot).next_back())
                    .map(|(_, l)| l.clone());
                assert_eq!(
                    m.get(&probe, snapshot),
                    want,
                    "seed {seed}: {probe:?} at {snapshot}"
                );
                assert_eq!(
                    m.get_in_skiplist(&probe, snapshot),
                    want,
                    "seed {seed}: skiplist, {probe:?} at {snapshot}"
                );
            }
        }
        assert_eq!(m.len() as u64, n);
    }
}

/// Readers racing the inserter: a read at a published seqno must see exactly the newest
/// version at or below it, whether the point index or the skiplist answers. Version `i`
/// writes key `i % KEYS` with value `i`, so every reader can compute the expected answer.
#[test]
fn concurrent_gets_see_the_newest_published_version() {
    use std::sync::atomic::{AtomicU64, Ordering};

    const KEYS: u64 = 97;
    const VERSIONS: u64 = 30_000;
    let m = Arc::new(Memtable::new(1));
    let published = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..2u64)
        .map(|r| {
            let (m, published) = (Arc::clone(&m), Arc::clone(&published));
            std::thread::spawn(move || {
                let mut checked = 0u64;
                let mut k = r;
                loop {
                    let s = published.load(Ordering::Acquire);
                    k = (k + 13) % KEYS;
                    // Alternate the snapshot: the latest (index) and one version older.
                    let snap = if checked.is_multiple_of(2) {
                        s
                    } else {
                        s.saturating_sub(1)
                    };
                    let want = (snap >= k.max(1))
                        .then(|| snap - (snap - k) % KEYS)
                        .filter(|&v| v >= 1);
                    let got = m.get(&k.to_be_bytes(), snap).map(|l| match l {
                        Lookup::Value(v) => u64::from_le_bytes(v.try_into().unwrap()),
                        other => panic!("unexpected {other:?}"),
                    });
                    assert_eq!(got, want, "key {k} at snapshot {snap}");
                    checked += 1;
                    if s == VERSIONS {
                        return checked;
                    }
                }
            })
        })
        .collect();
    for i in 1..=VERSIONS {
        m.insert(
            &(i % KEYS).to_be_bytes(),
            i,
            Kind::Put as u8,
            &i.to_le_bytes(),
        );
        published.store(i, Ordering::Release);
    }
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
}
