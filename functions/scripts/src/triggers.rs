//! Triggers and dead letters of an app: `/api/v1/apps/{app}/triggers/…` and
//! `/api/v1/apps/{app}/dead-letters/…` (reads for viewers, changes for app_admins).

use crate::caller::{Reader, Writer};
use crate::problem::error;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use skiff_core::Services;
use skiff_core::clock::rfc3339;
use skiff_core::ids::{DeadLetterId, ScriptId, TriggerId};
use skiff_http::error::FieldError;
use skiff_http::extract::QueryParams;
use skiff_http::json::JsonBody;
use skiff_http::openapi::ProblemDetails as Problems;
use skiff_http::pagination::CursorScope;
use skiff_http::{ApiError, ApiResult};
use skiff_scripts::dead_letters::{self, DeadLetter, DeadLetterStatus};
use skiff_scripts::triggers::{self, Backoff, Op, RetryPolicy, Trigger, TriggerDraft, TriggerKind};
use utoipa::ToSchema;

const TAG: &str = "scripts";

#[derive(Serialize, ToSchema)]
pub struct TriggerView {
    id: TriggerId,
    kind: TriggerKind,
    script_id: ScriptId,
    #[serde(skip_serializing_if = "Option::is_none")]
    collection: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ops: Vec<Op>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
    /// RFC 3339: the next occurrence of a cron trigger.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_run_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic: Option<String>,
    retry: RetryPolicy,
    created_at: String,
}

fn view(t: Trigger) -> TriggerView {
    TriggerView {
        id: t.id,
        kind: t.kind,
        script_id: t.script_id,
        collection: t.collection,
        ops: t.ops,
        schedule: t.schedule,
        timezone: t.timezone,
        next_run_at: t.next_at.map(rfc3339),
        topic: t.topic,
        retry: t.retry,
        created_at: rfc3339(t.created_at),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    /// Runs in all, the first included (1 to 20).
    max_attempts: u32,
    /// `exponential`, `linear` or `constant`.
    backoff: Backoff,
    /// 100 to 900000.
    base_delay_ms: u64,
}

fn retry(r: Option<RetryBody>) -> Option<RetryPolicy> {
    r.map(|r| RetryPolicy {
        max_attempts: r.max_attempts,
        backoff: r.backoff,
        base_delay_ms: r.base_delay_ms,
    })
}

fn script_id(raw: &str) -> ApiResult<ScriptId> {
    ScriptId::parse(raw).map_err(|_| {
        ApiError::invalid_field("script_id", "UNKNOWN_SCRIPT", "no such script in this app")
    })
}

/// A data trigger: `{script_id, collection, ops?, retry?}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataTriggerBody {
    /// An endpoint script of the app.
    script_id: String,
    /// `*`, `prefix*` or a collection name.
    collection: String,
    /// `insert`, `update`, `delete`; empty or absent: any.
    #[serde(default)]
    ops: Vec<Op>,
    retry: Option<RetryBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CronTriggerBody {
    script_id: String,
    /// Six fields: second minute hour day-of-month month day-of-week.
    schedule: String,
    /// An IANA time zone (default `UTC`).
    timezone: Option<String>,
    retry: Option<RetryBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PubsubTriggerBody {
    script_id: String,
    /// `a.b.c`, `prefix.*` or `*`.
    topic: String,
    retry: Option<RetryBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterTriggerBody {
    script_id: String,
    retry: Option<RetryBody>,
}

async fn create(
    services: &Services,
    actor: &skiff_scripts::access::Actor,
    app: &str,
    draft: TriggerDraft,
) -> ApiResult<Response> {
    let t = triggers::create(services, actor, app, draft)
        .await
        .map_err(error)?;
    Ok((StatusCode::CREATED, Json(view(t))).into_response())
}

/// A draft of `kind` with only the fields every kind has; each handler adds its own.
fn draft(
    kind: TriggerKind,
    script: &str,
    retry_body: Option<RetryBody>,
) -> ApiResult<TriggerDraft> {
    Ok(TriggerDraft {
        kind,
        script_id: script_id(script)?,
        collection: None,
        ops: vec![],
        schedule: None,
        timezone: None,
        topic: None,
        retry: retry(retry_body),
    })
}

fn data_draft(kind: TriggerKind, b: DataTriggerBody) -> ApiResult<TriggerDraft> {
    Ok(TriggerDraft {
        collection: Some(b.collection),
        ops: b.ops,
        ..draft(kind, &b.script_id, b.retry)?
    })
}

/// Run a script on every change to matching KV entries (`app_admin`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/triggers/kv", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = DataTriggerBody,
    responses((status = 201, body = TriggerView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 422, description = "a bad pattern, an unknown script, NOT_AN_ENDPOINT", body = Problems)))]
pub async fn create_kv(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(body): JsonBody<DataTriggerBody>,
) -> ApiResult<Response> {
    create(&services, &actor, &app, data_draft(TriggerKind::Kv, body)?).await
}

/// Run a script on every change to matching documents (`app_admin`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/triggers/docs", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = DataTriggerBody,
    responses((status = 201, body = TriggerView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 422, description = "a bad pattern, an unknown script, NOT_AN_ENDPOINT", body = Problems)))]
