//! Versions on three consecutive rxjs commits (rxjs-03 oldest, uploaded first): each version
//! answers from its own state, `latest` follows the newest upload, re-uploading replaces,
//! and delete + GC gives the space back, measured as logical bytes of live keys and as
//! physical table bytes after flush + `compact_all`.

mod scip_common;

use std::fs::File;

use scip_common::{Reference, Rng, open_store, seed};
use scipkv_engine::scip::store::{ScipStore, Target};
use scipkv_engine::scip::testdata::scip_file;

const VERSIONS: [(&str, &str); 3] = [
    ("rxjs-03-c0ccc04b2.scip.zst", "c0ccc04b2"),
    ("rxjs-02-7a9407bbe.scip.zst", "7a9407bbe"),
    ("rxjs-01-be72ebf1a.scip.zst", "be72ebf1a"),
];

fn ingest(store: &ScipStore, file: &str, version: &str) {
    let s = store
        .ingest("t", "rxjs", version, File::open(scip_file(file)).unwrap())
        .unwrap();
    println!("{file}: {} documents, {} new", s.documents, s.new_documents);
}

/// Physical bytes of every table after flush and a full compaction (tombstones dropped).
fn settled_bytes(store: &ScipStore) -> u64 {
    store.db().flush().unwrap();
    store.db().compact_all().unwrap();
    store.db().stats().levels.iter().map(|l| l.bytes).sum()
}

fn latest(store: &ScipStore) -> Option<String> {
    store.projects("t").unwrap()[0].latest.clone()
}

fn check_version(store: &ScipStore, t: &Target<'_>, r: &Reference, rng: &mut Rng, n: usize) {
    for i in 0..n {
        let doc = &r.docs[rng.below(r.docs.len())];
        if doc.occurrences.is_empty() {
            continue;
        }
        let occ = &doc.occurrences[rng.below(doc.occurrences.len())];
        let (p, line, ch) = (&doc.relative_path, occ.range[0] as u32, occ.range[1] as u32);
        let ctx = format!("{} sample {i} at {p}:{line}:{ch}", r.version);
        let mut want = r.definition(p, line, ch);
        let mut got = store.definition(t, p, line, ch).unwrap();
        // Through `latest` the answer names the concrete version.
        for l in want.iter_mut().chain(got.iter_mut()) {
            l.version.clear();
        }
        assert_eq!(got, want, "definition, {ctx}");
        let strip = |mut v: Vec<scipkv_engine::scip::store::Location>| {
            v.iter_mut().for_each(|l| l.version.clear());
            v
        };
        assert_eq!(
            strip(store.references(t, p, line, ch, true).unwrap()),
            strip(r.references(p, line, ch, true)),
            "references, {ctx}"
        );
        assert_eq!(
            store.hover(t, p, line, ch).unwrap(),
            r.hover(p, line, ch),
            "hover, {ctx}"
        );
    }
}

