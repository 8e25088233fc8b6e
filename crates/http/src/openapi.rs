//! The OpenAPI 3.1 document, generated from the code: each endpoint
//! group derives its own part with utoipa (`#[utoipa::path]` on handlers,
//! `ToSchema` on bodies) and [`document`] merges the parts with what every group
//! shares (info, the bearer security scheme, the problem schema). It is served at
//! `/api/v1/openapi.json` by [`router`].

use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa::{PartialSchema, ToSchema};

pub const PATH: &str = "/api/v1/openapi.json";
/// Name of the security scheme routes reference (`security(("bearer" = []))`).
pub const BEARER: &str = "bearer";

/// An RFC 9457 problem, as every error answers (see `crate::error`).
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ProblemDetails {
    /// A URI naming the problem type.
    r#type: String,
    title: String,
    status: u16,
    detail: String,
    /// Machine-readable code, e.g. `EMAIL_TAKEN`.
    code: String,
    request_id: String,
    /// For 422: every failed rule.
    #[schema(nullable = false)]
    errors: Option<Vec<FieldErrorDoc>>,
}

/// One failed validation rule.
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FieldErrorDoc {
    field: String,
    code: String,
    message: String,
}

/// The whole document: shared parts plus every group's.
pub fn document(groups: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    let components = ComponentsBuilder::new()
        .schema("ProblemDetails", ProblemDetails::schema())
        .schema("FieldErrorDoc", FieldErrorDoc::schema())
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT (access token) or sk_live_… (API key)")
                    .build(),
            ),
        )
        .build();
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Skiff API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The commercial spine of a SaaS product. Errors are RFC 9457 \
                     `application/problem+json` (schema `ProblemDetails`).",
                ))
                .build(),
        )
        .components(Some(components))
        .build();
    doc.merge(crate::health::openapi());
    for group in groups {
        doc.merge(group);
    }
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            document_edge_answers(op);
        }
    }
    doc
}

/// The answers the shared edge gives on any route, whatever its handler says:
/// the body extractor (400 not JSON, 413 too large, 415 not `application/json`,
/// 422 wrong shape), the query extractor (400 bad cursor, 422 bad parameter),
/// the path guard (404), authentication (401). Listed on each operation they can
/// reach, so the document names every status a client can see.
fn document_edge_answers(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::ParameterIn;
    let has = |place: ParameterIn| {
        op.parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    let (query, path) = (has(ParameterIn::Query), has(ParameterIn::Path));
    let body = op.request_body.is_some();
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut answers: Vec<(&str, &str)> = vec![];
    if body || query {
        answers.push(("400", "malformed request: body not JSON, invalid cursor"));
        answers.push((
            "422",
            "a field or parameter failed validation (every one listed)",
        ));
    }
    if body {
        answers.push(("413", "body larger than the limit"));
        answers.push(("415", "body not sent as application/json"));
    }
    if path {
        answers.push(("404", "nothing of this id (or of another org)"));
    }
    if secured {
        answers.push(("401", "missing, invalid or expired credentials"));
    }
    for (status, description) in answers {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    }
}

fn problem(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            utoipa::openapi::Content::new(Some(utoipa::openapi::Ref::from_schema_name(
                "ProblemDetails",
            ))),
        )
        .build()
        .into()
}

/// `GET /api/v1/openapi.json` serving the whole document: the checked-in
/// `openapi.json` at the repository root, which the e2e crate generates from every
/// group's paths with [`document`] and keeps current (so no function crate needs
/// another's code to describe the API).
pub fn router<S: Clone + Send + Sync + 'static>(json: &'static str) -> axum::Router<S> {
    axum::Router::new().route(
        PATH,
        get(move || async move {
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                json,
            )
                .into_response()
        }),
    )
}
