//! Queries the fidelity tests do not cover, on small fixtures: cross-project definitions,
//! locals staying in their document, workspace symbol ranking, outlines, diagnostics.

mod scip_common;

use scip_common::open_store;
use scipkv_engine::scip::store::Target;
use scipkv_engine::scip::{
    Diagnostic, Document, Metadata, Occurrence, SymbolInformation, encode_index,
};

const LIB_FN: &str = "scip-python python lib 1.0 lib/Parser#parse().";
const LIB_CLASS: &str = "scip-python python lib 1.0 lib/Parser#";

fn occ(range: Vec<i32>, symbol: &str, roles: i32, enclosing: Vec<i32>) -> Occurrence {
    Occurrence {
        range,
        symbol: symbol.into(),
        symbol_roles: roles,
        enclosing_range: enclosing,
        ..Default::default()
    }
}

fn lib() -> Vec<u8> {
    lib_with_parse_at(2)
}

/// The library with `parse` defined at `line`.
fn lib_with_parse_at(line: i32) -> Vec<u8> {
    let doc = Document {
        relative_path: "lib/parser.py".into(),
        position_encoding: 2,
        occurrences: vec![
            occ(vec![0, 6, 12], LIB_CLASS, 1, vec![0, 0, 9, 0]),
            occ(vec![line, 8, 13], LIB_FN, 1, vec![line, 4, line + 3, 0]),
            occ(vec![3, 8, 9], "local 0", 1, vec![]),
        ],
        symbols: vec![SymbolInformation {
            symbol: LIB_FN.into(),
            documentation: vec!["Parses.".into()],
            kind: 26,
            display_name: "parse".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    encode_index(&Metadata::default(), &[doc], &[])
}

fn app() -> Vec<u8> {
    encode_index(&Metadata::default(), &[app_doc()], &[])
}

fn app_doc() -> Document {
    let mut use_site = occ(vec![1, 4, 9], LIB_FN, 0, vec![]);
    use_site.diagnostics = vec![Diagnostic {
        severity: 2,
        message: "deprecated".into(),
        tags: vec![2],
        ..Default::default()
    }];
    Document {
        relative_path: "app.py".into(),
        occurrences: vec![use_site, occ(vec![3, 0, 1], "local 0", 0, vec![])],
        ..Default::default()
    }
}

#[test]
fn cross_project_definition_and_hover_resolve_into_the_defining_project() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    store.ingest("t", "lib", "1.0", &lib()[..]).unwrap();
    store.ingest("t", "app", "main", &app()[..]).unwrap();
    let app = Target::latest("t", "app");
    let defs = store.definition(&app, "app.py", 1, 5).unwrap();
    assert_eq!(defs.len(), 1);
    assert_eq!(
        (defs[0].project.as_str(), defs[0].path.as_str()),
        ("lib", "lib/parser.py")
    );
    assert_eq!(defs[0].range.start.line, 2);
    assert_eq!(
        store.hover(&app, "app.py", 1, 5).unwrap().unwrap().contents,
        "Parses."
    );
    // A local never leaves its document, even when another document uses the same id.
    assert!(store.definition(&app, "app.py", 3, 0).unwrap().is_empty());
    assert!(store.symbol_definition(&app, "local 0").unwrap().is_empty());
    // Deleting the library makes the reference dangle instead of pointing at stale data.
    store.delete_version("t", "lib", "1.0").unwrap();
    assert!(store.definition(&app, "app.py", 1, 5).unwrap().is_empty());
}

/// Which projects provide a package is cached (per generation of the store's metadata
/// writes), and so is each position's definition plan (per upload): every upload, re-upload,
/// delete and GC must still show in the very next answer, by position, by symbol and in hover.
#[test]
fn cross_project_answers_follow_the_providers_uploads_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    store.ingest("t", "app", "main", &app()[..]).unwrap();
    let app = Target::latest("t", "app");
    // (project, version, line) of every definition, by position and by symbol (which must
    // agree), after asking twice so the second answer comes from the caches.
    let defs = || -> Vec<(String, String, u32)> {
        let mut first = None;
        for _ in 0..2 {
            let by_pos = store.definition(&app, "app.py", 1, 5).unwrap();
            let by_sym = store.symbol_definition(&app, LIB_FN).unwrap();
            assert_eq!(by_pos, by_sym);
            let v: Vec<_> = by_pos
                .into_iter()
                .map(|l| (l.project, l.version, l.range.start.line))
                .collect();
            assert_eq!(*first.get_or_insert_with(|| v.clone()), v);
        }
        first.unwrap()
    };
    let hover = || {
        store
            .hover(&app, "app.py", 1, 5)
            .unwrap()
            .map(|h| h.contents)
    };
    let at = |p: &str, v: &str, line: u32| (p.to_owned(), v.to_owned(), line);

    assert!(defs().is_empty(), "no provider yet");
    assert_eq!(hover(), None);
    store.ingest("t", "lib", "1.0", &lib()[..]).unwrap();
    assert_eq!(defs(), [at("lib", "1.0", 2)]);
    assert_eq!(hover().as_deref(), Some("Parses."));
    // Re-uploading the same version replaces its definition.
    store
        .ingest("t", "lib", "1.0", &lib_with_parse_at(7)[..])
        .unwrap();
    assert_eq!(defs(), [at("lib", "1.0", 7)]);
    store.gc("t").unwrap();
    assert_eq!(defs(), [at("lib", "1.0", 7)]);
    // A second provider adds its definition; deleting one removes only its own.
    store
        .ingest("t", "lib-fork", "x", &lib_with_parse_at(4)[..])
        .unwrap();
    assert_eq!(defs(), [at("lib", "1.0", 7), at("lib-fork", "x", 4)]);
    assert!(store.delete_version("t", "lib", "1.0").unwrap());
    assert_eq!(defs(), [at("lib-fork", "x", 4)]);
    assert_eq!(hover().as_deref(), Some("Parses."));
    assert!(store.delete_version("t", "lib-fork", "x").unwrap());
    assert!(defs().is_empty());
    assert_eq!(hover(), None);
    // A provider of another tenant never answers.
    store.ingest("u", "lib", "1.0", &lib()[..]).unwrap();
    assert!(defs().is_empty());
    // The plan is per upload: a new upload of the app that defines the symbol itself
    // answers from the app, and the provider is no longer consulted.
    store.ingest("t", "lib", "1.0", &lib()[..]).unwrap();
    assert_eq!(defs(), [at("lib", "1.0", 2)]);
    let mut own = app_doc();
    own.occurrences[0].symbol_roles = 1;
    store
        .ingest(
            "t",
            "app",
            "main",
            &encode_index(&Metadata::default(), &[own], &[])[..],
        )
        .unwrap();
    assert_eq!(defs(), [at("app", "main", 1)]);
}

#[test]
fn diagnostics_outline_and_workspace_symbols() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    store.ingest("t", "lib", "1.0", &lib()[..]).unwrap();
    store.ingest("t", "app", "main", &app()[..]).unwrap();
    let d = store
        .diagnostics(&Target::latest("t", "app"), "app.py")
        .unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].message.as_str(), d[0].severity, d[0].range.start.line),
        ("deprecated", 2, 1)
    );

    let lib = Target::latest("t", "lib");
    let outline = store.document_symbols(&lib, "lib/parser.py").unwrap();
    assert_eq!(outline.len(), 1, "{outline:?}");
    assert_eq!(outline[0].name, "Parser");
    assert_eq!(outline[0].children.len(), 1);
    assert_eq!(
        (
            outline[0].children[0].name.as_str(),
            outline[0].children[0].kind
        ),
        ("parse", 26)
    );

    let names = |q: &str| -> Vec<String> {
        store
            .workspace_symbols(&lib, q, 10)
            .unwrap()
            .into_iter()
            .map(|w| w.name)
            .collect()
    };
    assert_eq!(names("parse"), ["parse", "Parser"]);
    // `parse` matches through its descriptor `lib/Parser#parse().`, ranked last.
    assert_eq!(names("Parser"), ["Parser", "parse"]);
    assert_eq!(names("ARS"), ["parse", "Parser"]);
    assert_eq!(names("Parser#parse"), ["parse"]);
    assert!(names("zzz").is_empty());
    assert_eq!(store.workspace_symbols(&lib, "parse", 1).unwrap().len(), 1);
    // Positions come back in the document's own encoding (UTF-16 here), unconverted.
    let occs = store.occurrences(&lib, "lib/parser.py", 2, 9).unwrap();
    assert_eq!(occs[0].range.start.character, 8);
}

