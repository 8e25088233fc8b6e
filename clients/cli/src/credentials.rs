//! The kept sign-in: one refresh token per server in `credentials.json`, a file
//! of mode 0600 in a directory of mode 0700, replaced atomically; and the
//! password prompt.

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use skiff_client::Client;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: Option<PathBuf>) -> Result<Self> {
        let dir = match dir {
            Some(d) => d,
            None => {
                let base = std::env::var_os("XDG_CONFIG_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
                    .context("neither XDG_CONFIG_HOME nor HOME is set: pass --home")?;
                base.join("skiff")
            }
        };
        Ok(Self { dir })
    }

    fn file(&self) -> PathBuf {
        self.dir.join("credentials.json")
    }

    fn read(&self) -> Result<Map<String, Value>> {
        match std::fs::read(self.file()) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(e) => Err(e).with_context(|| format!("reading {}", self.file().display())),
        }
    }

    /// Sign the client in from the kept refresh token of `server`; returns the
    /// rotated token it kept in its place.
    pub async fn resume(&self, server: &str, client: &Client) -> Result<String> {
        let Some(token) = self
            .read()?
            .get(server)
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            bail!(
                "not signed in to {server}: run `skiff-cli login --email …` (or set SKIFF_API_KEY)"
            );
        };
        client
            .resume(&token)
            .await
            .context("the kept sign-in is no longer valid: run `skiff-cli login` again")?;
        // Rotated: keep the new one before anything else can fail.
        self.save(server, client).await?;
        Ok(client.refresh_token().await.unwrap_or_default())
    }

    /// Keep the client's current refresh token for `server` (or forget it when
    /// signed out).
    pub async fn save(&self, server: &str, client: &Client) -> Result<()> {
        let mut all = self.read()?;
        match client.refresh_token().await {
            Some(token) => all.insert(server.to_owned(), Value::String(token)),
            None => all.remove(server),
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let tmp = self
            .dir
            .join(format!("credentials.json.{}.tmp", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(&serde_json::to_vec_pretty(&Value::Object(all))?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.file())?;
        Ok(())
    }
}

/// Ask for a secret on the terminal without echo; from a pipe, read one line.
pub fn prompt_password(prompt: &str) -> Result<String> {
    let stdin = libc::STDIN_FILENO;
    // SAFETY: isatty and tcgetattr/tcsetattr only read and write the termios we pass.
    let tty = unsafe { libc::isatty(stdin) } == 1;
    let mut saved: Option<libc::termios> = None;
    if tty {
        eprint!("{prompt}");
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(stdin, &mut t) } == 0 {
            saved = Some(t);
            t.c_lflag &= !libc::ECHO;
            unsafe { libc::tcsetattr(stdin, libc::TCSANOW, &t) };
        }
    }
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if let Some(t) = saved {
        unsafe { libc::tcsetattr(stdin, libc::TCSANOW, &t) };
        eprintln!();
    }
    read?;
    let secret = line.trim_end_matches(['\n', '\r']).to_owned();
    if secret.is_empty() {
        bail!("no secret given");
    }
    Ok(secret)
}

/// A stable id of this machine: the SHA-256 of its machine-id (not the id itself).
pub fn machine_fingerprint() -> Result<String> {
    let id = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .filter(|s| !s.trim().is_empty())
        .context("no /etc/machine-id: pass --hardware-id")?;
    let digest = skiff_client::crypto::sha256_hex(format!("skiff-cli/{}", id.trim()).as_bytes());
    Ok(format!("machine-{}", &digest[..32]))
}
