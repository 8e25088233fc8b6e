//! `skiff backup` and `skiff restore`: a consistent copy of the embedded backend's
//! data dir, taken while the server runs, and its verified restoration.
//!
//! What a backup holds, by rule (not by a list of today's files), for whatever
//! the data dir contains, now or later:
//! * every **SQLite database** (any file that starts with SQLite's header, at any
//!   depth: the item store, the queue, and any index or data store a domain adds) is
//!   copied through SQLite's online backup API inside one read transaction, so the
//!   copy is the database as of one instant while writers go on;
//! * every **other file** (blobs, with their checksummed headers; any other data) is
//!   copied as it is: writers publish files atomically (temp file, then rename),
//!   so an open file is one whole version;
//! * never: SQLite's `-wal`, `-shm` and `-journal` companions (the online copy
//!   already includes what they hold), in-flight temp files (names with `~tmp.` or
//!   ending in `.tmp`), the startup probe `.write-probe`;
//! * the `secrets/` directory only with `--include-secrets`.
//!
//! Databases are copied first, then files, so a record never names a blob that a
//! backup lacks (a blob deleted meanwhile is the exception: it is skipped, noted).
//! `manifest.json` lists every part with its size and SHA-256, and is written last.
//! A restore reads the manifest, checks every part's SHA-256 (and that nothing is
//! missing or extra) before it writes a byte, refuses a non-empty target unless
//! forced, and writes each file atomically.
//!
//! `--to` names a directory, or a file ending in `.tar` (the same layout in one tar
//! archive).

use anyhow::{Context, bail};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Format tag of the manifest.
pub const FORMAT: &str = "skiff-backup/1";
/// The manifest's file name inside a backup.
pub const MANIFEST: &str = "manifest.json";
/// The data dir's secrets directory (only with `--include-secrets`).
pub const SECRETS_DIR: &str = "secrets";
/// SQLite's file header.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
/// Pages copied per step of the online backup (the progress granularity).
const PAGES_PER_STEP: std::os::raw::c_int = 1024;

/// How a part was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A SQLite database, through the online backup API.
    Database,
    /// A file copied as it is.
    File,
    /// A file of the secrets directory.
    Secret,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Relative to the data dir, `/`-separated.
    pub path: String,
    pub kind: Kind,
    pub bytes: u64,
    /// Hex SHA-256 of the part as stored in the backup.
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// Unix seconds when the backup started.
    pub created_at: i64,
    pub skiff_version: String,
    pub include_secrets: bool,
    pub parts: Vec<Part>,
}

impl Manifest {
    pub fn total_bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }
}

/// Where progress goes: a bar on a terminal, plain lines otherwise.
pub trait Progress {
    /// A phase starts with `total` bytes to go.
    fn phase(&mut self, name: &str, total: u64);
    /// `n` more bytes of the phase are done.
    fn advance(&mut self, n: u64);
    /// One part is done.
    fn part(&mut self, path: &str, bytes: u64);
    fn finish(&mut self);
}

/// Progress for a person: an `indicatif` bar on a terminal, else a line per part.
pub fn progress_for_stderr() -> Box<dyn Progress> {
    use std::io::IsTerminal;
    if io::stderr().is_terminal() {
        Box::new(Bar(None))
    } else {
        Box::new(Lines)
    }
}

struct Bar(Option<indicatif::ProgressBar>);

impl Progress for Bar {
    fn phase(&mut self, name: &str, total: u64) {
        if let Some(b) = self.0.take() {
            b.finish();
        }
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_message(name.to_owned());
        self.0 = Some(bar);
    }
    fn advance(&mut self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
    fn part(&mut self, _: &str, _: u64) {}
    fn finish(&mut self) {
        if let Some(b) = self.0.take() {
            b.finish();
        }
    }
}

struct Lines;

impl Progress for Lines {
    fn phase(&mut self, name: &str, total: u64) {
        eprintln!("{name}: {} to go", human(total));
    }
    fn advance(&mut self, _: u64) {}
    fn part(&mut self, path: &str, bytes: u64) {
        eprintln!("  {path} ({})", human(bytes));
    }
    fn finish(&mut self) {}
}

/// No output (tests, benchmarks).
pub struct Quiet;

impl Progress for Quiet {
    fn phase(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn part(&mut self, _: &str, _: u64) {}
    fn finish(&mut self) {}
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{bytes} bytes")
    }
}

// ---------------------------------------------------------------- the rule

/// What the rule makes of one file under the data dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Database,
    File,
    Secret,
    Skipped,
}