/// Type definition follows `is_type_definition` from the symbol at the position (or given
/// as a string) to the definitions of its targets, in other documents too.
#[test]
fn type_definition_follows_is_type_definition() {
    use scipkv_engine::scip::Relationship;
    const FOO: &str = "scip-typescript npm app 1.0 src/`a.ts`/Foo#";
    const X: &str = "scip-typescript npm app 1.0 src/`a.ts`/x.";
    let a = Document {
        relative_path: "src/a.ts".into(),
        occurrences: vec![
            occ(vec![0, 6, 9], FOO, 1, vec![0, 0, 1, 1]),
            occ(vec![2, 6, 7], X, 1, vec![]),
        ],
        symbols: vec![SymbolInformation {
            symbol: X.into(),
            relationships: vec![Relationship {
                symbol: FOO.into(),
                is_type_definition: true,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let b = Document {
        relative_path: "src/b.ts".into(),
        occurrences: vec![occ(vec![1, 0, 1], X, 8, vec![])],
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    store
        .ingest(
            "t",
            "app",
            "1",
            &encode_index(&Metadata::default(), &[a, b], &[])[..],
        )
        .unwrap();
    let t = Target::latest("t", "app");
    let got = store.type_definition(&t, "src/b.ts", 1, 0).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].path, "src/a.ts");
    assert_eq!(
        (got[0].range.start.line, got[0].range.start.character),
        (0, 6)
    );
    assert_eq!(store.symbol_type_definition(&t, X).unwrap(), got);
    // The type itself has no type definition; a position on nothing answers nothing.
    assert!(
        store
            .type_definition(&t, "src/a.ts", 0, 7)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .type_definition(&t, "src/b.ts", 5, 0)
            .unwrap()
            .is_empty()
    );
}
