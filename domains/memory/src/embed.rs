//! Embeddings and the two indexes beside the item store: a memory's vector in the
//! vector index and its words in the keyword index.
//!
//! A store embeds inline within the provider's timeout ([`embed_within`]); what
//! misses it, and any index write that fails, is left to the outbox: a
//! [`SyncMemory`] message re-reads the memory and makes both indexes agree with it
//! (or removes it from them when the memory is gone), so running it twice is
//! harmless.

use crate::model::{Memory, MemoryId, VectorState};
use crate::{MemoryError, namespace, repo};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::OrgId;
use skiff_core::outbox::{self, Envelope, Handler, HandlerError, Message, Registry};
use skiff_core::ports::embeddings::EmbedError;
use skiff_core::ports::keywords::{DocId, KeywordDoc};
use skiff_core::ports::store::Condition;
use skiff_core::ports::vectors::{
    MAX_METADATA_BYTES, Metadata, VectorError, VectorId, VectorRecord,
};
use std::time::Duration;

/// How long the outbox waits for the provider (it is not in a request).
const BACKGROUND_TIMEOUT: Duration = Duration::from_secs(60);

/// Bring a memory's keyword and vector index entries in line with the memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncMemory {
    pub org: OrgId,
    pub id: MemoryId,
}

impl Message for SyncMemory {
    const KIND: &'static str = "memory_sync";
}

pub fn register(registry: &mut Registry) {
    registry.register(SyncMemory::KIND, SyncHandler);
}

/// Leave the indexes of a memory to the outbox (logged; a failure to enqueue is
/// the caller's error).
pub async fn enqueue_sync(
    services: &Services,
    org: &OrgId,
    id: &MemoryId,
) -> Result<(), MemoryError> {
    outbox::enqueue(
        services,
        &SyncMemory {
            org: org.clone(),
            id: *id,
        },
    )
    .await?;
    Ok(())
}

