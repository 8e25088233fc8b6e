//! Lambda entry point of the `auth` function: state is built once per container,
//! outside the handler; the handler is [`skiff_auth::app`], which the event-fixture
//! tests drive too.

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
    let services = Services::from_config(config, Arc::new(SystemClock)).await?;
    lambda_http::run(skiff_auth::app(services)).await
}
