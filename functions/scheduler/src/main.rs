//! Lambda entry point of the `scheduler` function: each EventBridge tick runs
//! [`skiff_fn_scheduler::handle_tick`] over every job the wiring registers.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (services, jobs) = (
        &skiff_app::start_lambda::<skiff_app::ports::Scheduler>().await?,
        &skiff_app::jobs(),
    );
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<serde_json::Value>| async move {
            let reports = skiff_fn_scheduler::handle_tick(services, jobs, &event.payload).await?;
            Ok::<_, Error>(serde_json::json!({ "jobs": reports }))
        },
    ))
    .await
}
