//! `scipkv volume format` and `scipkv serve --volume`: formatting refuses to overwrite a
//! volume without --force, and a server on a volume keeps every acknowledged write across
//! SIGKILL and restart.

mod server_support;

use std::path::Path;
use std::process::{Command, Output};

use redis::cmd;
use server_support::Server;

fn scipkv(args: &[&str], path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scipkv"))
        .args(args)
        .arg(path)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON: {text:?}: {e}"))
}

fn serve_volume(path: &Path) -> Server {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scipkv"));
    c.arg("serve")
        .arg("--volume")
        .arg(path)
        .arg("--resp")
        .arg("127.0.0.1:0");
    Server::spawn(c)
}

#[test]
fn format_creates_refuses_and_forces() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("vol.img");
    let missing = scipkv(&["volume", "format"], &path);
    assert!(!missing.status.success(), "no file and no --size");
    let out = scipkv(&["volume", "format", "--size", "64M"], &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["event"], "formatted");
    assert_eq!(v["bytes"], 64 << 20);
    assert_eq!(v["generation"], 1);
    assert_eq!(v["block_device"], false);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 << 20);
    let again = scipkv(&["volume", "format"], &path);
    assert!(
        !again.status.success(),
        "a formatted volume is not overwritten"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = scipkv(&["volume", "format", "--force"], &path);
    assert!(forced.status.success());
    let sized = scipkv(&["volume", "format", "--size", "1M"], &path);
    assert!(
        !sized.status.success(),
        "--size never resizes an existing file"
    );
    let small = scipkv(
        &["volume", "format", "--size", "100K"],
        &dir.path().join("s"),
    );
    assert!(!small.status.success(), "too small for a volume");
}

#[test]
fn serve_on_a_volume_keeps_acknowledged_writes_across_kill_and_restart() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("vol.img");
    assert!(
        scipkv(&["volume", "format", "--size", "128M"], &path)
            .status
            .success()
    );
    let both = Command::new(env!("CARGO_BIN_EXE_scipkv"))
        .args(["serve", "--data", "x", "--volume"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!both.status.success(), "--data and --volume conflict");

    let server = serve_volume(&path);
    let mut con = server.client();
    for i in 0..300 {
        let () = cmd("SET")
            .arg(format!("k{i}"))
            .arg(format!("v{i}"))
            .query(&mut con)
            .unwrap();
    }
    drop(con);
    server.kill();
    let server = serve_volume(&path);
    let mut con = server.client();
    for i in 0..300 {
        let v: Option<String> = cmd("GET").arg(format!("k{i}")).query(&mut con).unwrap();
        assert_eq!(v.as_deref(), Some(format!("v{i}").as_str()), "k{i}");
    }
    let () = cmd("SET").arg("last").arg("x").query(&mut con).unwrap();
    drop(con);
    assert!(server.terminate().success());
    let server = serve_volume(&path);
    let v: Option<String> = cmd("GET").arg("last").query(&mut server.client()).unwrap();
    assert_eq!(v.as_deref(), Some("x"));
}
