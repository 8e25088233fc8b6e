//! Storing, reading, changing and deleting memories, one at a time, in batches and
//! by tag — AutoMem's `/memory` routes, per org.
//!
//! The plan's `max_memories` is a bounded counter in the item store: a store first
//! reserves its count (an atomic add that fails past the limit), then writes, and
//! gives the count back if the write fails, so concurrent stores at the limit never
//! overshoot it.

use crate::embed::{self, embed_within};
use crate::model::*;
use crate::{MemoryError, MemoryResult, classify, keys, namespace, repo, stream};
use serde_json::{Map, Value, json};
use skiff_core::Services;
use skiff_core::ids::OrgId;
use skiff_core::ports::vectors::VectorError;
use std::time::Instant;

/// Most memories one batch (and one preseed) stores.
pub const MAX_BATCH: usize = 500;

/// Elapsed milliseconds, rounded like AutoMem's `query_time_ms`.
pub fn millis_since(start: Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 100_000.0).round() / 100.0
}

fn now(services: &Services) -> Timestamp {
    Timestamp::from_offset(services.clock.now())
}

/// Take `n` memories off the org's plan allowance, or say the limit is reached.
pub async fn reserve(services: &Services, org: &OrgId, n: i64) -> MemoryResult<()> {
    let (profile, plan) = skiff_billing::entitlements::current_plan(services, org).await?;
    let limit = plan.entitlements.max_memories;
    match services
        .store
        .add(&keys::stats(org), "memories", n, limit.bound(), None)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_condition_failed() => Err(MemoryError::LimitReached {
            limit: limit.0,
            tier: profile.tier,
            upgrade_url: skiff_billing::settings(services).upgrade_url.clone(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Give back what [`reserve`] took (after a failed write or a delete).
pub async fn release(services: &Services, org: &OrgId, n: i64) {
    if let Err(e) = services
        .store
        .add(&keys::stats(org), "memories", -n, None, None)
        .await
    {
        tracing::error!(error = %e, %org, "memory counter not released; it over-counts by {n}");
    }
}

/// A memory to store, parsed from AutoMem's request fields.
pub struct NewMemory {
    pub memory: Memory,
    /// The client's own embedding.
    pub embedding: Option<Vec<f32>>,
}

/// Parse `POST /memory`'s body (AutoMem's checks and messages).
pub fn parse_new(payload: &Value, now: Timestamp) -> MemoryResult<NewMemory> {
    let Some(body) = payload.as_object() else {
        return Err(MemoryError::invalid("JSON body is required"));
    };
    let content = match body.get("content") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => return Err(MemoryError::invalid("'content' must be a string")),
    };
    check_content(&content)?;
    let id = match body.get("id") {
        None | Some(Value::Null) => MemoryId::new(),
        Some(Value::String(s)) if s.trim().is_empty() => MemoryId::new(),
        Some(Value::String(s)) => MemoryId::parse_field(s, "'id' must be a valid UUID")?,
        Some(_) => return Err(MemoryError::invalid("'id' must be a valid UUID")),
    };
    let tags = parse_tags(body.get("tags"))?;
    let importance = unit_number(body.get("importance"), "importance", 0.5)?;
    let metadata = parse_metadata(body.get("metadata"))?;
    let (kind, confidence) = match body
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        Some(raw) => (
            normalize_type(raw)?,
            unit_number(body.get("confidence"), "confidence", 0.9)?,
        ),
        None => classify::classify(&content),
    };
    let time_field = |field: &str, prefix: &str| -> MemoryResult<Option<Timestamp>> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Timestamp::parse(s)
                .map(Some)
                .map_err(|e| MemoryError::invalid(format!("{prefix}{e}"))),
            Some(_) => Err(MemoryError::invalid(format!(
                "{prefix}Timestamp must be a non-empty ISO formatted string"
            ))),
        }
    };
    let t_valid = time_field("t_valid", "Invalid t_valid: ")?;
    let t_invalid = time_field("t_invalid", "Invalid t_invalid: ")?;
    let timestamp = time_field("timestamp", "")?.unwrap_or(now);
    let updated_at = time_field("updated_at", "Invalid updated_at: ")?.unwrap_or(timestamp);
    let last_accessed =
        time_field("last_accessed", "Invalid last_accessed: ")?.unwrap_or(updated_at);
    let embedding = parse_embedding(body.get("embedding"))?;
    Ok(NewMemory {
        memory: Memory {
            id,
            tag_prefixes: tag_prefixes(&tags),
            tags,
            content,
            importance,
            kind,
            confidence,
            timestamp: timestamp.render(),
            t_valid: Some(t_valid.unwrap_or(timestamp).render()),
            t_invalid: t_invalid.map(|t| t.render()),
            updated_at: updated_at.render(),
            last_accessed: last_accessed.render(),
            metadata,
            archived: false,
            vector: VectorState::None,
        },
        embedding,
    })
}

