//! Lambda entry point of the `outbox` function: SQS batches through
//! [`skiff_fn_outbox::handle_batch`] with every message kind the wiring registers.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (services, registry) = (
        &skiff_app::start_lambda::<skiff_app::ports::All>().await?,
        &skiff_app::registry(),
    );
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| async move {
        Ok::<_, Error>(skiff_fn_outbox::handle_batch(services, registry, event.payload).await)
    }))
    .await
}
