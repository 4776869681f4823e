use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use super::*;
use crate::scip::tests::seed::test_seed;

fn d(name: &str, suffix: Suffix) -> Descriptor {
    Descriptor {
        name: name.into(),
        disambiguator: String::new(),
        suffix,
    }
}

fn global(descriptors: Vec<Descriptor>) -> Symbol {
    Symbol::Global {
        scheme: "s".into(),
        package: Package {
            manager: "m".into(),
            name: "n".into(),
            version: "v".into(),
        },
        descriptors,
    }
}

fn round_trip(s: &str) -> Symbol {
    let sym = parse_symbol(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
    assert_eq!(format_symbol(&sym), s);
    sym
}

#[test]
fn every_descriptor_kind() {
    let sym = round_trip("s m n v a/B#c.d:e!f(+1).[T](p)g().");
    let mut method = d("f", Suffix::Method);
    method.disambiguator = "+1".into();
    assert_eq!(
        sym,
        global(vec![
            d("a", Suffix::Namespace),
            d("B", Suffix::Type),
            d("c", Suffix::Term),
            d("d", Suffix::Meta),
            d("e", Suffix::Macro),
            method,
            d("T", Suffix::TypeParameter),
            d("p", Suffix::Parameter),
            d("g", Suffix::Method),
        ])
    );
}

#[test]
fn backticks_escape_names_both_ways() {
    let sym = round_trip("s m n v `a.b`/`x``y`#`with space`.[`T U`](`(p)`)");
    let names: Vec<_> = match &sym {
        Symbol::Global { descriptors, .. } => descriptors.iter().map(|d| d.name.as_str()).collect(),
        Symbol::Local(_) => unreachable!(),
    };
    assert_eq!(names, ["a.b", "x`y", "with space", "T U", "(p)"]);
    // Unicode inside backticks, and an empty name.
    round_trip("s m n v `héllo`/``#");
    // Needless escaping parses, and formats without the backticks.
    assert_eq!(
        format_symbol(&parse_symbol("s m n v `abc`/").unwrap()),
        "s m n v abc/"
    );
}

#[test]
fn doubled_spaces_escape_package_parts() {
    let sym = round_trip("my  scheme a  b . 1  0 x.");
    assert_eq!(
        sym,
        Symbol::Global {
            scheme: "my scheme".into(),
            package: Package {
                manager: "a b".into(),
                name: String::new(),
                version: "1 0".into(),
            },
            descriptors: vec![d("x", Suffix::Term)],
        }
    );
    assert_eq!(sym.package_key(), Some(("a b", "", "1 0")));
    // Three spaces: an escaped space, then the separator.
    let sym = round_trip("s m   n v x.");
    assert_eq!(sym.package_key(), Some(("m ", "n", "v")));
}

#[test]
fn real_world_symbols() {
    let sym =
        round_trip("scip-python python django 5.1.4 django/db/models/query/QuerySet#filter().");
    assert_eq!(sym.display_name(), Some("filter"));
    assert_eq!(sym.package_key(), Some(("python", "django", "5.1.4")));
    assert!(!sym.is_local());
    assert_eq!(
        sym.parent().map(|p| format_symbol(&p)).as_deref(),
        Some("scip-python python django 5.1.4 django/db/models/query/QuerySet#")
    );

    let sym = round_trip(
        "scip-typescript npm rxjs 8.0.0-alpha.14 src/internal/Observable.ts/Observable#pipe().",
    );
    assert_eq!(sym.display_name(), Some("pipe"));
    assert_eq!(sym.package_key(), Some(("npm", "rxjs", "8.0.0-alpha.14")));
    // `Observable.ts/` is a term `Observable` followed by a namespace `ts`.
    match &sym {
        Symbol::Global { descriptors, .. } => {
            assert_eq!(descriptors[2], d("Observable", Suffix::Term));
            assert_eq!(descriptors[3], d("ts", Suffix::Namespace));
        }
        Symbol::Local(_) => unreachable!(),
    }

    let sym = round_trip(
        "scip-python python django 5.1.4 `django.views.generic.base`/RedirectView#put().(args)",
    );
    assert_eq!(sym.display_name(), Some("args"));

    let sym = round_trip("local 42");
    assert!(sym.is_local());
    assert_eq!(sym, Symbol::Local("42".into()));
    assert_eq!(sym.display_name(), None);
    assert_eq!(sym.package_key(), None);
}

#[test]
fn rejects_malformed_symbols() {
    for (s, pos, what) in [
        ("", 0, "empty symbol"),
        ("local ", 6, "empty local id"),
        (" m n v x.", 0, "empty scheme"),
        ("s m n v", 7, "not followed by a space"),
        ("s m n v ", 8, "missing descriptor"),
        ("s m n v `abc/", 8, "unterminated backtick"),
        ("s m n v abc", 11, "descriptor suffix"),
        ("s m n v a(b", 11, "expected `)`"),
        ("s m n v a()", 11, "expected `.`"),
        ("s m n v [T", 10, "expected `]`"),
        ("s m n v /", 8, "expected an identifier"),
        ("s m n v é.", 8, "expected an identifier"),
    ] {
        let err = parse_symbol(s).expect_err(s);
        assert_eq!(err.pos, pos, "{s:?}: {err}");
        assert!(err.what.contains(what), "{s:?}: {err}");
    }
}

fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_+$-]{1,8}",
        // Anything, including backticks, spaces, delimiters and non-ASCII.
        "[ -~é` ]{0,8}",
    ]
}