/// Embed `texts` with the configured provider within `timeout`. `Ok(None)` when no
/// provider is configured.
pub async fn embed_within(
    services: &Services,
    texts: &[String],
    timeout: Duration,
) -> Result<Option<Vec<Vec<f32>>>, EmbedError> {
    let Some(embedder) = crate::settings(services).embedder.clone() else {
        return Ok(None);
    };
    match tokio::time::timeout(timeout, embedder.embed(texts)).await {
        Ok(Ok(v)) => Ok(Some(v)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(EmbedError::Timeout(timeout.as_millis() as u64)),
    }
}

/// Whether a server-side embedder is configured.
pub fn has_provider(services: &Services) -> bool {
    crate::settings(services).embedder.is_some()
}

pub fn vector_id(id: &MemoryId) -> VectorId {
    VectorId::parse(id.to_string()).expect("a UUID is a valid vector id")
}

pub fn doc_id(id: &MemoryId) -> DocId {
    DocId::parse(id.to_string()).expect("a UUID is a valid document id")
}

/// The filterable metadata a memory's vector carries: its time (unix seconds),
/// importance, type, tag prefixes (`tp`) and lowercased tags (`tx`). Tags that do
/// not fit the index's metadata budget are left out and `tags_overflow` set, so a
/// tag-filtered query also takes such vectors and checks their tags itself.
pub fn vector_metadata(m: &Memory) -> Metadata {
    let mut meta = Metadata::new();
    if let Some(t) = m.time() {
        meta.insert("ts".into(), json!(t.unix_f64()));
    }
    meta.insert("imp".into(), json!(m.importance));
    meta.insert("type".into(), json!(m.kind));
    let lowered: Vec<String> = m.tags.iter().map(|t| t.trim().to_lowercase()).collect();
    let mut with_tags = meta.clone();
    with_tags.insert("tp".into(), json!(m.tag_prefixes));
    with_tags.insert("tx".into(), json!(lowered));
    let size = serde_json::to_vec(&with_tags).map_or(usize::MAX, |v| v.len());
    if size <= MAX_METADATA_BYTES {
        with_tags
    } else {
        meta.insert("tags_overflow".into(), Value::Bool(true));
        meta
    }
}

/// Put a memory's vector into the org's namespace.
pub async fn index_vector(
    services: &Services,
    org: &OrgId,
    m: &Memory,
    vector: Vec<f32>,
) -> Result<(), VectorError> {
    services
        .vectors
        .upsert(
            &namespace(org),
            vec![VectorRecord {
                id: vector_id(&m.id),
                vector,
                metadata: vector_metadata(m),
            }],
        )
        .await
}

/// Put a memory's words into the org's keyword namespace.
pub async fn index_keywords(
    services: &Services,
    org: &OrgId,
    m: &Memory,
) -> Result<(), MemoryError> {
    services
        .keywords
        .upsert(
            &namespace(org),
            vec![KeywordDoc {
                id: doc_id(&m.id),
                text: m.keyword_text(),
            }],
        )
        .await?;
    Ok(())
}

/// Take a memory out of both indexes.
pub async fn unindex(
    services: &Services,
    org: &OrgId,
    ids: &[MemoryId],
) -> Result<(), MemoryError> {
    let ns = namespace(org);
    for chunk in ids.chunks(skiff_core::ports::keywords::MAX_BATCH) {
        let docs: Vec<DocId> = chunk.iter().map(doc_id).collect();
        services.keywords.delete(&ns, &docs).await?;
        let vecs: Vec<VectorId> = chunk.iter().map(vector_id).collect();
        services.vectors.delete(&ns, &vecs).await?;
    }
    Ok(())
}

/// Make the indexes agree with the stored memory (the outbox's work).
pub async fn sync(services: &Services, org: &OrgId, id: &MemoryId) -> Result<(), MemoryError> {
    let Some((memory, version)) = repo::get(services.store.as_ref(), org, id).await? else {
        return unindex(services, org, &[*id]).await;
    };
    index_keywords(services, org, &memory).await?;
    let ns = namespace(org);
    match memory.vector {
        VectorState::Pending => {
            let Some(vectors) = embed_within(
                services,
                std::slice::from_ref(&memory.content),
                BACKGROUND_TIMEOUT,
            )
            .await?
            else {
                return mark(services, org, &memory, version, VectorState::None).await;
            };
            let vector = vectors.into_iter().next().unwrap_or_default();
            match index_vector(services, org, &memory, vector).await {
                Ok(()) => mark(services, org, &memory, version, VectorState::Ready).await,
                // The org's vectors are of another size (its clients send their own):
                // this memory stays keyword-only.
                Err(VectorError::DimensionMismatch { .. }) => {
                    mark(services, org, &memory, version, VectorState::None).await
                }
                Err(e) => Err(e.into()),
            }
        }
        VectorState::Ready => {
            // Refresh the vector's metadata (tags, time, importance may have moved).
            let found = services.vectors.get(&ns, &[vector_id(id)]).await?;
            match found.into_iter().next() {
                Some(record) => Ok(index_vector(services, org, &memory, record.vector).await?),
                None => mark(services, org, &memory, version, VectorState::Pending).await,
            }
        }
        VectorState::None => Ok(()),
    }
}

async fn mark(
    services: &Services,
    org: &OrgId,
    memory: &Memory,
    version: skiff_core::ports::store::Version,
    state: VectorState,
) -> Result<(), MemoryError> {
    let result = services
        .store
        .update(
            &crate::keys::memory(org, &memory.id),
            vec![skiff_core::ports::store::Change::set(
                "vector",
                serde_json::to_value(state).unwrap_or_default(),
            )],
            Some(Condition::VersionIs(version)),
        )
        .await;
    match result {
        Ok(_) => {
            if state == VectorState::Pending {
                // Embed it again on the next delivery.
                return Err(MemoryError::Unavailable(
                    "the memory's vector was missing; it is queued again".into(),
                ));
            }
            Ok(())
        }
        // The memory changed meanwhile: that change enqueued its own sync.
        Err(e) if e.is_condition_failed() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

struct SyncHandler;

#[async_trait::async_trait]
impl Handler for SyncHandler {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError> {
        let msg: SyncMemory =
            serde_json::from_value(envelope.payload.clone()).map_err(HandlerError::new)?;
        sync(services, &msg.org, &msg.id)
            .await
            .map_err(HandlerError::new)
    }
}

/// Most memories `/admin/reembed` embeds within the request; more are queued.
pub const REEMBED_INLINE: usize = 500;

/// `POST /admin/reembed`: embed the org's memories again (all with `force`, else
/// those without a vector). Up to [`REEMBED_INLINE`] inline (AutoMem's 200 with
/// counts); more are handed to the outbox (202). `None` when no provider is
/// configured (AutoMem's 503).
pub async fn reembed(
    services: &Services,
    org: &OrgId,
    payload: &Value,
) -> Result<Option<(u16, Value)>, MemoryError> {
    if !has_provider(services) {
        return Ok(None);
    }
    let body = payload.as_object().cloned().unwrap_or_default();
    let batch_size = body
        .get("batch_size")
        .and_then(Value::as_u64)
        .unwrap_or(32)
        .clamp(1, 100) as usize;
    let limit = body
        .get("limit")
        .and_then(Value::as_u64)
        .map(|l| l as usize)
        .filter(|l| *l > 0);
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    let mut targets: Vec<Memory> = vec![];
    crate::stats::scan(services, org, usize::MAX, |m| {
        if (force || m.vector != VectorState::Ready) && limit.is_none_or(|l| targets.len() < l) {
            targets.push(m.clone());
        }
    })
    .await?;
    let total = targets.len();
    if total == 0 {
        return Ok(Some((
            200,
            json!({"status": "complete", "message": "No memories found to reembed", "processed": 0, "total": 0}),
        )));
    }
    if total > REEMBED_INLINE {
        for m in &targets {
            services
                .store
                .update(
                    &crate::keys::memory(org, &m.id),
                    vec![skiff_core::ports::store::Change::set("vector", "pending")],
                    Some(Condition::Exists),
                )
                .await
                .ok();
            enqueue_sync(services, org, &m.id).await?;
        }
        return Ok(Some((
            202,
            json!({"status": "queued", "queued": total, "total": total, "batch_size": batch_size}),
        )));
    }
    let (mut processed, mut failed) = (0usize, 0usize);
    let mut failed_ids: Vec<String> = vec![];
    for chunk in targets.chunks(batch_size) {
        let texts: Vec<String> = chunk.iter().map(|m| m.content.clone()).collect();
        let outcome = match embed_within(services, &texts, BACKGROUND_TIMEOUT).await {
            Ok(Some(vectors)) if vectors.len() == chunk.len() => {
                let records = chunk
                    .iter()
                    .zip(vectors)
                    .map(|(m, v)| VectorRecord {
                        id: vector_id(&m.id),
                        vector: v,
                        metadata: vector_metadata(m),
                    })
                    .collect();
                services
                    .vectors
                    .upsert(&namespace(org), records)
                    .await
                    .map_err(MemoryError::from)
            }
            Ok(_) => Err(MemoryError::Unavailable(
                "the provider returned no vectors".into(),
            )),
            Err(e) => Err(e.into()),
        };
        match outcome {
            Ok(()) => {
                processed += chunk.len();
                for m in chunk {
                    let _ = services
                        .store
                        .update(
                            &crate::keys::memory(org, &m.id),
                            vec![skiff_core::ports::store::Change::set("vector", "ready")],
                            Some(Condition::Exists),
                        )
                        .await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reembed batch failed");
                failed += chunk.len();
                failed_ids.extend(chunk.iter().map(|m| m.id.to_string()));
            }
        }
    }
    let mut out = json!({
        "status": "complete",
        "processed": processed,
        "failed": failed,
        "total": total,
        "batch_size": batch_size,
        "metadata_preserved": true,
    });
    if !failed_ids.is_empty() {
        out["failed_ids"] = json!(failed_ids.iter().take(10).collect::<Vec<_>>());
        if failed_ids.len() > 10 {
            out["failed_ids_truncated"] = true.into();
        }
    }
    Ok(Some((200, out)))
}
