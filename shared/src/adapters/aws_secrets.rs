//! Secrets Manager: one secret holding a JSON object `{name: value}` (created with
//! its generated keys by [`crate::provision::create_secret`]). It is read once and
//! cached for the container's life — a Lambda container never pays a second
//! round trip — and `set` writes the updated object and refreshes the cache.
//! Keys are never generated here: a name absent from the object is `Missing`.

use crate::adapters::sdk_retry::{describe, is_transient, retry};
use crate::ports::secrets::*;
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use serde_json::{Map, Value};
use std::sync::Arc;
use tokio::sync::RwLock;

type Values = Arc<Map<String, Value>>;

/// Secrets Manager-backed secrets with a per-container cache.
pub struct AwsSecrets {
    client: Client,
    secret_id: String,
    cache: RwLock<Option<Values>>,
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
    /// Read the secret `secret_id` (name or ARN) lazily, on the first `get`.
    pub fn new(client: Client, secret_id: String) -> Self {
        Self {
            client,
            secret_id,
            cache: RwLock::new(None),
        }
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

    async fn values(&self) -> Result<Values, SecretsError> {
        if let Some(v) = self.cache.read().await.as_ref() {
            return Ok(v.clone());
        }
        let mut slot = self.cache.write().await;
        if let Some(v) = slot.as_ref() {
            return Ok(v.clone());
        }
        let values = Arc::new(self.fetch().await?);
        *slot = Some(values.clone());
        Ok(values)
    }
}

#[async_trait]
impl Secrets for AwsSecrets {
    async fn get(&self, name: SecretName) -> Result<SecretValue, SecretsError> {
        lookup(&*self.values().await?, name)
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
        *slot = Some(Arc::new(values));
        tracing::info!(secret = name.name, "secret replaced");
        Ok(())
    }
}
