//! Filesystem blob store (the embedded backend).
//!
//! Each blob is ONE file: a magic line, a one-line JSON header (size, SHA-256,
//! content type) and then the bytes. Writing goes temp file (same directory) →
//! write → fsync → rename → fsync the directory, so a single rename publishes the
//! bytes together with their checksum and a reader sees the old blob or the new one,
//! never a mix. Every `get` recomputes the SHA-256 and refuses a mismatch as
//! [`BlobError::Corrupt`].
//!
//! Layout: key `a/b/c` lives at `<root>/a/b/c~blob`. `~` cannot occur in a key, so
//! blob files, temp files (`c~tmp.<uuid>`) and the directories of longer keys never
//! collide. Empty directories are pruned on delete.
//!
//! Signed URLs are `{url_base}/{key}?op=get|put&exp=<unix>&sig=<hex>`, where `sig` is
//! HMAC-SHA256 under the blob URL key of [`FsBlobStore::canonical_string`]; the HTTP
//! side lives in the HTTP crate (`blob_urls`).

use async_trait::async_trait;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use skiff_core::clock::SharedClock;
use skiff_core::ports::blobs::*;
use skiff_core::ports::secrets::SecretValue;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// Suffix of a published blob file.
const BLOB_SUFFIX: &str = "~blob";
/// Marker inside the name of an in-flight temp file.
const TMP_MARK: &str = "~tmp.";
/// First line of every blob file (format version).
const MAGIC: &[u8] = b"skiff-blob/1\n";
/// Upper bound of the JSON header line.
const MAX_HEADER_BYTES: usize = 4096;
/// Longest key segment the filesystem layout accepts (file names are ≤ 255 bytes,
/// and temp names add a marker and a UUID).
pub const MAX_SEGMENT_BYTES: usize = 200;
/// Longest accepted content type.
const MAX_CONTENT_TYPE_BYTES: usize = 255;
/// Content type recorded when the caller gives none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
/// Version tag of the signed-URL canonical string.
const SIGNATURE_VERSION: &str = "skiff-blob-url/v1";
/// How often a write retries when a concurrent delete pruned its directory.
const DIR_RACE_RETRIES: usize = 8;

/// The header stored in front of the bytes.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Header {
    size: u64,
    sha256: String,
    content_type: String,
}

/// A bucket of blobs in a directory.
pub struct FsBlobStore {
    root: PathBuf,
    url_base: String,
    /// Path part of `url_base`, bound into every signature so a URL signed for one
    /// bucket is refused by another.
    bucket_path: String,
    mac: HmacSha256,
    clock: SharedClock,
}

impl std::fmt::Debug for FsBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsBlobStore")
            .field("root", &self.root)
            .field("url_base", &self.url_base)
            .finish_non_exhaustive()
    }
}

impl FsBlobStore {
    /// Open (creating if needed) the bucket directory `root`. Signed URLs start with
    /// `url_base` (e.g. `http://127.0.0.1:3000/_blobs/blobs`) and are signed with
    /// `url_key`.
    pub fn open(
        root: PathBuf,
        url_base: String,
        url_key: SecretValue,
        clock: SharedClock,
    ) -> Result<Self, BlobError> {
        if url_key.expose().is_empty() {
            return Err(BlobError::Fatal("the blob URL key is empty".into()));
        }
        let url_base = url_base.trim_end_matches('/').to_owned();
        let bucket_path = url_path(&url_base).to_owned();
        fs::create_dir_all(&root)
            .map_err(|e| io_error(format!("creating blob directory {}", root.display()), e))?;
        let mac = HmacSha256::new_from_slice(url_key.expose().as_bytes())
            .map_err(|e| BlobError::Fatal(format!("blob URL key: {e}")))?;
        Ok(Self {
            root,
            url_base,
            bucket_path,
            mac,
            clock,
        })
    }

    /// The bucket directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The prefix of this bucket's signed URLs.
    pub fn url_base(&self) -> &str {
        &self.url_base
    }

