//! Runs the crash-loop stress tester (`scipkv-stress`, engine/src/bin) for 100 SIGKILLs:
//! several writer threads, an expected-state trace, verification after every reopen.
//! `SCIPKV_STRESS_KILLS` changes the number of kills; `SCIPKV_SEED` reruns a failure.

use std::process::Command;

#[test]
fn stress_tester_survives_100_sigkills() {
    let kills = std::env::var("SCIPKV_STRESS_KILLS").unwrap_or_else(|_| "100".into());
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scipkv-stress"))
        .args(["--dir", dir.path().to_str().unwrap(), "--kills", &kills])
        .args(["--threads", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(out.status.success(), "scipkv-stress failed:\n{stderr}");
    assert!(
        stdout.contains(&format!("{kills} kills survived")),
        "{stdout}"
    );
}
