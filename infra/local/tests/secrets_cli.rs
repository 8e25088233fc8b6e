//! `skiff secrets` as an operator meets it: the value comes from stdin and never
//! shows up in the output, files are private, names are checked, and what the CLI
//! stores is what the server's secrets adapter reads.

use skiff_adapters::file_secrets::FileSecrets;
use skiff_billing::{STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET};
use skiff_core::ports::secrets::Secrets;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn skiff(data_dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skiff"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SKIFF_LOG", "warn")
        .arg("secrets")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir);
    c
}

/// Run `skiff secrets <args>` with `stdin` piped in.
fn run(data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = skiff(data_dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn skiff");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn read_back(data_dir: &Path, name: skiff_core::ports::secrets::SecretName) -> String {
    let secrets = FileSecrets::open(data_dir.join("secrets")).unwrap();
    secrets.get(name).await.unwrap().expose().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_reads_stdin_stores_a_private_file_the_server_reads_and_never_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let value = "sk_test_51VerySecretValue";
    let out = run(
        dir.path(),
        &["set", "stripe_secret_key"],
        &format!("{value}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !text(&out).contains(value),
        "the value leaked: {}",
        text(&out)
    );

    let file = dir.path().join("secrets").join("stripe_secret_key");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "secret files are private");
    assert_eq!(
        read_back(dir.path(), STRIPE_SECRET_KEY).await,
        value,
        "the trailing newline of the input is not part of the value"
    );

    // Setting again replaces the value.
    let out = run(dir.path(), &["set", "stripe_secret_key"], "sk_test_second");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        read_back(dir.path(), STRIPE_SECRET_KEY).await,
        "sk_test_second"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piped_value_may_span_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["set", "stripe_webhook_secret"],
        "whsec_one,\nwhsec_two\n\n",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        read_back(dir.path(), STRIPE_WEBHOOK_SECRET).await,
        "whsec_one,\nwhsec_two"
    );
}

#[test]
fn an_empty_value_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    for input in ["", "\n", "  \r\n"] {
        let out = run(dir.path(), &["set", "stripe_secret_key"], input);
        assert!(!out.status.success(), "{input:?} was accepted");
        assert!(text(&out).contains("empty"), "{}", text(&out));
    }
    assert!(!dir.path().join("secrets/stripe_secret_key").exists());
}

#[test]
fn a_value_on_the_command_line_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["set", "stripe_secret_key", "sk_test_on_argv"],
        "",
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!dir.path().join("secrets/stripe_secret_key").exists());
}

#[test]
fn unknown_and_generated_names_are_refused_naming_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["set", "stripe_secret"], "x");
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("stripe_secret_key") && said.contains("stripe_webhook_secret"),
        "{said}"
    );
    assert!(!dir.path().join("secrets/stripe_secret").exists());

    for (name, why) in [
        ("blob_url_key", "generated"),
        ("token_signing_keys", "rotate-signing-key"),
        ("../items.db", "not a secret"),
    ] {
        let out = run(dir.path(), &["set", name], "x");
        assert!(!out.status.success(), "{name} was accepted");
        assert!(text(&out).contains(why), "{name}: {}", text(&out));
        let out = run(dir.path(), &["delete", name], "");
        assert!(!out.status.success(), "{name} was deleted");
    }
}

#[test]
fn list_names_secrets_and_their_state_never_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["set", "stripe_webhook_secret"],
        "whsec_hidden\n",
    );
    assert!(out.status.success(), "{}", text(&out));

    let out = run(dir.path(), &["list"], "");
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!text(&out).contains("whsec_hidden"), "{listing}");
    let state = |name: &str| {
        listing
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from {listing}"))
            .to_owned()
    };
    assert!(state("stripe_webhook_secret").contains(" set"), "{listing}");
    assert!(state("stripe_secret_key").contains("not set"), "{listing}");
    assert!(state("smtp_password").contains("not set"), "{listing}");
}

#[test]
fn delete_removes_the_secret_and_is_harmless_when_absent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets/stripe_secret_key");
    assert!(
        run(dir.path(), &["set", "stripe_secret_key"], "sk_test_x")
            .status
            .success()
    );
    assert!(file.exists());
    let out = run(dir.path(), &["delete", "stripe_secret_key"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(!file.exists());
    let out = run(dir.path(), &["delete", "stripe_secret_key"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("was not set"), "{}", text(&out));
}

#[test]
fn the_aws_backend_is_refused_with_directions() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_with_env(dir.path(), &["list"], ("SKIFF_BACKEND", "aws"));
    assert!(!out.status.success());
    assert!(text(&out).contains("SKIFF_SECRET_ID"), "{}", text(&out));
}

fn run_with_env(data_dir: &Path, args: &[&str], (k, v): (&str, &str)) -> Output {
    skiff(data_dir, args)
        .env(k, v)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}