/// Whether a file name is never backed up (SQLite companions, temp files, probes).
pub fn never_backed_up(name: &str) -> bool {
    name.ends_with("-wal")
        || name.ends_with("-shm")
        || name.ends_with("-journal")
        || name.contains("~tmp.")
        || name.ends_with(".tmp")
        || name == ".write-probe"
}

/// Class a file at `rel` (relative to the data dir) by the rule.
pub fn classify(path: &Path, rel: &str, include_secrets: bool) -> io::Result<Class> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if never_backed_up(name) {
        return Ok(Class::Skipped);
    }
    if rel.split('/').next() == Some(SECRETS_DIR) {
        return Ok(if include_secrets {
            Class::Secret
        } else {
            Class::Skipped
        });
    }
    let mut head = [0u8; 16];
    let mut f = File::open(path)?;
    let n = read_up_to(&mut f, &mut head)?;
    Ok(if n == head.len() && &head == SQLITE_HEADER {
        Class::Database
    } else {
        Class::File
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Every regular file under `root`, as (path, `/`-separated relative path), sorted.
fn walk(root: &Path) -> io::Result<Vec<(PathBuf, String)>> {
    let mut out = vec![];
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            // A directory pruned meanwhile (an emptied blob prefix).
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push((entry.path(), rel));
            } else if kind.is_file() {
                out.push((entry.path(), rel));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

// ---------------------------------------------------------------- backup

/// What to back up and where.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    pub data_dir: PathBuf,
    /// A directory (created; must be empty if it exists) or a `.tar` file.
    pub to: PathBuf,
    pub include_secrets: bool,
}

fn is_tar(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "tar")
}

/// Take a backup of a data dir, live.
pub fn backup(opts: &BackupOptions, progress: &mut dyn Progress) -> anyhow::Result<Manifest> {
    let data_dir = fs::canonicalize(&opts.data_dir)
        .with_context(|| format!("data dir {}", opts.data_dir.display()))?;
    if !data_dir.join("items.db").is_file() {
        bail!(
            "{} holds no Skiff data (no items.db); name the server's data dir with --data-dir",
            data_dir.display()
        );
    }
    let target = absolute(&opts.to)?;
    if target.starts_with(&data_dir) {
        bail!("the backup cannot be written inside the data dir it copies");
    }
    if is_tar(&target) {
        if target.exists() {
            bail!("{} exists; choose a new file", target.display());
        }
        let staging = sibling(&target, "partial")?;
        let result =
            backup_into(&data_dir, &staging, opts.include_secrets, progress).and_then(|manifest| {
                write_tar(&staging, &target, &manifest)?;
                Ok(manifest)
            });
        let _ = fs::remove_dir_all(&staging);
        result
    } else {
        if target.exists() && fs::read_dir(&target)?.next().is_some() {
            bail!("{} is not empty; choose a new directory", target.display());
        }
        backup_into(&data_dir, &target, opts.include_secrets, progress)
    }
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    // Resolve the existing part (the parent), so `..` and links compare right.
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) if parent.exists() => Ok(fs::canonicalize(parent)?.join(name)),
        _ => Ok(abs),
    }
}

/// A fresh path beside `path` for a staging directory.
fn sibling(path: &Path, what: &str) -> anyhow::Result<PathBuf> {
    let parent = path.parent().context("a path with a parent")?;
    let name = path
        .file_name()
        .context("a path with a file name")?
        .to_string_lossy();
    Ok(parent.join(format!(".{name}.{what}-{}", std::process::id())))
}

