//! Backups: a user's client-encrypted snapshots, streamed to the blob store (the
//! body is never held whole in memory), counted against the plan's `backup_gb`,
//! the newest [`crate::StorageSettings::backup_retention`] kept per user.
//!
//! The same lifecycle as records: a pending item reserves the bytes in the
//! counter's transaction, the body streams to the blob store (which refuses it
//! unless its size and SHA-256 are the announced ones) — or, for a backup too
//! large for one request, arrives through a signed upload ([`upload`], then
//! [`commit`]; see [`crate::uploads`]) — then the backup becomes ready;
//! deletions release the bytes at once and leave the blob to remove.

use crate::model::{Checksum, Owner};
use crate::quota::{self, Counter, Limits};
use crate::records::Ports;
use crate::{StorageError, StorageResult};
use crate::{sweep, uploads};
use serde::{Deserialize, Serialize};
use skiff_core::ids::{BackupId, OrgId, UserId};
use skiff_core::ports::blobs::{BlobKey, BlobReader, ByteStream, Expected, SignedUpload};
use skiff_core::ports::store::{Condition, Item, ItemStore, Key, NewItem, Query, Write};
use std::time::Duration;

/// How long a streamed backup may take before the sweep releases its reservation.
pub const PENDING_SECS: i64 = 3600;
/// Most backups a history lists (the retention setting is at most this).
pub const MAX_HISTORY: usize = 1000;

/// A backup's state (as for records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Pending,
    Ready,
    Deleting,
}

/// The client's version label of a backup: 1–64 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupVersion(String);

