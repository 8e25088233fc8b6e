//! Dev-only routes over the local mailbox, mounted by the local server only:
//! `GET /_dev/mailbox` (`{"emails": [...]}`, newest first; `?to=` one recipient,
//! `?limit=` 1–200, default 50), `GET /_dev/mailbox/{id}` (one e-mail as JSON) and
//! `GET /_dev/mailbox/{id}/html` (its HTML body, so a person can click its links).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use skiff_adapters::dev_mailbox::{DevMailbox, MAX_LIST};
use skiff_core::ports::mail::MailError;
use skiff_http::error::ApiError;
use std::sync::Arc;

/// Listing size when `?limit=` is not given.
pub const DEFAULT_LIST: usize = 50;

/// The mailbox routes over `mailbox`.
pub fn router(mailbox: Arc<DevMailbox>) -> axum::Router {
    axum::Router::new()
        .route("/_dev/mailbox", get(list))
        .route("/_dev/mailbox/{id}", get(one))
        .route("/_dev/mailbox/{id}/html", get(html))
        .with_state(mailbox)
}

#[derive(Debug, Deserialize)]
struct ListParams {
    to: Option<String>,
    limit: Option<String>,
}

fn mail_error(e: MailError) -> ApiError {
    match e {
        MailError::Unavailable(m) => ApiError::Unavailable(m),
        MailError::Rejected(m) => ApiError::internal(m),
    }
}

async fn list(
    State(mailbox): State<Arc<DevMailbox>>,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LIST,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIST).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid_field(
                    "limit",
                    "out_of_range",
                    format!("limit must be a number from 1 to {MAX_LIST}"),
                ));
            }
        },
    };
    let to = params
        .to
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let emails = mailbox.list(to, limit).await.map_err(mail_error)?;
    Ok(Json(json!({ "emails": emails })).into_response())
}

async fn one(
    State(mailbox): State<Arc<DevMailbox>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match mailbox.get(&id).await.map_err(mail_error)? {
        Some(email) => Ok(Json(email).into_response()),
        None => Err(ApiError::not_found(format!(
            "no e-mail `{id}` in the mailbox"
        ))),
    }
}

async fn html(
    State(mailbox): State<Arc<DevMailbox>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let email = mailbox
        .get(&id)
        .await
        .map_err(mail_error)?
        .ok_or_else(|| ApiError::not_found(format!("no e-mail `{id}` in the mailbox")))?;
    let mut response = Html(email.html).into_response();
    // Links work; scripts and remote content in a mail body do not run here.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
    );
    Ok(response)
}
