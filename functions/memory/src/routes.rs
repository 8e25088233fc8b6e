//! AutoMem's routes, each at `/api/v1/memory` + AutoMem's path, plus the hosting
//! routes AutoMem serves at `/api/v1/preseed` and `/api/v1/stats`. Bodies are read
//! as AutoMem reads them (a body that is not a JSON object is "JSON body is
//! required"); answers and errors are AutoMem's.

use crate::auth::{Admin, Caller, MaybeCaller};
use crate::error::{AutoMemError, Result};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;
use skiff_core::Services;
use skiff_core::ids::OrgId;
use skiff_core::services::WriteRefusal;
use skiff_http::principal::PlatformAdmin;
use skiff_memory::{embed, export, graph, health, memories, preseed, recall, stats};

pub const PREFIX: &str = "/api/v1/memory";
const TAG: &str = "memory";

/// AutoMem's error body, for the OpenAPI document.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AutoMemErrorBody {
    /// Always `error`.
    status: String,
    /// The HTTP status again.
    code: u16,
    message: String,
}

/// A request body as AutoMem reads it: JSON, or nothing.
pub fn json_body(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

/// The query string's pairs, each value as given.
pub fn pairs(raw: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn first(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn all(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// Refuse a write from a caller without `memory:write`, or from a locked org
/// (AutoMem's 423 body, naming the mode and where to upgrade).
pub async fn writable(services: &Services, caller: &Caller) -> Result<()> {
    caller.can_write()?;
    locked(services, caller.org()).await
}

/// The write gate's answer (billing's service profile, an erasure under way) in
/// AutoMem's shape: 423 with the mode, tier, reason, capabilities and where to
/// upgrade, as AutoMem's hosted service answers a locked pod.
pub async fn locked(services: &Services, org: &OrgId) -> Result<()> {
    match services.write_gate.check(services, org).await {
        Ok(()) => Ok(()),
        Err(WriteRefusal::Locked {
            code,
            detail,
            extra,
        }) => {
            let field = |k: &str| extra.get(k).cloned().unwrap_or(Value::Null);
            let mut e = AutoMemError::new(StatusCode::LOCKED, detail);
            e.extra.insert("error".into(), code.clone().into());
            for (ours, theirs) in [("service_mode", "mode"), ("service_tier", "tier")] {
                e.extra.insert(ours.into(), field(theirs));
                e.extra.insert(theirs.into(), field(theirs));
            }
            for k in ["capabilities", "upgrade_url"] {
                e.extra.insert(k.into(), field(k));
            }
            if code == "trial_expired" {
                e.extra.insert("reason".into(), "trial_expired".into());
            }
            Err(e)
        }
        Err(WriteRefusal::Gone) => Err(AutoMemError::new(
            StatusCode::NOT_FOUND,
            "Organization not found",
        )),
        Err(WriteRefusal::Store(e)) => Err(e.into()),
    }
}

fn created(body: Value) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

type Errors = AutoMemErrorBody;

/// Store a memory (AutoMem's `POST /memory`).
#[utoipa::path(post, path = "/api/v1/memory/memory", tag = TAG,
    request_body(content = Object, description = "content (required, ≤ 2000 characters), tags, importance (0–1), metadata, type, confidence, timestamp, t_valid, t_invalid, embedding, id"),
    responses((status = 201, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, description = "missing scope, or the plan's max_memories reached (with upgrade_url)", body = Errors),
        (status = 409, body = Errors), (status = 423, description = "the org's service is locked", body = Errors)),
    security(("bearer" = [])))]
pub async fn store(State(s): State<Services>, caller: Caller, body: Bytes) -> Result<Response> {
    writable(&s, &caller).await?;
    Ok(created(
        memories::store(&s, caller.org(), &json_body(&body)).await?,
    ))
}

/// Store 1–500 memories (AutoMem's `POST /memory/batch`).
#[utoipa::path(post, path = "/api/v1/memory/memory/batch", tag = TAG,
    request_body(content = Object, description = "{memories: [...]}, 1–500"),
    responses((status = 201, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, body = Errors), (status = 409, body = Errors), (status = 423, body = Errors)),
    security(("bearer" = [])))]
pub async fn store_batch(
    State(s): State<Services>,
    caller: Caller,
    body: Bytes,
) -> Result<Response> {
    writable(&s, &caller).await?;
    Ok(created(
        memories::store_batch(&s, caller.org(), &json_body(&body)).await?,
    ))
}

