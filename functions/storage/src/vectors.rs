//! `/api/v1/storage/vectors`: the client's embeddings with its encrypted items.

use crate::{Problems, TAG_RECORDS, json_body, owner, plan_limits, problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::ports::vectors::VectorId;
use skiff_http::error::FieldError;
use skiff_http::json::JsonBody;
use skiff_http::principal::Principal;
use skiff_http::{ApiError, ApiResult};
use skiff_storage::model::{decode_blob, verified};
use skiff_storage::vectors::{self, NewVector, SearchBy};
use skiff_storage::{Checksum, StorageError};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorItem {
    /// 1-512 printable ASCII characters, unique per user.
    id: String,
    /// Base64 of the item's ciphertext (at most 64 KiB decoded).
    blob: String,
    /// Lowercase hex SHA-256 of the decoded blob.
    checksum: String,
    /// The client's embedding; without it, a 32-dimension vector derived from the
    /// blob's SHA-256, which finds exact duplicates only.
    vector: Option<Vec<f32>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertRequest {
    /// 1 to 500 items.
    vectors: Vec<VectorItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpsertResponse {
    upserted: usize,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// The query embedding.
    vector: Option<Vec<f32>>,
    /// Or a blob (base64) whose duplicates to find.
    query_blob: Option<String>,
    /// 1 to 100.
    top_k: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    id: String,
    /// Cosine similarity, -1 to 1.
    score: f32,
    /// Base64 of the stored ciphertext.
    blob: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    results: Vec<SearchHit>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    /// Up to 500 ids.
    ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteResponse {
    deleted: usize,
}

fn invalid(field: String, e: StorageError) -> Vec<FieldError> {
    match e {
        StorageError::Invalid(fields) => fields
            .into_iter()
            .map(|f| FieldError::new(&field, &f.code, f.message))
            .collect(),
        other => vec![FieldError::new(&field, "INVALID", other.to_string())],
    }
}

/// Store items' vectors and ciphertexts (replacing those with the same ids).
#[utoipa::path(
    post,
    path = "/api/v1/storage/vectors/upsert",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    request_body = UpsertRequest,
    responses(
        (status = 200, body = UpsertResponse),
        (status = 400, description = "CHECKSUM_MISMATCH: nothing was stored", body = Problems),
        (status = 401, body = Problems),
        (status = 403, description = "QUOTA_EXCEEDED", body = Problems),
        (status = 409, body = Problems),
        (status = 413, body = Problems),
        (status = 415, body = Problems),
        (status = 422, description = "a bad field, or a dimension other than the namespace's", body = Problems),
        (status = 423, body = Problems),
    )
)]
pub async fn upsert(
    State(services): State<Services>,
    principal: Principal,
    body: Result<JsonBody<UpsertRequest>, ApiError>,
) -> ApiResult<Json<UpsertResponse>> {
    let owner = owner(&principal, "storage:write")?;
    let body = json_body(body)?;
    if body.vectors.is_empty() || body.vectors.len() > skiff_core::ports::vectors::MAX_BATCH {
        return Err(ApiError::invalid_field(
            "vectors",
            "OUT_OF_RANGE",
            "send 1 to 500 vectors",
        ));
    }
    let mut errors = vec![];
    let mut items = vec![];
    let mut mismatch = false;
    for (i, v) in body.vectors.into_iter().enumerate() {
        let id = VectorId::parse(&v.id);
        let blob = decode_blob(&v.blob, "blob");
        let checksum = Checksum::parse(&v.checksum, "checksum");
        if id.is_err() {
            errors.push(FieldError::new(
                &format!("vectors[{i}].id"),
                "INVALID_ID",
                "an id is 1 to 512 printable ASCII characters",
            ));
        }
        if let Err(e) = &blob {
            errors.extend(invalid(format!("vectors[{i}].blob"), clone_invalid(e)));
        }
        if let Err(e) = &checksum {
            errors.extend(invalid(format!("vectors[{i}].checksum"), clone_invalid(e)));
        }
        if let (Ok(id), Ok(blob), Ok(checksum)) = (id, blob, checksum) {
            match verified(blob, &checksum) {
                Ok(blob) => items.push(NewVector {
                    id,
                    blob,
                    checksum,
                    vector: v.vector,
                }),
                Err(_) => mismatch = true,
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if mismatch {
        return Err(problem(&services, StorageError::ChecksumMismatch));
    }
    let limits = plan_limits(&services, &owner).await?;
    let upserted = vectors::upsert(
        services.store.as_ref(),
        services.vectors.as_ref(),
        services.clock.as_ref(),
        &owner,
        &limits,
        items,
    )
    .await
    .map_err(|e| problem(&services, e))?;
    Ok(Json(UpsertResponse { upserted }))
}

fn clone_invalid(e: &StorageError) -> StorageError {
    match e {
        StorageError::Invalid(f) => StorageError::Invalid(f.clone()),
        other => StorageError::Internal(other.to_string()),
    }
}

/// The `top_k` nearest of the caller's vectors, with their ciphertexts.
#[utoipa::path(
    post,
    path = "/api/v1/storage/vectors/search",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    request_body = SearchRequest,
    responses(
        (status = 200, body = SearchResponse),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 415, body = Problems),
        (status = 422, description = "top_k out of range, no query, or a dimension other than the namespace's", body = Problems),
    )
)]
pub async fn search(
    State(services): State<Services>,
    principal: Principal,
    JsonBody(body): JsonBody<SearchRequest>,
) -> ApiResult<(StatusCode, Json<SearchResponse>)> {
    let owner = owner(&principal, "storage:read")?;
    let by = match (body.vector, body.query_blob) {
        (Some(v), None) => SearchBy::Vector(v),
        (None, Some(b)) => {
            SearchBy::Blob(decode_blob(&b, "query_blob").map_err(|e| problem(&services, e))?)
        }
        _ => {
            return Err(ApiError::invalid_field(
                "vector",
                "ONE_OF",
                "send either `vector` or `query_blob`",
            ));
        }
    };
    let found = vectors::search(
        services.store.as_ref(),
        services.vectors.as_ref(),
        &owner,
        by,
        body.top_k,
    )
    .await
    .map_err(|e| problem(&services, e))?;
    Ok((
        StatusCode::OK,
        Json(SearchResponse {
            results: found
                .into_iter()
                .map(|f| SearchHit {
                    id: f.id,
                    score: f.score,
                    blob: f.blob,
                })
                .collect(),
        }),
    ))
}

/// Delete vectors and their ciphertexts by id (absent ids are skipped).
#[utoipa::path(
    delete,
    path = "/api/v1/storage/vectors",
    tag = TAG_RECORDS,
    security(("bearer" = [])),
    request_body = DeleteRequest,
    responses(
        (status = 200, body = DeleteResponse),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 409, body = Problems),
        (status = 415, body = Problems),
        (status = 422, body = Problems),
    )
)]
pub async fn delete(
    State(services): State<Services>,
    principal: Principal,
    JsonBody(body): JsonBody<DeleteRequest>,
) -> ApiResult<Json<DeleteResponse>> {
    let owner = owner(&principal, "storage:write")?;
    let mut ids = vec![];
    let mut errors = vec![];
    for (i, raw) in body.ids.iter().enumerate() {
        match VectorId::parse(raw.as_str()) {
            Ok(id) => ids.push(id),
            Err(_) => errors.push(FieldError::new(
                &format!("ids[{i}]"),
                "INVALID_ID",
                "an id is 1 to 512 printable ASCII characters",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let deleted = vectors::delete(
        services.store.as_ref(),
        services.vectors.as_ref(),
        &owner,
        &ids,
    )
    .await
    .map_err(|e| problem(&services, e))?;
    Ok(Json(DeleteResponse { deleted }))
}
