//! File collections: bytes in the blob port (SHA-256 recorded on write and
//! checked on every read), metadata in the store. `files::collection(c)` →
//! `.create(name, blob, meta)`, `.head(name)`, `.get(name)`, `.update(name, blob,
//! meta)`, `.delete(name)`, `.list(#{cursor, limit})`. Stored bytes count against
//! the plan's `storage_gb` in the transaction that records the file.
//!
//! Each version of a file's bytes has a blob key of its own: the bytes are
//! written first, the metadata (with quota and trigger messages) commits after,
//! and only then is the previous version's blob removed, so a reader never sees
//! metadata without its bytes. A crash between the two leaves an unreferenced
//! blob, never a broken file.

use super::{CommitError, RETRIES, Scope, check_collection, sk};
use crate::error::{ScriptsError, ScriptsResult};
use crate::triggers::{Op, TriggerKind};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use skiff_billing::entitlements;
use skiff_core::ports::blobs::{BlobError, BlobKey};
use skiff_core::ports::store::{Condition, Item, Key, NewItem, Query, SortKey, StoreError, Write};

/// Longest file name.
pub const MAX_NAME_BYTES: usize = 512;
/// Most entries one `list` returns.
pub const MAX_LIST: usize = 100;

/// What the store keeps of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMeta {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
    /// The script's own metadata.
    pub meta: Map<String, Value>,
    pub blob_key: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl FileMeta {
    /// What scripts and trigger events see (no blob key).
    pub fn view(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "content_type": self.content_type,
            "meta": self.meta,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

fn check_name(name: &str) -> ScriptsResult<()> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control) {
        return Err(ScriptsError::invalid(
            "name",
            "INVALID_NAME",
            format!("a file name is 1 to {MAX_NAME_BYTES} bytes without control characters"),
        ));
    }
    Ok(())
}

fn file_key(scope: &Scope, collection: &str, name: &str) -> ScriptsResult<Key> {
    check_collection(collection)?;
    check_name(name)?;
    Ok(Key::new(scope.pk("FILES"), sk(collection, name)))
}

fn meta_of(item: &Item) -> ScriptsResult<FileMeta> {
    Ok(item.parse()?)
}

/// Content type and the script's metadata from its `meta` map.
fn split_meta(meta: Map<String, Value>) -> ScriptsResult<(String, Map<String, Value>)> {
    let mut meta = meta;
    let content_type = match meta.remove("content_type") {
        None => "application/octet-stream".to_owned(),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 && s.is_ascii() => s,
        Some(_) => {
            return Err(ScriptsError::invalid(
                "meta.content_type",
                "INVALID_CONTENT_TYPE",
                "`content_type` is a short ASCII string",
            ));
        }
    };
    if serde_json::to_vec(&meta).map(|v| v.len()).unwrap_or(0) > 16 * 1024 {
        return Err(ScriptsError::invalid(
            "meta",
            "TOO_LARGE",
            "a file's metadata is at most 16 KiB as JSON",
        ));
    }
    Ok((content_type, meta))
}