fn backup_into(
    data_dir: &Path,
    out: &Path,
    include_secrets: bool,
    progress: &mut dyn Progress,
) -> anyhow::Result<Manifest> {
    let created_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let classified = |include: fn(Class) -> bool| -> anyhow::Result<Vec<(PathBuf, String, Class)>> {
        let mut out = vec![];
        for (path, rel) in walk(data_dir)? {
            match classify(&path, &rel, include_secrets) {
                Ok(class) if include(class) => out.push((path, rel, class)),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("reading {rel}")),
            }
        }
        Ok(out)
    };
    let databases: Vec<(PathBuf, String)> = classified(|c| c == Class::Database)?
        .into_iter()
        .map(|(p, r, _)| (p, r))
        .collect();
    let mut parts = vec![];

    let db_bytes: u64 = databases
        .iter()
        .filter_map(|(p, _)| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    progress.phase("databases", db_bytes);
    for (path, rel) in &databases {
        let dest = out.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        copy_database(path, &dest, progress).with_context(|| format!("backing up {rel}"))?;
        let (bytes, sha256) = hash_file(&dest)?;
        progress.part(rel, bytes);
        parts.push(Part {
            path: rel.clone(),
            kind: Kind::Database,
            bytes,
            sha256,
        });
    }

    // Files are listed after the databases' snapshots, so every blob a record of the
    // snapshot names is found (one written since is copied too, harmlessly).
    let copied: std::collections::HashSet<&str> =
        databases.iter().map(|(_, r)| r.as_str()).collect();
    let mut files = vec![];
    for (path, rel, class) in classified(|c| c == Class::File || c == Class::Secret)? {
        if copied.contains(rel.as_str()) {
            continue;
        }
        let kind = if class == Class::Secret {
            Kind::Secret
        } else {
            Kind::File
        };
        files.push((path, rel, kind));
    }
    let file_bytes: u64 = files
        .iter()
        .filter_map(|(p, _, _)| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    progress.phase("files", file_bytes);
    for (path, rel, kind) in &files {
        let dest = out.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        let source = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::info!(path = %rel, "deleted while the backup ran; skipped");
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("reading {rel}")),
        };
        let (bytes, sha256) = copy_hashing(source, &dest, progress)?;
        progress.part(rel, bytes);
        parts.push(Part {
            path: rel.clone(),
            kind: *kind,
            bytes,
            sha256,
        });
    }
    progress.finish();
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at,
        skiff_version: env!("CARGO_PKG_VERSION").into(),
        include_secrets,
        parts,
    };
    write_atomically(&out.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// SQLite's online backup of `source` into `dest`, inside one read transaction of
/// the source, so every step copies the same snapshot while writers go on.
fn copy_database(source: &Path, dest: &Path, progress: &mut dyn Progress) -> anyhow::Result<()> {
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(std::time::Duration::from_secs(30))?;
    src.execute_batch("BEGIN")?;
    // The first read opens the snapshot; the backup's steps read within it.
    src.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    let partial = dest.with_extension("partial");
    let _ = fs::remove_file(&partial);
    {
        let mut dst = Connection::open(&partial)?;
        let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
        let page_size: i64 = src.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let page_size = page_size.max(0) as u64;
        let mut done_pages = 0u64;
        loop {
            let step = backup.step(PAGES_PER_STEP)?;
            let p = backup.progress();
            let copied = (p.pagecount - p.remaining).max(0) as u64;
            progress.advance(copied.saturating_sub(done_pages) * page_size);
            done_pages = copied;
            if step == rusqlite::backup::StepResult::Done {
                break;
            }
            if matches!(
                step,
                rusqlite::backup::StepResult::Busy | rusqlite::backup::StepResult::Locked
            ) {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
    src.execute_batch("COMMIT")?;
    // A backup is a database of its own: no WAL companion travels with it.
    let dst = Connection::open(&partial)?;
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    drop(dst);
    File::open(&partial)?.sync_all()?;
    fs::rename(&partial, dest)?;
    Ok(())
}

/// Copy `source` to `dest` (temp, fsync, rename), hashing as it goes.
fn copy_hashing(
    source: impl Read,
    dest: &Path,
    progress: &mut dyn Progress,
) -> anyhow::Result<(u64, String)> {
    let partial = dest.with_extension("partial");
    let mut reader = BufReader::with_capacity(1 << 20, source);
    let mut writer = BufWriter::with_capacity(1 << 20, File::create(&partial)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n])?;
        total += n as u64;
        progress.advance(n as u64);
    }
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    fs::rename(&partial, dest)?;
    Ok((total, hex::encode(hasher.finalize())))
}

/// Size and hex SHA-256 of a file.
pub fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok((total, hex::encode(hasher.finalize())));
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let partial = path.with_extension("partial");
    let mut f = File::create(&partial)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&partial, path)
}

