//! Shared AWS SDK set-up: one `SdkConfig` per process, honouring `AWS_ENDPOINT_URL`
//! (an emulator in tests) with path-style S3 addressing there.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;
use std::sync::{Arc, LazyLock};

/// Load region, credentials and retry settings from the environment. Nothing here
/// touches the network or the certificate store: the HTTPS client is built on the
/// first request (see [`DeferredTls`]).
///
/// Inside a Lambda function the region and the execution role's credentials are
/// environment variables, always: they are taken from there directly, without the
/// SDK's provider chains (profile files, SSO, web identity, container and instance
/// metadata), whose set-up is most of this function's cost at init. Elsewhere (the
/// CLI, the local server with SES) the full default chain applies.
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = lambda_region(|name| std::env::var(name).ok()) {
        loader = loader
            .region(aws_config::Region::new(region))
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            );
    }
    loader.load().await
}

/// The region of a Lambda function's environment that also holds its credentials;
/// `None` anywhere else.
fn lambda_region(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
    if !(set("AWS_LAMBDA_FUNCTION_NAME")
        && set("AWS_ACCESS_KEY_ID")
        && set("AWS_SECRET_ACCESS_KEY"))
    {
        return None;
    }
    var("AWS_REGION").filter(|r| !r.is_empty())
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

/// An SDK client made on first use, then shared: building one sets up its runtime
/// plugins, and a function's container may never call some of the services its
/// adapters cover. Derefs to the client, so adapters call `self.client.<op>()`.
pub struct Lazy<C>(Arc<LazyLock<C, Box<dyn FnOnce() -> C + Send>>>);

impl<C> Lazy<C> {
    pub fn new(make: impl FnOnce() -> C + Send + 'static) -> Self {
        Self(Arc::new(LazyLock::new(Box::new(make))))
    }

    /// `make(sdk)` on first use, e.g. `Lazy::from_sdk(&sdk, aws_sdk_sqs::Client::new)`.
    pub fn from_sdk(sdk: &SdkConfig, make: fn(&SdkConfig) -> C) -> Self
    where
        C: 'static,
    {
        let sdk = sdk.clone();
        Self::new(move || make(&sdk))
    }
}

/// An existing client (tests pass the emulator's).
impl<C: Send + 'static> From<C> for Lazy<C> {
    fn from(client: C) -> Self {
        Self::new(move || client)
    }
}

impl<C> Clone for Lazy<C> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<C> std::ops::Deref for Lazy<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.0
    }
}

/// S3 needs path-style addressing against an emulator (no per-bucket DNS there).
pub fn s3_client(sdk: &SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn only_a_lambda_environment_with_credentials_skips_the_provider_chains() {
        let lambda = [
            ("AWS_LAMBDA_FUNCTION_NAME", "skiff-auth"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ];
        assert_eq!(lambda_region(env(&lambda)).as_deref(), Some("eu-west-1"));
        // A developer's shell: no function name, so profiles, SSO etc. still apply.
        assert_eq!(lambda_region(env(&lambda[1..])), None);
        // Credentials from somewhere else (a container endpoint): the chain finds them.
        assert_eq!(lambda_region(env(&lambda[..3])), None);
        assert_eq!(lambda_region(env(&[lambda[0], lambda[2], lambda[3]])), None);
    }

    #[test]
    fn a_lazy_client_is_made_once_on_first_use() {
        let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = made.clone();
        let lazy = Lazy::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            String::from("client")
        });
        let copy = lazy.clone();
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(copy.len(), 6);
        assert_eq!(lazy.as_str(), "client");
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
