//! Shared AWS SDK set-up: one `SdkConfig` per process, honouring `AWS_ENDPOINT_URL`
//! (an emulator in tests) with path-style S3 addressing there.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;

/// Load region, credentials and retry settings from the environment. Nothing here
/// touches the network or the certificate store: the HTTPS client is built on the
/// first request (see [`DeferredTls`]).
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The SDK's own hyper 1 + rustls (aws-lc) client.
pub fn https_client() -> SharedHttpClient {
    DeferredTls(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .build_https(),
    )
    .into_shared()
}

/// The SDK's client, minus its eager set-up: the stock client builds a connector
/// (which reads every certificate of the system store) when a service client is
/// created, to move that cost out of the first request. In a Lambda the first
/// request is later than init and not every container calls every service, so the
/// work is left to the first call that needs a connection, which caches it.
#[derive(Debug)]
struct DeferredTls(SharedHttpClient);

impl HttpClient for DeferredTls {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// S3 needs path-style addressing against an emulator (no per-bucket DNS there).
pub fn s3_client(sdk: &SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
