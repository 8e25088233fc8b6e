//! The `licensing` function: licenses, activation, validation and floating seats
//! under `/api/v1/licenses`. Thin: parse and authenticate at the edge, then call
//! `crate::service` with the principal's org.
//!
//! Public routes (a license key is the credential, rate-limited per client IP):
//! `POST /validate`, `POST /activate`, `POST /deactivate`, `GET /{license_key}/status`,
//! `GET /public-key`.
//! Everything else needs a signed-in member of the license's org.

mod caller;
mod extract;
pub mod service;

pub use caller::Caller;
use extract::{ClientMeta, optional_json};
use skiff_http::json::JsonBody;

use crate::service::ListFilter;
use crate::service::{
    AcquireResponse, ActivateResponse, AuditView, HeartbeatResponse, KeyStatus, LicenseView,
    SessionView, ValidateResponse,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use skiff_core::Services;
use skiff_core::ids::{LicenseId, SeatSessionId};
use skiff_http::error::FieldError;
use skiff_http::extract::QueryParams;
use skiff_http::pagination::{CursorScope, PageRequest};
use skiff_http::{ApiError, ApiResult};
use skiff_licensing::model::Status;
use skiff_licensing::signing::PublicKeyInfo;
use utoipa::ToSchema;

const TAG: &str = "licenses";

type Problems = skiff_http::openapi::ProblemDetails;

skiff_http::endpoints!(
    Services;
    list,
    public_key,
    audit,
    validate,
    activate,
    deactivate,
    deactivate_machine,
    acquire,
    heartbeat,
    release,
    heartbeat_session,
    release_session,
    get_license,
    download,
    sessions,
    key_status,
);

/// This group's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// The licensing routes.
pub fn router() -> axum::Router<Services> {
    served()
}

/// Count one request of `subject` against `per_minute` (the shared store-backed
/// limiter: the same count in every container).
async fn limit(services: &Services, name: &str, subject: &str, per_minute: u32) -> ApiResult<()> {
    skiff_core::rate_limit::enforce(
        services.store.as_ref(),
        services.clock.as_ref(),
        name,
        subject,
        skiff_core::config::RateLimit {
            max: per_minute,
            window_secs: 60,
        },
    )
    .await?;
    Ok(())
}

/// Count a public key-based request against the per-IP limit.
async fn limit_public(services: &Services, meta: &ClientMeta) -> ApiResult<()> {
    limit(
        services,
        "license-public",
        meta.ip_subject(),
        skiff_licensing::settings(services).validate_per_min,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct ValidateBody {
    license_key: Option<String>,
    hardware_id: Option<String>,
}

/// Both required values, or a 422 naming every one that is missing.
fn required_pair(
    (a, a_name): (Option<String>, &str),
    (b, b_name): (Option<String>, &str),
) -> ApiResult<(String, String)> {
    match (a, b) {
        (Some(a), Some(b)) => Ok((a, b)),
        (a, b) => Err(ApiError::validation(
            [(a.is_none(), a_name), (b.is_none(), b_name)]
                .into_iter()
                .filter(|(missing, _)| *missing)
                .map(|(_, f)| FieldError::new(f, "REQUIRED", format!("`{f}` is required")))
                .collect(),
        )),
    }
}

fn required(value: Option<String>, field: &str) -> ApiResult<String> {
    value
        .ok_or_else(|| ApiError::invalid_field(field, "REQUIRED", format!("`{field}` is required")))
}

/// Validate a license key (public; 60/min per client IP). Always 200 for a
/// well-formed request, with a code.
#[utoipa::path(post, path = "/api/v1/licenses/validate", tag = TAG,
    request_body = ValidateBody,
    responses((status = 200, body = ValidateResponse),
        (status = 422, description = "malformed key or hardware id", body = Problems),
        (status = 429, description = "RATE_LIMITED", body = Problems)))]
async fn validate(
    State(services): State<Services>,
    meta: ClientMeta,
    JsonBody(body): JsonBody<ValidateBody>,
) -> ApiResult<Response> {
    limit_public(&services, &meta).await?;
    let key = required(body.license_key, "license_key")?;
    let answer = service::validate(&services, &key, body.hardware_id.as_deref()).await?;
    Ok(Json(answer).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct KeyMachineBody {
    license_key: Option<String>,
    hardware_id: Option<String>,
}

/// Bind a machine to a license (public, key-based; idempotent).
#[utoipa::path(post, path = "/api/v1/licenses/activate", tag = TAG,
    request_body = KeyMachineBody,
    responses((status = 201, description = "newly bound", body = ActivateResponse),
        (status = 200, description = "already bound", body = ActivateResponse),
        (status = 403, description = "SUSPENDED, EXPIRED or INACTIVE", body = Problems),
        (status = 404, body = Problems), (status = 422, body = Problems),
        (status = 429, body = Problems)))]
async fn activate(
    State(services): State<Services>,
    meta: ClientMeta,
    JsonBody(body): JsonBody<KeyMachineBody>,
) -> ApiResult<Response> {
    limit_public(&services, &meta).await?;
    let (key, hw) = required_pair(
        (body.license_key, "license_key"),
        (body.hardware_id, "hardware_id"),
    )?;
    let answer = service::activate(&services, &key, &hw, &meta.request_meta(None)).await?;
    let status = if answer.newly_activated {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer)).into_response())
}

