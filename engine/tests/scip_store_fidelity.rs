//! The store answers definition, references, hover, implementations and type definition
//! exactly as a plain in-memory implementation over the decoded index does, on the real
//! django (scip-python) and rxjs (scip-typescript) indexes, at a seeded sample of positions.

mod scip_common;

use std::collections::HashSet;
use std::fs::File;
use std::time::Instant;

use scip_common::{Reference, Rng, open_store, seed};
use scipkv_engine::scip::store::Target;
use scipkv_engine::scip::testdata::scip_file;

/// `samples` positions are drawn per index: enough to hit many symbol shapes, few enough for
/// debug builds. rxjs draws fewer: its `is_reference` relationships (interface members and
/// their implementations) make many reference lists tens of thousands of locations long.
fn check(file: &str, project: &str, version: &str, samples: usize) {
    let seed = seed(&format!("fidelity_{project}"));
    let path = scip_file(file);
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let t0 = Instant::now();
    let summary = store
        .ingest("t", project, version, File::open(&path).unwrap())
        .unwrap();
    println!("ingest {file}: {summary:?} in {:?}", t0.elapsed());
    let reference = Reference::load(&path, project, version);
    assert_eq!(summary.documents as usize, reference.docs.len());

    let t = Target::version("t", project, version);
    let mut rng = Rng(seed);
    // Occurrence sampling favours hot symbols (`expect` has thousands of references); check
    // each symbol once so the sample covers many symbols and stays fast in debug builds.
    let mut checked = HashSet::new();
    let mut draws = 0;
    let (mut nonempty_refs, mut hovers, mut impls, mut typedefs) = (0, 0, 0, 0);
    let mut longest = 0;
    let t1 = Instant::now();
    for i in 0..samples {
        let doc = &reference.docs[rng.below(reference.docs.len())];
        if doc.occurrences.is_empty() {
            continue;
        }
        let occ = &doc.occurrences[rng.below(doc.occurrences.len())];
        draws += 1;
        if !checked.insert(occ.symbol.clone()) {
            continue;
        }
        let p = &doc.relative_path;
        // The occurrence's start, or a character inside it.
        let (line, ch) = (occ.range[0] as u32, occ.range[1] as u32 + (i % 2) as u32);
        let ctx = format!("sample {i} at {p}:{line}:{ch} (seed {seed})");
        assert_eq!(
            store.definition(&t, p, line, ch).unwrap(),
            reference.definition(p, line, ch),
            "definition, {ctx}"
        );
        let refs = store.references(&t, p, line, ch, true).unwrap();
        assert_eq!(
            refs,
            reference.references(p, line, ch, true),
            "references, {ctx}"
        );
        nonempty_refs += usize::from(!refs.is_empty());
        longest = longest.max(refs.len());
        assert_eq!(
            store.references(&t, p, line, ch, false).unwrap(),
            reference.references(p, line, ch, false),
            "references without declaration, {ctx}"
        );
        let hover = store.hover(&t, p, line, ch).unwrap();
        assert_eq!(hover, reference.hover(p, line, ch), "hover, {ctx}");
        hovers += usize::from(hover.is_some());
        let im = store.implementations(&t, p, line, ch).unwrap();
        assert_eq!(
            im,
            reference.implementations(p, line, ch),
            "implementations, {ctx}"
        );
        impls += usize::from(!im.is_empty());
        let td = store.type_definition(&t, p, line, ch).unwrap();
        assert_eq!(
            td,
            reference.type_definition(p, line, ch),
            "type definition, {ctx}"
        );
        typedefs += usize::from(!td.is_empty());
    }
    println!(
        "{project}: {} distinct symbols of {draws} draws in {:?}: {nonempty_refs} with references, {hovers} hovers, \
         {impls} with implementations, {typedefs} with type definitions, longest reference list {longest}",
        checked.len(),
        t1.elapsed()
    );
    // The sample must exercise the interesting paths, not only empty answers.
    assert!(nonempty_refs > checked.len() / 2);
    assert!(hovers > checked.len() / 10);
}

#[test]
fn django_queries_match_reference() {
    check("django.scip.zst", "django", "5.1.4", 1500);
}

#[test]
fn rxjs_queries_match_reference() {
    check("rxjs.scip.zst", "rxjs", "54796b38a", 300);
}