fn page_bounds(q: &[(String, String)]) -> (usize, usize) {
    let limit = first(q, "limit")
        .and_then(|l| l.trim().parse::<i64>().ok())
        .unwrap_or(20)
        .clamp(1, 200) as usize;
    let offset = first(q, "offset")
        .and_then(|o| o.trim().parse::<i64>().ok())
        .unwrap_or(0)
        .clamp(0, 1_000_000) as usize;
    (limit, offset)
}

/// Memories with any of the tags, exact and case-insensitive, most important first.
#[utoipa::path(get, path = "/api/v1/memory/memory/by-tag", tag = TAG,
    params(("tags" = Vec<String>, Query, description = "repeated or comma-separated"),
        ("limit" = Option<i64>, Query, description = "1–200, default 20"),
        ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, body = Errors)),
    security(("bearer" = [])))]
pub async fn by_tag(
    State(s): State<Services>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>> {
    caller.can_read()?;
    let q = pairs(q);
    let tags = memories::by_tag_tags(&all(&q, "tags"))?;
    let (limit, offset) = page_bounds(&q);
    Ok(Json(
        memories::by_tag(&s, caller.org(), tags, limit, offset).await?,
    ))
}

/// Delete every memory with any of the tags.
#[utoipa::path(delete, path = "/api/v1/memory/memory/by-tag", tag = TAG,
    params(("tags" = Vec<String>, Query, description = "repeated or comma-separated")),
    responses((status = 200, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, body = Errors), (status = 423, body = Errors)),
    security(("bearer" = [])))]
pub async fn delete_by_tag(
    State(s): State<Services>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>> {
    writable(&s, &caller).await?;
    let tags = memories::by_tag_tags(&all(&pairs(q), "tags"))?;
    Ok(Json(memories::delete_by_tag(&s, caller.org(), tags).await?))
}

/// One memory.
#[utoipa::path(get, path = "/api/v1/memory/memory/{memory_id}", tag = TAG,
    params(("memory_id" = String, Path, description = "a UUID")),
    responses((status = 200, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, body = Errors), (status = 404, body = Errors)),
    security(("bearer" = [])))]
pub async fn get_memory(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    caller.can_read()?;
    Ok(Json(memories::get(&s, caller.org(), &id).await?))
}

/// Change any of a memory's fields.
#[utoipa::path(patch, path = "/api/v1/memory/memory/{memory_id}", tag = TAG,
    params(("memory_id" = String, Path, description = "a UUID")),
    request_body(content = Object),
    responses((status = 200, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, body = Errors), (status = 404, body = Errors), (status = 423, body = Errors)),
    security(("bearer" = [])))]
pub async fn update_memory(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    writable(&s, &caller).await?;
    Ok(Json(
        memories::update(&s, caller.org(), &id, &json_body(&body)).await?,
    ))
}

/// Delete a memory with its associations.
#[utoipa::path(delete, path = "/api/v1/memory/memory/{memory_id}", tag = TAG,
    params(("memory_id" = String, Path, description = "a UUID")),
    responses((status = 200, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, body = Errors), (status = 404, body = Errors), (status = 423, body = Errors)),
    security(("bearer" = [])))]
pub async fn delete_memory(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    writable(&s, &caller).await?;
    Ok(Json(memories::delete(&s, caller.org(), &id).await?))
}

/// Associate two memories, or a batch (`associations: [...]`, 207 when some fail).
#[utoipa::path(post, path = "/api/v1/memory/associate", tag = TAG,
    request_body(content = Object, description = "memory1_id, memory2_id, type (one of the 11 authorable), strength; or associations: [...]"),
    responses((status = 201, body = Object), (status = 207, description = "some of a batch failed", body = Object),
        (status = 400, body = Errors), (status = 401, body = Errors), (status = 403, body = Errors),
        (status = 404, body = Errors), (status = 423, body = Errors)),
    security(("bearer" = [])))]
pub async fn associate(State(s): State<Services>, caller: Caller, body: Bytes) -> Result<Response> {
    writable(&s, &caller).await?;
    let (status, body) = graph::associate(&s, caller.org(), &json_body(&body)).await?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    Ok((status, Json(body)).into_response())
}