/// Status of the license with this key (public, key-based).
#[utoipa::path(get, path = "/api/v1/licenses/{id}/status", tag = TAG,
    params(("id" = String, Path, description = "the license key")),
    responses((status = 200, body = KeyStatus), (status = 404, body = Problems),
        (status = 422, body = Problems), (status = 429, body = Problems)))]
async fn key_status(
    State(services): State<Services>,
    meta: ClientMeta,
    Path(key): Path<String>,
) -> ApiResult<Response> {
    limit_public(&services, &meta).await?;
    Ok(Json(service::status_by_key(&services, &key).await?).into_response())
}

/// The Ed25519 public key that verifies license files and seat tokens (public).
#[utoipa::path(get, path = "/api/v1/licenses/public-key", tag = TAG,
    responses((status = 200, body = PublicKeyInfo)))]
async fn public_key(State(services): State<Services>) -> ApiResult<Response> {
    let mut response = Json(service::public_key(&services).await?).into_response();
    // Public and stable: clients may cache it (it changes only on key rotation).
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// Take a floating seat for a machine (a verified user of the license's org).
#[utoipa::path(post, path = "/api/v1/licenses/acquire", tag = TAG, security(("bearer" = [])),
    request_body = KeyMachineBody,
    responses((status = 201, body = AcquireResponse),
        (status = 403, description = "SUSPENDED, EXPIRED, INACTIVE or EMAIL_NOT_VERIFIED", body = Problems),
        (status = 404, body = Problems),
        (status = 429, description = "SEATS_EXHAUSTED {seats_used, max_seats} or RATE_LIMITED", body = Problems)))]
