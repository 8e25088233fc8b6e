//! Secrets Manager: one secret holding a JSON object `{name: value}` (created with
//! its generated keys by [`crate::provision::create_secret`]). The object is cached
//! per container for a TTL, so a warm container pays a round trip only once per TTL
//! yet picks up a value an operator sets or rotates. A name absent from the cached
//! object triggers an early re-read, at most once per `missing_retry`, so a key set
//! after deploying is seen soon without a missing key costing a call per request.
//! `set` writes the updated object and refreshes the cache. Keys are never
//! generated here: a name absent from the object is `Missing`.

use crate::aws::Lazy;
use crate::sdk_retry::{describe, is_transient, retry};
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use serde_json::{Map, Value};
use skiff_core::clock::{SharedClock, SystemClock};
use skiff_core::ports::secrets::*;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::RwLock;

type Values = Arc<Map<String, Value>>;

/// How long a read of the secret is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// A read older than this is replaced on the next `get`.
    pub ttl: Duration,
    /// A name absent from a read at least this old re-reads the secret.
    pub missing_retry: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            missing_retry: Duration::from_secs(30),
        }
    }
}

struct Cached {
    values: Values,
    read_at: OffsetDateTime,
}

/// Secrets Manager-backed secrets with a per-container cache.
pub struct AwsSecrets {
    client: Lazy<Client>,
    secret_id: String,
    policy: CachePolicy,
    clock: SharedClock,
    cache: RwLock<Option<Cached>>,
}

fn failure<E>(what: &str, secret_id: &str, err: &SdkError<E, HttpResponse>) -> SecretsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = format!("{what} secret `{secret_id}`: {}", describe(err));
    if is_transient(err) {
        SecretsError::Unavailable(detail)
    } else {
        SecretsError::Fatal(detail)
    }
}

fn lookup(values: &Map<String, Value>, name: SecretName) -> Result<SecretValue, SecretsError> {
    match values.get(name.name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(SecretValue::new(s.clone())),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(SecretsError::Missing(name.name)),
        Some(_) => Err(SecretsError::Fatal(format!(
            "secret key `{}` is not a string",
            name.name
        ))),
    }
}

impl AwsSecrets {
    /// Read the secret `secret_id` (name or ARN) lazily, on the first `get`, with the
    /// default cache policy and the system clock.
    pub fn new(client: impl Into<Lazy<Client>>, secret_id: String) -> Self {
        Self::with_policy(
            client,
            secret_id,
            CachePolicy::default(),
            Arc::new(SystemClock),
        )
    }

    /// As [`AwsSecrets::new`], aging the cache by `clock` under `policy`.
    pub fn with_policy(
        client: impl Into<Lazy<Client>>,
        secret_id: String,
        policy: CachePolicy,
        clock: SharedClock,
    ) -> Self {
        Self {
            client: client.into(),
            secret_id,
            policy,
            clock,
            cache: RwLock::new(None),
        }
    }

    /// Whether a read made at `read_at` is younger than `limit` (a clock that
    /// moved back counts as young).
    fn younger_than(&self, read_at: OffsetDateTime, limit: Duration) -> bool {
        let age = self.clock.now() - read_at;
        age.is_negative() || age < limit
    }

    /// The current object, straight from Secrets Manager.
    async fn fetch(&self) -> Result<Map<String, Value>, SecretsError> {
        let out = retry("get secret value", || {
            self.client
                .get_secret_value()
                .secret_id(&self.secret_id)
                .send()
        })
        .await
        .map_err(|e| failure("reading", &self.secret_id, &e))?;
        let text = out.secret_string.ok_or_else(|| {
            SecretsError::Fatal(format!(
                "secret `{}` has no string value (binary secrets are not supported)",
                self.secret_id
            ))
        })?;
        match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => Ok(map),
            // Never echo the parse error: it may quote the secret's text.
            _ => Err(SecretsError::Fatal(format!(
                "secret `{}` is not a JSON object of names to values",
                self.secret_id
            ))),
        }
    }

    /// The cached object while it is fresh enough (`max_age`), else a new read.
    /// Concurrent callers that find it stale wait for one read. When the read fails
    /// for a transient reason, the stale object keeps serving.
    async fn values(&self, max_age: Duration) -> Result<Values, SecretsError> {
        if let Some(c) = self.cache.read().await.as_ref()
            && self.younger_than(c.read_at, max_age)
        {
            return Ok(c.values.clone());
        }
        let mut slot = self.cache.write().await;
        if let Some(c) = slot.as_ref()
            && self.younger_than(c.read_at, max_age)
        {
            return Ok(c.values.clone());
        }
        match self.fetch().await {
            Ok(values) => {
                let values = Arc::new(values);
                *slot = Some(Cached {
                    values: values.clone(),
                    read_at: self.clock.now(),
                });
                Ok(values)
            }
            Err(SecretsError::Unavailable(detail)) if slot.is_some() => {
                tracing::warn!(%detail, "secret refresh failed; serving the previous read");
                Ok(slot.as_ref().expect("checked").values.clone())
            }
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Secrets for AwsSecrets {
    async fn get(&self, name: SecretName) -> Result<SecretValue, SecretsError> {
        match lookup(&*self.values(self.policy.ttl).await?, name) {
            Err(SecretsError::Missing(_)) => {
                lookup(&*self.values(self.policy.missing_retry).await?, name)
            }
            found => found,
        }
    }

    /// Re-reads the object first so keys changed elsewhere are kept, then writes it
    /// back with this key replaced. (Two concurrent `set`s of different keys from
    /// different containers can still lose one: Secrets Manager has no conditional put.)
    async fn set(&self, name: SecretName, value: SecretValue) -> Result<(), SecretsError> {
        if value.expose().is_empty() {
            return Err(SecretsError::Fatal(format!(
                "secret `{}` must not be empty",
                name.name
            )));
        }
        let mut slot = self.cache.write().await;
        let mut values = self.fetch().await?;
        values.insert(
            name.name.to_owned(),
            Value::String(value.expose().to_owned()),
        );
        let text = Value::Object(values.clone()).to_string();
        retry("put secret value", || {
            self.client
                .put_secret_value()
                .secret_id(&self.secret_id)
                .secret_string(&text)
                .send()
        })
        .await
        .map_err(|e| failure("writing", &self.secret_id, &e))?;
        *slot = Some(Cached {
            values: Arc::new(values),
            read_at: self.clock.now(),
        });
        tracing::info!(secret = name.name, "secret replaced");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skiff_core::clock::{Clock, FixedClock};

    /// A client of an endpoint on loopback where nothing listens.
    fn unreachable_client() -> Client {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled())
            .build();
        Client::from_conf(conf)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreachable_secrets_manager_keeps_the_previous_read_serving() {
        let clock = FixedClock::at(OffsetDateTime::now_utc());
        let s = AwsSecrets::with_policy(
            unreachable_client(),
            "skiff".into(),
            CachePolicy::default(),
            clock.clone(),
        );
        let mut values = Map::new();
        values.insert("blob_url_key".into(), Value::String("cached".into()));
        *s.cache.write().await = Some(Cached {
            values: Arc::new(values),
            read_at: clock.now(),
        });
        clock.advance(CachePolicy::default().ttl);
        assert_eq!(
            s.get(BLOB_URL_KEY).await.unwrap().expose(),
            "cached",
            "a failed refresh serves the previous read"
        );

        // Without a previous read the failure is the caller's.
        *s.cache.write().await = None;
        assert!(matches!(
            s.get(BLOB_URL_KEY).await,
            Err(SecretsError::Unavailable(_))
        ));
    }
}
