//! The blob port: whole objects addressed by key, SHA-256 recorded on write and
//! verified on read, and time-limited signed URLs for direct upload and download.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Longest lifetime a signed URL may have (S3's SigV4 limit).
pub const MAX_SIGNED_URL_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// A blob key: 1–1024 bytes of `[A-Za-z0-9!_.*'()/-]`, no `..` segment, no leading
/// or trailing `/`, so it is a safe relative path and a safe S3 key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobKey(String);

impl BlobKey {
    pub fn parse(raw: impl Into<String>) -> Result<Self, BlobError> {
        let raw = raw.into();
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "!_.*'()/-".contains(c);
        let valid = !raw.is_empty()
            && raw.len() <= 1024
            && raw.chars().all(ok_char)
            && !raw.starts_with('/')
            && !raw.ends_with('/')
            && raw
                .split('/')
                .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
        if valid {
            Ok(BlobKey(raw))
        } else {
            Err(BlobError::InvalidKey(raw))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BlobKey {
    type Error = BlobError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        BlobKey::parse(value)
    }
}

impl From<BlobKey> for String {
    fn from(k: BlobKey) -> String {
        k.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the store knows about a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMeta {
    pub key: BlobKey,
    pub size: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    pub content_type: String,
}

/// A blob read back, already verified against its recorded SHA-256.
#[derive(Debug, Clone)]
pub struct Blob {
    pub meta: BlobMeta,
    pub bytes: Bytes,
}

/// A body that arrives (or leaves) a chunk at a time, so memory does not grow with
/// its size.
pub type ByteStream = BoxStream<'static, Result<Bytes, BlobError>>;

/// A blob being read as a stream. Its SHA-256 is checked as the bytes pass: a
/// mismatch ends the stream with [`BlobError::Corrupt`] instead of its last chunk,
/// so a reader that sees the stream end cleanly has read the recorded bytes.
pub struct BlobReader {
    pub meta: BlobMeta,
    pub body: ByteStream,
}

/// What a streamed put must receive; otherwise nothing is stored (the old object,
/// if any, stays).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Exact size in bytes.
    pub size: Option<u64>,
    /// Lowercase hex SHA-256.
    pub sha256: Option<String>,
}

/// A signed upload: the URL, and the headers the client must send with it (the
/// SHA-256 among them, so the store itself refuses other bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedUpload {
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Header carrying the base64 SHA-256 of an upload (S3's, and the filesystem
/// store's signed URLs).
pub const CHECKSUM_HEADER: &str = "x-amz-checksum-sha256";

/// What a signed URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignedOp {
    Get,
    Put,
}

/// A time-limited URL a client can use without other credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedUrl {
    pub url: String,
    pub method: String,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid blob key `{0}`")]
    InvalidKey(String),
    #[error("blob `{0}` not found")]
    NotFound(BlobKey),
    /// The stored bytes no longer match the SHA-256 recorded when they were written.
    #[error("blob `{key}` is corrupt: expected sha256 {expected}, found {actual}")]
    Corrupt {
        key: BlobKey,
        expected: String,
        actual: String,
    },
    /// The caller supplied a checksum and the bytes do not match it.
    #[error("checksum mismatch: expected sha256 {expected}, got {actual}")]
    ChecksumMismatch { expected: String, actual: String },
    /// A streamed put received another number of bytes than it was told.
    #[error("size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch { expected: u64, actual: u64 },
    /// The body being streamed in failed (the client went away); nothing was stored.
    #[error("the body could not be read: {0}")]
    Body(String),
    #[error("signed URL refused: {0}")]
    SignatureRejected(&'static str),
    #[error("invalid blob request: {0}")]
    Invalid(String),
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
    #[error("blob store failure: {0}")]
    Fatal(String),
}

/// One bucket of blobs.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Store the bytes atomically (readers see the old object or the new one, never a
    /// mix). Returns the recorded metadata.
    async fn put(
        &self,
        key: &BlobKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<BlobMeta, BlobError>;

    /// Store a body that arrives as a stream, holding only a bounded part of it in
    /// memory. Atomic like [`BlobStore::put`]; a body that fails, or breaks
    /// `expected`, stores nothing (`Body`, `SizeMismatch`, `ChecksumMismatch`).
    async fn put_stream(
        &self,
        key: &BlobKey,
        body: ByteStream,
        content_type: &str,
        expected: Expected,
    ) -> Result<BlobMeta, BlobError>;

    /// Read and verify the bytes; `NotFound` or `Corrupt` are typed outcomes.
    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError>;

    /// Read as a stream (see [`BlobReader`]): memory does not grow with the size.
    async fn get_stream(&self, key: &BlobKey) -> Result<BlobReader, BlobError>;

    /// Metadata without the bytes; `None` if absent.
    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BlobError>;

    /// Delete; deleting an absent blob succeeds.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;

    /// Keys under a prefix, sorted, at most `limit`.
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<BlobKey>, BlobError>;

    /// A URL allowing one operation on one key until `now + ttl`.
    async fn signed_url(
        &self,
        key: &BlobKey,
        op: SignedOp,
        ttl: Duration,
    ) -> Result<SignedUrl, BlobError>;

    /// A URL that accepts one upload to `key` until `now + ttl`, and only of `size`
    /// bytes whose SHA-256 is `sha256` (hex): the store refuses other bytes.
    async fn signed_upload(
        &self,
        key: &BlobKey,
        ttl: Duration,
        size: u64,
        sha256: &str,
    ) -> Result<SignedUpload, BlobError>;

    /// Readiness probe.
    async fn check(&self) -> Result<(), BlobError>;
}

/// A stream of whole bytes (tests, small bodies).
pub fn stream_of(bytes: Bytes) -> ByteStream {
    Box::pin(futures::stream::once(async move { Ok(bytes) }))
}

/// Base64 (standard) of a hex SHA-256, as `x-amz-checksum-sha256` carries it;
/// `None` unless `hex` is 64 hex digits.
pub fn sha256_base64(hex: &str) -> Option<String> {
    use base64::Engine;
    let raw = ::hex::decode(hex).ok().filter(|r| r.len() == 32)?;
    Some(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// Hex of a base64 SHA-256 (the inverse of [`sha256_base64`]).
pub fn sha256_from_base64(b64: &str) -> Option<String> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()
        .filter(|r| r.len() == 32)?;
    Some(::hex::encode(raw))
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
