//! The `scripts` function: apps, scripts, routes, domains and execution logs under
//! `/api/v1/apps` and `/api/v1/scripts`, and the public user routes at
//! `/run/{slug}/…` and at the root of claimed hosts. Thin: parse and authenticate
//! at the edge ([`caller`]), call `skiff_scripts`, map its errors ([`problem`]).

mod admin;
pub mod caller;
mod paging;
pub mod problem;
pub mod runs;
mod triggers;

use axum::routing::any;
use skiff_core::Services;

skiff_http::endpoints!(
    Services;
    admin::create_app,
    admin::list_apps,
    admin::get_app,
    admin::patch_app,
    admin::delete_app,
    admin::list_members,
    admin::set_member,
    admin::remove_member,
    admin::create_app_key,
    admin::create_script,
    admin::list_scripts,
    admin::get_script,
    admin::put_script,
    admin::delete_script,
    runs::execute,
    admin::create_route,
    admin::list_routes,
    admin::delete_route,
    admin::list_logs,
    admin::claim_domain,
    admin::list_domains,
    admin::verify_domain,
    admin::release_domain,
    triggers::create_kv,
    triggers::create_docs,
    triggers::create_files,
    triggers::create_cron,
    triggers::create_pubsub,
    triggers::create_dead_letter,
    triggers::list,
    triggers::get,
    triggers::delete,
    triggers::list_dead_letters,
    triggers::count_dead_letters,
    triggers::get_dead_letter,
    triggers::replay_dead_letter,
    triggers::resolve_dead_letter,
);

/// This group's part of the OpenAPI document (the user routes are the apps'
/// own, not Skiff's API).
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// The scripts routes: the admin API and the user routes under `/run`.
pub fn router() -> axum::Router<Services> {
    served()
        .route("/run/{slug}", any(runs::run_root))
        .route("/run/{slug}/", any(runs::run_root))
        .route("/run/{slug}/{*rest}", any(runs::run_path))
}

pub use skiff_scripts::startup_warnings;

/// Answer requests to hosts that apps have claimed with the apps' routes; every
/// other request goes on to `app` (a whole surface, common layers included).
pub fn with_claimed_hosts(app: axum::Router, services: &Services) -> axum::Router {
    app.layer(axum::middleware::from_fn_with_state(
        (services.clone(), runs::ClaimedHosts::new(services)),
        runs::claimed_hosts,
    ))
}

/// The function's whole HTTP surface: `skiff_http::lambda_app` (health routes, the
/// group's routes, the write lock, the common layers) with claimed hosts.
pub fn app(services: Services) -> axum::Router {
    with_claimed_hosts(
        skiff_http::lambda_app(router(), services.clone()),
        &services,
    )
}