    /// Where the blob of `key` is stored (for operators, and tests that damage it).
    pub fn path_of(&self, key: &BlobKey) -> Result<PathBuf, BlobError> {
        Ok(self.locate(key)?.file)
    }

    /// The string a signed URL's `sig` authenticates: version, operation, bucket
    /// path, key and expiry, newline-separated (none of them can hold a newline).
    pub fn canonical_string(&self, key: &BlobKey, op: SignedOp, exp: i64) -> String {
        format!(
            "{SIGNATURE_VERSION}\n{}\n{}\n{}\n{exp}",
            op_name(op),
            self.bucket_path,
            key
        )
    }

    /// The canonical string of a signed upload bound to one size and SHA-256: a
    /// plain signed PUT's, plus both, so neither can be dropped or changed.
    fn canonical_upload(&self, key: &BlobKey, exp: i64, size: u64, sha256: &str) -> String {
        format!(
            "{}\n{size}\n{sha256}",
            self.canonical_string(key, SignedOp::Put, exp)
        )
    }

    fn mac_hex(&self, canonical: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(canonical.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn sign(&self, key: &BlobKey, op: SignedOp, exp: i64) -> String {
        self.mac_hex(&self.canonical_string(key, op, exp))
    }

    /// Check a signed upload's parameters (see [`FsBlobStore::verify_signed`]): the
    /// signature covers the size and SHA-256 the upload must have.
    pub fn verify_signed_upload(
        &self,
        key: &BlobKey,
        exp: i64,
        size: u64,
        sha256: &str,
        sig: &str,
    ) -> Result<(), BlobError> {
        self.verify_canonical(&self.canonical_upload(key, exp, size, sha256), exp, sig)
    }

    /// Check a signed URL's parameters: the signature must match (compared in
    /// constant time) and the expiry must lie in the future. Refusals are
    /// `SignatureRejected("bad signature")` or `SignatureRejected("expired")`.
    pub fn verify_signed(
        &self,
        key: &BlobKey,
        op: SignedOp,
        exp: i64,
        sig: &str,
    ) -> Result<(), BlobError> {
        self.verify_canonical(&self.canonical_string(key, op, exp), exp, sig)
    }

    fn verify_canonical(&self, canonical: &str, exp: i64, sig: &str) -> Result<(), BlobError> {
        let bad = || BlobError::SignatureRejected("bad signature");
        let sig = hex::decode(sig).map_err(|_| bad())?;
        let mut mac = self.mac.clone();
        mac.update(canonical.as_bytes());
        mac.verify_slice(&sig).map_err(|_| bad())?;
        if self.clock.unix() >= exp {
            return Err(BlobError::SignatureRejected("expired"));
        }
        Ok(())
    }

    fn locate(&self, key: &BlobKey) -> Result<Location, BlobError> {
        let segments: Vec<&str> = key.as_str().split('/').collect();
        if let Some(long) = segments.iter().find(|s| s.len() > MAX_SEGMENT_BYTES) {
            return Err(BlobError::Invalid(format!(
                "key segment of {} bytes: the filesystem store accepts at most {MAX_SEGMENT_BYTES}",
                long.len()
            )));
        }
        let (last, dirs) = segments.split_last().expect("a key has a segment");
        let dir = dirs.iter().fold(self.root.clone(), |p, s| p.join(s));
        Ok(Location {
            file: dir.join(format!("{last}{BLOB_SUFFIX}")),
            tmp_stem: format!("{last}{TMP_MARK}"),
            dirs: dirs.iter().map(|s| (*s).to_owned()).collect(),
            dir,
        })
    }

    async fn blocking<T, F>(f: F) -> Result<T, BlobError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, BlobError> + Send + 'static,
    {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| BlobError::Fatal(format!("blob IO task failed: {e}")))?
    }
}

/// Where one key lives.
struct Location {
    file: PathBuf,
    dir: PathBuf,
    dirs: Vec<String>,
    tmp_stem: String,
}

fn op_name(op: SignedOp) -> &'static str {
    match op {
        SignedOp::Get => "get",
        SignedOp::Put => "put",
    }
}

