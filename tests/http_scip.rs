//! The HTTP API against the embedded engine: upload a real index over HTTP (streamed), ask
//! the server at seeded positions, then open the same data directory with the engine and
//! check every answer is the one the engine gives. Then delete and `latest`.

mod server_support;

use std::fs::File;

use scipkv_engine::scip::store::{ScipStore, Target};
use scipkv_engine::scip::testdata::scip_file;
use scipkv_engine::scip::{Document, IndexItem, IndexReader};
use scipkv_server::scip_api::{self, At, Query};
use server_support::{Rng, Server, enc, seed};

const INDEX: &str = "rxjs-01-be72ebf1a.scip.zst";
const TENANT: &str = "default";

fn documents() -> Vec<Document> {
    let raw = zstd::decode_all(File::open(scip_file(INDEX)).unwrap()).unwrap();
    IndexReader::new(&raw[..])
        .unwrap()
        .filter_map(|item| match item.unwrap() {
            IndexItem::Document(d) => Some(d),
            _ => None,
        })
        .collect()
}

/// One question: the URL asked, and the same query for the engine.
struct Case {
    url: String,
    version: &'static str,
    query: Option<Query>,
    /// `/v1/symbols/definition`: the engine's answer is the symbol's definitions at `latest`.
    symbol: Option<String>,
}

fn cases(rng: &mut Rng) -> Vec<Case> {
    let docs = documents();
    let mut out = Vec::new();
    for i in 0..30 {
        let d = &docs[rng.below(docs.len())];
        if d.occurrences.is_empty() {
            continue;
        }
        let o = &d.occurrences[rng.below(d.occurrences.len())];
        let (line, character) = (o.range[0] as u32, o.range[1] as u32);
        let version = if i % 2 == 0 { "v1" } else { "latest" };
        let base = format!("/v1/projects/rxjs/versions/{version}");
        let p = enc(&d.relative_path);
        let at = At {
            path: d.relative_path.clone(),
            line,
            character,
        };
        let pos = format!("path={p}&line={line}&character={character}");
        let include = i % 3 == 0;
        for (route, query) in [
            ("definition", Query::Definition(at.clone())),
            ("hover", Query::Hover(at.clone())),
            ("implementations", Query::Implementations(at.clone())),
            ("type-definition", Query::TypeDefinition(at.clone())),
            (
                "references",
                Query::References {
                    at: at.clone(),
                    include_declaration: include,
                },
            ),
        ] {
            let extra = if route == "references" {
                format!("&includeDeclaration={include}")
            } else {
                String::new()
            };
            out.push(Case {
                url: format!("{base}/{route}?{pos}{extra}"),
                version,
                query: Some(query),
                symbol: None,
            });
        }
        out.push(Case {
            url: format!("{base}/document-symbols?path={p}"),
            version,
            query: Some(Query::DocumentSymbols {
                path: d.relative_path.clone(),
            }),
            symbol: None,
        });
        if !o.symbol.starts_with("local ") && !o.symbol.is_empty() {
            out.push(Case {
                url: format!("/v1/symbols/definition?symbol={}", enc(&o.symbol)),
                version: "latest",
                query: None,
                symbol: Some(o.symbol.clone()),
            });
        }
    }
    for name in ["Observable", "map", "pipe", "subscri", "zzzz-no-such"] {
        out.push(Case {
            url: format!(
                "/v1/projects/rxjs/versions/latest/workspace-symbols?query={name}&limit=10"
            ),
            version: "latest",
            query: Some(Query::WorkspaceSymbols {
                query: name.into(),
                limit: 10,
            }),
            symbol: None,
        });
    }
    out
}