/// Check a client's embedding against the org's vector size (fixed by its first).
pub async fn check_dimension(services: &Services, org: &OrgId, vector: &[f32]) -> MemoryResult<()> {
    if let Some(d) = services.vectors.dimension(&namespace(org)).await?
        && d != vector.len()
    {
        return Err(MemoryError::invalid(format!(
            "Embedding must contain exactly {d} values"
        )));
    }
    Ok(())
}

/// How a stored memory's indexes came out.
#[derive(Debug, Clone)]
pub struct Stored {
    pub memory: Memory,
    /// `provided`, `generated`, `queued` or `skipped`.
    pub embedding_status: &'static str,
    /// AutoMem's name for the vector index's answer: `stored`, `queued`,
    /// `unconfigured`, `failed`.
    pub vector_status: &'static str,
}

/// Store one memory (AutoMem's `POST /memory`); answers AutoMem's 201 body.
pub async fn store(services: &Services, org: &OrgId, payload: &Value) -> MemoryResult<Value> {
    let start = Instant::now();
    let new = parse_new(payload, now(services))?;
    if let Some(v) = &new.embedding {
        check_dimension(services, org, v).await?;
    }
    let stored = store_parsed(services, org, new).await?;
    let m = &stored.memory;
    stream::publish_store(services, org, m, millis_since(start));
    Ok(json!({
        "status": "success",
        "memory_id": m.id.to_string(),
        "stored_at": m.timestamp,
        "type": m.kind,
        "confidence": m.confidence,
        "qdrant": stored.vector_status,
        "embedding_status": stored.embedding_status,
        "enrichment": "disabled",
        "metadata": m.metadata,
        "timestamp": m.timestamp,
        "updated_at": m.updated_at,
        "last_accessed": m.last_accessed,
        "query_time_ms": millis_since(start),
    }))
}

/// Store parsed memories: reserve, embed within the timeout, write, index.
pub async fn store_parsed(
    services: &Services,
    org: &OrgId,
    new: NewMemory,
) -> MemoryResult<Stored> {
    let mut stored = store_many(services, org, vec![new]).await?;
    Ok(stored.remove(0))
}