/// The path part of a URL (`http://h:1/a/b` → `/a/b`; no path → ``).
fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.find('/').map_or("", |i| &after_scheme[i..])
}

/// A content type that is safe as an HTTP header value and in the JSON header.
pub(crate) fn checked_content_type(content_type: &str) -> Result<String, BlobError> {
    let ct = content_type.trim();
    if ct.is_empty() {
        return Ok(DEFAULT_CONTENT_TYPE.to_owned());
    }
    if ct.len() > MAX_CONTENT_TYPE_BYTES || !ct.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(BlobError::Invalid(format!(
            "content type must be at most {MAX_CONTENT_TYPE_BYTES} printable ASCII characters"
        )));
    }
    Ok(ct.to_owned())
}

/// IO failures that may pass (full disk, busy, interrupted) are `Unavailable`;
/// the rest are `Fatal`.
fn io_error(context: String, e: io::Error) -> BlobError {
    use io::ErrorKind::*;
    match e.kind() {
        StorageFull | QuotaExceeded | ResourceBusy | Interrupted | TimedOut | WouldBlock => {
            BlobError::Unavailable(format!("{context}: {e}"))
        }
        _ => BlobError::Fatal(format!("{context}: {e}")),
    }
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Fsync a directory unless a concurrent delete has already pruned it (its removal
/// was then made durable by that delete, which fsyncs the parent).
fn fsync_dir_if_present(dir: &Path) -> io::Result<()> {
    match fsync_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Create the key's directories below the root, fsyncing each parent whose entry
/// list changed so the new directory survives a crash.
fn ensure_dirs(root: &Path, dirs: &[String]) -> io::Result<()> {
    let mut path = root.to_path_buf();
    for seg in dirs {
        let parent = path.clone();
        path.push(seg);
        match fs::create_dir(&path) {
            Ok(()) => fsync_dir(&parent)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn write_blob(root: &Path, loc: &Location, header: &[u8], bytes: &[u8]) -> io::Result<()> {
    let mut attempt = 0;
    let (tmp, mut file) = loop {
        let tmp = loc
            .dir
            .join(format!("{}{}", loc.tmp_stem, uuid::Uuid::new_v4().simple()));
        match ensure_dirs(root, &loc.dirs).and_then(|()| File::create_new(&tmp)) {
            Ok(f) => break (tmp, f),
            // A concurrent delete pruned a (then empty) directory: recreate it. Once
            // the temp file exists its directory is not empty and cannot be pruned.
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < DIR_RACE_RETRIES => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let published = (|| {
        file.write_all(MAGIC)?;
        file.write_all(header)?;
        file.write_all(b"\n")?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &loc.file)?;
        fsync_dir_if_present(&loc.dir)
    })();
    if published.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    published
}

/// Room left for the header of a streamed blob, whose size and SHA-256 are known
/// only at the end: filled with the JSON header and spaces (JSON whitespace).
const STREAMED_HEADER_ROOM: usize = 512;

/// Chunks a streamed read or write keeps in flight between the async side and its
/// blocking file thread.
const STREAM_DEPTH: usize = 4;
/// Size of the chunks a streamed read yields.
const READ_CHUNK: usize = 64 * 1024;

/// Write a streamed blob: the chunks arrive through `chunks` and go to a temp file
/// behind a reserved header; once all are in and match `expected`, the header is
/// filled in and the file published by the same rename as a whole put.
fn write_streamed(
    root: &Path,
    loc: &Location,
    key: &BlobKey,
    content_type: String,
    expected: Expected,
    mut chunks: tokio::sync::mpsc::Receiver<Result<Bytes, BlobError>>,
) -> Result<BlobMeta, BlobError> {
    use sha2::Digest;
    use std::io::{Seek, SeekFrom};
    let io = |e: io::Error| io_error(format!("writing blob `{key}`"), e);
    let mut attempt = 0;
    let (tmp, mut file) = loop {
        let tmp = loc
            .dir
            .join(format!("{}{}", loc.tmp_stem, uuid::Uuid::new_v4().simple()));
        match ensure_dirs(root, &loc.dirs).and_then(|()| File::create_new(&tmp)) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < DIR_RACE_RETRIES => {
                attempt += 1;
            }
            Err(e) => return Err(io(e)),
        }
    };
    let written = (|| {
        file.write_all(MAGIC).map_err(io)?;
        file.write_all(&[b' '; STREAMED_HEADER_ROOM]).map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = chunks.blocking_recv() {
            let chunk = chunk?;
            size += chunk.len() as u64;
            if expected.size.is_some_and(|max| size > max) {
                return Err(BlobError::SizeMismatch {
                    expected: expected.size.unwrap_or_default(),
                    actual: size,
                });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).map_err(io)?;
        }
        if let Some(expected) = expected.size.filter(|e| *e != size) {
            return Err(BlobError::SizeMismatch {
                expected,
                actual: size,
            });
        }
        let sha256 = hex::encode(hasher.finalize());
        if let Some(expected) = expected.sha256.filter(|e| !e.eq_ignore_ascii_case(&sha256)) {
            return Err(BlobError::ChecksumMismatch {
                expected,
                actual: sha256,
            });
        }
        let header = serde_json::to_vec(&Header {
            size,
            sha256: sha256.clone(),
            content_type: content_type.clone(),
        })
        .map_err(|e| BlobError::Fatal(format!("encoding blob header: {e}")))?;
        if header.len() > STREAMED_HEADER_ROOM {
            return Err(BlobError::Invalid("blob header too long".into()));
        }
        file.seek(SeekFrom::Start(MAGIC.len() as u64)).map_err(io)?;
        file.write_all(&header).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(BlobMeta {
            key: key.clone(),
            size,
            sha256,
            content_type,
        })
    })();
    let published = written.and_then(|meta| {
        drop(file);
        fs::rename(&tmp, &loc.file).map_err(io)?;
        fsync_dir_if_present(&loc.dir).map_err(io)?;
        Ok(meta)
    });
    if published.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    published
}

/// Read a blob file's bytes after its header into `out`, a chunk at a time,
/// hashing as they go; the last item is `Corrupt` instead of the end if the
/// bytes do not match the header.
fn read_streamed(
    mut file: File,
    offset: u64,
    key: BlobKey,
    header: Header,
    out: tokio::sync::mpsc::Sender<Result<Bytes, BlobError>>,
) {
    use sha2::Digest;
    use std::io::{Seek, SeekFrom};
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    if let Err(e) = file.seek(SeekFrom::Start(offset)) {
        let _ = out.blocking_send(Err(io_error(format!("reading blob `{key}`"), e)));
        return;
    }
    loop {
        let mut buf = vec![0u8; READ_CHUNK];
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = out.blocking_send(Err(io_error(format!("reading blob `{key}`"), e)));
                return;
            }
        };
        buf.truncate(n);
        hasher.update(&buf);
        size += n as u64;
        if out.blocking_send(Ok(Bytes::from(buf))).is_err() {
            return; // the reader went away
        }
    }
    let actual = hex::encode(hasher.finalize());
    if actual != header.sha256 || size != header.size {
        let _ = out.blocking_send(Err(BlobError::Corrupt {
            key,
            expected: header.sha256,
            actual,
        }));
    }
}

/// The receiving end of a chunk channel as a stream.
fn receiver_stream(rx: tokio::sync::mpsc::Receiver<Result<Bytes, BlobError>>) -> ByteStream {
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

/// Split a blob file into its header and the offset of the bytes; `None` if the
/// file does not have the expected shape.
fn parse_header(buf: &[u8]) -> Option<(Header, usize)> {
    let rest = buf.strip_prefix(MAGIC)?;
    let end = rest
        .iter()
        .take(MAX_HEADER_BYTES)
        .position(|&b| b == b'\n')?;
    let header = serde_json::from_slice(&rest[..end]).ok()?;
    Some((header, MAGIC.len() + end + 1))
}

/// Read the magic line and the header only.
fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(512);
    File::open(path)?
        .take((MAGIC.len() + MAX_HEADER_BYTES + 1) as u64)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

fn unreadable(key: &BlobKey) -> BlobError {
    BlobError::Corrupt {
        key: key.clone(),
        expected: "a readable blob header".into(),
        actual: "an unreadable header".into(),
    }
}

/// Keys under `prefix` in the tree at `root` (unsorted).
fn collect_keys(root: &Path, prefix: &str) -> io::Result<Vec<BlobKey>> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "!_.*'()/-".contains(c);
    if !prefix.chars().all(ok_char) {
        return Ok(Vec::new()); // no key can start with it
    }
    let mut dir = root.to_path_buf();
    let (key_prefix, partial) = match prefix.rsplit_once('/') {
        None => (String::new(), prefix),
        Some((dir_part, partial)) => {
            for seg in dir_part.split('/') {
                if seg.is_empty() || seg == "." || seg == ".." {
                    return Ok(Vec::new()); // not a key's directory: nothing can match
                }
                dir.push(seg);
            }
            (format!("{dir_part}/"), partial)
        }
    };
    let mut keys = Vec::new();
    walk(&dir, &key_prefix, Some(partial), &mut keys)?;
    Ok(keys)
}

/// Collect the keys below `dir` (whose keys start with `key_prefix`), keeping only
/// entries whose name starts with `partial` at this level.
fn walk(
    dir: &Path,
    key_prefix: &str,
    partial: Option<&str>,
    out: &mut Vec<BlobKey>,
) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let wanted = |seg: &str| partial.is_none_or(|p| seg.starts_with(p));
        if file_type.is_dir() {
            if !name.contains('~') && wanted(&name) {
                walk(&entry.path(), &format!("{key_prefix}{name}/"), None, out)?;
            }
        } else if let Some(seg) = name.strip_suffix(BLOB_SUFFIX)
            && !seg.contains('~')
            && wanted(seg)
            && let Ok(key) = BlobKey::parse(format!("{key_prefix}{seg}"))
        {
            out.push(key);
        }
    }
    Ok(())
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(
        &self,
        key: &BlobKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<BlobMeta, BlobError> {
        let loc = self.locate(key)?;
        let content_type = checked_content_type(content_type)?;
        let root = self.root.clone();
        let key = key.clone();
        Self::blocking(move || {
            let meta = BlobMeta {
                key: key.clone(),
                size: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
                content_type,
            };
            let header = serde_json::to_vec(&Header {
                size: meta.size,
                sha256: meta.sha256.clone(),
                content_type: meta.content_type.clone(),
            })
            .map_err(|e| BlobError::Fatal(format!("encoding blob header: {e}")))?;
            write_blob(&root, &loc, &header, &bytes)
                .map_err(|e| io_error(format!("writing blob `{key}`"), e))?;
            Ok(meta)
        })
        .await
    }

    async fn put_stream(
        &self,
        key: &BlobKey,
        mut body: ByteStream,
        content_type: &str,
        expected: Expected,
    ) -> Result<BlobMeta, BlobError> {
        use futures::StreamExt;
        let loc = self.locate(key)?;
        let content_type = checked_content_type(content_type)?;
        let (tx, rx) = tokio::sync::mpsc::channel(STREAM_DEPTH);
        let root = self.root.clone();
        let key = key.clone();
        let writer = tokio::task::spawn_blocking(move || {
            write_streamed(&root, &loc, &key, content_type, expected, rx)
        });
        while let Some(chunk) = body.next().await {
            let failed = chunk.is_err();
            // A closed channel means the writer stopped early; its answer says why.
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
        drop(tx);
        writer
            .await
            .map_err(|e| BlobError::Fatal(format!("blob IO task failed: {e}")))?
    }

    async fn get_stream(&self, key: &BlobKey) -> Result<BlobReader, BlobError> {
        let loc = self.locate(key)?;
        let key = key.clone();
        let (file, header, offset) = Self::blocking({
            let key = key.clone();
            move || {
                let mut file = match File::open(&loc.file) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        return Err(BlobError::NotFound(key));
                    }
                    Err(e) => return Err(io_error(format!("reading blob `{key}`"), e)),
                };
                let mut head = Vec::with_capacity(512);
                (&mut file)
                    .take((MAGIC.len() + MAX_HEADER_BYTES + 1) as u64)
                    .read_to_end(&mut head)
                    .map_err(|e| io_error(format!("reading blob `{key}`"), e))?;
                let (header, offset) = parse_header(&head).ok_or_else(|| unreadable(&key))?;
                Ok((file, header, offset as u64))
            }
        })
        .await?;
        let meta = BlobMeta {
            key: key.clone(),
            size: header.size,
            sha256: header.sha256.clone(),
            content_type: header.content_type.clone(),
        };
        let (tx, rx) = tokio::sync::mpsc::channel(STREAM_DEPTH);
        tokio::task::spawn_blocking(move || read_streamed(file, offset, key, header, tx));
        Ok(BlobReader {
            meta,
            body: receiver_stream(rx),
        })
    }

    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        let loc = self.locate(key)?;
        let key = key.clone();
        Self::blocking(move || {
            let buf = match fs::read(&loc.file) {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(BlobError::NotFound(key));
                }
                Err(e) => return Err(io_error(format!("reading blob `{key}`"), e)),
            };
            let (header, offset) = parse_header(&buf).ok_or_else(|| unreadable(&key))?;
            let bytes = Bytes::from(buf).slice(offset..);
            let actual = sha256_hex(&bytes);
            if actual != header.sha256 || bytes.len() as u64 != header.size {
                return Err(BlobError::Corrupt {
                    key,
                    expected: header.sha256,
                    actual,
                });
            }
            Ok(Blob {
                meta: BlobMeta {
                    key,
                    size: header.size,
                    sha256: header.sha256,
                    content_type: header.content_type,
                },
                bytes,
            })
        })
        .await
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BlobError> {
        let loc = self.locate(key)?;
        let key = key.clone();
        Self::blocking(move || {
            let buf = match read_head(&loc.file) {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_error(format!("reading blob `{key}`"), e)),
            };
            let (header, _) = parse_header(&buf).ok_or_else(|| unreadable(&key))?;
            Ok(Some(BlobMeta {
                key,
                size: header.size,
                sha256: header.sha256,
                content_type: header.content_type,
            }))
        })
        .await
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let loc = self.locate(key)?;
        let root = self.root.clone();
        let key = key.clone();
        Self::blocking(move || {
            match fs::remove_file(&loc.file) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(io_error(format!("deleting blob `{key}`"), e)),
            }
            fsync_dir_if_present(&loc.dir)
                .map_err(|e| io_error(format!("deleting blob `{key}`"), e))?;
            // Prune directories left empty; `remove_dir` refuses a non-empty one, so
            // a concurrent writer's directory is never lost (it retries otherwise).
            let mut dir = loc.dir.as_path();
            while dir != root && fs::remove_dir(dir).is_ok() {
                dir = dir.parent().unwrap_or(&root);
            }
            if dir != loc.dir {
                fsync_dir_if_present(dir)
                    .map_err(|e| io_error(format!("deleting blob `{key}`"), e))?;
            }
            Ok(())
        })
        .await
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<BlobKey>, BlobError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        Self::blocking(move || {
            let mut keys = collect_keys(&root, &prefix)
                .map_err(|e| io_error(format!("listing blobs under `{prefix}`"), e))?;
            keys.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            keys.truncate(limit);
            Ok(keys)
        })
        .await
    }

    async fn signed_url(
        &self,
        key: &BlobKey,
        op: SignedOp,
        ttl: Duration,
    ) -> Result<SignedUrl, BlobError> {
        self.locate(key)?;
        let secs = ttl_secs(ttl)?;
        let exp = self.clock.unix() + secs as i64;
        let sig = self.sign(key, op, exp);
        Ok(SignedUrl {
            url: format!(
                "{}/{key}?op={}&exp={exp}&sig={sig}",
                self.url_base,
                op_name(op)
            ),
            method: method_of(op).to_owned(),
            expires_at: exp,
        })
    }

    async fn signed_upload(
        &self,
        key: &BlobKey,
        ttl: Duration,
        size: u64,
        sha256: &str,
    ) -> Result<SignedUpload, BlobError> {
        self.locate(key)?;
        let checksum = sha256_base64(sha256)
            .ok_or_else(|| BlobError::Invalid("a signed upload needs a hex SHA-256".into()))?;
        let sha256 = sha256.to_ascii_lowercase();
        let exp = self.clock.unix() + ttl_secs(ttl)? as i64;
        let sig = self.mac_hex(&self.canonical_upload(key, exp, size, &sha256));
        Ok(SignedUpload {
            url: format!(
                "{}/{key}?op=put&exp={exp}&size={size}&sha256={sha256}&sig={sig}",
                self.url_base
            ),
            method: "PUT".into(),
            headers: [
                (CHECKSUM_HEADER.to_owned(), checksum),
                ("content-length".to_owned(), size.to_string()),
            ]
            .into(),
            expires_at: exp,
        })
    }

    async fn check(&self) -> Result<(), BlobError> {
        let root = self.root.clone();
        Self::blocking(move || {
            let probe = root.join(format!("~probe.{}", uuid::Uuid::new_v4().simple()));
            let unavailable =
                |e: io::Error| BlobError::Unavailable(format!("blob directory not writable: {e}"));
            File::create_new(&probe).map_err(unavailable)?;
            fs::remove_file(&probe).map_err(unavailable)
        })
        .await
    }
}

