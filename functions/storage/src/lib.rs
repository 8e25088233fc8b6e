//! The `storage` function: client-encrypted records (`/api/v1/storage/records`,
//! signed uploads at `/api/v1/storage/uploads`), vectors
//! (`/api/v1/storage/vectors`), backups (`/api/v1/backup`, large ones through
//! `/api/v1/backup/uploads`) and the org's exports
//! (`/api/v1/exports`). Thin: parse and authenticate at the edge, call
//! `skiff_storage` with the principal's org and user, map its errors here.

mod backups;
mod exports;
mod records;
mod vectors;

use axum::http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use skiff_core::Services;
use skiff_core::clock::rfc3339;
use skiff_core::ports::blobs::SignedUpload;
use skiff_http::error::FieldError;
use skiff_http::principal::Principal;
use skiff_http::{ApiError, ApiResult, error::Problem};
use skiff_storage::quota::{self, Limits};
use skiff_storage::{Owner, StorageError};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub(crate) const TAG_RECORDS: &str = "storage";
pub(crate) const TAG_BACKUPS: &str = "backups";
pub(crate) const TAG_EXPORTS: &str = "exports";

pub(crate) type Problems = skiff_http::openapi::ProblemDetails;

/// Largest JSON body of the records and vectors routes: Lambda takes 6 MB, and
/// base64 makes 4 MiB of JSON about 3 MiB of ciphertext.
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

/// Where a body too large for JSON goes instead.
pub const UPLOAD_ROUTE: &str = "/api/v1/storage/uploads";

/// Largest backup a direct `PUT /api/v1/backup` takes: Lambda takes 6 MB, and
/// API Gateway hands it a binary body as base64.
pub const MAX_BACKUP_PUT_BYTES: u64 = 4 * 1024 * 1024;

/// Where a backup too large for one request goes instead.
pub const BACKUP_UPLOAD_ROUTE: &str = "/api/v1/backup/uploads";

skiff_http::endpoints!(
    Services;
    records::create,
    records::list,
    records::get,
    records::replace,
    records::delete,
    records::upload,
    records::commit,
    vectors::upsert,
    vectors::search,
    vectors::delete,
    backups::put,
    backups::upload,
    backups::commit,
    backups::latest,
    backups::history,
    backups::delete,
    exports::create,
    exports::status,
    exports::download,
);

/// This group's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// The storage routes, with the JSON limit of records and vectors.
pub fn router() -> axum::Router<Services> {
    served().layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BYTES))
}

/// The `storage` Lambda's whole HTTP surface.
pub fn app(services: Services) -> axum::Router {
    skiff_http::lambda_app(router(), services)
}

/// The owner of the data a call touches: the principal's org and its user (an API
/// key acts for its creator), after the scope check.
pub(crate) fn owner(principal: &Principal, scope: &str) -> Result<Owner, ApiError> {
    principal.require_scope(scope)?;
    Ok(Owner {
        org: principal.org_id.clone(),
        user: principal.acting_user.clone(),
    })
}

/// 413 for a body over `limit` bytes, naming the upload route that takes it.
pub(crate) fn too_large(what: &str, limit: u64, route: &str) -> ApiError {
    let mut extra = serde_json::Map::new();
    extra.insert("upload_route".into(), route.into());
    extra.insert("max_body_bytes".into(), limit.into());
    ApiError::Custom(Box::new(Problem {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "PAYLOAD_TOO_LARGE".into(),
        title: "Payload too large".into(),
        detail: format!("{what} are limited to {limit} bytes; send larger ones with POST {route}"),
        extra,
    }))
}

/// A JSON body, or the 413 that names the upload route.
pub(crate) fn json_body<T>(
    body: Result<skiff_http::json::JsonBody<T>, ApiError>,
) -> Result<T, ApiError> {
    match body {
        Ok(skiff_http::json::JsonBody(b)) => Ok(b),
        Err(ApiError::PayloadTooLarge) => Err(too_large(
            "JSON bodies",
            MAX_JSON_BYTES as u64,
            UPLOAD_ROUTE,
        )),
        Err(e) => Err(e),
    }
}

/// Where and how to send the bytes of a signed upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedUploadBody {
    /// Send the bytes here, with `method` and every header of `headers`.
    upload_url: String,
    method: String,
    headers: BTreeMap<String, String>,
    /// RFC 3339: the URL stops working then.
    expires_at: String,
}

impl From<SignedUpload> for SignedUploadBody {
    fn from(s: SignedUpload) -> Self {
        Self {
            upload_url: s.url,
            method: s.method,
            headers: s.headers,
            expires_at: rfc3339(s.expires_at),
        }
    }
}

/// A parsed field, or `None` with its errors added to `errors` (so a request
/// names every bad field at once).
pub(crate) fn field<T>(errors: &mut Vec<FieldError>, parsed: Result<T, StorageError>) -> Option<T> {
    match parsed {
        Ok(v) => Some(v),
        Err(StorageError::Invalid(f)) => {
            errors.extend(f);
            None
        }
        Err(_) => None,
    }
}