/// Store several memories (all reserved at once; each written on its own).
pub async fn store_many(
    services: &Services,
    org: &OrgId,
    mut news: Vec<NewMemory>,
) -> MemoryResult<Vec<Stored>> {
    if news.is_empty() {
        return Ok(vec![]);
    }
    let n = news.len() as i64;
    reserve(services, org, n).await?;
    // Server-side embeddings for those without their own, in one call.
    let wanted: Vec<usize> = (0..news.len())
        .filter(|i| news[*i].embedding.is_none())
        .collect();
    let texts: Vec<String> = wanted
        .iter()
        .map(|i| news[*i].memory.content.clone())
        .collect();
    let timeout = crate::settings(services).embed_timeout;
    let (server, server_state): (Vec<Option<Vec<f32>>>, VectorState) = if texts.is_empty() {
        (vec![], VectorState::None)
    } else {
        match embed_within(services, &texts, timeout).await {
            Ok(Some(v)) => (v.into_iter().map(Some).collect(), VectorState::Ready),
            Ok(None) => (vec![None; texts.len()], VectorState::None),
            Err(e) => {
                tracing::warn!(error = %e, "embedding deferred to the outbox");
                (vec![None; texts.len()], VectorState::Pending)
            }
        }
    };
    let mut vectors: Vec<(Option<Vec<f32>>, &'static str)> = news
        .iter_mut()
        .map(|n| (n.embedding.take(), "provided"))
        .collect();
    for (slot, vector) in wanted.iter().zip(server) {
        let status = match server_state {
            VectorState::Ready => "generated",
            VectorState::Pending => "queued",
            VectorState::None => "skipped",
        };
        vectors[*slot] = (vector, status);
    }

    let mut out = Vec::with_capacity(news.len());
    let mut written = 0;
    let mut failure = None;
    for (new, (vector, embedding_status)) in news.into_iter().zip(vectors) {
        let mut memory = new.memory;
        memory.vector = match (&vector, embedding_status) {
            (Some(_), _) => VectorState::Ready,
            (None, "queued") => VectorState::Pending,
            _ => VectorState::None,
        };
        match repo::insert(services.store.as_ref(), org, &memory).await {
            Ok(()) => written += 1,
            Err(e) if e.is_condition_failed() => {
                failure = Some(MemoryError::Conflict(format!(
                    "Memory {} already exists",
                    memory.id
                )));
                break;
            }
            Err(e) => {
                failure = Some(e.into());
                break;
            }
        }
        let stored = index_new(services, org, memory, vector, embedding_status).await;
        out.push(stored);
    }
    if written < n {
        release(services, org, n - written).await;
    }
    match failure {
        Some(e) if out.is_empty() => Err(e),
        Some(e) => {
            tracing::error!(error = %e, stored = out.len(), "batch stopped part-way");
            Err(e)
        }
        None => Ok(out),
    }
}

/// Index a just-written memory; what fails is left to the outbox.
async fn index_new(
    services: &Services,
    org: &OrgId,
    mut memory: Memory,
    vector: Option<Vec<f32>>,
    embedding_status: &'static str,
) -> Stored {
    let mut needs_sync = false;
    if let Err(e) = embed::index_keywords(services, org, &memory).await {
        tracing::warn!(error = %e, id = %memory.id, "keyword indexing deferred to the outbox");
        needs_sync = true;
    }
    let mut vector_status = match memory.vector {
        VectorState::Pending => {
            needs_sync = true;
            "queued"
        }
        VectorState::None => "unconfigured",
        VectorState::Ready => "stored",
    };
    if let Some(v) = vector {
        match embed::index_vector(services, org, &memory, v).await {
            Ok(()) => {}
            Err(VectorError::DimensionMismatch { .. }) => {
                // The org's vectors are another size (its clients send their own).
                memory.vector = VectorState::None;
                vector_status = "skipped";
                let _ = services
                    .store
                    .update(
                        &keys::memory(org, &memory.id),
                        vec![skiff_core::ports::store::Change::set("vector", "none")],
                        None,
                    )
                    .await;
            }
            Err(e) => {
                tracing::warn!(error = %e, id = %memory.id, "vector indexing deferred to the outbox");
                vector_status = "failed";
                memory.vector = VectorState::Pending;
                let _ = services
                    .store
                    .update(
                        &keys::memory(org, &memory.id),
                        vec![skiff_core::ports::store::Change::set("vector", "pending")],
                        None,
                    )
                    .await;
                needs_sync = true;
            }
        }
    }
    if needs_sync && let Err(e) = embed::enqueue_sync(services, org, &memory.id).await {
        tracing::error!(error = %e, id = %memory.id, "could not queue the memory's indexing");
    }
    Stored {
        memory,
        embedding_status,
        vector_status,
    }
}

/// `POST /memory/batch`: 1–500 memories, all reserved against the plan at once.
pub async fn store_batch(services: &Services, org: &OrgId, payload: &Value) -> MemoryResult<Value> {
    let start = Instant::now();
    let items = payload
        .as_object()
        .ok_or_else(|| MemoryError::invalid("JSON body with 'memories' array required"))?
        .get("memories");
    let items = match items {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => return Err(MemoryError::invalid("'memories' must be a non-empty array")),
    };
    if items.len() > MAX_BATCH {
        return Err(MemoryError::invalid(format!(
            "Batch size limit is {MAX_BATCH} memories per request"
        )));
    }
    let news = parse_batch(items, now(services), &[])?;
    let stored = store_many(services, org, news).await?;
    for s in &stored {
        stream::publish_store(services, org, &s.memory, millis_since(start));
    }
    let ids: Vec<String> = stored.iter().map(|s| s.memory.id.to_string()).collect();
    let queued = stored
        .iter()
        .filter(|s| s.vector_status != "stored")
        .count();
    let vector_status = if stored.iter().all(|s| s.vector_status == "unconfigured") {
        "unconfigured".to_owned()
    } else if queued == 0 {
        format!("stored ({})", stored.len())
    } else {
        format!("stored ({}), queued ({queued})", stored.len() - queued)
    };
    Ok(json!({
        "status": "success",
        "stored": ids.len(),
        "memory_ids": ids,
        "qdrant": vector_status,
        "enrichment": "disabled",
        "query_time_ms": millis_since(start),
    }))
}

/// The items of a batch, AutoMem's way: each must be an object with content; a bad
/// timestamp falls back to now and bad metadata to `{}`; `forced_tags` are added.
pub fn parse_batch(
    items: &[Value],
    now: Timestamp,
    forced_tags: &[&str],
) -> MemoryResult<Vec<NewMemory>> {
    let mut out = vec![];
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            return Err(MemoryError::invalid(format!(
                "Memory at index {i} must be an object"
            )));
        };
        let content = obj
            .get("content")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if content.is_empty() {
            return Err(MemoryError::invalid(format!(
                "Memory at index {i} missing 'content'"
            )));
        }
        let n = content.chars().count();
        if n > CONTENT_HARD_LIMIT {
            return Err(MemoryError::invalid(format!(
                "Memory at index {i} exceeds content limit ({n}/{CONTENT_HARD_LIMIT})"
            )));
        }
        let mut clean: Map<String, Value> = Map::new();
        clean.insert("content".into(), content.into());
        for field in ["tags", "importance", "type", "confidence"] {
            if let Some(v) = obj.get(field) {
                clean.insert(field.into(), v.clone());
            }
        }
        if let Some(Value::Object(m)) = obj.get("metadata") {
            clean.insert("metadata".into(), Value::Object(m.clone()));
        }
        if let Some(t) = obj.get("timestamp").and_then(Value::as_str)
            && Timestamp::parse(t).is_ok()
        {
            clean.insert("timestamp".into(), t.into());
        }
        let mut new = parse_new(&Value::Object(clean), now).map_err(|e| match e {
            MemoryError::Invalid(m) => MemoryError::Invalid(format!("Memory at index {i}: {m}")),
            other => other,
        })?;
        for forced in forced_tags {
            if !new
                .memory
                .tags
                .iter()
                .any(|t| t.eq_ignore_ascii_case(forced))
            {
                new.memory.tags.push((*forced).to_owned());
            }
        }
        check_tags(&new.memory.tags)?;
        new.memory.tag_prefixes = tag_prefixes(&new.memory.tags);
        out.push(new);
    }
    Ok(out)
}