pub async fn create_docs(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(body): JsonBody<DataTriggerBody>,
) -> ApiResult<Response> {
    create(
        &services,
        &actor,
        &app,
        data_draft(TriggerKind::Docs, body)?,
    )
    .await
}

/// Run a script on every change to matching files (`app_admin`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/triggers/files", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = DataTriggerBody,
    responses((status = 201, body = TriggerView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 422, description = "a bad pattern, an unknown script, NOT_AN_ENDPOINT", body = Problems)))]
pub async fn create_files(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(body): JsonBody<DataTriggerBody>,
) -> ApiResult<Response> {
    create(
        &services,
        &actor,
        &app,
        data_draft(TriggerKind::Files, body)?,
    )
    .await
}

/// Run a script on a schedule (`app_admin`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/triggers/cron", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = CronTriggerBody,
    responses((status = 201, body = TriggerView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 422, description = "INVALID_SCHEDULE or INVALID_TIMEZONE with the reason", body = Problems)))]
pub async fn create_cron(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(b): JsonBody<CronTriggerBody>,
) -> ApiResult<Response> {
    let draft = TriggerDraft {
        schedule: Some(b.schedule),
        timezone: b.timezone,
        ..draft(TriggerKind::Cron, &b.script_id, b.retry)?
    };
    create(&services, &actor, &app, draft).await
}

/// Run a script on every message published to matching topics (`app_admin`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/triggers/pubsub", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = PubsubTriggerBody,
    responses((status = 201, body = TriggerView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 422, description = "INVALID_TOPIC (e.g. a wildcard mid-pattern)", body = Problems)))]
pub async fn create_pubsub(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(b): JsonBody<PubsubTriggerBody>,
) -> ApiResult<Response> {
    let draft = TriggerDraft {
        topic: Some(b.topic),
        ..draft(TriggerKind::Pubsub, &b.script_id, b.retry)?
    };
    create(&services, &actor, &app, draft).await
}

/// Run a script on every dead letter of the app's other triggers (`app_admin`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/triggers/dead_letter", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = DeadLetterTriggerBody,
    responses((status = 201, body = TriggerView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems)))]
pub async fn create_dead_letter(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(b): JsonBody<DeadLetterTriggerBody>,
) -> ApiResult<Response> {
    let draft = draft(TriggerKind::DeadLetter, &b.script_id, b.retry)?;
    create(&services, &actor, &app, draft).await
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct TriggersQuery {
    /// Only this kind.
    kind: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TriggersView {
    triggers: Vec<TriggerView>,
}

/// The app's triggers.
#[utoipa::path(get, path = "/api/v1/apps/{app}/triggers", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("kind" = Option<String>, Query, description = "kv, docs, files, cron, pubsub or dead_letter")),
    responses((status = 200, body = TriggersView)))]
pub async fn list(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(app): Path<String>,
    QueryParams(q): QueryParams<TriggersQuery>,
) -> ApiResult<Json<TriggersView>> {
    let kind = q
        .kind
        .as_deref()
        .map(|k| {
            TriggerKind::parse(k).ok_or_else(|| {
                ApiError::validation(vec![FieldError::new(
                    "kind",
                    "INVALID_PARAMETER",
                    "`kind` is one of kv, docs, files, cron, pubsub, dead_letter",
                )])
            })
        })
        .transpose()?;
    let list = triggers::list(services.store.as_ref(), &actor, &app, kind)
        .await
        .map_err(error)?;
    Ok(Json(TriggersView {
        triggers: list.into_iter().map(view).collect(),
    }))
}

fn trigger_id(raw: &str) -> ApiResult<TriggerId> {
    TriggerId::parse(raw).map_err(|_| ApiError::not_found("no such trigger"))
}

/// One trigger.
#[utoipa::path(get, path = "/api/v1/apps/{app}/triggers/{id}", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("id" = TriggerId, Path, description = "the trigger")),
    responses((status = 200, body = TriggerView)))]
pub async fn get(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path((app, id)): Path<(String, String)>,
) -> ApiResult<Json<TriggerView>> {
    let t = triggers::get(services.store.as_ref(), &actor, &app, &trigger_id(&id)?)
        .await
        .map_err(error)?;
    Ok(Json(view(t)))
}

/// Delete a trigger (`app_admin`).
#[utoipa::path(delete, path = "/api/v1/apps/{app}/triggers/{id}", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("id" = TriggerId, Path, description = "the trigger")),
    responses((status = 204, description = "deleted"),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems)))]
