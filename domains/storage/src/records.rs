//! Records: one client-encrypted blob each, in a table of the user's, with its
//! size and SHA-256. Small ones arrive base64 in JSON ([`create`], [`replace`]);
//! large ones through a signed upload straight to the blob store ([`upload`],
//! then [`commit`]).
//!
//! A record's item goes through states: `pending` (bytes reserved, blob not yet
//! confirmed: invisible), `ready`, and `deleting` (charge released, blobs still to
//! remove: invisible). Every replacement writes a new blob revision first and
//! only then points the record at it, so the record never names bytes that are
//! not there; the revisions it no longer names are listed in `stale` until they
//! are removed. Anything left unfinished by a crash is indexed for the sweep
//! ([`crate::sweep`]).

use crate::model::{Checksum, Owner, TableName};
use crate::quota::{self, Counter, Limits};
use crate::{StorageError, StorageResult};
use crate::{sweep, uploads};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use skiff_core::clock::Clock;
use skiff_core::ids::{OrgId, RecordId, UserId};
use skiff_core::ports::blobs::{BlobKey, BlobReader, BlobStore, SignedOp, SignedUpload, SignedUrl};
use skiff_core::ports::store::{
    Condition, Item, ItemStore, Key, NewItem, Query, StoreError, Write, filtered_page,
};
use skiff_core::services::Services;
use std::time::Duration;

/// The ports records work with.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    pub store: &'a dyn ItemStore,
    pub blobs: &'a dyn BlobStore,
    pub clock: &'a dyn Clock,
}

impl<'a> Ports<'a> {
    pub fn of(services: &'a Services) -> Self {
        Self {
            store: services.store.as_ref(),
            blobs: services.blobs.as_ref(),
            clock: services.clock.as_ref(),
        }
    }
}

/// How long a JSON write may take between reserving and confirming before the
/// sweep takes the reservation back.
pub const PENDING_WRITE_SECS: i64 = 15 * 60;
/// Attempts of one read-modify-write of a record racing other writers of it
/// (each attempt is a read and a conditional write: no blob moves in the loop).
const ATTEMPTS: usize = 50;

/// What a record with these replacements in flight is charged: the largest of its
/// revisions.
fn charge_of(size: u64, pending: &[PendingPut]) -> i64 {
    pending.iter().map(|p| p.size).fold(size, u64::max) as i64
}

/// A short random pause before retrying a lost race.
async fn backoff(attempt: usize) {
    let ms = rand::random::<u64>() % (2 + attempt as u64 * 2);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// A record's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Pending,
    Ready,
    Deleting,
}

/// A replacement in flight: its revision is written, the record not yet moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPut {
    pub blob_key: BlobKey,
    pub size: u64,
    pub checksum: Checksum,
    pub until: i64,
}

/// A record's item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: RecordId,
    pub user_id: UserId,
    pub table: TableName,
    pub size: u64,
    pub checksum: Checksum,
    pub blob_key: BlobKey,
    pub state: State,
    /// Bytes counted against the quota for this record.
    pub charged: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Until when a `pending` record waits for its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// Replacements in flight (each charged until it completes or is swept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingPut>,
    /// Blob revisions no longer named, to delete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<BlobKey>,
}

pub fn partition(org: &OrgId) -> String {
    format!("{org}#REC")
}

pub fn record_key(owner: &Owner, id: &RecordId) -> Key {
    Key::new(partition(&owner.org), format!("{}#{id}", owner.user))
}

/// A fresh blob key for a revision of the record.
fn revision_key(owner: &Owner, table: &TableName, id: &RecordId) -> BlobKey {
    let rev = hex::encode(rand::random::<[u8; 8]>());
    BlobKey::parse(format!("{}/{}/{table}/{id}/{rev}", owner.org, owner.user))
        .expect("ids, table names and hex make a valid blob key")
}

fn to_item(record: &Record, due: Option<i64>) -> Result<NewItem, StoreError> {
    let key = Key::new(
        partition(&org_of(record)?),
        format!("{}#{}", record.user_id, record.id),
    );
    let item = NewItem::from_record(key, record)?;
    Ok(match due {
        Some(at) => item.index(sweep::due_index(record.id.as_str(), at)),
        None => item,
    })
}

/// The org a record's blob key starts with (the record item does not repeat it).
fn org_of(record: &Record) -> Result<OrgId, StoreError> {
    record
        .blob_key
        .as_str()
        .split('/')
        .next()
        .and_then(|o| OrgId::parse(o).ok())
        .ok_or_else(|| StoreError::Fatal("a record's blob key does not start with its org".into()))
}