fn write_tar(staging: &Path, target: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let partial = target.with_extension("tar.partial");
    {
        let mut tar = tar::Builder::new(BufWriter::new(File::create(&partial)?));
        tar.mode(tar::HeaderMode::Deterministic);
        for part in &manifest.parts {
            tar.append_path_with_name(staging.join(&part.path), &part.path)?;
        }
        tar.append_path_with_name(staging.join(MANIFEST), MANIFEST)?;
        let file = tar.into_inner()?.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
    }
    fs::rename(&partial, target)?;
    Ok(())
}

// ---------------------------------------------------------------- restore

/// What to restore and where.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// A backup directory or `.tar` file.
    pub from: PathBuf,
    /// The new data dir.
    pub data_dir: PathBuf,
    /// Replace a non-empty data dir's contents.
    pub force: bool,
}

/// Verify a backup whole, then write it into a data dir.
pub fn restore(opts: &RestoreOptions, progress: &mut dyn Progress) -> anyhow::Result<Manifest> {
    let from = absolute(&opts.from)?;
    let target = absolute(&opts.data_dir)?;
    if target.exists() && fs::read_dir(&target)?.next().is_some() && !opts.force {
        bail!(
            "{} is not empty; restore into a new directory, or pass --force to replace what it holds",
            target.display()
        );
    }
    if is_tar(&from) {
        let parent = target.parent().context("a data dir with a parent")?;
        fs::create_dir_all(parent)?;
        let staging = sibling(&target, "unpacking")?;
        let _ = fs::remove_dir_all(&staging);
        let result = unpack(&from, &staging).and_then(|()| {
            let manifest = verify(&staging, progress)?;
            install(&staging, &target, &manifest, opts.force, progress, true)?;
            Ok(manifest)
        });
        let _ = fs::remove_dir_all(&staging);
        result
    } else {
        let manifest = verify(&from, progress)?;
        install(&from, &target, &manifest, opts.force, progress, false)?;
        Ok(manifest)
    }
}

fn unpack(archive: &Path, into: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(into)?;
    let mut tar = tar::Archive::new(BufReader::new(
        File::open(archive).with_context(|| format!("opening {}", archive.display()))?,
    ));
    for entry in tar.entries()? {
        let mut entry = entry?;
        // `unpack_in` refuses paths that would leave the directory.
        if !entry.unpack_in(into)? {
            bail!("the archive holds a path outside the backup: refused");
        }
    }
    Ok(())
}

