//! Vectors for the client's encrypted items: the client sends an embedding it
//! computed (it decides how much that reveals) with the item's ciphertext, Skiff
//! keeps the embedding in the vector index and the ciphertext (the payload) in
//! the item store, and answers k-nearest searches with the payloads.
//!
//! Without an embedding, Skiff derives a 32-dimension vector from the SHA-256 of
//! the ciphertext ([`fallback_vector`]). A hash keeps nothing of the content's
//! meaning, so such vectors find exact duplicates of a blob (score 1) and nothing
//! else; similarity search needs the client's embeddings.
//!
//! Each user has a namespace of their own (`{org}.{user}.storage`), derived from
//! the principal, so no request can reach another user's vectors. Payloads count
//! against the plan's `storage_gb` like records.

use crate::model::{Checksum, Owner};
use crate::quota::{self, Counter, Limits};
use crate::{StorageError, StorageResult};
use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use skiff_core::clock::Clock;
use skiff_core::ids::OrgId;
use skiff_core::ports::store::{Condition, ItemStore, Key, NewItem, StoreError, Write};
use skiff_core::ports::vectors::{
    MAX_BATCH, MAX_TOP_K, Namespace, VectorError, VectorId, VectorIndex, VectorQuery, VectorRecord,
    validate_vector,
};

/// Dimensions of the vector derived from a blob's SHA-256.
pub const FALLBACK_DIMENSION: usize = 32;
/// Largest payload (decoded ciphertext) one vector carries.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Writes of one payload transaction besides the counter's.
const PAYLOADS_PER_TRANSACTION: usize = 99;
/// Attempts of a batch whose payloads other requests changed meanwhile.
const ATTEMPTS: usize = 5;

/// The 32-dimension vector of a blob: byte `i` of its SHA-256 mapped onto
/// [-1, 1] as `(b - 127.5) / 127.5` (never all zero). Equal blobs give equal
/// vectors; anything else gives an unrelated direction.
pub fn fallback_vector(blob: &[u8]) -> Vec<f32> {
    use sha2::{Digest, Sha256};
    Sha256::digest(blob)
        .iter()
        .map(|b| (f32::from(*b) - 127.5) / 127.5)
        .collect()
}

/// The user's namespace in the vector index.
pub fn namespace(owner: &Owner) -> Namespace {
    Namespace::parse(format!("{}.{}.storage", owner.org, owner.user))
        .expect("prefixed ids make a valid namespace")
}

pub fn partition(org: &OrgId) -> String {
    format!("{org}#VEC")
}

fn payload_key(owner: &Owner, id: &VectorId) -> Key {
    Key::new(partition(&owner.org), format!("{}#{}", owner.user, id))
}

/// A vector's stored payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub id: String,
    /// Base64 of the ciphertext.
    pub blob: String,
    pub checksum: Checksum,
    pub size: u64,
    pub charged: i64,
    pub updated_at: i64,
}

/// One vector to store, parsed at the edge (the blob checked against its
/// checksum).
#[derive(Debug, Clone)]
pub struct NewVector {
    pub id: VectorId,
    pub blob: Bytes,
    pub checksum: Checksum,
    /// The client's embedding; `None`: the blob's [`fallback_vector`].
    pub vector: Option<Vec<f32>>,
}

/// What to search with.
#[derive(Debug, Clone)]
pub enum SearchBy {
    Vector(Vec<f32>),
    /// A blob whose [`fallback_vector`] is the query (finds its duplicates).
    Blob(Bytes),
}

/// One hit, nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub id: String,
    pub score: f32,
    /// Base64 of the stored ciphertext.
    pub blob: String,
}

/// Ensure `top_k` is 1 to 100.
pub fn check_top_k(top_k: usize) -> StorageResult<()> {
    if (1..=MAX_TOP_K).contains(&top_k) {
        Ok(())
    } else {
        Err(StorageError::invalid(
            "top_k",
            "OUT_OF_RANGE",
            format!("`top_k` must be 1 to {MAX_TOP_K}"),
        ))
    }
}