pub async fn delete(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path((app, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    triggers::delete(&services, &actor, &app, &trigger_id(&id)?)
        .await
        .map_err(error)?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ dead letters

#[derive(Serialize, ToSchema)]
pub struct DeadLetterView {
    id: DeadLetterId,
    trigger_id: TriggerId,
    trigger_kind: TriggerKind,
    script_id: ScriptId,
    /// The event the failed runs carried.
    event: Value,
    /// The last run's failure.
    error: String,
    attempts: u32,
    first_failure_at: String,
    last_failure_at: String,
    status: DeadLetterStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handler_error: Option<String>,
    replays: u32,
    created_at: String,
}

fn dl_view(d: DeadLetter) -> DeadLetterView {
    DeadLetterView {
        id: d.id,
        trigger_id: d.trigger_id,
        trigger_kind: d.trigger_kind,
        script_id: d.script_id,
        event: d.event,
        error: d.error,
        attempts: d.attempts,
        first_failure_at: rfc3339(d.first_failure_at),
        last_failure_at: rfc3339(d.last_failure_at),
        status: d.status,
        resolution: d.resolution,
        resolved_at: d.resolved_at.map(rfc3339),
        handler_error: d.handler_error,
        replays: d.replays,
        created_at: rfc3339(d.created_at),
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct DeadLettersQuery {
    /// Only the open ones (unresolved or handler_failed).
    unresolved: bool,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeadLettersPage {
    /// Newest first.
    dead_letters: Vec<DeadLetterView>,
    next_cursor: Option<String>,
}

/// The app's dead letters, newest first.
#[utoipa::path(get, path = "/api/v1/apps/{app}/dead-letters", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("unresolved" = Option<bool>, Query, description = "only the open ones"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "from the previous page")),
    responses((status = 200, body = DeadLettersPage)))]
pub async fn list_dead_letters(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(app): Path<String>,
    QueryParams(q): QueryParams<DeadLettersQuery>,
) -> ApiResult<Json<DeadLettersPage>> {
    let scope = format!("{app}#{}", if q.unresolved { "open" } else { "all" });
    let cursor_scope = CursorScope::new("dead-letters", actor.org_id.as_str()).within(&scope);
    let (list, next_cursor) = crate::paging::page(
        &services,
        cursor_scope,
        q.limit,
        q.cursor.as_deref(),
        |n, at| dead_letters::page(&services, &actor, &app, q.unresolved, n, at),
    )
    .await?;
    Ok(Json(DeadLettersPage {
        dead_letters: list.into_iter().map(dl_view).collect(),
        next_cursor,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DeadLetterCount {
    /// Open dead letters (unresolved or handler_failed).
    unresolved: i64,
}

/// How many of the app's dead letters are open.
#[utoipa::path(get, path = "/api/v1/apps/{app}/dead-letters/count", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    responses((status = 200, body = DeadLetterCount)))]
pub async fn count_dead_letters(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(app): Path<String>,
) -> ApiResult<Json<DeadLetterCount>> {
    let n = dead_letters::count(&services, &actor, &app)
        .await
        .map_err(error)?;
    Ok(Json(DeadLetterCount { unresolved: n }))
}

fn dl_id(raw: &str) -> ApiResult<DeadLetterId> {
    DeadLetterId::parse(raw).map_err(|_| ApiError::not_found("no such dead letter"))
}

/// One dead letter.
#[utoipa::path(get, path = "/api/v1/apps/{app}/dead-letters/{id}", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("id" = DeadLetterId, Path, description = "the dead letter")),
    responses((status = 200, body = DeadLetterView)))]
pub async fn get_dead_letter(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path((app, id)): Path<(String, String)>,
) -> ApiResult<Json<DeadLetterView>> {
    let d = dead_letters::get(&services, &actor, &app, &dl_id(&id)?)
        .await
        .map_err(error)?;
    Ok(Json(dl_view(d)))
}

#[derive(Serialize, ToSchema)]
pub struct Replayed {
    /// The id of the message that runs it again.
    message_id: String,
}

/// Run the dead letter's trigger again with its event (`app_admin`); a run that
/// succeeds resolves it.
#[utoipa::path(post, path = "/api/v1/apps/{app}/dead-letters/{id}/replay", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("id" = DeadLetterId, Path, description = "the dead letter")),
    responses((status = 202, body = Replayed),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems)))]
pub async fn replay_dead_letter(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path((app, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let message_id = dead_letters::replay(&services, &actor, &app, &dl_id(&id)?)
        .await
        .map_err(error)?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { message_id })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// Why it is closed (1 to 500 characters).
    reason: String,
}

/// Close a dead letter (`app_admin`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/dead-letters/{id}/resolve", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("id" = DeadLetterId, Path, description = "the dead letter")),
    request_body = ResolveBody,
    responses((status = 200, body = DeadLetterView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems)))]
pub async fn resolve_dead_letter(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path((app, id)): Path<(String, String)>,
    JsonBody(body): JsonBody<ResolveBody>,
) -> ApiResult<Json<DeadLetterView>> {
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid_field(
            "reason",
            "INVALID_REASON",
            "`reason` is 1 to 500 characters",
        ));
    }
    let d = dead_letters::resolve(&services, &actor, &app, &dl_id(&id)?, reason)
        .await
        .map_err(error)?;
    Ok(Json(dl_view(d)))
}
