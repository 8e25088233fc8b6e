//! The operators' web console: static files built into the binary (no Node, no
//! CDN at run time), served at `/console/` by the admin function and the local
//! server. The page signs in with Skiff's own login and keeps the tokens in memory
//! only (never `localStorage`); it calls the admin API with a bearer token, so no
//! cookie is involved and cross-site requests carry no credential.
//!
//! Every answer carries a strict Content-Security-Policy: scripts, styles and API
//! calls from this origin only, no inline script or style, no framing.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use skiff_core::services::Services;

/// Where the console lives.
pub const BASE: &str = "/console/";

/// The policy every console answer carries.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// `(file name, content type, bytes)` of every file the console serves.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../console/index.html"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../console/console.css"),
    ),
    (
        "uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/vendor/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../console/vendor/uPlot.min.css"),
    ),
    (
        "uPlot.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../console/vendor/uPlot.LICENSE"),
    ),
];

/// `/console` (redirected to `/console/`), the page, and its files.
pub fn router() -> axum::Router<Services> {
    axum::Router::new()
        .route("/console", get(redirect))
        .route("/console/", get(index))
        .route("/console/{file}", get(file))
}

async fn redirect() -> Redirect {
    Redirect::permanent(BASE)
}

async fn index() -> Response {
    serve("index.html")
}

async fn file(Path(name): Path<String>) -> Response {
    serve(&name)
}

fn serve(name: &str) -> Response {
    let Some((_, content_type, bytes)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return skiff_http::ApiError::not_found("no such file").into_response();
    };
    let mut response = (StatusCode::OK, *bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // The files change only with the binary; the page must not be cached past a
    // deployment, the rest may be for a little while.
    let cache = if name == "index.html" {
        "no-store"
    } else {
        "public, max-age=300"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_names_is_served() {
        let html = std::str::from_utf8(FILES[0].2).unwrap();
        for (name, _, _) in &FILES[1..] {
            if name.ends_with(".js") || name.ends_with(".css") {
                assert!(html.contains(&format!("\"{name}\"")), "{name}");
            }
        }
        assert!(!html.contains("<script>"), "no inline script");
        assert!(!html.contains("style=\""), "no inline style");
    }
}
