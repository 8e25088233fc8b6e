//! Lambda entry point of the `memory` function: the services are built once per
//! container, outside the handler; the handler is [`skiff_fn_memory::app`], which
//! the event-fixture tests drive too.

#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(skiff_fn_memory::app(
        skiff_app::start_lambda::<skiff_app::ports::Memory>().await?,
    ))
    .await
}
