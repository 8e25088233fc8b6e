//! The services from configuration: the embedded adapters (SQLite + filesystem)
//! or the AWS ones, built once per process.

use crate::absent::Absent;
use crate::config::AppConfig;
use skiff_adapters as adapters;
use skiff_adapters::aws::Lazy;
use skiff_core::clock::SharedClock;
use skiff_core::config::{Backend, Config, MailTransport, SmtpSettings};
use skiff_core::ports::blobs::BlobStore;
use skiff_core::ports::mail::Mailer;
use skiff_core::ports::secrets::{BLOB_URL_KEY, Secrets, SecretsError};
use skiff_core::ports::store::ItemStore;
use skiff_core::ports::vectors::VectorIndex;
use skiff_core::services::{BLOB_BUCKET, EXPORT_BUCKET, Services};
use std::sync::Arc;
use std::time::Duration;

/// Extra handles the local server needs beside the ports: the dev mailbox to list,
/// and the filesystem buckets whose signed URLs it serves.
pub struct Embedded {
    pub services: Services,
    pub mailbox: Arc<adapters::dev_mailbox::DevMailbox>,
    pub buckets: Vec<(&'static str, Arc<adapters::fs_blobs::FsBlobStore>)>,
}

/// Why the services could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("{0}")]
    Adapter(String),
}

