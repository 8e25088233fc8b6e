//! `/api/v1/exports`: the org's whole data as a `.tar.gz`, for its owners and
//! admins, in every service mode (a locked org can always take its data).

use crate::{Problems, TAG_EXPORTS, problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use skiff_core::Services;
use skiff_core::clock::rfc3339;
use skiff_core::ids::ExportId;
use skiff_http::principal::{CurrentMember, Principal};
use skiff_http::{ApiError, ApiResult};
use skiff_identity::Role;
use skiff_storage::exports::{self, Export};
use skiff_storage::records::Ports;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportQueued {
    export_id: ExportId,
    /// `queued`.
    status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportStatus {
    id: ExportId,
    /// `queued`, `running`, `complete` or `failed`.
    status: String,
    /// 0 to 1.
    progress: f64,
    /// Bytes of the archive, once complete.
    size: Option<u64>,
    /// SHA-256 of the archive, once complete.
    sha256: Option<String>,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339: the archive can be downloaded until then.
    expires_at: Option<String>,
}

fn admin(principal: &Principal, scope: &str) -> ApiResult<()> {
    principal.require_scope(scope)?;
    principal.require_role(Role::Admin)
}

fn export_id(raw: &str) -> ApiResult<ExportId> {
    ExportId::parse(raw).map_err(|_| ApiError::not_found("export not found"))
}

fn view(e: &Export) -> ExportStatus {
    ExportStatus {
        id: e.id.clone(),
        status: e.status.as_str().to_owned(),
        progress: e.progress(skiff_app::org_data().len()),
        size: e.size,
        sha256: e.sha256.clone(),
        created_at: rfc3339(e.created_at),
        expires_at: e.expires_at.map(rfc3339),
    }
}

/// Start an export of the caller's org (owner or admin); a job builds it.
#[utoipa::path(
    post,
    path = "/api/v1/exports",
    tag = TAG_EXPORTS,
    security(("bearer" = [])),
    responses(
        (status = 202, body = ExportQueued),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 404, description = "the org is being deleted", body = Problems),
    )
)]
pub async fn create(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
) -> ApiResult<(StatusCode, Json<ExportQueued>)> {
    admin(&principal, "org:write")?;
    if skiff_identity::erasure::is_erased(services.store.as_ref(), &principal.org_id).await? {
        return Err(ApiError::not_found("organization not found"));
    }
    let export = exports::request(&services, &principal.org_id, &principal.acting_user)
        .await
        .map_err(|e| problem(&services, e))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ExportQueued {
            export_id: export.id,
            status: export.status.as_str().to_owned(),
        }),
    ))
}

/// Where an export stands.
#[utoipa::path(
    get,
    path = "/api/v1/exports/{id}",
    tag = TAG_EXPORTS,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the export's id")),
    responses(
        (status = 200, body = ExportStatus),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 404, body = Problems),
    )
)]
pub async fn status(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    Path(id): Path<String>,
) -> ApiResult<Json<ExportStatus>> {
    admin(&principal, "org:read")?;
    let id = export_id(&id)?;
    let export = exports::get(
        services.store.as_ref(),
        &principal.org_id,
        &id,
        services.clock.unix(),
    )
    .await
    .map_err(|e| problem(&services, e))?;
    Ok(Json(view(&export)))
}

/// Download a complete export: 302 to a signed URL of the archive; 409
/// `EXPORT_NOT_READY` before it is complete.
#[utoipa::path(
    get,
    path = "/api/v1/exports/{id}/download",
    tag = TAG_EXPORTS,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the export's id")),
    responses(
        (status = 302, description = "`Location`: a signed URL of the .tar.gz"),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 404, body = Problems),
        (status = 409, description = "EXPORT_NOT_READY", body = Problems),
    )
)]
pub async fn download(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    admin(&principal, "org:write")?;
    let id = export_id(&id)?;
    let ttl = skiff_storage::settings(&services).download_url_ttl;
    let url = exports::download_url(
        Ports::of(&services),
        services.exports.as_ref(),
        &principal.org_id,
        &id,
        ttl,
    )
    .await
    .map_err(|e| problem(&services, e))?;
    let location = HeaderValue::from_str(&url.url).map_err(ApiError::internal)?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}