impl BackupVersion {
    /// `field` names where it came from in the error (a header or a JSON field).
    pub fn parse(raw: &str, field: &str) -> Result<Self, StorageError> {
        if (1..=64).contains(&raw.len()) && raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(StorageError::invalid(
                field,
                "INVALID_VERSION",
                format!("`{field}` must be 1 to 64 printable ASCII characters"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A backup's item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub id: BackupId,
    pub user_id: UserId,
    pub version: BackupVersion,
    /// The client's timestamp of the snapshot, unix milliseconds.
    pub timestamp: i64,
    pub checksum: Checksum,
    pub size: u64,
    pub blob_key: BlobKey,
    pub state: State,
    pub charged: i64,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<BlobKey>,
}

/// What a new backup announces (the headers).
#[derive(Debug, Clone)]
pub struct NewBackup {
    pub version: BackupVersion,
    pub timestamp: i64,
    pub checksum: Checksum,
    pub size: u64,
}

pub fn partition(org: &OrgId) -> String {
    format!("{org}#BAK")
}

fn backup_key(owner: &Owner, id: &BackupId) -> Key {
    Key::new(partition(&owner.org), format!("{}#{id}", owner.user))
}

fn to_item(owner: &Owner, b: &Backup, due: Option<i64>) -> StorageResult<NewItem> {
    let item = NewItem::from_record(backup_key(owner, &b.id), b)?;
    Ok(match due {
        Some(at) => item.index(sweep::due_index(b.id.as_str(), at)),
        None => item,
    })
}

/// 403 `FEATURE_NOT_IN_PLAN` on a plan without backup space.
pub fn require_backups(limits: &Limits) -> StorageResult<()> {
    if limits.backups == Some(0) {
        return Err(StorageError::NotInPlan {
            feature: "backups",
            plan: limits.plan.clone(),
        });
    }
    Ok(())
}

/// Reserve the bytes and write a pending backup, due at `until`, in one
/// transaction.
async fn reserve(
    ports: Ports<'_>,
    owner: &Owner,
    limits: &Limits,
    new: NewBackup,
    until: i64,
) -> StorageResult<(Backup, Item)> {
    require_backups(limits)?;
    let now = ports.clock.unix();
    let id = BackupId::new();
    let backup = Backup {
        blob_key: BlobKey::parse(format!("{}/{}/backups/{id}", owner.org, owner.user))
            .expect("ids make a valid blob key"),
        id,
        user_id: owner.user.clone(),
        version: new.version,
        timestamp: new.timestamp,
        checksum: new.checksum,
        size: new.size,
        state: State::Pending,
        charged: new.size as i64,
        created_at: now,
        until: Some(until),
        stale: vec![],
    };
    quota::transact_charged(
        ports.store,
        &owner.org,
        Counter::Backups,
        backup.charged,
        limits.backups,
        vec![Write::Put {
            item: to_item(owner, &backup, backup.until)?,
            condition: Some(Condition::Absent),
        }],
    )
    .await?;
    let item = ports
        .store
        .get(&backup_key(owner, &backup.id))
        .await?
        .ok_or(StorageError::NotFound("backup"))?;
    Ok((backup, item))
}

/// Take back a pending backup's reservation whose bytes will not come.
async fn release(ports: Ports<'_>, owner: &Owner, backup: &Backup, item: &Item) {
    quota::release_pending(
        ports.store,
        &owner.org,
        Counter::Backups,
        backup.charged,
        item,
    )
    .await;
}

/// Make a pending backup visible, then apply the retention.
async fn confirm(
    ports: Ports<'_>,
    owner: &Owner,
    mut backup: Backup,
    item: &Item,
    retention: usize,
) -> StorageResult<Backup> {
    backup.state = State::Ready;
    backup.until = None;
    match ports
        .store
        .put(
            to_item(owner, &backup, None)?,
            Some(Condition::VersionIs(item.version)),
        )
        .await
    {
        Ok(_) => {}
        // The sweep took the reservation back meanwhile (the commit came too late).
        Err(e) if e.is_condition_failed() => return Err(StorageError::NotFound("backup")),
        Err(e) => return Err(e.into()),
    }
    enforce_retention(ports, owner, retention).await;
    crate::BYTES_STORED.add(&["backup"], backup.size);
    Ok(backup)
}

/// Store a backup streamed from `body`; then apply the retention.
#[tracing::instrument(name = "backups.put", skip_all, fields(org = %owner.org, size = new.size))]
pub async fn put(
    ports: Ports<'_>,
    owner: &Owner,
    limits: &Limits,
    retention: usize,
    new: NewBackup,
    body: ByteStream,
) -> StorageResult<Backup> {
    let until = ports.clock.unix() + PENDING_SECS;
    let (backup, item) = reserve(ports, owner, limits, new, until).await?;
    let expected = Expected {
        size: Some(backup.size),
        sha256: Some(backup.checksum.as_str().to_owned()),
    };
    if let Err(e) = ports
        .blobs
        .put_stream(&backup.blob_key, body, "application/octet-stream", expected)
        .await
    {
        release(ports, owner, &backup, &item).await;
        return Err(e.into());
    }
    confirm(ports, owner, backup, &item, retention).await
}

/// A signed upload of a large backup.
#[derive(Debug, Clone)]
pub struct Upload {
    pub backup: Backup,
    pub signed: SignedUpload,
}

/// Start a signed upload of a backup: reserve its bytes for a pending backup and
/// sign a URL that accepts exactly those bytes. The backup is dated (and ordered
/// among the user's) by this announcement.
#[tracing::instrument(name = "backups.upload", skip_all, fields(org = %owner.org, size = new.size))]
pub async fn upload(
    ports: Ports<'_>,
    owner: &Owner,
    limits: &Limits,
    new: NewBackup,
    ttl: Duration,
) -> StorageResult<Upload> {
    let until = uploads::deadline(ports.clock.unix(), ttl);
    let (backup, item) = reserve(ports, owner, limits, new, until).await?;
    match uploads::sign(
        ports.blobs,
        &backup.blob_key,
        ttl,
        backup.size,
        &backup.checksum,
    )
    .await
    {
        Ok(signed) => Ok(Upload { backup, signed }),
        Err(e) => {
            release(ports, owner, &backup, &item).await;
            Err(e.into())
        }
    }
}

/// Confirm a signed upload: the stored object must have the announced size and
/// SHA-256, and the org's plan (as it is now) must still hold its backups with
/// this one, else the upload is given up and its bytes released. Then the backup
/// becomes visible and the retention applies. Committing a ready backup again
/// answers it as it is.
#[tracing::instrument(name = "backups.commit", skip_all, fields(org = %owner.org, backup = %id))]
pub async fn commit(
    ports: Ports<'_>,
    owner: &Owner,
    limits: &Limits,
    retention: usize,
    id: &BackupId,
) -> StorageResult<Backup> {
    let Some(item) = ports.store.get(&backup_key(owner, id)).await? else {
        return Err(StorageError::NotFound("backup"));
    };
    let backup: Backup = item.parse()?;
    match backup.state {
        State::Ready => return Ok(backup),
        State::Pending if !uploads::lapsed(backup.until, ports.clock.unix()) => {}
        _ => return Err(StorageError::NotFound("backup")),
    }
    uploads::check_arrived(ports.blobs, &backup.blob_key, backup.size, &backup.checksum).await?;
    if let Err(refused) = still_fits(ports.store, owner, limits).await {
        ports.blobs.delete(&backup.blob_key).await?;
        release(ports, owner, &backup, &item).await;
        return Err(refused);
    }
    confirm(ports, owner, backup, &item, retention).await
}

/// The org's backup bytes (its pending reservations included) within the plan's
/// current limit: a plan changed since an upload was announced may no longer
/// hold it.
async fn still_fits(store: &dyn ItemStore, owner: &Owner, limits: &Limits) -> StorageResult<()> {
    require_backups(limits)?;
    let Some(limit) = limits.backups else {
        return Ok(());
    };
    let used = quota::usage(store, &owner.org).await?.backup_bytes;
    if used > limit {
        return Err(StorageError::QuotaExceeded {
            what: "backup",
            used_bytes: used,
            limit_bytes: limit,
        });
    }
    Ok(())
}

/// Every item of the user's backups, newest first.
async fn all_items(store: &dyn ItemStore, owner: &Owner) -> StorageResult<Vec<(Backup, Item)>> {
    let page = store
        .query(
            Query::partition(partition(&owner.org))
                .prefix(format!("{}#", owner.user))
                .descending()
                .limit(MAX_HISTORY),
        )
        .await?;
    page.items
        .into_iter()
        .map(|i| Ok((i.parse()?, i)))
        .collect()
}

/// The user's ready backups, newest first.
pub async fn history(store: &dyn ItemStore, owner: &Owner) -> StorageResult<Vec<Backup>> {
    Ok(all_items(store, owner)
        .await?
        .into_iter()
        .filter(|(b, _)| b.state == State::Ready)
        .map(|(b, _)| b)
        .collect())
}

/// The newest ready backup, if any.
pub async fn latest(store: &dyn ItemStore, owner: &Owner) -> StorageResult<Option<Backup>> {
    Ok(history(store, owner).await?.into_iter().next())
}

/// The newest backup's bytes as a checked stream.
pub async fn open_latest(ports: Ports<'_>, owner: &Owner) -> StorageResult<(Backup, BlobReader)> {
    let backup = latest(ports.store, owner)
        .await?
        .ok_or(StorageError::NotFound("backup"))?;
    let reader = ports.blobs.get_stream(&backup.blob_key).await?;
    Ok((backup, reader))
}

/// Delete one backup of the user's (absent: done).
pub async fn delete(ports: Ports<'_>, owner: &Owner, id: &BackupId) -> StorageResult<()> {
    let Some(item) = ports.store.get(&backup_key(owner, id)).await? else {
        return Ok(());
    };
    remove(ports, owner, item.parse()?, &item).await
}

async fn remove(ports: Ports<'_>, owner: &Owner, backup: Backup, item: &Item) -> StorageResult<()> {
    if backup.state != State::Ready {
        return Ok(());
    }
    let mut gone = backup.clone();
    gone.state = State::Deleting;
    gone.stale.push(backup.blob_key.clone());
    gone.charged = 0;
    match quota::transact_charged(
        ports.store,
        &owner.org,
        Counter::Backups,
        -backup.charged,
        None,
        vec![Write::Put {
            item: to_item(owner, &gone, Some(ports.clock.unix()))?,
            condition: Some(Condition::VersionIs(item.version)),
        }],
    )
    .await
    {
        Ok(()) => {}
        // Deleted or changed by another request meanwhile: it handles it.
        Err(StorageError::Store(e)) if e.is_condition_failed() => return Ok(()),
        Err(e) => return Err(e),
    }
    sweep::remove_stale(ports.store, ports.blobs, &item.key).await;
    Ok(())
}

/// Keep the newest `retention` ready backups of the user; delete the older ones.
/// Failures are logged: the next backup applies the retention again.
pub async fn enforce_retention(ports: Ports<'_>, owner: &Owner, retention: usize) {
    let items = match all_items(ports.store, owner).await {
        Ok(items) => items,
        Err(e) => {
            tracing::warn!(error = %e, "backup retention skipped");
            return;
        }
    };
    let ready = items.into_iter().filter(|(b, _)| b.state == State::Ready);
    for (backup, item) in ready.skip(retention) {
        tracing::info!(backup = %backup.id, "backup past retention deleted");
        if let Err(e) = remove(ports, owner, backup, &item).await {
            tracing::warn!(error = %e, "backup retention could not delete a backup");
        }
    }
}
