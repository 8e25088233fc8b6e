//! `skiff-cli` black-box against a real `skiff serve` child: sign-in kept in a
//! 0600 file, licenses (list, show, download, offline verify), a seat held while
//! a child command runs, encrypted storage and backups, memory, JSON and table
//! output, shell completions.

#[path = "../../../infra/local/tests/support/mod.rs"]
mod support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{PASSWORD, Server, Setup};

fn cli_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_skiff-cli"))
}

struct Cli {
    base: String,
    home: PathBuf,
}

impl Cli {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(cli_binary());
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SKIFF_SERVER", &self.base)
            .env("SKIFF_CLI_HOME", &self.home)
            .args(args);
        c
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// Run, expect success, parse standard output as JSON.
    fn json(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.run(&all, env);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{args:?}: {}", String::from_utf8_lossy(&out.stdout)))
    }
}

const PASSPHRASE: (&str, &str) = ("SKIFF_ENCRYPTION_PASSPHRASE", "a passphrase only ada knows");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_client_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let setup = Setup::new(&server.base);
    let email = "cli@acme.test";
    let (_, _token) = setup.verified_owner(email).await;
    let license = setup.licensed(&_token, "starter").await;
    let (id, key) = (
        license["id"].as_str().unwrap(),
        license["key"].as_str().unwrap(),
    );
    let cli = Cli {
        base: server.base.clone(),
        home: dir.path().join("home"),
    };
    let cli = &cli;

    // Not signed in yet: a clear error.
    let out = cli.run(&["whoami"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("skiff-cli login"));

    // Sign in: the refresh token is kept in a 0600 file in a 0700 directory.
    let out = cli.run(
        &["login", "--email", email],
        &[("SKIFF_PASSWORD", PASSWORD)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = cli.home.join("credentials.json");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&cli.home), 0o700);
    let kept = std::fs::read_to_string(&file).unwrap();
    assert!(!kept.contains(PASSWORD));
    assert_eq!(cli.json(&["whoami"], &[])["email"], email);
    let table = cli.run(&["whoami"], &[]);
    assert!(
        String::from_utf8_lossy(&table.stdout).starts_with("email"),
        "a table by default"
    );

    // Licenses.
    let list = cli.json(&["licenses", "list"], &[]);
    assert_eq!(list[0]["id"], id);
    let table = String::from_utf8(cli.run(&["licenses", "list"], &[]).stdout).unwrap();
    assert!(table.lines().next().unwrap().starts_with("ID"), "{table}");
    assert!(table.contains(id), "{table}");
    assert_eq!(cli.json(&["licenses", "show", id], &[])["key"], key);
    let lic_file = dir.path().join("license.skiff");
    let out = cli.run(
        &["licenses", "download", id, "-o", lic_file.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success());
    let verified = cli.json(&["licenses", "verify", lic_file.to_str().unwrap()], &[]);
    assert_eq!(verified["license_id"], id);
    let text = std::fs::read_to_string(&lic_file).unwrap();
    let forged = dir.path().join("forged.skiff");
    std::fs::write(
        &forged,
        text.replacen('A', "B", 1).replacen("eyJ", "eyK", 1),
    )
    .unwrap();
    let out = cli.run(&["licenses", "verify", forged.to_str().unwrap()], &[]);
    assert!(!out.status.success(), "a changed file does not verify");

    // A seat while a command runs: the child sees it held; a second machine on
    // this one-seat license is refused; the child's exit code is ours; released after.
    let me = cli_binary();
    let me = me.to_str().unwrap();
    let script = format!(
        "{me} licenses show {id} --output json && \
         ! {me} seats run --key {key} --hardware-id desktop-0002-bbbb -- true && exit 7"
    );
    let out = cli.run(
        &[
            "seats",
            "run",
            "--key",
            key,
            "--hardware-id",
            "laptop-0001-aaaa",
            "--",
            "sh",
            "-c",
            &script,
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    let during: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(during["seats_used"], 1, "held while the command ran");
    assert!(
        stderr.contains("every seat of the license is taken"),
        "{stderr}"
    );
    assert_eq!(
        cli.json(&["licenses", "show", id], &[])["seats_used"],
        0,
        "released"
    );

    // Encrypted storage: the server holds ciphertext; the passphrase opens it.
    let note = dir.path().join("note.txt");
    std::fs::write(&note, b"the launch moves to Tuesday").unwrap();
    let put = cli.json(
        &["storage", "put", "--table", "notes", note.to_str().unwrap()],
        &[PASSPHRASE],
    );
    let rid = put["id"].as_str().unwrap();
    assert_ne!(put["size"], 27, "sealed: nonce and tag added");
    let got = dir.path().join("got.txt");
    let out = cli.run(
        &["storage", "get", rid, "-o", got.to_str().unwrap()],
        &[PASSPHRASE],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&got).unwrap(), b"the launch moves to Tuesday");
    let out = cli.run(
        &["storage", "get", rid],
        &[("SKIFF_ENCRYPTION_PASSPHRASE", "a wrong guess")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not decrypt"));
    let ls = cli.json(&["storage", "ls", "--table", "notes"], &[]);
    assert_eq!(ls[0]["id"], rid);
    assert!(cli.run(&["storage", "rm", rid], &[]).status.success());
    assert_eq!(cli.json(&["storage", "ls"], &[]), serde_json::json!([]));

    // Backups.
    let pushed = cli.json(
        &["backup", "push", note.to_str().unwrap(), "--label", "v2"],
        &[PASSPHRASE],
    );
    let pulled = dir.path().join("pulled");
    let out = cli.run(
        &["backup", "pull", "-o", pulled.to_str().unwrap()],
        &[PASSPHRASE],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&pulled).unwrap(),
        b"the launch moves to Tuesday"
    );
    let history = cli.json(&["backup", "history"], &[]);
    assert_eq!(
        (history[0]["id"].clone(), history[0]["version"].clone()),
        (pushed["id"].clone(), "v2".into())
    );

    // Memory.
    let stored = cli.json(
        &[
            "memory",
            "store",
            "We chose PostgreSQL for the ledger",
            "--tag",
            "db",
        ],
        &[],
    );
    let hits = cli.json(&["memory", "recall", "PostgreSQL ledger"], &[]);
    assert_eq!(hits[0]["id"], stored["memory_id"]);

    // Completions.
    for shell in ["bash", "zsh", "fish"] {
        let out = cli.run(&["completions", shell], &[]);
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("skiff-cli"),
            "{shell}"
        );
    }

    // Sign out: the kept token is gone, and so is the session on the server.
    assert!(cli.run(&["logout"], &[]).status.success());
    let out = cli.run(&["whoami"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not signed in"));
}