fn any_part() -> impl Strategy<Value = String> {
    // `.` alone means "empty", so it cannot stand for itself; a leading space would merge with
    // the separator before it (see `format_symbol`).
    "[ -~é]{0,8}".prop_filter("not expressible", |p| p != "." && !p.starts_with(' '))
}

fn any_descriptor() -> impl Strategy<Value = Descriptor> {
    let suffix = prop_oneof![
        Just(Suffix::Namespace),
        Just(Suffix::Type),
        Just(Suffix::Term),
        Just(Suffix::Method),
        Just(Suffix::TypeParameter),
        Just(Suffix::Parameter),
        Just(Suffix::Meta),
        Just(Suffix::Macro),
    ];
    (any_name(), "[a-zA-Z0-9_+$-]{0,3}", suffix).prop_map(|(name, dis, suffix)| Descriptor {
        name,
        disambiguator: if suffix == Suffix::Method {
            dis
        } else {
            String::new()
        },
        suffix,
    })
}

fn any_symbol() -> impl Strategy<Value = Symbol> {
    let global = (
        "[ -~é]{1,8}".prop_filter("a `local` scheme reads back as a local symbol", |s| {
            !s.starts_with("local")
        }),
        any_part(),
        any_part(),
        any_part(),
        prop::collection::vec(any_descriptor(), 1..6),
    )
        .prop_map(
            |(scheme, manager, name, version, descriptors)| Symbol::Global {
                scheme,
                package: Package {
                    manager,
                    name,
                    version,
                },
                descriptors,
            },
        );
    prop_oneof![global, "[ -~]{1,6}".prop_map(Symbol::Local)]
}

#[test]
fn generated_symbols_round_trip() {
    let seed = test_seed("generated_symbols_round_trip");
    let config = Config {
        cases: 2000,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new(config)
        .run(&any_symbol(), |sym| {
            let s = format_symbol(&sym);
            let back = parse_symbol(&s).map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
            prop_assert_eq!(&back, &sym, "via {:?}", s);
            prop_assert_eq!(format_symbol(&back), s);
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_strings_never_panic() {
    let seed = test_seed("arbitrary_strings_never_panic");
    let config = Config {
        cases: 2000,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new(config)
        .run(&"[ -~é`]{0,24}", |s| {
            // Whatever parses must format to something that parses to the same symbol.
            if let Ok(sym) = parse_symbol(&s) {
                let again = parse_symbol(&format_symbol(&sym));
                prop_assert_eq!(again.ok(), Some(sym));
            }
            Ok(())
        })
        .unwrap();
}
