//! `skiff-cli`: a Skiff deployment from the shell, over the `skiff-client` SDK.
//!
//! A binary of its own rather than subcommands of `skiff`: `skiff` is the
//! operator's server and admin tool and links every server crate (the web
//! framework, the AWS SDK, SQLite); a user's or a CI job's client should be small
//! and speak only HTTP.

mod credentials;
mod manifest;
mod output;
mod progress;
mod scripts;

use anyhow::{Context, Result, bail};
use clap::{Args, CommandFactory, Parser, Subcommand};
use credentials::Store;
use output::{Format, print_rows, print_value};
use serde_json::{Value, json};
use skiff_client::crypto::EncryptionKey;
use skiff_client::license_file;
use skiff_client::types::{NewMemory, RecallQuery};
use skiff_client::{Client, SeatEvent, SeatOptions};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Parser)]
#[command(
    name = "skiff-cli",
    version,
    about = "The command-line client of a Skiff deployment"
)]
struct Cli {
    /// The server's base URL.
    #[arg(
        long,
        env = "SKIFF_SERVER",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    server: String,
    /// Act with an API key (`sk_live_…`) instead of the signed-in user.
    #[arg(long, env = "SKIFF_API_KEY", hide_env_values = true, global = true)]
    api_key: Option<String>,
    /// Where the sign-in is kept (a 0600 file in it); default `~/.config/skiff`.
    #[arg(long, env = "SKIFF_CLI_HOME", global = true)]
    home: Option<PathBuf>,
    /// How answers are printed.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    output: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in; the refresh token is kept in a 0600 file.
    Login {
        #[arg(long)]
        email: String,
        /// Read from `SKIFF_PASSWORD`, else asked for (not echoed).
        #[arg(long, env = "SKIFF_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Sign out here and on the server.
    Logout,
    /// The signed-in user and org.
    Whoami,
    /// The org's licenses.
    #[command(subcommand)]
    Licenses(Licenses),
    /// Floating seats.
    #[command(subcommand)]
    Seats(Seats),
    /// Encrypted records.
    #[command(subcommand)]
    Storage(Storage),
    /// Encrypted backups.
    #[command(subcommand)]
    Backup(Backup),
    /// Agent memory.
    #[command(subcommand)]
    Memory(Memory),
    /// Rhai scripts from a directory: init, push, run, logs.
    #[command(subcommand)]
    Scripts(scripts::Scripts),
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum Licenses {
    /// Every license of the org.
    List,
    /// One license.
    Show { id: String },
    /// Save the signed license file.
    Download {
        id: String,
        /// Where to write it (default: standard output).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
    },
    /// Check a license file offline.
    Verify {
        file: PathBuf,
        /// The public key (base64, hex or PEM); default: ask the server for it.
        #[arg(long, env = "SKIFF_LICENSE_PUBLIC_KEY")]
        public_key: Option<String>,
    },
}

#[derive(Subcommand)]
enum Seats {
    /// Hold a seat while a command runs; its exit code is ours. The command is
    /// stopped if the seat is lost.
    Run {
        #[arg(long, env = "SKIFF_LICENSE_KEY", hide_env_values = true)]
        key: String,
        /// This machine's fingerprint (default: derived from /etc/machine-id).
        #[arg(long)]
        hardware_id: Option<String>,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

#[derive(Args)]
struct KeyArgs {
    /// A raw 32-byte key in hex (else `SKIFF_ENCRYPTION_PASSPHRASE` through Argon2id).
    #[arg(long, env = "SKIFF_ENCRYPTION_KEY", hide_env_values = true)]
    encryption_key: Option<String>,
    #[arg(long, env = "SKIFF_ENCRYPTION_PASSPHRASE", hide_env_values = true)]
    passphrase: Option<String>,
    /// The Argon2id salt (default: `skiff-cli/<your user id>`).
    #[arg(long, env = "SKIFF_ENCRYPTION_SALT")]
    salt: Option<String>,
}

#[derive(Subcommand)]
enum Storage {
    /// Encrypt a file (or `-` for standard input) and store it.
    Put {
        #[arg(long, default_value = "files")]
        table: String,
        file: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Fetch and decrypt a record.
    Get {
        id: String,
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// List records (no contents).
    Ls {
        #[arg(long)]
        table: Option<String>,
    },
    /// Delete a record.
    Rm { id: String },
}

#[derive(Subcommand)]
enum Backup {
    /// Encrypt and store a backup.
    Push {
        file: PathBuf,
        /// The backup's version label.
        #[arg(long, default_value = "1")]
        label: String,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Fetch and decrypt the newest backup.
    Pull {
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Every kept backup.
    History,
}

#[derive(Subcommand)]
enum Memory {
    /// Store a memory.
    Store {
        content: String,
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long)]
        importance: Option<f64>,
    },
    /// Recall memories.
    Recall {
        query: String,
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("skiff-cli: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn run(cli: Cli) -> Result<i32> {
    let format = cli.output;
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "skiff-cli",
            &mut std::io::stdout(),
        );
        return Ok(0);
    }
    if let Command::Scripts(scripts::Scripts::Init { dir, slug, name }) = cli.command {
        scripts::init(&dir, slug, name)?;
        return Ok(0);
    }
    let store = Store::new(cli.home.clone())?;
    let client = Client::builder(&cli.server)
        .user_agent(concat!("skiff-cli/", env!("CARGO_PKG_VERSION")))
        .build()?;
    if let Command::Login { email, password } = &cli.command {
        let password = match password {
            Some(p) => p.clone(),
            None => credentials::prompt_password("Password: ")?,
        };
        client.login(email, &password).await?;
        store.save(&cli.server, &client).await?;
        let me = client.me().await?;
        eprintln!("signed in as {} ({})", me.email, me.org.name);
        return Ok(0);
    }
    // Every other command acts as the API key or the kept sign-in.
    let kept = match &cli.api_key {
        Some(key) => {
            client.use_api_key(key.clone()).await;
            None
        }
        None => Some(store.resume(&cli.server, &client).await?),
    };
    let code = dispatch(cli.command, &client, format).await;
    // The refresh token rotates on use: keep the newest if this run rotated it
    // again (and leave alone what another run kept meanwhile if it did not).
    if let Some(kept) = kept
        && client.refresh_token().await.as_deref() != Some(kept.as_str())
    {
        store.save(&cli.server, &client).await?;
    }
    code
}

async fn dispatch(command: Command, client: &Client, format: Format) -> Result<i32> {
    match command {
        Command::Login { .. } | Command::Completions { .. } => unreachable!("handled before"),
        Command::Logout => {
            client.logout().await?;
            eprintln!("signed out");
        }
        Command::Whoami => {
            let me = client.me().await?;
            print_value(
                format,
                &serde_json::to_value(&me)?,
                &["email", "full_name", "id"],
            );
        }
        Command::Licenses(l) => licenses(l, client, format).await?,
        Command::Seats(Seats::Run {
            key,
            hardware_id,
            command,
        }) => return seats_run(client, key, hardware_id, command).await,
        Command::Storage(s) => storage(s, client, format).await?,
        Command::Backup(b) => backup(b, client, format).await?,
        Command::Memory(m) => memory(m, client, format).await?,
        Command::Scripts(s) => return scripts::run(s, client, format).await,
    }
    Ok(0)
}

async fn licenses(cmd: Licenses, client: &Client, format: Format) -> Result<()> {
    match cmd {
        Licenses::List => {
            let mut all = vec![];
            let mut cursor = None;
            loop {
                let page = client.licenses(cursor.as_deref()).await?;
                all.extend(page.licenses);
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            let rows = serde_json::to_value(&all)?;
            print_rows(
                format,
                &rows,
                &[
                    "id",
                    "plan_id",
                    "status",
                    "seats_used",
                    "max_seats",
                    "expires_at",
                ],
            );
        }
        Licenses::Show { id } => {
            let l = client.license(&id).await?;
            print_value(
                format,
                &serde_json::to_value(&l)?,
                &[
                    "id",
                    "key",
                    "plan_id",
                    "status",
                    "seats_used",
                    "max_seats",
                    "expires_at",
                ],
            );
        }
        Licenses::Download { id, out } => {
            let file = client.download_license(&id).await?;
            write_out(out.as_ref(), file.as_bytes())?;
        }
        Licenses::Verify { file, public_key } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let key = match public_key {
                Some(k) => k,
                None => client.public_key().await?.public_key,
            };
            let key = license_file::parse_public_key(&key)?;
            let license = license_file::verify(&text, &key, SystemTime::now())?;
            print_value(
                format,
                &serde_json::to_value(&license)?,
                &[
                    "license_id",
                    "tier",
                    "status",
                    "max_seats",
                    "expires_at",
                    "file_expires_at",
                ],
            );
        }
    }
    Ok(())
}

/// Hold a seat while `command` runs; stop it when the seat is lost.
async fn seats_run(
    client: &Client,
    key: String,
    hardware_id: Option<String>,
    command: Vec<String>,
) -> Result<i32> {
    let hw = match hardware_id {
        Some(h) => h,
        None => credentials::machine_fingerprint()?,
    };
    let mut seat = match client.acquire(SeatOptions::new(key, hw)).await {
        Ok(seat) => seat,
        Err(e) if e.is_seats_exhausted() => {
            bail!("every seat of the license is taken: {e}")
        }
        Err(e) => return Err(e.into()),
    };
    let mut events = seat.take_events().expect("first call");
    let mut child = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .spawn()
        .with_context(|| format!("starting {}", command[0]))?;
    let code = loop {
        tokio::select! {
            status = child.wait() => break status?.code().unwrap_or(1),
            event = events.recv() => match event {
                Some(SeatEvent::Lost { reason }) => {
                    eprintln!("skiff-cli: the seat was lost ({reason}); stopping the command");
                    let _ = child.kill().await;
                    break 75;
                }
                Some(SeatEvent::Offline { .. }) => eprintln!("skiff-cli: the server cannot be reached; running on the offline grace"),
                Some(SeatEvent::Restored { .. }) => eprintln!("skiff-cli: back online"),
                Some(SeatEvent::SeatsExhausted { .. }) => eprintln!("skiff-cli: the seat was taken; asking again"),
                Some(_) => {}
                None => {}
            },
        }
    };
    if let Err(e) = seat.release().await {
        eprintln!("skiff-cli: releasing the seat: {e}");
    }
    Ok(code)
}

async fn encryption_key(args: &KeyArgs, client: &Client) -> Result<EncryptionKey> {
    if let Some(hex) = &args.encryption_key {
        let bytes = decode_hex(hex).context("SKIFF_ENCRYPTION_KEY is not hex")?;
        return Ok(EncryptionKey::from_bytes(&bytes)?);
    }
    let passphrase = match &args.passphrase {
        Some(p) => p.clone(),
        None => credentials::prompt_password("Encryption passphrase: ")?,
    };
    let salt = match &args.salt {
        Some(s) => s.clone(),
        None => format!("skiff-cli/{}", client.me().await?.id),
    };
    Ok(EncryptionKey::derive(
        passphrase.as_bytes(),
        salt.as_bytes(),
    )?)
}

fn decode_hex(s: &str) -> Result<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        bail!("odd length");
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(Into::into))
        .collect()
}

fn read_in(path: &PathBuf) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = vec![];
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn write_out(path: Option<&PathBuf>, bytes: &[u8]) -> Result<()> {
    match path {
        Some(p) => std::fs::write(p, bytes).with_context(|| format!("writing {}", p.display())),
        None => Ok(std::io::stdout().write_all(bytes)?),
    }
}

async fn storage(cmd: Storage, client: &Client, format: Format) -> Result<()> {
    match cmd {
        Storage::Put { table, file, key } => {
            let key = encryption_key(&key, client).await?;
            let plaintext = read_in(&file)?;
            let (watched, bar) = progress::watched(client, "upload");
            let created = watched.put_encrypted(&table, &plaintext, &key).await;
            progress::finish(bar);
            let created = created?;
            print_value(
                format,
                &serde_json::to_value(&created)?,
                &["id", "table", "size", "checksum"],
            );
        }
        Storage::Get { id, out, key } => {
            let key = encryption_key(&key, client).await?;
            let (watched, bar) = progress::watched(client, "download");
            let plaintext = watched.get_decrypted(&id, &key).await;
            progress::finish(bar);
            write_out(out.as_ref(), &plaintext?)?;
        }
        Storage::Ls { table } => {
            let mut all = vec![];
            let mut cursor = None;
            loop {
                let page = client
                    .list_records(table.as_deref(), cursor.as_deref())
                    .await?;
                all.extend(page.records);
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            print_rows(
                format,
                &serde_json::to_value(&all)?,
                &["id", "table", "size", "updated_at"],
            );
        }
        Storage::Rm { id } => client.delete_record(&id).await?,
    }
    Ok(())
}

async fn backup(cmd: Backup, client: &Client, format: Format) -> Result<()> {
    match cmd {
        Backup::Push { file, label, key } => {
            let key = encryption_key(&key, client).await?;
            let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
            let plaintext = read_in(&file)?;
            let (watched, bar) = progress::watched(client, "upload");
            let created = watched
                .push_backup_encrypted(&label, now, &plaintext, &key)
                .await;
            progress::finish(bar);
            let created = created?;
            print_value(
                format,
                &serde_json::to_value(&created)?,
                &["id", "size", "checksum", "created_at"],
            );
        }
        Backup::Pull { out, key } => {
            let key = encryption_key(&key, client).await?;
            let (watched, bar) = progress::watched(client, "download");
            let backup = watched.pull_backup_decrypted(&key).await;
            progress::finish(bar);
            write_out(out.as_ref(), &backup?.bytes)?;
        }
        Backup::History => {
            let history = client.backup_history().await?;
            print_rows(
                format,
                &serde_json::to_value(&history)?,
                &["id", "version", "size", "created_at"],
            );
        }
    }
    Ok(())
}

async fn memory(cmd: Memory, client: &Client, format: Format) -> Result<()> {
    match cmd {
        Memory::Store {
            content,
            tags,
            importance,
        } => {
            let mut m = NewMemory::new(content).tags(tags);
            m.importance = importance;
            let stored = client.store_memory(&m).await?;
            print_value(
                format,
                &json!({"memory_id": stored.memory_id, "type": stored.kind}),
                &["memory_id", "type"],
            );
        }
        Memory::Recall { query, tags, limit } => {
            let hits = client
                .recall(&RecallQuery {
                    query: Some(query),
                    tags,
                    limit,
                })
                .await?;
            let rows: Vec<Value> = hits
                .iter()
                .map(|h| json!({"id": h.id, "score": h.final_score, "content": h.memory.content, "tags": h.memory.tags}))
                .collect();
            print_rows(format, &Value::Array(rows), &["id", "score", "content"]);
        }
    }
    Ok(())
}
