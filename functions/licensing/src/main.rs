//! Lambda entry point of the `licensing` function: state built once per container,
//! then every API Gateway request goes through the router.

use skiff_shared::clock::SystemClock;
use skiff_shared::config::Config;
use skiff_shared::{Services, telemetry};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    telemetry::init(&config.log_filter);
    let services = Services::from_config(config.clone(), Arc::new(SystemClock)).await?;
    let router = skiff_shared::http::write_lock::protect(skiff_licensing::router(), &services);
    let app = skiff_shared::http::with_common_layers(router.with_state(services), &config);
    lambda_http::run(app).await
}