/// `GET /memory/{id}`: the memory, its `last_accessed` moved to now.
pub async fn get(services: &Services, org: &OrgId, id: &str) -> MemoryResult<Value> {
    let id = MemoryId::parse(id)?;
    let (mut memory, _) = repo::get(services.store.as_ref(), org, &id)
        .await?
        .ok_or_else(MemoryError::not_found)?;
    let at = now(services).render();
    match repo::touch(services.store.as_ref(), org, &id, &at).await {
        Ok(()) => memory.last_accessed = at,
        Err(e) => tracing::warn!(error = %e, %id, "last_accessed not updated"),
    }
    Ok(json!({"status": "success", "memory": memory.to_json()}))
}

/// `PATCH /memory/{id}`: any subset of the fields; content or tag changes re-index,
/// a content change re-embeds.
pub async fn update(
    services: &Services,
    org: &OrgId,
    id: &str,
    payload: &Value,
) -> MemoryResult<Value> {
    let id = MemoryId::parse(id)?;
    let Some(body) = payload.as_object() else {
        return Err(MemoryError::invalid("JSON body is required"));
    };
    for _ in 0..5 {
        let (current, version) = repo::get(services.store.as_ref(), org, &id)
            .await?
            .ok_or_else(MemoryError::not_found)?;
        let next = apply_patch(&current, body, now(services))?;
        match repo::replace(services.store.as_ref(), org, &current, version, &next).await {
            Ok(()) => {
                reindex_after_update(services, org, &current, next).await;
                return Ok(json!({"status": "success", "memory_id": id.to_string()}));
            }
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(MemoryError::Unavailable(
        "The memory kept changing; try again".into(),
    ))
}

fn apply_patch(
    current: &Memory,
    body: &Map<String, Value>,
    now: Timestamp,
) -> MemoryResult<Memory> {
    let mut next = current.clone();
    if let Some(v) = body.get("content") {
        let content = v
            .as_str()
            .ok_or_else(|| MemoryError::invalid("'content' must be a string"))?
            .trim()
            .to_owned();
        check_content(&content)?;
        next.content = content;
    }
    if body.contains_key("tags") {
        let tags = tag_list(body.get("tags"));
        check_tags(&tags)?;
        next.tag_prefixes = tag_prefixes(&tags);
        next.tags = tags;
    }
    if body.contains_key("importance") {
        next.importance = unit_number(body.get("importance"), "importance", current.importance)?;
    }
    if let Some(t) = body.get("type").and_then(Value::as_str) {
        next.kind = normalize_type(t)?;
    }
    if body.contains_key("confidence") {
        next.confidence = unit_number(body.get("confidence"), "confidence", current.confidence)?;
    }
    if body.contains_key("metadata") {
        next.metadata = parse_metadata(body.get("metadata"))?;
    }
    let time = |field: &str| -> MemoryResult<Option<Option<String>>> {
        match body.get(field) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) if s.is_empty() => Ok(Some(None)),
            Some(Value::String(s)) => Timestamp::parse(s)
                .map(|t| Some(Some(t.render())))
                .map_err(|e| MemoryError::invalid(format!("Invalid {field}: {e}"))),
            Some(_) => Err(MemoryError::invalid(format!(
                "Invalid {field}: Timestamp must be a non-empty ISO formatted string"
            ))),
        }
    };
    if let Some(Some(t)) = time("timestamp")? {
        next.timestamp = t;
    }
    if let Some(t) = time("t_valid")? {
        next.t_valid = t;
    }
    if let Some(t) = time("t_invalid")? {
        next.t_invalid = t;
    }
    next.updated_at = time("updated_at")?
        .flatten()
        .unwrap_or_else(|| now.render());
    if let Some(Some(t)) = time("last_accessed")? {
        next.last_accessed = t;
    }
    if next.content != current.content {
        next.vector = VectorState::Pending;
    }
    Ok(next)
}

