//! Memory's settings: which embedding provider embeds what clients store and ask,
//! and how long a request waits for it.

use skiff_core::config::ConfigError;
use skiff_core::ports::embeddings::Embedder;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where embeddings come from when a client sends none (`SKIFF_EMBEDDINGS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// No server-side embeddings: recall by keywords, tags and time only; clients
    /// may still send their own vectors.
    None,
    /// The lexical hashing embedder (the default: it needs no model).
    Hash { dimensions: usize },
    /// A static model in model2vec's folder layout (`SKIFF_EMBEDDING_MODEL_DIR`).
    Static { dir: PathBuf },
    /// An OpenAI-compatible endpoint (`SKIFF_EMBEDDING_URL`, `SKIFF_EMBEDDING_MODEL`,
    /// optional `SKIFF_EMBEDDING_DIMENSIONS`; the key is the `embedding_api_key`
    /// secret, when set).
    OpenAi {
        url: String,
        model: String,
        dimensions: Option<usize>,
    },
}

/// Memory's settings, with the embedder the wiring built from [`Provider`].
#[derive(Clone)]
pub struct MemorySettings {
    pub provider: Provider,
    /// `SKIFF_EMBEDDING_TIMEOUT_MS`: the longest a request waits for an embedding;
    /// a store that runs out of time answers anyway and the outbox embeds later.
    pub embed_timeout: Duration,
    /// `SKIFF_MEMORY_STREAM_MAX_SECS`: how long one `/stream` response stays open
    /// (clients reconnect); on Lambda below API Gateway's 30 s.
    pub stream_max: Duration,
    /// Keepalive comment interval on `/stream`.
    pub stream_keepalive: Duration,
    /// Set by the wiring from [`Provider`]; `None` for [`Provider::None`].
    pub embedder: Option<Arc<dyn Embedder>>,
    /// The `/stream` subscribers of this server.
    pub events: Arc<crate::stream::Hub>,
}

impl std::fmt::Debug for MemorySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySettings")
            .field("provider", &self.provider)
            .field("embed_timeout", &self.embed_timeout)
            .field("stream_max", &self.stream_max)
            .finish_non_exhaustive()
    }
}

/// Default size of the hashing embedder's vectors.
pub const HASH_DIMENSIONS: usize = 256;

fn bad(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        reason: reason.into(),
    }
}

fn number(
    vars: &HashMap<String, String>,
    variable: &'static str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, ConfigError> {
    match vars
        .get(variable)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(bad(
                variable,
                format!(
                    "`{raw}` is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

impl MemorySettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let dims = number(vars, "SKIFF_EMBEDDING_DIMENSIONS", 1..=4096)?.map(|n| n as usize);
        let provider = match get("SKIFF_EMBEDDINGS").unwrap_or("hash") {
            "none" => Provider::None,
            "hash" => Provider::Hash {
                dimensions: dims.unwrap_or(HASH_DIMENSIONS),
            },
            "static" => Provider::Static {
                dir: get("SKIFF_EMBEDDING_MODEL_DIR")
                    .map(PathBuf::from)
                    .ok_or_else(|| {
                        bad(
                            "SKIFF_EMBEDDING_MODEL_DIR",
                            "SKIFF_EMBEDDINGS=static needs the model's folder",
                        )
                    })?,
            },
            "openai" => Provider::OpenAi {
                url: get("SKIFF_EMBEDDING_URL")
                    .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                    .ok_or_else(|| {
                        bad(
                            "SKIFF_EMBEDDING_URL",
                            "SKIFF_EMBEDDINGS=openai needs the endpoint's base URL (http:// or https://)",
                        )
                    })?
                    .to_owned(),
                model: get("SKIFF_EMBEDDING_MODEL")
                    .ok_or_else(|| {
                        bad(
                            "SKIFF_EMBEDDING_MODEL",
                            "SKIFF_EMBEDDINGS=openai needs the model's name",
                        )
                    })?
                    .to_owned(),
                dimensions: dims,
            },
            other => {
                return Err(bad(
                    "SKIFF_EMBEDDINGS",
                    format!("`{other}` is not one of none, hash, static, openai"),
                ));
            }
        };
        let embed_timeout = Duration::from_millis(
            number(vars, "SKIFF_EMBEDDING_TIMEOUT_MS", 1..=60_000)?.unwrap_or(2_000),
        );
        let stream_max = Duration::from_secs(
            number(vars, "SKIFF_MEMORY_STREAM_MAX_SECS", 1..=86_400)?.unwrap_or(3_600),
        );
        Ok(Self {
            provider,
            embed_timeout,
            stream_max,
            stream_keepalive: Duration::from_secs(30),
            embedder: None,
            events: Arc::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn hashing_is_the_default_provider() {
        let s = MemorySettings::from_vars(&vars(&[])).unwrap();
        assert_eq!(s.provider, Provider::Hash { dimensions: 256 });
        assert_eq!(s.embed_timeout, Duration::from_secs(2));
    }

    #[test]
    fn each_provider_names_what_it_misses() {
        let e = MemorySettings::from_vars(&vars(&[("SKIFF_EMBEDDINGS", "static")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_EMBEDDING_MODEL_DIR");
        let e = MemorySettings::from_vars(&vars(&[
            ("SKIFF_EMBEDDINGS", "openai"),
            ("SKIFF_EMBEDDING_URL", "ftp://x"),
        ]))
        .unwrap_err();
        assert_eq!(e.variable, "SKIFF_EMBEDDING_URL");
        let e = MemorySettings::from_vars(&vars(&[("SKIFF_EMBEDDINGS", "magic")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_EMBEDDINGS");
        let e =
            MemorySettings::from_vars(&vars(&[("SKIFF_EMBEDDING_TIMEOUT_MS", "0")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_EMBEDDING_TIMEOUT_MS");
        let s = MemorySettings::from_vars(&vars(&[
            ("SKIFF_EMBEDDINGS", "openai"),
            ("SKIFF_EMBEDDING_URL", "http://127.0.0.1:9/v1"),
            ("SKIFF_EMBEDDING_MODEL", "m"),
            ("SKIFF_EMBEDDING_DIMENSIONS", "64"),
        ]))
        .unwrap();
        assert_eq!(
            s.provider,
            Provider::OpenAi {
                url: "http://127.0.0.1:9/v1".into(),
                model: "m".into(),
                dimensions: Some(64)
            }
        );
    }
}
