//! Finishing what writes left unfinished. An item of a record or backup is
//! indexed under `STORAGE#SWEEP#{shard}` at the time it needs attention:
//!
//! * a pending write (a JSON write, a signed upload) not confirmed by its
//!   deadline: its reservation is released and its blob removed;
//! * a replacement staged but never completed: its charge falls back to the
//!   record's size and its revision is removed;
//! * revisions no longer named (`stale`) and deletions (`deleting`): their blobs
//!   are removed, then the item's note of them (or the item itself).
//!
//! Each step is a conditional write on the item's version, so the sweep and a
//! request racing on one item never both act; the blob deletions are idempotent.

use crate::StorageResult;
use crate::quota::{self, Counter};
use serde_json::Value;
use skiff_core::ids::OrgId;
use skiff_core::ports::blobs::{BlobKey, BlobStore};
use skiff_core::ports::store::{
    Condition, IndexKey, Item, ItemStore, Key, NewItem, Query, SortKey, Write,
};
use skiff_core::services::Services;

/// Partitions of the sweep index (spreads the index's writes).
pub const SHARDS: u32 = 16;
/// Items one sweep run handles per shard.
pub const BATCH_PER_SHARD: usize = 100;

fn shard_of(id: &str) -> u32 {
    id.bytes().last().map_or(0, |b| u32::from(b) % SHARDS)
}

/// The sweep index entry of the item with id `id`, due at `at` (unix seconds).
pub fn due_index(id: &str, at: i64) -> IndexKey {
    IndexKey::new(
        format!("STORAGE#SWEEP#{}", shard_of(id)),
        format!("{at:012}#{id}"),
    )
}

/// What a sweep run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// Pending writes (uploads never committed) whose reservation was released.
    pub abandoned_writes: u64,
    /// Replacements never completed, rolled back.
    pub abandoned_replacements: u64,
    /// Bytes given back to the quota by those two.
    pub released_bytes: u64,
    /// Blobs removed (stale revisions, deleted records and backups).
    pub blobs_removed: u64,
}

impl std::fmt::Display for SweepReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "released {} abandoned writes and {} abandoned replacements ({} bytes); removed {} blobs",
            self.abandoned_writes,
            self.abandoned_replacements,
            self.released_bytes,
            self.blobs_removed
        )
    }
}

fn counter_of(key: &Key) -> Option<(OrgId, Counter)> {
    let (org, kind) = key.pk.split_once('#')?;
    let counter = match kind {
        "REC" => Counter::Records,
        "BAK" => Counter::Backups,
        _ => return None,
    };
    Some((OrgId::parse(org).ok()?, counter))
}

fn stale_of(item: &Item) -> Vec<BlobKey> {
    item.get::<Vec<BlobKey>>("stale").unwrap_or_default()
}

/// Remove the blobs an item lists as stale, then the list (or the whole item if
/// it is being deleted). Failures are logged and left for the sweep.
pub async fn remove_stale(store: &dyn ItemStore, blobs: &dyn BlobStore, key: &Key) -> u64 {
    match try_remove_stale(store, blobs, key).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "stale blobs left for the sweep");
            0
        }
    }
}

async fn try_remove_stale(
    store: &dyn ItemStore,
    blobs: &dyn BlobStore,
    key: &Key,
) -> StorageResult<u64> {
    let Some(item) = store.get(key).await? else {
        return Ok(0);
    };
    let stale = stale_of(&item);
    for blob in &stale {
        blobs.delete(blob).await?;
    }
    let deleting = item.get_str("state") == Some("deleting");
    let outcome = if deleting {
        store
            .delete(key, Some(Condition::VersionIs(item.version)))
            .await
            .map(drop)
    } else {
        let mut next = NewItem::new(key.clone());
        next.attrs = item.attrs.clone();
        next.attrs.remove("stale");
        next.expires_at = item.expires_at;
        // Still indexed while something else is due (a pending write or replacement).
        next.gsi1 = pending_until(&item).map(|at| {
            let id = key.sk.rsplit('#').next().unwrap_or(&key.sk);
            due_index(id, at)
        });
        store
            .put(next, Some(Condition::VersionIs(item.version)))
            .await
            .map(drop)
    };
    match outcome {
        Ok(()) => Ok(stale.len() as u64),
        // Changed meanwhile: whoever changed it left its own note for the sweep.
        Err(e) if e.is_condition_failed() => Ok(stale.len() as u64),
        Err(e) => Err(e.into()),
    }
}