async fn reindex_after_update(services: &Services, org: &OrgId, old: &Memory, new: Memory) {
    let mut needs_sync = false;
    if (old.content != new.content || old.tags != new.tags)
        && embed::index_keywords(services, org, &new).await.is_err()
    {
        needs_sync = true;
    }
    if new.content != old.content {
        let timeout = crate::settings(services).embed_timeout;
        match embed_within(services, std::slice::from_ref(&new.content), timeout).await {
            Ok(Some(v)) => {
                let v = v.into_iter().next().unwrap_or_default();
                match embed::index_vector(services, org, &new, v).await {
                    Ok(()) => {
                        let _ = services
                            .store
                            .update(
                                &keys::memory(org, &new.id),
                                vec![skiff_core::ports::store::Change::set("vector", "ready")],
                                None,
                            )
                            .await;
                    }
                    Err(_) => needs_sync = true,
                }
            }
            Ok(None) => {
                // No provider: the old vector no longer describes the content.
                let _ = services
                    .vectors
                    .delete(&namespace(org), &[embed::vector_id(&new.id)])
                    .await;
                let _ = services
                    .store
                    .update(
                        &keys::memory(org, &new.id),
                        vec![skiff_core::ports::store::Change::set("vector", "none")],
                        None,
                    )
                    .await;
            }
            Err(_) => needs_sync = true,
        }
    } else if new.vector == VectorState::Ready
        && (old.tags != new.tags
            || old.importance != new.importance
            || old.timestamp != new.timestamp
            || old.kind != new.kind)
    {
        // Same vector, new filterable metadata.
        needs_sync = true;
    }
    if needs_sync && let Err(e) = embed::enqueue_sync(services, org, &new.id).await {
        tracing::error!(error = %e, id = %new.id, "could not queue the memory's indexing");
    }
}