async fn acquire(
    State(services): State<Services>,
    caller: Caller,
    meta: ClientMeta,
    JsonBody(body): JsonBody<KeyMachineBody>,
) -> ApiResult<Response> {
    caller.require_seat_user(&services).await?;
    let (key, hw) = required_pair(
        (body.license_key, "license_key"),
        (body.hardware_id, "hardware_id"),
    )?;
    let (key, hw) = (service::parse_key(&key)?, service::parse_hardware(&hw)?);
    limit(
        &services,
        "license-acquire",
        &format!("{}#{}", caller.subject(), hw.hash()),
        skiff_licensing::settings(&services).acquire_per_min,
    )
    .await?;
    let answer = service::acquire(
        &services,
        &caller.org_id,
        &key,
        &hw,
        &meta.request_meta(caller.user_id.clone()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
pub struct SessionBody {
    session_id: Option<String>,
    signed_token: Option<String>,
}

async fn do_heartbeat(
    services: &Services,
    caller: &Caller,
    session_id: &str,
    token: &str,
) -> ApiResult<Response> {
    caller.require_seat_user(services).await?;
    let session_id = SeatSessionId::parse(session_id).map_err(|_| service::invalid_seat_token())?;
    let claims = service::seat_claims(services, &caller.org_id, &session_id, token).await?;
    limit(
        services,
        "license-heartbeat",
        &format!("{}#{}", caller.subject(), claims.hw),
        skiff_licensing::settings(services).heartbeat_per_min,
    )
    .await?;
    let answer = service::heartbeat(services, &claims).await?;
    Ok(Json(answer).into_response())
}

/// Extend a seat session's lease by 360 s (every 300 s).
#[utoipa::path(post, path = "/api/v1/licenses/heartbeat", tag = TAG, security(("bearer" = [])),
    request_body = SessionBody,
    responses((status = 200, body = HeartbeatResponse),
        (status = 401, description = "INVALID_SEAT_TOKEN", body = Problems),
        (status = 410, description = "SESSION_EXPIRED", body = Problems),
        (status = 429, body = Problems)))]
async fn heartbeat(
    State(services): State<Services>,
    caller: Caller,
    JsonBody(body): JsonBody<SessionBody>,
) -> ApiResult<Response> {
    let (session_id, token) = required_pair(
        (body.session_id, "session_id"),
        (body.signed_token, "signed_token"),
    )?;
    do_heartbeat(&services, &caller, &session_id, &token).await
}

/// Extend a seat session's lease (token in the body or `X-Seat-Token`).
#[utoipa::path(patch, path = "/api/v1/licenses/sessions/{id}/heartbeat", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    request_body(content = SessionBody, description = "`signed_token`, unless sent in `X-Seat-Token`"),
    responses((status = 200, body = HeartbeatResponse), (status = 401, body = Problems),
        (status = 410, body = Problems)))]
async fn heartbeat_session(
    State(services): State<Services>,
    caller: Caller,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let token = seat_token(&headers, optional_json(&body)?)?;
    do_heartbeat(&services, &caller, &session_id, &token).await
}

async fn do_release(
    services: &Services,
    caller: &Caller,
    meta: &ClientMeta,
    session_id: &str,
    token: &str,
) -> ApiResult<Response> {
    caller.require_seat_user(services).await?;
    let session_id = SeatSessionId::parse(session_id).map_err(|_| service::invalid_seat_token())?;
    service::release(
        services,
        &caller.org_id,
        &session_id,
        token,
        &meta.request_meta(caller.user_id.clone()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// End a seat session (idempotent).
#[utoipa::path(post, path = "/api/v1/licenses/release", tag = TAG, security(("bearer" = [])),
    request_body = SessionBody,
    responses((status = 204, description = "released (or already)"),
        (status = 401, body = Problems)))]
async fn release(
    State(services): State<Services>,
    caller: Caller,
    meta: ClientMeta,
    JsonBody(body): JsonBody<SessionBody>,
) -> ApiResult<Response> {
    let (session_id, token) = required_pair(
        (body.session_id, "session_id"),
        (body.signed_token, "signed_token"),
    )?;
    do_release(&services, &caller, &meta, &session_id, &token).await
}

/// End a seat session (token in `X-Seat-Token` or the body; idempotent).
#[utoipa::path(delete, path = "/api/v1/licenses/sessions/{id}", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    request_body(content = SessionBody, description = "`signed_token`, unless sent in `X-Seat-Token`"),
    responses((status = 204, description = "released (or already)"), (status = 401, body = Problems)))]
async fn release_session(
    State(services): State<Services>,
    caller: Caller,
    meta: ClientMeta,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let token = seat_token(&headers, optional_json(&body)?)?;
    do_release(&services, &caller, &meta, &session_id, &token).await
}

/// Header that may carry a seat token on the path-based session routes.
pub const SEAT_TOKEN_HEADER: &str = "x-seat-token";

/// The seat token of a path-based session route: `X-Seat-Token` or the body's
/// `signed_token`.
fn seat_token(headers: &HeaderMap, body: Option<SessionBody>) -> ApiResult<String> {
    if let Some(v) = headers.get(SEAT_TOKEN_HEADER) {
        return v.to_str().map(str::to_owned).map_err(|_| {
            ApiError::bad_request("INVALID_SEAT_TOKEN", "the seat token header is not text")
        });
    }
    required(body.unwrap_or_default().signed_token, "signed_token")
}

