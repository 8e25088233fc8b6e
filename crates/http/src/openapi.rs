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

#[doc(hidden)]
pub mod __private {
    pub use axum;
    pub use utoipa;
    pub use utoipa_axum;
}

/// One list of an endpoint group's handlers (each with `#[utoipa::path]`), made
/// into two routers: `documented()`, the [`utoipa_axum`] router that also collects
/// every operation and schema for the OpenAPI document, and `served()`, the plain
/// axum router the function runs, made from each handler's path and methods only.
/// A function's init builds `served()` and so never builds a document it does not
/// serve (the whole one is checked in; see ARCHITECTURE.md).
///
/// `endpoints!(State; module::handler, other_handler, …)`
#[macro_export]
macro_rules! endpoints {
    ($state:ty; $( $($seg:ident)::+ ),* $(,)?) => {
        /// This group's routes with their OpenAPI operations and schemas.
        fn documented() -> $crate::openapi::__private::utoipa_axum::router::OpenApiRouter<$state> {
            $crate::openapi::__private::utoipa_axum::router::OpenApiRouter::new()
                $( .routes($crate::openapi::__private::utoipa_axum::routes!($($seg)::+)) )*
        }

        /// This group's routes, for serving.
        fn served() -> $crate::openapi::__private::axum::Router<$state> {
            let router = $crate::openapi::__private::axum::Router::new();
            $( let router = $crate::__serve_endpoint!(router, [] $($seg)::+); )*
            router
        }
    };
}

/// Route one handler by its `#[utoipa::path]` path and methods (the last segment of
/// the handler's path names utoipa's `__path_<handler>` type beside it).
#[doc(hidden)]
#[macro_export]
macro_rules! __serve_endpoint {
    ($router:ident, [$($prefix:ident)::*] $last:ident) => {{
        use $crate::openapi::__private::utoipa::Path as _;
        use $crate::openapi::__private::utoipa_axum::PathItemExt as _;
        let (path, methods) = $crate::openapi::__private::utoipa_axum::paste! {
            (
                $($prefix::)* [<__path_ $last>]::path(),
                $($prefix::)* [<__path_ $last>]::methods(),
            )
        };
        let method_router = methods.iter().fold(
            $crate::openapi::__private::axum::routing::MethodRouter::new(),
            |router, method| router.on(method.to_method_filter(), $($prefix::)* $last),
        );
        $router.route(&path, method_router)
    }};
    ($router:ident, [$($prefix:ident)::*] $seg:ident :: $($rest:tt)+) => {
        $crate::__serve_endpoint!($router, [$($prefix ::)* $seg] $($rest)+)
    };
}