/// Read the manifest and check every part's SHA-256 against it, and that the
/// backup holds exactly the parts it lists. Nothing is written.
pub fn verify(backup: &Path, progress: &mut dyn Progress) -> anyhow::Result<Manifest> {
    let manifest: Manifest =
        serde_json::from_slice(&fs::read(backup.join(MANIFEST)).with_context(|| {
            format!("{} has no {MANIFEST}: not a Skiff backup", backup.display())
        })?)
        .context("the manifest does not parse")?;
    if manifest.format != FORMAT {
        bail!(
            "unknown backup format `{}` (this is {FORMAT})",
            manifest.format
        );
    }
    let mut listed = std::collections::BTreeSet::new();
    for part in &manifest.parts {
        let safe = !part.path.is_empty()
            && !part.path.starts_with('/')
            && part
                .path
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != "..");
        if !safe {
            bail!("the manifest names an unsafe path `{}`", part.path);
        }
        listed.insert(part.path.as_str());
    }
    let present: Vec<String> = walk(backup)?
        .into_iter()
        .map(|(_, rel)| rel)
        .filter(|rel| rel != MANIFEST)
        .collect();
    for rel in &present {
        if !listed.contains(rel.as_str()) {
            bail!("{rel} is in the backup but not in its manifest");
        }
    }
    progress.phase("verifying", manifest.total_bytes());
    for part in &manifest.parts {
        let path = backup.join(&part.path);
        let (bytes, sha256) =
            hash_file(&path).with_context(|| format!("{} is missing", part.path))?;
        progress.advance(bytes);
        if bytes != part.bytes || sha256 != part.sha256 {
            bail!(
                "{} does not match the manifest (SHA-256 {sha256}, {bytes} bytes; expected {}, {} bytes): the backup is damaged",
                part.path,
                part.sha256,
                part.bytes
            );
        }
    }
    Ok(manifest)
}

fn install(
    from: &Path,
    target: &Path,
    manifest: &Manifest,
    force: bool,
    progress: &mut dyn Progress,
    may_move: bool,
) -> anyhow::Result<()> {
    fs::create_dir_all(target)?;
    if force {
        for entry in fs::read_dir(target)? {
            let path = entry?.path();
            if path.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
        }
    }
    progress.phase("restoring", manifest.total_bytes());
    for part in &manifest.parts {
        let source = from.join(&part.path);
        let dest = target.join(&part.path);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        if may_move && fs::rename(&source, &dest).is_ok() {
            progress.advance(part.bytes);
        } else {
            let (_, sha256) = copy_hashing(File::open(&source)?, &dest, progress)?;
            if sha256 != part.sha256 {
                bail!("{} changed while it was restored", part.path);
            }
        }
        if part.kind == Kind::Secret {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&dest, fs::Permissions::from_mode(0o600))?;
                if let Some(dir) = dest.parent() {
                    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
                }
            }
        }
        progress.part(&part.path, part.bytes);
    }
    progress.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_skips_companions_temps_and_secrets_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, bytes: &[u8]| {
            let p = dir.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, bytes).unwrap();
            p
        };
        let mut db = SQLITE_HEADER.to_vec();
        db.extend_from_slice(&[0; 100]);
        let cases = [
            ("items.db", db.as_slice(), Class::Database),
            ("vectors/index.sqlite", db.as_slice(), Class::Database),
            ("items.db-wal", b"x".as_slice(), Class::Skipped),
            ("items.db-shm", b"x".as_slice(), Class::Skipped),
            (
                "blobs/blobs/a/b~blob",
                b"skiff-blob/1\n".as_slice(),
                Class::File,
            ),
            ("blobs/blobs/a/b~tmp.123", b"x".as_slice(), Class::Skipped),
            ("scripts/data.json.tmp", b"x".as_slice(), Class::Skipped),
            ("scripts/data.json", b"{}".as_slice(), Class::File),
            ("secrets/blob_url_key", b"k".as_slice(), Class::Skipped),
            (".write-probe", b"ok".as_slice(), Class::Skipped),
            ("short", b"SQLite".as_slice(), Class::File),
        ];
        for (rel, bytes, want) in cases {
            let p = write(rel, bytes);
            assert_eq!(classify(&p, rel, false).unwrap(), want, "{rel}");
        }
        let p = dir.path().join("secrets/blob_url_key");
        assert_eq!(
            classify(&p, "secrets/blob_url_key", true).unwrap(),
            Class::Secret
        );
    }
}