/// `GET /licenses` answer.
#[derive(serde::Serialize, ToSchema)]
pub struct LicenseList {
    pub licenses: Vec<LicenseView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct ListParams {
    status: Option<String>,
    tier: Option<String>,
    expires_before: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// RFC 3339 or unix seconds.
fn parse_instant(raw: &str, field: &str) -> ApiResult<i64> {
    if let Ok(n) = raw.parse::<i64>() {
        return Ok(n);
    }
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            ApiError::invalid_field(
                field,
                "INVALID_TIMESTAMP",
                format!("`{field}` is an RFC 3339 date-time or unix seconds"),
            )
        })
}

/// The org's licenses, with seats used (live sessions) and remaining.
#[utoipa::path(get, path = "/api/v1/licenses", tag = TAG, security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "active, suspended, inactive, expired"),
        ("tier" = Option<String>, Query),
        ("expires_before" = Option<String>, Query, description = "RFC 3339 or unix seconds"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = LicenseList),
        (status = 400, description = "INVALID_CURSOR", body = Problems),
        (status = 401, body = Problems), (status = 403, body = Problems),
        (status = 422, body = Problems)))]
async fn list(
    State(services): State<Services>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Response> {
    caller.require_read()?;
    let mut pager = PageRequest::open(
        services.secrets.as_ref(),
        CursorScope::new("licenses", caller.org_id.as_str()),
        params.limit,
        params.cursor.as_deref(),
    )
    .await?;
    let status = params
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "INVALID_STATUS",
                    "`status` is one of active, suspended, inactive, expired",
                )
            })
        })
        .transpose()?;
    let filter = ListFilter {
        status,
        tier: params.tier,
        expires_before: params
            .expires_before
            .as_deref()
            .map(|r| parse_instant(r, "expires_before"))
            .transpose()?,
    };
    let (licenses, next) = service::list(
        &services,
        &caller.org_id,
        &filter,
        pager.limit,
        pager.position.take(),
    )
    .await?;
    Ok(Json(LicenseList {
        licenses,
        next_cursor: pager.next_cursor(next.as_deref()),
    })
    .into_response())
}

/// One license of the org.
#[utoipa::path(get, path = "/api/v1/licenses/{id}", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = LicenseView), (status = 404, body = Problems)))]
async fn get_license(
    State(services): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require_read()?;
    let id = service::license_id(&id)?;
    Ok(Json(service::get(&services, &caller.org_id, &id).await?).into_response())
}

/// The signed license file (`text/plain`, armored; see the README).
#[utoipa::path(get, path = "/api/v1/licenses/{id}/download", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = Problems)))]
async fn download(
    State(services): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require_read()?;
    let id = service::license_id(&id)?;
    let (name, file) = service::download(&services, &caller.org_id, &id).await?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(ApiError::internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        file,
    )
        .into_response())
}

#[derive(Deserialize)]
struct PageParams {
    limit: Option<usize>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct AuditParams {
    license_id: Option<LicenseId>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `GET /licenses/{id}/sessions` answer.
#[derive(serde::Serialize, ToSchema)]
pub struct SessionsPage {
    /// Live sessions on this page, newest first.
    pub active: Vec<SessionView>,
    /// Ended sessions (and expired ones not yet reclaimed) on this page.
    pub past: Vec<SessionView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// `GET /licenses/audit` answer.
#[derive(serde::Serialize, ToSchema)]
pub struct AuditLog {
    pub entries: Vec<AuditView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// A license's seat sessions, a page at a time: the seats first (live ones in
/// `active`), then the ended sessions, newest first.
#[utoipa::path(get, path = "/api/v1/licenses/{id}/sessions", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = SessionsPage),
        (status = 400, description = "INVALID_CURSOR", body = Problems),
        (status = 401, body = Problems), (status = 403, body = Problems),
        (status = 404, body = Problems), (status = 422, body = Problems)))]
async fn sessions(
    State(services): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Response> {
    caller.require_read()?;
    let id = service::license_id(&id)?;
    let mut pager = PageRequest::open(
        services.secrets.as_ref(),
        CursorScope::new("license-sessions", caller.org_id.as_str()).within(id.as_str()),
        page.limit,
        page.cursor.as_deref(),
    )
    .await?;
    let (view, next) = service::sessions(
        &services,
        &caller.org_id,
        &id,
        pager.limit,
        pager.position.take(),
    )
    .await?;
    Ok(Json(SessionsPage {
        active: view.active,
        past: view.past,
        next_cursor: pager.next_cursor(next.as_deref()),
    })
    .into_response())
}

/// The org's licensing audit log, newest first (owners and admins), a page at a
/// time; with `license_id`, that license's entries only.
#[utoipa::path(get, path = "/api/v1/licenses/audit", tag = TAG, security(("bearer" = [])),
    params(("license_id" = Option<String>, Query),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = AuditLog),
        (status = 400, description = "INVALID_CURSOR", body = Problems),
        (status = 401, body = Problems), (status = 403, body = Problems),
        (status = 422, body = Problems)))]
