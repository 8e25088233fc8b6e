//! `skiff-cli` black-box against a real `skiff serve` child: sign-in kept in a
//! 0600 file, licenses (list, show, download, offline verify), a seat held while
//! a child command runs, encrypted storage and backups (a progress bar on a
//! terminal only), memory, JSON and table output, shell completions; and scripts
//! from a directory (init, push, run, logs).

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

    /// Run a shell command line on a pseudo-terminal; its screen is `stdout`.
    fn in_terminal(&self, line: &str, env: &[(&str, &str)]) -> Output {
        Command::new("script")
            .args(["--quiet", "--return", "--command", line, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TERM", "xterm")
            .env("SKIFF_SERVER", &self.base)
            .env("SKIFF_CLI_HOME", &self.home)
            .envs(env.iter().copied())
            .output()
            .expect("util-linux's `script`")
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
    assert!(out.stderr.is_empty(), "no progress bar into a pipe");
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
    assert!(
        out.stderr.is_empty(),
        "no progress bar into a pipe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // On a terminal (a pty through util-linux's `script`), the transfers draw a bar.
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 300_000]).unwrap();
    let me = cli_binary();
    let out = cli.in_terminal(
        &format!(
            "{me} backup push {} --label v3 && {me} backup pull -o {}",
            big.display(),
            pulled.display(),
            me = me.display()
        ),
        &[PASSPHRASE],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("upload [") && screen.contains("download ["),
        "{screen}"
    );
    assert_eq!(std::fs::read(&pulled).unwrap(), vec![7u8; 300_000]);
    cli.json(
        &["backup", "push", note.to_str().unwrap(), "--label", "v2"],
        &[PASSPHRASE],
    );
    let history = cli.json(&["backup", "history"], &[]);
    assert_eq!(history[0]["version"], "v2");
    assert_eq!(
        (history[2]["id"].clone(), history[2]["version"].clone()),
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

/// Write `files` (name, contents) into `dir`, creating it.
fn write_dir(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// The `(kind, name)` of every change of a push report with `action`.
fn changes(report: &Value, action: &str) -> Vec<(String, String)> {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == action)
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const MANIFEST: &str = r#"
[app]
slug = "greeter"
name = "Greeter"

[scripts.words]
kind = "module"

[scripts.hello]
timeout_ms = 2000

[[routes]]
method = "GET"
path = "/hello/:name"
script = "hello"

[[routes]]
method = "post"
path = "/echo"
script = "echo.rhai"
dispatch = "async"
"#;

const WORDS: &str = "export const GREETING = \"Hello\";\nfn shout(s) { s.to_upper() }\n";
const HELLO: &str = "import \"words\" as w;\n\
    let name = if \"name\" in ctx.request.params { ctx.request.params.name } else { ctx.request.body.name };\n\
    log::info(`greeting ${name}`);\n\
    #{ message: `${w::GREETING}, ${w::shout(name)}` }\n";
const ECHO: &str = "if ctx.request.body == () { throw \"nothing to echo\"; }\nctx.request.body\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_push_from_a_directory_then_run_and_read_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let setup = Setup::new(&server.base);
    let email = "scripts@acme.test";
    let (_, token) = setup.verified_owner(email).await;
    setup.licensed(&token, "starter").await;
    let cli = Cli {
        base: server.base.clone(),
        home: tmp.path().join("home"),
    };
    let out = cli.run(
        &["login", "--email", email],
        &[("SKIFF_PASSWORD", PASSWORD)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tmp.path().join("greeter");
    let d = dir.to_str().unwrap();
    write_dir(
        &dir,
        &[
            ("skiff.toml", MANIFEST),
            ("words.rhai", WORDS),
            ("hello.rhai", HELLO),
            ("echo.rhai", ECHO),
            ("notes.txt", "not a script"),
        ],
    );

    // The first push creates the app, the module and both endpoints, then the routes.
    let first = cli.json(&["scripts", "push", d], &[]);
    assert_eq!(first["app"]["slug"], "greeter");
    assert_eq!(
        changes(&first, "created"),
        [
            ("app", "greeter"),
            ("script", "words"),
            ("script", "echo"),
            ("script", "hello"),
            ("route", "GET /hello/:name -> hello"),
            ("route", "POST /echo -> echo"),
        ]
        .map(|(k, n)| (k.to_owned(), n.to_owned()))
    );
    assert_eq!(
        (first["created"].clone(), first["unchanged"].clone()),
        (6.into(), 0.into())
    );

    // Run by name (the app from --dir's skiff.toml), with a JSON body.
    let answer = cli.json(
        &[
            "scripts",
            "run",
            "hello",
            "--dir",
            d,
            "--data",
            r#"{"name": "Ada"}"#,
        ],
        &[],
    );
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"]["message"], "Hello, ADA");
    let execution = answer["execution_id"].as_str().unwrap().to_owned();
    // The table form prints the body as it is; the body can come from a file.
    let body_file = tmp.path().join("body.json");
    std::fs::write(&body_file, r#"{"name": "Grace"}"#).unwrap();
    let out = cli.run(
        &[
            "scripts",
            "run",
            "hello",
            "--app",
            "greeter",
            "--data",
            &format!("@{}", body_file.display()),
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["message"], "Hello, GRACE");

    // The route the manifest declared is served.
    let routed = reqwest::get(format!("{}/run/greeter/hello/Lin", server.base))
        .await
        .unwrap();
    assert_eq!(routed.status(), 200);
    assert_eq!(
        routed.json::<Value>().await.unwrap()["message"],
        "Hello, LIN"
    );

    // A run that throws: a non-zero exit naming the script's file and the code.
    let out = cli.run(&["scripts", "run", "echo", "--dir", d], &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("echo.rhai") && stderr.contains("SCRIPT_ERROR"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing to echo"), "{stderr}");

    // Logs: newest first, with what the script logged.
    let logs = cli.json(
        &[
            "scripts", "logs", "hello", "--app", "greeter", "--limit", "5",
        ],
        &[],
    );
    let logs = logs.as_array().unwrap();
    assert_eq!(
        logs.len(),
        3,
        "two runs through the CLI and one through the route"
    );
    assert_eq!(logs[2]["execution_id"], execution.as_str());
    assert_eq!(logs[2]["status"], "ok");
    assert_eq!(logs[2]["logs"][0]["message"], "greeting Ada");
    assert_eq!(logs[0]["request"]["source"], "route");
    let table = String::from_utf8(
        cli.run(&["scripts", "logs", "hello", "--dir", d], &[])
            .stdout,
    )
    .unwrap();
    assert!(
        table.contains(&execution) && table.contains("greeting Ada"),
        "{table}"
    );

    // A second push changes nothing.
    let again = cli.json(&["scripts", "push", d], &[]);
    assert_eq!(
        (
            again["created"].clone(),
            again["updated"].clone(),
            again["deleted"].clone()
        ),
        (0.into(), 0.into(), 0.into()),
        "{again}"
    );
    assert_eq!(again["unchanged"], 6);
    let table = String::from_utf8(cli.run(&["scripts", "push", d], &[]).stdout).unwrap();
    assert!(table.starts_with("KIND"), "{table}");
    assert!(table.trim_end().ends_with("nothing changed"), "{table}");

    // One edited file, one changed route: exactly those are updated.
    std::fs::write(
        dir.join("hello.rhai"),
        HELLO.replace("w::GREETING", "\"Hi\""),
    )
    .unwrap();
    std::fs::write(
        dir.join("skiff.toml"),
        MANIFEST.replace("dispatch = \"async\"", "dispatch = \"sync\""),
    )
    .unwrap();
    let edited = cli.json(&["scripts", "push", d], &[]);
    assert_eq!(
        changes(&edited, "updated"),
        [("script", "hello"), ("route", "POST /echo -> echo")]
            .map(|(k, n)| (k.to_owned(), n.to_owned())),
        "{edited}"
    );
    assert_eq!(
        (edited["created"].clone(), edited["unchanged"].clone()),
        (0.into(), 4.into())
    );
    let answer = cli.json(
        &[
            "scripts",
            "run",
            "hello",
            "--dir",
            d,
            "--data",
            r#"{"name": "Ada"}"#,
        ],
        &[],
    );
    assert_eq!(answer["body"]["message"], "Hi, ADA");

    // A syntax error: nothing else changes, the exit is non-zero, and the error
    // names the file, line and column.
    write_dir(&dir, &[("broken.rhai", "let x = 1;\nlet y = ;\n")]);
    let out = cli.run(&["scripts", "push", d, "--output", "json"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let broken = dir.join("broken.rhai");
    assert!(
        stderr.contains(&format!("{}:2:9: ", broken.display())) && stderr.contains("COMPILE_ERROR"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"][0]["file"], broken.to_str().unwrap());
    assert_eq!(
        (
            report["errors"][0]["line"].clone(),
            report["errors"][0]["column"].clone()
        ),
        (2.into(), 9.into())
    );
    assert_eq!(report["created"], 0);
    std::fs::remove_file(&broken).unwrap();

    // A script and its route dropped from the directory stay on the server until
    // --prune deletes them.
    std::fs::remove_file(dir.join("echo.rhai")).unwrap();
    let manifest = MANIFEST
        .split("[[routes]]\nmethod = \"post\"")
        .next()
        .unwrap()
        .to_owned();
    std::fs::write(dir.join("skiff.toml"), &manifest).unwrap();
    let out = cli.run(&["scripts", "push", d], &[]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--prune deletes them): script echo, route POST /echo -> echo"),
        "{stderr}"
    );
    let pruned = cli.json(&["scripts", "push", d, "--prune"], &[]);
    assert_eq!(
        changes(&pruned, "deleted"),
        [("script".to_owned(), "echo".to_owned())],
        "{pruned}"
    );
    let out = cli.run(&["scripts", "run", "echo", "--app", "greeter"], &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no script `echo`"));
    let echo = reqwest::Client::new()
        .post(format!("{}/run/greeter/echo", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(echo.status(), 404, "its route went with it");

    // A route the server refuses: named with the manifest, the rest unchanged.
    std::fs::write(
        dir.join("skiff.toml"),
        format!(
            "{manifest}\n[[routes]]\nmethod = \"GET\"\npath = \"/api/hello\"\nscript = \"hello\"\n"
        ),
    )
    .unwrap();
    let out = cli.run(&["scripts", "push", d], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: the route GET /api/hello: ",
            dir.join("skiff.toml").display()
        )) && stderr.contains("(RESERVED_PATH)"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("0 created, 0 updated, 0 deleted, 4 unchanged")
    );

    // Scaffold → push → run.
    let fresh = tmp.path().join("first-app");
    let f = fresh.to_str().unwrap();
    let out = cli.run(&["scripts", "init", f], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !cli.run(&["scripts", "init", f], &[]).status.success(),
        "no overwrite"
    );
    let pushed = cli.json(&["scripts", "push", f], &[]);
    assert_eq!(pushed["app"]["slug"], "first-app");
    let answer = cli.json(
        &[
            "scripts",
            "run",
            "hello",
            "--dir",
            f,
            "--data",
            r#"{"name": "Ada"}"#,
        ],
        &[],
    );
    assert_eq!(answer["body"]["message"], "Hello, Ada!");
    let routed = reqwest::get(format!("{}/run/first-app/hello/Bo", server.base))
        .await
        .unwrap();
    assert_eq!(
        routed.json::<Value>().await.unwrap()["message"],
        "Hello, Bo!"
    );
}