/// Delete one memory with its edges and index entries; `Ok(false)` when absent.
pub async fn delete_one(services: &Services, org: &OrgId, id: &MemoryId) -> MemoryResult<bool> {
    for _ in 0..5 {
        let Some((memory, version)) = repo::get(services.store.as_ref(), org, id).await? else {
            return Ok(false);
        };
        match repo::remove(services.store.as_ref(), org, &memory, version).await {
            Ok(()) => {
                release(services, org, 1).await;
                repo::remove_edges(services.store.as_ref(), org, id).await?;
                if embed::unindex(services, org, &[*id]).await.is_err() {
                    embed::enqueue_sync(services, org, id).await?;
                }
                return Ok(true);
            }
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(MemoryError::Unavailable(
        "The memory kept changing; try again".into(),
    ))
}

/// `DELETE /memory/{id}`.
pub async fn delete(services: &Services, org: &OrgId, id: &str) -> MemoryResult<Value> {
    let id = MemoryId::parse(id)?;
    if !delete_one(services, org, &id).await? {
        return Err(MemoryError::not_found());
    }
    Ok(json!({"status": "success", "memory_id": id.to_string()}))
}

/// How a tag filter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagMatch {
    /// The tag, lowercased, equals the filter.
    Exact,
    /// The filter is one of the tag's prefixes (`project` matches `project:skiff`).
    Prefix,
}

/// Memories under any of `tags` (lowercased), most important first, then newest:
/// those after the first `skip`, at most `take`, and whether more follow.
pub async fn ids_by_tags(
    services: &Services,
    org: &OrgId,
    tags: &[String],
    matching: TagMatch,
    skip: usize,
    take: usize,
) -> MemoryResult<(Vec<MemoryId>, bool)> {
    let wanted = skip + take + 1;
    let mut lists: Vec<Vec<(String, MemoryId)>> = vec![];
    let mut seen_keys = std::collections::HashSet::new();
    for tag in tags {
        let key = tag.trim().to_lowercase();
        if key.is_empty() || !seen_keys.insert(key.clone()) {
            continue;
        }
        let mut list = vec![];
        let mut cursor = None;
        loop {
            let page = services
                .store
                .query(
                    skiff_core::ports::store::Query::partition(keys::tag_partition(org, &key))
                        .limit((wanted - list.len()).clamp(1, 1000))
                        .after(cursor),
                )
                .await?;
            for item in &page.items {
                let entry: repo::RankEntry = item.parse()?;
                let hit = match matching {
                    TagMatch::Exact => entry.exact,
                    TagMatch::Prefix => entry.pfx,
                };
                if hit {
                    list.push((item.key.sk.clone(), entry.id));
                }
            }
            cursor = page.next;
            if cursor.is_none() || list.len() >= wanted {
                break;
            }
        }
        lists.push(list);
    }
    let mut merged: Vec<(String, MemoryId)> = lists.into_iter().flatten().collect();
    merged.sort();
    let mut seen = std::collections::HashSet::new();
    merged.retain(|(_, id)| seen.insert(*id));
    let has_more = merged.len() > skip + take;
    Ok((
        merged
            .into_iter()
            .skip(skip)
            .take(take)
            .map(|(_, id)| id)
            .collect(),
        has_more,
    ))
}

/// The tags of a by-tag request: repeated or comma-separated; AutoMem's 400 when none.
pub fn by_tag_tags(values: &[String]) -> MemoryResult<Vec<String>> {
    let tags = split_csv(values);
    if tags.is_empty() {
        return Err(MemoryError::invalid("'tags' query parameter is required"));
    }
    Ok(tags)
}

/// `GET /memory/by-tag`: exact (case-insensitive) tag matches, paged.
pub async fn by_tag(
    services: &Services,
    org: &OrgId,
    tags: Vec<String>,
    limit: usize,
    offset: usize,
) -> MemoryResult<Value> {
    let (ids, has_more) = ids_by_tags(services, org, &tags, TagMatch::Exact, offset, limit).await?;
    let memories = repo::get_many(services.store.as_ref(), org, &ids).await?;
    Ok(json!({
        "status": "success",
        "tags": tags,
        "count": memories.len(),
        "limit": limit,
        "offset": offset,
        "has_more": has_more,
        "memories": memories.iter().map(Memory::to_json).collect::<Vec<_>>(),
    }))
}

/// `DELETE /memory/by-tag`: every memory with any of the tags.
pub async fn delete_by_tag(
    services: &Services,
    org: &OrgId,
    tags: Vec<String>,
) -> MemoryResult<Value> {
    let mut deleted = 0u64;
    loop {
        let (ids, _) = ids_by_tags(services, org, &tags, TagMatch::Exact, 0, 200).await?;
        if ids.is_empty() {
            break;
        }
        let mut progressed = false;
        for id in ids {
            if delete_one(services, org, &id).await? {
                deleted += 1;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(json!({"status": "success", "tags": tags, "deleted_count": deleted}))
}
