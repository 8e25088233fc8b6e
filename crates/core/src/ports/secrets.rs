//! The secrets port: named secret values (URL-signing keys, token-signing keys,
//! payment webhook secrets). Values never appear in logs or `Debug` output.

use async_trait::async_trait;

/// A secret value. `Debug` prints a placeholder, so it cannot leak through logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(***)")
    }
}

/// How a missing secret is generated on first use (embedded backend) or at
/// provisioning time (AWS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generate {
    /// 32 random bytes, hex.
    RandomKey,
    /// Never generated: must be configured (e.g. a Stripe API key).
    Never,
}

/// A secret Skiff knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretName {
    pub name: &'static str,
    pub generate: Generate,
}

/// HMAC key for the embedded blob store's signed URLs.
pub const BLOB_URL_KEY: SecretName = SecretName {
    name: "blob_url_key",
    generate: Generate::RandomKey,
};

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("secret `{0}` is not configured")]
    Missing(&'static str),
    #[error("secrets unavailable: {0}")]
    Unavailable(String),
    #[error("secrets failure: {0}")]
    Fatal(String),
}

#[async_trait]
pub trait Secrets: Send + Sync + 'static {
    /// The current value of a named secret (generated on first use where allowed).
    async fn get(&self, name: SecretName) -> Result<SecretValue, SecretsError>;

    /// Replace a secret's value (rotation); later reads see the new value.
    async fn set(&self, name: SecretName, value: SecretValue) -> Result<(), SecretsError>;
}