async fn load(
    store: &dyn ItemStore,
    owner: &Owner,
    id: &RecordId,
) -> StorageResult<Option<(Record, Item)>> {
    match store.get(&record_key(owner, id)).await? {
        Some(item) => Ok(Some((item.parse()?, item))),
        None => Ok(None),
    }
}

/// The ready record, or `NotFound` (absent, another user's, pending or deleting).
async fn load_ready(
    store: &dyn ItemStore,
    owner: &Owner,
    id: &RecordId,
) -> StorageResult<(Record, Item)> {
    match load(store, owner, id).await? {
        Some((r, item)) if r.state == State::Ready => Ok((r, item)),
        _ => Err(StorageError::NotFound("record")),
    }
}

/// Reserve the bytes and write a pending record in one transaction.
async fn reserve(
    ports: Ports<'_>,
    owner: &Owner,
    limits: &Limits,
    table: TableName,
    size: u64,
    checksum: Checksum,
    until: i64,
) -> StorageResult<(Record, Item)> {
    let now = ports.clock.unix();
    let id = RecordId::new();
    let record = Record {
        blob_key: revision_key(owner, &table, &id),
        id,
        user_id: owner.user.clone(),
        table,
        size,
        checksum,
        state: State::Pending,
        charged: size as i64,
        created_at: now,
        updated_at: now,
        until: Some(until),
        pending: vec![],
        stale: vec![],
    };
    let item = to_item(&record, Some(until))?;
    let key = item.key().clone();
    quota::transact_charged(
        ports.store,
        &owner.org,
        Counter::Records,
        size as i64,
        limits.records,
        vec![Write::Put {
            item,
            condition: Some(Condition::Absent),
        }],
    )
    .await?;
    let item = ports
        .store
        .get(&key)
        .await?
        .ok_or_else(|| StoreError::Fatal("a reserved record vanished".into()))?;
    Ok((record, item))
}

/// Take back a pending record's reservation after its write failed.
async fn release(ports: Ports<'_>, owner: &Owner, record: &Record, item: &Item) {
    quota::release_pending(
        ports.store,
        &owner.org,
        Counter::Records,
        record.charged,
        item,
    )
    .await;
}

/// Make a pending record ready, and count its bytes as stored.
async fn confirm(ports: Ports<'_>, mut record: Record, item: &Item) -> StorageResult<Record> {
    record.state = State::Ready;
    record.until = None;
    record.updated_at = ports.clock.unix();
    match ports
        .store
        .put(
            to_item(&record, None)?,
            Some(Condition::VersionIs(item.version)),
        )
        .await
    {
        Ok(_) => {
            crate::BYTES_STORED.add(&["record"], record.size);
            Ok(record)
        }
        // The sweep took the reservation back meanwhile (the write came too late).
        Err(e) if e.is_condition_failed() => Err(StorageError::NotFound("record")),
        Err(e) => Err(e.into()),
    }
}

/// Store a new record from a JSON body: the bytes are already checked against
/// `checksum` (see [`crate::model::verified`]).
#[tracing::instrument(name = "records.create", skip_all, fields(org = %owner.org, table = %table))]
pub async fn create(
    ports: Ports<'_>,
    owner: &Owner,
    limits: &Limits,
    table: TableName,
    bytes: Bytes,
    checksum: Checksum,
) -> StorageResult<Record> {
    let until = ports.clock.unix() + PENDING_WRITE_SECS;
    let (record, item) = reserve(
        ports,
        owner,
        limits,
        table,
        bytes.len() as u64,
        checksum,
        until,
    )
    .await?;
    if let Err(e) = ports
        .blobs
        .put(&record.blob_key, bytes, "application/octet-stream")
        .await
    {
        release(ports, owner, &record, &item).await;
        return Err(e.into());
    }
    confirm(ports, record, &item).await
}

/// One page of the user's ready records (of one table, if given), in id order
/// (oldest first), and the store position after it.
pub async fn list(
    store: &dyn ItemStore,
    owner: &Owner,
    table: Option<&TableName>,
    limit: usize,
    position: Option<String>,
) -> StorageResult<(Vec<Record>, Option<String>)> {
    let query = Query::partition(partition(&owner.org))
        .prefix(format!("{}#", owner.user))
        .after(position);
    let (records, next) = filtered_page(store, query, limit, |item| {
        let r: Record = item.parse()?;
        Ok((r.state == State::Ready && table.is_none_or(|t| *t == r.table)).then_some(r))
    })
    .await?;
    Ok((records, next))
}

