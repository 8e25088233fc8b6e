//! The cold-start baseline: a bare `lambda_http` function with the workspace's
//! features and release profile, so the meter's ratios show what Skiff's own init
//! adds on top of the runtime.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
