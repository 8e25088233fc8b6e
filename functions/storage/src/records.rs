//! `/api/v1/storage/records` and `/api/v1/storage/uploads`.

use crate::{
    Problems, SignedUploadBody, TAG_RECORDS, entity_tags, field, json_body, owner, plan_limits,
    problem, upload_size,
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
use skiff_core::ids::RecordId;
use skiff_http::extract::QueryParams;
use skiff_http::json::JsonBody;
use skiff_http::pagination::{CursorScope, PageRequest};
use skiff_http::principal::Principal;
use skiff_http::{ApiError, ApiResult};
use skiff_storage::model::{decode_blob, verified};
use skiff_storage::records::{self, Ports, Record};
use skiff_storage::{Checksum, StorageError, TableName};
use utoipa::ToSchema;

/// Header carrying a record's SHA-256 (hex) on downloads.
pub const CHECKSUM_HEADER: &str = "x-checksum";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// `[a-z0-9_-]{1,64}`.
    table: String,
    /// Base64 of the ciphertext.
    blob: String,
    /// Lowercase hex SHA-256 of the decoded bytes.
    checksum: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordCreated {
    id: RecordId,
    table: String,
    size: u64,
    checksum: String,
    /// RFC 3339.
    created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordMeta {
    id: RecordId,
    table: String,
    size: u64,
    checksum: String,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339.
    updated_at: String,
}

impl From<&Record> for RecordMeta {
    fn from(r: &Record) -> Self {
        Self {
            id: r.id.clone(),
            table: r.table.to_string(),
            size: r.size,
            checksum: r.checksum.to_string(),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordsPage {
    records: Vec<RecordMeta>,
    /// Pass as `cursor` for the next page; absent on the last one.
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRequest {
    /// Base64 of the new ciphertext.
    blob: String,
    /// Lowercase hex SHA-256 of the decoded bytes.
    checksum: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordUpdated {
    id: RecordId,
    size: u64,
    checksum: String,
    /// RFC 3339.
    updated_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    table: String,
    /// Exact size in bytes of what will be uploaded.
    size: u64,
    /// Lowercase hex SHA-256 of what will be uploaded.
    checksum: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadStarted {
    record_id: RecordId,
    #[serde(flatten)]
    upload: SignedUploadBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DownloadUrl {
    url: String,
    method: String,
    /// RFC 3339.
    expires_at: String,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    table: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct GetQuery {
    /// `url`: answer a signed download URL instead of the bytes.
    download: Option<String>,
}

/// A record id from the path; anything else names no record.
fn record_id(raw: &str) -> ApiResult<RecordId> {
    RecordId::parse(raw).map_err(|_| ApiError::not_found("record not found"))
}

/// Table, blob and checksum, every failed field at once; then the blob's SHA-256
/// against the checksum (constant time).
fn parse_blob(
    table: Option<&str>,
    blob: &str,
    checksum: &str,
) -> Result<(Option<TableName>, bytes::Bytes, Checksum), StorageError> {
    let mut errors = vec![];
    let table = table.map(|t| field(&mut errors, TableName::parse(t)));
    let blob = field(&mut errors, decode_blob(blob, "blob"));
    let checksum = field(&mut errors, Checksum::parse(checksum, "checksum"));
    let (Some(blob), Some(checksum), true) = (blob, checksum, errors.is_empty()) else {
        return Err(StorageError::Invalid(errors));
    };
    let blob = verified(blob, &checksum)?;
    Ok((table.flatten(), blob, checksum))
}

/// Store a record (its blob base64 in the body, at most 4 MiB of JSON; larger
/// through `POST /api/v1/storage/uploads`).
#[utoipa::path(
    post,
    path = "/api/v1/storage/records",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    request_body = CreateRequest,
    responses(
        (status = 201, body = RecordCreated),
        (status = 400, description = "CHECKSUM_MISMATCH: nothing was stored", body = Problems),
        (status = 401, body = Problems),
        (status = 403, description = "QUOTA_EXCEEDED (with used_bytes, limit_bytes, upgrade_url)", body = Problems),
        (status = 413, description = "over 4 MiB of JSON: use the upload route", body = Problems),
        (status = 415, body = Problems),
        (status = 422, body = Problems),
        (status = 423, body = Problems),
    )
)]
pub async fn create(
    State(services): State<Services>,
    principal: Principal,
    body: Result<JsonBody<CreateRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<RecordCreated>)> {
    let owner = owner(&principal, "storage:write")?;
    let body = json_body(body)?;
    let (table, blob, checksum) = parse_blob(Some(&body.table), &body.blob, &body.checksum)
        .map_err(|e| problem(&services, e))?;
    let table = table.expect("a table was given");
    let limits = plan_limits(&services, &owner).await?;
    let record = records::create(Ports::of(&services), &owner, &limits, table, blob, checksum)
        .await
        .map_err(|e| problem(&services, e))?;
    Ok((
        StatusCode::CREATED,
        Json(RecordCreated {
            id: record.id,
            table: record.table.to_string(),
            size: record.size,
            checksum: record.checksum.to_string(),
            created_at: rfc3339(record.created_at),
        }),
    ))
}

/// The caller's records (metadata only), a page at a time, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/storage/records",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    params(
        ("table" = Option<String>, Query, description = "only this table's records"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, body = RecordsPage),
        (status = 400, description = "INVALID_CURSOR", body = Problems),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 422, body = Problems),
    )
)]
pub async fn list(
    State(services): State<Services>,
    principal: Principal,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<Json<RecordsPage>> {
    let owner = owner(&principal, "storage:read")?;
    let table = query
        .table
        .as_deref()
        .map(TableName::parse)
        .transpose()
        .map_err(|e| problem(&services, e))?;
    let scope_key = format!(
        "{}:{}",
        owner.user,
        table.as_ref().map_or("", |t| t.as_str())
    );
    let mut pager = PageRequest::open(
        services.secrets.as_ref(),
        CursorScope::new("storage-records", owner.org.as_str()).within(&scope_key),
        query.limit,
        query.cursor.as_deref(),
    )
    .await?;
    let (found, next) = records::list(
        services.store.as_ref(),
        &owner,
        table.as_ref(),
        pager.limit,
        pager.position.take(),
    )
    .await
    .map_err(|e| problem(&services, e))?;
    Ok(Json(RecordsPage {
        records: found.iter().map(RecordMeta::from).collect(),
        next_cursor: pager.next_cursor(next.as_deref()),
    }))
}

fn etag(checksum: &Checksum) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{checksum}\"")).expect("hex is a valid header value")
}

/// A record's bytes (`application/octet-stream`) with `X-Checksum` and `ETag`;
/// `If-None-Match` with its checksum answers 304; `?download=url` answers a
/// signed download URL instead.
#[utoipa::path(
    get,
    path = "/api/v1/storage/records/{id}",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "the record's id"),
        ("download" = Option<String>, Query, description = "`url`: a signed URL instead of the bytes"),
    ),
    responses(
        (status = 200, description = "the bytes (or, with `download=url`, a signed URL)", content(
            (Vec<u8> = "application/octet-stream"),
            (DownloadUrl = "application/json"),
        )),
        (status = 304, description = "not modified"),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 404, body = Problems),
        (status = 422, body = Problems),
    )
)]
pub async fn get(
    State(services): State<Services>,
    principal: Principal,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<GetQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let owner = owner(&principal, "storage:read")?;
    let id = record_id(&id)?;
    let ports = Ports::of(&services);
    match query.download.as_deref() {
        None => {}
        Some("url") => {
            let ttl = skiff_storage::settings(&services).download_url_ttl;
            let (_, url) = records::download_url(ports, &owner, &id, ttl)
                .await
                .map_err(|e| problem(&services, e))?;
            return Ok(Json(DownloadUrl {
                url: url.url,
                method: url.method,
                expires_at: rfc3339(url.expires_at),
            })
            .into_response());
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "download",
                "INVALID_PARAMETER",
                "`download` takes the value `url`",
            ));
        }
    }
    let record = records::get(ports.store, &owner, &id)
        .await
        .map_err(|e| problem(&services, e))?;
    if entity_tags(&headers, header::IF_NONE_MATCH).is_some_and(|tags| {
        tags.iter()
            .any(|t| t == "*" || record.checksum.same_as_hex(t))
    }) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response
            .headers_mut()
            .insert(header::ETAG, etag(&record.checksum));
        return Ok(response);
    }
    let (record, reader) = records::open(ports, &owner, &id)
        .await
        .map_err(|e| problem(&services, e))?;
    let body = Body::from_stream(reader.body.map(|chunk| {
        chunk.map_err(|e| {
            tracing::error!(error = %e, "a record's bytes failed while streaming");
            std::io::Error::other(e.to_string())
        })
    }));
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(record.size));
    h.insert(
        CHECKSUM_HEADER,
        HeaderValue::from_str(record.checksum.as_str()).expect("hex"),
    );
    h.insert(header::ETAG, etag(&record.checksum));
    Ok(response)
}

