//! Running scripts over HTTP: `POST /scripts/{id}/execute` for members, and the
//! public user routes at `/run/{slug}/…` and at the root of claimed hosts.

use crate::caller::Writer;
use crate::problem;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::ScriptId;
use skiff_http::ApiError;
use skiff_scripts::run::{Body, Execution, RunRequest};
use skiff_scripts::service::{self, Dispatched, Entry};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TAG: &str = "scripts";

/// Headers a script never sees: the caller's own credentials to Skiff.
const HIDDEN_FROM_EXECUTE: [&str; 2] = ["authorization", "cookie"];

/// The request as a script sees it. A JSON body is parsed (400 when it is not
/// JSON), text is a string, other bytes are refused.
fn run_request(
    method: &Method,
    path: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    hide: &[&str],
) -> Result<RunRequest, ApiError> {
    let mut h: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let name = name.as_str().to_ascii_lowercase();
        if hide.contains(&name.as_str()) {
            continue;
        }
        let Ok(value) = value.to_str() else { continue };
        h.entry(name)
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
    }
    let body = if body.is_empty() {
        Value::Null
    } else if skiff_http::json::is_json_content_type(headers) {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request("INVALID_JSON", format!("the body is not JSON: {e}"))
        })?
    } else {
        Value::String(String::from_utf8(body.to_vec()).map_err(|_| {
            ApiError::UnsupportedMediaType("a script takes JSON or UTF-8 text".into())
        })?)
    };
    let query: BTreeMap<String, String> = form_urlencoded(uri.query().unwrap_or(""));
    Ok(RunRequest {
        method: method.as_str().to_owned(),
        path: path.to_owned(),
        headers: h,
        body,
        params: BTreeMap::new(),
        query,
        rest: String::new(),
    })
}

fn form_urlencoded(query: &str) -> BTreeMap<String, String> {
    ::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A run's answer (or failure) as HTTP; every one names its execution.
fn respond(execution: Execution) -> Response {
    let id = execution.id.to_string();
    let mut response = match execution.result {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            let has_type = answer.headers.iter().any(|(n, _)| n == "content-type");
            let mut response = match answer.body {
                Body::Json(v) => (status, axum::Json(v)).into_response(),
                Body::Text(t) if has_type => (status, t).into_response(),
                Body::Text(t) => (
                    status,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    t,
                )
                    .into_response(),
                Body::Empty => status.into_response(),
            };
            for (name, value) in answer.headers {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    response.headers_mut().insert(n, v);
                }
            }
            response
        }
        Err(failure) => problem::failure(&failure, &id),
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-execution-id"), v);
    }
    response
}

/// Run a script with this request's body and headers (`editor`). The answer is
/// the script's: `{statusCode, headers, body}` or any value as a 200 JSON body.
#[utoipa::path(post, path = "/api/v1/scripts/{id}/execute", tag = TAG, security(("bearer" = [])),
    params(("id" = ScriptId, Path, description = "the script")),
    request_body(content = Value, description = "any JSON or text body: the script's `ctx.request.body`",
        content_type = "application/json"),
    responses(
        (status = 200, description = "the script's answer (its status, headers and body)", body = Value),
        (status = 403, description = "INSUFFICIENT_APP_ROLE or INSUFFICIENT_SCOPE", body = skiff_http::openapi::ProblemDetails),
        (status = 422, description = "SCRIPT_RUNTIME_ERROR (with line and column) or NOT_AN_ENDPOINT", body = skiff_http::openapi::ProblemDetails),
        (status = 500, description = "SCRIPT_ERROR: the script threw (its message)", body = skiff_http::openapi::ProblemDetails),
        (status = 503, description = "SCRIPTS_BUSY: every runner is busy (Retry-After)", body = skiff_http::openapi::ProblemDetails),
        (status = 504, description = "SCRIPT_TIMEOUT", body = skiff_http::openapi::ProblemDetails),
        (status = 507, description = "LIMIT_EXCEEDED naming the limit", body = skiff_http::openapi::ProblemDetails)))]
pub async fn execute(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(id) = ScriptId::parse(&id) else {
        return ApiError::not_found("no such script").into_response();
    };
    let request = match run_request(
        &method,
        uri.path(),
        &uri,
        &headers,
        &body,
        &HIDDEN_FROM_EXECUTE,
    ) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match service::execute(&services, &actor, &id, request).await {
        Ok(execution) => respond(execution),
        Err(e) => problem::respond(e),
    }
}

async fn dispatch(services: &Services, entry: Entry<'_>, path: &str, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let max = services.config.max_body_bytes;
    let body = match axum::body::to_bytes(body, max).await {
        Ok(b) => b,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    let request = match run_request(&parts.method, path, &parts.uri, &parts.headers, &body, &[]) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match service::dispatch(services, entry, request).await {
        Ok(Dispatched::Ran(execution)) => respond(execution),
        Ok(Dispatched::Queued(id)) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({"execution_id": id})),
        )
            .into_response(),
        Err(e) => problem::respond(e),
    }
}

