//! `/api/v1/backup`: the user's encrypted snapshots, streamed in and out; large
//! ones arrive through a signed upload (`/api/v1/backup/uploads`, then
//! `/api/v1/backup/{id}/commit`).

use crate::{
    BACKUP_UPLOAD_ROUTE, MAX_BACKUP_PUT_BYTES, Problems, SignedUploadBody, TAG_BACKUPS,
    entity_tags, field, owner, plan_limits, problem, too_large, upload_size,
};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::clock::rfc3339;
use skiff_core::ids::BackupId;
use skiff_core::ports::blobs::{BlobError, ByteStream};
use skiff_http::error::FieldError;
use skiff_http::json::JsonBody;
use skiff_http::principal::Principal;
use skiff_http::{ApiError, ApiResult};
use skiff_storage::backups::{self, Backup, BackupVersion, NewBackup};
use skiff_storage::records::Ports;
use skiff_storage::{Checksum, StorageError};
use std::time::{Duration, UNIX_EPOCH};
use utoipa::ToSchema;

pub const VERSION_HEADER: &str = "x-backup-version";
pub const TIMESTAMP_HEADER: &str = "x-backup-timestamp";
pub const CHECKSUM_HEADER: &str = "x-backup-checksum";

#[derive(Debug, Serialize, ToSchema)]
pub struct BackupCreated {
    id: BackupId,
    size: u64,
    checksum: String,
    /// RFC 3339.
    created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackupMeta {
    id: BackupId,
    version: String,
    /// The client's timestamp, unix milliseconds.
    timestamp: i64,
    checksum: String,
    size: u64,
    /// RFC 3339.
    created_at: String,
}

impl From<&Backup> for BackupMeta {
    fn from(b: &Backup) -> Self {
        Self {
            id: b.id.clone(),
            version: b.version.as_str().to_owned(),
            timestamp: b.timestamp,
            checksum: b.checksum.to_string(),
            size: b.size,
            created_at: rfc3339(b.created_at),
        }
    }
}

/// The client's timestamp: unix milliseconds, a whole number ≥ 0.
fn timestamp(raw: Option<i64>, name: &str) -> Result<i64, StorageError> {
    raw.filter(|t| *t >= 0).ok_or_else(|| {
        StorageError::invalid(
            name,
            "INVALID_TIMESTAMP",
            format!("`{name}` must be unix milliseconds (a whole number ≥ 0)"),
        )
    })
}

/// The body's length from `Content-Length`, if it is a number.
fn content_length(headers: &HeaderMap) -> Option<Result<u64, ()>> {
    headers.get(header::CONTENT_LENGTH).map(|v| {
        v.to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or(())
    })
}

/// The three headers and the length, every bad one named at once.
fn announced(headers: &HeaderMap) -> ApiResult<NewBackup> {
    let mut errors = vec![];
    let mut header_of = |name: &str| {
        let value = headers
            .get(name.to_ascii_lowercase())
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        if value.is_none() {
            errors.push(FieldError::new(
                name,
                "MISSING_HEADER",
                format!("the `{name}` header is required"),
            ));
        }
        value
    };
    let (version, stamp, checksum) = (
        header_of("X-Backup-Version"),
        header_of("X-Backup-Timestamp"),
        header_of("X-Backup-Checksum"),
    );
    let version =
        version.and_then(|v| field(&mut errors, BackupVersion::parse(v, "X-Backup-Version")));
    let stamp =
        stamp.and_then(|t| field(&mut errors, timestamp(t.parse().ok(), "X-Backup-Timestamp")));
    let checksum =
        checksum.and_then(|c| field(&mut errors, Checksum::parse(c, "X-Backup-Checksum")));
    let size = match content_length(headers) {
        Some(Ok(n)) if n > 0 => Some(n),
        Some(Ok(_)) => {
            errors.push(FieldError::new("body", "EMPTY", "a backup cannot be empty"));
            None
        }
        _ => {
            errors.push(FieldError::new(
                "Content-Length",
                "MISSING_HEADER",
                "send the backup with its `Content-Length`",
            ));
            None
        }
    };
    match (version, stamp, checksum, size) {
        (Some(version), Some(timestamp), Some(checksum), Some(size)) if errors.is_empty() => {
            Ok(NewBackup {
                version,
                timestamp,
                checksum,
                size,
            })
        }
        _ => Err(ApiError::validation(errors)),
    }
}

/// Store a backup: the raw body, streamed (never held whole), with
/// `X-Backup-Version`, `X-Backup-Timestamp` (unix ms) and `X-Backup-Checksum`
/// (hex SHA-256 of the body). A body that does not match the checksum stores
/// nothing. Older backups beyond the retention go. Bodies over 4 MiB go through
/// `POST /api/v1/backup/uploads` instead.
#[utoipa::path(
    put,
    path = "/api/v1/backup",
    tag = TAG_BACKUPS,
    security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    params(
        ("X-Backup-Version" = String, Header, description = "the client's version label, 1-64 printable characters"),
        ("X-Backup-Timestamp" = i64, Header, description = "unix milliseconds"),
        ("X-Backup-Checksum" = String, Header, description = "lowercase hex SHA-256 of the body"),
    ),
    responses(
        (status = 201, body = BackupCreated),
        (status = 400, description = "CHECKSUM_MISMATCH or SIZE_MISMATCH: nothing was stored", body = Problems),
        (status = 401, body = Problems),
        (status = 403, description = "FEATURE_NOT_IN_PLAN or QUOTA_EXCEEDED", body = Problems),
        (status = 413, description = "over 4 MiB: use the upload route", body = Problems),
        (status = 422, body = Problems),
        (status = 423, body = Problems),
    )
)]
pub async fn put(
    State(services): State<Services>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<BackupCreated>)> {
    let owner = owner(&principal, "storage:write")?;
    let limits = plan_limits(&services, &owner).await?;
    backups::require_backups(&limits).map_err(|e| problem(&services, e))?;
    if let Some(Ok(n)) = content_length(&headers)
        && n > MAX_BACKUP_PUT_BYTES
    {
        return Err(too_large(
            "Backup bodies",
            MAX_BACKUP_PUT_BYTES,
            BACKUP_UPLOAD_ROUTE,
        ));
    }
    let new = announced(&headers)?;
    let stream: ByteStream = Box::pin(
        body.into_data_stream()
            .map(|chunk| chunk.map_err(|e| BlobError::Body(e.to_string()))),
    );
    let retention = skiff_storage::settings(&services).backup_retention;
    let backup = backups::put(
        Ports::of(&services),
        &owner,
        &limits,
        retention,
        new,
        stream,
    )
    .await
    .map_err(|e| problem(&services, e))?;
    Ok((
        StatusCode::CREATED,
        Json(BackupCreated {
            id: backup.id,
            size: backup.size,
            checksum: backup.checksum.to_string(),
            created_at: rfc3339(backup.created_at),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupUploadRequest {
    /// Exact size in bytes of what will be uploaded.
    size: u64,
    /// Lowercase hex SHA-256 of what will be uploaded.
    checksum: String,
    /// The client's version label, 1-64 printable characters.
    version: String,
    /// The client's timestamp of the snapshot, unix milliseconds.
    timestamp: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackupUploadStarted {
    backup_id: BackupId,
    #[serde(flatten)]
    upload: SignedUploadBody,
}

/// Start a large backup's upload: the bytes go straight to the blob store through
/// the signed URL (with the headers given: the store refuses other bytes), then
/// `POST /api/v1/backup/{id}/commit` makes the backup visible. Its bytes count
/// against the plan from now on; an upload never committed is swept and its
/// bytes released.
#[utoipa::path(
    post,
    path = "/api/v1/backup/uploads",
    tag = TAG_BACKUPS,
    security(("bearer" = [])),
    request_body = BackupUploadRequest,
    responses(
        (status = 201, body = BackupUploadStarted),
        (status = 401, body = Problems),
        (status = 403, description = "FEATURE_NOT_IN_PLAN or QUOTA_EXCEEDED", body = Problems),
        (status = 415, body = Problems),
        (status = 422, body = Problems),
        (status = 423, body = Problems),
    )
)]
pub async fn upload(
    State(services): State<Services>,
    principal: Principal,
    JsonBody(body): JsonBody<BackupUploadRequest>,
) -> ApiResult<(StatusCode, Json<BackupUploadStarted>)> {
    let owner = owner(&principal, "storage:write")?;
    let limits = plan_limits(&services, &owner).await?;
    backups::require_backups(&limits).map_err(|e| problem(&services, e))?;
    let mut errors = vec![];
    let checksum = field(&mut errors, Checksum::parse(&body.checksum, "checksum"));
    let version = field(&mut errors, BackupVersion::parse(&body.version, "version"));
    let stamp = field(&mut errors, timestamp(Some(body.timestamp), "timestamp"));
    errors.extend(upload_size(&services, body.size));
    let (Some(checksum), Some(version), Some(timestamp), true) =
        (checksum, version, stamp, errors.is_empty())
    else {
        return Err(ApiError::validation(errors));
    };
    let new = NewBackup {
        version,
        timestamp,
        checksum,
        size: body.size,
    };
    let ttl = skiff_storage::settings(&services).upload_url_ttl;
    let up = backups::upload(Ports::of(&services), &owner, &limits, new, ttl)
        .await
        .map_err(|e| problem(&services, e))?;
    Ok((
        StatusCode::CREATED,
        Json(BackupUploadStarted {
            backup_id: up.backup.id,
            upload: up.signed.into(),
        }),
    ))
}

/// Confirm a backup's upload: the stored object must have the announced size and
/// SHA-256, and the plan must still hold it; then it is the newest backup and the
/// retention applies.
#[utoipa::path(
    post,
    path = "/api/v1/backup/{id}/commit",
    tag = TAG_BACKUPS,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the backup id the upload returned")),
    responses(
        (status = 200, body = BackupMeta),
        (status = 400, description = "CHECKSUM_MISMATCH or SIZE_MISMATCH: the object was discarded", body = Problems),
        (status = 401, body = Problems),
        (status = 403, description = "FEATURE_NOT_IN_PLAN or QUOTA_EXCEEDED: the upload was given up", body = Problems),
        (status = 404, body = Problems),
        (status = 409, description = "UPLOAD_INCOMPLETE: nothing uploaded yet", body = Problems),
        (status = 423, body = Problems),
    )
)]
pub async fn commit(
    State(services): State<Services>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<BackupMeta>> {
    let owner = owner(&principal, "storage:write")?;
    let id = backup_id(&id)?;
    let limits = plan_limits(&services, &owner).await?;
    let retention = skiff_storage::settings(&services).backup_retention;
    let backup = backups::commit(Ports::of(&services), &owner, &limits, retention, &id)
        .await
        .map_err(|e| problem(&services, e))?;
    Ok(Json(BackupMeta::from(&backup)))
}

/// A backup id from the path; anything else names no backup.
fn backup_id(raw: &str) -> ApiResult<BackupId> {
    BackupId::parse(raw).map_err(|_| ApiError::not_found("backup not found"))
}

fn http_date(unix: i64) -> HeaderValue {
    let at = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    HeaderValue::from_str(&httpdate::fmt_http_date(at))
        .expect("an HTTP date is a valid header value")
}

/// The newest backup: its bytes with `X-Backup-Version`, `X-Backup-Timestamp`,
/// `X-Backup-Checksum`, `ETag` and `Last-Modified`; `If-None-Match` or
/// `If-Modified-Since` answer 304 when it has not changed.
#[utoipa::path(
    get,
    path = "/api/v1/backup",
    tag = TAG_BACKUPS,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the newest backup's bytes", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 304, description = "not modified"),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 404, description = "no backup yet", body = Problems),
    )
)]
pub async fn latest(
    State(services): State<Services>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let owner = owner(&principal, "storage:read")?;
    let newest = backups::latest(services.store.as_ref(), &owner)
        .await
        .map_err(|e| problem(&services, e))?
        .ok_or_else(|| ApiError::not_found("no backup yet"))?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", newest.checksum)).expect("hex");
    let unchanged = match entity_tags(&headers, header::IF_NONE_MATCH) {
        Some(tags) => tags
            .iter()
            .any(|t| t == "*" || newest.checksum.same_as_hex(t)),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .is_some_and(|since| newest.created_at <= since.as_secs() as i64),
    };
    if unchanged {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::ETAG, etag);
        return Ok(response);
    }
    let (backup, reader) = backups::open_latest(Ports::of(&services), &owner)
        .await
        .map_err(|e| problem(&services, e))?;
    let body = Body::from_stream(
        reader
            .body
            .map(|c| c.map_err(|e| std::io::Error::other(e.to_string()))),
    );
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(backup.size));
    h.insert(
        VERSION_HEADER,
        HeaderValue::from_str(backup.version.as_str()).expect("printable ASCII"),
    );
    h.insert(TIMESTAMP_HEADER, HeaderValue::from(backup.timestamp));
    h.insert(
        CHECKSUM_HEADER,
        HeaderValue::from_str(backup.checksum.as_str()).expect("hex"),
    );
    h.insert(header::ETAG, etag);
    h.insert(header::LAST_MODIFIED, http_date(backup.created_at));
    Ok(response)
}

/// The user's backups, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/backup/history",
    tag = TAG_BACKUPS,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<BackupMeta>),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
    )
)]
pub async fn history(
    State(services): State<Services>,
    principal: Principal,
) -> ApiResult<Json<Vec<BackupMeta>>> {
    let owner = owner(&principal, "storage:read")?;
    let all = backups::history(services.store.as_ref(), &owner)
        .await
        .map_err(|e| problem(&services, e))?;
    Ok(Json(all.iter().map(BackupMeta::from).collect()))
}

/// Delete one backup (idempotent).
#[utoipa::path(
    delete,
    path = "/api/v1/backup/{id}",
    tag = TAG_BACKUPS,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the backup's id")),
    responses(
        (status = 204, description = "deleted (or already gone)"),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 404, description = "not a backup id", body = Problems),
    )
)]
pub async fn delete(
    State(services): State<Services>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let owner = owner(&principal, "storage:write")?;
    let id = backup_id(&id)?;
    backups::delete(Ports::of(&services), &owner, &id)
        .await
        .map_err(|e| problem(&services, e))?;
    Ok(StatusCode::NO_CONTENT)
}
