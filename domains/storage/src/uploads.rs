//! Signed uploads, shared by large records and large backups: the bytes go
//! straight to the blob store through a URL signed for exactly them (size and
//! SHA-256: the store refuses others), while a pending item holds their
//! reservation; a commit then checks what arrived before the item becomes
//! visible. A pending item never committed is released by the sweep once its
//! deadline passes.

use crate::model::Checksum;
use crate::{StorageError, StorageResult};
use skiff_core::ports::blobs::{BlobError, BlobKey, BlobStore, SignedUpload};
use std::time::Duration;

/// After a signed upload's URL expires, how long its commit may still come.
pub const COMMIT_GRACE_SECS: i64 = 15 * 60;

/// Until when a pending upload started at `now` waits for its commit.
pub fn deadline(now: i64, ttl: Duration) -> i64 {
    now + ttl.as_secs() as i64 + COMMIT_GRACE_SECS
}

/// Has a pending upload's deadline passed (the sweep releases it, or has)?
pub fn lapsed(until: Option<i64>, now: i64) -> bool {
    until.is_some_and(|u| u <= now)
}

/// A URL that accepts exactly `size` bytes with this SHA-256 at `key`.
pub async fn sign(
    blobs: &dyn BlobStore,
    key: &BlobKey,
    ttl: Duration,
    size: u64,
    checksum: &Checksum,
) -> Result<SignedUpload, BlobError> {
    blobs.signed_upload(key, ttl, size, checksum.as_str()).await
}

/// Check what arrived at `key` before a commit: nothing yet is
/// `UploadIncomplete`; other bytes than announced are deleted (the client may
/// upload again while the URL works) and answered `SizeMismatch` or
/// `ChecksumMismatch`.
pub async fn check_arrived(
    blobs: &dyn BlobStore,
    key: &BlobKey,
    size: u64,
    checksum: &Checksum,
) -> StorageResult<()> {
    let Some(meta) = blobs.head(key).await? else {
        return Err(StorageError::UploadIncomplete);
    };
    let refused = if meta.size != size {
        StorageError::SizeMismatch {
            expected: size,
            actual: meta.size,
        }
    } else if !checksum.same_as_hex(&meta.sha256) {
        StorageError::ChecksumMismatch
    } else {
        return Ok(());
    };
    blobs.delete(key).await?;
    Err(refused)
}
