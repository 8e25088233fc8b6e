//! The `auth` function: identity, organizations, API keys and JWKS.
//!
//! Thin: routing, extraction and mapping onto the identity
//! domain in `skiff_identity` and `skiff_http::principal`. On AWS this function
//! also owns `/api/v1/openapi.json` and `/.well-known/jwks.json`.

mod account;
mod api_keys;
mod common;
mod jwks;
mod orgs;
mod sessions;

use skiff_core::services::Services;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Tag names used in the OpenAPI document.
pub(crate) const TAG_AUTH: &str = "auth";
pub(crate) const TAG_ORGS: &str = "orgs";
pub(crate) const TAG_KEYS: &str = "api-keys";

fn api() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(account::register))
        .routes(routes!(account::verify_email_query))
        .routes(routes!(account::verify_email_path))
        .routes(routes!(account::resend_verification))
        .routes(routes!(account::forgot_password))
        .routes(routes!(account::reset_password))
        .routes(routes!(account::me, account::update_me))
        .routes(routes!(account::change_password))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::refresh))
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::logout_all))
        .routes(routes!(sessions::switch_org))
        .routes(routes!(orgs::current, orgs::rename))
        .routes(routes!(orgs::members))
        .routes(routes!(orgs::invite, orgs::list_invitations))
        .routes(routes!(orgs::revoke_invitation))
        .routes(routes!(orgs::accept_invitation))
        .routes(routes!(orgs::change_role, orgs::remove_member))
        .routes(routes!(api_keys::create, api_keys::list))
        .routes(routes!(api_keys::delete))
        .routes(routes!(jwks::jwks))
}

/// This group's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The whole API's OpenAPI document (every group's), checked in at the
/// repository root and kept current by the e2e crate's `openapi` test.
pub const OPENAPI_JSON: &str = include_str!("../../../openapi.json");

/// Every route of the group, plus `/api/v1/openapi.json`.
pub fn router() -> axum::Router<Services> {
    let (router, _doc) = api().split_for_parts();
    router.merge(skiff_http::openapi::router(OPENAPI_JSON))
}

/// The `auth` Lambda's whole HTTP surface (health, the group's routes, the whole
/// OpenAPI document), org administration behind the service profile's write lock.
pub fn app(services: Services) -> axum::Router {
    skiff_http::lambda_app(router(), services)
}