async fn audit(
    State(services): State<Services>,
    caller: Caller,
    QueryParams(page): QueryParams<AuditParams>,
) -> ApiResult<Response> {
    caller.require_admin(&services).await?;
    let license = page.license_id.as_ref().map_or("", LicenseId::as_str);
    let mut pager = PageRequest::open(
        services.secrets.as_ref(),
        CursorScope::new("license-audit", caller.org_id.as_str()).within(license),
        page.limit,
        page.cursor.as_deref(),
    )
    .await?;
    let (log, next) = service::audit_log(
        &services,
        &caller.org_id,
        page.license_id.as_ref(),
        pager.limit,
        pager.position.take(),
    )
    .await?;
    Ok(Json(AuditLog {
        entries: log.entries,
        next_cursor: pager.next_cursor(next.as_deref()),
    })
    .into_response())
}

/// Unbind a machine from its license, from the machine itself (public, key-based,
/// rate-limited like validate; idempotent). Its seat session, if any, ends, and a
/// new machine can activate in its place.
#[utoipa::path(post, path = "/api/v1/licenses/deactivate", tag = TAG,
    request_body = KeyMachineBody,
    responses((status = 204, description = "unbound (or was not bound)"),
        (status = 404, description = "no license with this key", body = Problems),
        (status = 422, description = "malformed key or hardware id", body = Problems),
        (status = 429, description = "RATE_LIMITED", body = Problems)))]
async fn deactivate(
    State(services): State<Services>,
    meta: ClientMeta,
    JsonBody(body): JsonBody<KeyMachineBody>,
) -> ApiResult<Response> {
    limit_public(&services, &meta).await?;
    let key = required(body.license_key, "license_key")?;
    let hw = required(body.hardware_id, "hardware_id")?;
    service::deactivate_by_key(&services, &key, &hw, &meta.request_meta(None)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Unbind a machine from one of the org's licenses (owners and admins; idempotent):
/// its seat session, if any, ends and its seat is free; audited as
/// `MACHINE_DEACTIVATED`.
#[utoipa::path(delete, path = "/api/v1/licenses/{id}/machines/{hardware_id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "license id"),
        ("hardware_id" = String, Path, description = "the machine's hardware id (percent-encoded)")),
    responses((status = 204, description = "unbound (or was not bound)"),
        (status = 403, description = "INSUFFICIENT_ROLE", body = Problems),
        (status = 404, description = "no such license in the org", body = Problems),
        (status = 422, description = "malformed hardware id", body = Problems)))]
async fn deactivate_machine(
    State(services): State<Services>,
    caller: Caller,
    meta: ClientMeta,
    Path((id, hardware_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require_admin(&services).await?;
    caller.principal.require_scope(caller::WRITE)?;
    service::deactivate_machine(
        &services,
        &caller.org_id,
        &service::license_id(&id)?,
        &hardware_id,
        &meta.request_meta(caller.user_id.clone()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The `licensing` Lambda's whole HTTP surface: health and the group's routes. Not
/// write-locked: seat operations obey the license's status.
pub fn app(services: Services) -> axum::Router {
    skiff_http::lambda_app(router(), services)
}
