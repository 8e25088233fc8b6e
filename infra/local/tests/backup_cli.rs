//! `skiff backup` and `skiff restore` as an operator runs them, output piped (so
//! progress is plain lines, not a bar): what they print, and their refusals.

use std::process::Command;

fn skiff() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skiff"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SKIFF_LOG", "warn");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_print_plain_progress_and_refuse_what_they_must() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    {
        // A data dir as a server leaves it: the store, the queue, the secrets.
        let (embedded, _) = skiff_app::testing::embedded_services(&data).await;
        embedded
            .services
            .queue
            .send("a message".into())
            .await
            .unwrap();
    }
    let backup = work.path().join("backup");
    let out = skiff()
        .args(["backup", "--to"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("backed up") && stdout.contains("secrets not included"),
        "{stdout}"
    );
    assert!(
        stderr.contains("databases:") && stderr.contains("  items.db ("),
        "{stderr}"
    );
    assert!(stderr.contains("  queue.db ("), "{stderr}");
    assert!(
        !stderr.contains('\r'),
        "no progress bar when not on a terminal: {stderr:?}"
    );

    let restored = work.path().join("restored");
    let out = skiff()
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(&restored)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("every checksum verified"), "{stdout}");
    assert!(stdout.contains("new ones are generated"), "{stdout}");
    assert!(restored.join("items.db").is_file() && restored.join("queue.db").is_file());

    // Again into the same, now non-empty, directory: refused, nothing changed.
    let out = skiff()
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(&restored)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));

    // Not a Skiff data dir: said so.
    let out = skiff()
        .args(["backup", "--to"])
        .arg(work.path().join("nothing"))
        .arg("--data-dir")
        .arg(work.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no items.db"));
}
