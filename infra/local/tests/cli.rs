//! The `skiff` binary as an operator meets it: bad configuration stops it with a
//! message naming the variable, and SIGTERM shuts it down cleanly without losing
//! queued messages.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn skiff() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skiff"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SKIFF_LOG", "warn");
    c
}

#[test]
fn an_invalid_variable_stops_startup_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = skiff()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("SKIFF_QUEUE_MAX_RECEIVES", "many")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SKIFF_QUEUE_MAX_RECEIVES"), "{stderr}");
}

#[test]
fn the_aws_backend_without_its_resources_names_the_missing_variable() {
    let out = skiff()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("SKIFF_BACKEND", "aws")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SKIFF_TABLE"));
}

#[test]
fn an_unusable_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = skiff()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("data directory"), "{stderr}");
    assert!(stderr.contains("not-a-dir"), "{stderr}");
}

#[test]
fn sigterm_shuts_down_cleanly_and_keeps_queued_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = skiff()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the banner.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("server output").unwrap();
        if line.contains("skiff is running at") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "clean exit, got {exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");

    // Messages queued while the server is down are still there for the next start.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (embedded, _) = skiff_shared::testing::embedded_services(dir.path()).await;
        embedded
            .services
            .queue
            .send("{\"kept\":true}".into())
            .await
            .unwrap();
        drop(embedded);
        let (embedded, _) = skiff_shared::testing::embedded_services(dir.path()).await;
        let got = embedded
            .services
            .queue
            .receive(10, Duration::from_secs(30), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body, "{\"kept\":true}");
    });
}

#[test]
fn admin_grant_for_an_unknown_address_names_it_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = skiff()
        .args([
            "admin",
            "grant",
            "--email",
            "nobody@example.com",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nobody@example.com"), "{stderr}");
}

#[test]
fn admin_key_rotation_rotates_then_retires() {
    let dir = tempfile::tempdir().unwrap();
    let run = |cmd: &str| {
        let out = skiff()
            .args(["admin", cmd, "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run("rotate-signing-key").contains("is current"));
    assert!(run("retire-signing-keys").contains("retired signing keys: "));
    assert!(run("retire-signing-keys").contains("no previous signing key"));
}
