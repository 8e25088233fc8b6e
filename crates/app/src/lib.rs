//! The one place that wires Skiff together (see ARCHITECTURE.md): configuration
//! with every domain's settings, the services built from it, the outbox message
//! kinds and scheduler jobs each domain contributes, the list of secrets, the
//! write gate and the payments connector. Every Lambda `main` and the local server
//! start through here and contain nothing else.

pub mod absent;
pub mod alloc;
pub mod config;
pub mod services;
pub mod telemetry;
pub mod testing;

pub use config::AppConfig;
pub use services::{AwsPorts, Embedded, StartupError, ports};

use skiff_core::outbox::Registry;
use skiff_core::ports::secrets::{BLOB_URL_KEY, SecretName};
use skiff_core::scheduler::Jobs;

/// Every outbox message kind: the core's and each domain's.
pub fn registry() -> Registry {
    let mut registry = Registry::core();
    skiff_identity::mail::register(&mut registry);
    skiff_memory::register(&mut registry);
    skiff_identity::erasure::register(&mut registry, org_data());
    skiff_storage::register(&mut registry, org_data());
    skiff_scripts::register(&mut registry);
    registry
}

/// Each domain's part of an org's data, which exports write and erasure removes
/// (see ARCHITECTURE.md, Where to add). Erasure purges them in reverse order.
pub fn org_data() -> skiff_core::org_data::OrgDataParts {
    let mut parts = skiff_core::org_data::OrgDataParts::new();
    parts.register(skiff_identity::erasure::IdentityData);
    parts.register(skiff_billing::org_data::BillingData::new());
    parts.register(skiff_licensing::org_data::LicensingData);
    parts.register(skiff_storage::org_data::StorageData);
    parts.register(skiff_memory::org_data::MemoryData);
    parts.register(skiff_scripts::org_data::ScriptsData);
    parts
}

/// Every periodic job: the core's and each domain's.
pub fn jobs() -> Jobs {
    let mut jobs = Jobs::core();
    skiff_billing::register_jobs(&mut jobs);
    skiff_licensing::register_jobs(&mut jobs);
    skiff_admin::register_jobs(&mut jobs);
    skiff_storage::register_jobs(&mut jobs);
    skiff_scripts::register_jobs(&mut jobs);
    skiff_memory::register_jobs(&mut jobs);
    jobs
}

/// Every secret a deployment holds or may be given; provisioning generates the
/// generated ones, `skiff secrets set` accepts exactly these names.
pub fn secrets() -> Vec<SecretName> {
    [
        &[BLOB_URL_KEY][..],
        skiff_identity::SECRETS,
        skiff_billing::SECRETS,
        skiff_licensing::SECRETS,
        skiff_memory::SECRETS,
        &[skiff_adapters::smtp_mail::SMTP_PASSWORD],
    ]
    .concat()
}

/// Configuration from the environment, logging, the services: what every Lambda
/// `main` does before it hands its handler to the runtime. `P` names the optional
/// adapters the function calls ([`ports`]); its binary links no others.
pub async fn start_lambda<P: AwsPorts>() -> Result<skiff_core::Services, BoxError> {
    start::<P>(AppConfig::without_payments(std::env::vars())?).await
}

/// [`start_lambda`] for the billing function, the one that takes payments: with
/// the Stripe connector (which the other functions' binaries then do not link).
pub async fn start_billing_lambda() -> Result<skiff_core::Services, BoxError> {
    start::<ports::Core>(AppConfig::from_env()?).await
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn start<P: AwsPorts>(config: AppConfig) -> Result<skiff_core::Services, BoxError> {
    telemetry::init_with_format(&config.log_filter, config.log_format);
    // Every Lambda publishes its counters as CloudWatch EMF after each invocation.
    skiff_core::metrics::set_mode(skiff_core::metrics::Mode::Emf);
    if config.backend != skiff_core::config::Backend::Aws {
        return Err("the Lambda functions run on the AWS backend: set SKIFF_BACKEND=aws".into());
    }
    let clock = std::sync::Arc::new(skiff_core::clock::SystemClock);
    Ok(services::aws_for::<P>(config, clock).await?)
}