/// A ready record of the user's.
pub async fn get(store: &dyn ItemStore, owner: &Owner, id: &RecordId) -> StorageResult<Record> {
    Ok(load_ready(store, owner, id).await?.0)
}

/// A ready record's bytes, as a stream checked against their SHA-256 as they pass.
pub async fn open(
    ports: Ports<'_>,
    owner: &Owner,
    id: &RecordId,
) -> StorageResult<(Record, BlobReader)> {
    let record = get(ports.store, owner, id).await?;
    let reader = ports.blobs.get_stream(&record.blob_key).await?;
    Ok((record, reader))
}

/// A signed URL that downloads a ready record's bytes.
pub async fn download_url(
    ports: Ports<'_>,
    owner: &Owner,
    id: &RecordId,
    ttl: Duration,
) -> StorageResult<(Record, SignedUrl)> {
    let record = get(ports.store, owner, id).await?;
    let url = ports
        .blobs
        .signed_url(&record.blob_key, SignedOp::Get, ttl)
        .await?;
    Ok((record, url))
}

/// Replace a ready record's bytes. With `if_match`, only while the record still
/// has that checksum (else `PreconditionFailed`); without, the last writer wins.
#[tracing::instrument(name = "records.replace", skip_all, fields(org = %owner.org, record = %id))]
pub async fn replace(
    ports: Ports<'_>,
    owner: &Owner,
    limits: &Limits,
    id: &RecordId,
    bytes: Bytes,
    checksum: Checksum,
    if_match: Option<&str>,
) -> StorageResult<Record> {
    let size = bytes.len() as u64;
    let until = ports.clock.unix() + PENDING_WRITE_SECS;
    // 1. Stage the new revision on the record, charging the larger size while
    //    both revisions exist.
    let mut staged = None;
    for attempt in 0..ATTEMPTS {
        let (current, item) = load_ready(ports.store, owner, id).await?;
        if let Some(expected) = if_match
            && !current.checksum.same_as_hex(expected)
        {
            return Err(StorageError::PreconditionFailed);
        }
        let mine = PendingPut {
            blob_key: revision_key(owner, &current.table, id),
            size,
            checksum: checksum.clone(),
            until,
        };
        let mut next = current.clone();
        next.pending.push(mine.clone());
        next.charged = charge_of(next.size, &next.pending);
        let write = Write::Put {
            item: to_item(&next, Some(due_of(&next)))?,
            condition: Some(Condition::VersionIs(item.version)),
        };
        match quota::transact_charged(
            ports.store,
            &owner.org,
            Counter::Records,
            next.charged - current.charged,
            limits.records,
            vec![write],
        )
        .await
        {
            Ok(()) => {
                staged = Some(mine);
                break;
            }
            Err(StorageError::Store(e)) if e.is_condition_failed() => backoff(attempt).await,
            Err(e) => return Err(e),
        }
    }
    let mine = staged.ok_or(StorageError::Contended(
        "the record is being changed by other requests; retry",
    ))?;
    // 2. The revision's bytes (if this fails, the sweep drops the staged
    //    revision once it is due).
    ports
        .blobs
        .put(&mine.blob_key, bytes, "application/octet-stream")
        .await?;
    crate::BYTES_STORED.add(&["record"], size);
    // 3. Point the record at it: what it named becomes stale, its charge the
    //    largest revision still in flight.
    for attempt in 0..ATTEMPTS {
        let (current, item) = load_ready(ports.store, owner, id).await?;
        if !current.pending.iter().any(|p| p.blob_key == mine.blob_key) {
            // Swept: the write took longer than it may.
            return Err(StorageError::Contended(
                "the replacement took too long; retry",
            ));
        }
        let lost = if_match.is_some_and(|expected| !current.checksum.same_as_hex(expected));
        let mut next = current.clone();
        next.pending.retain(|p| p.blob_key != mine.blob_key);
        if lost {
            next.stale.push(mine.blob_key.clone());
        } else {
            next.stale.push(current.blob_key.clone());
            next.blob_key = mine.blob_key.clone();
            next.size = size;
            next.checksum = mine.checksum.clone();
            next.updated_at = ports.clock.unix();
        }
        next.charged = charge_of(next.size, &next.pending);
        let write = Write::Put {
            item: to_item(&next, Some(ports.clock.unix()))?,
            condition: Some(Condition::VersionIs(item.version)),
        };
        match quota::transact_charged(
            ports.store,
            &owner.org,
            Counter::Records,
            next.charged - current.charged,
            None,
            vec![write],
        )
        .await
        {
            Ok(()) => {
                sweep::remove_stale(ports.store, ports.blobs, &item.key).await;
                if lost {
                    return Err(StorageError::PreconditionFailed);
                }
                next.stale.clear();
                return Ok(next);
            }
            Err(StorageError::Store(e)) if e.is_condition_failed() => backoff(attempt).await,
            Err(e) => return Err(e),
        }
    }
    Err(StorageError::Contended(
        "the record is being changed by other requests; retry",
    ))
}