/// Memories related to one, up to three hops away.
#[utoipa::path(get, path = "/api/v1/memory/memories/{memory_id}/related", tag = TAG,
    params(("memory_id" = String, Path, description = "a UUID"),
        ("relationship_types" = Option<String>, Query, description = "comma-separated"),
        ("max_depth" = Option<i64>, Query, description = "1–3"),
        ("limit" = Option<i64>, Query, description = "1–200")),
    responses((status = 200, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, body = Errors), (status = 404, body = Errors)),
    security(("bearer" = [])))]
pub async fn related(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>> {
    caller.can_read()?;
    let q = pairs(q);
    let types = graph::relation_types(first(&q, "relationship_types").as_deref());
    let depth = first(&q, "max_depth")
        .and_then(|d| d.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 3) as usize;
    let limit = first(&q, "limit")
        .and_then(|d| d.trim().parse::<i64>().ok())
        .unwrap_or(5)
        .clamp(1, 200) as usize;
    Ok(Json(
        graph::related(&s, caller.org(), &id, types, depth, limit).await?,
    ))
}

/// Hybrid recall (AutoMem's parameters).
#[utoipa::path(get, path = "/api/v1/memory/recall", tag = TAG,
    params(("query" = Option<String>, Query), ("queries" = Option<Vec<String>>, Query),
        ("limit" = Option<i64>, Query, description = "default 5, at most 100"),
        ("tags" = Option<Vec<String>>, Query), ("tag_mode" = Option<String>, Query, description = "any | all"),
        ("tag_match" = Option<String>, Query, description = "prefix | exact"),
        ("exclude_tags" = Option<Vec<String>>, Query),
        ("time_query" = Option<String>, Query, description = "today, yesterday, last N days, this/last week|month|year"),
        ("start" = Option<String>, Query), ("end" = Option<String>, Query),
        ("sort" = Option<String>, Query, description = "score | time_desc | time_asc | updated_desc | updated_asc"),
        ("embedding" = Option<String>, Query, description = "comma-separated floats"),
        ("expand_relations" = Option<bool>, Query), ("relation_limit" = Option<i64>, Query),
        ("min_score" = Option<f64>, Query), ("state_mode" = Option<String>, Query, description = "current | history"),
        ("context" = Option<String>, Query), ("priority_ids" = Option<Vec<String>>, Query)),
    responses((status = 200, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, body = Errors)),
    security(("bearer" = [])))]
pub async fn recall(
    State(s): State<Services>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>> {
    caller.can_read()?;
    let now = skiff_memory::model::Timestamp::from_offset(s.clock.now());
    let request = recall::RecallRequest::parse(&pairs(q), now)?;
    Ok(Json(recall::recall(&s, caller.org(), request).await?))
}

/// Critical lessons and system rules for an agent's start.
#[utoipa::path(get, path = "/api/v1/memory/startup-recall", tag = TAG,
    responses((status = 200, body = Object), (status = 401, body = Errors), (status = 403, body = Errors)),
    security(("bearer" = [])))]
pub async fn startup_recall(State(s): State<Services>, caller: Caller) -> Result<Json<Value>> {
    caller.can_read()?;
    Ok(Json(recall::startup(&s, caller.org()).await?))
}

/// AutoMem's health (no credential needed; with one, the org's counts).
#[utoipa::path(get, path = "/api/v1/memory/health", tag = TAG,
    responses((status = 200, body = Object), (status = 401, description = "a credential was sent and is invalid", body = Errors)))]
pub async fn health(State(s): State<Services>, caller: MaybeCaller) -> Json<Value> {
    Json(health::health(&s, caller.0.as_ref().map(Caller::org)).await)
}

/// The org's service tier, mode and capabilities (AutoMem's hosting profile).
#[utoipa::path(get, path = "/api/v1/memory/service/profile", tag = TAG,
    responses((status = 200, body = Object), (status = 401, body = Errors), (status = 403, body = Errors)),
    security(("bearer" = [])))]
pub async fn service_profile(State(s): State<Services>, caller: Caller) -> Result<Json<Value>> {
    caller.can_read()?;
    Ok(Json(health::profile(&s, caller.org()).await?))
}

/// Embed the org's memories again (`memory:admin`).
#[utoipa::path(post, path = "/api/v1/memory/admin/reembed", tag = TAG,
    request_body(content = Object, description = "batch_size (≤ 100), limit, force"),
    responses((status = 200, body = Object), (status = 202, description = "queued for the outbox", body = Object),
        (status = 401, body = Errors), (status = 403, body = Errors), (status = 423, body = Errors),
        (status = 503, description = "no embedding provider is configured", body = Errors)),
    security(("bearer" = [])))]
