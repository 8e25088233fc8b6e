//! Lambda entry point of the `outbox` function.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use skiff_shared::clock::SystemClock;
use skiff_shared::config::Config;
use skiff_shared::outbox::Registry;
use skiff_shared::{Services, telemetry};
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: skiff_shared::alloc::Allocator = skiff_shared::alloc::Allocator;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    telemetry::init(&config.log_filter);
    let services = Services::from_config(config, Arc::new(SystemClock)).await?;
    let registry = Registry::standard();
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        let (services, registry) = (&services, &registry);
        async move {
            Ok::<_, Error>(skiff_outbox::handle_batch(services, registry, event.payload).await)
        }
    }))
    .await
}