/// Replace a record's bytes; with `If-Match: <checksum>`, only if nobody changed
/// it since (else 412).
#[utoipa::path(
    put,
    path = "/api/v1/storage/records/{id}",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the record's id")),
    request_body = ReplaceRequest,
    responses(
        (status = 200, body = RecordUpdated),
        (status = 400, description = "CHECKSUM_MISMATCH", body = Problems),
        (status = 401, body = Problems),
        (status = 403, description = "QUOTA_EXCEEDED", body = Problems),
        (status = 404, body = Problems),
        (status = 409, body = Problems),
        (status = 412, description = "the record changed (If-Match)", body = Problems),
        (status = 413, body = Problems),
        (status = 415, body = Problems),
        (status = 422, body = Problems),
        (status = 423, body = Problems),
    )
)]
pub async fn replace(
    State(services): State<Services>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<JsonBody<ReplaceRequest>, ApiError>,
) -> ApiResult<Json<RecordUpdated>> {
    let owner = owner(&principal, "storage:write")?;
    let id = record_id(&id)?;
    let body = json_body(body)?;
    let (_, blob, checksum) =
        parse_blob(None, &body.blob, &body.checksum).map_err(|e| problem(&services, e))?;
    let if_match = entity_tags(&headers, header::IF_MATCH).and_then(|t| t.into_iter().next());
    let limits = plan_limits(&services, &owner).await?;
    let record = records::replace(
        Ports::of(&services),
        &owner,
        &limits,
        &id,
        blob,
        checksum,
        if_match.as_deref().filter(|t| *t != "*"),
    )
    .await
    .map_err(|e| problem(&services, e))?;
    Ok(Json(RecordUpdated {
        id: record.id,
        size: record.size,
        checksum: record.checksum.to_string(),
        updated_at: rfc3339(record.updated_at),
    }))
}

