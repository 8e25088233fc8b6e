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

/// Tag names used in the OpenAPI document.
pub(crate) const TAG_AUTH: &str = "auth";
pub(crate) const TAG_ORGS: &str = "orgs";
pub(crate) const TAG_KEYS: &str = "api-keys";

skiff_http::endpoints!(
    Services;
    account::register,
    account::verify_email_query,
    account::verify_email_path,
    account::resend_verification,
    account::forgot_password,
    account::reset_password,
    account::me,
    account::update_me,
    account::change_password,
    sessions::login,
    sessions::refresh,
    sessions::logout,
    sessions::logout_all,
    sessions::switch_org,
    orgs::current,
    orgs::rename,
    orgs::erase,
    orgs::members,
    orgs::invite,
    orgs::list_invitations,
    orgs::revoke_invitation,
    orgs::accept_invitation,
    orgs::change_role,
    orgs::remove_member,
    api_keys::create,
    api_keys::list,
    api_keys::delete,
    jwks::jwks,
);

/// This group's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// The whole API's OpenAPI document (every group's), checked in at the
/// repository root and kept current by the e2e crate's `openapi` test.
pub const OPENAPI_JSON: &str = include_str!("../../../openapi.json");

/// Every route of the group, plus `/api/v1/openapi.json`.
pub fn router() -> axum::Router<Services> {
    served().merge(skiff_http::openapi::router(OPENAPI_JSON))
}

/// The `auth` Lambda's whole HTTP surface (health, the group's routes, the whole
/// OpenAPI document), org administration behind the service profile's write lock.
pub fn app(services: Services) -> axum::Router {
    skiff_http::lambda_app(router(), services)
}
