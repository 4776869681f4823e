//! The SCIP subcommands of the `scipkv` binary as other programs call them: JSON on stdout,
//! diagnostics on stderr, a non-zero exit on failure, `[]`/`null` for no answer.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use scipkv_engine::scip::testdata::scip_file;
use serde_json::Value;

fn scipkv(data: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scipkv"));
    cmd.args(args.iter().take(1)).arg("--data").arg(data);
    cmd.args(&args[1..]);
    cmd.output().expect("running scipkv")
}

/// Runs and parses stdout as JSON, failing with stderr when the command fails.
fn json(data: &Path, args: &[&str]) -> Value {
    let out = scipkv(data, args);
    assert!(
        out.status.success(),
        "scipkv {args:?} failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "scipkv {args:?}: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn ingest(data: &Path, version: &str, file: &str) -> Value {
    let path = scip_file(file);
    json(
        data,
        &[
            "ingest",
            "--project",
            "rxjs",
            "--version",
            version,
            path.to_str().unwrap(),
        ],
    )
}

/// The first outline entry (depth first) whose name has a nonempty range (a module's
/// definition is an empty range at 0:0, which no position falls in).
fn first_symbol(outline: &Value) -> Option<Value> {
    for s in outline.as_array()? {
        let r = &s["selectionRange"];
        if !s["name"].as_str().unwrap_or_default().is_empty() && r["start"] != r["end"] {
            return Some(s.clone());
        }
        if let Some(found) = first_symbol(&s["children"]) {
            return Some(found);
        }
    }
    None
}

#[test]
fn ingest_query_list_and_delete_speak_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let summary = ingest(data, "v1", "rxjs-01-be72ebf1a.scip.zst");
    assert_eq!(summary["project"], "rxjs");
    assert_eq!(summary["version"], "v1");
    assert!(summary["documents"].as_u64().unwrap() > 100, "{summary}");
    assert!(
        summary["occurrences"].as_u64().unwrap() > 10_000,
        "{summary}"
    );
    assert!(
        summary["input_bytes"].as_u64().unwrap() > 1_000_000,
        "{summary}"
    );

    let projects = json(data, &["projects"]);
    assert_eq!(projects[0]["project"], "rxjs", "{projects}");
    assert_eq!(projects[0]["latest"], "v1", "{projects}");

    // A workspace symbol, then its definition through the position of its own outline entry.
    let found = json(
        data,
        &[
            "query",
            "--project",
            "rxjs",
            "workspace-symbols",
            "Observable",
            "--limit",
            "3",
        ],
    );
    let found = found.as_array().expect("workspace-symbols is an array");
    assert!(!found.is_empty() && found.len() <= 3, "{found:?}");
    let path = found
        .iter()
        .find_map(|s| s["location"]["path"].as_str())
        .expect("a workspace symbol with a location")
        .to_string();
    let outline = json(
        data,
        &["query", "--project", "rxjs", "document-symbols", &path],
    );
    let sym = first_symbol(&outline).expect("an outline entry");
    assert!(
        sym.get("selectionRange").is_some(),
        "LSP field names: {sym}"
    );
    let start = &sym["selectionRange"]["start"];
    let (line, character) = (start["line"].to_string(), start["character"].to_string());
    let defs = json(
        data,
        &[
            "query",
            "--project",
            "rxjs",
            "definition",
            &path,
            &line,
            &character,
        ],
    );
    let defs = defs.as_array().expect("definition is an array");
    assert!(
        defs.iter()
            .any(|d| d["path"] == path.as_str() && d["range"] == sym["selectionRange"]),
        "the definition of {} should be its own outline entry: {defs:?}",
        sym["symbol"]
    );
    let hover = json(
        data,
        &[
            "query",
            "--project",
            "rxjs",
            "--version",
            "v1",
            "hover",
            &path,
            &line,
            &character,
        ],
    );
    assert!(hover.is_null() || hover["contents"].is_string(), "{hover}");

    // No answer is an empty list, not an error.
    let none = json(
        data,
        &[
            "query",
            "--project",
            "rxjs",
            "references",
            &path,
            "999999",
            "0",
        ],
    );
    assert_eq!(none, Value::Array(Vec::new()));

    json(data, &["delete", "--project", "rxjs", "--version", "v1"]);
    let projects = json(data, &["projects"]);
    let listed = projects
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["versions"].as_array().is_some_and(|v| !v.is_empty()));
    assert!(!listed, "the deleted version is still listed: {projects}");
}

#[test]
fn failures_exit_non_zero_with_the_reason_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = scipkv(
        dir.path(),
        &["query", "--project", "nope", "definition", "a.ts", "0", "0"],
    );
    assert!(
        !out.status.success(),
        "querying a missing project succeeded"
    );
    assert!(out.stdout.is_empty(), "stdout must stay JSON-only");
    assert!(!out.stderr.is_empty(), "no reason given");

    let bad = dir.path().join("bad.scip");
    std::fs::write(&bad, b"\x0a\xff\xff\xff\xff\x0f").unwrap();
    let out = scipkv(
        dir.path(),
        &[
            "ingest",
            "--project",
            "p",
            "--version",
            "v",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success(), "a corrupt index was accepted");
    assert!(out.stdout.is_empty());
    let projects = json(dir.path(), &["projects"]);
    assert_eq!(
        projects,
        Value::Array(Vec::new()),
        "a rejected upload left {projects}"
    );
}

#[test]
fn a_reader_that_went_away_is_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_scipkv"))
        .args(["projects", "--data"])
        .arg(dir.path())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{}: {stderr}", out.status);
}