/// Delete a record (idempotent: an absent one answers 204 too).
#[utoipa::path(
    delete,
    path = "/api/v1/storage/records/{id}",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the record's id")),
    responses(
        (status = 204, description = "deleted (or already gone)"),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 404, description = "not a record id", body = Problems),
        (status = 409, body = Problems),
    )
)]
pub async fn delete(
    State(services): State<Services>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let owner = owner(&principal, "storage:write")?;
    let id = record_id(&id)?;
    records::delete(Ports::of(&services), &owner, &id)
        .await
        .map_err(|e| problem(&services, e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start a large record's upload: the bytes go straight to the blob store through
/// the signed URL (with the headers given: the store refuses other bytes), then
/// `POST /api/v1/storage/records/{id}/commit` makes the record visible. An upload
/// never committed is swept and its bytes released.
#[utoipa::path(
    post,
    path = "/api/v1/storage/uploads",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    request_body = UploadRequest,
    responses(
        (status = 201, body = UploadStarted),
        (status = 401, body = Problems),
        (status = 403, description = "QUOTA_EXCEEDED", body = Problems),
        (status = 415, body = Problems),
        (status = 422, body = Problems),
        (status = 423, body = Problems),
    )
)]
pub async fn upload(
    State(services): State<Services>,
    principal: Principal,
    JsonBody(body): JsonBody<UploadRequest>,
) -> ApiResult<(StatusCode, Json<UploadStarted>)> {
    let owner = owner(&principal, "storage:write")?;
    let mut errors = vec![];
    let table = field(&mut errors, TableName::parse(&body.table));
    let checksum = field(&mut errors, Checksum::parse(&body.checksum, "checksum"));
    errors.extend(upload_size(&services, body.size));
    let (Some(table), Some(checksum), true) = (table, checksum, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let limits = plan_limits(&services, &owner).await?;
    let up = records::upload(
        Ports::of(&services),
        &owner,
        &limits,
        table,
        body.size,
        checksum,
        skiff_storage::settings(&services).upload_url_ttl,
    )
    .await
    .map_err(|e| problem(&services, e))?;
    Ok((
        StatusCode::CREATED,
        Json(UploadStarted {
            record_id: up.record.id,
            upload: up.signed.into(),
        }),
    ))
}

/// Confirm an upload: the stored object must have the announced size and SHA-256.
#[utoipa::path(
    post,
    path = "/api/v1/storage/records/{id}/commit",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the record id the upload returned")),
    responses(
        (status = 200, body = RecordMeta),
        (status = 400, description = "CHECKSUM_MISMATCH or SIZE_MISMATCH: the object was discarded", body = Problems),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 404, body = Problems),
        (status = 409, description = "UPLOAD_INCOMPLETE: nothing uploaded yet", body = Problems),
        (status = 423, body = Problems),
    )
)]
pub async fn commit(
    State(services): State<Services>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<RecordMeta>> {
    let owner = owner(&principal, "storage:write")?;
    let id = record_id(&id)?;
    let record = records::commit(Ports::of(&services), &owner, &id)
        .await
        .map_err(|e| problem(&services, e))?;
    Ok(Json(RecordMeta::from(&record)))
}
