//! AutoMem's `GET /health` and `GET /service/profile`, answered from Skiff's
//! ports: its `falkordb` field reports the item store (which holds the graph), its
//! `qdrant` field the vector index. Counts are the caller's org's; without a
//! credential they are `null`.

use crate::{namespace, repo};
use serde_json::{Value, json};
use skiff_billing::service_profile::{self, Mode};
use skiff_core::Services;
use skiff_core::ids::OrgId;

/// `/health`: `healthy` when both stores answer and the org's vectors are not
/// behind its memories, else `degraded`.
pub async fn health(services: &Services, org: Option<&OrgId>) -> Value {
    let store_ok = services.store.check().await.is_ok();
    let vectors_ok = services.vectors.check().await.is_ok();
    let keywords_ok = services.keywords.check().await.is_ok();
    let embedder = crate::settings(services).embedder.clone();
    let configured = embedder.as_ref().and_then(|e| e.dimension());
    let (mut memory_count, mut vector_count, mut collection) = (None, None, None);
    let mut service = Value::Null;
    if let Some(org) = org {
        if store_ok {
            memory_count = repo::counters(services.store.as_ref(), org)
                .await
                .ok()
                .map(|(m, _)| m);
            if let Ok(p) = service_profile::load(services.store.as_ref(), org).await {
                let caps = p.capabilities(&skiff_billing::settings(services).catalog);
                service = json!({
                    "tier": p.tier,
                    "mode": p.mode.as_str(),
                    "writes_enabled": caps.writes_enabled,
                    "self_service_export_enabled": caps.self_service_export_enabled,
                });
            }
        }
        if vectors_ok {
            let ns = namespace(org);
            vector_count = services.vectors.count(&ns).await.ok().map(|n| n as i64);
            collection = services.vectors.dimension(&ns).await.ok().flatten();
        }
    }
    let sync_status = match (memory_count, vector_count, &embedder) {
        (Some(m), Some(v), Some(_)) if m == v => "synced",
        (Some(m), Some(v), Some(_)) if v < m => "drift_detected",
        (Some(_), Some(_), Some(_)) => "orphaned_vectors",
        _ => "unknown",
    };
    let status = if store_ok && vectors_ok && keywords_ok && sync_status != "drift_detected" {
        "healthy"
    } else {
        "degraded"
    };
    let mut body = json!({
        "status": status,
        "falkordb": if store_ok { "connected" } else { "disconnected" },
        "qdrant": if vectors_ok { "connected" } else { "disconnected" },
        "memory_count": memory_count,
        "vector_count": vector_count,
        "sync_status": sync_status,
        "vector_dimensions": {
            "configured": configured,
            "effective": configured,
            "collection": collection,
            "mismatch": matches!((collection, configured), (Some(c), Some(e)) if c != e),
        },
        "enrichment": {
            "status": "stopped", "queue_depth": 0, "pending": 0, "inflight": 0,
            "processed": 0, "failed": 0,
        },
        "embedding": {"provider": embedder.as_ref().map(|e| e.name())},
        "keyword_index": if keywords_ok { "connected" } else { "disconnected" },
        "timestamp": crate::model::Timestamp::from_offset(services.clock.now()).render(),
        "graph": "memories",
    });
    if !service.is_null() {
        body["service"] = service;
    }
    body
}

/// `/service/profile`: the org's tier, mode and capabilities in AutoMem's shape,
/// from billing's service profile.
pub async fn profile(services: &Services, org: &OrgId) -> Result<Value, crate::MemoryError> {
    let p = service_profile::load(services.store.as_ref(), org).await?;
    let caps = p.capabilities(&skiff_billing::settings(services).catalog);
    let store_ok = services.store.check().await.is_ok();
    let vectors_ok = services.vectors.check().await.is_ok();
    let embedder = crate::settings(services).embedder.clone();
    let archived = p.mode == Mode::Archived;
    Ok(json!({
        "status": "success",
        "service": {
            "tier": p.tier,
            "mode": p.mode.as_str(),
            "profile": {
                "tier": p.tier,
                "mode": p.mode.as_str(),
                "embedding_tier": if archived { "disabled" } else if embedder.is_some() { "managed" } else { "disabled" },
                "consolidation_tier": "disabled",
                "capabilities": {
                    "qdrant_expected": true,
                    "writes_enabled": caps.writes_enabled,
                    "admin_mutations_enabled": caps.admin_mutations_enabled,
                    "archive_export_enabled": caps.archive_export_enabled,
                    "self_service_export_enabled": caps.self_service_export_enabled,
                },
            },
            "graph": {"name": "memories", "available": store_ok},
            "vector_store": {"collection": namespace(org).as_str(), "available": vectors_ok, "expected": true},
            "embedding": {
                "provider": embedder.as_ref().map(|e| e.name()),
                "model": embedder.as_ref().map(|e| e.name()),
                "tier": if embedder.is_some() { "managed" } else { "disabled" },
            },
            "consolidation": {"tier": "disabled"},
            "timestamp": crate::model::Timestamp::from_offset(services.clock.now()).render(),
        },
    }))
}
