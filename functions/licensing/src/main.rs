//! Lambda entry point of the `licensing` function: state built once per container,
//! then every API Gateway request goes through the router.

use skiff_shared::clock::SystemClock;
use skiff_shared::config::Config;
use skiff_shared::{Services, telemetry};
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: skiff_shared::alloc::Allocator = skiff_shared::alloc::Allocator;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    telemetry::init(&config.log_filter);
    let services = Services::from_config(config.clone(), Arc::new(SystemClock)).await?;
    // Not write-locked: seat operations obey the license's status (see the local
    // server's `api_router`).
    let app = skiff_shared::http::with_common_layers(
        skiff_licensing::router().with_state(services),
        &config,
    );
    lambda_http::run(app).await
}
