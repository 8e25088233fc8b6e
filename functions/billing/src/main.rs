//! Lambda entry point of the `billing` function: state is built once per container,
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
    let app = http::with_common_layers(
        skiff_billing::router_for(&config).with_state(services),
        &config,
    );
    lambda_http::run(app).await
}