/// The limits of the org's plan, read for this write.
pub(crate) async fn plan_limits(services: &Services, owner: &Owner) -> ApiResult<Limits> {
    quota::limits(services, &owner.org)
        .await
        .map_err(|e| problem(services, e))
}

/// An announced upload's `size`: 1 to the configured maximum.
pub(crate) fn upload_size(services: &Services, size: u64) -> Option<FieldError> {
    let max = skiff_storage::settings(services).max_upload_bytes;
    (size == 0 || size > max).then(|| {
        FieldError::new(
            "size",
            "OUT_OF_RANGE",
            format!("`size` must be 1 to {max} bytes"),
        )
    })
}

/// Storage's errors as HTTP answers (the one mapping of this function).
pub(crate) fn problem(services: &Services, e: StorageError) -> ApiError {
    let upgrade_url = || skiff_billing::settings(services).upgrade_url.clone();
    let custom = |status: StatusCode,
                  code: &str,
                  detail: String,
                  extra: serde_json::Map<String, serde_json::Value>| {
        ApiError::Custom(Box::new(Problem {
            status,
            code: code.into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            detail,
            extra,
        }))
    };
    match e {
        StorageError::Invalid(errors) => ApiError::validation(errors),
        StorageError::ChecksumMismatch => ApiError::bad_request("CHECKSUM_MISMATCH", e.to_string()),
        StorageError::SizeMismatch { .. } => ApiError::bad_request("SIZE_MISMATCH", e.to_string()),
        StorageError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
        StorageError::OrgDeleted => ApiError::not_found("organization not found"),
        StorageError::QuotaExceeded {
            used_bytes,
            limit_bytes,
            ..
        } => {
            let mut extra = serde_json::Map::new();
            extra.insert("used_bytes".into(), used_bytes.into());
            extra.insert("limit_bytes".into(), limit_bytes.into());
            extra.insert("upgrade_url".into(), upgrade_url().into());
            custom(
                StatusCode::FORBIDDEN,
                "QUOTA_EXCEEDED",
                e.to_string(),
                extra,
            )
        }
        StorageError::NotInPlan { feature, .. } => {
            let mut extra = serde_json::Map::new();
            extra.insert("feature".into(), feature.into());
            extra.insert("upgrade_url".into(), upgrade_url().into());
            custom(
                StatusCode::FORBIDDEN,
                "FEATURE_NOT_IN_PLAN",
                e.to_string(),
                extra,
            )
        }
        StorageError::PreconditionFailed => custom(
            StatusCode::PRECONDITION_FAILED,
            "PRECONDITION_FAILED",
            e.to_string(),
            Default::default(),
        ),
        StorageError::UploadIncomplete => ApiError::conflict("UPLOAD_INCOMPLETE", e.to_string()),
        StorageError::ExportNotReady { .. } => {
            ApiError::conflict("EXPORT_NOT_READY", e.to_string())
        }
        StorageError::Contended(why) => ApiError::conflict("CONCURRENT_UPDATE", why),
        StorageError::Vector(v) => vector_problem(v),
        StorageError::Blob(b) => b.into(),
        StorageError::Store(s) => s.into(),
        StorageError::Queue(q) => q.into(),
        StorageError::Billing(b) => ApiError::internal(b),
        StorageError::Internal(why) => ApiError::internal(why),
    }
}

fn vector_problem(e: skiff_core::ports::vectors::VectorError) -> ApiError {
    use skiff_core::ports::vectors::VectorError as V;
    match e {
        V::DimensionMismatch { expected, got } => ApiError::invalid_field(
            "vector",
            "DIMENSION_MISMATCH",
            format!("this namespace holds vectors of {expected} dimensions; this one has {got}"),
        ),
        V::InvalidId(_) => ApiError::invalid_field("id", "INVALID_ID", e.to_string()),
        V::Invalid(_) | V::InvalidNamespace(_) => {
            ApiError::invalid_field("vector", "INVALID_VECTOR", e.to_string())
        }
        V::Unavailable(_) => ApiError::Unavailable(
            "The vector index is temporarily unavailable; retry shortly.".into(),
        ),
        V::Fatal(_) => ApiError::internal(e),
    }
}

/// The entity tags a conditional header lists (`*`, `"x"`, `W/"x"`, or bare).
pub(crate) fn entity_tags(headers: &HeaderMap, name: header::HeaderName) -> Option<Vec<String>> {
    let raw = headers.get(name)?.to_str().ok()?;
    Some(
        raw.split(',')
            .map(|t| {
                t.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_owned()
            })
            .filter(|t| !t.is_empty())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_are_read_in_any_common_form() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            "\"abc\", W/\"def\", ghi".parse().unwrap(),
        );
        assert_eq!(
            entity_tags(&h, header::IF_NONE_MATCH).unwrap(),
            ["abc", "def", "ghi"]
        );
        assert!(entity_tags(&h, header::IF_MATCH).is_none());
    }
}
