//! `skiff serve` in production refuses to start with a mailer that delivers
//! nothing, unless the operator chose it.

use std::process::Command;

fn skiff() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skiff"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SKIFF_LOG", "warn");
    c
}

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