/// When the item's pending write or earliest replacement is due, if it has one.
fn pending_until(item: &Item) -> Option<i64> {
    match item.get_str("state") {
        Some("pending") => item.get_i64("until"),
        _ => pending_puts(item)
            .iter()
            .filter_map(|p| p.get("until").and_then(Value::as_i64))
            .min(),
    }
}

/// The replacements in flight an item lists.
fn pending_puts(item: &Item) -> Vec<Value> {
    item.attrs
        .get("pending")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Run over every shard's due items.
pub async fn sweep(services: &Services) -> StorageResult<SweepReport> {
    sweep_with(
        services.store.as_ref(),
        services.blobs.as_ref(),
        services.clock.unix(),
    )
    .await
}

/// [`sweep`] over explicit ports at `now`.
pub async fn sweep_with(
    store: &dyn ItemStore,
    blobs: &dyn BlobStore,
    now: i64,
) -> StorageResult<SweepReport> {
    let mut report = SweepReport::default();
    for shard in 0..SHARDS {
        let page = store
            .query(Query {
                sort: SortKey::Lt(format!("{:012}", now + 1)),
                ..Query::gsi1(format!("STORAGE#SWEEP#{shard}")).limit(BATCH_PER_SHARD)
            })
            .await?;
        for item in &page.items {
            if let Err(e) = settle(store, blobs, item, now, &mut report).await {
                tracing::warn!(error = %e, pk = %item.key.pk, "sweep could not settle an item; next run");
            }
        }
    }
    Ok(report)
}

/// Settle one due item.
async fn settle(
    store: &dyn ItemStore,
    blobs: &dyn BlobStore,
    item: &Item,
    now: i64,
    report: &mut SweepReport,
) -> StorageResult<()> {
    let Some((org, counter)) = counter_of(&item.key) else {
        return Ok(());
    };
    let state = item.get_str("state").unwrap_or_default().to_owned();
    let charged = quota::charged(item);
    let mut attrs = item.attrs.clone();
    let mut stale = stale_of(item);
    let mut delta = 0i64;
    let (due, kept): (Vec<Value>, Vec<Value>) = pending_puts(item).into_iter().partition(|p| {
        p.get("until")
            .and_then(Value::as_i64)
            .is_some_and(|u| u <= now)
    });
    if state == "pending" && item.get_i64("until").is_some_and(|u| u <= now) {
        // A write that never completed: release it, and remove whatever arrived.
        if let Some(k) = item.get::<BlobKey>("blob_key") {
            stale.push(k);
        }
        attrs.insert("state".into(), "deleting".into());
        attrs.insert("charged".into(), 0.into());
        delta = -charged;
        report.abandoned_writes += 1;
    } else if !due.is_empty() {
        // Replacements that never completed: their revisions go, the charge falls
        // back to the largest revision still in flight.
        for p in &due {
            if let Some(k) = p
                .get("blob_key")
                .and_then(Value::as_str)
                .and_then(|k| BlobKey::parse(k).ok())
            {
                stale.push(k);
            }
        }
        let size = item.get_i64("size").unwrap_or(0);
        let still = kept
            .iter()
            .filter_map(|p| p.get("size").and_then(Value::as_i64))
            .fold(size, i64::max);
        attrs.insert("pending".into(), Value::Array(kept));
        attrs.insert("charged".into(), still.into());
        delta = still - charged;
        report.abandoned_replacements += due.len() as u64;
    } else if stale.is_empty() && state != "deleting" {
        // Nothing due (a replacement completed in time): drop the index entry.
        let mut next = NewItem::new(item.key.clone());
        next.attrs = attrs;
        next.expires_at = item.expires_at;
        next.gsi1 = pending_until(item).filter(|at| *at > now).map(|at| {
            let id = item.key.sk.rsplit('#').next().unwrap_or(&item.key.sk);
            due_index(id, at)
        });
        store
            .put(next, Some(Condition::VersionIs(item.version)))
            .await
            .ok();
        return Ok(());
    }
    if delta != 0 || attrs != item.attrs {
        attrs.insert(
            "stale".into(),
            serde_json::to_value(&stale).unwrap_or_default(),
        );
        let mut next = NewItem::new(item.key.clone());
        next.attrs = attrs;
        next.expires_at = item.expires_at;
        next.gsi1 = item.gsi1.clone();
        let write = Write::Put {
            item: next,
            condition: Some(Condition::VersionIs(item.version)),
        };
        match quota::transact_charged(store, &org, counter, delta, None, vec![write]).await {
            Ok(()) => report.released_bytes += (-delta).max(0) as u64,
            Err(crate::StorageError::Store(e)) if e.is_condition_failed() => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    report.blobs_removed += try_remove_stale(store, blobs, &item.key).await?;
    Ok(())
}