/// Store the payloads and vectors of up to 500 items; returns how many.
#[tracing::instrument(name = "vectors.upsert", skip_all, fields(org = %owner.org, n = items.len()))]
pub async fn upsert(
    store: &dyn ItemStore,
    index: &dyn VectorIndex,
    clock: &dyn Clock,
    owner: &Owner,
    limits: &Limits,
    items: Vec<NewVector>,
) -> StorageResult<usize> {
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(StorageError::invalid(
            "vectors",
            "OUT_OF_RANGE",
            format!("send 1 to {MAX_BATCH} vectors"),
        ));
    }
    let ns = namespace(owner);
    let mut records = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if item.blob.len() > MAX_PAYLOAD_BYTES {
            return Err(StorageError::invalid(
                &format!("vectors[{i}].blob"),
                "TOO_LARGE",
                format!("a vector's blob holds at most {MAX_PAYLOAD_BYTES} bytes"),
            ));
        }
        let vector = item
            .vector
            .clone()
            .unwrap_or_else(|| fallback_vector(&item.blob));
        validate_vector(&vector).map_err(|e| {
            StorageError::invalid(
                &format!("vectors[{i}].vector"),
                "INVALID_VECTOR",
                e.to_string(),
            )
        })?;
        records.push(VectorRecord {
            id: item.id.clone(),
            vector,
            metadata: Default::default(),
        });
    }
    // One dimension per namespace: say so before storing anything.
    let expected = match index.dimension(&ns).await? {
        Some(d) => d,
        None => records[0].vector.len(),
    };
    if let Some(r) = records.iter().find(|r| r.vector.len() != expected) {
        return Err(VectorError::DimensionMismatch {
            expected,
            got: r.vector.len(),
        }
        .into());
    }
    let now = clock.unix();
    for chunk in items.chunks(PAYLOADS_PER_TRANSACTION) {
        store_payloads(store, owner, limits, chunk, now).await?;
    }
    index.upsert(&ns, records).await?;
    Ok(items.len())
}

/// Write one transaction's worth of payloads with the counter's change.
async fn store_payloads(
    store: &dyn ItemStore,
    owner: &Owner,
    limits: &Limits,
    chunk: &[NewVector],
    now: i64,
) -> StorageResult<()> {
    for _ in 0..ATTEMPTS {
        let mut writes = Vec::with_capacity(chunk.len());
        let mut delta = 0i64;
        for item in chunk {
            let key = payload_key(owner, &item.id);
            let existing = store.get(&key).await?;
            let size = item.blob.len() as u64;
            delta += size as i64 - existing.as_ref().map_or(0, quota::charged);
            let payload = Payload {
                id: item.id.to_string(),
                blob: base64::engine::general_purpose::STANDARD.encode(&item.blob),
                checksum: item.checksum.clone(),
                size,
                charged: size as i64,
                updated_at: now,
            };
            writes.push(Write::Put {
                item: NewItem::from_record(key, &payload)?,
                condition: Some(match &existing {
                    Some(i) => Condition::VersionIs(i.version),
                    None => Condition::Absent,
                }),
            });
        }
        match quota::transact_charged(
            store,
            &owner.org,
            Counter::Records,
            delta,
            limits.records,
            writes,
        )
        .await
        {
            Err(StorageError::Store(e)) if e.is_condition_failed() => continue,
            other => return other,
        }
    }
    Err(StorageError::Contended(
        "these vectors are being changed by other requests; retry",
    ))
}

