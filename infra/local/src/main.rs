//! `skiff`: run Skiff locally, provision AWS resources, operate the outbox.

use anyhow::Context;
use clap::{Parser, Subcommand};
use skiff_adapters::file_secrets::FileSecrets;
use skiff_app::AppConfig as Config;
use skiff_core::config::Backend;
use skiff_core::ports::secrets::Secrets;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "skiff",
    version,
    about = "Skiff: the commercial spine of a SaaS product"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every function on one port with embedded storage, the outbox worker and the scheduler.
    Serve {
        /// Address to listen on (overrides SKIFF_ADDR).
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Where data lives (overrides SKIFF_DATA_DIR; default ./.skiff).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Create the table, buckets, queues and secret on an AWS-compatible endpoint.
    Provision {
        /// e.g. http://127.0.0.1:5000 for an emulator; omit for real AWS.
        #[arg(long)]
        endpoint: Option<String>,
        /// Resource name prefix.
        #[arg(long, default_value = "skiff-dev")]
        prefix: String,
    },
    /// Inspect and repair the outbox's dead-letter queue (embedded backend).
    DeadLetters {
        #[command(subcommand)]
        action: DeadLetterAction,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
    /// Operator commands: platform operators and token-signing keys. Use the embedded
    /// data dir, or AWS with SKIFF_BACKEND=aws and the SKIFF_TABLE/SKIFF_SECRET_ID… variables.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
    /// Back up the embedded data dir, also while the server runs: every SQLite database
    /// through SQLite's online backup, every other file as it is, each with its SHA-256
    /// in manifest.json. Secrets only with --include-secrets.
    Backup {
        /// A new directory, or a file ending in .tar.
        #[arg(long)]
        to: PathBuf,
        /// The data dir to back up (default: SKIFF_DATA_DIR, else ./.skiff).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Also copy the secrets (signing keys, Stripe's keys): needed for a restore
        /// that keeps issued license files and tokens valid. Keep such a backup safe.
        #[arg(long)]
        include_secrets: bool,
    },
    /// Restore a backup into a new data dir, after checking every part's SHA-256.
    Restore {
        /// A backup directory or .tar file made by `skiff backup`.
        #[arg(long)]
        from: PathBuf,
        /// The data dir to restore into; it must be empty unless --force.
        #[arg(long)]
        data_dir: PathBuf,
        /// Replace what a non-empty data dir holds (never while a server uses it).
        #[arg(long)]
        force: bool,
    },
    /// Set, list or delete the embedded backend's operator secrets (e.g. Stripe's
    /// keys), stored as files of mode 0600 under <data dir>/secrets.
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SecretsAction {
    /// Store a secret read from stdin (never from the command line): one line when
    /// typed at a terminal (not echoed), all of stdin when piped.
    Set { name: String },
    /// Name every known secret and whether it is set (never a value).
    List,
    /// Remove a secret.
    Delete { name: String },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make an account a platform operator (the only way into /api/v1/admin/*).
    Grant {
        #[arg(long)]
        email: String,
    },
    /// Take the platform operator flag away.
    Revoke {
        #[arg(long)]
        email: String,
    },
    /// Sign new access tokens with a new key; the previous key still verifies.
    RotateSigningKey,
    /// Stop accepting tokens signed with previous keys (wait ≥ 16 min after rotating).
    RetireSigningKeys,
}

#[derive(Subcommand)]
enum DeadLetterAction {
    /// List dead letters.
    List,
    /// Put one back on the queue.
    Redrive { message_id: String },
    /// Drop one for good.
    Resolve { message_id: String },
}

fn config_with(addr: Option<SocketAddr>, data_dir: Option<PathBuf>) -> anyhow::Result<Config> {
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    if let Some(a) = addr {
        vars.push(("SKIFF_ADDR".into(), a.to_string()));
    }
    if let Some(d) = data_dir {
        vars.push(("SKIFF_DATA_DIR".into(), d.display().to_string()));
    }
    let config = Config::from_vars(vars)?;
    if config.backend != Backend::Embedded {
        anyhow::bail!(
            "`skiff` runs the embedded backend; unset SKIFF_BACKEND or set it to `embedded`"
        );
    }
    Ok(config)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { addr, data_dir } => {
            let config = config_with(addr, data_dir)?;
            skiff_app::telemetry::init_with_format(&config.log_filter, config.log_format);
            let listener = tokio::net::TcpListener::bind(config.listen_addr)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
            // Handlers first, so a signal that arrives right after the banner is caught.
            let stop = shutdown_signal()?;
            let running = skiff_local::start(config.clone(), listener).await?;
            eprintln!(
                "skiff is running at {}  (data: {})",
                config.public_url,
                config.data_dir.display()
            );
            if config.is_dev() {
                eprintln!("  dev mailbox: {}/_dev/mailbox", config.public_url);
            }
            stop.await;
            eprintln!("shutting down…");
            running.shutdown().await;
            Ok(())
        }
        Command::Provision { endpoint, prefix } => {
            skiff_app::telemetry::init("warn");
            let sdk = skiff_adapters::aws::sdk_config(endpoint.as_deref()).await;
            let p = skiff_adapters::provision::provision_all(
                &sdk,
                endpoint.is_some(),
                &prefix,
                &skiff_app::secrets(),
            )
            .await?;
            println!("SKIFF_TABLE={}", p.table);
            println!("SKIFF_BLOB_BUCKET={}", p.blob_bucket);
            println!("SKIFF_EXPORT_BUCKET={}", p.export_bucket);
            println!("SKIFF_QUEUE_URL={}", p.queue_url);
            println!("SKIFF_DLQ_URL={}", p.dlq_url);
            println!("SKIFF_SECRET_ID={}", p.secret_id);
            println!("SKIFF_VECTOR_BUCKETS={}", p.vector_buckets.join(","));
            Ok(())
        }
        Command::DeadLetters { action, data_dir } => {
            let config = config_with(None, data_dir)?;
            skiff_app::telemetry::init("warn");
            let clock = std::sync::Arc::new(skiff_core::clock::SystemClock);
            let services = skiff_app::services::embedded(config, clock).await?.services;
            match action {
                DeadLetterAction::List => {
                    let letters = services.queue.dead_letters(100).await?;
                    println!("{}", serde_json::to_string_pretty(&letters)?);
                }
                DeadLetterAction::Redrive { message_id } => {
                    let id = services.queue.redrive(&message_id).await?;
                    println!("redriven as {id}");
                }
                DeadLetterAction::Resolve { message_id } => {
                    services.queue.resolve(&message_id).await?;
                    println!("resolved {message_id}");
                }
            }
            Ok(())
        }
        Command::Admin { action, data_dir } => {
            let mut vars: Vec<(String, String)> = std::env::vars().collect();
            if let Some(d) = data_dir {
                vars.push(("SKIFF_DATA_DIR".into(), d.display().to_string()));
            }
            let config = Config::from_vars(vars)?;
            skiff_app::telemetry::init("warn");
            let clock = std::sync::Arc::new(skiff_core::clock::SystemClock);
            let services = skiff_app::services::from_config(config, clock).await?;
            match action {
                AdminAction::Grant { email } => {
                    let user =
                        skiff_local::admin::set_platform_admin(&services, &email, true).await?;
                    println!("{} ({}) is now a platform operator", user.email, user.id);
                }
                AdminAction::Revoke { email } => {
                    let user =
                        skiff_local::admin::set_platform_admin(&services, &email, false).await?;
                    println!(
                        "{} ({}) is no longer a platform operator",
                        user.email, user.id
                    );
                }
                AdminAction::RotateSigningKey => {
                    let kid = skiff_local::admin::rotate_signing_key(&services).await?;
                    println!("new signing key {kid} is current; previous keys still verify");
                    println!("retire them with `skiff admin retire-signing-keys` after 16 minutes");
                }
                AdminAction::RetireSigningKeys => {
                    let kids = skiff_local::admin::retire_signing_keys(&services).await?;
                    if kids.is_empty() {
                        println!("no previous signing key to retire");
                    } else {
                        println!("retired signing keys: {}", kids.join(", "));
                    }
                }
            }
            Ok(())
        }
        Command::Backup {
            to,
            data_dir,
            include_secrets,
        } => {
            skiff_app::telemetry::init("warn");
            let data_dir = embedded_data_dir(data_dir, "backup")?;
            let started = std::time::Instant::now();
            let mut progress = skiff_local::backup::progress_for_stderr();
            let manifest = skiff_local::backup::backup(
                &skiff_local::backup::BackupOptions {
                    data_dir,
                    to: to.clone(),
                    include_secrets,
                },
                progress.as_mut(),
            )?;
            println!(
                "backed up {} parts ({} bytes) to {} in {:.1} s{}",
                manifest.parts.len(),
                manifest.total_bytes(),
                to.display(),
                started.elapsed().as_secs_f64(),
                if include_secrets {
                    "; it holds the secrets: keep it safe"
                } else {
                    "; secrets not included"
                }
            );
            Ok(())
        }
        Command::Restore {
            from,
            data_dir,
            force,
        } => {
            skiff_app::telemetry::init("warn");
            let started = std::time::Instant::now();
            let mut progress = skiff_local::backup::progress_for_stderr();
            let manifest = skiff_local::backup::restore(
                &skiff_local::backup::RestoreOptions {
                    from,
                    data_dir: data_dir.clone(),
                    force,
                },
                progress.as_mut(),
            )?;
            println!(
                "restored {} parts ({} bytes), every checksum verified, into {} in {:.1} s",
                manifest.parts.len(),
                manifest.total_bytes(),
                data_dir.display(),
                started.elapsed().as_secs_f64()
            );
            if !manifest.include_secrets {
                println!(
                    "the backup held no secrets: new ones are generated on first start \
                     (issued license files and tokens will not verify)"
                );
            }
            Ok(())
        }
        Command::Secrets { action, data_dir } => {
            let dir = secrets_dir(data_dir)?;
            skiff_app::telemetry::init("warn");
            let secrets = FileSecrets::open(dir.clone())?;
            match action {
                SecretsAction::Set { name } => {
                    let name = skiff_local::admin::operator_secret(&name)?;
                    let value =
                        skiff_local::admin::secret_value(&read_secret_from_stdin(name.name)?)?;
                    secrets.set(name, value).await?;
                    println!("{} is set (in {})", name.name, dir.display());
                }
                SecretsAction::List => {
                    for (name, set, note) in skiff_local::admin::list_secrets(&secrets)? {
                        let state = if set { "set" } else { "not set" };
                        println!("{name:<24} {state:<8} {note}");
                    }
                }
                SecretsAction::Delete { name } => {
                    let name = skiff_local::admin::operator_secret(&name)?;
                    if secrets.delete(name)? {
                        println!("{} deleted", name.name);
                    } else {
                        println!("{} was not set", name.name);
                    }
                }
            }
            Ok(())
        }
    }
}

/// The embedded data dir a command works on (`--data-dir`, else `SKIFF_DATA_DIR`,
/// else ./.skiff), without parsing the rest of the configuration.
fn embedded_data_dir(data_dir: Option<PathBuf>, command: &str) -> anyhow::Result<PathBuf> {
    if std::env::var("SKIFF_BACKEND").is_ok_and(|b| b != "embedded") {
        anyhow::bail!(
            "`skiff {command}` copies the embedded backend's data dir; on AWS use DynamoDB's \
             point-in-time recovery and the blob bucket's versions (README, Backups)"
        );
    }
    Ok(data_dir
        .or_else(|| std::env::var_os("SKIFF_DATA_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("./.skiff")))
}

/// Where the embedded data lives, without parsing the rest of the configuration:
/// an operator sets secrets before the settings that need them are complete.
fn secrets_dir(data_dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if std::env::var("SKIFF_BACKEND").is_ok_and(|b| b != "embedded") {
        anyhow::bail!(
            "`skiff secrets` manages the embedded backend's secret files; on AWS, set the \
             keys of the Secrets Manager secret named by SKIFF_SECRET_ID"
        );
    }
    let dir = data_dir
        .or_else(|| std::env::var_os("SKIFF_DATA_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("./.skiff"));
    Ok(dir.join("secrets"))
}

/// The secret's value from stdin: at a terminal one line, typed without echo;
/// otherwise everything until end of input.
fn read_secret_from_stdin(name: &str) -> anyhow::Result<String> {
    use std::io::{IsTerminal, Read};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut all = String::new();
        stdin
            .lock()
            .read_to_string(&mut all)
            .context("reading the secret from stdin (it must be UTF-8)")?;
        return Ok(all);
    }
    eprint!("value of {name} (not shown; end with Enter): ");
    let echo_off = set_echo(false);
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    if echo_off {
        set_echo(true);
        eprintln!();
    }
    read.context("reading the secret from the terminal")?;
    Ok(line)
}

/// Turn the terminal's echo on or off; `true` when it worked.
fn set_echo(on: bool) -> bool {
    std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success())
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called,
/// not when the future is first polled.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        Ok(async move {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
