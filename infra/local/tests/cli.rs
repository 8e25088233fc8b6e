//! The `skiff` binary as an operator meets it: bad configuration stops it with a
//! message naming the variable, and SIGTERM shuts it down cleanly without losing
//! queued messages.

use skiff_adapters::sqlite_queue::SqliteQueue;
use skiff_core::ports::queue::Queue;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
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

// A production server refuses a mailer that delivers nothing, unless the
// operator chose it.
#[test]
fn production_without_a_mailer_stops_startup_naming_skiff_mail() {
    let dir = tempfile::tempdir().unwrap();
    let out = skiff()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("SKIFF_ENV", "prod")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SKIFF_MAIL"), "{stderr}");
    assert!(stderr.contains("SKIFF_MAIL=smtp"), "{stderr}");
}

#[test]
fn smtp_without_its_password_secret_stops_startup_saying_how_to_set_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = skiff()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .envs([
            ("SKIFF_ENV", "prod"),
            ("SKIFF_MAIL", "smtp"),
            ("SKIFF_SMTP_HOST", "smtp.example.com"),
            ("SKIFF_SMTP_USERNAME", "skiff"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skiff secrets set smtp_password"),
        "{stderr}"
    );
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

/// A `skiff serve` child that is killed if the test ends before it exits.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Forward the child's stderr lines to a channel, so every wait on them is bounded.
fn stderr_lines(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Wait (bounded) for a line containing `needle`; the lines before it are returned.
fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut seen = vec![];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return seen,
            Ok(line) => seen.push(line),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("no line with {needle:?} within {within:?}; saw {seen:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("the server's output ended before {needle:?}; saw {seen:?}")
            }
        }
    }
}

#[test]
fn sigterm_shuts_down_cleanly_and_keeps_queued_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server(
        skiff()
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = stderr_lines(&mut server.0);
    wait_for_line(&lines, "skiff is running at", Duration::from_secs(60));

    // Queued while the server runs: a kind no handler knows, so the server can never
    // finish it — at shutdown it is either still waiting or waiting for its retry.
    let clock = skiff_core::clock::OffsetClock::new();
    let queue_path = dir.path().join("queue.db");
    let body = serde_json::json!({
        "id": "01J0000000000000000000KEPT", "kind": "test.kept",
        "payload": {"kept": true}, "created_at": 0,
    })
    .to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sent = rt.block_on(async {
        let queue = SqliteQueue::open(&queue_path, 5, clock.clone()).unwrap();
        queue.send(body.clone()).await.unwrap()
    });

    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "clean exit, got {exit:?}");
    wait_for_line(&lines, "shutting down", Duration::from_secs(10));

    // The next start finds it: once any retry delay has passed, it is delivered.
    clock.advance(Duration::from_secs(3600));
    rt.block_on(async {
        let queue = SqliteQueue::open(&queue_path, 5, clock.clone()).unwrap();
        let got = queue
            .receive(10, Duration::from_secs(30), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].message_id, sent);
        assert_eq!(got[0].body, body);
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