/// `/run/{slug}`: the app's `/` route.
pub async fn run_root(
    State(services): State<Services>,
    Path(slug): Path<String>,
    request: Request,
) -> Response {
    dispatch(&services, Entry::Slug(&slug), "/", request).await
}

/// `/run/{slug}/{*rest}`: the app's route for `/rest`.
pub async fn run_path(
    State(services): State<Services>,
    Path((slug, rest)): Path<(String, String)>,
    request: Request,
) -> Response {
    let path = format!("/{rest}");
    dispatch(&services, Entry::Slug(&slug), &path, request).await
}

/// How long a host's answer (claimed or not) is trusted per process.
const HOST_CACHE_TTL: Duration = Duration::from_secs(10);

/// Which hosts are the deployment's own (never looked up as claims).
#[derive(Clone)]
pub struct Hosts {
    own: Vec<String>,
    claimed: std::sync::Arc<Mutex<HashMap<String, (Instant, bool)>>>,
}

impl Hosts {
    pub fn new(services: &Services) -> Self {
        let mut own = vec!["localhost".to_owned()];
        if let Some(host) = host_of_url(&services.config.public_url) {
            own.push(host);
        }
        Self {
            own,
            claimed: Default::default(),
        }
    }

    /// Whether `host` may be a claim (a name that is not the deployment's own);
    /// remembered per process for a few seconds.
    async fn may_serve(&self, services: &Services, host: &str) -> bool {
        if self.own.iter().any(|h| h == host) || host.parse::<std::net::IpAddr>().is_ok() {
            return false;
        }
        if let Some((at, claimed)) = self.claimed.lock().expect("hosts").get(host)
            && at.elapsed() < HOST_CACHE_TTL
        {
            return *claimed;
        }
        let claimed = skiff_scripts::domains::serving(services.store.as_ref(), host)
            .await
            .map(|d| d.is_some())
            .unwrap_or(true);
        let mut cache = self.claimed.lock().expect("hosts");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(host.to_owned(), (Instant::now(), claimed));
        claimed
    }
}

fn host_of_url(url: &str) -> Option<String> {
    let rest = url.split("://").nth(1)?;
    let authority = rest.split('/').next()?;
    Some(host_without_port(authority).to_ascii_lowercase())
}

fn host_without_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            authority
        }
    })
}

fn request_host(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| host_without_port(h).to_ascii_lowercase())
        .or_else(|| request.uri().host().map(str::to_ascii_lowercase))
}

/// What answers requests to claimed hosts: the app's routes, under the same
/// common layers as the API.
#[derive(Clone)]
pub struct ClaimedHosts {
    hosts: Hosts,
    answer: axum::Router,
}

impl ClaimedHosts {
    pub fn new(services: &Services) -> Self {
        // Every path (the common layers replace a router's fallback).
        let answer = axum::Router::new()
            .route("/", axum::routing::any(answer_claimed))
            .route("/{*path}", axum::routing::any(answer_claimed))
            .with_state(services.clone());
        Self {
            hosts: Hosts::new(services),
            answer: skiff_http::with_common_layers(answer, &services.config),
        }
    }
}

async fn answer_claimed(State(services): State<Services>, request: Request) -> Response {
    let Some(host) = request_host(&request) else {
        return ApiError::not_found("no such route").into_response();
    };
    let path = request.uri().path().to_owned();
    dispatch(&services, Entry::Host(&host), &path, request).await
}

/// Middleware: a request to a host an app has claimed is that app's, at the
/// host's root (the platform's own paths stay the platform's: user routes may
/// not use them). Other requests pass on.
pub async fn claimed_hosts(
    State((services, claimed)): State<(Services, ClaimedHosts)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(host) = request_host(&request) else {
        return next.run(request).await;
    };
    let reserved = skiff_scripts::routes::check_reserved(request.uri().path()).is_err();
    if reserved || !claimed.hosts.may_serve(&services, &host).await {
        return next.run(request).await;
    }
    use tower::ServiceExt;
    match claimed.answer.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_and_hosts_lose_their_ports() {
        let q = form_urlencoded("a=1&b=x+y&c=%41%2F&d");
        assert_eq!(q["a"], "1");
        assert_eq!(q["b"], "x y");
        assert_eq!(q["c"], "A/");
        assert_eq!(q["d"], "");
        assert_eq!(host_without_port("api.example.com:8080"), "api.example.com");
        assert_eq!(host_without_port("[::1]:80"), "::1");
        assert_eq!(
            host_of_url("http://127.0.0.1:3000").as_deref(),
            Some("127.0.0.1")
        );
    }
}
