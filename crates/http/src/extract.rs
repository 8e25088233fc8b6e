//! Extractors and a response mapping that make every request rejection
//! problem+json: axum's own `Query`, `Path` and routing rejections answer plain
//! text (or nothing), which clients cannot parse like the rest of the API.

use crate::error::{ApiError, FieldError, problem_response};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// `Query<T>` whose rejection is a 422 naming the parameter that failed.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(QueryParams)
    }
}

/// A query string as `T`, or a 422 naming the failed parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." {
            inner.split('`').nth(1).unwrap_or("query").to_owned()
        } else {
            path
        };
        ApiError::validation(vec![FieldError::new(
            &field,
            "INVALID_PARAMETER",
            format!("query parameter `{field}`: {inner}"),
        )])
    })
}

/// Longest path segment any route takes (ids, keys and tokens are far shorter).
pub const MAX_PATH_SEGMENT: usize = 256;

/// Middleware: a path with an over-long segment names nothing that exists, so it
/// is a 404 before any route reads it (an id that long would otherwise reach the
/// store as an invalid key).
pub async fn reject_overlong_paths(request: Request, next: Next) -> Response {
    if request
        .uri()
        .path()
        .split('/')
        .any(|segment| segment.len() > MAX_PATH_SEGMENT)
    {
        return ApiError::not_found("no such resource").into_response();
    }
    next.run(request).await
}

/// Middleware: any error answer that is not problem+json yet (axum's rejections of
/// paths, queries and bodies, 405 from the router, 413 from the body limit) becomes
/// one, with the status kept and axum's text as the detail.
pub async fn problem_rejections(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|ct| ct != "text/plain; charset=utf-8" && ct != "text/plain")
    {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let text = match axum::body::to_bytes(response.into_body(), 64 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => String::new(),
    };
    let mut mapped = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge.into_response(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(text).into_response(),
        // A path parameter that does not decode names nothing.
        StatusCode::BAD_REQUEST if text.starts_with("Invalid URL") => {
            ApiError::not_found("no such resource").into_response()
        }
        StatusCode::METHOD_NOT_ALLOWED => problem_response(
            status,
            "METHOD_NOT_ALLOWED",
            "this route does not answer that method",
            Default::default(),
        ),
        StatusCode::UNPROCESSABLE_ENTITY => {
            ApiError::validation(vec![FieldError::new("request", "INVALID", text)]).into_response()
        }
        _ => {
            let detail = if text.is_empty() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                text
            };
            let code = status
                .canonical_reason()
                .unwrap_or("ERROR")
                .to_ascii_uppercase()
                .replace([' ', '-'], "_");
            problem_response(status, &code, &detail, Default::default())
        }
    };
    if let Some(allow) = allow {
        mapped.headers_mut().insert(header::ALLOW, allow);
    }
    mapped
}