/// The nearest `top_k` of the user's vectors, with their payloads.
pub async fn search(
    store: &dyn ItemStore,
    index: &dyn VectorIndex,
    owner: &Owner,
    by: SearchBy,
    top_k: usize,
) -> StorageResult<Vec<Found>> {
    check_top_k(top_k)?;
    let vector = match by {
        SearchBy::Vector(v) => {
            validate_vector(&v)
                .map_err(|e| StorageError::invalid("vector", "INVALID_VECTOR", e.to_string()))?;
            v
        }
        SearchBy::Blob(b) => fallback_vector(&b),
    };
    let ns = namespace(owner);
    let hits = index
        .query(
            &ns,
            &VectorQuery {
                vector,
                top_k,
                filter: None,
            },
        )
        .await?;
    let keys: Vec<Key> = hits.iter().map(|h| payload_key(owner, &h.id)).collect();
    let payloads = futures::future::join_all(keys.iter().map(|k| store.get(k))).await;
    let mut found = Vec::with_capacity(hits.len());
    for (hit, payload) in hits.into_iter().zip(payloads) {
        // A vector whose payload is gone (deleted meanwhile) is not a result.
        if let Some(item) = payload? {
            let p: Payload = item.parse()?;
            found.push(Found {
                id: hit.id.to_string(),
                score: hit.score,
                blob: p.blob,
            });
        }
    }
    Ok(found)
}

/// Delete the user's vectors and payloads among `ids` (absent ones are skipped).
pub async fn delete(
    store: &dyn ItemStore,
    index: &dyn VectorIndex,
    owner: &Owner,
    ids: &[VectorId],
) -> StorageResult<usize> {
    if ids.len() > MAX_BATCH {
        return Err(StorageError::invalid(
            "ids",
            "OUT_OF_RANGE",
            format!("send at most {MAX_BATCH} ids"),
        ));
    }
    index.delete(&namespace(owner), ids).await?;
    let mut removed = 0;
    for id in ids {
        let key = payload_key(owner, id);
        for _ in 0..ATTEMPTS {
            let Some(item) = store.get(&key).await? else {
                break;
            };
            match quota::transact_charged(
                store,
                &owner.org,
                Counter::Records,
                -quota::charged(&item),
                None,
                vec![Write::Delete {
                    key: key.clone(),
                    condition: Some(Condition::VersionIs(item.version)),
                }],
            )
            .await
            {
                Ok(()) => {
                    removed += 1;
                    break;
                }
                Err(StorageError::Store(StoreError::ConditionFailed { .. })) => continue,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}

/// Remove the vector namespaces of the org's users (erasure), found through the
/// payloads that are still there.
pub async fn drop_namespaces(
    services: &skiff_core::services::Services,
    org: &OrgId,
) -> Result<(), skiff_core::org_data::OrgDataError> {
    use skiff_core::org_data::OrgDataError;
    use skiff_core::ports::store::Query;
    let mut cursor = None;
    let mut last_user = None;
    loop {
        let page = services
            .store
            .query(Query::partition(partition(org)).limit(1000).after(cursor))
            .await?;
        for item in &page.items {
            let Some((user, _)) = item.key.sk.split_once('#') else {
                continue;
            };
            if last_user.as_deref() == Some(user) {
                continue;
            }
            last_user = Some(user.to_owned());
            if let Ok(user) = skiff_core::ids::UserId::parse(user) {
                let owner = Owner {
                    org: org.clone(),
                    user,
                };
                services
                    .vectors
                    .drop_namespace(&namespace(&owner))
                    .await
                    .map_err(|e| OrgDataError::Other(e.to_string()))?;
            }
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_vector_is_the_hash_spread_over_32_dimensions() {
        let v = fallback_vector(b"ciphertext");
        assert_eq!(v.len(), FALLBACK_DIMENSION);
        assert!(v.iter().all(|x| (-1.0..=1.0).contains(x)));
        assert_eq!(v, fallback_vector(b"ciphertext"));
        assert_ne!(v, fallback_vector(b"ciphertexu"));
        assert!(validate_vector(&v).is_ok());
    }

    #[test]
    fn namespaces_are_per_user() {
        let a = Owner {
            org: OrgId::new(),
            user: skiff_core::ids::UserId::new(),
        };
        let b = Owner {
            user: skiff_core::ids::UserId::new(),
            ..a.clone()
        };
        assert_ne!(namespace(&a), namespace(&b));
    }
}
