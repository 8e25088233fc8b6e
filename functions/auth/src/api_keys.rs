//! API keys: created by an org's owners and admins, shown once, listed without
//! secrets, deleted by id. A key acts for its org with at most its scopes and its
//! creator's current role, until it expires (if given an expiry) or is deleted.

use crate::common::{Checks, rfc3339};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_http::error::FieldError;
use skiff_http::extract::QueryParams;
use skiff_http::json::JsonBody;
use skiff_http::pagination::{CursorScope, PageRequest};
use skiff_http::principal::{CurrentMember, Principal};
use skiff_http::{ApiError, ApiResult};
use skiff_identity::api_keys::{self, ApiKey};
use skiff_identity::names::Name;
use skiff_identity::roles::KNOWN_SCOPES;
use skiff_identity::{ApiKeyId, Role, Scopes};
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateKeyRequest {
    name: String,
    /// At least one of the known scopes (e.g. `org:read`, `members:read`).
    scopes: Vec<String>,
    /// RFC 3339, in the future: the key is refused (401 `API_KEY_EXPIRED`) from then
    /// on. Absent: the key never expires.
    expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyResponse {
    id: ApiKeyId,
    name: String,
    /// Recognisable, not secret (`sk_live_<12 hex>`).
    prefix: String,
    scopes: Vec<String>,
    role: Role,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339; absent when the key never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    /// RFC 3339, to the minute; absent until the key is first used.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_used_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKeyResponse {
    #[serde(flatten)]
    key: KeyResponse,
    /// The key itself, shown this once only.
    secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeysResponse {
    api_keys: Vec<KeyResponse>,
    /// Pass as `cursor` for the next page; absent on the last one.
    next_cursor: Option<String>,
}

fn key_response(k: ApiKey) -> KeyResponse {
    KeyResponse {
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        scopes: k.scopes,
        role: k.role,
        created_at: rfc3339(k.created_at),
        expires_at: k.expires_at.map(rfc3339),
        last_used_at: k.last_used_at.map(rfc3339),
    }
}

/// Managing keys needs a person with the admin role (never another key).
fn manager(principal: &Principal) -> ApiResult<&skiff_identity::UserId> {
    let user = principal.require_user()?;
    principal.require_role(Role::Admin)?;
    Ok(user)
}

/// An RFC 3339 instant after `now`, as unix seconds.
fn parse_expiry(raw: &str, now: i64) -> Result<i64, FieldError> {
    let at =
        time::OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                FieldError::new(
                    "expires_at",
                    "INVALID_TIMESTAMP",
                    "expires_at must be an RFC 3339 timestamp, e.g. 2030-01-01T00:00:00Z",
                )
            })?
            .unix_timestamp();
    if at <= now {
        return Err(FieldError::new(
            "expires_at",
            "EXPIRY_IN_PAST",
            "expires_at must be in the future",
        ));
    }
    Ok(at)
}

/// Create an API key; the answer carries the key once.
#[utoipa::path(
    post,
    path = "/api/v1/auth/api-keys",
    tag = crate::TAG_KEYS,
    security(("bearer" = [])),
    request_body = CreateKeyRequest,
    responses(
        (status = 201, body = CreatedKeyResponse),
        (status = 403, body = skiff_http::openapi::ProblemDetails),
        (status = 422, body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn create(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    JsonBody(body): JsonBody<CreateKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedKeyResponse>)> {
    let user = manager(&principal)?;
    let mut checks = Checks::new();
    let name = checks.check(Name::parse(&body.name, "name"));
    let scopes = match Scopes::parse_list(body.scopes.iter().map(String::as_str)) {
        Ok(_) if body.scopes.is_empty() => {
            checks.push(FieldError::new(
                "scopes",
                "REQUIRED",
                "at least one scope is required",
            ));
            None
        }
        Ok(s) => Some(s),
        Err(unknown) => {
            checks.push(FieldError::new(
                "scopes",
                "UNKNOWN_SCOPE",
                format!(
                    "unknown scopes {unknown:?}; known: {}",
                    KNOWN_SCOPES.join(", ")
                ),
            ));
            None
        }
    };
    let now = services.clock.unix();
    let expires_at = body
        .expires_at
        .as_deref()
        .and_then(|raw| checks.check(parse_expiry(raw, now)));
    checks.finish()?;
    let scopes = scopes.expect("checked");
    // A suspended account's access token outlives its sessions by minutes; it
    // must not mint a credential that would outlive the suspension.
    if let Some(account) = skiff_identity::users::get(services.store.as_ref(), user).await? {
        crate::sessions::refuse_suspended(&account)?;
    }
    let (key, secret) = api_keys::create(
        services.store.as_ref(),
        now,
        api_keys::NewKey {
            org: &principal.org_id,
            created_by: user,
            name: name.expect("checked").as_str(),
            scopes: &scopes,
            role: principal.role,
            expires_at,
        },
    )
    .await?;
    tracing::info!(org = %principal.org_id, key = %key.id, "API key created");
    skiff_identity::audit::record(
        services.store.as_ref(),
        services.clock.as_ref(),
        Some(user),
        "API_KEY_CREATED",
        Some(&principal.org_id),
        key.id.as_str(),
        serde_json::json!({ "name": key.name, "role": key.role, "scopes": key.scopes }),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKeyResponse {
            key: key_response(key),
            secret,
        }),
    ))
}

/// The organization's API keys (no secrets).
#[utoipa::path(
    get,
    path = "/api/v1/auth/api-keys",
    tag = crate::TAG_KEYS,
    security(("bearer" = [])),
    params(
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, body = KeysResponse),
        (status = 400, description = "INVALID_CURSOR", body = skiff_http::openapi::ProblemDetails),
        (status = 401, body = skiff_http::openapi::ProblemDetails),
        (status = 403, body = skiff_http::openapi::ProblemDetails),
        (status = 422, body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn list(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    QueryParams(page): QueryParams<crate::orgs::PageQuery>,
) -> ApiResult<Json<KeysResponse>> {
    manager(&principal)?;
    let mut pager = PageRequest::open(
        services.secrets.as_ref(),
        CursorScope::new("api-keys", principal.org_id.as_str()),
        page.limit,
        page.cursor.as_deref(),
    )
    .await?;
    let (keys, next) = api_keys::page(
        services.store.as_ref(),
        &principal.org_id,
        pager.limit,
        pager.position.take(),
    )
    .await?;
    Ok(Json(KeysResponse {
        api_keys: keys.into_iter().map(key_response).collect(),
        next_cursor: pager.next_cursor(next.as_deref()),
    }))
}

/// Delete one of the organization's API keys; it stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/api-keys/{id}",
    tag = crate::TAG_KEYS,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The key's id (`key_…`)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such key in this organization", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn delete(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    manager(&principal)?;
    let not_found = || ApiError::not_found("API key not found");
    let id = ApiKeyId::parse(&id).map_err(|_| not_found())?;
    if api_keys::delete(services.store.as_ref(), &principal.org_id, &id).await? {
        tracing::info!(org = %principal.org_id, key = %id, "API key deleted");
        skiff_identity::audit::record(
            services.store.as_ref(),
            services.clock.as_ref(),
            principal.user_id.as_ref(),
            "API_KEY_DELETED",
            Some(&principal.org_id),
            id.as_str(),
            serde_json::Value::Null,
        )
        .await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}
