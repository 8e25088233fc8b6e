//! The pages the links in e-mails lead to, when no front end is configured
//! (`SKIFF_APP_URL` unset): `/` (welcome), `/reset-password` and
//! `/accept-invitation`. They are static: the token stays in the browser (read
//! from the URL by the same-origin script, then dropped from the address bar) and
//! goes to the real API routes in a JSON body, so it reaches no log and, with
//! `Referrer-Policy: no-referrer`, no other site. The policy allows only this
//! origin's own script, style and API: no inline script, no framing.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Where the pages' shared script and style are served.
pub const ASSETS: &str = "/_pages";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

const INDEX: &str = include_str!("pages/index.html");
const RESET_PASSWORD: &str = include_str!("pages/reset-password.html");
const ACCEPT_INVITATION: &str = include_str!("pages/accept-invitation.html");
const SCRIPT: &str = include_str!("pages/pages.js");
const STYLE: &str = include_str!("pages/pages.css");

fn respond(content_type: &'static str, body: &'static str) -> Response {
    let headers: [(HeaderName, HeaderValue); 3] = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    (headers, body).into_response()
}

fn html(body: &'static str) -> Response {
    respond("text/html; charset=utf-8", body)
}

/// The pages and their assets.
pub fn router() -> axum::Router {
    axum::Router::new()
        .route("/", get(|| async { html(INDEX) }))
        .route("/reset-password", get(|| async { html(RESET_PASSWORD) }))
        .route(
            "/accept-invitation",
            get(|| async { html(ACCEPT_INVITATION) }),
        )
        .route(
            &format!("{ASSETS}/pages.js"),
            get(|| async { respond("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            &format!("{ASSETS}/pages.css"),
            get(|| async { respond("text/css; charset=utf-8", STYLE) }),
        )
}
