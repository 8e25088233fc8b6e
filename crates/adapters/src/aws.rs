//! Shared AWS SDK set-up: one `SdkConfig` per process, honouring `AWS_ENDPOINT_URL`
//! (an emulator in tests) with path-style S3 addressing there.

use aws_config::{BehaviorVersion, SdkConfig};

/// Load region, credentials and retry settings from the environment.
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// S3 needs path-style addressing against an emulator (no per-bucket DNS there).
pub fn s3_client(sdk: &SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
