//! The `admin` function: the operators' API under `/api/v1/admin` and the web
//! console at `/console/`. Thin: the operator guard, parsing, one call into
//! `skiff_admin`, and mapping its errors to HTTP ([`problem`]).
//!
//! Only platform operators reach the API (`skiff_http::principal::PlatformAdmin`:
//! the flag is read from the store on every request); to anyone else every admin
//! route answers 404, like a path that does not exist.

pub mod console;
mod routes;

use axum::http::StatusCode;
use skiff_admin::AdminError;
use skiff_core::services::Services;
use skiff_http::ApiError;
use skiff_http::principal::PlatformAdmin;

pub(crate) const TAG: &str = "admin";
pub(crate) type Problems = skiff_http::openapi::ProblemDetails;

skiff_http::endpoints!(
    Services;
    routes::list_users,
    routes::get_user,
    routes::suspend_user,
    routes::restore_user,
    routes::list_orgs,
    routes::get_org,
    routes::hold_org,
    routes::release_org,
    routes::list_licenses,
    routes::suspend_license,
    routes::reinstate_license,
    routes::analytics,
    routes::analytics_series,
    routes::audit,
    routes::list_dead_letters,
    routes::replay_dead_letter,
    routes::resolve_dead_letter,
);

/// This group's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// The operators' API and the console's pages.
pub fn router() -> axum::Router<Services> {
    served().merge(console::router())
}

/// The `admin` Lambda's whole HTTP surface.
pub fn app(services: Services) -> axum::Router {
    skiff_http::lambda_app(router(), services)
}

/// The operator a request is made by (after the guard).
pub(crate) fn operator(admin: &PlatformAdmin) -> skiff_admin::Operator {
    skiff_admin::Operator {
        user_id: admin
            .0
            .user_id
            .clone()
            .expect("the guard admits users only"),
    }
}

/// The HTTP answer for an admin error (the one place they meet HTTP).
pub(crate) fn problem(e: AdminError) -> ApiError {
    match e {
        AdminError::NotFound(detail) => ApiError::NotFound(detail),
        AdminError::Invalid(errors) => ApiError::validation(errors),
        AdminError::Conflict { code, detail } => ApiError::Conflict { code, detail },
        AdminError::Store(e) => e.into(),
        AdminError::Queue(e) => e.into(),
        AdminError::Internal(detail) => ApiError::Internal(detail),
        AdminError::Licensing(detail) => ApiError::Custom(Box::new(skiff_http::error::Problem {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "LICENSING_UNAVAILABLE".into(),
            title: "Licensing could not complete the change".into(),
            detail,
            extra: Default::default(),
        })),
    }
}
