//! Lambda entry point of the `auth` function: state is built once per container,
//! outside the handler; the router is the same one the local server mounts.

use skiff_shared::clock::SystemClock;
use skiff_shared::config::Config;
use skiff_shared::{Services, http, telemetry};
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: skiff_shared::alloc::Allocator = skiff_shared::alloc::Allocator;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    telemetry::init(&config.log_filter);
    let services = Services::from_config(config.clone(), Arc::new(SystemClock)).await?;
    // Org administration obeys the service profile's write lock (DESIGN §4).
    let router = http::write_lock::protect_org_admin(
        // `/api/v1/openapi.json` belongs to this function: it documents every group.
        skiff_auth::router_with_docs([skiff_billing::openapi(), skiff_licensing::openapi()]),
        &services,
    );
    let app = http::with_common_layers(router.with_state(services), &config);
    lambda_http::run(app).await
}