pub async fn reembed(
    State(s): State<Services>,
    Admin(caller): Admin,
    body: Bytes,
) -> Result<Response> {
    locked(&s, caller.org()).await?;
    match embed::reembed(&s, caller.org(), &json_body(&body)).await? {
        Some((status, body)) => Ok((
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            Json(body),
        )
            .into_response()),
        None => Err(AutoMemError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Embedding provider is not configured",
        )),
    }
}

fn manifest_json(m: &export::Manifest, base: &str) -> Value {
    let mut v = serde_json::to_value(m).unwrap_or_default();
    let status_url = format!("{base}{PREFIX}/admin/exports/{}", m.export_id);
    v["status_url"] = status_url.clone().into();
    v["download_url"] = format!("{status_url}/download").into();
    v
}

/// Start an export of the org's memories (202; allowed when the org is locked).
#[utoipa::path(post, path = "/api/v1/memory/admin/exports", tag = TAG,
    request_body(content = Object, description = "include_vectors (default true), reason"),
    responses((status = 202, body = Object), (status = 401, body = Errors), (status = 403, body = Errors)),
    security(("bearer" = [])))]
pub async fn create_export(
    State(s): State<Services>,
    Admin(caller): Admin,
    body: Bytes,
) -> Result<Response> {
    let m = export::start(&s, caller.org(), &json_body(&body)).await?;
    let body = manifest_json(&m, &s.config.public_url);
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// An export's manifest: `queued`, `running`, `complete` or `failed`.
#[utoipa::path(get, path = "/api/v1/memory/admin/exports/{export_id}", tag = TAG,
    params(("export_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = Errors), (status = 403, body = Errors),
        (status = 404, body = Errors)),
    security(("bearer" = [])))]
pub async fn export_status(
    State(s): State<Services>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let m = export::get(&s, caller.org(), &id).await?;
    Ok(Json(manifest_json(&m, &s.config.public_url)))
}

/// A complete export's gzipped bundle: a redirect to a short-lived signed link.
#[utoipa::path(get, path = "/api/v1/memory/admin/exports/{export_id}/download", tag = TAG,
    params(("export_id" = String, Path)),
    responses((status = 302, description = "to the bundle's signed URL"), (status = 401, body = Errors),
        (status = 403, body = Errors), (status = 404, body = Errors),
        (status = 409, description = "not complete yet", body = Errors)),
    security(("bearer" = [])))]
pub async fn export_download(
    State(s): State<Services>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Response> {
    let url = export::download(&s, caller.org(), &id).await?;
    Ok((StatusCode::FOUND, [(header::LOCATION, url.url)]).into_response())
}

/// Seed onboarding memories into an org (platform operators only).
#[utoipa::path(post, path = "/api/v1/preseed", tag = TAG,
    params(("org_id" = String, Query, description = "the org to seed")),
    request_body(content = Object, description = "memories: [...], associations: [{from_index, to_index, type, strength}]"),
    responses((status = 201, body = Object), (status = 400, body = Errors), (status = 401, body = Errors),
        (status = 403, description = "the plan's max_memories reached", body = Errors),
        (status = 404, description = "not a platform operator (the route is hidden), or no such org", body = Errors),
        (status = 423, body = Errors)),
    security(("bearer" = [])))]
pub async fn preseed(
    State(s): State<Services>,
    operator: std::result::Result<PlatformAdmin, skiff_http::ApiError>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response> {
    operator?;
    let raw = first(&pairs(q), "org_id").unwrap_or_default();
    let org = OrgId::parse(raw.trim())
        .map_err(|_| AutoMemError::new(StatusCode::NOT_FOUND, "Organization not found"))?;
    if skiff_identity::orgs::get(s.store.as_ref(), &org)
        .await?
        .is_none()
    {
        return Err(AutoMemError::new(
            StatusCode::NOT_FOUND,
            "Organization not found",
        ));
    }
    locked(&s, &org).await?;
    Ok(created(
        preseed::preseed(&s, &org, &json_body(&body)).await?,
    ))
}

/// Dashboard counters of the caller's org.
#[utoipa::path(get, path = "/api/v1/stats", tag = TAG,
    responses((status = 200, body = Object), (status = 401, body = Errors), (status = 403, body = Errors)),
    security(("bearer" = [])))]
pub async fn stats(State(s): State<Services>, caller: Caller) -> Result<Json<Value>> {
    caller.can_read()?;
    Ok(Json(stats::stats(&s, caller.org()).await?))
}
