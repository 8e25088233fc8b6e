//! Lambda entry point of the `scheduler` function.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use skiff_shared::clock::SystemClock;
use skiff_shared::config::Config;
use skiff_shared::scheduler::Jobs;
use skiff_shared::{Services, telemetry};
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: skiff_shared::alloc::Allocator = skiff_shared::alloc::Allocator;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    telemetry::init(&config.log_filter);
    let services = Services::from_config(config, Arc::new(SystemClock)).await?;
    let jobs = Jobs::standard();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (services, jobs) = (&services, &jobs);
        async move {
            let reports = skiff_scheduler::handle_tick(services, jobs, &event.payload).await?;
            Ok::<_, Error>(serde_json::json!({ "jobs": reports }))
        }
    }))
    .await
}
