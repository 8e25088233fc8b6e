//! Scripts' errors and run failures as HTTP: the one mapping of the function.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use skiff_http::ApiError;
use skiff_http::error::{FieldError, Problem, problem_response};
use skiff_scripts::ScriptsError;
use skiff_scripts::sandbox::{RunFailure, SourcePosition};

fn custom(status: StatusCode, code: &str, detail: String, extra: Map<String, Value>) -> ApiError {
    ApiError::Custom(Box::new(Problem {
        status,
        code: code.to_owned(),
        title: String::new(),
        detail,
        extra,
    }))
}

fn position(extra: &mut Map<String, Value>, position: &Option<SourcePosition>) {
    if let Some(p) = position {
        extra.insert("line".into(), json!(p.line));
        extra.insert("column".into(), json!(p.column));
    }
}

/// The one mapping of the domain's errors.
pub fn error(e: ScriptsError) -> ApiError {
    match e {
        ScriptsError::NotFound(what) => ApiError::not_found(format!("no such {what}")),
        ScriptsError::Forbidden { needed } => ApiError::forbidden(
            "INSUFFICIENT_APP_ROLE",
            format!("this action needs the {needed} role in the app"),
        ),
        ScriptsError::OrgAdminRequired => ApiError::forbidden(
            "INSUFFICIENT_ROLE",
            "creating apps is for the org's owners and admins (with `scripts:write`)",
        ),
        ScriptsError::Invalid(problems) => ApiError::validation(
            problems
                .into_iter()
                .map(|p| FieldError::new(&p.field, p.code, p.message))
                .collect(),
        ),
        ScriptsError::Conflict(detail) => ApiError::conflict("CONFLICT", detail),
        ScriptsError::SlugTaken(_) => ApiError::conflict("SLUG_TAKEN", e.to_string()),
        ScriptsError::NameTaken(_) => ApiError::conflict("SCRIPT_NAME_TAKEN", e.to_string()),
        ScriptsError::HasScripts { script_count } => {
            let mut extra = Map::new();
            extra.insert("script_count".into(), json!(script_count));
            custom(StatusCode::CONFLICT, "HAS_SCRIPTS", e.to_string(), extra)
        }
        ScriptsError::Compile(c) => {
            let mut extra = Map::new();
            position(&mut extra, &c.position);
            let at = c
                .position
                .map(|p| format!(" (line {}, column {})", p.line, p.column))
                .unwrap_or_default();
            extra.insert(
                "errors".into(),
                json!([{"field": "source", "code": "COMPILE_ERROR", "message": format!("{}{at}", c.message)}]),
            );
            custom(
                StatusCode::UNPROCESSABLE_ENTITY,
                "COMPILE_ERROR",
                format!("the source does not compile: {}{at}", c.message),
                extra,
            )
        }
        ScriptsError::LimitsRefused(refused) => ApiError::validation(
            refused
                .iter()
                .map(|r| {
                    let mut f = FieldError::new(
                        &format!("sandbox.{}", r.knob),
                        "ABOVE_CEILING",
                        r.to_string(),
                    );
                    f.message = r.to_string();
                    f
                })
                .collect(),
        ),
        ScriptsError::RouteConflict {
            ref existing_id,
            ref existing_method,
            ref existing_path,
            ..
        } => {
            let mut extra = Map::new();
            extra.insert(
                "existing_route".into(),
                json!({"id": existing_id, "method": existing_method, "path": existing_path}),
            );
            custom(StatusCode::CONFLICT, "ROUTE_CONFLICT", e.to_string(), extra)
        }
        ScriptsError::ReservedPath(..) => {
            ApiError::invalid_field("path", "RESERVED_PATH", e.to_string())
        }
        ScriptsError::HostTaken(_) => ApiError::conflict("HOST_TAKEN", e.to_string()),
        ScriptsError::NotVerified(detail) => ApiError::conflict("DOMAIN_NOT_VERIFIED", detail),
        ScriptsError::NotAnEndpoint(_) => {
            ApiError::invalid_field("script_id", "NOT_AN_ENDPOINT", e.to_string())
        }
        ScriptsError::Busy => busy_error(),
        ScriptsError::CorruptFile { .. } => ApiError::internal(&e),
        ScriptsError::Billing(b) => billing(b),
        ScriptsError::Store(s) => s.into(),
        ScriptsError::Queue(q) => q.into(),
        ScriptsError::Blob(b) => b.into(),
    }
}

fn busy_error() -> ApiError {
    custom(
        StatusCode::SERVICE_UNAVAILABLE,
        "SCRIPTS_BUSY",
        "every script runner is busy; retry shortly".into(),
        Map::new(),
    )
}

fn billing(e: skiff_billing::BillingError) -> ApiError {
    use skiff_billing::BillingError as B;
    match e {
        B::NotInPlan {
            code,
            detail,
            extra,
        } => custom(StatusCode::FORBIDDEN, code, detail, extra),
        B::Store(s) => s.into(),
        other => ApiError::internal(other),
    }
}

/// An error as a response; a saturated gate also says when to come back.
pub fn respond(e: ScriptsError) -> Response {
    let busy = matches!(e, ScriptsError::Busy);
    let mut response = error(e).into_response();
    if busy {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// A run that did not answer, as a problem naming what stopped it.
pub fn failure(f: &RunFailure, execution_id: &str) -> Response {
    let mut extra = Map::new();
    extra.insert("execution_id".into(), json!(execution_id));
    let (status, code) = match f {
        RunFailure::Thrown { position: p, .. } => {
            position(&mut extra, p);
            (StatusCode::INTERNAL_SERVER_ERROR, "SCRIPT_ERROR")
        }
        RunFailure::Runtime { position: p, .. } => {
            position(&mut extra, p);
            (StatusCode::UNPROCESSABLE_ENTITY, "SCRIPT_RUNTIME_ERROR")
        }
        RunFailure::LimitExceeded { knob, limit } => {
            extra.insert("limit".into(), json!(knob));
            extra.insert("value".into(), json!(limit));
            (StatusCode::INSUFFICIENT_STORAGE, "LIMIT_EXCEEDED")
        }
        RunFailure::Timeout { timeout_ms } => {
            extra.insert("timeout_ms".into(), json!(timeout_ms));
            (StatusCode::GATEWAY_TIMEOUT, "SCRIPT_TIMEOUT")
        }
    };
    // A script's own failure is not the server's: logged as a refusal.
    tracing::info!(code, status = status.as_u16(), "script run failed");
    problem_response(status, code, &f.to_string(), extra)
}