#[test]
fn versions_answer_from_their_own_state_and_gc_reclaims_deleted_ones() {
    let seed = seed("versions");
    let mut rng = Rng(seed);
    let refs: Vec<Reference> = VERSIONS
        .iter()
        .map(|(f, v)| Reference::load(&scip_file(f), "rxjs", v))
        .collect();

    // Single-version baselines for the sharing ratio and the GC check.
    let one = tempfile::tempdir().unwrap();
    let single = open_store(one.path());
    ingest(&single, VERSIONS[2].0, VERSIONS[2].1);
    let one_version = single.logical_bytes("t").unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let mut after_two = 0;
    let mut physical_two = 0;
    for (i, (f, v)) in VERSIONS.iter().enumerate() {
        ingest(&store, f, v);
        assert_eq!(
            latest(&store).as_deref(),
            Some(*v),
            "latest follows the newest upload"
        );
        if i == 1 {
            after_two = store.logical_bytes("t").unwrap();
            physical_two = settled_bytes(&store);
        }
    }
    let three = store.logical_bytes("t").unwrap();
    let physical_three = settled_bytes(&store);
    let ratio = three as f64 / one_version as f64;
    println!("logical bytes: one version {one_version}, three versions {three} ({ratio:.3}x)");
    assert!(ratio <= 1.3, "three versions take {ratio:.3}x one version");

    for (r, (_, v)) in refs.iter().zip(VERSIONS) {
        check_version(&store, &Target::version("t", "rxjs", v), r, &mut rng, 200);
    }
    check_version(
        &store,
        &Target::latest("t", "rxjs"),
        &refs[2],
        &mut rng,
        200,
    );

    // Delete the newest: latest falls back, and GC returns exactly to the two-version size.
    assert!(store.delete_version("t", "rxjs", VERSIONS[2].1).unwrap());
    assert!(!store.delete_version("t", "rxjs", VERSIONS[2].1).unwrap());
    assert_eq!(latest(&store).as_deref(), Some(VERSIONS[1].1));
    let gc = store.gc("t").unwrap();
    println!("gc after deleting {}: {gc:?}", VERSIONS[2].1);
    assert!(gc.documents_deleted > 0);
    assert_eq!(store.logical_bytes("t").unwrap(), after_two);
    // The space comes back on disk too, once compaction has dropped the tombstones. Not
    // byte-exact: blocks, dictionaries and table boundaries differ between the two runs.
    let physical_after_gc = settled_bytes(&store);
    println!(
        "physical bytes after flush + compact_all: two versions {physical_two}, three \
         {physical_three}, three minus the newest after GC {physical_after_gc}"
    );
    assert!(physical_three > physical_two);
    assert!(
        physical_after_gc <= physical_two + physical_two / 20,
        "GC left {physical_after_gc} bytes on disk, two versions took {physical_two}"
    );
    check_version(
        &store,
        &Target::latest("t", "rxjs"),
        &refs[1],
        &mut rng,
        100,
    );
    let t01 = Target::version("t", "rxjs", VERSIONS[2].1);
    let d = &refs[2].docs[0];
    assert!(
        store
            .definition(&t01, &d.relative_path, d.occurrences[0].range[0] as u32, 0)
            .unwrap()
            .is_empty()
    );

    // Re-uploading a version under an existing name replaces it.
    ingest(&store, VERSIONS[2].0, VERSIONS[1].1);
    check_version(
        &store,
        &Target::version("t", "rxjs", VERSIONS[1].1),
        &refs[2],
        &mut rng,
        100,
    );

    // Deleting everything leaves only the upload counter.
    for (_, v) in VERSIONS {
        store.delete_version("t", "rxjs", v).unwrap();
    }
    assert!(store.projects("t").unwrap().is_empty());
    store.gc("t").unwrap();
    let left = store.logical_bytes("t").unwrap();
    assert!(left < 32, "{left} bytes left after deleting every version");
    // What stays on disk is one table holding the counter key: its fixed overhead (index,
    // filter, compression dictionary; 65,819 bytes when measured), not data of the versions.
    let on_disk = settled_bytes(&store);
    println!("physical bytes after deleting every version, GC and compact_all: {on_disk}");
    assert!(
        on_disk < physical_two / 10,
        "{on_disk} bytes of tables left after deleting every version"
    );
}

#[test]
fn tenants_are_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let (f, v) = VERSIONS[0];
    store
        .ingest("a", "rxjs", v, File::open(scip_file(f)).unwrap())
        .unwrap();
    assert!(store.projects("b").unwrap().is_empty());
    let r = Reference::load(&scip_file(f), "rxjs", v);
    // The first occurrence with a non-empty range (scip-typescript opens files with a
    // zero-width module definition, which contains no position).
    let (d, o) = r
        .docs
        .iter()
        .flat_map(|d| d.occurrences.iter().map(move |o| (d, o)))
        .find(|(_, o)| o.range.len() == 3 && o.range[2] > o.range[1])
        .unwrap();
    let (line, ch) = (o.range[0] as u32, o.range[1] as u32);
    assert!(
        !store
            .references(
                &Target::latest("a", "rxjs"),
                &d.relative_path,
                line,
                ch,
                true
            )
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .references(
                &Target::latest("b", "rxjs"),
                &d.relative_path,
                line,
                ch,
                true
            )
            .unwrap()
            .is_empty()
    );
    // GC of one tenant never touches another.
    store.delete_version("b", "rxjs", v).unwrap();
    let before = store.logical_bytes("a").unwrap();
    store.gc("b").unwrap();
    assert_eq!(store.logical_bytes("a").unwrap(), before);
}