#[test]
fn http_answers_equal_the_embedded_engine() {
    let mut rng = Rng(seed("http_answers_equal_the_embedded_engine"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let http = server.http(None);

    let mut file = File::open(scip_file(INDEX)).unwrap();
    let (status, body) = http.put_reader("/v1/projects/rxjs/versions/v1/index", &mut file);
    assert_eq!(status, 200, "{body}");
    let summary: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(summary["project"], "rxjs");
    assert_eq!(summary["version"], "v1");
    assert!(summary["documents"].as_u64().unwrap() > 100, "{summary}");

    let projects = http.get_json("/v1/projects");
    assert_eq!(projects[0]["project"], "rxjs");
    assert_eq!(projects[0]["latest"], "v1");

    let cases = cases(&mut rng);
    let answers: Vec<serde_json::Value> = cases.iter().map(|c| http.get_json(&c.url)).collect();
    assert_eq!(server.terminate().code(), Some(0));

    // The engine's answers from the same directory.
    let store = ScipStore::open(&data).unwrap();
    let (mut non_empty, mut hovers) = (0, 0);
    for (case, answer) in cases.iter().zip(&answers) {
        let t = Target::version(TENANT, "rxjs", case.version);
        let expected = match (&case.query, &case.symbol) {
            (Some(q), _) => scip_api::run(&store, &t, q, false).unwrap(),
            (None, Some(symbol)) => {
                scip_api::to_json(&store.symbol_definition(&t, symbol).unwrap(), false).unwrap()
            }
            (None, None) => unreachable!(),
        };
        let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
        assert_eq!(answer, &expected, "GET {}", case.url);
        match answer {
            serde_json::Value::Array(a) if !a.is_empty() => non_empty += 1,
            serde_json::Value::Object(_) => hovers += 1,
            _ => {}
        }
    }
    // Positions are occurrences, so most questions have answers: the comparison is not
    // between two empty lists.
    assert!(
        non_empty > cases.len() / 3,
        "{non_empty} of {}",
        cases.len()
    );
    assert!(hovers > 0);
    store.db().clone().close().unwrap();
    drop(store);

    // Delete: the version goes away, `latest` with it, and a second delete is a 404.
    let server = Server::start(&data);
    let http = server.http(None);
    let (status, body) = http.delete("/v1/projects/rxjs/versions/v1");
    assert_eq!(status, 200, "{body}");
    let deleted: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(deleted["deleted"]["version"], "v1");
    assert!(deleted["gc"]["documents_deleted"].as_u64().unwrap() > 0);
    for url in [&cases[0].url, &cases[1].url] {
        let (status, body) = http.get(url);
        assert_eq!(status, 404, "{url}: {body}");
        assert!(body.contains("\"error\""), "{body}");
    }
    assert_eq!(http.get_json("/v1/projects"), serde_json::json!([]));
    assert_eq!(http.delete("/v1/projects/rxjs/versions/v1").0, 404);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn latest_follows_the_newest_upload_and_unknown_names_are_404() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let http = server.http(None);
    let put = |v: &str, sym: &str| {
        let (status, body) = http.put_bytes(
            &format!("/v1/projects/p/versions/{v}/index"),
            &server_support::tiny_index("a.py", sym),
        );
        assert_eq!(status, 200, "{body}");
    };
    put("v1", "scip-python python p 1 a/one.");
    put("v2", "scip-python python p 1 a/two.");
    let hover = |v: &str| {
        http.get_json(&format!(
            "/v1/projects/p/versions/{v}/definition?path=a.py&line=0&character=5"
        ))
    };
    assert_eq!(hover("latest")[0]["version"], "v2");
    assert_eq!(hover("v1")[0]["version"], "v1");
    // A position with nothing there: 200 with an empty answer, not an error.
    let empty = http.get_json("/v1/projects/p/versions/latest/hover?path=a.py&line=9&character=0");
    assert_eq!(empty, serde_json::Value::Null);
    let none =
        http.get_json("/v1/projects/p/versions/v1/references?path=nope.py&line=0&character=0");
    assert_eq!(none, serde_json::json!([]));
    for url in [
        "/v1/projects/p/versions/v3/definition?path=a.py&line=0&character=5",
        "/v1/projects/q/versions/latest/document-symbols?path=a.py",
        "/v1/projects/q/versions/v1",
    ] {
        let (status, body) = if url.ends_with("/v1") {
            http.delete(url)
        } else {
            http.get(url)
        };
        assert_eq!(status, 404, "{url}: {body}");
    }
    // Deleting the newest version moves `latest` back.
    assert_eq!(http.delete("/v1/projects/p/versions/v2").0, 200);
    assert_eq!(hover("latest")[0]["version"], "v1");
    // `latest` is an alias, never a version name.
    let (status, _) = http.put_bytes(
        "/v1/projects/p/versions/latest/index",
        &server_support::tiny_index("a.py", "local 1"),
    );
    assert_eq!(status, 400);
    assert_eq!(server.terminate().code(), Some(0));
}