/// When a record with replacements in flight needs the sweep: its earliest one.
fn due_of(record: &Record) -> i64 {
    record
        .pending
        .iter()
        .map(|p| p.until)
        .min()
        .unwrap_or(record.updated_at)
}

/// Delete a record of the user's; deleting what is not there succeeds.
#[tracing::instrument(name = "records.delete", skip_all, fields(org = %owner.org, record = %id))]
pub async fn delete(ports: Ports<'_>, owner: &Owner, id: &RecordId) -> StorageResult<()> {
    for attempt in 0..ATTEMPTS {
        let Some((current, item)) = load(ports.store, owner, id).await? else {
            return Ok(());
        };
        if current.state != State::Ready {
            return Ok(());
        }
        let mut gone = current.clone();
        gone.state = State::Deleting;
        gone.stale.push(current.blob_key.clone());
        gone.stale
            .extend(gone.pending.drain(..).map(|p| p.blob_key));
        gone.charged = 0;
        let write = Write::Put {
            item: to_item(&gone, Some(ports.clock.unix()))?,
            condition: Some(Condition::VersionIs(item.version)),
        };
        match quota::transact_charged(
            ports.store,
            &owner.org,
            Counter::Records,
            -current.charged,
            None,
            vec![write],
        )
        .await
        {
            Ok(()) => {
                sweep::remove_stale(ports.store, ports.blobs, &item.key).await;
                return Ok(());
            }
            Err(StorageError::Store(e)) if e.is_condition_failed() => backoff(attempt).await,
            Err(e) => return Err(e),
        }
    }
    Err(StorageError::Contended(
        "the record is being changed by other requests; retry",
    ))
}

/// A signed upload of a large record.
#[derive(Debug, Clone)]
pub struct Upload {
    pub record: Record,
    pub signed: SignedUpload,
}

/// Start a signed upload: reserve `size` bytes for a pending record and sign a URL
/// that accepts exactly those bytes.
#[tracing::instrument(name = "records.upload", skip_all, fields(org = %owner.org, table = %table))]
pub async fn upload(
    ports: Ports<'_>,
    owner: &Owner,
    limits: &Limits,
    table: TableName,
    size: u64,
    checksum: Checksum,
    ttl: Duration,
) -> StorageResult<Upload> {
    let until = uploads::deadline(ports.clock.unix(), ttl);
    let (record, item) = reserve(ports, owner, limits, table, size, checksum, until).await?;
    match uploads::sign(ports.blobs, &record.blob_key, ttl, size, &record.checksum).await {
        Ok(signed) => Ok(Upload { record, signed }),
        Err(e) => {
            release(ports, owner, &record, &item).await;
            Err(e.into())
        }
    }
}

/// Confirm a signed upload: the stored object must have the announced size and
/// SHA-256; then the record becomes visible. Committing a ready record again
/// answers it as it is.
#[tracing::instrument(name = "records.commit", skip_all, fields(org = %owner.org, record = %id))]
pub async fn commit(ports: Ports<'_>, owner: &Owner, id: &RecordId) -> StorageResult<Record> {
    let (record, item) = match load(ports.store, owner, id).await? {
        Some((r, _)) if r.state == State::Ready => return Ok(r),
        Some((r, item)) if r.state == State::Pending => (r, item),
        _ => return Err(StorageError::NotFound("record")),
    };
    if uploads::lapsed(record.until, ports.clock.unix()) {
        return Err(StorageError::NotFound("record"));
    }
    uploads::check_arrived(ports.blobs, &record.blob_key, record.size, &record.checksum).await?;
    confirm(ports, record, &item).await
}