/// Whole seconds of a signed URL's lifetime: rounded up, capped at
/// [`MAX_SIGNED_URL_TTL`]; zero is refused.
pub(crate) fn ttl_secs(ttl: Duration) -> Result<u64, BlobError> {
    if ttl.is_zero() {
        return Err(BlobError::Invalid(
            "a signed URL needs a positive lifetime".into(),
        ));
    }
    let ttl = ttl.min(MAX_SIGNED_URL_TTL);
    Ok(ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0))
}

/// The HTTP method a signed operation uses.
pub(crate) fn method_of(op: SignedOp) -> &'static str {
    match op {
        SignedOp::Get => "GET",
        SignedOp::Put => "PUT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_path_extracts_the_path() {
        assert_eq!(
            url_path("http://127.0.0.1:3000/_blobs/blobs"),
            "/_blobs/blobs"
        );
        assert_eq!(url_path("https://example.com"), "");
        assert_eq!(url_path("/_blobs/x"), "/_blobs/x");
    }

    #[test]
    fn ttl_is_rounded_up_and_capped() {
        assert_eq!(ttl_secs(Duration::from_millis(1500)).unwrap(), 2);
        assert_eq!(ttl_secs(Duration::from_secs(60)).unwrap(), 60);
        assert_eq!(
            ttl_secs(MAX_SIGNED_URL_TTL * 2).unwrap(),
            MAX_SIGNED_URL_TTL.as_secs()
        );
        assert!(matches!(
            ttl_secs(Duration::ZERO),
            Err(BlobError::Invalid(_))
        ));
    }

    #[test]
    fn content_types_are_checked() {
        assert_eq!(checked_content_type("").unwrap(), DEFAULT_CONTENT_TYPE);
        assert_eq!(
            checked_content_type("text/plain; charset=utf-8").unwrap(),
            "text/plain; charset=utf-8"
        );
        assert!(checked_content_type("text/plain\r\nx-evil: 1").is_err());
        assert!(checked_content_type(&"a".repeat(300)).is_err());
    }

    #[test]
    fn header_parsing_refuses_garbage() {
        assert!(parse_header(b"not a blob").is_none());
        assert!(parse_header(b"skiff-blob/1\n{broken\nxx").is_none());
        let file = b"skiff-blob/1\n{\"size\":2,\"sha256\":\"ab\",\"content_type\":\"x\"}\nhi";
        let (h, off) = parse_header(file).unwrap();
        assert_eq!((h.size, &file[off..]), (2, &b"hi"[..]));
    }
}