/// Makes aws-lc-rs the process's TLS crypto provider, the one the AWS SDK and the
/// Stripe client use: HTTP clients built later (reqwest has no provider of its own
/// here) take it, so no binary links a second crypto library.
fn install_tls_provider() {
    // An error means it is installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Build the services the configuration asks for.
pub async fn from_config(config: AppConfig, clock: SharedClock) -> Result<Services, StartupError> {
    match config.backend {
        Backend::Embedded => Ok(embedded(config, clock).await?.services),
        Backend::Aws => aws(config, clock).await,
    }
}

/// SQLite + filesystem under `config.data_dir`.
pub async fn embedded(config: AppConfig, clock: SharedClock) -> Result<Embedded, StartupError> {
    install_tls_provider();
    let dir = config.data_dir.clone();
    let data_dir_error = |reason: String| StartupError::DataDir {
        path: dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(&dir).map_err(|e| data_dir_error(e.to_string()))?;
    let probe = dir.join(".write-probe");
    std::fs::write(&probe, b"ok")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| data_dir_error(format!("not writable: {e}")))?;
    let adapter = |e: &dyn std::fmt::Display| StartupError::Adapter(e.to_string());

    let secrets = Arc::new(
        adapters::file_secrets::FileSecrets::open(dir.join("secrets")).map_err(|e| adapter(&e))?,
    );
    let store: Arc<dyn ItemStore> = Arc::new(
        adapters::sqlite_store::SqliteStore::open(&dir.join("items.db"), clock.clone())
            .map_err(|e| adapter(&e))?,
    );
    let url_key = secrets.get(BLOB_URL_KEY).await.map_err(|e| adapter(&e))?;
    let bucket = |name: &str| {
        adapters::fs_blobs::FsBlobStore::open(
            dir.join("blobs").join(name),
            format!("{}/_blobs/{name}", config.public_url),
            url_key.clone(),
            clock.clone(),
        )
        .map_err(|e| adapter(&e))
    };
    let blobs = Arc::new(bucket(BLOB_BUCKET)?);
    let exports = Arc::new(bucket(EXPORT_BUCKET)?);
    let queue = Arc::new(
        adapters::sqlite_queue::SqliteQueue::open(
            &dir.join("queue.db"),
            config.queue_max_receives,
            clock.clone(),
        )
        .map_err(|e| adapter(&e))?,
    );
    let keywords = Arc::new(
        adapters::sqlite_keywords::SqliteKeywords::open(&dir.join("keywords.db"))
            .map_err(|e| adapter(&e))?,
    );
    let vectors = Arc::new(
        adapters::sqlite_vectors::SqliteVectors::open(
            &dir.join("vectors.db"),
            config.vector_cache_bytes,
        )
        .map_err(|e| adapter(&e))?,
    );
    let mailbox = Arc::new(adapters::dev_mailbox::DevMailbox::new(
        store.clone(),
        clock.clone(),
    ));
    let mailer = match &config.mail.transport {
        MailTransport::Dev => mailbox.clone() as Arc<dyn Mailer>,
        MailTransport::Smtp(smtp) => smtp_mailer(&config, smtp, secrets.as_ref()).await?,
        MailTransport::Ses => {
            let sdk =
                adapters::aws::sdk_config(std::env::var("AWS_ENDPOINT_URL").ok().as_deref()).await;
            Arc::new(adapters::ses_mail::SesMailer::new(
                aws_sdk_sesv2::Client::new(&sdk),
                config.mail_from.clone(),
            ))
        }
    };
    Ok(Embedded {
        mailbox: mailbox.clone(),
        buckets: vec![
            (BLOB_BUCKET, blobs.clone()),
            (EXPORT_BUCKET, exports.clone()),
        ],
        services: Services {
            settings: Arc::new(with_embedder(config.settings, secrets.clone())?),
            config: Arc::new(config.core),
            store,
            blobs,
            exports,
            queue,
            mailer,
            secrets,
            keywords,
            vectors,
            write_gate: write_gate(),
            clock,
            resolver: Arc::new(adapters::system_dns::SystemResolver::new()),
        },
    })
}

/// The optional adapters a Lambda function's binary includes. The item store,
/// the queue and the secrets are always there; S3, S3 Vectors and the mailer are
/// linked only into the functions that name them (the calls the template grants
/// each), the embedding model and the DNS resolver only into those whose domain
/// uses them, and the others hold [`Absent`] in their place: a function links only
/// what its domain calls. Constants, so the compiler drops what a function leaves
/// out.
pub trait AwsPorts {
    /// The blob and export buckets (S3).
    const BLOBS: bool;
    /// The vector index (S3 Vectors).
    const VECTORS: bool;
    /// The mailer (SES v2, or SMTP when configured).
    const MAIL: bool;
    /// Memory's embedding model (a static model or an OpenAI-compatible client);
    /// without it the memory settings carry no embedder.
    const EMBEDDER: bool;
    /// The system DNS resolver (scripts' outbound HTTP and domain proofs).
    const DNS: bool;
}

/// The port sets of the functions.
pub mod ports {
    macro_rules! port_set {
        ($($(#[$doc:meta])* $name:ident: $blobs:literal, $vectors:literal, $mail:literal,
            $embedder:literal, $dns:literal;)*) => {$(
            $(#[$doc])*
            pub struct $name;
            impl super::AwsPorts for $name {
                const BLOBS: bool = $blobs;
                const VECTORS: bool = $vectors;
                const MAIL: bool = $mail;
                const EMBEDDER: bool = $embedder;
                const DNS: bool = $dns;
            }
        )*
            /// Each set by its name, with the AWS services it links (and is
            /// granted): (blobs, vectors, mail).
            pub const BY_NAME: &[(&str, (bool, bool, bool))] =
                &[$((stringify!($name), ($blobs, $vectors, $mail))),*];
        };
    }
    // blobs, vectors, mail, embedder, dns
    port_set! {
        /// Every adapter (the outbox sends mail, writes exports, erases, embeds
        /// memories and runs scripts).
        All: true, true, true, true, true;
        /// The store, the queue and the secrets only.
        Core: false, false, false, false, false;
        /// Readiness probes the buckets and the vector index.
        Auth: true, true, false, false, false;
        /// Records, uploads, exports' downloads and vectors.
        Storage: true, true, false, false, false;
        /// Sweeps delete abandoned uploads.
        Scheduler: true, false, false, false, false;
        /// Scripts' files, their outbound HTTP and domain proofs.
        Scripts: true, false, false, false, true;
        /// Memories' vectors and embeddings, health's probe of the vector buckets,
        /// signed links to memory exports.
        Memory: true, true, false, true, false;
    }
}

/// DynamoDB, S3, S3 Vectors, SQS, SES v2 and Secrets Manager; each client built on
/// its first use and kept, with region and credentials from the environment.
pub async fn aws(config: AppConfig, clock: SharedClock) -> Result<Services, StartupError> {
    aws_for::<ports::All>(config, clock).await
}

/// [`aws`] with only the adapters `P` names (the rest [`Absent`]).
pub async fn aws_for<P: AwsPorts>(
    config: AppConfig,
    clock: SharedClock,
) -> Result<Services, StartupError> {
    let endpoint = config.aws.as_ref().and_then(|a| a.endpoint_url.clone());
    let sdk = adapters::aws::sdk_config(endpoint.as_deref()).await;
    aws_with_sdk_for::<P>(config, &sdk, clock).await
}

/// The AWS services over an SDK configuration the caller loaded (tests pass the
/// emulator's).
pub async fn aws_with_sdk(
    config: AppConfig,
    sdk: &aws_config::SdkConfig,
    clock: SharedClock,
) -> Result<Services, StartupError> {
    aws_with_sdk_for::<ports::All>(config, sdk, clock).await
}

async fn aws_with_sdk_for<P: AwsPorts>(
    config: AppConfig,
    sdk: &aws_config::SdkConfig,
    clock: SharedClock,
) -> Result<Services, StartupError> {
    install_tls_provider();
    let res = config
        .aws
        .clone()
        .ok_or_else(|| StartupError::Adapter("AWS resources not configured".into()))?;
    let secrets: Arc<dyn Secrets> = Arc::new(adapters::aws_secrets::AwsSecrets::with_policy(
        Lazy::from_sdk(sdk, aws_sdk_secretsmanager::Client::new),
        res.secret_id.clone(),
        adapters::aws_secrets::CachePolicy {
            ttl: Duration::from_secs(config.secrets_cache.ttl_secs),
            missing_retry: Duration::from_secs(config.secrets_cache.missing_retry_secs),
        },
        clock.clone(),
    ));
    let mailer: Arc<dyn Mailer> = match &config.mail.transport {
        _ if !P::MAIL => Arc::new(Absent("mailer")),
        MailTransport::Smtp(smtp) => smtp_mailer(&config, smtp, secrets.as_ref()).await?,
        MailTransport::Dev | MailTransport::Ses => Arc::new(adapters::ses_mail::SesMailer::new(
            Lazy::from_sdk(sdk, aws_sdk_sesv2::Client::new),
            config.mail_from.clone(),
        )),
    };
    let (blobs, exports): (Arc<dyn BlobStore>, Arc<dyn BlobStore>) = if P::BLOBS {
        let path_style = res.endpoint_url.is_some();
        let s3 = {
            let sdk = sdk.clone();
            Lazy::new(move || adapters::aws::s3_client(&sdk, path_style))
        };
        let bucket = |s3: Lazy<aws_sdk_s3::Client>, name: &str| {
            Arc::new(adapters::s3_blobs::S3BlobStore::new(
                s3,
                name.to_owned(),
                clock.clone(),
            ))
        };
        (
            bucket(s3.clone(), &res.blob_bucket),
            bucket(s3, &res.export_bucket),
        )
    } else {
        (
            Arc::new(Absent("blob store")),
            Arc::new(Absent("export store")),
        )
    };
    let vectors: Arc<dyn VectorIndex> = if P::VECTORS {
        Arc::new(adapters::s3_vectors::S3Vectors::new(
            Lazy::from_sdk(sdk, aws_sdk_s3vectors::Client::new),
            res.vector_buckets.clone(),
        ))
    } else {
        Arc::new(Absent("vector index"))
    };
    let settings = if P::EMBEDDER {
        with_embedder(config.settings, secrets.clone())?
    } else {
        config.settings
    };
    let store: Arc<dyn ItemStore> = Arc::new(adapters::dynamo_store::DynamoStore::new(
        Lazy::from_sdk(sdk, aws_sdk_dynamodb::Client::new),
        res.table.clone(),
        clock.clone(),
    ));
    Ok(Services {
        // Keyword search on AWS: an inverted index in the same table.
        keywords: Arc::new(adapters::store_keywords::StoreKeywords::new(store.clone())),
        store,
        blobs,
        exports,
        queue: Arc::new(adapters::sqs_queue::SqsQueue::new(
            Lazy::from_sdk(sdk, aws_sdk_sqs::Client::new),
            res.queue_url.clone(),
            res.dlq_url.clone(),
        )),
        mailer,
        secrets,
        vectors,
        write_gate: write_gate(),
        settings: Arc::new(settings),
        config: Arc::new(config.core),
        clock,
        resolver: if P::DNS {
            Arc::new(adapters::system_dns::SystemResolver::new())
        } else {
            Arc::new(Absent("DNS resolver"))
        },
    })
}

/// Memory's settings with the embedder its provider names (built here, where the
/// adapters are known; the model itself loads on first use).
fn with_embedder(
    mut settings: skiff_core::settings::Settings,
    secrets: Arc<dyn Secrets>,
) -> Result<skiff_core::settings::Settings, StartupError> {
    use skiff_memory::settings::{MemorySettings, Provider};
    let mut memory: MemorySettings = settings.get::<MemorySettings>().clone();
    memory.embedder = match &memory.provider {
        Provider::None => None,
        Provider::Hash { dimensions } => Some(Arc::new(adapters::embeddings::HashEmbedder::new(
            *dimensions,
        ))),
        Provider::Static { dir } => Some(Arc::new(
            adapters::embeddings::StaticEmbedder::new(dir)
                .map_err(|e| StartupError::Adapter(format!("SKIFF_EMBEDDING_MODEL_DIR: {e}")))?,
        )),
        Provider::OpenAi {
            url,
            model,
            dimensions,
        } => Some(Arc::new(adapters::embeddings::OpenAiEmbedder::new(
            url,
            model,
            *dimensions,
            // The longest any one call may take (the outbox's); a request waits
            // only `embed_timeout` for it.
            std::time::Duration::from_secs(60),
            secrets,
            skiff_memory::EMBEDDING_API_KEY,
        ))),
    };
    settings.insert(memory);
    Ok(settings)
}

/// The write gate: an org being erased takes no writes; otherwise its service
/// profile decides.
fn write_gate() -> Arc<dyn skiff_core::services::WriteGate> {
    Arc::new(skiff_identity::erasure::ErasureGate(
        skiff_billing::service_profile::ServiceProfileGate,
    ))
}

/// The SMTP mailer, its password (when a username is configured) read once from
/// the secrets port.
async fn smtp_mailer(
    config: &Config,
    smtp: &SmtpSettings,
    secrets: &dyn Secrets,
) -> Result<Arc<dyn Mailer>, StartupError> {
    let password = match &smtp.username {
        None => None,
        Some(_) => match secrets.get(adapters::smtp_mail::SMTP_PASSWORD).await {
            Ok(p) => Some(p),
            Err(SecretsError::Missing(name)) => {
                return Err(StartupError::Adapter(format!(
                    "SKIFF_SMTP_USERNAME is set, so the SMTP password is needed: \
                     `skiff secrets set {name}` (or the `{name}` key of the AWS secret)"
                )));
            }
            Err(e) => return Err(StartupError::Adapter(e.to_string())),
        },
    };
    let mailer = adapters::smtp_mail::SmtpMailer::new(smtp, &config.mail_from, password)
        .map_err(|e| StartupError::Adapter(format!("SMTP mailer: {e}")))?;
    Ok(Arc::new(mailer))
}
