//! Secrets as files under the data dir: one file per secret, `<dir>/<name>`, mode
//! 0600 in a 0700 directory. A `RandomKey` secret is generated on first use; two
//! processes (or tasks) doing that at once agree on one value, because the value is
//! written to a private temporary file and then hard-linked into place, which fails
//! if the name already exists — the loser reads the winner's file.
//!
//! Files hold the value followed by one newline; reading strips one trailing
//! newline, so a hand-edited file works and `set`/`get` round-trip exactly.

use async_trait::async_trait;
use skiff_core::ports::secrets::*;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// File-backed secrets (the embedded backend).
pub struct FileSecrets {
    dir: PathBuf,
}

fn io_fail(what: &str, path: &Path, e: std::io::Error) -> SecretsError {
    SecretsError::Fatal(format!("{what} {}: {e}", path.display()))
}

/// A secret name is a plain file name: letters, digits, `_`, `-`, `.`, not starting
/// with a dot (temporary files do).
fn check_name(name: &str) -> Result<(), SecretsError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(SecretsError::Fatal(format!(
            "`{name}` is not a valid secret name"
        )))
    }
}

/// Write `value` to a fresh private temporary file in `dir`, synced to disk.
fn write_temp(dir: &Path, name: &str, value: &str) -> Result<PathBuf, SecretsError> {
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(&tmp)
        .map_err(|e| io_fail("creating", &tmp, e))?;
    let written = file
        .write_all(value.as_bytes())
        .and_then(|_| file.write_all(b"\n"))
        .and_then(|_| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_fail("writing", &tmp, e));
    }
    Ok(tmp)
}

/// Make a rename or link in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), SecretsError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_fail("syncing", dir, e))
}

impl FileSecrets {
    /// Use (creating it, mode 0700) the directory `dir`. An existing directory that
    /// others can read is tightened to 0700.
    pub fn open(dir: PathBuf) -> Result<Self, SecretsError> {
        DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(&dir)
            .map_err(|e| io_fail("creating", &dir, e))?;
        let meta = fs::metadata(&dir).map_err(|e| io_fail("reading", &dir, e))?;
        if !meta.is_dir() {
            return Err(SecretsError::Fatal(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(dir = %dir.display(), "secrets directory was accessible to others; setting mode 0700");
            fs::set_permissions(&dir, fs::Permissions::from_mode(DIR_MODE))
                .map_err(|e| io_fail("restricting", &dir, e))?;
        }
        Ok(Self { dir })
    }

    fn read(&self, name: &'static str) -> Result<Option<SecretValue>, SecretsError> {
        let path = self.dir.join(name);
        match fs::read_to_string(&path) {
            Ok(text) => {
                let value = text.strip_suffix('\n').unwrap_or(&text);
                if value.is_empty() {
                    return Err(SecretsError::Fatal(format!(
                        "secret file {} is empty",
                        path.display()
                    )));
                }
                Ok(Some(SecretValue::new(value)))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_fail("reading", &path, e)),
        }
    }

    fn get_blocking(&self, name: SecretName) -> Result<SecretValue, SecretsError> {
        check_name(name.name)?;
        if let Some(v) = self.read(name.name)? {
            return Ok(v);
        }
        if name.generate == Generate::Never {
            return Err(SecretsError::Missing(name.name));
        }
        let value = hex::encode(rand::random::<[u8; 32]>());
        let tmp = write_temp(&self.dir, name.name, &value)?;
        let path = self.dir.join(name.name);
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_dir(&self.dir)?;
                tracing::info!(secret = name.name, "generated a new secret");
                Ok(SecretValue::new(value))
            }
            // Someone else generated it first: theirs is the value.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => self
                .read(name.name)?
                .ok_or_else(|| SecretsError::Fatal(format!("secret `{}` vanished", name.name))),
            Err(e) => Err(io_fail("creating", &path, e)),
        }
    }

    fn set_blocking(&self, name: SecretName, value: &SecretValue) -> Result<(), SecretsError> {
        check_name(name.name)?;
        if value.expose().is_empty() {
            return Err(SecretsError::Fatal(format!(
                "secret `{}` must not be empty",
                name.name
            )));
        }
        let tmp = write_temp(&self.dir, name.name, value.expose())?;
        let path = self.dir.join(name.name);
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(io_fail("replacing", &path, e));
        }
        sync_dir(&self.dir)?;
        tracing::info!(secret = name.name, "secret replaced");
        Ok(())
    }

    /// Whether a value is stored for `name` (the operator's `skiff secrets list`).
    pub fn is_set(&self, name: SecretName) -> Result<bool, SecretsError> {
        check_name(name.name)?;
        let path = self.dir.join(name.name);
        match fs::symlink_metadata(&path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_fail("reading", &path, e)),
        }
    }

    /// Remove the value of `name`; `false` when none was stored.
    pub fn delete(&self, name: SecretName) -> Result<bool, SecretsError> {
        check_name(name.name)?;
        let path = self.dir.join(name.name);
        match fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.dir)?;
                tracing::info!(secret = name.name, "secret deleted");
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_fail("deleting", &path, e)),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&FileSecrets) -> Result<T, SecretsError> + Send + 'static,
    ) -> Result<T, SecretsError> {
        let this = FileSecrets {
            dir: self.dir.clone(),
        };
        tokio::task::spawn_blocking(move || f(&this))
            .await
            .map_err(|e| SecretsError::Fatal(format!("secrets task failed: {e}")))?
    }
}

#[async_trait]
impl Secrets for FileSecrets {
    async fn get(&self, name: SecretName) -> Result<SecretValue, SecretsError> {
        self.blocking(move |s| s.get_blocking(name)).await
    }

    async fn set(&self, name: SecretName, value: SecretValue) -> Result<(), SecretsError> {
        self.blocking(move |s| s.set_blocking(name, &value)).await
    }
}
