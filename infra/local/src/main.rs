//! `skiff`: run Skiff locally, provision AWS resources, operate the outbox.

use anyhow::Context;
use clap::{Parser, Subcommand};
use skiff_shared::config::{Backend, Config};
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
            skiff_shared::telemetry::init(&config.log_filter);
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
            skiff_shared::telemetry::init("warn");
            let sdk = skiff_shared::adapters::aws::sdk_config(endpoint.as_deref()).await;
            let p =
                skiff_shared::provision::provision_all(&sdk, endpoint.is_some(), &prefix).await?;
            println!("SKIFF_TABLE={}", p.table);
            println!("SKIFF_BLOB_BUCKET={}", p.blob_bucket);
            println!("SKIFF_EXPORT_BUCKET={}", p.export_bucket);
            println!("SKIFF_QUEUE_URL={}", p.queue_url);
            println!("SKIFF_DLQ_URL={}", p.dlq_url);
            println!("SKIFF_SECRET_ID={}", p.secret_id);
            Ok(())
        }
        Command::DeadLetters { action, data_dir } => {
            let config = config_with(None, data_dir)?;
            skiff_shared::telemetry::init("warn");
            let clock = std::sync::Arc::new(skiff_shared::clock::SystemClock);
            let services = skiff_shared::Services::embedded(config, clock)
                .await?
                .services;
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
            skiff_shared::telemetry::init("warn");
            let clock = std::sync::Arc::new(skiff_shared::clock::SystemClock);
            let services = skiff_shared::Services::from_config(config, clock).await?;
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
    }
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
static ALLOCATOR: skiff_shared::alloc::Allocator = skiff_shared::alloc::Allocator;

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