/// Store new bytes and record them, creating (`create`) or replacing the file.
async fn write(
    scope: &Scope,
    collection: &str,
    name: &str,
    bytes: Vec<u8>,
    meta: Map<String, Value>,
    create: bool,
) -> ScriptsResult<FileMeta> {
    let key = file_key(scope, collection, name)?;
    let max = crate::settings(&scope.services).max_file_bytes;
    if bytes.len() as u64 > max {
        return Err(ScriptsError::invalid(
            "blob",
            "TOO_LARGE",
            format!("a file is at most {max} bytes"),
        ));
    }
    let (content_type, meta) = split_meta(meta)?;
    let blob_key = BlobKey::parse(format!(
        "scripts/{}/{}/{}",
        scope.org,
        scope.app,
        uuid::Uuid::now_v7().simple()
    ))?;
    let stored = scope
        .services
        .blobs
        .put(&blob_key, Bytes::from(bytes), &content_type)
        .await?;
    let result = record(
        scope,
        collection,
        name,
        &key,
        &stored,
        content_type,
        meta,
        create,
    )
    .await;
    match result {
        Ok((file, old_blob)) => {
            if let Some(old) = old_blob {
                remove_blob(scope, &old).await;
            }
            Ok(file)
        }
        Err(e) => {
            remove_blob(scope, blob_key.as_str()).await;
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    scope: &Scope,
    collection: &str,
    name: &str,
    key: &Key,
    stored: &skiff_core::ports::blobs::BlobMeta,
    content_type: String,
    meta: Map<String, Value>,
    create: bool,
) -> ScriptsResult<(FileMeta, Option<String>)> {
    let now = scope.services.clock.unix();
    for _ in 0..RETRIES {
        let prev = scope.services.store.get(key).await?;
        let prev_meta = prev.as_ref().map(meta_of).transpose()?;
        match (&prev_meta, create) {
            (Some(_), true) => {
                return Err(ScriptsError::Conflict(format!(
                    "a file named `{name}` exists already (update it)"
                )));
            }
            (None, false) => return Err(ScriptsError::NotFound("file")),
            _ => {}
        }
        let file = FileMeta {
            name: name.to_owned(),
            size: stored.size,
            sha256: stored.sha256.clone(),
            content_type: content_type.clone(),
            meta: meta.clone(),
            blob_key: stored.key.to_string(),
            created_at: prev_meta.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
        };
        let delta = file.size as i64 - prev_meta.as_ref().map_or(0, |p| p.size as i64);
        let mut writes = vec![Write::Put {
            item: NewItem::from_record(key.clone(), &file)?,
            condition: Some(match &prev {
                Some(p) => Condition::VersionIs(p.version),
                None => Condition::Absent,
            }),
        }];
        if delta > 0 {
            writes
                .push(entitlements::reserve_bytes_write(&scope.services, &scope.org, delta).await?);
        } else if delta < 0 {
            writes.push(entitlements::release_write(
                &scope.org,
                entitlements::STORAGE_BYTES,
                -delta,
            ));
        }
        let op = if prev_meta.is_some() {
            Op::Update
        } else {
            Op::Insert
        };
        match scope
            .commit(
                TriggerKind::Files,
                collection,
                "name",
                name,
                op,
                Some(file.view()),
                prev_meta.as_ref().map(FileMeta::view),
                writes,
            )
            .await
        {
            Ok(()) => return Ok((file, prev_meta.map(|p| p.blob_key))),
            Err(CommitError::Store(StoreError::ConditionFailed { index: Some(0) })) => continue,
            Err(CommitError::Store(StoreError::ConditionFailed { index: Some(1) })) => {
                return Err(entitlements::quota_exceeded(
                    &scope.services,
                    &scope.org,
                    "storage_gb",
                )
                .await
                .into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ScriptsError::Conflict(format!(
        "file `{name}` kept changing under concurrent writes"
    )))
}

async fn remove_blob(scope: &Scope, key: &str) {
    if let Ok(k) = BlobKey::parse(key)
        && let Err(e) = scope.services.blobs.delete(&k).await
    {
        tracing::warn!(error = %e, "could not delete a file's unreferenced bytes");
    }
}

pub async fn create(
    scope: &Scope,
    collection: &str,
    name: &str,
    bytes: Vec<u8>,
    meta: Map<String, Value>,
) -> ScriptsResult<FileMeta> {
    write(scope, collection, name, bytes, meta, true).await
}

pub async fn update(
    scope: &Scope,
    collection: &str,
    name: &str,
    bytes: Vec<u8>,
    meta: Map<String, Value>,
) -> ScriptsResult<FileMeta> {
    write(scope, collection, name, bytes, meta, false).await
}

pub async fn head(scope: &Scope, collection: &str, name: &str) -> ScriptsResult<Option<FileMeta>> {
    let key = file_key(scope, collection, name)?;
    scope
        .services
        .store
        .get(&key)
        .await?
        .map(|i| meta_of(&i))
        .transpose()
}

/// The file and its bytes, checked against the recorded SHA-256.
pub async fn get(
    scope: &Scope,
    collection: &str,
    name: &str,
) -> ScriptsResult<Option<(FileMeta, Bytes)>> {
    let Some(meta) = head(scope, collection, name).await? else {
        return Ok(None);
    };
    let key = BlobKey::parse(meta.blob_key.clone())?;
    let actual = match scope.services.blobs.get(&key).await {
        Ok(blob) if blob.meta.sha256 == meta.sha256 => return Ok(Some((meta, blob.bytes))),
        Ok(blob) => blob.meta.sha256,
        Err(BlobError::Corrupt { actual, .. }) => actual,
        Err(e) => return Err(e.into()),
    };
    tracing::error!(
        blob = %key, expected = %meta.sha256, %actual,
        "a script's file failed its integrity check"
    );
    Err(ScriptsError::CorruptFile {
        collection: collection.to_owned(),
        name: name.to_owned(),
    })
}

/// Delete a file; whether it was there.
pub async fn delete(scope: &Scope, collection: &str, name: &str) -> ScriptsResult<bool> {
    let key = file_key(scope, collection, name)?;
    for _ in 0..RETRIES {
        let Some(prev) = scope.services.store.get(&key).await? else {
            return Ok(false);
        };
        let meta = meta_of(&prev)?;
        let writes = vec![
            Write::Delete {
                key: key.clone(),
                condition: Some(Condition::VersionIs(prev.version)),
            },
            entitlements::release_write(&scope.org, entitlements::STORAGE_BYTES, meta.size as i64),
        ];
        match scope
            .commit(
                TriggerKind::Files,
                collection,
                "name",
                name,
                Op::Delete,
                None,
                Some(meta.view()),
                writes,
            )
            .await
        {
            Ok(()) => {
                remove_blob(scope, &meta.blob_key).await;
                return Ok(true);
            }
            Err(CommitError::Store(StoreError::ConditionFailed { index: Some(0) })) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ScriptsError::Conflict(format!(
        "file `{name}` kept changing under concurrent writes"
    )))
}

/// One page of files in name order, after `cursor` (the previous page's last name).
pub async fn list(
    scope: &Scope,
    collection: &str,
    cursor: Option<&str>,
    limit: usize,
) -> ScriptsResult<(Vec<FileMeta>, Option<String>)> {
    check_collection(collection)?;
    let limit = limit.clamp(1, MAX_LIST);
    let prefix = sk(collection, "");
    let sort = match cursor {
        Some(after) => {
            check_name(after)?;
            SortKey::Between(
                format!("{}\u{1}", sk(collection, after)),
                format!("{prefix}\u{10FFFF}"),
            )
        }
        None => SortKey::Prefix(prefix),
    };
    let page = scope
        .services
        .store
        .query(Query {
            pk: scope.pk("FILES"),
            sort,
            limit: Some(limit),
            ..Default::default()
        })
        .await?;
    let files = page
        .items
        .iter()
        .map(meta_of)
        .collect::<ScriptsResult<Vec<_>>>()?;
    let next = (page.next.is_some() && files.len() == limit)
        .then(|| files.last().map(|f| f.name.clone()))
        .flatten();
    Ok((files, next))
}
